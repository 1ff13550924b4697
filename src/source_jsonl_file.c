/*
 * source_jsonl_file: one followed file.  A check is stat(path), then
 * (opening it when no descriptor is open) fstat of the descriptor, then a
 * bounded read from the committed offset when the file grew, all through
 * libuv's thread pool so a slow filesystem never stalls the loop.  Each
 * read that holds whole lines is one ingest step: their points, the bad
 * lines and the new offset commit together.  What follows the last newline
 * is not taken: it is read again, whole, once its newline is there.
 *
 * Generations: the descriptor's identity (device, inode) is kept with the
 * offset.  Another file at the path (rotation, replacement) is read to its
 * end through the open descriptor first, then the new one is opened; a
 * file that shrank below the offset (truncated) or a different file than
 * the stored one starts a new generation: offset, line count and implicit
 * step start over.  Points are keyed (job, metric, step), so re-storing
 * the steps a new generation repeats adds nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "metricline.h"
#include "source_jsonl_internal.h"
#include "xmalloc.h"

static void sjl_file_check(struct sjl_file *f);
static void sjl_file_want_read(struct sjl_file *f);

/* ---- lifetime ---- */

static void
sjl_file_maybe_free(struct sjl_file *f)
{
	struct sjl_src *s = f->src;

	if (!f->removing || f->busy || f->ev_open)
		return;
	if (f->fd >= 0) {
		uv_fs_t req;
		uv_fs_close(NULL, &req, f->fd, NULL); /* synchronous: a read-only close */
		uv_fs_req_cleanup(&req);
	}
	free(f->path);
	free(f->glob_job);
	free(f->pos.job);
	free(f->error);
	free(f);
	sjl_src_unref(s);
}

static void
sjl_file_ev_closed_cb(uv_handle_t *h)
{
	struct sjl_file *f = h->data;

	f->ev_open = false;
	sjl_file_maybe_free(f);
}

static void
sjl_file_ev_cb(uv_fs_event_t *h, const char *name, int events, int status)
{
	sjl_file_kick(h->data);
}

struct sjl_file *
sjl_file_new(struct sjl_src *s, const char *path, const char *job)
{
	struct sjl_file *f = xcalloc(1, sizeof(*f));

	f->src = s;
	f->path = xstrdup(path);
	f->glob_job = xstrdup(job);
	f->fd = -1;
	f->slot = -1;
	f->stalled_at = -1;
	f->pos.last_step = -1;
	f->req.data = f;
	if (uv_fs_event_init(s->env->loop, &f->ev) == 0) {
		f->ev.data = f;
		f->ev_open = true;
	}
	TAILQ_INSERT_TAIL(&s->files, f, link);
	s->nfiles++;
	sjl_src_ref(s);
	return f;
}

void
sjl_file_remove(struct sjl_file *f)
{
	struct sjl_src *s = f->src;

	if (f->removing)
		return;
	f->removing = true;
	TAILQ_REMOVE(&s->files, f, link);
	s->nfiles--;
	if (f->waiting) { /* waiting for a reader: no request in flight */
		TAILQ_REMOVE(&s->waiting, f, wait_link);
		f->waiting = false;
		f->busy = false;
	}
	if (f->ev_open)
		uv_close((uv_handle_t *)&f->ev, sjl_file_ev_closed_cb);
	sjl_file_maybe_free(f);
}

void
sjl_file_resync(struct sjl_file *f)
{
	f->have_pos = false; /* pos_epoch no longer matches either */
	f->stalled_at = -1;
	f->skip_from = 0;
}

static void
sjl_file_set_error(struct sjl_file *f, const char *what, int err)
{
	char *msg = xasprintf("%s: %s: %s", f->path, what, uv_strerror(err));

	if (f->error == NULL || strcmp(f->error, msg) != 0)
		log_warn("source %s: %s", f->src->base.name, msg);
	free(f->error);
	f->error = msg;
}

