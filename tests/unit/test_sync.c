/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for sync: spamd's sync packets.  The expected bytes were laid
 * out from the spec's tables by a separate script, and their HMACs
 * computed with "openssl dgst -sha1 -hmac KEY", KEY being
 * "sha1sum" of a key file holding "nfspamd test key\n".
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sync.h"

#define KEYTEXT	"f69e3678fb1945a8b95f90d362235d394a6bd3dd"
#define TS	1600000000u
#define EXP	1600003600u

static const uint8_t white4[52] =
    "\x02\x02\x00\x34\x00\x00\x00\x07\x82\xaa\x4e\x1e\x0f\x52\xc8\x5b"
    "\x97\x60\xc8\x46\x60\x44\x15\xf5\x5b\x4a\xc5\xaa\x00\x00\x00\x00"
    "\x00\x02\x00\x10\x5f\x5e\x10\x00\x5f\x5e\x1e\x10\xc0\x00\x02\x07"
    "\x00\x00\x00\x04";
static const uint8_t grey4[100] =
    "\x02\x02\x00\x64\x00\x00\x00\x01\x01\x99\x20\x66\x37\xdf\x09\x61"
    "\x15\x72\x60\x69\xa0\x03\x3b\x92\x18\x7c\x4f\x12\x00\x00\x00\x00"
    "\x00\x01\x00\x40\x5f\x5e\x10\x00\xc6\x33\x64\x01\x00\x0e\x00\x0e"
    "\x00\x0f\x61\x40\x65\x78\x61\x6d\x70\x6c\x65\x2e\x6f\x72\x67\x00"
    "\x62\x40\x65\x78\x61\x6d\x70\x6c\x65\x2e\x6e\x65\x74\x00\x6d\x78"
    "\x2e\x65\x78\x61\x6d\x70\x6c\x65\x2e\x6f\x72\x67\x00\x00\x00\x00"
    "\x00\x00\x00\x04";
static const uint8_t trap6[64] =
    "\x02\x0a\x00\x40\xff\xff\xff\xfe\x24\x68\xff\x9a\xcf\x69\x67\xdc"
    "\x8f\x2f\x97\xff\x88\xd8\x9a\xa6\xc9\x2a\x06\xb9\x00\x00\x00\x00"
    "\x00\x03\x00\x1c\x5f\x5e\x10\x00\x5f\x5e\x1e\x10\x20\x01\x0d\xb8"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x25\x00\x00\x00\x04";

static struct sync_key
testkey(void)
{
	struct sync_key k;

	sync_key_from_bytes("nfspamd test key\n", 17, &k);
	return k;
}

static struct addr
A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a, NULL), 0);
	return a;
}

/* Sign a hand-made packet as a peer would. */
static void
sign(const struct sync_key *k, uint8_t *p, size_t n)
{
	unsigned int len;

	memset(p + 8, 0, SYNC_HMACLEN);
	assert_non_null(HMAC(EVP_sha1(), k->text, (int)k->len, p, n, p + 8,
	    &len));
}

struct got {
	struct sync_msg	 m[4];
	char		 str[4][3][64];
	int		 n;
};

static void
collect(void *arg, const struct sync_msg *m)
{
	struct got *g = arg;

	assert_true(g->n < 4);
	g->m[g->n] = *m;
	if (m->type == SYNC_GREY) {
		snprintf(g->str[g->n][0], 64, "%s", m->from);
		snprintf(g->str[g->n][1], 64, "%s", m->to);
		snprintf(g->str[g->n][2], 64, "%s", m->helo);
	}
	g->n++;
}

