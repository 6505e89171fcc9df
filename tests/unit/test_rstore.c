/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Tests of the shared store (rstore behind store.h) on a real
 * redis-server, one fresh server a test: TTLs, the sorted sets and the
 * stream beside each entry, optimistic transactions that run again,
 * the cache of what a transaction read, scans, and a server that is
 * gone.  Skipped without redis-server.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "greylist.h"
#include "record.h"
#include "redisfx.h"
#include "store.h"

struct fx {
	struct redisfx	 rfx;
	struct store	*st;
	redisContext	*c;		/* "another node" */
	char		 err[640];
	int64_t		 now;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_opts o = { 0 };
	char sock[128];
	struct timeval tv = { 1, 0 };

	if (f == NULL)
		return -1;
	*state = f;
	if (!redisfx_start(&f->rfx))
		return 0;	/* each test skips */
	o.shared = f->rfx.url;
	if (store_open(&f->st, "-", &o, f->err, sizeof(f->err)) != 0)
		return -1;
	snprintf(sock, sizeof(sock), "%s/redis.sock", f->rfx.dir);
	f->c = redisConnectUnixWithTimeout(sock, tv);
	if (f->c == NULL || f->c->err != 0)
		return -1;
	f->now = (int64_t)time(NULL);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f->c != NULL)
		redisFree(f->c);
	store_close(f->st);
	redisfx_stop(&f->rfx);
	free(f);
	return 0;
}

static struct fx *
need(void **state)
{
	struct fx *f = *state;

	if (f->st == NULL) {
		print_message("no redis-server here\n");
		skip();
	}
	return f;
}

/* A number the other connection reads, -2 for a nil reply. */
static long long
num(struct fx *f, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;
	long long v = 0;

	va_start(ap, fmt);
	r = redisvCommand(f->c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_STRING)
		v = atoll(r->str);
	else if (r->type == REDIS_REPLY_NIL)
		v = -2;
	else
		fail_msg("reply type %d", r->type);
	freeReplyObject(r);
	return v;
}

struct op {
	enum store_type	 type;
	const char	*key;
	struct store_rec rec;
	int		 rc;
	int		 runs;
	struct fx	*f;
};

static int
put_body(struct store_txn *t, void *arg)
{
	struct op *o = arg;

	return store_put(t, o->type, o->key, strlen(o->key), &o->rec);
}

static int
get_body(struct store_txn *t, void *arg)
{
	struct op *o = arg;

	o->rc = store_get(t, o->type, o->key, strlen(o->key), &o->rec);
	return 0;
}

static void
put(struct fx *f, enum store_type type, const char *key, int64_t expire)
{
	struct op o = { type, key, { f->now, f->now, expire, 1,
	    type == STORE_TRAPPED ? -1 : 0 }, 0, 0, f };

	assert_int_equal(store_update(f->st, put_body, &o, f->err,
	    sizeof(f->err)), 0);
}

static int
get(struct fx *f, enum store_type type, const char *key,
    struct store_rec *rec)
{
	struct op o = { type, key, { 0 }, 0, 0, f };

	assert_int_equal(store_view(f->st, get_body, &o, f->err,
	    sizeof(f->err)), 0);
	if (rec != NULL)
		*rec = o.rec;
	return o.rc;
}

static void
test_addr_ttl_sets_events(void **state)
{
	struct fx *f = need(state);
	struct store_rec r;
	long long ttl;

	put(f, STORE_WHITE, "192.0.2.1", f->now + 1000);
	ttl = num(f, "TTL nfspamd:a:192.0.2.1");
	assert_true(ttl > 990 && ttl <= 1000);
	assert_int_equal(num(f, "ZSCORE nfspamd:white 192.0.2.1"),
	    f->now + 1000);
	assert_int_equal(num(f, "XLEN nfspamd:events"), 1);
	assert_int_equal(get(f, STORE_WHITE, "192.0.2.1", &r), 0);
	assert_int_equal(r.expire, f->now + 1000);

	/* Trapped: the same key, the other set, one more event. */
	put(f, STORE_TRAPPED, "192.0.2.1", f->now + 500);
	assert_int_equal(get(f, STORE_WHITE, "192.0.2.1", NULL), 1);
	assert_int_equal(get(f, STORE_TRAPPED, "192.0.2.1", &r), 0);
	assert_int_equal(r.pcount, -1);
	assert_int_equal(num(f, "ZSCORE nfspamd:white 192.0.2.1"), -2);
	assert_int_equal(num(f, "ZSCORE nfspamd:trapped 192.0.2.1"),
	    f->now + 500);
	assert_int_equal(num(f, "XLEN nfspamd:events"), 2);

	/* Already expired: deleted, never written. */
	put(f, STORE_WHITE, "192.0.2.1", f->now - 1);
	assert_int_equal(num(f, "EXISTS nfspamd:a:192.0.2.1"), 0);
	assert_int_equal(num(f, "ZSCORE nfspamd:trapped 192.0.2.1"), -2);
	assert_int_equal(get(f, STORE_TRAPPED, "192.0.2.1", NULL), 1);
}

