/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * nftset: nfspamd's nftables sets over netlink.  See nftset.h.
 *
 * Every change is one nfnetlink batch (BEGIN, messages, END) written into
 * one buffer and sent with one sendmsg(2): the kernel runs the whole batch
 * as one transaction inside that call, then queues one acknowledgement per
 * message (NLM_F_ACK on each; NETLINK_CAP_ACK keeps them short), so when
 * send returns every answer is already waiting on the socket.  Elements are
 * split into messages of at most NFTSET_CHUNK elements whose element nest
 * stays under 64 KiB (nla_len is 16 bits), and the socket's send buffer
 * is raised to the size of the batch.
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
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nftrange.h"
#include "nftset.h"

/* Linux 6.3; Debian 12's headers (6.1) do not have it yet. */
#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYSETELEM	30
#endif

#define HINT		"load the ruleset: systemctl start nfspamd-nft, or nft -f " \
			    "/etc/nfspamd/nfspamd.nft"

/* Bytes of elements in one message: the nest's nla_len is 16 bits. */
#define NEST_MAX	60000
/* Room for one message besides its elements (headers, names, nest). */
#define MSG_ROOM	(NEST_MAX + 2048)
/* Receive buffer for dumps and acknowledgements. */
#define RBUF_SIZE	(128 * 1024)
/* Receive buffer charge per queued acknowledgement (skb truesize). */
#define ACK_COST	2048

/* What GETSET said about a set; cached by name. */
struct setinfo {
	struct setinfo	*next;
	char		 name[NFT_SET_MAXNAMELEN];
	int		 family;	/* AF_INET or AF_INET6 */
	uint32_t	 keylen;	/* 4 or 16 */
	uint32_t	 flags;		/* NFT_SET_* */
};

struct nftset {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	char			 table[NFT_TABLE_MAXNAMELEN];
	struct setinfo		*cache;
	char			 req[1024];	/* GET requests */
	char			*rbuf;
	int			 sndbuf;	/* what the socket has now */
	int			 rcvbuf;
	bool			 nodestroy;	/* kernel refused DESTROY */
	int			 ivalid;	/* validates interval deletes:
						   -1 not known yet, 0, 1 */
};

/* One message of a batch, to map an acknowledgement back. */
struct msgrec {
	uint32_t	 seq;
	size_t		 off;		/* in the batch buffer */
	size_t		 first, n;	/* its elements in the nel list */
	const struct nels *list;
	const struct setinfo *si;
	uint16_t	 type;
};

struct batch {
	char		*buf;
	size_t		 len, cap;
	struct msgrec	*msgs;
	size_t		 nmsgs, msgcap;
	uint32_t	 first_seq, last_seq;
};

/* The first error the kernel reported for a batch. */
struct ackerr {
	int		 err;		/* positive errno, 0: none */
	uint32_t	 seq;
	uint32_t	 offs;		/* NLMSGERR_ATTR_OFFS, 0: none */
	char		 msg[128];	/* NLMSGERR_ATTR_MSG */
};

struct rawels {
	struct rawel	*v;
	size_t		 n, cap;
	struct setinfo	*si;
	int		 bad;		/* a key of the wrong size */
};

enum op { OP_ADD, OP_DEL, OP_APPLY, OP_REPLACE };

static const char *const opname[] = { "add", "del", "apply", "replace" };