static void
test_key(void **state)
{
	struct sync_key k = testkey();
	char path[] = "/tmp/nfspamd-synckey.XXXXXX";
	char err[256];
	bool missing;
	int fd;

	(void)state;
	assert_string_equal(k.text, KEYTEXT);
	assert_int_equal(k.len, 40);

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, "nfspamd test key\n", 17), 17);
	close(fd);
	assert_int_equal(sync_key_load(path, &k, &missing, err, sizeof(err)),
	    0);
	assert_false(missing);
	assert_string_equal(k.text, KEYTEXT);
	unlink(path);
	/* spamd: no key file, the empty key. */
	assert_int_equal(sync_key_load(path, &k, &missing, err, sizeof(err)),
	    0);
	assert_true(missing);
	assert_int_equal(k.len, 0);
	/* Anything else is an error naming the file. */
	assert_int_equal(sync_key_load("/proc/self/mem/x", &k, &missing, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/proc/self/mem/x"));
}

static void
test_encode(void **state)
{
	struct sync_key k = testkey();
	struct sync_msg w = { .type = SYNC_WHITE, .timestamp = TS,
	    .addr = A("192.0.2.7"), .expire = EXP };
	struct sync_msg g = { .type = SYNC_GREY, .timestamp = TS,
	    .addr = A("198.51.100.1"), .from = "a@example.org",
	    .to = "b@example.net", .helo = "mx.example.org" };
	struct sync_msg t = { .type = SYNC_TRAPPED, .timestamp = TS,
	    .addr = A("2001:db8::25"), .expire = EXP };
	uint8_t b[SYNC_MAXSIZE];

	(void)state;
	assert_int_equal(sync_encode(&k, 7, &w, b, sizeof(b)), 52);
	assert_memory_equal(b, white4, 52);
	assert_int_equal(sync_encode(&k, 1, &g, b, sizeof(b)), 100);
	assert_memory_equal(b, grey4, 100);
	assert_int_equal(sync_encode(&k, 0xfffffffe, &t, b, sizeof(b)), 64);
	assert_memory_equal(b, trap6, 64);
	/* No room, or bad messages: nothing. */
	assert_int_equal(sync_encode(&k, 7, &w, b, 51), 0);
	g.from = NULL;
	assert_int_equal(sync_encode(&k, 1, &g, b, sizeof(b)), 0);
	w.type = SYNC_END;
	assert_int_equal(sync_encode(&k, 1, &w, b, sizeof(b)), 0);
}

/* spamd's strings go up to 1023 characters; such a packet is too big. */
static void
test_encode_too_long(void **state)
{
	struct sync_key k = testkey();
	char big[2048];
	struct sync_msg g = { .type = SYNC_GREY, .timestamp = TS,
	    .addr = A("198.51.100.1"), .from = big, .to = "b@example.net",
	    .helo = "h" };
	uint8_t b[4096];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sync_encode(&k, 1, &g, b, sizeof(b)), 0);
	big[1360] = '\0';
	assert_int_equal(sync_encode(&k, 1, &g, b, sizeof(b)), 0);
	big[1200] = '\0';
	assert_int_not_equal(sync_encode(&k, 1, &g, b, sizeof(b)), 0);
}

static void
test_decode(void **state)
{
	struct sync_key k = testkey();
	struct sync_hdr h;
	struct got g = { 0 };
	char ip[ADDR_STRLEN];

	(void)state;
	assert_int_equal(sync_decode(&k, white4, 52, &h, collect, &g), SYNC_OK);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.af, 2);
	assert_int_equal(h.length, 52);
	assert_int_equal(h.counter, 7);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.m[0].type, SYNC_WHITE);
	assert_int_equal(g.m[0].timestamp, TS);
	assert_int_equal(g.m[0].expire, EXP);
	addr_format(&g.m[0].addr, ip, sizeof(ip));
	assert_string_equal(ip, "192.0.2.7");

	g.n = 0;
	assert_int_equal(sync_decode(&k, grey4, 100, &h, collect, &g), SYNC_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.m[0].type, SYNC_GREY);
	addr_format(&g.m[0].addr, ip, sizeof(ip));
	assert_string_equal(ip, "198.51.100.1");
	assert_string_equal(g.str[0][0], "a@example.org");
	assert_string_equal(g.str[0][1], "b@example.net");
	assert_string_equal(g.str[0][2], "mx.example.org");

	g.n = 0;
	assert_int_equal(sync_decode(&k, trap6, 64, &h, collect, &g), SYNC_OK);
	assert_int_equal(h.counter, 0xfffffffe);
	assert_int_equal(g.m[0].type, SYNC_TRAPPED);
	addr_format(&g.m[0].addr, ip, sizeof(ip));
	assert_string_equal(ip, "2001:db8::25");
}

