/*
 * tap.h: a tiny TAP producer for the C unit tests (automake's tap-driver
 * reads the output).  Each check prints "ok N - name" or "not ok N - name";
 * tap_done() prints the plan and returns the exit status.
 */
#ifndef FTMON_TAP_H
#define FTMON_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline __attribute__((format(printf, 2, 3))) int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define TAP_DIAG(...)                \
	do {                         \
		printf("# ");        \
		printf(__VA_ARGS__); \
		printf("\n");        \
	} while (0)

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#define is_int(got, want, ...)                                           \
	do {                                                             \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		if (!ok(g_ == w_, __VA_ARGS__))                          \
			TAP_DIAG("  got %lld, want %lld", g_, w_);       \
	} while (0)

#define is_str(got, want, ...)                                                    \
	do {                                                                      \
		const char *g_ = (got), *w_ = (want);                             \
		int eq_ = (g_ == NULL && w_ == NULL) ||                           \
		          (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);      \
		if (!ok(eq_, __VA_ARGS__))                                        \
			TAP_DIAG("  got \"%s\", want \"%s\"", g_ ? g_ : "(null)", \
			         w_ ? w_ : "(null)");                             \
	} while (0)

#define is_double(got, want, eps, ...)                               \
	do {                                                         \
		double g_ = (got), w_ = (want);                      \
		if (!ok(fabs(g_ - w_) <= (eps), __VA_ARGS__))        \
			TAP_DIAG("  got %.17g, want %.17g", g_, w_); \
	} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
