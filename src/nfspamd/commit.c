/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * The SMTP worker's group commit: tuples from every connection wait in
 * a list and are committed (writer.c) as one batch, one transaction, at
 * the end of a loop iteration (the check handle); then they are logged
 * and reported to the supervisor, and the replies of their connections,
 * held meanwhile, go out.
 */
#include "config.h"

#include <sys/socket.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "worker.h"

#define COMMIT_WARN_EVERY	60	/* seconds between repeated warnings */

static char *
dupfields(const char *helo, const char *from, const char *to,
    const char **h, const char **f, const char **t)
{
	size_t hl = strlen(helo) + 1, fl = strlen(from) + 1,
	    tl = strlen(to) + 1;
	char *s = malloc(hl + fl + tl);

	if (s == NULL)
		return NULL;
	memcpy(s, helo, hl);
	memcpy(s + hl, from, fl);
	memcpy(s + hl + fl, to, tl);
	*h = s;
	*f = s + hl;
	*t = s + hl + fl;
	return s;
}

void
log_fields(struct logger *lg, int prio, const char *event, const char *ip,
    const char *helo, const char *from, const char *to, const char *extra)
{
	char qh[160], qf[160], qt[160];

	log_msg(lg, prio, "%s ip=%s helo=%s from=%s to=%s%s", event, ip,
	    log_quote(qh, sizeof(qh), helo, strlen(helo)),
	    log_quote(qf, sizeof(qf), from, strlen(from)),
	    log_quote(qt, sizeof(qt), to, strlen(to)), extra);
}

void
commit_queue(struct conn *c, const struct smtp_event *ev)
{
	struct worker *w = c->w;
	struct pending *p;
	char ip[ADDR_STRLEN];

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->strings = dupfields(ev->helo, ev->from, ev->to,
	    &p->rcpt.helo, &p->rcpt.from, &p->rcpt.to)) == NULL) {
		free(p);
		log_warnx(w->log, "out of memory: tuple from %s lost",
		    conn_ip(c, ip, sizeof(ip)));
		return;
	}
	p->conn = c;
	c->inflight++;
	p->rcpt.addr = c->addr;
	p->rcpt.lowprio_mx = c->lowprio;
	p->tlsver = c->state == CONN_TLS ? tls_conn_version(c->tls) : NULL;
	p->os = c->os;
	*w->pending_tail = p;
	w->pending_tail = &p->next;
}

/*
 * What the client's SYN said, for nfspamdb and nfspamd-policy.  The
 * same name seen within the hour is left as it is: a write would dirty
 * pages for nothing, once per tuple.
 */
static int
os_put(struct store_txn *t, const struct pending *p, int64_t now)
{
	char ip[ADDR_STRLEN], name[OSF_OSLEN], old[STORE_OSMAX + 1];
	int64_t seen;

	addr_format(&p->rcpt.addr, ip, sizeof(ip));
	osf_name(p->os, name, sizeof(name));
	if (store_os_get(t, ip, strlen(ip), &seen, old, sizeof(old)) == 0 &&
	    strcmp(old, name) == 0 && seen <= now && now - seen < 3600)
		return 0;
	return store_os_put(t, ip, strlen(ip), now, name);
}

/*
 * A shared store: everything the batch will read, in one round trip
 * (with LMDB, store_prefetch does nothing and this is not called).
 */
static int
prefetch(struct store_txn *t, struct worker *w)
{
	struct greylist_wants *gw;
	struct store_want *all;
	size_t n = 0, k = 0;
	int rc;

	for (struct pending *p = w->wr.batch; p != NULL; p = p->next)
		n++;
	gw = calloc(n, sizeof(*gw));
	all = calloc(n, sizeof(*all) * (GREYLIST_WANTS + 1));
	if (gw == NULL || all == NULL) {
		free(gw);
		free(all);
		return 0;	/* the body reads key by key instead */
	}
	n = 0;
	for (struct pending *p = w->wr.batch; p != NULL; p = p->next, n++) {
		greylist_rcpt_wants(&w->conf->grey, &p->rcpt, &gw[n]);
		for (size_t i = 0; i < gw[n].n; i++)
			all[k++] = gw[n].w[i];
		if (p->os != NULL)
			all[k++] = (struct store_want){ STORE_WANT_OS,
			    gw[n].addr, strlen(gw[n].addr) };
	}
	rc = store_prefetch(t, all, k);
	free(all);
	free(gw);
	return rc;
}

