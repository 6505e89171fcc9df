/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for the catch-up channel as its client sees it: what
 * a hostile server sends after the handshake.  Byte 0, bits 0-1, is the
 * mode:
 *
 *  0  frames: [16-byte header][body][32-byte MAC] until the input ends
 *     or a header is refused.  The MAC is checked under a fixed session
 *     and, whatever it says, the frame is read on (a real client stops
 *     at a bad MAC; the fuzzer could not get past one).  DATA bodies are
 *     inflated into a CATCHUP_RAWMAX buffer and their records walked;
 *     END bodies parsed.
 *  1  records: the rest is an inflated DATA body, walked as it is, so
 *     the record reader is reachable without zlib.
 *  2  keys: byte 1 is the type (any value), the rest a key.
 *  3  gaps: 6-byte items (source, seconds later, counter) through
 *     catchup_gap, with a table that holds every source and one that
 *     must evict.  A counter far behind the last (1024 or more) may be
 *     taken as late or as a restart: the model follows the table.
 *
 * Invariants: a header accepted is within the bounds and encodes back to
 * the same 16 bytes; an END parsed encodes back to its body; a record
 * read lies inside the buffer, has a key that fits its type and writes
 * back (catchup_rec_put) to the same bytes; each record merged against
 * fixed entries of ours gives an entry that a second merge of the same
 * record leaves alone (a second catch-up changes nothing), never lets a
 * pass replace a live trap, and combines two entries of one type the
 * same whichever side each is on; catchup_gap agrees with a model of
 * catchup.h's rules when nothing is evicted.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "catchup.h"
#include "fuzz.h"
#include "grey.h"
#include "record.h"

#define NOW	1700000000

static struct catchup_session	sess;
static uint8_t			*raw;		/* CATCHUP_RAWMAX */
static uint8_t			*back;		/* CATCHUP_RECMAX */

static void
setup(void)
{
	if (raw != NULL)
		return;
	sync_key_from_bytes("fuzz", 4, &sess.key);
	for (int i = 0; i < CATCHUP_NONCELEN; i++) {
		sess.cnonce[i] = (uint8_t)i;
		sess.snonce[i] = (uint8_t)(0x10 + i);
	}
	if ((raw = malloc(CATCHUP_RAWMAX)) == NULL ||
	    (back = malloc(CATCHUP_RECMAX)) == NULL)
		abort();
}

/* Ours: one live entry of each type, and an expired one. */
static const struct {
	enum store_type	 type;
	struct store_rec rec;
} locals[] = {
	{ STORE_WHITE, { NOW - 86400, NOW - 3600, NOW + 86400, 2, 3 } },
	{ STORE_GREY, { NOW - 600, NOW + 900, NOW + 14000, 1, 0 } },
	{ STORE_GREY, { NOW - 600, NOW + 900, NOW + 14000, 4, -1 } },
	{ STORE_TRAPPED, { NOW - 60, NOW - 60, NOW + 86400, 7, -1 } },
	{ STORE_SPAMTRAP, { 0, 0, 0, 0, -2 } },
	{ STORE_WHITE, { NOW - 86400, NOW - 3600, NOW - 1, 9, 9 } },
};

static bool
live(const struct store_rec *r)
{
	return r->pcount == GREY_PCOUNT_SPAMTRAP || r->expire > NOW;
}

/* What ours becomes: out when merge says so, ours as it was if not. */
static struct store_rec
merged(enum store_type rt, const struct store_rec *rem, enum store_type lt,
    const struct store_rec *loc)
{
	struct store_rec out;
	enum store_type ot;

	if (catchup_merge(rt, rem, lt, loc, NOW, &out, &ot) == 1)
		return out;
	return *loc;
}

