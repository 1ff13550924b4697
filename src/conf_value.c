/*
 * conf_value: the second pass over ftmon.conf.  Each section's entries are
 * applied once its `type` is known (it may come last in the section), so a
 * key that does not fit the type is reported at its own line.  Every value
 * is checked by the kind its key has in conf_keys.c and stored at the
 * key's offset in the struct being built.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf_internal.h"
#include "log.h"
#include "shellwords.h"
#include "util.h"
#include "xmalloc.h"

const struct conf_entry *
conf_section_get(const struct conf_section *sec, const char *key)
{
	for (size_t i = 0; i < sec->nentries; i++)
		if (strcmp(sec->entries[i].key, key) == 0)
			return &sec->entries[i];
	return NULL;
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
		if (!conf_event_known(tok)) {
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
void
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

void
conf_require(struct conf_parser *p, const struct conf_section *sec, const char *key)
{
	if (conf_section_get(sec, key) == NULL)
		conf_error(p, sec->line, "%s missing required key '%s'", sec->label, key);
}

/* The section's type from `type =`, or -1 after reporting why not. */
int
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
