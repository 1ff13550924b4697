/*
 * sources: construction of sources by type.
 */
#include "config.h"

#include <stdlib.h>

#include "conf.h"
#include "source.h"
#include "source_jsonl.h"
#include "source_openai.h"
#include "source_push.h"
#include "sources.h"
#include "util.h"
#include "xmalloc.h"

static const struct {
	enum conf_source_type type;
	struct source *(*create)(const struct conf_source *cs, const struct source_env *env,
	                         char **err);
	int (*check)(const struct conf_source *cs, bool starting, char **err); /* may be NULL */
} sources_table[] = {
        {CONF_SOURCE_OPENAI, source_openai_new, source_openai_check},
        {CONF_SOURCE_JSONL, source_jsonl_new, NULL},
        {CONF_SOURCE_PUSH, source_push_new, NULL},
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
