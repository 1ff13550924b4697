/*
 * source_jsonl: the ops of a jsonl source, its glob and the directories it
 * watches, and status.  The glob runs in libuv's thread pool (glob(3) and
 * the stats behind it block on a slow filesystem); it is run at start,
 * when a watched directory changes and every `rescan` (the fallback for
 * filesystems without inotify, such as NFS).  Each match is followed by
 * source_jsonl_file.c; a timer stats every file each SJL_TICK_MS as the
 * fallback for its own inotify watch.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "clock.h"
#include "conf.h"
#include "jobname.h"
#include "log.h"
#include "source_jsonl.h"
#include "source_jsonl_internal.h"
#include "xmalloc.h"

/* A glob in the thread pool and what it found (owned until merged). */
struct sjl_glob {
	uv_work_t req;
	struct sjl_src *src;
	char *pattern;
	char **files, **dirs;
	size_t nfiles, ndirs;
};

static void sjl_glob_start(struct sjl_src *s);

/* ---- lifetime ---- */

void
sjl_src_ref(struct sjl_src *s)
{
	s->refs++;
}

void
sjl_src_unref(struct sjl_src *s)
{
	if (--s->refs > 0)
		return;
	for (int i = 0; i < SJL_READERS; i++)
		free(s->slots[i].buf);
	metricline_free(&s->ml);
	free(s->pattern);
	free(s->last_error);
	free(s->base.name);
	free(s);
}

static void
sjl_handle_closed_cb(uv_handle_t *h)
{
	sjl_src_unref(h->data);
}

void
sjl_src_error(struct sjl_src *s, const char *msg)
{
	int64_t now = clock_now(s->env->clock);

	if (s->store_failing_since == 0)
		s->store_failing_since = now;
	if (s->last_error == NULL || strcmp(s->last_error, msg) != 0)
		log_err("source %s: storing lines: %s", s->base.name, msg);
	free(s->last_error);
	s->last_error = xstrdup(msg);
	s->last_error_at = now;
}

/* ---- the glob (thread pool) ---- */

static void
sjl_glob_add(char ***v, size_t *n, const char *path)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(path);
}

