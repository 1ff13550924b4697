/*
 * Unit tests for the control protocol codec.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

static void
test_request_errors(void)
{
	static const struct {
		const char *line, *code;
	} cases[] = {
	        {"garbage", PROTO_E_PARSE},
	        {"{\"cmd\":", PROTO_E_PARSE},
	        {"[1,2,3]", PROTO_E_BAD_REQUEST},
	        {"\"ping\"", PROTO_E_BAD_REQUEST},
	        {"42", PROTO_E_BAD_REQUEST},
	        {"{}", PROTO_E_BAD_REQUEST},
	        {"{\"cmd\":7}", PROTO_E_BAD_REQUEST},
	        {"{\"cmd\":\"\"}", PROTO_E_BAD_REQUEST},
	        {"{\"cmd\":\"jobs\",\"args\":[1]}", PROTO_E_BAD_REQUEST},
	        {"{\"cmd\":\"jobs\",\"args\":\"x\"}", PROTO_E_BAD_REQUEST},
	        {"{\"id\":{},\"cmd\":\"ping\"}", PROTO_E_BAD_REQUEST},
	        {"{\"v\":2,\"cmd\":\"ping\"}", PROTO_E_VERSION},
	        /* cJSON would cut "ftjob\u0000evil" to "ftjob": refused. */
	        {"{\"cmd\":\"job\",\"args\":{\"job\":\"ftjob\\u0000evil\"}}", PROTO_E_BAD_REQUEST},
	        {"{\"cmd\":\"ping\\u0000\"}", PROTO_E_BAD_REQUEST},
	        /* Replies echo what a request names: it must be valid UTF-8. */
	        {"{\"cmd\":\"job\",\"args\":{\"job\":\"\xff\xfe\"}}", PROTO_E_BAD_REQUEST},
	        {"{\"cmd\":\"job\",\"args\":{\"job\":\"\xed\xa0\x80\"}}", PROTO_E_BAD_REQUEST},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_request req;
		const char *code = NULL, *msg = NULL;
		int rc = proto_parse_request(cases[i].line, strlen(cases[i].line), &req, &code,
		                             &msg);
		ok(rc == -EINVAL && code && strcmp(code, cases[i].code) == 0 && msg && *msg,
		   "request %s -> %s", cases[i].line, cases[i].code);
		proto_request_free(&req);
	}
}

static void
test_request_ok(void)
{
	const char *line =
	        "{\"id\":7,\"cmd\":\"jobs\",\"args\":{\"all\":true,\"status\":\"running\","
	        "\"limit\":20,\"bad\":1.5},\"v\":1}";
	struct proto_request req;
	const char *code, *msg, *s;
	int64_t n;
	bool b;

	is_int(proto_parse_request(line, strlen(line), &req, &code, &msg), 0,
	       "valid request parses");
	is_str(req.cmd, "jobs", "cmd read");
	ok(req.id && req.id->valuedouble == 7, "id read");
	is_int(proto_arg_bool(req.args, "all", false, &b), 0, "bool arg");
	ok(b, "bool value");
	is_int(proto_arg_string(req.args, "status", &s), 0, "string arg");
	is_str(s, "running", "string value");
	is_int(proto_arg_int(req.args, "limit", 5, &n), 0, "int arg");
	is_int(n, 20, "int value");
	is_int(proto_arg_int(req.args, "missing", 5, &n), 0, "absent int arg");
	is_int(n, 5, "absent int gives default");
	is_int(proto_arg_int(req.args, "bad", 5, &n), -EINVAL, "fractional int refused");
	is_int(proto_arg_string(req.args, "all", &s), -EINVAL, "bool as string refused");
	is_int(proto_arg_bool(req.args, "status", false, &b), -EINVAL, "string as bool refused");
	proto_request_free(&req);

	/* A request without args or id is fine. */
	is_int(proto_parse_request("{\"cmd\":\"ping\"}", 14, &req, &code, &msg), 0,
	       "minimal request");
	ok(req.id == NULL && req.args == NULL, "no id, no args");
	proto_request_free(&req);
}

/* Well-formed non-ASCII and an escaped backslash before u0000 are fine. */
static void
test_request_text(void)
{
	const char *line = "{\"cmd\":\"job\",\"args\":{\"job\":\"caf\xc3\xa9\\\\u0000\"}}";
	const char *code = NULL, *msg = NULL, *job = NULL;
	struct proto_request req;

	is_int(proto_parse_request(line, strlen(line), &req, &code, &msg), 0,
	       "UTF-8 and a literal backslash-u0000 are accepted");
	proto_arg_string(req.args, "job", &job);
	is_str(job, "caf\xc3\xa9\\u0000", "and read whole");
	proto_request_free(&req);
}

static void
test_too_large(void)
{
	size_t n = PROTO_MAX_LINE + 10;
	char *big = malloc(n);
	struct proto_request req;
	const char *code = NULL, *msg;

	memset(big, ' ', n);
	is_int(proto_parse_request(big, n, &req, &code, &msg), -EINVAL, "oversized line refused");
	is_str(code, PROTO_E_TOO_LARGE, "oversized line code");
	proto_request_free(&req);
	free(big);
}

static void
test_replies(void)
{
	struct proto_request req;
	const char *code, *msg;
	cJSON *root;
	const cJSON *payload;
	bool okv;
	char *line;

	proto_parse_request("{\"id\":\"abc\",\"cmd\":\"x\"}", 22, &req, &code, &msg);
	line = proto_reply_ok(req.id, cJSON_CreateString("pong"));
	is_str(line, "{\"id\":\"abc\",\"ok\":true,\"result\":\"pong\"}\n", "ok reply text");
	is_int(proto_parse_reply(line, strlen(line), &root, &okv, &payload), 0, "ok reply parses");
	ok(okv && cJSON_IsString(payload) && strcmp(payload->valuestring, "pong") == 0,
	   "ok reply payload");
	cJSON_Delete(root);
	free(line);

	line = proto_reply_error(NULL, PROTO_E_NOT_FOUND, "no \"job\"\nhere");
	ok(strchr(line, '\n') == line + strlen(line) - 1, "error reply is one line");
	is_int(proto_parse_reply(line, strlen(line), &root, &okv, &payload), 0,
	       "error reply parses");
	ok(!okv, "error reply not ok");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(payload, "code")), PROTO_E_NOT_FOUND,
	       "error code");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(payload, "message")), "no \"job\"\nhere",
	       "message survives escaping");
	cJSON_Delete(root);
	free(line);
	proto_request_free(&req);

	line = proto_build_request(3, "metrics", NULL);
	is_str(line, "{\"id\":3,\"cmd\":\"metrics\"}\n", "built request");
	free(line);

	is_int(proto_parse_reply("{\"ok\":1}", 8, &root, &okv, &payload), -EINVAL,
	       "reply with non-bool ok refused");
	is_int(proto_parse_reply("{\"ok\":false,\"error\":3}", 22, &root, &okv, &payload), -EINVAL,
	       "error reply without error object refused");
	is_int(proto_parse_reply("nope", 4, &root, &okv, &payload), -EINVAL,
	       "garbage reply refused");
}

int
main(void)
{
	test_request_errors();
	test_request_ok();
	test_request_text();
	test_too_large();
	test_replies();
	return tap_done();
}
