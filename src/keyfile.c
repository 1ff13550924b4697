/*
 * keyfile: the key is a secret, so no copy of it outlives its use: the
 * read buffer is on the stack and wiped, every heap copy is wiped before
 * free, and error messages never quote it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
#include "xmalloc.h"

void
keyfile_free(char *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key, strlen(key));
	free(key);
}

/* Trim and check a key in place; what names its origin for messages.
 * Frees the key on failure. */
static int
keyfile_clean(char **key, const char *what, char **err)
{
	char *k = *key;
	size_t len = strlen(k);

	while (len > 0 && (k[len - 1] == '\n' || k[len - 1] == '\r' || k[len - 1] == ' ' ||
	                   k[len - 1] == '\t'))
		k[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)k[i] < 0x21 || k[i] == 0x7f) {
			*err = xasprintf("%s: the key contains whitespace or control characters",
			                 what);
			goto bad;
		}
	}
	if (len == 0) {
		*err = xasprintf("%s: the key is empty", what);
		goto bad;
	}
	return 0;
bad:
	keyfile_free(k);
	*key = NULL;
	return -EINVAL;
}

/* Read up to sizeof buf bytes; the count, or a negative errno. */
static ssize_t
keyfile_slurp(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

int
keyfile_read(const char *path, char **key, char **warn, char **err)
{
	char buf[KEYFILE_MAX + 1], *what;
	struct stat sb;
	ssize_t n;
	int fd, rc;

	*key = NULL;
	if (warn != NULL)
		*warn = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		*err = xasprintf("api key file %s: %s", path, strerror(-rc));
		return rc;
	}
	if (warn != NULL && fstat(fd, &sb) == 0 && (sb.st_mode & S_IROTH))
		*warn = xasprintf("api key file %s is readable by every user; chmod o-r it", path);
	n = keyfile_slurp(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		*err = xasprintf("api key file %s: %s", path, strerror((int)-n));
		rc = (int)n;
	} else if (n > KEYFILE_MAX) {
		*err = xasprintf("api key file %s: too large (over %d bytes)", path, KEYFILE_MAX);
		rc = -EFBIG;
	} else if (memchr(buf, '\0', (size_t)n) != NULL) {
		/* Read as a C string the key would end at the NUL. */
		*err = xasprintf("api key file %s: contains a NUL byte", path);
		rc = -EINVAL;
	} else {
		*key = xstrndup(buf, (size_t)n);
		what = xasprintf("api key file %s", path);
		rc = keyfile_clean(key, what, err);
		free(what);
	}
	/* Leave no copy of the secret on the stack. */
	explicit_bzero(buf, sizeof(buf));
	if (rc < 0 && warn != NULL) {
		free(*warn);
		*warn = NULL;
	}
	return rc;
}

int
keyfile_from_env(const char *name, char **key, char **err)
{
	const char *v = getenv(name);
	char *what;
	int rc;

	*key = NULL;
	if (v == NULL || *v == '\0') {
		*err = xasprintf("environment variable %s is not set", name);
		return -ENOENT;
	}
	*key = xstrdup(v);
	what = xasprintf("environment variable %s", name);
	rc = keyfile_clean(key, what, err);
	free(what);
	return rc;
}

static int
keyfile_credential(const char *name, char **key, char **warn, char **err)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path;
	int rc;

	if (dir == NULL) {
		*key = NULL;
		if (warn != NULL)
			*warn = NULL;
		*err = xasprintf("credential %s: CREDENTIALS_DIRECTORY is not set "
		                 "(use LoadCredential= in the unit)",
		                 name);
		return -ENOENT;
	}
	path = xasprintf("%s/%s", dir, name);
	rc = keyfile_read(path, key, warn, err);
	free(path);
	return rc;
}

int
keyfile_load(const struct conf_source *cs, char **key, char **warn, char **err)
{
	*key = NULL;
	if (warn != NULL)
		*warn = NULL;
	if (cs->api_key_file)
		return keyfile_read(cs->api_key_file, key, warn, err);
	if (cs->api_key_env)
		return keyfile_from_env(cs->api_key_env, key, err);
	if (cs->api_key_credential)
		return keyfile_credential(cs->api_key_credential, key, warn, err);
	*err = xstrdup("no api_key_file, api_key_env or api_key_credential");
	return -ENOENT;
}

int
keyfile_check(const struct conf_source *cs, int *line, char **err)
{
	char *key;
	int rc;

	if (cs->type != CONF_SOURCE_OPENAI)
		return 0;
	if (cs->api_key_credential && getenv("CREDENTIALS_DIRECTORY") == NULL)
		return 0;
	rc = keyfile_load(cs, &key, NULL, err);
	if (rc < 0) {
		*line = cs->api_key_line > 0 ? cs->api_key_line : cs->line;
		return rc;
	}
	keyfile_free(key);
	return 0;
}
