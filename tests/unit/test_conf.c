/*
 * test_conf: ftmon.conf parsing, defaults and every kind of error, each
 * asserted with its exact "t.conf:LINE:" prefix.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "tap.h"
#include "xmalloc.h"

static size_t
test_count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* text must fail with exactly one error, on line `line`, containing part. */
static void
test_bad(const char *text, int line, const char *part)
{
	char *errors = NULL;
	char prefix[32];
	struct conf *conf = conf_load_string(text, "t.conf", &errors);

	snprintf(prefix, sizeof(prefix), "t.conf:%d: ", line);
	ok(conf == NULL && errors != NULL && strncmp(errors, prefix, strlen(prefix)) == 0 &&
	           strstr(errors, part) != NULL && test_count_lines(errors) == 1,
	   "error %s%s", prefix, part);
	if (conf != NULL || errors == NULL || strncmp(errors, prefix, strlen(prefix)) != 0 ||
	    strstr(errors, part) == NULL || test_count_lines(errors) != 1)
		TAP_DIAG("  got: %s", errors ? errors : "(success)");
	conf_free(conf);
	free(errors);
}

/* text must load; the caller frees the result. */
static struct conf *
test_good(const char *text, const char *what)
{
	char *errors = (char *)"unset";
	struct conf *conf = conf_load_string(text, "t.conf", &errors);

	ok(conf != NULL && errors == NULL, "valid: %s", what);
	if (conf == NULL)
		TAP_DIAG("  got: %s", errors);
	if (conf == NULL)
		free(errors);
	return conf;
}

#define OPENAI "[source openai]\ntype = openai\napi_key_env = KEY\n"

static void
test_sections(void)
{
	test_bad("[daemon]\n[foo]\n", 2, "unknown section [foo]");
	test_bad("[source]\ntype = push\n", 1, "section [source] needs a name: [source NAME]");
	test_bad("[hook]\n", 1, "section [hook] needs a name");
	test_bad("[daemon x]\n", 1, "[daemon] takes no name");
	test_bad("[source a/b]\ntype = push\n", 1, "invalid name 'a/b'");
	test_bad("[source x]\ntype = push\n\n[source x]\ntype = push\n", 4,
	         "duplicate section [source x] (first at line 1)");
	test_bad("[daemon]\n[daemon]\n", 2, "duplicate section [daemon] (first at line 1)");
	test_bad("[source x]\n", 1, "[source x] missing required key 'type'");
	test_bad("# c\n[source x]  ; no keys\n[daemon]\n", 2,
	         "[source x] missing required key 'type'");
	test_bad("[daemon\n", 1, "section header without closing ']'");
	test_bad("[daemon] x\n", 1, "unexpected text after ']'");
	test_bad("[]\n", 1, "empty section name");
	test_bad("retention = 1\n[daemon]\n", 1, "key 'retention' is outside any section");
	test_bad("[daemon]\nretention\n", 2, "expected 'key = value'");
	test_bad("[daemon]\n = 3\n", 2, "missing key name");
	/* Keys of a rejected section are not reported again. */
	test_bad("[bogus]\nfoo = 1\nbar = 2\n", 1, "unknown section [bogus]");
}

static void
test_keys(void)
{
	test_bad("[daemon]\nretention = 1\nfoo = bar\n", 3, "[daemon] unknown key 'foo'");
	test_bad("[source lab]\ntype = jsonl\npath = /a\npoll = 3\n", 4,
	         "[source lab] unknown key 'poll'");
	test_bad("[daemon]\nretention = 1\nretention = 2\n", 3,
	         "[daemon] duplicate key 'retention' (first at line 2)");
	test_bad(OPENAI "poll_interval = fast\n", 4,
	         "[source openai] poll_interval: invalid duration 'fast' (use 500ms, 30s, 5m, "
	         "2h, 1d)");
	test_bad(OPENAI "poll_interval = 50ms\n", 4, "poll_interval: must be at least 100ms");
	test_bad(OPENAI "timeout = 0\n", 4, "[source openai] timeout: must be greater than 0");
	test_bad(OPENAI "timeout =\n", 4, "[source openai] timeout: missing value");
	test_bad("[source lab]\ntype = jsonl\npath = /a\nrescan = 0s\n", 4,
	         "rescan: must be greater than 0");
	test_bad(OPENAI "max_connections = 0\n", 4, "max_connections: 0 is out of range (1..256)");
	test_bad(OPENAI "max_connections = 257\n", 4,
	         "max_connections: 257 is out of range (1..256)");
	test_bad(OPENAI "max_connections = eight\n", 4, "max_connections: invalid number 'eight'");
	test_bad("[rule plateau]\npatience = 0\n", 2,
	         "[rule plateau] patience: 0 is out of range (1..100000)");
	test_bad("[rule plateau]\npatience = 100001\n", 2, "out of range (1..100000)");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/true\nconcurrency = 65\n", 4,
	         "[hook h] concurrency: 65 is out of range (1..64)");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/true\nmax_attempts = 0\n", 4,
	         "[hook h] max_attempts: 0 is out of range (1..1000)");
	test_bad("[daemon]\nretention = 36501\n", 2,
	         "[daemon] retention: 36501 is out of range (0..36500)");
	test_bad(OPENAI "discover = maybe\n", 4,
	         "[source openai] discover: invalid boolean 'maybe' (use yes or no)");
	test_bad("[rule nan]\nenabled = 2\n", 2, "[rule nan] enabled: invalid boolean '2'");
}

