/*
 * sdnotify: systemd's service protocol, seen from the daemon.
 *
 * With libsystemd the work is delegated to sd_notify(),
 * sd_watchdog_enabled() and sd_listen_fds_with_names().  Without it
 * (configure --without-systemd) the same protocol is spoken directly; it is
 * small and stable (sd_notify(3), sd_listen_fds(3)):
 *
 *   - NOTIFY_SOCKET names a Unix datagram socket, a file system path or,
 *     when it starts with '@', an abstract address; each notification is
 *     one datagram of newline-separated VAR=VALUE assignments.
 *   - WATCHDOG_USEC is the watchdog interval in microseconds, meant for the
 *     process WATCHDOG_PID when that is set.
 *   - LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES describe sockets passed from
 *     fd 3 upwards; they are meant for us only if LISTEN_PID is our pid.
 *
 * Both builds behave the same, including the error codes the unit test
 * checks.  Nothing here logs; callers decide what a failure means.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "sdnotify.h"
#include "util.h"
#include "xmalloc.h"

/* The name socket units give our control socket (FileDescriptorName=). */
#define SDNOTIFY_CONTROL_NAME "control"
/* The first passed fd, SD_LISTEN_FDS_START in sd-daemon.h. */
#define SDNOTIFY_FDS_START 3

/* Convert a watchdog interval to milliseconds, rounding a sub-millisecond
 * interval up so that it never reads as "off". */
static uint64_t
sdnotify_usec_to_ms(uint64_t usec)
{
	uint64_t ms = usec / 1000;

	return usec > 0 && ms == 0 ? 1 : ms;
}

/* The passed fd must be what ftmond can serve: a listening Unix stream
 * socket.  Anything else is an administrator's mistake in the socket
 * unit, reported as -ENOTSOCK (not a socket) or -EPROTOTYPE (a socket of
 * the wrong kind). */
static int sdnotify_check_fd(int fd);

#ifdef HAVE_LIBSYSTEMD

int
sdnotify_send(const char *state)
{
	int r;

	if (state == NULL)
		return -EINVAL;
	r = sd_notify(0, state);
	return r < 0 ? r : 0;
}

uint64_t
sdnotify_watchdog_ms(void)
{
	uint64_t usec = 0;

	/* Keep the variables: a second call (after a reload, say) must give
	 * the same answer, and hooks get a clean environment anyway. */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return sdnotify_usec_to_ms(usec);
}

static int
sdnotify_check_fd(int fd)
{
	int r;

	r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
	if (r > 0)
		return 0;
	if (r < 0)
		return r;
	/* Tell "not a socket" from "wrong kind of socket" as the fallback
	 * below does. */
	return sd_is_socket(fd, AF_UNSPEC, 0, -1) > 0 ? -EPROTOTYPE : -ENOTSOCK;
}

int
sdnotify_listen_fd(void)
{
	char **names = NULL;
	int n, fd = -1, r;

	/* unset_environment=1: the LISTEN_* variables are consumed here. */
	n = sd_listen_fds_with_names(1, &names);
	if (n < 0)
		return n;
	if (n == 0) {
		free(names);
		return -1;
	}
	for (int i = 0; i < n && names != NULL; i++)
		if (fd < 0 && strcmp(names[i], SDNOTIFY_CONTROL_NAME) == 0)
			fd = SDNOTIFY_FDS_START + i;
	if (fd < 0)
		fd = SDNOTIFY_FDS_START;
	for (int i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
	r = sdnotify_check_fd(fd);
	return r < 0 ? r : fd;
}

#else /* !HAVE_LIBSYSTEMD */

/* Fill *sa from NOTIFY_SOCKET's value; returns the address length or
 * -errno.  '@' stands for the leading NUL of an abstract address, which
 * has no terminating NUL: its length is counted exactly. */
static int
sdnotify_address(const char *name, struct sockaddr_un *sa)
{
	size_t len = strlen(name);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (name[0] == '@') {
		if (len < 2 || len > sizeof(sa->sun_path))
			return -EINVAL;
		memcpy(sa->sun_path + 1, name + 1, len - 1);
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	/* systemd also knows "vsock:" addresses, used only inside VMs. */
	if (name[0] != '/')
		return -EAFNOSUPPORT;
	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, name, len + 1);
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int
sdnotify_send(const char *state)
{
	struct sockaddr_un sa;
	const char *name;
	ssize_t n;
	int fd, salen, r = 0;

	if (state == NULL)
		return -EINVAL;
	name = getenv("NOTIFY_SOCKET");
	if (name == NULL || *name == '\0')
		return 0;
	salen = sdnotify_address(name, &sa);
	if (salen < 0)
		return salen;
	/* A fresh socket per message: notifications are rare (the watchdog
	 * is the most frequent, every few seconds) and this keeps no fd open
	 * that a reload or a fork would have to care about. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
	           (socklen_t)salen);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != strlen(state))
		r = -EMSGSIZE;
	close(fd);
	return r;
}

/* Read a pid variable; 0 and -errno as util_parse_uint. */
static int
sdnotify_env_pid(const char *var, pid_t *pid)
{
	uint64_t v;
	int r;

	r = util_parse_uint(getenv(var), (uint64_t)INT32_MAX, &v);
	if (r < 0)
		return r;
	if (v == 0)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

uint64_t
sdnotify_watchdog_ms(void)
{
	const char *s = getenv("WATCHDOG_USEC");
	uint64_t usec;
	pid_t pid;

	if (s == NULL || util_parse_uint(s, UINT64_MAX, &usec) < 0)
		return 0;
	/* WATCHDOG_PID is optional; when present it must be us, or a
	 * parent's watchdog leaked into our environment. */
	if (getenv("WATCHDOG_PID") != NULL &&
	    (sdnotify_env_pid("WATCHDOG_PID", &pid) < 0 || pid != getpid()))
		return 0;
	return sdnotify_usec_to_ms(usec);
}

static int
sdnotify_check_fd(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct stat st;
	int type = 0, listening = 0;
	socklen_t optlen;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	optlen = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &optlen) < 0)
		return -errno;
	optlen = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) < 0)
		return -errno;
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0)
		return -errno;
	if (type != SOCK_STREAM || !listening || ss.ss_family != AF_UNIX)
		return -EPROTOTYPE;
	return 0;
}

