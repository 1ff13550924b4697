/*
 * conf: ftmon.conf parsing and validation, the driver.
 *
 * Parsing runs in two passes.  The first (conf_ini.c) feeds the text to
 * libinih and collects every section with its raw "key = value" entries
 * and their lines.  The second (conf_value.c, driven by the tables of
 * conf_keys.c) turns each section into its struct once its `type` is
 * known; the section rules (required keys, the built-in rules, exactly one
 * API key) are here.  Errors are collected, sorted by line and returned
 * together: a user fixing a config sees every problem at once.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "conf_internal.h"
#include "log.h"
#include "shellwords.h"
#include "util.h"
#include "xmalloc.h"

#define CONF_DEFAULT_BASE_URL "https://api.openai.com/v1"

struct conf_error {
	int line;
	size_t seq; /* keeps errors of one line in the order found */
	char *text;
};

/* The rules every config has, in this order, before any user rule. */
static const enum conf_rule_type conf_builtin_rules[] = {
        CONF_RULE_NAN,
        CONF_RULE_DIVERGENCE,
        CONF_RULE_SPIKE,
        CONF_RULE_STALE,
};

/* ---- errors ---- */

static void
conf_verror(struct conf_parser *p, int line, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory formatting a string");
	p->errors = xreallocarray(p->errors, p->nerrors + 1, sizeof(*p->errors));
	p->errors[p->nerrors] = (struct conf_error){
	        .line = line,
	        .seq = p->nerrors,
	        .text = xasprintf("%s:%d: %s", p->file, line, msg),
	};
	p->nerrors++;
	free(msg);
}

void
conf_error(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verror(p, line, fmt, ap);
	va_end(ap);
}

void
conf_key_error(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
               const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory formatting a string");
	va_end(ap);
	conf_error(p, e->line, "%s %s: %s", sec->label, e->key, msg);
	free(msg);
}

static int
conf_error_cmp_cb(const void *a, const void *b)
{
	const struct conf_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* All errors, sorted by line, one per line of text; empties the list. */
static char *
conf_errors_text(struct conf_parser *p)
{
	struct buf b = BUF_INIT;

	qsort(p->errors, p->nerrors, sizeof(*p->errors), conf_error_cmp_cb);
	for (size_t i = 0; i < p->nerrors; i++) {
		buf_printf(&b, "%s\n", p->errors[i].text);
		free(p->errors[i].text);
	}
	free(p->errors);
	p->errors = NULL;
	p->nerrors = 0;
	return buf_steal(&b);
}

/* ---- building the conf ---- */

static void
conf_build_daemon(struct conf_parser *p, struct conf *conf)
{
	conf->database = xstrdup(CONF_DEFAULT_DATABASE);
	conf->socket = xstrdup(CONF_DEFAULT_SOCKET);
	conf->socket_mode = 0660;
	conf->retention_days = 0;
	conf->log_level = LOG_LEVEL_INFO;
	for (size_t i = 0; i < p->nsections; i++)
		if (p->sections[i].kind == CONF_KIND_DAEMON)
			conf_apply_section(p, &p->sections[i], conf, 0, NULL);
}

/* Exactly one way to find the API key. */
static void
conf_check_api_key(struct conf_parser *p, const struct conf_section *sec, struct conf_source *src)
{
	static const char *const keys[] = {"api_key_file", "api_key_env", "api_key_credential"};
	const struct conf_entry *first = NULL;

	for (size_t i = 0; i < sec->nentries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		bool is_key = false;
		for (size_t j = 0; j < ARRAY_SIZE(keys); j++)
			is_key |= strcmp(e->key, keys[j]) == 0;
		if (!is_key)
			continue;
		if (first == NULL)
			first = e;
		else
			conf_key_error(p, sec, e,
			               "only one of api_key_file, api_key_env and "
			               "api_key_credential may be set ('%s' is set at line %d)",
			               first->key, first->line);
	}
	if (first == NULL)
		conf_error(p, sec->line,
		           "%s missing required key: one of api_key_file, "
		           "api_key_env or api_key_credential",
		           sec->label);
	else
		src->api_key_line = first->line;
}

static void
conf_build_source(struct conf_parser *p, const struct conf_section *sec, struct conf_source *src)
{
	int type = conf_section_type(p, sec, conf_source_types);

	src->name = xstrdup(sec->name);
	src->line = sec->line;
	src->type = type >= 0 ? (enum conf_source_type)type : CONF_SOURCE_PUSH;
	src->auth = CONF_AUTH_BEARER;
	src->discover = true;
	src->poll_interval_ms = 30000;
	src->max_connections = 8;
	src->timeout_ms = 30000;
	src->rescan_ms = 30000;
	conf_apply_section(p, sec, src, type, conf_source_types);
	if (type == CONF_SOURCE_OPENAI) {
		conf_check_api_key(p, sec, src);
		if (src->base_url == NULL)
			src->base_url = xstrdup(CONF_DEFAULT_BASE_URL);
	} else if (type == CONF_SOURCE_JSONL) {
		conf_require(p, sec, "path");
	}
}

static void
conf_rule_defaults(struct conf_rule *r, const char *name, enum conf_rule_type type)
{
	*r = (struct conf_rule){
	        .name = xstrdup(name),
	        .type = type,
	        .enabled = true,
	        .min_delta = NAN,
	        .threshold_mode = CONF_THRESHOLD_REL,
	        .sigma = NAN,
	        .stale_after_ms = 30 * 60 * 1000,
	        .op = CONF_OP_GT,
	        .value = NAN,
	        .jobs = xstrdup("*"),
	        .action = CONF_ACTION_NONE,
	};
}

/* The rule type of sec: `type =`, else the section name if that names a
 * built-in rule.  -1 after reporting. */
static int
conf_rule_type_of(struct conf_parser *p, const struct conf_section *sec)
{
	const struct conf_entry *e = conf_section_get(sec, "type");
	int named = -1, type;

	for (const struct conf_name *n = conf_rule_types; n->name; n++)
		if (strcmp(sec->name, n->name) == 0)
			named = n->value;
	if (e == NULL) {
		if (named < 0)
			conf_error(p, sec->line,
			           "%s missing required key 'type' ('%s' is not "
			           "a built-in rule: nan, divergence, spike, stale, plateau, "
			           "threshold)",
			           sec->label, sec->name);
		return named;
	}
	type = conf_section_type(p, sec, conf_rule_types);
	if (type >= 0 && named >= 0 && type != named) {
		conf_key_error(p, sec, e,
		               "a rule named after the built-in '%s' must have "
		               "type %s",
		               sec->name, sec->name);
		return -1;
	}
	return type;
}

static void
conf_build_rule(struct conf_parser *p, const struct conf_section *sec, struct conf *conf)
{
	int type = conf_rule_type_of(p, sec);
	struct conf_rule *r = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(conf_builtin_rules); i++)
		if (strcmp(conf->rules[i].name, sec->name) == 0)
			r = &conf->rules[i];
	if (r == NULL) {
		r = &conf->rules[conf->nrules++];
		conf_rule_defaults(r, sec->name,
		                   type >= 0 ? (enum conf_rule_type)type : CONF_RULE_NAN);
	}
	r->line = sec->line;
	conf_apply_section(p, sec, r, type, conf_rule_types);
	if (type == CONF_RULE_THRESHOLD) {
		conf_require(p, sec, "metric");
		conf_require(p, sec, "op");
		conf_require(p, sec, "value");
	}
	if (r->metric && r->reference && strcmp(r->metric, r->reference) == 0)
		conf_key_error(p, sec, conf_section_get(sec, "reference"),
		               "must differ from metric");
}