/* The check is over; look again when something arrived meanwhile. */
static void
sjl_file_done(struct sjl_file *f)
{
	f->busy = false;
	if (f->removing || f->src->destroying) {
		if (!f->removing)
			sjl_file_remove(f);
		else
			sjl_file_maybe_free(f);
		return;
	}
	if (f->again) {
		f->again = false;
		sjl_file_check(f);
	}
}

void
sjl_file_kick(struct sjl_file *f)
{
	if (f->removing || f->refused || f->src->destroying)
		return;
	if (f->busy) {
		f->again = true;
		return;
	}
	sjl_file_check(f);
}

static void
sjl_file_close_fd(struct sjl_file *f)
{
	uv_fs_t req;

	uv_fs_close(NULL, &req, f->fd, NULL);
	uv_fs_req_cleanup(&req);
	f->fd = -1;
}

/* ---- position and generations ---- */

static void
sjl_file_load_pos(struct sjl_file *f)
{
	struct sjl_src *s = f->src;
	int rc;

	free(f->pos.job);
	memset(&f->pos, 0, sizeof(f->pos));
	rc = store_file_get(s->env->store, s->base.name, f->path, &f->pos);
	if (rc < 0) {
		if (rc != -ENOENT)
			log_warn("source %s: %s: reading its stored position: %s", s->base.name,
			         f->path, store_errmsg(s->env->store));
		memset(&f->pos, 0, sizeof(f->pos));
		f->pos.dev = f->pos.ino = -1;
		f->pos.last_step = -1;
	}
	f->have_pos = true;
	f->pos_epoch = s->epoch;
}

/* The open descriptor is another file than the position's, or shorter:
 * start over (what a generation resets: offset, line, implicit step and
 * the "job" key; stored points stay). */
static void
sjl_file_position(struct sjl_file *f)
{
	struct sjl_src *s = f->src;

	if (!f->have_pos || f->pos_epoch != s->epoch)
		sjl_file_load_pos(f);
	if (f->pos.dev == f->fd_dev && f->pos.ino == f->fd_ino && f->size >= f->pos.offset)
		return;
	if (f->pos.generation > 0) {
		log_info("source %s: %s was %s; reading it from the start as generation %lld",
		         s->base.name, f->path,
		         f->pos.dev == f->fd_dev && f->pos.ino == f->fd_ino ? "truncated"
		                                                            : "replaced",
		         (long long)f->pos.generation + 1);
		s->generations++;
	}
	free(f->pos.job);
	f->pos = (struct store_file_pos){f->fd_dev, f->fd_ino, f->pos.generation + 1, 0, 0,
	                                 -1,        NULL};
	f->stalled_at = -1;
	f->skip_from = 0;
}

/* ---- one step: the whole lines of a chunk ---- */

struct sjl_step {
	struct sjl_file *f;
	struct store_file_pos np; /* np.job borrowed from f->pos or newjob */
	char *newjob;             /* owned: a "job" key changed the name */
	const char *job;          /* the current job's name */
	int64_t job_id;           /* 0: not resolved in this step */
	uint64_t lines, bad, points;
};

static int
sjl_step_job(struct sjl_step *st, int64_t *id)
{
	struct sjl_src *s = st->f->src;
	int rc;

	if (st->job_id == 0 &&
	    (rc = ingest_job(s->in, s->base.name, st->job, "running", &st->job_id)) < 0)
		return rc;
	*id = st->job_id;
	return 0;
}

static int
sjl_step_bad(struct sjl_step *st, const char *why)
{
	int64_t id;
	int rc = sjl_step_job(st, &id);

	st->bad++;
	return rc < 0 ? rc : ingest_bad_line(st->f->src->in, id, st->np.line, why);
}

static int
sjl_step_status(struct sjl_step *st, int64_t id, const char *status)
{
	struct store_job_info info = STORE_JOB_INFO_INIT;
	struct sjl_src *s = st->f->src;

	info.status = status;
	if (ingest_status_final(status))
		info.finished_at = clock_now(s->env->clock);
	return ingest_job_fields(s->in, id, &info, NULL);
}

