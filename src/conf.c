/*
 * conf: ftmon.conf parsing and validation.
 *
 * Parsing runs in two passes.  The first feeds the text to libinih through
 * our own line reader.  Debian's libinih calls the handler without a line
 * number, says nothing about a section that has no keys and cuts section
 * names at 49 bytes, so the reader counts lines, recognises section headers
 * itself and rejects lines that libinih would only flag by number.  That
 * pass collects every section with its raw "key = value" entries and their
 * lines.  The second pass turns each section into its struct once its
 * `type` is known (it may come last in the section), so a key that does
 * not fit the type is reported at its own line.  Errors are collected,
 * sorted by line and returned together: a user fixing a config sees every
 * problem at once.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "shellwords.h"
#include "util.h"
#include "xmalloc.h"

/* libinih's line buffer; a line may hold CONF_MAX_LINE characters plus
 * "\r\n" and the terminating NUL. */
#define CONF_INI_MAX_LINE     65536
#define CONF_MAX_LINE         (CONF_INI_MAX_LINE - 3)
#define CONF_MAX_NAME         64
#define CONF_DEFAULT_BASE_URL "https://api.openai.com/v1"

enum conf_kind { CONF_KIND_DAEMON, CONF_KIND_SOURCE, CONF_KIND_RULE, CONF_KIND_HOOK };

/* How a value is checked and where it is stored. */
enum conf_vtype {
	CONF_V_TYPE,      /* handled before the other keys */
	CONF_V_WORD,      /* non-empty, no whitespace */
	CONF_V_OPTSTRING, /* empty means unset (NULL) */
	CONF_V_PATH,      /* absolute path */
	CONF_V_SOCKPATH,  /* absolute path that fits sun_path */
	CONF_V_PATHGLOB,  /* absolute path that may hold wildcards */
	CONF_V_GLOB,      /* glob over job names */
	CONF_V_URL,
	CONF_V_BASEURL, /* URL without query; trailing '/' removed */
	CONF_V_BOOL,
	CONF_V_DURATION, /* at least min milliseconds */
	CONF_V_UINT,     /* min..max */
	CONF_V_DOUBLE,   /* finite; min is 0 (any), 1 (>= 0) or 2 (> 0) */
	CONF_V_ENUM,
	CONF_V_MODE,
	CONF_V_LOGLEVEL,
	CONF_V_EVENTS,
	CONF_V_COMMAND,
	CONF_V_ENVNAME,
	CONF_V_CREDENTIAL,
};

enum { CONF_DOUBLE_ANY, CONF_DOUBLE_NONNEG, CONF_DOUBLE_POSITIVE };

struct conf_name {
	const char *name;
	int value;
};

struct conf_key {
	const char *name;
	enum conf_vtype vtype;
	size_t offset;
	unsigned types; /* bit (1u << type) for each type the key applies to */
	uint64_t min, max;
	const struct conf_name *names; /* CONF_V_ENUM */
};

/* One "key = value" line of a section, as written. */
struct conf_entry {
	char *key;
	char *value;
	int line;
};

struct conf_section {
	enum conf_kind kind;
	char *name;  /* NULL for [daemon] */
	char *label; /* "[source openai]", for messages */
	int line;
	struct conf_entry *entries;
	size_t nentries;
};

struct conf_error {
	int line;
	size_t seq; /* keeps errors of one line in the order found */
	char *text;
};

/* Where the keys being read go: a section index, or one of these. */
enum { CONF_CUR_NONE = -1, CONF_CUR_IGNORE = -2 };

struct conf_parser {
	const char *file;
	const char *text;
	size_t len, pos;
	int line;
	bool mid_line; /* the last chunk handed to libinih ended mid-line */
	long cur;
	struct conf_section *sections;
	size_t nsections;
	struct conf_error *errors;
	size_t nerrors;
};

#define CONF_T(x)    (1u << (x))
#define CONF_ALL     (~0u)
#define CONF_OPENAI  CONF_T(CONF_SOURCE_OPENAI)
#define CONF_JSONL   CONF_T(CONF_SOURCE_JSONL)
#define CONF_EXEC    CONF_T(CONF_HOOK_EXEC)
#define CONF_WEBHOOK CONF_T(CONF_HOOK_WEBHOOK)
#define CONF_R(x)    CONF_T(CONF_RULE_##x)

