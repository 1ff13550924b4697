/*
 * test_http: the curl-multi/libuv engine against tests/helpers/httpstub.py
 * on loopback.  Every wait is bounded by a watchdog timer, and the test
 * ends by closing the engine and asserting uv_loop_close() == 0.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "tap.h"
#include "xmalloc.h"

#define TEST_WAIT_MS 10000
#define TEST_WAVE    50
#define TEST_OK_BODY "{\"ok\":true,\"value\":42}"

struct test_result {
	int called;
	long status;
	int curl_code;
	char *error;
	struct buf body;
	char *retry_after;
	char *retry_after_ms;
	char *request_id;
	int64_t connects;
};

static uv_loop_t test_loop;
static struct http *test_http;
static uv_timer_t test_watchdog, test_sleeper;
static int test_timed_out, test_slept, test_completed;
static char test_base[64], test_dir[64];
static pid_t test_stub_pid = -1;
static int test_stub_stdin = -1;

static void
test_result_clear(struct test_result *r)
{
	free(r->error);
	free(r->retry_after);
	free(r->retry_after_ms);
	free(r->request_id);
	buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

static void
test_result_fill(struct test_result *r, const struct http_response *resp)
{
	int called = r->called;

	test_result_clear(r);
	r->called = called + 1;
	r->status = resp->status;
	r->curl_code = resp->curl_code;
	r->error = xstrdup(resp->error);
	buf_append(&r->body, resp->body.data, resp->body.len);
	r->retry_after = xstrdup(resp->retry_after);
	r->retry_after_ms = xstrdup(resp->retry_after_ms);
	r->request_id = xstrdup(resp->request_id);
	r->connects = resp->connects;
}

static void
test_done_cb(struct http_response *resp, void *data)
{
	/* The body must always be NUL-terminated. */
	if (resp->body.data == NULL || resp->body.data[resp->body.len] != '\0')
		ok(0, "response body is NUL-terminated");
	test_result_fill(data, resp);
	test_completed++;
}

static void
test_watchdog_cb(uv_timer_t *t)
{
	test_timed_out = 1;
	uv_stop(&test_loop);
}

static void
test_sleeper_cb(uv_timer_t *t)
{
	test_slept = 1;
}

/* Run the loop until target callbacks have run since the counter was
 * reset, for at most TEST_WAIT_MS.  Returns 1 on success. */
static int
test_wait(int target)
{
	test_timed_out = 0;
	uv_timer_start(&test_watchdog, test_watchdog_cb, TEST_WAIT_MS, 0);
	while (test_completed < target && !test_timed_out)
		uv_run(&test_loop, UV_RUN_ONCE);
	uv_timer_stop(&test_watchdog);
	if (test_timed_out)
		TAP_DIAG("timed out waiting for %d callbacks (got %d)", target, test_completed);
	return test_completed >= target;
}

/* Run the loop for ms milliseconds. */
static void
test_sleep(uint64_t ms)
{
	test_slept = 0;
	uv_timer_start(&test_sleeper, test_sleeper_cb, ms, 0);
	while (!test_slept)
		uv_run(&test_loop, UV_RUN_ONCE);
}

static struct http_request *
test_start(struct http *http, const char *method, const char *path,
           const struct http_request_opts *extra, http_done_cb cb, void *data)
{
	struct http_request_opts opts = {0};
	char url[256];

	if (extra)
		opts = *extra;
	snprintf(url, sizeof(url), "%s%s", test_base, path);
	opts.method = method;
	opts.url = url;
	return http_request_start(http, &opts, cb, data);
}

/* GET path into r and wait for it.  Returns 1 if the callback ran. */
static int
test_get(const char *path, const struct http_request_opts *extra, struct test_result *r)
{
	test_completed = 0;
	if (test_start(test_http, NULL, path, extra, test_done_cb, r) == NULL)
		return 0;
	return test_wait(1);
}

