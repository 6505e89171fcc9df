/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for fwproto: what the netlink helper accepts.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwproto.h"
#include "util.h"

static struct nftset_elem
E(const char *p, uint64_t timeout)
{
	struct nftset_elem e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(prefix_parse(p, &e.pfx, false, NULL), 0);
	e.timeout_ms = timeout;
	return e;
}

static void
test_sets(void **state)
{
	(void)state;
	assert_string_equal(fwp_set_name(FWP_WHITE), "spamd-white");
	assert_string_equal(fwp_set_name(FWP_BLACK6), "spamd6");
	assert_null(fwp_set_name(FWP_NSETS));
	assert_int_equal(fwp_set_family(FWP_TRAP6), AF_INET6);
	assert_int_equal(fwp_set_for(FWP_WHITE, AF_INET6), FWP_WHITE6);
	assert_int_equal(fwp_set_for(FWP_TRAP, AF_INET), FWP_TRAP);
	assert_true(fwp_set_interval(FWP_NOSPAMD));
	assert_false(fwp_set_interval(FWP_WHITE6));
}

static void
test_roundtrip(void **state)
{
	struct nftset_elem add[2] = { E("192.0.2.1", 3600000),
	    E("198.51.100.7", 1) }, del[1] = { E("203.0.113.9", 0) };
	struct nftset_elem got[3];
	struct fwp_req r = { .op = FWP_APPLY, .set = FWP_WHITE, .nadd = 2,
	    .ndel = 1, .add = add, .del = del }, d;
	struct buf b = { 0 };
	const char *why = NULL;
	uint8_t *p;

	(void)state;
	assert_int_equal(fwp_req_encode(&r, &b), 0);
	assert_int_equal(b.len, FWP_HDRSIZE + 3 * FWP_ELEMSIZE);
	p = (uint8_t *)b.data;
	assert_int_equal(fwp_hdr_decode(p, b.len, &d, &why), 0);
	assert_int_equal(d.op, FWP_APPLY);
	assert_int_equal(d.nadd, 2);
	assert_int_equal(d.ndel, 1);
	assert_int_equal(fwp_elems_decode(p + FWP_HDRSIZE, 3 * FWP_ELEMSIZE, 3,
	    FWP_WHITE, got, &why), 0);
	assert_true(addr_eq(&got[0].pfx.addr, &add[0].pfx.addr));
	assert_int_equal(got[0].pfx.len, 32);
	assert_int_equal(got[0].timeout_ms, 3600000);
	assert_int_equal(got[1].timeout_ms, 1);
	assert_true(addr_eq(&got[2].pfx.addr, &del[0].pfx.addr));
	buf_free(&b);
}

/* ADD46 travels as two groups and comes back as add and add6. */
static void
test_roundtrip_add46(void **state)
{
	struct nftset_elem v4[1] = { E("192.0.2.1", 1000) };
	struct nftset_elem v6[2] = { E("2001:db8::1", 2000),
	    E("2001:db8::2", 3000) };
	struct nftset_elem got[2];
	struct fwp_req r = { .op = FWP_ADD46, .set = FWP_WHITE, .nadd = 1,
	    .nadd6 = 2, .add = v4, .add6 = v6 }, d;
	struct buf b = { 0 };
	const char *why = NULL;
	const uint8_t *p;

	(void)state;
	assert_int_equal(fwp_req_encode(&r, &b), 0);
	assert_int_equal(b.len, FWP_HDRSIZE + 3 * FWP_ELEMSIZE);
	p = (const uint8_t *)b.data;
	assert_int_equal(fwp_hdr_decode(p, b.len, &d, &why), 0);
	assert_int_equal(d.nadd, 1);
	assert_int_equal(d.ndel, 0);
	assert_int_equal(d.nadd6, 2);
	assert_int_equal(fwp_elems_decode(p + FWP_HDRSIZE + FWP_ELEMSIZE,
	    2 * FWP_ELEMSIZE, 2, fwp_add6_set(&d), got, &why), 0);
	assert_true(addr_eq(&got[1].pfx.addr, &v6[1].pfx.addr));
	assert_int_equal(got[1].timeout_ms, 3000);
	buf_free(&b);
}

