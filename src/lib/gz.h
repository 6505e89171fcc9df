/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * gz: a streaming, memory-bounded decoder for inputs that may or may not
 * be gzip, told apart by content as zlib's gzread does: input starting
 * with 0x1f 0x8b is gzip, anything else passes through unchanged.
 * Concatenated gzip members decode one after another; after a complete
 * member, bytes that do not start another member are ignored.
 *
 * The decoded bytes never exceed max, and the output buffer never takes
 * more than max + 1 bytes, so a compressed bomb stops at max.  No
 * globals; errors come back as -1 and a reason in err.
 */
#ifndef NFS_GZ_H
#define NFS_GZ_H

#include <stdbool.h>
#include <stddef.h>

struct gz;

/* max: the most decoded bytes accepted in all.  NULL when out of memory. */
struct gz	*gz_new(size_t max);
/*
 * Feed the next chunk of input, of any size.  0, or -1 with a reason in
 * err: "gzip data corrupt at input byte N: <zlib's message>", "more than
 * N bytes after decompression" (gzip) or "more than N bytes" (plain),
 * "out of memory".  After -1 every later call fails the same way.
 * Feeding after gz_finish fails too.
 */
int		 gz_feed(struct gz *, const void *p, size_t n, char *err,
		    size_t errlen);
/*
 * End of input.  -1 when a gzip stream was cut short ("gzip data
 * truncated"), or as gz_feed.
 */
int		 gz_finish(struct gz *, char *err, size_t errlen);
/*
 * The decoded bytes so far, valid until the next feed, take or free;
 * NUL-terminated for convenience, the NUL not counted in *len.
 */
const char	*gz_data(const struct gz *, size_t *len);
/*
 * Hand the decoded buffer (NUL-terminated, malloc'd) to the caller; the
 * gz is then empty, though max still counts what was taken.  NULL when
 * out of memory.
 */
char		*gz_take(struct gz *, size_t *len);
/* Was the input gzip?  Known after the first 2 input bytes. */
bool		 gz_compressed(const struct gz *);
/* Input bytes fed so far. */
size_t		 gz_in_bytes(const struct gz *);
void		 gz_free(struct gz *);

#endif