static int	fail(char *, size_t, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int e, const char *fmt, ...)
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
		return fail(err, errlen, EINVAL, "table %s: bad name", table);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->rbuf = malloc(RBUF_SIZE)) == NULL) {
		if (s != NULL)
			free(s);
		return fail(err, errlen, ENOMEM, "nftset: out of memory");
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
	return fail(err, errlen, e, "nftables netlink socket: %s",
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

/* Drop what an earlier, failed exchange may have left on the socket. */
static void
drain(struct nftset *s)
{
	int	fd = mnl_socket_get_fd(s->nl);
	ssize_t	n;

	for (;;) {
		n = recv(fd, s->rbuf, RBUF_SIZE, MSG_DONTWAIT);
		if (n > 0 || (n == -1 && (errno == EINTR || errno == ENOBUFS)))
			continue;
		return;
	}
}

/*
 * A batch and its answers must fit the socket buffers: netlink refuses a
 * send larger than SO_SNDBUF, and drops acknowledgements beyond SO_RCVBUF.
 * The *FORCE variants need CAP_NET_ADMIN, which we have anyway.
 */
static int
grow_buf(struct nftset *s, int opt, int forceopt, int *have, size_t need)
{
	int		fd = mnl_socket_get_fd(s->nl);
	int		v;
	socklen_t	len = sizeof(v);

	if (need > INT_MAX / 2)
		return -1;
	if ((size_t)*have >= need)
		return 0;
	v = (int)need;
	if (setsockopt(fd, SOL_SOCKET, forceopt, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) == -1)
		return -1;
	*have = v;
	return (size_t)v >= need ? 0 : -1;
}

/* Requests that are not batches (GETTABLE, GETSET, GETSETELEM). */

static void
put_names(struct nlmsghdr *nlh, const char *table, int tattr,
    const char *set, int sattr)
{
	mnl_attr_put_strz(nlh, (uint16_t)tattr, table);
	if (set != NULL)
		mnl_attr_put_strz(nlh, (uint16_t)sattr, set);
}

/*
 * Send one request and run its answers through cb until the kernel's
 * final acknowledgement or NLMSG_DONE.  -1 with errno on failure.
 */
static int
talk(struct nftset *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t	seq = nlh->nlmsg_seq;
	ssize_t		n;
	int		ret;

	drain(s);
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(s->nl, s->rbuf, RBUF_SIZE);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		ret = mnl_cb_run(s->rbuf, (size_t)n, seq, s->portid, cb,
		    data);
		if (ret == -1)
			return -1;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int
gettable_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int
getset_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set	*ns;
	struct setinfo		*si = data;

	if ((ns = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, ns) == -1) {
		nftnl_set_free(ns);
		return MNL_CB_ERROR;
	}
	si->flags = nftnl_set_is_set(ns, NFTNL_SET_FLAGS) ?
	    nftnl_set_get_u32(ns, NFTNL_SET_FLAGS) : 0;
	si->keylen = nftnl_set_is_set(ns, NFTNL_SET_KEY_LEN) ?
	    nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN) : 0;
	nftnl_set_free(ns);
	return MNL_CB_OK;
}

static struct nlmsghdr *
request(struct nftset *s, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(s->req, type, NFPROTO_INET, flags,
	    s->seq++);
}

static int
query_table(struct nftset *s, char *err, size_t errlen)
{
	struct nlmsghdr	*nlh;
	int		 e;

	nlh = request(s, NFT_MSG_GETTABLE, NLM_F_ACK);
	put_names(nlh, s->table, NFTA_TABLE_NAME, NULL, 0);
	if (talk(s, nlh, gettable_cb, NULL) == 0)
		return 0;
	e = errno;
	if (e == ENOENT)
		return fail(err, errlen, e, "table inet %s: %s (%s)",
		    s->table, strerror(e), HINT);
	if (e == EPERM)
		return fail(err, errlen, e, "table inet %s: %s (needs "
		    "CAP_NET_ADMIN)", s->table, strerror(e));
	return fail(err, errlen, e, "table inet %s: %s", s->table,
	    strerror(e));
}

static void
forget(struct nftset *s, const char *name)
{
	struct setinfo	**pp, *si;

	for (pp = &s->cache; (si = *pp) != NULL; pp = &si->next)
		if (strcmp(si->name, name) == 0) {
			*pp = si->next;
			free(si);
			return;
		}
}

/*
 * The set's key and flags, from the cache or asked once with GETSET.
 * op names the caller's operation in errors ("check" adds the hint).
 */
static struct setinfo *
setinfo_get(struct nftset *s, const char *name, const char *op, char *err,
    size_t errlen)
{
	struct setinfo	*si, tmp;
	struct nlmsghdr	*nlh;
	int		 e;

	for (si = s->cache; si != NULL; si = si->next)
		if (strcmp(si->name, name) == 0)
			return si;
	if (*name == '\0' || strlen(name) >= NFT_SET_MAXNAMELEN) {
		fail(err, errlen, EINVAL, "set %s: bad name", name);
		return NULL;
	}
	memset(&tmp, 0, sizeof(tmp));
	nlh = request(s, NFT_MSG_GETSET, NLM_F_ACK);
	put_names(nlh, s->table, NFTA_SET_TABLE, name, NFTA_SET_NAME);
	if (talk(s, nlh, getset_cb, &tmp) == -1) {
		e = errno;
		if (e == ENOENT)
			fail(err, errlen, e, "set %s: %s: %s (table inet %s "
			    "or its set %s is missing; %s)", name, op,
			    strerror(e), s->table, name, HINT);
		else
			fail(err, errlen, e, "set %s: %s: %s", name, op,
			    strerror(e));
		return NULL;
	}
	if (tmp.flags & (NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_CONCAT)) {
		fail(err, errlen, EINVAL, "set %s: %s: a map or concatenation,"
		    " not a set of addresses", name, op);
		return NULL;
	}
	switch (tmp.keylen) {
	case 4:
		tmp.family = AF_INET;
		break;
	case 16:
		tmp.family = AF_INET6;
		break;
	default:
		fail(err, errlen, EINVAL, "set %s: %s: key of %u bytes, not "
		    "ipv4_addr or ipv6_addr", name, op, (unsigned)tmp.keylen);
		return NULL;
	}
	if ((si = malloc(sizeof(*si))) == NULL) {
		fail(err, errlen, ENOMEM, "set %s: %s: out of memory", name,
		    op);
		return NULL;
	}
	*si = tmp;
	strcpy(si->name, name);
	si->next = s->cache;
	s->cache = si;
	return si;
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
		forget(s, sets[i]);
		if ((si = setinfo_get(s, sets[i], "check", err, errlen)) ==
		    NULL)
			return -1;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			if (strcmp(known[k].name, sets[i]) != 0)
				continue;
			if (si->family != known[k].family)
				return fail(err, errlen, EINVAL, "set %s: "
				    "check: declared type %s, expected %s (%s)",
				    sets[i], fam_type(si->family),
				    fam_type(known[k].family), HINT);
			if ((si->flags & known[k].flags) == 0)
				return fail(err, errlen, EINVAL, "set %s: "
				    "check: declared without flags %s (%s)",
				    sets[i], known[k].flagname, HINT);
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
		return fail(err, errlen, EAFNOSUPPORT, "set %s: %s: %s is %s, "
		    "the set holds %s addresses (%s)", si->name, op,
		    e->pfx.addr.family == AF_INET ||
		    e->pfx.addr.family == AF_INET6 ? buf : "element",
		    fam_name(e->pfx.addr.family), fam_name(si->family),
		    fam_type(si->family));
	}
	bits = key_bits(si->family);
	if (e->pfx.len > bits) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return fail(err, errlen, EINVAL, "set %s: %s: %s: prefix "
		    "length out of range", si->name, op, buf);
	}
	if (e->pfx.len != bits && !(si->flags & NFT_SET_INTERVAL)) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return fail(err, errlen, EINVAL, "set %s: %s: %s is a prefix, "
		    "the set holds single addresses (no flags interval)",
		    si->name, op, buf);
	}
	m = e->pfx.addr;
	addr_mask(&m, e->pfx.len);
	if (!addr_eq(&m, &e->pfx.addr)) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return fail(err, errlen, EINVAL, "set %s: %s: %s: host bits "
		    "set", si->name, op, buf);
	}
	if (!del && e->timeout_ms != 0 && !(si->flags & NFT_SET_TIMEOUT)) {
		prefix_format(&e->pfx, buf, sizeof(buf));
		return fail(err, errlen, EINVAL, "set %s: %s: %s has a "
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
		return fail(err, errlen, ENOMEM, "set %s: %s: out of memory",
		    si->name, op);
	prefix_format(&earlier->pfx, a, sizeof(a));
	prefix_format(&later->pfx, b, sizeof(b));
	return fail(err, errlen, EEXIST, "set %s: %s: %s overlaps %s "
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
			return fail(err, errlen, ENOMEM, "set %s: %s: out of "
			    "memory", si->name, op);
	return 0;
}

/* Batches. */

static void
batch_free(struct batch *b)
{
	free(b->buf);
	free(b->msgs);
	memset(b, 0, sizeof(*b));
}

/* Room for one more message of up to MSG_ROOM bytes. */
static int
batch_room(struct batch *b)
{
	struct msgrec	*m;
	char		*p;
	size_t		 cap;

	if (b->cap - b->len < MSG_ROOM) {
		cap = b->cap == 0 ? 4 * MSG_ROOM : b->cap * 2;
		while (cap - b->len < MSG_ROOM)
			cap *= 2;
		if ((p = realloc(b->buf, cap)) == NULL)
			return -1;
		b->buf = p;
		b->cap = cap;
	}
	if (b->nmsgs == b->msgcap) {
		cap = b->msgcap == 0 ? 16 : b->msgcap * 2;
		if ((m = reallocarray(b->msgs, cap, sizeof(*m))) == NULL)
			return -1;
		b->msgs = m;
		b->msgcap = cap;
	}
	return 0;
}

static int
batch_begin(struct nftset *s, struct batch *b)
{
	struct nlmsghdr	*nlh;

	memset(b, 0, sizeof(*b));
	if (batch_room(b) == -1)
		return -1;
	b->first_seq = s->seq;
	nlh = nftnl_batch_begin(b->buf, s->seq++);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

static int
batch_end(struct nftset *s, struct batch *b)
{
	struct nlmsghdr	*nlh;

	if (batch_room(b) == -1)
		return -1;
	b->last_seq = s->seq;
	nlh = nftnl_batch_end(b->buf + b->len, s->seq++);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

/* Bytes one element takes in the nest (what libnftnl writes). */
static size_t
nel_size(const struct setinfo *si, const struct nel *e)
{
	size_t	sz;

	sz = NLA_HDRLEN;				/* the element nest */
	sz += NLA_HDRLEN + NLA_HDRLEN + NLA_ALIGN(si->keylen);	/* key */
	if (e->flags != 0)
		sz += NLA_HDRLEN + 4;
	if (e->timeout != 0)
		sz += 2 * (NLA_HDRLEN + 8);		/* timeout, expiration */
	return sz;
}

/*
 * One message of type with elements l->v[first..first+cnt), or with no
 * element list at all (a flush) when l is NULL.
 */
static int
batch_msg(struct nftset *s, struct batch *b, const struct setinfo *si,
    uint16_t type, uint16_t flags, const struct nels *l, size_t first,
    size_t cnt)
{
	struct nftnl_set	*ns;
	struct nftnl_set_elem	*ne;
	struct nlmsghdr		*nlh;
	struct msgrec		*m;
	uint8_t			 key[16];
	size_t			 i;

	if (batch_room(b) == -1)
		return -1;
	m = &b->msgs[b->nmsgs];
	m->seq = s->seq;
	m->off = b->len;
	m->first = first;
	m->n = cnt;
	m->list = l;
	m->si = si;
	m->type = type;
	nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
	    flags | NLM_F_ACK, s->seq++);
	if (l == NULL) {
		/* DELSETELEM without elements flushes the set. */
		put_names(nlh, s->table, NFTA_SET_ELEM_LIST_TABLE, si->name,
		    NFTA_SET_ELEM_LIST_SET);
	} else {
		if ((ns = nftnl_set_alloc()) == NULL)
			return -1;
		nftnl_set_set_str(ns, NFTNL_SET_TABLE, s->table);
		nftnl_set_set_str(ns, NFTNL_SET_NAME, si->name);
		for (i = first; i < first + cnt; i++) {
			if ((ne = nftnl_set_elem_alloc()) == NULL) {
				nftnl_set_free(ns);
				return -1;
			}
			key_put(l->v[i].key, key, si->keylen);
			nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY, key,
			    si->keylen);
			if (l->v[i].flags != 0)
				nftnl_set_elem_set_u32(ne, NFTNL_SET_ELEM_FLAGS,
				    l->v[i].flags);
			if (l->v[i].timeout != 0) {
				nftnl_set_elem_set_u64(ne,
				    NFTNL_SET_ELEM_TIMEOUT, l->v[i].timeout);
				nftnl_set_elem_set_u64(ne,
				    NFTNL_SET_ELEM_EXPIRATION, l->v[i].timeout);
			}
			nftnl_set_elem_add(ns, ne);
		}
		nftnl_set_elems_nlmsg_build_payload(nlh, ns);
		nftnl_set_free(ns);
	}
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->nmsgs++;
	return 0;
}

/* All of l, in as many messages as the limits need. */
static int
batch_elems(struct nftset *s, struct batch *b, const struct setinfo *si,
    uint16_t type, uint16_t flags, const struct nels *l)
{
	size_t	i, first, bytes, sz;

	for (first = 0; first < l->n; first = i) {
		bytes = 0;
		for (i = first; i < l->n && i - first < NFTSET_CHUNK; i++) {
			sz = nel_size(si, &l->v[i]);
			if (bytes + sz > NEST_MAX)
				break;
			bytes += sz;
		}
		if (batch_msg(s, b, si, type, flags, l, first, i - first) ==
		    -1)
			return -1;
	}
	return 0;
}

static void
parse_ackerr(const struct nlmsghdr *nlh, struct ackerr *ae)
{
	const struct nlmsgerr	*me = mnl_nlmsg_get_payload(nlh);
	const struct nlattr	*a;
	size_t			 off;

	ae->err = -me->error;
	ae->seq = nlh->nlmsg_seq;
	ae->offs = 0;
	ae->msg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = sizeof(*me);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += me->msg.nlmsg_len - sizeof(me->msg);
	if (MNL_ALIGN(off) >= mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each(a, nlh, MNL_ALIGN(off)) {
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(ae->msg, sizeof(ae->msg), "%s",
				    mnl_attr_get_str(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				ae->offs = mnl_attr_get_u32(a);
			break;
		}
	}
}

/*
 * Send the batch and read every acknowledgement.  0: committed.  -1:
 * not committed (or, with errno EPROTO/ENOBUFS, unknown), *ae says why.
 */
static int
batch_send(struct nftset *s, struct batch *b, struct ackerr *ae)
{
	const struct nlmsghdr	*nlh;
	size_t			 acked = 0;
	ssize_t			 n;
	int			 fd = mnl_socket_get_fd(s->nl), len;

	memset(ae, 0, sizeof(*ae));
	drain(s);
	if (grow_buf(s, SO_SNDBUF, SO_SNDBUFFORCE, &s->sndbuf,
	    b->len + 4096) == -1 ||
	    grow_buf(s, SO_RCVBUF, SO_RCVBUFFORCE, &s->rcvbuf,
	    (b->nmsgs + 2) * ACK_COST + RBUF_SIZE) == -1) {
		ae->err = EMSGSIZE;
		snprintf(ae->msg, sizeof(ae->msg), "cannot raise the socket "
		    "buffers to %zu bytes", b->len);
		return -1;
	}
	if (mnl_socket_sendto(s->nl, b->buf, b->len) == -1) {
		ae->err = errno;
		return -1;
	}
	/*
	 * The kernel ran the batch inside sendmsg: the answers are queued
	 * already, read them until the socket is empty.
	 */
	for (;;) {
		n = recv(fd, s->rbuf, RBUF_SIZE, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (ae->err == 0) {
				ae->err = errno;
				snprintf(ae->msg, sizeof(ae->msg), "reading "
				    "acknowledgements: outcome unknown");
			}
			return -1;
		}
		nlh = (const struct nlmsghdr *)(void *)s->rbuf;
		len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh,
		    &len)) {
			/* Sequence numbers may wrap inside a batch. */
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_seq - b->first_seq >
			    b->last_seq - b->first_seq ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct
			    nlmsgerr)))
				continue;
			acked++;
			if (((const struct nlmsgerr *)
			    mnl_nlmsg_get_payload(nlh))->error != 0 &&
			    ae->err == 0)
				parse_ackerr(nlh, ae);
		}
	}
	if (ae->err != 0)
		return -1;
	if (acked < b->nmsgs) {
		ae->err = EPROTO;
		snprintf(ae->msg, sizeof(ae->msg), "%zu of %zu messages not "
		    "acknowledged: outcome unknown", b->nmsgs - acked,
		    b->nmsgs);
		return -1;
	}
	return 0;
}

