/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * expose: the daemon's metrics in Prometheus' format, for --metrics,
 * --metrics-file and the control socket's "metrics" request.  The
 * workers' counters are summed from the shared page; the supervisor's
 * own, the kernel sets' and sync's come from their modules; the
 * database's entries are counted at the time of asking (LMDB keeps the
 * counts, so that costs nothing).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bl.h"
#include "follow.h"
#include "fw.h"
#include "metrics.h"
#include "peers.h"
#include "store.h"
#include "sup.h"

/* A count by name, added up over the workers. */
struct wname {
	const char	*name;
	uint64_t	 n;
};

/* The workers' slots added up. */
struct wsum {
	uint64_t	 c[WS_N];
	uint64_t	 commit[WS_NCOMMIT + 1];
	uint64_t	 waited[WS_NWAITED + 1];
	struct wname	 lists[WS_LISTS * 4];
	size_t		 nlists;
	struct wname	 oses[WS_OSES * 4];	/* by OS genre */
	size_t		 noses;
};

/* One worker's table of names into the sum; beyond room, into *other. */
static void
sum_names(struct wname *t, size_t *nt, size_t room, uint64_t *other,
    const struct ws_list *w, const _Atomic uint32_t *nw, size_t max)
{
	uint32_t nl = atomic_load_explicit((_Atomic uint32_t *)(uintptr_t)nw,
	    memory_order_acquire);
	size_t j;

	for (uint32_t i = 0; i < nl && i < max; i++) {
		const char *name = w[i].name;

		for (j = 0; j < *nt; j++)
			if (strcmp(t[j].name, name) == 0)
				break;
		if (j == *nt) {
			if (j == room) {
				*other += ws_get(&w[i].n);
				continue;
			}
			t[j].name = name;
			t[j].n = 0;
			(*nt)++;
		}
		t[j].n += ws_get(&w[i].n);
	}
}

static void
sum_workers(const struct sup *s, struct wsum *t)
{
	memset(t, 0, sizeof(*t));
	if (s->share == NULL)
		return;
	for (int i = 0; i < MAXWORKERS; i++) {
		const struct wstats *w = &s->share->w[i];

		for (int k = 0; k < WS_N; k++)
			t->c[k] += ws_get(&w->c[k]);
		for (int k = 0; k <= WS_NCOMMIT; k++)
			t->commit[k] += ws_get(&w->commit[k]);
		for (int k = 0; k <= WS_NWAITED; k++)
			t->waited[k] += ws_get(&w->waited[k]);
		sum_names(t->lists, &t->nlists, WS_LISTS * 4,
		    &t->c[WS_BLACK_OTHER], w->lists, &w->nlists, WS_LISTS);
		sum_names(t->oses, &t->noses, WS_OSES * 4,
		    &t->c[WS_OS_OTHER], w->oses, &w->noses, WS_OSES);
	}
}

static const char *const class_names[WS_NCLASS] = {
	[WS_GREY] = "grey", [WS_BLACK] = "black", [WS_TRAPPED] = "trapped",
	[WS_WHITE] = "white",
};

/* One family, one label, a value per label value. */
static int
labelled(struct buf *b, const char *name, enum metrics_type t,
    const char *help, const char *label, const char *const *values,
    const uint64_t *v, size_t n)
{
	struct mlabel l[1];
	int rc = metrics_head(b, name, t, help);

	for (size_t i = 0; i < n && rc == 0; i++) {
		l[0] = (struct mlabel){ label, values[i] };
		rc = metrics_sample(b, name, l, 1, (double)v[i]);
	}
	return rc;
}

