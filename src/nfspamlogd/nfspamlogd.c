/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamlogd: spamlogd for nftables.  Reads the SMTP connections the
 * ruleset logs to an NFLOG group and keeps their hosts whitelisted: a
 * whitelisted sender reaching our MTA ("nfspamd-in") and a peer our MTA
 * sends mail to ("nfspamd-out") get a WHITE entry (or a longer one) in
 * the database and a fresh timeout in @spamd-white(6).  The SYN of a
 * sender reaching our MTA is fingerprinted too, and its OS kept in the
 * database's "os" for nfspamdb and nfspamd-policy, as nfspamd keeps the
 * OS of the clients it sees: whitelisted senders skip nfspamd.
 *
 * Two processes: this one reads NFLOG, which is packet data, with no
 * capabilities at all; a netlink helper forked first (src/lib/daemon's
 * nfthelper) keeps CAP_NET_ADMIN and only changes the sets.  Reading the
 * group is nflog.c's; logd.h holds what the two files share.
 * Everything read in one go is one burst: one database transaction and
 * one netlink transaction, with each address once.
 *
 * Started as root, both processes become the owner of the database
 * directory when that is not root, whatever --user says: the database
 * and nft.gen are shared with nfspamd, which runs as that user.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <uv.h>

#include "fwproto.h"
#include "grey.h"
#include "greylist.h"
#include "logd.h"
#include "metrics.h"
#include "nftgen.h"
#include "nfthelper.h"
#include "osf.h"
#include "owner.h"
#include "sync.h"
#include "util.h"

static const char usage_text[] =
"usage: nfspamlogd [-DIv] [-k keyfile] [-l group] [-W whiteexp] [-Y target]\n"
"                  [--db dir] [--user user]\n"
"                  [--db-sync-ms ms] [--db-max-size MiB] [--rcvbuf MiB]\n"
"                  [--metrics address:port] [--metrics-file path]\n"
"                  [--stats-interval secs] [--auto-white count:expiry]\n"
"                  [--os-fingerprints file|none]\n"
"       nfspamlogd -h | -V\n";

enum {
	OPT_RCVBUF = 256, OPT_STATS, OPT_METRICS, OPT_METRICSFILE, OPT_AWL,
	OPT_OSFILE
};

static const struct option longopts[] = {
	PROG_LONGOPTS_DB,
	PROG_LONGOPTS_STORE,
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "stats-interval", required_argument, NULL, OPT_STATS },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-file", required_argument, NULL, OPT_METRICSFILE },
	{ "auto-white", required_argument, NULL, OPT_AWL },
	{ "os-fingerprints", required_argument, NULL, OPT_OSFILE },
	{ "help", no_argument, NULL, 'h' },
	PROG_LONGOPTS_END
};

