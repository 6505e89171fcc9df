/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * proxy: HAProxy's PROXY protocol, versions 1 and 2, the receiver's
 * side: the header a load balancer sends before anything else on a
 * connection, naming the client it accepted.  Pure: the bytes received
 * so far in, a verdict out; no sockets, no state between calls.
 *
 * Version 1 is one text line of at most PROXY_V1_MAX bytes, CRLF
 * included:
 *
 *	PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\n
 *	PROXY TCP6 2001:db8::10 2001:db8::1 56324 25\r\n
 *	PROXY UNKNOWN[ anything]\r\n
 *
 * with exactly one space between fields, addresses of the family named
 * (inet_pton's strict forms) and ports of 0 to 65535 without leading
 * zeros.  After UNKNOWN anything up to the CRLF is ignored.
 *
 * Version 2 is binary: the 12-byte signature, a byte of version (2) and
 * command (LOCAL 0x20, PROXY 0x21), a byte of address family and
 * protocol, a 16-bit big-endian length, then that many bytes: the
 * addresses and ports (12 bytes for TCP over IPv4, 36 over IPv6), then
 * TLVs (a type byte, a 16-bit length, the value), which are skipped
 * but must fit the block exactly.  LOCAL (a health check of the proxy's
 * own) ignores the family and the block.  PROXY with the family
 * UNSPEC says nothing of the client; with UDP or a unix socket it is
 * refused, as nfspamd serves TCP only.
 *
 * A header is refused when more than PROXY_TLVMAX bytes follow the
 * addresses (216 bytes of addresses counted for a family without any),
 * so no header is longer than PROXY_MAX bytes.
 */
#ifndef NFS_PROXY_H
#define NFS_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PROXY_V1_MAX	107	/* the longest v1 line, CRLF included */
#define PROXY_V1_MIN	15	/* "PROXY UNKNOWN\r\n" */
#define PROXY_V2_HDR	16	/* signature, command, family, length */
#define PROXY_V2_ADDRMAX 216	/* the largest address block: unix */
#define PROXY_TLVMAX	1024	/* TLV bytes after the addresses */
#define PROXY_MAX	(PROXY_V2_HDR + PROXY_V2_ADDRMAX + PROXY_TLVMAX)

enum proxy_status {
	PROXY_NEED_MORE,	/* no verdict yet: h->len more bytes at least */
	PROXY_DONE,		/* a header of h->len bytes */
	PROXY_ERROR,		/* not a good header: h->why says why */
};

enum proxy_kind {
	PROXY_ADDRS,		/* the client's addresses and ports */
	PROXY_LOCAL,		/* v2 LOCAL: the proxy's own connection */
	PROXY_UNKNOWN,		/* v1 UNKNOWN, v2 UNSPEC: no addresses */
};

struct proxy_hdr {
	size_t		 len;		/* see enum proxy_status */
	uint8_t		 version;	/* 1 or 2; 0 while undecided */
	uint8_t		 kind;		/* enum proxy_kind, when done */
	struct addr	 src, dst;	/* PROXY_ADDRS: v4-mapped is IPv4 */
	uint16_t	 sport, dport;	/* PROXY_ADDRS, host order */
	const char	*why;		/* PROXY_ERROR: static text */
};

/*
 * The header at the start of buf, whose len bytes are all that arrived
 * so far.  Bytes past the header are not looked at: they are the
 * connection's own.  The verdict comes as soon as the bytes given
 * decide it, a refusal included.
 */
enum proxy_status proxy_parse(const void *buf, size_t len,
	    struct proxy_hdr *);

/* "addresses", "local" or "unknown". */
const char	*proxy_kind_name(enum proxy_kind);

#endif