static void
test_basic(void)
{
	struct test_result r = {0};

	ok(test_get("/ok", NULL, &r), "GET /ok completes");
	is_int(r.called, 1, "callback called once");
	is_int(r.status, 200, "/ok status");
	is_int(r.curl_code, 0, "/ok curl code");
	is_str(r.error, NULL, "/ok no error");
	is_str(r.body.data, TEST_OK_BODY, "/ok body");
	is_int(r.body.len, strlen(TEST_OK_BODY), "/ok body length");
	is_str(r.request_id, NULL, "/ok has no request id");
	is_int(r.connects, 1, "first request opens one connection");
	is_int(http_inflight(test_http), 0, "nothing in flight after completion");
	test_result_clear(&r);

	ok(test_get("/ok", NULL, &r), "second GET /ok completes");
	is_int(r.connects, 0, "second request reuses the connection");
	test_result_clear(&r);

	ok(test_get("/nope", NULL, &r), "GET /nope completes");
	is_int(r.status, 404, "404 is a status, not an error");
	is_int(r.curl_code, 0, "404 curl code");
	is_str(r.error, NULL, "404 no error");
	test_result_clear(&r);
}

static void
test_status(void)
{
	struct test_result r = {0};

	ok(test_get("/status/429", NULL, &r), "GET /status/429 completes");
	is_int(r.status, 429, "429 status");
	is_str(r.retry_after, "3", "retry-after captured and trimmed");
	is_str(r.retry_after_ms, "250", "retry-after-ms captured");
	is_str(r.request_id, "req-1", "x-request-id captured (any case)");
	test_result_clear(&r);

	ok(test_get("/status/503", NULL, &r), "GET /status/503 completes");
	is_int(r.status, 503, "503 status");
	is_str(r.retry_after, "3", "503 retry-after");
	test_result_clear(&r);

	ok(test_get("/interim", NULL, &r), "GET /interim completes");
	is_int(r.status, 200, "final status after a 103");
	is_str(r.request_id, "final", "only the final response's x-request-id");
	is_str(r.retry_after, NULL, "interim retry-after forgotten");
	is_str(r.body.data, "{}", "body after an interim response");
	test_result_clear(&r);
}

static void
test_cap(void)
{
	struct test_result r = {0};
	struct http_request_opts opts = {0};

	ok(test_get("/big", NULL, &r), "GET /big completes");
	is_int(r.status, 200, "capped body keeps its status");
	is_str(r.error, "response body too large", "20 MiB exceeds the default cap");
	is_int(r.curl_code, CURLE_WRITE_ERROR, "capped body curl code");
	is_int(r.body.len, 0, "a body announced past the cap is refused before any byte is kept");
	test_result_clear(&r);

	ok(test_get("/big-unsized", NULL, &r), "GET /big-unsized completes");
	is_int(r.status, 200, "capped unsized body keeps its status");
	is_str(r.error, "response body too large", "20 MiB without a length exceeds the cap");
	ok(r.body.len <= HTTP_MAX_BODY, "no more than the cap kept (%zu)", r.body.len);
	test_result_clear(&r);

	opts.max_body = strlen(TEST_OK_BODY);
	ok(test_get("/ok", &opts, &r), "GET /ok with an exact cap completes");
	is_str(r.error, NULL, "a body exactly at the cap is fine");
	is_str(r.body.data, TEST_OK_BODY, "body at the cap is whole");
	test_result_clear(&r);

	opts.max_body = strlen(TEST_OK_BODY) - 1;
	ok(test_get("/ok", &opts, &r), "GET /ok with a cap one short completes");
	is_str(r.error, "response body too large", "one byte over the cap");
	is_int(r.status, 200, "status kept over the cap");
	test_result_clear(&r);
}

/* A connection the server closes while it sits in libcurl's cache: the
 * engine must neither spin on the readable fd nor fail the next request. */
static void
test_closed_while_idle(void)
{
	struct test_result r = {0};
	int turns = 0;

	ok(test_get("/close-later", NULL, &r), "GET /close-later completes");
	is_int(r.status, 200, "/close-later status");
	test_result_clear(&r);
	test_slept = 0;
	uv_timer_start(&test_sleeper, test_sleeper_cb, 400, 0);
	while (!test_slept && turns < 100000) {
		uv_run(&test_loop, UV_RUN_ONCE);
		turns++;
	}
	/* The close wakes the loop once; a watched EOF would wake it on
	 * every turn. */
	ok(turns < 50, "the server's close does not spin the loop (%d turns in 400 ms)", turns);
	ok(test_get("/ok", NULL, &r), "GET /ok after the server closed the idle connection");
	is_int(r.status, 200, "it succeeds");
	is_int(r.connects, 1, "on a new connection");
	test_result_clear(&r);
}

