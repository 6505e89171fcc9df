/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * seedstore: fill a store with N greylist tuples for scan benchmarks.
 * A quarter of them have expired, a quarter have passed (so the scan
 * promotes their addresses), the rest are waiting: a scan has real work.
 *
 * With "white", N address-keyed WHITE entries instead (for the
 * reconcile benchmark): 10.x.y.z and, one in five, 2001:db8::x:y.
 * With "white64", the IPv6 ones are /64 networks, as nfspamd -N keys
 * them by default: 2001:db8:x:y::/64.
 * With "waiting", N tuples all waiting for their retry: live entries
 * that a scan leaves alone (for the catch-up benchmark).
 *
 * usage: seedstore DIR N [white|white64|waiting]
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "store.h"

struct seed {
	long	from, to, n;
	int64_t	now;
	bool	white;
	bool	net64;		/* white64 */
	bool	waiting;	/* every tuple waiting */
};

static int
fill_white(struct store_txn *t, struct seed *s)
{
	char ip[64];
	struct store_rec r;

	for (long i = s->from; i < s->to; i++) {
		if (i % 5 == 4 && s->net64) {
			/* Canonical, as nfspamd writes keys. */
			struct prefix p = { { AF_INET6, { 0x20, 0x01, 0x0d,
			    0xb8, (uint8_t)(i >> 24), (uint8_t)(i >> 16),
			    (uint8_t)(i >> 8), (uint8_t)i } }, 64 };

			prefix_format(&p, ip, sizeof(ip));
		} else if (i % 5 == 4)
			snprintf(ip, sizeof(ip), "2001:db8::%lx:%lx",
			    (i >> 16) & 0xffff, i & 0xffff);
		else
			snprintf(ip, sizeof(ip), "10.%ld.%ld.%ld",
			    (i >> 16) & 255, (i >> 8) & 255, i & 255);
		/* Expiries spread over the next 36 days. */
		r = (struct store_rec){ s->now - 3600, s->now - 3000,
		    s->now + 3600 + i % (35 * 86400), 1, 1 };
		if (store_put(t, STORE_WHITE, ip, strlen(ip), &r) != 0)
			return -1;
	}
	return 0;
}

static int
fill(struct store_txn *t, void *arg)
{
	struct seed *s = arg;
	char key[STORE_KEYMAX + 1], ip[64], from[64], to[64];
	struct store_rec r;
	size_t n;

	if (s->white)
		return fill_white(t, s);
	for (long i = s->from; i < s->to; i++) {
		snprintf(ip, sizeof(ip), "10.%ld.%ld.%ld", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		snprintf(from, sizeof(from), "<sender%ld@example%ld.org>", i,
		    i % 997);
		snprintf(to, sizeof(to), "<rcpt%ld@example.net>", i % 101);
		n = store_tuple_key(key, sizeof(key), ip, "mail.example.org",
		    from, to);
		switch (s->waiting ? 2 : i % 4) {
		case 0:		/* expired, never retried */
			r = (struct store_rec){ s->now - 20000, s->now - 100,
			    s->now - 100, 1, 0 };
			break;
		case 1:		/* passed */
			r = (struct store_rec){ s->now - 3600, s->now - 1000,
			    s->now + 10000, 2, 0 };
			break;
		default:	/* waiting */
			r = (struct store_rec){ s->now - 60, s->now + 14000,
			    s->now + 14000, 1, 0 };
			break;
		}
		if (store_put(t, STORE_GREY, key, n, &r) != 0)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct store_opts o = { .create = true, .sync_ms = 1000 };
	struct store *st;
	struct seed s;
	char err[512];
	long n;

	if (argc < 3 || argc > 4 || (n = strtol(argv[2], NULL, 10)) <= 0 ||
	    (argc == 4 && strcmp(argv[3], "white") != 0 &&
	    strcmp(argv[3], "white64") != 0 &&
	    strcmp(argv[3], "waiting") != 0)) {
		fprintf(stderr, "usage: seedstore DIR N "
		    "[white|white64|waiting]\n");
		return 1;
	}
	if (store_open(&st, argv[1], &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "seedstore: %s\n", err);
		return 1;
	}
	s.n = n;
	s.waiting = argc == 4 && strcmp(argv[3], "waiting") == 0;
	s.white = argc == 4 && !s.waiting;
	s.net64 = argc == 4 && strcmp(argv[3], "white64") == 0;
	s.now = (int64_t)time(NULL);
	for (long i = 0; i < n; i += 10000) {
		s.from = i;
		s.to = i + 10000 < n ? i + 10000 : n;
		if (store_update(st, fill, &s, err, sizeof(err)) != 0) {
			fprintf(stderr, "seedstore: %s\n", err);
			store_close(st);
			return 1;
		}
	}
	store_close(st);
	printf("seeded %ld tuples in %s\n", n, argv[1]);
	return 0;
}
