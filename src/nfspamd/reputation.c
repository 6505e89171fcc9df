/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * reputation: --dnsrep in a worker.  See reputation.h.
 *
 * Where the wait goes: the banner.  The verdict decides the dialogue
 * from its first byte (a listed client's banner is already stuttered,
 * and smtp_init takes black or not), an SMTP client waits minutes for a
 * banner (RFC 5321 4.5.3.2.1) where the file allows 10 s at most, and
 * postscreen makes its DNSBL lookups during the same moment.  A cached
 * verdict costs no wait at all.
 *
 * Every lookup of a worker has the same timeout, so deadlines fall in
 * the order lookups start: one list in that order and one timer for its
 * head, instead of a timer per connection.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "dnsrep.h"
#include "reputation.h"
#include "resolver.h"
#include "worker.h"

#define REP_WARN_EVERY	60	/* seconds between repeated warnings */

struct rep_q;

/* What a query's callback gets: its lookup and its zone. */
struct rep_zq {
	struct rep_q	*q;
	int		 id;
	uint8_t		 zone;
	bool		 pending;
};

struct rep_q {
	struct rep_q		*next, *prev;	/* by deadline */
	struct rep		*rep;
	struct conn		*conn;
	uint64_t		 deadline;	/* loop ms */
	uint64_t		 started;
	struct dnsrep_lookup	 l;
	struct rep_zq		 zq[];		/* one per zone */
};

struct rep {
	struct worker		*w;
	struct dnsrep_conf	*conf;
	struct dnsrep_cache	 cache;
	struct resolver		*res;
	uv_poll_t		 poll;
	uv_timer_t		 timer;
	struct rep_q		*head, *tail;
	time_t			 warned;
};

/* --- the supervisor's check --- */

int
rep_check(const struct conf *cf, struct logger *lg)
{
	struct dnsrep_conf *c;
	struct resolver *r;
	struct passwd *pw;
	char err[512];

	if (cf->dnsrep == NULL)
		return 0;
	if ((c = malloc(sizeof(*c))) == NULL) {
		log_warnx(lg, "--dnsrep: out of memory");
		return -1;
	}
	if (dnsrep_load(cf->dnsrep, c, err, sizeof(err)) == -1) {
		pw = getpwuid(geteuid());
		log_warnx(lg, "--dnsrep %s (read as user %s, which nfspamd "
		    "runs as)", err, pw != NULL ? pw->pw_name : "?");
		free(c);
		return -1;
	}
	if (resolver_new(&r, cf->resolvers, cf->nresolvers, err,
	    sizeof(err)) == -1) {
		log_warnx(lg, "--dnsrep: %s", err);
		free(c);
		return -1;
	}
	resolver_free(r);
	log_info(lg, "dns reputation file=%s sites=%zu zones=%zu "
	    "threshold=%d trust=%s%d timeout_ms=%u cache=%u ttl=%u..%u "
	    "resolvers=%zu", cf->dnsrep, c->nsites, c->nzones, c->threshold,
	    c->trust_set ? "" : "off/", c->trust_set ? c->trust : 0,
	    c->timeout_ms, c->cache_size, c->ttl_min, c->ttl_max,
	    cf->nresolvers);
	free(c);
	return 0;
}

/* --- the verdict on a connection --- */

static int64_t
mono_s(const struct rep *r)
{
	return (int64_t)(uv_now(r->w->loop) / 1000);
}

struct white {
	const struct grey_conf	*gc;
	struct addr		 addr;
	int64_t			 now;
	struct store_rec	 rec;
	bool			 trapped;
};

static bool
live(const struct store_rec *r, int64_t now)
{
	return r->expire > now;
}

/*
 * WHITE as a pass makes it: keyed by the client's network (-N), unless
 * the address is trapped.  An entry already white is renewed.
 */
static int
white_body(struct store_txn *t, void *arg)
{
	struct white *x = arg;
	char ip[ADDR_STRLEN], key[ADDR_STRLEN];
	size_t n = addr_format(&x->addr, ip, sizeof(ip)), k;
	struct store_rec old;
	enum store_type type;
	int rc;

	if ((rc = store_get(t, STORE_TRAPPED, ip, n, &old)) == -1)
		return -1;
	if (rc == 0 && live(&old, x->now)) {
		x->trapped = true;
		return 0;
	}
	k = grey_net_key(x->gc, &x->addr, key, sizeof(key));
	if ((rc = store_get_addr(t, key, k, &type, &old)) == -1)
		return -1;
	if (rc == 0 && type == STORE_TRAPPED && live(&old, x->now)) {
		x->trapped = true;
		return 0;
	}
	grey_logd(x->gc->whiteexp, rc == 0 && type == STORE_WHITE &&
	    live(&old, x->now) ? &old : NULL, 1, x->now, &x->rec);
	return store_put_addr(t, key, k, STORE_WHITE, &x->rec);
}

