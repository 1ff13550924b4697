/*
 * control: Unix socket transport for the control protocol.
 *
 * Each client owns two libuv handles (the pipe and a timer: the idle
 * timeout, or the deadline of a dropped client's last line) and is freed
 * when the second of them has closed; the control itself is freed once its
 * own handles and every client are gone, since pending writes still report
 * to it while the clients close.  Input is split into lines of at most
 * PROTO_MAX_LINE bytes; replies are queued with uv_write.  When a client's
 * unsent output passes CONTROL_PAUSE_OUTPUT we stop reading from it (it
 * only stalls itself); past CONTROL_MAX_OUTPUT it is dropped.  A held
 * client's output is accounted on its own (stream_pending, capped by
 * max_stream) so a streaming client that stops reading never spends the
 * budget that pauses everyone's requests.
 *
 * Accepting, binding and the socket's group are in control_listen.c.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "control.h"
#include "control_internal.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define CONTROL_PAUSE_OUTPUT (1u * 1024 * 1024)
#define CONTROL_READ_CHUNK   (64 * 1024)

struct control_write {
	uv_write_t req;
	struct control_client *cl;
	char *data;
	size_t len;
	bool stream; /* counted in stream_pending, not out_total */
};

static void control_client_close(struct control_client *cl);
static void control_client_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void control_schedule_turn(struct control *c);

static void
control_maybe_free(struct control *c)
{
	if (c->open_handles > 0 || c->nalive > 0)
		return;
	free(c->path);
	free(c);
}

static void
control_client_handle_closed_cb(uv_handle_t *h)
{
	struct control_client *cl = h->data;
	struct control *c = cl->c;

	if (--cl->open_handles > 0)
		return;
	buf_free(&cl->in);
	free(cl);
	c->nalive--;
	control_maybe_free(c);
}

/* The hold ends because the client goes: tell its keeper, once. */
static void
control_client_end_hold(struct control_client *cl)
{
	control_gone_fn gone = cl->gone;

	if (!cl->held && !cl->pinned)
		return;
	cl->held = false;
	cl->pinned = false;
	cl->deferred = false;
	cl->gone = NULL;
	gone(cl, cl->gone_data);
}

static void
control_client_close(struct control_client *cl)
{
	struct control *c = cl->c;

	if (cl->closing)
		return;
	cl->closing = true;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->nclients--;
	control_client_end_hold(cl);
	uv_close((uv_handle_t *)&cl->pipe, control_client_handle_closed_cb);
	uv_close((uv_handle_t *)&cl->timer, control_client_handle_closed_cb);
}

static void
control_client_idle_cb(uv_timer_t *t)
{
	struct control_client *cl = t->data;
	log_debug("control: client pid %ld idle for %llu ms, closing", (long)cl->peer.pid,
	          (unsigned long long)cl->c->idle_ms);
	control_client_close(cl);
}

static void
control_client_drain_cb(uv_timer_t *t)
{
	struct control_client *cl = t->data;
	log_debug("control: client pid %ld did not read its last line, closing",
	          (long)cl->peer.pid);
	control_client_close(cl);
}

static void
control_client_touch(struct control_client *cl)
{
	if (!cl->closing && !cl->held && !cl->close_after_write)
		uv_timer_start(&cl->timer, control_client_idle_cb, cl->c->idle_ms, 0);
}

static void
control_client_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char chunk[CONTROL_READ_CHUNK];
	/* The loop is single-threaded and read callbacks copy out at once,
	 * so one static chunk serves every client. */
	*b = uv_buf_init(chunk, sizeof(chunk));
}

static void
control_client_set_reading(struct control_client *cl, bool on)
{
	if (cl->closing || cl->eof || on == cl->reading)
		return;
	if (on)
		uv_read_start((uv_stream_t *)&cl->pipe, control_client_alloc_cb,
		              control_client_read_cb);
	else
		uv_read_stop((uv_stream_t *)&cl->pipe);
	cl->reading = on;
}

/* Read on while replies drain.  A client whose requests wait their turn
 * sends no more; a held one may, up to about a line's worth, so that we
 * notice it closing. */
static bool
control_client_wants_input(const struct control_client *cl)
{
	if (cl->close_after_write || cl->out_pending >= CONTROL_PAUSE_OUTPUT / 2)
		return false;
	if (cl->held || cl->deferred)
		return cl->in.len <= PROTO_MAX_LINE;
	return !cl->backlog;
}

static void
control_client_finish_if_done(struct control_client *cl)
{
	if (cl->out_pending > 0)
		return;
	if (cl->close_after_write || (cl->eof && !cl->held && !cl->pinned && !cl->backlog))
		control_client_close(cl);
}

