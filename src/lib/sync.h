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
	SYNC_EREPLAY,		/* outside the window, or seen before */
	SYNC_NERR
};

const char	*sync_err_name(enum sync_err);

struct sync_hdr {
	uint8_t		 version;
	uint8_t		 af;
	uint16_t	 length;
	uint32_t	 counter;
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
 * time).  A packet is refused when one of its messages' timestamps is
 * more than window seconds from now, or when its peer already sent its
 * counter.  Per peer: the highest counter and which of the 64 below it
 * were seen.  A counter far below the highest, on a packet no older than
 * the peer's last one, is a peer that restarted at 0: it starts afresh,
 * and packets older than the restart are refused from then on.
 * At most SYNC_REPLAY_PEERS peers; the one heard from longest ago makes
 * room.
 */
#define SYNC_REPLAY_PEERS	256

struct sync_peer {
	struct addr	 addr;
	uint32_t	 top;		/* highest counter accepted */
	uint64_t	 seen;		/* bit i: top - i was accepted */
	uint32_t	 last_ts;	/* newest timestamp accepted */
	uint32_t	 run_ts;	/* oldest of this run of counters */
	int64_t		 heard;		/* when, by the caller's clock */
	bool		 used;
};

struct sync_replay {
	uint32_t		 window;	/* seconds; 0: off */
	struct sync_peer	 peer[SYNC_REPLAY_PEERS];
};

void	sync_replay_init(struct sync_replay *, uint32_t window);
/*
 * Accept or refuse a decoded packet from peer, given its header and the
 * oldest and newest timestamps of its messages.  Accepting records it.
 */
bool	sync_replay_check(struct sync_replay *, const struct addr *peer,
	    const struct sync_hdr *, uint32_t ts_min, uint32_t ts_max,
	    int64_t now);

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
