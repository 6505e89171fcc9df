/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * record: what the store holds, as bytes, whatever holds it: the 32-byte
 * record (spamd's struct gdata, little-endian), the four entry types and
 * the tuple key "ip\nhelo\nfrom\nto".  Pure: no LMDB, no I/O; the
 * greylist policy, the import parser and the store all build on it.
 */
#ifndef NFS_RECORD_H
#define NFS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define STORE_RECSIZE		32
#define STORE_KEYMAX		511	/* LMDB's default maximum key size */

/* spamd's struct gdata.  pcount -1: trapped, -2: spamtrap. */
struct store_rec {
	int64_t		first;
	int64_t		pass;
	int64_t		expire;
	int32_t		bcount;
	int32_t		pcount;
};

enum store_type {
	STORE_WHITE,
	STORE_GREY,
	STORE_TRAPPED,
	STORE_SPAMTRAP,
	STORE_NTYPES
};

/* "WHITE", "GREY", "TRAPPED", "SPAMTRAP" */
const char	*store_type_name(enum store_type);

/* Fixed layout: first, pass, expire (int64), bcount, pcount (int32), LE. */
void		store_rec_encode(const struct store_rec *, uint8_t out[STORE_RECSIZE]);
/* -1 when the value is not a record (wrong size). */
int		store_rec_decode(const void *, size_t, struct store_rec *);

/*
 * Tuple keys: "ip\nhelo\nfrom\nto".  store_tuple_key writes one (returns
 * its length, or 0 if a field holds '\n' or it would exceed STORE_KEYMAX).
 * store_tuple_split finds the fields of a stored key; the spamdb-era
 * three-field form "ip\nfrom\nto" yields an empty helo.  -1 if malformed.
 */
struct store_tuple {
	const char	*ip, *helo, *from, *to;
	size_t		 iplen, helolen, fromlen, tolen;
};
size_t		store_tuple_key(char *buf, size_t len, const char *ip,
		    const char *helo, const char *from, const char *to);
int		store_tuple_split(const char *key, size_t keylen,
		    struct store_tuple *);

#endif
