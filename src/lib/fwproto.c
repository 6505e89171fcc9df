/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * fwproto: supervisor <-> netlink helper messages.  See fwproto.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fwproto.h"
#include "util.h"

static const char *const names[FWP_NSETS] = {
	[FWP_WHITE] = NFTSET_WHITE, [FWP_WHITE6] = NFTSET_WHITE6,
	[FWP_TRAP] = NFTSET_TRAP, [FWP_TRAP6] = NFTSET_TRAP6,
	[FWP_NOSPAMD] = NFTSET_NOSPAMD, [FWP_NOSPAMD6] = NFTSET_NOSPAMD6,
	[FWP_BLACK] = NFTSET_BLACK, [FWP_BLACK6] = NFTSET_BLACK6,
};

/* The names of the ruleset's counters (nft/nfspamd.nft). */
static const char *const ctr_names[FWP_NCTRS] = {
	[FWP_CTR_DIVERTED] = "diverted", [FWP_CTR_WHITE] = "white",
	[FWP_CTR_NOSPAMD] = "nospamd", [FWP_CTR_BLACK] = "blacklist",
	[FWP_CTR_BLACK6] = "blacklist6",
};

const char *
fwp_set_name(unsigned set)
{
	return set < FWP_NSETS ? names[set] : NULL;
}

const char *
fwp_ctr_name(unsigned ctr)
{
	return ctr < FWP_NCTRS ? ctr_names[ctr] : NULL;
}

int
fwp_set_family(unsigned set)
{
	return set % 2 == 0 ? AF_INET : AF_INET6;
}

bool
fwp_set_interval(unsigned set)
{
	return set >= FWP_NOSPAMD && set < FWP_NSETS;
}

unsigned
fwp_set_for(unsigned v4set, int family)
{
	return (v4set & ~1u) + (family == AF_INET6);
}

void
fwp_elem_encode(const struct nftset_elem *e, uint8_t *o)
{
	o[0] = e->pfx.addr.family == AF_INET6 ? 6 : 4;
	o[1] = e->pfx.len;
	memcpy(o + 2, e->pfx.addr.bytes, 16);
	for (int i = 0; i < 8; i++)
		o[18 + i] = (uint8_t)(e->timeout_ms >> (56 - 8 * i));
}

static int
elems_append(struct buf *b, const struct nftset_elem *e, size_t n)
{
	uint8_t tmp[FWP_ELEMSIZE];

	for (size_t i = 0; i < n; i++) {
		fwp_elem_encode(&e[i], tmp);
		if (buf_append(b, tmp, sizeof(tmp)) == -1)
			return -1;
	}
	return 0;
}

unsigned
fwp_add6_set(const struct fwp_req *r)
{
	return fwp_set_for(r->set, AF_INET6);
}

int
fwp_req_encode(const struct fwp_req *r, struct buf *b)
{
	uint8_t h[FWP_HDRSIZE] = { r->op, r->set, 0, 0 };
	bool six = r->op == FWP_ADD46;

	util_put32be(h + 4, r->nadd);
	util_put32be(h + 8, six ? r->nadd6 : r->ndel);
	if (buf_append(b, h, sizeof(h)) == -1 ||
	    elems_append(b, r->add, r->nadd) == -1 ||
	    elems_append(b, six ? r->add6 : r->del,
	    six ? r->nadd6 : r->ndel) == -1)
		return -1;
	return 0;
}

int
fwp_hdr_decode(const uint8_t *p, size_t len, struct fwp_req *r,
    const char **why)
{
	memset(r, 0, sizeof(*r));
	if (len < FWP_HDRSIZE) {
		*why = "short header";
		return -1;
	}
	r->op = p[0];
	r->set = p[1];
	r->nadd = util_get32be(p + 4);
	r->ndel = util_get32be(p + 8);
	if (r->op < FWP_CHECK || r->op > FWP_COUNTERS) {
		*why = "unknown operation";
		return -1;
	}
	if (r->set >= FWP_NSETS || p[2] != 0 || p[3] != 0) {
		*why = "not an nfspamd set";
		return -1;
	}
	if (r->op == FWP_ADD46 && r->set != FWP_WHITE && r->set != FWP_TRAP) {
		*why = "not an IPv4 address set";
		return -1;
	}
	if (r->op == FWP_COUNTERS && r->set != 0) {
		*why = "a set named where none is read";
		return -1;
	}
	if (r->nadd > FWP_MAXELEMS || r->ndel > FWP_MAXELEMS) {
		*why = "too many elements";
		return -1;
	}
	/* Each operation carries exactly what it needs. */
	if (((r->op == FWP_CHECK || r->op == FWP_LIST || r->op == FWP_GEN ||
	    r->op == FWP_COUNTERS) && (r->nadd || r->ndel)) ||
	    ((r->op == FWP_ADD || r->op == FWP_REPLACE) && r->ndel) ||
	    (r->op == FWP_DEL && r->nadd)) {
		*why = "element counts do not fit the operation";
		return -1;
	}
	/* ADD46's second group is the twin's adds. */
	if (r->op == FWP_ADD46) {
		r->nadd6 = r->ndel;
		r->ndel = 0;
	}
	return 0;
}

