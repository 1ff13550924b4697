/*
 * http: the engine's requests.  Each is an easy handle (from a pool of
 * finished ones: curl_easy_init costs more than a request on loopback) set
 * up with the transport policy and its own options, whose body, headers
 * and debug lines are captured by the callbacks here; http_loop.c drives
 * the multi handle they run in and hands back each finished transfer.
 *
 * Lifetimes: a request is owned by the engine from start until its
 * callback returns or it is cancelled.
 *
 * Re-entrancy: a completion callback may start requests, cancel others or
 * free the engine.  Completions are read one message at a time, and
 * curl_multi_remove_handle() drops a cancelled handle's pending DONE
 * message, so nothing stale is ever delivered; http_free() from inside a
 * callback is deferred until the drain loop unwinds.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "http_internal.h"
#include "log.h"
#include "xmalloc.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000
#define HTTP_READ_BUFFER        (64L * 1024)
#define HTTP_MAX_SECRETS        20

/* Header names whose values are credentials, in both directions. */
static const char *const http_secret_headers[] = {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
};

/* How far a response had come when its transfer failed. */
enum http_phase {
	HTTP_PHASE_NONE,    /* no response byte read yet (some may be waiting) */
	HTTP_PHASE_HEADERS, /* a status line arrived */
	HTTP_PHASE_BODY,    /* the headers ended */
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
	char why[CURL_ERROR_SIZE]; /* our account of a failure, when we know more */
	int sock_errno;            /* socket() or the socket's own error, else 0 */
	enum http_phase phase;
	/* Credentials sent with this request, redacted from its debug lines
	 * wherever they appear (a server may reflect them); debug only. */
	char *secrets[HTTP_MAX_SECRETS];
	size_t nsecrets;
	int plain; /* a GET set up in full: the handle can be reused as is */
	struct http_request *prev, *next;
};

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
	for (size_t i = 0; i < req->nsecrets; i++) {
		explicit_bzero(req->secrets[i], strlen(req->secrets[i]));
		free(req->secrets[i]);
	}
	free(req);
}

void
http_request_note_errno(struct http_request *req, int err)
{
	req->sock_errno = err;
}

void
http_request_note_errno_easy(struct http *http, const CURL *easy, int err)
{
	for (struct http_request *r = http->reqs; r; r = r->next)
		if (r->easy == easy) {
			http_request_note_errno(r, err);
			return;
		}
}

static const char *
http_phase_text(enum http_phase phase)
{
	switch (phase) {
	case HTTP_PHASE_BODY:
		return "while reading the body";
	case HTTP_PHASE_HEADERS:
		return "while reading the headers";
	default:
		return "before any of the response was read";
	}
}

/*
 * Name a transport failure by its cause when the socket told us one:
 * libcurl reports an error event on the fd as "select/poll returned
 * error" and a socket() that failed as "Couldn't connect to server",
 * which blames the API for what may be our own descriptor limit.
 */
static const char *
http_request_cause(struct http_request *req, CURLcode result)
{
	long os_errno = 0;
	int err = req->sock_errno;
	char text[96];

	/* Only failures of the socket itself: a timeout or a refusal by the
	 * server is libcurl's to describe. */
	if (result != CURLE_COULDNT_CONNECT && result != CURLE_RECV_ERROR &&
	    result != CURLE_SEND_ERROR)
		return NULL;
	if (err == 0 && curl_easy_getinfo(req->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
	    result != CURLE_COULDNT_CONNECT)
		err = (int)os_errno;
	if (err == 0)
		return NULL;
	if (err == EMFILE || err == ENFILE) {
		snprintf(req->why, sizeof(req->why),
		         "out of file descriptors: cannot open a connection (%s)", strerror(err));
		return req->why;
	}
	snprintf(text, sizeof(text), "%s", strerror(err));
	if (text[0] >= 'A' && text[0] <= 'Z')
		text[0] = (char)(text[0] - 'A' + 'a');
	snprintf(req->why, sizeof(req->why), "%s (%s)", text, http_phase_text(req->phase));
	return req->why;
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
		resp->error = http_request_cause(req, result);
		if (resp->error == NULL)
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
void
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

/* CURLOPT_WRITEFUNCTION: collect the body up to the request's cap. */
static size_t
http_write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_request *req = userp;
	size_t len = size * n;

	req->phase = HTTP_PHASE_BODY;
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
		req->phase = HTTP_PHASE_HEADERS;
		return len;
	}
	if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
		req->phase = HTTP_PHASE_BODY; /* the blank line ending the headers */
		return len;
	}
	http_header_capture(line, len, "retry-after", &req->retry_after);
	http_header_capture(line, len, "retry-after-ms", &req->retry_after_ms);
	http_header_capture(line, len, "x-request-id", &req->request_id);
	return len;
}

