/*
 * test_metricline: the JSONL line parser -- the NaN tokens Python writes,
 * nesting flattened with '/', the step rule (0..2^53-1, integral), huge
 * numbers and 1e999, unicode and control characters in names, the depth,
 * size and count limits, and that every bad line has a reason.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metricline.h"
#include "tap.h"

static struct metricline ml = METRICLINE_INIT;

static int
parse(const char *line, const char **why)
{
	*why = NULL;
	return metricline_parse(&ml, line, strlen(line), why);
}

/* The value of metric name in the last parse, NAN-marked absence via *found. */
static bool
metric(const char *name, double *v)
{
	for (size_t i = 0; i < ml.nmetrics; i++)
		if (strcmp(ml.metrics[i].name, name) == 0) {
			*v = ml.metrics[i].value;
			return true;
		}
	return false;
}

static void
test_basic(void)
{
	const char *why;
	double v = 0;

	is_int(parse("{\"step\": 10, \"train_loss\": 1.93, \"valid_loss\": 2.01}", &why),
	       METRICLINE_OK, "a plain line parses");
	ok(ml.has_step && ml.step == 10, "step 10");
	is_int(ml.nmetrics, 2, "two metrics (step is not one)");
	ok(metric("train_loss", &v) && v == 1.93, "train_loss 1.93");
	ok(metric("valid_loss", &v) && v == 2.01, "valid_loss 2.01");
	ok(ml.status == NULL && ml.job == NULL, "no status, no job");

	is_int(parse("{\"loss\": 1, \"epoch\": 0.5, \"time\": 1700000000.25, \"timestamp\": 3}",
	             &why),
	       METRICLINE_OK, "a line without step");
	ok(!ml.has_step, "has no step");
	ok(metric("epoch", &v) && v == 0.5, "epoch is a metric");
	ok(metric("time", &v) && v == 1700000000.25, "time is a metric");
	ok(metric("timestamp", &v) && v == 3, "timestamp is a metric");

	is_int(parse("{\"step\": 3, \"ok\": true, \"note\": \"hi\", \"n\": null, \"a\": [1, 2],"
	             " \"x\": 1}",
	             &why),
	       METRICLINE_OK, "booleans, strings, nulls and arrays");
	is_int(ml.nmetrics, 1, "are ignored: only x is a metric");

	is_int(parse("{\"status\": \"succeeded\", \"job\": \"run 7 $(x) `y`\"}", &why),
	       METRICLINE_OK, "status and job");
	is_str(ml.status, "succeeded", "status read");
	is_str(ml.job, "run 7 $(x) `y`", "job read, shell characters and all");
	is_int(ml.nmetrics, 0, "no metrics");

	is_int(parse("{\"step\": 1, \"loss\": 2}\r", &why), METRICLINE_OK, "a CRLF line");
	is_int(parse("  \t\r", &why), METRICLINE_BLANK, "white space only is blank");
	is_int(parse("", &why), METRICLINE_BLANK, "an empty line is blank");
	is_int(parse("{}", &why), METRICLINE_OK, "an empty object is fine");
}