static int
sjl_step_good(struct sjl_step *st, const struct metricline *ml)
{
	struct sjl_src *s = st->f->src;
	int64_t id, step = ml->has_step ? ml->step : st->np.last_step + 1;
	int rc;

	if (ml->job && strcmp(ml->job, st->job) != 0) {
		free(st->newjob);
		st->job = st->np.job = st->newjob = xstrdup(ml->job);
		st->job_id = 0;
	}
	if ((rc = sjl_step_job(st, &id)) < 0)
		return rc;
	for (size_t i = 0; i < ml->nmetrics; i++) {
		if ((rc = ingest_point(s->in, id, ml->metrics[i].name, step,
		                       ml->metrics[i].value)) < 0)
			return rc;
		st->points += (uint64_t)rc;
	}
	if (ml->has_step || ml->nmetrics > 0)
		st->np.last_step = step;
	return ml->status ? sjl_step_status(st, id, ml->status) : 0;
}

static int
sjl_step_line(struct sjl_step *st, const char *line, size_t len)
{
	struct metricline *ml = &st->f->src->ml;
	const char *why = NULL;
	int rc;

	st->np.line++;
	st->lines++;
	rc = metricline_parse(ml, line, len, &why);
	if (rc == METRICLINE_BLANK)
		return 0;
	if (rc == METRICLINE_BAD)
		return sjl_step_bad(st, why);
	return sjl_step_good(st, ml);
}

/* Store data[0..n), whole lines only, and the offset end after them.
 * long_first: a line too long to read came before them. */
static int
sjl_step_run(struct sjl_file *f, const char *data, size_t n, int64_t end, bool long_first)
{
	struct sjl_src *s = f->src;
	struct sjl_step st = {.f = f, .np = f->pos};
	const char *p = data, *nl;
	int rc;

	st.job = f->pos.job ? f->pos.job : f->glob_job;
	if ((rc = ingest_begin(s->in)) < 0)
		return rc;
	if (long_first) {
		st.np.line++;
		st.lines++;
		rc = sjl_step_bad(&st, "line longer than 1 MiB");
	}
	while (rc >= 0 && (nl = memchr(p, '\n', (size_t)(data + n - p))) != NULL) {
		rc = sjl_step_line(&st, p, (size_t)(nl - p));
		p = nl + 1;
	}
	st.np.offset = end;
	if (rc >= 0)
		rc = ingest_file_pos(s->in, s->base.name, f->path, &st.np);
	if (rc >= 0)
		rc = ingest_commit(s->in);
	if (rc < 0) {
		ingest_rollback(s->in);
		free(st.newjob);
		return rc;
	}
	if (st.newjob) {
		free(f->pos.job);
		st.np.job = st.newjob;
	}
	f->pos = st.np;
	f->lines += st.lines;
	f->bad += st.bad;
	f->points += st.points;
	s->lines += st.lines;
	s->bad += st.bad;
	s->points += st.points;
	return 0;
}

/* ---- reading ---- */

static void
sjl_slot_release(struct sjl_file *f)
{
	struct sjl_src *s = f->src;
	struct sjl_slot *slot = &s->slots[f->slot];
	struct sjl_file *next;

	if (slot->cap > SJL_CHUNK) { /* grown for one long line: give it back */
		free(slot->buf);
		slot->buf = NULL;
		slot->cap = 0;
	}
	slot->used = false;
	f->slot = -1;
	if ((next = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, next, wait_link);
		next->waiting = false;
		sjl_file_want_read(next);
	}
}

/* What a read brought: whole lines are stored; a chunk without a newline
 * is a line still being written (wait), or longer than the buffer (read
 * it again into the large buffer, and past that skip it as a bad line).
 * Returns 1 when the position moved, 0 when it must wait, or -errno. */