static void
test_enums(void)
{
	test_bad("[source x]\ntype = kafka\n", 2,
	         "[source x] type: invalid value 'kafka' (use openai, jsonl, push)");
	test_bad(OPENAI "auth = basic\n", 4,
	         "[source openai] auth: invalid value 'basic' (use bearer, api-key)");
	test_bad("[hook w]\ntype = webhook\nurl = https://h.example/x\nformat = xml\n", 4,
	         "[hook w] format: invalid value 'xml' (use json, slack, text, alertmanager)");
	test_bad("[hook w]\ntype = mail\n", 2, "[hook w] type: invalid value 'mail'");
	test_bad("[rule plateau]\nthreshold_mode = pct\n", 2,
	         "threshold_mode: invalid value 'pct' (use rel, abs)");
	test_bad("[rule t]\ntype = threshold\nmetric = acc\nop = ==\nvalue = 1\n", 4,
	         "[rule t] op: invalid value '=='");
	test_bad("[rule nan]\naction = kill\n", 2,
	         "[rule nan] action: invalid value 'kill' (use none, cancel, pause)");
	test_bad("[rule x]\ntype = gap\n", 2, "[rule x] type: invalid value 'gap'");
	test_bad("[daemon]\nlog_level = loud\n", 2,
	         "[daemon] log_level: invalid log level 'loud' (use err, warning, notice, "
	         "info or debug)");
	test_bad("[daemon]\nsocket_mode = rw\n", 2,
	         "[daemon] socket_mode: invalid mode 'rw' (use an octal mode such as 0660)");
	test_bad("[daemon]\nsocket_mode = 0668\n", 2, "socket_mode: invalid mode '0668'");
	test_bad("[daemon]\nsocket_mode = 04660\n", 2, "socket_mode: invalid mode '04660'");
}

static void
test_values(void)
{
	test_bad("[source openai]\ntype = openai\napi_key_env = K\nbase_url = ftp://x\n", 4,
	         "[source openai] base_url: invalid URL 'ftp://x': must start with http:// "
	         "or https://");
	test_bad(OPENAI "base_url = https://\n", 4,
	         "base_url: invalid URL 'https://': has no host");
	test_bad(OPENAI "base_url = https://h.example/v1?x=1\n", 4, "query or fragment");
	test_bad("[hook w]\ntype = webhook\nurl = hooks.example.org/x\n", 3,
	         "[hook w] url: invalid URL 'hooks.example.org/x'");
	test_bad("[daemon]\ndatabase = ftmon.db\n", 2,
	         "[daemon] database: 'ftmon.db' is not an absolute path");
	test_bad("[daemon]\nsocket = run/s.sock\n", 2,
	         "[daemon] socket: 'run/s.sock' is not an "
	         "absolute path");
	test_bad("[source openai]\ntype = openai\napi_key_file = openai.key\n", 3,
	         "[source openai] api_key_file: 'openai.key' is not an absolute path");
	test_bad("[source lab]\ntype = jsonl\npath = srv/*.jsonl\n", 3,
	         "[source lab] path: 'srv/*.jsonl' is not an absolute path");
	test_bad("[source lab]\ntype = jsonl\npath = /srv/[ab/*.jsonl\n", 3,
	         "[source lab] path: bad glob '/srv/[ab/*.jsonl': unbalanced '['");
	test_bad("[rule nan]\njobs = openai/[!ab\n", 2,
	         "[rule nan] jobs: bad glob 'openai/[!ab': unbalanced '['");
	test_bad("[rule nan]\njobs = a\\\n", 2, "jobs: bad glob 'a\\': ends in a backslash");
	test_bad(OPENAI "api_key_env = 1KEY\n", 4, "duplicate key 'api_key_env'");
	test_bad("[source o]\ntype = openai\napi_key_env = MY-KEY\n", 3,
	         "[source o] api_key_env: 'MY-KEY' is not a valid environment variable name");
	test_bad("[source o]\ntype = openai\napi_key_credential = a/b\n", 3,
	         "api_key_credential: 'a/b' is not a valid credential name");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/echo 'oops\n", 3,
	         "[hook h] command: cannot split '/bin/echo 'oops': unterminated single quote");
	test_bad("[hook h]\ntype = exec\ncommand = \"\n", 3, "unterminated double quote");
	test_bad("[hook h]\ntype = exec\ncommand =\n", 3, "[hook h] command: missing value");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/true\nevents = job.done\n", 4,
	         "[hook h] events: unknown event 'job.done' (use job.discovered, job.status, "
	         "job.finished, alert.fired, alert.resolved or *)");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/true\nevents = ,\n", 4,
	         "events: no events listed");
	test_bad("[rule spike]\nsigma = 0\n", 2, "[rule spike] sigma: must be greater than 0");
	test_bad("[rule spike]\nwindow = 1\n", 2, "[rule spike] window: 1 is out of range");
	test_bad("[rule divergence]\nmin_delta = -0.1\n", 2,
	         "[rule divergence] min_delta: must not be negative");
	test_bad("[rule t]\ntype = threshold\nmetric = a\nop = <\nvalue = nan\n", 5,
	         "[rule t] value: invalid number 'nan'");
	test_bad("[rule divergence]\nmetric = valid loss\n", 2,
	         "metric: 'valid loss' must be a single word");
	test_bad("[rule divergence]\nmetric = loss\nreference = loss\n", 3,
	         "[rule divergence] reference: must differ from metric");
	test_bad("[rule stale]\nstale_after = 0\n", 2, "stale_after: must be greater than 0");
	test_bad("[rule stale]\ncooldown = soon\n", 2, "cooldown: invalid duration 'soon'");

	char *longsock = xasprintf("[daemon]\nsocket = /%0120d\n", 0);
	test_bad(longsock, 2, "[daemon] socket: socket path is longer than 107 bytes");
	free(longsock);
}

