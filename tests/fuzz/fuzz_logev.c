/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for what nfspamlogd reads from NFLOG: a log prefix,
 * a protocol family and the copied network header, then the burst that
 * merges the addresses.  Input: byte 0 picks the prefix, family and -I;
 * the rest is the packet.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "logev.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefixes[] = { LOGEV_PREFIX_IN,
	    LOGEV_PREFIX_OUT, "nfspamd-inx", NULL };
	static const int families[] = { 0, AF_INET, AF_INET6, 7 };
	struct logev_burst b;
	struct addr a;
	enum logev_kind k;
	uint32_t total = 0;

	if (size < 1)
		return 0;
	k = logev_parse(prefixes[data[0] & 3], data + 1, size - 1,
	    families[(data[0] >> 2) & 3], (data[0] >> 4) & 1, &a);
	CHECK((unsigned)k < LOGEV_NKINDS);
	if (k == LOGEV_IN || k == LOGEV_OUT)
		CHECK(a.family == AF_INET || a.family == AF_INET6);

	/* Every window of the packet as an address: counts must add up. */
	if (logev_burst_init(&b, 8) == -1)
		return 0;
	for (size_t i = 1; i + 4 <= size; i++) {
		memset(&a, 0, sizeof(a));
		a.family = (data[i] & 1) ? AF_INET6 : AF_INET;
		memcpy(a.bytes, data + i, a.family == AF_INET ? 4 : 1);
		if (logev_burst_add(&b, &a, LOGEV_OUT) == -1) {
			for (size_t j = 0; j < b.n; j++)
				total += b.ent[j].count;
			logev_burst_reset(&b);
			CHECK(logev_burst_add(&b, &a, LOGEV_OUT) == 1);
		}
	}
	for (size_t j = 0; j < b.n; j++)
		total += b.ent[j].count;
	CHECK(total == (size >= 5 ? size - 4 : 0));
	logev_burst_free(&b);
	return 0;
}
