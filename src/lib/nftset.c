/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * nftset: nfspamd's nftables sets over netlink.  See nftset.h.
 *
 * Every change is one nfnetlink batch (nftbatch.c), one transaction:
 * elements are split into messages of at most NFTSET_CHUNK elements
 * whose element nest stays under 64 KiB (nla_len is 16 bits).  The
 * element encoding and the range arithmetic are in nftrange.c, requests
 * outside batches (set info, dumps) in nftquery.c, the probe of what the
 * kernel checks in nftprobe.c.
 *
 * Interval sets (nospamd*, spamd*): a prefix is sent as nft sends it, a
 * start element (the network address) and an end element flagged
 * NFT_SET_ELEM_INTERVAL_END at the last address + 1; a prefix that ends
 * at the top of the address space has no end element (there is no + 1),
 * the kernel reads a trailing start as open to the top.  Starts are sent
 * in ascending order, each followed by its end.  Prefixes in one set must
 * be disjoint: the kernel refuses an overlap with EEXIST.
 *
 * Deleting the start of one interval and the end of another would
 * corrupt an interval set, so deletes use strict NFT_MSG_DELSETELEM: since
 * Linux 6.19 (and 6.18.y stable) the kernel refuses, with ENOENT, a start
 * and an end element that do not bound one interval, so a prefix that is
 * not in the set exactly fails the batch.  Then, and on kernels that do
 * not check (found out once per socket with a batch that can only abort),
 * the prefixes are first looked up in a dump of the set and only exact
 * matches are deleted.  A dump costs O(n^2) in the kernel (0.4 s at
 * 100,000 prefixes, 60 s at a million), so big interval sets are best
 * changed by nftset_replace.  NFT_MSG_DESTROYSETELEM is never used on
 * them: it would ignore the refused end element and delete the start.
 *
 * nftset_list turns each interval back into the smallest list of prefixes
 * that covers exactly that range: one prefix for everything nftset_add put
 * there; a range nft added by hand (10.1.0.0-10.1.0.5) may need several.
 * An end element with no start before it (nft adds one at 0) is skipped.
 *
 * Address sets: deletes use NFT_MSG_DESTROYSETELEM (Linux 6.3), which
 * ignores a missing element.  Should a kernel refuse it, the delete is
 * retried once filtered through a dump, with NFT_MSG_DELSETELEM.  An add
 * sends both the timeout and the expiration: the kernel refreshes an
 * existing element only when one of them is given and differs from what it
 * has (Linux 6.11), and "expires in timeout" always restarts the clock.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "nftbatch.h"
#include "nftint.h"
#include "nftprobe.h"
#include "nftquery.h"
#include "nftrange.h"
#include "nftset.h"

/* Linux 6.3; Debian 12's headers (6.1) do not have it yet. */
#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYSETELEM	30
#endif

enum op { OP_ADD, OP_DEL, OP_APPLY, OP_REPLACE };

static const char *const opname[] = { "add", "del", "apply", "replace" };

int
nft_fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = e != 0 ? e : EINVAL;
	return -1;
}

static const char *
fam_type(int family)
{
	return family == AF_INET ? "ipv4_addr" : "ipv6_addr";
}

static const char *
fam_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" :
	    "not an IP address";
}

/* Socket. */

int
nftset_open(struct nftset **sp, const char *table, char *err, size_t errlen)
{
	struct nftset	*s;
	int		 one = 1;
	int		 e;

	*sp = NULL;
	if (table == NULL)
		table = NFTSET_TABLE;
	if (*table == '\0' || strlen(table) >= NFT_TABLE_MAXNAMELEN)
		return nft_fail(err, errlen, EINVAL, "table %s: bad name",
		    table);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->rbuf = malloc(RBUF_SIZE)) == NULL) {
		if (s != NULL)
			free(s);
		return nft_fail(err, errlen, ENOMEM, "nftset: out of memory");
	}
	strcpy(s->table, table);
	if ((s->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		goto bad;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) == -1)
		goto bad;
	/* Short acknowledgements, and the kernel's reason for an error. */
	if (mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one,
	    sizeof(one)) == -1)
		goto bad;
	(void)mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one,
	    sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
	s->ivalid = -1;
	*sp = s;
	return 0;
