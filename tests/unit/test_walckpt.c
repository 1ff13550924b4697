/*
 * test_walckpt: the WAL's checkpoints off the loop, on a real file and a
 * real loop.  The store's WAL hook replaces SQLite's checkpoint inside
 * the commit (the main file does not change while the WAL passes the
 * threshold) and survives a reopen; the worker's checkpoints keep the WAL
 * reused and bounded, also after the file was deleted and reopened; the
 * idle timer folds a small WAL in; walckpt_free with a checkpoint in
 * flight is clean; and a reader's old snapshot makes the hook run the
 * on-loop backstop at the hard limit without losing a row.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "store.h"
#include "tap.h"
#include "testdb.h"
#include "walckpt.h"
#include "xmalloc.h"

#define TEST_ROWS_PER_TXN 100 /* a page each: about 100 WAL frames a commit */
#define TEST_WAIT_MS      10000

static char test_dir[] = "/tmp/ftmon-test-walckpt.XXXXXX";
static uv_loop_t test_loop;

static int64_t
test_file_size(const char *path, const char *suffix)
{
	char *f = xasprintf("%s%s", path, suffix);
	struct stat sb;
	int64_t size = stat(f, &sb) == 0 ? (int64_t)sb.st_size : -1;

	free(f);
	return size;
}