/* action = cancel|pause acts through an openai source: with none
 * configured it could never be carried out. */
static void
conf_check_actions(struct conf_parser *p, const struct conf *conf)
{
	for (size_t i = 0; i < conf->nsources; i++)
		if (conf->sources[i].type == CONF_SOURCE_OPENAI)
			return;
	for (size_t i = 0; i < conf->nrules; i++)
		if (conf->rules[i].action != CONF_ACTION_NONE)
			conf_error(
			        p, conf->rules[i].line,
			        "[rule %s] action: needs a source of type openai (none is configured)",
			        conf->rules[i].name);
}

static void
conf_build_hook(struct conf_parser *p, const struct conf_section *sec, struct conf_hook *h)
{
	int type = conf_section_type(p, sec, conf_hook_types);

	h->name = xstrdup(sec->name);
	h->line = sec->line;
	h->type = type >= 0 ? (enum conf_hook_type)type : CONF_HOOK_EXEC;
	h->format = CONF_FORMAT_JSON;
	h->timeout_ms = 30000;
	h->max_attempts = 10;
	h->concurrency = 4;
	conf_apply_section(p, sec, h, type, conf_hook_types);
	if (h->events == NULL) {
		h->events = xcalloc(2, sizeof(*h->events));
		h->events[0] = xstrdup("*");
	}
	if (type == CONF_HOOK_EXEC)
		conf_require(p, sec, "command");
	else if (type == CONF_HOOK_WEBHOOK)
		conf_require(p, sec, "url");
}