bad:
	e = errno;
	nftset_close(s);
	return nft_fail(err, errlen, e, "nftables netlink socket: %s",
	    strerror(e));
}

void
nftset_close(struct nftset *s)
{
	struct setinfo	*si, *next;

	if (s == NULL)
		return;
	if (s->nl != NULL)
		mnl_socket_close(s->nl);
	for (si = s->cache; si != NULL; si = next) {
		next = si->next;
		free(si);
	}
	free(s->rbuf);
	free(s);
}

/* The eight sets of "table inet nfspamd" (nft/nfspamd.nft): what each
   must be. */
static const struct {
	const char	*name;
	int		 family;
	uint32_t	 flags;
	const char	*flagname;
} known[] = {
	{ NFTSET_WHITE,		AF_INET,	NFT_SET_TIMEOUT, "timeout" },
	{ NFTSET_WHITE6,	AF_INET6,	NFT_SET_TIMEOUT, "timeout" },
	{ NFTSET_TRAP,		AF_INET,	NFT_SET_TIMEOUT, "timeout" },
	{ NFTSET_TRAP6,		AF_INET6,	NFT_SET_TIMEOUT, "timeout" },
	{ NFTSET_NOSPAMD,	AF_INET,	NFT_SET_INTERVAL, "interval" },
	{ NFTSET_NOSPAMD6,	AF_INET6,	NFT_SET_INTERVAL, "interval" },
	{ NFTSET_BLACK,		AF_INET,	NFT_SET_INTERVAL, "interval" },
	{ NFTSET_BLACK6,	AF_INET6,	NFT_SET_INTERVAL, "interval" },
};

int
nftset_check(struct nftset *s, const char *const *sets, size_t n, char *err,
    size_t errlen)
{
	struct setinfo	*si;
	size_t		 i, k;

	if (query_table(s, err, errlen) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		/* Ask the kernel again: the ruleset may have been reloaded. */
		setinfo_forget(s, sets[i]);
		if ((si = setinfo_get(s, sets[i], "check", err, errlen)) ==
		    NULL)
			return -1;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			if (strcmp(known[k].name, sets[i]) != 0)
				continue;
			if (si->family != known[k].family)
				return nft_fail(err, errlen, EINVAL, "set %s: "
				    "check: declared type %s, expected %s (%s)",
				    sets[i], fam_type(si->family),
				    fam_type(known[k].family), NFT_HINT);
			if ((si->flags & known[k].flags) == 0)
				return nft_fail(err, errlen, EINVAL, "set %s: "
				    "check: declared without flags %s (%s)",
				    sets[i], known[k].flagname, NFT_HINT);
		}
	}
	return 0;
}

/*
 * An element the set can hold: its family, a prefix only where the set
 * holds intervals, no host bits, a timeout only where it has timeouts
 * (a delete ignores the timeout).
 */
static int
check_elem(const struct setinfo *si, const char *op,
    const struct nftset_elem *e, bool del, char *err, size_t errlen)
{
	char		buf[ADDR_STRLEN];
	struct addr	m;
	unsigned	bits;

	/* Formatted only for a message: this runs for every element. */
	if (e->pfx.addr.family != si->family) {
		if (e->pfx.addr.family == AF_INET ||
		    e->pfx.addr.family == AF_INET6)
			prefix_format(&e->pfx, buf, sizeof(buf));
		return nft_fail(err, errlen, EAFNOSUPPORT, "set %s: %s: %s is "
		    "%s, the set holds %s addresses (%s)", si->name, op,
		    e->pfx.addr.family == AF_INET ||
		    e->pfx.addr.family == AF_INET6 ? buf : "element",
		    fam_name(e->pfx.addr.family), fam_name(si->family),
		    fam_type(si->family));
	}
	bits = key_bits(si->family);
	if (e->pfx.len > bits) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return nft_fail(err, errlen, EINVAL, "set %s: %s: %s: prefix "
		    "length out of range", si->name, op, buf);
	}
	if (e->pfx.len != bits && !(si->flags & NFT_SET_INTERVAL)) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return nft_fail(err, errlen, EINVAL, "set %s: %s: %s is a "
		    "prefix, the set holds single addresses (no flags "
		    "interval)", si->name, op, buf);
	}
	m = e->pfx.addr;
	addr_mask(&m, e->pfx.len);
	if (!addr_eq(&m, &e->pfx.addr)) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return nft_fail(err, errlen, EINVAL, "set %s: %s: %s: host "
		    "bits set", si->name, op, buf);
	}
	if (!del && e->timeout_ms != 0 && !(si->flags & NFT_SET_TIMEOUT)) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return nft_fail(err, errlen, EINVAL, "set %s: %s: %s has a "
		    "timeout, the set has no flags timeout", si->name, op,
		    buf);
	}
	return 0;
}