/* Several TLVs; bytes after the header's length do not count. */
static void
test_decode_several(void **state)
{
	struct sync_key k = testkey();
	uint8_t p[128] = { 0 };
	struct sync_hdr h;
	struct got g = { 0 };

	(void)state;
	memcpy(p, white4, 48);		/* header + WHITE, no END */
	memcpy(p + 48, white4 + 32, 16);	/* a second WHITE */
	p[48 + 15] = 8;			/* 192.0.2.8 */
	memcpy(p + 64, "\x00\x00\x00\x04", 4);
	p[3] = 68;
	sign(&k, p, 68);
	memset(p + 68, 0xee, 20);	/* junk after the packet */
	assert_int_equal(sync_decode(&k, p, 88, &h, collect, &g), SYNC_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.m[1].addr.bytes[3], 8);
	/* Without END the walk stops at the end of the packet. */
	g.n = 0;
	p[3] = 64;
	sign(&k, p, 64);
	assert_int_equal(sync_decode(&k, p, 64, &h, collect, &g), SYNC_OK);
	assert_int_equal(g.n, 2);
}

static enum sync_err
decode(const struct sync_key *k, const uint8_t *p, size_t n, int *calls)
{
	struct sync_hdr h;
	struct got g = { 0 };
	enum sync_err e = sync_decode(k, p, n, &h, collect, &g);

	*calls = g.n;
	return e;
}

/*
 * base with byte off set to v, signed right: what decoding says.  A
 * packet that is refused delivers nothing.
 */
static enum sync_err
mutated(const struct sync_key *k, const uint8_t *base, size_t n, size_t off,
    uint8_t v)
{
	uint8_t p[128];
	enum sync_err e;
	int calls;

	assert_true(n <= sizeof(p) && off < n);
	memcpy(p, base, n);
	p[off] = v;
	sign(k, p, n);
	e = decode(k, p, n, &calls);
	if (e != SYNC_OK)
		assert_int_equal(calls, 0);
	return e;
}

static void
test_refused(void **state)
{
	struct sync_key k = testkey(), other, empty = { .len = 0 };
	uint8_t p[128];
	int calls;

	(void)state;
	sync_key_from_bytes("another key\n", 12, &other);
	assert_int_equal(decode(&k, white4, 31, &calls), SYNC_ESHORT);
	assert_int_equal(decode(&k, white4, 51, &calls), SYNC_ESHORT);
	memcpy(p, white4, 52);
	p[0] = 1;
	assert_int_equal(decode(&k, p, 52, &calls), SYNC_EVERSION);
	memcpy(p, white4, 52);
	p[1] = 7;
	assert_int_equal(decode(&k, p, 52, &calls), SYNC_EAF);
	memcpy(p, white4, 52);
	p[2] = 0;
	p[3] = 31;			/* says shorter than a header */
	assert_int_equal(decode(&k, p, 52, &calls), SYNC_ESHORT);
	/* A wrong key, the empty key, a changed byte. */
	assert_int_equal(decode(&other, white4, 52, &calls), SYNC_EHMAC);
	assert_int_equal(decode(&empty, white4, 52, &calls), SYNC_EHMAC);
	memcpy(p, white4, 52);
	p[47] ^= 1;
	assert_int_equal(decode(&k, p, 52, &calls), SYNC_EHMAC);
	assert_int_equal(calls, 0);

	/* Signed right, but the TLVs are wrong: WHITE of 17 bytes, one
	   that overruns the packet, one shorter than a TLV header, an
	   unknown type, 2 bytes where END should be. */
	assert_int_equal(mutated(&k, white4, 52, 35, 17), SYNC_ETLV);
	assert_int_equal(mutated(&k, white4, 52, 35, 40), SYNC_ETLV);
	assert_int_equal(mutated(&k, white4, 52, 35, 2), SYNC_ETLV);
	assert_int_equal(mutated(&k, white4, 52, 33, 9), SYNC_EUNKNOWN);
	assert_int_equal(mutated(&k, white4, 50, 3, 50), SYNC_ETLV);

	/* GREY: strings past the TLV (fl 64), from's NUL missing, fl 0. */
	assert_int_equal(mutated(&k, grey4, 100, 45, 0x40), SYNC_ETLV);
	assert_int_equal(mutated(&k, grey4, 100, 50 + 13, 'x'), SYNC_ETLV);
	assert_int_equal(mutated(&k, grey4, 100, 45, 0), SYNC_ETLV);
	/* A bad second TLV: the good first one is not delivered either. */
	memcpy(p, white4, 48);
	memcpy(p + 48, "\x00\x07\x00\x04\x00\x00\x00\x04", 8);
	p[3] = 56;
	sign(&k, p, 56);
	assert_int_equal(decode(&k, p, 56, &calls), SYNC_EUNKNOWN);
	assert_int_equal(calls, 0);

	assert_string_equal(sync_err_name(SYNC_EHMAC), "hmac");
	assert_string_equal(sync_err_name(SYNC_EUNKNOWN), "unknown-tlv");
	assert_string_equal(sync_err_name(SYNC_NERR), "?");
}