static int
render_connections(struct buf *b, const struct wsum *t)
{
	uint64_t cur[WS_NCLASS];
	int rc = 0;

	for (int k = 0; k < WS_NCLASS; k++) {
		uint64_t a = t->c[WS_ACCEPTED + k], c = t->c[WS_CLOSED + k];

		cur[k] = a > c ? a - c : 0;
	}
	rc |= labelled(b, "nfspamd_connections_total", METRICS_COUNTER,
	    "Connections accepted, by what the client was: grey (unknown), "
	    "black (on a blacklist), trapped (TRAPPED in the database), "
	    "white (WHITE in the database, yet diverted to nfspamd).",
	    "class", class_names, &t->c[WS_ACCEPTED], WS_NCLASS);
	rc |= labelled(b, "nfspamd_connections", METRICS_GAUGE,
	    "Connections open now, by class.", "class", class_names, cur,
	    WS_NCLASS);
	rc |= metrics_one(b, "nfspamd_connections_refused_total",
	    METRICS_COUNTER, "Connections closed at once because the "
	    "workers had -c connections.", (double)t->c[WS_REFUSED_MAXCON]);
	return rc;
}

static int
render_dialogues(struct buf *b, const struct wsum *t)
{
	static const char *const outcomes[] = { "greylisted_new",
	    "greylisted_again", "passed", "trapped_spamtrap",
	    "trapped_alloweddomains", "trapped_lowprio_mx", "skipped",
	    "capped", "lost" };
	const uint64_t v[] = { t->c[WS_GREY_NEW], t->c[WS_GREY_AGAIN],
	    t->c[WS_PASSED], t->c[WS_TRAP_SPAMTRAP], t->c[WS_TRAP_DOMAINS],
	    t->c[WS_TRAP_LOWPRIO], t->c[WS_SKIPPED], t->c[WS_CAPPED],
	    t->c[WS_LOST] };
	static const double wb[] = WS_WAITED_BOUNDS;
	struct mlabel l[1];
	int rc = 0;

	rc |= labelled(b, "nfspamd_tuples_total", METRICS_COUNTER,
	    "Greylisting tuples (one per RCPT TO) by outcome: a new tuple "
	    "greylisted, a known one retried too early, passed (its address "
	    "became WHITE), trapped by a spamtrap address, by alloweddomains "
	    "or by reaching the -M address, skipped (too long to keep), "
	    "capped (--max-tuples-per-ip), lost (database error or full, "
	    "or the shared store unreachable).",
	    "outcome", outcomes, v, sizeof(v) / sizeof(v[0]));
	rc |= metrics_head(b, "nfspamd_blacklisted_connections_total",
	    METRICS_COUNTER, "Connections from blacklisted clients, once "
	    "under each list that holds the client; \"(other)\" for lists "
	    "beyond the ones counted by name.");
	for (size_t i = 0; i < t->nlists; i++) {
		l[0] = (struct mlabel){ "list", t->lists[i].name };
		rc |= metrics_sample(b, "nfspamd_blacklisted_connections_total",
		    l, 1, (double)t->lists[i].n);
	}
	l[0] = (struct mlabel){ "list", "(other)" };
	rc |= metrics_sample(b, "nfspamd_blacklisted_connections_total", l, 1,
	    (double)t->c[WS_BLACK_OTHER]);
	rc |= metrics_head(b, "nfspamd_os_connections_total",
	    METRICS_COUNTER, "Connections by the operating system genre "
	    "their SYN's fingerprint names (--os-fingerprints); \"unknown\" "
	    "when none matches, \"(other)\" for genres beyond the ones "
	    "counted by name.");
	for (size_t i = 0; i < t->noses; i++) {
		l[0] = (struct mlabel){ "genre", t->oses[i].name };
		rc |= metrics_sample(b, "nfspamd_os_connections_total", l, 1,
		    (double)t->oses[i].n);
	}
	l[0] = (struct mlabel){ "genre", "unknown" };
	rc |= metrics_sample(b, "nfspamd_os_connections_total", l, 1,
	    (double)t->c[WS_OS_UNKNOWN]);
	l[0] = (struct mlabel){ "genre", "(other)" };
	rc |= metrics_sample(b, "nfspamd_os_connections_total", l, 1,
	    (double)t->c[WS_OS_OTHER]);
	rc |= metrics_head(b, "nfspamd_passed_wait_seconds", METRICS_HISTOGRAM,
	    "How long a sender had waited since its first attempt when its "
	    "tuple passed.");
	rc |= metrics_histogram(b, "nfspamd_passed_wait_seconds", NULL, 0, wb,
	    WS_NWAITED, t->waited, (double)t->c[WS_WAITED_S]);
	return rc;
}

