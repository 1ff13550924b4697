/*
 * walckpt: the WAL's checkpoints in libuv's thread pool (see walckpt.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <uv.h>

#include "log.h"
#include "store.h"
#include "walckpt.h"
#include "xmalloc.h"

/* The worker's connection: the walckpt's while idle, its job's while one
 * runs, so an orphaned job (walckpt_free) closes it alone. */
struct walckpt_conn {
	sqlite3 *db;  /* NULL until the first checkpoint opens it */
	unsigned gen; /* the store generation it was opened at */
};

/* One checkpoint in flight: the worker reads its inputs and writes its
 * results, the loop reads them in walckpt_after_cb. */
struct walckpt_job {
	uv_work_t req;
	struct walckpt *w;         /* NULL once walckpt_free orphaned the job */
	struct walckpt_conn *conn; /* owned while in flight */
	char *path;                /* owned: the database path */
	unsigned gen;              /* the store generation the path names */
	unsigned epoch;            /* the WAL's, when queued */
	int backfilled;            /* frames known in the main file, when queued */
	int rc, log, ckpt;         /* the worker's results */
	uint64_t us;
	char err[256];
};

struct walckpt {
	uv_loop_t *loop;
	struct store *st;
	uv_timer_t *timer;         /* owned; freed by its close callback */
	struct walckpt_conn *conn; /* owned when no job runs */
	struct walckpt_job *job;   /* in flight, or NULL */
	int limit, hard, tail;
	uint64_t idle_ms;
	int frames;     /* in the WAL after the last commit */
	int backfilled; /* of those, known to be in the main file */
	unsigned epoch; /* bumped when the WAL starts again from its beginning */
	uint64_t commits, tick_commits;
	bool stalled;     /* no progress last time: retry later (walckpt_stall) */
	int stall_at;     /* frames in the WAL when it stalled */
	bool tail_failed; /* the last tail was held back: the worker's turn */
	bool hard_logged; /* the backstop was logged since the WAL restarted */
	bool err_logged;  /* a failure was logged since the last success */
	struct walckpt_stats stats;
};

static void
walckpt_conn_free(struct walckpt_conn *c)
{
	if (c == NULL)
		return;
	sqlite3_close(c->db);
	free(c);
}

/* The worker's own connection, opened (again, for a reopened store) on
 * first use.  READWRITE without CREATE: the store made the file. */