static const struct conf_name conf_source_types[] = {
        {"openai", CONF_SOURCE_OPENAI},
        {"jsonl", CONF_SOURCE_JSONL},
        {"push", CONF_SOURCE_PUSH},
        {NULL, 0},
};
static const struct conf_name conf_rule_types[] = {
        {"nan", CONF_RULE_NAN},
        {"divergence", CONF_RULE_DIVERGENCE},
        {"spike", CONF_RULE_SPIKE},
        {"stale", CONF_RULE_STALE},
        {"plateau", CONF_RULE_PLATEAU},
        {"threshold", CONF_RULE_THRESHOLD},
        {NULL, 0},
};
static const struct conf_name conf_hook_types[] = {
        {"exec", CONF_HOOK_EXEC},
        {"webhook", CONF_HOOK_WEBHOOK},
        {NULL, 0},
};
static const struct conf_name conf_auths[] = {
        {"bearer", CONF_AUTH_BEARER},
        {"api-key", CONF_AUTH_API_KEY},
        {NULL, 0},
};
static const struct conf_name conf_formats[] = {
        {"json", CONF_FORMAT_JSON},
        {"slack", CONF_FORMAT_SLACK},
        {"text", CONF_FORMAT_TEXT},
        {"alertmanager", CONF_FORMAT_ALERTMANAGER},
        {NULL, 0},
};
static const struct conf_name conf_threshold_modes[] = {
        {"rel", CONF_THRESHOLD_REL},
        {"abs", CONF_THRESHOLD_ABS},
        {NULL, 0},
};
static const struct conf_name conf_ops[] = {
        {"<", CONF_OP_LT},  {"<=", CONF_OP_LE}, {">", CONF_OP_GT},
        {">=", CONF_OP_GE}, {"lt", CONF_OP_LT}, {"le", CONF_OP_LE},
        {"gt", CONF_OP_GT}, {"ge", CONF_OP_GE}, {NULL, 0},
};
static const struct conf_name conf_actions[] = {
        {"none", CONF_ACTION_NONE},
        {"cancel", CONF_ACTION_CANCEL},
        {"pause", CONF_ACTION_PAUSE},
        {NULL, 0},
};

static const char *const conf_event_names[] = {
        "job.discovered", "job.status", "job.finished", "alert.fired", "alert.resolved", "*",
};

static const struct conf_key conf_daemon_keys[] = {
        {"database", CONF_V_PATH, offsetof(struct conf, database), CONF_ALL, 0, 0, NULL},
        {"socket", CONF_V_SOCKPATH, offsetof(struct conf, socket), CONF_ALL, 0, 0, NULL},
        {"socket_mode", CONF_V_MODE, offsetof(struct conf, socket_mode), CONF_ALL, 0, 0, NULL},
        {"admin_group", CONF_V_OPTSTRING, offsetof(struct conf, admin_group), CONF_ALL, 0, 0, NULL},
        {"retention", CONF_V_UINT, offsetof(struct conf, retention_days), CONF_ALL, 0, 36500, NULL},
        {"log_level", CONF_V_LOGLEVEL, offsetof(struct conf, log_level), CONF_ALL, 0, 0, NULL},
        {NULL, 0, 0, 0, 0, 0, NULL},
};

#define CONF_SRC(field) offsetof(struct conf_source, field)
static const struct conf_key conf_source_keys[] = {
        {"type", CONF_V_TYPE, 0, CONF_ALL, 0, 0, conf_source_types},
        {"base_url", CONF_V_BASEURL, CONF_SRC(base_url), CONF_OPENAI, 0, 0, NULL},
        {"api_key_file", CONF_V_PATH, CONF_SRC(api_key_file), CONF_OPENAI, 0, 0, NULL},
        {"api_key_env", CONF_V_ENVNAME, CONF_SRC(api_key_env), CONF_OPENAI, 0, 0, NULL},
        {"api_key_credential", CONF_V_CREDENTIAL, CONF_SRC(api_key_credential), CONF_OPENAI, 0, 0,
         NULL},
        {"organization", CONF_V_OPTSTRING, CONF_SRC(organization), CONF_OPENAI, 0, 0, NULL},
        {"project", CONF_V_OPTSTRING, CONF_SRC(project), CONF_OPENAI, 0, 0, NULL},
        {"auth", CONF_V_ENUM, CONF_SRC(auth), CONF_OPENAI, 0, 0, conf_auths},
        {"api_version", CONF_V_OPTSTRING, CONF_SRC(api_version), CONF_OPENAI, 0, 0, NULL},
        {"discover", CONF_V_BOOL, CONF_SRC(discover), CONF_OPENAI, 0, 0, NULL},
        {"poll_interval", CONF_V_DURATION, CONF_SRC(poll_interval_ms), CONF_OPENAI, 100, 0, NULL},
        {"max_connections", CONF_V_UINT, CONF_SRC(max_connections), CONF_OPENAI, 1, 256, NULL},
        {"timeout", CONF_V_DURATION, CONF_SRC(timeout_ms), CONF_OPENAI, 1, 0, NULL},
        {"path", CONF_V_PATHGLOB, CONF_SRC(path), CONF_JSONL, 0, 0, NULL},
        {"rescan", CONF_V_DURATION, CONF_SRC(rescan_ms), CONF_JSONL, 1, 0, NULL},
        {NULL, 0, 0, 0, 0, 0, NULL},
};

