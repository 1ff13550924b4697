/*
 * conf_keys: the declarative half of the conf module.  Every section kind,
 * every key with how its value is checked and where it is stored, and the
 * names of every enum value.  Adding a key is one line here (plus its field
 * in conf.h); the code in conf_value.c is driven by these tables.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "conf_internal.h"
#include "util.h"

#define CONF_ALL     (~0u)
#define CONF_OPENAI  CONF_T(CONF_SOURCE_OPENAI)
#define CONF_JSONL   CONF_T(CONF_SOURCE_JSONL)
#define CONF_EXEC    CONF_T(CONF_HOOK_EXEC)
#define CONF_WEBHOOK CONF_T(CONF_HOOK_WEBHOOK)
#define CONF_R(x)    CONF_T(CONF_RULE_##x)

const struct conf_name conf_source_types[] = {
        {"openai", CONF_SOURCE_OPENAI},
        {"jsonl", CONF_SOURCE_JSONL},
        {"push", CONF_SOURCE_PUSH},
        {NULL, 0},
};
const struct conf_name conf_rule_types[] = {
        {"nan", CONF_RULE_NAN},
        {"divergence", CONF_RULE_DIVERGENCE},
        {"spike", CONF_RULE_SPIKE},
        {"stale", CONF_RULE_STALE},
        {"plateau", CONF_RULE_PLATEAU},
        {"threshold", CONF_RULE_THRESHOLD},
        {NULL, 0},
};
const struct conf_name conf_hook_types[] = {
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
static const struct conf_name conf_modes[] = {
        {"auto", CONF_MODE_AUTO},
        {"min", CONF_MODE_MIN},
        {"max", CONF_MODE_MAX},
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
#define CONF_R_MODE    (CONF_R(DIVERGENCE) | CONF_R(PLATEAU) | CONF_R(SPIKE))
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
        {"mode", CONF_V_ENUM, CONF_RUL(mode), CONF_R_MODE, 0, 0, conf_modes},
        {NULL, 0, 0, 0, 0, 0, NULL},
};

#define CONF_HK(field) offsetof(struct conf_hook, field)
static const struct conf_key conf_hook_keys[] = {
        {"type", CONF_V_TYPE, 0, CONF_ALL, 0, 0, conf_hook_types},
        {"events", CONF_V_EVENTS, CONF_HK(events), CONF_ALL, 0, 0, NULL},
        {"command", CONF_V_COMMAND, CONF_HK(command), CONF_EXEC, 0, 0, NULL},
        {"url", CONF_V_URL, CONF_HK(url), CONF_WEBHOOK, 0, 0, NULL},
        {"format", CONF_V_ENUM, CONF_HK(format), CONF_WEBHOOK, 0, 0, conf_formats},
        {"headers_file", CONF_V_PATH, CONF_HK(headers_file), CONF_WEBHOOK, 0, 0, NULL},
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

int
conf_kind_lookup(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf_kinds); i++)
		if (strcmp(word, conf_kinds[i].name) == 0)
			return (int)i;
	return -1;
}

const struct conf_key *
conf_key_lookup(enum conf_kind kind, const char *name)
{
	for (const struct conf_key *k = conf_kinds[kind].keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const char *
conf_name_of(const struct conf_name *names, int value)
{
	for (; names->name; names++)
		if (names->value == value)
			return names->name;
	return "?";
}

/* "a, b, c" from an enum table, for messages. */
char *
conf_names_list(const struct conf_name *names)
{
	struct buf b = BUF_INIT;

	for (const struct conf_name *n = names; n->name; n++)
		buf_printf(&b, "%s%s", n == names ? "" : ", ", n->name);
	return buf_steal(&b);
}

bool
conf_event_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf_event_names); i++)
		if (strcmp(name, conf_event_names[i]) == 0)
			return true;
	return false;
}
