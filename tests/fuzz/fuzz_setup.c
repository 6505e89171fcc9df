/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * libFuzzer harness for the nfspamd-setup state file (src/lib/setup.c),
 * which is read back from disk and may be damaged.
 *
 * Whatever the bytes, decoding never crashes or reads past the input;
 * what it accepts is canonical, and encodes back to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "setup.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct setup_state	 st;
	struct setup_diff	 d;
	struct buf		 out = { 0 };
	char			 err[256];
	size_t			 i;

	if (setup_state_decode((const char *)data, len, &st, err,
	    sizeof(err)) == -1) {
		CHECK(st.nlists == 0 && st.lists == NULL);
		return 0;
	}
	CHECK(setup_canonical(st.loaded, st.nloaded, NULL));
	for (i = 0; i < st.nlists; i++) {
		CHECK(setup_canonical(st.lists[i].pfx, st.lists[i].n, NULL));
		/* The diff of any two accepted lists is canonical too. */
		CHECK(setup_diff(st.loaded, st.nloaded, st.lists[i].pfx,
		    st.lists[i].n, &d) == 0);
		CHECK(setup_canonical(d.add, d.nadd, NULL));
		CHECK(setup_canonical(d.del, d.ndel, NULL));
		setup_diff_free(&d);
	}
	CHECK(setup_state_encode(&st, &out) == 0);
	CHECK(out.len == len && memcmp(out.data, data, len) == 0);
	buf_free(&out);
	setup_state_free(&st);
	return 0;
}
