/*
 * test_downsample: min/max bucketing keeps ends, extremes and NaNs.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "downsample.h"
#include "tap.h"
#include "xmalloc.h"

/* Points with step = index * 10 and the given values. */
static struct ds_point *
test_points(const double *values, size_t n)
{
	struct ds_point *p = xcalloc(n, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		p[i].step = (int64_t)i * 10;
		p[i].value = values[i];
	}
	return p;
}

/* Run the downsampler into a buffer of exactly room entries so that ASan
 * catches any write past max. */
static size_t
test_run(const struct ds_point *in, size_t n, size_t max, size_t room, struct ds_point **outp)
{
	*outp = xcalloc(room ? room : 1, sizeof(**outp));
	return downsample_minmax(in, n, *outp, max);
}

static int
test_sorted(const struct ds_point *p, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (p[i].step <= p[i - 1].step)
			return 0;
	return 1;
}

static int
test_has(const struct ds_point *p, size_t n, int64_t step, double value)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].step == step &&
		    (p[i].value == value || (isnan(value) && isnan(p[i].value))))
			return 1;
	return 0;
}

static void
test_small(void)
{
	double v[] = {3, 1, 4, 1, 5};
	struct ds_point *in = test_points(v, 5), *out;
	size_t n;

	n = test_run(in, 0, 10, 10, &out);
	is_int(n, 0, "n=0 gives nothing");
	free(out);
	n = test_run(in, 1, 1, 1, &out);
	is_int(n, 1, "n=1 max=1 copies");
	ok(out[0].step == 0 && out[0].value == 3, "n=1 copy is exact");
	free(out);
	n = test_run(in, 1, 0, 1, &out);
	is_int(n, 0, "n=1 max=0 writes nothing");
	free(out);

	n = test_run(in, 5, 5, 5, &out);
	is_int(n, 5, "n == max copies");
	ok(memcmp(out, in, 5 * sizeof(*in)) == 0, "n == max copy is exact");
	free(out);
	n = test_run(in, 5, 100, 100, &out);
	is_int(n, 5, "n < max copies");
	ok(memcmp(out, in, 5 * sizeof(*in)) == 0, "n < max copy is exact");
	free(out);

	/* max < 2 is treated as 2: first and last (room for 2 given). */
	n = test_run(in, 5, 1, 2, &out);
	is_int(n, 2, "max=1 keeps two points");
	ok(out[0].step == 0 && out[1].step == 40, "max=1 keeps first and last");
	free(out);
	n = test_run(in, 5, 0, 2, &out);
	is_int(n, 2, "max=0 keeps two points");
	free(out);
	n = test_run(in, 5, 2, 2, &out);
	is_int(n, 2, "max=2 keeps two points");
	ok(out[0].step == 0 && out[0].value == 3 && out[1].step == 40 && out[1].value == 5,
	   "max=2 keeps first and last");
	free(out);
	free(in);
}

static void
test_max3(void)
{
	double v[100];
	struct ds_point *in, *out;
	size_t n;

	for (size_t i = 0; i < 100; i++)
		v[i] = (double)(i % 7);
	v[61] = 1000;
	in = test_points(v, 100);
	n = test_run(in, 100, 3, 3, &out);
	is_int(n, 3, "max=3 gives three points");
	ok(out[0].step == 0 && out[1].step == 610 && out[1].value == 1000 && out[2].step == 990,
	   "max=3 keeps first, the spike and last");
	free(out);

	v[61] = 3;
	v[20] = -1000;
	free(in);
	in = test_points(v, 100);
	n = test_run(in, 100, 3, 3, &out);
	ok(n == 3 && out[1].step == 200 && out[1].value == -1000, "max=3 keeps a dip");
	free(out);

	v[40] = NAN;
	free(in);
	in = test_points(v, 100);
	n = test_run(in, 100, 3, 3, &out);
	ok(n == 3 && out[1].step == 400 && isnan(out[1].value), "max=3 prefers a NaN");
	free(out);
	free(in);
}

