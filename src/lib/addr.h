/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * addr: IPv4 and IPv6 addresses and prefixes.
 *
 * One type for both families so every caller handles IPv6 the same way
 * as IPv4.  Parsers never accept junk silently: they return -1 and set
 * *why to a static string naming the problem.
 */
#ifndef NFS_ADDR_H
#define NFS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text form: INET6_ADDRSTRLEN (46) plus "/128". */
#define ADDR_STRLEN	52

struct addr {
	uint8_t		family;		/* AF_INET or AF_INET6 */
	uint8_t		bytes[16];	/* network order; IPv4 uses bytes[0..3] */
};

struct prefix {
	struct addr	addr;
	uint8_t		len;		/* 0..32 or 0..128 */
};

/* Bits in an address of this family: 32 or 128. */
unsigned	addr_bits(const struct addr *);

/*
 * Parse a numeric address (no names, no zone ids, no surrounding blanks).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is returned as IPv4 so that one host
 * has one key whichever socket it arrived on.
 */
int		addr_parse(const char *, struct addr *, const char **why);

/*
 * Parse "addr" or "addr/len".  A bare address gets the full length.
 * Host bits set below the prefix length are an error unless mask is true,
 * in which case they are cleared (spamd-setup's lists need that).
 */
int		prefix_parse(const char *, struct prefix *, bool mask,
		    const char **why);

/* Canonical text (inet_ntop); returns the length written, buf >= ADDR_STRLEN. */
size_t		addr_format(const struct addr *, char *buf, size_t len);
/* "addr/len"; a full-length prefix still prints its length. */
size_t		prefix_format(const struct prefix *, char *buf, size_t len);
/*
 * A prefix as the store keys it: the address alone at full length,
 * "addr/len" when shorter (greylisting by network's keys).
 */
size_t		prefix_key(const struct prefix *, char *buf, size_t len);

/* From a socket address; v4-mapped IPv6 becomes IPv4.  -1 on other families. */
int		addr_from_sockaddr(const struct sockaddr *, struct addr *);
/* Into one, with port (host order); its length, 0 for no family. */
socklen_t	addr_to_sockaddr(const struct addr *, uint16_t port,
		    struct sockaddr_storage *);

/* Clear the bits below len. */
void		addr_mask(struct addr *, unsigned len);
void		prefix_mask(struct prefix *);

/* IPv4 sorts before IPv6, then by bytes.  Returns <0, 0, >0. */
/*
 * Why a can never be the address of an SMTP client on the Internet:
 * "unspecified", "loopback", "multicast", "broadcast", "v4-mapped" or
 * "reserved" (the rest of 0.0.0.0/8 and 240.0.0.0/4, the IPv4-compatible
 * ::/96).  NULL when it can be.  Loopback is this host's own: a caller
 * that knows the address comes from this host may accept it.
 */
const char	*addr_not_client(const struct addr *a);

int		addr_cmp(const struct addr *, const struct addr *);
bool		addr_eq(const struct addr *, const struct addr *);
bool		prefix_contains(const struct prefix *, const struct addr *);

#endif