static void
test_required(void)
{
	test_bad("[source openai]\ntype = openai\n", 1,
	         "[source openai] missing required key: one of api_key_file, api_key_env or "
	         "api_key_credential");
	test_bad("[source openai]\ntype = openai\napi_key_env = K\n"
	         "api_key_file = /etc/k\n",
	         4,
	         "[source openai] api_key_file: only one of api_key_file, api_key_env and "
	         "api_key_credential may be set ('api_key_env' is set at line 3)");
	test_bad("[source lab]\ntype = jsonl\n", 1, "[source lab] missing required key 'path'");
	test_bad("[hook h]\ntype = exec\n", 1, "[hook h] missing required key 'command'");
	test_bad("[hook h]\ntype = webhook\n", 1, "[hook h] missing required key 'url'");
	test_bad("[hook h]\ncommand = /bin/true\n", 1, "[hook h] missing required key 'type'");
	test_bad("[rule myrule]\nmetric = x\n", 1,
	         "[rule myrule] missing required key 'type' ('myrule' is not a built-in rule");
	test_bad("[rule acc]\ntype = threshold\nmetric = acc\nop = >=\n", 1,
	         "[rule acc] missing required key 'value'");
	test_bad("[rule nan]\ntype = spike\n", 2,
	         "[rule nan] type: a rule named after the built-in 'nan' must have type nan");
	test_bad("[rule threshold]\nop = <\nvalue = 1\n", 1,
	         "[rule threshold] missing required key 'metric'");
}

static void
test_applies(void)
{
	/* The type may come after the key that does not fit it. */
	test_bad("[source openai]\npath = /srv/x\ntype = openai\napi_key_env = K\n", 2,
	         "[source openai] path: does not apply to type openai");
	test_bad("[source lab]\ntype = jsonl\npath = /a\ndiscover = no\n", 4,
	         "[source lab] discover: does not apply to type jsonl");
	test_bad("[source p]\ntype = push\npoll_interval = 5s\n", 3,
	         "[source p] poll_interval: does not apply to type push");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/true\nurl = https://h.example/\n", 4,
	         "[hook h] url: does not apply to type exec");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/true\nformat = slack\n", 4,
	         "[hook h] format: does not apply to type exec");
	test_bad("[hook w]\ntype = webhook\nurl = https://h.example/\ncommand = x\n", 4,
	         "[hook w] command: does not apply to type webhook");
	test_bad("[hook h]\ntype = exec\ncommand = /bin/true\nheaders_file = /etc/h\n", 4,
	         "[hook h] headers_file: does not apply to type exec");
	test_bad("[rule overfit]\ntype = divergence\nop = <\n", 3,
	         "[rule overfit] op: does not apply to type divergence");
	test_bad("[rule stale]\nmetric = loss\n", 2,
	         "[rule stale] metric: does not apply to "
	         "type stale");
	test_bad("[rule nan]\npatience = 3\n", 2,
	         "[rule nan] patience: does not apply to type nan");
	test_bad("[rule spike]\nstale_after = 5m\n", 2,
	         "stale_after: does not apply to type spike");
}

static void
test_many_errors(void)
{
	const char *text = "[daemon]\n"               /* 1 */
	                   "retention = -1\n"         /* 2 */
	                   "[source openai]\n"        /* 3 */
	                   "type = openai\n"          /* 4 */
	                   "poll_interval = fast\n"   /* 5 */
	                   "[foo]\n"                  /* 6 */
	                   "[hook h]\n"               /* 7 */
	                   "type = exec\n"            /* 8 */
	                   "url = http://x.example\n" /* 9 */
	                   "bogus\n";                 /* 10 */
	const char *want =
	        "t.conf:2: [daemon] retention: invalid number '-1'\n"
	        "t.conf:3: [source openai] missing required key: one of api_key_file, "
	        "api_key_env or api_key_credential\n"
	        "t.conf:5: [source openai] poll_interval: invalid duration 'fast' (use 500ms, "
	        "30s, 5m, 2h, 1d)\n"
	        "t.conf:6: unknown section [foo] (use [daemon], [source NAME], [rule NAME] or "
	        "[hook NAME])\n"
	        "t.conf:7: [hook h] missing required key 'command'\n"
	        "t.conf:9: [hook h] url: does not apply to type exec\n"
	        "t.conf:10: expected 'key = value', '[section]' or a comment\n";
	char *errors = NULL;
	struct conf *conf = conf_load_string(text, "t.conf", &errors);

	ok(conf == NULL, "several errors: load fails");
	is_str(errors, want, "several errors: all reported, sorted by line");
	free(errors);
}

