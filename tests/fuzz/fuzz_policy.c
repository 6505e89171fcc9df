/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for policy: what a Postfix policy client (or anyone
 * who can reach nfspamd-policy) sends.  Byte 0: bits 0-6 seed the sizes
 * of the pieces the stream is fed in; bit 7 says the rest is run-length
 * coded ([count][byte] pairs, a count with its top bit set meaning 256
 * times its low bits), so the line and request limits are in reach of
 * small inputs.  Otherwise the rest is the stream as it is.
 *
 * The stream is read three ways: all at once, in pieces, and by a model
 * of policy.h's rules written line by line (the reader goes byte by
 * byte).  All three must yield the same requests and fail, or not, on
 * the same line.  Invariants: a request holds 1 to POLICY_ATTRMAX
 * attributes and at most POLICY_REQMAX bytes, its kept values are short
 * and free of NUL; an error text is printable ASCII and names its line;
 * every answer is "action=DUNNO" or a PREPEND of one header line whose
 * value is printable ASCII, no longer than POLICY_OSMAX, then the empty
 * line; policy_sanitize and policy_header_ok keep their promises.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"

#define EXPANDMAX	(3 * POLICY_REQMAX)

/* What one reading of the stream gave. */
struct run {
	uint64_t	*sum;		/* a digest of each request */
	size_t		 n, cap;
	bool		 failed;
	unsigned long	 errline;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
digest(const struct policy_req *q)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int a = 0; a < POLICY_NATTR; a++) {
		h = fnv(h, &q->sent[a], 1);
		h = fnv(h, q->val[a], strlen(q->val[a]) + 1);
	}
	h = fnv(h, &q->nattr, sizeof(q->nattr));
	return fnv(h, &q->size, sizeof(q->size));
}

static void
add(struct run *r, uint64_t sum)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		if ((r->sum = realloc(r->sum, r->cap * sizeof(*r->sum))) ==
		    NULL)
			abort();
	}
	r->sum[r->n++] = sum;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void
check_answer(const struct policy_req *q, const char *header, const char *os)
{
	char buf[POLICY_ANSWERMAX], clean[POLICY_OSMAX + 1];
	const char *v;
	size_t n, hl;

	n = policy_answer(q, header, os, buf, sizeof(buf));
	CHECK(n == strlen(buf) && n > 0 && n < sizeof(buf));
	if (strcmp(buf, "action=DUNNO\n\n") == 0) {
		CHECK(!policy_asks(q) || !policy_header_ok(header, NULL) ||
		    policy_sanitize(os, clean, sizeof(clean)) == 0);
		return;
	}
	CHECK(policy_asks(q) && policy_header_ok(header, NULL));
	hl = strlen(header);
	CHECK(strncmp(buf, "action=PREPEND ", 15) == 0);
	CHECK(strncmp(buf + 15, header, hl) == 0);
	CHECK(buf[15 + hl] == ':' && buf[16 + hl] == ' ');
	v = buf + 17 + hl;
	CHECK(n >= 17 + hl + 3 && buf[n - 2] == '\n' && buf[n - 1] == '\n');
	buf[n - 2] = '\0';
	CHECK(printable(v) && strlen(v) <= POLICY_OSMAX);
	CHECK(v[0] != ' ' && v[strlen(v) - 1] != ' ');
	CHECK(policy_sanitize(os, clean, sizeof(clean)) == strlen(v) &&
	    strcmp(clean, v) == 0);
}

static void
check_req(const struct policy_req *q)
{
	CHECK(q->nattr >= 1 && q->nattr <= POLICY_ATTRMAX);
	CHECK(q->size >= 3 && q->size <= POLICY_REQMAX);
	for (int a = 0; a < POLICY_NATTR; a++) {
		CHECK(strlen(q->val[a]) <= POLICY_VALMAX);
		CHECK(q->sent[a] || q->val[a][0] == '\0');
	}
	check_answer(q, POLICY_HEADER_DEFAULT, q->val[POLICY_NAME]);
	check_answer(q, q->val[POLICY_INSTANCE], q->val[POLICY_STATE]);
	check_answer(q, "X-OS", NULL);
	if (policy_header_ok(q->val[POLICY_INSTANCE], NULL)) {
		for (const char *p = q->val[POLICY_INSTANCE]; *p; p++)
			CHECK(*p > ' ' && *p < 0x7f && *p != ':');
		CHECK(strlen(q->val[POLICY_INSTANCE]) <= POLICY_HEADERMAX);
	}
}

static void
failed(struct run *r, const struct policy_reader *rd)
{
	char *end;

	CHECK(memchr(rd->err, '\0', sizeof(rd->err)) != NULL);
	CHECK(printable(rd->err));
	CHECK(strncmp(rd->err, "line ", 5) == 0);
	r->errline = strtoul(rd->err + 5, &end, 10);
	CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
	r->failed = true;
}