static void
merge_checks(const struct catchup_rec *r)
{
	struct store_rec out, again, a, b;
	enum store_type ot, ot2;
	const struct store_rec *loc;
	enum store_type lt;
	int rc;

	for (size_t i = 0; i <= sizeof(locals) / sizeof(locals[0]); i++) {
		loc = i < sizeof(locals) / sizeof(locals[0]) ?
		    &locals[i].rec : NULL;
		lt = loc != NULL ? locals[i].type : r->type;
		rc = catchup_merge(r->type, &r->rec, lt, loc, NOW, &out, &ot);
		CHECK(rc == 0 || rc == 1);
		if (rc == 0)
			continue;	/* out and ot: undefined */
		CHECK(catchup_rec_consistent(r->type, &r->rec) && live(&r->rec));
		CHECK((unsigned)ot < STORE_NTYPES);
		if (loc != NULL && live(loc)) {
			/* A pass never replaces a live trap; a spamtrap is
			   never changed. */
			CHECK(!(lt == STORE_TRAPPED && ot == STORE_WHITE));
			CHECK(lt != STORE_SPAMTRAP);
			CHECK(ot == lt || (lt == STORE_WHITE &&
			    ot == STORE_TRAPPED));
			if (ot == STORE_TRAPPED && lt == STORE_WHITE) {
				CHECK(out.first <= loc->first);
				CHECK(out.bcount >= loc->bcount);
			}
		} else
			CHECK(ot == r->type &&
			    memcmp(&out, &r->rec, sizeof(out)) == 0);
		/* The same record again: nothing more to do. */
		ot2 = STORE_NTYPES;
		CHECK(catchup_merge(r->type, &r->rec, ot, &out, NOW, &again,
		    &ot2) == 0);
		/* Two live entries of one type: either side the same. */
		if (loc != NULL && lt == r->type && live(loc) &&
		    catchup_rec_consistent(lt, loc) && lt != STORE_SPAMTRAP) {
			a = merged(r->type, &r->rec, lt, loc);
			b = merged(lt, loc, r->type, &r->rec);
			CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		}
	}
	if (r->type == STORE_GREY)
		(void)catchup_superseded(&r->rec, &locals[0].rec, NOW);
	if (r->type == STORE_WHITE)
		(void)catchup_superseded(&locals[1].rec, &r->rec, NOW);
}

/* Walk a buffer of records to its end or to the first bad one. */
static void
walk(const uint8_t *buf, size_t len)
{
	struct catchup_rec r;
	const char *why;
	size_t off = 0, was, n;
	int rc;

	for (;;) {
		was = off;
		why = NULL;
		rc = catchup_rec_next(buf, len, &off, &r, &why);
		if (rc == 0) {
			CHECK(off == was && was >= len);
			return;
		}
		if (rc == -1) {
			CHECK(why != NULL && off == was);
			return;
		}
		CHECK(rc == 1);
		CHECK((unsigned)r.type < STORE_NTYPES);
		CHECK(r.keylen > 0 && r.keylen <= STORE_KEYMAX);
		CHECK((const uint8_t *)r.key == buf + was + 3);
		CHECK(off == was + 3 + r.keylen + STORE_RECSIZE && off <= len);
		CHECK(catchup_key_ok(r.type, r.key, r.keylen));
		n = catchup_rec_put(back, CATCHUP_RECMAX, 0, &r);
		CHECK(n == off - was && memcmp(back, buf + was, n) == 0);
		merge_checks(&r);
	}
}