static int
render_io(struct buf *b, const struct wsum *t)
{
	static const char *const tls[] = { "ok", "failed" };
	const uint64_t tv[] = { t->c[WS_TLS_OK], t->c[WS_TLS_FAILED] };
	static const double cb[] = WS_COMMIT_BOUNDS;
	int rc = 0;

	rc |= metrics_one(b, "nfspamd_stutter_bytes_total", METRICS_COUNTER,
	    "Bytes sent one at a time to stuttered clients.",
	    (double)t->c[WS_STUTTER_BYTES]);
	rc |= metrics_one(b, "nfspamd_stutter_seconds_total", METRICS_COUNTER,
	    "Time clients spent being stuttered at (a grey client's first -S "
	    "seconds, a black client's whole connection).",
	    (double)t->c[WS_STUTTER_MS] / 1000);
	rc |= labelled(b, "nfspamd_starttls_handshakes_total", METRICS_COUNTER,
	    "STARTTLS handshakes, by result.", "result", tls, tv, 2);
	rc |= metrics_head(b, "nfspamd_store_commit_seconds",
	    METRICS_HISTOGRAM, "Latency of the workers' group commits of "
	    "tuples to the database.");
	rc |= metrics_histogram(b, "nfspamd_store_commit_seconds", NULL, 0, cb,
	    WS_NCOMMIT, t->commit, (double)t->c[WS_COMMIT_US] / 1e6);
	rc |= metrics_one(b, "nfspamd_store_fsyncs_total", METRICS_COUNTER,
	    "fsyncs of the database and the journal done by the workers.",
	    (double)t->c[WS_FSYNCS]);
	rc |= metrics_one(b, "nfspamd_store_fsyncs_spared_total",
	    METRICS_COUNTER, "Commits a worker found covered by an fsync "
	    "already begun.", (double)t->c[WS_FSYNCS_SPARED]);
	return rc;
}

/* --dnsrep: only when it is on. */
static int
render_dnsrep(struct buf *b, const struct wsum *t)
{
	static const char *const results[] = { "trusted", "listed",
	    "neutral", "unknown" };
	const uint64_t v[] = { t->c[WS_REP_TRUSTED], t->c[WS_REP_LISTED],
	    t->c[WS_REP_NEUTRAL], t->c[WS_REP_UNKNOWN] };
	int rc = 0;

	rc |= labelled(b, "nfspamd_dnsrep_lookups_total", METRICS_COUNTER,
	    "DNS reputation verdicts on grey clients (--dnsrep), from DNS or "
	    "the cache: trusted (made WHITE), listed (served as "
	    "blacklisted), neutral, unknown (no verdict by the timeout, or "
	    "the DNS failed: greylisted).", "result", results, v, 4);
	rc |= metrics_one(b, "nfspamd_dnsrep_cache_hits_total",
	    METRICS_COUNTER, "DNS reputation verdicts answered from the "
	    "cache, without a query.", (double)t->c[WS_REP_CACHED]);
	rc |= metrics_one(b, "nfspamd_dnsrep_timeouts_total", METRICS_COUNTER,
	    "DNS reputation lookups cut short by the timeout.",
	    (double)t->c[WS_REP_TIMEOUTS]);
	rc |= metrics_one(b, "nfspamd_dnsrep_queries_total", METRICS_COUNTER,
	    "DNS queries sent for DNS reputation (one per zone and lookup).",
	    (double)t->c[WS_REP_QUERIES]);
	rc |= metrics_one(b, "nfspamd_dnsrep_wait_seconds_total",
	    METRICS_COUNTER, "Time banners were held for a DNS reputation "
	    "verdict.", (double)t->c[WS_REP_WAIT_MS] / 1000);
	return rc;
}

