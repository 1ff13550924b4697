/*
 * ftmond: the ftmon daemon.  Always in the foreground; systemd (or a test)
 * supervises it.  main() loads the config, opens the store, binds the
 * control socket, starts the sources, reports READY=1 and runs the loop;
 * teardown is the reverse.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "admin.h"
#include "conf.h"
#include "control.h"
#include "ctl_cmds.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "sdnotify.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define FTMOND_STATUS_INTERVAL_MS 10000

struct ftmond_opts {
	const char *config;
	bool check_only;
	int verbose;
};

static struct daemon ftmond;
static uv_signal_t ftmond_sigterm, ftmond_sigint, ftmond_sighup;
static uv_timer_t ftmond_watchdog, ftmond_status_timer;

static void ftmond_admin_done_cb(void *data, const char *group, int rc, gid_t gid);

static void
ftmond_usage(FILE *f)
{
	fprintf(f,
	        "Usage: ftmond [-c FILE] [-t] [-v] [--version] [-h]\n"
	        "Watch model-training jobs, store their metrics and run notification hooks.\n"
	        "\n"
	        "  -c, --config FILE    configuration file (default %s)\n"
	        "  -t, --check-config   check the configuration and exit (0 valid, 1 invalid)\n"
	        "  -v, --verbose        log more (debug)\n"
	        "      --version        print the version and exit\n"
	        "  -h, --help           print this help and exit\n"
	        "\n"
	        "ftmond runs in the foreground; see ftmond(8) and ftmon.conf(5).\n",
	        CONF_DEFAULT_PATH);
}

static void
ftmond_parse_args(int argc, char **argv, struct ftmond_opts *o)
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 't'},
	        {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int c;

	o->config = CONF_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "c:tvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 't':
			o->check_only = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			printf("ftmond %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			ftmond_usage(stdout);
			exit(0);
		default:
			ftmond_usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ftmond: unexpected argument '%s'\n", argv[optind]);
		ftmond_usage(stderr);
		exit(2);
	}
}

/* A one-line summary for systemd's STATUS= and the log. */
static char *
ftmond_summary(struct daemon *d)
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
	                 total, running, firing, d->config_error ? "; last reload failed" : "");
}

static void
ftmond_status_cb(uv_timer_t *t)
{
	char *s = ftmond_summary(&ftmond);
	sdnotify_sendf("STATUS=%s", s);
	free(s);
}

static void
ftmond_watchdog_cb(uv_timer_t *t)
{
	/* Sent from the loop itself: if the loop stalls, systemd notices. */
	sdnotify_send("WATCHDOG=1");
}

static int
ftmond_start_sources(struct daemon *d, const struct conf *conf, struct source ***out, size_t *n)
{
	struct source **v = xcalloc(conf->nsources + 1, sizeof(*v));
	size_t len = 0;

	for (size_t i = 0; i < conf->nsources; i++) {
		char *err = NULL;
		struct source *s = source_new(d, &conf->sources[i], &err);
		if (s == NULL || s->ops->start(s, &err) < 0) {
			log_err("source %s: %s", conf->sources[i].name, err ? err : "cannot start");
			free(err);
			if (s)
				s->ops->destroy(s);
			continue;
		}
		v[len++] = s;
	}
	*out = v;
	*n = len;
	return 0;
}