static void
test_buckets(void)
{
	/* Interior of 8 points, budget 4: two buckets of four points. */
	double v[] = {0, 5, 9, 1, 3, 2, 8, 4, 7, 6};
	struct ds_point *in = test_points(v, 10), *out;
	int64_t want_step[] = {0, 20, 30, 50, 60, 90};
	double want_val[] = {0, 9, 1, 2, 8, 6};
	size_t n;
	int same = 1;

	n = test_run(in, 10, 6, 6, &out);
	is_int(n, 6, "two buckets of min+max plus ends");
	for (size_t i = 0; i < 6 && i < n; i++)
		if (out[i].step != want_step[i] || out[i].value != want_val[i])
			same = 0;
	ok(same, "each bucket gives its max and min in step order");
	free(out);
	free(in);

	/* Budget 5 (odd) over 9 interior points: three buckets of three;
	 * the last one keeps only its value farthest from the bucket mean
	 * (4, 7, 6: mean 5.67, so 4). */
	double v2[] = {0, 5, 9, 1, 3, 2, 8, 4, 7, 6, 5};
	in = test_points(v2, 11);
	n = test_run(in, 11, 7, 7, &out);
	is_int(n, 7, "odd budget uses every slot");
	ok(n == 7 && out[1].step == 20 && out[2].step == 30 && out[3].step == 50 &&
	           out[4].step == 60 && out[5].step == 70 && out[5].value == 4 &&
	           out[6].step == 100,
	   "odd budget: min/max pairs, then the outlier of the last bucket");
	free(out);
	free(in);
}

static void
test_nonfinite(void)
{
	size_t count = 1000, n;
	double *v = xcalloc(count, sizeof(*v));
	struct ds_point *in, *out;

	for (size_t i = 0; i < count; i++)
		v[i] = sin((double)i / 10.0);
	v[777] = NAN;
	v[123] = INFINITY;
	v[456] = -INFINITY;
	in = test_points(v, count);
	n = test_run(in, count, 10, 10, &out);
	ok(n <= 10, "at most max points (%zu)", n);
	ok(test_has(out, n, 7770, NAN), "a NaN in a bucket is kept");
	ok(test_has(out, n, 1230, INFINITY), "+inf is kept");
	ok(test_has(out, n, 4560, -INFINITY), "-inf is kept");
	ok(test_sorted(out, n), "output with non-finite values is sorted");
	free(out);
	free(in);

	/* A bucket of nothing but NaNs keeps one of them. */
	for (size_t i = 0; i < count; i++)
		v[i] = i > 0 && i < 999 ? NAN : 1;
	in = test_points(v, count);
	n = test_run(in, count, 4, 4, &out);
	ok(n == 3 && isnan(out[1].value) && out[1].step == 10,
	   "all-NaN bucket keeps its first NaN");
	free(out);
	free(in);
	free(v);
}

static void
test_spike(void)
{
	size_t count = 100000, n;
	double *v = xcalloc(count, sizeof(*v));
	struct ds_point *in, *out;

	for (size_t i = 0; i < count; i++)
		v[i] = 1.0 + 0.5 * sin((double)i / 300.0);
	v[54321] = 42.0;
	in = test_points(v, count);
	n = test_run(in, count, 100, 100, &out);
	is_int(n, 100, "100,000 points become exactly 100");
	ok(test_has(out, n, 543210, 42.0), "the single spike survives");
	ok(out[0].step == 0 && out[n - 1].step == 999990, "first and last kept");
	ok(test_sorted(out, n), "output sorted by step");
	free(out);
	free(in);
	free(v);
}

static int
test_has_value(const struct ds_point *p, size_t n, double value)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].value == value)
			return 1;
	return 0;
}