static void
test_nonfinite(void)
{
	const char *why;
	double v = 0;

	is_int(parse("{\"step\": 1, \"a\": NaN, \"b\": Infinity, \"c\": -Infinity}", &why),
	       METRICLINE_OK, "Python's NaN tokens parse");
	ok(metric("a", &v) && isnan(v), "NaN");
	ok(metric("b", &v) && isinf(v) && v > 0, "Infinity");
	ok(metric("c", &v) && isinf(v) && v < 0, "-Infinity");
	is_int(parse("{\"note\": \"NaN\", \"x\": 1}", &why), METRICLINE_OK, "a \"NaN\" string");
	is_int(ml.nmetrics, 1, "is a string, not a metric");
	is_int(parse("{\"step\": NaN}", &why), METRICLINE_BAD, "step NaN is bad");
	is_int(parse("{\"a\": nan, \"b\": -inf}", &why), METRICLINE_OK,
	       "jsonlax's lower-case nan and -inf parse too");
	ok(metric("a", &v) && isnan(v), "nan");
	ok(metric("b", &v) && isinf(v) && v < 0, "-inf");
	is_int(parse("{\"x\": 1e999, \"y\": -1e999}", &why), METRICLINE_OK, "1e999 parses");
	ok(metric("x", &v) && isinf(v) && v > 0, "1e999 is +inf");
	ok(metric("y", &v) && isinf(v) && v < 0, "-1e999 is -inf");
	is_int(parse("{\"x\": 1.7976931348623157e308, \"y\": 5e-324, \"z\": "
	             "123456789012345678901234567890}",
	             &why),
	       METRICLINE_OK, "huge and tiny numbers");
	ok(metric("x", &v) && v == 1.7976931348623157e308, "DBL_MAX kept");
	ok(metric("y", &v) && v > 0 && v < 1e-300, "a denormal kept");
	ok(metric("z", &v) && v > 1.2e29 && v < 1.3e29, "a 30-digit integer as a double");
}

static void
test_nesting(void)
{
	const char *why;
	double v = 0;
	char deep[256], *p = deep;

	is_int(parse("{\"step\": 2, \"eval\": {\"loss\": 1, \"acc\": {\"top1\": 0.5}, \"step\": 9}}",
	             &why),
	       METRICLINE_OK, "nested objects");
	ok(metric("eval/loss", &v) && v == 1, "eval/loss");
	ok(metric("eval/acc/top1", &v) && v == 0.5, "eval/acc/top1");
	ok(metric("eval/step", &v) && v == 9, "a nested step is a metric");
	is_int(ml.step, 2, "the top-level step stays the step");

	for (int i = 0; i < METRICLINE_MAX_DEPTH - 1; i++)
		p += sprintf(p, "{\"k\":");
	p += sprintf(p, "1");
	for (int i = 0; i < METRICLINE_MAX_DEPTH - 1; i++)
		*p++ = '}';
	*p = '\0';
	is_int(parse(deep, &why), METRICLINE_OK, "nesting at the depth limit parses");
	is_int(ml.nmetrics, 1, "one metric k/k/.../k");

	p = deep;
	for (int i = 0; i < METRICLINE_MAX_DEPTH + 1; i++)
		p += sprintf(p, "{\"k\":");
	p += sprintf(p, "1");
	for (int i = 0; i < METRICLINE_MAX_DEPTH + 1; i++)
		*p++ = '}';
	*p = '\0';
	is_int(parse(deep, &why), METRICLINE_BAD, "nesting past the limit is bad");
	is_str(why, "JSON nested too deeply", "and says so");
	is_int(parse("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]", &why), METRICLINE_BAD,
	       "deep arrays too");
}

static void
test_step(void)
{
	static const char *const bad[] = {
	        "{\"step\": -1}",   "{\"step\": 1.5}",        "{\"step\": \"10\"}",
	        "{\"step\": null}", "{\"step\": true}",       "{\"step\": 9007199254740992}",
	        "{\"step\": 1e20}", "{\"step\": Infinity}",   "{\"step\": 1e999}",
	        "{\"step\": [1]}",  "{\"step\": {\"a\": 1}}",
	};
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(parse(bad[i], &why), METRICLINE_BAD, "bad step: %s", bad[i]);
		is_str(why, "step is not an integer in 0..2^53-1", "  with its reason");
	}
	is_int(parse("{\"step\": 9007199254740991}", &why), METRICLINE_OK, "2^53-1 is a step");
	is_int(ml.step, 9007199254740991LL, "read exactly");
	is_int(parse("{\"step\": 0}", &why), METRICLINE_OK, "0 is a step");
	is_int(parse("{\"step\": 1e3}", &why), METRICLINE_OK, "1e3 is integral");
	is_int(ml.step, 1000, "step 1000");
	is_int(parse("{\"step\": 20.0}", &why), METRICLINE_OK, "20.0 is integral");
	is_int(ml.step, 20, "step 20");
	is_int(parse("{\"step\": -0.0}", &why), METRICLINE_OK, "-0.0 is step 0");
}

