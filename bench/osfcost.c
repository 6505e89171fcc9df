/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * bench/osfcost: what parsing and matching one SYN costs, against the
 * fingerprint files given.  Without a last word: the time of a million
 * of each of three SYNs (a Linux one, found early; a Windows XP one,
 * found late; one no fingerprint matches, which walks them all).  With
 * "linux", "windows" or "unknown" last: that SYN a thousand times and
 * nothing else, for callgrind (bench/osf).
 *
 * usage: osfcost FILE... [linux|windows|unknown]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osf.h"

struct syn {
	const char	*name;
	uint8_t		 ttl;
	uint16_t	 win;
	const uint8_t	*opt;
	size_t		 optlen;
};

static const uint8_t linux_opt[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
	0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
static const uint8_t xp_opt[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2 };
static const uint8_t odd_opt[] = { 2, 4, 0x05, 0xb4, 1, 1, 1, 1 };

static const struct syn syns[] = {
	{ "linux", 64, 64240, linux_opt, sizeof(linux_opt) },
	{ "windows", 128, 65535, xp_opt, sizeof(xp_opt) },
	{ "unknown", 64, 1234, odd_opt, sizeof(odd_opt) },
};

/* An IPv4 SYN with the TTL, window and options of s. */
static size_t
build(const struct syn *s, uint8_t *p)
{
	size_t thl = 20 + s->optlen, len = 20 + thl;

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40;			/* DF */
	p[8] = s->ttl;
	p[9] = 6;
	p[20 + 12] = (uint8_t)((thl / 4) << 4);
	p[20 + 13] = 0x02;		/* SYN */
	p[20 + 14] = (uint8_t)(s->win >> 8);
	p[20 + 15] = (uint8_t)s->win;
	memcpy(p + 40, s->opt, s->optlen);
	return len;
}

static int
one(const struct osf_db *db, const uint8_t *pkt, size_t len)
{
	struct osf_syn s;
	char err[128];

	if (osf_syn_parse(pkt, len, &s, err, sizeof(err)) == -1) {
		fprintf(stderr, "osfcost: %s\n", err);
		exit(1);
	}
	return osf_match(db, &s) != NULL;
}

int
main(int argc, char **argv)
{
	struct osf_db db = { 0 };
	const char *only = NULL;
	uint8_t pkt[128];
	char err[512], name[OSF_OSLEN];
	int nfiles = argc - 1;

	if (argc > 1 && (strcmp(argv[argc - 1], "linux") == 0 ||
	    strcmp(argv[argc - 1], "windows") == 0 ||
	    strcmp(argv[argc - 1], "unknown") == 0)) {
		only = argv[argc - 1];
		nfiles--;
	}
	if (nfiles < 1) {
		fprintf(stderr, "usage: osfcost file... "
		    "[linux|windows|unknown]\n");
		return 1;
	}
	for (int i = 1; i <= nfiles; i++)
		if (osf_db_load(&db, argv[i], err, sizeof(err)) == -1) {
			fprintf(stderr, "osfcost: %s\n", err);
			return 1;
		}
	for (size_t i = 0; i < sizeof(syns) / sizeof(syns[0]); i++) {
		const struct syn *s = &syns[i];
		size_t len = build(s, pkt);
		struct osf_syn sy;
		const struct osf_fp *fp;
		struct timespec a, b;
		long n = only ? 1000 : 1000000, hits = 0;

		if (only != NULL && strcmp(only, s->name) != 0)
			continue;
		osf_syn_parse(pkt, len, &sy, err, sizeof(err));
		fp = osf_match(&db, &sy);
		if (fp != NULL)
			osf_name(fp, name, sizeof(name));
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long k = 0; k < n; k++)
			hits += one(&db, pkt, len);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (only == NULL)
			printf("  %-8s -> %-28s %6.0f ns a SYN (parse and "
			    "match, %zu fingerprints)\n", s->name,
			    fp != NULL ? name : "unknown",
			    ((double)(b.tv_sec - a.tv_sec) * 1e9 +
			    (double)(b.tv_nsec - a.tv_nsec)) / (double)n,
			    db.n);
		(void)hits;
	}
	osf_db_free(&db);
	return 0;
}
