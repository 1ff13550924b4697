/*
 * csv: records are decoded into one buffer of NUL-separated fields so a
 * big file costs no allocation per field; runs of plain bytes are copied
 * in one go.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "xmalloc.h"

void
csv_init(struct csv *c, const char *data, size_t len, const struct csv_limits *lim)
{
	memset(c, 0, sizeof(*c));
	c->p = data;
	c->end = data + len;
	c->lim = *lim;
	if (c->lim.max_fields == 0)
		c->lim.max_fields = 1;
}

static void
csv_start_field(struct csv *c)
{
	c->field_len = 0;
	if (c->n >= c->lim.max_fields) {
		c->overflow = true;
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->off = xreallocarray(c->off, c->cap, sizeof(*c->off));
	}
	if (c->n > 0)
		buf_append(&c->text, "", 1);
	c->off[c->n++] = c->text.len;
}

/* Append to the current field unless a limit was passed. */
static void
csv_put(struct csv *c, const char *s, size_t len)
{
	c->field_len += len;
	if (c->field_len > c->lim.max_field_len)
		c->overflow = true;
	if (!c->overflow)
		buf_append(&c->text, s, len);
}

/* Advance past a run of bytes that need no decoding. */
static const char *
csv_run(struct csv *c, bool quoted)
{
	const char *q = c->p;

	if (quoted) {
		while (q < c->end && *q != '"')
			q++;
		return q;
	}
	while (q < c->end && *q != '"' && *q != ',' && *q != '\n' && *q != '\r')
		q++;
	return q;
}

bool
csv_next(struct csv *c)
{
	bool quoted = false;

	if (c->p >= c->end)
		return false;
	buf_reset(&c->text);
	c->n = 0;
	c->overflow = false;
	csv_start_field(c);
	while (c->p < c->end) {
		const char *run = csv_run(c, quoted);
		char ch;

		csv_put(c, c->p, (size_t)(run - c->p));
		c->p = run;
		if (c->p >= c->end)
			break;
		ch = *c->p++;
		if (ch == '"') {
			if (quoted && c->p < c->end && *c->p == '"') {
				csv_put(c, "\"", 1);
				c->p++;
			} else if (quoted) {
				quoted = false;
			} else if (c->field_len == 0) {
				quoted = true;
			} else {
				csv_put(c, "\"", 1);
			}
		} else if (ch == ',') {
			csv_start_field(c);
		} else {
			if (ch == '\r' && c->p < c->end && *c->p == '\n')
				c->p++;
			break;
		}
	}
	buf_append(&c->text, "", 1);
	return true;
}

size_t
csv_nfields(const struct csv *c)
{
	return c->n;
}

char *
csv_field(struct csv *c, size_t i)
{
	return c->text.data + c->off[i];
}

bool
csv_blank(const struct csv *c)
{
	return c->n == 1 && c->text.data[c->off[0]] == '\0';
}

bool
csv_overflow(const struct csv *c)
{
	return c->overflow;
}

void
csv_free(struct csv *c)
{
	buf_free(&c->text);
	free(c->off);
	memset(c, 0, sizeof(*c));
}