static const struct msgrec *
find_msg(const struct batch *b, uint32_t seq)
{
	size_t	i;

	for (i = 0; i < b->nmsgs; i++)
		if (b->msgs[i].seq == seq)
			return &b->msgs[i];
	return NULL;
}

/* The caller's element the kernel pointed at, if it did. */
static const struct nftset_elem *
blamed(const struct batch *b, const struct ackerr *ae)
{
	const struct msgrec	*m;
	const struct nlmsghdr	*nlh;
	const struct nlattr	*a, *el;
	const char		*at;
	size_t			 j;

	if (ae->offs == 0 || (m = find_msg(b, ae->seq)) == NULL ||
	    m->list == NULL)
		return NULL;
	nlh = (const struct nlmsghdr *)(const void *)(b->buf + m->off);
	if (ae->offs >= nlh->nlmsg_len)
		return NULL;
	at = (const char *)nlh + ae->offs;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		j = 0;
		mnl_attr_for_each_nested(el, a) {
			if (at >= (const char *)el &&
			    at < (const char *)el + el->nla_len) {
				if (j >= m->n)
					return NULL;
				return m->list->v[m->first + j].src;
			}
			j++;
		}
	}
	return NULL;
}

static int
batch_fail(const struct batch *b, const struct ackerr *ae,
    const struct setinfo *si, const char *op, char *err, size_t errlen)
{
	const struct nftset_elem	*e;
	char				 where[ADDR_STRLEN + 8];
	char				 why[sizeof(ae->msg) + 4];

	where[0] = why[0] = '\0';
	if ((e = blamed(b, ae)) != NULL) {
		strcpy(where, " at ");
		prefix_format(&e->pfx, where + 4, sizeof(where) - 4);
	}
	if (ae->msg[0] != '\0')
		snprintf(why, sizeof(why), " (%s)", ae->msg);
	else if (ae->err == ENOENT && e == NULL)
		snprintf(why, sizeof(why), " (the set is gone? %s)", HINT);
	return fail(err, errlen, ae->err, "set %s: %s: %s%s%s", si->name, op,
	    strerror(ae->err), why, where);
}