int
fwp_elems_decode(const uint8_t *p, size_t len, size_t n, unsigned set,
    struct nftset_elem *out, const char **why)
{
	int family = fwp_set_family(set);
	unsigned bits = family == AF_INET ? 32 : 128;

	if (n > FWP_MAXELEMS || len != n * FWP_ELEMSIZE) {
		*why = "element data of the wrong size";
		return -1;
	}
	for (size_t i = 0; i < n; i++, p += FWP_ELEMSIZE) {
		struct nftset_elem *e = &out[i];
		struct prefix m;

		memset(e, 0, sizeof(*e));
		if ((p[0] == 4 ? AF_INET : p[0] == 6 ? AF_INET6 : -1) !=
		    family) {
			*why = "element family does not match the set";
			return -1;
		}
		e->pfx.addr.family = (uint8_t)family;
		memcpy(e->pfx.addr.bytes, p + 2, family == AF_INET ? 4 : 16);
		if (family == AF_INET && memcmp(p + 6, "\0\0\0\0\0\0\0\0\0\0"
		    "\0\0", 12) != 0) {
			*why = "IPv4 element with stray bytes";
			return -1;
		}
		e->pfx.len = p[1];
		if (e->pfx.len > bits || (!fwp_set_interval(set) &&
		    e->pfx.len != bits) || (fwp_set_interval(set) &&
		    e->pfx.len == 0)) {
			*why = "bad prefix length for the set";
			return -1;
		}
		m = e->pfx;
		prefix_mask(&m);
		if (memcmp(&m, &e->pfx, sizeof(m)) != 0) {
			*why = "host bits set";
			return -1;
		}
		for (int k = 0; k < 8; k++)
			e->timeout_ms = e->timeout_ms << 8 | p[18 + k];
		if (fwp_set_interval(set) && e->timeout_ms != 0) {
			*why = "timeout on an interval set";
			return -1;
		}
	}
	return 0;
}

int
fwp_reply_encode(int status, const char *err, const struct nftset_elem *e,
    size_t n, struct buf *b)
{
	uint8_t h[12];
	size_t el = err != NULL ? strnlen(err, FWP_ERRMAX) : 0;

	util_put32be(h, status != 0);
	util_put32be(h + 4, (uint32_t)el);
	util_put32be(h + 8, (uint32_t)n);
	if (buf_append(b, h, sizeof(h)) == -1 ||
	    buf_append(b, err != NULL ? err : "", el) == -1 ||
	    elems_append(b, e, n) == -1)
		return -1;
	return 0;
}

int
fwp_reply_hdr(const uint8_t *p, size_t len, int *status, uint32_t *errlen,
    uint32_t *n, const char **why)
{
	if (len < 12) {
		*why = "short reply";
		return -1;
	}
	*status = (int)util_get32be(p);
	*errlen = util_get32be(p + 4);
	*n = util_get32be(p + 8);
	if (*status > 1 || *errlen > FWP_ERRMAX || *n > FWP_MAXELEMS) {
		*why = "malformed reply";
		return -1;
	}
	return 0;
}

int
fwp_counters_encode(const struct fwp_counter c[FWP_NCTRS], struct buf *b)
{
	uint8_t h[12] = { 0 }, rec[FWP_CTRSIZE];
	uint32_t n = 0;

	for (unsigned i = 0; i < FWP_NCTRS; i++)
		n += c[i].found;
	util_put32be(h + 8, n);
	if (buf_append(b, h, sizeof(h)) == -1)
		return -1;
	for (unsigned i = 0; i < FWP_NCTRS; i++) {
		if (!c[i].found)
			continue;
		rec[0] = (uint8_t)i;
		for (int k = 0; k < 8; k++) {
			rec[1 + k] = (uint8_t)(c[i].packets >> (56 - 8 * k));
			rec[9 + k] = (uint8_t)(c[i].bytes >> (56 - 8 * k));
		}
		if (buf_append(b, rec, sizeof(rec)) == -1)
			return -1;
	}
	return 0;
}

int
fwp_counters_decode(const uint8_t *p, size_t len, size_t n,
    struct fwp_counter c[FWP_NCTRS], const char **why)
{
	memset(c, 0, FWP_NCTRS * sizeof(*c));
	if (n > FWP_NCTRS || len != n * FWP_CTRSIZE) {
		*why = "counter data of the wrong size";
		return -1;
	}
	for (size_t i = 0; i < n; i++, p += FWP_CTRSIZE) {
		struct fwp_counter *k;

		if (p[0] >= FWP_NCTRS) {
			*why = "not an nfspamd counter";
			return -1;
		}
		k = &c[p[0]];
		if (k->found) {
			*why = "a counter given twice";
			return -1;
		}
		k->found = true;
		for (int j = 0; j < 8; j++) {
			k->packets = k->packets << 8 | p[1 + j];
			k->bytes = k->bytes << 8 | p[9 + j];
		}
	}
	return 0;
}

