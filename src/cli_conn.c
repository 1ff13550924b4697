/*
 * cli_conn: the client end of the control socket, blocking and bounded.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_conn.h"
#include "cli_out.h"
#include "cli_views.h"
#include "proto.h"

/* Metric replies may exceed the request limit; anything past this is a
 * broken or hostile peer, not data. */
#define CLI_CONN_MAX_REPLY (64u * 1024 * 1024)

static volatile sig_atomic_t cli_conn_signalled;

int
cli_conn_open(struct cli_conn *c, bool timeout)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = CLI_CONN_TIMEOUT_S};

	if (strlen(c->socket) >= sizeof(sa.sun_path))
		return cli_fail(CLI_EXIT_UNREACHABLE, "cannot connect to %s: %s", c->socket,
		                strerror(ENAMETOOLONG));
	memcpy(sa.sun_path, c->socket, strlen(c->socket) + 1);
	/* A second call (report asks per job) starts afresh, not leaking. */
	if (c->fd >= 0)
		close(c->fd);
	buf_reset(&c->in);
	c->scanned = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "cannot create a socket: %s",
		                strerror(errno));
	if (timeout && (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	                setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0))
		return cli_fail(CLI_EXIT_UNREACHABLE, "cannot set socket timeout: %s",
		                strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "cannot connect to %s: %s", c->socket,
		                strerror(errno));
	return CLI_EXIT_OK;
}

int
cli_conn_send(struct cli_conn *c, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cli_fail(CLI_EXIT_UNREACHABLE, "cannot send to %s: %s", c->socket,
			                errno == EAGAIN ? "timed out" : strerror(errno));
		off += (size_t)n;
	}
	return CLI_EXIT_OK;
}

/* One recv into c->in: 0 with data, 1 at EOF or a caught signal, else an
 * exit status. */
static int
cli_conn_fill(struct cli_conn *c)
{
	char chunk[65536];
	ssize_t n;

	do
		n = recv(c->fd, chunk, sizeof(chunk), 0);
	while (n < 0 && errno == EINTR && !cli_conn_signalled);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return cli_fail(CLI_EXIT_UNREACHABLE, "no reply from %s within %ds", c->socket,
		                CLI_CONN_TIMEOUT_S);
	if (n < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "cannot read from %s: %s", c->socket,
		                strerror(errno));
	if (n == 0 && c->in.len == 0)
		return 1;
	if (n == 0)
		return cli_fail(CLI_EXIT_UNREACHABLE,
		                "the daemon closed the connection in the middle of a reply");
	buf_append(&c->in, chunk, (size_t)n);
	return 0;
}

int
cli_conn_read_line(struct cli_conn *c, size_t *len)
{
	for (;;) {
		char *nl = c->in.len > c->scanned
		                   ? memchr(c->in.data + c->scanned, '\n', c->in.len - c->scanned)
		                   : NULL;
		int rc;

		if (nl != NULL) {
			*len = (size_t)(nl - c->in.data);
			c->scanned = 0;
			return 0;
		}
		c->scanned = c->in.len;
		if (c->in.len > CLI_CONN_MAX_REPLY)
			return cli_fail(CLI_EXIT_UNREACHABLE,
			                "reply from the daemon is longer than %u MiB",
			                CLI_CONN_MAX_REPLY >> 20);
		if ((rc = cli_conn_fill(c)) != 0)
			return rc;
	}
}

int
cli_conn_wait(struct cli_conn *c, int timeout_ms)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int n;

	if (c->in.len > 0 && memchr(c->in.data, '\n', c->in.len) != NULL)
		return 1;
	n = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
	if (n < 0 && errno == EINTR)
		return cli_conn_signalled ? -1 : 0;
	if (n < 0)
		return 1; /* let the read report it */
	return n > 0;
}

int
cli_conn_refused(const cJSON *err)
{
	struct buf lines = BUF_INIT;

	cli_out_refused(err);
	cli_views_refusal(err, &lines);
	cli_fail_lines(CLI_EXIT_REFUSED, lines.data);
	buf_free(&lines);
	return CLI_EXIT_REFUSED;
}

/* Connect, send and read the reply line; the line stays in c->in. */
static int
cli_conn_exchange(struct cli_conn *c, const char *cmd, cJSON *args, bool timeout, size_t *len)
{
	char *line = proto_build_request(1, cmd, args);
	int rc = cli_conn_open(c, timeout);

	if (rc == CLI_EXIT_OK)
		rc = cli_conn_send(c, line);
	free(line);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_conn_read_line(c, len);
	if (rc == 1)
		return cli_fail(CLI_EXIT_UNREACHABLE,
		                "the daemon closed the connection without replying");
	return rc;
}

int
cli_conn_call(struct cli_conn *c, const char *cmd, cJSON *args, bool timeout, cJSON **root,
              const cJSON **result)
{
	const cJSON *payload, *id;
	size_t len;
	bool ok;
	int rc;

	*root = NULL;
	if ((rc = cli_conn_exchange(c, cmd, args, timeout, &len)) != 0)
		return rc;
	if (proto_parse_reply(c->in.data, len, root, &ok, &payload) < 0)
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed reply from the daemon");
	buf_reset(&c->reply);
	buf_append(&c->reply, c->in.data, len);
	buf_consume(&c->in, len + 1);
	id = cJSON_GetObjectItemCaseSensitive(*root, "id");
	if (cJSON_IsNumber(id) && id->valuedouble != 1)
		rc = cli_fail(CLI_EXIT_UNREACHABLE, "reply from the daemon has the wrong id");
	else if (!ok)
		rc = cli_conn_refused(payload);
	if (rc != CLI_EXIT_OK) {
		cJSON_Delete(*root);
		*root = NULL;
		return rc;
	}
	*result = payload;
	return CLI_EXIT_OK;
}

static void
cli_conn_sig_cb(int sig)
{
	(void)sig;
	cli_conn_signalled = 1;
}

void
cli_conn_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = cli_conn_sig_cb};

	/* No SA_RESTART: a blocking recv must return so the stream ends. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
cli_conn_interrupted(void)
{
	return cli_conn_signalled != 0;
}

void
cli_conn_close(struct cli_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->reply);
}