/* Dumps. */

static int
rawels_push(struct rawels *r, const struct rawel *e)
{
	struct rawel	*v;

	if ((v = nft_grow(r->v, r->n, &r->cap, sizeof(*v), 256)) == NULL)
		return -1;
	r->v = v;
	r->v[r->n++] = *e;
	return 0;
}

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rawels			*r = data;
	struct nftnl_set		*ns;
	struct nftnl_set_elems_iter	*it;
	struct nftnl_set_elem		*ne;
	struct rawel			 e;
	const void			*key;
	uint32_t			 klen;
	int				 ret = MNL_CB_OK;

	if ((ns = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) == -1 ||
	    (it = nftnl_set_elems_iter_create(ns)) == NULL) {
		nftnl_set_free(ns);
		return MNL_CB_ERROR;
	}
	while ((ne = nftnl_set_elems_iter_next(it)) != NULL) {
		memset(&e, 0, sizeof(e));
		key = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_KEY, &klen);
		if (key == NULL || klen != r->si->keylen) {
			r->bad = 1;
			continue;
		}
		e.key = key_get(key, klen);
		if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_FLAGS))
			e.flags = nftnl_set_elem_get_u32(ne,
			    NFTNL_SET_ELEM_FLAGS);
		if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_TIMEOUT))
			e.timeout = nftnl_set_elem_get_u64(ne,
			    NFTNL_SET_ELEM_TIMEOUT);
		if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_EXPIRATION))
			e.expires = nftnl_set_elem_get_u64(ne,
			    NFTNL_SET_ELEM_EXPIRATION);
		if (rawels_push(r, &e) == -1) {
			errno = ENOMEM;
			ret = MNL_CB_ERROR;
			break;
		}
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(ns);
	return ret;
}