/* No descriptor left for a new connection: the error says so, not
 * libcurl's "Couldn't connect to server".  Port 9 on 127.0.0.2 is never a
 * pooled connection, so the request must open a socket. */
static void
test_emfile(void)
{
	struct http_request_opts opts = {0};
	struct test_result r = {0};
	struct rlimit saved, low;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	getrlimit(RLIMIT_NOFILE, &saved);
	low = saved;
	low.rlim_cur = fd >= 0 ? (rlim_t)fd : 0; /* the lowest free fd is over it */
	close(fd);
	test_completed = 0;
	opts.url = "http://127.0.0.2:9/ok";
	ok(setrlimit(RLIMIT_NOFILE, &low) == 0, "descriptor limit lowered to %d", fd);
	if (http_request_start(test_http, &opts, test_done_cb, &r) != NULL)
		test_wait(1);
	setrlimit(RLIMIT_NOFILE, &saved);
	ok(r.called && r.error && strstr(r.error, "out of file descriptors") != NULL,
	   "out of descriptors is named (%s)", r.error ? r.error : "(null)");
	test_result_clear(&r);
}

static void
test_errors(void)
{
	struct test_result r = {0};
	struct http_request_opts opts = {0};
	uint64_t t0;

	opts.timeout_ms = 300;
	t0 = uv_hrtime();
	ok(test_get("/slow", &opts, &r), "GET /slow with a 300 ms timeout completes");
	uint64_t took = (uv_hrtime() - t0) / 1000000;
	is_int(r.curl_code, CURLE_OPERATION_TIMEDOUT, "timeout curl code");
	ok(r.error != NULL && *r.error != '\0', "timeout has an error text (%s)", r.error);
	is_int(r.status, 0, "timeout has status 0");
	ok(took >= 250 && took < 1500, "timeout honoured (%llu ms)", (unsigned long long)took);
	test_result_clear(&r);

	ok(test_get("/reset", NULL, &r), "GET /reset completes");
	ok(r.curl_code != 0, "reset is a transport error (%d)", r.curl_code);
	ok(r.error != NULL, "reset has an error text (%s)", r.error);
	is_int(r.status, 0, "reset has status 0");
	test_result_clear(&r);

	/* An RST with part of the body: libcurl sees an error event on the
	 * socket, and would say only "select/poll returned error".  How much
	 * was read first depends on when the event came. */
	ok(test_get("/reset-body", NULL, &r), "GET /reset-body completes");
	ok(r.error != NULL && strstr(r.error, "connection reset by peer (") == r.error,
	   "a reset mid-body is named (%s)", r.error ? r.error : "(null)");
	test_result_clear(&r);

	test_emfile();

	test_completed = 0;
	opts.timeout_ms = 0;
	opts.url = "file:///etc/passwd";
	if (http_request_start(test_http, &opts, test_done_cb, &r) == NULL) {
		ok(1, "file:// refused at start");
		ok(1, "file:// refused at start (no callback)");
	} else {
		ok(test_wait(1), "file:// completes");
		is_int(r.curl_code, CURLE_UNSUPPORTED_PROTOCOL, "file:// is not allowed");
	}
	test_result_clear(&r);
}