#define CONF_RUL(field) offsetof(struct conf_rule, field)
#define CONF_R_METRIC \
	(CONF_R(NAN) | CONF_R(DIVERGENCE) | CONF_R(SPIKE) | CONF_R(PLATEAU) | CONF_R(THRESHOLD))
#define CONF_R_IMPROVE (CONF_R(DIVERGENCE) | CONF_R(PLATEAU))
static const struct conf_key conf_rule_keys[] = {
        {"type", CONF_V_TYPE, 0, CONF_ALL, 0, 0, conf_rule_types},
        {"enabled", CONF_V_BOOL, CONF_RUL(enabled), CONF_ALL, 0, 0, NULL},
        {"metric", CONF_V_WORD, CONF_RUL(metric), CONF_R_METRIC, 0, 0, NULL},
        {"reference", CONF_V_WORD, CONF_RUL(reference), CONF_R(DIVERGENCE), 0, 0, NULL},
        {"patience", CONF_V_UINT, CONF_RUL(patience), CONF_R_IMPROVE, 1, 100000, NULL},
        {"min_delta", CONF_V_DOUBLE, CONF_RUL(min_delta), CONF_R_IMPROVE, CONF_DOUBLE_NONNEG, 0,
         NULL},
        {"threshold_mode", CONF_V_ENUM, CONF_RUL(threshold_mode), CONF_R_IMPROVE, 0, 0,
         conf_threshold_modes},
        {"cooldown", CONF_V_DURATION, CONF_RUL(cooldown_ms), CONF_ALL, 0, 0, NULL},
        {"window", CONF_V_UINT, CONF_RUL(window), CONF_R(SPIKE), 2, 100000, NULL},
        {"sigma", CONF_V_DOUBLE, CONF_RUL(sigma), CONF_R(SPIKE), CONF_DOUBLE_POSITIVE, 0, NULL},
        {"stale_after", CONF_V_DURATION, CONF_RUL(stale_after_ms), CONF_R(STALE), 1, 0, NULL},
        {"op", CONF_V_ENUM, CONF_RUL(op), CONF_R(THRESHOLD), 0, 0, conf_ops},
        {"value", CONF_V_DOUBLE, CONF_RUL(value), CONF_R(THRESHOLD), CONF_DOUBLE_ANY, 0, NULL},
        {"jobs", CONF_V_GLOB, CONF_RUL(jobs), CONF_ALL, 0, 0, NULL},
        {"action", CONF_V_ENUM, CONF_RUL(action), CONF_ALL, 0, 0, conf_actions},
        {NULL, 0, 0, 0, 0, 0, NULL},
};

#define CONF_HK(field) offsetof(struct conf_hook, field)
static const struct conf_key conf_hook_keys[] = {
        {"type", CONF_V_TYPE, 0, CONF_ALL, 0, 0, conf_hook_types},
        {"events", CONF_V_EVENTS, CONF_HK(events), CONF_ALL, 0, 0, NULL},
        {"command", CONF_V_COMMAND, CONF_HK(command), CONF_EXEC, 0, 0, NULL},
        {"url", CONF_V_URL, CONF_HK(url), CONF_WEBHOOK, 0, 0, NULL},
        {"format", CONF_V_ENUM, CONF_HK(format), CONF_WEBHOOK, 0, 0, conf_formats},
        {"timeout", CONF_V_DURATION, CONF_HK(timeout_ms), CONF_ALL, 1, 0, NULL},
        {"max_attempts", CONF_V_UINT, CONF_HK(max_attempts), CONF_ALL, 1, 1000, NULL},
        {"concurrency", CONF_V_UINT, CONF_HK(concurrency), CONF_ALL, 1, 64, NULL},
        {NULL, 0, 0, 0, 0, 0, NULL},
};