/*
 * The set's content as sorted, disjoint ranges.  An interval set stores
 * a start element and an end element (last + 1) per range, no end for a
 * range open to the top; nft may add an end element at 0 on its own.
 */
static int
dump_ranges(struct nftset *s, struct setinfo *si, const char *op,
    struct range **out, size_t *nout, char *err, size_t errlen)
{
	struct rawels	 r;
	struct range	*v = NULL;
	struct nlmsghdr	*nlh;
	char		 buf[ADDR_STRLEN];
	struct addr	 a;
	u128		 bad;
	size_t		 n;
	int		 e, tries;

	*out = NULL;
	*nout = 0;
	memset(&r, 0, sizeof(r));
	/*
	 * A change committed while a dump runs marks it NLM_F_DUMP_INTR
	 * (EINTR from libmnl): start again, a few times.
	 */
	for (tries = 0;; tries++) {
		r.si = si;
		r.n = 0;
		r.bad = 0;
		nlh = request(s, NFT_MSG_GETSETELEM, NLM_F_DUMP);
		put_names(nlh, s->table, NFTA_SET_ELEM_LIST_TABLE, si->name,
		    NFTA_SET_ELEM_LIST_SET);
		if (talk(s, nlh, dump_cb, &r) == 0)
			break;
		e = errno;
		if (e == EINTR && tries < 3)
			continue;
		free(r.v);
		if (e == ENOENT)
			fail(err, errlen, e, "set %s: %s: %s (table inet %s or "
			    "its set %s is missing; %s)", si->name, op,
			    strerror(e), s->table, si->name, HINT);
		else
			fail(err, errlen, e, "set %s: %s: %s", si->name, op,
			    strerror(e));
		forget(s, si->name);	/* frees si */
		errno = e;
		return -1;
	}
	if (r.bad) {
		free(r.v);
		fail(err, errlen, EPROTO, "set %s: %s: element of the wrong "
		    "size in the dump", si->name, op);
		forget(s, si->name);	/* frees si */
		errno = EPROTO;
		return -1;
	}
	if (r.n > 0 && (v = reallocarray(NULL, r.n, sizeof(*v))) == NULL) {
		free(r.v);
		return fail(err, errlen, ENOMEM, "set %s: %s: out of memory",
		    si->name, op);
	}
	if (ranges_from_dump(si->family, (si->flags & NFT_SET_INTERVAL) != 0,
	    r.v, r.n, v, &n, &bad) == -1) {
		key_to_addr(bad, si->family, &a);
		addr_format(&a, buf, sizeof(buf));
		free(r.v);
		free(v);
		return fail(err, errlen, EPROTO, "set %s: %s: interval "
		    "starting at %s has no end", si->name, op, buf);
	}
	free(r.v);
	*out = v;
	*nout = n;
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
			return fail(err, errlen, ENOMEM, "set %s: %s: out of "
			    "memory", si->name, op);
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
			return fail(err, errlen, ENOMEM, "set %s: %s: out of "
			    "memory", si->name, op);
	}
	return 0;
}

