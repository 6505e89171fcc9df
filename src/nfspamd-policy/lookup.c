/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * lookup: nfspamd's database, read-only, for the "os" entries.
 *
 * Opened when first needed and whenever it is not open: nfspamd may not
 * have made it yet, and until it has every answer is DUNNO (said once
 * in the log, and once more when it opens).  Opened afresh every
 * PD_REOPEN_MS: a database made again under us (removed, restored from
 * a backup) is the new one within minutes, and one opened before
 * nfspamd added its "os" database gets it.  A read that fails closes it
 * too.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "owner.h"
#include "policyd.h"
#include "store.h"

struct get {
	const char	*key;
	char		*os;
	size_t		 oslen;
	int		 found;		/* store_os_get's 0 or 1 */
};

void
lookup_open(struct pd *pd)
{
	struct lookup *lk = &pd->lk;
	struct store_opts o = { .readonly = true, .shared = lk->shared,
	    .passfile = lk->passfile };
	char err[PD_ERRLEN];

	if (lk->store != NULL && pd_now_ms() - lk->opened_ms >= PD_REOPEN_MS)
		lookup_close(pd);
	if (lk->store != NULL)
		return;
	/*
	 * Root becomes the directory's owner first, as nfspamdb does: a
	 * lock file made by root would lock nfspamd out.
	 */
	if ((lk->shared == NULL && owner_adopt(lk->dir, NULL, err,
	    sizeof(err)) == -1) ||
	    store_open(&lk->store, lk->dir, &o, err, sizeof(err)) == -1) {
		lk->store = NULL;
		if (!lk->failing || strcmp(err, lk->lasterr) != 0)
			log_warnx(&pd->log, "database: %s; answering DUNNO "
			    "until it can be read", err);
		lk->failing = true;
		memcpy(lk->lasterr, err, sizeof(lk->lasterr));
		return;
	}
	lk->opened_ms = pd_now_ms();
	/* A shared store's open does not reach the server: a read will. */
	if (lk->shared != NULL)
		return;
	if (lk->failing)
		log_info(&pd->log, "database: %s: open",
		    store_dir(lk->store));
	lk->failing = false;
	lk->lasterr[0] = '\0';
}

void
lookup_close(struct pd *pd)
{
	if (pd->lk.store != NULL)
		store_close(pd->lk.store);
	pd->lk.store = NULL;
}

static int
get_body(struct store_txn *txn, void *arg)
{
	struct get *g = arg;

	g->found = store_os_get(txn, g->key, strlen(g->key), NULL, g->os,
	    g->oslen);
	return g->found == -1 ? -1 : 0;
}

int
lookup_os(struct pd *pd, const char *key, char *os, size_t oslen)
{
	struct get g = { key, os, oslen, 1 };
	char err[PD_ERRLEN];

	if (oslen > 0)
		os[0] = '\0';
	lookup_open(pd);
	if (pd->lk.store == NULL)
		return 1;
	err[0] = '\0';
	if (store_view(pd->lk.store, get_body, &g, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "read failed");
		/* A shared store that is down fails each read alike. */
		if (!pd->lk.failing || strcmp(err, pd->lk.lasterr) != 0)
			log_warnx(&pd->log, "database: %s; answering DUNNO "
			    "until it can be read", err);
		pd->lk.failing = true;
		snprintf(pd->lk.lasterr, sizeof(pd->lk.lasterr), "%s", err);
		lookup_close(pd);
		return 1;
	}
	if (pd->lk.failing && pd->lk.shared != NULL)
		log_info(&pd->log, "database: %s: read again",
		    store_dir(pd->lk.store));
	pd->lk.failing = false;
	pd->lk.lasterr[0] = '\0';
	return g.found == 0 && oslen > 0 && os[0] != '\0' ? 0 : 1;
}