/* Every small (n, max) pair: bounded, sorted, ends kept, extremes kept. */
static void
test_exhaustive(void)
{
	double v[64];
	int bounded = 1, sorted = 1, ends = 1, extremes = 1;

	for (size_t n = 0; n <= 64; n++) {
		double lo = 0, hi = 0;
		for (size_t i = 0; i < n; i++) {
			v[i] = (double)((i * 37) % 11);
			lo = i == 0 || v[i] < lo ? v[i] : lo;
			hi = i == 0 || v[i] > hi ? v[i] : hi;
		}
		struct ds_point *in = test_points(v, n ? n : 1);
		for (size_t max = 0; max <= 24; max++) {
			size_t room = max < 2 ? 2 : max, got;
			struct ds_point *out;
			got = test_run(in, n, max, room, &out);
			size_t want_max = n < 2 ? (n <= max ? n : 0) : (n < room ? n : room);
			if (got > want_max || (n >= 2 && got < 2))
				bounded = 0;
			if (!test_sorted(out, got))
				sorted = 0;
			int64_t last = (int64_t)(n - 1) * 10;
			if (n >= 2 && (out[0].step != 0 || out[got - 1].step != last))
				ends = 0;
			/* From max = 4 on, odd or even, the global min and
			 * max values always survive. */
			if (n > 2 && max >= 4 &&
			    (!test_has_value(out, got, lo) || !test_has_value(out, got, hi)))
				extremes = 0;
			free(out);
		}
		free(in);
	}
	ok(bounded, "never more than max (or 2), never fewer than 2 for n >= 2");
	ok(sorted, "always sorted");
	ok(ends, "always first and last");
	ok(extremes, "global min and max always kept");
}

/* Index of the lowest (or highest) non-NaN value of in[0, n). */
static size_t
test_extreme(const struct ds_point *in, size_t n, int sign)
{
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		if (!isnan(in[i].value) &&
		    (best == SIZE_MAX || sign * in[i].value > sign * in[best].value))
			best = i;
	return best;
}

/* Random curves with negative values, every max from 4 to 40: the first,
 * the last, the lowest and the highest point stay.  The same curves with
 * a NaN from max 8 on (three buckets or more: with fewer, a NaN and both
 * extremes can outnumber the slots): the NaN stays too. */
static void
test_random(void)
{
	struct ds_point in[500], out[40];
	int ends = 1, extremes = 1, nan_kept = 1, bounded = 1;
	unsigned seed = 12345;

	for (int round = 0; round < 400; round++) {
		size_t n = 5 + (size_t)(round * 7) % 495;
		bool with_nan = round % 2;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i].step = (int64_t)i * 3;
			in[i].value = (double)((seed >> 8) % 20001) / 100.0 - 100.0;
		}
		if (with_nan)
			in[n / 3].value = NAN;
		size_t lo = test_extreme(in, n, -1), hi = test_extreme(in, n, 1);
		for (size_t max = with_nan ? 8 : 4; max <= 40; max++) {
			size_t got = downsample_minmax(in, n, out, max);
			bounded &= got <= max;
			ends &= out[0].step == in[0].step && out[got - 1].step == in[n - 1].step;
			extremes &= test_has(out, got, in[lo].step, in[lo].value) &&
			            test_has(out, got, in[hi].step, in[hi].value);
			if (with_nan)
				nan_kept &= test_has(out, got, in[n / 3].step, NAN);
		}
	}
	ok(bounded, "random curves: never more than max");
	ok(ends, "random curves: first and last kept");
	ok(extremes, "random curves: lowest and highest point kept, odd max too");
	ok(nan_kept, "random curves: the NaN kept beside them");
}

/* An odd budget whose last bucket holds the global minimum: the single
 * slot moves or keeps it. */
static void
test_odd_last_bucket(void)
{
	/* Interior 1..9, max 7: budget 5, buckets {1,2,3} {4,5,6} {7,8,9}. */
	double v[] = {0, 5, 6, 5, 4, 5, 6, 9, -3, 4, 5, 2};
	struct ds_point *in = test_points(v, 11), *out;
	size_t n = test_run(in, 11, 7, 7, &out);

	ok(test_has(out, n, 80, -3) && test_has(out, n, 70, 9),
	   "odd budget: the last bucket's min and max both kept");
	free(out);
	free(in);
}

int
main(void)
{
	test_small();
	test_max3();
	test_buckets();
	test_nonfinite();
	test_spike();
	test_exhaustive();
	test_random();
	test_odd_last_bucket();
	return tap_done();
}