#define PROBE_SET	"nfspamd-nftset-probe"

static int
batch_newset(struct nftset *s, struct batch *b, const struct setinfo *si)
{
	struct nftnl_set	*ns;
	struct nlmsghdr		*nlh;
	struct msgrec		*m;

	if (batch_room(b) == -1 || (ns = nftnl_set_alloc()) == NULL)
		return -1;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, s->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, si->name);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, si->flags);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, 7);	/* ipv4_addr */
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, si->keylen);
	nftnl_set_set_u32(ns, NFTNL_SET_ID, 1);
	m = &b->msgs[b->nmsgs];
	memset(m, 0, sizeof(*m));
	m->seq = s->seq;
	m->off = b->len;
	m->type = NFT_MSG_NEWSET;
	nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, NFT_MSG_NEWSET,
	    NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, s->seq++);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->nmsgs++;
	return 0;
}

/*
 * Does the kernel refuse to delete a start and an end element that do not
 * bound one interval?  Asked once, in a batch that can only abort: create
 * a scratch interval set, add [10.0.0.0, 10.0.1.0) and [10.0.1.0,
 * 10.0.2.0), delete the start 10.0.0.0 with the end 10.0.2.0, then delete
 * an element that is not there.  A kernel that checks fails the third
 * message with ENOENT, one that does not only the fourth.  Any other
 * outcome leaves the question open (the dump is the safe way meanwhile).
 */
