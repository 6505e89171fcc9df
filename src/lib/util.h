/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * util: small helpers several modules share.
 */
#ifndef NFS_UTIL_H
#define NFS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Format into err (when err and errlen allow) and return -1. */
int	util_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Read exactly n bytes, retrying on EINTR: 1 done, 0 end of file before
 * any byte, -1 error or end of file part way.
 */
int	util_read_full(int fd, void *, size_t n);
/* Write exactly n bytes, retrying on EINTR: 0 done, -1 error. */
int	util_write_full(int fd, const void *, size_t n);

/* Big-endian 32-bit integers in wire and file formats. */
void		util_put32be(uint8_t *, uint32_t);
uint32_t	util_get32be(const uint8_t *);

/* Little-endian integers of the store's records. */
void		util_put64le(uint8_t *, int64_t);
void		util_put32le(uint8_t *, int32_t);
int64_t		util_get64le(const uint8_t *);
int32_t		util_get32le(const uint8_t *);

/*
 * A whole decimal number from min to max, nothing else around it
 * (command-line values).  -1 when s is not one.
 */
int	util_parse_long(const char *s, long min, long max, long *v);

/*
 * s (slen bytes, any bytes) quoted for a one-line message: in double
 * quotes, '"' and '\\' backslashed, other bytes outside printable ASCII
 * as \xNN, cut after max bytes with "...".  buf needs 4 * max + 6
 * bytes for nothing to be cut short by its own size.  Returns buf.
 */
const char	*util_quote(char *buf, size_t len, const char *s, size_t slen,
		    size_t max);

#endif
