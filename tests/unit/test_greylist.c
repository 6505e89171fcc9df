/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for greylist: RCPT updates and the scan, on a temporary
 * store, with an injected clock.  Every test runs twice: on LMDB, and
 * on a shared store in a real redis-server (skipped without one).  The
 * clock starts at the real time: the server's TTLs are real ones.
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

#include "greylist.h"
#include "redisfx.h"

#define T0	t0

static int64_t		 t0;
static struct redisfx	 rfx;
static bool		 shared;

struct fx {
	char			 dir[64];
	char			 err[256];
	struct store		*st;
	struct grey_conf	 gc;
	struct greylist_domains	 dom;
	/* One RCPT's input and result, for the transaction body. */
	struct greylist_rcpt	 in;
	struct greylist_result	 res;
	int64_t			 now;
};

static int
setup_store(void **state, bool on_redis)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_opts o = { .create = true, .sync_ms = 1000 };

	snprintf(f->dir, sizeof(f->dir), "/tmp/nfs-greylist-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	shared = on_redis;
	if (shared) {
		o.shared = rfx.url;
		if (redisfx_flush(&rfx) == -1)
			return -1;
	}
	if (store_open(&f->st, f->dir, &o, f->err, sizeof(f->err)) != 0)
		return -1;
	grey_conf_default(&f->gc);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_store(state, false);
}

