/*
 * test_mutate: a deterministic mutation fuzzer run by `make check`, so every
 * CI run (and the sanitizer build) throws tens of thousands of damaged
 * inputs at the parsers that face the outside world: the OpenAI wire format
 * (through the libFuzzer target in tests/fuzz/fuzz_openai.c), the config
 * parser, the control protocol, the `log` request and the JSONL line parser.
 * Passing means: no crash, no sanitizer report, no leak.  Deeper
 * coverage-guided runs use the libFuzzer build.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "logreq.h"
#include "metricline.h"
#include "proto.h"
#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t mutate_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
mutate_rand(void)
{
	/* xorshift64: fixed seed, so a failure reproduces exactly. */
	mutate_state ^= mutate_state << 13;
	mutate_state ^= mutate_state >> 7;
	mutate_state ^= mutate_state << 17;
	return mutate_state;
}

/* Damage a copy of seed: flips, inserts, deletions, duplicated runs and
 * bytes that matter to the parsers.  Returns a malloc'd buffer. */
static char *
mutate(const char *seed, size_t len, size_t *out_len)
{
	static const char interesting[] = "{}[]\",:\\\n\r\t0-.eE+NaI";
	size_t cap = len * 2 + 64, n = len;
	char *b = malloc(cap + 1);
	int rounds = 1 + (int)(mutate_rand() % 8);

	memcpy(b, seed, len);
	for (int r = 0; r < rounds; r++) {
		size_t pos = n ? (size_t)(mutate_rand() % n) : 0;
		switch (mutate_rand() % 6) {
		case 0: /* flip a bit */
			if (n)
				b[pos] ^= (char)(1u << (mutate_rand() % 8));
			break;
		case 1: /* overwrite with an interesting byte */
			if (n)
				b[pos] = interesting[mutate_rand() % (sizeof(interesting) - 1)];
			break;
		case 2: /* delete a run */
			if (n) {
				size_t k = 1 + (size_t)(mutate_rand() % 16);
				if (k > n - pos)
					k = n - pos;
				memmove(b + pos, b + pos + k, n - pos - k);
				n -= k;
			}
			break;
		case 3: /* insert a byte */
			if (n < cap) {
				memmove(b + pos + 1, b + pos, n - pos);
				b[pos] = (char)(mutate_rand() & 0xff);
				n++;
			}
			break;
		case 4: /* duplicate a run */
			if (n) {
				size_t k = 1 + (size_t)(mutate_rand() % 32);
				if (k > n - pos)
					k = n - pos;
				if (n + k <= cap) {
					memmove(b + pos + k, b + pos, n - pos);
					n += k;
				}
			}
			break;
		default: /* truncate */
			n = pos;
		}
	}
	b[n] = '\0';
	*out_len = n;
	return b;
}

static const char *const wire_seeds[] = {
        "{\"object\":\"fine_tuning.job\",\"id\":\"ftjob-abc123\",\"model\":\"davinci-002\","
        "\"created_at\":1692661014,\"finished_at\":1692661190,\"fine_tuned_model\":\"ft:x\","
        "\"result_files\":[\"file-abc123\"],\"status\":\"succeeded\",\"error\":{},"
        "\"trained_tokens\":5768,\"estimated_finish\":0}",
        "{\"object\":\"list\",\"data\":[{\"object\":\"fine_tuning.job.event\",\"id\":\"ftevent-1\","
        "\"created_at\":1693582679,\"level\":\"info\",\"message\":\"Step 300/300\","
        "\"data\":{\"step\":300,\"train_loss\":0.149,\"valid_loss\":NaN,\"total_steps\":300,"
        "\"train_mean_token_accuracy\":1},\"type\":\"metrics\"},{\"id\":\"ftevent-0\","
        "\"created_at\":1,\"level\":\"info\",\"message\":\"hi\",\"data\":null,\"type\":\"message\"}],"
        "\"has_more\":true}",
        "{\"object\":\"list\",\"data\":[{\"object\":\"fine_tuning.job.checkpoint\",\"id\":\"ftckpt_1\","
        "\"created_at\":1712211699,\"fine_tuned_model_checkpoint\":\"ft:x:ckpt-step-88\","
        "\"metrics\":{\"step\":88.0,\"train_loss\":0.478},\"step_number\":88}],\"first_id\":null,"
        "\"has_more\":false}",
        "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
        "1,1.52347,0.0,,\n2,1.4,0.5,1.6,0.4\n3,nan,1,\"2.0\",0.5\r\n",
        "c3RlcCx0cmFpbl9sb3NzCjEsMC41CjIsMC40Cg==",
};

