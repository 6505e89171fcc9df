/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * rlayout: the shared store's layout on Valkey/Redis, as bytes.  Pure:
 * where each entry lives, how its value is written, and the commands
 * that change it, RESP-encoded onto a buffer for a pipeline.
 *
 *   nfspamd:g:<net>     hash, one field "helo\nfrom\nto" a tuple of the
 *                       network's key, the 32-byte record; the key's TTL
 *                       is the latest expiry of its fields
 *   nfspamd:a:<addr>    string, 'W' or 'T' and the record (WHITE and
 *                       TRAPPED share one key, as in spamd); TTL: expiry
 *   nfspamd:white       sorted set, address -> expiry: what the kernel
 *   nfspamd:trapped     sets hold, read whole only on a full reconcile
 *   nfspamd:spamtrap    hash, mail address -> record; no TTL
 *   nfspamd:os:<addr>   string, when seen (8 bytes) and the OS name
 *   nfspamd:meta        hash of settings (prefix lengths, epoch)
 *   nfspamd:events      stream of WHITE/TRAPPED changes (t, a, e), cut
 *                       near RL_EVENTS_KEEP entries, which every node's
 *                       supervisor follows into its kernel sets
 */
#ifndef NFS_RLAYOUT_H
#define NFS_RLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"

#define RL_PREFIX	"nfspamd:"
#define RL_WHITE	RL_PREFIX "white"
#define RL_TRAPPED	RL_PREFIX "trapped"
#define RL_SPAMTRAP	RL_PREFIX "spamtrap"
#define RL_META		RL_PREFIX "meta"
#define RL_EVENTS	RL_PREFIX "events"
#define RL_TUPLES	RL_PREFIX "g:"
#define RL_ADDRS	RL_PREFIX "a:"
#define RL_OS		RL_PREFIX "os:"
#define RL_EVENTS_KEEP	100000
#define RL_PORT		6379
#define RL_KEYMAX	(sizeof(RL_PREFIX) + 8 + STORE_KEYMAX)
#define RL_ADDRSIZE	(1 + STORE_RECSIZE)
#define RL_OSSIZE	(8 + 96)

/* --store: redis://[user@]host[:port][/db] or unix:/path[?db=N]. */
struct rl_url {
	bool		unix_sock;
	char		host[256];	/* without [] */
	uint16_t	port;
	char		path[108];
	int		db;
	char		user[128];	/* ACL user; "": the default user */
};

/* Does s name a shared store (rather than LMDB's directory)? */
bool	rl_url_is_shared(const char *s);
/* -1 with err naming the value and what is wrong with it. */
int	rl_url_parse(const char *s, struct rl_url *, char *err, size_t errlen);
/* For messages: never a password (there is none in the URL). */
void	rl_url_format(const struct rl_url *, char *buf, size_t len);

/*
 * Where an entry of the store's type lives: a key, and for tuples and
 * spamtraps a field of it (pointing into the caller's key).  -1 if the
 * key cannot be placed (a tuple key without its fields, too long).
 */
struct rl_loc {
	char		 key[RL_KEYMAX];
	size_t		 keylen;
	const char	*field;		/* NULL: a plain key */
	size_t		 fieldlen;
};
int	rl_locate(enum store_type, const char *key, size_t keylen,
	    struct rl_loc *);
/* nfspamd:a:<addr> and nfspamd:os:<addr>; 0 if too long. */
size_t	rl_addr_key(const char *addr, size_t len, char *out, size_t outlen);
size_t	rl_os_key(const char *addr, size_t len, char *out, size_t outlen);

/* The value of nfspamd:a:<addr>: -1 if it is not one. */
void	rl_addr_encode(enum store_type, const struct store_rec *,
	    uint8_t out[RL_ADDRSIZE]);
int	rl_addr_decode(const void *, size_t, enum store_type *,
	    struct store_rec *);
/* The value of nfspamd:os:<addr>: length written; decode -1 if bogus. */
size_t	rl_os_encode(int64_t seen, const char *os, uint8_t out[RL_OSSIZE]);
int	rl_os_decode(const void *, size_t, int64_t *seen, char *os,
	    size_t oslen);

/*
 * Commands, RESP-encoded onto b for a pipeline.  Each returns how many
 * commands (replies to read) it appended, or -1 when memory ran out
 * (b as it was).
 */
int	rl_cmd(struct buf *b, int argc, const char *const *argv,
	    const size_t *lens);
/* A tuple: HSET and the hash's TTL raised to cover it; HDEL if expired. */
int	rl_put_tuple(struct buf *, const struct rl_loc *,
	    const struct store_rec *, int64_t now);
int	rl_del_field(struct buf *, const struct rl_loc *);
int	rl_put_spamtrap(struct buf *, const struct rl_loc *,
	    const struct store_rec *);
/*
 * An address entry (type WHITE or TRAPPED): the key with its TTL, the
 * sorted sets, and the event.  Deleted when already expired.
 */
int	rl_put_addr(struct buf *, enum store_type, const char *addr,
	    size_t len, const struct store_rec *, int64_t now);
int	rl_del_addr(struct buf *, const char *addr, size_t len);
int	rl_put_os(struct buf *, const char *addr, size_t len, int64_t seen,
	    const char *os, int64_t ttl);
int	rl_meta_put(struct buf *, const char *name, const void *, size_t);

/*
 * An event of nfspamd:events, from its field/value pairs: t (W, T or D),
 * a (the address key), e (expiry, seconds).  -1 if malformed.
 */
struct rl_event {
	char	 type;			/* 'W', 'T' or 'D' */
	char	 addr[64];
	int64_t	 expire;
};
int	rl_event_parse(size_t n, const char *const *fields,
	    const size_t *lens, struct rl_event *);

/*
 * Stream ids ("ms-seq"): compare a and b (-1, 0, 1); parse one (-1 if
 * malformed).  A node that read up to last has missed events when the
 * stream's max-deleted-entry-id (XINFO STREAM) is later than last: the
 * trimming took an entry it had not read.
 */
struct rl_id {
	uint64_t	ms, seq;
};
int	rl_id_parse(const char *, size_t, struct rl_id *);
int	rl_id_cmp(const struct rl_id *, const struct rl_id *);
void	rl_id_format(const struct rl_id *, char *buf, size_t len);
bool	rl_id_gap(const struct rl_id *last, const struct rl_id *deleted);

#endif
