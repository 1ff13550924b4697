/*
 * http: the HTTP engine.  One libcurl multi handle driven by the libuv loop
 * (socket and timer callbacks, shared/reference/style.md §3): keep-alive and
 * connection reuse, HTTP/2 when offered, per-request timeout, response
 * bodies capped.  Requests complete through a callback on the loop.
 *
 * Ownership: the engine owns every request until its callback returns; the
 * response passed to the callback is valid only during the call.
 */
#ifndef FTMON_HTTP_H
#define FTMON_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"

#define HTTP_MAX_BODY (16u * 1024 * 1024)

struct http;
struct http_request;

struct http_request_opts {
	const char *method; /* "GET" (default when NULL) or "POST" */
	const char *url;
	const char *const *headers; /* "Name: value" strings, NULL-terminated; copied */
	/* More headers whose values are credentials whatever their names (a
	 * webhook's headers_file): sent like headers, redacted in debug lines. */
	const char *const *secret_headers;
	const char *body; /* request body for POST, may be NULL; copied */
	size_t body_len;
	uint64_t timeout_ms; /* whole transfer; 0 = 30s */
	size_t max_body;     /* response cap; 0 = HTTP_MAX_BODY */
};

struct http_response {
	long status;       /* HTTP status, 0 on a transport error */
	int curl_code;     /* CURLcode; nonzero on transport errors */
	const char *error; /* transport error text or "response body too large"; NULL on success */
	struct buf body;   /* the body (NUL-terminated) */
	const char *retry_after; /* header values or NULL */
	const char *retry_after_ms;
	const char *request_id; /* x-request-id */
	int64_t connects;       /* new connections this transfer made */
	int too_large;          /* the body passed max_body: the transfer was cut */
};

/* Called once per request, on the loop, unless the request was cancelled. */
typedef void (*http_done_cb)(struct http_response *resp, void *data);

/* Create the engine on loop (curl_global_init must have been called). */
struct http *http_new(uv_loop_t *loop);
/* Start a request.  Returns the request (borrowed: valid until its callback
 * returns or it is cancelled), or NULL if curl refused it (then cb is not
 * called). */
struct http_request *http_request_start(struct http *http, const struct http_request_opts *opts,
                                        http_done_cb cb, void *data);
/* Abort a request in flight; its callback is not called. */
void http_request_cancel(struct http_request *req);
/* Requests in flight. */
size_t http_inflight(const struct http *http);
/* Cancel everything and close the engine's handles; the loop must run
 * afterwards for the close callbacks, then the memory is released. */
void http_free(struct http *http);
/* When set (log level debug), log each request and response header line
 * with Authorization and api-key values redacted. */
void http_set_debug(struct http *http, int on);

#endif
