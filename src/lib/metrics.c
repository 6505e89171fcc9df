/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Prometheus' text exposition format; see metrics.h.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

size_t
metrics_name_span(const char *s, size_t len, bool colon)
{
	size_t i;

	if (len == 0 || !(is_alpha(s[0]) || (colon && s[0] == ':')))
		return 0;
	for (i = 1; i < len; i++)
		if (!(is_alpha(s[i]) || is_digit(s[i]) ||
		    (colon && s[i] == ':')))
			break;
	return i;
}

static bool
name_ok(const char *s, bool colon)
{
	size_t len;

	if (s == NULL)
		return false;
	len = strlen(s);
	return len > 0 && metrics_name_span(s, len, colon) == len;
}

bool
metrics_name_ok(const char *s)
{
	return name_ok(s, true);
}

/* Names beginning with __ are Prometheus' own. */
bool
metrics_label_ok(const char *s)
{
	return name_ok(s, false) && strncmp(s, "__", 2) != 0;
}

static int
einval(void)
{
	errno = EINVAL;
	return -1;
}

/*
 * Help text escapes backslash and newline; label values also the double
 * quote.  Other bytes go out as they are (the format is UTF-8 and
 * Prometheus tolerates the rest).
 */
static int
put_escaped(struct buf *b, const char *s, bool quote)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *esc = NULL;

		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (quote && *s == '"')
			esc = "\\\"";
		if (esc == NULL)
			continue;
		if (buf_append(b, run, (size_t)(s - run)) == -1 ||
		    buf_puts(b, esc) == -1)
			return -1;
		run = s + 1;
	}
	return buf_append(b, run, (size_t)(s - run));
}

static const char *
type_name(enum metrics_type t)
{
	switch (t) {
	case METRICS_COUNTER:
		return "counter";
	case METRICS_GAUGE:
		return "gauge";
	case METRICS_HISTOGRAM:
		return "histogram";
	}
	return NULL;
}

int
metrics_head(struct buf *b, const char *name, enum metrics_type t,
    const char *help)
{
	const char *tn = type_name(t);

	if (!metrics_name_ok(name) || tn == NULL)
		return einval();
	if (buf_printf(b, "# HELP %s ", name) == -1 ||
	    put_escaped(b, help, false) == -1 ||
	    buf_printf(b, "\n# TYPE %s %s\n", name, tn) == -1)
		return -1;
	return 0;
}

/* The fewest significant digits that read back as v. */
static int
put_shortest(struct buf *b, double v)
{
	char s[40];

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	return buf_puts(b, s);
}

static int
put_value(struct buf *b, double v)
{
	if (isnan(v))
		return buf_puts(b, "NaN");
	if (isinf(v))
		return buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	/* Exact integers up to 2^53 print as integers. */
	if (v == floor(v) && fabs(v) <= 9007199254740992.0)
		return buf_printf(b, "%.0f", v);
	return put_shortest(b, v);
}

static int
put_labels(struct buf *b, const struct mlabel *l, size_t n,
    const char *le)
{
	size_t i;

	if (n == 0 && le == NULL)
		return 0;
	if (buf_puts(b, "{") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (buf_printf(b, "%s%s=\"", i > 0 ? "," : "", l[i].name) ==
		    -1 || put_escaped(b, l[i].value, true) == -1 ||
		    buf_puts(b, "\"") == -1)
			return -1;
	}
	if (le != NULL && buf_printf(b, "%sle=\"%s\"", n > 0 ? "," : "",
	    le) == -1)
		return -1;
	return buf_puts(b, "}");
}

static bool
labels_ok(const struct mlabel *l, size_t n)
{
	if (n > METRICS_LABELMAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!metrics_label_ok(l[i].name) || l[i].value == NULL ||
		    strcmp(l[i].name, "le") == 0)
			return false;
	return true;
}

