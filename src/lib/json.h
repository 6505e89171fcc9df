/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * json: JSON strings for the programs' --json output.  Pure: bytes in,
 * text appended to a buf.
 *
 * What goes into a string often comes from the network (HELO names,
 * envelope addresses) and may hold any byte.  Quotes and backslashes are
 * escaped, control characters and DEL written as \u00XX, valid UTF-8
 * copied as it is, and every byte that is not part of valid UTF-8 is
 * written as the code point of the same value, \u00XX: the output is
 * always well-formed JSON, and nothing is lost.
 */
#ifndef NFS_JSON_H
#define NFS_JSON_H

#include <stddef.h>

#include "buf.h"

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0. */
size_t	json_utf8_len(const unsigned char *s, size_t len);

/* len bytes of s as a JSON string, quotes included.  -1: out of memory. */
int	json_str(struct buf *, const void *s, size_t len);

#endif