static struct conf *
conf_build(struct conf_parser *p)
{
	struct conf *conf = xcalloc(1, sizeof(*conf));
	size_t n[4] = {0, 0, 0, 0};

	conf->path = xstrdup(p->file);
	for (size_t i = 0; i < p->nsections; i++)
		n[p->sections[i].kind]++;
	conf->sources = xcalloc(n[CONF_KIND_SOURCE], sizeof(*conf->sources));
	conf->rules =
	        xcalloc(ARRAY_SIZE(conf_builtin_rules) + n[CONF_KIND_RULE], sizeof(*conf->rules));
	conf->hooks = xcalloc(n[CONF_KIND_HOOK], sizeof(*conf->hooks));
	for (size_t i = 0; i < ARRAY_SIZE(conf_builtin_rules); i++)
		conf_rule_defaults(&conf->rules[conf->nrules++],
		                   conf_name_of(conf_rule_types, conf_builtin_rules[i]),
		                   conf_builtin_rules[i]);

	conf_build_daemon(p, conf);
	for (size_t i = 0; i < p->nsections; i++) {
		const struct conf_section *sec = &p->sections[i];
		if (sec->kind == CONF_KIND_SOURCE)
			conf_build_source(p, sec, &conf->sources[conf->nsources++]);
		else if (sec->kind == CONF_KIND_RULE)
			conf_build_rule(p, sec, conf);
		else if (sec->kind == CONF_KIND_HOOK)
			conf_build_hook(p, sec, &conf->hooks[conf->nhooks++]);
	}
	conf_check_actions(p, conf);
	return conf;
}

/* ---- public interface ---- */

static struct conf *
conf_load_buffer(const char *text, size_t len, const char *name, char **errors)
{
	struct conf_parser p = {
	        .file = name,
	        .text = text,
	        .len = len,
	        .cur = CONF_CUR_NONE,
	};
	struct conf *conf;

	conf_parse_text(&p);
	conf = conf_build(&p);
	conf_sections_free(&p);
	if (p.nerrors > 0) {
		conf_free(conf);
		*errors = conf_errors_text(&p);
		return NULL;
	}
	free(p.errors);
	*errors = NULL;
	return conf;
}

struct conf *
conf_load_string(const char *text, const char *name, char **errors)
{
	return conf_load_buffer(text, strlen(text), name, errors);
}

struct conf *
conf_load(const char *path, char **errors)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	struct conf *conf;
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL) {
		*errors = xasprintf("%s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(f)) {
		int err = errno;
		fclose(f);
		buf_free(&b);
		*errors = xasprintf("%s: %s\n", path, strerror(err));
		return NULL;
	}
	fclose(f);
	conf = conf_load_buffer(b.data ? b.data : "", b.len, path, errors);
	buf_free(&b);
	return conf;
}

static void
conf_source_free(struct conf_source *s)
{
	free(s->name);
	free(s->base_url);
	free(s->api_key_file);
	free(s->api_key_env);
	free(s->api_key_credential);
	free(s->organization);
	free(s->project);
	free(s->api_version);
	free(s->path);
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->database);
	free(conf->socket);
	free(conf->admin_group);
	for (size_t i = 0; i < conf->nsources; i++)
		conf_source_free(&conf->sources[i]);
	free(conf->sources);
	for (size_t i = 0; i < conf->nrules; i++) {
		free(conf->rules[i].name);
		free(conf->rules[i].metric);
		free(conf->rules[i].reference);
		free(conf->rules[i].jobs);
	}
	free(conf->rules);
	for (size_t i = 0; i < conf->nhooks; i++) {
		struct conf_hook *h = &conf->hooks[i];
		free(h->name);
		shellwords_free(h->events);
		free(h->command);
		shellwords_free(h->argv);
		free(h->url);
		free(h->headers_file);
	}
	free(conf->hooks);
	free(conf);
}

const struct conf_source *
conf_find_source(const struct conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->nsources; i++)
		if (strcmp(conf->sources[i].name, name) == 0)
			return &conf->sources[i];
	return NULL;
}

static bool
conf_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
conf_source_equal(const struct conf_source *a, const struct conf_source *b)
{
	/* line is left out on purpose: editing another section moves it. */
	return conf_str_equal(a->name, b->name) && a->type == b->type &&
	       conf_str_equal(a->base_url, b->base_url) &&
	       conf_str_equal(a->api_key_file, b->api_key_file) &&
	       conf_str_equal(a->api_key_env, b->api_key_env) &&
	       conf_str_equal(a->api_key_credential, b->api_key_credential) &&
	       conf_str_equal(a->organization, b->organization) &&
	       conf_str_equal(a->project, b->project) && a->auth == b->auth &&
	       conf_str_equal(a->api_version, b->api_version) && a->discover == b->discover &&
	       a->poll_interval_ms == b->poll_interval_ms &&
	       a->max_connections == b->max_connections && a->timeout_ms == b->timeout_ms &&
	       conf_str_equal(a->path, b->path) && a->rescan_ms == b->rescan_ms;
}

const char *
conf_source_type_name(enum conf_source_type type)
{
	return conf_name_of(conf_source_types, (int)type);
}