static int
sjl_file_take(struct sjl_file *f, const char *data, size_t n, int64_t base, size_t cap)
{
	const char *nl;
	size_t start = 0;
	bool long_first = false;

	if (f->skip_from > 0) {
		if ((nl = memchr(data, '\n', n)) == NULL) {
			f->skip_from = base + (int64_t)n;
			return n > 0;
		}
		start = (size_t)(nl - data) + 1;
		long_first = true;
	}
	for (nl = data + n; nl > data + start && nl[-1] != '\n'; nl--)
		;
	if (nl == data + start && !long_first) {
		if (n < cap) { /* the end of the file: a partial line waits */
			f->stalled_at = f->size;
			return 0;
		}
		if (cap < SJL_LINEBUF) {
			f->big = true; /* read it again whole, into the large buffer */
			return 1;
		}
		f->skip_from = base + (int64_t)n;
		return 1;
	}
	f->skip_from = 0;
	f->big = false;
	return sjl_step_run(f, data + start, (size_t)(nl - data) - start, base + (nl - data),
	                    long_first) < 0
	               ? -EIO
	               : 1;
}

static void
sjl_read_cb(uv_fs_t *req)
{
	struct sjl_file *f = req->data;
	struct sjl_src *s = f->src;
	ssize_t n = req->result;
	int64_t base = f->skip_from > 0 ? f->skip_from : f->pos.offset;
	size_t cap = s->slots[f->slot].cap;
	int rc = 0;

	uv_fs_req_cleanup(req);
	if (f->removing || s->destroying || f->pos_epoch != s->epoch || !f->have_pos) {
		f->again = !f->removing && !s->destroying; /* resync: look again */
	} else if (n < 0) {
		sjl_file_set_error(f, "read", (int)n);
	} else if ((rc = sjl_file_take(f, s->slots[f->slot].buf, (size_t)n, base, cap)) < 0) {
		sjl_src_error(s, ingest_errmsg(s->in));
	} else {
		s->store_failing_since = 0;
		s->last_read = clock_now(s->env->clock);
		free(f->error);
		f->error = NULL;
		if (rc > 0)
			f->stalled_at = -1;
		if (rc > 0 && (size_t)n == cap) {
			/* A full buffer: more is there.  Read on (after the files
			 * waiting for a reader) without a stat in between: each trip
			 * through the thread pool costs a wake-up on a busy machine. */
			sjl_slot_release(f);
			sjl_file_want_read(f);
			return;
		}
		f->again |= rc > 0; /* moved: look again, the file may have changed */
	}
	sjl_slot_release(f);
	sjl_file_done(f);
}

static void
sjl_file_read(struct sjl_file *f, int slot_index)
{
	struct sjl_slot *slot = &f->src->slots[slot_index];
	int64_t off = f->skip_from > 0 ? f->skip_from : f->pos.offset;
	uv_buf_t b;
	int rc;

	slot->used = true;
	f->slot = slot_index;
	if (slot->buf == NULL || (f->big && slot->cap < SJL_LINEBUF))
		slot->buf = xrealloc(slot->buf, slot->cap = f->big ? SJL_LINEBUF : SJL_CHUNK);
	b = uv_buf_init(slot->buf, (unsigned)slot->cap);
	if ((rc = uv_fs_read(f->src->env->loop, &f->req, f->fd, &b, 1, off, sjl_read_cb)) < 0) {
		sjl_file_set_error(f, "read", rc);
		sjl_slot_release(f);
		sjl_file_done(f);
	}
}

/* Read when a reader is free, else wait in line for one. */
static void
sjl_file_want_read(struct sjl_file *f)
{
	struct sjl_src *s = f->src;

	for (int i = 0; i < SJL_READERS; i++)
		if (!s->slots[i].used) {
			sjl_file_read(f, i);
			return;
		}
	f->waiting = true;
	TAILQ_INSERT_TAIL(&s->waiting, f, wait_link);
}

/* ---- the check: stat, open, fstat ---- */

/* Is the open file, read to its end, done with?  When the path names
 * another file that has data, its writer has moved on; when the path is
 * gone (deleted, or renamed with its successor yet to come), a writer may
 * still append to the open file for a moment, so it is kept a tick. */
static bool
sjl_file_moved_out(struct sjl_file *f)
{
	uint64_t now = clock_monotonic_ms(f->src->env->clock);

	if (f->path_exists && f->path_dev == f->fd_dev && f->path_ino == f->fd_ino) {
		f->moved_since = 0;
		return false;
	}
	if (f->moved_since == 0)
		f->moved_since = now;
	if ((f->path_exists && f->path_size > 0) || now - f->moved_since >= SJL_TICK_MS) {
		f->moved_since = 0;
		return true;
	}
	return false;
}

