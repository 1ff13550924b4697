/*
 * test_control: the control socket transport over a real socket in a temp
 * directory, on a private loop, with a stub dispatch callback: framing,
 * the client cap, the idle timeout, holds (late replies, release, gone),
 * the per-stream output cap and control_free with held clients.  Every
 * wait is bounded (TEST_WAIT_MS) and waits for an event, never a delay.
 */
#include "config.h"

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
#include "control.h"
#include "log.h"
#include "proto.h"
#include "tap.h"
#include "testsock.h"
#include "xmalloc.h"

#define TEST_WAIT_MS 5000

static uv_loop_t test_loop;
static uv_timer_t test_tick; /* keeps UV_RUN_ONCE from blocking for long */
static char test_dir[64], test_path[100];

static struct {
	struct control *c;
	int ndispatch;
	struct control_client *held[4];
	int nheld;
	int gone;
	struct control_client *gone_cl;
	struct control_client *pinned; /* by "pin" */
	int npinned_reqs, ndeferred;
} S;

static void
test_gone_cb(struct control_client *cl, void *data)
{
	S.gone++;
	S.gone_cl = cl;
	/* Sending from gone() is refused, and the line is freed. */
	ok(!control_client_send(cl, xstrdup("too late\n")), "send inside gone() returns false");
}

/* "hold" holds the client; "pin" pins it, and while pinned "p:..." is
 * taken (answered by the test) and anything else deferred; anything else
 * is echoed back. */
static void
test_dispatch_cb(void *data, struct control_client *cl, const char *line, size_t len)
{
	S.ndispatch++;
	if (len == 3 && memcmp(line, "pin", 3) == 0) {
		S.pinned = cl;
		control_client_pin(cl, test_gone_cb, NULL);
		return;
	}
	if (cl == S.pinned && len > 2 && memcmp(line, "p:", 2) == 0) {
		S.npinned_reqs++;
		return;
	}
	if (cl == S.pinned) {
		S.ndeferred++;
		control_client_defer(cl);
		return;
	}
	if (len == 4 && memcmp(line, "hold", 4) == 0) {
		if (S.nheld < 4)
			S.held[S.nheld++] = cl;
		control_client_hold(cl, test_gone_cb, NULL);
		return;
	}
	control_client_send(cl, xasprintf("echo:%.*s\n", (int)len, line));
}

static void
test_tick_cb(uv_timer_t *t)
{
}

/* Run the loop until cond(arg) holds or TEST_WAIT_MS pass. */
static bool
test_pump_until(bool (*cond)(void *), void *arg)
{
	return testsock_pump_until(&test_loop, TEST_WAIT_MS, cond, arg);
}

static void
test_start(void)
{
	char *err = NULL;

	memset(&S, 0, sizeof(S));
	snprintf(test_path, sizeof(test_path), "%s/ctl.sock", test_dir);
	S.c = control_new(&test_loop, -1, test_path, 0600, test_dispatch_cb, NULL, &err);
	if (S.c == NULL) {
		printf("Bail out! control_new: %s\n", err);
		exit(1);
	}
}

static bool
test_true(void *arg)
{
	return (*(int *)arg)-- <= 0;
}

static void
test_stop(void)
{
	int spins = 5;

	control_free(S.c);
	S.c = NULL;
	/* Close callbacks run on the next iterations. */
	test_pump_until(test_true, &spins);
}

static int
test_connect(void)
{
	return testsock_connect(test_path);
}

struct test_rx {
	int fd;
	struct buf b;
	bool eof;
	const char *want; /* test_rx_has: wait for this text */
};

/* Read what is there; remember EOF.  Always false, so it can be a cond. */
static bool
test_rx_poll(void *arg)
{
	struct test_rx *rx = arg;

	testsock_read(rx->fd, &rx->b, &rx->eof);
	return false;
}

static bool
test_rx_has(void *arg)
{
	struct test_rx *rx = arg;

	test_rx_poll(rx);
	return rx->b.len > 0 && strstr(rx->b.data, rx->want) != NULL;
}

static bool
test_rx_eof(void *arg)
{
	struct test_rx *rx = arg;

	test_rx_poll(rx);
	return rx->eof;
}

static bool
test_wait_text(struct test_rx *rx, const char *want)
{
	rx->want = want;
	return test_pump_until(test_rx_has, rx);
}

static void
test_rx_init(struct test_rx *rx, int fd)
{
	memset(rx, 0, sizeof(*rx));
	rx->fd = fd;
}