static void
frames(const uint8_t *p, size_t len)
{
	struct catchup_frame f;
	struct catchup_end e;
	uint8_t hdr[CATCHUP_HDRLEN], endb[CATCHUP_ENDLEN];
	const char *why;
	const uint8_t *body, *mac;

	while (len >= CATCHUP_HDRLEN) {
		why = NULL;
		if (catchup_frame_parse(p, &f, &why) == -1) {
			CHECK(why != NULL);
			return;
		}
		CHECK(f.kind == CATCHUP_DATA || f.kind == CATCHUP_END ||
		    f.kind == CATCHUP_FAIL);
		CHECK(f.bodylen <= CATCHUP_BODYMAX &&
		    f.rawlen <= CATCHUP_RAWMAX);
		catchup_frame_hdr(&f, hdr);
		CHECK(memcmp(hdr, p, CATCHUP_HDRLEN) == 0);
		if (len - CATCHUP_HDRLEN < (size_t)f.bodylen + CATCHUP_MACLEN)
			return;
		body = p + CATCHUP_HDRLEN;
		mac = body + f.bodylen;
		(void)catchup_frame_mac_ok(&sess, p, body, f.bodylen, mac);
		switch (f.kind) {
		case CATCHUP_DATA:
			CHECK(f.rawlen > 0 && f.bodylen > 0);
			why = NULL;
			if (catchup_inflate(body, f.bodylen, f.rawlen, raw,
			    &why) == 0)
				walk(raw, f.rawlen);
			else
				CHECK(why != NULL);
			break;
		case CATCHUP_END:
			CHECK(f.bodylen == CATCHUP_ENDLEN);
			catchup_end_parse(body, &e);
			catchup_end_encode(&e, endb);
			CHECK(memcmp(endb, body, CATCHUP_ENDLEN) == 0);
			break;
		case CATCHUP_FAIL:
			CHECK(f.bodylen <= CATCHUP_FAILMAX &&
			    f.rawlen == f.bodylen);
			break;
		}
		p = mac + CATCHUP_MACLEN;
		len -= CATCHUP_HDRLEN + f.bodylen + CATCHUP_MACLEN;
	}
}

/* Sources: four addresses (two IPv6) times two ports. */
static void
gaps(const uint8_t *p, size_t len)
{
	static const char *const texts[4] = { "192.0.2.1", "192.0.2.2",
	    "2001:db8::1", "2001:db8::2" };
	struct catchup_source all[8], few[3];
	struct addr a[4];
	uint32_t last[8] = { 0 }, c, c0, g, want;
	bool heard[8] = { false };
	int64_t now = NOW;
	const char *why;
	unsigned src;
	uint16_t port;

	for (int i = 0; i < 4; i++)
		if (addr_parse(texts[i], &a[i], &why) != 0)
			abort();
	memset(all, 0, sizeof(all));
	memset(few, 0, sizeof(few));
	for (; len >= 6; p += 6, len -= 6) {
		src = p[0] & 7;
		port = (src & 4) ? 8025 : 40000;
		now += p[1];
		c = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
		    (uint32_t)p[4] << 8 | p[5];
		/* Some counters near the last, the rest anywhere. */
		if (heard[src] && (p[0] & 0x80))
			c = last[src] + (p[5] & 0x0f) - 4;
		c0 = last[src];
		g = catchup_gap(all, 8, &a[src & 3], port, c, now);
		if (!heard[src]) {
			want = 0;
			heard[src] = true;
			last[src] = c;
		} else if (c - last[src] == 0 ||
		    (c - last[src] >= 1U << 31 && last[src] - c < 1024))
			want = 0;
		else if (c - last[src] >= 1U << 31) {
			/* Far behind: late, or a restart taken as such;
			   either way nothing missed. */
			want = 0;
			for (int i = 0; i < 8; i++)
				if (all[i].used && all[i].port == port &&
				    addr_eq(&all[i].addr, &a[src & 3]))
					last[src] = all[i].counter;
			CHECK(last[src] == c || last[src] == c0);
		} else {
			want = c - last[src] < CATCHUP_GAPMAX ?
			    c - last[src] - 1 : 0;
			last[src] = c;
		}
		CHECK(g == want);
		g = catchup_gap(few, 3, &a[src & 3], port, c, now);
		CHECK(g < CATCHUP_GAPMAX - 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t nonce[CATCHUP_NONCELEN];

	setup();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (size >= 1 + CATCHUP_HELLOLEN)
			(void)catchup_hello_parse(data + 1, nonce);
		frames(data + 1, size - 1);
		break;
	case 1:
		walk(data + 1, size - 1);
		break;
	case 2:
		if (size >= 2)
			(void)catchup_key_ok((enum store_type)data[1],
			    (const char *)data + 2, size - 2);
		break;
	case 3:
		gaps(data + 1, size - 1);
		break;
	}
	return 0;
}