/*
 * Interval adds: sorted, duplicates dropped, overlaps refused here with
 * both prefixes named (the kernel would say only EEXIST); then start
 * and end elements in ascending order.
 */
static int
build_interval_adds(const struct setinfo *si, const char *op,
    const struct nftset_elem *v, size_t n, struct nels *out, char *err,
    size_t errlen)
{
	const struct nftset_elem	*earlier, *later;
	char				 a[ADDR_STRLEN], b[ADDR_STRLEN];

	if (nels_intervals(out, si->family, v, n, &earlier, &later) == 0)
		return 0;
	if (errno != EEXIST)
		return nft_fail(err, errlen, ENOMEM, "set %s: %s: out of "
		    "memory", si->name, op);
	prefix_format(&earlier->pfx, a, sizeof(a));
	prefix_format(&later->pfx, b, sizeof(b));
	return nft_fail(err, errlen, EEXIST, "set %s: %s: %s overlaps %s "
	    "(prefixes in an interval set must be disjoint)", si->name, op,
	    b, a);
}

/* Every element of a change, checked before anything is built. */
static int
check_elems(const struct setinfo *si, const char *op,
    const struct nftset_elem *add, size_t nadd,
    const struct nftset_elem *del, size_t ndel, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < nadd; i++)
		if (check_elem(si, op, &add[i], false, err, errlen) == -1)
			return -1;
	for (i = 0; i < ndel; i++)
		if (check_elem(si, op, &del[i], true, err, errlen) == -1)
			return -1;
	return 0;
}

/* Adds as netlink elements: intervals as start/end pairs. */
static int
build_adds(const struct setinfo *si, const char *op,
    const struct nftset_elem *v, size_t n, struct nels *out, char *err,
    size_t errlen)
{
	size_t	i;

	if (si->flags & NFT_SET_INTERVAL)
		return build_interval_adds(si, op, v, n, out, err, errlen);
	for (i = 0; i < n; i++)
		if (nels_push(out, key_get(v[i].pfx.addr.bytes,
		    si->keylen), 0, v[i].timeout_ms, &v[i]) == -1)
			return nft_fail(err, errlen, ENOMEM, "set %s: %s: "
			    "out of memory", si->name, op);
	return 0;
}

/* One element to delete: an interval as its start and end, no timeout. */
static int
push_del(const struct setinfo *si, struct nels *out, u128 lo, u128 hi,
    const struct nftset_elem *src)
{
	if (si->flags & NFT_SET_INTERVAL)
		return nels_interval(out, si->family, lo, hi, 0, src);
	return nels_push(out, lo, 0, 0, src);
}

/*
 * Deletes filtered through a dump: only what is there, exactly, once
 * (strict DELSETELEM would fail the transaction on anything else).
 */
