/*
 * daemon: lifecycle (see daemon.h).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "admin.h"
#include "clock.h"
#include "cmds.h"
#include "watch.h"
#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "notifier.h"
#include "rules.h"
#include "sdnotify.h"
#include "source.h"
#include "sources.h"
#include "store.h"
#include "util.h"
#include "walckpt.h"
#include "xmalloc.h"

#define DAEMON_STATUS_INTERVAL_MS 10000
/* How often the database path is checked against the open file (a stat):
 * a deleted database is noticed within this, FTMON_DB_CHECK_MS in tests. */
#define DAEMON_DB_CHECK_MS 30000

struct daemon {
	uv_loop_t *loop;         /* borrowed from main() */
	struct conf *conf;       /* owned; replaced whole on a successful reload */
	struct store *store;     /* owned */
	struct walckpt *walckpt; /* owned: the WAL's checkpoints, off the loop */
	struct ingest *ingest;   /* owned: the one write path */
	struct rules *rules;     /* owned: the rules engine (a txn observer) */
	struct http *http;       /* owned: the one HTTP engine */
	struct control *control; /* owned */
	struct cmds *cmds;       /* owned */
	struct watch *watch;     /* owned: the socket's watch streams */
	struct source **sources; /* owned: one per [source] that could be built */
	size_t nsources;
	struct source_env env; /* what every source is given */
	int64_t started_at;    /* Unix seconds */
	char **config_errors;  /* owned: why the last reload failed, or NULL */
	int64_t config_error_at;
	bool stopping;
	bool verbose;        /* -v: debug logging whatever the config says */
	struct admin *admin; /* owned: who may mutate; admin_group looked up off the loop */
	/* The database file was deleted or replaced: what happened (for
	 * `status`, kept until a restart) and whether it is still unopened. */
	char *db_error; /* owned, or NULL */
	int64_t db_error_at;
	const char *db_what; /* "deleted" or "replaced by another file" */
	bool db_down;        /* the reopen failed; retried at every check */
	uint64_t db_check_ms;
	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t watchdog, status_timer, db_check;

	struct notifier *notifier; /* owned: hook deliveries */
};

/* ---- configuration ---- */

/* FILE:LINE: of a source's key (or its section), for the credential
 * errors found outside conf.c. */
static char *
daemon_source_error(const struct conf *conf, const struct conf_source *cs, const char *why)
{
	return xasprintf("%s:%d: [source %s] %s", conf->path,
	                 cs->api_key_line ? cs->api_key_line : cs->line, cs->name, why);
}

struct conf *
daemon_load_config(const char *path, bool starting, char ***errors)
{
	char *text = NULL;
	struct conf *conf = conf_load(path, &text);
	size_t n = 0;

	*errors = NULL;
	if (conf == NULL) {
		*errors = util_split_lines(text);
		free(text);
		return NULL;
	}
	for (size_t i = 0; i < conf->nsources; i++) {
		char *why = NULL;
		if (sources_check(&conf->sources[i], starting, &why) == 0)
			continue;
		*errors = xreallocarray(*errors, n + 2, sizeof(char *));
		(*errors)[n++] =
		        daemon_source_error(conf, &conf->sources[i], why ? why : "unusable");
		(*errors)[n] = NULL;
		free(why);
	}
	if (n > 0) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

/* admin_group was looked up: say if it is missing, and give the socket to
 * it so its members can connect (back to our own group once unset). */
static void
daemon_admin_done_cb(void *data, const char *group, int rc, gid_t gid)
{
	struct daemon *d = data;
	char *err = NULL;

	if (rc == -ENOENT) {
		log_warn("admin_group %s does not exist; only root may run mutating commands",
		         group);
		return;
	}
	if (rc < 0) {
		log_warn("admin_group %s: cannot look it up (%s); only root may run mutating "
		         "commands",
		         group, strerror(-rc));
		return;
	}
	if (d->control == NULL)
		return;
	if (control_set_group(d->control, group ? gid : getegid(), &err) < 0) {
		log_warn("admin_group %s: %s", group ? group : "(unset)", err);
		free(err);
	}
}

/* ---- status ---- */

/* A one-line summary for systemd's STATUS= and the log. */
static char *
daemon_summary(struct daemon *d)
{
	int rc;
	cJSON *counts = store_query_counts(d->store, &rc);
	long running = 0, total = 0, firing = 0;
	cJSON *e;

	if (counts == NULL)
		return xasprintf("database error: %s", store_errmsg(d->store));
	cJSON_ArrayForEach (e, cJSON_GetObjectItem(counts, "jobs")) {
		total += (long)e->valuedouble;
		if (strcmp(e->string, "running") == 0)
			running = (long)e->valuedouble;
	}
	firing = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(counts, "alerts_firing"));
	cJSON_Delete(counts);
	return xasprintf("%zu sources, %ld jobs (%ld running), %ld alerts firing%s", d->nsources,
	                 total, running, firing, d->config_errors ? "; last reload failed" : "");
}

