/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * greylist: greylist operations on the store.  See greylist.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greylist.h"

/* A live entry: present and not yet expired (spamtraps never expire). */
static bool
live(const struct store_rec *r, int64_t now)
{
	return r->pcount == GREY_PCOUNT_SPAMTRAP || r->expire > now;
}

static int
trap(struct store_txn *t, const struct grey_conf *gc, const char *ip,
    size_t iplen, int64_t now, const char *why, struct greylist_result *res)
{
	struct store_rec old;
	enum store_type type;
	int rc;

	rc = store_get_addr(t, ip, iplen, &type, &old);
	if (rc == -1)
		return -1;
	grey_trap(gc, rc == 0 ? &old : NULL, now, &res->rec);
	if (store_put_addr(t, ip, iplen, STORE_TRAPPED, &res->rec) == -1)
		return -1;
	res->outcome = GREYLIST_TRAPPED;
	res->why = why;
	return 0;
}

/* spamd's trapcheck: alloweddomains first, then the spamtrap addresses. */
static int
trapcheck(struct store_txn *t, const struct greylist_domains *d,
    const char *to, const char **why)
{
	char norm[STORE_KEYMAX + 1];
	struct store_rec r;
	size_t n;
	int rc;

	*why = NULL;
	if ((n = grey_rcpt_normalize(to, norm, sizeof(norm))) == 0)
		return 0;
	if (d != NULL && d->n > 0 && !grey_domain_allowed(norm, d->names,
	    d->n)) {
		*why = "alloweddomains";
		return 0;
	}
	if ((rc = store_get(t, STORE_SPAMTRAP, norm, n, &r)) == -1)
		return -1;
	if (rc == 0)
		*why = "spamtrap";
	return 0;
}

/*
 * A passed tuple whitelists its network (ip: the network's key) unless
 * the client's address (addr: its own key) is trapped.
 */
static int
promote(struct store_txn *t, const struct grey_conf *gc, const char *ip,
    size_t iplen, const char *addr, size_t addrlen, int64_t now,
    struct greylist_result *res)
{
	struct store_rec old;
	enum store_type type;
	int rc;

	if ((iplen != addrlen || memcmp(ip, addr, iplen) != 0) &&
	    (rc = store_get(t, STORE_TRAPPED, addr, addrlen, &old)) != 1) {
		if (rc == -1)
			return -1;
		if (live(&old, now))
			return 0;
	}
	if ((rc = store_get_addr(t, ip, iplen, &type, &old)) == -1)
		return -1;
	if (rc == 0 && type == STORE_TRAPPED && live(&old, now))
		return 0;
	if (rc == 0 && type == STORE_WHITE && live(&old, now)) {
		/* Already white: spamd leaves the entry as it is. */
		res->white = old;
	} else {
		grey_white_from_tuple(gc, &res->rec, now, &res->white);
		if (store_put_addr(t, ip, iplen, STORE_WHITE,
		    &res->white) == -1)
			return -1;
	}
	res->outcome = GREYLIST_PASSED;
	return 0;
}

/*
 * The live tuples of one address, when its exact key is not there: how
 * many there are (the walk stops at limit), and, with look, one for the
 * same HELO and mailboxes written another way.
 */
struct kin {
	const struct greylist_rcpt *in;
	int64_t		 now;
	size_t		 live, limit;
	bool		 look;
	const char	*hprefix;	/* "ip\nhelo\n" */
	size_t		 hlen;
	char		 key[STORE_KEYMAX + 1];
	size_t		 klen;		/* 0: no such tuple */
	struct store_rec rec;
};

static int
kin_one(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct kin *k = arg;
	struct store_tuple tu;
	char from[STORE_KEYMAX + 1], to[STORE_KEYMAX + 1];

	(void)type;
	if (rec == NULL || rec->expire <= k->now)
		return 0;
	k->live++;
	if (!k->look || k->klen > 0)
		return k->limit > 0 && k->live >= k->limit;
	if (keylen < k->hlen || memcmp(key, k->hprefix, k->hlen) != 0 ||
	    store_tuple_split(key, keylen, &tu) == -1)
		return 0;
	memcpy(from, tu.from, tu.fromlen);
	from[tu.fromlen] = '\0';
	memcpy(to, tu.to, tu.tolen);
	to[tu.tolen] = '\0';
	if (grey_mailbox_eq(from, k->in->from) &&
	    grey_mailbox_eq(to, k->in->to)) {
		memcpy(k->key, key, keylen);
		k->klen = keylen;
		k->rec = *rec;
	}
	return 0;
}

