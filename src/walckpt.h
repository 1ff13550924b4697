/*
 * walckpt: the database's WAL checkpoints, off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the commit that takes the WAL
 * past 1000 frames, on the loop, with a disk sync: the whole loop stalls.
 * walckpt takes the store's WAL hook instead (store_set_wal_hook, which
 * turns the automatic checkpoint off) and, when the WAL reaches
 * WALCKPT_FRAMES, runs one PASSIVE checkpoint at a time in libuv's thread
 * pool on a connection of its own to the same path (opened again when the
 * store was reopened).  PASSIVE never waits for the writer or readers: it
 * copies what it can, and the next write after a complete one starts the
 * WAL again from its beginning.
 *
 * A timer checkpoints a WAL that stopped growing below the threshold, so
 * an idle daemon's WAL is folded into the main file too.  Should the WAL
 * still reach WALCKPT_HARD_FRAMES (checkpoints failing, or a reader's old
 * snapshot holding them back), the hook checkpoints on the loop as SQLite
 * did, and says so once in the log.  When the worker has left only a tail
 * of at most WALCKPT_TAIL_FRAMES, the hook folds that in on the loop.
 *
 * Runs on the loop's thread; only the checkpoint itself runs in the
 * worker, which never logs: failures are counted, kept as text and logged
 * from the loop.
 */
#ifndef FTMON_WALCKPT_H
#define FTMON_WALCKPT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "store.h"

#define WALCKPT_FRAMES      1000 /* SQLite's default threshold */
#define WALCKPT_HARD_FRAMES (16 * WALCKPT_FRAMES)
#define WALCKPT_IDLE_MS     2000 /* no commit for this long: fold the WAL in */
/* A worker checkpoint copies what the WAL held when it began; under steady
 * writes the frames committed meanwhile stay, and the WAL cannot start
 * again until they are in.  Once the WAL holds WALCKPT_TAIL_AT thresholds,
 * a tail this small is folded in by the hook on the loop (what SQLite did
 * for the whole WAL), and the next write starts the WAL from its
 * beginning: each costs a sync on the loop, so not every threshold. */
#define WALCKPT_TAIL_FRAMES 512
#define WALCKPT_TAIL_AT     4

struct walckpt;

struct walckpt_stats {
	uint64_t runs;        /* checkpoints the worker completed */
	uint64_t frames;      /* WAL frames they copied into the main file */
	uint64_t last_us;     /* how long the last one took, in microseconds */
	uint64_t errors;      /* failed checkpoints (worker or backstop) */
	uint64_t backstops;   /* checkpoints run on the loop at the hard limit */
	uint64_t tails;       /* small tails folded in on the loop after the worker */
	int wal_frames;       /* frames in the WAL after the last commit */
	bool running;         /* a checkpoint is in flight */
	char last_error[256]; /* the last failure's message, "" before any */
};

/* Take st's WAL hook and start the idle timer (unref'd).  loop and st are
 * borrowed: st must outlive the walckpt. */
struct walckpt *walckpt_new(uv_loop_t *loop, struct store *st);
/* NULL is fine.  Gives the WAL hook back to SQLite's automatic checkpoint
 * and frees at once; store_close is safe right after.  A checkpoint in
 * flight (on its own connection, needing nothing of st) is cancelled or
 * finishes alone and closes that connection in its after-work callback,
 * and the timer closes: run the loop until they did (uv_run drains them)
 * before uv_loop_close. */
void walckpt_free(struct walckpt *w);
void walckpt_stats(const struct walckpt *w, struct walckpt_stats *out);
/* Tests: other thresholds and idle interval (0 keeps a value). */
void walckpt_set_limits(struct walckpt *w, int frames, int hard_frames, int tail_frames,
                        uint64_t idle_ms);

#endif
