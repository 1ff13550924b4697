/*
 * testsock: what the unit tests that drive the control socket share: run
 * a private loop until a condition holds (bounded), and a non-blocking
 * client socket that connects, reads what is there and writes all.
 */
#ifndef FTMON_TESTSOCK_H
#define FTMON_TESTSOCK_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"

/* Run loop until cond(arg) holds or wait_ms pass; false on time-out. */
static inline bool
testsock_pump_until(uv_loop_t *loop, unsigned wait_ms, bool (*cond)(void *), void *arg)
{
	uint64_t end = uv_hrtime() + (uint64_t)wait_ms * 1000000;

	while (!cond(arg)) {
		if (uv_hrtime() > end)
			return false;
		uv_run(loop, UV_RUN_ONCE);
	}
	return true;
}

/* A non-blocking client connected to path; bails out when it cannot. */
static inline int
testsock_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("Bail out! connect %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Append what fd has to b; set *eof at end of file or on an error. */
static inline void
testsock_read(int fd, struct buf *b, bool *eof)
{
	char chunk[65536];
	ssize_t n;

	while (!*eof) {
		n = read(fd, chunk, sizeof(chunk));
		if (n > 0)
			buf_append(b, chunk, (size_t)n);
		else if (n < 0 && errno == EAGAIN)
			break;
		else if (n == 0 || errno != EINTR)
			*eof = true;
	}
}

/* Write all of s, running loop while the socket is full (bounded). */
static inline void
testsock_write(uv_loop_t *loop, unsigned wait_ms, int fd, const char *s, size_t len)
{
	size_t off = 0;
	uint64_t end = uv_hrtime() + (uint64_t)wait_ms * 1000000;

	while (off < len && uv_hrtime() < end) {
		ssize_t n = write(fd, s + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else
			uv_run(loop, UV_RUN_ONCE);
	}
}

#endif
