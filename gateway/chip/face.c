/* JPEG 2000 to JPEG for the chip's face image (OpenJPEG, libjpeg; memory only). */
#include "gateway/chip/face.h"

#include <errno.h>
#include <openjpeg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

struct mem {
	const uint8_t *p;
	size_t len, off;
};

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user)
{
	struct mem *m = user;
	if (m->off >= m->len)
		return (OPJ_SIZE_T)-1;
	size_t k = m->len - m->off < n ? m->len - m->off : n;
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	return k;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
	struct mem *m = user;
	if (n < 0 || (size_t)n > m->len - m->off)
		return -1;
	m->off += (size_t)n;
	return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
	struct mem *m = user;
	if (n < 0 || (size_t)n > m->len)
		return OPJ_FALSE;
	m->off = (size_t)n;
	return OPJ_TRUE;
}

static void quiet(const char *msg, void *user)
{
	(void)msg;
	(void)user;
}

static uint8_t sample(const opj_image_comp_t *c, size_t i)
{
	int v = c->data[i];
	if (c->sgnd)
		v += 1 << (c->prec - 1);
	if (c->prec > 8)
		v >>= c->prec - 8;
	else if (c->prec < 8)
		v <<= 8 - c->prec;
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

int face_j2k_to_jpeg(const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	static const uint8_t jp2[] = { 0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20 };
	struct mem m = { in, len, 0 };
	opj_codec_t *codec = NULL;
	opj_stream_t *st = NULL;
	opj_image_t *img = NULL;
	opj_dparameters_t params;
	uint8_t *rgb = NULL;
	unsigned char *out = NULL;
	unsigned long outlen = 0;
	int r = -EPROTO;

	codec = opj_create_decompress(len >= 8 && memcmp(in, jp2, 8) == 0 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	st = opj_stream_create(64 << 10, OPJ_TRUE);
	if (!codec || !st)
		goto out;
	opj_set_info_handler(codec, quiet, NULL);
	opj_set_warning_handler(codec, quiet, NULL);
	opj_set_error_handler(codec, quiet, NULL);
	opj_stream_set_user_data(st, &m, NULL);
	opj_stream_set_user_data_length(st, len);
	opj_stream_set_read_function(st, mem_read);
	opj_stream_set_skip_function(st, mem_skip);
	opj_stream_set_seek_function(st, mem_seek);
	opj_set_default_decoder_parameters(&params);
	if (!opj_setup_decoder(codec, &params) || !opj_read_header(st, codec, &img))
		goto out;
	if (!img || (img->numcomps != 1 && img->numcomps != 3) ||
	    (uint64_t)(img->x1 - img->x0) * (img->y1 - img->y0) > FACE_PIXELS_MAX)
		goto out;
	if (!opj_decode(codec, st, img) || !opj_end_decompress(codec, st))
		goto out;
	size_t w = img->comps[0].w, h = img->comps[0].h, nc = img->numcomps;
	if (w == 0 || h == 0 || (uint64_t)w * h > FACE_PIXELS_MAX)
		goto out;
	for (size_t c = 0; c < nc; c++)
		if (img->comps[c].w != w || img->comps[c].h != h || img->comps[c].prec < 1 ||
		    img->comps[c].prec > 16 || !img->comps[c].data)
			goto out;
	rgb = malloc(w * h * nc);
	if (!rgb) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w * h; i++)
		for (size_t c = 0; c < nc; c++)
			rgb[i * nc + c] = sample(&img->comps[c], i);

	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, &out, &outlen);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = (int)nc;
	cinfo.in_color_space = nc == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, 90, TRUE);
	jpeg_start_compress(&cinfo, TRUE);
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW row = rgb + (size_t)cinfo.next_scanline * w * nc;
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	*ret = out;
	*ret_len = outlen;
	out = NULL;
	r = 0;
out:
	free(out);
	free(rgb);
	opj_image_destroy(img);
	opj_stream_destroy(st);
	opj_destroy_codec(codec);
	return r;
}