static void
control_write_cb(uv_write_t *req, int status)
{
	struct control_write *w = (struct control_write *)req;
	struct control_client *cl = w->cl;

	cl->out_pending -= w->len;
	if (w->stream)
		cl->stream_pending -= w->len;
	else
		cl->c->out_total -= w->len;
	free(w->data);
	free(w);
	if (cl->closing)
		return;
	if (status < 0) {
		log_debug("control: write to client pid %ld failed: %s", (long)cl->peer.pid,
		          uv_strerror(status));
		control_client_close(cl);
		return;
	}
	if (control_client_wants_input(cl))
		control_client_set_reading(cl, true);
	control_client_finish_if_done(cl);
}

/* Hand line (owned) to the kernel's queue, with no cap: callers check. */
static bool
control_client_queue(struct control_client *cl, char *line, bool stream)
{
	struct control_write *w = xmalloc(sizeof(*w));
	uv_buf_t b;

	w->cl = cl;
	w->data = line;
	w->len = strlen(line);
	w->stream = stream;
	b = uv_buf_init(w->data, (unsigned)w->len);
	if (uv_write(&w->req, (uv_stream_t *)&cl->pipe, &b, 1, control_write_cb) < 0) {
		free(line);
		free(w);
		control_client_close(cl);
		return false;
	}
	cl->out_pending += w->len;
	if (stream)
		cl->stream_pending += w->len;
	else
		cl->c->out_total += w->len;
	if (cl->out_pending > CONTROL_PAUSE_OUTPUT)
		control_client_set_reading(cl, false);
	return true;
}

/*
 * End the connection after one last line (owned): further input is
 * ignored, nothing else is sent, and the close comes once the line is out
 * or after CONTROL_DRAIN_MS (the idle timeout if shorter), whichever is
 * first, so a peer that never reads cannot keep it.  The input buffer
 * stays until the close: a dispatch callback may still be reading it.
 */
static void
control_client_drop(struct control_client *cl, char *last)
{
	struct control *c = cl->c;
	uint64_t ms = c->idle_ms < CONTROL_DRAIN_MS ? c->idle_ms : CONTROL_DRAIN_MS;
	bool stream = cl->held;

	cl->close_after_write = true;
	cl->backlog = false;
	control_client_set_reading(cl, false);
	control_client_end_hold(cl);
	if (cl->closing) {
		free(last);
		return;
	}
	uv_timer_start(&cl->timer, control_client_drain_cb, ms, 0);
	control_client_queue(cl, last, stream);
}

bool
control_client_send(struct control_client *cl, char *line)
{
	size_t len;

	if (cl->closing || cl->close_after_write) {
		free(line);
		return false;
	}
	len = strlen(line);
	if (cl->held && cl->stream_pending + len > cl->c->max_stream) {
		log_warn("control: streaming client pid %ld is not reading (%zu bytes unsent), "
		         "dropping it",
		         (long)cl->peer.pid, cl->stream_pending);
		free(line);
		control_client_drop(cl, proto_reply_error(NULL, PROTO_E_OVERFLOW,
		                                          "the client is not reading its stream "
		                                          "fast enough; closing"));
		return false;
	}
	if (!cl->held && cl->out_pending + len > CONTROL_MAX_OUTPUT) {
		log_warn("control: client pid %ld is not reading its replies, dropping it",
		         (long)cl->peer.pid);
		free(line);
		control_client_close(cl);
		return false;
	}
	return control_client_queue(cl, line, cl->held);
}

const struct control_peer *
control_client_peer(const struct control_client *cl)
{
	return &cl->peer;
}

void
control_client_hold(struct control_client *cl, control_gone_fn gone, void *data)
{
	if (cl->closing || cl->close_after_write) {
		gone(cl, data);
		return;
	}
	cl->held = true;
	cl->gone = gone;
	cl->gone_data = data;
	uv_timer_stop(&cl->timer);
}

void
control_client_release(struct control_client *cl)
{
	if (!cl->held)
		return;
	cl->held = false;
	cl->gone = NULL;
	cl->gone_data = NULL;
	control_client_touch(cl);
	if (cl->backlog) {
		/* Not processed here: the caller may be deep in a callback. */
		control_client_set_reading(cl, false);
		control_schedule_turn(cl->c);
		return;
	}
	if (control_client_wants_input(cl))
		control_client_set_reading(cl, true);
	control_client_finish_if_done(cl);
}

void
control_client_pin(struct control_client *cl, control_gone_fn gone, void *data)
{
	if (cl->closing || cl->close_after_write) {
		gone(cl, data);
		return;
	}
	cl->pinned = true;
	cl->gone = gone;
	cl->gone_data = data;
}