static void
test_refused(void **state)
{
	uint8_t h[FWP_HDRSIZE] = { FWP_ADD, FWP_WHITE, 0, 0, 0, 0, 0, 1 };
	struct nftset_elem e6 = E("2001:db8::1", 5), enet = E("10.0.0.0/8", 0),
	    ehost = E("10.0.0.1", 0), out;
	uint8_t raw[FWP_ELEMSIZE];
	struct fwp_req r;
	const char *why;

	(void)state;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), 0);
	h[0] = 0;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), -1);
	assert_string_equal(why, "unknown operation");
	h[0] = FWP_ADD;
	h[1] = FWP_NSETS;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), -1);
	assert_string_equal(why, "not an nfspamd set");
	h[1] = FWP_WHITE;
	h[4] = 0xff;	/* nadd far too large */
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), -1);
	assert_string_equal(why, "too many elements");
	h[4] = 0;
	h[11] = 1;	/* ADD with deletions */
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), -1);
	assert_int_equal(fwp_hdr_decode(h, 5, &r, &why), -1);

	/* ADD46: an IPv4 address set names the pair; add6 holds the twin's. */
	h[0] = FWP_ADD46;
	h[11] = 2;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), 0);
	assert_int_equal(fwp_add6_set(&r), FWP_WHITE6);
	assert_int_equal(r.nadd6, 2);
	assert_int_equal(r.ndel, 0);
	h[1] = FWP_TRAP;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), 0);
	assert_int_equal(fwp_add6_set(&r), FWP_TRAP6);
	h[1] = FWP_WHITE6;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), -1);
	assert_string_equal(why, "not an IPv4 address set");
	h[1] = FWP_NOSPAMD;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), -1);
	h[0] = FWP_COUNTERS + 1;
	h[1] = FWP_WHITE;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), -1);
	assert_string_equal(why, "unknown operation");
	h[0] = FWP_APPLY;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &r, &why), 0);
	assert_int_equal(r.ndel, 2);
	assert_int_equal(r.nadd6, 0);

	/* IPv6 into an IPv4 set; a prefix into an address set. */
	fwp_elem_encode(&e6, raw);
	assert_int_equal(fwp_elems_decode(raw, sizeof(raw), 1, FWP_WHITE, &out,
	    &why), -1);
	assert_string_equal(why, "element family does not match the set");
	fwp_elem_encode(&enet, raw);
	assert_int_equal(fwp_elems_decode(raw, sizeof(raw), 1, FWP_WHITE, &out,
	    &why), -1);
	assert_int_equal(fwp_elems_decode(raw, sizeof(raw), 1, FWP_BLACK, &out,
	    &why), 0);
	/* Host bits, and timeouts on interval sets. */
	raw[5] = 1;
	assert_int_equal(fwp_elems_decode(raw, sizeof(raw), 1, FWP_BLACK, &out,
	    &why), -1);
	assert_string_equal(why, "host bits set");
	ehost.timeout_ms = 5;
	ehost.pfx.len = 32;
	fwp_elem_encode(&ehost, raw);
	assert_int_equal(fwp_elems_decode(raw, sizeof(raw), 1, FWP_NOSPAMD,
	    &out, &why), -1);
	assert_string_equal(why, "timeout on an interval set");
	assert_int_equal(fwp_elems_decode(raw, sizeof(raw) - 1, 1, FWP_WHITE,
	    &out, &why), -1);
}

static void
test_reply(void **state)
{
	struct buf b = { 0 };
	struct nftset_elem e = E("192.0.2.1", 77);
	uint32_t elen, n;
	int status;
	const char *why;

	(void)state;
	assert_int_equal(fwp_reply_encode(1, "set spamd-white: add: boom", &e,
	    1, &b), 0);
	assert_int_equal(fwp_reply_hdr((uint8_t *)b.data, b.len, &status, &elen,
	    &n, &why), 0);
	assert_int_equal(status, 1);
	assert_int_equal(elen, 26);
	assert_int_equal(n, 1);
	assert_memory_equal(b.data + 12, "set spamd-white: add: boom", 26);
	b.data[3] = 7;
	assert_int_equal(fwp_reply_hdr((uint8_t *)b.data, b.len, &status, &elen,
	    &n, &why), -1);
	buf_free(&b);
}

/* Field by field: the structs' padding is nobody's business. */
static void
ctr_equal(const struct fwp_counter *a, const struct fwp_counter *b)
{
	for (unsigned i = 0; i < FWP_NCTRS; i++) {
		assert_int_equal(a[i].found, b[i].found);
		assert_true(a[i].packets == b[i].packets);
		assert_true(a[i].bytes == b[i].bytes);
	}
}

static void
test_counters_names(void **state)
{
	(void)state;
	assert_string_equal(fwp_ctr_name(FWP_CTR_DIVERTED), "diverted");
	assert_string_equal(fwp_ctr_name(FWP_CTR_WHITE), "white");
	assert_string_equal(fwp_ctr_name(FWP_CTR_NOSPAMD), "nospamd");
	assert_string_equal(fwp_ctr_name(FWP_CTR_BLACK), "blacklist");
	assert_string_equal(fwp_ctr_name(FWP_CTR_BLACK6), "blacklist6");
	assert_null(fwp_ctr_name(FWP_NCTRS));
}

