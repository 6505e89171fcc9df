/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * expose: nfspamlogd's counters in Prometheus' format, for --metrics and
 * --metrics-file.  The reader only increments plain counters; this
 * turns them into families when a scraper or the file timer asks, on
 * the same loop, so nothing is shared between threads.
 */
#include "config.h"

#include <stdint.h>

#include "logd.h"
#include "metrics.h"

/* One family, one label, a sample for each kind in [from, to). */
static int
kinds(struct buf *b, const char *name, const char *help, const char *label,
    const uint64_t *kind, int from, int to)
{
	struct mlabel l[1];
	int rc = metrics_head(b, name, METRICS_COUNTER, help);

	for (int k = from; k < to && rc == 0; k++) {
		l[0] = (struct mlabel){ label,
		    logev_kind_name((enum logev_kind)k) };
		rc = metrics_sample(b, name, l, 1, (double)kind[k]);
	}
	return rc;
}

static int
render_events(struct buf *b, const struct counters *c)
{
	int rc = 0;

	rc |= metrics_one(b, "nfspamd_logd_events_total", METRICS_COUNTER,
	    "Packets read from the NFLOG group, acted on or ignored.",
	    (double)c->events);
	rc |= kinds(b, "nfspamd_logd_events_applied_total", "Events acted "
	    "on, by direction: in (a whitelisted sender reached this host's "
	    "MTA; its source is renewed), out (this host's MTA connected to "
	    "a peer; its destination is whitelisted).", "direction", c->kind,
	    LOGEV_IN, LOGEV_OUT + 1);
	rc |= kinds(b, "nfspamd_logd_events_ignored_total", "Events ignored, "
	    "by reason: prefix (another log prefix, or none), packet (no "
	    "IPv4 or IPv6 header), address (one no mail comes from), "
	    "inbound-only (an outbound event with -I).", "reason", c->kind,
	    LOGEV_NOPREFIX, LOGEV_NKINDS);
	rc |= metrics_one(b, "nfspamd_logd_events_lost_total",
	    METRICS_COUNTER, "Events the kernel dropped before they were "
	    "read, from the gaps in their sequence numbers.", (double)c->lost);
	rc |= metrics_one(b, "nfspamd_logd_rcvbuf_overruns_total",
	    METRICS_COUNTER, "Times the NFLOG socket's receive buffer "
	    "overflowed (ENOBUFS); see --rcvbuf.", (double)c->enobufs);
	return rc;
}

static int
render_bursts(struct buf *b, const struct counters *c)
{
	static const double bounds[] = LOGD_BURST_BOUNDS;
	int rc = 0;

	rc |= metrics_one(b, "nfspamd_logd_bursts_total", METRICS_COUNTER,
	    "Bursts applied: the events read in one go, merged into one "
	    "database transaction and one nftables transaction.",
	    (double)c->bursts);
	rc |= metrics_head(b, "nfspamd_logd_burst_seconds", METRICS_HISTOGRAM,
	    "Time to apply one burst to the database and the whitelist "
	    "sets.");
	rc |= metrics_histogram(b, "nfspamd_logd_burst_seconds", NULL, 0,
	    bounds, LOGD_NBURST, c->burst_hist, (double)c->burst_ns / 1e9);
	rc |= metrics_one(b, "nfspamd_logd_db_updates_total", METRICS_COUNTER,
	    "WHITE entries written to the database, one per address per "
	    "burst.", (double)c->updates);
	rc |= metrics_one(b, "nfspamd_logd_whitelisted_total",
	    METRICS_COUNTER, "Of those, addresses that were not white before "
	    "(no entry, not WHITE, or expired).", (double)c->added);
	rc |= metrics_one(b, "nfspamd_logd_os_refreshed_total",
	    METRICS_COUNTER, "OS entries written to the database: a "
	    "whitelisted sender's SYN matched a fingerprint, at most once per "
	    "address per burst.", (double)c->os_refreshed);
	rc |= metrics_one(b, "nfspamd_logd_store_errors_total",
	    METRICS_COUNTER, "Bursts the database refused; their addresses "
	    "were not updated, in the database nor in the sets.",
	    (double)c->store_errors);
	rc |= metrics_one(b, "nfspamd_logd_kernel_errors_total",
	    METRICS_COUNTER, "Bursts the kernel sets refused; the database "
	    "was updated, and nfspamd's next scan fills the sets.",
	    (double)c->kernel_errors);
	return rc;
}

int
logd_metrics(void *arg, struct buf *b)
{
	const struct logd *d = arg;
	uint64_t sent, errors;
	int rc = 0;

	syncsend_counts(d->sync, &sent, &errors);
	rc |= metrics_build_info(b, "nfspamd_logd_build_info", "nfspamlogd");
	rc |= metrics_one(b, "nfspamd_logd_start_time_seconds", METRICS_GAUGE,
	    "When nfspamlogd started, seconds since the epoch.",
	    (double)d->started);
	rc |= render_events(b, &d->c);
	rc |= render_bursts(b, &d->c);
	rc |= metrics_one(b, "nfspamd_logd_sync_sent_total", METRICS_COUNTER,
	    "Sync messages sent (-Y), one per address and target.",
	    (double)sent);
	rc |= metrics_one(b, "nfspamd_logd_sync_errors_total",
	    METRICS_COUNTER, "Sync messages that could not be sent.",
	    (double)errors);
	return rc == 0 ? 0 : -1;
}
