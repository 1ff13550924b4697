/*
 * test_base64: the standard and URL-safe alphabets, padding rules,
 * whitespace anywhere, and everything that must not pass for base64.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "tap.h"

/* Decode s; the result, or NULL when it is refused. */
static char *
test_dec(const char *s, size_t *n)
{
	char *out = (char *)1;
	size_t len = 99;

	if (base64_decode(s, strlen(s), &out, &len) < 0) {
		ok(out == NULL && len == 0, "refused \"%s\": no output", s);
		return NULL;
	}
	*n = len;
	return out;
}

static void
test_good(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"Zg==", "f"},
	        {"Zm8=", "fo"},
	        {"Zm9v", "foo"},
	        {"Zm9vYg==", "foob"},
	        {"Zm9vYmE=", "fooba"},
	        {"Zm9vYmFy", "foobar"},
	        {"Zg", "f"},
	        {"Zm8", "fo"},
	        {" Zm9v\nYmFy\r\n", "foobar"},
	        {"Zm 9v\tYg ==", "foob"},
	};
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = test_dec(cases[i].in, &n);
		ok(got != NULL && n == strlen(cases[i].want) &&
		           memcmp(got, cases[i].want, n) == 0 && got[n] == '\0',
		   "decode \"%s\"", cases[i].in);
		free(got);
	}
}

static void
test_alphabets(void)
{
	char *got;
	size_t n;

	got = test_dec("+/+/", &n);
	ok(got && n == 3 && (unsigned char)got[0] == 0xfb && (unsigned char)got[1] == 0xff &&
	           (unsigned char)got[2] == 0xbf,
	   "standard alphabet + and /");
	free(got);
	got = test_dec("-_-_", &n);
	ok(got && n == 3 && (unsigned char)got[0] == 0xfb && (unsigned char)got[2] == 0xbf,
	   "URL-safe - and _ decode the same");
	free(got);
	got = test_dec("AAEC", &n);
	ok(got && n == 3 && got[0] == 0 && got[1] == 1 && got[2] == 2,
	   "NUL bytes kept, length exact");
	free(got);
}

static void
test_bad(void)
{
	static const char *const bad[] = {
	        "",
	        "  \n",
	        "Z",
	        "Zm9vY",
	        "Zg=",
	        "Zg===",
	        "Z===",
	        "Zm=9v",
	        "Zg==Zg==",
	        "Zm9v!",
	        "step,train_loss\n1,2\n",
	        "=",
	        "Zm8==",
	        "\xc3\xa9",
	        "Zm9v\x01",
	};
	char *out;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = (char *)1;
		is_int(base64_decode(bad[i], strlen(bad[i]), &out, &n), -EINVAL,
		       "refused: case %zu", i);
		ok(out == NULL, "refused case %zu: no buffer", i);
	}
}

int
main(void)
{
	test_good();
	test_alphabets();
	test_bad();
	return tap_done();
}
