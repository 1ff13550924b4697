/*
 * source_jsonl_internal: what the files of the jsonl source share, nothing
 * else: source_jsonl.c (the ops, the glob and its directory watches,
 * status) and source_jsonl_file.c (one followed file: stat, open, bounded
 * reads, one ingest step per chunk).
 *
 * Lifetime: the source counts what may still call back into it (its
 * timers, directory watches, files, a glob in the thread pool) in refs and
 * is freed by the last sjl_src_unref once destroying is set.  A file is
 * freed when it is being removed, its request is not in flight and its
 * watch handle is closed.
 */
#ifndef FTMON_SOURCE_JSONL_INTERNAL_H
#define FTMON_SOURCE_JSONL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <uv.h>

#include "metricline.h"
#include "source.h"
#include "store.h"

#define SJL_CHUNK    (256 * 1024)               /* bytes read (and stored in one step) per turn */
#define SJL_LINEBUF  (METRICLINE_MAX_BYTES + 2) /* longest line + "\r\n" */
#define SJL_READERS  4                          /* files reading at once (each holds a buffer) */
#define SJL_TICK_MS  1000                       /* the periodic stat of every file (NFS) */
#define SJL_MAX_DIRS 4096
#define SJL_LIST_MAX 50 /* files listed one by one in `status` */

struct sjl_src;

struct sjl_slot {
	char *buf;
	size_t cap;
	bool used;
};

struct sjl_file {
	TAILQ_ENTRY(sjl_file) link;      /* src->files */
	TAILQ_ENTRY(sjl_file) wait_link; /* src->waiting, when waiting */
	struct sjl_src *src;
	char *path;     /* as the glob gave it */
	char *glob_job; /* the job its wildcards name */
	/* Committed position (store.h); pos.job owned.  Valid when have_pos
	 * and pos_epoch is the source's epoch. */
	struct store_file_pos pos;
	bool have_pos;
	unsigned pos_epoch;
	uv_fs_t req;
	bool busy;    /* req in flight, or waiting for a reader */
	bool again;   /* something changed while busy: check once more */
	bool waiting; /* in src->waiting */
	bool opening; /* the fstat in flight follows an open */
	uv_file fd;   /* -1 when closed */
	int64_t fd_dev, fd_ino;
	int64_t path_dev, path_ino; /* what the path named at the last stat */
	int64_t path_size;
	bool path_exists;
	uint64_t moved_since; /* monotonic ms since the path stopped naming fd's file; 0 */
	int64_t size;         /* the open file's size at the last fstat */
	int64_t stalled_at;   /* size at which the last read found no whole line; -1 */
	int64_t skip_from;    /* > 0: skipping an over-long line, read from here */
	int slot;             /* reader slot, -1 */
	bool big;             /* the next line is longer than SJL_CHUNK: read SJL_LINEBUF */
	uv_fs_event_t ev;
	bool ev_open; /* ev initialised and not yet closed */
	bool removing;
	bool seen;    /* matched by the last glob */
	bool refused; /* its name is no acceptable job name: not followed */
	char *error;  /* the last failure, NULL once it works again */
	uint64_t lines, bad, points;
};

TAILQ_HEAD(sjl_files, sjl_file);

struct sjl_dir {
	LIST_ENTRY(sjl_dir) link;
	struct sjl_src *src;
	char *path;
	uv_fs_event_t ev;
	bool seen;
};

struct sjl_src {
	struct source base;
	const struct source_env *env;
	struct ingest *in;
	char *pattern; /* the glob, copied */
	uint64_t rescan_ms;
	struct sjl_files files;
	size_t nfiles;
	struct sjl_files waiting; /* files wanting a reader, FIFO */
	struct sjl_slot slots[SJL_READERS];
	LIST_HEAD(, sjl_dir) dirs;
	size_t ndirs;
	uv_timer_t tick, rescan;
	bool globbing, glob_again;
	unsigned epoch; /* +1 when the database is replaced (resync) */
	struct metricline ml;
	int refs;
	bool destroying;
	/* health */
	char *last_error;
	int64_t last_error_at;
	int64_t store_failing_since; /* 0 when the last step committed */
	int64_t last_read;
	uint64_t lines, bad, points, generations;
};

/* source_jsonl.c */
void sjl_src_ref(struct sjl_src *s);
void sjl_src_unref(struct sjl_src *s);
void sjl_src_error(struct sjl_src *s, const char *msg);

/* source_jsonl_file.c */
struct sjl_file *sjl_file_new(struct sjl_src *s, const char *path, const char *job);
/* Look at the file now (or once more after the work in flight). */
void sjl_file_kick(struct sjl_file *f);
/* Stop following it and free it once its request and watch are done. */
void sjl_file_remove(struct sjl_file *f);
/* Forget the position: the database was replaced. */
void sjl_file_resync(struct sjl_file *f);

#endif
