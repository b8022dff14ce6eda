/* The chip read as staff use it: the MRZ key, the worker run, the face stored, the result
 * cross-checked against what recognition read from the same card, one row per read. */
#include "gateway/chip/service.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/chip/proto.h"
#include "gateway/config.h"
#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/dossier/fold.h"
#include "gateway/intake.h"
#include "gateway/log.h"
#include "gateway/recognize/proto.h"
#include "gateway/spawn.h"
#include "store/chipreads.h"
#include "store/recog.h"
#include "store/store.h"

static const char *error_text(const char *code)
{
	static const struct {
		const char *code, *text;
	} t[] = {
		{ "no_reader", "Không thấy đầu đọc thẻ chip. Hãy cắm đầu đọc USB rồi đọc lại." },
		{ "no_card", "Không thấy thẻ trên đầu đọc. Hãy đặt thẻ nằm yên trên đầu đọc rồi đọc lại." },
		{ "pcscd_unavailable",
		  "Dịch vụ đầu đọc thẻ (pcscd) không chạy. Báo cán bộ CNTT kiểm tra: systemctl status "
		  "pcscd." },
		{ "not_an_id_card", "Thẻ trên đầu đọc không phải thẻ căn cước có chip." },
		{ "access_denied",
		  "Chip không mở: dãy MRZ không khớp với thẻ này. Kiểm tra lại 3 dòng MRZ ở "
		  "mặt sau thẻ rồi đọc lại." },
		{ "bad_mrz", "Dãy MRZ không dùng được: cần 3 dòng, mỗi dòng 30 ký tự, ở mặt sau thẻ." },
		{ "card_removed",
		  "Thẻ bị nhấc ra khi đang đọc. Hãy đặt thẻ nằm yên trên đầu đọc rồi đọc lại." },
		{ "timeout",
		  "Đọc chip quá lâu nên đã dừng. Đặt lại thẻ rồi đọc lại; nếu vẫn lỗi, báo cán bộ CNTT." },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
		if (strcmp(t[i].code, code) == 0)
			return t[i].text;
	return "Không đọc được chip. Đặt lại thẻ rồi đọc lại; nếu vẫn lỗi, báo cán bộ CNTT.";
}

static const char *check_text(const char *name)
{
	if (strcmp(name, "signature") == 0)
		return "chữ ký trên dữ liệu chip không hợp lệ";
	if (strcmp(name, "csca_trusted") == 0)
		return "chứng thư của nơi cấp không thuộc danh sách CSCA tin cậy (danh sách trống hoặc "
		       "thiếu: báo cán bộ CNTT)";
	if (strcmp(name, "ds_valid_at_signing") == 0)
		return "chứng thư ký đã hết hạn khi ký dữ liệu";
	if (strcmp(name, "all_hashes") == 0)
		return "dữ liệu trên chip đã bị sửa sau khi ký";
	if (strcmp(name, "sod_parsed") == 0)
		return "phần dữ liệu bảo mật (SOD) của chip bị hỏng";
	return name;
}

/* The recognised result of a document (its latest correction when staff corrected it). */
static int recognised(struct store *s, struct db *db, const char *doc_id, json_t **ret)
{
	struct recog_row row;
	struct recog_correction cor;
	char *text = NULL;
	size_t len;
	int r = recog_get(db, doc_id, &row);
	if (r < 0)
		return r;
	const char *hash = row.result_sha256;
	if (recog_correction_get(db, doc_id, &cor) == 0)
		hash = cor.result_sha256;
	if (!hash[0])
		return -ENOENT;
	if ((r = recog_blob_text(store_blobs(s), hash, &text, &len)) < 0)
		return r;
	*ret = json_loadb(text, len, 0, NULL);
	free(text);
	return *ret ? 0 : -EPROTO;
}

struct mem_src {
	const uint8_t *p;
	size_t left;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_src *m = ctx;
	size_t n = len < m->left ? len : m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

/* Runs the worker once: request in, result out, stderr relayed to our log. */
static int run_worker(const struct config *cfg, const char *req, json_t **ret)
{
	char path[CONFIG_PATH_MAX + 32], *out = NULL;
	size_t outlen = 0;
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 }, r, status;
	pid_t pid = -1;
	if (cfg->chip_worker[0])
		snprintf(path, sizeof(path), "%s", cfg->chip_worker);
	else
		chip_worker_path(path, sizeof(path));
	char *argv[8];
	int ac = 0;
	argv[ac++] = (char *)"motcua-chip";
	if (cfg->chip_csca_file[0]) {
		argv[ac++] = (char *)"--csca";
		argv[ac++] = (char *)cfg->chip_csca_file;
	}
	argv[ac] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	struct spawn_opts so = {
		.path = path,
		.argv = argv,
		.fds = { { in[0], 0 }, { o[1], 1 }, { e[1], 2 } },
		.nfds = 3,
		.no_new_privs = 1,
	};
	if ((r = spawn_helper(&so, &pid)) < 0)
		goto out;
	close(in[0]), close(o[1]), close(e[1]);
	in[0] = o[1] = e[1] = -1;
	r = rec_write_frame(in[1], CHIP_TAG_REQUEST, req, strlen(req));
	close(in[1]);
	in[1] = -1;
	if (r < 0)
		goto out;
	/* The worker answers once, at the end: wait for a card, then the read (~seconds). */
	struct pollfd pf = { .fd = o[0], .events = POLLIN };
	int wait_ms = (int)(cfg->chip_wait_s + 90) * 1000;
	r = poll(&pf, 1, wait_ms);
	if (r == 0) {
		r = -ETIMEDOUT;
		goto out;
	}
	if (r < 0) {
		r = -errno;
		goto out;
	}
	r = rec_read_frame(o[0], CHIP_TAG_RESULT, CHIP_RESULT_MAX, &out, &outlen);
	if (r < 0)
		goto out;
	*ret = json_loadb(out, outlen, 0, NULL);
	r = *ret ? 0 : -EPROTO;
out:
	if (pid > 0) {
		if (r == -ETIMEDOUT)
			kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			log_warn("chip: the worker ended with status %d", status);
	}
	if (e[0] >= 0) {
		char buf[1024];
		ssize_t n = read(e[0], buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			for (ssize_t i = 0; i < n; i++)
				if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
					buf[i] = '?';
			log_warn("chip worker: %s", buf);
		}
	}
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (o[i] >= 0)
			close(o[i]);
		if (e[i] >= 0)
			close(e[i]);
	}
	free(out);
	return r;
}