static const char *const test_full_text =
        "# every key of every section\n"
        "[daemon]\n"
        "database = /srv/ftmon/db.sqlite\n"
        "socket = /tmp/ftmon.sock\n"
        "socket_mode = 0600\n"
        "admin_group = mlteam\n"
        "retention = 90\n"
        "log_level = debug\n"
        "\n"
        "[source openai]\n" /* line 10 */
        "type = openai\n"
        "base_url = https://api.example.com/v1//\n"
        "api_key_file = /etc/ftmon/openai.key\n"
        "organization = org-123\n"
        "project = proj_456\n"
        "auth = api-key\n"
        "api_version = 2024-10-21\n"
        "discover = no\n"
        "poll_interval = 5m\n"
        "max_connections = 16\n"
        "timeout = 2h\n"
        "\n"
        "[source lab]\n" /* line 23 */
        "type = jsonl\n"
        "path = /srv/train/*/metrics.jsonl\n"
        "rescan = 500ms\n"
        "[source push]\n"
        "type = push\n"
        "[source cred]\n"
        "type = openai\n"
        "api_key_credential = openai\n"
        "\n"
        "[rule overfit]\n" /* line 33 */
        "type = divergence\n"
        "enabled = no\n"
        "metric = valid_loss\n"
        "reference = train_loss\n"
        "patience = 3\n"
        "min_delta = 0.01\n"
        "threshold_mode = abs\n"
        "cooldown = 1d\n"
        "jobs = openai/*\n"
        "action = cancel\n"
        "[rule spike]\n" /* line 44 */
        "window = 128\n"
        "sigma = 6\n"
        "[rule stale]\n"
        "stale_after = 45\n"
        "[rule acc]\n"
        "type = threshold\n"
        "metric = valid_mean_token_accuracy\n"
        "op = >=\n"
        "value = 0.9\n"
        "action = pause\n"
        "[rule plateau]\n"
        "metric = train_loss\n"
        "\n"
        "[hook team]\n" /* line 58 */
        "type = webhook\n"
        "url = https://hooks.example.org/T000/B000/XXXX\n"
        "format = alertmanager\n"
        "events = job.finished, alert.fired\n"
        "timeout = 10s\n"
        "max_attempts = 3\n"
        "concurrency = 2\n"
        "headers_file = /etc/ftmon/team.headers\n"
        "[hook script]\n"
        "type = exec\n"
        "command = /etc/ftmon/hooks/notify --channel 'ml team' \"a b\"\n"
        "events = *\n";

static void
test_full_sources(const struct conf *c)
{
	const struct conf_source *o = &c->sources[0], *l = &c->sources[1];

	is_int(c->nsources, 4, "full: 4 sources");
	is_str(o->name, "openai", "full: source name");
	is_int(o->line, 10, "full: source line");
	is_int(o->type, CONF_SOURCE_OPENAI, "full: openai type");
	is_str(o->base_url, "https://api.example.com/v1", "full: base_url loses trailing '/'");
	is_str(o->api_key_file, "/etc/ftmon/openai.key", "full: api_key_file");
	ok(o->api_key_env == NULL && o->api_key_credential == NULL, "full: one key source");
	is_str(o->organization, "org-123", "full: organization");
	is_str(o->project, "proj_456", "full: project");
	is_int(o->auth, CONF_AUTH_API_KEY, "full: auth");
	is_str(o->api_version, "2024-10-21", "full: api_version");
	is_int(o->discover, 0, "full: discover");
	is_int(o->poll_interval_ms, 300000, "full: poll_interval 5m");
	is_int(o->max_connections, 16, "full: max_connections");
	is_int(o->timeout_ms, 7200000, "full: timeout 2h");
	is_int(l->type, CONF_SOURCE_JSONL, "full: jsonl type");
	is_int(l->line, 23, "full: jsonl line");
	is_str(l->path, "/srv/train/*/metrics.jsonl", "full: path");
	is_int(l->rescan_ms, 500, "full: rescan 500ms");
	ok(l->base_url == NULL, "full: jsonl has no base_url");
	is_int(c->sources[2].type, CONF_SOURCE_PUSH, "full: push type");
	is_str(c->sources[3].api_key_credential, "openai", "full: api_key_credential");
	is_str(c->sources[3].base_url, "https://api.openai.com/v1", "full: default base_url");
	ok(conf_find_source(c, "lab") == l, "conf_find_source finds lab");
	ok(conf_find_source(c, "nope") == NULL, "conf_find_source: absent is NULL");
	is_str(conf_source_type_name(CONF_SOURCE_JSONL), "jsonl", "type name jsonl");
	is_str(conf_source_type_name(CONF_SOURCE_OPENAI), "openai", "type name openai");
	is_str(conf_source_type_name(CONF_SOURCE_PUSH), "push", "type name push");
}

