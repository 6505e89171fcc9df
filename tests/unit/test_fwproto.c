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

#include <cmocka.h>

#include "fwproto.h"

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
	h[0] = FWP_ADD46 + 1;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_add46),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
