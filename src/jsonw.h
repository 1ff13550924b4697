/*
 * jsonw: write JSON values as text straight into a buf, byte for byte as
 * cJSON_PrintUnformatted() prints them, for replies too large to build as
 * a cJSON tree first (`jobs` with 10,000 jobs).  Pure: no I/O, no logging.
 * Strings are borrowed; the buf is the caller's.
 */
#ifndef FTMON_JSONW_H
#define FTMON_JSONW_H

#include <stdbool.h>

#include "buf.h"

/* s as a quoted JSON string (NULL prints ""), escaped as cJSON does:
 * \" \\ \b \f \n \r \t, other bytes below 0x20 as \u00xx, the rest raw. */
void jsonw_string(struct buf *b, const char *s);
/* d as cJSON 1.7.15 prints a number: null for NaN and infinities, else
 * %1.15g, or %1.17g when %1.15g does not read back within DBL_EPSILON of d
 * (cJSON's test: values near DBL_MAX pass it with a text that overflows). */
void jsonw_number(struct buf *b, double d);
/* "name": (the key and its colon; a comma before it is the caller's). */
void jsonw_key(struct buf *b, const char *name);
void jsonw_bool(struct buf *b, bool v);

#endif