/* The request carries nothing and names no set. */
static void
test_counters_request(void **state)
{
	struct fwp_req r = { .op = FWP_COUNTERS }, d;
	struct buf b = { 0 };
	uint8_t h[FWP_HDRSIZE];
	const char *why = NULL;

	(void)state;
	assert_int_equal(fwp_req_encode(&r, &b), 0);
	assert_int_equal(b.len, FWP_HDRSIZE);
	assert_int_equal(fwp_hdr_decode((uint8_t *)b.data, b.len, &d, &why),
	    0);
	assert_int_equal(d.op, FWP_COUNTERS);
	assert_int_equal(d.nadd + d.ndel + d.nadd6, 0);
	memcpy(h, b.data, sizeof(h));
	h[1] = FWP_WHITE6;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &d, &why), -1);
	assert_string_equal(why, "a set named where none is read");
	h[1] = 0;
	h[7] = 1;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &d, &why), -1);
	assert_string_equal(why, "element counts do not fit the operation");
	h[7] = 0;
	h[11] = 1;
	assert_int_equal(fwp_hdr_decode(h, sizeof(h), &d, &why), -1);
	buf_free(&b);
}

static void
test_counters_reply(void **state)
{
	struct fwp_counter c[FWP_NCTRS] = { 0 }, got[FWP_NCTRS];
	struct buf b = { 0 };
	uint32_t elen, n;
	uint8_t *rec;
	int status;
	const char *why = NULL;

	(void)state;
	c[FWP_CTR_DIVERTED] = (struct fwp_counter){ true, 7, 420 };
	c[FWP_CTR_BLACK6] = (struct fwp_counter){ true, 0x0102030405060708,
	    UINT64_MAX };
	assert_int_equal(fwp_counters_encode(c, &b), 0);
	assert_int_equal(b.len, 12 + 2 * FWP_CTRSIZE);
	assert_int_equal(fwp_reply_hdr((uint8_t *)b.data, b.len, &status, &elen,
	    &n, &why), 0);
	assert_int_equal(status, 0);
	assert_int_equal(elen, 0);
	assert_int_equal(n, 2);
	rec = (uint8_t *)b.data + 12;
	assert_int_equal(fwp_counters_decode(rec, 2 * FWP_CTRSIZE, 2, got,
	    &why), 0);
	ctr_equal(got, c);
	assert_false(got[FWP_CTR_WHITE].found);

	/* Sizes, numbers, repeats. */
	assert_int_equal(fwp_counters_decode(rec, 2 * FWP_CTRSIZE - 1, 2, got,
	    &why), -1);
	assert_string_equal(why, "counter data of the wrong size");
	assert_int_equal(fwp_counters_decode(rec, 0, FWP_NCTRS + 1, got, &why),
	    -1);
	rec[FWP_CTRSIZE] = FWP_NCTRS;
	assert_int_equal(fwp_counters_decode(rec, 2 * FWP_CTRSIZE, 2, got,
	    &why), -1);
	assert_string_equal(why, "not an nfspamd counter");
	rec[FWP_CTRSIZE] = FWP_CTR_DIVERTED;
	assert_int_equal(fwp_counters_decode(rec, 2 * FWP_CTRSIZE, 2, got,
	    &why), -1);
	assert_string_equal(why, "a counter given twice");
	assert_int_equal(fwp_counters_decode(rec, 0, 0, got, &why), 0);
	for (unsigned i = 0; i < FWP_NCTRS; i++)
		assert_false(got[i].found);
	buf_free(&b);
}

/*
 * The client against replies written beforehand on a socket pair: the
 * counters, a refusal, and a reply that claims more counters than exist.
 */
static void
test_counters_client(void **state)
{
	struct fwp_counter c[FWP_NCTRS] = { 0 }, got[FWP_NCTRS];
	struct buf b = { 0 };
	uint8_t req[FWP_HDRSIZE], bad[12] = { 0 };
	char err[128];
	int sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	c[FWP_CTR_WHITE] = (struct fwp_counter){ true, 3, 180 };
	assert_int_equal(fwp_counters_encode(c, &b), 0);
	assert_int_equal(util_write_full(sp[1], b.data, b.len), 0);
	assert_int_equal(fwp_counters(sp[0], got, err, sizeof(err)), 0);
	ctr_equal(got, c);
	assert_int_equal(util_read_full(sp[1], req, sizeof(req)), 1);
	assert_int_equal(req[0], FWP_COUNTERS);

	buf_free(&b);
	assert_int_equal(fwp_reply_encode(1, "table inet nfspamd: counters: "
	    "boom", NULL, 0, &b), 0);
	assert_int_equal(util_write_full(sp[1], b.data, b.len), 0);
	assert_int_equal(fwp_counters(sp[0], got, err, sizeof(err)), -1);
	assert_string_equal(err, "table inet nfspamd: counters: boom");
	assert_false(got[FWP_CTR_WHITE].found);

	bad[11] = FWP_NCTRS + 1;
	assert_int_equal(util_write_full(sp[1], bad, sizeof(bad)), 0);
	assert_int_equal(fwp_counters(sp[0], got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than there are"));
	close(sp[0]);
	close(sp[1]);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_add46),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_counters_names),
		cmocka_unit_test(test_counters_request),
		cmocka_unit_test(test_counters_reply),
		cmocka_unit_test(test_counters_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