static const struct {
	const char *name;
	const struct conf_key *keys;
} conf_kinds[] = {
        [CONF_KIND_DAEMON] = {"daemon", conf_daemon_keys},
        [CONF_KIND_SOURCE] = {"source", conf_source_keys},
        [CONF_KIND_RULE] = {"rule", conf_rule_keys},
        [CONF_KIND_HOOK] = {"hook", conf_hook_keys},
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

static __attribute__((format(printf, 3, 4))) void
conf_error(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verror(p, line, fmt, ap);
	va_end(ap);
}

/* An error about one key: "[source openai] poll_interval: message". */
static __attribute__((format(printf, 4, 5))) void
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

/* ---- first pass: lines, sections and raw entries ---- */

static bool
conf_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool
conf_is_comment_char(char c)
{
	return c == ';' || c == '#';
}

/* Like libinih: the first of chars in [s, end), or of a comment marker
 * that follows whitespace; end if neither occurs. */
static const char *
conf_find_chars(const char *s, const char *end, const char *chars)
{
	bool was_space = false;

	for (; s < end; s++) {
		if (strchr(chars, *s) != NULL)
			break;
		if (was_space && conf_is_comment_char(*s))
			break;
		was_space = conf_is_space(*s);
	}
	return s;
}

static bool
conf_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CONF_MAX_NAME)
		return false;
	for (const char *s = name; *s; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		          (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		          (*s == '.' && s != name);
		if (!ok)
			return false;
	}
	return true;
}

static int
conf_kind_lookup(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf_kinds); i++)
		if (strcmp(word, conf_kinds[i].name) == 0)
			return (int)i;
	return -1;
}

