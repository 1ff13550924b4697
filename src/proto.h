/*
 * proto: the control socket protocol codec.  One JSON object per line each
 * way, lines up to PROTO_MAX_LINE bytes.
 *
 *   request: {"id": 7, "cmd": "jobs", "args": {...}}   ("v": 1 optional)
 *   reply:   {"id": 7, "ok": true, "result": ...}
 *            {"id": 7, "ok": false, "error": {"code": "...", "message": "..."}}
 *
 * A request line must be valid UTF-8 and no string in it may hold a NUL
 * (raw or \u0000): either is refused as bad_request.
 *
 * Pure: no I/O, no logging.  Used by the daemon, ftmonctl and the tests.
 */
#ifndef FTMON_PROTO_H
#define FTMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define PROTO_VERSION  1
#define PROTO_MAX_LINE (1024 * 1024)

/* Error codes used in replies. */
#define PROTO_E_PARSE            "parse_error"
#define PROTO_E_BAD_REQUEST      "bad_request"
#define PROTO_E_UNKNOWN_COMMAND  "unknown_command"
#define PROTO_E_INVALID_ARGUMENT "invalid_argument"
#define PROTO_E_NOT_FOUND        "not_found"
#define PROTO_E_AMBIGUOUS        "ambiguous"
#define PROTO_E_PERMISSION       "permission_denied"
#define PROTO_E_NOT_IMPLEMENTED  "not_implemented"
#define PROTO_E_TOO_LARGE        "request_too_large"
#define PROTO_E_BUSY             "busy"
#define PROTO_E_UNAVAILABLE      "unavailable"
#define PROTO_E_OVERFLOW         "overflow"
#define PROTO_E_CONFIG           "config_error"
#define PROTO_E_INTERNAL         "internal_error"
#define PROTO_E_VERSION          "unsupported_version"

struct proto_request {
	cJSON *root;       /* owned: the parsed line */
	const cJSON *id;   /* borrowed from root; NULL when absent */
	const char *cmd;   /* borrowed from root */
	const cJSON *args; /* borrowed from root; an object, or NULL */
};

/* Parse one request line (no newline).  Returns 0 and fills req, or -EINVAL
 * with *code set to a static PROTO_E_* string and *message to a static
 * explanation; req->id is still set when the line was a JSON object with an
 * id, so the error reply can carry it.  Call proto_request_free() in both
 * cases. */
int proto_parse_request(const char *line, size_t len, struct proto_request *req, const char **code,
                        const char **message);
void proto_request_free(struct proto_request *req);

/* Build a reply line ending in '\n'; the caller frees it.  id may be NULL
 * (sent as null).  proto_reply_ok takes ownership of result (NULL = null). */
char *proto_reply_ok(const cJSON *id, cJSON *result);
/* The same reply written as text into b (the caller's), for a result the
 * caller prints itself: _open appends {"id":...,"ok":true,"result": and
 * _close the closing brace and '\n'; the result's JSON text goes between. */
struct buf;
void proto_reply_ok_open(struct buf *b, const cJSON *id);
void proto_reply_ok_close(struct buf *b);
char *proto_reply_error(const cJSON *id, const char *code, const char *message);
/* The same with "errors": a list of strings (NULL-terminated, borrowed),
 * one per problem (a reload's FILE:LINE: messages); NULL adds no list. */
char *proto_reply_errors(const cJSON *id, const char *code, const char *message,
                         const char *const *errors);

/* Client side: build a request line ending in '\n' (takes ownership of
 * args, which may be NULL); the caller frees it. */
char *proto_build_request(int64_t id, const char *cmd, cJSON *args);
/* Parse a reply line.  Returns 0 and sets *root (caller deletes), *ok, and
 * *payload (borrowed: the result, or the error object); -EINVAL if the line
 * is not a well-formed reply. */
int proto_parse_reply(const char *line, size_t len, cJSON **root, bool *ok, const cJSON **payload);

/* Argument accessors.  Each returns 0 and sets *out (the default when the
 * argument is absent or null), or -EINVAL when present with the wrong type. */
int proto_arg_string(const cJSON *args, const char *name, const char **out);
int proto_arg_int(const cJSON *args, const char *name, int64_t def, int64_t *out);
int proto_arg_bool(const cJSON *args, const char *name, bool def, bool *out);

#endif
