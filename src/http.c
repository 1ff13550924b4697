/*
 * http: one libcurl multi handle driven by the libuv loop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to call it back (CURLMOPT_TIMERFUNCTION); we watch each socket with
 * a uv_poll_t attached through curl_multi_assign() and keep one uv_timer_t
 * (and one uv_idle_t for "now") for the whole multi handle.  Readiness and
 * timer expiry go back to curl_multi_socket_action(), after which completed
 * transfers are always drained, whichever path woke us (a transfer ended by
 * its timeout completes on the timer path).
 *
 * Lifetimes: a request is owned by the engine from start until its
 * callback returns or it is cancelled.  A connection's uv_poll_t lives
 * from CURLOPT_OPENSOCKETFUNCTION until CURLOPT_CLOSESOCKETFUNCTION, across
 * the requests of a keep-alive connection: re-creating it per request cost
 * four epoll_ctl calls.  Other sockets libcurl asks us to watch (the
 * threaded resolver's) are forgotten at CURL_POLL_REMOVE, since libcurl
 * closes those without telling us.
 * Socket contexts and the engine itself are freed only in uv_close()
 * callbacks; the engine goes last, when its timer and idle handles are
 * closed and no socket context remains.
 *
 * Re-entrancy: a completion callback may start requests, cancel others or
 * free the engine.  Completions are read one message at a time, and
 * curl_multi_remove_handle() drops a cancelled handle's pending DONE
 * message, so nothing stale is ever delivered; http_free() from inside a
 * callback is deferred until the drain loop unwinds.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000
#define HTTP_MAX_CONNECTS       64L
#define HTTP_READ_BUFFER        (64L * 1024)

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
	struct http_sock *prev, *next;
};

enum http_req_state {
	HTTP_REQ_ACTIVE, /* in the multi handle */
	HTTP_REQ_DONE,   /* removed, its callback running */
};

struct http_request {
	struct http *http;
	CURL *easy;
	struct curl_slist *headers;
	http_done_cb cb;
	void *data;
	enum http_req_state state;
	struct buf body;
	size_t max_body;
	int too_large;
	char *retry_after;
	char *retry_after_ms;
	char *request_id;
	char errbuf[CURL_ERROR_SIZE];
	int plain; /* a GET set up in full: the handle can be reused as is */
	struct http_request *prev, *next;
};

#define HTTP_POOL_MAX 64

