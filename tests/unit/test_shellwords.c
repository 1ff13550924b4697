/*
 * test_shellwords: command lines split like sh splits words, with no
 * expansion of any kind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "shellwords.h"
#include "tap.h"

/* line with tabs and newlines made visible, for test names. */
static const char *
test_visible(const char *line)
{
	static char out[256];
	size_t n = 0;

	for (; *line && n + 3 < sizeof(out); line++) {
		if (*line == '\n' || *line == '\t') {
			out[n++] = '\\';
			out[n++] = *line == '\n' ? 'n' : 't';
		} else {
			out[n++] = *line;
		}
	}
	out[n] = '\0';
	return out;
}

/* Split line and compare with want, a '|'-separated list of words
 * written between '<' and '>' so that empty words are visible. */
static void
test_split(const char *line, const char *want)
{
	const char *why = "unset";
	char **argv = shellwords_split(line, &why);
	struct buf got = BUF_INIT;

	if (argv == NULL) {
		ok(0, "split [%s]", test_visible(line));
		TAP_DIAG("  failed: %s", why);
		return;
	}
	for (char **a = argv; *a; a++)
		buf_printf(&got, "%s<%s>", a == argv ? "" : "|", *a);
	is_str(got.data, want, "split [%s]", test_visible(line));
	buf_free(&got);
	shellwords_free(argv);
}

static void
test_fail(const char *line, const char *want_why)
{
	const char *why = NULL;
	char **argv = shellwords_split(line, &why);

	ok(argv == NULL, "[%s] is refused", test_visible(line));
	is_str(why, want_why, "[%s] reason", test_visible(line));
	shellwords_free(argv);
}

int
main(void)
{
	/* Plain words and blanks. */
	test_split("/bin/true", "</bin/true>");
	test_split("  a   b  ", "<a>|<b>");
	test_split("a\tb\t\tc", "<a>|<b>|<c>");
	test_split("/etc/ftmon/hooks/notify --channel ml",
	           "</etc/ftmon/hooks/notify>|<--channel>|<ml>");

	/* Quotes. */
	test_split("echo 'a b' \"c d\"", "<echo>|<a b>|<c d>");
	test_split("echo 'it\"s'", "<echo>|<it\"s>");
	test_split("echo \"it's\"", "<echo>|<it's>");
	test_split("echo 'a\\b'", "<echo>|<a\\b>");
	test_split("'a'\"b\"c", "<abc>");
	test_split("x=\"1 2\"y", "<x=1 2y>");
	test_split("echo '' \"\" x", "<echo>|<>|<>|<x>");
	test_split("''", "<>");
	test_split("\"\"''", "<>");
	test_split("'  '", "<  >");
	test_split("'\t'", "<\t>");

	/* Backslashes. */
	test_split("a\\ b", "<a b>");
	test_split("\\'x\\'", "<'x'>");
	test_split("\\\\", "<\\>");
	test_split("\"a\\\"b\"", "<a\"b>");
	test_split("\"\\$HOME \\` \\\\\"", "<$HOME ` \\>");
	test_split("\"\\n\\t\"", "<\\n\\t>");
	test_split("a\\\nb", "<ab>");

	/* No expansion at all. */
	test_split("echo $HOME ~ * ?", "<echo>|<$HOME>|<~>|<*>|<?>");
	test_split("echo \"$HOME\" `id` $(id)", "<echo>|<$HOME>|<`id`>|<$(id)>");
	test_split("a;b|c>d", "<a;b|c>d>");

	/* Errors. */
	test_fail("echo 'oops", "unterminated single quote");
	test_fail("echo \"oops", "unterminated double quote");
	test_fail("echo \"a\\\"", "unterminated double quote");
	test_fail("echo oops\\", "trailing backslash");
	test_fail("", "empty command");
	test_fail(" \t ", "empty command");
	shellwords_free(NULL);
	return tap_done();
}
