/*
 * test_jsonlax: bare NaN / Infinity / -Infinity as values (and not inside
 * strings), the depth and size limits, static reasons for bad input, and
 * markers turned into nulls before re-serialising.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonlax.h"
#include "tap.h"

#define S(lit) lit, sizeof(lit) - 1

static const struct jsonlax_limits test_lim = {.max_bytes = 1024, .max_depth = 4};

static double
test_num(const cJSON *obj, const char *key)
{
	double v = -12345.0;

	if (!jsonlax_number(cJSON_GetObjectItemCaseSensitive(obj, key), &v))
		return -12345.0;
	return v;
}

static void
test_nonfinite(void)
{
	const char *why = NULL;
	cJSON *root;
	double v;

	root = jsonlax_parse(
	        S("{\"a\":NaN,\"b\":Infinity,\"c\":-Infinity,\"d\":1.5,"
	          "\"e\":[nan,-inf,inf],\"s\":\"NaN and Infinity\",\"t\":\"x\\\"NaN\"}"),
	        &test_lim, &why);
	ok(root != NULL, "bare NaN, Infinity, -Infinity parse");
	ok(isnan(test_num(root, "a")), "NaN value");
	ok(isinf(test_num(root, "b")) && test_num(root, "b") > 0, "Infinity value");
	ok(isinf(test_num(root, "c")) && test_num(root, "c") < 0, "-Infinity value");
	is_double(test_num(root, "d"), 1.5, 0, "ordinary numbers untouched");
	{
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "e");
		double a = 0, b = 0, c = 0;
		ok(cJSON_GetArraySize(e) == 3 && jsonlax_number(cJSON_GetArrayItem(e, 0), &a) &&
		           jsonlax_number(cJSON_GetArrayItem(e, 1), &b) &&
		           jsonlax_number(cJSON_GetArrayItem(e, 2), &c) && isnan(a) && isinf(b) &&
		           b < 0 && isinf(c) && c > 0,
		   "lower-case spellings in an array");
	}
	is_str(cJSON_GetObjectItemCaseSensitive(root, "s")->valuestring, "NaN and Infinity",
	       "NaN inside a string is text");
	is_str(cJSON_GetObjectItemCaseSensitive(root, "t")->valuestring, "x\"NaN",
	       "NaN after an escaped quote is still text");
	ok(!jsonlax_number(cJSON_GetObjectItemCaseSensitive(root, "s"), &v),
	   "a string is not a number");
	ok(!jsonlax_nonfinite(cJSON_GetObjectItemCaseSensitive(root, "d"), &v),
	   "a finite number is not a marker");
	cJSON_Delete(root);

	root = jsonlax_parse(S("{\"m\":\"\\u0001ftmon-nan\"}"), &test_lim, &why);
	ok(root != NULL && isnan(test_num(root, "m")),
	   "strict JSON spelling a marker reads as one (documented: control character)");
	cJSON_Delete(root);

	why = NULL;
	ok(jsonlax_parse(S("{\"a\":NaNx}"), &test_lim, &why) == NULL,
	   "NaN glued to a word refused");
	is_str(why, "invalid JSON", "glued NaN: reason");
	ok(jsonlax_parse(S("{\"a\":xNaN}"), &test_lim, &why) == NULL, "word before NaN refused");
	ok(jsonlax_parse(S("{\"a\":--Infinity}"), &test_lim, &why) == NULL, "double minus refused");
}

static void
test_unmark(void)
{
	cJSON *root =
	        jsonlax_parse(S("{\"o\":{\"a\":NaN,\"b\":[1,Infinity],\"c\":2}}"), &test_lim, NULL);
	char *s;

	ok(root != NULL, "nested markers parse");
	jsonlax_unmark(root);
	s = cJSON_PrintUnformatted(root);
	is_str(s, "{\"o\":{\"a\":null,\"b\":[1,null],\"c\":2}}", "markers become null");
	cJSON_free(s);
	cJSON_Delete(root);
}

static void
test_limits(void)
{
	const char *why = NULL;
	struct buf b = BUF_INIT;
	cJSON *root;

	root = jsonlax_parse(S("[[[[1]]]]"), &test_lim, &why);
	ok(root != NULL, "depth 4 within a limit of 4");
	cJSON_Delete(root);
	ok(jsonlax_parse(S("[[[[[1]]]]]"), &test_lim, &why) == NULL, "depth 5 refused");
	is_str(why, "JSON nested too deeply", "depth: reason");
	ok(jsonlax_parse(S("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}"), &test_lim, &why) == NULL,
	   "objects count toward depth");
	root = jsonlax_parse(S("{\"s\":\"[[[[[[[[[[{{{{{\"}"), &test_lim, &why);
	ok(root != NULL, "brackets inside strings do not count");
	cJSON_Delete(root);
	root = jsonlax_parse(S("[1,[2],[3],[[4]],[NaN]]"), &test_lim, &why);
	ok(root != NULL, "siblings do not add up");
	cJSON_Delete(root);

	buf_puts(&b, "[\"");
	while (b.len < 1022)
		buf_puts(&b, "a");
	buf_puts(&b, "\"]");
	root = jsonlax_parse(b.data, b.len, &test_lim, &why);
	ok(b.len == 1024 && root != NULL, "1024 bytes is within a limit of 1024");
	cJSON_Delete(root);
	buf_puts(&b, " ");
	ok(jsonlax_parse(b.data, b.len, &test_lim, &why) == NULL, "1025 bytes refused");
	is_str(why, "JSON body too large", "size: reason");
	buf_free(&b);
}

static void
test_invalid(void)
{
	const char *why = NULL;

	ok(jsonlax_parse(NULL, 0, &test_lim, &why) == NULL, "NULL refused");
	is_str(why, "empty body", "NULL: reason");
	why = NULL;
	ok(jsonlax_parse("", 0, &test_lim, &why) == NULL, "empty refused");
	is_str(why, "empty body", "empty: reason");
	ok(jsonlax_parse(S("{\"a\":1"), &test_lim, &why) == NULL, "truncated refused");
	is_str(why, "invalid JSON", "truncated: reason");
	ok(jsonlax_parse(S("{\"a\":NaN"), &test_lim, &why) == NULL, "truncated with NaN refused");
	ok(jsonlax_parse(S("{'a':1}"), &test_lim, NULL) == NULL, "NULL why is fine");
	{
		/* Not NUL-terminated: only len bytes are read. */
		char raw[] = {'[', '1', ']', 'x'};
		cJSON *root = jsonlax_parse(raw, 3, &test_lim, &why);
		ok(root != NULL && cJSON_IsArray(root), "reads only len bytes");
		cJSON_Delete(root);
	}
}

int
main(void)
{
	test_nonfinite();
	test_unmark();
	test_limits();
	test_invalid();
	return tap_done();
}
