/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * bl: blacklists as spamd's config socket receives them, and the lookup
 * that tells which lists hold a client address.
 *
 * A list arrives as one line, "tag;\"message\";inet;N;a.b.c.d/m;...;
 * inet6;M;x::/m;...", or "tag;" to clear it.  Lists are kept in the order
 * they were first set; a list set again keeps its place.  Lookup cost
 * grows with log(number of prefixes), not linearly: prefixes of all lists
 * are swept into disjoint address ranges, each naming the lists that
 * cover it.
 */
#ifndef NFS_BL_H
#define NFS_BL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "buf.h"

#define BL_TAGMAX	128
#define BL_MSGMAX	4096
#define BL_GREYTRAP	"spamd-greytrap"
#define BL_GREYTRAP_MSG	"Your address %A has mailed to spamtraps here\\n"

struct bl_list {
	char		*tag;
	char		*msg;	/* as received: escapes not expanded */
	struct prefix	*pfx;	/* masked; IPv4 and IPv6 mixed */
	size_t		 npfx;	/* 0: the line cleared the list */
};

/*
 * Parse one control line (no trailing newline; a trailing '\r' or '\n'
 * is tolerated).  Errors name what was wrong and where, e.g.
 * "list nixspam: inet6 count 3 but 2 addresses".  Prefix length 0 is
 * refused ("would blacklist the entire net").  Host bits are masked.
 */
int	bl_parse(const char *line, size_t len, struct bl_list *,
	    char *err, size_t errlen);
/* The control line for a list (inverse of bl_parse), with no newline. */
int	bl_format(const struct bl_list *, struct buf *);
void	bl_list_free(struct bl_list *);

struct bl;

struct bl	*bl_new(void);
void		 bl_free(struct bl *);

/*
 * Set a list, replacing one with the same tag (its contents move into
 * the set; the caller's struct is left empty).  A list with no prefixes
 * clears that tag.  Call bl_build before the next lookup.
 */
int		 bl_set(struct bl *, struct bl_list *);
/* Remove every list whose tag is not in tags[] (nfspamd-setup's sweep). */
void		 bl_retain(struct bl *, const char *const *tags, size_t ntags);
/* (Re)build the lookup index; -1 when memory runs out. */
int		 bl_build(struct bl *);

size_t		 bl_count(const struct bl *);		/* lists held */
size_t		 bl_prefixes(const struct bl *);	/* all prefixes */
const struct bl_list *bl_get(const struct bl *, size_t i);

/*
 * The lists that hold addr, in list order: up to max indexes into ids,
 * returns how many match in all.
 */
size_t		 bl_lookup(const struct bl *, const struct addr *,
		    uint32_t *ids, size_t max);

/*
 * Append one message as reply lines: escapes expanded (\" \n \\ %% and
 * %A for the address), every line prefixed "<code>-" except the very
 * last reply line of the whole reply, which gets "<code> ".  last says
 * whether this message ends the reply.  CRLF line ends.
 */
int		 bl_reply_msg(const char *msg, const struct addr *, int code,
		    bool last, struct buf *out);
/*
 * Another message will follow the reply in out: its final line
 * ("450 ...") becomes a continuation ("450-...").  Nothing else changes.
 */
void		 bl_reply_more(struct buf *out);
/* All matching lists' messages, in order, as one reply. */
int		 bl_reply(const struct bl *, const uint32_t *ids, size_t n,
		    const struct addr *, int code, struct buf *out);

/* Save every list as control lines (atomic: temp file + rename). */
int		 bl_save(const struct bl *, const char *path, char *err,
		    size_t errlen);
/* Load a saved file into an empty set and build it.  Missing file: 0. */
int		 bl_load(struct bl *, const char *path, char *err,
		    size_t errlen);

#endif