static const struct conf_key *
conf_key_lookup(enum conf_kind kind, const char *name)
{
	for (const struct conf_key *k = conf_kinds[kind].keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static const struct conf_section *
conf_section_find(const struct conf_parser *p, enum conf_kind kind, const char *name)
{
	for (size_t i = 0; i < p->nsections; i++) {
		const struct conf_section *s = &p->sections[i];
		if (s->kind == kind && ((s->name == NULL && name == NULL) ||
		                        (s->name && name && strcmp(s->name, name) == 0)))
			return s;
	}
	return NULL;
}

/* Check a section name split into kind word and name; start a section
 * or report why not. */
static void
conf_section_start(struct conf_parser *p, const char *word, const char *name)
{
	const char *label_name = *name ? name : NULL;
	int kind = conf_kind_lookup(word);
	const struct conf_section *dup;
	struct conf_section *sec;

	p->cur = CONF_CUR_IGNORE;
	if (kind < 0) {
		conf_error(p, p->line,
		           "unknown section [%s%s%s] (use [daemon], "
		           "[source NAME], [rule NAME] or [hook NAME])",
		           word, *name ? " " : "", name);
		return;
	}
	if (kind == CONF_KIND_DAEMON && label_name != NULL) {
		conf_error(p, p->line, "section [daemon %s]: [daemon] takes no name", name);
		return;
	}
	if (kind != CONF_KIND_DAEMON && label_name == NULL) {
		conf_error(p, p->line, "section [%s] needs a name: [%s NAME]", word, word);
		return;
	}
	if (label_name != NULL && !conf_name_valid(name)) {
		conf_error(p, p->line,
		           "section [%s %s]: invalid name '%s' (use up to %d "
		           "letters, digits, '_', '-' or '.')",
		           word, name, name, CONF_MAX_NAME);
		return;
	}
	dup = conf_section_find(p, (enum conf_kind)kind, label_name);
	if (dup != NULL) {
		conf_error(p, p->line, "duplicate section %s (first at line %d)", dup->label,
		           dup->line);
		return;
	}
	p->sections = xreallocarray(p->sections, p->nsections + 1, sizeof(*p->sections));
	sec = &p->sections[p->nsections];
	*sec = (struct conf_section){
	        .kind = (enum conf_kind)kind,
	        .name = xstrdup(label_name),
	        .label = label_name ? xasprintf("[%s %s]", word, name) : xasprintf("[%s]", word),
	        .line = p->line,
	};
	p->cur = (long)p->nsections++;
}

/* A "[...]" line; s points at '[', end at the end of the trimmed line.
 * Returns false if the line is bad (libinih must not see it). */
static bool
conf_scan_header(struct conf_parser *p, const char *s, const char *end)
{
	const char *close = conf_find_chars(s + 1, end, "]");
	const char *a, *b, *rest;
	char *inner, *name;

	p->cur = CONF_CUR_IGNORE;
	if (close == end || *close != ']') {
		conf_error(p, p->line, "section header without closing ']'");
		return false;
	}
	for (rest = close + 1; rest < end && conf_is_space(*rest); rest++)
		;
	if (rest < end && !conf_is_comment_char(*rest)) {
		conf_error(p, p->line, "unexpected text after ']'");
		return false;
	}
	for (a = s + 1; a < close && conf_is_space(*a); a++)
		;
	for (b = close; b > a && conf_is_space(b[-1]); b--)
		;
	inner = xstrndup(a, (size_t)(b - a));
	/* Split "kind name"; the name keeps inner spaces so that
	 * "[source my src]" is reported as an invalid name. */
	name = inner + strcspn(inner, " \t");
	if (*name != '\0') {
		*name++ = '\0';
		name += strspn(name, " \t");
	}
	if (*inner == '\0')
		conf_error(p, p->line, "empty section name []");
	else
		conf_section_start(p, inner, name);
	free(inner);
	return true;
}

/* Classify the physical line at p->pos before libinih reads it.  Returns
 * false if the line is in error and must be hidden from libinih. */
static bool
conf_scan_line(struct conf_parser *p)
{
	const char *s = p->text + p->pos;
	const char *nl = memchr(s, '\n', p->len - p->pos);
	const char *end = nl ? nl : p->text + p->len;
	const char *sep;

	if (memchr(s, '\0', (size_t)(end - s)) != NULL) {
		conf_error(p, p->line, "line contains a NUL byte");
		return false;
	}
	if (end - s > CONF_MAX_LINE) {
		conf_error(p, p->line, "line is longer than %d characters", CONF_MAX_LINE);
		return false;
	}
	while (end > s && conf_is_space(end[-1]))
		end--;
	if (p->line == 1 && end - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end && conf_is_space(*s))
		s++;
	if (s == end || conf_is_comment_char(*s))
		return true;
	if (*s == '[')
		return conf_scan_header(p, s, end);
	sep = conf_find_chars(s, end, "=:");
	if (sep == end || (*sep != '=' && *sep != ':')) {
		conf_error(p, p->line, "expected 'key = value', '[section]' or a comment");
		return false;
	}
	if (sep == s) {
		conf_error(p, p->line, "missing key name before '%c'", *sep);
		return false;
	}
	return true;
}

/* libinih's fgets-style reader over the text.  A chunk that does not end
 * in '\n' is the start of a long line that libinih continues with further
 * calls, so lines are counted only at line starts. */
static char *
conf_reader_cb(char *str, int num, void *stream)
{
	struct conf_parser *p = stream;
	const char *s, *nl;
	size_t avail, n;

	if (p->pos >= p->len)
		return NULL;
	if (num < 2) {
		*str = '\0';
		return str;
	}
	if (!p->mid_line) {
		p->line++;
		if (!conf_scan_line(p)) {
			nl = memchr(p->text + p->pos, '\n', p->len - p->pos);
			p->pos = nl ? (size_t)(nl - p->text) + 1 : p->len;
			strcpy(str, "\n");
			return str;
		}
	}
	s = p->text + p->pos;
	avail = p->len - p->pos;
	nl = memchr(s, '\n', avail);
	n = nl ? (size_t)(nl - s) + 1 : avail;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, s, n);
	str[n] = '\0';
	p->pos += n;
	p->mid_line = str[n - 1] != '\n';
	return str;
}

/* libinih's handler.  Its section argument is ignored: the reader tracks
 * sections without libinih's length limit. */
static int
conf_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parser *p = user;
	struct conf_section *sec;

	(void)section;
	if (p->cur == CONF_CUR_IGNORE)
		return 1;
	if (p->cur == CONF_CUR_NONE) {
		conf_error(p, p->line,
		           "key '%s' is outside any section (start one with "
		           "[daemon], [source NAME], [rule NAME] or [hook NAME])",
		           name);
		return 1;
	}
	sec = &p->sections[p->cur];
	if (conf_key_lookup(sec->kind, name) == NULL) {
		conf_error(p, p->line, "%s unknown key '%s'", sec->label, name);
		return 1;
	}
	for (size_t i = 0; i < sec->nentries; i++) {
		if (strcmp(sec->entries[i].key, name) == 0) {
			conf_error(p, p->line, "%s duplicate key '%s' (first at line %d)",
			           sec->label, name, sec->entries[i].line);
			return 1;
		}
	}
	sec->entries = xreallocarray(sec->entries, sec->nentries + 1, sizeof(*sec->entries));
	sec->entries[sec->nentries++] = (struct conf_entry){
	        .key = xstrdup(name),
	        .value = xstrdup(value),
	        .line = p->line,
	};
	return 1;
}