static void
test_send(int fd, const char *s, size_t len)
{
	testsock_write(&test_loop, TEST_WAIT_MS, fd, s, len);
}

static bool
test_nclients_is(void *arg)
{
	return control_nclients(S.c) == *(size_t *)arg;
}

static bool
test_wait_nclients(size_t n)
{
	return test_pump_until(test_nclients_is, &n);
}

/* One full round trip on a fresh client: the loop has seen whatever was
 * already in the kernel for the others. */
static void
test_round_trip(void)
{
	struct test_rx rx;

	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "sync\n", 5);
	test_wait_text(&rx, "echo:sync\n");
	close(rx.fd);
	buf_free(&rx.b);
}

static void
test_framing(void)
{
	struct test_rx rx;
	char *big;
	int before;

	test_start();
	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "pi", 2);
	test_round_trip();
	is_int(S.ndispatch, 1, "half a line is not dispatched (only the round trip's)");
	test_send(rx.fd, "ng\n", 3);
	ok(test_wait_text(&rx, "echo:ping\n"), "a line split across writes is one request");
	buf_reset(&rx.b);
	test_send(rx.fd, "one\r\ntwo\n", 9);
	ok(test_wait_text(&rx, "echo:two\n"), "two requests in one write");
	is_str(rx.b.data, "echo:one\necho:two\n", "both answered, in order, CR dropped");
	buf_reset(&rx.b);
	before = S.ndispatch;
	big = xmalloc(PROTO_MAX_LINE + 100);
	memset(big, 'x', PROTO_MAX_LINE + 100);
	test_send(rx.fd, big, PROTO_MAX_LINE + 100);
	free(big);
	ok(test_pump_until(test_rx_eof, &rx), "an over-long line ends the connection");
	ok(rx.b.len > 0 && strstr(rx.b.data, PROTO_E_TOO_LARGE) != NULL,
	   "after a request_too_large error");
	is_int(S.ndispatch, before, "and is never dispatched");
	close(rx.fd);
	buf_free(&rx.b);
	test_stop();
}

static void
test_client_cap(void)
{
	int fds[CONTROL_RESERVED_CLIENTS + 2];
	size_t n = sizeof(fds) / sizeof(fds[0]);
	struct test_rx rx;

	test_start();
	/* We are the daemon's own user, so the reserved slots are ours too. */
	control_set_limits(S.c, 2, 0);
	for (size_t i = 0; i < n; i++)
		fds[i] = test_connect();
	ok(test_wait_nclients(n), "cap + reserved slots accepted (%zu)", n);
	test_rx_init(&rx, test_connect());
	ok(test_wait_text(&rx, "\"busy\""), "one more is told busy");
	ok(test_pump_until(test_rx_eof, &rx), "and closed");
	is_int(control_nclients(S.c), n, "the count stayed at the cap");
	close(fds[0]);
	ok(test_wait_nclients(n - 1), "a client leaving frees its slot");
	for (size_t i = 1; i < n; i++)
		close(fds[i]);
	close(rx.fd);
	buf_free(&rx.b);
	test_stop();
}

static void
test_idle_and_hold(void)
{
	struct test_rx h, i1, i2;

	test_start();
	control_set_limits(S.c, 0, 100);
	test_rx_init(&h, test_connect());
	test_send(h.fd, "hold\nlate1\n", 11);
	test_rx_init(&i1, test_connect());
	ok(test_pump_until(test_rx_eof, &i1), "a silent client is closed after the idle timeout");
	close(i1.fd);
	is_int(S.nheld, 1, "the held client's first request was dispatched");
	is_int(S.ndispatch, 1, "its next request waits while it is held");
	/* Two idle timeouts pass, measured by two clients that are closed. */
	test_rx_init(&i1, test_connect());
	test_pump_until(test_rx_eof, &i1);
	test_rx_init(&i2, test_connect());
	ok(test_pump_until(test_rx_eof, &i2), "later silent clients are closed too");
	test_rx_poll(&h);
	ok(!h.eof && S.gone == 0, "but the held client outlives the idle timeout");
	ok(control_client_send(S.held[0], xstrdup("late reply\n")), "a late reply is queued");
	ok(test_wait_text(&h, "late reply\n"), "and arrives");
	control_client_release(S.held[0]);
	ok(test_wait_text(&h, "echo:late1\n"), "release: the buffered request gets its turn");
	is_str(h.b.data, "late reply\necho:late1\n", "after the late reply");
	ok(test_pump_until(test_rx_eof, &h), "and the idle timeout applies again");
	is_int(S.gone, 0, "gone() is not called after a release");
	close(h.fd);
	close(i1.fd);
	close(i2.fd);
	buf_free(&h.b);
	buf_free(&i1.b);
	buf_free(&i2.b);
	test_stop();
}

