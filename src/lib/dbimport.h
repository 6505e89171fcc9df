/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * dbimport: one line of a spamdb(8) or greydb(8) listing, turned into the
 * database entry it describes.  Pure: a line in, an entry or an error
 * text out; no I/O, no database.
 *
 * The lines, as both programs print them (times in seconds since the
 * epoch):
 *
 *	WHITE|ip|||first|pass|expire|bcount|pcount
 *	GREY|ip|helo|from|to|first|pass|expire|bcount|pcount
 *	GREY|ip|from|to|first|pass|expire|bcount|pcount	(spamdb before
 *		tuples held the HELO name)
 *	TRAPPED|ip|expire
 *	SPAMTRAP|address
 *	DOMAIN|domain		(greydb only: a permitted domain)
 *
 * Blank lines and lines whose first non-blank is '#' are skipped.
 */
#ifndef NFS_DBIMPORT_H
#define NFS_DBIMPORT_H

#include <stddef.h>

#include "record.h"

#define DBIMPORT_LINEMAX	4096	/* longer lines are an error */
#define DBIMPORT_DOMAINMAX	255	/* as in the alloweddomains file */

enum dbimport_kind {
	DBIMPORT_NONE,		/* blank or comment */
	DBIMPORT_ENTRY,		/* type, key, keylen and rec are set */
	DBIMPORT_DOMAIN,	/* key and keylen hold the domain */
};

struct dbimport_line {
	enum dbimport_kind	 kind;
	enum store_type		 type;
	char			 key[STORE_KEYMAX + 1];	/* NUL-terminated */
	size_t			 keylen;
	struct store_rec	 rec;
};

/*
 * Parses len bytes of one line, without its '\n' (a trailing '\r' is
 * dropped).  Keys come out as the store keeps them: addresses canonical
 * (WHITE and GREY may name a network "addr/len", as nfspamd -N keys them),
 * spam trap addresses lower-cased, tuples as "ip\nhelo\nfrom\nto".  What
 * a line does not hold is 0 (TRAPPED: first, pass, bcount; SPAMTRAP:
 * all but pcount).
 * 0: *out is set.  -1: err holds "what is wrong: \"value\"".
 */
int	dbimport_parse(const char *line, size_t len, struct dbimport_line *out,
	    char *err, size_t errlen);

#endif