/* Pick the fd named "control" from LISTEN_FDNAMES (colon-separated, one
 * name per fd), else the first.  The list must have exactly n names, as
 * libsystemd insists. */
static int
sdnotify_pick_fd(const char *names, int n)
{
	const char *p = names;
	int i = 0, fd = -1;

	if (names == NULL)
		return SDNOTIFY_FDS_START;
	for (;;) {
		size_t len = strcspn(p, ":");

		if (i >= n)
			return -EINVAL;
		if (fd < 0 && len == strlen(SDNOTIFY_CONTROL_NAME) &&
		    strncmp(p, SDNOTIFY_CONTROL_NAME, len) == 0)
			fd = SDNOTIFY_FDS_START + i;
		i++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	if (i != n)
		return -EINVAL;
	return fd < 0 ? SDNOTIFY_FDS_START : fd;
}

/* The body of sdnotify_listen_fd(), run while the LISTEN_* variables are
 * still set. */
static int
sdnotify_listen_env(void)
{
	const char *s;
	uint64_t n;
	pid_t pid;
	int r, fd;

	s = getenv("LISTEN_PID");
	if (s == NULL)
		return -1;
	r = sdnotify_env_pid("LISTEN_PID", &pid);
	if (r < 0)
		return r;
	if (pid != getpid())
		return -1;
	s = getenv("LISTEN_FDS");
	if (s == NULL)
		return -1;
	/* systemd never passes zero fds; libsystemd rejects it, so do we. */
	r = util_parse_uint(s, (uint64_t)(INT32_MAX - SDNOTIFY_FDS_START), &n);
	if (r < 0 || n == 0)
		return -EINVAL;
	/* The passed fds are ours now; hooks must not inherit them. */
	for (int i = 0; i < (int)n; i++) {
		int flags = fcntl(SDNOTIFY_FDS_START + i, F_GETFD);

		if (flags < 0 || fcntl(SDNOTIFY_FDS_START + i, F_SETFD, flags | FD_CLOEXEC) < 0)
			return -errno;
	}
	fd = sdnotify_pick_fd(getenv("LISTEN_FDNAMES"), (int)n);
	if (fd < 0)
		return fd;
	r = sdnotify_check_fd(fd);
	return r < 0 ? r : fd;
}

int
sdnotify_listen_fd(void)
{
	int r = sdnotify_listen_env();

	/* Whatever the outcome, the variables were meant for this process
	 * only: a child seeing LISTEN_FDS=1 would grab fd 3 by mistake. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return r;
}

#endif /* HAVE_LIBSYSTEMD */

int
sdnotify_sendf(const char *fmt, ...)
{
	char small[256], *state = small;
	va_list ap;
	int len, r;

	/* Status lines are short; only a long one costs an allocation. */
	va_start(ap, fmt);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (len < 0)
		return -EINVAL;
	if ((size_t)len >= sizeof(small)) {
		state = xmalloc((size_t)len + 1);
		va_start(ap, fmt);
		vsnprintf(state, (size_t)len + 1, fmt, ap);
		va_end(ap);
	}
	r = sdnotify_send(state);
	if (state != small)
		free(state);
	return r;
}