static void
conf_parse_text(struct conf_parser *p)
{
	/* Debian's libinih takes its options from globals; set every one we
	 * rely on before each parse. */
	static char comment_prefixes[] = ";#";
	int rc;

	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_initial_alloc = 256;
	ini_max_line = CONF_INI_MAX_LINE;
	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = comment_prefixes;
	ini_start_comment_prefixes = comment_prefixes;
	ini_stop_on_first_error = false;
	ini_allow_no_value = false;

	rc = ini_parse_stream(conf_reader_cb, p, conf_handler_cb, p);
	if (rc == -2)
		fatal("out of memory parsing %s", p->file);
	/* Every line libinih could object to was checked by the reader, so
	 * this only fires if the two ever disagree. */
	if (rc > 0 && p->nerrors == 0)
		conf_error(p, rc, "cannot parse this line");
}

static void
conf_sections_free(struct conf_parser *p)
{
	for (size_t i = 0; i < p->nsections; i++) {
		struct conf_section *s = &p->sections[i];
		for (size_t j = 0; j < s->nentries; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->name);
		free(s->label);
	}
	free(p->sections);
	p->sections = NULL;
	p->nsections = 0;
}

/* ---- second pass: values ---- */

static const struct conf_entry *
conf_section_get(const struct conf_section *sec, const char *key)
{
	for (size_t i = 0; i < sec->nentries; i++)
		if (strcmp(sec->entries[i].key, key) == 0)
			return &sec->entries[i];
	return NULL;
}

static const char *
conf_name_of(const struct conf_name *names, int value)
{
	for (; names->name; names++)
		if (names->value == value)
			return names->name;
	return "?";
}

/* "a, b, c" from an enum table, for messages. */
static char *
conf_names_list(const struct conf_name *names)
{
	struct buf b = BUF_INIT;

	for (const struct conf_name *n = names; n->name; n++)
		buf_printf(&b, "%s%s", n == names ? "" : ", ", n->name);
	return buf_steal(&b);
}

/* Look value up in names; reports and returns -1 if it is not there. */
static int
conf_parse_enum(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
                const struct conf_name *names)
{
	char *list;

	for (const struct conf_name *n = names; n->name; n++)
		if (strcmp(e->value, n->name) == 0)
			return n->value;
	list = conf_names_list(names);
	conf_key_error(p, sec, e, "invalid value '%s' (use %s)", e->value, list);
	free(list);
	return -1;
}

/* Why a glob cannot be used, or NULL.  fnmatch would quietly take an
 * unbalanced '[' literally, which is never what was meant. */
static const char *
conf_glob_problem(const char *g)
{
	for (const char *s = g; *s; s++) {
		if (*s == '\\') {
			if (*++s == '\0')
				return "ends in a backslash";
		} else if (*s == '[') {
			const char *t = s + 1;
			if (*t == '!' || *t == '^')
				t++;
			if (*t == ']')
				t++;
			while (*t && *t != ']') {
				if (*t == '\\' && t[1])
					t++;
				t++;
			}
			if (*t == '\0')
				return "unbalanced '['";
			s = t;
		}
	}
	return NULL;
}

static bool
conf_envname_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* "job.finished alert.fired" (spaces or commas) into a NULL-terminated
 * list; NULL after reporting a bad name. */
static char **
conf_parse_events(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e)
{
	char *copy = xstrdup(e->value), *save = NULL, *tok;
	char **list = NULL;
	size_t n = 0;
	bool bad = false;

	for (tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(conf_event_names); i++)
			known |= strcmp(tok, conf_event_names[i]) == 0;
		if (!known) {
			conf_key_error(p, sec, e,
			               "unknown event '%s' (use job.discovered, "
			               "job.status, job.finished, alert.fired, alert.resolved "
			               "or *)",
			               tok);
			bad = true;
			continue;
		}
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n++] = xstrdup(tok);
		list[n] = NULL;
	}
	free(copy);
	if (!bad && n == 0)
		conf_key_error(p, sec, e, "no events listed");
	if (bad || n == 0) {
		shellwords_free(list);
		return NULL;
	}
	return list;
}

static void
conf_set_string(void *obj, size_t offset, char *value)
{
	char **field = (char **)((char *)obj + offset);

	free(*field);
	*field = value;
}

static void
conf_apply_duration(struct conf_parser *p, const struct conf_section *sec,
                    const struct conf_entry *e, const struct conf_key *k, void *obj)
{
	uint64_t ms;
	char buf[32];

	if (util_parse_duration_ms(e->value, &ms) < 0) {
		conf_key_error(p, sec, e, "invalid duration '%s' (use 500ms, 30s, 5m, 2h, 1d)",
		               e->value);
	} else if (ms < k->min) {
		if (k->min == 1)
			conf_key_error(p, sec, e, "must be greater than 0");
		else
			conf_key_error(p, sec, e, "must be at least %s",
			               util_format_duration(k->min, buf, sizeof(buf)));
	} else {
		*(uint64_t *)((char *)obj + k->offset) = ms;
	}
}

