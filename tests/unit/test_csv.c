/*
 * test_csv: RFC 4180 records (quotes, doubled quotes, separators and line
 * breaks inside quotes, CRLF / LF / CR endings), the lenient corners, and
 * the field count and length limits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "tap.h"

static const struct csv_limits test_lim = {.max_fields = 8, .max_field_len = 16};

/* Every record as "a|b|c" lines ("!" marks an overflowed record). */
static char *
test_read(const char *in, const struct csv_limits *lim)
{
	struct buf out = BUF_INIT;
	struct csv c;

	csv_init(&c, in, strlen(in), lim);
	while (csv_next(&c)) {
		if (csv_overflow(&c))
			buf_puts(&out, "!");
		for (size_t i = 0; i < csv_nfields(&c); i++)
			buf_printf(&out, "%s%s", i ? "|" : "", csv_field(&c, i));
		buf_puts(&out, "\n");
	}
	csv_free(&c);
	buf_puts(&out, "");
	return buf_steal(&out);
}

#define check(in, want, ...)                             \
	do {                                             \
		char *got_ = test_read((in), &test_lim); \
		is_str(got_, (want), __VA_ARGS__);       \
		free(got_);                              \
	} while (0)

static void
test_records(void)
{
	check("a,b,c\n1,2,3\n", "a|b|c\n1|2|3\n", "plain records");
	check("a,b\r\n1,2\r\n", "a|b\n1|2\n", "CRLF");
	check("a,b\r1,2", "a|b\n1|2\n", "lone CR, no final newline");
	check("a,,c,\n", "a||c|\n", "empty fields, trailing comma");
	check("\"a,b\",\"c\"\"d\"\n", "a,b|c\"d\n", "quoted separator, doubled quote");
	check("\"two\nlines\",x\r\n", "two\nlines|x\n", "line break inside quotes");
	check("\"\"\n", "\n", "empty quoted field");
	check("\n\nx\n", "\n\nx\n", "blank lines are records of one empty field");
	check("ab\"c\",d\n", "ab\"c\"|d\n", "quote inside an unquoted field is literal");
	check("\"ab\"cd,e\n", "abcd|e\n", "text after a closing quote is kept");
	check("\"open,\nnope", "open,\nnope\n", "unterminated quote runs to the end");
	check(" a , b \n", " a | b \n", "blanks are part of fields");
	check("", "", "empty input: no record");
}

static void
test_blank(void)
{
	struct csv c;
	const char *in = "\n,\n\"\"\nx\n";

	csv_init(&c, in, strlen(in), &test_lim);
	ok(csv_next(&c) && csv_blank(&c), "empty line is blank");
	ok(csv_next(&c) && !csv_blank(&c) && csv_nfields(&c) == 2, "a lone comma is two fields");
	ok(csv_next(&c) && csv_blank(&c), "an empty quoted field is blank too");
	ok(csv_next(&c) && !csv_blank(&c), "x is not blank");
	ok(!csv_next(&c), "then the end");
	ok(!csv_next(&c), "and stays at the end");
	csv_free(&c);
}

static void
test_limits(void)
{
	static const struct csv_limits one = {.max_fields = 0, .max_field_len = 4};

	check("1,2,3,4,5,6,7,8\n", "1|2|3|4|5|6|7|8\n", "eight fields within a limit of eight");
	check("1,2,3,4,5,6,7,8,9\nnext\n", "!1|2|3|4|5|6|7|8\nnext\n",
	      "nine fields: overflowed, next record intact");
	check("0123456789abcdef,x\n", "0123456789abcdef|x\n", "16 bytes within a limit of 16");
	check("0123456789abcdefg,x\n\"a\nb\",c\n", "!|\na\nb|c\n",
	      "17 bytes: overflowed, nothing more kept, next record intact");
	check("\"0123456789abcde\"\"\"\n", "0123456789abcde\"\n", "limit counts unquoted bytes");
	{
		char *got = test_read("abcd,e\nabcde\n", &one);
		is_str(got, "!abcd\n!\n", "max_fields 0 acts as 1");
		free(got);
	}
	{
		struct buf b = BUF_INIT;
		char *got;
		buf_puts(&b, "\"");
		for (int i = 0; i < 100000; i++)
			buf_puts(&b, "x,\n");
		buf_puts(&b, "\",y\nz\n");
		got = test_read(b.data, &test_lim);
		is_str(got, "!|\nz\n", "a huge quoted field costs no memory past the limit");
		free(got);
		buf_free(&b);
	}
}

int
main(void)
{
	test_records();
	test_blank();
	test_limits();
	return tap_done();
}
