/*
 * ftmond: the ftmon daemon's main().  Always in the foreground; systemd
 * (or a test) supervises it.  main() parses the options, checks the
 * configuration and hands over to daemon.c, which owns the lifecycle.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "util.h"

struct ftmond_opts {
	const char *config;
	bool check_only;
	int verbose;
};

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
	opterr = 0; /* one line of our own, not getopt's plus the usage */
	while ((c = getopt_long(argc, argv, ":c:tvh", longopts, NULL)) != -1) {
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
		case ':':
			fprintf(stderr,
			        "ftmond: option '%s' needs an argument (see 'ftmond --help')\n",
			        argv[optind - 1]);
			exit(2);
		default:
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				fprintf(stderr, "ftmond: bad option '%.*s' (see 'ftmond --help')\n",
				        (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			else
				fprintf(stderr,
				        "ftmond: unknown option '-%c' (see 'ftmond --help')\n",
				        optopt);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ftmond: unexpected argument '%s' (see 'ftmond --help')\n",
		        argv[optind]);
		exit(2);
	}
}

/* Descriptors are what a busy daemon runs out of first (clients, API
 * connections, the database): take the soft limit up to the hard one. */
static void
ftmond_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_debug("descriptor limit stays at %llu: %s", (unsigned long long)was,
		          strerror(errno));
	else
		log_debug("descriptor limit raised from %llu to %llu", (unsigned long long)was,
		          (unsigned long long)rl.rlim_cur);
}

/* `ftmond -t`: every error on its own line, as FILE:LINE: message. */
static int
ftmond_check(const char *path)
{
	char **errors = NULL;
	struct conf *conf = daemon_load_config(path, false, &errors);

	if (conf == NULL) {
		for (size_t i = 0; errors[i]; i++)
			fprintf(stderr, "%s\n", errors[i]);
		util_strv_free(errors);
		return 1;
	}
	printf("%s: configuration OK\n", path);
	conf_free(conf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ftmond_opts opts = {0};
	struct daemon *d;
	struct conf *conf;
	uv_loop_t loop;
	char **errors = NULL, *err = NULL;
	int rc;

	log_init("ftmond");
	ftmond_parse_args(argc, argv, &opts);
	if (opts.check_only)
		return ftmond_check(opts.config);
	if ((conf = daemon_load_config(opts.config, true, &errors)) == NULL) {
		for (size_t i = 0; errors[i]; i++)
			fprintf(stderr, "%s\n", errors[i]);
		util_strv_free(errors);
		log_err("%s: invalid configuration, not starting", opts.config);
		return 1;
	}
	log_set_level(opts.verbose ? LOG_LEVEL_DEBUG : (enum log_level)conf->log_level);
	ftmond_raise_nofile();
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
	if ((d = daemon_new(&loop, conf, opts.verbose > 0, &err)) == NULL) {
		/* Everything is freed first: sanitizer builds check for leaks. */
		log_err("%s", err);
		free(err);
		uv_run(&loop, UV_RUN_DEFAULT); /* close callbacks of what was opened */
		uv_loop_close(&loop);
		curl_global_cleanup();
		return 1;
	}
	rc = daemon_run(d);
	daemon_free(d);
	curl_global_cleanup();
	log_info("stopped");
	return rc;
}