static void
conf_apply_uint(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
                const struct conf_key *k, void *obj)
{
	uint64_t v;
	int rc = util_parse_uint(e->value, k->max, &v);

	if (rc == -EINVAL)
		conf_key_error(p, sec, e, "invalid number '%s'", e->value);
	else if (rc < 0 || v < k->min)
		conf_key_error(p, sec, e, "%s is out of range (%llu..%llu)", e->value,
		               (unsigned long long)k->min, (unsigned long long)k->max);
	else
		*(unsigned *)((char *)obj + k->offset) = (unsigned)v;
}

static void
conf_apply_double(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
                  const struct conf_key *k, void *obj)
{
	double v;

	if (util_parse_double(e->value, &v) < 0 || !isfinite(v))
		conf_key_error(p, sec, e, "invalid number '%s'", e->value);
	else if (k->min == CONF_DOUBLE_NONNEG && v < 0)
		conf_key_error(p, sec, e, "must not be negative");
	else if (k->min == CONF_DOUBLE_POSITIVE && v <= 0)
		conf_key_error(p, sec, e, "must be greater than 0");
	else
		*(double *)((char *)obj + k->offset) = v;
}

static void
conf_apply_path(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
                const struct conf_key *k, void *obj)
{
	const char *why;

	if (e->value[0] != '/') {
		conf_key_error(p, sec, e, "'%s' is not an absolute path", e->value);
		return;
	}
	if (k->vtype == CONF_V_SOCKPATH &&
	    strlen(e->value) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		conf_key_error(p, sec, e, "socket path is longer than %zu bytes",
		               sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
		return;
	}
	if (k->vtype == CONF_V_PATHGLOB && (why = conf_glob_problem(e->value)) != NULL) {
		conf_key_error(p, sec, e, "bad glob '%s': %s", e->value, why);
		return;
	}
	conf_set_string(obj, k->offset, xstrdup(e->value));
}

static void
conf_apply_url(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
               const struct conf_key *k, void *obj)
{
	const char *why = NULL;
	char *url;
	size_t n;

	if (!util_url_valid(e->value, &why)) {
		conf_key_error(p, sec, e, "invalid URL '%s': %s", e->value, why);
		return;
	}
	if (k->vtype == CONF_V_BASEURL && strpbrk(e->value, "?#") != NULL) {
		conf_key_error(p, sec, e,
		               "invalid URL '%s': a base URL cannot have a "
		               "query or fragment",
		               e->value);
		return;
	}
	url = xstrdup(e->value);
	/* Request paths are appended as "/fine_tuning/jobs". */
	n = strlen(url);
	while (k->vtype == CONF_V_BASEURL && n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	conf_set_string(obj, k->offset, url);
}

/* Strings with a shape of their own: words, globs, names. */
static void
conf_apply_word(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
                const struct conf_key *k, void *obj)
{
	const char *why;

	switch (k->vtype) {
	case CONF_V_WORD:
		if (strpbrk(e->value, " \t") != NULL) {
			conf_key_error(p, sec, e, "'%s' must be a single word", e->value);
			return;
		}
		break;
	case CONF_V_GLOB:
		if ((why = conf_glob_problem(e->value)) != NULL) {
			conf_key_error(p, sec, e, "bad glob '%s': %s", e->value, why);
			return;
		}
		break;
	case CONF_V_ENVNAME:
		if (!conf_envname_valid(e->value)) {
			conf_key_error(p, sec, e,
			               "'%s' is not a valid environment variable "
			               "name",
			               e->value);
			return;
		}
		break;
	case CONF_V_CREDENTIAL:
		if (strchr(e->value, '/') != NULL || strpbrk(e->value, " \t") != NULL ||
		    strcmp(e->value, ".") == 0 || strcmp(e->value, "..") == 0) {
			conf_key_error(p, sec, e, "'%s' is not a valid credential name", e->value);
			return;
		}
		break;
	default:
		break;
	}
	conf_set_string(obj, k->offset, xstrdup(e->value));
}

static void
conf_apply_command(struct conf_parser *p, const struct conf_section *sec,
                   const struct conf_entry *e, struct conf_hook *hook)
{
	const char *why = NULL;
	char **argv = shellwords_split(e->value, &why);

	if (argv == NULL) {
		conf_key_error(p, sec, e, "cannot split '%s': %s", e->value, why);
		return;
	}
	shellwords_free(hook->argv);
	hook->argv = argv;
	conf_set_string(hook, offsetof(struct conf_hook, command), xstrdup(e->value));
}

/* Check one entry's value and store it in obj (a struct conf, conf_source,
 * conf_rule or conf_hook, matching the key table). */
static void
conf_apply_entry(struct conf_parser *p, const struct conf_section *sec, const struct conf_entry *e,
                 const struct conf_key *k, void *obj)
{
	void *field = (char *)obj + k->offset;
	const char *v = e->value;
	int rc;

	if (*v == '\0' && k->vtype != CONF_V_OPTSTRING) {
		conf_key_error(p, sec, e, "missing value");
		return;
	}
	switch (k->vtype) {
	case CONF_V_TYPE:
		break;
	case CONF_V_OPTSTRING:
		conf_set_string(obj, k->offset, *v ? xstrdup(v) : NULL);
		break;
	case CONF_V_PATH:
	case CONF_V_SOCKPATH:
	case CONF_V_PATHGLOB:
		conf_apply_path(p, sec, e, k, obj);
		break;
	case CONF_V_URL:
	case CONF_V_BASEURL:
		conf_apply_url(p, sec, e, k, obj);
		break;
	case CONF_V_WORD:
	case CONF_V_GLOB:
	case CONF_V_ENVNAME:
	case CONF_V_CREDENTIAL:
		conf_apply_word(p, sec, e, k, obj);
		break;
	case CONF_V_BOOL:
		if (util_parse_bool(v, (bool *)field) < 0)
			conf_key_error(p, sec, e, "invalid boolean '%s' (use yes or no)", v);
		break;
	case CONF_V_DURATION:
		conf_apply_duration(p, sec, e, k, obj);
		break;
	case CONF_V_UINT:
		conf_apply_uint(p, sec, e, k, obj);
		break;
	case CONF_V_DOUBLE:
		conf_apply_double(p, sec, e, k, obj);
		break;
	case CONF_V_ENUM:
		rc = conf_parse_enum(p, sec, e, k->names);
		if (rc >= 0)
			*(int *)field = rc;
		break;
	case CONF_V_MODE:
		if (util_parse_mode(v, (unsigned *)field) < 0 || *(unsigned *)field > 0777)
			conf_key_error(p, sec, e,
			               "invalid mode '%s' (use an octal mode such "
			               "as 0660)",
			               v);
		break;
	case CONF_V_LOGLEVEL:
		rc = log_level_parse(v);
		if (rc < 0)
			conf_key_error(p, sec, e,
			               "invalid log level '%s' (use err, warning, "
			               "notice, info or debug)",
			               v);
		else
			*(int *)field = rc;
		break;
	case CONF_V_EVENTS: {
		char **events = conf_parse_events(p, sec, e);
		if (events != NULL) {
			shellwords_free(*(char ***)field);
			*(char ***)field = events;
		}
		break;
	}
	case CONF_V_COMMAND:
		conf_apply_command(p, sec, e, obj);
		break;
	}
}

/* Apply every entry of sec to obj.  type is the section's type, or -1 if
 * unknown (then values are still checked, but not whether they fit). */
static void
conf_apply_section(struct conf_parser *p, const struct conf_section *sec, void *obj, int type,
                   const struct conf_name *type_names)
{
	for (size_t i = 0; i < sec->nentries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		const struct conf_key *k = conf_key_lookup(sec->kind, e->key);

		if (k->vtype == CONF_V_TYPE)
			continue;
		if (type >= 0 && !(k->types & CONF_T(type))) {
			conf_key_error(p, sec, e, "does not apply to type %s",
			               conf_name_of(type_names, type));
			continue;
		}
		conf_apply_entry(p, sec, e, k, obj);
	}
}

static void
conf_require(struct conf_parser *p, const struct conf_section *sec, const char *key)
{
	if (conf_section_get(sec, key) == NULL)
		conf_error(p, sec->line, "%s missing required key '%s'", sec->label, key);
}

/* The section's type from `type =`, or -1 after reporting why not. */
static int
conf_section_type(struct conf_parser *p, const struct conf_section *sec,
                  const struct conf_name *names)
{
	const struct conf_entry *e = conf_section_get(sec, "type");

	if (e == NULL) {
		conf_require(p, sec, "type");
		return -1;
	}
	if (*e->value == '\0') {
		conf_key_error(p, sec, e, "missing value");
		return -1;
	}
	return conf_parse_enum(p, sec, e, names);
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
