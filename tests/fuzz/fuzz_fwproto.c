/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for what the netlink helper reads: a request header
 * and its elements.  Whatever it accepts must re-encode to the same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwproto.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwp_req r;
	struct nftset_elem *e;
	const char *why = NULL;
	uint8_t back[FWP_ELEMSIZE];
	size_t n;

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
