/*
 * curlmulti: the fastest plain libcurl poller of the benchmark's URLs, as a
 * reference for ftmond's request rate.  It does what ftmond's HTTP layer
 * must do and nothing else: C connections (default 8, like ftmond's
 * max_connections), kept alive, each running "GET job, then GET its events
 * page" for jobs 1..N round robin, bodies copied into a buffer and dropped.
 * No parsing, no storage, no libuv: the canonical curl_multi_perform() +
 * curl_multi_poll() loop with one easy handle per connection, reused.
 *
 *   curlmulti BASE_URL N SECONDS [CONNECTIONS]
 *
 * Prints one JSON line: requests, seconds, req_per_s, cpu_s, us_per_req
 * (user + system CPU of this process per request) and connects (new
 * connections; CONNECTIONS when keep-alive works).  Bench tooling, not
 * part of ftmon.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct conn {
	CURL *easy;
	char url[512];
	char *body;
	size_t len, cap;
	long job;
	int events; /* 0: the job object is next, 1: its events page */
};

static size_t
collect(char *data, size_t size, size_t n, void *userp)
{
	struct conn *c = userp;
	size_t len = size * n;

	if (c->len + len > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		while (cap < c->len + len)
			cap *= 2;
		char *p = realloc(c->body, cap);
		if (p == NULL)
			return 0;
		c->body = p;
		c->cap = cap;
	}
	memcpy(c->body + c->len, data, len);
	c->len += len;
	return len;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Point c at its next request and hand it to the multi handle. */
static void
next_request(CURLM *multi, struct conn *c, const char *base, long njobs, long *next_job)
{
	if (!c->events) {
		c->job = *next_job;
		*next_job = *next_job % njobs + 1;
		snprintf(c->url, sizeof(c->url), "%s/fine_tuning/jobs/ftjob-%06ld", base, c->job);
	} else {
		snprintf(c->url, sizeof(c->url), "%s/fine_tuning/jobs/ftjob-%06ld/events?limit=20",
		         base, c->job);
	}
	c->events = !c->events;
	c->len = 0;
	curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	curl_multi_add_handle(multi, c->easy);
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: curlmulti BASE_URL N SECONDS [CONNECTIONS]\n");
		return 2;
	}
	const char *base = argv[1];
	long njobs = atol(argv[2]), next_job = 1, requests = 0, connects = 0, errors = 0;
	double seconds = atof(argv[3]);
	int nconn = argc > 4 ? atoi(argv[4]) : 8;
	struct curl_slist *headers = NULL;

	if (njobs < 1 || seconds <= 0 || nconn < 1 || nconn > 1024)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURLM *multi = curl_multi_init();
	struct conn *conns = calloc((size_t)nconn, sizeof(*conns));
	/* The headers ftmond sends. */
	headers = curl_slist_append(headers, "Authorization: Bearer sk-bench");
	headers = curl_slist_append(headers, "Accept: application/json");
	for (int i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];
		c->easy = curl_easy_init();
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c->easy, CURLOPT_BUFFERSIZE, 65536L);
		next_request(multi, c, base, njobs, &next_job);
	}
	double t0 = now_s(), c0 = cpu_s(), t1;
	int running = 1;
	while ((t1 = now_s()) - t0 < seconds) {
		CURLMsg *msg;
		int left;
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			struct conn *c;
			long nc = 0;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &nc);
			connects += nc;
			if (msg->data.result == CURLE_OK)
				requests++;
			else
				errors++;
			curl_multi_remove_handle(multi, c->easy);
			next_request(multi, c, base, njobs, &next_job);
		}
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	double c1 = cpu_s();
	printf("{\"requests\": %ld, \"errors\": %ld, \"seconds\": %.3f, \"req_per_s\": %.1f, "
	       "\"cpu_s\": %.3f, \"us_per_req\": %.2f, \"connects\": %ld, \"connections\": %d}\n",
	       requests, errors, t1 - t0, (double)requests / (t1 - t0), c1 - c0,
	       requests ? (c1 - c0) / (double)requests * 1e6 : 0.0, connects, nconn);
	for (int i = 0; i < nconn; i++) {
		curl_multi_remove_handle(multi, conns[i].easy);
		curl_easy_cleanup(conns[i].easy);
		free(conns[i].body);
	}
	free(conns);
	curl_slist_free_all(headers);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	return errors && !requests;
}
