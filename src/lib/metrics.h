/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * metrics: Prometheus' text exposition format (version 0.0.4), written
 * into a buf, and the few decisions around it: histogram buckets, label
 * escaping, the --metrics address.  Pure: no sockets, no clock.
 *
 * A family is a metrics_head followed by its samples.  Names must match
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*; a bad
 * name is refused (-1, errno EINVAL) rather than written.  Label values
 * and help texts are escaped as the format asks, so they may hold
 * anything (a list name from spamd.conf, a failure's reason).
 */
#ifndef NFS_METRICS_H
#define NFS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_LABELMAX	3	/* labels a sample may carry */

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

struct mlabel {
	const char	*name;
	const char	*value;
};

bool	metrics_name_ok(const char *);
bool	metrics_label_ok(const char *);
/*
 * How long the metric name (colon) or label name at the start of s
 * (len bytes, not NUL-terminated) is; 0 if s does not start with one.
 */
size_t	metrics_name_span(const char *s, size_t len, bool colon);

/* "# HELP name help" and "# TYPE name type".  -1: bad name or memory. */
int	metrics_head(struct buf *, const char *name, enum metrics_type,
	    const char *help);

/*
 * One sample: name{labels} value.  Integral values are written as
 * integers, the rest with 17 significant digits; infinities and NaN as
 * Prometheus spells them.  -1: bad name, too many labels, or memory.
 */
int	metrics_sample(struct buf *, const char *name,
	    const struct mlabel *, size_t nlabels, double value);

/*
 * NAME{version="<this build's version>"} 1, with its head: which build
 * of prog is running (or wrote the file).
 */
int	metrics_build_info(struct buf *, const char *name, const char *prog);

/* A family of one sample without labels. */
int	metrics_one(struct buf *, const char *name, enum metrics_type,
	    const char *help, double value);

/*
 * Histograms: bounds are the buckets' upper bounds, increasing; the
 * counts have one more slot, for what is above the last bound (+Inf).
 * metrics_bucket is the slot an observation falls in (le: v <= bound).
 */
size_t	metrics_bucket(const double *bounds, size_t nbounds, double v);

/*
 * The samples of one histogram: cumulative name_bucket{...,le="b"},
 * name_sum and name_count.  counts holds nbounds + 1 per-slot counts.
 */
int	metrics_histogram(struct buf *, const char *name,
	    const struct mlabel *, size_t nlabels, const double *bounds,
	    size_t nbounds, const uint64_t *counts, double sum);

/*
 * A --metrics address: "ADDR:PORT" or "[ADDR]:PORT" with a numeric IPv4
 * or IPv6 address and a port of 1-65535.  -1 with *why.
 */
int	metrics_endpoint_parse(const char *, struct addr *, uint16_t *port,
	    const char **why);

#endif
