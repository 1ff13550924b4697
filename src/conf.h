/*
 * conf: parse and validate ftmon.conf (INI, read with libinih) into an
 * immutable struct conf.  Every section and key of the contract is known
 * here, even where the feature behind it lives in a later module, so
 * `ftmond -t` validates a whole config.  Every problem is reported as
 * "FILE:LINE: message" naming the key; the whole file is read before
 * failing so all errors are shown at once.
 *
 * Pure apart from reading the file: no logging, no global state.
 */
#ifndef FTMON_CONF_H
#define FTMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum conf_source_type { CONF_SOURCE_OPENAI, CONF_SOURCE_JSONL, CONF_SOURCE_PUSH };
enum conf_auth { CONF_AUTH_BEARER, CONF_AUTH_API_KEY };
enum conf_hook_type { CONF_HOOK_EXEC, CONF_HOOK_WEBHOOK };
enum conf_hook_format {
	CONF_FORMAT_JSON,
	CONF_FORMAT_SLACK,
	CONF_FORMAT_TEXT,
	CONF_FORMAT_ALERTMANAGER,
};
enum conf_rule_type {
	CONF_RULE_NAN,
	CONF_RULE_DIVERGENCE,
	CONF_RULE_SPIKE,
	CONF_RULE_STALE,
	CONF_RULE_PLATEAU,
	CONF_RULE_THRESHOLD,
};
enum conf_threshold_mode { CONF_THRESHOLD_REL, CONF_THRESHOLD_ABS };
enum conf_op { CONF_OP_LT, CONF_OP_LE, CONF_OP_GT, CONF_OP_GE };
enum conf_action { CONF_ACTION_NONE, CONF_ACTION_CANCEL, CONF_ACTION_PAUSE };
/* Which way is better: auto decides from the metric's name (rule.h). */
enum conf_mode { CONF_MODE_AUTO, CONF_MODE_MIN, CONF_MODE_MAX };

struct conf_source {
	char *name; /* the NAME of [source NAME] */
	int line;   /* line of the section header */
	enum conf_source_type type;
	/* type = openai */
	char *base_url;     /* no trailing slash */
	char *api_key_file; /* exactly one of these three is set */
	char *api_key_env;
	char *api_key_credential;
	int api_key_line;   /* line of the api_key_* key set, 0 when none */
	char *organization; /* NULL when unset or empty */
	char *project;      /* NULL when unset or empty */
	enum conf_auth auth;
	char *api_version; /* NULL when unset or empty */
	bool discover;
	uint64_t poll_interval_ms;
	unsigned max_connections;
	uint64_t timeout_ms;
	/* type = jsonl */
	char *path; /* a glob */
	uint64_t rescan_ms;
};

struct conf_rule {
	char *name;
	int line;
	enum conf_rule_type type;
	bool enabled;
	char *metric;      /* NULL: the rule's default */
	char *reference;   /* NULL: the rule's default */
	unsigned patience; /* 0 = rule default */
	double min_delta;  /* NAN = rule default */
	enum conf_threshold_mode threshold_mode;
	uint64_t cooldown_ms;
	unsigned window;         /* 0 = rule default */
	double sigma;            /* NAN = rule default */
	uint64_t stale_after_ms; /* default 30m */
	enum conf_op op;
	double value; /* NAN when unset */
	char *jobs;   /* glob over job names; default "*" */
	enum conf_action action;
	enum conf_mode mode;
};

struct conf_hook {
	char *name;
	int line;
	enum conf_hook_type type;
	char **events; /* NULL-terminated list; {"*", NULL} by default */
	char *command; /* exec: the command line as written */
	char **argv;   /* exec: command split like a shell would, NULL-terminated */
	char *url;     /* webhook */
	enum conf_hook_format format;
	char *headers_file; /* webhook: "Name: value" lines; NULL when unset */
	uint64_t timeout_ms;
	unsigned max_attempts;
	unsigned concurrency;
};

struct conf {
	char *path; /* the file it was read from */
	/* [daemon] */
	char *database;
	char *socket;
	unsigned socket_mode;
	char *admin_group; /* NULL: only root may run mutating commands */
	unsigned retention_days;
	int log_level; /* an enum log_level value */

	struct conf_source *sources;
	size_t nsources;
	struct conf_rule *rules; /* the built-ins first, then user rules */
	size_t nrules;
	struct conf_hook *hooks;
	size_t nhooks;
};

/* Defaults used when [daemon] does not say otherwise. */
#define CONF_DEFAULT_PATH     SYSCONFDIR "/ftmon/ftmon.conf"
#define CONF_DEFAULT_DATABASE "/var/lib/ftmon/ftmon.db"
#define CONF_DEFAULT_SOCKET   "/run/ftmon/ftmon.sock"

/* Read and validate path.  On success returns a new conf (free with
 * conf_free) and sets *errors to NULL.  On failure returns NULL and sets
 * *errors to a malloc'd text of one "FILE:LINE: message" per line (the
 * caller frees it); a file that cannot be opened gives "FILE: strerror". */
struct conf *conf_load(const char *path, char **errors);
/* Same, from a string; name is used as FILE in messages. */
struct conf *conf_load_string(const char *text, const char *name, char **errors);
/* NULL is fine. */
void conf_free(struct conf *conf);

/* Lookups; NULL when absent.  The result is borrowed from conf. */
const struct conf_source *conf_find_source(const struct conf *conf, const char *name);
/* True when two source sections would behave identically (reload keeps
 * a running source whose section did not change). */
bool conf_source_equal(const struct conf_source *a, const struct conf_source *b);
/* Name of an enum value, for status output. */
const char *conf_source_type_name(enum conf_source_type type);

#endif