static bool
http_is_secret_header(const char *name, size_t nlen)
{
	for (size_t i = 0; i < sizeof(http_secret_headers) / sizeof(http_secret_headers[0]); i++)
		if (nlen == strlen(http_secret_headers[i]) &&
		    strncasecmp(name, http_secret_headers[i], nlen) == 0)
			return true;
	return false;
}

static bool
http_has_secret(const struct http_request *req, const char *text, size_t len)
{
	for (size_t i = 0; i < req->nsecrets; i++)
		if (memmem(text, len, req->secrets[i], strlen(req->secrets[i])) != NULL)
			return true;
	return false;
}

/* Log one header line, hiding credentials: the values of credential
 * headers, and any line in which a credential of this request shows up
 * (a server or proxy that reflects the key). */
static void
http_debug_line(const struct http_request *req, const char *dir, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	int ilen = len > INT_MAX ? INT_MAX : (int)len;
	bool leaks = http_has_secret(req, line, len);

	if (colon != NULL) {
		size_t nlen = (size_t)(colon - line);
		while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
			nlen--;
		if (http_is_secret_header(line, nlen) ||
		    (leaks && !http_has_secret(req, line, nlen))) {
			log_debug("http: %s %.*s: [redacted]", dir, (int)nlen, line);
			return;
		}
	}
	if (leaks) {
		log_debug("http: %s [redacted]", dir);
		return;
	}
	log_debug("http: %s %.*s", dir, ilen, line);
}

/* CURLOPT_DEBUGFUNCTION: header lines only, never bodies (CURLINFO_DATA)
 * or TLS data.  Outgoing headers arrive as one block. */
static int
http_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
	const struct http_request *req = userp;
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
			http_debug_line(req, dir, p, len);
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
	/* Connections outlive easy handles: the engine is the close
	 * callback's context.  The open callback runs inside one request,
	 * which is its context (set per request), so that a socket() failure
	 * is reported by the request it failed. */
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, http_opensocket_cb) != CURLE_OK;
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

/* The credentials in header h ("Name: value"), kept to redact wherever
 * they appear: the whole value and, after a scheme ("Bearer KEY"), the
 * token alone. */
static void
http_request_add_secrets(struct http_request *req, const char *h, bool always)
{
	const char *colon = strchr(h, ':'), *v, *sp;

	if (colon == NULL || (!always && !http_is_secret_header(h, (size_t)(colon - h))))
		return;
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	sp = strrchr(v, ' ');
	if (*v != '\0' && req->nsecrets < HTTP_MAX_SECRETS)
		req->secrets[req->nsecrets++] = xstrdup(v);
	if (sp != NULL && sp[1] != '\0' && req->nsecrets < HTTP_MAX_SECRETS)
		req->secrets[req->nsecrets++] = xstrdup(sp + 1);
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
		if (req->http->debug)
			http_request_add_secrets(req, *h, false);
	}
	for (const char *const *h = opts->secret_headers; h && *h; h++) {
		struct curl_slist *l = curl_slist_append(req->headers, *h);
		if (l == NULL)
			return -1;
		req->headers = l;
		if (req->http->debug)
			http_request_add_secrets(req, *h, true);
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
	bad |= curl_easy_setopt(e, CURLOPT_DEBUGDATA, (void *)req) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)req) != CURLE_OK;
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

struct http *
http_request_engine(const struct http_request *req)
{
	return req->http;
}

void
http_set_debug(struct http *http, int on)
{
	http->debug = on != 0;
}
