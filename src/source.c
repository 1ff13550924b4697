/*
 * source: construction of sources by type, and lookup.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "source.h"
#include "source_openai.h"
#include "xmalloc.h"

/*
 * Sources whose type is configured and validated but whose reader is not
 * part of this build yet (jsonl and push arrive with their own issues).
 * They report themselves as "inactive" in `status` instead of silently
 * pretending to work.
 */
static cJSON *
source_inactive_status(struct source *src)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "health", "inactive");
	cJSON_AddNullToObject(o, "last_poll");
	cJSON_AddStringToObject(o, "last_error", "this source type is not supported by this build");
	cJSON_AddNumberToObject(o, "jobs", 0);
	return o;
}

static int
source_inactive_start(struct source *src, char **err)
{
	return 0;
}

static void
source_inactive_destroy(struct source *src)
{
	free(src->name);
	free(src);
}

static const struct source_ops source_inactive_ops = {
        .start = source_inactive_start,
        .status = source_inactive_status,
        .destroy = source_inactive_destroy,
};

struct source *
source_new(struct daemon *d, const struct conf_source *cs, char **err)
{
	struct source *src;

	if (cs->type == CONF_SOURCE_OPENAI)
		return source_openai_new(d, cs, err);
	src = xcalloc(1, sizeof(*src));
	src->ops = &source_inactive_ops;
	src->name = xstrdup(cs->name);
	src->conf = cs;
	src->daemon = d;
	return src;
}

struct source *
source_find(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nsources; i++)
		if (strcmp(d->sources[i]->name, name) == 0)
			return d->sources[i];
	return NULL;
}
