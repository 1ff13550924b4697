/*
 * test_keyfile: keys from temp files (missing, unreadable, empty, trailing
 * newline, too large, world-readable), from the environment (unset, empty,
 * blanks), credentials, and keyfile_check's line numbers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "keyfile.h"
#include "tap.h"
#include "xmalloc.h"

static char test_dir[] = "/tmp/test_keyfile.XXXXXX";

/* Write a file in the temp dir with mode; returns its malloc'd path. */
static char *
test_file(const char *name, const char *data, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", test_dir, name);
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		TAP_DIAG("cannot write %s", path);
	chmod(path, mode);
	return path;
}

/* keyfile_read, expecting failure; returns the error text (malloc'd). */
static char *
test_refused(const char *path, int want_rc, const char *what)
{
	char *key = (char *)1, *warn = (char *)1, *err = NULL;
	int rc = keyfile_read(path, &key, &warn, &err);

	is_int(rc, want_rc, "%s: refused", what);
	ok(key == NULL && warn == NULL && err != NULL, "%s: no key, no warning, a message", what);
	ok(err != NULL && strstr(err, path) != NULL, "%s: message names the file", what);
	return err;
}

static void
test_files(void)
{
	char *path, *key, *warn, *err = NULL, big[KEYFILE_MAX + 2];

	path = test_file("good", "sk-test-123\r\n \t\n", 16, 0600);
	ok(keyfile_read(path, &key, &warn, &err) == 0, "key file reads");
	is_str(key, "sk-test-123", "trailing newline and blanks trimmed");
	ok(warn == NULL, "mode 0600: no warning");
	keyfile_free(key);
	chmod(path, 0644);
	ok(keyfile_read(path, &key, &warn, &err) == 0 && warn != NULL &&
	           strstr(warn, "readable by every user") != NULL && strstr(warn, path) != NULL,
	   "mode 0644: warning naming the file");
	keyfile_free(key);
	free(warn);
	ok(keyfile_read(path, &key, NULL, &err) == 0, "warn may be NULL");
	keyfile_free(key);
	free(path);

	path = xasprintf("%s/missing", test_dir);
	err = test_refused(path, -ENOENT, "missing file");
	ok(strstr(err, strerror(ENOENT)) != NULL, "missing file: errno text");
	free(err);
	free(path);

	path = test_file("empty", "", 0, 0600);
	err = test_refused(path, -EINVAL, "empty file");
	ok(strstr(err, "empty") != NULL, "empty file: says empty");
	free(err);
	free(path);

	path = test_file("blank", "\n \n", 3, 0600);
	err = test_refused(path, -EINVAL, "blank file");
	free(err);
	free(path);

	path = test_file("inner", "sk-a\nInjected: x\n", 17, 0600);
	err = test_refused(path, -EINVAL, "newline inside");
	ok(strstr(err, "control") != NULL && strstr(err, "Injected") == NULL,
	   "newline inside: says why, never quotes the key");
	free(err);
	free(path);

	path = test_file("nul", "sk-abc\0xyz\n", 11, 0600);
	err = test_refused(path, -EINVAL, "a NUL inside");
	ok(strstr(err, "NUL") != NULL, "a NUL inside: says so, instead of keeping sk-abc");
	free(err);
	free(path);

	memset(big, 'k', sizeof(big));
	path = test_file("exact", big, KEYFILE_MAX, 0600);
	ok(keyfile_read(path, &key, &warn, &err) == 0 && strlen(key) == KEYFILE_MAX,
	   "a key of exactly KEYFILE_MAX bytes reads");
	keyfile_free(key);
	free(path);
	path = test_file("big", big, KEYFILE_MAX + 1, 0600);
	err = test_refused(path, -EFBIG, "too large");
	ok(strstr(err, "too large") != NULL, "too large: says so");
	free(err);
	free(path);

	path = test_file("locked", "sk-x\n", 5, 0000);
	if (geteuid() == 0) {
		ok(1, "# SKIP mode 0000 is readable by root");
		ok(1, "# SKIP mode 0000 is readable by root");
		ok(1, "# SKIP mode 0000 is readable by root");
		ok(1, "# SKIP mode 0000 is readable by root");
	} else {
		err = test_refused(path, -EACCES, "mode 0000");
		ok(strstr(err, strerror(EACCES)) != NULL, "mode 0000: errno text");
		free(err);
	}
	free(path);

	path = xasprintf("%s", test_dir);
	err = test_refused(path, -EISDIR, "a directory");
	free(err);
	free(path);
}

