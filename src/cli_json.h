/*
 * cli_json: reading the daemon's results, for ftmonctl.  Lookups that
 * tolerate a missing or mistyped member (an older or newer daemon), and the
 * display text of a value.  Pure: no I/O.
 *
 * Every pointer returned is borrowed from the cJSON tree passed in, or is
 * the caller's buf; nothing is allocated for the caller to free.
 */
#ifndef FTMON_CLI_JSON_H
#define FTMON_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* Member key of obj; NULL when obj is not an object or has no such key. */
const cJSON *cli_json_get(const cJSON *obj, const char *key);
/* The string value of member key, or NULL. */
const char *cli_json_str(const cJSON *obj, const char *key);
/* Sets *out to the number value of member key and returns true, or returns
 * false (leaving *out alone) when it is missing or not a number. */
bool cli_json_num(const cJSON *obj, const char *key, double *out);

/* A value as display text: "-" for missing or null, "yes"/"no" for
 * booleans, integers without a fraction, other numbers as render_number,
 * arrays and objects as compact JSON.  Returns buf or the value's own
 * string. */
const char *cli_json_fmt(const cJSON *v, char *buf, size_t size);

/* Append the "name=value" pairs of a flat object to out, space separated
 * (a null member prints as "name=nan": a null metric is a NaN). */
void cli_json_pairs(const cJSON *obj, struct buf *out);

#endif