/* s in lower case (ASCII), into buf of len bytes. */
static const char *
lower(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + ('a' - 'A') : s[i];
	buf[i] = '\0';
	return buf;
}

/*
 * A live tuple for these mailboxes in greyd's case (stored lower-case
 * from a greyd peer): one more lookup, not a walk.  1 found, 0 not, -1.
 */
static int
folded(struct store_txn *t, const char *ip, const struct greylist_rcpt *in,
    const char *key, size_t klen, int64_t now, char *out, size_t *olen,
    struct store_rec *rec)
{
	char f[STORE_KEYMAX + 1], to[STORE_KEYMAX + 1];
	size_t n;
	int rc;

	n = store_tuple_key(out, STORE_KEYMAX + 1, ip, in->helo,
	    lower(in->from, f, sizeof(f)), lower(in->to, to, sizeof(to)));
	if (n == 0 || (n == klen && memcmp(out, key, n) == 0))
		return 0;
	if ((rc = store_get(t, STORE_GREY, out, n, rec)) == -1)
		return -1;
	if (rc == 1 || rec->expire <= now)
		return 0;
	*olen = n;
	return 1;
}

int
greylist_rcpt(struct store_txn *t, const struct grey_conf *gc,
    const struct greylist_domains *d, const struct greylist_rcpt *in,
    int64_t now, struct greylist_result *res)
{
	char ip[ADDR_STRLEN], addr[ADDR_STRLEN], key[STORE_KEYMAX + 1];
	struct store_rec old;
	const char *why;
	size_t iplen, addrlen, klen;
	int rc;

	memset(res, 0, sizeof(*res));
	/* Traps are per address, tuples and WHITE per network. */
	addrlen = addr_format(&in->addr, addr, sizeof(addr));
	iplen = grey_net_key(gc, &in->addr, ip, sizeof(ip));
	if (trapcheck(t, d, in->to, &why) == -1)
		return -1;
	if (why != NULL)
		return trap(t, gc, addr, addrlen, now, why, res);

	klen = store_tuple_key(key, sizeof(key), ip, in->helo, in->from,
	    in->to);
	if (klen == 0) {
		res->outcome = GREYLIST_SKIPPED;
		return 0;
	}
	if ((rc = store_get(t, STORE_GREY, key, klen, &old)) == -1)
		return -1;
	if (rc == 1 || old.expire <= now) {
		struct kin k = { .in = in, .now = now, .look = in->loose,
		    .limit = in->loose ? 0 : gc->maxtuples };
		char other[STORE_KEYMAX + 1], hprefix[STORE_KEYMAX + 1];
		size_t olen;
		int f;

		if ((f = folded(t, ip, in, key, klen, now, other, &olen,
		    &old)) == -1)
			return -1;
		if (f == 1) {
			memcpy(key, other, olen);
			klen = olen;
			rc = 0;
			goto found;
		}
		/* "ip\nhelo\n": the walk is over "ip\n", the match needs both. */
		k.hlen = (size_t)snprintf(hprefix, sizeof(hprefix), "%s\n%s\n",
		    ip, in->helo);
		k.hprefix = hprefix;
		if (k.look && (k.hlen >= sizeof(hprefix) ||
		    store_scan_prefix(t, STORE_GREY, hprefix, iplen + 1,
		    kin_one, &k) == -1))
			return -1;
		/* Only a count: a shared store need not read every tuple. */
		if (!k.look && k.limit > 0 && store_tuples_live(t, ip, iplen,
		    k.limit, now, &k.live) == -1)
			return -1;
		/*
		 * No cap: a shared store still drops what expired from a
		 * network's hash when it grows that long, or a network that
		 * never stops sending would keep every tuple it ever had.
		 */
		if (!k.look && k.limit == 0 && store_txn_shared(t) &&
		    store_tuples_live(t, ip, iplen, GREY_MAXTUPLES, now,
		    &k.live) == -1)
			return -1;
		if (k.klen > 0) {
			memcpy(key, k.key, k.klen);
			klen = k.klen;
			old = k.rec;
			rc = 0;
		} else if (gc->maxtuples > 0 && k.live >= gc->maxtuples) {
			res->outcome = GREYLIST_CAPPED;
			res->new_tuple = true;
			return 0;
		}
	}
found:
	res->new_tuple = rc == 1 || old.expire <= now;
	if (res->new_tuple && in->lowprio_mx)
		return trap(t, gc, addr, addrlen, now, "lowprio-mx", res);
	grey_tuple(gc, rc == 0 ? &old : NULL, now, &res->rec);
	if (store_put(t, STORE_GREY, key, klen, &res->rec) == -1)
		return -1;
	res->outcome = GREYLIST_GREY;
	if (grey_passed(&res->rec, now))
		return promote(t, gc, ip, iplen, addr, addrlen, now, res);
	return 0;
}

