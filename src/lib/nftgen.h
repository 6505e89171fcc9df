/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftgen: which nftables commits nfspamd can trust.
 *
 * nfspamd keeps its own record of what it put into spamd-white(6) and
 * spamd-greytrap(6) and applies only differences, because the kernel lists
 * big sets in quadratic time.  Any commit by someone else (an nft -f
 * reload, a set flushed by hand) may have changed the sets, and then it
 * must replace them whole.  nfspamlogd and nfspamd-setup commit too, but
 * never in a way that makes nfspamd's record wrong (they add to the
 * whitelist what the database says, or change only the blacklist and
 * nospamd sets), so their commits must not cost a replace.
 *
 * The ruleset generation goes up by one with every commit.  Every nfspamd
 * program commits the same way: with a lock file held (so no two of
 * them are between "read the generation" and "record it" at once), it
 * reads the generation g0, commits, reads it again (g1), and records the
 * commit in the file.  The file holds a chain: generations (start, head]
 * are all trusted commits, head being the latest.  A commit that finds
 * the head at g0 and g1 = g0 + 1 extends the chain; one that finds the
 * head elsewhere (someone else committed since) starts a new chain at
 * g0; one that sees g1 > g0 + 1 (someone else committed meanwhile) can
 * vouch for nothing and starts an empty chain at g1.  nfspamd asks, with
 * the lock held: is every commit since generation `since` in the chain?
 *
 * The file is <db>/nft.gen, 16 bytes: "NFGN", version 1, start, head
 * (big-endian 32-bit).  Without a usable file a process keeps the chain
 * in memory, which vouches for its own commits only.
 */
#ifndef NFS_NFTGEN_H
#define NFS_NFTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFTGEN_FILE	"nft.gen"
#define NFTGEN_RECSIZE	16

struct nftgen_chain {
	bool		valid;
	uint32_t	start;
	uint32_t	head;
};

/* The generation after g: the kernel skips 0 when it wraps. */
uint32_t	nftgen_next(uint32_t g);
/* Record a trusted commit that read g0 before and g1 after it. */
void		nftgen_chain_commit(struct nftgen_chain *, uint32_t g0,
		    uint32_t g1);
/* True when every commit in (since, cur] is in the chain. */
bool		nftgen_chain_clean(const struct nftgen_chain *, uint32_t since,
		    uint32_t cur);
void		nftgen_chain_encode(const struct nftgen_chain *,
		    uint8_t out[NFTGEN_RECSIZE]);
/* A missing, short or foreign record decodes as no chain (-1). */
int		nftgen_chain_decode(const uint8_t *, size_t,
		    struct nftgen_chain *);

/*
 * The shared record and the kernel's generation.  path NULL: the chain
 * lives in memory.  The file is opened (created 0660) at first use; when
 * it cannot be, the process goes on with a chain in memory and
 * nftgen_error() says why, once.
 */
struct nftgen;

int		nftgen_new(struct nftgen **, const char *path);
void		nftgen_free(struct nftgen *);
/* Before a commit: take the lock, read g0.  -1: g0 unknown. */
int		nftgen_begin(struct nftgen *, uint32_t *g0);
/* After it (also after a failed one): record, release the lock. */
void		nftgen_end(struct nftgen *, int begun, uint32_t g0);
/*
 * Has anyone untrusted committed since generation `since`?  *cur gets
 * the generation now (the next call's since).  -1 when the generation
 * cannot be read (count it as changed).
 */
int		nftgen_check(struct nftgen *, uint32_t since, uint32_t *cur,
		    bool *clean);
/* Why the file is not used, the first time it is not; else NULL. */
const char	*nftgen_error(struct nftgen *);

#endif