static int
build_checked_dels(struct nftset *s, struct setinfo *si, const char *op,
    const struct nftset_elem *v, size_t n, struct nels *out, char *err,
    size_t errlen)
{
	struct range	*rv, *r;
	u128		 lo, hi;
	size_t		 nr, i;

	if (n == 0)
		return 0;
	if (dump_ranges(s, si, op, &rv, &nr, err, errlen) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		key_range(si->family, &v[i].pfx, &lo, &hi);
		if ((r = range_find(rv, nr, lo)) == NULL || r->hi != hi ||
		    r->used)
			continue;
		r->used = true;
		if (push_del(si, out, lo, hi, &v[i]) == -1) {
			free(rv);
			return nft_fail(err, errlen, ENOMEM, "set %s: %s: "
			    "out of memory", si->name, op);
		}
	}
	free(rv);
	return 0;
}

/* Deletes as they are, with an end element for each interval. */
static int
build_plain_dels(const struct setinfo *si, const char *op,
    const struct nftset_elem *v, size_t n, struct nels *out, char *err,
    size_t errlen)
{
	u128	lo, hi;
	size_t	i;

	for (i = 0; i < n; i++) {
		key_range(si->family, &v[i].pfx, &lo, &hi);
		if (push_del(si, out, lo, hi, &v[i]) == -1)
			return nft_fail(err, errlen, ENOMEM, "set %s: %s: "
			    "out of memory", si->name, op);
	}
	return 0;
}

/* One set's part of a batch: [flush,] deletes of deltype, adds. */
static int
batch_set(struct nftset *s, struct batch *b, const struct setinfo *si,
    bool flush, uint16_t deltype, const struct nels *dels,
    const struct nels *adds)
{
	if (flush && batch_msg(s, b, si, NFT_MSG_DELSETELEM, 0, NULL, 0,
	    0) == -1)
		return -1;
	if (batch_elems(s, b, si, deltype, 0, dels) == -1)
		return -1;
	return batch_elems(s, b, si, NFT_MSG_NEWSETELEM, NLM_F_CREATE, adds);
}

/* How change() deletes. */
enum delmode {
	DEL_DESTROY,	/* address sets: DESTROYSETELEM, a missing one is
			   no error */
	DEL_STRICT,	/* interval sets, on a kernel that checks them:
			   DELSETELEM as asked */
	DEL_CHECKED,	/* DELSETELEM of what a dump shows is there */
};

static enum delmode
del_mode(struct nftset *s, const struct setinfo *si, size_t ndel)
{
	if (!(si->flags & NFT_SET_INTERVAL))
		return s->nodestroy ? DEL_CHECKED : DEL_DESTROY;
	if (ndel > 0 && probe_interval_deletes(s))
		return DEL_STRICT;
	return DEL_CHECKED;
}

/*
 * Is a refused batch worth sending once more with DEL_CHECKED deletes?
 * A kernel older than 6.3 does not know DESTROYSETELEM (EINVAL on that
 * message); a strict delete fails with ENOENT when a prefix is not in
 * the interval set as such.
 */
static bool
del_retry(enum delmode mode, const struct batch *b, const struct ackerr *ae)
{
	const struct msgrec	*m;

	if ((m = batch_find(b, ae->seq)) == NULL)
		return false;
	switch (mode) {
	case DEL_DESTROY:
		return ae->err == EINVAL && m->type == NFT_MSG_DESTROYSETELEM;
	case DEL_STRICT:
		return ae->err == ENOENT && m->type == NFT_MSG_DELSETELEM;
	case DEL_CHECKED:
		break;
	}
	return false;
}

/* One change to one set, as change() sends it. */
struct chg {
	struct setinfo			*si;
	const char			*op;
	bool				 flush;
	const struct nftset_elem	*del;
	size_t				 ndel;
	struct nels			 adds, dels;
	struct batch			 b;
	struct ackerr			 ae;
};

/*
 * Build the deletes for mode and send the batch.  0: committed, or
 * nothing to do.  1: the kernel refused it, c->ae says why.  -1: not
 * sent, err says why (a failed dump has forgotten c->si).
 */