/* Fields both sides read and that must agree; names and places compare folded (the MRZ has
 * no diacritics). */
static json_t *crosscheck(json_t *chip, json_t *rec)
{
	static const char *const keys[] = { "id_number",         "date_of_birth", "sex",
					    "full_name",         "expiry_date",   "issue_date",
					    "place_of_residence" };
	json_t *diffs = json_array(), *rf = json_object_get(rec, "fields"),
	       *rs = json_object_get(rec, "sources");
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const char *a = json_string_value(json_object_get(chip, keys[i]));
		const char *b = json_string_value(json_object_get(rf, keys[i]));
		if (!a || !b)
			continue;
		int same;
		if (i == 3 || i == 6) {
			char fa[512], fb[512];
			fold_text(a, fa, sizeof(fa));
			fold_text(b, fb, sizeof(fb));
			for (char *p = fb; *p; p++)
				if (*p == '<')
					*p = ' ';
			same = strcmp(fa, fb) == 0;
		} else {
			same = strcmp(a, b) == 0;
		}
		if (!same)
			json_array_append_new(
			    diffs,
			    json_pack("{s:s, s:s, s:s, s:s}", "field", keys[i], "chip", a, "recognised", b,
				      "recognised_source",
				      json_string_value(json_object_get(rs, keys[i])) ?: "ocr"));
	}
	return diffs;
}

