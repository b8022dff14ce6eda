/* The face image for the staff page: a JPEG 2000 face (DG2) converted to JPEG in memory
 * (OpenJPEG to decode, libjpeg to encode), inside the worker's sandbox. */
#ifndef MOTCUA_CHIP_FACE_H
#define MOTCUA_CHIP_FACE_H

#include <stddef.h>
#include <stdint.h>

#define FACE_PIXELS_MAX (4000u * 4000u)

/* Decodes a JP2 file or a raw J2K codestream (grey or RGB, 8-bit or more) and encodes it as a
 * baseline JPEG (quality 90) in a new buffer the caller frees.  Returns 0 or -EPROTO (not an
 * image OpenJPEG reads, too large, unusual components), -ENOMEM. */
int face_j2k_to_jpeg(const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len);

#endif