static int
chg_send(struct nftset *s, struct chg *c, enum delmode mode, char *err,
    size_t errlen)
{
	uint16_t	deltype = mode == DEL_DESTROY ? NFT_MSG_DESTROYSETELEM :
			    NFT_MSG_DELSETELEM;

	c->dels.n = 0;
	if (mode == DEL_CHECKED) {
		if (build_checked_dels(s, c->si, c->op, c->del, c->ndel,
		    &c->dels, err, errlen) == -1)
			return -1;
	} else if (build_plain_dels(c->si, c->op, c->del, c->ndel, &c->dels,
	    err, errlen) == -1)
		return -1;
	if (!c->flush && c->adds.n == 0 && c->dels.n == 0)
		return 0;
	if (batch_begin(s, &c->b) == -1 ||
	    batch_set(s, &c->b, c->si, c->flush, deltype, &c->dels,
	    &c->adds) == -1 ||
	    batch_end(s, &c->b) == -1)
		return nft_fail(err, errlen, ENOMEM, "set %s: %s: out of "
		    "memory", c->si->name, c->op);
	return batch_send(s, &c->b, &c->ae) == 0 ? 0 : 1;
}

/*
 * Every change: [flush,] deletes, adds, in one batch.  Deletes go first so
 * that an element both deleted and added ends up in the set.  A batch the
 * kernel refuses for the way it deletes is sent once more with deletes
 * filtered through a dump.
 */
static int
change(struct nftset *s, const char *set, enum op op, bool flush,
    const struct nftset_elem *add, size_t nadd,
    const struct nftset_elem *del, size_t ndel, char *err, size_t errlen)
{
	struct chg	c;
	enum delmode	mode;
	int		ret = -1;

	memset(&c, 0, sizeof(c));
	c.op = opname[op];
	c.flush = flush;
	c.del = del;
	c.ndel = ndel;
	if ((c.si = setinfo_get(s, set, c.op, err, errlen)) == NULL)
		return -1;
	if (check_elems(c.si, c.op, add, nadd, del, ndel, err, errlen) == -1)
		return -1;
	if (!flush && nadd == 0 && ndel == 0)
		return 0;
	if (build_adds(c.si, c.op, add, nadd, &c.adds, err, errlen) == -1)
		goto out;
	mode = del_mode(s, c.si, ndel);
	ret = chg_send(s, &c, mode, err, errlen);
	if (ret == 1 && del_retry(mode, &c.b, &c.ae)) {
		/* Keep to the old way from now on if it works. */
		if (mode == DEL_DESTROY)
			s->nodestroy = true;
		batch_free(&c.b);
		ret = chg_send(s, &c, DEL_CHECKED, err, errlen);
		/* It failed too: DESTROYSETELEM was not to blame. */
		if (ret == 1 && mode == DEL_DESTROY)
			s->nodestroy = false;
	}
	if (ret == 1) {
		batch_fail(&c.b, &c.ae, c.si, c.op, err, errlen);
		/* The ruleset may have changed under us: ask again next
		   time. */
		setinfo_forget(s, set);
		errno = c.ae.err;
		ret = -1;
	}
out:
	batch_free(&c.b);
	free(c.adds.v);
	free(c.dels.v);
	return ret;
}

int
nftset_add(struct nftset *s, const char *set, const struct nftset_elem *v,
    size_t n, char *err, size_t errlen)
{
	return change(s, set, OP_ADD, false, v, n, NULL, 0, err, errlen);
}

int
nftset_del(struct nftset *s, const char *set, const struct nftset_elem *v,
    size_t n, char *err, size_t errlen)
{
	return change(s, set, OP_DEL, false, NULL, 0, v, n, err, errlen);
}

int
nftset_apply(struct nftset *s, const char *set, const struct nftset_elem *add,
    size_t nadd, const struct nftset_elem *del, size_t ndel, char *err,
    size_t errlen)
{
	return change(s, set, OP_APPLY, false, add, nadd, del, ndel, err,
	    errlen);
}

int
nftset_replace(struct nftset *s, const char *set, const struct nftset_elem *v,
    size_t n, char *err, size_t errlen)
{
	return change(s, set, OP_REPLACE, true, v, n, NULL, 0, err, errlen);
}

/* nftset_commit: several sets, one transaction, strict deletes. */

struct cset {
	struct setinfo	*si;
	struct nels	 adds, dels;
};

