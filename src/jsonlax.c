/*
 * jsonlax: lenient JSON.  When cJSON refuses a body, a copy is made in
 * which the bare tokens NaN, Infinity and -Infinity (and the lower-case
 * spellings some writers use), outside string literals, become marker
 * strings; readers turn the markers back into doubles.  Only bodies that
 * fail strict parsing pay for the copy.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include "buf.h"
#include "jsonlax.h"

/* Decoded marker strings. */
#define JSONLAX_MARK_NAN  "\001ftmon-nan"
#define JSONLAX_MARK_INF  "\001ftmon-inf"
#define JSONLAX_MARK_NINF "\001ftmon-ninf"
#define JSONLAX_MARK_NUL  "\001ftmon-nul"

/* Each token and the JSON string the sanitizer writes in its place. */
static const struct {
	const char *token;
	const char *json;
} jsonlax_tokens[] = {
        /* Longest first, so "-Infinity" is not read as "-" and "Infinity". */
        {"-Infinity", "\"\\u0001ftmon-ninf\""}, {"Infinity", "\"\\u0001ftmon-inf\""},
        {"-NaN", "\"\\u0001ftmon-nan\""},       {"NaN", "\"\\u0001ftmon-nan\""},
        {"-inf", "\"\\u0001ftmon-ninf\""},      {"inf", "\"\\u0001ftmon-inf\""},
        {"-nan", "\"\\u0001ftmon-nan\""},       {"nan", "\"\\u0001ftmon-nan\""},
};