static bool
validates_intervals(struct nftset *s)
{
	struct setinfo	 si;
	struct nels	 add, del, bad;
	struct batch	 b;
	struct ackerr	 ae;
	uint32_t	 delseq, badseq;

	if (s->ivalid >= 0)
		return s->ivalid == 1;
	memset(&si, 0, sizeof(si));
	memset(&add, 0, sizeof(add));
	memset(&del, 0, sizeof(del));
	memset(&bad, 0, sizeof(bad));
	memset(&b, 0, sizeof(b));
	strcpy(si.name, PROBE_SET);
	si.family = AF_INET;
	si.keylen = 4;
	si.flags = NFT_SET_INTERVAL;
	if (nels_push(&add, 0x0a000000, 0, 0, NULL) == -1 ||
	    nels_push(&add, 0x0a000100, NFT_SET_ELEM_INTERVAL_END, 0,
	    NULL) == -1 ||
	    nels_push(&add, 0x0a000100, 0, 0, NULL) == -1 ||
	    nels_push(&add, 0x0a000200, NFT_SET_ELEM_INTERVAL_END, 0,
	    NULL) == -1 ||
	    nels_push(&del, 0x0a000000, 0, 0, NULL) == -1 ||
	    nels_push(&del, 0x0a000200, NFT_SET_ELEM_INTERVAL_END, 0,
	    NULL) == -1 ||
	    nels_push(&bad, 0xc0000201, 0, 0, NULL) == -1)
		goto out;
	if (batch_begin(s, &b) == -1 || batch_newset(s, &b, &si) == -1 ||
	    batch_msg(s, &b, &si, NFT_MSG_NEWSETELEM, NLM_F_CREATE, &add, 0,
	    add.n) == -1)
		goto out;
	delseq = s->seq;
	if (batch_msg(s, &b, &si, NFT_MSG_DELSETELEM, 0, &del, 0,
	    del.n) == -1)
		goto out;
	badseq = s->seq;
	if (batch_msg(s, &b, &si, NFT_MSG_DELSETELEM, 0, &bad, 0,
	    bad.n) == -1 || batch_end(s, &b) == -1)
		goto out;
	if (batch_send(s, &b, &ae) == 0 || ae.err != ENOENT)
		goto out;
	if (ae.seq == delseq)
		s->ivalid = 1;
	else if (ae.seq == badseq)
		s->ivalid = 0;
out:
	batch_free(&b);
	free(add.v);
	free(del.v);
	free(bad.v);
	return s->ivalid == 1;
}

/*
 * Every change: [flush,] deletes, adds, in one batch.  Deletes go first so
 * that an element both deleted and added ends up in the set.
 */