struct http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	uv_idle_t now; /* libcurl's "call me at once" (timeout 0) */
	struct http_request *reqs;
	struct http_sock *socks;
	struct http_sock **byfd; /* open sockets by fd, for reuse and close */
	size_t nbyfd;
	size_t inflight;
	int debug;
	int draining; /* completion callbacks are being run */
	int closing;  /* http_free() was called */
	int timer_closed;
	int now_closed;
	/* Finished easy handles kept for the next requests: curl_easy_init
	 * costs more than the request itself on loopback.  A handle that ran
	 * a plain GET keeps its options (set_up), and the next request only
	 * sets its own; any other is reset first. */
	struct {
		CURL *easy;
		int set_up;
	} pool[HTTP_POOL_MAX];
	size_t npool;
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
	 * transfer; ignoring it leaves the transfer stuck or polls a dead fd. */
	if (status < 0) {
		flags = CURL_CSELECT_ERR;
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

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sock == NULL)
			return 0;
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
static curl_socket_t
http_opensocket_cb(void *userp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct http_sock *sock;
	curl_socket_t fd;

	/* Not inherited by the programs the daemon runs. */
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (fd < 0 || purpose != CURLSOCKTYPE_IPCXN)
		return fd < 0 ? CURL_SOCKET_BAD : fd;
	/* Without a handle now, the socket callback makes an unowned one. */
	if ((sock = http_sock_new(userp, fd)) != NULL)
		sock->owned = 1;
	return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: libcurl is done with the fd.  Stop watching
 * it before it is closed, so that its number can be reused at once. */
static int
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
http_request_unlink(struct http_request *req)
{
	struct http *http = req->http;

	if (req->prev)
		req->prev->next = req->next;
	else
		http->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
	http->inflight--;
}

static void
http_request_clear_headers(struct http_request *req)
{
	free(req->retry_after);
	free(req->retry_after_ms);
	free(req->request_id);
	req->retry_after = req->retry_after_ms = req->request_id = NULL;
}

/* Release everything of a request that is no longer in the multi. */
static void
http_request_destroy(struct http_request *req)
{
	struct http *http = req->http;

	if (req->easy && !http->closing && http->npool < HTTP_POOL_MAX) {
		if (!req->plain)
			curl_easy_reset(req->easy);
		http->pool[http->npool].easy = req->easy;
		http->pool[http->npool++].set_up = req->plain;
	} else {
		curl_easy_cleanup(req->easy);
	}
	curl_slist_free_all(req->headers);
	http_request_clear_headers(req);
	buf_free(&req->body);
	free(req);
}

/* Fill resp from a finished transfer.  Pointers stay owned by req. */
static void
http_request_response(struct http_request *req, CURLcode result, struct http_response *resp)
{
	long status = 0, connects = 0;

	if (curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	if (curl_easy_getinfo(req->easy, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK)
		connects = 0;
	memset(resp, 0, sizeof(*resp));
	if (req->too_large) {
		/* The status line arrived intact; only the body was cut. */
		resp->status = status;
		resp->curl_code = result != CURLE_OK ? (int)result : (int)CURLE_WRITE_ERROR;
		resp->error = "response body too large";
		resp->too_large = 1;
	} else if (result != CURLE_OK) {
		resp->curl_code = (int)result;
		resp->error = req->errbuf[0] ? req->errbuf : curl_easy_strerror(result);
	} else {
		resp->status = status;
	}
	buf_append(&req->body, "", 0); /* a NUL-terminated body, even empty */
	resp->body = req->body;
	req->body = (struct buf)BUF_INIT;
	resp->retry_after = req->retry_after;
	resp->retry_after_ms = req->retry_after_ms;
	resp->request_id = req->request_id;
	resp->connects = connects;
}

/* A transfer is done: take it out of the multi, report it, free it. */
static void
http_request_finish(struct http_request *req, CURLcode result)
{
	struct http *http = req->http;
	struct http_response resp;
	CURLMcode mrc;

	mrc = curl_multi_remove_handle(http->multi, req->easy);
	if (mrc != CURLM_OK)
		log_warn("http: curl_multi_remove_handle: %s", curl_multi_strerror(mrc));
	http_request_unlink(req);
	req->state = HTTP_REQ_DONE;
	http_request_response(req, result, &resp);
	req->cb(&resp, req->data);
	/* The callback may have taken the body with buf_steal(). */
	buf_free(&resp.body);
	http_request_destroy(req);
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
static void
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

/* CURLOPT_WRITEFUNCTION: collect the body up to the request's cap. */
static size_t
http_write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_request *req = userp;
	size_t len = size * n;

	if (len > req->max_body - req->body.len) {
		req->too_large = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (req->body.cap == 0) {
		/* One allocation for the whole body when its size is known, and
		 * none for a body announced past the cap. */
		curl_off_t cl = -1;
		if (curl_easy_getinfo(req->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) !=
		    CURLE_OK)
			cl = -1;
		if (cl > 0 && (uint64_t)cl > req->max_body) {
			req->too_large = 1;
			return 0;
		}
		if (cl > 0)
			buf_reserve(&req->body, (size_t)cl);
	}
	buf_append(&req->body, data, len);
	return len;
}

/* If line is "name: value" (name matched case-insensitively), replace
 * *slot with the trimmed value. */
static void
http_header_capture(const char *line, size_t len, const char *name, char **slot)
{
	size_t nlen = strlen(name);
	const char *v, *end = line + len;

	if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
		return;
	v = line + nlen + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	free(*slot);
	*slot = xstrndup(v, (size_t)(end - v));
}

/* CURLOPT_HEADERFUNCTION: called once per header line, status lines
 * included.  A new status line (after a 1xx or a proxy CONNECT) starts a
 * new response, so only the final response's headers are reported. */
static size_t
http_header_cb(char *line, size_t size, size_t n, void *userp)
{
	struct http_request *req = userp;
	size_t len = size * n;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		http_request_clear_headers(req);
		return len;
	}
	http_header_capture(line, len, "retry-after", &req->retry_after);
	http_header_capture(line, len, "retry-after-ms", &req->retry_after_ms);
	http_header_capture(line, len, "x-request-id", &req->request_id);
	return len;
}

/* Log one header line, hiding credentials. */
static void
http_debug_line(const char *dir, const char *line, size_t len)
{
	static const char *const secret[] = {
	        "authorization",
	        "proxy-authorization",
	        "api-key",
	        "x-api-key",
	};
	const char *colon = memchr(line, ':', len);
	int ilen = len > INT_MAX ? INT_MAX : (int)len;

	if (colon != NULL) {
		size_t nlen = (size_t)(colon - line);
		while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
			nlen--;
		for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
			if (nlen == strlen(secret[i]) && strncasecmp(line, secret[i], nlen) == 0) {
				log_debug("http: %s %.*s: [redacted]", dir, (int)nlen, line);
				return;
			}
		}
	}
	log_debug("http: %s %.*s", dir, ilen, line);
}

/* CURLOPT_DEBUGFUNCTION: header lines only, never bodies (CURLINFO_DATA)
 * or TLS data.  Outgoing headers arrive as one block. */
static int
http_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
	const char *dir, *p = data, *end = data + size;

	if (type == CURLINFO_HEADER_OUT)
		dir = ">";
	else if (type == CURLINFO_HEADER_IN)
		dir = "<";
	else
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t len = (size_t)(eol - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0)
			http_debug_line(dir, p, len);
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* Method and body.  Returns nonzero if libcurl refused an option. */
static int
http_easy_method(CURL *e, const struct http_request_opts *opts)
{
	const char *method = opts->method ? opts->method : "GET";
	int bad = 0;

	if (strcmp(method, "GET") == 0)
		return 0;
	if (strcmp(method, "POST") != 0)
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
	if (strcmp(method, "POST") == 0 || opts->body != NULL) {
		/* The size first: COPYPOSTFIELDS copies that many bytes. */
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                        (curl_off_t)(opts->body ? opts->body_len : 0)) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, opts->body ? opts->body : "") !=
		       CURLE_OK;
	}
	return bad;
}