/* --proxy-from: only when it is on. */
static int
render_proxy(struct buf *b, const struct wsum *t)
{
	static const char *const results[] = { "ok", "local", "error",
	    "timeout" };
	const uint64_t v[] = { t->c[WS_PROXY_OK], t->c[WS_PROXY_LOCAL],
	    t->c[WS_PROXY_ERROR], t->c[WS_PROXY_TIMEOUT] };

	return labelled(b, "nfspamd_proxy_headers_total", METRICS_COUNTER,
	    "PROXY protocol headers on connections from --proxy-from "
	    "addresses, by result: ok (the client's address taken), local "
	    "(LOCAL or UNKNOWN: the proxy's own address kept), error "
	    "(refused, or the connection closed in the middle; closed "
	    "before its first byte is not counted), timeout (no whole "
	    "header in time).", "result", results, v, 4);
}

/* Entries in the database by type, counted by LMDB. */
struct counts {
	long	n[4];
};

static int
count_body(struct store_txn *t, void *arg)
{
	struct counts *c = arg;
	static const enum store_type types[4] = { STORE_GREY, STORE_WHITE,
	    STORE_TRAPPED, STORE_SPAMTRAP };

	for (int i = 0; i < 4; i++)
		c->n[i] = store_count(t, types[i]);
	return 0;
}

static int
render_store(struct buf *b, struct sup *s)
{
	static const char *const types[4] = { "grey", "white", "trapped",
	    "spamtrap" };
	struct counts c = { { -1, -1, -1, -1 } };
	const char *names[4];
	char err[256];
	uint64_t v[4];
	size_t n = 0;
	int rc = 0;

	if (s->store == NULL)
		return 0;
	if (store_view(s->store, count_body, &c, err, sizeof(err)) == -1)
		return 0;	/* the family is left out, not made up */
	/* A shared store does not count its tuples: left out. */
	for (int i = 0; i < 4; i++)
		if (c.n[i] >= 0) {
			names[n] = types[i];
			v[n++] = (uint64_t)c.n[i];
		}
	rc |= labelled(b, "nfspamd_db_entries", METRICS_GAUGE,
	    "Entries in the database by type (GREY tuples, WHITE, TRAPPED "
	    "and SPAMTRAP addresses), expired ones included until the "
	    "next scan.", "type", names, v, n);
	return rc;
}