static void
parse_args(int argc, char **argv, struct conf *c)
{
	struct sync_target st;
	const char *why;
	int ch;

	memset(c, 0, sizeof(*c));
	c->group = LOGD_GROUP;
	c->whiteexp = GREY_WHITEEXP;
	prog_common_init(&c->common);
	c->stats_interval = 3600;
	c->rcvbuf = 16UL << 20;
	c->keyfile = SYNC_KEYFILE;
	prog_osfiles_init(&c->os);
	while ((ch = getopt_long(argc, argv, "DhIk:l:vVW:Y:", longopts,
	    NULL)) != -1) {
		if (prog_common_opt(&c->common, ch, optarg))
			continue;
		switch (ch) {
		case 'D': c->debug = true; break;
		case 'h': prog_usage(usage_text, 0);
		case 'V': prog_version("nfspamlogd");
		case 'I': c->inbound_only = true; break;
		case 'k': c->keyfile = optarg; break;
		case 'Y':
			if (c->ntargets == SYNCSEND_MAXTARGETS)
				errx(1, "-Y %s: at most %d targets", optarg,
				    SYNCSEND_MAXTARGETS);
			if (sync_target_parse(optarg, &st, &why) == -1)
				errx(1, "-Y %s: %s", optarg, why);
			c->targets[c->ntargets++] = optarg;
			break;
		case 'l': c->group = (unsigned)prog_number("-l", optarg, 0, 65535);
			break;
		case 'v': c->verbose = true; break;
		case 'W':
			/* spamlogd: 1 to 2160 hours; a suffix may say s/m/h/d. */
			if (grey_parse_duration(optarg, 3600, &c->whiteexp,
			    &why) == -1)
				errx(1, "-W %s: %s", optarg, why);
			if (c->whiteexp > 2160 * 3600)
				errx(1, "-W %s: more than 2160 hours", optarg);
			break;
		case OPT_RCVBUF: c->rcvbuf = (size_t)prog_number("--rcvbuf",
			    optarg, 1, 1024) << 20;
			break;
		case OPT_STATS: c->stats_interval = (unsigned)prog_number(
			    "--stats-interval", optarg, 0, 86400);
			break;
		case OPT_METRICS: c->metrics = prog_metrics_listen(optarg);
			break;
		case OPT_METRICSFILE:
			c->metrics_file = prog_metrics_file(optarg);
			break;
		case OPT_AWL:
			if (grey_parse_awl(optarg, &c->awl, &why) == -1)
				errx(1, "--auto-white %s: %s", optarg, why);
			break;
		case OPT_OSFILE: prog_osfiles_add(&c->os, optarg); break;
		default: prog_usage(usage_text, 1);
		}
	}
	if (optind != argc)
		prog_usage(usage_text, 1);
}

/* --- counters --- */

static void
log_stats(struct logd *d, const char *when)
{
	const struct counters *c = &d->c;
	uint64_t ignored = 0, sent, errors;

	syncsend_counts(d->sync, &sent, &errors);
	for (int k = LOGEV_NOPREFIX; k < LOGEV_NKINDS; k++)
		ignored += c->kind[k];
	log_info(&d->log, "stats%s events=%" PRIu64 " in=%" PRIu64
	    " out=%" PRIu64 " updates=%" PRIu64 " added=%" PRIu64
	    " os-refreshed=%" PRIu64 " bursts=%" PRIu64 " ignored=%" PRIu64
	    " ignored-prefix=%" PRIu64 " ignored-packet=%" PRIu64
	    " ignored-address=%" PRIu64 " ignored-outbound=%" PRIu64
	    " lost=%" PRIu64 " enobufs=%" PRIu64
	    " store-errors=%" PRIu64 " kernel-errors=%" PRIu64
	    " sync-sent=%" PRIu64 " sync-errors=%" PRIu64, when,
	    c->events, c->kind[LOGEV_IN], c->kind[LOGEV_OUT], c->updates,
	    c->added, c->os_refreshed, c->bursts, ignored,
	    c->kind[LOGEV_NOPREFIX], c->kind[LOGEV_BADPACKET],
	    c->kind[LOGEV_BADADDR], c->kind[LOGEV_INONLY], c->lost,
	    c->enobufs, c->store_errors, c->kernel_errors, sent, errors);
}


/* --- applying a burst --- */

/*
 * What the sender's SYN said, for nfspamdb and nfspamd-policy: keyed by
 * the address itself, as nfspamd keys it, whatever the WHITE key.
 */
static int
os_put(struct store_txn *t, const struct logev_ent *e, int64_t now)
{
	char ip[ADDR_STRLEN], name[OSF_OSLEN];

	addr_format(&e->addr, ip, sizeof(ip));
	osf_name(e->os, name, sizeof(name));
	return store_os_put(t, ip, strlen(ip), now, name);
}

/* A shared store: the burst's entries in one round trip (LMDB: no-op). */
static int
prefetch(struct store_txn *t, struct logd *d)
{
	const struct logev_burst *b = &d->burst;
	char (*keys)[ADDR_STRLEN];
	struct store_want *w;
	int rc = 0;

	keys = calloc(b->n, sizeof(*keys));
	w = calloc(b->n, sizeof(*w));
	if (keys != NULL && w != NULL) {
		for (size_t i = 0; i < b->n; i++)
			w[i] = (struct store_want){ STORE_WANT_ADDR, keys[i],
			    grey_net_key(&d->nets, &b->ent[i].addr, keys[i],
			    ADDR_STRLEN) };
		rc = store_prefetch(t, w, b->n);
	}
	free(keys);
	free(w);
	return rc;
}