int
commit_body(struct store_txn *t, void *arg)
{
	struct worker *w = arg;
	struct greylist_domains d = {
		(const char *const *)w->domains.names, w->domains.n };

	if (w->shared && prefetch(t, w) == -1)
		return -1;
	for (struct pending *p = w->wr.batch; p != NULL; p = p->next) {
		if (greylist_rcpt(t, &w->conf->grey, &d, &p->rcpt,
		    w->wr.batch_now, &p->res) == -1)
			return -1;
		if (p->os != NULL && os_put(t, p, w->wr.batch_now) == -1)
			return -1;
	}
	return 0;
}

static void
tell(struct worker *w, const uint8_t *msg, size_t len, const struct addr *a)
{
	char ip[ADDR_STRLEN];

	if (send(w->a->ctl, msg, len, MSG_DONTWAIT) == -1) {
		addr_format(a, ip, sizeof(ip));
		log_warn(w->log, "telling the supervisor about %s", ip);
	}
}

static void
tell_supervisor(struct worker *w, enum msg_type t, const struct addr *a,
    int64_t expire)
{
	uint8_t msg[MSG_MAXSIZE];

	tell(w, msg, msg_addr_encode(t, a, expire, msg), a);
}

/* For -Y: the supervisor sends the peers a GREY for the tuple. */
static void
tell_grey(struct worker *w, const struct pending *p)
{
	uint8_t msg[MSG_MAXSIZE];
	size_t len;

	if (w->conf->nsync_targets == 0)
		return;
	/* Too long for a message is longer than any sync packet anyway. */
	if ((len = msg_grey_encode(&p->rcpt.addr, p->rcpt.helo, p->rcpt.from,
	    p->rcpt.to, msg)) > 0)
		tell(w, msg, len, &p->rcpt.addr);
}

/* A flood says what it costs once a minute, not once a tuple. */
static bool
warn_now(time_t *last)
{
	time_t now = time(NULL);

	if (now - *last < COMMIT_WARN_EVERY)
		return false;
	*last = now;
	return true;
}

static void
capped(struct worker *w, const char *ip)
{
	w->tuples_capped++;
	if (warn_now(&w->warned_capped))
		log_warnx(w->log, "tuple not kept: %s has %u live tuples "
		    "(--max-tuples-per-ip; tuples-capped=%" PRIu64 ", logged "
		    "at most once a minute)", ip, w->conf->grey.maxtuples,
		    w->tuples_capped);
}

/* The outcome's counters. */
static void
count(struct worker *w, const struct greylist_result *r, int64_t now)
{
	static const double bounds[] = WS_WAITED_BOUNDS;
	struct wstats *st = w->st;
	int64_t waited;

	switch (r->outcome) {
	case GREYLIST_GREY:
		ws_add(&st->c[r->new_tuple ? WS_GREY_NEW : WS_GREY_AGAIN], 1);
		break;
	case GREYLIST_PASSED:
		waited = now - r->rec.first;
		if (waited < 0)
			waited = 0;
		ws_add(&st->c[WS_PASSED], 1);
		ws_add(&st->c[WS_WAITED_S], (uint64_t)waited);
		ws_add(&st->waited[metrics_bucket(bounds, WS_NWAITED,
		    (double)waited)], 1);
		break;
	case GREYLIST_TRAPPED:
		ws_add(&st->c[strcmp(r->why, "spamtrap") == 0 ?
		    WS_TRAP_SPAMTRAP : strcmp(r->why, "alloweddomains") == 0 ?
		    WS_TRAP_DOMAINS : WS_TRAP_LOWPRIO], 1);
		break;
	case GREYLIST_SKIPPED:
		ws_add(&st->c[WS_SKIPPED], 1);
		break;
	case GREYLIST_CAPPED:
		ws_add(&st->c[WS_CAPPED], 1);
		break;
	}
}

