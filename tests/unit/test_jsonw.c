/*
 * test_jsonw: jsonw writes strings and numbers as the very bytes cJSON
 * prints (the `jobs` reply is compared against the tree it replaced), and
 * every number reads back as the value written.
 */
#include "config.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "jsonw.h"
#include "tap.h"

/* What cJSON prints for item (deleted here). */
static char *
test_cjson(cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);
	char *copy = strdup(text ? text : "(null)");

	cJSON_free(text);
	cJSON_Delete(item);
	return copy;
}

static void
test_number(double d)
{
	struct buf b = BUF_INIT;
	char *want = test_cjson(cJSON_CreateNumber(d));

	jsonw_number(&b, d);
	is_str(b.data, want, "number %.17g as cJSON prints it", d);
	/* cJSON's own read-back test lets %1.15g of DBL_MAX overflow. */
	if (isfinite(d) && fabs(d) < 1e308)
		ok(strtod(b.data, NULL) == d ||
		           fabs(strtod(b.data, NULL) - d) <= fabs(d) * DBL_EPSILON,
		   "number %.17g reads back", d);
	free(want);
	buf_free(&b);
}

static void
test_string(const char *s, const char *what)
{
	struct buf b = BUF_INIT;
	char *want = test_cjson(cJSON_CreateString(s));

	jsonw_string(&b, s);
	is_str(b.data, want, "string %s as cJSON prints it", what);
	free(want);
	buf_free(&b);
}

static void
test_numbers(void)
{
	static const double v[] = {0,
	                           1,
	                           -1,
	                           7,
	                           10,
	                           123456789,
	                           0.5,
	                           0.1,
	                           1.0 / 3,
	                           1e-7,
	                           2.5e-300,
	                           1e300,
	                           -0.25,
	                           1e15,
	                           1e16,
	                           1e21,
	                           4294967296,
	                           12345678901.5,
	                           DBL_MIN,
	                           DBL_MAX,
	                           -DBL_MAX,
	                           1.0 / 7,
	                           0.30000000000000004};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		test_number(v[i]);
	/* The ends of the integer path (plain digits below 10^15). */
	test_number(999999999999999.0);
	test_number(-999999999999999.0);
	test_number(1e15 + 1);
	test_number(9007199254740993.0);
	test_number((double)INT_MAX);
	test_number((double)INT_MIN);
	test_number((double)INT_MAX + 1);
	test_number((double)INT_MIN - 1);
	test_number(-0.0);
	/* What the bench's metrics look like: 1 / (1 + step). */
	for (int k = 0; k < 1000; k += 37)
		test_number(1.0 / (1 + k));
	test_number(NAN);
	test_number(INFINITY);
	test_number(-INFINITY);
}

static void
test_strings(void)
{
	test_string("", "empty");
	test_string("plain text", "plain");
	test_string("q\"b\\s/", "quote, backslash, slash");
	test_string("\b\f\n\r\t", "short escapes");
	test_string("\x01\x1f\x7f", "other control bytes");
	test_string("caf\xc3\xa9 \xe2\x82\xac", "UTF-8");
	test_string("a\nb\"c", "escapes between plain runs");
}

static void
test_misc(void)
{
	struct buf b = BUF_INIT;

	jsonw_string(&b, NULL);
	is_str(b.data, "\"\"", "NULL string prints as \"\"");
	buf_reset(&b);
	buf_append(&b, "{", 1);
	jsonw_key(&b, "a\tb");
	jsonw_bool(&b, true);
	buf_append(&b, ",", 1);
	jsonw_key(&b, "c");
	jsonw_bool(&b, false);
	buf_append(&b, "}", 1);
	is_str(b.data, "{\"a\\tb\":true,\"c\":false}", "keys and booleans");
	buf_free(&b);
}

int
main(void)
{
	test_numbers();
	test_strings();
	test_misc();
	return tap_done();
}
