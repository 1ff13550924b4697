/*
 * downsample: min/max bucketing of a metric curve.
 *
 * The first and the last point are always kept.  The interior points are
 * cut into consecutive buckets of (almost) equal size; each bucket spends
 * up to two output slots on its lowest and its highest point, emitted in
 * step order, so a single spike survives any reduction.  When the interior
 * budget (max - 2) is odd, the last bucket gets one slot only and keeps its
 * most extreme point.
 *
 * Non-finite values are never smoothed away: +inf and -inf already win the
 * min/max comparison, and a bucket holding a NaN spends one slot on its
 * first NaN and the other on whichever finite extreme lies farther from
 * the bucket's mean.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "downsample.h"

#define DS_NONE SIZE_MAX

/* What one bucket looks like: indexes into the input, DS_NONE if absent. */
struct ds_bucket {
	size_t lo;   /* lowest non-NaN value */
	size_t hi;   /* highest non-NaN value */
	size_t nan;  /* first NaN */
	double mean; /* mean of the finite values, 0 if there are none */
};

/* Scan in[start, end) for its extremes and its first NaN. */
static void
ds_bucket_scan(const struct ds_point *in, size_t start, size_t end, struct ds_bucket *b)
{
	double sum = 0;
	size_t finite = 0;

	b->lo = b->hi = b->nan = DS_NONE;
	for (size_t i = start; i < end; i++) {
		double v = in[i].value;
		if (isnan(v)) {
			if (b->nan == DS_NONE)
				b->nan = i;
			continue;
		}
		if (b->lo == DS_NONE || v < in[b->lo].value)
			b->lo = i;
		if (b->hi == DS_NONE || v > in[b->hi].value)
			b->hi = i;
		if (isfinite(v)) {
			sum += v;
			finite++;
		}
	}
	b->mean = finite ? sum / (double)finite : 0;
}

/* Of the bucket's low and high point, the one farther from its mean: the
 * point that says most about the shape when only one can stay. */
static size_t
ds_bucket_outlier(const struct ds_point *in, const struct ds_bucket *b)
{
	if (b->lo == DS_NONE || b->lo == b->hi)
		return b->lo;
	double dlo = fabs(in[b->lo].value - b->mean);
	double dhi = fabs(in[b->hi].value - b->mean);
	return dlo > dhi ? b->lo : b->hi;
}

/* Append the chosen points of in[start, end) to out in step order, using
 * at most slots (1 or 2) entries.  Returns the number appended. */
static size_t
ds_bucket_emit(const struct ds_point *in, size_t start, size_t end, size_t slots,
               struct ds_point *out)
{
	struct ds_bucket b;
	size_t a, c;

	ds_bucket_scan(in, start, end, &b);
	if (b.nan != DS_NONE) {
		a = b.nan;
		c = slots > 1 ? ds_bucket_outlier(in, &b) : DS_NONE;
	} else if (slots > 1) {
		a = b.lo;
		c = b.hi;
	} else {
		a = ds_bucket_outlier(in, &b);
		c = DS_NONE;
	}
	if (c == DS_NONE || c == a) {
		out[0] = in[a];
		return 1;
	}
	out[0] = in[a < c ? a : c];
	out[1] = in[a < c ? c : a];
	return 2;
}

size_t
downsample_minmax(const struct ds_point *in, size_t n, struct ds_point *out, size_t max)
{
	if (n >= 2 && max < 2)
		max = 2;
	if (n <= max) {
		if (n > 0)
			memcpy(out, in, n * sizeof(*in));
		return n;
	}
	if (max == 0)
		return 0; /* n == 1 and no room */

	/* Here n > max >= 2, so the interior (n - 2 points) is larger than
	 * its budget and every bucket below holds at least one point. */
	size_t interior = n - 2, budget = max - 2;
	size_t nbuckets = (budget + 1) / 2;
	size_t w = 0;

	out[w++] = in[0];
	if (nbuckets > 0) {
		/* Bucket i spans q points, plus one for the first r buckets;
		 * this avoids the overflow of i * interior / nbuckets. */
		size_t q = interior / nbuckets, r = interior % nbuckets;
		size_t start = 1;
		for (size_t i = 0; i < nbuckets; i++) {
			size_t end = start + q + (i < r ? 1 : 0);
			size_t slots = (i == nbuckets - 1 && budget % 2) ? 1 : 2;
			w += ds_bucket_emit(in, start, end, slots, out + w);
			start = end;
		}
	}
	out[w++] = in[n - 1];
	return w;
}
