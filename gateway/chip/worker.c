/* motcua-chip: the sandboxed chip-reading worker.  Loads the CSCA trust list and connects to
 * pcscd, enters the sandbox, reads one CHQ1 request (the MRZ's BAC key) on stdin, reads the
 * card (BAC, EF.COM, EF.SOD, DG1, DG2, DG13, DG14/DG15 when listed), checks it (passive
 * authentication) and writes one CHR1 JSON result on stdout.  motcuad never sees card bytes
 * other than the face image this hands back. */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/chip/card.h"
#include "gateway/chip/face.h"
#include "gateway/chip/lds.h"
#include "gateway/chip/pa.h"
#include "gateway/chip/proto.h"
#include "gateway/chip/tlv.h"
#include "gateway/log.h"
#include "gateway/recognize/proto.h"
#include "gateway/sandbox.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: motcua-chip [--csca FILE] [--reader NAME] [--wait-ms N] [--mem-mb N]\n"
		"                   [--no-sandbox] [--verbose]\n"
		"Reads one CHQ1 request on stdin, writes one CHR1 JSON result on stdout.\n");
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

struct dgfile {
	int dg;
	uint16_t fid;
	uint8_t *data;
	size_t len;
};

static const char *errname(int r)
{
	switch (r) {
	case -ENOMEDIUM: return "card_removed";
	case -EACCES: return "secure_messaging";
	case -ENODEV: return "no_reader";
	case -ETIMEDOUT: return "no_card";
	case -ECONNREFUSED: return "pcscd_unavailable";
	case -EMSGSIZE: return "file_too_large";
	default: return "card_error";
	}
}

static json_t *fail(json_t *res, const char *code, const char *stage)
{
	json_object_set_new(res, "ok", json_false());
	json_object_set_new(res, "error", json_string(code));
	json_object_set_new(res, "stage", json_string(stage));
	return res;
}

static json_t *b64(const uint8_t *p, size_t n)
{
	size_t cap = 4 * ((n + 2) / 3) + 1;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

/* Active authentication (9303-11 6.1) with DG15's key: the chip signs a fresh challenge with
 * its private key, which a copy of the data cannot do.  ECDSA (plain r||s over SHA-256 of the
 * challenge; DG14's ActiveAuthenticationInfo is not read, SHA-256 is assumed) is checked;
 * RSA (ISO 9796-2) is not implemented and says so. */
static json_t *active_auth(struct card *c, const uint8_t *dg15, size_t len, int *ret_err)
{
	static const uint8_t hdr[4] = { 0x00, 0x88, 0x00, 0x00 };
	struct tlv t;
	uint8_t chal[8], out[600], *der = NULL;
	size_t n = 0;
	unsigned sw = 0;
	int passed = 0, r;
	const char *why = NULL;
	EVP_PKEY *pk = NULL;
	ECDSA_SIG *sig = NULL;
	EVP_MD_CTX *md = NULL;
	*ret_err = 0;
	const uint8_t *p = NULL;
	if (tlv_whole(dg15, len, 0x6F, &t) < 0 || (p = t.value, !(pk = d2i_PUBKEY(NULL, &p, (long)t.len)))) {
		why = "DG15 is malformed";
		goto done;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC) {
		EVP_PKEY_free(pk);
		return json_pack("{s:b, s:s}", "performed", 0, "reason",
				 "RSA active authentication (ISO 9796-2) is not implemented");
	}
	if (RAND_bytes(chal, sizeof(chal)) != 1) {
		why = "no random challenge";
		goto done;
	}
	r = card_cmd(c, hdr, chal, sizeof(chal), 256, out, sizeof(out), &n, &sw);
	if (r < 0) {
		*ret_err = r;
		why = "the card did not answer";
		goto done;
	}
	if (sw != 0x9000 || n == 0 || n % 2 || n > 264) {
		why = "the card refused to sign the challenge";
		goto done;
	}
	BIGNUM *br = BN_bin2bn(out, (int)(n / 2), NULL), *bs = BN_bin2bn(out + n / 2, (int)(n / 2), NULL);
	sig = ECDSA_SIG_new();
	if (!br || !bs || !sig || ECDSA_SIG_set0(sig, br, bs) != 1) {
		BN_free(br), BN_free(bs);
		why = "out of memory";
		goto done;
	}
	int dl = i2d_ECDSA_SIG(sig, &der);
	md = EVP_MD_CTX_new();
	passed = dl > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, der, (size_t)dl, chal, sizeof(chal)) == 1;
	if (!passed)
		why = "the chip's signature does not match DG15's key (a copied chip?)";
done:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	EVP_PKEY_free(pk);
	json_t *j =
	    json_pack("{s:b, s:s, s:b}", "performed", 1, "algorithm", "ecdsa-sha256", "passed", passed);
	if (why)
		json_object_set_new(j, "reason", json_string(why));
	return j;
}