void
control_client_defer(struct control_client *cl)
{
	if (!cl->pinned)
		return;
	cl->redo = true;
	cl->deferred = true;
}

void
control_client_unpin(struct control_client *cl)
{
	if (!cl->pinned)
		return;
	cl->pinned = false;
	cl->deferred = false;
	cl->gone = NULL;
	cl->gone_data = NULL;
	if (cl->backlog) {
		/* Not processed here, as for a release. */
		control_client_set_reading(cl, false);
		control_schedule_turn(cl->c);
		return;
	}
	if (control_client_wants_input(cl))
		control_client_set_reading(cl, true);
	control_client_finish_if_done(cl);
}

static void control_turn_cb(uv_idle_t *t);
static void control_turn_later_cb(uv_timer_t *t);

/* Let the loop come back to clients with queued requests: on the next
 * iteration, or a little later while the output budget is spent. */
static void
control_schedule_turn(struct control *c)
{
	if (c->closing)
		return;
	if (c->out_total > CONTROL_MAX_OUTPUT_TOTAL)
		uv_timer_start(&c->turn_later, control_turn_later_cb, 10, 0);
	else
		uv_idle_start(&c->turn, control_turn_cb);
}

/* Bytes after the last newline: the request still being received. */
static size_t
control_client_partial_len(const struct control_client *cl)
{
	const char *nl = cl->in.len > 0 ? memrchr(cl->in.data, '\n', cl->in.len) : NULL;

	return nl ? cl->in.len - (size_t)(nl - cl->in.data) - 1 : cl->in.len;
}

/*
 * Hand up to CONTROL_BATCH complete lines to the dispatch callback.  A
 * client that sent more waits for its next turn with reading paused, so one
 * client pipelining expensive requests cannot hold the loop: every other
 * client is served between its batches.  A held client's lines wait for
 * control_client_release().
 */
static void
control_client_process(struct control_client *cl)
{
	struct control *c = cl->c;
	size_t start = 0;
	int handled = 0;
	char *nl;

	while (!cl->closing && !cl->held && !cl->deferred && !cl->close_after_write &&
	       handled < (cl->pinned ? CONTROL_PINNED_BATCH : CONTROL_BATCH) &&
	       c->out_total <= CONTROL_MAX_OUTPUT_TOTAL &&
	       (nl = memchr(cl->in.data + start, '\n', cl->in.len - start)) != NULL) {
		size_t len = (size_t)(nl - (cl->in.data + start));
		if (len > 0 && cl->in.data[start + len - 1] == '\r')
			len--;
		if (len > 0) {
			c->dispatch(c->data, cl, cl->in.data + start, len);
			if (cl->redo) { /* handed back: it stays first in line */
				cl->redo = false;
				break;
			}
			handled++;
			control_client_touch(cl);
		}
		start = (size_t)(nl - cl->in.data) + 1;
	}
	if (cl->closing || cl->close_after_write)
		return;
	buf_consume(&cl->in, start);
	cl->backlog = cl->in.len > 0 && memchr(cl->in.data, '\n', cl->in.len) != NULL;
	if (cl->backlog && !cl->held && !cl->deferred) {
		control_client_set_reading(cl, false);
		control_schedule_turn(c);
		return;
	}
	if (control_client_partial_len(cl) > PROTO_MAX_LINE) {
		buf_free(&cl->in);
		control_client_drop(cl,
		                    proto_reply_error(NULL, PROTO_E_TOO_LARGE,
		                                      "request line longer than 1 MiB; closing"));
		return;
	}
	if ((cl->held || cl->deferred) && cl->in.len > PROTO_MAX_LINE)
		control_client_set_reading(cl, false);
	else if (control_client_wants_input(cl))
		control_client_set_reading(cl, true);
	control_client_finish_if_done(cl);
}

static void
control_turn_cb(uv_idle_t *t)
{
	struct control *c = t->data;
	struct control_client *cl, *next;

	/* Stopped first: a client still behind re-arms it. */
	uv_idle_stop(&c->turn);
	for (cl = c->clients; cl; cl = next) {
		/* A closed client's links stay valid until its close callback,
		 * which cannot run before we return. */
		next = cl->next;
		if (cl->backlog && !cl->held && !cl->deferred && !cl->closing)
			control_client_process(cl);
	}
}

static void
control_turn_later_cb(uv_timer_t *t)
{
	struct control *c = t->data;
	control_turn_cb(&c->turn);
}

/* After EOF: did the peer close the connection, or only its sending side
 * (then it still reads, and a held request's reply must reach it)? */
static bool
control_client_hung_up(struct control_client *cl)
{
	struct pollfd pfd = {.events = POLLOUT};
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) != 0)
		return true;
	pfd.fd = fd;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)) != 0;
}