/* Keep running sources whose section did not change; replace the rest. */
static void
ftmond_apply_sources(struct daemon *d, struct conf *next)
{
	struct source **v = xcalloc(next->nsources + 1, sizeof(*v));
	size_t len = 0;

	for (size_t i = 0; i < next->nsources; i++) {
		const struct conf_source *cs = &next->sources[i];
		struct source *old = source_find(d, cs->name);
		if (old && conf_source_equal(old->conf, cs)) {
			old->conf = cs;
			if (old->ops->reload)
				old->ops->reload(old);
			v[len++] = old;
			continue;
		}
		char *err = NULL;
		struct source *s = source_new(d, cs, &err);
		if (s == NULL || s->ops->start(s, &err) < 0) {
			log_err("source %s: %s", cs->name, err ? err : "cannot start");
			free(err);
			if (s)
				s->ops->destroy(s);
			continue;
		}
		v[len++] = s;
		log_info("source %s: (re)started with its new configuration", cs->name);
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

int
daemon_reload(struct daemon *d, char **err)
{
	char *errors = NULL;
	struct conf *next;

	sdnotify_sendf("RELOADING=1\nSTATUS=reloading %s", d->conf->path);
	next = conf_load(d->conf->path, &errors);
	if (next == NULL) {
		/* Keep the old configuration; say why everywhere. */
		free(d->config_error);
		d->config_error = errors;
		d->config_error_at = util_now();
		log_err("reload failed, keeping the running configuration:\n%s", errors);
		*err = xasprintf("reload failed, keeping the running configuration: %s", errors);
		sdnotify_send("READY=1");
		ftmond_status_cb(NULL);
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
	ftmond_apply_sources(d, next);
	/* Off the loop; the socket's group follows in ftmond_admin_done_cb. */
	if (next->admin_group || d->conf->admin_group)
		admin_resolve(d->admin, next->admin_group, ftmond_admin_done_cb, d);
	conf_free(d->conf);
	d->conf = next;
	free(d->config_error);
	d->config_error = NULL;
	log_info("configuration reloaded from %s", next->path);
	sdnotify_send("READY=1");
	ftmond_status_cb(NULL);
	return 0;
}

static void
ftmond_close_cb(uv_handle_t *h)
{
}

void
daemon_stop(struct daemon *d)
{
	if (d->stopping++)
		return;
	log_info("stopping");
	sdnotify_send("STOPPING=1");
	for (size_t i = 0; i < d->nsources; i++)
		d->sources[i]->ops->destroy(d->sources[i]);
	d->nsources = 0;
	control_free(d->control);
	d->control = NULL;
	admin_free(d->admin);
	d->admin = NULL;
	http_free(d->http);
	d->http = NULL;
	uv_close((uv_handle_t *)&ftmond_sigterm, ftmond_close_cb);
	uv_close((uv_handle_t *)&ftmond_sigint, ftmond_close_cb);
	uv_close((uv_handle_t *)&ftmond_sighup, ftmond_close_cb);
	uv_close((uv_handle_t *)&ftmond_watchdog, ftmond_close_cb);
	uv_close((uv_handle_t *)&ftmond_status_timer, ftmond_close_cb);
}

static void
ftmond_signal_cb(uv_signal_t *s, int signum)
{
	char *err = NULL;

	if (signum == SIGHUP) {
		log_info("SIGHUP: reloading %s", ftmond.conf->path);
		if (daemon_reload(&ftmond, &err) < 0)
			free(err);
		return;
	}
	daemon_stop(&ftmond);
}

/* admin_group was looked up: say if it is missing, and give the socket to
 * it so its members can connect (back to our own group once unset). */
static void
ftmond_admin_done_cb(void *data, const char *group, int rc, gid_t gid)
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

static void
ftmond_limits_from_env(struct control *c)
{
	uint64_t max_clients = 0, idle_ms = 0, stream = 0;
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
}

static void
ftmond_setup_loop(struct daemon *d)
{
	uint64_t wd = sdnotify_watchdog_ms();

	uv_signal_init(d->loop, &ftmond_sigterm);
	uv_signal_init(d->loop, &ftmond_sigint);
	uv_signal_init(d->loop, &ftmond_sighup);
	uv_signal_start(&ftmond_sigterm, ftmond_signal_cb, SIGTERM);
	uv_signal_start(&ftmond_sigint, ftmond_signal_cb, SIGINT);
	uv_signal_start(&ftmond_sighup, ftmond_signal_cb, SIGHUP);
	uv_timer_init(d->loop, &ftmond_watchdog);
	uv_timer_init(d->loop, &ftmond_status_timer);
	if (wd > 0)
		uv_timer_start(&ftmond_watchdog, ftmond_watchdog_cb, wd / 2, wd / 2);
	uv_timer_start(&ftmond_status_timer, ftmond_status_cb, FTMOND_STATUS_INTERVAL_MS,
	               FTMOND_STATUS_INTERVAL_MS);
	uv_unref((uv_handle_t *)&ftmond_watchdog);
}

static void
ftmond_dispatch_cb(void *data, struct control_client *cl, const char *line, size_t len)
{
	ctl_cmds_dispatch(data, cl, line, len);
}

/* Open the store and the socket; exits on failure (before the loop runs). */
static void
ftmond_open(struct daemon *d)
{
	char *err = NULL;
	gid_t gid;
	int fd, rc;

	d->store = store_open(d->conf->database, &err);
	if (d->store == NULL)
		fatal("%s", err);
	fd = sdnotify_listen_fd();
	if (fd < -1)
		fatal("socket activation: %s", strerror(-fd));
	d->control = control_new(d->loop, fd, d->conf->socket, d->conf->socket_mode,
	                         ftmond_dispatch_cb, d, &err);
	if (d->control == NULL)
		fatal("control socket: %s", err);
	if (fd >= 0)
		log_info("control socket inherited from systemd (fd %d)", fd);
	ftmond_limits_from_env(d->control);
	/* Before the loop runs, so blocking here only delays the start. */
	d->admin = admin_new(d->loop);
	if (d->conf->admin_group) {
		rc = admin_resolve_sync(d->admin, d->conf->admin_group, &gid);
		ftmond_admin_done_cb(d, d->conf->admin_group, rc, gid);
	}
	d->http = http_new(d->loop);
	if (log_get_level() >= LOG_LEVEL_DEBUG)
		http_set_debug(d->http, 1);
}

static void
ftmond_close_leftover_cb(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int
ftmond_run(struct daemon *d)
{
	char *summary;
	int rc;

	ftmond_start_sources(d, d->conf, &d->sources, &d->nsources);
	ftmond_setup_loop(d);
	summary = ftmond_summary(d);
	log_info("ftmond %s ready: database %s, socket %s; %s", PACKAGE_VERSION, d->conf->database,
	         d->conf->socket, summary);
	sdnotify_sendf("READY=1\nSTATUS=%s\nMAINPID=%ld", summary, (long)getpid());
	free(summary);
	uv_run(d->loop, UV_RUN_DEFAULT);
	/* Everything is closed by now unless a module leaked a handle. */
	rc = uv_loop_close(d->loop);
	if (rc != 0) {
		log_err("event loop still has open handles at exit: %s", uv_strerror(rc));
		uv_walk(d->loop, ftmond_close_leftover_cb, NULL);
		uv_run(d->loop, UV_RUN_DEFAULT);
		uv_loop_close(d->loop);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ftmond_opts opts = {0};
	uv_loop_t loop;
	char *errors = NULL;
	int rc;

	log_init("ftmond");
	ftmond_parse_args(argc, argv, &opts);
	ftmond.conf = conf_load(opts.config, &errors);
	if (opts.check_only) {
		if (ftmond.conf == NULL) {
			fprintf(stderr, "%s", errors);
			free(errors);
			return 1;
		}
		printf("%s: configuration OK\n", opts.config);
		conf_free(ftmond.conf);
		return 0;
	}
	if (ftmond.conf == NULL) {
		fprintf(stderr, "%s", errors);
		fatal("%s: invalid configuration, not starting", opts.config);
	}
	log_set_level(opts.verbose ? LOG_LEVEL_DEBUG : (enum log_level)ftmond.conf->log_level);
	ftmond.verbose = opts.verbose > 0;
	/* Poll jitter must differ between restarts and between daemons. */
	srandom((unsigned)(util_monotonic_ms() ^ ((uint64_t)getpid() << 16) ^
	                   (uint64_t)time(NULL)));
	signal(SIGPIPE, SIG_IGN);
	/* Hooks must not inherit our sockets or database. */
	uv_disable_stdio_inheritance();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("cannot initialise libcurl");
	if ((rc = uv_loop_init(&loop)) < 0)
		fatal("cannot create the event loop: %s", uv_strerror(rc));
	ftmond.loop = &loop;
	ftmond.started_at = util_now();
	ftmond_open(&ftmond);
	rc = ftmond_run(&ftmond);
	store_close(ftmond.store);
	conf_free(ftmond.conf);
	free(ftmond.sources);
	free(ftmond.config_error);
	curl_global_cleanup();
	log_info("stopped");
	return rc;
}
