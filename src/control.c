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
 * Accepting is ours, not libuv's: a uv_poll_t watches the listening fd and
 * we call accept4().  libuv's own accept path, out of descriptors, closes
 * every pending connection without a word (its uv__emfile_trick) and never
 * tells the callback, so a client would see a bare close.  We keep a
 * reserve descriptor instead: on EMFILE/ENFILE it is closed, the client is
 * accepted on the slot it frees, sent a `busy` line and closed, and the
 * reserve is opened again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "control.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define CONTROL_PAUSE_OUTPUT (1u * 1024 * 1024)
#define CONTROL_READ_CHUNK   (64 * 1024)
/* Connections taken per wake-up: the listening fd is level-triggered, so
 * the rest wait one loop turn and a connect flood cannot hold the loop. */
#define CONTROL_ACCEPT_BATCH 64
/* Out of descriptors with no reserve to shed clients with: look again
 * after this long instead of spinning on a listening fd that stays
 * readable. */
#define CONTROL_STARVED_RETRY_MS 100
/* An episode of descriptor exhaustion ends with the first client accepted
 * this long after the last refusal (logged once each way). */
#define CONTROL_STARVED_QUIET_MS 5000

struct control {
	control_dispatch_fn dispatch;
	void *data; /* borrowed: dispatch's */
	uv_pipe_t server;
	char *path;                     /* owned: unlinked on close when we bound it */
	struct control_client *clients; /* doubly linked list */
	size_t nclients;
	size_t nalive; /* clients not yet freed, listed or closing */
	size_t max_clients;
	uint64_t idle_ms;
	size_t max_stream;
	size_t out_total; /* unsent output of every client that is not held */
	/* Give clients with queued requests their turn: an idle handle runs
	 * once per loop iteration, after I/O has been polled, so other clients
	 * are served between turns (a 0 ms timer re-armed from its own callback
	 * would run again before any I/O on libuv < 1.45).  The timer waits
	 * while the output budget is spent. */
	uv_idle_t turn;
	uv_timer_t turn_later;
	uv_poll_t accepting;     /* the listening fd; initialised once listening */
	uv_timer_t accept_later; /* CONTROL_STARVED_RETRY_MS */
	bool accepting_open;
	int listen_fd;
	int reserve_fd; /* spent to refuse a client when out of descriptors */
	bool starved;   /* in an episode of EMFILE/ENFILE */
	uint64_t starved_last_ms;
	size_t starved_refused;
	int open_handles; /* server, turn, turn_later, accept_later, accepting */
	int closing;
};

struct control_client {
	struct control *c;
	struct control_client *prev, *next;
	uv_pipe_t pipe;
	uv_timer_t timer; /* idle timeout, or the drain deadline once dropped */
	int open_handles;
	struct buf in;
	size_t out_pending;    /* every unsent byte */
	size_t stream_pending; /* those queued while held */
	struct control_peer peer;
	control_gone_fn gone; /* set while held */
	void *gone_data;
	bool held;
	bool closing;
	bool eof;
	bool reading;
	bool close_after_write; /* dropped: one last line, then the close */
	bool backlog;           /* complete requests wait for their turn */
};

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

	if (!cl->held)
		return;
	cl->held = false;
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
	if (cl->held)
		return cl->in.len <= PROTO_MAX_LINE;
	return !cl->backlog;
}