int chip_read_card(struct store *s, struct db *db, const struct config *cfg, const char *mrz,
		   const char *doc_id, const char *actor, json_t **ret, char *why, size_t whylen)
{
	char doc[10], birth[7], expiry[7];
	json_t *rec = NULL, *res = NULL, *out = NULL;
	char *req = NULL, *text = NULL;
	int r;
	if (!mrz && doc_id) {
		if (recognised(s, db, doc_id, &rec) < 0) {
			snprintf(why, whylen,
				 "Giấy tờ %.32s chưa được nhận dạng: hãy nhập 3 dòng MRZ ở mặt sau thẻ.",
				 doc_id);
			return -EINVAL;
		}
		json_t *lines = json_object_get(rec, "mrz");
		char buf[200] = "";
		size_t n = 0;
		for (size_t i = 0; i < json_array_size(lines) && n < sizeof(buf) - 50; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\n",
					      json_string_value(json_array_get(lines, i)) ?: "");
		if (chip_bac_from_mrz(buf, doc, birth, expiry) < 0) {
			json_decref(rec);
			snprintf(why, whylen,
				 "Giấy tờ %.32s không có dãy MRZ đọc được (cần ảnh mặt sau thẻ): hãy "
				 "nhập 3 dòng MRZ.",
				 doc_id);
			return -EINVAL;
		}
	} else if (!mrz || chip_bac_from_mrz(mrz, doc, birth, expiry) < 0) {
		snprintf(why, whylen, "%s", error_text("bad_mrz"));
		return -EINVAL;
	}
	json_t *rq = json_pack("{s:s, s:s, s:s, s:I}", "document_number", doc, "birth", birth, "expiry",
			       expiry, "wait_ms", (json_int_t)cfg->chip_wait_s * 1000);
	if (rq && cfg->chip_reader[0])
		json_object_set_new(rq, "reader", json_string(cfg->chip_reader));
	req = rq ? json_dumps(rq, JSON_COMPACT) : NULL;
	json_decref(rq);
	if (!req) {
		r = -ENOMEM;
		goto out;
	}
	r = run_worker(cfg, req, &res);
	out = json_object();
	if (r < 0) {
		const char *code = r == -ETIMEDOUT ? "timeout" : "card_error";
		log_warn("chip: the worker failed: %s", strerror(-r));
		json_object_set_new(out, "ok", json_false());
		json_object_set_new(out, "error", json_string(code));
		json_object_set_new(out, "message", json_string(error_text(code)));
		r = 0;
		goto done;
	}
	if (!json_is_true(json_object_get(res, "ok"))) {
		const char *code = json_string_value(json_object_get(res, "error")) ?: "card_error";
		json_object_set_new(out, "ok", json_false());
		json_object_set_new(out, "error", json_string(code));
		json_object_set_new(out, "stage", json_incref(json_object_get(res, "stage")));
		json_object_set_new(out, "message", json_string(error_text(code)));
		log_info("chip: read refused at %s: %s",
			 json_string_value(json_object_get(res, "stage")) ?: "?", code);
		goto done;
	}

	/* The face: its own encrypted document. */
	char face_id[DOC_ID_LEN] = "";
	const char *b64 = json_string_value(json_object_get(json_object_get(res, "face"), "jpeg"));
	if (b64) {
		size_t bl = strlen(b64);
		uint8_t *jpeg = malloc(bl / 4 * 3 + 3);
		int n = jpeg ? EVP_DecodeBlock(jpeg, (const unsigned char *)b64, (int)bl) : -1;
		if (n > 0) {
			while (bl > 0 && b64[bl - 1] == '=')
				bl--, n--;
			struct mem_src src = { jpeg, (size_t)n };
			struct intake_request ir = {
				.declared_size = n,
				.max_bytes = config_max_document_bytes(cfg),
				.low_water_bytes = config_low_water_bytes(cfg),
				.kind = "id-face",
				.source = "chip",
				.name = "chip-face.jpg",
				.actor = actor,
			};
			struct doc_meta m;
			char iwhy[200];
			if (intake_document(s, db, &ir, mem_read, &src, &m, iwhy, sizeof(iwhy)) >= 0)
				snprintf(face_id, sizeof(face_id), "%s", m.id);
			else
				log_warn("chip: the face image was not stored: %s", iwhy);
		}
		free(jpeg);
		json_object_del(json_object_get(res, "face"), "jpeg");
	}

	/* The result in recognition's shape, the chip ranked first. */
	json_t *fields = json_object_get(res, "fields"), *sources = json_object();
	const char *k;
	json_t *v;
	json_object_foreach (fields, k, v)
		json_object_set_new(sources, k, json_string("chip"));
	json_t *pa = json_object_get(res, "passive_authentication");
	int verified = json_is_true(json_object_get(res, "verified"));
	json_t *diffs = rec ? crosscheck(fields, rec) : json_array();
	int ndiff = (int)json_array_size(diffs);
	json_t *result = json_pack("{s:s, s:s, s:O, s:o, s:{s:O, s:s}, s:o, s:f, s:b, s:O}", "type",
				   "id_card_chip", "source", "chip", "fields", fields, "sources", sources,
				   "checks", "passive_authentication", pa, "chip_vs_recognised",
				   !rec        ? "not_applicable"
				       : ndiff ? "disagree"
					       : "agree",
				   "differences", diffs, "confidence", verified ? 1.0 : 0.5, "needs_review",
				   !verified || ndiff, "chip", res);
	if (!result) {
		r = -ENOMEM;
		goto out;
	}
	if (face_id[0])
		json_object_set_new(result, "face_doc_id", json_string(face_id));
	if (doc_id)
		json_object_set_new(result, "doc_id", json_string(doc_id));
	text = json_dumps(result, JSON_COMPACT);
	char failed[160] = "";
	json_t *fl = json_object_get(pa, "failed");
	for (size_t i = 0, n = 0; i < json_array_size(fl) && n < sizeof(failed) - 24; i++)
		n += (size_t)snprintf(failed + n, sizeof(failed) - n, "%s%s", i ? "," : "",
				      json_string_value(json_array_get(fl, i)));
	int64_t id = 0;
	r = text ? chipreads_add(db, store_blobs(s), doc_id, face_id, text, strlen(text), verified, ndiff,
				 failed, actor, &id)
		 : -ENOMEM;
	if (r < 0) {
		json_decref(result);
		goto out;
	}

	/* The answer for staff. */
	json_t *passed = json_array(), *failed_j = json_array();
	static const char *const checks[] = { "sod_parsed", "signature", "csca_trusted",
					      "ds_valid_at_signing", "all_hashes" };
	char msg[1024];
	size_t mn = (size_t)snprintf(msg, sizeof(msg), "%s",
				     verified ? "Chip đã xác thực: dữ liệu do nơi cấp thẻ ký, không bị sửa."
					      : "Chip đọc được nhưng CHƯA xác thực:");
	for (size_t i = 0; i < sizeof(checks) / sizeof(*checks); i++) {
		int ok = json_is_true(json_object_get(pa, checks[i]));
		json_array_append_new(ok ? passed : failed_j, json_string(checks[i]));
		if (!ok && mn < sizeof(msg) - 200)
			mn += (size_t)snprintf(msg + mn, sizeof(msg) - mn, " %s;", check_text(checks[i]));
	}
	json_t *aa = json_object_get(res, "active_authentication");
	if (json_is_true(json_object_get(aa, "performed"))) {
		int ok = json_is_true(json_object_get(aa, "passed"));
		json_array_append_new(ok ? passed : failed_j, json_string("active_authentication"));
		if (!ok && mn < sizeof(msg) - 200)
			mn += (size_t)snprintf(
			    msg + mn, sizeof(msg) - mn, " %s",
			    "chip không ký được bằng khóa của thẻ (xác thực chủ động không đạt): "
			    "có thể là chip sao chép;");
	}
	if (ndiff && mn < sizeof(msg) - 200)
		snprintf(msg + mn, sizeof(msg) - mn,
			 " %d thông tin khác với kết quả nhận dạng ảnh thẻ: hãy kiểm tra.", ndiff);
	json_object_set_new(out, "ok", json_true());
	json_object_set_new(out, "read_id", json_integer(id));
	json_object_set_new(out, "verified", json_boolean(verified));
	json_object_set_new(out, "passed", passed);
	json_object_set_new(out, "failed", failed_j);
	json_object_set_new(out, "fields", json_incref(fields));
	json_object_set_new(out, "differences", json_incref(diffs));
	json_object_set_new(out, "face_doc_id", face_id[0] ? json_string(face_id) : json_null());
	json_object_set_new(out, "message", json_string(msg));
	json_decref(result);
done:
	*ret = out;
	out = NULL;
	r = 0;
out:
	json_decref(out);
	json_decref(rec);
	json_decref(res);
	free(req);
	free(text);
	return r;
}