static int
setup_shared(void **state)
{
	return setup_store(state, true);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int
rcpt_body(struct store_txn *t, void *arg)
{
	struct fx *f = arg;

	return greylist_rcpt(t, &f->gc, &f->dom, &f->in, f->now, &f->res);
}

static enum greylist_outcome
rcpt(struct fx *f, const char *ip, const char *helo, const char *from,
    const char *to, int64_t now)
{
	assert_int_equal(addr_parse(ip, &f->in.addr, NULL), 0);
	f->in.helo = helo;
	f->in.from = from;
	f->in.to = to;
	f->now = now;
	assert_int_equal(store_update(f->st, rcpt_body, f, f->err,
	    sizeof(f->err)), 0);
	return f->res.outcome;
}

struct getq {
	enum store_type	 type;
	const char	*key;
	struct store_rec rec;
	int		 rc;
};

static int
get_body(struct store_txn *t, void *arg)
{
	struct getq *q = arg;

	q->rc = store_get(t, q->type, q->key, strlen(q->key), &q->rec);
	return 0;
}

static int
get(struct fx *f, enum store_type type, const char *key,
    struct store_rec *rec)
{
	struct getq q = { type, key, { 0 }, 0 };

	assert_int_equal(store_view(f->st, get_body, &q, f->err,
	    sizeof(f->err)), 0);
	if (rec != NULL)
		*rec = q.rec;
	return q.rc;
}

static int
put_body(struct store_txn *t, void *arg)
{
	struct getq *q = arg;

	return store_put(t, q->type, q->key, strlen(q->key), &q->rec);
}

static void
put(struct fx *f, enum store_type type, const char *key,
    const struct store_rec *rec)
{
	struct getq q = { type, key, *rec, 0 };

	assert_int_equal(store_update(f->st, put_body, &q, f->err,
	    sizeof(f->err)), 0);
}

#define TUPLE	"192.0.2.1\nmx.example\n<a@example.org>\n<b@example.net>"

static void
test_first_retry_pass(void **state)
{
	struct fx *f = *state;
	struct store_rec r, w;

	assert_int_equal(rcpt(f, "192.0.2.1", "mx.example", "<a@example.org>",
	    "<b@example.net>", T0), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	assert_int_equal(get(f, STORE_GREY, TUPLE, &r), 0);
	assert_int_equal(r.first, T0);
	assert_int_equal(r.pass, T0 + GREY_GREYEXP);
	assert_int_equal(r.expire, T0 + GREY_GREYEXP);
	assert_int_equal(r.bcount, 1);

	/* Too early: still grey. */
	assert_int_equal(rcpt(f, "192.0.2.1", "mx.example", "<a@example.org>",
	    "<b@example.net>", T0 + 600), GREYLIST_GREY);
	assert_false(f->res.new_tuple);
	assert_int_equal(get(f, STORE_WHITE, "192.0.2.1", NULL), 1);

	/* After passtime: passes, and the address is WHITE at once. */
	assert_int_equal(rcpt(f, "192.0.2.1", "mx.example", "<a@example.org>",
	    "<b@example.net>", T0 + GREY_PASSTIME + 1), GREYLIST_PASSED);
	assert_int_equal(f->res.rec.pass, T0 + GREY_PASSTIME + 1);
	assert_int_equal(f->res.rec.bcount, 3);
	assert_int_equal(get(f, STORE_WHITE, "192.0.2.1", &w), 0);
	assert_int_equal(w.expire, T0 + GREY_PASSTIME + 1 + GREY_WHITEEXP);
	assert_int_equal(w.first, T0);
	assert_memory_equal(&w, &f->res.white, sizeof(w));
	/* The tuple keeps its own expiry. */
	assert_int_equal(get(f, STORE_GREY, TUPLE, &r), 0);
	assert_int_equal(r.expire, T0 + GREY_GREYEXP);
}

/*
 * A first attempt at a greyd peer arrives lower-cased (and is kept in
 * spamd's brackets by the sync code); the retry here, as the client
 * writes it, is the same tuple and passes.  And the other way round: a
 * first attempt here, then greyd's GREY for it (loose).
 */
static void
test_greyd_form_matches(void **state)
{
	struct fx *f = *state;
	struct store_rec r;

	f->in.loose = true;
	assert_int_equal(rcpt(f, "192.0.2.1", "mx.example", "<a@example.org>",
	    "<b@example.net>", T0), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	f->in.loose = false;
	assert_int_equal(rcpt(f, "192.0.2.1", "mx.example", "<A@Example.ORG>",
	    "<b@EXAMPLE.net>", T0 + GREY_PASSTIME + 1), GREYLIST_PASSED);
	assert_false(f->res.new_tuple);
	assert_int_equal(f->res.rec.bcount, 2);
	assert_int_equal(f->res.rec.first, T0);
	/* The record kept its first key; no second tuple was made. */
	assert_int_equal(get(f, STORE_GREY,
	    "192.0.2.1\nmx.example\n<a@example.org>\n<b@example.net>", &r), 0);
	assert_int_equal(get(f, STORE_GREY,
	    "192.0.2.1\nmx.example\n<A@Example.ORG>\n<b@EXAMPLE.net>", NULL),
	    1);

	/* Here first, as the client writes it; then greyd's GREY. */
	assert_int_equal(rcpt(f, "192.0.2.3", "mx.example", "<C@Example.ORG>",
	    "<D@example.net>", T0), GREYLIST_GREY);
	f->in.loose = true;
	assert_int_equal(rcpt(f, "192.0.2.3", "mx.example", "<c@example.org>",
	    "<d@example.net>", T0 + GREY_PASSTIME + 1), GREYLIST_PASSED);
	assert_int_equal(f->res.rec.bcount, 2);
	f->in.loose = false;

	/* Another HELO, or another mailbox, is another tuple. */
	assert_int_equal(rcpt(f, "192.0.2.2", "mx.example", "<a@example.org>",
	    "<b@example.net>", T0), GREYLIST_GREY);
	f->in.loose = true;
	assert_int_equal(rcpt(f, "192.0.2.2", "other.example",
	    "<a@example.org>", "<b@example.net>", T0 + GREY_PASSTIME + 1),
	    GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	assert_int_equal(rcpt(f, "192.0.2.2", "mx.example", "<a@example.org>",
	    "<c@example.net>", T0 + GREY_PASSTIME + 1), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	f->in.loose = false;
}

/* One address gets at most maxtuples live tuples; others are not held
   back, and the old ones still pass. */
static void
test_maxtuples(void **state)
{
	struct fx *f = *state;
	char to[64];

	f->gc.maxtuples = 5;
	for (int i = 0; i < 8; i++) {
		snprintf(to, sizeof(to), "<u%d@example.net>", i);
		assert_int_equal(rcpt(f, "192.0.2.9", "mx.example",
		    "<a@example.org>", to, T0), i < 5 ? GREYLIST_GREY :
		    GREYLIST_CAPPED);
		assert_true(f->res.new_tuple);
	}
	assert_int_equal(get(f, STORE_GREY,
	    "192.0.2.9\nmx.example\n<a@example.org>\n<u5@example.net>", NULL),
	    1);
	assert_int_equal(rcpt(f, "192.0.2.10", "mx.example", "<a@example.org>",
	    "<u5@example.net>", T0), GREYLIST_GREY);
	assert_int_equal(rcpt(f, "192.0.2.9", "mx.example", "<a@example.org>",
	    "<u4@example.net>", T0 + GREY_PASSTIME + 1), GREYLIST_PASSED);
	/* Expired tuples do not count. */
	assert_int_equal(rcpt(f, "192.0.2.9", "mx.example", "<a@example.org>",
	    "<u6@example.net>", T0 + GREY_GREYEXP), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
}

static void
test_ipv6_tuple(void **state)
{
	struct fx *f = *state;

	/* -N :128, spamd's way: the address is the key. */
	f->gc.net6 = 128;
	assert_int_equal(rcpt(f, "2001:DB8::25", "", "<a@b>", "<c@d>", T0),
	    GREYLIST_GREY);
	assert_int_equal(get(f, STORE_GREY, "2001:db8::25\n\n<a@b>\n<c@d>",
	    NULL), 0);
	/* Another address of the /64 is another sender. */
	assert_int_equal(rcpt(f, "2001:db8::26", "", "<a@b>", "<c@d>",
	    T0 + 3600), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	assert_int_equal(rcpt(f, "2001:db8::25", "", "<a@b>", "<c@d>",
	    T0 + 3600), GREYLIST_PASSED);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8::25", NULL), 0);
}

/* The default -N 32:64: a retry from another address of the /64 passes. */
static void
test_network_tuple(void **state)
{
	struct fx *f = *state;
	struct store_rec r;

	assert_int_equal(rcpt(f, "2001:db8:1:2::25", "mx.example", "<a@b>",
	    "<c@d>", T0), GREYLIST_GREY);
	assert_int_equal(get(f, STORE_GREY,
	    "2001:db8:1:2::/64\nmx.example\n<a@b>\n<c@d>", NULL), 0);
	assert_int_equal(rcpt(f, "2001:db8:1:2:aaaa::9", "mx.example",
	    "<a@b>", "<c@d>", T0 + 1800), GREYLIST_PASSED);
	assert_false(f->res.new_tuple);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8:1:2::/64", &r), 0);
	assert_int_equal(r.expire, T0 + 1800 + GREY_WHITEEXP);
	/* Another /64 is not the same sender. */
	assert_int_equal(rcpt(f, "2001:db8:1:3::25", "mx.example", "<a@b>",
	    "<c@d>", T0 + 1800), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	/* IPv4 stays per address by default ... */
	assert_int_equal(rcpt(f, "198.51.100.7", "h", "<a@b>", "<c@d>", T0),
	    GREYLIST_GREY);
	assert_int_equal(rcpt(f, "198.51.100.8", "h", "<a@b>", "<c@d>",
	    T0 + 1800), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	/* ... and by /24 with -N 24:64. */
	f->gc.net4 = 24;
	assert_int_equal(rcpt(f, "192.0.2.7", "h", "<a@b>", "<c@d>", T0),
	    GREYLIST_GREY);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.0/24\nh\n<a@b>\n<c@d>",
	    NULL), 0);
	assert_int_equal(rcpt(f, "192.0.2.200", "h", "<a@b>", "<c@d>",
	    T0 + 1800), GREYLIST_PASSED);
	assert_int_equal(get(f, STORE_WHITE, "192.0.2.0/24", NULL), 0);
}

/* Traps stay per address; a trapped address does not whitelist its net. */
static void
test_network_trap(void **state)
{
	struct fx *f = *state;
	struct store_rec trapr = { T0 - 10, 0, 0, 1, GREY_PCOUNT_SPAMTRAP };

	put(f, STORE_SPAMTRAP, "trap@example.net", &trapr);
	assert_int_equal(rcpt(f, "2001:db8::7", "h", "<x@y>",
	    "<trap@example.net>", T0), GREYLIST_TRAPPED);
	assert_int_equal(get(f, STORE_TRAPPED, "2001:db8::7", NULL), 0);
	assert_int_equal(get(f, STORE_TRAPPED, "2001:db8::/64", NULL), 1);
	/* The trapped host's tuple passes, but its network is not made white. */
	assert_int_equal(rcpt(f, "2001:db8::7", "h", "<x@y>", "<c@d>", T0),
	    GREYLIST_GREY);
	assert_int_equal(rcpt(f, "2001:db8::7", "h", "<x@y>", "<c@d>",
	    T0 + 1800), GREYLIST_GREY);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8::/64", NULL), 1);
	/* Its neighbour passes and whitelists the network. */
	assert_int_equal(rcpt(f, "2001:db8::8", "h", "<x@y>", "<c@d>",
	    T0 + 1800), GREYLIST_PASSED);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8::/64", NULL), 0);
}

static void
test_parse_nets(void **state)
{
	struct grey_conf gc;
	const char *why;
	struct prefix p;
	struct addr a;
	char buf[ADDR_STRLEN];
	uint8_t b[GREY_NETS_SIZE];

	(void)state;
	grey_conf_default(&gc);
	assert_int_equal(gc.net4, 32);
	assert_int_equal(gc.net6, 64);
	assert_int_equal(grey_parse_nets("24:56", &gc, &why), 0);
	assert_int_equal(gc.net4, 24);
	assert_int_equal(gc.net6, 56);
	assert_int_equal(grey_parse_nets(":128", &gc, &why), 0);
	assert_int_equal(gc.net4, 24);
	assert_int_equal(gc.net6, 128);
	assert_int_equal(grey_parse_nets("/32:/64", &gc, &why), 0);
	assert_int_equal(gc.net4, 32);
	assert_int_equal(gc.net6, 64);
	assert_int_equal(grey_parse_nets("24", &gc, &why), -1);
	assert_int_equal(grey_parse_nets(":", &gc, &why), -1);
	assert_int_equal(grey_parse_nets("7:64", &gc, &why), -1);
	assert_string_equal(why, "IPv4 prefix length not in 8..32");
	assert_int_equal(grey_parse_nets("33:64", &gc, &why), -1);
	assert_int_equal(grey_parse_nets("24:31", &gc, &why), -1);
	assert_int_equal(grey_parse_nets("24:129", &gc, &why), -1);
	assert_int_equal(grey_parse_nets("24:6x", &gc, &why), -1);
	assert_int_equal(grey_parse_nets("24:0064", &gc, &why), -1);
	assert_int_equal(gc.net4, 32);	/* untouched on error */
	assert_int_equal(gc.net6, 64);

	assert_int_equal(addr_parse("2001:db8:1:2:3:4:5:6", &a, NULL), 0);
	grey_net(&gc, &a, &p);
	assert_int_equal(p.len, 64);
	grey_net_key(&gc, &a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1:2::/64");
	assert_int_equal(addr_parse("192.0.2.77", &a, NULL), 0);
	grey_net_key(&gc, &a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.77");
	gc.net4 = 0;	/* a conf not from grey_conf_default */
	grey_net_key(&gc, &a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.77");

	gc.net4 = 20;
	grey_nets_encode(&gc, b);
	grey_conf_default(&gc);
	assert_int_equal(grey_nets_decode(b, sizeof(b), &gc), 0);
	assert_int_equal(gc.net4, 20);
	assert_int_equal(grey_nets_decode(b, 1, &gc), -1);
	b[1] = 200;
	assert_int_equal(grey_nets_decode(b, sizeof(b), &gc), -1);
}

static bool	has_entry(const struct greylist_entry *, size_t,
		    const char *, int64_t);

/*
 * WHITE entries keyed otherwise than -N says (an older setting, an
 * import): narrower ones move to their network's key, merged, wider
 * ones go; the kernel list has the networks.  Network tuples pass too.
 */
static void
test_scan_rekey(void **state)
{
	struct fx *f = *state;
	struct greylist_scan s;
	struct store_rec r, a = { T0, T0, T0 + 1000, 1, 3 },
	    b = { T0 - 50, T0, T0 + 2000, 1, 1 };
	int64_t now = T0 + 10;

	put(f, STORE_WHITE, "2001:db8:1:2::5", &a);
	put(f, STORE_WHITE, "2001:db8:1:2::6", &b);
	put(f, STORE_WHITE, "2001:db8:9::/48", &a);
	put(f, STORE_TRAPPED, "2001:db8:1:2::7", &(struct store_rec){ T0,
	    T0, T0 + 1000, 1, GREY_PCOUNT_TRAPPED });
	/* A passed tuple of a /64. */
	r = (struct store_rec){ T0 - 3600, T0 - 1000, T0 + GREY_GREYEXP, 2,
	    0 };
	put(f, STORE_GREY, "2001:db8:7:7::/64\nh\n<a@b>\n<c@d>", &r);
	assert_int_equal(greylist_scan_run(f->st, &f->gc, now, NULL, NULL, 0,
	    &s, f->err, sizeof(f->err)), 0);
	assert_int_equal(s.rekeyed, 2);
	assert_int_equal(s.promoted, 1);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8:1:2::5", NULL), 1);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8:1:2::6", NULL), 1);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8:9::/48", NULL), 1);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8:1:2::/64", &r), 0);
	assert_int_equal(r.first, T0 - 50);
	assert_int_equal(r.expire, T0 + 2000);
	assert_int_equal(get(f, STORE_WHITE, "2001:db8:7:7::/64", NULL), 0);
	/* The trap is untouched and still listed. */
	assert_int_equal(get(f, STORE_TRAPPED, "2001:db8:1:2::7", NULL), 0);
	assert_int_equal(s.ntrapped, 1);
	assert_true(has_entry(s.white, s.nwhite, "2001:db8:1:2::", T0 + 2000));
	assert_true(has_entry(s.white, s.nwhite, "2001:db8:7:7::",
	    now + GREY_WHITEEXP));
	assert_int_equal(s.nwhite, 2);
	greylist_scan_free(&s);
}

static int
nets_save_body(struct store_txn *t, void *arg)
{
	return greylist_nets_save(t, arg);
}

static int
nets_load_body(struct store_txn *t, void *arg)
{
	return greylist_nets_load(t, arg);
}

/* nfspamd records -N; nfspamlogd and nfspamdb read it back. */
static void
test_nets_meta(void **state)
{
	struct fx *f = *state;
	struct grey_conf gc;

	grey_conf_default(&gc);
	assert_int_equal(store_view(f->st, nets_load_body, &gc, f->err,
	    sizeof(f->err)), 1);
	gc.net4 = 24;
	gc.net6 = 48;
	assert_int_equal(store_update(f->st, nets_save_body, &gc, f->err,
	    sizeof(f->err)), 0);
	grey_conf_default(&gc);
	assert_int_equal(store_view(f->st, nets_load_body, &gc, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(gc.net4, 24);
	assert_int_equal(gc.net6, 48);
}

static void
test_spamtrap(void **state)
{
	struct fx *f = *state;
	struct store_rec trapr = { T0 - 10, 0, 0, 1, GREY_PCOUNT_SPAMTRAP };
	struct store_rec r;

	put(f, STORE_SPAMTRAP, "trap@example.net", &trapr);
	/* Case and angle brackets do not hide a trap. */
	assert_int_equal(rcpt(f, "198.51.100.7", "h", "<x@y>",
	    "<TRAP@Example.NET>", T0), GREYLIST_TRAPPED);
	assert_string_equal(f->res.why, "spamtrap");
	assert_int_equal(get(f, STORE_TRAPPED, "198.51.100.7", &r), 0);
	assert_int_equal(r.pcount, GREY_PCOUNT_TRAPPED);
	assert_int_equal(r.expire, T0 + GREY_TRAPEXP);
	/* No tuple was recorded for a trap hit. */
	assert_int_equal(get(f, STORE_GREY,
	    "198.51.100.7\nh\n<x@y>\n<TRAP@Example.NET>", NULL), 1);

	/* A trapped address is never whitelisted by a passing tuple. */
	assert_int_equal(rcpt(f, "198.51.100.7", "h", "<x@y>", "<ok@y>", T0),
	    GREYLIST_GREY);
	assert_int_equal(rcpt(f, "198.51.100.7", "h", "<x@y>", "<ok@y>",
	    T0 + 3600), GREYLIST_GREY);
	assert_int_equal(get(f, STORE_WHITE, "198.51.100.7", NULL), 1);
}

static void
test_alloweddomains(void **state)
{
	struct fx *f = *state;
	const char *names[] = { "example.org", "@mail.example.com" };

	f->dom.names = names;
	f->dom.n = 2;
	assert_int_equal(rcpt(f, "192.0.2.9", "h", "<a@b>",
	    "<user@EXAMPLE.org>", T0), GREYLIST_GREY);
	assert_int_equal(rcpt(f, "192.0.2.9", "h", "<a@b>",
	    "<user@mail.example.com>", T0), GREYLIST_GREY);
	assert_int_equal(rcpt(f, "192.0.2.9", "h", "<a@b>",
	    "<user@other.example>", T0), GREYLIST_TRAPPED);
	assert_string_equal(f->res.why, "alloweddomains");
	assert_int_equal(get(f, STORE_TRAPPED, "192.0.2.9", NULL), 0);
}

static void
test_lowprio_mx(void **state)
{
	struct fx *f = *state;

	/* A tuple seen first at the low-priority MX traps its sender... */
	f->in.lowprio_mx = true;
	assert_int_equal(rcpt(f, "192.0.2.44", "h", "<a@b>", "<c@d>", T0),
	    GREYLIST_TRAPPED);
	assert_string_equal(f->res.why, "lowprio-mx");
	/* ...but a known tuple retried there is a normal retry. */
	f->in.lowprio_mx = false;
	assert_int_equal(rcpt(f, "192.0.2.45", "h", "<a@b>", "<c@d>", T0),
	    GREYLIST_GREY);
	f->in.lowprio_mx = true;
	assert_int_equal(rcpt(f, "192.0.2.45", "h", "<a@b>", "<c@d>",
	    T0 + 3600), GREYLIST_PASSED);
}

static void
test_overlong_fields(void **state)
{
	struct fx *f = *state;
	char big[600];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(rcpt(f, "192.0.2.1", big, "<a@b>", "<c@d>", T0),
	    GREYLIST_SKIPPED);
}

static void
test_expired_tuple_is_new(void **state)
{
	struct fx *f = *state;
	struct store_rec r;

	rcpt(f, "192.0.2.1", "mx.example", "<a@example.org>",
	    "<b@example.net>", T0);
	/* Retried only after greyexp: starts over instead of passing. */
	assert_int_equal(rcpt(f, "192.0.2.1", "mx.example", "<a@example.org>",
	    "<b@example.net>", T0 + GREY_GREYEXP + 5), GREYLIST_GREY);
	assert_true(f->res.new_tuple);
	assert_int_equal(get(f, STORE_GREY, TUPLE, &r), 0);
	assert_int_equal(r.first, T0 + GREY_GREYEXP + 5);
}

/* --- scan --- */

static bool
black_fn(void *arg, const struct addr *a)
{
	struct addr b;

	(void)arg;
	addr_parse("203.0.113.66", &b, NULL);
	return addr_eq(a, &b);
}

static bool
has_entry(const struct greylist_entry *e, size_t n, const char *ip,
    int64_t expire)
{
	struct addr a;

	addr_parse(ip, &a, NULL);
	for (size_t i = 0; i < n; i++)
		if (addr_eq(&e[i].addr, &a) && e[i].expire == expire)
			return true;
	return false;
}

static void
test_scan(void **state)
{
	struct fx *f = *state;
	struct greylist_scan s;
	struct store_rec r;
	int64_t now = T0 + 2 * 3600;

	f->gc.net6 = 128;	/* per address, as spamd */
	/* Passed tuple, address not yet white (e.g. a synced tuple). */
	r = (struct store_rec){ T0, T0 + 3600, T0 + GREY_GREYEXP, 2, 0 };
	put(f, STORE_GREY, "192.0.2.1\nh\n<a@b>\n<c@d>", &r);
	/* A second passed tuple of the same address: one white entry. */
	put(f, STORE_GREY, "192.0.2.1\nh\n<a@b>\n<e@f>", &r);
	/* A passed tuple of a blacklisted address: demoted (deleted). */
	put(f, STORE_GREY, "203.0.113.66\nh\n<a@b>\n<c@d>", &r);
	/* A never-retried, expired tuple. */
	r = (struct store_rec){ T0 - GREY_GREYEXP - 10, T0 - 10, T0 - 10,
	    1, 0 };
	put(f, STORE_GREY, "192.0.2.2\nh\n<a@b>\n<c@d>", &r);
	/* A waiting tuple stays. */
	r = (struct store_rec){ now - 60, now + GREY_GREYEXP,
	    now + GREY_GREYEXP, 1, 0 };
	put(f, STORE_GREY, "192.0.2.3\nh\n<a@b>\n<c@d>", &r);
	/* A live WHITE entry, an expired one, a trapped one. */
	r = (struct store_rec){ T0, T0, now + 1000, 1, 3 };
	put(f, STORE_WHITE, "2001:db8::1", &r);
	r = (struct store_rec){ T0, T0, now - 1, 1, 3 };
	put(f, STORE_WHITE, "192.0.2.200", &r);
	r = (struct store_rec){ T0, T0, now + 500, 1, -1 };
	put(f, STORE_TRAPPED, "198.51.100.9", &r);
	/* A tuple with an unusable address that has passed: deleted. */
	r = (struct store_rec){ T0, T0 + 3600, now + 100, 2, 0 };
	put(f, STORE_GREY, "not-an-ip\nh\n<a@b>\n<c@d>", &r);

	assert_int_equal(greylist_scan_run(f->st, &f->gc, now, black_fn,
	    NULL, 2, &s, f->err, sizeof(f->err)), 0);
	/* A shared store never took the tuple that had expired already. */
	assert_int_equal(s.scanned, shared ? 8 : 9);
	assert_int_equal(s.nwhite, 2);
	assert_true(has_entry(s.white, s.nwhite, "192.0.2.1",
	    now + GREY_WHITEEXP));
	assert_true(has_entry(s.white, s.nwhite, "2001:db8::1", now + 1000));
	assert_int_equal(s.ntrapped, 1);
	assert_true(has_entry(s.trapped, s.ntrapped, "198.51.100.9",
	    now + 500));
	assert_int_equal(s.promoted, 1);
	assert_int_equal(s.demoted, 1);
	assert_int_equal(s.deleted, shared ? 3 : 4);

	assert_int_equal(get(f, STORE_WHITE, "192.0.2.1", &r), 0);
	assert_int_equal(r.expire, now + GREY_WHITEEXP);
	assert_int_equal(get(f, STORE_WHITE, "192.0.2.200", NULL), 1);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.2\nh\n<a@b>\n<c@d>",
	    NULL), 1);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.3\nh\n<a@b>\n<c@d>",
	    NULL), 0);
	assert_int_equal(get(f, STORE_GREY, "203.0.113.66\nh\n<a@b>\n<c@d>",
	    NULL), 1);
	assert_int_equal(get(f, STORE_GREY, "not-an-ip\nh\n<a@b>\n<c@d>",
	    NULL), 1);
	/* Passed tuples stay until their own expiry. */
	assert_int_equal(get(f, STORE_GREY, "192.0.2.1\nh\n<a@b>\n<c@d>",
	    NULL), 0);
	greylist_scan_free(&s);

	/* A second scan changes nothing more. */
	assert_int_equal(greylist_scan_run(f->st, &f->gc, now, black_fn,
	    NULL, 1000, &s, f->err, sizeof(f->err)), 0);
	assert_int_equal(s.deleted, 0);
	assert_int_equal(s.promoted, 0);
	assert_int_equal(s.nwhite, 2);
	greylist_scan_free(&s);
}

static void
test_scan_trapped_tuple_not_promoted(void **state)
{
	struct fx *f = *state;
	struct greylist_scan s;
	struct store_rec r;
	int64_t now = T0 + 7200;

	r = (struct store_rec){ T0, T0 + 3600, T0 + GREY_GREYEXP, 2, 0 };
	put(f, STORE_GREY, "192.0.2.77\nh\n<a@b>\n<c@d>", &r);
	r = (struct store_rec){ T0, T0, now + 60, 1, -1 };
	put(f, STORE_TRAPPED, "192.0.2.77", &r);
	assert_int_equal(greylist_scan_run(f->st, &f->gc, now, NULL, NULL, 0,
	    &s, f->err, sizeof(f->err)), 0);
	assert_int_equal(s.nwhite, 0);
	assert_int_equal(s.ntrapped, 1);
	assert_int_equal(get(f, STORE_WHITE, "192.0.2.77", NULL), 1);
	assert_int_equal(get(f, STORE_GREY, "192.0.2.77\nh\n<a@b>\n<c@d>",
	    NULL), 0);
	greylist_scan_free(&s);
}

static int
trapped_body(struct store_txn *t, void *arg)
{
	struct fx *f = arg;

	return greylist_is_trapped(t, &f->in.addr, f->now);
}

static void
test_is_trapped(void **state)
{
	struct fx *f = *state;
	struct store_rec r = { T0, T0, T0 + 100, 1, -1 };

	put(f, STORE_TRAPPED, "192.0.2.5", &r);
	addr_parse("192.0.2.5", &f->in.addr, NULL);
	f->now = T0;
	assert_int_equal(store_view(f->st, trapped_body, f, f->err,
	    sizeof(f->err)), 1);
	f->now = T0 + 100;	/* expired */
	assert_int_equal(store_view(f->st, trapped_body, f, f->err,
	    sizeof(f->err)), 0);
	addr_parse("192.0.2.6", &f->in.addr, NULL);
	f->now = T0;
	assert_int_equal(store_view(f->st, trapped_body, f, f->err,
	    sizeof(f->err)), 0);
}

static void
test_scan_news(void **state)
{
	struct greylist_scan prev = { .nwhite = 3, .ntrapped = 1 };
	struct greylist_scan r = prev;

	(void)state;
	assert_true(greylist_scan_news(&r, NULL));	/* the first */
	assert_false(greylist_scan_news(&r, &prev));	/* idle */
	r.scanned = 1000;
	assert_false(greylist_scan_news(&r, &prev));	/* reading is not news */
	r.nwhite = 4;
	assert_true(greylist_scan_news(&r, &prev));
	r = prev;
	r.ntrapped = 0;
	assert_true(greylist_scan_news(&r, &prev));
	r = prev;
	r.deleted = 1;
	assert_true(greylist_scan_news(&r, &prev));
	r = prev;
	r.promoted = 1;
	assert_true(greylist_scan_news(&r, &prev));
	r = prev;
	r.demoted = 1;
	assert_true(greylist_scan_news(&r, &prev));
	r = prev;
	r.bogus = 1;
	assert_true(greylist_scan_news(&r, &prev));
}

static void
test_no_server(void **state)
{
	(void)state;
	print_message("no redis-server: the shared store is not tested\n");
	skip();
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_first_retry_pass),
		T(test_greyd_form_matches),
		T(test_maxtuples),
		T(test_ipv6_tuple),
		T(test_network_tuple),
		T(test_network_trap),
		T(test_nets_meta),
		T(test_scan_rekey),
		cmocka_unit_test(test_parse_nets),
		T(test_spamtrap),
		T(test_alloweddomains),
		T(test_lowprio_mx),
		T(test_overlong_fields),
		T(test_expired_tuple_is_new),
		T(test_scan),
		T(test_scan_trapped_tuple_not_promoted),
		T(test_is_trapped),
		cmocka_unit_test(test_scan_news),
	};
#undef T
	const size_t n = sizeof(tests) / sizeof(tests[0]);
	struct CMUnitTest all[2 * (sizeof(tests) / sizeof(tests[0]))];
	char names[sizeof(tests) / sizeof(tests[0])][80];
	size_t k = n;
	int rc;

	/* One plan: each test on LMDB, then again on the shared store. */
	t0 = (int64_t)time(NULL);
	memcpy(all, tests, sizeof(tests));
	if (!redisfx_start(&rfx))
		all[k++] = (struct CMUnitTest)cmocka_unit_test(test_no_server);
	else
		for (size_t i = 0; i < n; i++) {
			if (tests[i].setup_func == NULL)
				continue;	/* no store: once is enough */
			all[k] = tests[i];
			snprintf(names[i], sizeof(names[i]), "shared %s",
			    tests[i].name);
			all[k].name = names[i];
			all[k].setup_func = setup_shared;
			k++;
		}
	rc = _cmocka_run_group_tests("greylist", all, k, NULL, NULL);
	redisfx_stop(&rfx);
	return rc;
}