/* spamd without a key file: the empty key, still HMAC-SHA1. */
static void
test_empty_key(void **state)
{
	struct sync_key empty = { .len = 0 }, k = testkey();
	struct sync_msg w = { .type = SYNC_WHITE, .timestamp = TS,
	    .addr = A("192.0.2.7"), .expire = EXP };
	uint8_t b[SYNC_MAXSIZE];
	int calls;
	size_t n;

	(void)state;
	assert_int_equal((n = sync_encode(&empty, 7, &w, b, sizeof(b))), 52);
	assert_int_equal(decode(&empty, b, n, &calls), SYNC_OK);
	assert_int_equal(calls, 1);
	assert_int_equal(decode(&k, b, n, &calls), SYNC_EHMAC);
}

/* A header with a distinct HMAC for each (sender, counter). */
static struct sync_hdr
hdr(uint8_t sender, uint32_t counter)
{
	struct sync_hdr h = { .version = 2, .af = 2, .counter = counter };

	h.hmac[0] = sender;
	h.hmac[1] = (uint8_t)(counter >> 8);
	h.hmac[2] = (uint8_t)counter;
	return h;
}

static void
test_replay(void **state)
{
	struct sync_replay *r = sync_replay_new(60);
	struct sync_hdr h = hdr(1, 5);
	int64_t now = TS;

	(void)state;
	assert_non_null(r);
	assert_int_equal(sync_replay_check(r, &h, TS - 61, TS, now),
	    SYNC_ESTALE);
	assert_int_equal(sync_replay_check(r, &h, TS, TS + 61, now),
	    SYNC_ESTALE);
	assert_int_equal(sync_replay_check(r, &h, TS - 60, TS, now), SYNC_OK);
	assert_int_equal(sync_replay_check(r, &h, TS - 60, TS, now),
	    SYNC_EREPLAY);
	/* Still a replay until its timestamp is stale... */
	assert_int_equal(sync_replay_check(r, &h, TS - 60, TS, now),
	    SYNC_EREPLAY);
	/* ...and then stale. */
	assert_int_equal(sync_replay_check(r, &h, TS - 60, TS, now + 1),
	    SYNC_ESTALE);
	/* Counters going down are fine: any order, any gap. */
	for (int c = 40; c > 0; c -= 3) {
		h = hdr(1, (uint32_t)c);
		assert_int_equal(sync_replay_check(r, &h, TS, TS, now),
		    SYNC_OK);
	}
	h = hdr(1, 7);
	assert_int_equal(sync_replay_check(r, &h, TS, TS, now), SYNC_EREPLAY);
	sync_replay_free(r);
}

