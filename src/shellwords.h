/*
 * shellwords: split a command line into argv the way a POSIX shell would
 * split words (single quotes, double quotes with \" \\ \$ \` escapes,
 * backslash outside quotes), without running a shell and without any
 * expansion: no variables, globs, tildes or command substitution.
 *
 * Written by hand because wordexp(3) performs expansions (and runs a shell
 * for command substitution) and no Debian library offers the split alone.
 * Pure.
 */
#ifndef FTMON_SHELLWORDS_H
#define FTMON_SHELLWORDS_H

/* Returns a NULL-terminated argv (free with shellwords_free), or NULL with
 * *why set to a static message (unterminated quote, trailing backslash,
 * empty command). */
char **shellwords_split(const char *line, const char **why);
void shellwords_free(char **argv);

#endif
