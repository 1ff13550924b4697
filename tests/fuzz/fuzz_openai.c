/*
 * fuzz_openai: feeds one input to every openai_parse entry point and to
 * the readers under it (jsonlax, csv, base64, the retry-header parsers).  Built
 * with -DFUZZING and -fsanitize=fuzzer it is a libFuzzer target; built
 * normally it is a plain program that runs each file named on the command
 * line through the same function (for replaying crashes or a corpus with
 * gcc and the sanitizers).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "csv.h"
#include "jsonlax.h"
#include "openai_parse.h"
#include "openai_walk.h"
#include "retry.h"
#include "utf8.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Drive the walk with the input as every page, as a stuck server would,
 * with limits small enough to be reached. */
static void
fuzz_openai_walk(const char *body, size_t len)
{
	static const struct oai_walk_limits lim = {
	        .max_pages = 4, .max_events = 64, .max_bytes = 1 << 20};
	struct oai_walk w;
	struct oai_event_page page;
	const char *stop = NULL;

	oai_walk_init(&w, "ftevent-stop", NULL, &lim);
	do {
		if (oai_parse_event_page(body, len, &page, &stop) != 0)
			break;
	} while (oai_walk_feed(&w, &page, len) == OAI_WALK_MORE);
	(void)oai_walk_newest_id(&w);
	(void)oai_walk_complete(&w);
	(void)oai_walk_cut_reason(w.cut);
	oai_walk_clear(&w);
}

/* The readers on their own, with limits small enough to be reached. */
static void
fuzz_openai_readers(const char *body, size_t len)
{
	static const struct jsonlax_limits jl = {.max_bytes = 4096, .max_depth = 8};
	static const struct csv_limits cl = {.max_fields = 8, .max_field_len = 16};
	const char *why;
	struct csv c;
	cJSON *root;
	double v;
	char *dec;
	size_t n;

	root = jsonlax_parse(body, len, &jl, &why);
	if (root != NULL) {
		(void)jsonlax_number(root->child, &v);
		jsonlax_unmark(root);
		cJSON_Delete(root);
	}
	csv_init(&c, body, len, &cl);
	while (csv_next(&c)) {
		for (size_t i = 0; i < csv_nfields(&c); i++)
			(void)strlen(csv_field(&c, i));
	}
	csv_free(&c);
	if (base64_decode(body, len, &dec, &n) == 0)
		free(dec);
	(void)jsonlax_has_nul(body, len);
	/* A repair is always well-formed (up to a NUL of the input). */
	dec = utf8_repair(body, len);
	if (!utf8_valid(dec, strlen(dec)))
		abort();
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data, *why = NULL;
	struct oai_job job;
	struct oai_job_page jobs;
	struct oai_event_page events;
	struct oai_checkpoint_page cks;
	struct oai_result res;
	char *text;

	if (oai_parse_job_body(body, size, &job, &why) == 0)
		oai_job_clear(&job);
	if (oai_parse_job_page(body, size, &jobs, &why) == 0)
		oai_job_page_clear(&jobs);
	if (oai_parse_event_page(body, size, &events, &why) == 0)
		oai_event_page_clear(&events);
	if (oai_parse_checkpoint_page(body, size, &cks, &why) == 0)
		oai_checkpoint_page_clear(&cks);
	if (oai_parse_result_file(body, size, &res, &why) == 0)
		oai_result_clear(&res);
	fuzz_openai_walk(body, size);
	fuzz_openai_readers(body, size);

	/* The retry headers are C strings: use the input up to a NUL. */
	text = xstrndup(body, size);
	(void)retry_delay_ms(size % 70, text, NULL, 1445412480, 0.5, 300000);
	(void)retry_delay_ms(size % 70, NULL, text, 1445412480, 0.5, 300000);
	(void)retry_classify((long)size - 100);
	free(text);
	return 0;
}

#ifndef FUZZING
int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		char *buf = NULL;
		size_t len = 0, cap = 0, n;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (len == cap) {
				cap = cap ? cap * 2 : 65536;
				buf = xrealloc(buf, cap);
			}
			n = fread(buf + len, 1, cap - len, f);
			len += n;
		} while (n > 0);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
	}
	return 0;
}
#endif