/*
 * Two senders on one address (spamd and spamlogd, nfspamd and its
 * nfspamlogd), each counting from its own start, interleaved: every
 * packet of each is taken, once.
 */
static void
test_replay_two_senders(void **state)
{
	struct sync_replay *r = sync_replay_new(60);
	struct sync_hdr h;

	(void)state;
	assert_non_null(r);
	for (uint32_t c = 1; c <= 200; c++) {
		h = hdr(1, c + 1000);
		assert_int_equal(sync_replay_check(r, &h, TS, TS, TS), SYNC_OK);
		h = hdr(2, c);
		assert_int_equal(sync_replay_check(r, &h, TS, TS, TS), SYNC_OK);
	}
	for (uint32_t c = 1; c <= 200; c++) {
		h = hdr(2, c);
		assert_int_equal(sync_replay_check(r, &h, TS, TS, TS),
		    SYNC_EREPLAY);
		h = hdr(1, c + 1000);
		assert_int_equal(sync_replay_check(r, &h, TS, TS, TS),
		    SYNC_EREPLAY);
	}
	/* A sender that restarted at 1 with new messages. */
	h = hdr(3, 1);
	assert_int_equal(sync_replay_check(r, &h, TS + 5, TS + 5, TS + 5),
	    SYNC_OK);
	assert_int_equal(sync_replay_forgotten(r), 0);
	sync_replay_free(r);
}

static void
test_ignore_addr(void **state)
{
	struct addr lo = A("127.0.0.1"), lo6 = A("::1"), peer = A("192.0.2.1");
	struct addr bcast = A("255.255.255.255"), client = A("198.51.100.7");
	struct addr lo9 = A("127.0.0.9");

	(void)state;
	assert_null(sync_ignore_addr(&peer, &client));
	assert_null(sync_ignore_addr(&lo, &client));
	assert_string_equal(sync_ignore_addr(&peer, &bcast), "broadcast");
	assert_string_equal(sync_ignore_addr(&lo, &bcast), "broadcast");
	/* Another host's loopback is not ours... */
	assert_string_equal(sync_ignore_addr(&peer, &lo9), "loopback");
	/* ...a peer on our own loopback shares it. */
	assert_null(sync_ignore_addr(&lo, &lo9));
	assert_null(sync_ignore_addr(&lo6, &lo9));
	assert_null(sync_ignore_addr(&lo, &lo6));
}

static void
test_target(void **state)
{
	struct sync_target t;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sync_target_parse("192.0.2.1", &t, &why), 0);
	assert_string_equal(t.host, "192.0.2.1");
	assert_false(t.has_num);
	assert_int_equal(sync_target_parse("mx2.example.org:8026", &t, &why),
	    0);
	assert_string_equal(t.host, "mx2.example.org");
	assert_true(t.has_num);
	assert_int_equal(t.num, 8026);
	assert_int_equal(sync_target_parse("eth0:2", &t, &why), 0);
	assert_string_equal(t.host, "eth0");
	assert_int_equal(t.num, 2);
	assert_int_equal(sync_target_parse("2001:db8::25", &t, &why), 0);
	assert_string_equal(t.host, "2001:db8::25");
	assert_false(t.has_num);
	assert_int_equal(sync_target_parse("[2001:db8::25]:8025", &t, &why),
	    0);
	assert_string_equal(t.host, "2001:db8::25");
	assert_int_equal(t.num, 8025);
	assert_int_equal(sync_target_parse("[::1]", &t, &why), 0);
	assert_string_equal(t.host, "::1");
	assert_false(t.has_num);

	static const char *const bad[] = { "", ":25", "host:", "host:0",
	    "host:65536", "host:2x", "host:-1", "[::1", "[]", "[::1]x",
	    "[::1]:", "a b", "a/24" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(sync_target_parse(bad[i], &t, &why), -1);
		assert_non_null(why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_too_long),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_several),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_empty_key),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_replay_two_senders),
		cmocka_unit_test(test_ignore_addr),
		cmocka_unit_test(test_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