static void
test_full_rules(const struct conf *c)
{
	const struct conf_rule *r = c->rules;

	is_int(c->nrules, 7, "full: 4 built-in + 3 user rules");
	is_str(r[0].name, "nan", "full: rule 0 nan");
	is_str(r[1].name, "divergence", "full: rule 1 divergence");
	is_str(r[2].name, "spike", "full: rule 2 spike");
	is_int(r[2].line, 44, "full: spike section line");
	is_int(r[2].window, 128, "full: window");
	is_double(r[2].sigma, 6, 0, "full: sigma");
	is_str(r[3].name, "stale", "full: rule 3 stale");
	is_int(r[3].stale_after_ms, 45000, "full: bare 45 is 45s");
	is_str(r[4].name, "overfit", "full: user rule overfit");
	is_int(r[4].type, CONF_RULE_DIVERGENCE, "full: overfit type");
	is_int(r[4].enabled, 0, "full: enabled = no");
	is_str(r[4].metric, "valid_loss", "full: metric");
	is_str(r[4].reference, "train_loss", "full: reference");
	is_int(r[4].patience, 3, "full: patience");
	is_double(r[4].min_delta, 0.01, 1e-12, "full: min_delta");
	is_int(r[4].threshold_mode, CONF_THRESHOLD_ABS, "full: threshold_mode");
	is_int(r[4].cooldown_ms, 86400000, "full: cooldown 1d");
	is_str(r[4].jobs, "openai/*", "full: jobs");
	is_int(r[4].action, CONF_ACTION_CANCEL, "full: action cancel");
	is_str(r[5].name, "acc", "full: threshold rule");
	is_int(r[5].type, CONF_RULE_THRESHOLD, "full: threshold type");
	is_int(r[5].op, CONF_OP_GE, "full: op >=");
	is_double(r[5].value, 0.9, 1e-12, "full: value");
	is_int(r[5].action, CONF_ACTION_PAUSE, "full: action pause");
	is_int(r[6].type, CONF_RULE_PLATEAU, "full: [rule plateau] gets type plateau");
	is_str(r[6].metric, "train_loss", "full: plateau metric");
}

static void
test_full_hooks(const struct conf *c)
{
	const struct conf_hook *w = &c->hooks[0], *x = &c->hooks[1];

	is_int(c->nhooks, 2, "full: 2 hooks");
	is_str(w->name, "team", "full: hook name");
	is_int(w->line, 58, "full: hook line");
	is_int(w->type, CONF_HOOK_WEBHOOK, "full: webhook");
	is_str(w->url, "https://hooks.example.org/T000/B000/XXXX", "full: url");
	is_int(w->format, CONF_FORMAT_ALERTMANAGER, "full: format");
	ok(w->events[0] && w->events[1] && !w->events[2], "full: two events");
	is_str(w->events[0], "job.finished", "full: event 0");
	is_str(w->events[1], "alert.fired", "full: event 1 (comma separated)");
	is_int(w->timeout_ms, 10000, "full: hook timeout");
	is_int(w->max_attempts, 3, "full: max_attempts");
	is_int(w->concurrency, 2, "full: concurrency");
	is_str(w->headers_file, "/etc/ftmon/team.headers", "full: headers_file");
	ok(x->headers_file == NULL, "full: no headers_file by default");
	is_int(x->type, CONF_HOOK_EXEC, "full: exec");
	is_str(x->command, "/etc/ftmon/hooks/notify --channel 'ml team' \"a b\"",
	       "full: command as written");
	ok(x->argv && x->argv[3] && !x->argv[4], "full: argv has 4 words");
	is_str(x->argv[2], "ml team", "full: argv single-quoted word");
	is_str(x->argv[3], "a b", "full: argv double-quoted word");
	is_str(x->events[0], "*", "full: events = *");
}

static void
test_full(void)
{
	struct conf *c = test_good(test_full_text, "every key of every section");

	if (c == NULL)
		return;
	is_str(c->path, "t.conf", "full: path");
	is_str(c->database, "/srv/ftmon/db.sqlite", "full: database");
	is_str(c->socket, "/tmp/ftmon.sock", "full: socket");
	is_int(c->socket_mode, 0600, "full: socket_mode");
	is_str(c->admin_group, "mlteam", "full: admin_group");
	is_int(c->retention_days, 90, "full: retention");
	is_int(c->log_level, LOG_LEVEL_DEBUG, "full: log_level");
	test_full_sources(c);
	test_full_rules(c);
	test_full_hooks(c);
	conf_free(c);
}