static int cmd_read(struct control_ctx *x, json_t *req)
{
	struct config cfg;
	json_t *ans = NULL;
	char why[300];
	daemon_config_snapshot(&cfg);
	const char *mrz = control_str(req, "mrz", NULL), *doc = control_str(req, "doc", NULL);
	int r =
	    chip_read_card(x->store, x->db, &cfg, mrz, mrz ? NULL : doc, x->actor, &ans, why, sizeof(why));
	if (r < 0)
		return r == -EINVAL ? control_fail(x, r, why)
				    : control_failf(x, r, "chip read: %s", strerror(-r));
	return control_reply(x, ans);
}

static int cmd_show(struct control_ctx *x, json_t *req)
{
	struct chip_read_row row;
	char *text = NULL;
	size_t len;
	const char *id = control_str(req, "id", NULL);
	if (!id)
		return control_fail(x, -EINVAL, "chip.show needs \"id\", a document id");
	int r = chipreads_latest(x->db, id, &row);
	if (r < 0)
		return control_failf(x, r, "no chip read for document %.40s", id);
	if ((r = recog_blob_text(store_blobs(x->store), row.result_sha256, &text, &len)) < 0)
		return control_failf(x, r, "cannot read the chip result: %s", strerror(-r));
	json_t *res = json_loadb(text, len, 0, NULL);
	free(text);
	return control_reply(x,
			     json_pack("{s:I, s:s, s:b, s:i, s:s, s:o}", "read_id", (json_int_t)row.id, "at",
				       row.at, "verified", row.verified, "differences", row.differences,
				       "actor", row.actor, "result", res ? res : json_null()));
}

int chip_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	if (strcmp(cmd, "chip.read") == 0)
		return cmd_read(x, req_json);
	if (strcmp(cmd, "chip.show") == 0)
		return cmd_show(x, req_json);
	return control_failf(x, -EINVAL, "unknown command %.40s", cmd);
}
