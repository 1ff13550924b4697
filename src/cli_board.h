/*
 * cli_board: the model and the text of `ftmonctl watch`'s board on a
 * terminal: one line per running job (progress bar, step/total_steps,
 * steps/s, ETA, latest losses, firing alerts) and the last few events
 * under it.  Pure: the caller reads the stream, keeps time and writes to
 * the terminal; this only folds lines into the model and draws it.
 *
 * Every cJSON passed in is borrowed for the call; the board copies what it
 * keeps.
 */
#ifndef FTMON_CLI_BOARD_H
#define FTMON_CLI_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli_views.h"

/* Events kept under the jobs. */
#define CLI_BOARD_EVENTS 5

struct cli_board;

/* only: the one job watched (SOURCE/EXTERNAL_ID, copied), or NULL. */
struct cli_board *cli_board_new(const char *only);
void cli_board_free(struct cli_board *b);

/* Start from a `jobs` result and an `alerts` result (either may be
 * NULL): the jobs running now and their firing alerts. */
void cli_board_seed(struct cli_board *b, const cJSON *jobs, const cJSON *alerts);

/* Fold one stream line (watch.h's shapes) in, seen at now_ms on a
 * monotonic clock (for steps/s).  Returns whether what the board shows
 * changed. */
bool cli_board_apply(struct cli_board *b, const cJSON *ev, uint64_t now_ms);

/* The board at Unix time now, every line within o->width columns (80 when
 * 0), each ending in '\n'.  Returns the number of lines appended. */
int cli_board_render(const struct cli_board *b, int64_t now, const struct cli_views_opts *o,
                     struct buf *out);

#endif