static int
walckpt_connect(struct walckpt_job *j)
{
	struct walckpt_conn *c = j->conn;
	int rc;

	if (c->db && c->gen == j->gen)
		return SQLITE_OK;
	sqlite3_close(c->db);
	c->db = NULL;
	rc = sqlite3_open_v2(j->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(c->db, 1);
		/* Off the loop: waiting on a lock here stalls nothing. */
		sqlite3_busy_timeout(c->db, 1000);
		/* A read opens the WAL, which a checkpoint needs. */
		rc = sqlite3_exec(c->db, "PRAGMA schema_version", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->path,
		         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		c->db = NULL;
		return rc;
	}
	c->gen = j->gen;
	return SQLITE_OK;
}

/* In the thread pool: touches only the job. */
static void
walckpt_work_cb(uv_work_t *req)
{
	struct walckpt_job *j = req->data;
	uint64_t t0 = uv_hrtime();

	j->log = j->ckpt = -1;
	if ((j->rc = walckpt_connect(j)) == SQLITE_OK) {
		j->rc = sqlite3_wal_checkpoint_v2(j->conn->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		                                  &j->log, &j->ckpt);
		if (j->rc != SQLITE_OK)
			snprintf(j->err, sizeof(j->err), "%s", sqlite3_errmsg(j->conn->db));
	}
	j->us = (uv_hrtime() - t0) / 1000;
}

/* Trying again at every commit would find the same reader or failure:
 * again from the timer, or once the WAL grew by another threshold (a
 * reader's snapshot is usually brief, and waiting for the timer under
 * steady writes would let the WAL run into the backstop). */
static void
walckpt_stall(struct walckpt *w)
{
	w->stalled = true;
	w->stall_at = w->frames;
}

static void
walckpt_fail(struct walckpt *w, const char *what, const char *msg)
{
	w->stats.errors++;
	snprintf(w->stats.last_error, sizeof(w->stats.last_error), "%s", msg);
	if (!w->err_logged)
		log_warn("WAL checkpoint (%s) of %s failed: %s; retrying every %llu ms", what,
		         store_path(w->st), msg, (unsigned long long)w->idle_ms);
	w->err_logged = true;
	walckpt_stall(w);
}

static void walckpt_after_cb(uv_work_t *req, int status);

/* Another threshold of frames since the last checkpoint's end: as often
 * as SQLite would have checkpointed, each with its sync (in the worker). */
static bool
walckpt_due(const struct walckpt *w, int frames)
{
	return frames >= w->limit && frames - w->backfilled >= w->limit && !w->stalled;
}

/* Is the WAL long enough, and its unfolded tail short enough, for the
 * hook to fold the tail in on the loop? */
static bool
walckpt_tail_due(const struct walckpt *w, int frames)
{
	return frames >= WALCKPT_TAIL_AT * w->limit && w->backfilled > 0 &&
	       frames > w->backfilled && frames - w->backfilled <= w->tail && !w->stalled &&
	       !w->tail_failed;
}

static void
walckpt_queue(struct walckpt *w)
{
	struct walckpt_job *j = xcalloc(1, sizeof(*j));
	int rc;

	j->w = w;
	j->conn = w->conn ? w->conn : xcalloc(1, sizeof(*j->conn));
	j->path = xstrdup(store_path(w->st));
	j->gen = store_generation(w->st);
	j->epoch = w->epoch;
	j->backfilled = w->backfilled;
	j->req.data = j;
	w->conn = j->conn;
	if ((rc = uv_queue_work(w->loop, &j->req, walckpt_work_cb, walckpt_after_cb)) < 0) {
		walckpt_fail(w, "queue", uv_strerror(rc));
		free(j->path);
		free(j);
		return;
	}
	w->conn = NULL;
	w->job = j;
}

/* The worker's result, on the loop. */
static void
walckpt_account(struct walckpt *w, const struct walckpt_job *j)
{
	struct walckpt_stats *s = &w->stats;

	s->last_us = j->us;
	/* Another checkpoint runs (a reader closing the last connection, the
	 * backstop): not a failure, and not worth an immediate retry. */
	if ((j->rc & 0xff) == SQLITE_BUSY) {
		walckpt_stall(w);
		return;
	}
	if (j->rc != SQLITE_OK) {
		walckpt_fail(w, "worker", j->err);
		return;
	}
	w->err_logged = false;
	s->runs++;
	if (j->ckpt > j->backfilled)
		s->frames += (uint64_t)(j->ckpt - j->backfilled);
	if (j->epoch == w->epoch && j->ckpt > w->backfilled)
		w->backfilled = j->ckpt;
	/* Incomplete without progress: a reader's snapshot holds the rest
	 * back, and trying at every commit would find the same. */
	if (j->ckpt < j->log && j->ckpt <= j->backfilled)
		walckpt_stall(w);
	else
		w->stalled = false;
}

static void
walckpt_after_cb(uv_work_t *req, int status)
{
	struct walckpt_job *j = req->data;
	struct walckpt *w = j->w;

	if (w == NULL) { /* walckpt_free ran meanwhile */
		walckpt_conn_free(j->conn);
		free(j->path);
		free(j);
		return;
	}
	w->job = NULL;
	w->conn = j->conn;
	w->tail_failed = false;
	if (status == 0)
		walckpt_account(w, j);
	free(j->path);
	free(j);
	/* The writer committed meanwhile: fold the rest in now, so the next
	 * write finds a complete checkpoint and starts the WAL again.  A
	 * small rest is left to the next commit's hook (walckpt_tail). */
	if (walckpt_due(w, w->frames) && !walckpt_tail_due(w, w->frames))
		walckpt_queue(w);
}

/* A PASSIVE checkpoint on the writer, from the hook (no transaction is
 * open there); what it folded in is known to be in the main file. */
static int
walckpt_on_loop(struct walckpt *w, const char *what, int *log, int *ckpt)
{
	int rc = store_checkpoint(w->st, log, ckpt);

	if (rc == 0 && *ckpt > w->backfilled)
		w->backfilled = *ckpt;
	else if (rc < 0 && rc != -EBUSY)
		walckpt_fail(w, what, store_errmsg(w->st));
	return rc;
}

/* On the loop, from the hook: fold in the few frames the worker's last
 * checkpoint could not see, so the next write starts the WAL again. */
static void
walckpt_tail(struct walckpt *w)
{
	int log = 0, ckpt = 0, rc;

	w->stats.tails++;
	rc = walckpt_on_loop(w, "tail", &log, &ckpt);
	/* A reader may still hold the tail back: the worker goes on from here
	 * (not another tail at every commit, each with its sync). */
	w->tail_failed = rc < 0 || ckpt < log;
}

/* What SQLite did before, at a much higher mark: a WAL that checkpoints
 * cannot fold in must not grow without bound. */
static void
walckpt_backstop(struct walckpt *w)
{
	int log = 0, ckpt = 0;

	if (!w->hard_logged)
		log_notice("the WAL of %s holds %d frames (checkpoints fail, or a reader holds an "
		           "old snapshot): checkpointing in the commits until it starts again",
		           store_path(w->st), w->frames);
	w->hard_logged = true;
	w->stats.backstops++;
	walckpt_on_loop(w, "backstop", &log, &ckpt);
}

/* After every commit of the store's writer, on the loop. */
static void
walckpt_wal_cb(void *arg, int frames)
{
	struct walckpt *w = arg;

	w->commits++;
	/* The WAL only grows until a write starts it again from frame 1. */
	if (frames < w->frames || frames < w->backfilled) {
		w->epoch++;
		w->backfilled = 0;
		w->hard_logged = false;
	}
	w->frames = frames;
	if (w->stalled && frames >= w->stall_at + w->limit)
		w->stalled = false;
	if (w->job != NULL)
		return;
	if (frames >= w->hard)
		walckpt_backstop(w);
	else if (walckpt_tail_due(w, frames))
		walckpt_tail(w);
	else if (walckpt_due(w, frames))
		walckpt_queue(w);
}

/* Fold in a WAL that stopped growing (and retry a stalled one). */
static void
walckpt_timer_cb(uv_timer_t *t)
{
	struct walckpt *w = t->data;
	bool idle = w->commits == w->tick_commits;

	w->tick_commits = w->commits;
	if (w->job != NULL || w->frames <= w->backfilled || !(idle || w->stalled))
		return;
	w->stalled = false;
	walckpt_queue(w);
}

struct walckpt *
walckpt_new(uv_loop_t *loop, struct store *st)
{
	struct walckpt *w = xcalloc(1, sizeof(*w));

	w->loop = loop;
	w->st = st;
	w->limit = WALCKPT_FRAMES;
	w->hard = WALCKPT_HARD_FRAMES;
	w->tail = WALCKPT_TAIL_FRAMES;
	w->idle_ms = WALCKPT_IDLE_MS;
	w->timer = xmalloc(sizeof(*w->timer));
	uv_timer_init(loop, w->timer);
	w->timer->data = w;
	uv_timer_start(w->timer, walckpt_timer_cb, w->idle_ms, w->idle_ms);
	uv_unref((uv_handle_t *)w->timer);
	store_set_wal_hook(st, walckpt_wal_cb, w);
	return w;
}

static void
walckpt_timer_close_cb(uv_handle_t *h)
{
	free(h);
}

void
walckpt_free(struct walckpt *w)
{
	if (w == NULL)
		return;
	store_set_wal_hook(w->st, NULL, NULL);
	uv_close((uv_handle_t *)w->timer, walckpt_timer_close_cb);
	if (w->job != NULL) {
		w->job->w = NULL;
		uv_cancel((uv_req_t *)&w->job->req);
	}
	walckpt_conn_free(w->conn);
	free(w);
}

void
walckpt_stats(const struct walckpt *w, struct walckpt_stats *out)
{
	*out = w->stats;
	out->wal_frames = w->frames;
	out->running = w->job != NULL;
}

void
walckpt_set_limits(struct walckpt *w, int frames, int hard_frames, int tail_frames,
                   uint64_t idle_ms)
{
	if (tail_frames > 0)
		w->tail = tail_frames;
	if (frames > 0)
		w->limit = frames;
	if (hard_frames > 0)
		w->hard = hard_frames;
	if (idle_ms > 0) {
		w->idle_ms = idle_ms;
		uv_timer_start(w->timer, walckpt_timer_cb, idle_ms, idle_ms);
	}
}