static void
test_env(void)
{
	char *key, *err = NULL;

	setenv("FTMON_TEST_KEY", "sk-env \n", 1);
	ok(keyfile_from_env("FTMON_TEST_KEY", &key, &err) == 0, "key from the environment");
	is_str(key, "sk-env", "env key trimmed");
	keyfile_free(key);

	unsetenv("FTMON_TEST_KEY");
	is_int(keyfile_from_env("FTMON_TEST_KEY", &key, &err), -ENOENT, "unset variable refused");
	ok(key == NULL && err && strstr(err, "FTMON_TEST_KEY is not set"), "unset: names it");
	free(err);
	setenv("FTMON_TEST_KEY", "", 1);
	is_int(keyfile_from_env("FTMON_TEST_KEY", &key, &err), -ENOENT, "empty variable refused");
	free(err);
	setenv("FTMON_TEST_KEY", " \t", 1);
	is_int(keyfile_from_env("FTMON_TEST_KEY", &key, &err), -EINVAL, "blank variable refused");
	ok(key == NULL && err && strstr(err, "FTMON_TEST_KEY") && strstr(err, "empty"),
	   "blank: names it, says empty");
	free(err);
	unsetenv("FTMON_TEST_KEY");
}

static void
test_load_check(void)
{
	struct conf_source cs = {.name = "s", .line = 3, .type = CONF_SOURCE_OPENAI};
	char *key, *warn, *err = NULL, *good = test_file("cred", "sk-cred\n", 8, 0600);
	int line = 0;

	cs.api_key_env = "FTMON_TEST_KEY";
	cs.api_key_line = 7;
	unsetenv("FTMON_TEST_KEY");
	is_int(keyfile_check(&cs, &line, &err), -ENOENT, "check: unset variable fails");
	is_int(line, 7, "check: line of the api_key_* key");
	free(err);
	setenv("FTMON_TEST_KEY", "sk-ok", 1);
	line = 0;
	is_int(keyfile_check(&cs, &line, &err), 0, "check: set variable passes");
	is_int(line, 0, "check: line untouched on success");
	unsetenv("FTMON_TEST_KEY");

	cs.api_key_env = NULL;
	cs.api_key_file = "/nonexistent/ftmon/key";
	cs.api_key_line = 0;
	is_int(keyfile_check(&cs, &line, &err), -ENOENT, "check: missing file fails");
	is_int(line, 3, "check: section line when the key line is unknown");
	ok(err && strstr(err, "/nonexistent/ftmon/key"), "check: message names the file");
	free(err);
	cs.api_key_file = good;
	is_int(keyfile_check(&cs, &line, &err), 0, "check: readable file passes");
	ok(keyfile_load(&cs, &key, &warn, &err) == 0 && strcmp(key, "sk-cred") == 0,
	   "load: from api_key_file");
	keyfile_free(key);

	cs.api_key_file = NULL;
	cs.api_key_credential = "cred";
	unsetenv("CREDENTIALS_DIRECTORY");
	is_int(keyfile_check(&cs, &line, &err), 0, "check: credential skipped outside the unit");
	is_int(keyfile_load(&cs, &key, &warn, &err), -ENOENT, "load: credential needs the dir");
	ok(err && strstr(err, "CREDENTIALS_DIRECTORY"), "load: says which variable");
	free(err);
	setenv("CREDENTIALS_DIRECTORY", test_dir, 1);
	ok(keyfile_load(&cs, &key, &warn, &err) == 0 && strcmp(key, "sk-cred") == 0,
	   "load: from the credential directory");
	keyfile_free(key);
	cs.api_key_credential = "nope";
	is_int(keyfile_check(&cs, &line, &err), -ENOENT, "check: missing credential fails");
	free(err);
	unsetenv("CREDENTIALS_DIRECTORY");

	cs.api_key_credential = NULL;
	is_int(keyfile_load(&cs, &key, &warn, &err), -ENOENT, "load: no key configured");
	free(err);
	cs.type = CONF_SOURCE_JSONL;
	is_int(keyfile_check(&cs, &line, &err), 0, "check: other source types have no key");
	keyfile_free(NULL);
	ok(1, "keyfile_free(NULL) is fine");
	free(good);
}

int
main(void)
{
	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_files();
	test_env();
	test_load_check();
	{
		char *cmd = xasprintf("rm -rf '%s'", test_dir);
		if (system(cmd) != 0)
			TAP_DIAG("could not remove %s", test_dir);
		free(cmd);
	}
	return tap_done();
}