/* The example in SPEC.md, verbatim. */
static const char *const test_spec_text =
        "[daemon]\n"
        "database = /var/lib/ftmon/ftmon.db\n"
        "socket = /run/ftmon/ftmon.sock\n"
        "admin_group = ftmon        ; members (and root) may run mutating commands\n"
        "retention = 0              ; days to keep metric points of finished jobs; 0 = forever\n"
        "\n"
        "[source openai]\n"
        "type = openai\n"
        "base_url = https://api.openai.com/v1\n"
        "api_key_file = /etc/ftmon/openai.key   ; or: api_key_env = OPENAI_API_KEY\n"
        "                                        ; or: api_key_credential = openai (systemd LoadCredential)\n"
        "organization =                          ; optional OpenAI-Organization header\n"
        "project =                               ; optional OpenAI-Project header\n"
        "auth = bearer              ; bearer (OpenAI) | api-key (Azure OpenAI's header)\n"
        "api_version =              ; when set, sent as ?api-version= (Azure OpenAI)\n"
        "discover = yes             ; yes: track every job the key can list; no: only `ftmonctl track`\n"
        "poll_interval = 30s        ; running jobs; finished jobs are not polled again\n"
        "max_connections = 8\n"
        "timeout = 30s\n"
        "\n"
        "[source lab]\n"
        "type = jsonl\n"
        "path = /srv/train/*/metrics.jsonl    ; glob; each file is one job\n"
        "\n"
        "[source push]\n"
        "type = push                ; jobs created by `ftmonctl log` / socket `log` requests\n"
        "\n"
        "[rule overfit]\n"
        "type = divergence\n"
        "metric = valid_loss\n"
        "reference = train_loss\n"
        "patience = 3\n"
        "min_delta = 0.01\n"
        "\n"
        "[hook team]\n"
        "type = webhook\n"
        "url = https://hooks.example.org/T000/B000/XXXX\n"
        "format = slack             ; json | slack | text | alertmanager\n"
        "events = job.finished alert.fired\n"
        "\n"
        "[hook script]\n"
        "type = exec\n"
        "command = /etc/ftmon/hooks/notify --channel ml\n"
        "events = *\n"
        "timeout = 30s\n";

static void
test_spec_example(void)
{
	struct conf *c = test_good(test_spec_text, "the SPEC.md example");

	if (c == NULL)
		return;
	is_str(c->admin_group, "ftmon", "spec: admin_group with inline comment");
	is_int(c->nsources, 3, "spec: three sources");
	is_str(c->sources[0].api_key_file, "/etc/ftmon/openai.key", "spec: api_key_file");
	ok(c->sources[0].organization == NULL, "spec: empty organization is unset");
	is_int(c->sources[2].type, CONF_SOURCE_PUSH, "spec: push source");
	is_int(c->nrules, 5, "spec: built-ins plus overfit");
	is_str(c->rules[4].reference, "train_loss", "spec: overfit reference");
	is_int(c->hooks[0].format, CONF_FORMAT_SLACK, "spec: slack format");
	is_str(c->hooks[1].argv[2], "ml", "spec: exec argv");
	conf_free(c);
}

static void
test_defaults(void)
{
	struct conf *c = test_good("", "empty file");

	if (c != NULL) {
		is_str(c->database, CONF_DEFAULT_DATABASE, "default database");
		is_str(c->socket, CONF_DEFAULT_SOCKET, "default socket");
		is_int(c->socket_mode, 0660, "default socket_mode");
		ok(c->admin_group == NULL, "default admin_group unset");
		is_int(c->retention_days, 0, "default retention");
		is_int(c->log_level, LOG_LEVEL_INFO, "default log_level");
		is_int(c->nsources, 0, "no sources");
		is_int(c->nhooks, 0, "no hooks");
		is_int(c->nrules, 4, "built-in rules only");
		for (size_t i = 0; i < c->nrules; i++) {
			const struct conf_rule *r = &c->rules[i];
			ok(r->enabled && r->jobs && strcmp(r->jobs, "*") == 0 &&
			           r->action == CONF_ACTION_NONE && r->metric == NULL &&
			           r->reference == NULL && r->patience == 0 &&
			           isnan(r->min_delta) && r->threshold_mode == CONF_THRESHOLD_REL &&
			           r->cooldown_ms == 0 && r->window == 0 && isnan(r->sigma) &&
			           r->stale_after_ms == 1800000 && isnan(r->value) && r->line == 0,
			   "built-in rule %s has its defaults", r->name);
		}
		is_int(c->rules[0].type, CONF_RULE_NAN, "rule 0 type nan");
		is_int(c->rules[1].type, CONF_RULE_DIVERGENCE, "rule 1 type divergence");
		is_int(c->rules[2].type, CONF_RULE_SPIKE, "rule 2 type spike");
		is_int(c->rules[3].type, CONF_RULE_STALE, "rule 3 type stale");
		conf_free(c);
	}

	c = test_good(OPENAI "organization =\nproject =   ; none\napi_version =\n"
	                     "[source lab]\ntype = jsonl\npath = /x/*.jsonl\n"
	                     "[hook h]\ntype = exec\ncommand = /bin/true\n"
	                     "[rule nan]\nenabled = no\n",
	              "defaults of sources, hooks");
	if (c == NULL)
		return;
	const struct conf_source *o = &c->sources[0];
	is_str(o->base_url, "https://api.openai.com/v1", "default base_url");
	is_str(o->api_key_env, "KEY", "api_key_env");
	ok(o->organization == NULL && o->project == NULL && o->api_version == NULL,
	   "empty organization/project/api_version are NULL");
	is_int(o->auth, CONF_AUTH_BEARER, "default auth");
	is_int(o->discover, 1, "default discover");
	is_int(o->poll_interval_ms, 30000, "default poll_interval");
	is_int(o->max_connections, 8, "default max_connections");
	is_int(o->timeout_ms, 30000, "default timeout");
	is_int(c->sources[1].rescan_ms, 30000, "default rescan");
	const struct conf_hook *h = &c->hooks[0];
	ok(h->events && strcmp(h->events[0], "*") == 0 && h->events[1] == NULL, "default events *");
	is_int(h->format, CONF_FORMAT_JSON, "default format");
	is_int(h->timeout_ms, 30000, "default hook timeout");
	is_int(h->max_attempts, 10, "default max_attempts");
	is_int(h->concurrency, 4, "default concurrency");
	ok(h->argv && strcmp(h->argv[0], "/bin/true") == 0 && !h->argv[1], "argv of /bin/true");
	is_int(c->nrules, 4, "[rule nan] tunes the built-in, adds none");
	is_int(c->rules[0].enabled, 0, "[rule nan] enabled = no");
	is_int(c->rules[0].line, 13, "[rule nan] line recorded");
	conf_free(c);
}

