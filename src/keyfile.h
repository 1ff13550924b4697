/*
 * keyfile: load an API key from a file, an environment variable or a
 * systemd credential, the way a conf_source names it, and check it: at most
 * KEYFILE_MAX bytes, trailing newline and blanks trimmed, not empty, and no
 * whitespace or control character inside (a newline would let a key inject
 * HTTP headers).  Every buffer that held the key is explicit_bzero'd before
 * it is freed.
 *
 * Pure apart from reading the file and the environment: no logging.  Errors
 * and warnings are malloc'd sentences the caller logs and frees.
 */
#ifndef FTMON_KEYFILE_H
#define FTMON_KEYFILE_H

#include "conf.h"

#define KEYFILE_MAX 4096

/*
 * Read the key in path.  0: *key is the checked key (free with
 * keyfile_free) and *warn, when not NULL, a warning (the file is readable
 * by every user) or NULL.  On failure a negative errno (-EINVAL for a file
 * that reads but holds no usable key), *key NULL and *err a message naming
 * the file (and the errno text when it could not be read).
 */
int keyfile_read(const char *path, char **key, char **warn, char **err);

/* The key in environment variable name; unset and empty are refused. */
int keyfile_from_env(const char *name, char **key, char **err);

/* The key as cs says: api_key_file, api_key_env or api_key_credential
 * (a file in $CREDENTIALS_DIRECTORY).  -ENOENT with *err when cs names no
 * key at all.  warn as for keyfile_read. */
int keyfile_load(const struct conf_source *cs, char **key, char **warn, char **err);

/*
 * Check cs's credential without keeping it (for `ftmond -t`): 0 when the
 * key loads, or cs is not an openai source.  A credential is checked only
 * when CREDENTIALS_DIRECTORY is set (outside the systemd unit it cannot be
 * seen).  On failure a negative errno, *err a message and *line the line
 * of the api_key_* key (that of the section when unknown), for the caller's
 * "FILE:LINE: message".
 */
int keyfile_check(const struct conf_source *cs, int *line, char **err);

/* Wipe and free a key; NULL is fine. */
void keyfile_free(char *key);

#endif