static int
apply_txn(struct store_txn *t, void *arg)
{
	struct logd *d = arg;
	const struct logev_burst *b = &d->burst;

	/* May run again after the map grew: recompute everything. */
	grey_conf_default(&d->nets);
	/* Keyed by network as nfspamd keys (its -N, in the database). */
	if (greylist_nets_load(t, &d->nets) == -1)
		return -1;
	if (prefetch(t, d) == -1)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		char key[ADDR_STRLEN];
		size_t klen = grey_net_key(&d->nets, &b->ent[i].addr, key,
		    sizeof(key));
		struct store_rec old, rec;
		enum store_type type;
		int rc;

		if ((rc = store_get_addr(t, key, klen, &type, &old)) == -1)
			return -1;
		d->isnew[i] = rc == 1 || type != STORE_WHITE ||
		    old.expire <= d->now;
		grey_logd(d->conf.whiteexp, rc == 0 ? &old : NULL,
		    b->ent[i].count, d->now, &rec);
		/* A known-good sender is kept longer (--auto-white). */
		grey_awl_apply(&d->conf.awl, &rec, d->now);
		d->expire[i] = rec.expire;
		if (store_put_addr(t, key, klen, STORE_WHITE, &rec) == -1)
			return -1;
		if (b->ent[i].os != NULL && os_put(t, &b->ent[i], d->now) == -1)
			return -1;
	}
	return 0;
}

static void
warn_kernel(struct logd *d, const char *err)
{
	time_t now = time(NULL);

	d->c.kernel_errors++;
	if (now - d->warned_kernel < LOGD_WARN_EVERY)
		return;
	d->warned_kernel = now;
	log_warnx(&d->log, "nft: %s (kernel-errors=%" PRIu64 "; the database "
	    "is updated and nfspamd's next scan fills the sets)", err,
	    d->c.kernel_errors);
}

static void
log_addresses(struct logd *d)
{
	const struct logev_burst *b = &d->burst;

	for (size_t i = 0; i < b->n; i++) {
		const struct logev_ent *e = &b->ent[i];
		char ip[ADDR_STRLEN], name[OSF_OSLEN], os[OSF_OSLEN + 8] = "";
		const char *seen = e->dirs == (1 << LOGEV_IN) ? "in" :
		    e->dirs == (1 << LOGEV_OUT) ? "out" : "in,out";

		if (!d->isnew[i] && !d->conf.verbose)
			continue;
		char net[ADDR_STRLEN + 5] = "";
		struct prefix p;

		addr_format(&e->addr, ip, sizeof(ip));
		grey_net(&d->nets, &e->addr, &p);
		if (p.len < addr_bits(&e->addr)) {
			memcpy(net, " net=", 5);
			prefix_format(&p, net + 5, sizeof(net) - 5);
		}
		if (e->os != NULL) {
			osf_name(e->os, name, sizeof(name));
			snprintf(os, sizeof(os), " os=\"%s\"", name);
		}
		log_msg(&d->log, d->isnew[i] ? LOG_INFO : LOG_DEBUG,
		    "%s ip=%s%s seen=%s count=%" PRIu32 " expire=%" PRId64 "%s",
		    d->isnew[i] ? "whitelisted" : "refreshed", ip, net, seen,
		    e->count, d->expire[i], os);
	}
}

/* A burst's time in the database and the sets, into the histogram. */
static void
observe(struct logd *d, const struct timespec *t0)
{
	static const double bounds[] = LOGD_BURST_BOUNDS;
	struct timespec t1;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000000 +
	    (t1.tv_nsec - t0->tv_nsec);
	if (ns < 0)
		ns = 0;
	d->c.burst_ns += (uint64_t)ns;
	d->c.burst_hist[metrics_bucket(bounds, LOGD_NBURST,
	    (double)ns / 1e9)]++;
}