static void
test_durations(void)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} cases[] = {
	        {"500ms", 500},   {"30s", 30000}, {"5m", 300000}, {"2h", 7200000},
	        {"1d", 86400000}, {"45", 45000},  {"1.5", 1500},  {"100ms", 100},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = xasprintf(OPENAI "poll_interval = %s\n", cases[i].text);
		struct conf *c = test_good(text, cases[i].text);
		if (c != NULL)
			is_int(c->sources[0].poll_interval_ms, cases[i].ms, "poll_interval %s",
			       cases[i].text);
		conf_free(c);
		free(text);
	}
	test_bad(OPENAI "poll_interval = 99ms\n", 4, "poll_interval: must be at least 100ms");
	test_bad(OPENAI "poll_interval = 30 s\n", 4, "invalid duration '30 s'");
	test_bad(OPENAI "poll_interval = 5M\n", 4, "invalid duration '5M'");
	test_bad(OPENAI "poll_interval = -5s\n", 4, "invalid duration '-5s'");
}

static void
test_syntax(void)
{
	struct conf *c;

	c = test_good("; comment\n# comment\n  [source lab]   # trailing\n"
	              "type = jsonl ; comment\n"
	              "path = /srv/a;b#c/*.jsonl # comment needs a space before it\n"
	              "\trescan\t=\t2m\t;tabbed\n",
	              "comments and whitespace");
	if (c != NULL) {
		is_str(c->sources[0].path, "/srv/a;b#c/*.jsonl", "';' and '#' inside a value kept");
		is_int(c->sources[0].rescan_ms, 120000, "tabs around '=' and the value");
	}
	conf_free(c);

	c = test_good("\xef\xbb\xbf[daemon]\r\nretention = 7\r\n[source p]\r\ntype = push",
	              "BOM, CRLF and no final newline");
	if (c != NULL) {
		is_int(c->retention_days, 7, "CRLF value");
		is_int(c->sources[0].line, 3, "line counted across CRLF");
	}
	conf_free(c);

	/* libinih truncates section names to 49 bytes; ours are kept. */
	const char *longname = "a123456789b123456789c123456789d123456789e123456789f1234";
	char *text = xasprintf("[source %s]\ntype = push\n", longname);
	c = test_good(text, "55-character source name");
	if (c != NULL)
		is_str(c->sources[0].name, longname, "long section name kept whole");
	conf_free(c);
	free(text);
	text = xasprintf("[source %s]\ntype = push\nx = 1\n", longname);
	test_bad(text, 3,
	         "[source a123456789b123456789c123456789d123456789e123456789f1234] "
	         "unknown key 'x'");
	free(text);
}

/* A hook whose command line (line 3) is len characters long. */
static void
test_long_line(struct buf *b, size_t len)
{
	buf_reset(b);
	buf_puts(b, "[hook h]\ntype = exec\ncommand = /bin/echo ");
	for (size_t n = strlen("command = /bin/echo "); n < len; n++)
		buf_puts(b, "x");
	buf_puts(b, len > 65533 ? "\nevents = alert.fire\n" : "\nevents = alert.fired\n");
}