/* Trusted: WHITE in the database and, through the supervisor, the kernel. */
static void
make_white(struct rep *r, struct conn *c, const char *ip, const char *zones,
    int32_t score, bool cached)
{
	struct worker *w = r->w;
	struct white x = { .gc = &w->conf->grey, .addr = c->addr,
	    .now = wall_now() };
	uint8_t msg[MSG_MAXSIZE];
	char err[256];

	if (store_update(w->store, white_body, &x, err, sizeof(err)) != 0) {
		log_warnx(w->log, "dnsrep ip=%s: trusted, but not made WHITE: "
		    "%s", ip, err);
		return;
	}
	if (x.trapped) {
		log_info(w->log, "dnsrep ip=%s verdict=trusted score=%d "
		    "zones=\"%s\"%s kept=trapped", ip, score, zones,
		    cached ? " cached=yes" : "");
		return;
	}
	writer_touched(w);
	c->class = WS_WHITE;
	log_info(w->log, "dnsrep ip=%s verdict=trusted score=%d zones=\"%s\"%s "
	    "white_expire=%lld", ip, score, zones, cached ? " cached=yes" : "",
	    (long long)x.rec.expire);
	if (send(w->a->ctl, msg, msg_addr_encode(MSG_WHITE, &c->addr,
	    x.rec.expire, msg), MSG_DONTWAIT) == -1)
		log_warn(w->log, "telling the supervisor about %s", ip);
}

/* Listed: blacklisted under REP_LIST, with a reply naming the zones. */
static void
make_black(struct rep *r, struct conn *c, uint64_t matched)
{
	struct worker *w = r->w;
	const struct conf *cf = w->conf;
	struct buf b = { 0 };
	char zones[400], text[480];

	dnsrep_zones_matched(r->conf, matched, ", ", zones, sizeof(zones));
	snprintf(text, sizeof(text), "Your address %%A is listed by %s\\n",
	    zones);
	if (bl_reply_msg(text, &c->addr, cf->code, true, &b) == -1) {
		buf_free(&b);
		return;		/* no reply, no tarpit: greylisted */
	}
	c->blackreply = b.data;
	c->blackreplylen = (uint32_t)b.len;
	c->black = true;
	c->dnsrep = true;
	c->class = WS_BLACK;
	w->nblack++;
	worker_count_list(w, REP_LIST);
	c->stutter = cf->stutter > 0 && w->nblack <= w->a->maxblack;
	c->stuttered = c->stutter;
}

static void
apply(struct rep *r, struct conn *c, const struct dnsrep_result *res,
    bool cached, uint64_t ms, bool timeout)
{
	struct worker *w = r->w;
	enum dnsrep_verdict v = res->verdict;
	char ip[ADDR_STRLEN], zones[512];

	ws_add(&w->st->c[v == DNSREP_TRUSTED ? WS_REP_TRUSTED :
	    v == DNSREP_LISTED ? WS_REP_LISTED : v == DNSREP_NEUTRAL ?
	    WS_REP_NEUTRAL : WS_REP_UNKNOWN], 1);
	if (cached)
		ws_add(&w->st->c[WS_REP_CACHED], 1);
	ws_add(&w->st->c[WS_REP_WAIT_MS], ms);
	conn_ip(c, ip, sizeof(ip));
	dnsrep_zones_matched(r->conf, res->matched, " ", zones,
	    sizeof(zones));
	switch (v) {
	case DNSREP_TRUSTED:
		make_white(r, c, ip, zones, res->score, cached);
		return;
	case DNSREP_LISTED:
		make_black(r, c, res->matched);
		break;
	default:
		/* Nobody's opinion: one line only when someone said one. */
		if (res->matched == 0 && !timeout &&
		    v == DNSREP_NEUTRAL) {
			log_debug(w->log, "dnsrep ip=%s verdict=neutral "
			    "score=0%s ms=%" PRIu64, ip, cached ?
			    " cached=yes" : "", ms);
			return;
		}
		break;
	}
	log_info(w->log, "dnsrep ip=%s verdict=%s score=%d zones=\"%s\"%s%s "
	    "ms=%" PRIu64, ip, dnsrep_verdict_name(v), res->score, zones,
	    cached ? " cached=yes" : "", timeout ? " reason=timeout" : "",
	    ms);
}

