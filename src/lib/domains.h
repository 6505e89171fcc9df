/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * domains: the alloweddomains file, one domain suffix per line; blank
 * lines and '#' comments are skipped, surrounding blanks trimmed.
 */
#ifndef NFS_DOMAINS_H
#define NFS_DOMAINS_H

#include <stddef.h>

#define DOMAINS_LINEMAX	255	/* longer lines are an error */
#define DOMAINS_MAX	100000	/* more entries are an error */

struct domains {
	char	**names;	/* lower-cased */
	size_t	  n;
};

/* -1 with "path:line: reason" in err; *d untouched on error. */
int	domains_load(const char *path, struct domains *d, char *err,
	    size_t errlen);
/* The same from a buffer (name is used in errors). */
int	domains_parse(const char *name, const char *text, size_t len,
	    struct domains *d, char *err, size_t errlen);
void	domains_free(struct domains *);

#endif