static void
daemon_status_cb(uv_timer_t *t)
{
	char *s = daemon_summary(t->data);
	sdnotify_sendf("STATUS=%s", s);
	free(s);
}

static void
daemon_watchdog_cb(uv_timer_t *t)
{
	/* Sent from the loop itself: if the loop stalls, systemd notices. */
	sdnotify_send("WATCHDOG=1");
}

/* ---- the database file ---- */

static void
daemon_db_error(struct daemon *d, char *msg)
{
	free(d->db_error);
	d->db_error = msg;
	d->db_error_at = util_now();
}

/* The sources' store ids and cursors name rows of the file that is gone:
 * they store their jobs again and read them from the APIs (source.h). */
static void
daemon_db_resync(struct daemon *d)
{
	for (size_t i = 0; i < d->nsources; i++)
		if (d->sources[i]->ops->resync)
			d->sources[i]->ops->resync(d->sources[i]);
	notifier_resync(d->notifier);
}

/* A database deleted while open takes every later write with it, and the
 * next start would begin empty: notice, reopen at the path, refetch. */
static void
daemon_db_check_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	const char *path = d->conf->database;
	int rc = store_check_file(d->store);
	char *err = NULL;

	if (rc == 0)
		return;
	if (rc != -EBADF) {
		d->db_what = rc == -ENOENT ? "deleted" : "replaced by another file";
		log_err("database %s was %s while open; reopening it at the path", path,
		        d->db_what);
	}
	if (store_reopen(d->store, &err) < 0) {
		if (!d->db_down)
			log_err("cannot reopen the database: %s; retrying every %llu ms", err,
			        (unsigned long long)d->db_check_ms);
		d->db_down = true;
		daemon_db_error(
		        d, xasprintf("%s was %s; cannot reopen it: %s", path, d->db_what, err));
		free(err);
		return;
	}
	d->db_down = false;
	daemon_db_error(d, xasprintf("%s was %s; reopened at %s, the sources fetch their jobs "
	                             "again",
	                             path, d->db_what, path));
	log_notice("database reopened at %s; the sources fetch their jobs again from their APIs",
	           path);
	daemon_db_resync(d);
}

/* ---- sources ---- */

static struct source *
daemon_start_source(struct daemon *d, const struct conf_source *cs)
{
	char *err = NULL;
	struct source *s = sources_new(cs, &d->env, &err);

	if (s == NULL || s->ops->start(s, &err) < 0) {
		log_err("source %s: %s", cs->name, err ? err : "cannot start");
		free(err);
		if (s)
			s->ops->destroy(s);
		return NULL;
	}
	return s;
}

static struct source *
daemon_find_source(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nsources; i++)
		if (strcmp(d->sources[i]->name, name) == 0)
			return d->sources[i];
	return NULL;
}

