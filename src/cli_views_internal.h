/*
 * cli_views_internal: what cli_views.c and cli_views_status.c share.  Not
 * an interface for anything outside the views.
 */
#ifndef FTMON_CLI_VIEWS_INTERNAL_H
#define FTMON_CLI_VIEWS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cli_views.h"

struct render_table;

/* A Unix time as RFC 3339, relative ("12s ago"), or both. */
enum cli_views_time_style { CLI_VIEWS_ABS, CLI_VIEWS_REL, CLI_VIEWS_BOTH };

/* v (a number of Unix seconds) in style, into buf; other values as JSON. */
const char *cli_views_time(const cJSON *v, int64_t now, enum cli_views_time_style style, char *buf,
                           size_t size);
/* "10:42:07Z" when t falls on now's UTC day, else the full RFC 3339 time. */
const char *cli_views_clock(double t, int64_t now, char *buf, size_t size);
/* o, or the plain options (no width, colour or UTF-8) for NULL. */
const struct cli_views_opts *cli_views_o(const struct cli_views_opts *o);
/* A status or health cell: "● running" (the dot with utf8), coloured. */
void cli_views_status_cell(struct render_table *t, const char *text, const char *status,
                           const struct cli_views_opts *o);

#endif