static void
test_names(void)
{
	const char *why;
	double v = 0;
	char *big;

	is_int(parse("{\"p\\u00e9rte\": 1, \"\xe6\x90\x8d\xe5\xa4\xb1\": 2, \"\\ud83d\\ude00\": 3}",
	             &why),
	       METRICLINE_OK, "unicode names, escaped and raw");
	ok(metric("p\xc3\xa9rte", &v) && v == 1, "an escaped e-acute");
	ok(metric("\xe6\x90\x8d\xe5\xa4\xb1", &v) && v == 2, "raw CJK");
	ok(metric("\xf0\x9f\x98\x80", &v) && v == 3, "a surrogate pair");

	is_int(parse("{\"a\\u0001b\": 1}", &why), METRICLINE_BAD, "a control character in a name");
	is_str(why, "metric name holds a control character", "  says so");
	is_int(parse("{\"a\\u0000b\": 1}", &why), METRICLINE_BAD, "a NUL in a name");
	is_str(why, "metric name holds a NUL", "  says so");
	is_int(parse("{\"a\xff\": 1}", &why), METRICLINE_BAD, "invalid UTF-8 in a name");
	is_str(why, "metric name is not valid UTF-8", "  says so");
	is_int(parse("{\"\": 1}", &why), METRICLINE_BAD, "an empty name");
	is_int(parse("{\"a\\u0001b\": \"text\"}", &why), METRICLINE_OK,
	       "an odd key on an ignored value does not matter");

	is_int(parse("{\"status\": 3}", &why), METRICLINE_BAD, "a numeric status");
	is_str(why, "status is not a string", "  says so");
	is_int(parse("{\"status\": \"a\\u0007\"}", &why), METRICLINE_BAD, "a status with BEL");
	is_int(parse("{\"job\": \"\"}", &why), METRICLINE_BAD, "an empty job name");
	is_int(parse("{\"job\": \"x\\u0000y\"}", &why), METRICLINE_BAD, "a job name with a NUL");
	is_int(parse("{\"job\": \"\\u0085\"}", &why), METRICLINE_BAD,
	       "a job name with a C1 control");
	is_int(parse("{\"job\": NaN}", &why), METRICLINE_BAD, "a NaN job");

	big = malloc(METRICLINE_MAX_NAME + 32);
	memset(big, 'm', METRICLINE_MAX_NAME + 1);
	big[METRICLINE_MAX_NAME + 1] = '\0';
	{
		char *line = malloc(METRICLINE_MAX_NAME + 64);
		sprintf(line, "{\"%s\": 1}", big);
		is_int(parse(line, &why), METRICLINE_BAD, "a 513-byte name");
		is_str(why, "metric name longer than 512 bytes", "  says so");
		big[METRICLINE_MAX_NAME] = '\0';
		sprintf(line, "{\"%s\": 1}", big);
		is_int(parse(line, &why), METRICLINE_OK, "a 512-byte name is fine");
		free(line);
	}
	free(big);
}

