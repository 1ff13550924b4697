/*
 * test_render: the pure formatting helpers of ftmonctl.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "render.h"
#include "tap.h"

static void
test_width_and_sanitize(void)
{
	char s[64];

	is_int(render_width(""), 0, "width of empty string");
	is_int(render_width("abc"), 3, "width of ASCII");
	is_int(render_width("héllo"), 5, "width counts code points, not bytes");
	is_int(render_width("ステップ"), 4, "width of CJK as one column each");

	strcpy(s, "a\tb\nc\033[2Jd");
	render_sanitize(s);
	is_str(s, "a b c?[2Jd", "tabs and newlines become spaces, ESC becomes ?");
	strcpy(s, "x\xc2\x9b"
	          "31my");
	render_sanitize(s);
	is_str(s, "x?31my", "UTF-8 C1 CSI is neutralised");
	strcpy(s, "caf\xc3\xa9");
	render_sanitize(s);
	is_str(s, "caf\xc3\xa9", "ordinary UTF-8 is kept");
}

static void
test_numbers(void)
{
	char b[32];

	is_str(render_number(1.93, b, sizeof(b)), "1.93", "plain number");
	is_str(render_number(0.123456, b, sizeof(b)), "0.1235", "four significant digits");
	is_str(render_number(1234567, b, sizeof(b)), "1.235e+06", "large number");
	is_str(render_number(NAN, b, sizeof(b)), "nan", "NaN");
	is_str(render_number(-INFINITY, b, sizeof(b)), "-inf", "-inf");
	is_str(render_number(-0.0, b, sizeof(b)), "0", "negative zero prints as 0");

	is_str(render_bytes(512, b, sizeof(b)), "512 B", "bytes");
	is_str(render_bytes(1536, b, sizeof(b)), "1.5 KiB", "KiB");
	is_str(render_bytes(50u * 1024 * 1024, b, sizeof(b)), "50 MiB", "MiB");

	is_str(render_duration(0, b, sizeof(b)), "0s", "zero duration");
	is_str(render_duration(45, b, sizeof(b)), "45s", "seconds");
	is_str(render_duration(200, b, sizeof(b)), "3m 20s", "minutes and seconds");
	is_str(render_duration(3600, b, sizeof(b)), "1h", "whole hour");
	is_str(render_duration(2 * 86400 + 4 * 3600 + 59, b, sizeof(b)), "2d 4h", "days and hours");
}

static void
test_reltime(void)
{
	char b[32];
	int64_t now = 1764140846;

	is_str(render_reltime(now, now, b, sizeof(b)), "just now", "same second");
	is_str(render_reltime(now - 12, now, b, sizeof(b)), "12s ago", "seconds ago");
	is_str(render_reltime(now - 59, now, b, sizeof(b)), "59s ago", "59 seconds");
	is_str(render_reltime(now - 60, now, b, sizeof(b)), "1m ago", "one minute");
	is_str(render_reltime(now - 3599, now, b, sizeof(b)), "59m ago", "just under an hour");
	is_str(render_reltime(now - 3 * 3600 - 5, now, b, sizeof(b)), "3h ago", "hours");
	is_str(render_reltime(now - 2 * 86400, now, b, sizeof(b)), "2d ago", "days");
	is_str(render_reltime(now + 90, now, b, sizeof(b)), "in 1m", "future time");
}

static void
test_table(void)
{
	static const char *const hdr[] = {"NAME", "STEP", "LOSS"};
	struct render_table *t = render_table_new(3, hdr);
	struct buf out = BUF_INIT;

	render_table_align(t, 1, RENDER_RIGHT);
	render_table_row(t);
	render_table_cell(t, "openai/ftjob-abc");
	render_table_cellf(t, "%d/%d", 10, 100);
	render_table_cell(t, "1.93");
	render_table_row(t);
	render_table_cell(t, "lab/rün");
	render_table_cellf(t, "%d", 7);
	render_table_cell(t, NULL);
	is_int(render_table_rows(t), 2, "two rows");
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME                STEP  LOSS\n"
	       "openai/ftjob-abc  10/100  1.93\n"
	       "lab/rün                7\n",
	       "columns aligned, right-aligned numbers, UTF-8 width, no trailing blanks");
	t = render_table_free(t);
	ok(t == NULL, "free returns NULL");
	buf_free(&out);

	/* No headers, extra cells dropped, control characters neutralised. */
	t = render_table_new(2, NULL);
	render_table_cell(t, "key:");
	render_table_cell(t, "line1\nline2");
	render_table_cell(t, "dropped");
	render_table_row(t);
	render_table_cell(t, "longer key:");
	render_table_cell(t, "v");
	render_table_print(t, &out);
	is_str(out.data,
	       "key:         line1 line2\n"
	       "longer key:  v\n",
	       "header-less key/value table");
	render_table_free(t);
	render_table_free(NULL);
	buf_free(&out);
}

