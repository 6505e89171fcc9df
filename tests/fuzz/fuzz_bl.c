/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/bl*.c: control lines as a hostile peer
 * could send them.
 *
 * A line the parser accepts must format to a line that parses to the
 * same list and formats to the same text; its message must make reply
 * lines that are each "<3 digits>" then '-' or ' ', then text with no
 * CR or LF, then CRLF, with ' ' on the last line only; the index must
 * agree with prefix_contains for every prefix's own address.  A refused
 * line must come with a reason.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl.h"
#include "fuzz.h"

static void
check_same(const struct bl_list *a, const struct bl_list *b)
{
	CHECK(strcmp(a->tag, b->tag) == 0);
	CHECK((a->msg == NULL) == (b->msg == NULL));
	if (a->msg != NULL)
		CHECK(strcmp(a->msg, b->msg) == 0);
	CHECK(a->npfx == b->npfx);
	if (a->npfx > 0)
		CHECK(memcmp(a->pfx, b->pfx, a->npfx * sizeof(*a->pfx)) == 0);
}

static void
check_reply(const struct buf *r, int code, bool last)
{
	const char	*p = r->data, *end = r->data + r->len, *eol;
	char		 want[4];

	CHECK(r->len > 0);
	snprintf(want, sizeof(want), "%03d", code);
	while (p < end) {
		CHECK(end - p >= 6);
		CHECK(memcmp(p, want, 3) == 0);
		CHECK(p[3] == '-' || p[3] == ' ');
		for (eol = p + 4; eol < end && *eol != '\r' && *eol != '\n';
		    eol++)
			;
		CHECK(end - eol >= 2 && eol[0] == '\r' && eol[1] == '\n');
		/* ' ' on the final line of a final message, nowhere else. */
		CHECK((p[3] == ' ') == (last && eol + 2 == end));
		p = eol + 2;
	}
}

static void
check_replies(const struct bl_list *l)
{
	struct buf	 r = { NULL, 0, 0 };
	struct addr	 a;
	const char	*msg = l->msg != NULL ? l->msg : "";

	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	memset(a.bytes, 0xff, sizeof(a.bytes));
	if (l->npfx > 0)
		a = l->pfx[0].addr;
	CHECK(bl_reply_msg(msg, &a, 450, true, &r) == 0);
	check_reply(&r, 450, true);
	buf_reset(&r);
	CHECK(bl_reply_msg(msg, &a, 550, false, &r) == 0);
	check_reply(&r, 550, false);
	buf_free(&r);
}

/* Each prefix's first and last address are in the list; no other list. */
static void
check_lookup(struct bl_list *l)
{
	struct bl	*b;
	struct addr	 a;
	uint32_t	 id;
	size_t		 i, n, bits, k;

	if ((b = bl_new()) == NULL)
		return;
	n = l->npfx;
	CHECK(bl_set(b, l) == 0);	/* l is left empty */
	CHECK(bl_build(b) == 0);
	for (i = 0; i < n && i < 64; i++) {
		a = bl_get(b, 0)->pfx[i].addr;
		CHECK(bl_lookup(b, &a, &id, 1) == 1 && id == 0);
		bits = addr_bits(&a);
		for (k = bl_get(b, 0)->pfx[i].len; k < bits; k++)
			a.bytes[k / 8] |= (uint8_t)(0x80 >> (k % 8));
		CHECK(bl_lookup(b, &a, &id, 1) == 1 && id == 0);
	}
	bl_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bl_list	 l, m;
	struct buf	 f = { NULL, 0, 0 }, g = { NULL, 0, 0 };
	char		 err[512], *line;

	/* A private copy so the sanitizer sees exact bounds. */
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	err[0] = '\0';
	if (bl_parse(line, size, &l, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		free(line);
		return 0;
	}
	free(line);
	CHECK(l.tag != NULL && strlen(l.tag) >= 1 &&
	    strlen(l.tag) <= BL_TAGMAX);
	CHECK(l.npfx == 0 || (l.msg != NULL && strlen(l.msg) <= BL_MSGMAX));

	CHECK(bl_format(&l, &f) == 0);
	CHECK(f.len == strlen(f.data));
	if (bl_parse(f.data, f.len, &m, err, sizeof(err)) == -1) {
		fprintf(stderr, "reparse \"%s\": %s\n", f.data, err);
		abort();
	}
	check_same(&l, &m);
	CHECK(bl_format(&m, &g) == 0);
	CHECK(f.len == g.len && memcmp(f.data, g.data, f.len) == 0);

	check_replies(&l);
	check_lookup(&l);
	bl_list_free(&l);
	bl_list_free(&m);
	buf_free(&f);
	buf_free(&g);
	return 0;
}