static void
test_post(void)
{
	static const char body[] = "hello\0world";
	const char *headers[] = {"Content-Type: application/octet-stream", NULL};
	struct http_request_opts opts = {0};
	struct test_result r = {0};
	struct buf big = BUF_INIT;

	opts.headers = headers;
	opts.body = body;
	opts.body_len = sizeof(body) - 1;
	test_completed = 0;
	ok(test_start(test_http, "POST", "/echo", &opts, test_done_cb, &r) && test_wait(1),
	   "POST /echo completes");
	is_int(r.status, 200, "POST status");
	is_int(r.body.len, sizeof(body) - 1, "POST body length echoed");
	ok(r.body.len == sizeof(body) - 1 && memcmp(r.body.data, body, r.body.len) == 0,
	   "POST body echoed byte for byte");
	test_result_clear(&r);

	for (int i = 0; i < 2 * 1024 * 1024 / 16; i++)
		buf_printf(&big, "%015d\n", i);
	opts.body = big.data;
	opts.body_len = big.len;
	test_completed = 0;
	ok(test_start(test_http, "POST", "/echo", &opts, test_done_cb, &r) && test_wait(1),
	   "2 MiB POST completes");
	ok(r.status == 200 && r.body.len == big.len && memcmp(r.body.data, big.data, big.len) == 0,
	   "2 MiB POST echoed");
	test_result_clear(&r);
	buf_free(&big);

	opts.body = NULL;
	opts.body_len = 0;
	test_completed = 0;
	ok(test_start(test_http, "POST", "/echo", &opts, test_done_cb, &r) && test_wait(1),
	   "empty POST completes");
	ok(r.status == 200 && r.body.len == 0 && r.body.data && r.body.data[0] == '\0',
	   "empty POST gives an empty, terminated body");
	test_result_clear(&r);

	headers[0] = "X-Test: abc";
	opts.headers = headers;
	ok(test_get("/echo-headers", &opts, &r), "GET /echo-headers completes");
	ok(r.body.data && strstr(r.body.data, "X-Test: abc\n") != NULL, "custom header sent");
	test_result_clear(&r);
}

static void
test_wave(int wave, struct test_result *res)
{
	int64_t connects = 0;
	int good = 0;

	test_completed = 0;
	for (int i = 0; i < TEST_WAVE; i++)
		test_start(test_http, NULL, "/ok", NULL, test_done_cb, &res[i]);
	is_int(http_inflight(test_http), TEST_WAVE, "wave %d: all in flight", wave);
	ok(test_wait(TEST_WAVE), "wave %d: all complete", wave);
	for (int i = 0; i < TEST_WAVE; i++) {
		if (res[i].called == 1 && res[i].status == 200 && res[i].body.data &&
		    strcmp(res[i].body.data, TEST_OK_BODY) == 0)
			good++;
		connects += res[i].connects;
		test_result_clear(&res[i]);
	}
	is_int(good, TEST_WAVE, "wave %d: every response right", wave);
	if (wave == 1) {
		ok(connects >= 1 && connects <= TEST_WAVE, "wave 1: %lld connections",
		   (long long)connects);
	} else {
		is_int(connects, 0, "wave 2: every connection reused");
	}
}

static void
test_concurrent(void)
{
	struct test_result res[TEST_WAVE];

	memset(res, 0, sizeof(res));
	test_wave(1, res);
	test_wave(2, res);
	is_int(http_inflight(test_http), 0, "waves leave nothing in flight");
}

struct test_pair {
	struct http_request *req;
	struct test_pair *other;
	int called;
};

/* Whichever of a pair finishes first cancels the other, and cancelling
 * itself from its own callback must be harmless. */
static void
test_pair_cb(struct http_response *resp, void *data)
{
	struct test_pair *p = data;

	p->called++;
	test_completed++;
	http_request_cancel(p->req);
	http_request_cancel(p->other->req);
}

static struct test_result test_chained;

/* Start a new request from inside a callback. */
static void
test_chain_cb(struct http_response *resp, void *data)
{
	struct test_result *r = data;

	test_result_fill(r, resp);
	test_completed++;
	if (test_start(test_http, NULL, "/ok", NULL, test_done_cb, &test_chained) == NULL)
		ok(0, "start from a callback");
}