static void
test_bad(void)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
	        {"not json", "not JSON"},       {"{\"step\": 1", "not JSON"},
	        {"{\"step\": 1}}", "not JSON"}, {"[1, 2]", "not a JSON object"},
	        {"42", "not a JSON object"},    {"\"str\"", "not a JSON object"},
	        {"{\"a\": NaNx}", "not JSON"},  {"{\"a\": 1} {\"b\": 2}", "not JSON"},
	        {"{\"a\": 1} x", "not JSON"},
	};
	const char *why;
	char *line;
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_int(parse(cases[i].line, &why), METRICLINE_BAD, "bad: %s", cases[i].line);
		is_str(why, cases[i].why, "  reason");
	}
	is_int(metricline_parse(&ml, "{\"a\":1}\0x", 9, &why), METRICLINE_BAD,
	       "a raw NUL after the object");
	is_int(parse("{\"a}\": 1, \"b\\\"}\": 2}  ", &why), METRICLINE_OK,
	       "braces and escaped quotes inside keys do not end the object");
	is_int(ml.nmetrics, 2, "  both metrics read");

	n = METRICLINE_MAX_BYTES + 1;
	line = malloc(n);
	memset(line, ' ', n);
	line[0] = '{';
	line[n - 1] = '}';
	is_int(metricline_parse(&ml, line, n, &why), METRICLINE_BAD, "over 1 MiB");
	is_str(why, "line longer than 1 MiB", "  says so");
	is_int(metricline_parse(&ml, line, n - 1, &why), METRICLINE_BAD, "1 MiB unclosed");
	line[n - 2] = '}';
	is_int(metricline_parse(&ml, line, n - 1, &why), METRICLINE_OK, "exactly 1 MiB is fine");
	free(line);

	line = malloc(METRICLINE_MAX_METRICS * 16 + 64);
	n = (size_t)sprintf(line, "{");
	for (int i = 0; i <= METRICLINE_MAX_METRICS; i++)
		n += (size_t)sprintf(line + n, "%s\"m%d\":%d", i ? "," : "", i, i);
	sprintf(line + n, "}");
	is_int(parse(line, &why), METRICLINE_BAD, "1025 metrics");
	is_str(why, "more than 1024 metrics in one line", "  says so");
	ok(ml.nmetrics == 0 && !ml.has_step, "a bad line leaves nothing behind");
	free(line);
}

/* Every number the fast path reads without strtod is strtod's double, bit
 * for bit: random doubles written at 1 to 17 significant digits (%.17g is
 * how Python's repr round-trips), fixed and exponent forms. */
static void
test_exact_numbers(void)
{
	uint64_t r = 0x243f6a8885a308d3ULL;
	int bad = 0, n = 0;
	char num[64], line[96];
	const char *why;

	for (int i = 0; i < 200000; i++) {
		double d, want;
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		memcpy(&d, &r, sizeof(d));
		if (!isfinite(d))
			continue;
		if (i % 3 == 0) /* the range losses live in */
			d = (double)(r >> 11) / (double)(1ULL << 53) * pow(10, (int)(r % 9) - 4);
		snprintf(num, sizeof(num), i % 2 ? "%.*g" : "%.*e", 1 + (int)(r % 17), d);
		snprintf(line, sizeof(line), "{\"x\": %s}", num);
		want = strtod(num, NULL);
		if (parse(line, &why) != METRICLINE_OK || ml.nmetrics != 1 ||
		    memcmp(&ml.metrics[0].value, &want, sizeof(want)) != 0) {
			if (bad++ < 3)
				TAP_DIAG("%s: got %.17g, strtod %.17g", num,
				         ml.nmetrics ? ml.metrics[0].value : NAN, want);
		}
		n++;
	}
	is_int(bad, 0, "%d random numbers read exactly as strtod reads them", n);
	is_int(parse("{\"a\": 0.6230334079604861, \"b\": -0, \"c\": 1E+22, \"d\": 1e23,"
	             " \"e\": 9007199254740993, \"f\": 0.000001}",
	             &why),
	       METRICLINE_OK, "edges of the exact path");
	ok(ml.metrics[0].value == 0.6230334079604861, "a Python repr");
	ok(ml.metrics[1].value == 0 && signbit(ml.metrics[1].value), "-0 is negative zero");
	ok(ml.metrics[2].value == 1e22 && ml.metrics[3].value == 1e23,
	   "1e22 exact, 1e23 by strtod");
	ok(ml.metrics[4].value == 9007199254740992.0, "2^53+1 rounds as strtod does");
	ok(ml.metrics[5].value == 1e-6, "0.000001");
}

int
main(void)
{
	test_basic();
	test_nonfinite();
	test_nesting();
	test_step();
	test_names();
	test_bad();
	test_exact_numbers();
	metricline_free(&ml);
	return tap_done();
}