static void
test_long_lines(void)
{
	struct buf b = BUF_INIT;
	struct conf *c;
	size_t cmdlen;

	/* A 1000-character command line. */
	buf_puts(&b, "[hook h]\ntype = exec\ncommand = /bin/echo");
	for (int i = 0; i < 98; i++)
		buf_puts(&b, " arg456789");
	buf_puts(&b, " arg4567890");
	buf_puts(&b, "\nevents = job.finished\n");
	c = test_good(b.data, "1000-character command");
	if (c != NULL) {
		cmdlen = strlen(c->hooks[0].command);
		is_int(cmdlen, 1000, "command kept whole");
		ok(c->hooks[0].argv[99] && !c->hooks[0].argv[100], "command split into 100 words");
		is_str(c->hooks[0].events[0], "job.finished", "key after the long line");
	}
	conf_free(c);
	buf_reset(&b);

	/* The longest line allowed, then one character more. */
	test_long_line(&b, 65533);
	c = test_good(b.data, "65533-character line");
	if (c != NULL) {
		is_int(strlen(c->hooks[0].command), 65533 - 10, "65533-character line kept whole");
		is_str(c->hooks[0].events[0], "alert.fired", "line count right after it");
	}
	conf_free(c);
	test_long_line(&b, 65534);
	char *errors = NULL;
	c = conf_load_string(b.data, "t.conf", &errors);
	is_str(errors,
	       "t.conf:1: [hook h] missing required key 'command'\n"
	       "t.conf:3: line is longer than 65533 characters\n"
	       "t.conf:4: [hook h] events: unknown event 'alert.fire' (use job.discovered, "
	       "job.status, job.finished, alert.fired, alert.resolved or *)\n",
	       "65534-character line is an error, later lines still counted");
	free(errors);
	conf_free(c);
	buf_free(&b);
}

static void
test_files(void)
{
	char *errors = NULL;
	char path[] = "/tmp/test_conf.XXXXXX";
	struct conf *c = conf_load("/nonexistent/ftmon.conf", &errors);
	const char *srcdir = getenv("srcdir");
	char *example;
	int fd;
	FILE *f;

	ok(c == NULL, "missing file fails");
	is_str(errors, "/nonexistent/ftmon.conf: No such file or directory\n",
	       "missing file message");
	free(errors);

	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f != NULL) {
		fputs("[daemon]\nretention = 3\n\n[source x]\n", f);
		fclose(f);
	}
	c = conf_load(path, &errors);
	char *want = xasprintf("%s:4: [source x] missing required key 'type'\n", path);
	is_str(errors, want, "conf_load names the file in errors");
	free(want);
	free(errors);
	unlink(path);

	example = xasprintf("%s/etc/ftmon.conf", srcdir ? srcdir : "../..");
	if (access(example, R_OK) != 0) {
		free(example);
		example = xstrdup("etc/ftmon.conf");
	}
	c = conf_load(example, &errors);
	ok(c != NULL, "the example etc/ftmon.conf validates");
	if (c == NULL)
		TAP_DIAG("  %s", errors);
	if (c != NULL) {
		is_int(c->nsources, 1, "example: one source");
		is_str(c->sources[0].api_key_env, "OPENAI_API_KEY", "example: api_key_env");
		is_int(c->sources[0].discover, 1, "example: discover");
		is_str(c->database, CONF_DEFAULT_DATABASE, "example: default database");
		is_str(c->socket, CONF_DEFAULT_SOCKET, "example: default socket");
	}
	conf_free(c);
	free(errors);
	free(example);
}

static void
test_equal(void)
{
	const char *base = OPENAI "poll_interval = 10s\n[source lab]\ntype = jsonl\npath = /a\n";
	struct conf *a = test_good(base, "equal: a");
	struct conf *b = test_good(base, "equal: b");
	const char *moved = "\n\n" OPENAI "poll_interval = 10s\nproject = p\n"
	                    "[source lab]\ntype = jsonl\npath = /a\n";
	struct conf *m = test_good(moved, "equal: changed");

	if (a && b && m) {
		ok(conf_source_equal(&a->sources[0], &b->sources[0]), "same section is equal");
		ok(conf_source_equal(&a->sources[1], &m->sources[1]),
		   "a section that only moved is equal");
		ok(!conf_source_equal(&a->sources[0], &m->sources[0]),
		   "a changed project is not equal");
		ok(!conf_source_equal(&a->sources[0], &a->sources[1]), "different sources differ");
		b->sources[0].poll_interval_ms++;
		ok(!conf_source_equal(&a->sources[0], &b->sources[0]), "poll_interval compared");
	}
	conf_free(a);
	conf_free(b);
	conf_free(m);
	conf_free(NULL);
}

/* rules: mode, and an action that no source could carry out. */
static void
test_rule_mode_action(void)
{
	struct conf *conf;

	test_bad("[rule spike]\nmode = up\n", 2,
	         "[rule spike] mode: invalid value 'up' (use auto, min, max)");
	test_bad("[rule nan]\nmode = max\n", 2, "[rule nan] mode: does not apply to type nan");
	test_bad("[rule divergence]\naction = cancel\n", 1,
	         "[rule divergence] action: needs a source of type openai");
	conf = test_good(OPENAI "[rule divergence]\naction = cancel\nmode = max\n",
	                 "action with an openai source, mode = max");
	ok(conf && conf->rules[1].mode == CONF_MODE_MAX && conf->rules[0].mode == CONF_MODE_AUTO,
	   "mode: set where given, auto by default");
	conf_free(conf);
}

int
main(void)
{
	test_rule_mode_action();
	test_sections();
	test_keys();
	test_enums();
	test_values();
	test_required();
	test_applies();
	test_many_errors();
	test_full();
	test_spec_example();
	test_defaults();
	test_durations();
	test_syntax();
	test_long_lines();
	test_files();
	test_equal();
	return tap_done();
}