void
greylist_rcpt_wants(const struct grey_conf *gc, const struct greylist_rcpt *in,
    struct greylist_wants *gw)
{
	char f[STORE_KEYMAX + 1], to[STORE_KEYMAX + 1];
	size_t n, al, nl, kl, fl;

	gw->n = 0;
	if ((n = grey_rcpt_normalize(in->to, gw->norm, sizeof(gw->norm))) > 0)
		gw->w[gw->n++] = (struct store_want){ STORE_WANT_SPAMTRAP,
		    gw->norm, n };
	al = addr_format(&in->addr, gw->addr, sizeof(gw->addr));
	nl = grey_net_key(gc, &in->addr, gw->net, sizeof(gw->net));
	gw->w[gw->n++] = (struct store_want){ STORE_WANT_ADDR, gw->addr, al };
	if (nl != al || memcmp(gw->net, gw->addr, al) != 0)
		gw->w[gw->n++] = (struct store_want){ STORE_WANT_ADDR, gw->net,
		    nl };
	/* A greyd peer's tuple is matched against every one: read all. */
	if (in->loose) {
		gw->w[gw->n++] = (struct store_want){ STORE_WANT_TUPLES,
		    gw->net, nl };
		return;
	}
	/* The tuple, greyd's lower-case form of it, and the count. */
	if ((kl = store_tuple_key(gw->tuple, sizeof(gw->tuple), gw->net,
	    in->helo, in->from, in->to)) == 0)
		return;
	gw->w[gw->n++] = (struct store_want){ STORE_WANT_TUPLE, gw->tuple,
	    kl };
	fl = store_tuple_key(gw->folded, sizeof(gw->folded), gw->net,
	    in->helo, lower(in->from, f, sizeof(f)), lower(in->to, to,
	    sizeof(to)));
	if (fl > 0 && (fl != kl || memcmp(gw->folded, gw->tuple, kl) != 0))
		gw->w[gw->n++] = (struct store_want){ STORE_WANT_TUPLE,
		    gw->folded, fl };
	gw->w[gw->n++] = (struct store_want){ STORE_WANT_COUNT, gw->net, nl };
}

int
greylist_nets_load(struct store_txn *t, struct grey_conf *gc)
{
	uint8_t b[GREY_NETS_SIZE];
	size_t got;
	int rc;

	if ((rc = store_meta_get(t, GREYLIST_META_NETS, b, sizeof(b),
	    &got)) != 0)
		return rc;
	return grey_nets_decode(b, got, gc) == 0 ? 0 : 1;
}

int
greylist_nets_save(struct store_txn *t, const struct grey_conf *gc)
{
	uint8_t b[GREY_NETS_SIZE];

	grey_nets_encode(gc, b);
	return store_meta_put(t, GREYLIST_META_NETS, b, sizeof(b));
}

int
greylist_is_trapped(struct store_txn *t, const struct addr *a, int64_t now)
{
	char ip[ADDR_STRLEN];
	struct store_rec r;
	size_t n;
	int rc;

	n = addr_format(a, ip, sizeof(ip));
	if ((rc = store_get(t, STORE_TRAPPED, ip, n, &r)) != 0)
		return rc == 1 ? 0 : -1;
	return r.expire > now;
}

/* --- the scan --- */

enum change_kind { CH_DELETE, CH_MAKEWHITE, CH_REKEY };

struct change {
	enum change_kind	 kind;
	enum store_type		 type;
	char			*key;
	size_t			 keylen;
	bool			 bogus;	/* snapshot value did not decode */
	struct store_rec	 snap;	/* value seen; MAKEWHITE: the new one */
	char			 net[ADDR_STRLEN];	/* REKEY: new key */
	size_t			 netlen;
};