static bool
test_gone_seen(void *arg)
{
	return S.gone >= *(int *)arg;
}

/* A pinned client's requests keep coming; one deferred waits (with those
 * after it) for the unpin, then runs again, after the pinned answers. */
static void
test_pin(void)
{
	struct test_rx rx;
	int one = 1;

	test_start();
	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "pin\np:a\np:b\nother\np:c\n", 22);
	test_round_trip();
	test_round_trip();
	ok(S.pinned != NULL, "pinned");
	is_int(S.npinned_reqs, 2, "a pinned client's next requests are still dispatched");
	is_int(S.ndeferred, 1, "one that must wait is deferred");
	/* Less the two round trips' own requests. */
	is_int(S.ndispatch - 2, 4, "and nothing after it is dispatched");
	ok(control_client_send(S.pinned, xstrdup("A\n")), "an answer");
	ok(control_client_send(S.pinned, xstrdup("B\n")), "another");
	control_client_unpin(S.pinned);
	S.pinned = NULL;
	ok(test_wait_text(&rx, "echo:p:c\n"), "unpinned: the deferred request and the rest run");
	is_str(rx.b.data, "A\nB\necho:other\necho:p:c\n", "in order, after the answers");
	is_int(S.ndispatch - 2, 6, "the deferred one dispatched again, once");
	is_int(S.gone, 0, "gone() is not called after an unpin");
	close(rx.fd);
	buf_free(&rx.b);

	/* The peer closing while pinned: gone(), once. */
	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "pin\np:x\n", 8);
	test_round_trip();
	close(rx.fd);
	ok(test_pump_until(test_gone_seen, &one), "the peer closing while pinned calls gone()");
	ok(S.gone_cl == S.pinned, "with the pinned client");
	test_round_trip();
	is_int(S.gone, 1, "exactly once");
	S.pinned = NULL;

	/* Half-closed while pinned: kept until the unpin, answered. */
	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "pin\np:y\n", 8);
	shutdown(rx.fd, SHUT_WR);
	test_round_trip();
	test_round_trip();
	is_int(S.gone, 1, "a half-closed pinned client is not gone");
	ok(control_client_send(S.pinned, xstrdup("Y\n")), "its answer is queued");
	control_client_unpin(S.pinned);
	ok(test_pump_until(test_rx_eof, &rx), "and it is closed after the unpin");
	is_str(rx.b.data, "Y\n", "having got its answer");
	close(rx.fd);
	buf_free(&rx.b);
	test_stop();
}

static void
test_hold_peer_gone(void)
{
	struct test_rx rx;
	int one = 1;

	test_start();
	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "hold\n", 5);
	test_round_trip();
	is_int(S.nheld, 1, "held");
	close(rx.fd);
	ok(test_pump_until(test_gone_seen, &one), "the peer closing during a hold calls gone()");
	ok(S.gone_cl == S.held[0], "with the held client");
	test_round_trip();
	test_round_trip();
	is_int(S.gone, 1, "exactly once");
	ok(test_wait_nclients(0), "and the client is closed");

	/* Half-closed: the peer still reads, so the reply must reach it. */
	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "hold\n", 5);
	shutdown(rx.fd, SHUT_WR);
	test_round_trip();
	test_round_trip();
	is_int(S.nheld, 2, "a second client held, then shut down its sending side");
	is_int(S.gone, 1, "that is not gone");
	ok(control_client_send(S.held[1], xstrdup("answer\n")), "its late reply is queued");
	control_client_release(S.held[1]);
	ok(test_pump_until(test_rx_eof, &rx), "and closed after the release");
	is_str(rx.b.data, "answer\n", "having got its answer");
	is_int(S.gone, 1, "still without gone()");
	close(rx.fd);
	buf_free(&rx.b);
	test_stop();
}