static const char *const conf_seed =
        "[daemon]\ndatabase = /var/lib/ftmon/ftmon.db\nsocket = /run/ftmon/ftmon.sock\n"
        "retention = 30 ; days\n[source openai]\ntype = openai\napi_key_env = K\n"
        "poll_interval = 30s\nauth = api-key\napi_version = 2024-10-21\n"
        "[source lab]\ntype = jsonl\npath = /srv/train/*/metrics.jsonl\n"
        "[rule overfit]\ntype = divergence\npatience = 3\nmin_delta = 0.01\n"
        "[rule acc]\ntype = threshold\nmetric = valid_mean_token_accuracy\nop = >=\nvalue = 0.9\n"
        "[hook team]\ntype = webhook\nurl = https://hooks.example.org/x\nformat = slack\n"
        "events = job.finished alert.fired\n"
        "[hook script]\ntype = exec\ncommand = /bin/notify --channel 'ml team' \"a\\\"b\"\n";

static const char *const proto_seed =
        "{\"id\":7,\"cmd\":\"metrics\",\"args\":{\"job\":\"ftjob-x\",\"metric\":[\"a\",\"b\"],"
        "\"since\":10,\"points\":100,\"all\":true},\"v\":1}";

static const char *const log_seed =
        "{\"id\":8,\"cmd\":\"log\",\"args\":{\"job\":\"push/r\u00e9\",\"points\":[{\"step\":1,"
        "\"metrics\":{\"loss\":1.5e-3,\"acc\":\"NaN\"}},{\"metrics\":{\"eval/loss\":\"-inf\"}}],"
        "\"status\":\"succeeded\"}}";
static const char *const line_seeds[] = {
        "{\"step\": 120, \"train_loss\": 1.93, \"eval\": {\"loss\": NaN, \"acc\": {\"top1\": "
        "-Infinity}}, \"epoch\": 0.5, \"status\": \"running\", \"job\": \"r\u00e9n 1\", "
        "\"note\": \"a \\\" } [\", \"arr\": [1, {\"x\": 2}], \"big\": 1e999}",
        /* the plain shape the fast path reads */
        "{\"step\": 7, \"train_loss\": 0.6230334079604861, \"eval\": {\"loss\": NaN, "
        "\"acc\": -1.5e-3}, \"epoch\": 0.7, \"lr\": Infinity, \"ok\": true, \"n\": null, "
        "\"status\": \"running\", \"job\": \"run 1\", \"x\": -0, \"y\": 1E+2}",
};

static struct metricline mutate_ref = METRICLINE_INIT;

/* The fast path's result is the cJSON path's, field by field. */
static bool
mutate_metricline_same(const struct metricline *a, int ra, const char *wa,
                       const struct metricline *b, int rb, const char *wb)
{
	if (ra != rb || (ra == METRICLINE_BAD && strcmp(wa, wb) != 0))
		return false;
	if (ra != METRICLINE_OK)
		return true;
	if (a->has_step != b->has_step || a->step != b->step || a->nmetrics != b->nmetrics)
		return false;
	if ((a->status == NULL) != (b->status == NULL) || (a->job == NULL) != (b->job == NULL))
		return false;
	if ((a->status && strcmp(a->status, b->status)) || (a->job && strcmp(a->job, b->job)))
		return false;
	for (size_t i = 0; i < a->nmetrics; i++) {
		double x = a->metrics[i].value, y = b->metrics[i].value;
		if (strcmp(a->metrics[i].name, b->metrics[i].name) != 0 ||
		    !(x == y || (x != x && y != y)))
			return false;
	}
	return true;
}

/* The line parser on damaged lines: a result, a reason for a bad line,
 * names that hold no control character for a good one, and the same
 * answer from the fast path as from the cJSON path. */
