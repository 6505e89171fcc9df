/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * nftbatch: nfnetlink batches for nftset.  See nftbatch.h.
 *
 * The kernel runs the whole batch inside sendmsg(2), then queues one
 * acknowledgement per message (NLM_F_ACK on each; NETLINK_CAP_ACK keeps
 * them short), so when send returns every answer is already waiting on
 * the socket.  The socket's buffers are raised to the size of the batch
 * and of its answers.
 */

#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "nftbatch.h"
#include "nftquery.h"

/* Bytes of elements in one message: the nest's nla_len is 16 bits. */
#define NEST_MAX	60000
/* Room for one message besides its elements (headers, names, nest). */
#define MSG_ROOM	(NEST_MAX + 2048)
/* Receive buffer charge per queued acknowledgement (skb truesize). */
#define ACK_COST	2048

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

void
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
	if ((m = nft_grow(b->msgs, b->nmsgs, &b->msgcap, sizeof(*m),
	    16)) == NULL)
		return -1;
	b->msgs = m;
	return 0;
}

int
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

int
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

int
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
		nft_put_names(nlh, s->table, NFTA_SET_ELEM_LIST_TABLE, si->name,
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

int
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
int
batch_send(struct nftset *s, struct batch *b, struct ackerr *ae)
{
	const struct nlmsghdr	*nlh;
	size_t			 acked = 0;
	ssize_t			 n;
	int			 fd = mnl_socket_get_fd(s->nl), len;

	memset(ae, 0, sizeof(*ae));
	nft_drain(s);
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

const struct msgrec *
batch_find(const struct batch *b, uint32_t seq)
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

	if (ae->offs == 0 || (m = batch_find(b, ae->seq)) == NULL ||
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

int
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
		snprintf(why, sizeof(why), " (the set is gone? %s)", NFT_HINT);
	return nft_fail(err, errlen, ae->err, "set %s: %s: %s%s%s", si->name,
	    op, strerror(ae->err), why, where);
}

int
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
