/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * fw: firewall backends.  See fw.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "fw.h"
#include "fwproto.h"
#include "grey.h"
#include "metrics.h"
#include "reconcile.h"
#include "util.h"

#define RECONCILE_SLACK	120	/* seconds of expiry drift tolerated */
/*
 * Seconds a reading of the ruleset's counters serves further scrapes:
 * each reading is a request to the helper and a dump of the table's
 * counter objects (a millisecond), which a scrape storm need not repeat.
 */
#define CTR_CACHE	1.0

/* Seconds from a pass (or trap) to its element in the kernel set. */
static const double op_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 1 };
#define NOPB	(sizeof(op_bounds) / sizeof(op_bounds[0]))

enum { OP_WHITE, OP_TRAP, NOP };

/*
 * What we put into one kernel set.  The kernel cannot list a big set
 * quickly (its hash-set dump restarts the walk for every chunk, so 1M
 * elements take ~30 s), so we reconcile the store against this record,
 * and replace the set wholesale when the helper says someone else
 * changed the ruleset (or at the first sync).
 */
struct shadow {
	struct greylist_entry	*e;
	size_t			 n, cap;
};

struct fw {
	struct logger	*log;
	struct grey_conf nets;		/* -N: what a WHITE element is */
	bool		 nft;
	int		 fd;
	bool		 synced;	/* a full replace has happened */
	size_t		 last_white, last_trapped;	/* as last logged */
	struct shadow	 shadow[FWP_TRAP6 + 1];
	/* Counters for the metrics. */
	uint64_t	 ops[NOP], op_errors[NOP];
	uint64_t	 op_hist[NOP][NOPB + 1];
	double		 op_seconds[NOP];
	uint64_t	 syncs[2], sync_errors;	/* diff, replace */
	uint64_t	 sync_added, sync_deleted;
	double		 sync_seconds, last_sync_seconds;
	/* The ruleset's counters (fwproto.h), as last read. */
	struct fwp_counter ctr[FWP_NCTRS];
	struct timespec	 ctr_at;	/* when */
	bool		 ctr_read;	/* ever */
	bool		 ctr_failing;	/* the last reading failed (logged) */
	unsigned	 ctr_missing;	/* bits of the counters missing, as
					   last logged */
};

