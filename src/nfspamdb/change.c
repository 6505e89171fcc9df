/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * change: nfspamdb -a and -d, every key in one transaction.  See
 * nfspamdb.h.
 */

#include "config.h"

#include <stdio.h>

#include "grey.h"
#include "greylist.h"
#include "nfspamdb.h"
#include "store.h"

static int	add_one(struct nfspamdb *, struct store_txn *,
		    const struct grey_conf *, struct item *);
static int	del_one(struct nfspamdb *, struct store_txn *, struct item *);

/*
 * A WHITE entry is for a network as nfspamd keys it (-N, recorded in
 * the database): an address given is keyed by its network, a network
 * must have that length.  0, or -1 with it->why set.
 */
static int
white_key(const struct grey_conf *nets, struct item *it, char *buf,
    size_t len, const char **key, size_t *keylen)
{
	struct prefix p;

	grey_net(nets, &it->addr, &p);
	if (it->plen == addr_bits(&it->addr)) {
		*keylen = grey_net_key(nets, &it->addr, buf, len);
		*key = buf;
		return 0;
	}
	if (it->plen != p.len) {
		it->res = R_ERROR;
		snprintf(it->why, sizeof(it->why), "a /%u network, but "
		    "nfspamd whitelists /%u networks (its -N)", it->plen,
		    p.len);
		return -1;
	}
	*key = it->key;
	*keylen = it->keylen;
	return 0;
}

/* -1 when the transaction cannot go on. */
static int
add_one(struct nfspamdb *db, struct store_txn *txn,
    const struct grey_conf *nets, struct item *it)
{
	struct store_rec	 old, rec;
	enum store_type		 have;
	char			 buf[ADDR_STRLEN];
	const char		*key = it->key;
	size_t			 keylen = it->keylen;
	int			 r;

	if (it->kind != K_MAIL && db->type == STORE_WHITE &&
	    white_key(nets, it, buf, sizeof(buf), &key, &keylen) == -1)
		return 0;
	if (it->kind == K_MAIL)
		r = store_get(txn, STORE_SPAMTRAP, it->key, it->keylen, &old);
	else
		r = store_get_addr(txn, key, keylen, &have, &old);
	if (r == -1) {
		/* a bogus entry: leave it for -d, spamdb refuses it too */
		item_error(it, txn);
		return 0;
	}
	if (grey_dbadd(db->type, r == 0 ? &old : NULL, db->now, &rec) == -1) {
		it->res = R_ERROR;
		snprintf(it->why, sizeof(it->why), "cannot add %s entries",
		    store_type_name(db->type));
		return 0;
	}
	if (it->kind == K_MAIL)
		r = store_put(txn, STORE_SPAMTRAP, it->key, it->keylen, &rec);
	else
		r = store_put_addr(txn, key, keylen, db->type, &rec);
	if (r == -1)
		return -1;
	it->res = R_OK;
	return 0;
}

/* May run more than once (the map grows): results are set afresh. */
int
add_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	struct grey_conf nets;
	size_t		 i;

	grey_conf_default(&nets);
	if (greylist_nets_load(txn, &nets) == -1)
		return txn_failed(db, txn);
	for (i = 0; i < db->nitems; i++) {
		if (db->items[i].kind == K_BAD)
			continue;
		if (add_one(db, txn, &nets, &db->items[i]) == -1)
			return txn_failed(db, txn);
	}
	return 0;
}

/* -1 when the transaction cannot go on. */
static int
del_one(struct nfspamdb *db, struct store_txn *txn, struct item *it)
{
	struct cand	c[MAXCAND];
	size_t		i, n;
	int		r = 1;

	n = candidates(db, it, c);
	for (i = 0; i < n && r == 1; i++)
		r = store_del(txn, c[i].type, c[i].key, c[i].keylen);
	if (r == -1)
		return -1;
	it->res = r == 0 ? R_OK : R_NOTFOUND;
	return 0;
}

int
del_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	size_t		 i;

	for (i = 0; i < db->nitems; i++) {
		if (db->items[i].kind == K_BAD)
			continue;
		if (del_one(db, txn, &db->items[i]) == -1)
			return txn_failed(db, txn);
	}
	return 0;
}

/* store_scan forbids changes during the walk: collect, then delete. */
int
delgrey_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	struct match	*m;
	size_t		 i;
	int		 r;

	for (i = 0; i < db->nitems; i++)
		db->items[i].ndel = 0;
	if (collect_tuples(db, txn) != 0)
		return TXN_FAILED;
	for (i = 0; i < db->nmatch; i++) {
		m = &db->match[i];
		r = store_del(txn, STORE_GREY, m->key, m->keylen);
		if (r == -1)
			return txn_failed(db, txn);
		if (r == 0)
			db->items[m->item].ndel++;
	}
	for (i = 0; i < db->nitems; i++)
		if (db->items[i].kind == K_GREYIP)
			db->items[i].res = db->items[i].ndel > 0 ?
			    R_OK : R_NOTFOUND;
	return 0;
}
