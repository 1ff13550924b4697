/*
 * test_sdnotify: the systemd protocol, exercised without systemd.  The test
 * plays the service manager: it binds its own NOTIFY_SOCKET, sets the
 * WATCHDOG_* and LISTEN_* variables, and puts sockets of various kinds at
 * fd 3 and 4.  The same checks must pass with and without libsystemd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"
#include "tap.h"

static char test_dir[] = "/tmp/test_sdnotify.XXXXXX";
static char test_path[sizeof(test_dir) + 16];

/* Bind a datagram socket at a path, or at an abstract name when abstract
 * is set (name without the leading '@'). */
static int
test_bind_dgram(const char *name, int abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (abstract) {
		memcpy(sa.sun_path + 1, name, strlen(name));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
		len = sizeof(sa);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Receive one datagram within a second; returns its length or -1. */
static ssize_t
test_recv(int fd, char *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, 1000) != 1)
		return -1;
	n = recv(fd, buf, size - 1, MSG_DONTWAIT);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Nothing must be waiting on the socket. */
static int
test_queue_empty(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 0;
}

static void
test_notify(void)
{
	char buf[256], abs_name[64];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	is_int(sdnotify_send("READY=1"), 0, "no NOTIFY_SOCKET: nothing to do");
	is_int(sdnotify_send(NULL), -EINVAL, "NULL state is rejected");

	snprintf(test_path, sizeof(test_path), "%s/notify", test_dir);
	fd = test_bind_dgram(test_path, 0);
	ok(fd >= 0, "bound a notify socket at %s", test_path);
	setenv("NOTIFY_SOCKET", test_path, 1);

	is_int(sdnotify_send("READY=1\nSTATUS=x"), 0, "send to a path socket");
	is_int(test_recv(fd, buf, sizeof(buf)), 16, "one datagram of 16 bytes");
	is_str(buf, "READY=1\nSTATUS=x", "received exactly what was sent");
	ok(test_queue_empty(fd), "and nothing else");

	is_int(sdnotify_sendf("STATUS=watching %d jobs, %s", 3, "2 firing"), 0, "sendf");
	test_recv(fd, buf, sizeof(buf));
	is_str(buf, "STATUS=watching 3 jobs, 2 firing", "sendf formats");

	is_int(sdnotify_send("WATCHDOG=1"), 0, "send again");
	test_recv(fd, buf, sizeof(buf));
	is_str(buf, "WATCHDOG=1", "every message is its own datagram");
	close(fd);

	/* The socket is gone: the error must come back, not vanish. */
	unlink(test_path);
	is_int(sdnotify_send("READY=1"), -ENOENT, "missing socket -> -ENOENT");

	snprintf(abs_name, sizeof(abs_name), "ftmon-test-sdnotify-%ld", (long)getpid());
	fd = test_bind_dgram(abs_name, 1);
	ok(fd >= 0, "bound an abstract notify socket");
	snprintf(buf, sizeof(buf), "@%s", abs_name);
	setenv("NOTIFY_SOCKET", buf, 1);
	is_int(sdnotify_send("STOPPING=1"), 0, "send to an abstract socket");
	test_recv(fd, buf, sizeof(buf));
	is_str(buf, "STOPPING=1", "abstract socket received it");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ok(sdnotify_send("READY=1") < 0, "relative NOTIFY_SOCKET fails");
	unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog(void)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	is_int(sdnotify_watchdog_ms(), 0, "no WATCHDOG_USEC: off");

	setenv("WATCHDOG_USEC", "2000000", 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	setenv("WATCHDOG_PID", pid, 1);
	is_int(sdnotify_watchdog_ms(), 0, "WATCHDOG_PID of another process: off");

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	is_int(sdnotify_watchdog_ms(), 2000, "WATCHDOG_PID is us: 2000 ms");
	is_int(sdnotify_watchdog_ms(), 2000, "asking twice gives the same answer");

	unsetenv("WATCHDOG_PID");
	is_int(sdnotify_watchdog_ms(), 2000, "no WATCHDOG_PID: still ours");

	setenv("WATCHDOG_USEC", "1500", 1);
	is_int(sdnotify_watchdog_ms(), 1, "1.5 ms rounds down to 1 ms");
	setenv("WATCHDOG_USEC", "500", 1);
	is_int(sdnotify_watchdog_ms(), 1, "0.5 ms rounds up to 1 ms, not off");
	setenv("WATCHDOG_USEC", "0", 1);
	is_int(sdnotify_watchdog_ms(), 0, "WATCHDOG_USEC=0: off");
	setenv("WATCHDOG_USEC", "12s", 1);
	is_int(sdnotify_watchdog_ms(), 0, "malformed WATCHDOG_USEC: off");
	unsetenv("WATCHDOG_USEC");
}

/* A Unix stream socket bound in test_dir; listening if asked. */
static int
test_unix_stream(const char *name, int listening)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", test_dir, name);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (listening && listen(fd, 8) < 0)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Move fd to target (3 or 4), the way the service manager passes it. */
static int
test_place(int fd, int target)
{
	if (fd < 0 || dup2(fd, target) != target) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	/* systemd hands fds over without FD_CLOEXEC; so do we. */
	return fcntl(target, F_SETFD, 0) == 0 ? target : -1;
}

/* Set the LISTEN_* variables for our own pid; names may be NULL. */
static void
test_listen_env(const char *nfds, const char *names)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", nfds, 1);
	if (names != NULL)
		setenv("LISTEN_FDNAMES", names, 1);
	else
		unsetenv("LISTEN_FDNAMES");
}

static int
test_env_gone(void)
{
	return getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	       getenv("LISTEN_FDNAMES") == NULL;
}

static void
test_listen(void)
{
	char pid[32];

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	is_int(sdnotify_listen_fd(), -1, "no LISTEN_*: not activated");

	ok(test_place(test_unix_stream("ctl.sock", 1), 3) == 3,
	   "a listening Unix stream socket at fd 3");
	test_listen_env("1", "control");
	is_int(sdnotify_listen_fd(), 3, "LISTEN_FDS=1 named control -> fd 3");
	ok(test_env_gone(), "LISTEN_* variables are unset afterwards");
	ok(fcntl(3, F_GETFD) & FD_CLOEXEC, "fd 3 is now close-on-exec");
	is_int(sdnotify_listen_fd(), -1, "a second call: not activated");

	fcntl(3, F_SETFD, 0);
	test_listen_env("1", NULL);
	is_int(sdnotify_listen_fd(), 3, "no LISTEN_FDNAMES: the first fd");

	snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	test_listen_env("1", "control");
	setenv("LISTEN_PID", pid, 1);
	is_int(sdnotify_listen_fd(), -1, "LISTEN_PID of another process: -1");
	ok(test_env_gone(), "and the variables are unset all the same");

	test_listen_env("x", "control");
	is_int(sdnotify_listen_fd(), -EINVAL, "LISTEN_FDS=x: -EINVAL");
	test_listen_env("0", NULL);
	is_int(sdnotify_listen_fd(), -EINVAL, "LISTEN_FDS=0: -EINVAL");
	test_listen_env("1", "control:extra");
	is_int(sdnotify_listen_fd(), -EINVAL, "more names than fds: -EINVAL");

	/* Two fds: the one named control wins over the first. */
	ok(test_place(test_unix_stream("other.sock", 1), 4) == 4,
	   "a second listening socket at fd 4");
	test_listen_env("2", "other:control");
	is_int(sdnotify_listen_fd(), 4, "the fd named control (fd 4) is chosen");
	ok(fcntl(3, F_GETFD) & FD_CLOEXEC, "fd 3 is close-on-exec too");
	test_listen_env("2", "a:b");
	is_int(sdnotify_listen_fd(), 3, "no fd named control: the first");

	/* Wrong kinds of fd at 3. */
	ok(test_place(socket(AF_INET, SOCK_DGRAM, 0), 3) == 3, "a UDP socket at fd 3");
	test_listen_env("1", "control");
	is_int(sdnotify_listen_fd(), -EPROTOTYPE, "UDP socket: -EPROTOTYPE");

	ok(test_place(test_unix_stream("idle.sock", 0), 3) == 3,
	   "a non-listening Unix stream socket at fd 3");
	test_listen_env("1", "control");
	is_int(sdnotify_listen_fd(), -EPROTOTYPE, "not listening: -EPROTOTYPE");

	ok(test_place(open("/dev/null", O_RDONLY), 3) == 3, "/dev/null at fd 3");
	test_listen_env("1", "control");
	is_int(sdnotify_listen_fd(), -ENOTSOCK, "not a socket: -ENOTSOCK");

	close(3);
	close(4);
}

static void
test_cleanup(void)
{
	static const char *const names[] = {"notify", "ctl.sock", "other.sock", "idle.sock"};
	char path[sizeof(test_path)];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", test_dir, names[i]);
		unlink(path);
	}
	rmdir(test_dir);
}

int
main(void)
{
	/* Hold fds 3 and 4 so no socket created below lands there before
	 * the test moves its own sockets into place. */
	int null = open("/dev/null", O_RDONLY);

	if (null < 0 || dup2(null, 3) < 0 || dup2(null, 4) < 0) {
		printf("Bail out! cannot reserve fds 3 and 4\n");
		return 99;
	}
	if (null > 4)
		close(null);
	if (mkdtemp(test_dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 99;
	}
	test_notify();
	test_watchdog();
	test_listen();
	test_cleanup();
	return tap_done();
}