/* n rows of a page each in one store transaction. */
static int
test_fill(struct store *st, int n)
{
	char *sql = xasprintf("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c"
	                      " WHERE i < %d) INSERT INTO t (b) SELECT randomblob(3000) FROM c",
	                      n);
	int rc = store_begin(st);

	if (rc == 0 && sqlite3_exec(store_db(st), sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = -EIO;
	free(sql);
	if (rc < 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st);
}

static struct store *
test_open(const char *name, char **path)
{
	char *err = NULL;
	struct store *st;

	*path = xasprintf("%s/%s", test_dir, name);
	if ((st = store_open(*path, &err)) == NULL) {
		TAP_DIAG("store_open: %s", err);
		free(err);
		return NULL;
	}
	sqlite3_exec(store_db(st), "CREATE TABLE t (b BLOB)", NULL, NULL, NULL);
	return st;
}

static void
test_remove(char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};

	for (size_t i = 0; i < 3; i++) {
		char *f = xasprintf("%s%s", path, suffix[i]);
		unlink(f);
		free(f);
	}
	free(path);
}

static void
test_wake_cb(uv_timer_t *t)
{
	(void)t;
}

/* Run the loop until done(w) or the deadline: whether done.  The wakeup
 * timer keeps the loop alive unless told not to (draining). */
static bool
test_run_until_ref(struct walckpt *w, bool (*done)(struct walckpt *w), uint64_t ms, bool ref)
{
	uv_timer_t wake;
	uint64_t deadline = uv_now(&test_loop) + ms;
	bool ok;

	uv_timer_init(&test_loop, &wake);
	uv_timer_start(&wake, test_wake_cb, 5, 5);
	if (!ref)
		uv_unref((uv_handle_t *)&wake);
	while (!(ok = done(w)) && uv_now(&test_loop) < deadline)
		uv_run(&test_loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wake, NULL);
	uv_run(&test_loop, UV_RUN_NOWAIT);
	return ok;
}

static bool
test_run_until(struct walckpt *w, bool (*done)(struct walckpt *w), uint64_t ms)
{
	return test_run_until_ref(w, done, ms, true);
}

/* Until nothing but the wakeup is left on the loop. */
static bool
test_loop_done(struct walckpt *w)
{
	(void)w;
	return !uv_loop_alive(&test_loop);
}

static bool
test_drain(void)
{
	return test_run_until_ref(NULL, test_loop_done, TEST_WAIT_MS, false);
}

static bool
test_idle(struct walckpt *w)
{
	struct walckpt_stats s;

	walckpt_stats(w, &s);
	return !s.running;
}

static struct walckpt_stats
test_stats(struct walckpt *w)
{
	struct walckpt_stats s;

	walckpt_stats(w, &s);
	return s;
}

/* ntxn transactions, the loop running after each until no checkpoint is
 * in flight (a daemon's commits come with gaps).  The WAL file's largest
 * size goes to *wal_max. */
static int
test_fill_run(struct walckpt *w, struct store *st, const char *path, int ntxn, int64_t *wal_max)
{
	for (int i = 0; i < ntxn; i++) {
		int rc = test_fill(st, TEST_ROWS_PER_TXN);
		if (rc < 0)
			return rc;
		if (!test_run_until(w, test_idle, TEST_WAIT_MS))
			return -ETIMEDOUT;
		if (test_file_size(path, "-wal") > *wal_max)
			*wal_max = test_file_size(path, "-wal");
	}
	return 0;
}

/* ---- the store's hook alone ---- */

struct test_hook {
	int calls, max_frames;
};

static void
test_hook_cb(void *arg, int frames)
{
	struct test_hook *h = arg;

	h->calls++;
	if (frames > h->max_frames)
		h->max_frames = frames;
}

static void
test_store_hook(void)
{
	struct test_hook h = {0};
	char *path;
	struct store *st = test_open("hook.db", &path);
	int64_t size;
	int log, ckpt, rc = 0;
	char *err = NULL;

	if (!ok(st != NULL, "a store on a file"))
		return;
	is_int(store_checkpoint(st, &log, &ckpt), 0, "store_checkpoint on the writer");
	ok(log >= 0 && ckpt == log, "it folds the whole WAL in (%d of %d)", ckpt, log);
	size = test_file_size(path, "");
	store_set_wal_hook(st, test_hook_cb, &h);
	for (int i = 0; i < 15 && rc == 0; i++)
		rc = test_fill(st, TEST_ROWS_PER_TXN);
	is_int(rc, 0, "15 commits of 100 pages");
	is_int(h.calls, 15, "the hook ran after each commit");
	ok(h.max_frames > WALCKPT_FRAMES, "it saw the WAL pass %d frames (%d)", WALCKPT_FRAMES,
	   h.max_frames);
	is_int(test_file_size(path, ""), size,
	       "no commit checkpointed: the main file did not change");

	is_int(store_reopen(st, &err), 0, "reopened");
	free(err);
	size = test_file_size(path, "");
	h = (struct test_hook){0};
	for (int i = 0; i < 12 && rc == 0; i++)
		rc = test_fill(st, TEST_ROWS_PER_TXN);
	ok(rc == 0 && h.calls == 12 && h.max_frames > WALCKPT_FRAMES,
	   "the hook survives store_reopen (%d calls, %d frames)", h.calls, h.max_frames);
	is_int(test_file_size(path, ""), size, "and still no commit checkpoints");

	store_set_wal_hook(st, NULL, NULL);
	h = (struct test_hook){0};
	for (int i = 0; i < 12 && rc == 0; i++)
		rc = test_fill(st, TEST_ROWS_PER_TXN);
	ok(rc == 0 && h.calls == 0, "the hook is gone");
	ok(test_file_size(path, "") > size, "SQLite's own checkpoint is back");
	is_int(sql_int(st, "SELECT count(*) FROM t"), 39 * TEST_ROWS_PER_TXN, "every row is there");
	store_close(st);
	test_remove(path);
}

/* ---- the worker ---- */

static uint64_t test_runs_goal;

static bool
test_ran_enough(struct walckpt *w)
{
	return test_stats(w).runs >= test_runs_goal;
}

static void
test_worker(void)
{
	char *path, *err = NULL;
	struct store *st = test_open("worker.db", &path);
	struct walckpt *w;
	struct walckpt_stats s;
	int64_t page, wal_max = 0;
	uint64_t runs, frames;

	if (!ok(st != NULL, "a store on a file"))
		return;
	page = sql_int(st, "PRAGMA page_size");
	w = walckpt_new(&test_loop, st);
	is_int(test_fill_run(w, st, path, 40, &wal_max), 0,
	       "40 commits of 100 pages with the loop running");
	s = test_stats(w);
	is_int(s.backstops, 0, "no checkpoint ran on the loop");
	ok(s.runs >= 3, "the worker checkpointed (%llu times)", (unsigned long long)s.runs);
	ok(s.frames >= 3 * WALCKPT_FRAMES, "and copied the frames (%llu)",
	   (unsigned long long)s.frames);
	is_int(s.errors, 0, "without an error");
	ok(wal_max < 2 * WALCKPT_FRAMES * page, "the WAL file is reused: at most %lld bytes",
	   (long long)wal_max);
	is_int(sql_int(st, "SELECT count(*) FROM t"), 40 * TEST_ROWS_PER_TXN, "every row is there");

	/* Nothing above the threshold: the idle timer folds it in. */
	walckpt_set_limits(w, 0, 0, 0, 50);
	runs = s.runs;
	frames = s.frames;
	is_int(test_fill(st, 50), 0, "50 more pages");
	test_runs_goal = runs + 1;
	ok(test_run_until(w, test_ran_enough, TEST_WAIT_MS), "the idle timer checkpointed");
	s = test_stats(w);
	ok(s.runs > runs && s.frames >= frames + 50, "the 50 pages were copied (%llu frames)",
	   (unsigned long long)(s.frames - frames));

	/* Deleted under the store: the worker must follow the new file. */
	unlink(path);
	is_int(store_reopen(st, &err), 0, "the file was deleted, the store reopened it");
	free(err);
	sqlite3_exec(store_db(st), "CREATE TABLE t (b BLOB)", NULL, NULL, NULL);
	runs = s.runs;
	wal_max = 0;
	is_int(test_fill_run(w, st, path, 25, &wal_max), 0, "25 commits to the new file");
	s = test_stats(w);
	ok(s.runs > runs && s.backstops == 0, "checkpointed by the worker (%llu times)",
	   (unsigned long long)(s.runs - runs));
	ok(wal_max < 2 * WALCKPT_FRAMES * page, "the new file's WAL is reused: at most %lld bytes",
	   (long long)wal_max);
	is_int(sql_int(st, "SELECT count(*) FROM t"), 25 * TEST_ROWS_PER_TXN,
	       "every row is in the new file");

	walckpt_free(w);
	store_close(st);
	test_remove(path);
}

static void
test_free_in_flight(void)
{
	char *path;
	struct store *st = test_open("free.db", &path);
	struct walckpt *w;

	if (!ok(st != NULL, "a store on a file"))
		return;
	w = walckpt_new(&test_loop, st);
	walckpt_set_limits(w, TEST_ROWS_PER_TXN, 0, 0, 0);
	is_int(test_fill(st, 2 * TEST_ROWS_PER_TXN), 0, "200 pages committed");
	ok(test_stats(w).running, "a checkpoint is in flight");
	walckpt_free(w);
	is_int(test_fill(st, TEST_ROWS_PER_TXN), 0, "the store still writes");
	ok(test_drain(), "the loop drains the checkpoint and the timer");
	is_int(sql_int(st, "SELECT count(*) FROM t"), 3 * TEST_ROWS_PER_TXN, "every row is there");
	store_close(st);
	test_remove(path);
}

/*
 * Steady writes: the loop never waits for the worker, so every worker
 * checkpoint ends with frames it could not see, and without the tail
 * folded in on the loop the WAL would never start again and would grow to
 * the hard limit (the backstop).  It must start again, stay bounded and
 * keep every row.
 */
static void
test_steady(void)
{
	char *path;
	struct store *st = test_open("steady.db", &path);
	struct walckpt *w;
	struct walckpt_stats s;
	int rc = 0, max_frames = 0, restarts = 0, last = 0;

	if (!ok(st != NULL, "a store on a file"))
		return;
	w = walckpt_new(&test_loop, st);
	walckpt_set_limits(w, 200, 6000, 3000, 0);
	for (int i = 0; i < 2400 && rc == 0; i++) {
		rc = test_fill(st, 5);
		uv_run(&test_loop, UV_RUN_NOWAIT);
		s = test_stats(w);
		if (s.wal_frames < last)
			restarts++;
		last = s.wal_frames;
		if (s.wal_frames > max_frames)
			max_frames = s.wal_frames;
	}
	is_int(rc, 0, "2400 commits, the loop never waiting for the worker");
	s = test_stats(w);
	is_int(s.backstops, 0, "the backstop never ran");
	ok(restarts >= 2, "the WAL started again %d times", restarts);
	ok(max_frames < 6000, "the WAL stayed below the hard limit (at most %d frames)",
	   max_frames);
	TAP_DIAG("worker checkpoints %llu, tails folded in on the loop %llu",
	         (unsigned long long)s.runs, (unsigned long long)s.tails);
	is_int(s.errors, 0, "no checkpoint failed");
	is_int(sql_int(st, "SELECT count(*) FROM t"), 2400 * 5, "every row is there");
	walckpt_free(w);
	ok(test_drain(), "the loop drains");
	store_close(st);
	test_remove(path);
}

/* A reader's snapshot keeps PASSIVE from completing: the backstop. */
static void
test_backstop(void)
{
	char *path, *err = NULL;
	struct store *st = test_open("backstop.db", &path);
	struct walckpt *w;
	struct walckpt_stats s;
	sqlite3 *reader = NULL;
	int64_t wal_max = 0, before, seen = -1;
	sqlite3_stmt *q = NULL;
	int rc, extra = 0;

	if (!ok(st != NULL, "a store on a file"))
		return;
	w = walckpt_new(&test_loop, st);
	walckpt_set_limits(w, 100, 400, 0, 0);
	is_int(test_fill(st, 50), 0, "50 pages");
	before = sql_int(st, "SELECT count(*) FROM t");
	rc = sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(reader, "SELECT count(*) FROM t", -1, &q, NULL);
	if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		seen = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	is_int(seen, before, "a reader holds a snapshot");

	is_int(test_fill_run(w, st, path, 8, &wal_max), 0, "8 commits of 100 pages");
	s = test_stats(w);
	ok(s.backstops > 0, "the hook checkpointed on the loop at the hard limit (%llu times)",
	   (unsigned long long)s.backstops);
	ok(s.wal_frames > 400, "the WAL could not start again (%d frames)", s.wal_frames);
	seen = -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		seen = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	is_int(seen, before, "the reader still sees its snapshot");
	is_int(sql_int(st, "SELECT count(*) FROM t"), before + 8 * TEST_ROWS_PER_TXN,
	       "the writer sees every row");
	sqlite3_finalize(q);
	sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(reader);

	for (; extra < 4 && test_stats(w).wal_frames > 400; extra++)
		test_fill_run(w, st, path, 1, &wal_max);
	s = test_stats(w);
	ok(s.wal_frames <= 400, "the reader gone, the WAL starts again (%d frames)", s.wal_frames);
	is_int(s.errors, 0, "no checkpoint failed");
	walckpt_free(w);
	store_close(st);

	st = store_open(path, &err);
	ok(st && sql_int(st, "SELECT count(*) FROM t") == before + (8 + extra) * TEST_ROWS_PER_TXN,
	   "reopened, the file has every row");
	free(err);
	store_close(st);
	test_remove(path);
}

int
main(void)
{
	if (mkdtemp(test_dir) == NULL) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	uv_loop_init(&test_loop);
	test_store_hook();
	test_worker();
	test_free_in_flight();
	test_steady();
	test_backstop();
	ok(test_drain(), "nothing left on the loop");
	is_int(uv_loop_close(&test_loop), 0, "the loop closes");
	rmdir(test_dir);
	return tap_done();
}
