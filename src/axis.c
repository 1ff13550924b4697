/*
 * axis: round-number ticks (see axis.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "axis.h"

/* The smallest 1/2/5 x 10^k at or above raw (> 0). */
static double
axis_nice_step(double raw)
{
	double mag = pow(10, floor(log10(raw)));
	double norm = raw / mag;

	/* Guard the comparisons against log10's rounding (raw = 2 * 10^k). */
	if (norm <= 1.0 + 1e-9)
		return mag;
	if (norm <= 2.0 + 1e-9)
		return 2 * mag;
	if (norm <= 5.0 + 1e-9)
		return 5 * mag;
	return 10 * mag;
}

void
axis_ticks(double lo, double hi, int target, double min_step, struct axis *a)
{
	double span;

	if (target < 2)
		target = 2;
	if (!(hi > lo)) {
		double pad = lo == 0 ? 1.0 : fabs(lo) * 0.1;
		lo -= pad;
		hi += pad;
	}
	span = hi - lo;
	a->step = axis_nice_step(span / (target - 1));
	if (a->step < min_step)
		a->step = min_step;
	a->lo = floor(lo / a->step + 1e-9) * a->step;
	a->hi = ceil(hi / a->step - 1e-9) * a->step;
	if (!(a->hi > a->lo))
		a->hi = a->lo + a->step;
	a->nticks = (int)lround((a->hi - a->lo) / a->step) + 1;
	a->decimals = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
}

double
axis_tick(const struct axis *a, int i)
{
	double v = a->lo + i * a->step;
	double scale = pow(10, a->decimals);

	return a->decimals > 0 && a->decimals < 15 ? round(v * scale) / scale
	                                           : round(v / a->step) * a->step;
}

char *
axis_label(const struct axis *a, double v, char *buf, size_t size)
{
	if (fabs(v) < a->step * 1e-6)
		v = 0; /* no "-0" and no 1e-17 from rounding */
	if (fabs(v) >= 1e7 || a->decimals > 6)
		snprintf(buf, size, "%g", v);
	else
		snprintf(buf, size, "%.*f", a->decimals, v);
	return buf;
}

char *
axis_label_pow10(double e, char *buf, size_t size)
{
	int k = (int)lround(e);

	if (k >= 0 && k <= 6)
		snprintf(buf, size, "%.0f", pow(10, k));
	else if (k < 0 && k >= -4)
		snprintf(buf, size, "%.*f", -k, pow(10, k));
	else
		snprintf(buf, size, "1e%+d", k);
	return buf;
}