static bool
jsonlax_wordchar(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* If a non-finite token starts at body[i], return its table index. */
static int
jsonlax_token_at(const char *body, size_t len, size_t i)
{
	if (i > 0 && (jsonlax_wordchar(body[i - 1]) || body[i - 1] == '-'))
		return -1;
	for (size_t k = 0; k < sizeof(jsonlax_tokens) / sizeof(jsonlax_tokens[0]); k++) {
		size_t tl = strlen(jsonlax_tokens[k].token);
		if (len - i < tl || memcmp(body + i, jsonlax_tokens[k].token, tl) != 0)
			continue;
		if (i + tl < len && jsonlax_wordchar(body[i + tl]))
			continue;
		return (int)k;
	}
	return -1;
}

/*
 * The string literal whose opening quote is body[i]: returns the index of
 * its closing quote (or len), and sets *nul when it holds a NUL, raw or
 * as the escape \u0000.  cJSON decodes either into its C string, which
 * then ends there: "train_loss\u0000junk" would read as "train_loss".
 */
static size_t
jsonlax_string_end(const char *body, size_t len, size_t i, bool *nul)
{
	*nul = false;
	for (i++; i < len && body[i] != '"'; i++) {
		if (body[i] == '\0') {
			*nul = true;
		} else if (body[i] == '\\') {
			if (len - i >= 6 && memcmp(body + i + 1, "u0000", 5) == 0)
				*nul = true;
			i++;
		}
	}
	return i;
}

/*
 * Copy body into out with bare non-finite tokens replaced by marker
 * strings, and every string literal that holds a NUL by the NUL marker.
 * Other string literals are copied untouched (a message saying "NaN"
 * stays a message).  Returns the number of replacements.
 */
static size_t
jsonlax_sanitize(const char *body, size_t len, struct buf *out)
{
	size_t i, start = 0, count = 0;

	for (i = 0; i < len; i++) {
		char c = body[i];
		bool nul;
		int k;

		if (c == '"') {
			size_t end = jsonlax_string_end(body, len, i, &nul);
			if (nul) {
				buf_append(out, body + start, i - start);
				buf_puts(out, "\"\\u0001ftmon-nul\"");
				start = end + 1;
				count++;
			}
			i = end;
			continue;
		}
		if (c != 'N' && c != 'I' && c != 'n' && c != 'i' && c != '-')
			continue;
		k = jsonlax_token_at(body, len, i);
		if (k < 0)
			continue;
		buf_append(out, body + start, i - start);
		buf_puts(out, jsonlax_tokens[k].json);
		i += strlen(jsonlax_tokens[k].token) - 1;
		start = i + 1;
		count++;
	}
	if (start < len)
		buf_append(out, body + start, len - start);
	return count;
}

/* Could a string of the body hold a NUL?  Two fast scans keep the
 * common body, which has none, on cJSON's single strict parse. */
static bool
jsonlax_nul_possible(const char *body, size_t len)
{
	return memchr(body, '\0', len) != NULL || memmem(body, len, "\\u0000", 6) != NULL;
}

bool
jsonlax_has_nul(const char *body, size_t len)
{
	bool nul = false;

	if (!jsonlax_nul_possible(body, len))
		return false;
	for (size_t i = 0; i < len && !nul; i++)
		if (body[i] == '"')
			i = jsonlax_string_end(body, len, i, &nul);
	return nul;
}

/* Is the nesting of arrays and objects (outside strings) within max? */
static bool
jsonlax_depth_ok(const char *body, size_t len, unsigned max)
{
	unsigned depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = body[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return false;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return true;
}

static cJSON *
jsonlax_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return NULL;
}

cJSON *
jsonlax_parse(const char *body, size_t len, const struct jsonlax_limits *lim, const char **why)
{
	struct buf clean = BUF_INIT;
	cJSON *root = NULL;
	bool nul;

	if (body == NULL || len == 0)
		return jsonlax_fail(why, "empty body");
	if (len > lim->max_bytes)
		return jsonlax_fail(why, "JSON body too large");
	if (!jsonlax_depth_ok(body, len, lim->max_depth))
		return jsonlax_fail(why, "JSON nested too deeply");
	nul = jsonlax_nul_possible(body, len);
	if (!nul && (root = cJSON_ParseWithLength(body, len)) != NULL)
		return root;
	if (jsonlax_sanitize(body, len, &clean) > 0)
		root = cJSON_ParseWithLength(clean.data, clean.len);
	else if (nul) /* a false alarm, such as an escaped backslash before u0000 */
		root = cJSON_ParseWithLength(body, len);
	buf_free(&clean);
	if (root == NULL)
		return jsonlax_fail(why, "invalid JSON");
	return root;
}

bool
jsonlax_nonfinite(const cJSON *it, double *out)
{
	const char *s;

	if (!cJSON_IsString(it) || it->valuestring == NULL || it->valuestring[0] != '\001')
		return false;
	s = it->valuestring;
	if (strcmp(s, JSONLAX_MARK_NAN) == 0)
		*out = NAN;
	else if (strcmp(s, JSONLAX_MARK_INF) == 0)
		*out = INFINITY;
	else if (strcmp(s, JSONLAX_MARK_NINF) == 0)
		*out = -INFINITY;
	else
		return false;
	return true;
}

bool
jsonlax_number(const cJSON *it, double *out)
{
	if (cJSON_IsNumber(it)) {
		*out = it->valuedouble;
		return true;
	}
	return jsonlax_nonfinite(it, out);
}

bool
jsonlax_is_nul(const cJSON *it)
{
	return cJSON_IsString(it) && it->valuestring != NULL &&
	       strcmp(it->valuestring, JSONLAX_MARK_NUL) == 0;
}

bool
jsonlax_key_is_nul(const cJSON *it)
{
	return it->string != NULL && strcmp(it->string, JSONLAX_MARK_NUL) == 0;
}

void
jsonlax_unmark(cJSON *node)
{
	double unused;
	cJSON *next;

	for (cJSON *c = node->child; c != NULL; c = next) {
		next = c->next;
		if (jsonlax_key_is_nul(c)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(node, c));
		} else if (jsonlax_nonfinite(c, &unused) || jsonlax_is_nul(c)) {
			cJSON_free(c->valuestring);
			c->valuestring = NULL;
			c->type = cJSON_NULL;
		} else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			jsonlax_unmark(c);
		}
	}
}