/* Every path matching pattern whose type is want (S_IFREG, S_IFDIR). */
static void
sjl_glob_collect(const char *pattern, mode_t want, char ***v, size_t *n, size_t max)
{
	glob_t g;
	struct stat st;

	if (glob(pattern, want == S_IFDIR ? GLOB_ONLYDIR : 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc && *n < max; i++)
		if (stat(g.gl_pathv[i], &st) == 0 && (st.st_mode & S_IFMT) == want)
			sjl_glob_add(v, n, g.gl_pathv[i]);
	globfree(&g);
}

/* The directories to watch: the last one of the pattern without a
 * wildcard, and each prefix of the directory part from the first wildcard
 * on, expanded, so that a new run directory and a new file in it are both
 * seen at once. */
static void
sjl_glob_dirs(struct sjl_glob *w)
{
	char *d = xstrdup(w->pattern), *slash = strrchr(d, '/'), *ls;
	size_t lit;

	if (slash == NULL || slash == d) {
		sjl_glob_collect(slash ? "/" : ".", S_IFDIR, &w->dirs, &w->ndirs, SJL_MAX_DIRS);
		free(d);
		return;
	}
	*slash = '\0';
	lit = strcspn(d, "*?[");
	if (d[lit] != '\0') {
		for (ls = d + lit; ls > d && *ls != '/'; ls--)
			;
		*ls = '\0';
		sjl_glob_collect(ls == d ? "/" : d, S_IFDIR, &w->dirs, &w->ndirs, SJL_MAX_DIRS);
		*ls = '/';
	}
	for (char *p = d + lit;; p++) {
		char save = *p;
		if (save != '/' && save != '\0')
			continue;
		*p = '\0';
		sjl_glob_collect(d, S_IFDIR, &w->dirs, &w->ndirs, SJL_MAX_DIRS);
		*p = save;
		if (save == '\0')
			break;
	}
	free(d);
}

static void
sjl_glob_work_cb(uv_work_t *req)
{
	struct sjl_glob *w = req->data;

	sjl_glob_collect(w->pattern, S_IFREG, &w->files, &w->nfiles, SIZE_MAX);
	sjl_glob_dirs(w);
}

static struct sjl_file *
sjl_find_file(struct sjl_src *s, const char *path)
{
	struct sjl_file *f;

	TAILQ_FOREACH(f, &s->files, link)
	if (strcmp(f->path, path) == 0)
		return f;
	return NULL;
}

/* A new match: followed when its wildcards name an acceptable job, else
 * kept unfollowed so `status` says why. */
static void
sjl_add_file(struct sjl_src *s, const char *path)
{
	char *job = jobname_from_glob(s->pattern, path);
	const char *why = job ? jobname_check(job) : "not a match of the glob";
	struct sjl_file *f = sjl_file_new(s, path, why ? "" : job);

	f->seen = true;
	if (why) {
		f->refused = true;
		f->error = xasprintf("%s: cannot follow: %s", path, why);
		log_warn("source %s: %s", s->base.name, f->error);
	} else {
		log_info("source %s: following %s as job %s", s->base.name, path, job);
		sjl_file_kick(f);
	}
	free(job);
}

/* Files gone from the glob are dropped once read to their end (a renamed
 * file's descriptor is read out first); their jobs and points stay. */
static void
sjl_merge_files(struct sjl_src *s, struct sjl_glob *w)
{
	struct sjl_file *f, *next;

	TAILQ_FOREACH(f, &s->files, link)
	f->seen = false;
	for (size_t i = 0; i < w->nfiles; i++) {
		if ((f = sjl_find_file(s, w->files[i])) != NULL)
			f->seen = true;
		else
			sjl_add_file(s, w->files[i]);
	}
	for (f = TAILQ_FIRST(&s->files); f != NULL; f = next) {
		next = TAILQ_NEXT(f, link);
		if (f->seen)
			continue;
		if (f->busy || f->fd >= 0)
			sjl_file_kick(f);
		else
			sjl_file_remove(f);
	}
}

static void
sjl_dir_closed_cb(uv_handle_t *h)
{
	struct sjl_dir *d = h->data;
	struct sjl_src *s = d->src;

	free(d->path);
	free(d);
	sjl_src_unref(s);
}

static void
sjl_dir_remove(struct sjl_dir *d)
{
	LIST_REMOVE(d, link);
	d->src->ndirs--;
	uv_close((uv_handle_t *)&d->ev, sjl_dir_closed_cb);
}

static void
sjl_dir_cb(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct sjl_dir *d = h->data;

	/* Entries created, deleted or renamed; a write to a file in it is the
	 * file's own watch's business. */
	if (status < 0 || (events & UV_RENAME))
		sjl_glob_start(d->src);
}

static void
sjl_dir_add(struct sjl_src *s, const char *path)
{
	struct sjl_dir *d = xcalloc(1, sizeof(*d));
	int rc;

	d->src = s;
	d->path = xstrdup(path);
	d->seen = true;
	uv_fs_event_init(s->env->loop, &d->ev);
	d->ev.data = d;
	LIST_INSERT_HEAD(&s->dirs, d, link);
	s->ndirs++;
	sjl_src_ref(s);
	if ((rc = uv_fs_event_start(&d->ev, sjl_dir_cb, path, 0)) < 0)
		log_debug("source %s: cannot watch %s (%s); the rescan finds its files",
		          s->base.name, path, uv_strerror(rc));
}

static void
sjl_merge_dirs(struct sjl_src *s, struct sjl_glob *w)
{
	struct sjl_dir *d, *next;

	LIST_FOREACH(d, &s->dirs, link)
	d->seen = false;
	for (size_t i = 0; i < w->ndirs; i++) {
		LIST_FOREACH(d, &s->dirs, link)
		if (strcmp(d->path, w->dirs[i]) == 0)
			break;
		if (d)
			d->seen = true;
		else
			sjl_dir_add(s, w->dirs[i]);
	}
	for (d = LIST_FIRST(&s->dirs); d != NULL; d = next) {
		next = LIST_NEXT(d, link);
		if (!d->seen)
			sjl_dir_remove(d);
	}
}

static void
sjl_glob_free(struct sjl_glob *w)
{
	for (size_t i = 0; i < w->nfiles; i++)
		free(w->files[i]);
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w->files);
	free(w->dirs);
	free(w->pattern);
	free(w);
}

