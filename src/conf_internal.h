/*
 * conf_internal: what the files of the conf module share, nothing else.
 * conf.h stays the module's whole public interface.
 *
 *   conf.c        conf_load*, the error list, sections into struct conf
 *   conf_ini.c    first pass: lines, sections and raw entries (libinih)
 *   conf_value.c  second pass: each value checked and stored by its key
 *   conf_keys.c   the declarative tables: sections, keys, enum names
 *
 * Ownership: a conf_parser owns its sections (and their entries' strings)
 * and its errors; pointers handed out by the lookups below are borrowed
 * from the tables or the parser.
 */
#ifndef FTMON_CONF_INTERNAL_H
#define FTMON_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

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

/* Where the keys being read go: a section index, or one of these. */
enum { CONF_CUR_NONE = -1, CONF_CUR_IGNORE = -2 };

/* The list of errors found so far (conf.c). */
struct conf_error;

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

#define CONF_T(x) (1u << (x))

/* ---- conf_keys.c: the tables ---- */

extern const struct conf_name conf_source_types[];
extern const struct conf_name conf_rule_types[];
extern const struct conf_name conf_hook_types[];

/* The kind named by word ("source"), or -1. */
int conf_kind_lookup(const char *word);
/* The key called name in kind's table, or NULL. */
const struct conf_key *conf_key_lookup(enum conf_kind kind, const char *name);
/* The name of value in names, or "?". */
const char *conf_name_of(const struct conf_name *names, int value);
/* "a, b, c" from an enum table, for messages (malloc'd; the caller frees). */
char *conf_names_list(const struct conf_name *names);
/* True when name is a hook event of the contract (or "*"). */
bool conf_event_known(const char *name);

/* ---- conf.c: the error list ---- */

/* Record "FILE:LINE: message" at line. */
__attribute__((format(printf, 3, 4))) void conf_error(struct conf_parser *p, int line,
                                                      const char *fmt, ...);
/* An error about one key: "[source openai] poll_interval: message". */
__attribute__((format(printf, 4, 5))) void conf_key_error(struct conf_parser *p,
                                                          const struct conf_section *sec,
                                                          const struct conf_entry *e,
                                                          const char *fmt, ...);

/* ---- conf_ini.c: first pass ---- */

/* Read p->text into p->sections, reporting every bad line. */
void conf_parse_text(struct conf_parser *p);
/* Free p's sections and their entries. */
void conf_sections_free(struct conf_parser *p);

/* ---- conf_value.c: second pass ---- */

/* The entry for key in sec (borrowed), or NULL. */
const struct conf_entry *conf_section_get(const struct conf_section *sec, const char *key);
/* Apply every entry of sec to obj (a struct conf, conf_source, conf_rule
 * or conf_hook, matching the key table).  type is the section's type, or
 * -1 if unknown (then values are still checked, but not whether they
 * fit); type_names names it in messages. */
void conf_apply_section(struct conf_parser *p, const struct conf_section *sec, void *obj, int type,
                        const struct conf_name *type_names);
/* Report sec as missing key unless it has it. */
void conf_require(struct conf_parser *p, const struct conf_section *sec, const char *key);
/* The section's type from `type =`, or -1 after reporting why not. */
int conf_section_type(struct conf_parser *p, const struct conf_section *sec,
                      const struct conf_name *names);

#endif
