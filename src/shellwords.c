/*
 * shellwords: split a command line into words with POSIX shell quoting
 * rules and nothing else.  A small state machine walks the line once;
 * characters of the current word collect in a buf, and a word exists as
 * soon as any part of it was seen, so a lone "" or '' yields an empty
 * argument just as it does in sh.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "shellwords.h"
#include "xmalloc.h"

enum shellwords_state {
	SHELLWORDS_PLAIN,  /* outside quotes */
	SHELLWORDS_SINGLE, /* inside '...' */
	SHELLWORDS_DOUBLE, /* inside "..." */
};

struct shellwords_out {
	char **argv;
	size_t argc;
};

/* Append the current word to the result and start a new one. */
static void
shellwords_push(struct shellwords_out *out, struct buf *word)
{
	out->argv = xreallocarray(out->argv, out->argc + 2, sizeof(*out->argv));
	out->argv[out->argc++] = buf_steal(word);
	out->argv[out->argc] = NULL;
}

static bool
shellwords_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Inside double quotes a backslash only escapes these; before anything
 * else it stays a literal backslash, as in sh. */
static bool
shellwords_dquote_escapable(char c)
{
	return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n';
}

char **
shellwords_split(const char *line, const char **why)
{
	enum shellwords_state state = SHELLWORDS_PLAIN;
	struct shellwords_out out = {NULL, 0};
	struct buf word = BUF_INIT;
	bool in_word = false;
	const char *s;

	for (s = line; *s != '\0'; s++) {
		char c = *s;

		switch (state) {
		case SHELLWORDS_PLAIN:
			if (shellwords_is_blank(c)) {
				if (in_word)
					shellwords_push(&out, &word);
				in_word = false;
			} else if (c == '\'') {
				state = SHELLWORDS_SINGLE;
				in_word = true;
			} else if (c == '"') {
				state = SHELLWORDS_DOUBLE;
				in_word = true;
			} else if (c == '\\') {
				if (s[1] == '\0') {
					*why = "trailing backslash";
					goto fail;
				}
				s++;
				/* Backslash-newline joins lines and adds nothing. */
				if (*s != '\n') {
					buf_append(&word, s, 1);
					in_word = true;
				}
			} else {
				buf_append(&word, &c, 1);
				in_word = true;
			}
			break;
		case SHELLWORDS_SINGLE:
			if (c == '\'')
				state = SHELLWORDS_PLAIN;
			else
				buf_append(&word, &c, 1);
			break;
		case SHELLWORDS_DOUBLE:
			if (c == '"') {
				state = SHELLWORDS_PLAIN;
			} else if (c == '\\' && shellwords_dquote_escapable(s[1])) {
				s++;
				if (*s != '\n')
					buf_append(&word, s, 1);
			} else {
				buf_append(&word, &c, 1);
			}
			break;
		}
	}
	if (state == SHELLWORDS_SINGLE) {
		*why = "unterminated single quote";
		goto fail;
	}
	if (state == SHELLWORDS_DOUBLE) {
		*why = "unterminated double quote";
		goto fail;
	}
	if (in_word)
		shellwords_push(&out, &word);
	buf_free(&word);
	if (out.argc == 0) {
		*why = "empty command";
		return NULL;
	}
	return out.argv;

fail:
	buf_free(&word);
	shellwords_free(out.argv);
	return NULL;
}

void
shellwords_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **a = argv; *a != NULL; a++)
		free(*a);
	free(argv);
}