static void
control_client_finish_if_done(struct control_client *cl)
{
	if (cl->out_pending > 0)
		return;
	if (cl->close_after_write || (cl->eof && !cl->held && !cl->backlog))
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

	while (!cl->closing && !cl->held && !cl->close_after_write && handled < CONTROL_BATCH &&
	       c->out_total <= CONTROL_MAX_OUTPUT_TOTAL &&
	       (nl = memchr(cl->in.data + start, '\n', cl->in.len - start)) != NULL) {
		size_t len = (size_t)(nl - (cl->in.data + start));
		if (len > 0 && cl->in.data[start + len - 1] == '\r')
			len--;
		if (len > 0) {
			c->dispatch(c->data, cl, cl->in.data + start, len);
			handled++;
			control_client_touch(cl);
		}
		start = (size_t)(nl - cl->in.data) + 1;
	}
	if (cl->closing || cl->close_after_write)
		return;
	buf_consume(&cl->in, start);
	cl->backlog = cl->in.len > 0 && memchr(cl->in.data, '\n', cl->in.len) != NULL;
	if (cl->backlog && !cl->held) {
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
	if (cl->held && cl->in.len > PROTO_MAX_LINE)
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
		if (cl->backlog && !cl->held && !cl->closing)
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
	if (n != UV_EOF || (cl->held && control_client_hung_up(cl)))
		control_client_close(cl);
	else
		control_client_finish_if_done(cl);
}

static void
control_read_peer(int fd, struct control_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	/* Unknown peers get an impossible uid, so they are never admins. */
	peer->pid = 0;
	peer->uid = (uid_t)-1;
	peer->gid = (gid_t)-1;
	peer->ngroups = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		peer->pid = cred.pid;
		peer->uid = cred.uid;
		peer->gid = cred.gid;
	}
	/* The groups the peer process really holds (Linux 4.13+), not those
	 * the user database lists: a process that dropped a group is not in
	 * it.  Too many groups to fit counts as unknown. */
	len = sizeof(peer->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer->groups, &len) == 0)
		peer->ngroups = (int)(len / sizeof(gid_t));
}

/* Root and the daemon's own user may use the reserved slots. */
static bool
control_peer_privileged(const struct control_peer *p)
{
	return p->uid == 0 || p->uid == geteuid();
}

/* Say why (a `busy` error line) and close: never leave a client hanging or
 * closed without a word.  A fresh socket's buffer holds the line, so a
 * non-blocking send either fits or the client is gone. */
