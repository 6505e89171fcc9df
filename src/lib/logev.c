/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * logev: logged packets to addresses, and bursts merged.  See logev.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "logev.h"

static const char *const kind_names[LOGEV_NKINDS] = {
	[LOGEV_IN] = "in",
	[LOGEV_OUT] = "out",
	[LOGEV_NOPREFIX] = "prefix",
	[LOGEV_BADPACKET] = "packet",
	[LOGEV_BADADDR] = "address",
	[LOGEV_INONLY] = "inbound-only",
};

const char *
logev_kind_name(enum logev_kind k)
{
	return (unsigned)k < LOGEV_NKINDS ? kind_names[k] : "?";
}

/* Never worth a whitelist entry: nobody sends mail from these. */
static bool
usable4(const uint8_t *a)
{
	if (a[0] == 0 || a[0] == 127 || a[0] >= 224)
		return false;	/* this network, loopback, multicast and up */
	return true;
}

static bool
usable6(const uint8_t *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	bool zero = true;

	for (int i = 0; i < 15; i++)
		zero = zero && a[i] == 0;
	if (zero && (a[15] == 0 || a[15] == 1))
		return false;	/* :: and ::1 */
	if (a[0] == 0xff)
		return false;	/* multicast */
	/* A mapped address on the wire is forged: the key would be IPv4. */
	return memcmp(a, mapped, sizeof(mapped)) != 0;
}

enum logev_kind
logev_parse(const char *prefix, const uint8_t *p, size_t len, int family,
    bool inbound_only, struct addr *out)
{
	enum logev_kind dir;
	unsigned version;

	if (prefix == NULL)
		return LOGEV_NOPREFIX;
	if (strcmp(prefix, LOGEV_PREFIX_IN) == 0)
		dir = LOGEV_IN;
	else if (strcmp(prefix, LOGEV_PREFIX_OUT) == 0)
		dir = LOGEV_OUT;
	else
		return LOGEV_NOPREFIX;
	if (p == NULL || len < 1)
		return LOGEV_BADPACKET;
	version = p[0] >> 4;
	memset(out, 0, sizeof(*out));
	if (version == 4) {
		/* An IHL under 5 is no IPv4 header. */
		if (len < 20 || (p[0] & 0x0f) < 5 ||
		    (family != 0 && family != AF_INET))
			return LOGEV_BADPACKET;
		out->family = AF_INET;
		memcpy(out->bytes, p + (dir == LOGEV_IN ? 12 : 16), 4);
		if (!usable4(out->bytes))
			return LOGEV_BADADDR;
	} else if (version == 6) {
		if (len < 40 || (family != 0 && family != AF_INET6))
			return LOGEV_BADPACKET;
		out->family = AF_INET6;
		memcpy(out->bytes, p + (dir == LOGEV_IN ? 8 : 24), 16);
		if (!usable6(out->bytes))
			return LOGEV_BADADDR;
	} else
		return LOGEV_BADPACKET;
	if (dir == LOGEV_OUT && inbound_only)
		return LOGEV_INONLY;
	return dir;
}

const struct osf_fp *
logev_os(const struct osf_db *db, enum logev_kind k, const uint8_t *p,
    size_t len)
{
	struct osf_syn syn;
	char err[128];

	if (k != LOGEV_IN || db == NULL || db->n == 0 || p == NULL)
		return NULL;
	if (osf_syn_parse(p, len, &syn, err, sizeof(err)) == -1)
		return NULL;
	return osf_match(db, &syn);
}

/* --- bursts --- */

/* FNV-1a over what identifies the address. */
static uint32_t
hash(const struct addr *a)
{
	size_t n = a->family == AF_INET ? 4 : 16;
	uint32_t h = 2166136261u ^ a->family;

	for (size_t i = 0; i < n; i++) {
		h ^= a->bytes[i];
		h *= 16777619u;
	}
	return h;
}

int
logev_burst_init(struct logev_burst *b, size_t cap)
{
	size_t nslot = 1;

	memset(b, 0, sizeof(*b));
	if (cap == 0 || cap > (1u << 24))
		return -1;
	while (nslot < 2 * cap)
		nslot <<= 1;
	if ((b->ent = calloc(cap, sizeof(*b->ent))) == NULL ||
	    (b->slot = calloc(nslot, sizeof(*b->slot))) == NULL) {
		logev_burst_free(b);
		return -1;
	}
	b->cap = cap;
	b->nslot = nslot;
	return 0;
}

void
logev_burst_free(struct logev_burst *b)
{
	free(b->ent);
	free(b->slot);
	memset(b, 0, sizeof(*b));
}

void
logev_burst_reset(struct logev_burst *b)
{
	/* Clearing only the used slots keeps a small burst cheap. */
	for (size_t i = 0; i < b->n; i++)
		b->slot[b->ent[i].slot] = 0;
	b->n = 0;
}

int
logev_burst_add(struct logev_burst *b, const struct addr *a,
    enum logev_kind dir, const struct osf_fp *os)
{
	uint8_t bit = (uint8_t)(1u << (dir & 7));
	size_t s = hash(a) & (b->nslot - 1);

	for (; b->slot[s] != 0; s = (s + 1) & (b->nslot - 1)) {
		struct logev_ent *e = &b->ent[b->slot[s] - 1];

		if (addr_eq(&e->addr, a)) {
			if (e->count < UINT32_MAX)
				e->count++;
			e->dirs |= bit;
			if (os != NULL)
				e->os = os;
			return 0;
		}
	}
	if (b->n == b->cap)
		return -1;
	b->ent[b->n].addr = *a;
	b->ent[b->n].count = 1;
	b->ent[b->n].dirs = bit;
	b->ent[b->n].slot = (uint32_t)s;
	b->ent[b->n].os = os;
	b->slot[s] = (uint32_t)++b->n;
	return 1;
}