/* Keep running sources whose section did not change; replace the rest. */
static void
daemon_apply_sources(struct daemon *d, struct conf *next)
{
	struct source **v = xcalloc(next->nsources + 1, sizeof(*v));
	size_t len = 0;

	for (size_t i = 0; i < next->nsources; i++) {
		const struct conf_source *cs = &next->sources[i];
		struct source *old = daemon_find_source(d, cs->name);
		if (old && conf_source_equal(old->conf, cs)) {
			old->conf = cs;
			if (old->ops->reload)
				old->ops->reload(old);
			v[len++] = old;
			continue;
		}
		if ((v[len] = daemon_start_source(d, cs)) == NULL)
			continue;
		len++;
		if (old)
			log_info("source %s: restarted with its new configuration", cs->name);
	}
	/* Destroy the old sources that were not carried over. */
	for (size_t i = 0; i < d->nsources; i++) {
		bool kept = false;
		for (size_t j = 0; j < len; j++)
			kept |= v[j] == d->sources[i];
		if (!kept)
			d->sources[i]->ops->destroy(d->sources[i]);
	}
	free(d->sources);
	d->sources = v;
	d->nsources = len;
}

/* ---- rules: actions reach the job's source ---- */

struct daemon_act {
	struct daemon *d;
	int64_t alert_id;
};

static void
daemon_act_done_cb(void *data, int rc, const char *result)
{
	struct daemon_act *a = data;

	/* Stopping: the answer is unknown, the alert stays 'sent' (rules.h). */
	if (!a->d->stopping)
		rules_action_done(a->d->rules, a->alert_id, rc, result);
	free(a);
}

static void
daemon_rules_act(void *data, int64_t alert_id, int64_t job_id, const char *action)
{
	struct daemon *d = data;
	struct store_job_brief b;
	struct source *s = NULL;
	struct daemon_act *a;
	char *err = NULL;

	if (store_job_brief(d->store, job_id, &b) == 0)
		s = daemon_find_source(d, b.source);
	if (s == NULL || s->ops->act == NULL) {
		err = xasprintf("source %s cannot %s jobs", b.source ? b.source : "?", action);
		rules_action_done(d->rules, alert_id, -ENOTSUP, err);
	} else {
		a = xcalloc(1, sizeof(*a));
		*a = (struct daemon_act){d, alert_id};
		if (s->ops->act(s, job_id, action, daemon_act_done_cb, a, &err) < 0) {
			rules_action_done(d->rules, alert_id, -EIO, err ? err : "refused");
			free(a);
		}
	}
	free(err);
	store_job_brief_clear(&b);
}

/* ---- reload ---- */

static void
daemon_reload_failed(struct daemon *d, char **errors)
{
	util_strv_free(d->config_errors);
	d->config_errors = errors;
	d->config_error_at = util_now();
	log_err("reload failed, keeping the running configuration (%zu error%s):",
	        util_strv_len(errors), util_strv_len(errors) == 1 ? "" : "s");
	for (size_t i = 0; errors[i]; i++)
		log_err("%s", errors[i]);
}

/* Re-read the configuration file; swap only on success. */
static int
daemon_reload(struct daemon *d, char ***errors_out)
{
	char **errors = NULL;
	struct conf *next;

	sdnotify_sendf("RELOADING=1\nSTATUS=reloading %s", d->conf->path);
	next = daemon_load_config(d->conf->path, true, &errors);
	if (next == NULL) {
		daemon_reload_failed(d, errors);
		if (errors_out) {
			*errors_out = xcalloc(util_strv_len(errors) + 1, sizeof(char *));
			for (size_t i = 0; errors[i]; i++)
				(*errors_out)[i] = xstrdup(errors[i]);
		}
		sdnotify_send("READY=1");
		daemon_status_cb(&d->status_timer);
		return -1;
	}
	if (strcmp(next->database, d->conf->database) != 0 ||
	    strcmp(next->socket, d->conf->socket) != 0 || next->socket_mode != d->conf->socket_mode)
		log_notice("reload: database and socket changes take effect at the next restart");
	/* Those two stay as running until a restart. */
	free(next->database);
	next->database = xstrdup(d->conf->database);
	free(next->socket);
	next->socket = xstrdup(d->conf->socket);
	if (!d->verbose && next->log_level >= 0) {
		log_set_level((enum log_level)next->log_level);
		http_set_debug(d->http, log_get_level() >= LOG_LEVEL_DEBUG);
	}
	daemon_apply_sources(d, next);
	rules_set_conf(d->rules, next);
	notifier_reload(d->notifier, next);
	/* Off the loop; the socket's group follows in daemon_admin_done_cb. */
	if (next->admin_group || d->conf->admin_group)
		admin_resolve(d->admin, next->admin_group, daemon_admin_done_cb, d);
	conf_free(d->conf);
	d->conf = next;
	util_strv_free(d->config_errors);
	d->config_errors = NULL;
	log_info("configuration reloaded from %s", next->path);
	sdnotify_send("READY=1");
	daemon_status_cb(&d->status_timer);
	return 0;
}

