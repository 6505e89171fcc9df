/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * catchup: a peer's whole database over TCP, for a node that was away
 * while sync packets flew (spamd's UDP sync has no way to ask again).
 * Pure: the handshake, the frames, the records and the merge rules, in
 * and out of buffers; no sockets, no clock, no randomness (nonces and
 * times are parameters).
 *
 * The dialogue, all integers big-endian:
 *
 *   client: hello   "nfspamd-catchup1" (16 bytes), client nonce (16)
 *   server: hello   "nfspamd-catchup1", server nonce (16)
 *   client: proof   HMAC-SHA256(key, "C" cnonce snonce) (32)
 *   server: frames  DATA ... END, or FAIL
 *
 * key is the sync key's text (sync.h), so a peer that may send sync
 * messages may fetch the database, and nobody else.  A frame is a
 * 16-byte header (kind, 3 zero bytes, sequence number from 0, raw
 * length, body length), the body and HMAC-SHA256(key, "S" cnonce snonce
 * header body): the client checks each frame before it reads it, and a
 * frame replayed from another session or out of order fails.  DATA
 * bodies are zlib streams of records: type (1 byte), key length (2),
 * key, the 32-byte record (record.h).  END's body: the entries sent per
 * type (4 times 8 bytes) and the server's -N (2 bytes), uncompressed.
 * FAIL's: a line of text saying why.
 */
#ifndef NFS_CATCHUP_H
#define NFS_CATCHUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "record.h"
#include "sync.h"

/* spamd-cfg's port, which nfspamd does not use. */
#define CATCHUP_PORT		8026
#define CATCHUP_MAGIC		"nfspamd-catchup1"
#define CATCHUP_MAGICLEN	16
#define CATCHUP_NONCELEN	16
#define CATCHUP_HELLOLEN	(CATCHUP_MAGICLEN + CATCHUP_NONCELEN)
#define CATCHUP_MACLEN		32
#define CATCHUP_HDRLEN		16
/* A DATA body inflated, and as sent (zlib's worst case is smaller). */
#define CATCHUP_RAWMAX		(256 * 1024)
#define CATCHUP_BODYMAX	(CATCHUP_RAWMAX + CATCHUP_RAWMAX / 256 + 64)
#define CATCHUP_RECMAX		(3 + STORE_KEYMAX + STORE_RECSIZE)
#define CATCHUP_ENDLEN		(4 * 8 + 2)
#define CATCHUP_FAILMAX		256

enum catchup_kind {
	CATCHUP_DATA = 1,
	CATCHUP_END = 2,
	CATCHUP_FAIL = 3,
};

/* Both ends' view of one session. */
struct catchup_session {
	struct sync_key	 key;
	uint8_t		 cnonce[CATCHUP_NONCELEN];
	uint8_t		 snonce[CATCHUP_NONCELEN];
};

void	catchup_hello(const uint8_t nonce[CATCHUP_NONCELEN],
	    uint8_t out[CATCHUP_HELLOLEN]);
/* The peer's nonce out of its hello; -1 when it is not one. */
int	catchup_hello_parse(const uint8_t in[CATCHUP_HELLOLEN],
	    uint8_t nonce[CATCHUP_NONCELEN]);
void	catchup_proof(const struct catchup_session *,
	    uint8_t out[CATCHUP_MACLEN]);
/* In constant time. */
bool	catchup_proof_ok(const struct catchup_session *,
	    const uint8_t in[CATCHUP_MACLEN]);

struct catchup_frame {
	enum catchup_kind kind;
	uint32_t	 seq;
	uint32_t	 rawlen;	/* DATA: inflated; others: = bodylen */
	uint32_t	 bodylen;
};

void	catchup_frame_hdr(const struct catchup_frame *,
	    uint8_t out[CATCHUP_HDRLEN]);
/*
 * A header read off the wire; -1 with *why when it is not one we would
 * send (unknown kind, lengths over the bounds, END of the wrong size).
 */
int	catchup_frame_parse(const uint8_t in[CATCHUP_HDRLEN],
	    struct catchup_frame *, const char **why);
void	catchup_frame_mac(const struct catchup_session *,
	    const uint8_t hdr[CATCHUP_HDRLEN], const uint8_t *body,
	    size_t bodylen, uint8_t out[CATCHUP_MACLEN]);
bool	catchup_frame_mac_ok(const struct catchup_session *,
	    const uint8_t hdr[CATCHUP_HDRLEN], const uint8_t *body,
	    size_t bodylen, const uint8_t mac[CATCHUP_MACLEN]);

/*
 * DATA bodies.  catchup_deflate: raw (at most CATCHUP_RAWMAX) into out
 * (at least CATCHUP_BODYMAX), returns the body's length or 0.
 * catchup_inflate: a body into out (CATCHUP_RAWMAX), which must come to
 * exactly rawlen bytes; -1 with *why otherwise.
 */
size_t	catchup_deflate(const uint8_t *raw, size_t rawlen, uint8_t *out,
	    size_t outlen);
int	catchup_inflate(const uint8_t *body, size_t bodylen, uint32_t rawlen,
	    uint8_t *out, const char **why);

struct catchup_rec {
	enum store_type	 type;
	const char	*key;		/* in the buffer; no NUL */
	size_t		 keylen;
	struct store_rec rec;
};

/* One record onto buf at len; the new length, or 0 if it does not fit. */
size_t	catchup_rec_put(uint8_t *buf, size_t size, size_t len,
	    const struct catchup_rec *);
/*
 * The record at *off: 1 (and *off moved past it), 0 at the end, -1 with
 * *why when the bytes are not a record or its key cannot be one of its
 * type (a tuple that does not split, an address that does not parse).
 */
int	catchup_rec_next(const uint8_t *buf, size_t len, size_t *off,
	    struct catchup_rec *, const char **why);

/* Can key be an entry of this type (as catchup_rec_next checks)? */
bool	catchup_key_ok(enum store_type, const char *key, size_t keylen);
/*
 * Does the record's pass count go with its type, as every nfspamd
 * program writes them (-1 TRAPPED, -2 SPAMTRAP, a tuple -1 or more, a
 * WHITE 0 or more)?  catchup_merge ignores a record that does not.
 */
bool	catchup_rec_consistent(enum store_type, const struct store_rec *);

struct catchup_end {
	uint64_t	 sent[STORE_NTYPES];
	uint8_t		 net4, net6;	/* the server's -N */
};

void	catchup_end_encode(const struct catchup_end *,
	    uint8_t out[CATCHUP_ENDLEN]);
void	catchup_end_parse(const uint8_t in[CATCHUP_ENDLEN],
	    struct catchup_end *);

/*
 * The merge of a peer's entry into ours.  remote is the peer's (of type
 * rtype); local is ours for the same key (NULL if none) and ltype its
 * type (for an address, WHITE or TRAPPED).  Returns 1 with *out and
 * *otype to write, 0 to leave ours (and both untouched).  The rules,
 * spamd's as far as it has any:
 *  - an entry of the peer whose counts do not fit its type (a WHITE
 *    with a negative pass count, say) or that has expired is ignored;
 *    ours, expired, is replaced;
 *  - a trap outranks a pass: TRAPPED replaces WHITE, never the reverse;
 *  - otherwise the two are combined field by field: the earliest first
 *    sighting, the latest expiry, the highest counts (never added, so a
 *    second catch-up from the same peer changes nothing), and for pass
 *    the latest pass of a WHITE or TRAPPED entry but the earliest of a
 *    tuple's (the greylist clock started with the earlier sighting);
 *  - a SPAMTRAP is added when missing and left alone otherwise.
 */
int	catchup_merge(enum store_type rtype, const struct store_rec *remote,
	    enum store_type ltype, const struct store_rec *local, int64_t now,
	    struct store_rec *out, enum store_type *otype);

/*
 * After a catch-up: is a tuple of ours made pointless by a WHITE entry
 * for its address's network, live and passed since the tuple was first
 * seen?  Then the tuple passed on the peer, whose scan removed it, and
 * ours goes as well.
 */
bool	catchup_superseded(const struct store_rec *tuple,
	    const struct store_rec *white, int64_t now);

/*
 * Noticing missed sync packets.  Each sending process numbers its
 * packets from its start, one more per message to every target (spamd,
 * nfspamd and nfspamlogd alike), and each has its own source port, so
 * a jump in the counter from one address and port is packets lost on
 * the way, or sent while this node was unreachable.  The table holds
 * the last counter per source, the longest unheard forgotten first.
 */
struct catchup_source {
	struct addr	 addr;
	uint16_t	 port;
	bool		 used;
	uint32_t	 counter;
	int64_t		 seen;
};

#define CATCHUP_GAPMAX	(1U << 20)	/* more: a restart */

/*
 * A packet from (addr, port) numbered counter: how many went missing
 * just before it.  0 for the next one in order, the first one heard
 * from that source, a repeat, one that arrives late (less than 1024
 * below the last), a restart (further below: counting starts again
 * from there) or a jump of CATCHUP_GAPMAX or more.
 */
uint32_t catchup_gap(struct catchup_source *, size_t n,
	    const struct addr *, uint16_t port, uint32_t counter,
	    int64_t now);

#endif
