/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftgen: the trusted-commit chain and the ruleset generation.  See
 * nftgen.h.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "nftgen.h"
#include "owner.h"
#include "util.h"

static const uint8_t magic[4] = { 'N', 'F', 'G', 'N' };

uint32_t
nftgen_next(uint32_t g)
{
	return g + 1 == 0 ? 1 : g + 1;
}

/* a - b as a signed distance: generations wrap. */
static int32_t
dist(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void
nftgen_chain_commit(struct nftgen_chain *c, uint32_t g0, uint32_t g1)
{
	if (g1 == g0)
		return;		/* nothing was committed */
	if (g1 != nftgen_next(g0)) {
		/* Someone else committed meanwhile: vouch for nothing. */
		c->start = c->head = g1;
	} else if (c->valid && c->head == g0)
		c->head = g1;
	else {
		c->start = g0;
		c->head = g1;
	}
	c->valid = true;
}

bool
nftgen_chain_clean(const struct nftgen_chain *c, uint32_t since,
    uint32_t cur)
{
	if (cur == since)
		return true;
	return c->valid && c->head == cur && dist(since, c->start) >= 0 &&
	    dist(cur, since) > 0;
}

void
nftgen_chain_encode(const struct nftgen_chain *c,
    uint8_t out[NFTGEN_RECSIZE])
{
	memcpy(out, magic, 4);
	util_put32be(out + 4, c->valid ? 1 : 0);
	util_put32be(out + 8, c->start);
	util_put32be(out + 12, c->head);
}

int
nftgen_chain_decode(const uint8_t *p, size_t len, struct nftgen_chain *c)
{
	memset(c, 0, sizeof(*c));
	if (len != NFTGEN_RECSIZE || memcmp(p, magic, 4) != 0 ||
	    util_get32be(p + 4) != 1)
		return -1;
	c->valid = true;
	c->start = util_get32be(p + 8);
	c->head = util_get32be(p + 12);
	return 0;
}

/* --- the file and the kernel --- */

struct nftgen {
	char			*path;	/* NULL: the chain in memory */
	int			 fd;
	bool			 gaveup;
	bool			 told;
	char			 why[1024];
	struct nftgen_chain	 mem;
	struct mnl_socket	*nl;
};

int
nftgen_new(struct nftgen **out, const char *path)
{
	struct nftgen *g;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	g->fd = -1;
	g->told = true;
	if (path != NULL && (g->path = strdup(path)) == NULL) {
		free(g);
		return -1;
	}
	*out = g;
	return 0;
}

void
nftgen_free(struct nftgen *g)
{
	if (g == NULL)
		return;
	if (g->fd != -1)
		close(g->fd);
	if (g->nl != NULL)
		mnl_socket_close(g->nl);
	free(g->path);
	free(g);
}

const char *
nftgen_error(struct nftgen *g)
{
	if (g->told)
		return NULL;
	g->told = true;
	return g->why;
}

static void
give_up(struct nftgen *g, const char *what)
{
	int saved = errno;
	char hint[512];

	owner_hint(saved, g->path, hint, sizeof(hint));
	snprintf(g->why, sizeof(g->why), "%s %s: %s%s%s%s; only this "
	    "process's own nftables commits are recognised as nfspamd's",
	    what, g->path, strerror(saved), hint[0] ? " (" : "", hint,
	    hint[0] ? ")" : "");
	if (g->fd != -1)
		close(g->fd);
	g->fd = -1;
	g->gaveup = true;
	g->told = false;
}

/* Open the file and take its lock; false: use the chain in memory. */
static bool
lock(struct nftgen *g)
{
	if (g->path == NULL || g->gaveup)
		return false;
	if (g->fd == -1 &&
	    (g->fd = open(g->path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) == -1) {
		/* Its directory may not be there yet: try again later. */
		if (errno == ENOENT)
			return false;
		give_up(g, "cannot open");
		return false;
	}
	while (flock(g->fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			give_up(g, "cannot lock");
			return false;
		}
	}
	return true;
}

static void
unlock(struct nftgen *g, bool locked)
{
	if (locked)
		flock(g->fd, LOCK_UN);
}

static void
chain_read(struct nftgen *g, bool locked, struct nftgen_chain *c)
{
	uint8_t b[NFTGEN_RECSIZE];
	ssize_t n;

	if (!locked) {
		*c = g->mem;
		return;
	}
	n = pread(g->fd, b, sizeof(b), 0);
	/* Empty (new) or damaged: no chain; the next commit starts one. */
	if (n < 0 || nftgen_chain_decode(b, (size_t)n, c) == -1)
		memset(c, 0, sizeof(*c));
}

static void
chain_write(struct nftgen *g, bool locked, const struct nftgen_chain *c)
{
	uint8_t b[NFTGEN_RECSIZE];

	if (!locked) {
		g->mem = *c;
		return;
	}
	nftgen_chain_encode(c, b);
	if (pwrite(g->fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		give_up(g, "cannot write");
}

static int
gen_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_gen *n = nftnl_gen_alloc();
	uint32_t *out = arg;

	if (n == NULL)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, n) < 0) {
		nftnl_gen_free(n);
		return MNL_CB_ERROR;
	}
	*out = nftnl_gen_get_u32(n, NFTNL_GEN_ID);
	nftnl_gen_free(n);
	return MNL_CB_OK;
}

static int
gen_read(struct nftgen *g, uint32_t *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int n;

	if (g->nl == NULL) {
		if ((g->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
			return -1;
		if (mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			mnl_socket_close(g->nl);
			g->nl = NULL;
			return -1;
		}
	}
	portid = mnl_socket_get_portid(g->nl);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, seq);
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0 ||
	    (n = (int)mnl_socket_recvfrom(g->nl, buf, sizeof(buf))) <= 0 ||
	    mnl_cb_run(buf, (size_t)n, seq, portid, gen_cb, out) ==
	    MNL_CB_ERROR) {
		/* A late reply would confuse the next read: start afresh. */
		mnl_socket_close(g->nl);
		g->nl = NULL;
		return -1;
	}
	return 0;
}

int
nftgen_begin(struct nftgen *g, uint32_t *g0)
{
	lock(g);
	return gen_read(g, g0);
}

void
nftgen_end(struct nftgen *g, int begun, uint32_t g0)
{
	bool locked = g->fd != -1;
	struct nftgen_chain c;
	uint32_t g1;

	if (begun == 0 && gen_read(g, &g1) == 0) {
		chain_read(g, locked, &c);
		nftgen_chain_commit(&c, g0, g1);
		chain_write(g, locked, &c);
	}
	unlock(g, locked && g->fd != -1);
}

int
nftgen_check(struct nftgen *g, uint32_t since, uint32_t *cur, bool *clean)
{
	bool locked = lock(g);
	struct nftgen_chain c;
	int rc;

	*clean = false;
	if ((rc = gen_read(g, cur)) == 0) {
		chain_read(g, locked, &c);
		*clean = nftgen_chain_clean(&c, since, *cur);
	}
	unlock(g, locked);
	return rc;
}