/* ---- what commands may ask (cmds.h) ---- */

static int
daemon_host_reload(void *data, char ***errors)
{
	return daemon_reload(data, errors);
}

static size_t
daemon_host_source_count(void *data)
{
	return ((struct daemon *)data)->nsources;
}

static struct source *
daemon_host_source_at(void *data, size_t i)
{
	return ((struct daemon *)data)->sources[i];
}

static void
daemon_describe_checkpoints(struct daemon *d, cJSON *db)
{
	struct walckpt_stats s;
	cJSON *c;

	if (d->walckpt == NULL)
		return;
	walckpt_stats(d->walckpt, &s);
	c = cJSON_AddObjectToObject(db, "checkpoints");
	cJSON_AddNumberToObject(c, "runs", (double)s.runs);
	cJSON_AddNumberToObject(c, "frames", (double)s.frames);
	cJSON_AddNumberToObject(c, "last_us", (double)s.last_us);
	cJSON_AddNumberToObject(c, "errors", (double)s.errors);
	if (s.last_error[0])
		cJSON_AddStringToObject(c, "last_error", s.last_error);
	else
		cJSON_AddNullToObject(c, "last_error");
	cJSON_AddNumberToObject(c, "backstops", (double)s.backstops);
	cJSON_AddNumberToObject(c, "tails", (double)s.tails);
	cJSON_AddNumberToObject(c, "wal_frames", s.wal_frames);
}

static void
daemon_host_describe(void *data, cJSON *res)
{
	struct daemon *d = data;
	cJSON *db, *errs;

	cJSON_AddStringToObject(res, "version", PACKAGE_VERSION);
	cJSON_AddNumberToObject(res, "pid", (double)getpid());
	cJSON_AddNumberToObject(res, "uptime_s", (double)(util_now() - d->started_at));
	cJSON_AddStringToObject(res, "config", d->conf->path);
	if (d->config_errors) {
		char *msg = xasprintf("reload failed, keeping the running configuration: %s",
		                      d->config_errors[0] ? d->config_errors[0] : "?");
		cJSON_AddStringToObject(res, "config_error", msg);
		free(msg);
		cJSON_AddNumberToObject(res, "config_error_at", (double)d->config_error_at);
	} else {
		cJSON_AddNullToObject(res, "config_error");
		cJSON_AddNullToObject(res, "config_error_at");
	}
	errs = cJSON_AddArrayToObject(res, "config_errors");
	for (size_t i = 0; d->config_errors && d->config_errors[i]; i++)
		cJSON_AddItemToArray(errs, cJSON_CreateString(d->config_errors[i]));
	db = cJSON_AddObjectToObject(res, "database");
	cJSON_AddStringToObject(db, "path", d->conf->database);
	cJSON_AddNumberToObject(db, "size_bytes", (double)store_size_bytes(d->store));
	cJSON_AddNumberToObject(db, "schema_version", store_schema_version());
	daemon_describe_checkpoints(d, db);
	if (d->db_error) {
		cJSON_AddStringToObject(db, "error", d->db_error);
		cJSON_AddNumberToObject(db, "error_at", (double)d->db_error_at);
	} else {
		cJSON_AddNullToObject(db, "error");
		cJSON_AddNullToObject(db, "error_at");
	}
	cJSON_AddNumberToObject(res, "clients", (double)control_nclients(d->control));
	notifier_describe(d->notifier, res);
}

/* Root, the daemon's own user, and members of admin_group may mutate:
 * answered from the peer's credentials and the cached group, never NSS. */