static void
sjl_glob_after_cb(uv_work_t *req, int status)
{
	struct sjl_glob *w = req->data;
	struct sjl_src *s = w->src;
	bool again;

	s->globbing = false;
	again = s->glob_again && !s->destroying;
	s->glob_again = false;
	if (!s->destroying && status == 0) {
		sjl_merge_files(s, w);
		sjl_merge_dirs(s, w);
	}
	sjl_glob_free(w);
	if (again)
		sjl_glob_start(s);
	sjl_src_unref(s);
}

static void
sjl_glob_start(struct sjl_src *s)
{
	struct sjl_glob *w;
	int rc;

	if (s->destroying)
		return;
	if (s->globbing) {
		s->glob_again = true;
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->src = s;
	w->pattern = xstrdup(s->pattern);
	w->req.data = w;
	if ((rc = uv_queue_work(s->env->loop, &w->req, sjl_glob_work_cb, sjl_glob_after_cb)) < 0) {
		log_err("source %s: cannot scan %s: %s", s->base.name, s->pattern, uv_strerror(rc));
		sjl_glob_free(w);
		return;
	}
	s->globbing = true;
	sjl_src_ref(s);
}

/* ---- timers ---- */

static void
sjl_tick_cb(uv_timer_t *t)
{
	struct sjl_src *s = t->data;
	struct sjl_file *f;

	TAILQ_FOREACH(f, &s->files, link)
	if (!f->busy)
		sjl_file_kick(f);
}

static void
sjl_rescan_cb(uv_timer_t *t)
{
	sjl_glob_start(t->data);
}

/* ---- ops ---- */

static int
sjl_start(struct source *src, char **err)
{
	struct sjl_src *s = (struct sjl_src *)src;

	uv_timer_start(&s->tick, sjl_tick_cb, SJL_TICK_MS, SJL_TICK_MS);
	uv_timer_start(&s->rescan, sjl_rescan_cb, s->rescan_ms, s->rescan_ms);
	sjl_glob_start(s);
	return 0;
}

static int
sjl_poll_now(struct source *src, int64_t job_id)
{
	struct sjl_src *s = (struct sjl_src *)src;
	struct sjl_file *f;

	TAILQ_FOREACH(f, &s->files, link)
	sjl_file_kick(f);
	sjl_glob_start(s);
	return 0;
}

/* Kept across a reload (its section did not change): look again. */
static void
sjl_reload(struct source *src)
{
	sjl_poll_now(src, 0);
}

/* A new database: every file is read again from its start. */
static void
sjl_resync(struct source *src)
{
	struct sjl_src *s = (struct sjl_src *)src;
	struct sjl_file *f;

	s->epoch++;
	TAILQ_FOREACH(f, &s->files, link)
	{
		sjl_file_resync(f);
		sjl_file_kick(f);
	}
	log_info("source %s: the database was replaced; reading its %zu files again", src->name,
	         s->nfiles);
}

static void
sjl_add_time(cJSON *o, const char *key, int64_t t)
{
	if (t > 0)
		cJSON_AddNumberToObject(o, key, (double)t);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *
sjl_file_json(const struct sjl_file *f)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "path", f->path);
	if (f->refused)
		cJSON_AddNullToObject(o, "job");
	else
		cJSON_AddStringToObject(o, "job", f->pos.job ? f->pos.job : f->glob_job);
	cJSON_AddNumberToObject(o, "generation", (double)f->pos.generation);
	cJSON_AddNumberToObject(o, "offset", (double)f->pos.offset);
	cJSON_AddNumberToObject(o, "line", (double)f->pos.line);
	cJSON_AddBoolToObject(o, "open", f->fd >= 0);
	/* Bytes of a last line waiting for its newline (seen, not stored). */
	cJSON_AddNumberToObject(o, "partial",
	                        f->stalled_at >= 0 ? (double)(f->stalled_at - f->pos.offset) : 0);
	if (f->error)
		cJSON_AddStringToObject(o, "error", f->error);
	else
		cJSON_AddNullToObject(o, "error");
	return o;
}