/* Pieces of 1 to 64 bytes from seed; seed 0: all at once. */
static void
read_stream(const uint8_t *s, size_t len, unsigned seed, struct run *r)
{
	struct policy_reader *rd = malloc(sizeof(*rd));
	uint32_t x = seed * 2654435761U + 1;
	size_t off = 0, piece, used;
	int rc;

	if (rd == NULL)
		abort();
	policy_reader_init(rd);
	while (off < len) {
		piece = len - off;
		if (seed != 0) {
			x = x * 1103515245U + 12345U;
			if ((x >> 16) % 64 + 1 < piece)
				piece = (x >> 16) % 64 + 1;
		}
		while (piece > 0) {
			rc = policy_feed(rd, s + off, piece, &used);
			CHECK(used <= piece);
			if (rc == -1) {
				failed(r, rd);
				CHECK(policy_feed(rd, "a=b\n\n", 5, &used) ==
				    -1);
				CHECK(!policy_pending(rd));
				free(rd);
				return;
			}
			CHECK(rc == 0 || rc == 1);
			off += used;
			piece -= used;
			if (rc == 1) {
				CHECK(!policy_pending(rd));
				CHECK(rd->nreq == r->n + 1);
				check_req(&rd->req);
				add(r, digest(&rd->req));
			} else
				CHECK(piece == 0);
		}
	}
	free(rd);
}

static const char *const names[POLICY_NATTR] = {
	"request", "protocol_state", "client_address", "client_name",
	"instance"
};

/* policy.h's rules, a line at a time. */
static void
model(const uint8_t *s, size_t len, struct run *r)
{
	struct policy_req q;
	size_t pos = 0, cur = 0, end, ll, bad, ovf, nlen, vlen;
	const uint8_t *nl, *nul, *eq;
	unsigned long lineno = 0;

	memset(&q, 0, sizeof(q));
	for (;;) {
		nl = memchr(s + pos, '\n', len - pos);
		end = nl != NULL ? (size_t)(nl - s) : len;
		ll = end - pos;
		bad = SIZE_MAX;
		if ((nul = memchr(s + pos, '\0', ll)) != NULL)
			bad = (size_t)(nul - s);
		if (ll > POLICY_LINEMAX && pos + POLICY_LINEMAX < bad)
			bad = pos + POLICY_LINEMAX;
		/* The byte that makes the request one too long. */
		ovf = pos + (POLICY_REQMAX - cur);
		if (ovf < bad && (ovf < end || (ovf == end && nl != NULL)))
			bad = ovf;
		if (bad != SIZE_MAX && (bad < end ||
		    (bad == end && nl != NULL))) {
			r->failed = true;
			r->errline = lineno + 1;
			return;
		}
		if (nl == NULL)
			return;
		cur += ll + 1;
		if (ll > 0 && s[end - 1] == '\r')
			ll--;
		if (ll == 0) {
			if (q.nattr == 0) {
				r->failed = true;
				r->errline = lineno + 1;
				return;
			}
			q.size = cur;
			add(r, digest(&q));
			memset(&q, 0, sizeof(q));
			cur = 0;
		} else {
			eq = memchr(s + pos, '=', ll);
			if (++q.nattr > POLICY_ATTRMAX || eq == NULL ||
			    eq == s + pos) {
				r->failed = true;
				r->errline = lineno + 1;
				return;
			}
			nlen = (size_t)(eq - (s + pos));
			vlen = ll - nlen - 1;
			for (int a = 0; a < POLICY_NATTR; a++) {
				if (strlen(names[a]) != nlen ||
				    memcmp(s + pos, names[a], nlen) != 0)
					continue;
				if (vlen > POLICY_VALMAX) {
					r->failed = true;
					r->errline = lineno + 1;
					return;
				}
				memcpy(q.val[a], eq + 1, vlen);
				q.val[a][vlen] = '\0';
				q.sent[a] = true;
			}
		}
		lineno++;
		pos = end + 1;
	}
}

static bool
same(const struct run *a, const struct run *b)
{
	return a->n == b->n && a->failed == b->failed &&
	    (!a->failed || a->errline == b->errline) &&
	    (a->n == 0 || memcmp(a->sum, b->sum, a->n * sizeof(*a->sum)) ==
	    0);
}

/* [count][byte] pairs; a count's top bit: 256 times its low bits. */
static size_t
expand(const uint8_t *p, size_t len, uint8_t *out)
{
	size_t n = 0, c;

	for (size_t i = 0; i + 1 < len; i += 2) {
		c = p[i] & 0x80 ? (size_t)(p[i] & 0x7f) * 256 : p[i];
		if (c > EXPANDMAX - n)
			c = EXPANDMAX - n;
		memset(out + n, p[i + 1], c);
		n += c;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *big;
	struct run whole = { 0 }, pieces = { 0 }, mod = { 0 };
	char clean[POLICY_OSMAX + 1], *os;
	const uint8_t *s;
	size_t len, n;

	if (size < 1)
		return 0;
	if (big == NULL && (big = malloc(EXPANDMAX)) == NULL)
		abort();
	if (data[0] & 0x80) {
		len = expand(data + 1, size - 1, big);
		s = big;
	} else {
		s = data + 1;
		len = size - 1;
	}
	read_stream(s, len, 0, &whole);
	read_stream(s, len, data[0] & 0x7f, &pieces);
	model(s, len, &mod);
	CHECK(same(&whole, &pieces));
	CHECK(same(&whole, &mod));
	free(whole.sum);
	free(pieces.sum);
	free(mod.sum);

	/* The raw bytes as an operating system's name. */
	if ((os = malloc(len + 1)) == NULL)
		abort();
	memcpy(os, s, len);
	os[len] = '\0';
	n = policy_sanitize(os, clean, sizeof(clean));
	CHECK(n == strlen(clean) && n <= POLICY_OSMAX && printable(clean));
	CHECK(n == 0 || (clean[0] != ' ' && clean[n - 1] != ' '));
	CHECK(n > 0 || strspn(os, " ") == strlen(os));
	free(os);
	return 0;
}