static void
control_refuse(int fd, const char *why)
{
	char msg[200];
	int len;

	len = snprintf(msg, sizeof(msg),
	               "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"" PROTO_E_BUSY
	               "\",\"message\":\"%s; try again later\"}}\n",
	               why);
	if (len > 0 && (size_t)len < sizeof(msg))
		(void)send(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
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

/* A connection was accepted: a client, or refused over the client cap. */
static void
control_accepted(struct control *c, int fd)
{
	struct control_peer peer;

	if (c->starved && uv_now(c->server.loop) - c->starved_last_ms >= CONTROL_STARVED_QUIET_MS) {
		log_info("control: accepting clients again (%zu refused while out of descriptors)",
		         c->starved_refused);
		c->starved = false;
	}
	control_read_peer(fd, &peer);
	if (c->nclients >= c->max_clients &&
	    (!control_peer_privileged(&peer) ||
	     c->nclients >= c->max_clients + CONTROL_RESERVED_CLIENTS)) {
		char why[64];
		log_warn("control: %zu clients connected, refusing pid %ld", c->nclients,
		         (long)peer.pid);
		snprintf(why, sizeof(why), "too many clients (%zu)", c->max_clients);
		control_refuse(fd, why);
		return;
	}
	control_client_add(c, fd, &peer);
}

static int
control_reserve_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void control_accept_later_cb(uv_timer_t *t);

/*
 * accept4() said EMFILE or ENFILE: free the reserve's slot, accept one
 * client on it, refuse it, take the slot back.  Logged once per episode.
 * Returns 0 if a client was refused (there may be more), -1 if not.
 */
static int
control_shed(struct control *c, int err)
{
	int fd;

	c->starved_last_ms = uv_now(c->server.loop);
	if (!c->starved) {
		c->starved = true;
		c->starved_refused = 0;
		log_warn("control: out of file descriptors (%s): refusing new clients as busy "
		         "until some are free",
		         strerror(err));
	}
	if (c->reserve_fd < 0 && (c->reserve_fd = control_reserve_open()) < 0) {
		uv_poll_stop(&c->accepting);
		uv_timer_start(&c->accept_later, control_accept_later_cb, CONTROL_STARVED_RETRY_MS,
		               0);
		return -1;
	}
	close(c->reserve_fd);
	fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		control_refuse(fd, "out of file descriptors");
		c->starved_refused++;
	}
	/* If another thread took the slot meanwhile, the next EMFILE waits. */
	c->reserve_fd = control_reserve_open();
	return fd >= 0 ? 0 : -1;
}

static void
control_accept_cb(uv_poll_t *p, int status, int events)
{
	struct control *c = p->data;
	int fd;

	(void)events;
	if (status < 0) {
		log_warn("control: listening socket: %s", uv_strerror(status));
		return;
	}
	for (int i = 0; i < CONTROL_ACCEPT_BATCH && !c->closing; i++) {
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			control_accepted(c, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			if (control_shed(c, errno) < 0)
				return;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("control: accept failed: %s", strerror(errno));
		return;
	}
}

static void
control_accept_later_cb(uv_timer_t *t)
{
	struct control *c = t->data;

	if (!c->closing)
		uv_poll_start(&c->accepting, UV_READABLE, control_accept_cb);
}

/* Listen on the server's fd and watch it for connections. */
static int
control_listen(struct control *c, char **err)
{
	uv_os_fd_t fd;
	int rc;

	if ((rc = uv_fileno((uv_handle_t *)&c->server, &fd)) < 0) {
		*err = xasprintf("control socket: %s", uv_strerror(rc));
		return -1;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		*err = xasprintf("%s: listen: %s", c->path ? c->path : "control socket",
		                 strerror(errno));
		return -1;
	}
	c->listen_fd = fd;
	if ((rc = uv_poll_init(c->server.loop, &c->accepting, fd)) < 0) {
		*err = xasprintf("control socket: %s", uv_strerror(rc));
		return -1;
	}
	c->accepting.data = c;
	c->accepting_open = true;
	c->open_handles++;
	uv_poll_start(&c->accepting, UV_READABLE, control_accept_cb);
	return 0;
}

/* Remove a stale socket file left by a crash, but never steal a live one. */
static int
control_clear_stale(const char *path, char **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0
		                       : (*err = xasprintf("%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(sb.st_mode)) {
		*err = xasprintf("%s: exists and is not a socket; not replacing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		*err = xasprintf("%s: another ftmond is already listening there", path);
		return -1;
	}
	/* Else bind() would say "address already in use", which hides what
	 * is wrong (typically a directory we may not write). */
	if (unlink(path) < 0 && errno != ENOENT) {
		*err = xasprintf("cannot replace the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
control_bind(struct control *c, const char *path, unsigned mode, char **err)
{
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		*err = xasprintf("%s: socket path too long", path);
		return -1;
	}
	if (control_clear_stale(path, err) < 0)
		return -1;
	/* Create the socket with no more permission than asked, so there is
	 * no window in which it is wider than `mode`. */
	old = umask(~mode & 0777);
	rc = uv_pipe_bind(&c->server, path);
	umask(old);
	if (rc < 0) {
		*err = xasprintf("%s: cannot bind: %s", path, uv_strerror(rc));
		return -1;
	}
	c->path = xstrdup(path);
	if (chmod(path, mode) < 0) {
		*err = xasprintf("%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
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

/* The path an inherited socket is bound to, or NULL (abstract, unnamed). */
static char *
control_inherited_path(struct control *c)
{
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	size_t len = sizeof(name);

	if (uv_pipe_getsockname(&c->server, name, &len) < 0 || len == 0 || name[0] == '\0')
		return NULL;
	return xstrdup(name);
}

int
control_set_group(struct control *c, gid_t gid, char **err)
{
	char *path;
	struct stat sb;
	int rc = 0;

	*err = NULL;
	if (c->path == NULL) {
		/* systemd made it; changing it behind the unit's back would be
		 * undone at the next restart.  Already right is fine. */
		path = control_inherited_path(c);
		if (path == NULL || stat(path, &sb) < 0 || sb.st_gid != gid) {
			*err = xasprintf("%s: the socket comes from systemd; its group is set by "
			                 "the .socket unit's SocketGroup=",
			                 path ? path : "control socket");
			rc = -EOPNOTSUPP;
		}
		free(path);
		return rc;
	}
	if (chown(c->path, (uid_t)-1, gid) < 0) {
		rc = -errno;
		*err = xasprintf("%s: cannot give the socket to gid %lu: %s", c->path,
		                 (unsigned long)gid, strerror(-rc));
	}
	return rc;
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
