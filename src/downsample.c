/*
 * downsample: min/max bucketing of a metric curve.
 *
 * The first and the last point are always kept.  The interior points are
 * cut into consecutive buckets of (almost) equal size; each bucket spends
 * up to two output slots on its lowest and its highest point, emitted in
 * step order, so a single spike survives any reduction.  When the interior
 * budget (max - 2) is odd, one bucket (a donor, below) gets one slot only
 * and keeps its most extreme point.
 *
 * Non-finite values are never smoothed away: +inf and -inf already win the
 * min/max comparison, and a bucket holding a NaN spends one slot on its
 * first NaN and the other on the series' lowest or highest point if the
 * bucket holds one, else on whichever extreme lies farther from the
 * bucket's mean.
 *
 * So the series' lowest and highest points survive whenever they can: a
 * two-slot bucket keeps its low and high; a bucket holding a NaN and both
 * extremes gets three slots; the slot it needs, and the missing one of an
 * odd budget, come from single-slot donors, the last buckets that must
 * keep at most one point (their NaN or a series extreme), which keep that
 * one.  With three buckets or more (max >= 8) there are always donors, as
 * the extremes lie in at most two buckets; without NaNs max >= 4 is
 * enough.  Below that, NaNs and extremes may outnumber the slots.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
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

/* The series' lowest and highest non-NaN points, indexes into in. */
struct ds_extremes {
	size_t lo, hi;
};

/* The point a NaN bucket keeps beside its NaN: a series extreme it holds,
 * else its outlier. */
static size_t
ds_bucket_keep(const struct ds_point *in, size_t start, size_t end, const struct ds_bucket *b,
               const struct ds_extremes *g)
{
	bool lo = g->lo >= start && g->lo < end, hi = g->hi >= start && g->hi < end;

	if (lo != hi)
		return lo ? g->lo : g->hi;
	return ds_bucket_outlier(in, b);
}

/* Append in[pick[0..k)] to out in step order, each index once. */
static size_t
ds_emit_sorted(const struct ds_point *in, size_t *pick, size_t k, struct ds_point *out)
{
	size_t w = 0;

	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && pick[j] < pick[j - 1]; j--) {
			size_t tmp = pick[j];
			pick[j] = pick[j - 1];
			pick[j - 1] = tmp;
		}
	for (size_t i = 0; i < k; i++)
		if (pick[i] != DS_NONE && (w == 0 || pick[i] != pick[i - 1]))
			out[w++] = in[pick[i]];
	return w;
}

/* Append the chosen points of in[start, end) to out in step order, using
 * at most slots (1, 2 or 3) entries.  Returns the number appended. */
static size_t
ds_bucket_emit(const struct ds_point *in, size_t start, size_t end, size_t slots,
               const struct ds_extremes *g, struct ds_point *out)
{
	struct ds_bucket b;
	size_t pick[3] = {DS_NONE, DS_NONE, DS_NONE};

	ds_bucket_scan(in, start, end, &b);
	if (slots >= 3) {
		pick[0] = b.nan;
		pick[1] = b.lo;
		pick[2] = b.hi;
	} else if (b.nan != DS_NONE) {
		pick[0] = b.nan;
		pick[1] = slots > 1 ? ds_bucket_keep(in, start, end, &b, g) : DS_NONE;
	} else if (slots > 1) {
		pick[0] = b.lo;
		pick[1] = b.hi;
	} else {
		pick[0] = ds_bucket_keep(in, start, end, &b, g);
	}
	/* DS_NONE sorts last and is skipped. */
	return ds_emit_sorted(in, pick, 3, out);
}

/* The buckets: q interior points each, one more for the first r. */
struct ds_layout {
	size_t nbuckets, q, r;
};

static void
ds_span(const struct ds_layout *l, size_t i, size_t *start, size_t *end)
{
	*start = 1 + i * l->q + (i < l->r ? i : l->r);
	*end = *start + l->q + (i < l->r ? 1 : 0);
}

/* The bucket of interior point idx. */
static size_t
ds_bucket_of(const struct ds_layout *l, size_t idx)
{
	size_t p = idx - 1, big = l->r * (l->q + 1);

	return p < big ? p / (l->q + 1) : l->r + (p - big) / l->q;
}

/* How many points bucket i must keep: its first NaN and the series
 * extremes it holds. */
static size_t
ds_bucket_musts(const struct ds_point *in, const struct ds_layout *l, size_t i,
                const struct ds_extremes *g)
{
	size_t start, end, musts;

	ds_span(l, i, &start, &end);
	musts = (g->lo >= start && g->lo < end) + (g->hi >= start && g->hi < end && g->hi != g->lo);
	for (size_t k = start; k < end; k++)
		if (isnan(in[k].value))
			return musts + 1;
	return musts;
}

/* Slots per bucket: two, except a bucket holding a NaN and both extremes
 * (three) and the donors that pay for it and for an odd budget (one each):
 * the last buckets that must keep at most one point. */
struct ds_plan {
	size_t three, one[2];
};

static void
ds_plan_slots(const struct ds_point *in, const struct ds_layout *l, size_t budget,
              const struct ds_extremes *g, struct ds_plan *p)
{
	size_t need = budget % 2;

	p->three = p->one[0] = p->one[1] = DS_NONE;
	if (g->lo != DS_NONE && l->nbuckets > 1) {
		size_t k = ds_bucket_of(l, g->lo);
		if (k == ds_bucket_of(l, g->hi) && ds_bucket_musts(in, l, k, g) == 3) {
			p->three = k;
			need++;
		}
	}
	for (size_t i = l->nbuckets; i-- > 0 && need > 0;)
		if (i != p->three && ds_bucket_musts(in, l, i, g) <= 1)
			p->one[--need] = i;
	if (need > 0 && p->three != DS_NONE) {
		p->three = DS_NONE; /* no donor for it */
		need--;
	}
	if (need > 0)
		p->one[0] = l->nbuckets - 1;
}

static size_t
ds_plan_of(const struct ds_plan *p, size_t i)
{
	if (i == p->three)
		return 3;
	return i == p->one[0] || i == p->one[1] ? 1 : 2;
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
	struct ds_bucket all;
	struct ds_extremes g;
	size_t w = 0;

	/* One more pass for the series' extremes, which NaN buckets keep. */
	ds_bucket_scan(in, 1, n - 1, &all);
	g.lo = all.lo;
	g.hi = all.hi;

	out[w++] = in[0];
	if (nbuckets > 0) {
		/* Bucket i spans q points, plus one for the first r buckets;
		 * this avoids the overflow of i * interior / nbuckets. */
		struct ds_layout l = {nbuckets, interior / nbuckets, interior % nbuckets};
		struct ds_plan plan;
		ds_plan_slots(in, &l, budget, &g, &plan);
		for (size_t i = 0; i < nbuckets; i++) {
			size_t start, end;
			ds_span(&l, i, &start, &end);
			w += ds_bucket_emit(in, start, end, ds_plan_of(&plan, i), &g, out + w);
		}
	}
	out[w++] = in[n - 1];
	return w;
}
