/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * cidr: spamd-setup list lines to address ranges, and collapsing black
 * minus white ranges into a minimal sorted list of aligned prefixes.
 *
 * Ranges are inclusive [lo, hi] and kept per family: IPv4 as uint32_t,
 * IPv6 as unsigned __int128, so the top of either space needs no special
 * sentinel.  Nothing here has globals; errors are return values.
 */
#ifndef NFS_CIDR_H
#define NFS_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

typedef unsigned __int128	cidr_u128;

struct cidr_r4 {
	uint32_t	lo, hi;
};

struct cidr_r6 {
	cidr_u128	lo, hi;
};

/* Growable arrays; zero-filled (cidr_list_init) is empty. */
struct cidr_list {
	struct cidr_r4	*v4;
	size_t		 n4, cap4;
	struct cidr_r6	*v6;
	size_t		 n6, cap6;
};

/* One black list and the white lists that follow it in `all'. */
struct cidr_acc {
	struct cidr_list	black;
	struct cidr_list	white;
};

#define CIDR_REPORT_KEEP	10	/* reasons kept for bad lines */
#define CIDR_REPORT_TEXT	200	/* bytes per kept reason, with NUL */

/*
 * What cidr_parse saw.  Counters add up over calls, so one report can
 * cover several inputs; reasons[] keeps the first CIDR_REPORT_KEEP bad
 * lines as `name:line: reason "text"'.
 */
struct cidr_report {
	size_t	lines;		/* lines read, blank and comment included */
	size_t	ranges;		/* ranges added */
	size_t	bad;		/* lines refused */
	size_t	nkept;
	char	kept[CIDR_REPORT_KEEP][CIDR_REPORT_TEXT];
};

void	cidr_list_init(struct cidr_list *);
void	cidr_list_free(struct cidr_list *);
/* Forget the ranges, keep the memory. */
void	cidr_list_clear(struct cidr_list *);
/* Append a range; -1 (errno ENOMEM or EINVAL if lo > hi) on failure. */
int	cidr_add4(struct cidr_list *, uint32_t lo, uint32_t hi);
int	cidr_add6(struct cidr_list *, cidr_u128 lo, cidr_u128 hi);
/* Append [lo, hi] given as addresses of one family. */
int	cidr_add_range(struct cidr_list *, const struct addr *lo,
	    const struct addr *hi);
int	cidr_add_prefix(struct cidr_list *, const struct prefix *);

/*
 * Parse one list line (len bytes, no newline needed; a NUL is just a
 * character that cannot be part of an address).  Returns 1 and sets *lo, *hi (same family, lo <= hi) for a
 * range, 0 for a blank or comment line, -1 with *why for a bad line.
 */
int	cidr_parse_line(const char *line, size_t len, struct addr *lo,
	    struct addr *hi, const char **why);

/*
 * Parse a buffer of list lines into the list.  Bad lines are counted in
 * the report (which may be NULL), not fatal.  name labels the reasons.
 * Returns 0, or -1 with errno ENOMEM (ranges added so far are kept).
 */
int	cidr_parse(const char *name, const char *text, size_t len,
	    struct cidr_list *, struct cidr_report *);

/*
 * The minimal list of aligned prefixes covering exactly black minus
 * white, IPv4 first, each family in ascending order.  white may be NULL.
 * *out is malloc'd (NULL when *n is 0) and the caller frees it.
 * Returns 0, or -1 with errno ENOMEM.
 */
int	cidr_collapse(const struct cidr_list *black,
	    const struct cidr_list *white, struct prefix **out, size_t *n);

void	cidr_acc_init(struct cidr_acc *);
void	cidr_acc_free(struct cidr_acc *);
int	cidr_acc_collapse(const struct cidr_acc *, struct prefix **out,
	    size_t *n);

/* Conversions between struct addr and the integer forms. */
uint32_t	cidr_addr_to4(const struct addr *);
cidr_u128	cidr_addr_to6(const struct addr *);
void		cidr_addr_from4(struct addr *, uint32_t);
void		cidr_addr_from6(struct addr *, cidr_u128);

#endif
