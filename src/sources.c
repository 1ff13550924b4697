/*
 * sources: construction of sources by type.
 */
#include "config.h"

#include <stdlib.h>

#include "conf.h"
#include "source.h"
#include "source_jsonl.h"
#include "source_openai.h"
#include "sources.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Sources whose type is configured and validated but whose reader is not
 * part of this build yet (jsonl and push arrive with their own issues).
 * They report themselves as "inactive" in `status` instead of silently
 * pretending to work.
 */
static cJSON *
sources_inactive_status(struct source *src)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "health", "inactive");
	cJSON_AddNullToObject(o, "health_since");
	cJSON_AddNullToObject(o, "last_poll");
	cJSON_AddStringToObject(o, "last_error", "this source type is not supported by this build");
	cJSON_AddNullToObject(o, "last_error_at");
	return o;
}

static int
sources_inactive_start(struct source *src, char **err)
{
	return 0;
}

static void
sources_inactive_destroy(struct source *src)
{
	free(src->name);
	free(src);
}

static const struct source_ops sources_inactive_ops = {
        .start = sources_inactive_start,
        .status = sources_inactive_status,
        .destroy = sources_inactive_destroy,
};

static struct source *
sources_inactive_new(const struct conf_source *cs, const struct source_env *env, char **err)
{
	struct source *src = xcalloc(1, sizeof(*src));

	src->ops = &sources_inactive_ops;
	src->name = xstrdup(cs->name);
	src->conf = cs;
	src->env = env;
	return src;
}

static const struct {
	enum conf_source_type type;
	struct source *(*create)(const struct conf_source *cs, const struct source_env *env,
	                         char **err);
	int (*check)(const struct conf_source *cs, bool starting, char **err); /* may be NULL */
} sources_table[] = {
        {CONF_SOURCE_OPENAI, source_openai_new, source_openai_check},
        {CONF_SOURCE_JSONL, source_jsonl_new, NULL},
        {CONF_SOURCE_PUSH, sources_inactive_new, NULL},
};

struct source *
sources_new(const struct conf_source *cs, const struct source_env *env, char **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(sources_table); i++)
		if (sources_table[i].type == cs->type)
			return sources_table[i].create(cs, env, err);
	*err = xasprintf("unknown source type %d", (int)cs->type);
	return NULL;
}

int
sources_check(const struct conf_source *cs, bool starting, char **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(sources_table); i++)
		if (sources_table[i].type == cs->type && sources_table[i].check)
			return sources_table[i].check(cs, starting, err);
	return 0;
}