static void
test_cancel(void)
{
	struct test_result r = {0}, r2 = {0};
	struct test_pair a = {0}, b = {0};
	struct http_request *req;
	struct http *h2;

	test_completed = 0;
	req = test_start(test_http, NULL, "/slow?ms=300", NULL, test_done_cb, &r);
	ok(req != NULL, "slow request started");
	http_request_cancel(req);
	is_int(http_inflight(test_http), 0, "cancel at once: nothing in flight");
	req = test_start(test_http, NULL, "/slow?ms=300", NULL, test_done_cb, &r2);
	test_sleep(100);
	http_request_cancel(req);
	test_sleep(500);
	is_int(r.called + r2.called, 0, "cancelled requests never call back");
	test_result_clear(&r);
	test_result_clear(&r2);

	a.other = &b;
	b.other = &a;
	test_completed = 0;
	a.req = test_start(test_http, NULL, "/ok", NULL, test_pair_cb, &a);
	b.req = test_start(test_http, NULL, "/ok", NULL, test_pair_cb, &b);
	ok(test_wait(1), "one of a pair completes");
	test_sleep(200);
	is_int(a.called + b.called, 1, "the other of the pair was cancelled");
	is_int(http_inflight(test_http), 0, "pair leaves nothing in flight");

	test_completed = 0;
	test_start(test_http, NULL, "/ok", NULL, test_chain_cb, &r);
	ok(test_wait(2), "request started from a callback completes");
	ok(r.called == 1 && test_chained.called == 1 && test_chained.status == 200,
	   "both the first and the chained request succeeded");
	test_result_clear(&r);
	test_result_clear(&test_chained);

	/* A second engine freed with a request in flight. */
	h2 = http_new(&test_loop);
	ok(test_start(h2, NULL, "/slow?ms=200", NULL, test_done_cb, &r) != NULL,
	   "second engine starts a request");
	test_sleep(50);
	http_free(h2);
	test_sleep(400);
	is_int(r.called, 0, "http_free cancels without callbacks");
}