static void
csets_free(struct cset *cs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(cs[i].adds.v);
		free(cs[i].dels.v);
	}
	free(cs);
}

/* Check and build one set's elements; -1 with err set. */
static int
cset_build(struct nftset *s, struct cset *c, const struct nftset_change *ch,
    char *err, size_t errlen)
{
	const char	*op = "commit";

	if ((c->si = setinfo_get(s, ch->set, op, err, errlen)) == NULL)
		return -1;
	if (check_elems(c->si, op, ch->add, ch->nadd, ch->del, ch->ndel, err,
	    errlen) == -1)
		return -1;
	if ((c->si->flags & NFT_SET_INTERVAL) && ch->ndel > 0 &&
	    !probe_interval_deletes(s))
		return nft_fail(err, errlen, ENOTSUP, "set %s: %s: this kernel "
		    "does not check interval deletes; replace the set instead",
		    ch->set, op);
	if (build_adds(c->si, op, ch->add, ch->nadd, &c->adds, err,
	    errlen) == -1)
		return -1;
	return build_plain_dels(c->si, op, ch->del, ch->ndel, &c->dels, err,
	    errlen);
}

int
nftset_commit(struct nftset *s, const struct nftset_change *ch, size_t n,
    char *err, size_t errlen)
{
	struct cset		*cs;
	struct batch		 b;
	struct ackerr		 ae;
	const struct msgrec	*m;
	size_t			 i;
	bool			 any = false;
	int			 ret = -1;

	memset(&b, 0, sizeof(b));
	if (n == 0)
		return 0;
	if ((cs = calloc(n, sizeof(*cs))) == NULL)
		return nft_fail(err, errlen, ENOMEM, "commit: out of memory");
	for (i = 0; i < n; i++) {
		if (cset_build(s, &cs[i], &ch[i], err, errlen) == -1)
			goto out;
		any = any || ch[i].flush || cs[i].adds.n > 0 ||
		    cs[i].dels.n > 0;
	}
	if (!any) {
		ret = 0;
		goto out;
	}
	if (batch_begin(s, &b) == -1)
		goto nomem;
	for (i = 0; i < n; i++)
		if (batch_set(s, &b, cs[i].si, ch[i].flush, NFT_MSG_DELSETELEM,
		    &cs[i].dels, &cs[i].adds) == -1)
			goto nomem;
	if (batch_end(s, &b) == -1)
		goto nomem;
	if (batch_send(s, &b, &ae) == 0) {
		ret = 0;
		goto out;
	}
	m = batch_find(&b, ae.seq);
	batch_fail(&b, &ae, m != NULL && m->si != NULL ? m->si : cs[0].si,
	    "commit", err, errlen);
	for (i = 0; i < n; i++)
		setinfo_forget(s, ch[i].set);
	errno = ae.err;
	goto out;
nomem:
	nft_fail(err, errlen, ENOMEM, "commit: out of memory");
out:
	batch_free(&b);
	csets_free(cs, n);
	return ret;
}

int
nftset_list(struct nftset *s, const char *set, struct nftset_elem **out,
    size_t *n, char *err, size_t errlen)
{
	struct setinfo	*si;
	struct range	*rv;
	struct elems	 l;
	size_t		 nr, i;

	*out = NULL;
	*n = 0;
	memset(&l, 0, sizeof(l));
	if ((si = setinfo_get(s, set, "list", err, errlen)) == NULL)
		return -1;
	if (dump_ranges(s, si, "list", &rv, &nr, err, errlen) == -1)
		return -1;
	for (i = 0; i < nr; i++)
		if (range_prefixes(si->family, &rv[i], &l) == -1) {
			free(rv);
			free(l.v);
			return nft_fail(err, errlen, ENOMEM, "set %s: list: "
			    "out of memory", set);
		}
	free(rv);
	*out = l.v;
	*n = l.n;
	return 0;
}

int
nftset_counters(struct nftset *s, struct nftset_counter *c, size_t n,
    char *err, size_t errlen)
{
	return dump_counters(s, c, n, err, errlen);
}