static void
test_tuple_hash_ttl(void **state)
{
	struct fx *f = need(state);
	long long ttl;

	put(f, STORE_GREY, "192.0.2.7\nh\n<a@b>\n<c@d>", f->now + 300);
	ttl = num(f, "TTL nfspamd:g:192.0.2.7");
	assert_true(ttl > 290 && ttl <= 300);
	/* A later tuple raises the hash's TTL; an earlier one does not. */
	put(f, STORE_GREY, "192.0.2.7\nh\n<a@b>\n<e@f>", f->now + 900);
	assert_true(num(f, "TTL nfspamd:g:192.0.2.7") > 890);
	put(f, STORE_GREY, "192.0.2.7\nh\n<a@b>\n<g@h>", f->now + 100);
	assert_true(num(f, "TTL nfspamd:g:192.0.2.7") > 890);
	assert_int_equal(num(f, "HLEN nfspamd:g:192.0.2.7"), 3);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.7\nh\n<a@b>\n<e@f>",
	    NULL), 0);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.7\nh\n<x@b>\n<e@f>",
	    NULL), 1);
}

/* Reads K, lets "another node" change it the first time, writes K+1. */
static int
race_body(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	struct store_rec r;
	redisReply *rep;

	o->runs++;
	if (store_get(t, STORE_WHITE, o->key, strlen(o->key), &r) != 0)
		return -1;
	if (o->runs == 1) {
		rep = redisCommand(o->f->c, "ZADD nfspamd:white 1 other");
		freeReplyObject(rep);
		rep = redisCommand(o->f->c, "EXPIRE nfspamd:a:%s 5000",
		    o->key);
		freeReplyObject(rep);
	}
	r.bcount++;
	return store_put(t, STORE_WHITE, o->key, strlen(o->key), &r);
}

