/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * list: nfspamdb with no -a or -d: every entry, or the entries of the
 * keys given, each address's GREY tuples after its own entry.  Also
 * where -d looks for a key (candidates) and the walk that finds an
 * address's GREY tuples (collect_tuples).  See nfspamdb.h.
 */

#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "nfspamdb.h"
#include "store.h"

#define ARRAYLEN(a)	(sizeof(a) / sizeof((a)[0]))

static int	list_entry(void *, enum store_type, const char *, size_t,
		    const struct store_rec *);
static void	find_one(struct nfspamdb *, struct store_txn *, struct item *);
static void	show_tuples(struct nfspamdb *, struct item *);
static int	grey_match(void *, enum store_type, const char *, size_t,
		    const struct store_rec *);

static int
list_entry(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct nfspamdb	*db = arg;
	char		 q[SHOWLEN];

	if (rec == NULL || print_entry(db, type, key, keylen, rec) == -1) {
		warnx("bogus %s entry: %s", store_type_name(type),
		    log_quote(q, sizeof(q), key, keylen));
		db->bogus = 1;
	}
	return 0;
}

int
list_txn(struct store_txn *txn, void *arg)
{
	static const enum store_type order[] = {
		STORE_WHITE, STORE_GREY, STORE_TRAPPED, STORE_SPAMTRAP
	};
	struct nfspamdb	*db = arg;
	size_t		 i;

	db->txn = txn;
	for (i = 0; i < ARRAYLEN(order); i++)
		if (store_scan(txn, order[i], list_entry, db) != 0)
			return txn_failed(db, txn);
	return 0;
}

/*
 * Where listing and -d look for an item: the key as -a would store it,
 * then, if that differs, the key as given (entries written by older or
 * foreign tools).  -t narrows the search to TRAPPED.
 */
size_t
candidates(struct nfspamdb *db, struct item *it, struct cand *c)
{
	static const enum store_type addrtypes[] = {
		STORE_WHITE, STORE_TRAPPED
	};
	static const enum store_type mailtypes[] = { STORE_SPAMTRAP };
	static const enum store_type traptypes[] = { STORE_TRAPPED };
	static const enum store_type rawtypes[] = {
		STORE_WHITE, STORE_TRAPPED, STORE_GREY, STORE_SPAMTRAP
	};
	const enum store_type	*types;
	const char		*keys[3];
	size_t			 lens[3], ntypes, nkeys = 1, i, j, n = 0;

	if (db->type == STORE_TRAPPED) {
		types = traptypes;
		ntypes = ARRAYLEN(traptypes);
	} else if (it->kind == K_ADDR) {
		types = addrtypes;
		ntypes = ARRAYLEN(addrtypes);
	} else if (it->kind == K_MAIL) {
		types = mailtypes;
		ntypes = ARRAYLEN(mailtypes);
	} else {
		types = rawtypes;
		ntypes = ARRAYLEN(rawtypes);
	}
	keys[0] = it->key;
	lens[0] = it->keylen;
	if (strcmp(it->arg, it->key) != 0) {
		keys[nkeys] = it->arg;
		lens[nkeys++] = strlen(it->arg);
	}
	/* An address's WHITE entry may be its network's (-N). */
	if (it->kind == K_ADDR && it->plen == addr_bits(&it->addr) &&
	    db->type != STORE_TRAPPED && grey_net_key(&db->nets, &it->addr,
	    it->net, sizeof(it->net)) > 0 && strcmp(it->net, it->key) != 0) {
		keys[nkeys] = it->net;
		lens[nkeys++] = strlen(it->net);
	}
	for (i = 0; i < nkeys; i++)
		for (j = 0; j < ntypes && n < MAXCAND; j++) {
			c[n].type = types[j];
			c[n].key = keys[i];
			c[n++].keylen = lens[i];
		}
	return n;
}

