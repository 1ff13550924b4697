/*
 * http_loop: the engine's libcurl multi handle driven by the libuv loop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to call it back (CURLMOPT_TIMERFUNCTION); we watch each socket with
 * a uv_poll_t attached through curl_multi_assign() and keep one uv_timer_t
 * (and one uv_idle_t for "now") for the whole multi handle.  Readiness and
 * timer expiry go back to curl_multi_socket_action(), after which completed
 * transfers are always drained, whichever path woke us (a transfer ended by
 * its timeout completes on the timer path).  Requests are http.c's: this
 * file only hands each finished one to http_request_finish().
 *
 * Lifetimes: a connection's uv_poll_t lives from CURLOPT_OPENSOCKETFUNCTION
 * until CURLOPT_CLOSESOCKETFUNCTION, across the requests of a keep-alive
 * connection: re-creating it per request cost four epoll_ctl calls.  Other
 * sockets libcurl asks us to watch (the threaded resolver's) are forgotten
 * at CURL_POLL_REMOVE, since libcurl closes those without telling us.
 * Socket contexts and the engine itself are freed only in uv_close()
 * callbacks; the engine goes last, when its timer and idle handles are
 * closed and no socket context remains.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"
#include "http_internal.h"
#include "log.h"
#include "xmalloc.h"

#define HTTP_MAX_CONNECTS 64L

/*
 * One socket libcurl asked us to watch.  A connection's (owned) lives from
 * CURLOPT_OPENSOCKETFUNCTION to CURLOPT_CLOSESOCKETFUNCTION: it goes back
 * to libcurl's cache after every request (CURL_POLL_REMOVE) and is asked
 * for again by the next one, and keeping its uv_poll_t and epoll
 * registration across that is what saves the per-request epoll_ctl calls.
 */
struct http_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http *http;
	int events;  /* what the uv_poll_t watches now (UV_READABLE...) */
	int owned;   /* opened and closed through our callbacks: a connection */
	int idle;    /* libcurl let go of it (in its connection cache) */
	int closing; /* uv_close() called */
	CURL *easy;  /* the transfer that last asked for it, or NULL: compared, never used */
	struct http_sock *prev, *next;
};

/* Free the engine once nothing can call back into it any more. */
static void
http_maybe_release(struct http *http)
{
	if (http->timer_closed && http->now_closed && http->socks == NULL) {
		free(http->byfd);
		free(http);
	}
}

static void
http_sock_close_cb(uv_handle_t *handle)
{
	struct http_sock *sock = handle->data;
	struct http *http = sock->http;

	if (sock->prev)
		sock->prev->next = sock->next;
	else
		http->socks = sock->next;
	if (sock->next)
		sock->next->prev = sock->prev;
	free(sock);
	http_maybe_release(http);
}

static void
http_sock_close(struct http_sock *sock)
{
	struct http *http = sock->http;

	if (sock->closing)
		return;
	sock->closing = 1;
	/* The fd number is free for a new socket from now on. */
	if ((size_t)sock->fd < http->nbyfd && http->byfd[sock->fd] == sock)
		http->byfd[sock->fd] = NULL;
	uv_close((uv_handle_t *)&sock->poll, http_sock_close_cb);
}

static struct http_sock *
http_sock_find(struct http *http, curl_socket_t fd)
{
	if (fd < 0 || (size_t)fd >= http->nbyfd)
		return NULL;
	return http->byfd[fd];
}

static struct http_sock *
http_sock_new(struct http *http, curl_socket_t fd)
{
	struct http_sock *sock;
	int rc;

	if (fd < 0)
		return NULL;
	if ((size_t)fd >= http->nbyfd) {
		size_t n = http->nbyfd ? http->nbyfd : 64;
		while (n <= (size_t)fd)
			n *= 2;
		http->byfd = xrealloc(http->byfd, n * sizeof(*http->byfd));
		memset(http->byfd + http->nbyfd, 0, (n - http->nbyfd) * sizeof(*http->byfd));
		http->nbyfd = n;
	}
	sock = xcalloc(1, sizeof(*sock));
	rc = uv_poll_init_socket(http->loop, &sock->poll, fd);
	if (rc < 0) {
		/* Init failed before the handle joined the loop. */
		log_warn("http: uv_poll_init_socket: %s", uv_strerror(rc));
		free(sock);
		return NULL;
	}
	sock->poll.data = sock;
	sock->fd = fd;
	sock->http = http;
	sock->next = http->socks;
	if (http->socks)
		http->socks->prev = sock;
	http->socks = sock;
	http->byfd[fd] = sock;
	return sock;
}
static void http_drain(struct http *http);
static void http_poll_cb(uv_poll_t *poll, int status, int events);

