/*
 * cli_json: tolerant lookups and display text for the daemon's results.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "cli_json.h"
#include "render.h"

const cJSON *
cli_json_get(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

const char *
cli_json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cli_json_get(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool
cli_json_num(const cJSON *obj, const char *key, double *out)
{
	const cJSON *v = cli_json_get(obj, key);
	if (!cJSON_IsNumber(v))
		return false;
	*out = v->valuedouble;
	return true;
}

const char *
cli_json_fmt(const cJSON *v, char *buf, size_t size)
{
	char *text;

	if (v == NULL || cJSON_IsNull(v))
		return "-";
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "yes" : "no";
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 1e15)
			snprintf(buf, size, "%.0f", d);
		else
			render_number(d, buf, size);
		return buf;
	}
	text = cJSON_PrintUnformatted(v);
	snprintf(buf, size, "%s", text ? text : "?");
	cJSON_free(text);
	return buf;
}

void
cli_json_pairs(const cJSON *obj, struct buf *out)
{
	const cJSON *it;
	char num[64];

	cJSON_ArrayForEach (it, obj) {
		if (out->len > 0 && out->data[out->len - 1] != ' ')
			buf_puts(out, " ");
		if (cJSON_IsNull(it) && it->string != NULL)
			buf_printf(out, "%s=nan", it->string);
		else
			buf_printf(out, "%s=%s", it->string ? it->string : "?",
			           cli_json_fmt(it, num, sizeof(num)));
	}
}