static void
control_client_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct control_client *cl = s->data;

	if (n > 0) {
		if (cl->close_after_write)
			return; /* draining toward a close: ignore further input */
		buf_append(&cl->in, b->base, (size_t)n);
		control_client_touch(cl);
		control_client_process(cl);
		return;
	}
	if (n == 0)
		return;
	/* EOF or error: answer a last unterminated line, then close once
	 * the replies are out (or, when held, once released). */
	uv_read_stop(s);
	cl->reading = false;
	cl->eof = true;
	if (n == UV_EOF && cl->in.len > 0 && !cl->close_after_write) {
		buf_append(&cl->in, "\n", 1);
		control_client_process(cl);
	}
	if (cl->closing)
		return;
	if (n != UV_EOF || ((cl->held || cl->pinned) && control_client_hung_up(cl)))
		control_client_close(cl);
	else
		control_client_finish_if_done(cl);
}

void
control_client_add(struct control *c, int fd, const struct control_peer *peer)
{
	struct control_client *cl = xcalloc(1, sizeof(*cl));
	uv_loop_t *loop = c->server.loop;
	int rc;

	cl->c = c;
	cl->peer = *peer;
	uv_pipe_init(loop, &cl->pipe, 0);
	uv_timer_init(loop, &cl->timer);
	cl->pipe.data = cl->timer.data = cl;
	cl->open_handles = 2;
	c->nalive++;
	if ((rc = uv_pipe_open(&cl->pipe, fd)) < 0) {
		log_warn("control: cannot take client pid %ld: %s", (long)peer->pid,
		         uv_strerror(rc));
		close(fd); /* not the pipe's on failure */
		uv_close((uv_handle_t *)&cl->pipe, control_client_handle_closed_cb);
		uv_close((uv_handle_t *)&cl->timer, control_client_handle_closed_cb);
		return;
	}
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->nclients++;
	control_client_touch(cl);
	control_client_set_reading(cl, true);
}

struct control *
control_new(uv_loop_t *loop, int fd, const char *path, unsigned mode, control_dispatch_fn dispatch,
            void *data, char **err)
{
	struct control *c = xcalloc(1, sizeof(*c));
	int rc;

	*err = NULL;
	c->dispatch = dispatch;
	c->data = data;
	c->max_clients = CONTROL_MAX_CLIENTS;
	c->idle_ms = CONTROL_IDLE_TIMEOUT_MS;
	c->max_stream = CONTROL_MAX_STREAM_OUTPUT;
	uv_pipe_init(loop, &c->server, 0);
	uv_idle_init(loop, &c->turn);
	uv_timer_init(loop, &c->turn_later);
	uv_timer_init(loop, &c->accept_later);
	c->server.data = c->turn.data = c->turn_later.data = c->accept_later.data = c;
	c->open_handles = 4;
	c->listen_fd = -1;
	c->reserve_fd = control_reserve_open();
	if (fd >= 0) {
		if ((rc = uv_pipe_open(&c->server, fd)) < 0) {
			*err = xasprintf("inherited socket fd %d: %s", fd, uv_strerror(rc));
			goto fail;
		}
	} else if (control_bind(c, path, mode, err) < 0) {
		goto fail;
	}
	if (control_listen(c, err) < 0)
		goto fail;
	return c;
fail:
	control_free(c);
	return NULL;
}

void
control_set_limits(struct control *c, size_t max_clients, uint64_t idle_ms)
{
	if (max_clients > 0)
		c->max_clients = max_clients;
	if (idle_ms > 0)
		c->idle_ms = idle_ms;
}

void
control_set_stream_limit(struct control *c, size_t bytes)
{
	if (bytes > 0)
		c->max_stream = bytes;
}

size_t
control_nclients(const struct control *c)
{
	return c->nclients;
}

static void
control_closed_cb(uv_handle_t *h)
{
	struct control *c = h->data;

	c->open_handles--;
	control_maybe_free(c);
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	/* First, so that gone() callbacks releasing clients schedule nothing. */
	c->closing = 1;
	while (c->clients)
		control_client_close(c->clients);
	if (c->path)
		unlink(c->path);
	if (c->accepting_open)
		uv_close((uv_handle_t *)&c->accepting, control_closed_cb);
	if (c->reserve_fd >= 0)
		close(c->reserve_fd);
	uv_close((uv_handle_t *)&c->accept_later, control_closed_cb);
	uv_close((uv_handle_t *)&c->server, control_closed_cb);
	uv_close((uv_handle_t *)&c->turn, control_closed_cb);
	uv_close((uv_handle_t *)&c->turn_later, control_closed_cb);
}
