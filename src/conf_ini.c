/*
 * conf_ini: the first pass over ftmon.conf.  The text goes to libinih
 * through our own line reader.  Debian's libinih calls the handler without
 * a line number, says nothing about a section that has no keys and cuts
 * section names at 49 bytes, so the reader counts lines, recognises section
 * headers itself and rejects lines that libinih would only flag by number.
 * The pass collects every section with its raw "key = value" entries and
 * their lines; whether a value is good is conf_value.c's business.
 */
#include "config.h"

#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "log.h"
#include "xmalloc.h"

/* libinih's line buffer; a line may hold CONF_MAX_LINE characters plus
 * "\r\n" and the terminating NUL. */
#define CONF_INI_MAX_LINE 65536
#define CONF_MAX_LINE     (CONF_INI_MAX_LINE - 3)
#define CONF_MAX_NAME     64

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

void
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

void
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