/* Read a whole small file; the caller frees. */
static char *
test_slurp(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return xstrdup("");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

/* Run one GET /echo-headers with stderr sent to a file; return the file. */
static char *
test_capture(int debug, const char *target)
{
	const char *headers[] = {"Authorization: Bearer sekrit-token-1", "API-KEY:sekrit-key-2",
	                         "X-Test: visible", "X-Trace: for sekrit-token-1 only", NULL};
	struct http_request_opts opts = {0};
	struct test_result r = {0};
	char path[128];
	int fd, saved;

	snprintf(path, sizeof(path), "%s/stderr", test_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (fd < 0 || saved < 0 || dup2(fd, STDERR_FILENO) < 0)
		return xstrdup("");
	close(fd);
	log_set_level(LOG_LEVEL_DEBUG);
	http_set_debug(test_http, debug);
	opts.headers = headers;
	if (!test_get(target, &opts, &r))
		buf_puts(&r.body, "");
	http_set_debug(test_http, 0);
	log_set_level(LOG_LEVEL_INFO);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (strcmp(target, "/echo-headers") == 0 &&
	    (r.body.data == NULL || strstr(r.body.data, "sekrit-token-1") == NULL))
		ok(0, "the secret reached the server");
	test_result_clear(&r);
	return test_slurp(path);
}

static void
test_debug(void)
{
	char *log = test_capture(1, "/echo-headers");

	ok(strstr(log, "> GET /echo-headers HTTP/1.1") != NULL, "request line logged");
	ok(strstr(log, "< HTTP/1.1 200 OK") != NULL, "response status logged");
	ok(strstr(log, "> X-Test: visible") != NULL, "ordinary request header logged");
	ok(strstr(log, "> Authorization: [redacted]") != NULL, "authorization redacted");
	ok(strstr(log, "> API-KEY: [redacted]") != NULL, "api-key redacted");
	ok(strstr(log, "> X-Trace: [redacted]") != NULL,
	   "a request header holding the key redacted");
	ok(strstr(log, "sekrit") == NULL, "no secret in the log, not even the echoed body");
	free(log);

	/* A server (or proxy) that reflects the credentials. */
	log = test_capture(1, "/reflect");
	ok(strstr(log, "< X-Echo-Auth: [redacted]") != NULL, "reflected Authorization redacted");
	ok(strstr(log, "< X-Echo-Key: [redacted]") != NULL, "a value holding the api-key redacted");
	ok(strstr(log, "< X-Plain: visible") != NULL, "other response headers logged");
	ok(strstr(log, "sekrit") == NULL, "no reflected secret in the log");
	free(log);

	log = test_capture(0, "/echo-headers");
	ok(strstr(log, "http:") == NULL, "nothing logged with debug off");
	free(log);
}

/* Free the engine from inside a completion callback. */
static void
test_free_cb(struct http_response *resp, void *data)
{
	struct test_result *r = data;

	test_result_fill(r, resp);
	test_completed++;
	http_free(test_http);
	test_http = NULL;
}

static void
test_teardown(void)
{
	struct test_result slow = {0}, last = {0};

	test_completed = 0;
	test_start(test_http, NULL, "/slow?ms=2000", NULL, test_done_cb, &slow);
	test_start(test_http, NULL, "/ok", NULL, test_free_cb, &last);
	ok(test_wait(1), "last request completes");
	is_int(last.status, 200, "last request status");
	ok(test_http == NULL, "engine freed from its callback");

	/* Close callbacks run now; the unref'd watchdog only bounds it. */
	test_timed_out = 0;
	uv_timer_start(&test_watchdog, test_watchdog_cb, TEST_WAIT_MS, 0);
	uv_unref((uv_handle_t *)&test_watchdog);
	uv_unref((uv_handle_t *)&test_sleeper);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	ok(!test_timed_out, "engine handles closed");
	is_int(slow.called, 0, "in-flight request cancelled by http_free");
	uv_close((uv_handle_t *)&test_watchdog, NULL);
	uv_close((uv_handle_t *)&test_sleeper, NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&test_loop), 0, "uv_loop_close: no handle left");
	test_result_clear(&slow);
	test_result_clear(&last);
}

/* Start the stub server; its stdin is a pipe so it exits with us. */
static int
test_stub_start(void)
{
	const char *srcdir = getenv("srcdir");
	char script[4096], portfile[128];
	int fds[2], port = 0, status;

	snprintf(script, sizeof(script), "%s/tests/helpers/httpstub.py", srcdir ? srcdir : ".");
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_http.XXXXXX");
	if (mkdtemp(test_dir) == NULL || pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", test_dir);
	test_stub_pid = fork();
	if (test_stub_pid < 0)
		return -1;
	if (test_stub_pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		execlp("python3", "python3", script, "--port-file", portfile, "--exit-on-eof",
		       (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	test_stub_stdin = fds[1];
	for (int i = 0; i < TEST_WAIT_MS / 20; i++) {
		FILE *f = fopen(portfile, "r");
		if (f != NULL) {
			int n = fscanf(f, "%d", &port);
			fclose(f);
			unlink(portfile);
			if (n != 1)
				return -1;
			snprintf(test_base, sizeof(test_base), "http://127.0.0.1:%d", port);
			return 0;
		}
		if (waitpid(test_stub_pid, &status, WNOHANG) == test_stub_pid) {
			test_stub_pid = -1;
			return -1;
		}
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	return -1;
}

static void
test_stub_stop(void)
{
	char path[128];

	if (test_stub_stdin >= 0)
		close(test_stub_stdin);
	if (test_stub_pid > 0) {
		kill(test_stub_pid, SIGTERM);
		waitpid(test_stub_pid, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/stderr", test_dir);
	unlink(path);
	rmdir(test_dir);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test_http");
	if (test_stub_start() < 0) {
		test_stub_stop();
		printf("1..0 # SKIP cannot start tests/helpers/httpstub.py with python3\n");
		return 0;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || uv_loop_init(&test_loop) != 0) {
		test_stub_stop();
		printf("Bail out! cannot initialise libcurl or libuv\n");
		return 1;
	}
	uv_timer_init(&test_loop, &test_watchdog);
	uv_timer_init(&test_loop, &test_sleeper);
	test_http = http_new(&test_loop);

	test_basic();
	test_status();
	test_cap();
	test_errors();
	test_closed_while_idle();
	test_post();
	test_concurrent();
	test_cancel();
	test_debug();
	test_teardown();

	curl_global_cleanup();
	test_stub_stop();
	return tap_done();
}