/* --- lookups --- */

static void
unlink_q(struct rep *r, struct rep_q *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		r->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		r->tail = q->prev;
	q->next = q->prev = NULL;
}

static void	on_deadline(uv_timer_t *);

/* The timer for the first deadline, or none. */
static void
arm(struct rep *r)
{
	uint64_t now = uv_now(r->w->loop);

	if (r->head == NULL) {
		uv_timer_stop(&r->timer);
		return;
	}
	uv_timer_start(&r->timer, on_deadline, r->head->deadline > now ?
	    r->head->deadline - now : 0, 0);
}

/* Drop q: its queries cancelled, its connection let go; freed. */
static void
drop(struct rep *r, struct rep_q *q)
{
	for (size_t z = 0; z < r->conf->nzones; z++)
		if (q->zq[z].pending) {
			q->zq[z].pending = false;
			resolver_cancel(r->res, q->zq[z].id);
		}
	unlink_q(r, q);
	if (q->conn != NULL)
		q->conn->rep = NULL;
	free(q);
}

/* A verdict (or the deadline): apply it, cache it, greet the client. */
static void
finish(struct rep *r, struct rep_q *q, enum dnsrep_verdict v, bool timeout)
{
	struct conn *c = q->conn;
	struct dnsrep_result res = { (uint8_t)v, q->l.score, q->l.matched };
	uint64_t ms = uv_now(r->w->loop) - q->started;

	if (v == DNSREP_UNDECIDED)
		res.verdict = v = DNSREP_UNKNOWN;
	if (timeout)
		ws_add(&r->w->st->c[WS_REP_TIMEOUTS], 1);
	if (v != DNSREP_UNKNOWN)
		dnsrep_cache_put(&r->cache, &c->addr, &res, mono_s(r),
		    mono_s(r) + dnsrep_ttl(r->conf, q->l.ttl));
	drop(r, q);
	apply(r, c, &res, false, ms, timeout);
	worker_greet(c);
}

static void
on_deadline(uv_timer_t *t)
{
	struct rep *r = t->data;
	uint64_t now = uv_now(r->w->loop);
	struct rep_q *q;

	while ((q = r->head) != NULL && q->deadline <= now) {
		dnsrep_lookup_expire(&q->l);
		finish(r, q, dnsrep_decide(r->conf, &q->l), true);
	}
	arm(r);
}

static void
on_answer(void *arg, const struct resolver_answer *a)
{
	struct rep_zq *zq = arg;
	struct rep_q *q = zq->q;
	struct rep *r = q->rep;
	uint8_t rr[4 * 16];
	size_t na = 0;
	int rcode;
	enum dnsrep_verdict v;

	zq->pending = false;
	switch (a->status) {
	case RESOLVER_OK:
		rcode = 0;
		break;
	case RESOLVER_NXDOMAIN:
		rcode = 3;
		break;
	case RESOLVER_SERVFAIL:
		rcode = a->rcode != 0 && a->rcode != 3 ? a->rcode : 2;
		break;
	default:
		rcode = -1;
		break;
	}
	/* 16 records are more than any list answers with. */
	for (size_t i = 0; i < a->n && na < 16; i++)
		if (a->rr[i].len == 4)
			memcpy(rr + 4 * na++, a->rr[i].rdata, 4);
	if (rcode == -1)
		log_debug(r->w->log, "dnsrep %s: %s", a->name, a->why != NULL ?
		    a->why : "failed");
	dnsrep_lookup_answer(r->conf, &q->l, zq->zone, rcode, a->ttl, rr, na);
	if ((v = dnsrep_decide(r->conf, &q->l)) != DNSREP_UNDECIDED)
		finish(r, q, v, false);
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
	struct rep *r = h->data;
	char err[256];

	(void)events;
	if (status < 0)
		return;
	if (resolver_process(r->res, err, sizeof(err)) == -1 &&
	    time(NULL) - r->warned >= REP_WARN_EVERY) {
		r->warned = time(NULL);
		log_warnx(r->w->log, "worker=%d: dnsrep: %s (logged at most "
		    "once a minute)", r->w->a->id, err);
	}
	arm(r);
}