static double
elapsed(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* --- talking to the helper --- */

/*
 * One request, one reply.  Blocking: the helper answers in milliseconds,
 * and the supervisor has nothing more urgent (workers serve SMTP).
 */
static int
request(struct fw *fw, const struct fwp_req *r, struct nftset_elem **list,
    size_t *nlist, char *err, size_t errlen)
{
	return fwp_call(fw->fd, r, list, nlist, err, errlen);
}

struct fw *
fw_open(const char *backend, int helper_fd, const struct grey_conf *gc,
    struct logger *lg, char *err, size_t errlen)
{
	struct fw *fw;
	struct fwp_req r = { .op = FWP_CHECK };

	if (strcmp(backend, "none") != 0 && strcmp(backend, "nft") != 0) {
		snprintf(err, errlen, "--firewall %s: unknown backend (nft or "
		    "none)", backend);
		return NULL;
	}
	if ((fw = calloc(1, sizeof(*fw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fw->log = lg;
	fw->nets = *gc;
	fw->fd = -1;
	if (strcmp(backend, "nft") == 0) {
		fw->nft = true;
		fw->fd = helper_fd;
		if (request(fw, &r, NULL, NULL, err, errlen) == -1) {
			fw_close(fw);
			return NULL;
		}
	}
	return fw;
}

void
fw_close(struct fw *fw)
{
	if (fw == NULL)
		return;
	if (fw->fd != -1)
		close(fw->fd);	/* the helper exits on EOF */
	for (size_t i = 0; i <= FWP_TRAP6; i++)
		free(fw->shadow[i].e);
	free(fw);
}

static void
shadow_add(struct shadow *sh, const struct addr *a, int64_t expire)
{
	if (sh->n == sh->cap) {
		size_t ncap = sh->cap ? sh->cap * 2 : 256;
		struct greylist_entry *p = reallocarray(sh->e, ncap,
		    sizeof(*p));

		if (p == NULL)
			return;	/* the next reconcile re-adds it at worst */
		sh->e = p;
		sh->cap = ncap;
	}
	sh->e[sh->n].addr = *a;
	sh->e[sh->n].expire = expire;
	sh->n++;
}

/* After a successful sync the set holds exactly what was wanted. */
static void
shadow_set(struct shadow *sh, const struct greylist_entry *want, size_t n,
    int family, int64_t now)
{
	sh->n = 0;
	for (size_t i = 0; i < n; i++)
		if (want[i].addr.family == family && want[i].expire > now)
			shadow_add(sh, &want[i].addr, want[i].expire);
}

/* a is the element; len, its network's length, for the log only. */
static int
one(struct fw *fw, unsigned v4set, const char *op, const struct addr *a,
    unsigned len, int64_t expire, int64_t now)
{
	int k = v4set == FWP_WHITE ? OP_WHITE : OP_TRAP;
	struct timespec t0;
	double dt;
	char ip[ADDR_STRLEN], err[FWP_ERRMAX + 64];
	int64_t left = expire > now ? expire - now : 0;
	struct nftset_elem e;
	struct fwp_req r = { .op = FWP_ADD, .nadd = 1, .add = &e };
	struct prefix p = { *a, (uint8_t)len };

	prefix_key(&p, ip, sizeof(ip));
	if (!fw->nft) {
		log_info(fw->log, "firewall=none op=%s ip=%s timeout=%lld", op,
		    ip, (long long)left);
		return 0;
	}
	if (left == 0)
		return 0;
	memset(&e, 0, sizeof(e));
	e.pfx.addr = *a;
	e.pfx.len = (uint8_t)addr_bits(a);
	e.timeout_ms = (uint64_t)left * 1000;
	r.set = (uint8_t)fwp_set_for(v4set, a->family);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (request(fw, &r, NULL, NULL, err, sizeof(err)) == -1) {
		fw->op_errors[k]++;
		log_warnx(fw->log, "firewall=nft op=%s ip=%s: %s", op, ip, err);
		return -1;
	}
	dt = elapsed(&t0);
	fw->ops[k]++;
	fw->op_seconds[k] += dt;
	fw->op_hist[k][metrics_bucket(op_bounds, NOPB, dt)]++;
	shadow_add(&fw->shadow[r.set], a, expire);
	log_info(fw->log, "firewall=nft op=%s ip=%s set=%s timeout=%lld", op,
	    ip, fwp_set_name(r.set), (long long)left);
	return 0;
}

int
fw_white(struct fw *fw, const struct addr *a, int64_t expire, int64_t now)
{
	struct prefix p;

	/* The ruleset looks the network's address up (a masked lookup). */
	grey_net(&fw->nets, a, &p);
	return one(fw, FWP_WHITE, "white", &p.addr, p.len, expire, now);
}

int
fw_trap(struct fw *fw, const struct addr *a, int64_t expire, int64_t now)
{
	return one(fw, FWP_TRAP, "trap", a, addr_bits(a), expire, now);
}

static struct nftset_elem *
to_elems(const struct rc_change *c, size_t n)
{
	struct nftset_elem *e = calloc(n + 1, sizeof(*e));

	if (e == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		e[i].pfx.addr = c[i].addr;
		e[i].pfx.len = (uint8_t)addr_bits(&c[i].addr);
		e[i].timeout_ms = c[i].timeout_ms;
	}
	return e;
}

/*
 * Make one kernel set equal to the store's view of it: the difference
 * against our record in one transaction, or, when the record cannot be
 * trusted, the whole content in one transaction.
 */
static int
sync_set(struct fw *fw, unsigned set, const struct greylist_entry *want0,
    size_t nwant, int64_t now, bool full, size_t *added, size_t *deleted)
{
	struct shadow *sh = &fw->shadow[set];
	struct nftset_elem *add = NULL, *del = NULL;
	struct rc_want *want = NULL;
	struct rc_have *have = NULL;
	struct rc_result res = { 0 };
	struct fwp_req r;
	char err[FWP_ERRMAX + 64];
	int rc = -1;

	if ((want = calloc(nwant + 1, sizeof(*want))) == NULL ||
	    (have = calloc(sh->n + 1, sizeof(*have))) == NULL)
		goto oom;
	for (size_t i = 0; i < nwant; i++) {
		want[i].addr = want0[i].addr;
		want[i].expire = want0[i].expire;
	}
	for (size_t i = 0; !full && i < sh->n; i++) {
		have[i].addr = sh->e[i].addr;
		have[i].left_ms = sh->e[i].expire > now ?
		    (uint64_t)(sh->e[i].expire - now) * 1000 : 0;
	}
	/* Against an empty record every wanted address is an add. */
	if (reconcile(want, nwant, have, full ? 0 : sh->n,
	    fwp_set_family(set), now, RECONCILE_SLACK, &res) == -1)
		goto oom;
	if ((add = to_elems(res.add, res.nadd)) == NULL ||
	    (del = to_elems(res.del, res.ndel)) == NULL)
		goto oom;
	if (full)
		r = (struct fwp_req){ .op = FWP_REPLACE, .set = (uint8_t)set,
		    .nadd = (uint32_t)res.nadd, .add = add };
	else
		r = (struct fwp_req){ .op = FWP_APPLY, .set = (uint8_t)set,
		    .nadd = (uint32_t)res.nadd, .ndel = (uint32_t)res.ndel,
		    .add = add, .del = del };
	if ((full || res.nadd + res.ndel > 0) &&
	    request(fw, &r, NULL, NULL, err, sizeof(err)) == -1)
		goto fail;
	shadow_set(sh, want0, nwant, fwp_set_family(set), now);
	*added += res.nadd;
	*deleted += full ? 0 : res.ndel;
	rc = 0;
	goto out;
oom:
	snprintf(err, sizeof(err), "out of memory");
fail:
	log_warnx(fw->log, "firewall=nft reconcile set=%s: %s",
	    fwp_set_name(set), err);
out:
	free(add);
	free(del);
	free(want);
	free(have);
	reconcile_free(&res);
	return rc;
}

int
fw_sync(struct fw *fw, const struct greylist_scan *s, int64_t now)
{
	size_t added = 0, deleted = 0;
	struct timespec a, b;
	bool full, quiet;
	int rc = 0;

	/* Every minute: worth a line at info only when something moved. */
	if (!fw->nft) {
		quiet = fw->synced && s->nwhite == fw->last_white &&
		    s->ntrapped == fw->last_trapped;
		log_msg(fw->log, quiet ? LOG_DEBUG : LOG_INFO, "firewall=none op=sync "
		    "white=%zu trapped=%zu", s->nwhite, s->ntrapped);
		fw->synced = true;
		fw->last_white = s->nwhite;
		fw->last_trapped = s->ntrapped;
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	{
		bool changed;
		char err[FWP_ERRMAX + 64];

		if (fwp_gen(fw->fd, &changed, err, sizeof(err)) == -1)
			log_warnx(fw->log, "firewall=nft: %s", err);
		full = !fw->synced || changed;
	}
	for (unsigned set = FWP_WHITE; set <= FWP_TRAP6; set++) {
		bool white = set == FWP_WHITE || set == FWP_WHITE6;

		if (sync_set(fw, set, white ? s->white : s->trapped,
		    white ? s->nwhite : s->ntrapped, now, full, &added,
		    &deleted) == -1)
			rc = -1;
	}
	if (rc == 0)
		fw->synced = true;
	else
		fw->sync_errors++;
	fw->syncs[full]++;
	fw->sync_added += added;
	fw->sync_deleted += deleted;
	fw->last_sync_seconds = elapsed(&a);
	fw->sync_seconds += fw->last_sync_seconds;
	clock_gettime(CLOCK_MONOTONIC, &b);
	quiet = rc == 0 && !full && added == 0 && deleted == 0;
	log_msg(fw->log, quiet ? LOG_DEBUG : LOG_INFO, "firewall=nft op=sync "
	    "mode=%s white=%zu trapped=%zu "
	    "added=%zu deleted=%zu ms=%lld", full ? "replace" : "diff",
	    s->nwhite, s->ntrapped, added, deleted, (long long)((b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000));
	return rc;
}

/* --- the ruleset's counters --- */

/* Say once which counters the ruleset lacks, when that changes. */
static void
ctr_missing_log(struct fw *fw, unsigned missing)
{
	char names[128] = "";
	size_t len = 0;

	if (missing == 0 || missing == fw->ctr_missing)
		return;
	for (unsigned i = 0; i < FWP_NCTRS; i++)
		if (missing & (1u << i) && len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) -
			    len, "%s%s", len > 0 ? ", " : "", fwp_ctr_name(i));
	log_warnx(fw->log, "firewall=nft: table inet nfspamd has no counter "
	    "%s (a ruleset older than nfspamd's counters?); the metrics leave "
	    "out what is missing until the ruleset is reloaded (nft -f "
	    "/etc/nfspamd/nfspamd.nft)", names);
}

/*
 * Read the counters through the helper, unless the last reading is
 * recent.  A failure leaves them all out of the metrics, with one line
 * when the failing starts.
 */
static void
ctr_fetch(struct fw *fw)
{
	char err[FWP_ERRMAX + 64];
	unsigned missing = 0;

	if (fw->ctr_read && elapsed(&fw->ctr_at) < CTR_CACHE)
		return;
	fw->ctr_read = true;
	clock_gettime(CLOCK_MONOTONIC, &fw->ctr_at);
	if (fwp_counters(fw->fd, fw->ctr, err, sizeof(err)) == -1) {
		if (!fw->ctr_failing)
			log_warnx(fw->log, "firewall=nft counters: %s; the "
			    "kernel's counters are left out of the metrics",
			    err);
		fw->ctr_failing = true;
		memset(fw->ctr, 0, sizeof(fw->ctr));
		return;
	}
	fw->ctr_failing = false;
	for (unsigned i = 0; i < FWP_NCTRS; i++)
		if (!fw->ctr[i].found)
			missing |= 1u << i;
	ctr_missing_log(fw, missing);
	fw->ctr_missing = missing;
}

/*
 * One family of the counters first..last, a sample for each the ruleset
 * has: their packets, or their bytes.  Left out when it has none.  The
 * blacklist counters are labelled by the set they count.
 */
static int
ctr_family(const struct fw *fw, struct buf *b, const char *name,
    const char *help, const char *label, unsigned first, unsigned last,
    bool bytes)
{
	struct mlabel l[1];
	unsigned i;
	bool any = false;
	int rc = 0;

	for (i = first; i <= last; i++)
		any = any || fw->ctr[i].found;
	if (!any)
		return 0;
	rc |= metrics_head(b, name, METRICS_COUNTER, help);
	for (i = first; i <= last; i++) {
		if (!fw->ctr[i].found)
			continue;
		l[0] = (struct mlabel){ label, i >= FWP_CTR_BLACK ?
		    fwp_set_name(FWP_BLACK + (i - FWP_CTR_BLACK)) :
		    fwp_ctr_name(i) };
		rc |= metrics_sample(b, name, l, 1, (double)(bytes ?
		    fw->ctr[i].bytes : fw->ctr[i].packets));
	}
	return rc;
}

static int
ctr_metrics(struct fw *fw, struct buf *b)
{
	int rc = 0;

	ctr_fetch(fw);
	rc |= ctr_family(fw, b, "nfspamd_kernel_packets_total",
	    "New SMTP connections by the ruleset's verdict: diverted to "
	    "nfspamd, passed to the MTA as white (@spamd-white, "
	    "@spamd-white6) or as nospamd (@nospamd, @nospamd6).  The "
	    "first packet of each, counted by the counters of table inet "
	    "nfspamd.", "verdict", FWP_CTR_DIVERTED, FWP_CTR_NOSPAMD, false);
	rc |= ctr_family(fw, b, "nfspamd_kernel_bytes_total",
	    "Bytes of the packets of nfspamd_kernel_packets_total (the "
	    "first packet of each connection only).", "verdict",
	    FWP_CTR_DIVERTED, FWP_CTR_NOSPAMD, true);
	rc |= ctr_family(fw, b, "nfspamd_kernel_blacklist_packets_total",
	    "New SMTP connections diverted to nfspamd from an address in a "
	    "kernel blacklist set (nfspamd-setup -b), by set.  A set holds "
	    "every list at once; nfspamd_blacklisted_connections_total says "
	    "which list.", "set", FWP_CTR_BLACK, FWP_CTR_BLACK6, false);
	rc |= ctr_family(fw, b, "nfspamd_kernel_blacklist_bytes_total",
	    "Bytes of the packets of nfspamd_kernel_blacklist_packets_total.",
	    "set", FWP_CTR_BLACK, FWP_CTR_BLACK6, true);
	return rc;
}

int
fw_metrics(struct fw *fw, struct buf *b)
{
	static const char *const opname[NOP] = { "white", "trap" };
	struct mlabel l[1];
	size_t i;
	int rc = 0;

	if (!fw->nft)
		return 0;
	rc |= ctr_metrics(fw, b);
	rc |= metrics_head(b, "nfspamd_kernel_set_adds_total", METRICS_COUNTER,
	    "Addresses added to a kernel set as they passed or were trapped.");
	for (i = 0; i < NOP; i++) {
		l[0] = (struct mlabel){ "op", opname[i] };
		rc |= metrics_sample(b, "nfspamd_kernel_set_adds_total", l, 1,
		    (double)fw->ops[i]);
	}
	rc |= metrics_head(b, "nfspamd_kernel_set_add_errors_total",
	    METRICS_COUNTER, "Kernel set additions the helper refused or "
	    "failed.");
	for (i = 0; i < NOP; i++) {
		l[0] = (struct mlabel){ "op", opname[i] };
		rc |= metrics_sample(b, "nfspamd_kernel_set_add_errors_total",
		    l, 1, (double)fw->op_errors[i]);
	}
	rc |= metrics_head(b, "nfspamd_kernel_set_add_seconds",
	    METRICS_HISTOGRAM, "Time from a pass or a trap reported by a "
	    "worker to its element in the kernel set.");
	for (i = 0; i < NOP; i++) {
		l[0] = (struct mlabel){ "op", opname[i] };
		rc |= metrics_histogram(b, "nfspamd_kernel_set_add_seconds",
		    l, 1, op_bounds, NOPB, fw->op_hist[i], fw->op_seconds[i]);
	}
	rc |= metrics_head(b, "nfspamd_kernel_set_elements", METRICS_GAUGE,
	    "Elements nfspamd keeps in each kernel set, as of its last "
	    "change.");
	for (i = FWP_WHITE; i <= FWP_TRAP6; i++) {
		l[0] = (struct mlabel){ "set", fwp_set_name((unsigned)i) };
		rc |= metrics_sample(b, "nfspamd_kernel_set_elements", l, 1,
		    (double)fw->shadow[i].n);
	}
	rc |= metrics_head(b, "nfspamd_reconcile_runs_total", METRICS_COUNTER,
	    "Reconciliations of the kernel sets with the database, by mode.");
	l[0] = (struct mlabel){ "mode", "diff" };
	rc |= metrics_sample(b, "nfspamd_reconcile_runs_total", l, 1,
	    (double)fw->syncs[0]);
	l[0] = (struct mlabel){ "mode", "replace" };
	rc |= metrics_sample(b, "nfspamd_reconcile_runs_total", l, 1,
	    (double)fw->syncs[1]);
	rc |= metrics_one(b, "nfspamd_reconcile_errors_total", METRICS_COUNTER,
	    "Reconciliations that failed for at least one set.",
	    (double)fw->sync_errors);
	rc |= metrics_head(b, "nfspamd_reconcile_elements_total",
	    METRICS_COUNTER, "Elements reconciliation added to or deleted "
	    "from the kernel sets.");
	l[0] = (struct mlabel){ "change", "added" };
	rc |= metrics_sample(b, "nfspamd_reconcile_elements_total", l, 1,
	    (double)fw->sync_added);
	l[0] = (struct mlabel){ "change", "deleted" };
	rc |= metrics_sample(b, "nfspamd_reconcile_elements_total", l, 1,
	    (double)fw->sync_deleted);
	rc |= metrics_one(b, "nfspamd_reconcile_seconds_total", METRICS_COUNTER,
	    "Time spent reconciling the kernel sets.", fw->sync_seconds);
	rc |= metrics_one(b, "nfspamd_reconcile_last_seconds", METRICS_GAUGE,
	    "How long the last reconciliation took.", fw->last_sync_seconds);
	return rc == 0 ? 0 : -1;
}
