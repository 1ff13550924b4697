/*
 * csv: an RFC 4180 record reader over a buffer.  Fields may be quoted
 * ("a,b", "say ""hi"""); records end at LF, CRLF or a lone CR, and a quoted
 * field may span lines.  Like most readers it is lenient where the RFC is
 * silent: a quote inside an unquoted field is a literal quote, and text
 * after a closing quote is appended to the field.  Limits bound what one
 * record may cost: past max_fields fields or max_field_len bytes in a field
 * the record is still read to its end (so the next one starts in the right
 * place) but marked overflowed and its fields are not all kept.
 *
 * Pure: no I/O, no logging.  The struct is public only so that it can live
 * on the stack; use the functions.
 */
#ifndef FTMON_CSV_H
#define FTMON_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct csv_limits {
	size_t max_fields;    /* per record, at least 1 */
	size_t max_field_len; /* bytes per field, after unquoting */
};

struct csv {
	const char *p, *end; /* borrowed input, not NUL-terminated */
	struct csv_limits lim;
	struct buf text; /* fields of the current record, NUL-separated */
	size_t *off;     /* start of each field in text */
	size_t n, cap;
	size_t field_len; /* bytes of the current field, stored or not */
	bool overflow;
};

/* Read from data[0..len); data must outlive the reader. */
void csv_init(struct csv *c, const char *data, size_t len, const struct csv_limits *lim);
/* Read the next record; false at the end of the input. */
bool csv_next(struct csv *c);
/* Fields of the current record (a blank line has one empty field). */
size_t csv_nfields(const struct csv *c);
/* Field i (< csv_nfields), NUL-terminated, unquoted.  Points into the reader
 * and may be modified in place; valid until the next csv_next or csv_free. */
char *csv_field(struct csv *c, size_t i);
/* An empty line: one empty field, no quotes. */
bool csv_blank(const struct csv *c);
/* The current record exceeded a limit. */
bool csv_overflow(const struct csv *c);
void csv_free(struct csv *c);

#endif