static int
elem_cmp(const void *a, const void *b)
{
	const struct nftset_elem *x = a, *y = b;

	return addr_cmp(&x->pfx.addr, &y->pfx.addr);
}

static void
uniq_elems(struct nftset_elem *e, uint32_t *n)
{
	uint32_t o = 0;

	if (*n < 2)
		return;
	qsort(e, *n, sizeof(*e), elem_cmp);
	for (uint32_t i = 1; i < *n; i++) {
		if (!addr_eq(&e[i].pfx.addr, &e[o].pfx.addr))
			e[++o] = e[i];
		else if (e[i].timeout_ms > e[o].timeout_ms)
			e[o].timeout_ms = e[i].timeout_ms;
	}
	*n = o + 1;
}

void
apply(struct logd *d)
{
	struct logev_burst *b = &d->burst;
	struct fwp_req r = { .op = FWP_ADD46, .set = FWP_WHITE };
	uint64_t timeout_ms = (uint64_t)d->conf.whiteexp * 1000;
	char err[FWP_ERRMAX + 64];
	struct timespec t0;
	bool kfail;

	if (b->n == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d->now = (int64_t)time(NULL);
	d->c.bursts++;
	if (store_update(d->store, apply_txn, d, err, sizeof(err)) != 0) {
		/* The kernel gets only what the database agrees with. */
		observe(d, &t0);
		d->c.store_errors++;
		log_warnx(&d->log, "database %s: %s: %zu addresses not "
		    "updated", store_dir(d->store), err, b->n);
		logev_burst_reset(b);
		return;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct nftset_elem *e = b->ent[i].addr.family == AF_INET ?
		    &d->e4[r.nadd++] : &d->e6[r.nadd6++];
		struct prefix p;

		/* The ruleset looks the network's address up (masked). */
		grey_net(&d->nets, &b->ent[i].addr, &p);
		memset(e, 0, sizeof(*e));
		e->pfx.addr = p.addr;
		e->pfx.len = (uint8_t)addr_bits(&p.addr);
		e->timeout_ms = d->expire[i] > d->now ?
		    (uint64_t)(d->expire[i] - d->now) * 1000 : timeout_ms;
		d->c.added += d->isnew[i];
		d->c.os_refreshed += b->ent[i].os != NULL;
	}
	d->c.updates += b->n;
	/* Two addresses of one network are one element. */
	uniq_elems(d->e4, &r.nadd);
	uniq_elems(d->e6, &r.nadd6);
	r.add = d->e4;
	r.add6 = d->e6;
	kfail = fwp_call(d->helper_fd, &r, NULL, NULL, err, sizeof(err)) == -1;
	observe(d, &t0);
	if (kfail)
		warn_kernel(d, err);
	/* spamlogd's -Y: a WHITE message for each address. */
	for (size_t i = 0; d->sync != NULL && i < b->n; i++) {
		struct sync_msg m = { .type = SYNC_WHITE,
		    .timestamp = (uint32_t)d->now, .addr = b->ent[i].addr,
		    .expire = (uint32_t)d->expire[i] };

		syncsend_msg(d->sync, &m);
	}
	log_addresses(d);
	logev_burst_reset(b);
}

/* --- processes --- */

/* What we make in the database directory. */
static const char *const own_files[] = { "data.mdb", "lock.mdb",
					 NFTGEN_FILE };

/*
 * Started as root on a database directory of another user's: that user
 * is the one to become (both processes), whatever --user says, so that
 * everything made there stays usable by nfspamd, which runs as it.
 */
static void
db_owner(struct logd *d)
{
	struct priv_user *u = &d->user;
	struct passwd *pw;
	struct stat sb;

	if (geteuid() != 0 || stat(d->conf.common.db, &sb) == -1 ||
	    sb.st_uid == 0)
		return;
	if (!u->found || u->uid != sb.st_uid) {
		pw = getpwuid(sb.st_uid);
		memset(u, 0, sizeof(*u));
		u->found = true;
		u->uid = sb.st_uid;
		/* With no passwd entry, the directory's group. */
		u->gid = pw != NULL ? pw->pw_gid : sb.st_gid;
		owner_name(sb.st_uid, u->name, sizeof(u->name));
		log_info(&d->log, "running as %s, the owner of %s, instead of "
		    "--user %s", u->name, d->conf.common.db,
		    d->conf.common.user);
	}
	priv_give_back(d->conf.common.db, own_files, sizeof(own_files) /
	    sizeof(own_files[0]), u, &d->log);
}

/*
 * The helper is forked before NFLOG is opened, so it never holds the
 * packet socket; then this process keeps no capability at all.
 */
static int
bind_nflog(void *arg)
{
	return nflog_setup(arg);
}

static int
privsep(struct logd *d)
{
	priv_lookup(d->conf.common.user, &d->user);
	db_owner(d);
	return nfthelper_split(&d->user, &d->log, d->conf.common.db, true,
	    &d->helper_pid, &d->helper_fd, bind_nflog, d);
}

static int
open_sync(struct logd *d, char *err, size_t errlen)
{
	struct sync_key key;
	bool missing;
	char hint[512];
	size_t n;

	if (sync_key_load(d->conf.keyfile, &key, &missing, err, errlen) == -1) {
		/* Read after dropping privileges: say as whom, and the fix. */
		if (access(d->conf.keyfile, R_OK) == -1 && (n = strlen(err)) <
		    errlen && owner_hint(errno, d->conf.keyfile, hint,
		    sizeof(hint))[0] != '\0')
			snprintf(err + n, errlen - n, " (%s)", hint);
		return -1;
	}
	if (missing)
		log_warnx(&d->log, "sync: no key file %s: messages are signed "
		    "with the empty key, as spamd's are without one; anyone "
		    "can forge them", d->conf.keyfile);
	return syncsend_open(&d->sync, d->conf.targets, d->conf.ntargets,
	    &key, &d->log, err, errlen);
}

/*
 * --os-fingerprints, read once, as the user we run as: the shipped files
 * are world-readable.
 */
static int
osf_open(struct logd *d)
{
	return prog_osfiles_load(&d->conf.os, &d->osf, &d->log);
}

static int
open_rest(struct logd *d)
{
	struct store_opts o = { .create = true,
	    .sync_ms = d->conf.common.sync_ms,
	    .maxsize = d->conf.common.db_max,
	    .shared = d->conf.common.store,
	    .passfile = d->conf.common.store_passfile };
	struct fwp_req r = { .op = FWP_CHECK };
	char err[FWP_ERRMAX + 64];

	if (fwp_call(d->helper_fd, &r, NULL, NULL, err, sizeof(err)) == -1) {
		log_warnx(&d->log, "%s", err);
		return -1;
	}
	if (osf_open(d) == -1)
		return -1;
	if (store_open(&d->store, d->conf.common.db, &o, err,
	    sizeof(err)) != 0) {
		log_warnx(&d->log, "%s", err);
		return -1;
	}
	if (d->conf.ntargets > 0 && open_sync(d, err, sizeof(err)) == -1) {
		log_warnx(&d->log, "%s", err);
		return -1;
	}
	if (logev_burst_init(&d->burst, LOGD_BURST) == -1 ||
	    (d->e4 = calloc(LOGD_BURST, sizeof(*d->e4))) == NULL ||
	    (d->e6 = calloc(LOGD_BURST, sizeof(*d->e6))) == NULL ||
	    (d->isnew = calloc(LOGD_BURST, sizeof(*d->isnew))) == NULL ||
	    (d->expire = calloc(LOGD_BURST, sizeof(*d->expire))) == NULL) {
		log_warnx(&d->log, "out of memory");
		return -1;
	}
	return 0;
}

void
stop(struct logd *d, int status)
{
	if (status != 0)
		d->status = status;
	if (d->stopping)
		return;
	d->stopping = true;
	uv_stop(d->loop);
}

static void
on_reap(void *arg)
{
	struct logd *d = arg;
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != d->helper_pid)
			continue;
		d->helper_pid = 0;
		if (!d->stopping) {
			log_warnx(&d->log, "nft helper exited (%s %d): stopping",
			    WIFSIGNALED(st) ? "signal" : "status",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			stop(d, 1);
		}
	}
}