static json_t *read_card(struct card *c, const struct pa_trust *trust, json_t *req, const char *reader_opt,
			 int wait_opt)
{
	json_t *res = json_object(), *files = json_object(), *fields = json_object(), *t = json_object();
	const char *doc = json_string_value(json_object_get(req, "document_number"));
	const char *birth = json_string_value(json_object_get(req, "birth"));
	const char *expiry = json_string_value(json_object_get(req, "expiry"));
	const char *reader = json_string_value(json_object_get(req, "reader"));
	json_int_t wait = json_integer_value(json_object_get(req, "wait_ms"));
	struct timespec t0, ts;
	struct dgfile f[] = { { 0, 0x011E, NULL, 0 }, { -1, 0x011D, NULL, 0 }, { 1, 0x0101, NULL, 0 },
			      { 2, 0x0102, NULL, 0 }, { 13, 0x010D, NULL, 0 }, { 14, 0x010E, NULL, 0 },
			      { 15, 0x010F, NULL, 0 } };
	const int nf = (int)(sizeof(f) / sizeof(*f));
	int r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	json_object_set_new(res, "source", json_string("chip"));
	json_object_set_new(res, "files", files);
	json_object_set_new(res, "fields", fields);
	json_object_set_new(res, "timings_ms", t);
	if (!doc || !birth || !expiry) {
		fail(res, "bad_request", "request");
		goto out;
	}
	if (!reader)
		reader = reader_opt;
	if (wait <= 0 || wait > 600000)
		wait = wait_opt;
	/* A card that is gone at the very first command (taken out and put back, or pcscd not yet
	 * aware that the previous card left) is waited for again while time remains: nothing of
	 * it was read. */
	uint8_t *ca = NULL;
	size_t calen = 0;
	long deadline = ms_since(&t0) + (long)wait;
	for (int attempt = 0;; attempt++) {
		long left = deadline - (long)ms_since(&t0);
		if ((r = card_connect(c, reader, attempt == 0 ? (int)wait : (int)(left > 0 ? left : 0))) <
		    0) {
			fail(res, errname(r), "connect");
			goto out;
		}
		r = card_read_cardaccess(c, &ca, &calen);
		if (r != -ENOMEDIUM)
			break;
		card_release(c);
		if (attempt >= 3 || deadline - (long)ms_since(&t0) <= 0) {
			fail(res, errname(r), "EF.CardAccess");
			goto out;
		}
		log_info("the card left before it was read; waiting for it again");
	}
	json_object_set_new(res, "reader", json_string(c->reader));
	/* PACE's protocol OIDs start 0.4.0.127.0.7.2.2.4: BAC is used either way (see docs). */
	static const uint8_t pace_oid[] = { 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04 };
	int pace = 0;
	for (size_t i = 0; ca && i + sizeof(pace_oid) <= calen; i++)
		if (memcmp(ca + i, pace_oid, sizeof(pace_oid)) == 0)
			pace = 1;
	free(ca);
	json_object_set_new(res, "pace_offered", json_boolean(pace));
	if ((r = card_select_lds(c)) < 0) {
		fail(res, r == -ENOENT ? "not_an_id_card" : errname(r), "select");
		goto out;
	}
	json_object_set_new(res, "extended_length", json_boolean(c->extended));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r = card_bac(c, doc, birth, expiry);
	json_object_set_new(t, "bac", json_real(ms_since(&ts)));
	if (r < 0) {
		fail(res, r == -EACCES ? "access_denied" : r == -EINVAL ? "bad_mrz" : errname(r), "BAC");
		goto out;
	}
	json_object_set_new(res, "access_control", json_string("BAC"));

	uint32_t listed = (1u << 1) | (1u << 2) | (1u << 13);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (int i = 0; i < nf; i++) {
		char name[8];
		if (f[i].dg > 0 && !(listed & (1u << f[i].dg)))
			continue;
		snprintf(name, sizeof(name), f[i].dg == 0 ? "COM" : f[i].dg < 0 ? "SOD" : "DG%d", f[i].dg);
		r = card_read_file(c, f[i].fid, &f[i].data, &f[i].len);
		if (r == -ENOENT && f[i].dg > 2)
			continue; /* DG13/14/15 may be absent */
		if (r < 0) {
			fail(res, r == -ENOENT ? "file_missing" : errname(r), name);
			goto out;
		}
		json_object_set_new(files, name, json_integer((json_int_t)f[i].len));
		if (f[i].dg == 0 && lds_com_parse(f[i].data, f[i].len, &listed) < 0) {
			fail(res, "bad_file", name);
			goto out;
		}
		listed |= (1u << 1) | (1u << 2);
	}
	json_object_set_new(t, "read", json_real(ms_since(&ts)));
	json_object_set_new(res, "apdus", json_integer(c->apdus));

	/* Parse what was read: DG1, DG2's face, DG13. */
	json_t *problems = json_array();
	json_object_set_new(res, "problems", problems);
	char mrz[96];
	int n = lds_dg1_parse(f[2].data, f[2].len, mrz, sizeof(mrz));
	if (n < 0) {
		json_array_append_new(problems, json_string("DG1 is malformed"));
	} else {
		json_t *lines = json_array();
		int w = n == 90 ? 30 : n == 88 ? 44 : 36;
		for (int i = 0; i + w <= n; i += w)
			json_array_append_new(lines, json_stringn(mrz + i, (size_t)w));
		json_object_set_new(res, "mrz", lines);
	}
	const uint8_t *img;
	size_t ilen;
	enum lds_image kind;
	if (lds_dg2_face(f[3].data, f[3].len, &img, &ilen, &kind) == 0) {
		json_t *face = json_object();
		uint8_t *jpeg = NULL;
		size_t jlen = 0;
		json_object_set_new(face, "original_format",
				    json_string(kind == LDS_IMAGE_JPEG ? "jpeg" : "jpeg2000"));
		json_object_set_new(face, "original_bytes", json_integer((json_int_t)ilen));
		if (kind == LDS_IMAGE_JPEG) {
			json_object_set_new(face, "jpeg", b64(img, ilen));
		} else if (face_j2k_to_jpeg(img, ilen, &jpeg, &jlen) == 0) {
			json_object_set_new(face, "jpeg", b64(jpeg, jlen));
			json_object_set_new(face, "converted", json_true());
			free(jpeg);
		} else {
			json_array_append_new(problems,
					      json_string("the JPEG 2000 face image could not be converted"));
		}
		json_object_set_new(res, "face", face);
	} else {
		json_array_append_new(problems, json_string("DG2 holds no readable face image"));
	}
	if (f[4].data) {
		int unknown = 0;
		if (lds_dg13_parse(f[4].data, f[4].len, fields, &unknown) < 0)
			json_array_append_new(problems, json_string("DG13 is malformed"));
		else if (unknown)
			json_object_set_new(res, "dg13_unknown_items", json_integer(unknown));
	}

	/* Passive authentication over every data group read. */
	struct pa_dg dgs[8];
	int nd = 0;
	for (int i = 2; i < nf; i++)
		if (f[i].data)
			dgs[nd++] = (struct pa_dg){ f[i].dg, f[i].data, f[i].len };
	clock_gettime(CLOCK_MONOTONIC, &ts);
	json_t *pa = pa_verify(f[1].data, f[1].len, dgs, nd, trust, NULL);
	json_object_set_new(t, "pa", json_real(ms_since(&ts)));
	json_object_set_new(res, "passive_authentication", pa);
	int aa_ok = 1;
	if (f[6].data) {
		int err = 0;
		json_t *aa = active_auth(c, f[6].data, f[6].len, &err);
		if (err == -ENOMEDIUM) {
			json_decref(aa);
			fail(res, errname(err), "active authentication");
			goto out;
		}
		aa_ok = !json_is_true(json_object_get(aa, "performed")) ||
		    json_is_true(json_object_get(aa, "passed"));
		json_object_set_new(res, "active_authentication", aa);
	} else {
		json_object_set_new(res, "active_authentication",
				    json_pack("{s:b, s:s}", "performed", 0, "reason", "no DG15"));
	}
	json_object_set_new(res, "chip_authentication",
			    f[5].data ? json_pack("{s:b, s:s}", "performed", 0, "reason", "not implemented")
				      : json_pack("{s:b, s:s}", "performed", 0, "reason", "no DG14"));
	json_object_set_new(res, "ok", json_true());
	json_object_set_new(res, "verified",
			    json_boolean(json_is_true(json_object_get(pa, "passed")) && aa_ok));
out:
	json_object_set_new(t, "total", json_real(ms_since(&t0)));
	json_object_set_new(res, "bytes_read", json_integer((json_int_t)c->bytes_read));
	for (int i = 0; i < nf; i++) {
		if (f[i].data)
			OPENSSL_cleanse(f[i].data, f[i].len);
		free(f[i].data);
	}
	return res;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csca", required_argument, NULL, 'c' },    { "reader", required_argument, NULL, 'r' },
		{ "wait-ms", required_argument, NULL, 'w' }, { "mem-mb", required_argument, NULL, 'm' },
		{ "no-sandbox", no_argument, NULL, 's' },    { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	const char *csca = NULL, *reader = NULL;
	long wait_ms = 15000, mem_mb = 256;
	int sandbox = 1, ch, rc = 1;
	struct pa_trust *trust = NULL;
	struct card card;
	char *req_text = NULL;
	size_t req_len = 0;
	json_t *req = NULL, *res = NULL;

	log_init("motcua-chip", LOG_LEVEL_WARN);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (ch) {
		case 'c': csca = optarg; break;
		case 'r': reader = optarg; break;
		case 'w':
		case 'm': {
			long v = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end || v <= 0) {
				usage();
				return 2;
			}
			if (ch == 'w')
				wait_ms = v;
			else
				mem_mb = v;
			break;
		}
		case 's': sandbox = 0; break;
		case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	int tr = csca ? pa_trust_load(csca, &trust) : -ENOENT;
	if (csca && tr < 0)
		log_error("cannot load the CSCA trust list %s: %s", csca, strerror(-tr));
	int cr = card_init(&card);
	/* libpcsclite talks to pcscd on the socket card_init opened: send/recv and poll on it
	 * (its stat() of pcscd's socket path is allowed by the base policy's newfstatat). */
	struct sandbox_policy pol = {
		.mem_mb = mem_mb,
		.cpu_seconds = 60,
		.write_fds = { 1, 2 },
		.nwrite_fds = 2,
		.extra = { SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
			   SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(fcntl), SCMP_SYS(stat) },
		.nextra = 8,
	};
	if (sandbox && sandbox_enter(&pol) < 0) {
		log_error("cannot enter the sandbox");
		goto out;
	}
	int r = rec_read_frame(0, CHIP_TAG_REQUEST, CHIP_REQUEST_MAX, &req_text, &req_len);
	if (r < 0) {
		log_error("bad request frame: %s", strerror(-r));
		goto out;
	}
	req = json_loadb(req_text, req_len, 0, NULL);
	OPENSSL_cleanse(req_text, req_len);
	if (!json_is_object(req)) {
		res = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", "bad_request", "stage", "request");
	} else if (cr < 0) {
		res = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", "pcscd_unavailable", "stage", "connect");
	} else {
		res = read_card(&card, trust, req, reader, (int)wait_ms);
	}
	if (res && csca && tr < 0)
		json_object_set_new(res, "trust_list_error", json_string(strerror(-tr)));
	char *out = res ? json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	if (!out || strlen(out) > CHIP_RESULT_MAX) {
		free(out);
		out = strdup("{\"ok\":false,\"error\":\"out_of_memory\",\"stage\":\"result\"}");
	}
	rc = out && rec_write_frame(1, CHIP_TAG_RESULT, out, strlen(out)) == 0 ? 0 : 1;
	free(out);
out:
	json_decref(req);
	json_decref(res);
	free(req_text);
	if (cr == 0)
		card_close(&card);
	pa_trust_free(trust);
	return rc;
}