/*
 * Send r and read the reply's header and error text.  0 with *n, the
 * count of what follows; 1 when the helper refused (its own words in
 * err; *n still counts what follows); -1 with err when the reply is lost
 * or malformed (the stream is out of step).
 */
static int
ask(int fd, const struct fwp_req *r, uint32_t *n, char *err, size_t errlen)
{
	struct buf b = { 0 };
	uint8_t h[12];
	char text[FWP_ERRMAX + 1];
	uint32_t elen;
	const char *why = NULL;
	int status, rc = -1;

	if (fwp_req_encode(r, &b) == -1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (util_write_full(fd, b.data, b.len) == -1 ||
	    util_read_full(fd, h, sizeof(h)) != 1) {
		snprintf(err, errlen, "nft helper gone: %s", strerror(errno));
		goto out;
	}
	if (fwp_reply_hdr(h, sizeof(h), &status, &elen, n, &why) == -1) {
		snprintf(err, errlen, "nft helper: %s", why);
		goto out;
	}
	if (util_read_full(fd, text, elen) != 1) {
		snprintf(err, errlen, "nft helper gone");
		goto out;
	}
	text[elen] = '\0';
	rc = 0;
	if (status != 0) {
		snprintf(err, errlen, "%s", text);
		rc = 1;
	}
out:
	buf_free(&b);
	return rc;
}

/*
 * Send r, read the reply; its elements (LIST) go to *list, its count to
 * *count (GEN's answer, where no elements follow).
 */
static int
call(int fd, const struct fwp_req *r, struct nftset_elem **list,
    size_t *nlist, uint32_t *count, char *err, size_t errlen)
{
	uint8_t *raw = NULL;
	uint32_t n = 0;
	const char *why = NULL;
	int status, rc = -1;

	if (list != NULL) {
		*list = NULL;
		*nlist = 0;
	}
	if ((status = ask(fd, r, &n, err, errlen)) == -1)
		goto out;
	*count = n;
	if (r->op == FWP_GEN)
		n = 0;
	if (n > 0) {
		if ((raw = malloc((size_t)n * FWP_ELEMSIZE)) == NULL ||
		    util_read_full(fd, raw, (size_t)n * FWP_ELEMSIZE) != 1) {
			snprintf(err, errlen, "nft helper: reply lost");
			goto out;
		}
		if (list != NULL) {
			if ((*list = calloc(n, sizeof(**list))) == NULL ||
			    fwp_elems_decode(raw, (size_t)n * FWP_ELEMSIZE, n,
			    r->set, *list, &why) == -1) {
				snprintf(err, errlen, "nft helper: %s",
				    why ? why : "out of memory");
				free(*list);
				*list = NULL;
				goto out;
			}
			*nlist = n;
		}
	}
	rc = status == 0 ? 0 : -1;
out:
	free(raw);
	return rc;
}

int
fwp_call(int fd, const struct fwp_req *r, struct nftset_elem **list,
    size_t *nlist, char *err, size_t errlen)
{
	uint32_t count;

	return call(fd, r, list, nlist, &count, err, errlen);
}

int
fwp_gen(int fd, bool *changed, char *err, size_t errlen)
{
	struct fwp_req r = { .op = FWP_GEN };
	uint32_t count = 1;
	int rc;

	rc = call(fd, &r, NULL, NULL, &count, err, errlen);
	*changed = rc == -1 || count != 0;
	return rc;
}

int
fwp_counters(int fd, struct fwp_counter c[FWP_NCTRS], char *err,
    size_t errlen)
{
	struct fwp_req r = { .op = FWP_COUNTERS };
	uint8_t raw[FWP_NCTRS * FWP_CTRSIZE];
	const char *why = NULL;
	uint32_t n = 0;

	memset(c, 0, FWP_NCTRS * sizeof(*c));
	if (ask(fd, &r, &n, err, errlen) != 0)
		return -1;	/* a refusal carries no records */
	if (n > FWP_NCTRS) {
		snprintf(err, errlen, "nft helper: %u counters, more than "
		    "there are", (unsigned)n);
		return -1;
	}
	if (util_read_full(fd, raw, (size_t)n * FWP_CTRSIZE) != 1) {
		snprintf(err, errlen, "nft helper: reply lost");
		return -1;
	}
	if (fwp_counters_decode(raw, (size_t)n * FWP_CTRSIZE, n, c,
	    &why) == -1) {
		snprintf(err, errlen, "nft helper: %s", why);
		return -1;
	}
	return 0;
}
