/*
 * test_utf8: what is well-formed UTF-8 (overlongs, surrogates, code points
 * past U+10FFFF and truncated sequences are not), the U+FFFD repair of
 * each maximal ill-formed subpart, and the escaped form for log lines.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

#define FFFD "\xef\xbf\xbd"

static void
test_valid(void)
{
	static const char *const good[] = {
	        "",
	        "plain ASCII",
	        "caf\xc3\xa9",      /* U+00E9 */
	        "\xe2\x82\xac",     /* U+20AC */
	        "\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
	        "\xee\x80\x80",     /* U+E000, just above them */
	        "\xef\xbf\xbf",     /* U+FFFF */
	        "\xf0\x90\x80\x80", /* U+10000, the smallest 4-byte form */
	        "\xf4\x8f\xbf\xbf", /* U+10FFFF, the largest code point */
	        "\xc2\x80\xdf\xbf", /* U+0080 and U+07FF */
	        "\xe0\xa0\x80",     /* U+0800, the smallest 3-byte form */
	        "mixed \xc3\xa9 and \xf0\x9f\x98\x80 text",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(utf8_valid(good[i], strlen(good[i])), "well-formed #%zu", i);
	ok(utf8_valid("a\0b", 3), "U+0000 inside a counted string is well-formed");
}

/* Each ill-formed input, where it first goes wrong, and its repair. */
static void
test_repair(void)
{
	static const struct {
		const char *in;
		size_t bad_at;
		const char *out;
		const char *what;
	} cases[] = {
	        {"\xff\xfe", 0, FFFD FFFD, "ff fe: two bytes that never occur"},
	        {"ok\x80", 2, "ok" FFFD, "a lone continuation byte"},
	        {"\xc0\xaf", 0, FFFD FFFD, "overlong 2-byte '/' (C0)"},
	        {"\xc1\xbf", 0, FFFD FFFD, "overlong 2-byte (C1)"},
	        {"\xe0\x80\xaf", 0, FFFD FFFD FFFD, "overlong 3-byte form"},
	        {"\xf0\x80\x80\xaf", 0, FFFD FFFD FFFD FFFD, "overlong 4-byte form"},
	        {"\xed\xa0\x80", 0, FFFD FFFD FFFD, "surrogate U+D800"},
	        {"\xed\xbf\xbf", 0, FFFD FFFD FFFD, "surrogate U+DFFF"},
	        {"\xf4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD, "U+110000, past the last"},
	        {"\xf5\x80\x80\x80", 0, FFFD FFFD FFFD FFFD, "lead byte F5"},
	        {"x\xe2\x82", 1, "x" FFFD, "a 3-byte sequence cut at the end: one U+FFFD"},
	        {"\xe2\x82"
	         "A",
	         0, FFFD "A", "a cut sequence before ASCII keeps the ASCII"},
	        {"\xf0\x9f\x98", 0, FFFD, "a 4-byte sequence cut after three"},
	        {"\xc3", 0, FFFD, "a lead byte alone"},
	        {"caf\xc3\xa9\xff!", 5, "caf\xc3\xa9" FFFD "!", "valid text around it is kept"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);
		char *fixed = utf8_repair(cases[i].in, len);

		ok(!utf8_valid(cases[i].in, len), "ill-formed: %s", cases[i].what);
		is_int(utf8_check(cases[i].in, len), cases[i].bad_at, "  found at byte %zu",
		       cases[i].bad_at);
		is_str(fixed, cases[i].out, "  repaired");
		ok(utf8_valid(fixed, strlen(fixed)), "  and the repair is well-formed");
		free(fixed);
	}
}

static void
test_repair_valid(void)
{
	char *s = utf8_repair("caf\xc3\xa9", 5);
	is_str(s, "caf\xc3\xa9", "well-formed text is copied unchanged");
	free(s);
	s = utf8_repair("", 0);
	is_str(s, "", "the empty string gives an empty string");
	free(s);
}

static void
test_show(void)
{
	char big[200];
	char *s;

	s = utf8_show("a b\n\x1b[31m\\\x7f\xc3\xa9", 64);
	is_str(s, "a b\\x0a\\x1b[31m\\x5c\\x7f\\xc3\\xa9", "controls, DEL, backslash, non-ASCII");
	free(s);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = utf8_show(big, 8);
	is_str(s, "xxxxxxxx...", "cut at max bytes, with ...");
	free(s);
	s = utf8_show("12345678", 8);
	is_str(s, "12345678", "exactly max bytes: no ...");
	free(s);
}

int
main(void)
{
	test_valid();
	test_repair();
	test_repair_valid();
	test_show();
	return tap_done();
}