static int
render_sup(struct buf *b, const struct sup *s)
{
	const struct supstats *st = &s->stats;
	struct mlabel l[2];
	int rc = 0;

	rc |= metrics_build_info(b, "nfspamd_build_info", "nfspamd");
	rc |= metrics_one(b, "nfspamd_start_time_seconds", METRICS_GAUGE,
	    "When the daemon started, seconds since the epoch.",
	    (double)s->started);
	rc |= metrics_one(b, "nfspamd_workers", METRICS_GAUGE,
	    "SMTP worker processes configured (-j).", (double)s->nw);
	rc |= metrics_one(b, "nfspamd_worker_restarts_total", METRICS_COUNTER,
	    "Workers restarted after they died.",
	    (double)st->worker_restarts);
	rc |= metrics_one(b, "nfspamd_control_requests_total",
	    METRICS_COUNTER, "Requests on the control socket (blacklists from "
	    "nfspamd-setup, metrics for nfspamdb).",
	    (double)st->control_requests);
	rc |= metrics_one(b, "nfspamd_control_errors_total", METRICS_COUNTER,
	    "Control requests with a line refused or that failed.",
	    (double)st->control_errors);
	rc |= metrics_one(b, "nfspamd_blacklists", METRICS_GAUGE,
	    "Blacklists loaded.", s->bl != NULL ? (double)bl_count(s->bl) : 0);
	rc |= metrics_one(b, "nfspamd_blacklist_prefixes", METRICS_GAUGE,
	    "Prefixes in the loaded blacklists.",
	    s->bl != NULL ? (double)bl_prefixes(s->bl) : 0);
	rc |= metrics_one(b, "nfspamd_reports_white_total", METRICS_COUNTER,
	    "Passes the workers reported (each asks for a kernel set "
	    "element).", (double)st->white_reports);
	rc |= metrics_one(b, "nfspamd_reports_trapped_total", METRICS_COUNTER,
	    "Traps the workers reported.", (double)st->trap_reports);
	rc |= metrics_one(b, "nfspamd_scans_total", METRICS_COUNTER,
	    "Database scans run.", (double)st->scans);
	rc |= metrics_one(b, "nfspamd_scan_errors_total", METRICS_COUNTER,
	    "Database scans that failed.", (double)st->scan_errors);
	rc |= metrics_head(b, "nfspamd_scan_changes_total", METRICS_COUNTER,
	    "What the scans changed: expired entries deleted, WHITE entries "
	    "made from passed tuples, entries removed as blacklisted, "
	    "undecodable entries removed, WHITE entries moved to their "
	    "network's key (-N).");
	l[0] = (struct mlabel){ "change", "deleted" };
	rc |= metrics_sample(b, "nfspamd_scan_changes_total", l, 1,
	    (double)st->scan_deleted);
	l[0] = (struct mlabel){ "change", "promoted" };
	rc |= metrics_sample(b, "nfspamd_scan_changes_total", l, 1,
	    (double)st->scan_promoted);
	l[0] = (struct mlabel){ "change", "demoted" };
	rc |= metrics_sample(b, "nfspamd_scan_changes_total", l, 1,
	    (double)st->scan_demoted);
	l[0] = (struct mlabel){ "change", "bogus" };
	rc |= metrics_sample(b, "nfspamd_scan_changes_total", l, 1,
	    (double)st->scan_bogus);
	l[0] = (struct mlabel){ "change", "rekeyed" };
	rc |= metrics_sample(b, "nfspamd_scan_changes_total", l, 1,
	    (double)st->scan_rekeyed);
	rc |= metrics_one(b, "nfspamd_scan_seconds_total", METRICS_COUNTER,
	    "Time spent scanning the database.", st->scan_seconds);
	rc |= metrics_one(b, "nfspamd_scan_last_seconds", METRICS_GAUGE,
	    "How long the last scan took.", st->last_scan_seconds);
	rc |= metrics_one(b, "nfspamd_scan_white_addresses", METRICS_GAUGE,
	    "Addresses the last scan found WHITE (what the white sets "
	    "should hold).", (double)s->last_scan.nwhite);
	rc |= metrics_one(b, "nfspamd_scan_trapped_addresses", METRICS_GAUGE,
	    "Addresses the last scan found TRAPPED.",
	    (double)s->last_scan.ntrapped);
	rc |= metrics_one(b, "nfspamd_journal_replayed_commits", METRICS_GAUGE,
	    "Commits replayed from the journal at start (--db-sync-ms 0).",
	    (double)st->replayed);
	return rc;
}

int
expose_render(void *arg, struct buf *b)
{
	struct sup *s = arg;
	struct wsum t;
	int rc = 0;

	sum_workers(s, &t);
	rc |= render_sup(b, s);
	rc |= render_connections(b, &t);
	rc |= render_dialogues(b, &t);
	rc |= render_io(b, &t);
	if (s->conf.dnsrep != NULL)
		rc |= render_dnsrep(b, &t);
	if (s->conf.nproxy_from > 0)
		rc |= render_proxy(b, &t);
	rc |= render_store(b, s);
	if (s->fw != NULL)
		rc |= fw_metrics(s->fw, b);
	rc |= peers_metrics(s->peers, b);
	rc |= follow_metrics(s->follow, b);
	return rc == 0 ? 0 : -1;
}