static void
test_conflict_runs_again(void **state)
{
	struct fx *f = need(state);
	struct op o = { .key = "198.51.100.3", .f = f };
	struct store_rec r;

	put(f, STORE_WHITE, o.key, f->now + 1000);
	assert_int_equal(store_update(f->st, race_body, &o, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(o.runs, 2);
	assert_int_equal(get(f, STORE_WHITE, o.key, &r), 0);
	assert_int_equal(r.bcount, 2);	/* one increment, not two */
}

struct walk {
	size_t	 n;
	int64_t	 sum;
};

static int
live_fn(void *arg, const char *key, size_t keylen, int64_t expire)
{
	struct walk *w = arg;

	(void)key;
	(void)keylen;
	w->n++;
	w->sum += expire;
	return 0;
}

static void
test_live_and_trim(void **state)
{
	struct fx *f = need(state);
	struct walk w = { 0 };
	long removed;
	redisReply *rep;

	put(f, STORE_WHITE, "192.0.2.1", f->now + 100);
	put(f, STORE_WHITE, "192.0.2.2", f->now + 200);
	put(f, STORE_TRAPPED, "192.0.2.3", f->now + 300);
	/* A member whose key is long gone (a trim that did not run). */
	rep = redisCommand(f->c, "ZADD nfspamd:white %lld 192.0.2.9",
	    (long long)(f->now - 10));
	freeReplyObject(rep);
	assert_int_equal(store_live(f->st, STORE_WHITE, f->now, live_fn, &w,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.sum, 2 * f->now + 300);
	w = (struct walk){ 0 };
	assert_int_equal(store_live(f->st, STORE_TRAPPED, f->now, live_fn,
	    &w, f->err, sizeof(f->err)), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(store_trim(f->st, f->now, &removed, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(num(f, "ZCARD nfspamd:white"), 2);
}

static int
count_fn(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct walk *w = arg;

	(void)type;
	(void)key;
	(void)keylen;
	if (rec != NULL)
		w->n++;
	return 0;
}

struct scanq {
	enum store_type	 type;
	const char	*prefix;
	struct walk	 w;
	long		 count;
};

static int
scan_body(struct store_txn *t, void *arg)
{
	struct scanq *q = arg;

	q->count = store_count(t, q->type);
	return store_scan_prefix(t, q->type, q->prefix, q->prefix != NULL ?
	    strlen(q->prefix) : 0, count_fn, &q->w);
}

struct many {
	int64_t	 expire;
};

static int
many_body(struct store_txn *t, void *arg)
{
	struct many *m = arg;
	struct store_rec r = { m->expire - 100, m->expire - 50, m->expire, 1,
	    0 };
	char key[128];

	for (int i = 0; i < 2500; i++) {
		snprintf(key, sizeof(key), "10.%d.%d.1\nh\n<a@b>\n<c%d@d>",
		    i / 250, i % 250, i % 3);
		if (store_put(t, STORE_GREY, key, strlen(key), &r) != 0)
			return -1;
	}
	return 0;
}

static void
test_scans(void **state)
{
	struct fx *f = need(state);
	struct many m = { f->now + 1000 };
	struct scanq q = { STORE_GREY, NULL, { 0 }, 0 };

	assert_int_equal(store_update(f->st, many_body, &m, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_view(f->st, scan_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.w.n, 2500);	/* SCAN's batches, every one */
	assert_int_equal(q.count, -1);	/* tuples are not counted */
	/* One network's tuples: its hash, read whole. */
	q = (struct scanq){ STORE_GREY, "10.3.7.1\n", { 0 }, 0 };
	assert_int_equal(store_view(f->st, scan_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.w.n, 1);
	/* A prefix of networks: the pattern, its glob characters escaped. */
	q = (struct scanq){ STORE_GREY, "10.3.", { 0 }, 0 };
	assert_int_equal(store_view(f->st, scan_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.w.n, 250);
	put(f, STORE_WHITE, "192.0.2.1", f->now + 100);
	put(f, STORE_TRAPPED, "192.0.2.2", f->now + 100);
	q = (struct scanq){ STORE_WHITE, NULL, { 0 }, 0 };
	assert_int_equal(store_view(f->st, scan_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.w.n, 1);
	assert_int_equal(q.count, 1);
}

static int
from_body(struct store_txn *t, void *arg)
{
	(void)arg;
	return store_scan_from(t, STORE_GREY, "a", 1, count_fn, NULL);
}

static void
test_scan_from_refused(void **state)
{
	struct fx *f = need(state);

	assert_int_equal(store_view(f->st, from_body, NULL, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "no key order"));
}

static void
test_bogus_value(void **state)
{
	struct fx *f = need(state);
	struct op o = { STORE_WHITE, "192.0.2.5", { 0 }, 0, 0, f };
	redisReply *rep;

	rep = redisCommand(f->c, "SET nfspamd:a:192.0.2.5 junk");
	freeReplyObject(rep);
	assert_int_equal(store_view(f->st, get_body, &o, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(o.rc, -1);
}

struct pre {
	struct fx	*f;
	int		 rc[3];
};

/* Read ahead, then the server goes: the reads come from the cache. */
static int
prefetch_body(struct store_txn *t, void *arg)
{
	struct pre *p = arg;
	const struct store_want w[] = {
		{ STORE_WANT_TUPLES, "192.0.2.7", 9 },
		{ STORE_WANT_ADDR, "192.0.2.1", 9 },
		{ STORE_WANT_ADDR, "192.0.2.8", 9 },
	};
	struct store_rec r;
	redisReply *rep;

	if (store_prefetch(t, w, 3) != 0)
		return -1;
	rep = redisCommand(p->f->c, "CLIENT KILL TYPE normal SKIPME yes");
	freeReplyObject(rep);
	p->rc[0] = store_get(t, STORE_GREY, "192.0.2.7\nh\n<a@b>\n<c@d>",
	    23, &r);
	p->rc[1] = store_get(t, STORE_WHITE, "192.0.2.1", 9, &r);
	p->rc[2] = store_get(t, STORE_WHITE, "192.0.2.8", 9, &r);
	return 0;
}

static void
test_prefetch_cache(void **state)
{
	struct fx *f = need(state);
	struct pre p = { f, { 9, 9, 9 } };

	put(f, STORE_GREY, "192.0.2.7\nh\n<a@b>\n<c@d>", f->now + 300);
	put(f, STORE_WHITE, "192.0.2.1", f->now + 300);
	assert_int_equal(store_view(f->st, prefetch_body, &p, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(p.rc[0], 0);
	assert_int_equal(p.rc[1], 0);
	assert_int_equal(p.rc[2], 1);	/* absent is known too */
}

static void
test_server_gone(void **state)
{
	struct fx *f = need(state);
	struct timespec a, b;
	double ms;

	put(f, STORE_WHITE, "192.0.2.1", f->now + 300);
	redisfx_stop(&f->rfx);
	/* The broken connection is made again once, and that fails. */
	assert_int_equal(store_view(f->st, get_body, &(struct op){
	    STORE_WHITE, "192.0.2.1", { 0 }, 0, 0, f }, f->err,
	    sizeof(f->err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(store_update(f->st, put_body, &(struct op){
	    STORE_WHITE, "192.0.2.1", { 0, 0, f->now + 9, 0, 0 }, 0, 0, f },
	    f->err, sizeof(f->err)), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	assert_non_null(strstr(f->err, "redis.sock"));
	/* Within the backoff: refused at once, saying when it tries. */
	assert_true(ms < 1500);
	assert_int_equal(store_update(f->st, put_body, &(struct op){
	    STORE_WHITE, "192.0.2.1", { 0, 0, f->now + 9, 0, 0 }, 0, 0, f },
	    f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "next try in"));
	assert_false(store_up(f->st));
}

static int
touch_body(struct store_txn *t, void *arg)
{
	struct fx *f = arg;
	const struct store_want w = { STORE_WANT_TUPLES, "192.0.2.9", 9 };
	struct store_rec r = { f->now, f->now + 60, f->now + 600, 1, 0 };

	if (store_prefetch(t, &w, 1) != 0)
		return -1;
	return store_put(t, STORE_GREY, "192.0.2.9\nh\n<n@b>\n<c@d>", 23,
	    &r);
}

/* An update that reads a network's tuples drops those that expired. */
static void
test_sweep_expired_tuples(void **state)
{
	struct fx *f = need(state);
	struct store_rec old = { f->now - 900, f->now - 800, f->now - 10, 1,
	    0 };
	uint8_t v[STORE_RECSIZE];
	redisReply *rep;

	put(f, STORE_GREY, "192.0.2.9\nh\n<a@b>\n<c@d>", f->now + 300);
	store_rec_encode(&old, v);
	rep = redisCommand(f->c, "HSET nfspamd:g:192.0.2.9 %b %b",
	    "h\n<o@b>\n<c@d>", (size_t)13, v, sizeof(v));
	freeReplyObject(rep);
	assert_int_equal(num(f, "HLEN nfspamd:g:192.0.2.9"), 2);
	assert_int_equal(store_update(f->st, touch_body, f, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(num(f, "HLEN nfspamd:g:192.0.2.9"), 2);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.9\nh\n<o@b>\n<c@d>",
	    NULL), 1);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.9\nh\n<n@b>\n<c@d>",
	    NULL), 0);
}

struct livq {
	struct fx	*f;
	size_t		 limit, n, after;
};

static int
live_body(struct store_txn *t, void *arg)
{
	struct livq *q = arg;
	const struct store_want w = { STORE_WANT_COUNT, "192.0.2.9", 9 };
	struct store_rec r = { q->f->now, q->f->now + 60, q->f->now + 600, 1,
	    0 };

	if (store_prefetch(t, &w, 1) != 0 || store_tuples_live(t,
	    "192.0.2.9", 9, q->limit, q->f->now, &q->n) != 0)
		return -1;
	/* What this transaction adds counts at once. */
	if (store_put(t, STORE_GREY, "192.0.2.9\nh\n<x@b>\n<c@d>", 23,
	    &r) != 0 || store_put(t, STORE_GREY,
	    "192.0.2.9\nh\n<y@b>\n<c@d>", 23, &r) != 0)
		return -1;
	return store_tuples_live(t, "192.0.2.9", 9, q->limit, q->f->now,
	    &q->after);
}

/* The count needs the hash's length only, until the limit is near. */
static void
test_tuples_live(void **state)
{
	struct fx *f = need(state);
	struct store_rec old = { f->now - 900, f->now - 800, f->now - 10, 1,
	    0 };
	struct livq q = { f, 100, 0, 0 };
	uint8_t v[STORE_RECSIZE];
	redisReply *rep;

	put(f, STORE_GREY, "192.0.2.9\nh\n<a@b>\n<c@d>", f->now + 300);
	put(f, STORE_GREY, "192.0.2.9\nh\n<a@b>\n<e@f>", f->now + 300);
	store_rec_encode(&old, v);
	rep = redisCommand(f->c, "HSET nfspamd:g:192.0.2.9 %b %b",
	    "h\n<o@b>\n<c@d>", (size_t)13, v, sizeof(v));
	freeReplyObject(rep);
	/* Far from the limit: the length, the expired one included. */
	assert_int_equal(store_view(f->st, live_body, &q, f->err,
	    sizeof(f->err)), -1);	/* a view does not write */
	assert_int_equal(q.n, 3);
	assert_int_equal(store_update(f->st, live_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.n, 3);
	/* Two fields it had not read: the hash is read, the count exact. */
	assert_int_equal(q.after, 4);
	/* At the limit: read whole, the live ones counted, expired gone. */
	q = (struct livq){ f, 4, 0, 0 };
	assert_int_equal(store_update(f->st, live_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.n, 4);	/* 4 live: <a>x2, <x>, <y> */
	assert_int_equal(q.after, 4);
	q = (struct livq){ f, 6, 0, 0 };
	assert_int_equal(store_update(f->st, live_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.n, 4);
	assert_int_equal(num(f, "HLEN nfspamd:g:192.0.2.9"), 4);
}

struct rcptq {
	struct grey_conf	 gc;
	struct greylist_rcpt	 in;
	struct greylist_result	 res;
	int64_t			 now;
};

static int
rcpt_body(struct store_txn *t, void *arg)
{
	struct rcptq *q = arg;
	struct greylist_wants gw;

	greylist_rcpt_wants(&q->gc, &q->in, &gw);
	if (store_prefetch(t, gw.w, gw.n) != 0)
		return -1;
	return greylist_rcpt(t, &q->gc, NULL, &q->in, q->now, &q->res);
}

/* Without a cap, a network's hash is still swept when it grows long. */
static void
test_sweep_uncapped(void **state)
{
	struct fx *f = need(state);
	struct store_rec old = { f->now - 900, f->now - 800, f->now - 10, 1,
	    0 };
	struct rcptq q = { .now = f->now };
	uint8_t v[STORE_RECSIZE];
	char field[64];
	redisReply *rep;

	store_rec_encode(&old, v);
	for (int i = 0; i < GREY_MAXTUPLES; i++) {
		snprintf(field, sizeof(field), "h\n<o%d@b>\n<c@d>", i);
		redisAppendCommand(f->c, "HSET nfspamd:g:192.0.2.50 %s %b",
		    field, v, sizeof(v));
	}
	for (int i = 0; i < GREY_MAXTUPLES; i++) {
		assert_int_equal(redisGetReply(f->c, (void **)&rep), REDIS_OK);
		freeReplyObject(rep);
	}
	assert_int_equal(num(f, "HLEN nfspamd:g:192.0.2.50"), GREY_MAXTUPLES);
	grey_conf_default(&q.gc);
	q.gc.maxtuples = 0;
	assert_int_equal(addr_parse("192.0.2.50", &q.in.addr, NULL), 0);
	q.in.helo = "h";
	q.in.from = "<n@b>";
	q.in.to = "<c@d>";
	assert_int_equal(store_update(f->st, rcpt_body, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(q.res.outcome, GREYLIST_GREY);
	assert_int_equal(num(f, "HLEN nfspamd:g:192.0.2.50"), 1);
}

/* A failover made the server a replica: refused, then taken up again. */
static void
test_replica(void **state)
{
	struct fx *f = need(state);
	struct op o = { STORE_WHITE, "192.0.2.1", { f->now, f->now,
	    f->now + 60, 1, 0 }, 0, 0, f };
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	redisReply *rep;

	put(f, STORE_WHITE, "192.0.2.1", f->now + 30);
	rep = redisCommand(f->c, "REPLICAOF 127.0.0.1 1");
	freeReplyObject(rep);
	assert_int_equal(store_update(f->st, put_body, &o, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "READONLY"));
	/* The next connection finds a replica and says what to change. */
	assert_int_equal(store_update(f->st, put_body, &o, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "not the primary"));
	rep = redisCommand(f->c, "REPLICAOF NO ONE");
	freeReplyObject(rep);
	nanosleep(&ts, NULL);	/* past the backoff */
	assert_int_equal(store_update(f->st, put_body, &o, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(num(f, "ZSCORE nfspamd:white 192.0.2.1"),
	    f->now + 60);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_addr_ttl_sets_events),
		T(test_tuple_hash_ttl),
		T(test_conflict_runs_again),
		T(test_live_and_trim),
		T(test_scans),
		T(test_scan_from_refused),
		T(test_bogus_value),
		T(test_prefetch_cache),
		T(test_sweep_expired_tuples),
		T(test_replica),
		T(test_tuples_live),
		T(test_sweep_uncapped),
		T(test_server_gone),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
