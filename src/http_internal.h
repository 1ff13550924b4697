/*
 * http_internal: what http.c (requests) and http_loop.c (the multi handle
 * on the loop) share, nothing else.  http.h stays the module's interface.
 *
 * struct http belongs to both: http_loop.c owns its loop handles, socket
 * table and multi handle; http.c owns the request list and the pool of
 * easy handles.  Each file sees the other's objects (struct http_sock,
 * struct http_request) only as pointers.
 */
#ifndef FTMON_HTTP_INTERNAL_H
#define FTMON_HTTP_INTERNAL_H

#include <stddef.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"

struct http_sock;

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

/* ---- http_loop.c ---- */

/* CURLOPT_OPENSOCKETFUNCTION (its data: the request) and
 * CURLOPT_CLOSESOCKETFUNCTION (its data: the engine): every easy handle
 * gets these. */
curl_socket_t http_opensocket_cb(void *userp, curlsocktype purpose, struct curl_sockaddr *addr);
int http_closesocket_cb(void *userp, curl_socket_t fd);
/* Stop libcurl, close every handle; memory goes in the close callbacks.
 * Called once, with no request left and no completion running. */
void http_shutdown(struct http *http);

/* ---- http.c ---- */

/* A transfer is done: take it out of the multi, report it, free it
 * (req is gone on return). */
void http_request_finish(struct http_request *req, CURLcode result);
/* The engine req runs in. */
struct http *http_request_engine(const struct http_request *req);
/* The socket failed with errno err (socket() itself, or the error an event
 * on the fd carried): a failed response names that cause, not libcurl's
 * text.  The latest counts; 0 (a new connection is opened) forgets it. */
void http_request_note_errno(struct http_request *req, int err);
/* The same for the request in flight whose handle is easy, if any (easy is
 * only compared: it may be stale). */
void http_request_note_errno_easy(struct http *http, const CURL *easy, int err);

#endif
