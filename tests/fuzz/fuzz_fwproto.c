/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for what the netlink helper reads: a request header
 * and its elements.  Whatever it accepts must re-encode to the same bytes.
 * The same input is also read as what the supervisor reads back for
 * FWP_COUNTERS: a reply header, its text, and counter records, which
 * must decode to exactly the count announced and survive a round trip.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwproto.h"
#include "fuzz.h"

static void
counters_reply(const uint8_t *data, size_t size)
{
	struct fwp_counter c[FWP_NCTRS], back[FWP_NCTRS];
	struct buf b = { 0 };
	const char *why = NULL;
	uint32_t elen, n, found = 0;
	size_t off;
	int status;

	if (fwp_reply_hdr(data, size, &status, &elen, &n, &why) == -1) {
		if (why == NULL)
			abort();
		return;
	}
	off = 12 + (size_t)elen;
	if (status != 0 || off > size)
		return;
	if (fwp_counters_decode(data + off, size - off, n, c, &why) == -1) {
		if (why == NULL)
			abort();
		return;
	}
	for (unsigned i = 0; i < FWP_NCTRS; i++)
		found += c[i].found;
	if (found != n || n > FWP_NCTRS)
		abort();
	if (fwp_counters_encode(c, &b) == -1)
		return;
	if (b.len != 12 + (size_t)n * FWP_CTRSIZE ||
	    fwp_counters_decode((const uint8_t *)b.data + 12, b.len - 12, n,
	    back, &why) == -1)
		abort();
	for (unsigned i = 0; i < FWP_NCTRS; i++)
		if (back[i].found != c[i].found ||
		    back[i].packets != c[i].packets ||
		    back[i].bytes != c[i].bytes)
			abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwp_req r;
	struct nftset_elem *e;
	const char *why = NULL;
	uint8_t back[FWP_ELEMSIZE];
	size_t n;

	counters_reply(data, size);
	if (fwp_hdr_decode(data, size, &r, &why) == -1) {
		if (why == NULL)
			abort();
		return 0;
	}
	n = (size - FWP_HDRSIZE) / FWP_ELEMSIZE;
	if (n > 4096)
		n = 4096;
	if ((e = calloc(n + 1, sizeof(*e))) == NULL)
		return 0;
	/* All as the first group, or, for ADD46, all as the second. */
	if (fwp_elems_decode(data + FWP_HDRSIZE, n * FWP_ELEMSIZE, n,
	    r.op == FWP_ADD46 ? fwp_add6_set(&r) : r.set, e, &why) == 0) {
		for (size_t i = 0; i < n; i++) {
			fwp_elem_encode(&e[i], back);
			if (memcmp(back, data + FWP_HDRSIZE + i * FWP_ELEMSIZE,
			    FWP_ELEMSIZE) != 0)
				abort();
		}
	} else if (why == NULL)
		abort();
	free(e);
	return 0;
}
