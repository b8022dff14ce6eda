/* The procedure catalogue: the commune's administrative procedures, each with its required
 * papers, fee, time limit in working days, queue service and legal basis, read from a JSON
 * file that IT staff can update (data/procedures.json, installed to /usr/share/motcua). */
#ifndef MOTCUA_CATALOG_H
#define MOTCUA_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#define CATALOG_MAX_PROCS 256
#define CATALOG_MAX_DOCS 12
#define CATALOG_MAX_TYPES 4
#define CATALOG_CODE_MAX 32
#define CATALOG_TEXT_MAX 384
#define CATALOG_ERR_MAX 256
#define CATALOG_FILE_MAX (4 << 20)

struct catalog_doc {
	char key[CATALOG_CODE_MAX]; /* [a-z0-9_], unique within its procedure */
	char name[CATALOG_TEXT_MAX];
	int optional;
	int id_card; /* the applicant's recognised ID card covers this item */
	int ntypes; /* recognised document types accepted for this item; 0: any */
	char types[CATALOG_MAX_TYPES][CATALOG_CODE_MAX];
};

struct catalog_proc {
	char code[CATALOG_CODE_MAX]; /* [A-Za-z0-9.-], unique */
	char name[CATALOG_TEXT_MAX];
	char field[64];
	char service; /* queue service letter A-Z */
	int days; /* working days; 0 the same working day; -1 not fixed */
	char time_text[CATALOG_TEXT_MAX];
	int64_t fee_vnd; /* -1: set by the province, see fee_text */
	char fee_text[CATALOG_TEXT_MAX];
	char legal_basis[CATALOG_TEXT_MAX];
	char aliases[1024]; /* words citizens use for it, comma-separated */
	char confidence[16];
	char dvcqg_code[CATALOG_CODE_MAX];
	int ndocs;
	struct catalog_doc docs[CATALOG_MAX_DOCS];
};

struct catalog {
	char version[64];
	int n;
	struct catalog_proc procs[CATALOG_MAX_PROCS];
};

/* Reads and validates the catalogue at path into a new heap catalogue (*ret, free with
 * catalog_free).  On failure returns -errno (-ENOENT missing, -EINVAL bad content) and writes
 * into err a message naming the file, the procedure and the field. */
int catalog_load(const char *path, struct catalog **ret, char err[CATALOG_ERR_MAX]);
/* Same on JSON text; name labels messages. */
int catalog_parse(const char *text, size_t len, const char *name, struct catalog **ret,
		  char err[CATALOG_ERR_MAX]);
void catalog_free(struct catalog *c);

/* The procedure with this code, or NULL. */
const struct catalog_proc *catalog_find(const struct catalog *c, const char *code);
/* The item with this key, or NULL. */
const struct catalog_doc *catalog_doc_find(const struct catalog_proc *p, const char *key);

#endif