static void
on_reload(void *arg)
{
	log_stats(arg, "");
}

static void
on_stop(void *arg)
{
	stop(arg, 0);
}

static const struct prog_signal_ops logd_signals = {
	.stop = on_stop, .reload = on_reload, .reap = on_reap
};

static void
on_stats(uv_timer_t *t)
{
	log_stats(t->data, "");
}

static void
on_flush(uv_timer_t *t)
{
	struct logd *d = t->data;
	char err[512];

	if (store_flush(d->store, err, sizeof(err)) != 0)
		log_warnx(&d->log, "%s", err);
}

/* --metrics, --metrics-file: -1 (logged) if the listener cannot be. */
static int
metrics_open(struct logd *d)
{
	char err[512];

	if (mexport_open(&d->mx, d->loop, d->conf.metrics,
	    d->conf.metrics_file, 0, logd_metrics, d, &d->log, err,
	    sizeof(err)) == -1) {
		log_warnx(&d->log, "%s", err);
		return -1;
	}
	if (d->conf.metrics != NULL)
		log_info(&d->log, "metrics listening=%s", d->conf.metrics);
	return 0;
}

static void
run(struct logd *d)
{
	uv_loop_t loop;

	uv_loop_init(&loop);
	d->loop = &loop;
	prog_signals_start(&loop, &d->sig, &logd_signals, d);
	uv_timer_init(&loop, &d->stats);
	uv_timer_init(&loop, &d->flush);
	d->stats.data = d->flush.data = d;
	if (d->conf.stats_interval > 0)
		uv_timer_start(&d->stats, on_stats,
		    d->conf.stats_interval * 1000ULL,
		    d->conf.stats_interval * 1000ULL);
	if (d->conf.common.sync_ms > 0)
		uv_timer_start(&d->flush, on_flush, d->conf.common.sync_ms,
		    d->conf.common.sync_ms);
	if (metrics_open(d) == -1)
		d->status = 1;
	else if (uv_poll_init(&loop, &d->poll, d->nfd) != 0) {
		log_warnx(&d->log, "NFLOG: cannot watch the socket");
		d->status = 1;
	} else {
		d->poll.data = d;
		uv_poll_start(&d->poll, UV_READABLE, on_readable);
		log_info(&d->log, "listening group=%u whiteexp=%" PRId64 "s "
		    "inbound-only=%s db=%s", d->conf.group, d->conf.whiteexp,
		    d->conf.inbound_only ? "yes" : "no", d->conf.common.db);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	mexport_close(d->mx);
	d->mx = NULL;
	prog_loop_close(&loop);
	d->loop = NULL;
}

int
main(int argc, char **argv)
{
	struct logd *d;
	int status;

	signal(SIGPIPE, SIG_IGN);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		errx(1, "out of memory");
	d->helper_fd = d->nfd = -1;
	d->started = (int64_t)time(NULL);
	parse_args(argc, argv, &d->conf);
	log_init(&d->log, "nfspamlogd", d->conf.debug, d->conf.verbose ?
	    LOG_DEBUG : LOG_INFO);
	if (privsep(d) == -1 || open_rest(d) == -1)
		d->status = 1;
	else {
		run(d);
		log_stats(d, " final");
	}
	status = d->status;
	/* Closing the socket unbinds the group. */
	if (d->nl != NULL)
		mnl_socket_close(d->nl);
	if (d->helper_fd != -1)
		close(d->helper_fd);	/* the helper exits on EOF */
	if (d->helper_pid > 0)
		waitpid(d->helper_pid, NULL, 0);
	store_close(d->store);
	syncsend_close(d->sync);
	logev_burst_free(&d->burst);
	osf_db_free(&d->osf);
	free(d->e4);
	free(d->e6);
	free(d->isnew);
	free(d->expire);
	free(d->rbuf);
	log_close(&d->log);
	free(d);
	return status;
}
