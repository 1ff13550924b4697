/*
 * render: pure text formatting for ftmonctl.  Aligned tables, numbers and
 * relative times are built into a struct buf (the plot is plot.h), so the
 * client's output can be unit tested without a daemon or a terminal.  No
 * I/O, no logging, no locale or environment lookups: the caller decides
 * about colour and Unicode.
 */
#ifndef FTMON_RENDER_H
#define FTMON_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Display width of a UTF-8 string, counted in code points (every code point
 * is taken to fill one column). */
size_t render_width(const char *s);

/* Replace bytes a terminal would act on (C0 controls, DEL, and the UTF-8
 * encoded C1 controls U+0080..U+009F such as CSI) with '?', in place.  Text
 * from the daemon comes from remote APIs and must not move the cursor. */
void render_sanitize(char *s);

/* s cut to at most width columns: unchanged when it fits, else its start
 * and end around an ellipsis ("…" with utf8, else "~"), so two long names
 * that differ only at the end stay apart.  Returns a malloc'd string. */
char *render_cut_middle(const char *s, size_t width, bool utf8);
/* The same, keeping the start: "some long mess…". */
char *render_cut_end(const char *s, size_t width, bool utf8);

/* Numbers as "%.4g", or "nan", "inf", "-inf".  Writes into buf (size >= 32)
 * and returns it. */
char *render_number(double v, char *buf, size_t size);

/* How long ago t was, seen at now: "just now", "12s ago", "5m ago",
 * "3h ago", "2d ago"; a time in the future gives "in 12s".  Writes into buf
 * (size >= 32) and returns it. */
char *render_reltime(int64_t t, int64_t now, char *buf, size_t size);

/* A duration in seconds as at most two units: "45s", "3m 20s", "5h 2m",
 * "2d 4h".  Writes into buf (size >= 32) and returns it. */
char *render_duration(int64_t secs, char *buf, size_t size);

/* A byte count with a binary unit: "512 B", "1.5 KiB", "12.3 MiB".  Writes
 * into buf (size >= 32) and returns it. */
char *render_bytes(uint64_t bytes, char *buf, size_t size);

/* Find the raw text of member key in the top-level JSON object of text
 * (len bytes, already known to be valid JSON: this only scans).  Sets *off
 * and *n to the value's span and returns true, or returns false when there
 * is no such member.  Lets --json print a value exactly as the daemon wrote
 * it, without a parse and re-encode changing how numbers look. */
bool render_json_member(const char *text, size_t len, const char *key, size_t *off, size_t *n);

/*
 * Tables.  Column widths come from the widest cell (header included); cells
 * are separated by two spaces and the last column is never padded, so no
 * line ends in blanks.  Cell text is copied and sanitized.
 */
enum render_align {
	RENDER_LEFT,
	RENDER_RIGHT,
};

struct render_table;

/* A table of ncols columns.  headers is NULL (no header line) or ncols
 * strings, copied. */
struct render_table *render_table_new(size_t ncols, const char *const *headers);
/* Frees the table; accepts NULL and returns NULL. */
struct render_table *render_table_free(struct render_table *t);
void render_table_align(struct render_table *t, size_t col, enum render_align align);
/* Start a new row; cells added afterwards fill it left to right.  Cells
 * beyond ncols are dropped; cells never added print empty. */
void render_table_row(struct render_table *t);
/* Add one cell to the current row (a row is started if there is none).
 * NULL prints as an empty cell. */
void render_table_cell(struct render_table *t, const char *text);
void render_table_cellf(struct render_table *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
size_t render_table_rows(const struct render_table *t);
/* Print the last cell added in ANSI colour code (31 red, 32 green, ...);
 * the escape sequences do not count towards its width. */
void render_table_color(struct render_table *t, int code);

/* Fitting a table into width columns: render_table_fit sets the width (0,
 * the default, never cuts) and whether cuts may use "…"; each
 * render_table_shrink names a column that may give up room down to min
 * columns, in the order they are tried.  A CUT_MIDDLE cell keeps its start
 * and end (names), CUT_END its start (messages), WRAP goes on over as many
 * lines as it needs, broken at spaces, with the other cells blank there;
 * a DROP column is left out whole (min is ignored).
 * Columns never named keep their width (the status column is never cut);
 * when the table cannot fit even so, it is printed wider than width. */
enum render_shrink {
	RENDER_CUT_MIDDLE,
	RENDER_CUT_END,
	RENDER_WRAP,
	RENDER_DROP,
};
void render_table_fit(struct render_table *t, size_t width, bool utf8);
void render_table_shrink(struct render_table *t, size_t col, size_t min, enum render_shrink how);
/* Append the table, one line per row, each ending in '\n'. */
void render_table_print(const struct render_table *t, struct buf *out);

#endif