bool
rep_start(struct conn *c)
{
	struct worker *w = c->w;
	struct rep *r = w->rep;
	struct dnsrep_result res;
	struct rep_q *q;
	char name[DNSREP_QNAMEMAX], err[256];
	enum dnsrep_verdict v;

	/* Black, trapped or white already: nothing to learn. */
	if (r == NULL || c->class != WS_GREY || c->black)
		return false;
	if (dnsrep_cache_get(&r->cache, &c->addr, mono_s(r), &res)) {
		apply(r, c, &res, true, 0, false);
		return false;
	}
	if ((q = calloc(1, sizeof(*q) + r->conf->nzones *
	    sizeof(q->zq[0]))) == NULL)
		return false;	/* greylisted as if nobody answered */
	q->rep = r;
	q->conn = c;
	q->started = uv_now(w->loop);
	q->deadline = q->started + r->conf->timeout_ms;
	dnsrep_lookup_init(r->conf, &q->l);
	for (size_t z = 0; z < r->conf->nzones; z++) {
		q->zq[z].q = q;
		q->zq[z].zone = (uint8_t)z;
		if (dnsrep_qname(&c->addr, r->conf->zones[z].name, name,
		    sizeof(name)) == 0 || resolver_query(r->res, name,
		    RESOLVER_A, on_answer, &q->zq[z], &q->zq[z].id, err,
		    sizeof(err)) == -1) {
			dnsrep_lookup_answer(r->conf, &q->l, z, -1, 0, NULL,
			    0);
			continue;
		}
		q->zq[z].pending = true;
		ws_add(&w->st->c[WS_REP_QUERIES], 1);
	}
	/* Last in deadline order, as every lookup has the same timeout. */
	q->prev = r->tail;
	if (r->tail != NULL)
		r->tail->next = q;
	else
		r->head = q;
	r->tail = q;
	c->rep = q;
	if ((v = dnsrep_decide(r->conf, &q->l)) != DNSREP_UNDECIDED) {
		/* Queries that could not start decided it already. */
		struct dnsrep_result now = { (uint8_t)v, q->l.score,
		    q->l.matched };

		drop(r, q);
		apply(r, c, &now, false, 0, false);
		return false;
	}
	if (r->head == q)
		arm(r);
	/* To see a client that leaves meanwhile. */
	conn_reading(c, true);
	return true;
}

void
rep_abandon(struct conn *c)
{
	struct rep_q *q = c->rep;
	struct rep *r;

	if (q == NULL)
		return;
	r = q->rep;
	q->conn = NULL;
	drop(r, q);
	c->rep = NULL;
	arm(r);
}

/* --- a worker's context --- */

int
rep_open(struct worker *w, struct rep **out)
{
	const struct conf *cf = w->conf;
	struct rep *r;
	char err[512];

	*out = NULL;
	if (cf->dnsrep == NULL)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->conf = malloc(sizeof(*r->conf))) == NULL) {
		free(r);
		log_warnx(w->log, "worker=%d: dnsrep: out of memory",
		    w->a->id);
		return -1;
	}
	r->w = w;
	if (dnsrep_load(cf->dnsrep, r->conf, err, sizeof(err)) == -1 ||
	    (dnsrep_cache_init(&r->cache, r->conf->cache_size) == -1 &&
	    snprintf(err, sizeof(err), "dnsrep cache: out of memory")) ||
	    resolver_new(&r->res, cf->resolvers, cf->nresolvers, err,
	    sizeof(err)) == -1) {
		log_warnx(w->log, "worker=%d: %s", w->a->id, err);
		dnsrep_cache_free(&r->cache);
		free(r->conf);
		free(r);
		return -1;
	}
	uv_timer_init(w->loop, &r->timer);
	r->timer.data = r;
	uv_poll_init(w->loop, &r->poll, resolver_fd(r->res));
	r->poll.data = r;
	uv_poll_start(&r->poll, UV_READABLE, on_readable);
	*out = r;
	return 0;
}

void
rep_free(struct rep *r)
{
	if (r == NULL)
		return;
	while (r->head != NULL)
		drop(r, r->head);
	resolver_free(r->res);
	dnsrep_cache_free(&r->cache);
	free(r->conf);
	free(r);
}
