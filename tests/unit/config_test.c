/* Configuration: defaults, and errors that name the file, the line and the key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"

static void defaults_match_the_documented_ones(void **state)
{
	struct config c;
	config_defaults(&c);
	assert_string_equal(c.state_dir, "/var/lib/motcua");
	assert_int_equal(c.max_document_mb, 50);
	assert_int_equal(config_max_document_bytes(&c), 50LL * 1024 * 1024);
	assert_string_equal(c.log_level, "info");
}

static void shipped_example_config_is_valid_and_equals_defaults(void **state)
{
	struct config c, d;
	char err[CONFIG_ERR_MAX];
	const char *top = getenv("MOTCUA_TOP");
	char path[4096];
	snprintf(path, sizeof(path), "%s/packaging/motcua.conf", top ? top : ".");
	assert_int_equal(config_load(path, &c, err), 0);
	config_defaults(&d);
	assert_memory_equal(&c, &d, sizeof(c));
}

static void expect_error(const char *text, int code, const char *needle1, const char *needle2)
{
	struct config c;
	char err[CONFIG_ERR_MAX] = "";
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(config_load_string(text, "test.conf", &c, err), code);
	if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2)))
		fail_msg("message \"%s\" lacks \"%s\"/\"%s\"", err, needle1, needle2 ? needle2 : "");
	/* untouched on failure */
	assert_int_equal(((unsigned char *)&c)[0], 0x5a);
}

static void errors_name_file_line_and_key(void **state)
{
	expect_error("[store]\nmax_document_mb = 5\nbogus = 1\n", -EINVAL, "test.conf:3", "bogus");
	expect_error("[nosuch]\nkey = 1\n", -EINVAL, "test.conf:2", "[nosuch]");
	expect_error("[store]\n\n\nmax_document_mb = lots\n", -EINVAL, "test.conf:4", "max_document_mb");
	expect_error("[store]\nmax_document_mb = 0\n", -EINVAL, "between 1 and 1024", "max_document_mb");
	expect_error("[store]\nstate_dir = relative/path\n", -EINVAL, "absolute path", "state_dir");
	expect_error("[daemon]\nlog_level = loud\n", -EINVAL, "one of", "log_level");
	expect_error("[store]\nthis is not ini\n", -EINVAL, "test.conf:2", NULL);
	expect_error("[store]\nmax_document_mb = 99999999999999999999\n", -EINVAL, "whole number", NULL);
}

static void missing_file_is_named(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	assert_int_equal(config_load("/nonexistent/motcua.conf", &c, err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/motcua.conf"));
}

static void values_and_comments_are_read(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX], dump[4096];
	assert_int_equal(config_load_string("; comment\n# another\n[store]\nstate_dir = /srv/m ; inline\n"
					    "low_water_mb = 0\n[gateway]\ncommune_name = Xã Hòa Bình\n",
					    "t", &c, err),
			 0);
	assert_string_equal(c.state_dir, "/srv/m");
	assert_int_equal(c.low_water_mb, 0);
	assert_string_equal(c.commune_name, "Xã Hòa Bình");
	config_dump(&c, dump, sizeof(dump));
	assert_non_null(strstr(dump, "state_dir = /srv/m"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_match_the_documented_ones),
		cmocka_unit_test(shipped_example_config_is_valid_and_equals_defaults),
		cmocka_unit_test(errors_name_file_line_and_key),
		cmocka_unit_test(missing_file_is_named),
		cmocka_unit_test(values_and_comments_are_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
