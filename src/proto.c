/*
 * proto: control protocol codec (see proto.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "buf.h"
#include "jsonlax.h"
#include "proto.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * What a request names may be stored or echoed in a reply, which must be
 * valid UTF-8; and cJSON would cut a string at a NUL silently
 * ("ftjob\u0000evil" would name ftjob).  False with *message set.
 */
static bool
proto_text_ok(const char *line, size_t len, struct proto_request *req, const char **message)
{
	if (!utf8_valid(line, len)) {
		req->id = NULL; /* it may be the invalid part: not echoed */
		*message = "request is not valid UTF-8";
		return false;
	}
	if (jsonlax_has_nul(line, len)) {
		*message = "a string in the request holds a NUL (\\u0000)";
		return false;
	}
	return true;
}

int
proto_parse_request(const char *line, size_t len, struct proto_request *req, const char **code,
                    const char **message)
{
	const cJSON *cmd, *args, *ver;

	memset(req, 0, sizeof(*req));
	if (len > PROTO_MAX_LINE) {
		*code = PROTO_E_TOO_LARGE;
		*message = "request line longer than 1 MiB";
		return -EINVAL;
	}
	req->root = cJSON_ParseWithLength(line, len);
	if (req->root == NULL) {
		*code = PROTO_E_PARSE;
		*message = "request is not valid JSON";
		return -EINVAL;
	}
	if (!cJSON_IsObject(req->root)) {
		*code = PROTO_E_BAD_REQUEST;
		*message = "request must be a JSON object";
		return -EINVAL;
	}
	req->id = cJSON_GetObjectItemCaseSensitive(req->root, "id");
	if (req->id != NULL && !cJSON_IsNumber(req->id) && !cJSON_IsString(req->id) &&
	    !cJSON_IsNull(req->id)) {
		req->id = NULL;
		*code = PROTO_E_BAD_REQUEST;
		*message = "id must be a number or a string";
		return -EINVAL;
	}
	if (!proto_text_ok(line, len, req, message)) {
		*code = PROTO_E_BAD_REQUEST;
		return -EINVAL;
	}
	ver = cJSON_GetObjectItemCaseSensitive(req->root, "v");
	if (ver != NULL && (!cJSON_IsNumber(ver) || ver->valuedouble != PROTO_VERSION)) {
		*code = PROTO_E_VERSION;
		*message = "unsupported protocol version (this daemon speaks v1)";
		return -EINVAL;
	}
	cmd = cJSON_GetObjectItemCaseSensitive(req->root, "cmd");
	if (!cJSON_IsString(cmd) || cmd->valuestring[0] == '\0') {
		*code = PROTO_E_BAD_REQUEST;
		*message = "request has no \"cmd\" string";
		return -EINVAL;
	}
	req->cmd = cmd->valuestring;
	args = cJSON_GetObjectItemCaseSensitive(req->root, "args");
	if (args != NULL && !cJSON_IsNull(args) && !cJSON_IsObject(args)) {
		*code = PROTO_E_BAD_REQUEST;
		*message = "\"args\" must be an object";
		return -EINVAL;
	}
	req->args = cJSON_IsObject(args) ? args : NULL;
	return 0;
}

void
proto_request_free(struct proto_request *req)
{
	cJSON_Delete(req->root);
	memset(req, 0, sizeof(*req));
}

/* Print a reply object as one line, newline-terminated, and free it. */
static char *
proto_finish(cJSON *reply)
{
	char *text = cJSON_PrintUnformatted(reply);
	cJSON_Delete(reply);
	if (text == NULL)
		return xstrdup("{\"id\":null,\"ok\":false,\"error\":{\"code\":\"internal_error\","
		               "\"message\":\"reply could not be encoded\"}}\n");
	size_t n = strlen(text);
	char *line = xmalloc(n + 2);
	memcpy(line, text, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	cJSON_free(text);
	return line;
}

void
proto_reply_ok_open(struct buf *b, const cJSON *id)
{
	char *text = id ? cJSON_PrintUnformatted(id) : NULL;

	buf_puts(b, "{\"id\":");
	buf_puts(b, text ? text : "null");
	buf_puts(b, ",\"ok\":true,\"result\":");
	cJSON_free(text);
}

void
proto_reply_ok_close(struct buf *b)
{
	buf_append(b, "}\n", 2);
}

static cJSON *
proto_reply_new(const cJSON *id, bool ok)
{
	cJSON *reply = cJSON_CreateObject();
	cJSON *idcopy = id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull();
	cJSON_AddItemToObject(reply, "id", idcopy ? idcopy : cJSON_CreateNull());
	cJSON_AddBoolToObject(reply, "ok", ok);
	return reply;
}

char *
proto_reply_ok(const cJSON *id, cJSON *result)
{
	cJSON *reply = proto_reply_new(id, true);
	cJSON_AddItemToObject(reply, "result", result ? result : cJSON_CreateNull());
	return proto_finish(reply);
}

char *
proto_reply_error(const cJSON *id, const char *code, const char *message)
{
	return proto_reply_errors(id, code, message, NULL);
}

char *
proto_reply_errors(const cJSON *id, const char *code, const char *message,
                   const char *const *errors)
{
	cJSON *reply = proto_reply_new(id, false);
	cJSON *err = cJSON_AddObjectToObject(reply, "error");
	cJSON *list;

	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	if (errors == NULL)
		return proto_finish(reply);
	list = cJSON_AddArrayToObject(err, "errors");
	for (size_t i = 0; errors[i]; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(errors[i]));
	return proto_finish(reply);
}

char *
proto_build_request(int64_t id, const char *cmd, cJSON *args)
{
	cJSON *req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", (double)id);
	cJSON_AddStringToObject(req, "cmd", cmd);
	if (args != NULL)
		cJSON_AddItemToObject(req, "args", args);
	return proto_finish(req);
}

int
proto_parse_reply(const char *line, size_t len, cJSON **root, bool *ok, const cJSON **payload)
{
	cJSON *r = cJSON_ParseWithLength(line, len);
	const cJSON *okv, *p;

	*root = NULL;
	if (!cJSON_IsObject(r))
		goto bad;
	okv = cJSON_GetObjectItemCaseSensitive(r, "ok");
	if (!cJSON_IsBool(okv))
		goto bad;
	*ok = cJSON_IsTrue(okv);
	p = cJSON_GetObjectItemCaseSensitive(r, *ok ? "result" : "error");
	if (p == NULL || (!*ok && !cJSON_IsObject(p)))
		goto bad;
	*payload = p;
	*root = r;
	return 0;
bad:
	cJSON_Delete(r);
	return -EINVAL;
}

int
proto_arg_string(const cJSON *args, const char *name, const char **out)
{
	const cJSON *v = args ? cJSON_GetObjectItemCaseSensitive(args, name) : NULL;
	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -EINVAL;
	*out = v->valuestring;
	return 0;
}

int
proto_arg_int(const cJSON *args, const char *name, int64_t def, int64_t *out)
{
	const cJSON *v = args ? cJSON_GetObjectItemCaseSensitive(args, name) : NULL;
	*out = def;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	/* Only integral numbers that fit in 53 bits survive a JSON round trip. */
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9007199254740992.0)
		return -EINVAL;
	*out = (int64_t)v->valuedouble;
	return 0;
}

int
proto_arg_bool(const cJSON *args, const char *name, bool def, bool *out)
{
	const cJSON *v = args ? cJSON_GetObjectItemCaseSensitive(args, name) : NULL;
	*out = def;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return -EINVAL;
	*out = cJSON_IsTrue(v);
	return 0;
}