static bool
daemon_host_may_mutate(void *data, const struct control_peer *p)
{
	return admin_allows(((struct daemon *)data)->admin, p);
}

static const char *
daemon_host_admin_group(void *data)
{
	return ((struct daemon *)data)->conf->admin_group;
}

static const struct cmds_host_ops daemon_host_ops = {
        daemon_host_reload,   daemon_host_source_count, daemon_host_source_at,
        daemon_host_describe, daemon_host_may_mutate,   daemon_host_admin_group,
};

/* ---- stop ---- */

static void
daemon_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping");
	sdnotify_send("STOPPING=1");
	/* Clients first: a client waiting on a source is cancelled while the
	 * source still exists. */
	control_free(d->control);
	d->control = NULL;
	admin_free(d->admin);
	d->admin = NULL;
	for (size_t i = 0; i < d->nsources; i++)
		d->sources[i]->ops->destroy(d->sources[i]);
	d->nsources = 0;
	notifier_free(d->notifier);
	d->notifier = NULL;
	rules_free(d->rules);
	d->rules = NULL;
	http_free(d->http);
	d->http = NULL;
	/* Before the store closes (daemon_free, after uv_run drained its
	 * timer and a checkpoint in flight). */
	walckpt_free(d->walckpt);
	d->walckpt = NULL;
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
	uv_close((uv_handle_t *)&d->status_timer, NULL);
	uv_close((uv_handle_t *)&d->db_check, NULL);
}

static void
daemon_signal_cb(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		log_info("SIGHUP: reloading %s", d->conf->path);
		daemon_reload(d, NULL);
		return;
	}
	daemon_stop(d);
}

/* ---- start ---- */

static void
daemon_limits_from_env(struct daemon *d, struct control *c)
{
	uint64_t max_clients = 0, idle_ms = 0, stream = 0, db_ms = 0;
	const char *v;

	/* Test hooks: the defaults are right for production. */
	if ((v = getenv("FTMON_MAX_CLIENTS")) != NULL)
		util_parse_uint(v, 1000000, &max_clients);
	if ((v = getenv("FTMON_IDLE_TIMEOUT_MS")) != NULL)
		util_parse_uint(v, 86400000, &idle_ms);
	control_set_limits(c, (size_t)max_clients, idle_ms);
	if ((v = getenv("FTMON_MAX_STREAM_OUTPUT")) != NULL)
		util_parse_uint(v, CONTROL_MAX_OUTPUT, &stream);
	control_set_stream_limit(c, (size_t)stream);
	if ((v = getenv("FTMON_DB_CHECK_MS")) != NULL)
		util_parse_uint(v, 86400000, &db_ms);
	d->db_check_ms = db_ms > 0 ? db_ms : DAEMON_DB_CHECK_MS;
}

static void
daemon_setup_loop(struct daemon *d)
{
	uint64_t wd = sdnotify_watchdog_ms();
	uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
	int signums[] = {SIGTERM, SIGINT, SIGHUP};

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		uv_signal_init(d->loop, sigs[i]);
		sigs[i]->data = d;
		uv_signal_start(sigs[i], daemon_signal_cb, signums[i]);
	}
	uv_timer_init(d->loop, &d->watchdog);
	uv_timer_init(d->loop, &d->status_timer);
	d->status_timer.data = d;
	if (wd > 0)
		uv_timer_start(&d->watchdog, daemon_watchdog_cb, wd / 2, wd / 2);
	uv_timer_start(&d->status_timer, daemon_status_cb, DAEMON_STATUS_INTERVAL_MS,
	               DAEMON_STATUS_INTERVAL_MS);
	uv_timer_init(d->loop, &d->db_check);
	d->db_check.data = d;
	uv_timer_start(&d->db_check, daemon_db_check_cb, d->db_check_ms, d->db_check_ms);
	uv_unref((uv_handle_t *)&d->watchdog);
}

