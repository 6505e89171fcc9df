/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * sync: OpenBSD spamd's sync protocol, version 2, byte for byte (spec
 * section 6), so nfspamd hosts sync with each other and with spamd and
 * greyd hosts.  Pure: packets in and out of buffers; no sockets, no clock
 * (times are parameters).
 *
 * A packet is a 32-byte header (version 2, af, length, counter,
 * HMAC-SHA1, pad) and TLVs (type, length, both 16-bit), the last one END.
 * Integers are big-endian.  The HMAC key is the 40-character lowercase
 * hex SHA-1 of the key file's contents, used as text; it covers the
 * whole packet with the HMAC field zeroed.
 *
 * IPv6 is our extension: the same TLVs with 16-byte addresses, in packets
 * whose af field is 10 (Linux's AF_INET6).  IPv4 packets are spamd's.
 */
#ifndef NFS_SYNC_H
#define NFS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define SYNC_VERSION	2
#define SYNC_HDRSIZE	32
#define SYNC_MAXSIZE	1408		/* spamd's receive buffer */
#define SYNC_PORT	8025
#define SYNC_MCAST	"224.0.1.240"
#define SYNC_KEYFILE	"/etc/nfspamd/spamd.key"
#define SYNC_AF_INET	2
#define SYNC_AF_INET6	10
#define SYNC_HMACLEN	20

enum sync_type {
	SYNC_END = 0,
	SYNC_GREY = 1,
	SYNC_WHITE = 2,
	SYNC_TRAPPED = 3,
};

/*
 * One message.  GREY: timestamp, addr, helo/from/to (decode: pointing
 * into the packet, each NUL-terminated there).  WHITE and TRAPPED:
 * timestamp, addr, expire (absolute, epoch seconds).
 */
struct sync_msg {
	enum sync_type	 type;
	uint32_t	 timestamp;
	struct addr	 addr;
	uint32_t	 expire;
	const char	*helo, *from, *to;
};

/* The key: hex SHA-1 of the key file's bytes; empty without a file. */
struct sync_key {
	char		 text[41];
	size_t		 len;
};

void	sync_key_from_bytes(const void *, size_t, struct sync_key *);
/*
 * Read the key file.  A missing file gives spamd's empty key (*missing
 * set): still HMAC-SHA1, but anyone can forge it.  Other errors: -1 with
 * err naming the file.
 */
int	sync_key_load(const char *path, struct sync_key *, bool *missing,
	    char *err, size_t errlen);

/*
 * One message and END into buf, with the HMAC.  The packet's af follows
 * the message's address.  Returns its length, or 0 when it would not fit
 * len or SYNC_MAXSIZE (long GREY strings), or the message is malformed.
 */
size_t	sync_encode(const struct sync_key *, uint32_t counter,
	    const struct sync_msg *, uint8_t *buf, size_t len);

/* Why a packet was refused; also the counters' names. */
enum sync_err {
	SYNC_OK,
	SYNC_ESHORT,		/* shorter than a header, or than it says */
	SYNC_EVERSION,
	SYNC_EAF,
	SYNC_EHMAC,
	SYNC_ETLV,		/* a TLV overruns the packet or is malformed */
	SYNC_EUNKNOWN,		/* a TLV of unknown type */
	SYNC_ESTALE,		/* a timestamp outside the replay window */
	SYNC_EREPLAY,		/* the same packet again */
	SYNC_NERR
};

const char	*sync_err_name(enum sync_err);

struct sync_hdr {
	uint8_t		 version;
	uint8_t		 af;
	uint16_t	 length;
	uint32_t	 counter;
	uint8_t		 hmac[SYNC_HMACLEN];	/* as received */
};

/*
 * Check a received packet whole (header, HMAC in constant time, every
 * TLV), and only then hand each message to fn, in order.  A packet with
 * anything wrong delivers nothing.  Bytes after the header's length are
 * ignored, as spamd does.
 */
typedef void	(*sync_msg_fn)(void *arg, const struct sync_msg *);
enum sync_err	sync_decode(const struct sync_key *, const uint8_t *pkt,
		    size_t len, struct sync_hdr *, sync_msg_fn, void *arg);

/*
 * Replay protection (off in spamd, whose peers need not agree on the
 * time).  A packet is refused as stale when one of its messages'
 * timestamps is more than window seconds from now, and as a replay when
 * the same packet (the same HMAC) was accepted before.  Packets are
 * remembered by their HMAC, not by who sent them: any number of sending
 * processes on one address (spamd and spamlogd, nfspamd and nfspamlogd,
 * greyd and greydb), each numbering its packets from its own start, do
 * not step on each other.  A packet is remembered until its oldest
 * timestamp is window seconds old, when it would be stale anyway; at
 * most SYNC_REPLAY_MAX at once, past which the oldest is forgotten early
 * (counted; a replay of it within the window would then pass).
 */
#define SYNC_REPLAY_MAX	(1U << 20)

struct sync_replay;

/*
 * Why a message from the peer at from, about the client a, is to be
 * ignored (addr_not_client's reason), or NULL to apply it.  Loopback
 * is this host's own, so it is taken only from a peer on loopback.
 */
const char *sync_ignore_addr(const struct addr *from, const struct addr *a);

/* NULL when out of memory.  window: seconds, at least 1. */
struct sync_replay *sync_replay_new(uint32_t window);
void	sync_replay_free(struct sync_replay *);
/*
 * SYNC_OK (and remembered), SYNC_ESTALE or SYNC_EREPLAY for a decoded
 * packet, given its header and the oldest and newest timestamps of its
 * messages.
 */
enum sync_err sync_replay_check(struct sync_replay *,
	    const struct sync_hdr *, uint32_t ts_min, uint32_t ts_max,
	    int64_t now);
uint64_t sync_replay_forgotten(const struct sync_replay *);

/*
 * A -Y or -y argument split up: "host", "host:N", "[v6]", "[v6]:N", or
 * an IPv6 address without brackets (no N then).  Whether host names an
 * interface (N a multicast TTL) or a peer (N a port) is the caller's to
 * find out.  -1 with *why when the text is not one of those.
 */
struct sync_target {
	char		 host[256];
	bool		 has_num;
	unsigned	 num;		/* 1..65535 */
};

int	sync_target_parse(const char *, struct sync_target *,
	    const char **why);

#endif