/* Stream 1 KiB lines to a held client that never reads, until dropped. */
static size_t
test_stream_until_dropped(struct control_client *cl, bool *dropped)
{
	char line[1024];
	size_t sent = 0;

	memset(line, 'p', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	*dropped = false;
	/* Bounded: the cap plus any kernel buffer is far below 64 MiB. */
	for (int i = 0; i < 65536 && !*dropped; i++) {
		char *l = xmalloc(sizeof(line) + 1);
		memcpy(l, line, sizeof(line));
		l[sizeof(line)] = '\0';
		if (control_client_send(cl, l))
			sent += sizeof(line);
		else
			*dropped = true;
		uv_run(&test_loop, UV_RUN_NOWAIT);
	}
	return sent;
}

static void
test_overflow(void)
{
	struct test_rx rx, other;
	const size_t cap = 64 * 1024;
	const char *last;
	cJSON *root = NULL;
	const cJSON *payload = NULL;
	bool dropped, okflag, isok = true;
	size_t sent;

	test_start();
	control_set_stream_limit(S.c, cap);
	test_rx_init(&rx, test_connect());
	test_send(rx.fd, "hold\n", 5);
	test_round_trip();
	sent = test_stream_until_dropped(S.held[0], &dropped);
	ok(dropped, "a held client that never reads is dropped (after %zu bytes)", sent);
	ok(sent >= cap, "once its unsent output passed the stream cap");
	is_int(S.gone, 1, "gone() was called, once, before send returned false");
	ok(!control_client_send(S.held[0], xstrdup("x\n")), "sending after the drop fails");
	test_rx_init(&other, test_connect());
	test_send(other.fd, "ping\n", 5);
	ok(test_wait_text(&other, "echo:ping\n"), "other clients are served meanwhile");
	ok(test_pump_until(test_rx_eof, &rx), "the reader then gets everything and the close");
	ok(rx.b.len > sent && strspn(rx.b.data, "p\n") == sent, "every accepted line arrived");
	last = rx.b.len > sent ? rx.b.data + sent : "";
	ok(*last && strchr(last, '\n') == last + strlen(last) - 1, "followed by one last line");
	okflag = *last && proto_parse_reply(last, strlen(last) - 1, &root, &isok, &payload) == 0 &&
	         !isok;
	ok(okflag, "an error reply: %.100s", last);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(payload, "code")), PROTO_E_OVERFLOW,
	       "with code overflow");
	ok(cJSON_IsNull(cJSON_GetObjectItem(root, "id")), "and id null");
	cJSON_Delete(root);
	close(rx.fd);
	close(other.fd);
	buf_free(&rx.b);
	buf_free(&other.b);
	test_stop();
}

static void
test_overflow_never_read(void)
{
	bool dropped;
	int fd;

	test_start();
	control_set_limits(S.c, 0, 200);
	control_set_stream_limit(S.c, 64 * 1024);
	fd = test_connect();
	test_send(fd, "hold\n", 5);
	test_round_trip();
	test_stream_until_dropped(S.held[0], &dropped);
	ok(dropped, "dropped again");
	ok(test_wait_nclients(0), "a peer that never reads the last line is closed anyway");
	close(fd);
	test_stop();
}

static bool
test_nheld_is(void *arg)
{
	return S.nheld == *(int *)arg;
}

static void
test_free_with_holds(void)
{
	struct test_rx a, b;
	int two = 2;

	test_start();
	test_rx_init(&a, test_connect());
	test_rx_init(&b, test_connect());
	test_send(a.fd, "hold\n", 5);
	test_send(b.fd, "hold\n", 5);
	test_pump_until(test_nheld_is, &two);
	is_int(S.nheld, 2, "two clients held");
	/* Unsent output at the close: its write callbacks run while the
	 * clients' handles close, after the control's own handles. */
	for (int i = 0; i < 512; i++)
		control_client_send(S.held[0], xstrdup("0123456789abcdef0123456789abcdef\n"));
	control_free(S.c);
	is_int(S.gone, 2, "control_free calls gone() for each held client");
	S.c = NULL;
	ok(test_pump_until(test_rx_eof, &a) && test_pump_until(test_rx_eof, &b), "and closes them");
	close(a.fd);
	close(b.fd);
	buf_free(&a.b);
	buf_free(&b.b);
}

int
main(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_control.XXXXXX");
	if (mkdtemp(test_dir) == NULL || uv_loop_init(&test_loop) < 0) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	log_set_level(LOG_LEVEL_ERR);
	uv_timer_init(&test_loop, &test_tick);
	uv_timer_start(&test_tick, test_tick_cb, 2, 2);
	test_framing();
	test_client_cap();
	test_idle_and_hold();
	test_hold_peer_gone();
	test_pin();
	test_overflow();
	test_overflow_never_read();
	test_free_with_holds();
	uv_close((uv_handle_t *)&test_tick, NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&test_loop), 0, "every handle closed");
	rmdir(test_dir);
	return tap_done();
}