/* Transport policy shared by every request, and the callbacks. */
static int
http_easy_policy(CURL *e, struct http *http)
{
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, http_debug_cb) != CURLE_OK;
	/* Connections outlive easy handles: the engine is the context. */
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, http_opensocket_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)http) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, http_closesocket_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, (void *)http) != CURLE_OK;
	/* Whole event pages in one read (the default is 16 KiB).  libcurl
	 * refuses this on a handle whose buffer outlived a transfer that
	 * failed early; the default size then does. */
	(void)curl_easy_setopt(e, CURLOPT_BUFFERSIZE, HTTP_READ_BUFFER);
#if LIBCURL_VERSION_NUM >= 0x075500
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS,
	                        (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK;
#endif
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	/* Without nghttp2 in libcurl this fails; HTTP/1.1 is then fine. */
	if (curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK)
		log_debug("http: libcurl without HTTP/2, using HTTP/1.1");
	return bad;
}

/* Configure req->easy; set_up: it already has the policy of a plain GET.
 * Returns 0, or -1 if libcurl refused something. */
static int
http_easy_setup(struct http_request *req, const struct http_request_opts *opts, int set_up)
{
	CURL *e = req->easy;
	uint64_t timeout = opts->timeout_ms ? opts->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	const char *method = opts->method ? opts->method : "GET";
	int bad = 0;

	for (const char *const *h = opts->headers; h && *h; h++) {
		struct curl_slist *l = curl_slist_append(req->headers, *h);
		if (l == NULL)
			return -1;
		req->headers = l;
	}
	if (timeout > LONG_MAX)
		timeout = LONG_MAX;
	if (!set_up)
		bad |= http_easy_policy(e, req->http);
	/* Everything a request sets for itself, also when unset. */
	bad |= curl_easy_setopt(e, CURLOPT_URL, opts->url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)req) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)req) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)req) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_VERBOSE, req->http->debug ? 1L : 0L) != CURLE_OK;
	bad |= http_easy_method(e, opts);
	req->plain = !bad && strcmp(method, "GET") == 0 && opts->body == NULL;
	return bad ? -1 : 0;
}

struct http_request *
http_request_start(struct http *http, const struct http_request_opts *opts, http_done_cb cb,
                   void *data)
{
	struct http_request *req;
	CURLMcode mrc;
	int set_up = 0;

	if (http->closing || opts->url == NULL || cb == NULL)
		return NULL;
	req = xcalloc(1, sizeof(*req));
	req->http = http;
	req->cb = cb;
	req->data = data;
	req->max_body = opts->max_body ? opts->max_body : HTTP_MAX_BODY;
	if (http->npool) {
		http->npool--;
		req->easy = http->pool[http->npool].easy;
		set_up = http->pool[http->npool].set_up;
	} else {
		req->easy = curl_easy_init();
	}
	if (req->easy == NULL || http_easy_setup(req, opts, set_up) < 0)
		goto fail;
	/* Arms the timer through http_timerfunc_cb, which kicks it off. */
	mrc = curl_multi_add_handle(http->multi, req->easy);
	if (mrc != CURLM_OK) {
		log_warn("http: curl_multi_add_handle: %s", curl_multi_strerror(mrc));
		goto fail;
	}
	req->state = HTTP_REQ_ACTIVE;
	req->next = http->reqs;
	if (http->reqs)
		http->reqs->prev = req;
	http->reqs = req;
	http->inflight++;
	return req;
fail:
	http_request_destroy(req);
	return NULL;
}

void
http_request_cancel(struct http_request *req)
{
	CURLMcode mrc;

	/* A request whose callback is running is freed when it returns. */
	if (req == NULL || req->state != HTTP_REQ_ACTIVE)
		return;
	mrc = curl_multi_remove_handle(req->http->multi, req->easy);
	if (mrc != CURLM_OK)
		log_warn("http: curl_multi_remove_handle: %s", curl_multi_strerror(mrc));
	http_request_unlink(req);
	http_request_destroy(req);
}

size_t
http_inflight(const struct http *http)
{
	return http->inflight;
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

void
http_free(struct http *http)
{
	if (http == NULL || http->closing)
		return;
	http->closing = 1;
	while (http->reqs)
		http_request_cancel(http->reqs);
	while (http->npool)
		curl_easy_cleanup(http->pool[--http->npool].easy);
	/* From inside a completion callback, http_drain() finishes this. */
	if (http->draining == 0)
		http_shutdown(http);
}

void
http_set_debug(struct http *http, int on)
{
	http->debug = on != 0;
}