/* The descriptor's size and identity are known: read, close, or rest. */
static void
sjl_file_decide(struct sjl_file *f)
{
	sjl_file_position(f);
	if (f->skip_from > 0 ? f->size > f->skip_from
	                     : f->size > f->pos.offset && f->size != f->stalled_at) {
		sjl_file_want_read(f); /* busy until the read is over */
		return;
	}
	if (sjl_file_moved_out(f)) {
		sjl_file_close_fd(f);
		f->again |= f->path_exists;
		if (!f->path_exists && !f->seen) { /* deleted, gone from the glob */
			f->busy = false;
			sjl_file_remove(f);
			return;
		}
	}
	sjl_file_done(f);
}

static void
sjl_fstat_cb(uv_fs_t *req)
{
	struct sjl_file *f = req->data;
	int rc = (int)req->result;

	if (rc == 0) {
		f->size = (int64_t)req->statbuf.st_size;
		if (f->opening) {
			f->fd_dev = (int64_t)req->statbuf.st_dev;
			f->fd_ino = (int64_t)req->statbuf.st_ino;
		}
	}
	f->opening = false;
	uv_fs_req_cleanup(req);
	if (f->removing || f->src->destroying) {
		sjl_file_done(f);
	} else if (rc < 0) {
		sjl_file_set_error(f, "fstat", rc);
		sjl_file_close_fd(f);
		sjl_file_done(f);
	} else {
		sjl_file_decide(f);
	}
}

static void
sjl_file_fstat(struct sjl_file *f)
{
	int rc = uv_fs_fstat(f->src->env->loop, &f->req, f->fd, sjl_fstat_cb);

	if (rc < 0) {
		sjl_file_set_error(f, "fstat", rc);
		sjl_file_done(f);
	}
}

static void
sjl_open_cb(uv_fs_t *req)
{
	struct sjl_file *f = req->data;
	int rc = (int)req->result;

	uv_fs_req_cleanup(req);
	if (rc >= 0)
		f->fd = rc;
	if (f->removing || f->src->destroying || rc < 0) {
		if (rc < 0 && rc != UV_ENOENT)
			sjl_file_set_error(f, "open", rc);
		sjl_file_done(f);
		return;
	}
	/* inotify watches an inode: follow the one the path names now. */
	if (f->ev_open) {
		uv_fs_event_stop(&f->ev);
		uv_fs_event_start(&f->ev, sjl_file_ev_cb, f->path, 0);
	}
	f->opening = true;
	sjl_file_fstat(f);
}

static void
sjl_stat_cb(uv_fs_t *req)
{
	struct sjl_file *f = req->data;
	int rc = (int)req->result;

	f->path_exists = rc == 0;
	if (rc == 0) {
		f->path_dev = (int64_t)req->statbuf.st_dev;
		f->path_ino = (int64_t)req->statbuf.st_ino;
		f->path_size = (int64_t)req->statbuf.st_size;
	}
	uv_fs_req_cleanup(req);
	if (f->removing || f->src->destroying) {
		sjl_file_done(f);
	} else if (rc < 0 && rc != UV_ENOENT) {
		sjl_file_set_error(f, "stat", rc);
		sjl_file_done(f);
	} else if (f->fd >= 0) {
		sjl_file_fstat(f);
	} else if (!f->path_exists) {
		sjl_file_done(f); /* deleted: its job and points stay */
	} else if ((rc = uv_fs_open(f->src->env->loop, &f->req, f->path, O_RDONLY | O_CLOEXEC, 0,
	                            sjl_open_cb)) < 0) {
		sjl_file_set_error(f, "open", rc);
		sjl_file_done(f);
	}
}

static void
sjl_file_check(struct sjl_file *f)
{
	int rc;

	f->busy = true;
	if ((rc = uv_fs_stat(f->src->env->loop, &f->req, f->path, sjl_stat_cb)) < 0) {
		sjl_file_set_error(f, "stat", rc);
		sjl_file_done(f);
	}
}