struct scanctx {
	const struct grey_conf	*gc;
	int64_t			 now;
	greylist_black_fn	 black;
	void			*arg;
	struct store_txn	*txn;
	struct greylist_scan	*res;
	struct change		*ch;
	size_t			 nch, capch;
	bool			 oom;
};

static int
grow_array(void **p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 256;
	if ((np = reallocarray(*p, ncap, size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
add_entry(struct greylist_entry **arr, size_t *n, size_t *cap,
    const struct addr *a, int64_t expire)
{
	if (grow_array((void **)arr, cap, *n, sizeof(**arr)) == -1)
		return -1;
	(*arr)[*n].addr = *a;
	(*arr)[*n].expire = expire;
	(*n)++;
	return 0;
}

static int
add_change(struct scanctx *c, enum change_kind kind, enum store_type type,
    const char *key, size_t keylen, const struct store_rec *rec)
{
	struct change *ch;

	if (grow_array((void **)&c->ch, &c->capch, c->nch,
	    sizeof(*c->ch)) == -1)
		return -1;
	ch = &c->ch[c->nch];
	memset(ch, 0, sizeof(*ch));
	if ((ch->key = malloc(keylen)) == NULL)
		return -1;
	memcpy(ch->key, key, keylen);
	ch->keylen = keylen;
	ch->kind = kind;
	ch->type = type;
	if (rec != NULL)
		ch->snap = *rec;
	else
		ch->bogus = true;
	c->nch++;
	return 0;
}

/*
 * The address part of a key (the whole key, or a tuple's first field):
 * an address, or a network in "network/len" form (-N).
 */
static bool
key_prefix(enum store_type type, const char *key, size_t keylen,
    struct prefix *p)
{
	char buf[ADDR_STRLEN];
	const char *nl;
	size_t n = keylen;

	if (type == STORE_GREY && (nl = memchr(key, '\n', keylen)) != NULL)
		n = (size_t)(nl - key);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, key, n);
	buf[n] = '\0';
	return prefix_parse(buf, p, false, NULL) == 0;
}

/*
 * A WHITE entry keyed otherwise than -N says now (the setting changed,
 * or an import, a peer of another setting): one for a single address or
 * a narrower network moves to the key of its network now; one for a
 * wider network cannot be narrowed and goes.  0 when it is keyed right.
 */
static int
rekey(struct scanctx *c, const char *key, size_t keylen,
    const struct prefix *p, const struct store_rec *rec)
{
	struct prefix net;
	struct change *ch;

	grey_net(c->gc, &p->addr, &net);
	if (p->len == net.len)
		return 0;
	if (p->len < net.len)
		return add_change(c, CH_DELETE, STORE_WHITE, key, keylen,
		    rec) == -1 ? -1 : 1;
	if (add_change(c, CH_REKEY, STORE_WHITE, key, keylen, rec) == -1)
		return -1;
	ch = &c->ch[c->nch - 1];
	ch->netlen = grey_net_key(c->gc, &p->addr, ch->net, sizeof(ch->net));
	return 1;
}

static int
scan_entry(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct scanctx *c = arg;
	struct grey_scan_in in = { .type = type };
	struct store_rec other, white;
	enum store_type otype;
	char ip[ADDR_STRLEN];
	struct prefix p;
	struct addr *a = &p.addr;
	bool make_white = false, whole;
	int rc;

	c->res->scanned++;
	if (rec == NULL) {
		c->res->bogus++;
		if (add_change(c, CH_DELETE, type, key, keylen, NULL) == -1)
			goto oom;
		return 0;
	}
	in.addr_ok = key_prefix(type, key, keylen, &p);
	whole = in.addr_ok && p.len == addr_bits(a);
	if (in.addr_ok && type == STORE_WHITE && rec->expire > c->now) {
		if ((rc = rekey(c, key, keylen, &p, rec)) == -1)
			goto oom;
		if (rc == 1) {
			/* Listed under its new key, if it has one. */
			if (c->ch[c->nch - 1].kind != CH_REKEY)
				return 0;
			grey_net(c->gc, &p.addr, &p);
			whole = p.len == addr_bits(a);
		}
	}
	if (in.addr_ok && type == STORE_GREY && grey_passed(rec, c->now)) {
		size_t n = prefix_key(&p, ip, sizeof(ip));

		rc = store_get_addr(c->txn, ip, n, &otype, &other);
		if (rc == -1)
			return -1;
		if (rc == 0 && live(&other, c->now)) {
			in.trapped = otype == STORE_TRAPPED;
			in.have_white = otype == STORE_WHITE;
		}
	}
	/* Blacklists are per address: a network is not demoted. */
	if (whole && rec->pcount >= 0 && rec->pass <= c->now &&
	    c->black != NULL)
		in.blacklisted = c->black(c->arg, a);

	switch (grey_scan(c->gc, &in, rec, c->now, &make_white, &white)) {
	case GREY_SCAN_KEEP:
		break;
	case GREY_SCAN_DELETE:
		if (in.blacklisted)
			c->res->demoted++;
		if (add_change(c, CH_DELETE, type, key, keylen, rec) == -1)
			goto oom;
		break;
	case GREY_SCAN_TRAP:
		if (add_entry(&c->res->trapped, &c->res->ntrapped,
		    &c->res->captrapped, a, rec->expire) == -1)
			goto oom;
		break;
	case GREY_SCAN_WHITE:
		if (make_white) {
			size_t n = prefix_key(&p, ip, sizeof(ip));

			if (add_change(c, CH_MAKEWHITE, STORE_WHITE, ip, n,
			    &white) == -1)
				goto oom;
		}
		/* A tuple whose address is already WHITE is listed there. */
		if (type == STORE_WHITE || make_white) {
			if (add_entry(&c->res->white, &c->res->nwhite,
			    &c->res->capwhite, a, make_white ?
			    white.expire : rec->expire) == -1)
				goto oom;
		}
		break;
	}
	return 0;
oom:
	c->oom = true;
	return -1;
}

static int
scan_view(struct store_txn *t, void *arg)
{
	static const enum store_type types[] = { STORE_WHITE, STORE_TRAPPED,
	    STORE_GREY };
	struct scanctx *c = arg;

	c->txn = t;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (store_scan(t, types[i], scan_entry, c) != 0)
			return -1;
	return 0;
}

struct applyctx {
	struct scanctx	*c;
	size_t		 from, to;
};

/*
 * Move a WHITE entry to its network's key: the network keeps the later
 * expiry and the earlier first sighting; a TRAPPED entry at that key (a
 * single address, when -N is full length) stays as it is.
 */
static int
apply_rekey(struct store_txn *t, const struct change *ch,
    struct greylist_scan *res)
{
	struct store_rec cur, net;
	enum store_type otype;
	int rc;

	rc = store_get(t, STORE_WHITE, ch->key, ch->keylen, &cur);
	if (rc == 1)
		return 0;
	if (rc == -1 || memcmp(&cur, &ch->snap, sizeof(cur)) != 0)
		return rc == -1 ? -1 : 0;
	if ((rc = store_get_addr(t, ch->net, ch->netlen, &otype, &net)) == -1)
		return -1;
	if (rc == 1 || otype == STORE_WHITE) {
		if (rc == 0) {
			if (cur.expire < net.expire)
				cur.expire = net.expire;
			if (net.first < cur.first)
				cur.first = net.first;
		}
		if (store_put(t, STORE_WHITE, ch->net, ch->netlen,
		    &cur) == -1)
			return -1;
	}
	if (store_del(t, STORE_WHITE, ch->key, ch->keylen) == -1)
		return -1;
	res->rekeyed++;
	return 0;
}

/*
 * Apply a batch.  A record that changed since the snapshot (a worker
 * retried the tuple meanwhile) is left alone: the next scan decides.
 */
static int
apply_batch(struct store_txn *t, void *arg)
{
	struct applyctx *ac = arg;
	struct greylist_scan *res = ac->c->res;
	struct store_rec cur;
	enum store_type otype;
	int rc;

	for (size_t i = ac->from; i < ac->to; i++) {
		struct change *ch = &ac->c->ch[i];

		if (ch->kind == CH_REKEY) {
			if (apply_rekey(t, ch, res) == -1)
				return -1;
			continue;
		}
		if (ch->kind == CH_MAKEWHITE) {
			rc = store_get_addr(t, ch->key, ch->keylen, &otype,
			    &cur);
			if (rc == -1)
				return -1;
			if (rc == 1) {
				if (store_put_addr(t, ch->key, ch->keylen,
				    STORE_WHITE, &ch->snap) == -1)
					return -1;
				res->promoted++;
			}
			continue;
		}
		rc = store_get(t, ch->type, ch->key, ch->keylen, &cur);
		if (rc == 1)
			continue;
		if (rc == -1 && !ch->bogus)
			return -1;
		if (rc == 0 && (ch->bogus ||
		    memcmp(&cur, &ch->snap, sizeof(cur)) != 0))
			continue;
		if (store_del(t, ch->type, ch->key, ch->keylen) == -1)
			return -1;
		res->deleted++;
	}
	return 0;
}

/* One address may be listed by several tuples: keep the latest expiry. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct greylist_entry *x = a, *y = b;

	return addr_cmp(&x->addr, &y->addr);
}

static void
dedupe(struct greylist_entry *e, size_t *n)
{
	size_t o = 0;

	if (*n == 0)
		return;
	qsort(e, *n, sizeof(*e), entry_cmp);
	for (size_t i = 1; i < *n; i++) {
		if (addr_eq(&e[i].addr, &e[o].addr)) {
			if (e[i].expire > e[o].expire)
				e[o].expire = e[i].expire;
		} else
			e[++o] = e[i];
	}
	*n = o + 1;
}

static void
free_changes(struct scanctx *c)
{
	for (size_t i = 0; i < c->nch; i++)
		free(c->ch[i].key);
	free(c->ch);
}

int
greylist_scan_run(struct store *st, const struct grey_conf *gc, int64_t now,
    greylist_black_fn black, void *arg, size_t batch,
    struct greylist_scan *res, char *err, size_t errlen)
{
	struct scanctx c = { .gc = gc, .now = now, .black = black,
	    .arg = arg, .res = res };
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (batch == 0)
		batch = 1000;
	if (store_view(st, scan_view, &c, err, errlen) != 0) {
		if (c.oom)
			snprintf(err, errlen, "%s: scan: out of memory",
			    store_dir(st));
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < c.nch; i += batch) {
		struct applyctx ac = { &c, i, i + batch < c.nch ? i + batch :
		    c.nch };

		if (store_update(st, apply_batch, &ac, err, errlen) != 0) {
			rc = -1;
			goto out;
		}
	}
	dedupe(res->white, &res->nwhite);
	dedupe(res->trapped, &res->ntrapped);
out:
	free_changes(&c);
	if (rc == -1)
		greylist_scan_free(res);
	return rc;
}

struct livectx {
	struct greylist_scan	*res;
	enum store_type		 type;
	bool			 oom;
};

static int
live_one(void *arg, const char *key, size_t keylen, int64_t expire)
{
	struct livectx *c = arg;
	struct greylist_scan *r = c->res;
	struct prefix p;

	r->scanned++;
	if (!key_prefix(c->type, key, keylen, &p)) {
		r->bogus++;
		return 0;
	}
	if ((c->type == STORE_WHITE ? add_entry(&r->white, &r->nwhite,
	    &r->capwhite, &p.addr, expire) : add_entry(&r->trapped,
	    &r->ntrapped, &r->captrapped, &p.addr, expire)) == -1) {
		c->oom = true;
		return -1;
	}
	return 0;
}

int
greylist_live_run(struct store *st, int64_t now, struct greylist_scan *res,
    char *err, size_t errlen)
{
	struct livectx c = { .res = res };
	long removed;

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < 2; i++) {
		c.type = i == 0 ? STORE_WHITE : STORE_TRAPPED;
		if (store_live(st, c.type, now, live_one, &c, err,
		    errlen) != 0) {
			if (c.oom)
				snprintf(err, errlen, "%s: out of memory",
				    store_dir(st));
			greylist_scan_free(res);
			return -1;
		}
	}
	if (store_trim(st, now, &removed, err, errlen) == -1) {
		greylist_scan_free(res);
		return -1;
	}
	res->deleted = (size_t)removed;
	dedupe(res->white, &res->nwhite);
	dedupe(res->trapped, &res->ntrapped);
	return 0;
}

void
greylist_scan_free(struct greylist_scan *res)
{
	free(res->white);
	free(res->trapped);
	res->white = res->trapped = NULL;
	res->nwhite = res->ntrapped = 0;
	res->capwhite = res->captrapped = 0;
}

bool
greylist_scan_news(const struct greylist_scan *r,
    const struct greylist_scan *prev)
{
	return prev == NULL || r->deleted > 0 || r->promoted > 0 ||
	    r->demoted > 0 || r->bogus > 0 || r->rekeyed > 0 || r->nwhite != prev->nwhite ||
	    r->ntrapped != prev->ntrapped;
}
