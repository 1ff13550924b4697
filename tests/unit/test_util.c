/*
 * test_util: the strict parsers and small helpers in util.c, especially
 * the edge cases the config parser relies on.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "util.h"

static void
test_duration_ok(const char *s, uint64_t want)
{
	uint64_t ms = 12345;
	int rc = util_parse_duration_ms(s, &ms);

	ok(rc == 0 && ms == want, "duration '%s' is %llums", s, (unsigned long long)want);
	if (rc != 0 || ms != want)
		TAP_DIAG("  rc %d, ms %llu", rc, (unsigned long long)ms);
}

static void
test_duration_bad(const char *s, int want_rc)
{
	uint64_t ms = 12345;
	int rc = util_parse_duration_ms(s, &ms);

	ok(rc == want_rc && ms == 12345, "duration '%s' refused (%d)", s, want_rc);
	if (rc != want_rc || ms != 12345)
		TAP_DIAG("  rc %d, ms %llu", rc, (unsigned long long)ms);
}

static void
test_durations(void)
{
	char buf[32];

	test_duration_ok("500ms", 500);
	test_duration_ok("30s", 30000);
	test_duration_ok("5m", 300000);
	test_duration_ok("2h", 7200000);
	test_duration_ok("1d", 86400000);
	test_duration_ok("45", 45000);
	test_duration_ok("0", 0);
	test_duration_ok("1.5", 1500);
	test_duration_ok("0.5s", 500);
	test_duration_ok("1.5m", 90000);
	test_duration_ok("3650d", 3650ULL * 86400000);
	test_duration_bad("", -EINVAL);
	test_duration_bad("fast", -EINVAL);
	test_duration_bad("-1s", -EINVAL);
	test_duration_bad(" 1s", -EINVAL);
	test_duration_bad("1 s", -EINVAL);
	test_duration_bad("1s ", -EINVAL);
	test_duration_bad("5M", -EINVAL);
	test_duration_bad("5sec", -EINVAL);
	test_duration_bad("1w", -EINVAL);
	test_duration_bad(".5s", -EINVAL);
	test_duration_bad("nan", -EINVAL);
	test_duration_bad("inf", -EINVAL);
	test_duration_bad("1e999", -EINVAL);
	test_duration_bad("3651d", -ERANGE);
	test_duration_bad(NULL, -EINVAL);

	is_str(util_format_duration(0, buf, sizeof(buf)), "0s", "format 0");
	is_str(util_format_duration(500, buf, sizeof(buf)), "500ms", "format 500ms");
	is_str(util_format_duration(1500, buf, sizeof(buf)), "1500ms", "format 1500ms");
	is_str(util_format_duration(30000, buf, sizeof(buf)), "30s", "format 30s");
	is_str(util_format_duration(300000, buf, sizeof(buf)), "5m", "format 5m");
	is_str(util_format_duration(7200000, buf, sizeof(buf)), "2h", "format 2h");
	is_str(util_format_duration(86400000, buf, sizeof(buf)), "1d", "format 1d");
	is_str(util_format_duration(90000, buf, sizeof(buf)), "90s", "format 90s");
}

static void
test_uint(void)
{
	uint64_t v = 7;

	ok(util_parse_uint("0", 10, &v) == 0 && v == 0, "uint 0");
	ok(util_parse_uint("256", 256, &v) == 0 && v == 256, "uint at max");
	ok(util_parse_uint("007", 10, &v) == 0 && v == 7, "uint leading zeros are decimal");
	ok(util_parse_uint("18446744073709551615", UINT64_MAX, &v) == 0 && v == UINT64_MAX,
	   "uint UINT64_MAX");
	v = 99;
	is_int(util_parse_uint("257", 256, &v), -ERANGE, "uint over max");
	is_int(util_parse_uint("18446744073709551616", UINT64_MAX, &v), -ERANGE, "uint overflow");
	is_int(util_parse_uint("", 10, &v), -EINVAL, "uint empty");
	is_int(util_parse_uint("-1", 10, &v), -EINVAL, "uint negative");
	is_int(util_parse_uint("+1", 10, &v), -EINVAL, "uint plus sign");
	is_int(util_parse_uint(" 1", 10, &v), -EINVAL, "uint leading space");
	is_int(util_parse_uint("1 ", 10, &v), -EINVAL, "uint trailing space");
	is_int(util_parse_uint("1x", 10, &v), -EINVAL, "uint trailing junk");
	is_int(util_parse_uint("0x10", 100, &v), -EINVAL, "uint hex");
	is_int(util_parse_uint(NULL, 10, &v), -EINVAL, "uint NULL");
	is_int(v, 99, "uint: failures leave the output alone");
}

static void
test_numbers(void)
{
	int64_t i = 0;
	double d = 0;
	bool b = false;
	unsigned mode = 0;

	ok(util_parse_int64("-42", &i) == 0 && i == -42, "int64 negative");
	ok(util_parse_int64("9223372036854775807", &i) == 0 && i == INT64_MAX, "int64 max");
	is_int(util_parse_int64("9223372036854775808", &i), -ERANGE, "int64 overflow");
	is_int(util_parse_int64("", &i), -EINVAL, "int64 empty");
	is_int(util_parse_int64("1.0", &i), -EINVAL, "int64 fraction");
	ok(util_parse_double("0.01", &d) == 0 && d == 0.01, "double 0.01");
	ok(util_parse_double("-1e3", &d) == 0 && d == -1000, "double exponent");
	is_int(util_parse_double("1,5", &d), -EINVAL, "double comma");
	is_int(util_parse_double(" 1", &d), -EINVAL, "double leading space");
	is_int(util_parse_double("1e999", &d), -ERANGE, "double overflow");

	ok(util_parse_bool("yes", &b) == 0 && b, "bool yes");
	ok(util_parse_bool("On", &b) == 0 && b, "bool On");
	ok(util_parse_bool("1", &b) == 0 && b, "bool 1");
	ok(util_parse_bool("false", &b) == 0 && !b, "bool false");
	ok(util_parse_bool("NO", &b) == 0 && !b, "bool NO");
	is_int(util_parse_bool("maybe", &b), -EINVAL, "bool maybe");
	is_int(util_parse_bool("", &b), -EINVAL, "bool empty");
	is_int(util_parse_bool("2", &b), -EINVAL, "bool 2");

	ok(util_parse_mode("0660", &mode) == 0 && mode == 0660, "mode 0660");
	ok(util_parse_mode("600", &mode) == 0 && mode == 0600, "mode 600 is octal");
	is_int(util_parse_mode("0668", &mode), -EINVAL, "mode with an 8");
	is_int(util_parse_mode("rw", &mode), -EINVAL, "mode letters");
	is_int(util_parse_mode("-660", &mode), -EINVAL, "mode negative");
	is_int(util_parse_mode("", &mode), -EINVAL, "mode empty");
	is_int(util_parse_mode("17777", &mode), -EINVAL, "mode too large");
}

static void
test_url(const char *url, bool want, const char *want_why)
{
	const char *why = NULL;
	bool got = util_url_valid(url, &why);

	ok(got == want && (want || strcmp(why, want_why) == 0), "url '%s' %s", url,
	   want ? "accepted" : want_why);
	if (got != want || (!want && strcmp(why, want_why) != 0))
		TAP_DIAG("  got %d, why %s", got, why ? why : "(null)");
}

static void
test_urls(void)
{
	test_url("https://api.openai.com/v1", true, NULL);
	test_url("http://127.0.0.1:8080/", true, NULL);
	test_url("https://[::1]:8443/x?y=1", true, NULL);
	test_url("http://h", true, NULL);
	test_url("ftp://x", false, "must start with http:// or https://");
	test_url("api.openai.com/v1", false, "must start with http:// or https://");
	test_url("", false, "must start with http:// or https://");
	test_url("https://", false, "has no host");
	test_url("https:///v1", false, "has no host");
	test_url("http://:80/", false, "has no host");
	test_url("http://?q", false, "has no host");
	test_url("https://a b/", false, "contains a space or control character");
	test_url("https://a/\tb", false, "contains a space or control character");
	test_url("https://a/\x7f", false, "contains a space or control character");
}

static void
test_misc(void)
{
	char buf[32];

	is_str(util_format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z", "rfc3339 0");
	is_str(util_format_rfc3339(1795590446, buf, sizeof(buf)), "2026-11-25T07:07:26Z",
	       "rfc3339 2026");
	ok(util_startswith("https://x", "https://"), "startswith yes");
	ok(!util_startswith("http", "https://"), "startswith shorter");
	ok(util_startswith("abc", ""), "startswith empty prefix");
	ok(util_now() > 1700000000, "util_now is the wall clock");
	uint64_t a = util_monotonic_ms(), b = util_monotonic_ms();
	ok(b >= a, "monotonic clock does not go back");
}

/* The fingerprint must change with any byte, length, or order. */
static void
test_hash(void)
{
	char a[100], b[100];

	for (int i = 0; i < 100; i++)
		a[i] = b[i] = (char)('a' + i % 26);
	is_int(util_hash64(a, 100) == util_hash64(b, 100), 1, "hash: same bytes, same hash");
	for (int i = 0; i < 100; i += 7) {
		b[i] ^= 1;
		ok(util_hash64(a, 100) != util_hash64(b, 100), "hash: byte %d changes it", i);
		b[i] ^= 1;
	}
	ok(util_hash64(a, 99) != util_hash64(a, 100), "hash: length changes it");
	ok(util_hash64("", 0) != util_hash64("\0", 1), "hash: a NUL byte counts");
	ok(util_hash64("abcdefgh12345678", 16) != util_hash64("12345678abcdefgh", 16),
	   "hash: word order changes it");
	/* The lanes: words swapped inside a 32-byte block, blocks swapped. */
	static const char w4[] = "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDD";
	ok(util_hash64(w4, 32) != util_hash64("BBBBBBBBAAAAAAAACCCCCCCCDDDDDDDD", 32),
	   "hash: words swapped across lanes change it");
	ok(util_hash64(w4, 32) != util_hash64("DDDDDDDDBBBBBBBBCCCCCCCCAAAAAAAA", 32),
	   "hash: first and last lane swapped change it");
	char blocks[64], swapped[64];
	memcpy(blocks, w4, 32);
	memcpy(blocks + 32, "abcdefghabcdefghabcdefghabcdefgh", 32);
	memcpy(swapped, blocks + 32, 32);
	memcpy(swapped + 32, blocks, 32);
	ok(util_hash64(blocks, 64) != util_hash64(swapped, 64), "hash: block order changes it");
	for (int i = 0; i < 64; i += 5) {
		memcpy(swapped, blocks, 64);
		swapped[i] ^= 0x40;
		ok(util_hash64(blocks, 64) != util_hash64(swapped, 64),
		   "hash: byte %d of 64 changes it", i);
	}
}

int
main(void)
{
	test_hash();
	test_durations();
	test_uint();
	test_numbers();
	test_urls();
	test_misc();
	return tap_done();
}