/* The raw span of key in text, or "(none)". */
static const char *
test_member(const char *text, const char *key)
{
	static char out[256];
	size_t off, n;

	if (!render_json_member(text, strlen(text), key, &off, &n))
		return "(none)";
	snprintf(out, sizeof(out), "%.*s", (int)n, text + off);
	return out;
}

static void
test_json_member(void)
{
	const char *r = "{\"id\":1,\"ok\":true,\"result\":{\"loss\":[[20,2.0]]}}";

	is_str(test_member(r, "result"), "{\"loss\":[[20,2.0]]}", "object value kept verbatim");
	is_str(test_member(r, "ok"), "true", "scalar value");
	is_str(test_member(r, "id"), "1", "first member");
	is_str(test_member(r, "error"), "(none)", "absent member");
	is_str(test_member(" { \"a\" : \"x}\\\"]\" , \"result\" : [ \"]\" , {\"b\":\"}\"} ] } ",
	                   "result"),
	       "[ \"]\" , {\"b\":\"}\"} ]", "brackets and escapes inside strings");
	is_str(test_member("{\"x\":{\"result\":1},\"result\":2.50}", "result"), "2.50",
	       "only top-level members match");
	is_str(test_member("[1]", "result"), "(none)", "not an object");
	is_str(test_member("{\"result\":", "result"), "(none)", "truncated text");
}

/* Cutting and wrapping cells to fit a width. */
static void
test_table_fit(void)
{
	static const char *const hdr[] = {"NAME", "STATUS", "MESSAGE"};
	struct render_table *t = render_table_new(3, hdr);
	struct buf out = BUF_INIT;
	char *c;

	c = render_cut_middle("abcdefghij", 5, false);
	is_str(c, "ab~ij", "cut in the middle keeps both ends");
	free(c);
	c = render_cut_middle("r\xc3\xbc"
	                      "ckenwind",
	                      6, true);
	is_str(c, "r\xc3\xbc\xe2\x80\xa6ind", "by code points, with an ellipsis in UTF-8");
	free(c);
	c = render_cut_middle("short", 10, false);
	is_str(c, "short", "what fits is unchanged");
	free(c);
	c = render_cut_end("abcdefghij", 4, false);
	is_str(c, "abc~", "cut at the end");
	free(c);
	render_table_cell(t, "a-very-long-job-name");
	render_table_cell(t, "running");
	render_table_cell(t, "one two three four");
	render_table_fit(t, 30, false);
	render_table_shrink(t, 2, 6, RENDER_WRAP);
	render_table_shrink(t, 0, 8, RENDER_CUT_MIDDLE);
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME          STATUS   MESSAGE\n"
	       "a-ver~b-name  running  one two\n"
	       "                       three\n"
	       "                       four\n",
	       "the message wraps down to its header's width, then the name is cut; the status stays");
	buf_reset(&out);
	render_table_fit(t, 0, false);
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME                  STATUS   MESSAGE\n"
	       "a-very-long-job-name  running  one two three four\n",
	       "width 0 never cuts");
	buf_reset(&out);
	render_table_fit(t, 100, false);
	render_table_color(t, 31);
	render_table_print(t, &out);
	is_str(out.data,
	       "NAME                  STATUS   MESSAGE\n"
	       "a-very-long-job-name  running  \033[31mone two three four\033[0m\n",
	       "a coloured cell: escapes do not count as width");
	render_table_free(t);
	buf_free(&out);
}

int
main(void)
{
	test_json_member();
	test_width_and_sanitize();
	test_numbers();
	test_reltime();
	test_table();
	test_table_fit();
	return tap_done();
}