static void
report(struct worker *w, struct pending *p, int64_t now)
{
	char ip[ADDR_STRLEN], extra[240], tail[48 + OSF_OSLEN] = "";
	char os[OSF_OSLEN + 8];
	const struct greylist_result *r = &p->res;

	/* What every line ends with: tls= when it was, os= when known. */
	worker_os_field(w, p->os, os, sizeof(os));
	snprintf(tail, sizeof(tail), "%s%s%s", p->tlsver != NULL ? " tls=" :
	    "", p->tlsver != NULL ? p->tlsver : "", os);

	addr_format(&p->rcpt.addr, ip, sizeof(ip));
	count(w, r, now);
	switch (r->outcome) {
	case GREYLIST_GREY:
		snprintf(extra, sizeof(extra), " new=%d attempts=%d%s",
		    r->new_tuple, r->rec.bcount, tail);
		log_fields(w->log, LOG_INFO, "greylisted", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, extra);
		tell_grey(w, p);
		break;
	case GREYLIST_PASSED:
		snprintf(extra, sizeof(extra), " attempts=%d waited=%lld "
		    "white_expire=%lld%s", r->rec.bcount,
		    (long long)(now - r->rec.first),
		    (long long)r->white.expire, tail);
		log_fields(w->log, LOG_INFO, "passed", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, extra);
		tell_supervisor(w, MSG_WHITE, &p->rcpt.addr, r->white.expire);
		tell_grey(w, p);
		break;
	case GREYLIST_TRAPPED:
		snprintf(extra, sizeof(extra), " reason=%s expire=%lld%s",
		    r->why, (long long)r->rec.expire, tail);
		log_fields(w->log, LOG_INFO, "trapped", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, extra);
		tell_supervisor(w, MSG_TRAPPED, &p->rcpt.addr, r->rec.expire);
		break;
	case GREYLIST_SKIPPED:
		log_fields(w->log, LOG_WARNING, "skipped", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, p->tlsver != NULL ?
		    " reason=key-too-long tls=yes" : " reason=key-too-long");
		break;
	case GREYLIST_CAPPED:
		capped(w, ip);
		break;
	}
}

/* Its tuple is in: c's held replies may go, or c may now be freed. */
static void
release(struct conn *c)
{
	if (--c->inflight > 0)
		return;
	if (c->state == CONN_CLOSED) {
		if (c->handle_closed)
			free(c);
		return;
	}
	session_drive(c, c->held_due);
	c->held_due = false;
}

void
commit_done(struct worker *w, struct pending *batch, int rc,
    const char *err, int64_t now)
{
	struct pending *p, *next;
	size_t n = 0;

	for (p = batch; p != NULL; p = p->next)
		n++;
	if (rc != 0) {
		w->tuples_lost += n;
		ws_add(&w->st->c[WS_LOST], n);
		if (warn_now(&w->warned_lost))
			log_warnx(w->log, "%zu tuples lost: %s (tuples-lost=%"
			    PRIu64 ", logged at most once a minute)", n, err,
			    w->tuples_lost);
	} else
		for (p = batch; p != NULL; p = p->next)
			report(w, p, now);
	for (p = batch; p != NULL; p = next) {
		next = p->next;
		release(p->conn);
		free(p->strings);
		free(p);
	}
}

void
commit_check(uv_check_t *h)
{
	writer_commit(h->data);
}

void
commit_log_stats(struct worker *w)
{
	log_info(w->log, "worker stats worker=%d tuples-lost=%" PRIu64
	    " tuples-capped=%" PRIu64 " fsyncs=%" PRIu64 " fsyncs-spared=%"
	    PRIu64, w->a->id, w->tuples_lost, w->tuples_capped,
	    atomic_load(&w->wr.syncs), atomic_load(&w->wr.syncs_spared));
}