static bool
mutate_metricline(struct metricline *ml, const char *in, size_t n)
{
	const char *why = NULL, *rwhy = NULL;
	int rc = metricline_parse(ml, in, n, &why);
	int rrc = metricline_parse_slow(&mutate_ref, in, n, &rwhy);

	if (!mutate_metricline_same(ml, rc, why, &mutate_ref, rrc, rwhy)) {
		TAP_DIAG("fast %d (%s) and cJSON %d (%s) differ on %.*s", rc, why ? why : "-", rrc,
		         rwhy ? rwhy : "-", (int)n, in);
		return false;
	}

	if (rc == METRICLINE_BAD) {
		if (why != NULL && ml->nmetrics == 0)
			return true;
		TAP_DIAG("a bad line with %zu metrics: %.*s", ml->nmetrics, (int)n, in);
		return false;
	}
	if (rc != METRICLINE_OK)
		return rc == METRICLINE_BLANK;
	for (size_t i = 0; i < ml->nmetrics; i++)
		for (const char *c = ml->metrics[i].name; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				TAP_DIAG("a control character in a metric name: %.*s", (int)n, in);
				return false;
			}
	if (!ml->has_step || (ml->step >= 0 && ml->step <= METRICLINE_MAX_STEP))
		return true;
	TAP_DIAG("step %lld out of range: %.*s", (long long)ml->step, (int)n, in);
	return false;
}

int
main(void)
{
	const int iterations = 4000;
	size_t n;

	for (size_t s = 0; s < sizeof(wire_seeds) / sizeof(wire_seeds[0]); s++) {
		for (int i = 0; i < iterations; i++) {
			char *in = mutate(wire_seeds[s], strlen(wire_seeds[s]), &n);
			LLVMFuzzerTestOneInput((const uint8_t *)in, n);
			free(in);
		}
		ok(1, "wire-format seed %zu survives %d mutations", s, iterations);
	}
	for (int i = 0; i < iterations; i++) {
		char *errors = NULL, *in = mutate(conf_seed, strlen(conf_seed), &n);
		conf_free(conf_load_string(in, "fuzz.conf", &errors));
		free(errors);
		free(in);
	}
	ok(1, "config parser survives %d mutations", iterations);
	for (int i = 0; i < iterations * 4; i++) {
		struct proto_request req;
		const char *code, *msg, *str;
		int64_t v;
		bool b;
		char *in = mutate(proto_seed, strlen(proto_seed), &n);
		if (proto_parse_request(in, n, &req, &code, &msg) == 0) {
			proto_arg_string(req.args, "job", &str);
			proto_arg_int(req.args, "since", 0, &v);
			proto_arg_bool(req.args, "all", false, &b);
		}
		free(proto_reply_error(req.id, "x", "y"));
		proto_request_free(&req);
		free(in);
	}
	ok(1, "control protocol parser survives %d mutations", iterations * 4);
	for (int i = 0; i < iterations; i++) {
		struct proto_request req;
		struct logreq lr;
		const char *code, *msg;
		char *why = NULL, *in = mutate(log_seed, strlen(log_seed), &n);
		if (proto_parse_request(in, n, &req, &code, &msg) == 0 &&
		    logreq_parse(req.args, &lr, &why) == 0)
			logreq_clear(&lr);
		free(why);
		proto_request_free(&req);
		free(in);
	}
	ok(1, "log request parser survives %d mutations", iterations);
	for (size_t k = 0; k < sizeof(line_seeds) / sizeof(line_seeds[0]); k++) {
		struct metricline ml = METRICLINE_INIT;
		int sane = 0;
		for (int i = 0; i < iterations * 4; i++) {
			char *in = mutate(line_seeds[k], strlen(line_seeds[k]), &n);
			sane += mutate_metricline(&ml, in, n);
			free(in);
		}
		metricline_free(&ml);
		is_int(sane, iterations * 4,
		       "JSONL line seed %zu: %d mutations, each result sane and the fast path's"
		       " the same as cJSON's",
		       k, iterations * 4);
	}
	metricline_free(&mutate_ref);
	return tap_done();
}
