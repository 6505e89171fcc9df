/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * import: nfspamdb --import, a spamdb(8) or greydb(8) listing loaded into
 * the database in one transaction.  The lines are checked before the
 * database is opened, so a bad file never creates or changes one.
 */
#ifndef NFS_IMPORT_H
#define NFS_IMPORT_H

#include "store.h"

struct import;

/* Opens path ("-": standard input).  NULL after a message. */
struct import	*import_open(const char *path);
/* Reads every line, reporting the bad ones.  0: all good; -1 otherwise. */
int		 import_check(struct import *);
/* Sets every entry in one transaction, then reports what it did.  0 or -1. */
int		 import_store(struct import *, struct store *);
void		 import_close(struct import *);

#endif