static int
change(struct nftset *s, const char *set, enum op op, bool flush,
    const struct nftset_elem *add, size_t nadd,
    const struct nftset_elem *del, size_t ndel, char *err, size_t errlen)
{
	struct setinfo	*si;
	struct nels	 adds, dels;
	struct batch	 b;
	struct ackerr	 ae;
	const struct msgrec *m;
	const char	*name = opname[op];
	uint16_t	 deltype;
	enum { DEL_DESTROY, DEL_STRICT, DEL_CHECKED } mode;
	bool		 retried = false;
	int		 ret = -1;

	memset(&adds, 0, sizeof(adds));
	memset(&dels, 0, sizeof(dels));
	memset(&b, 0, sizeof(b));
	if ((si = setinfo_get(s, set, name, err, errlen)) == NULL)
		return -1;
	if (check_elems(si, name, add, nadd, del, ndel, err, errlen) == -1)
		return -1;
	if (!flush && nadd == 0 && ndel == 0)
		return 0;
	if (build_adds(si, name, add, nadd, &adds, err, errlen) == -1)
		goto out;
	if (!(si->flags & NFT_SET_INTERVAL))
		mode = s->nodestroy ? DEL_CHECKED : DEL_DESTROY;
	else if (ndel > 0 && validates_intervals(s))
		mode = DEL_STRICT;
	else
		mode = DEL_CHECKED;
again:
	dels.n = 0;
	deltype = mode == DEL_DESTROY ? NFT_MSG_DESTROYSETELEM :
	    NFT_MSG_DELSETELEM;
	if (mode == DEL_CHECKED) {
		if (build_checked_dels(s, si, name, del, ndel, &dels, err,
		    errlen) == -1)
			goto out;
	} else if (build_plain_dels(si, name, del, ndel, &dels, err,
	    errlen) == -1)
		goto out;
	if (!flush && adds.n == 0 && dels.n == 0) {
		ret = 0;
		goto out;
	}

	if (batch_begin(s, &b) == -1 ||
	    (flush && batch_msg(s, &b, si, NFT_MSG_DELSETELEM, 0, NULL, 0,
	    0) == -1) ||
	    batch_elems(s, &b, si, deltype, 0, &dels) == -1 ||
	    batch_elems(s, &b, si, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
	    &adds) == -1 ||
	    batch_end(s, &b) == -1) {
		fail(err, errlen, ENOMEM, "set %s: %s: out of memory", set,
		    name);
		goto out;
	}
	if (batch_send(s, &b, &ae) == 0) {
		ret = 0;
		goto out;
	}
	m = find_msg(&b, ae.seq);
	/*
	 * A kernel older than 6.3 does not know DESTROYSETELEM: retry once
	 * the old way, and keep to it if that works.
	 */
	if (mode == DEL_DESTROY && !retried && ae.err == EINVAL &&
	    m != NULL && m->type == NFT_MSG_DESTROYSETELEM) {
		s->nodestroy = true;
		mode = DEL_CHECKED;
		retried = true;
		batch_free(&b);
		goto again;
	}
	/* A prefix to delete is not in the interval set as such. */
	if (mode == DEL_STRICT && !retried && ae.err == ENOENT &&
	    m != NULL && m->type == NFT_MSG_DELSETELEM) {
		mode = DEL_CHECKED;
		retried = true;
		batch_free(&b);
		goto again;
	}
	if (retried && !(si->flags & NFT_SET_INTERVAL))
		s->nodestroy = false;
	batch_fail(&b, &ae, si, name, err, errlen);
	/* The ruleset may have changed under us: ask again next time. */
	forget(s, set);
	errno = ae.err;
out:
	batch_free(&b);
	free(adds.v);
	free(dels.v);
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
	    !validates_intervals(s))
		return fail(err, errlen, ENOTSUP, "set %s: %s: this kernel "
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
		return fail(err, errlen, ENOMEM, "commit: out of memory");
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
		if ((ch[i].flush && batch_msg(s, &b, cs[i].si,
		    NFT_MSG_DELSETELEM, 0, NULL, 0, 0) == -1) ||
		    batch_elems(s, &b, cs[i].si, NFT_MSG_DELSETELEM, 0,
		    &cs[i].dels) == -1 ||
		    batch_elems(s, &b, cs[i].si, NFT_MSG_NEWSETELEM,
		    NLM_F_CREATE, &cs[i].adds) == -1)
			goto nomem;
	if (batch_end(s, &b) == -1)
		goto nomem;
	if (batch_send(s, &b, &ae) == 0) {
		ret = 0;
		goto out;
	}
	m = find_msg(&b, ae.seq);
	batch_fail(&b, &ae, m != NULL && m->si != NULL ? m->si : cs[0].si,
	    "commit", err, errlen);
	for (i = 0; i < n; i++)
		forget(s, ch[i].set);
	errno = ae.err;
	goto out;
nomem:
	fail(err, errlen, ENOMEM, "commit: out of memory");
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
			return fail(err, errlen, ENOMEM, "set %s: list: out "
			    "of memory", set);
		}
	free(rv);
	*out = l.v;
	*n = l.n;
	return 0;
}
