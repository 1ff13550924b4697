/*
 * jsonw: JSON text into a buf.  The output matches cJSON 1.7's printer so
 * a reply written here and one printed from a tree are the same bytes; the
 * gain is no tree (a malloc per value), no strlen over what was printed and
 * integers without printf.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

void
jsonw_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p);
	char *o;

	/* Room for the worst case (every byte \u00xx) once, then write
	 * straight into the buffer: a call per byte was the cost. */
	buf_reserve(b, 6 * len + 2);
	o = b->data + b->len;
	*o++ = '"';
	for (; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\') {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '\\';
		switch (*p) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t)(o - b->data);
}

/* cJSON's read-back test: equal within one DBL_EPSILON of the larger. */
static bool
jsonw_close(double a, double c)
{
	double max = fabs(a) > fabs(c) ? fabs(a) : fabs(c);
	return fabs(a - c) <= max * DBL_EPSILON;
}

/* v as decimal digits, without printf (|v| < 10^15 here). */
static void
jsonw_int(struct buf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
jsonw_number(struct buf *b, double d)
{
	char tmp[32];
	int n;

	if (isnan(d) || isinf(d)) {
		buf_append(b, "null", 4);
		return;
	}
	/* %1.15g prints an integral value below 10^15 as its plain digits
	 * (and reads back exactly): write those without printf.  -0 stays
	 * with printf ("-0"). */
	if (fabs(d) < 1e15 && d == (double)(int64_t)d && !(d == 0 && signbit(d))) {
		jsonw_int(b, (int64_t)d);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%1.15g", d);
	if (!jsonw_close(strtod(tmp, NULL), d))
		n = snprintf(tmp, sizeof(tmp), "%1.17g", d);
	buf_append(b, tmp, (size_t)n);
}

void
jsonw_key(struct buf *b, const char *name)
{
	jsonw_string(b, name);
	buf_append(b, ":", 1);
}

void
jsonw_bool(struct buf *b, bool v)
{
	if (v)
		buf_append(b, "true", 4);
	else
		buf_append(b, "false", 5);
}