static cJSON *
sjl_status(struct source *src)
{
	struct sjl_src *s = (struct sjl_src *)src;
	cJSON *o = cJSON_CreateObject(), *list;
	const struct sjl_file *f, *failing = NULL;
	size_t n = 0, reading = 0;

	TAILQ_FOREACH(f, &s->files, link)
	if (f->error && failing == NULL)
		failing = f;
	for (int i = 0; i < SJL_READERS; i++)
		reading += s->slots[i].used;
	if (s->store_failing_since)
		cJSON_AddStringToObject(o, "health", "error");
	else if (failing)
		cJSON_AddStringToObject(o, "health", "degraded");
	else
		cJSON_AddStringToObject(o, "health", s->nfiles ? "ok" : "idle");
	sjl_add_time(o, "health_since", s->store_failing_since);
	sjl_add_time(o, "last_poll", s->last_read);
	if (s->store_failing_since || !failing) {
		if (s->last_error)
			cJSON_AddStringToObject(o, "last_error", s->last_error);
		else
			cJSON_AddNullToObject(o, "last_error");
		sjl_add_time(o, "last_error_at", s->last_error_at);
	} else {
		cJSON_AddStringToObject(o, "last_error", failing->error);
		sjl_add_time(o, "last_error_at", 0);
	}
	cJSON_AddStringToObject(o, "path", s->pattern);
	cJSON_AddNumberToObject(o, "files", (double)s->nfiles);
	cJSON_AddNumberToObject(o, "directories", (double)s->ndirs);
	cJSON_AddNumberToObject(o, "reading", (double)reading);
	cJSON_AddNumberToObject(o, "lines", (double)s->lines);
	cJSON_AddNumberToObject(o, "points", (double)s->points);
	cJSON_AddNumberToObject(o, "bad_lines", (double)s->bad);
	cJSON_AddNumberToObject(o, "generations", (double)s->generations);
	list = cJSON_AddArrayToObject(o, "file_list");
	TAILQ_FOREACH(f, &s->files, link)
	if (n++ < SJL_LIST_MAX)
		cJSON_AddItemToArray(list, sjl_file_json(f));
	return o;
}

static void
sjl_destroy(struct source *src)
{
	struct sjl_src *s = (struct sjl_src *)src;

	s->destroying = true;
	while (!TAILQ_EMPTY(&s->files))
		sjl_file_remove(TAILQ_FIRST(&s->files));
	while (!LIST_EMPTY(&s->dirs))
		sjl_dir_remove(LIST_FIRST(&s->dirs));
	uv_close((uv_handle_t *)&s->tick, sjl_handle_closed_cb);
	uv_close((uv_handle_t *)&s->rescan, sjl_handle_closed_cb);
	sjl_src_unref(s); /* the source's own reference */
}

static const struct source_ops sjl_ops = {
        .start = sjl_start,
        .poll_now = sjl_poll_now,
        .reload = sjl_reload,
        .resync = sjl_resync,
        .status = sjl_status,
        .destroy = sjl_destroy,
};

struct source *
source_jsonl_new(const struct conf_source *cs, const struct source_env *env, char **err)
{
	struct sjl_src *s = xcalloc(1, sizeof(*s));

	s->base.ops = &sjl_ops;
	s->base.name = xstrdup(cs->name);
	s->base.conf = cs;
	s->base.env = env;
	s->env = env;
	s->in = env->ingest;
	s->pattern = xstrdup(cs->path);
	s->rescan_ms = cs->rescan_ms ? cs->rescan_ms : 30000;
	TAILQ_INIT(&s->files);
	TAILQ_INIT(&s->waiting);
	LIST_INIT(&s->dirs);
	s->refs = 3; /* itself and its two timers */
	uv_timer_init(env->loop, &s->tick);
	uv_timer_init(env->loop, &s->rescan);
	s->tick.data = s->rescan.data = s;
	return &s->base;
}
