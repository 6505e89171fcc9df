/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for what nfspamlogd reads from NFLOG: a log prefix,
 * a protocol family and the copied network header, the fingerprint of
 * an inbound SYN, then the burst that merges the addresses.  Input: byte
 * 0 picks the prefix, family and -I; the rest is the packet.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "logev.h"

/* Exact, wildcard and catch-all lines, so that matching goes deep. */
static const char fingerprints[] =
    "S44:64:1:60:M*,S,T,N,W7:\tLinux:4.19-6.x::Linux 4.19-6.x\n"
    "64240:128:1:52:M*,N,W8,N,N,S:\tWindows:10-11::Windows 10-11\n"
    "%8192:128:1:*:M*,N,W%2,N,N,S:\tWindows:7-8::Windows 7-8\n"
    "T4:255:0:*:M1460,E,T0:\t*Scan:1::a scanner\n"
    "*:64:0:*:.:\t@Linux:*::Linux\n";

static const struct osf_db *
db(void)
{
	static struct osf_db d;
	static int loaded;
	char err[256];

	if (!loaded) {
		loaded = 1;
		if (osf_db_load_buf(&d, "fuzz", fingerprints,
		    sizeof(fingerprints) - 1, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
	}
	return &d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefixes[] = { LOGEV_PREFIX_IN,
	    LOGEV_PREFIX_OUT, "nfspamd-inx", NULL };
	static const int families[] = { 0, AF_INET, AF_INET6, 7 };
	const struct osf_db *d = db();
	const struct osf_fp *os;
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
	/* Only an inbound event's SYN, and then one of the db's. */
	os = logev_os(d, k, data + 1, size - 1);
	CHECK(os == NULL || k == LOGEV_IN);
	CHECK(os == NULL || (os >= d->fp && os < d->fp + d->n));
	/* The packet whatever the prefix said: matching must hold up. */
	if ((os = logev_os(d, LOGEV_IN, data + 1, size - 1)) != NULL)
		CHECK(os >= d->fp && os < d->fp + d->n);

	/* Every window of the packet as an address: counts must add up. */
	if (logev_burst_init(&b, 8) == -1)
		return 0;
	for (size_t i = 1; i + 4 <= size; i++) {
		memset(&a, 0, sizeof(a));
		a.family = (data[i] & 1) ? AF_INET6 : AF_INET;
		memcpy(a.bytes, data + i, a.family == AF_INET ? 4 : 1);
		if (logev_burst_add(&b, &a, LOGEV_OUT, os) == -1) {
			for (size_t j = 0; j < b.n; j++)
				total += b.ent[j].count;
			logev_burst_reset(&b);
			CHECK(logev_burst_add(&b, &a, LOGEV_OUT, os) == 1);
		}
	}
	for (size_t j = 0; j < b.n; j++) {
		total += b.ent[j].count;
		CHECK(b.ent[j].os == os);
	}
	CHECK(total == (size >= 5 ? size - 4 : 0));
	logev_burst_free(&b);
	return 0;
}
