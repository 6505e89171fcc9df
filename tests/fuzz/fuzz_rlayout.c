/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for rlayout: what the shared store reads from a
 * command line or from the server.  Byte 0 modulo 5 is the mode, the
 * rest its input:
 *
 *  0  a --store URL (NUL-terminated): rl_url_parse.  Refused: a message
 *     that names --store.  Taken: host or an absolute path, a port from
 *     1, and rl_url_format's text parses back to the same URL.
 *  1  an event of nfspamd:events, its fields split at '\n':
 *     rl_event_parse.  Taken: a type W, T or D, an address of 1 to 63
 *     bytes without a NUL, an expiry not negative.
 *  2  a stream id: rl_id_parse.  Taken: rl_id_format's text parses to
 *     the same id; rl_id_cmp and rl_id_gap agree.
 *  3  the value of nfspamd:a:<addr> and of nfspamd:os:<addr>:
 *     rl_addr_decode and rl_os_decode.  Taken: encoding it again gives
 *     the same bytes.
 *  4  a store key of each type: rl_locate.  Placed: the key and field
 *     put back together are the store key.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rlayout.h"

#define MAXFIELDS	64

static void
url(const uint8_t *p, size_t len)
{
	struct rl_url u, back;
	char *s, err[512], name[400];

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	memset(err, 'x', sizeof(err));
	if (rl_url_parse(s, &u, err, sizeof(err)) == -1) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strncmp(err, "--store", 7) == 0);
		free(s);
		return;
	}
	CHECK(rl_url_is_shared(s));
	CHECK(u.db >= 0 && u.db <= 65535);
	/* A password in the URL is never taken. */
	CHECK(strchr(u.user, ':') == NULL);
	if (u.unix_sock)
		CHECK(u.path[0] == '/' && strlen(u.path) < sizeof(u.path));
	else
		CHECK(u.host[0] != '\0' && u.port >= 1 &&
		    strlen(u.host) < sizeof(u.host));
	rl_url_format(&u, name, sizeof(name));
	/*
	 * What a message shows is the same store.  A host that begins with
	 * '[' (no host name does) is taken, but written back without the
	 * brackets that kept it apart: left out.
	 */
	if (u.host[0] != '[') {
		CHECK(rl_url_parse(name, &back, err, sizeof(err)) == 0);
		CHECK(memcmp(&u, &back, sizeof(u)) == 0);
	}
	free(s);
}

static void
event(const uint8_t *p, size_t len)
{
	const char *f[MAXFIELDS];
	size_t lens[MAXFIELDS], n = 0;
	const char *s = (const char *)p, *end = s + len;
	struct rl_event ev, again;
	int rc;

	while (n < MAXFIELDS) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		f[n] = s;
		lens[n++] = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	rc = rl_event_parse(n, f, lens, &ev);
	CHECK(rc == 0 || rc == -1);
	CHECK(rl_event_parse(n, f, lens, &again) == rc);
	if (rc == -1)
		return;
	CHECK(n % 2 == 0);
	CHECK(ev.type == 'W' || ev.type == 'T' || ev.type == 'D');
	CHECK(memchr(ev.addr, '\0', sizeof(ev.addr)) != NULL);
	CHECK(strlen(ev.addr) >= 1 && strlen(ev.addr) < sizeof(ev.addr));
	CHECK(ev.expire >= 0);
	CHECK(memcmp(&ev, &again, sizeof(ev)) == 0);
}

static void
id(const uint8_t *p, size_t len)
{
	static const struct rl_id mid = { 1700000000000ULL, 5 };
	struct rl_id a, back;
	char buf[48];
	int c;

	if (rl_id_parse((const char *)p, len, &a) == -1)
		return;
	rl_id_format(&a, buf, sizeof(buf));
	CHECK(rl_id_parse(buf, strlen(buf), &back) == 0);
	CHECK(rl_id_cmp(&a, &back) == 0 && a.ms == back.ms &&
	    a.seq == back.seq);
	c = rl_id_cmp(&a, &mid);
	CHECK(c >= -1 && c <= 1 && rl_id_cmp(&mid, &a) == -c);
	CHECK(rl_id_gap(&mid, &a) == (c > 0));
	CHECK(!rl_id_gap(&a, &a));
}

static void
values(const uint8_t *p, size_t len)
{
	uint8_t out[RL_OSSIZE > RL_ADDRSIZE ? RL_OSSIZE : RL_ADDRSIZE];
	char os[RL_OSSIZE], small[4];
	enum store_type type;
	struct store_rec r;
	int64_t seen;
	size_t n;

	if (rl_addr_decode(p, len, &type, &r) == 0) {
		CHECK(len == RL_ADDRSIZE);
		CHECK(type == STORE_WHITE || type == STORE_TRAPPED);
		rl_addr_encode(type, &r, out);
		CHECK(memcmp(out, p, RL_ADDRSIZE) == 0);
	}
	if (rl_os_decode(p, len, &seen, os, sizeof(os)) == 0) {
		CHECK(len >= 8 && len <= RL_OSSIZE);
		CHECK(strlen(os) == len - 8);
		n = rl_os_encode(seen, os, out);
		CHECK(n == len && memcmp(out, p, len) == 0);
		/* A short buffer: cut, still a string. */
		if (rl_os_decode(p, len, &seen, small, sizeof(small)) == 0)
			CHECK(strlen(small) < sizeof(small));
	}
}

static void
locate(const uint8_t *p, size_t len)
{
	const char *k = (const char *)p;
	struct rl_loc l;
	size_t pl;

	for (int type = 0; type < STORE_NTYPES; type++) {
		if (rl_locate(type, k, len, &l) == -1)
			continue;
		CHECK(len > 0 && len <= STORE_KEYMAX);
		CHECK(l.keylen <= sizeof(l.key));
		switch (type) {
		case STORE_GREY:
			pl = strlen(RL_TUPLES);
			CHECK(l.field != NULL && l.fieldlen > 0);
			CHECK(memcmp(l.key, RL_TUPLES, pl) == 0);
			CHECK(l.keylen > pl && l.keylen - pl + 1 + l.fieldlen ==
			    len);
			CHECK(memcmp(l.key + pl, k, l.keylen - pl) == 0);
			CHECK(k[l.keylen - pl] == '\n');
			CHECK(l.field == k + l.keylen - pl + 1);
			CHECK(memchr(k, '\n', l.keylen - pl) == NULL);
			break;
		case STORE_WHITE:
		case STORE_TRAPPED:
			pl = strlen(RL_ADDRS);
			CHECK(l.field == NULL && l.keylen == pl + len);
			CHECK(memcmp(l.key + pl, k, len) == 0);
			break;
		default:
			CHECK(l.keylen == strlen(RL_SPAMTRAP) &&
			    memcmp(l.key, RL_SPAMTRAP, l.keylen) == 0);
			CHECK(l.field == k && l.fieldlen == len);
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		url(data + 1, size - 1);
		break;
	case 1:
		event(data + 1, size - 1);
		break;
	case 2:
		id(data + 1, size - 1);
		break;
	case 3:
		values(data + 1, size - 1);
		break;
	default:
		locate(data + 1, size - 1);
		break;
	}
	return 0;
}
