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

/* A string holding a NUL becomes the NUL marker, key or value: cJSON
 * would end its C string at the NUL. */
static void
test_nul(void)
{
	static const char raw[] = "{\"a\":\"x\0y\",\"b\":1}";
	const cJSON *it;
	cJSON *root;
	char *s;

	root = jsonlax_parse(S("{\"step\":3,\"train_loss\\u0000junk\":9.0,\"train_loss\":0.25}"),
	                     &test_lim, NULL);
	ok(root != NULL, "a key with \\u0000 parses");
	it = cJSON_GetArrayItem(root, 1);
	ok(it != NULL && jsonlax_key_is_nul(it), "its key is the NUL marker");
	ok(it != NULL && strcmp(it->string, "train_loss") != 0, "not a cut-off \"train_loss\"");
	is_double(cJSON_GetObjectItemCaseSensitive(root, "train_loss")->valuedouble, 0.25, 0,
	          "train_loss is the real key's value");
	ok(!jsonlax_key_is_nul(cJSON_GetArrayItem(root, 0)), "other keys are not marked");
	cJSON_Delete(root);

	root = jsonlax_parse(S("{\"job\":\"ftjob\\u0000evil\",\"v\":NaN}"), &test_lim, NULL);
	it = cJSON_GetObjectItemCaseSensitive(root, "job");
	ok(it != NULL && jsonlax_is_nul(it), "a value with \\u0000 is the NUL marker");
	ok(isnan(test_num(root, "v")), "with NaN in the same body");
	ok(!jsonlax_number(it, &(double){0}), "the NUL marker is not a number");
	cJSON_Delete(root);

	root = jsonlax_parse(raw, sizeof(raw) - 1, &test_lim, NULL);
	ok(root != NULL && jsonlax_is_nul(cJSON_GetObjectItemCaseSensitive(root, "a")),
	   "a raw NUL byte inside a string is marked too");
	cJSON_Delete(root);

	root = jsonlax_parse(S("{\"a\":\"x\\\\u0000\"}"), &test_lim, NULL);
	it = cJSON_GetObjectItemCaseSensitive(root, "a");
	ok(it != NULL && !jsonlax_is_nul(it) && strcmp(it->valuestring, "x\\u0000") == 0,
	   "an escaped backslash before u0000 is text, not a NUL");
	cJSON_Delete(root);

	ok(jsonlax_has_nul(S("{\"cmd\":\"job\",\"args\":{\"job\":\"ftjob\\u0000evil\"}}")),
	   "has_nul: the escape in a nested value");
	ok(jsonlax_has_nul(raw, sizeof(raw) - 1), "has_nul: a raw NUL");
	ok(!jsonlax_has_nul(S("{\"a\":\"x\\\\u0000\",\"b\":\"\\u0001\"}")),
	   "has_nul: not for an escaped backslash or \\u0001");
	ok(!jsonlax_has_nul(S("{\"a\":1}")), "has_nul: not for a plain body");

	root = jsonlax_parse(S("{\"o\":{\"k\\u0000\":1,\"v\":\"\\u0000\",\"c\":2}}"), &test_lim,
	                     NULL);
	jsonlax_unmark(root);
	s = cJSON_PrintUnformatted(root);
	is_str(s, "{\"o\":{\"v\":null,\"c\":2}}",
	       "unmark drops NUL keys and turns NUL values into null");
	cJSON_free(s);
	cJSON_Delete(root);
}

int
main(void)
{
	test_nonfinite();
	test_nul();
	test_unmark();
	test_limits();
	test_invalid();
	return tap_done();
}