int
metrics_sample(struct buf *b, const char *name, const struct mlabel *l,
    size_t n, double v)
{
	if (!metrics_name_ok(name) || !labels_ok(l, n))
		return einval();
	if (buf_puts(b, name) == -1 || put_labels(b, l, n, NULL) == -1 ||
	    buf_puts(b, " ") == -1 || put_value(b, v) == -1 ||
	    buf_puts(b, "\n") == -1)
		return -1;
	return 0;
}

int
metrics_one(struct buf *b, const char *name, enum metrics_type t,
    const char *help, double v)
{
	if (metrics_head(b, name, t, help) == -1)
		return -1;
	return metrics_sample(b, name, NULL, 0, v);
}

int
metrics_build_info(struct buf *b, const char *name, const char *prog)
{
	const struct mlabel l[1] = { { "version", PACKAGE_VERSION } };
	char help[128];

	snprintf(help, sizeof(help), "Always 1; the version of %s.", prog);
	if (metrics_head(b, name, METRICS_GAUGE, help) == -1)
		return -1;
	return metrics_sample(b, name, l, 1, 1);
}

size_t
metrics_bucket(const double *bounds, size_t n, double v)
{
	size_t lo = 0, hi = n;

	/* The first bound >= v; NaN falls above every bound. */
	if (isnan(v))
		return n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
metrics_histogram(struct buf *b, const char *name, const struct mlabel *l,
    size_t n, const double *bounds, size_t nb, const uint64_t *counts,
    double sum)
{
	char bname[128], le[64];
	uint64_t cum = 0;
	size_t i;
	struct buf v = { 0 };

	if (!metrics_name_ok(name) || !labels_ok(l, n) ||
	    strlen(name) + sizeof("_bucket") > sizeof(bname))
		return einval();
	for (i = 1; i < nb; i++)
		if (!(bounds[i - 1] < bounds[i]))
			return einval();
	snprintf(bname, sizeof(bname), "%s_bucket", name);
	for (i = 0; i <= nb; i++) {
		cum += counts[i];
		if (i < nb) {
			buf_reset(&v);
			if (put_value(&v, bounds[i]) == -1 ||
			    buf_append(&v, "", 1) == -1) {
				buf_free(&v);
				return -1;
			}
			snprintf(le, sizeof(le), "%s", v.data);
		} else
			snprintf(le, sizeof(le), "+Inf");
		if (buf_puts(b, bname) == -1 || put_labels(b, l, n, le) == -1 ||
		    buf_printf(b, " %llu\n", (unsigned long long)cum) == -1) {
			buf_free(&v);
			return -1;
		}
	}
	buf_free(&v);
	snprintf(bname, sizeof(bname), "%s_sum", name);
	if (metrics_sample(b, bname, l, n, sum) == -1)
		return -1;
	snprintf(bname, sizeof(bname), "%s_count", name);
	return metrics_sample(b, bname, l, n, (double)cum);
}

static int
fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return -1;
}

int
metrics_endpoint_parse(const char *s, struct addr *a, uint16_t *port,
    const char **why)
{
	char host[64];
	const char *colon, *p;
	size_t hl;
	unsigned long v = 0;

	if (s == NULL || *s == '\0')
		return fail(why, "empty address");
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return fail(why, "want [ADDRESS]:PORT");
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return fail(why, "bad address length");
		memcpy(host, s + 1, hl);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return fail(why, "want ADDRESS:PORT");
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL)
			return fail(why, "an IPv6 address goes in brackets: "
			    "[ADDRESS]:PORT");
		if (hl == 0 || hl >= sizeof(host))
			return fail(why, "bad address length");
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	p = colon + 1;
	if (*p == '\0')
		return fail(why, "missing port");
	for (; *p != '\0'; p++) {
		if (!is_digit(*p))
			return fail(why, "port is not a number");
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return fail(why, "port above 65535");
	}
	if (v == 0)
		return fail(why, "port 0");
	if (addr_parse(host, a, why) == -1)
		return -1;
	*port = (uint16_t)v;
	return 0;
}