/* The control socket: inherited from systemd, or bound here. */
static int
daemon_open_control(struct daemon *d, char **err)
{
	struct cmds_host host = {&daemon_host_ops, d, d->store, d->watch};
	int fd = sdnotify_listen_fd(), rc;
	gid_t gid = 0;

	if (fd < -1) {
		*err = xasprintf("socket activation: %s", strerror(-fd));
		return -1;
	}
	d->cmds = cmds_new(&host);
	d->control = control_new(d->loop, fd, d->conf->socket, d->conf->socket_mode, cmds_dispatch,
	                         d->cmds, err);
	if (d->control == NULL)
		return -1;
	if (fd >= 0)
		log_info("control socket inherited from systemd (fd %d)", fd);
	daemon_limits_from_env(d, d->control);
	/* Before the loop runs, so blocking here only delays the start. */
	d->admin = admin_new(d->loop);
	if (d->conf->admin_group) {
		rc = admin_resolve_sync(d->admin, d->conf->admin_group, &gid);
		daemon_admin_done_cb(d, d->conf->admin_group, rc, gid);
	}
	return 0;
}

struct daemon *
daemon_new(uv_loop_t *loop, struct conf *conf, bool verbose, char **err)
{
	struct daemon *d = xcalloc(1, sizeof(*d));

	d->loop = loop;
	d->conf = conf;
	d->verbose = verbose;
	d->started_at = util_now();
	if ((d->store = store_open(conf->database, err)) == NULL)
		goto fail;
	d->walckpt = walckpt_new(loop, d->store);
	d->ingest = ingest_new(d->store, &clock_system);
	d->watch = watch_new(d->ingest, d->store, &clock_system);
	if (daemon_open_control(d, err) < 0)
		goto fail;
	/* Before the notifier: its txn observer must see the alerts' events. */
	d->rules = rules_new(loop, d->ingest, d->store, &clock_system, conf, daemon_rules_act, d);
	d->http = http_new(loop);
	if (log_get_level() >= LOG_LEVEL_DEBUG)
		http_set_debug(d->http, 1);
	d->env = (struct source_env){loop, d->ingest, d->store, d->http, &clock_system};
	/* After the rules engine's observer: its alert events get deliveries
	 * in the same transaction (notifier.h). */
	d->notifier = notifier_new(loop, d->ingest, d->store, d->http, &clock_system, conf, err);
	if (d->notifier == NULL)
		goto fail;
	return d;
fail:
	/* Its timer and a job in flight end when main() runs the loop. */
	walckpt_free(d->walckpt);
	cmds_free(d->cmds);
	watch_free(d->watch);
	ingest_free(d->ingest);
	store_close(d->store);
	conf_free(d->conf);
	free(d);
	return NULL;
}

static void
daemon_close_leftover_cb(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
daemon_run(struct daemon *d)
{
	char *summary;
	int rc;

	d->sources = xcalloc(d->conf->nsources + 1, sizeof(*d->sources));
	for (size_t i = 0; i < d->conf->nsources; i++)
		if ((d->sources[d->nsources] = daemon_start_source(d, &d->conf->sources[i])))
			d->nsources++;
	daemon_setup_loop(d);
	rules_start(d->rules);
	summary = daemon_summary(d);
	log_info("ftmond %s ready: database %s, socket %s; %s", PACKAGE_VERSION, d->conf->database,
	         d->conf->socket, summary);
	sdnotify_sendf("READY=1\nSTATUS=%s\nMAINPID=%ld", summary, (long)getpid());
	free(summary);
	uv_run(d->loop, UV_RUN_DEFAULT);
	/* Everything is closed by now unless a module leaked a handle. */
	if ((rc = uv_loop_close(d->loop)) != 0) {
		log_err("event loop still has open handles at exit: %s", uv_strerror(rc));
		uv_walk(d->loop, daemon_close_leftover_cb, NULL);
		uv_run(d->loop, UV_RUN_DEFAULT);
		uv_loop_close(d->loop);
		return 1;
	}
	return 0;
}

void
daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	cmds_free(d->cmds);
	watch_free(d->watch);
	ingest_free(d->ingest);
	store_close(d->store);
	conf_free(d->conf);
	free(d->sources);
	util_strv_free(d->config_errors);
	free(d->db_error);
	free(d);
}
