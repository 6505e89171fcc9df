/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * nftquery: GETTABLE, GETSET and dumps (set elements, counter objects)
 * for nftset.  See nftquery.h.
 *
 * A dump of an interval set costs O(n^2) in the kernel (0.4 s at 100,000
 * prefixes, 60 s at a million): nftset dumps only to list a set and to
 * filter deletes the kernel would not check.
 */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>

#include "nftquery.h"

void
nft_drain(struct nftset *s)
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

void
nft_put_names(struct nlmsghdr *nlh, const char *table, int tattr,
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

	nft_drain(s);
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

int
query_table(struct nftset *s, char *err, size_t errlen)
{
	struct nlmsghdr	*nlh;
	int		 e;

	nlh = request(s, NFT_MSG_GETTABLE, NLM_F_ACK);
	nft_put_names(nlh, s->table, NFTA_TABLE_NAME, NULL, 0);
	if (talk(s, nlh, gettable_cb, NULL) == 0)
		return 0;
	e = errno;
	if (e == ENOENT)
		return nft_fail(err, errlen, e, "table inet %s: %s (%s)",
		    s->table, strerror(e), NFT_HINT);
	if (e == EPERM)
		return nft_fail(err, errlen, e, "table inet %s: %s (needs "
		    "CAP_NET_ADMIN)", s->table, strerror(e));
	return nft_fail(err, errlen, e, "table inet %s: %s", s->table,
	    strerror(e));
}

/* A request about a set failed with e: a missing set says how to load
   the ruleset. */
static void
set_fail(struct nftset *s, const char *name, const char *op, int e,
    char *err, size_t errlen)
{
	if (e == ENOENT)
		nft_fail(err, errlen, e, "set %s: %s: %s (table inet %s or "
		    "its set %s is missing; %s)", name, op, strerror(e),
		    s->table, name, NFT_HINT);
	else
		nft_fail(err, errlen, e, "set %s: %s: %s", name, op,
		    strerror(e));
}

void
setinfo_forget(struct nftset *s, const char *name)
{
	struct setinfo	**pp, *si;

	for (pp = &s->cache; (si = *pp) != NULL; pp = &si->next)
		if (strcmp(si->name, name) == 0) {
			*pp = si->next;
			free(si);
			return;
		}
}

/* op names the caller's operation in errors ("check" adds the hint). */
struct setinfo *
setinfo_get(struct nftset *s, const char *name, const char *op, char *err,
    size_t errlen)
{
	struct setinfo	*si, tmp;
	struct nlmsghdr	*nlh;

	for (si = s->cache; si != NULL; si = si->next)
		if (strcmp(si->name, name) == 0)
			return si;
	if (*name == '\0' || strlen(name) >= NFT_SET_MAXNAMELEN) {
		nft_fail(err, errlen, EINVAL, "set %s: bad name", name);
		return NULL;
	}
	memset(&tmp, 0, sizeof(tmp));
	nlh = request(s, NFT_MSG_GETSET, NLM_F_ACK);
	nft_put_names(nlh, s->table, NFTA_SET_TABLE, name, NFTA_SET_NAME);
	if (talk(s, nlh, getset_cb, &tmp) == -1) {
		set_fail(s, name, op, errno, err, errlen);
		return NULL;
	}
	if (tmp.flags & (NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_CONCAT)) {
		nft_fail(err, errlen, EINVAL, "set %s: %s: a map or "
		    "concatenation, not a set of addresses", name, op);
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
		nft_fail(err, errlen, EINVAL, "set %s: %s: key of %u bytes, "
		    "not ipv4_addr or ipv6_addr", name, op,
		    (unsigned)tmp.keylen);
		return NULL;
	}
	if ((si = malloc(sizeof(*si))) == NULL) {
		nft_fail(err, errlen, ENOMEM, "set %s: %s: out of memory", name,
		    op);
		return NULL;
	}
	*si = tmp;
	strcpy(si->name, name);
	si->next = s->cache;
	s->cache = si;
	return si;
}

/* Counters. */

struct ctrdump {
	const char		*table;
	struct nftset_counter	*c;
	size_t			 n;
};

/* One counter object of the dump: ours if it has one of the names. */
static int
counter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctrdump		*d = data;
	struct nftnl_obj	*o;
	const char		*table, *name;
	size_t			 i;

	if ((o = nftnl_obj_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == -1) {
		nftnl_obj_free(o);
		return MNL_CB_ERROR;
	}
	/* The kernel filters by table and type; checked all the same. */
	table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	if (table != NULL && name != NULL && strcmp(table, d->table) == 0 &&
	    nftnl_obj_is_set(o, NFTNL_OBJ_TYPE) &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER)
		for (i = 0; i < d->n; i++)
			if (strcmp(d->c[i].name, name) == 0) {
				d->c[i].found = true;
				d->c[i].packets = nftnl_obj_get_u64(o,
				    NFTNL_OBJ_CTR_PKTS);
				d->c[i].bytes = nftnl_obj_get_u64(o,
				    NFTNL_OBJ_CTR_BYTES);
			}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

int
dump_counters(struct nftset *s, struct nftset_counter *c, size_t n,
    char *err, size_t errlen)
{
	struct ctrdump	 d = { s->table, c, n };
	struct nlmsghdr	*nlh;
	size_t		 i;
	int		 e, tries;

	/* As in dump_ranges: a commit during the dump interrupts it. */
	for (tries = 0;; tries++) {
		for (i = 0; i < n; i++) {
			c[i].found = false;
			c[i].packets = c[i].bytes = 0;
		}
		nlh = request(s, NFT_MSG_GETOBJ, NLM_F_DUMP);
		nft_put_names(nlh, s->table, NFTA_OBJ_TABLE, NULL, 0);
		mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
		if (talk(s, nlh, counter_cb, &d) == 0)
			return 0;
		e = errno;
		if (e == EINTR && tries < 3)
			continue;
		for (i = 0; i < n; i++)
			c[i].found = false;
		if (e == EPERM)
			return nft_fail(err, errlen, e, "table inet %s: "
			    "counters: %s (needs CAP_NET_ADMIN)", s->table,
			    strerror(e));
		return nft_fail(err, errlen, e, "table inet %s: counters: %s",
		    s->table, strerror(e));
	}
}

/* Dumps. */

/* Raw dumped elements. */
struct rawels {
	struct rawel	*v;
	size_t		 n, cap;
	struct setinfo	*si;
	int		 bad;		/* a key of the wrong size */
};

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
int
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
		nft_put_names(nlh, s->table, NFTA_SET_ELEM_LIST_TABLE, si->name,
		    NFTA_SET_ELEM_LIST_SET);
		if (talk(s, nlh, dump_cb, &r) == 0)
			break;
		e = errno;
		if (e == EINTR && tries < 3)
			continue;
		free(r.v);
		set_fail(s, si->name, op, e, err, errlen);
		setinfo_forget(s, si->name);	/* frees si */
		errno = e;
		return -1;
	}
	if (r.bad) {
		free(r.v);
		nft_fail(err, errlen, EPROTO, "set %s: %s: element of the "
		    "wrong size in the dump", si->name, op);
		setinfo_forget(s, si->name);	/* frees si */
		errno = EPROTO;
		return -1;
	}
	if (r.n > 0 && (v = reallocarray(NULL, r.n, sizeof(*v))) == NULL) {
		free(r.v);
		return nft_fail(err, errlen, ENOMEM, "set %s: %s: out of "
		    "memory", si->name, op);
	}
	if (ranges_from_dump(si->family, (si->flags & NFT_SET_INTERVAL) != 0,
	    r.v, r.n, v, &n, &bad) == -1) {
		key_to_addr(bad, si->family, &a);
		addr_format(&a, buf, sizeof(buf));
		free(r.v);
		free(v);
		return nft_fail(err, errlen, EPROTO, "set %s: %s: interval "
		    "starting at %s has no end", si->name, op, buf);
	}
	free(r.v);
	*out = v;
	*nout = n;
	return 0;
}