/* Lists one key.  A store_view is never run twice: print as we go. */
static void
find_one(struct nfspamdb *db, struct store_txn *txn, struct item *it)
{
	struct cand		 c[MAXCAND];
	struct store_rec	 rec;
	char			 q[SHOWLEN];
	size_t			 i, n;
	int			 r = 1;

	n = candidates(db, it, c);
	for (i = 0; i < n && r == 1; i++)
		r = store_get(txn, c[i].type, c[i].key, c[i].keylen, &rec);
	if (r == -1)
		item_error(it, txn);
	else if (r == 1)
		it->res = R_NOTFOUND;
	else if (print_entry(db, c[i - 1].type, c[i - 1].key,
	    c[i - 1].keylen, &rec) == -1) {
		it->res = R_ERROR;
		snprintf(it->why, sizeof(it->why), "bogus GREY entry: %s",
		    show(q, sizeof(q), it->arg));
	} else
		it->res = R_OK;
}

/* An address's GREY tuples follow its entry; any of them makes it found. */
static void
show_tuples(struct nfspamdb *db, struct item *it)
{
	struct match	*m;
	char		 q[SHOWLEN];
	size_t		 i;

	if (!WANTS_TUPLES(db, it))
		return;
	for (i = 0; i < db->nmatch; i++) {
		m = &db->match[i];
		if (!item_covers(it, &m->pfx))
			continue;
		if (m->bogus) {
			it->res = R_ERROR;
			snprintf(it->why, sizeof(it->why), "bogus GREY entry: "
			    "%s", log_quote(q, sizeof(q), m->key, m->keylen));
			continue;
		}
		/* the key splits: grey_match kept only such keys */
		print_entry(db, STORE_GREY, m->key, m->keylen, &m->rec);
		if (it->res == R_NOTFOUND)
			it->res = R_OK;
	}
}

int
find_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	size_t		 i;
	bool		 tuples = false;

	db->txn = txn;
	for (i = 0; i < db->nitems; i++)
		tuples = tuples || WANTS_TUPLES(db, &db->items[i]);
	if (tuples && collect_tuples(db, txn) != 0)
		return TXN_FAILED;
	for (i = 0; i < db->nitems; i++) {
		if (db->items[i].kind == K_BAD)
			continue;
		find_one(db, txn, &db->items[i]);
		show_tuples(db, &db->items[i]);
	}
	return 0;
}

void
clear_matches(struct nfspamdb *db)
{
	size_t	i;

	for (i = 0; i < db->nmatch; i++)
		free(db->match[i].key);
	db->nmatch = 0;
}

/*
 * Collects the tuples of the addresses asked for (WANTS_TUPLES); stops
 * only when out of memory.
 */
static int
grey_match(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct nfspamdb		*db = arg;
	struct store_tuple	 t;
	struct match		*m;
	struct prefix		 a;
	const char		*why;
	char			 ip[STORE_KEYMAX + 1];
	size_t			 i;

	(void)type;
	if (store_tuple_split(key, keylen, &t) == -1 || t.iplen >= sizeof(ip))
		return 0;
	memcpy(ip, t.ip, t.iplen);
	ip[t.iplen] = '\0';
	/* compare addresses, not text: older keys may not be canonical */
	if (prefix_parse(ip, &a, false, &why) == -1)
		return 0;
	for (i = 0; i < db->nitems; i++)
		if (WANTS_TUPLES(db, &db->items[i]) &&
		    item_covers(&db->items[i], &a))
			break;
	if (i == db->nitems)
		return 0;

	if (db->nmatch == db->matchcap) {
		size_t	 cap = db->matchcap ? db->matchcap * 2 : 16;

		if ((m = reallocarray(db->match, cap, sizeof(*m))) == NULL)
			return 1;
		db->match = m;
		db->matchcap = cap;
	}
	m = &db->match[db->nmatch];
	if ((m->key = malloc(keylen)) == NULL)
		return 1;
	memcpy(m->key, key, keylen);
	m->keylen = keylen;
	m->pfx = a;
	m->bogus = rec == NULL;
	if (rec != NULL)
		m->rec = *rec;
	m->item = i;
	db->nmatch++;
	return 0;
}

/* One walk of the GREY tuples for every address asked for. */
int
collect_tuples(struct nfspamdb *db, struct store_txn *txn)
{
	int	r;

	clear_matches(db);
	if ((r = store_scan(txn, STORE_GREY, grey_match, db)) == -1)
		return txn_failed(db, txn);
	if (r != 0) {
		snprintf(db->txnerr, sizeof(db->txnerr), "%s: %s",
		    store_dir(db->store), strerror(ENOMEM));
		return TXN_FAILED;
	}
	return 0;
}