/* Watch exactly `events` on sock; no system call when they are unchanged
 * (uv_poll_start() re-registers the fd even then). */
static int
http_sock_watch(struct http_sock *sock, int events)
{
	int rc = 0;

	if (events == sock->events)
		return 0;
	if (events == 0)
		rc = uv_poll_stop(&sock->poll);
	else
		rc = uv_poll_start(&sock->poll, events, http_poll_cb);
	sock->events = rc < 0 ? 0 : events;
	return rc;
}

/* Hand the socket's pending error (SO_ERROR) to the transfer using it. */
static void
http_sock_note_error(struct http_sock *sock)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (sock->easy == NULL || getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
	    err == 0)
		return;
	http_request_note_errno_easy(sock->http, sock->easy, err);
}

static void
http_poll_cb(uv_poll_t *poll, int status, int events)
{
	struct http_sock *sock = poll->data;
	struct http *http = sock->http;
	int flags = 0, running;
	CURLMcode mrc;

	if (sock->idle) {
		/* A cached connection stirred: the server closed it or sent
		 * something unasked.  libcurl finds out when it next picks the
		 * connection; until then the fd must not keep waking us. */
		http_sock_watch(sock, 0);
		return;
	}
	/* An error on the fd must reach libcurl, which will fail the
	 * transfer; ignoring it leaves the transfer stuck or polls a dead fd.
	 * libcurl names it only "select/poll returned error", so the cause is
	 * taken from the socket first.  libuv has stopped the handle. */
	if (status < 0) {
		flags = CURL_CSELECT_ERR;
		sock->events = 0;
		http_sock_note_error(sock);
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	/* sock may be closed (not freed) by the callbacks below. */
	mrc = curl_multi_socket_action(http->multi, sock->fd, flags, &running);
	if (mrc != CURLM_OK)
		log_warn("http: curl_multi_socket_action: %s", curl_multi_strerror(mrc));
	http_drain(http);
}

static void
http_timeout_action(struct http *http)
{
	int running;
	CURLMcode mrc;

	mrc = curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	if (mrc != CURLM_OK)
		log_warn("http: curl_multi_socket_action: %s", curl_multi_strerror(mrc));
	http_drain(http);
}

static void
http_timer_cb(uv_timer_t *timer)
{
	http_timeout_action(timer->data);
}

static void
http_now_cb(uv_idle_t *idle)
{
	uv_idle_stop(idle);
	http_timeout_action(idle->data);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching socket s. */
static int
http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *http = userp;
	struct http_sock *sock = socketp;
	CURLMcode mrc;
	int events = 0, rc;

	if (what == CURL_POLL_REMOVE) {
		if (sock == NULL)
			return 0;
		sock->easy = NULL;
		/* Not a connection (the threaded resolver's socketpair): libcurl
		 * closes it itself, without the close callback, so forget it
		 * now, while the fd is still open. */
		if (!sock->owned) {
			http_sock_close(sock);
			return 0;
		}
		/* Back to the connection cache, or about to be closed (the
		 * close callback then forgets it).  Keep watching for input
		 * only: a cached connection is normally silent. */
		sock->idle = 1;
		if (http_sock_watch(sock, sock->events & UV_READABLE) < 0)
			http_sock_close(sock);
		return 0;
	}
	if (sock == NULL) {
		sock = http_sock_find(http, s);
		if (sock == NULL && (sock = http_sock_new(http, s)) == NULL)
			return -1;
		mrc = curl_multi_assign(http->multi, s, sock);
		if (mrc != CURLM_OK) {
			log_warn("http: curl_multi_assign: %s", curl_multi_strerror(mrc));
			http_sock_close(sock);
			return -1;
		}
	}
	sock->idle = 0;
	sock->easy = easy;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if ((rc = http_sock_watch(sock, events)) < 0) {
		log_warn("http: watching fd %d: %s", (int)s, uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection's socket.  Watched from here
 * until http_closesocket_cb(), which libcurl calls for exactly these. */
curl_socket_t
http_opensocket_cb(void *userp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct http_request *req = userp;
	struct http_sock *sock;
	curl_socket_t fd;

	/* Not inherited by the programs the daemon runs. */
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (fd < 0) {
		/* libcurl would say "Couldn't connect to server". */
		if (errno == EMFILE || errno == ENFILE)
			http_request_note_errno(req, errno);
		return CURL_SOCKET_BAD;
	}
	http_request_note_errno(req, 0); /* a new connection: what failed before is history */
	if (purpose != CURLSOCKTYPE_IPCXN)
		return fd;
	/* Without a handle now, the socket callback makes an unowned one. */
	if ((sock = http_sock_new(http_request_engine(req), fd)) != NULL)
		sock->owned = 1;
	return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: libcurl is done with the fd.  Stop watching
 * it before it is closed, so that its number can be reused at once. */
int
http_closesocket_cb(void *userp, curl_socket_t fd)
{
	struct http_sock *sock = http_sock_find(userp, fd);

	if (sock)
		http_sock_close(sock);
	return close(fd);
}

/*
 * CURLMOPT_TIMERFUNCTION: only (re)arm, never call libcurl from here.  A
 * zero timeout runs from an idle handle, on the next loop turn after I/O:
 * libuv would run a zero timer re-armed from its own callback again in the
 * same pass, and a 1 ms timer delays every request start.
 */
static int
http_timerfunc_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *http = userp;
	int rc = 0;

	(void)multi;
	if (timeout_ms < 0) {
		uv_timer_stop(&http->timer);
		uv_idle_stop(&http->now);
	} else if (timeout_ms == 0) {
		uv_timer_stop(&http->timer);
		rc = uv_idle_start(&http->now, http_now_cb);
	} else {
		uv_idle_stop(&http->now);
		rc = uv_timer_start(&http->timer, http_timer_cb, (uint64_t)timeout_ms, 0);
	}
	if (rc < 0) {
		log_warn("http: arming the timer: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}

static void
http_timer_close_cb(uv_handle_t *handle)
{
	struct http *http = handle->data;

	if (handle == (uv_handle_t *)&http->timer)
		http->timer_closed = 1;
	else
		http->now_closed = 1;
	http_maybe_release(http);
}

/* Stop libcurl, close every handle; memory goes in the close callbacks. */
void
http_shutdown(struct http *http)
{
	CURLMcode mrc;

	/* The socket callback may still run during cleanup. */
	mrc = curl_multi_cleanup(http->multi);
	if (mrc != CURLM_OK)
		log_warn("http: curl_multi_cleanup: %s", curl_multi_strerror(mrc));
	http->multi = NULL;
	/* Sockets libcurl never asked us to forget. */
	for (struct http_sock *sock = http->socks; sock; sock = sock->next)
		http_sock_close(sock);
	uv_close((uv_handle_t *)&http->timer, http_timer_close_cb);
	uv_close((uv_handle_t *)&http->now, http_timer_close_cb);
}

/*
 * Deliver every finished transfer.  One message at a time: a callback may
 * cancel a request whose DONE message is queued (removing the handle drops
 * the message) or start new ones.
 */
static void
http_drain(struct http *http)
{
	CURLMsg *msg;
	int left;

	http->draining++;
	while (!http->closing && (msg = curl_multi_info_read(http->multi, &left)) != NULL) {
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || priv == NULL) {
			log_warn("http: finished transfer without a request, ignoring");
			curl_multi_remove_handle(http->multi, easy);
			continue;
		}
		http_request_finish((struct http_request *)(void *)priv, result);
	}
	http->draining--;
	if (http->closing && http->draining == 0 && http->multi != NULL)
		http_shutdown(http);
}

struct http *
http_new(uv_loop_t *loop)
{
	struct http *http = xcalloc(1, sizeof(*http));
	CURLM *m;
	int rc, bad = 0;

	http->loop = loop;
	rc = uv_timer_init(loop, &http->timer);
	if (rc < 0)
		fatal("http: uv_timer_init: %s", uv_strerror(rc));
	http->timer.data = http;
	rc = uv_idle_init(loop, &http->now);
	if (rc < 0)
		fatal("http: uv_idle_init: %s", uv_strerror(rc));
	http->now.data = http;
	m = http->multi = curl_multi_init();
	if (m == NULL)
		fatal("http: curl_multi_init failed");
	bad |= curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, http_socket_cb) != CURLM_OK;
	bad |= curl_multi_setopt(m, CURLMOPT_SOCKETDATA, (void *)http) != CURLM_OK;
	bad |= curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, http_timerfunc_cb) != CURLM_OK;
	bad |= curl_multi_setopt(m, CURLMOPT_TIMERDATA, (void *)http) != CURLM_OK;
	/* Room to keep every connection of a busy poll round alive. */
	bad |= curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, HTTP_MAX_CONNECTS) != CURLM_OK;
	if (bad)
		fatal("http: libcurl refused the multi handle options");
	return http;
}
