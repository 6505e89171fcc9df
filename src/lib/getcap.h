/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * getcap: the record layer of spamd.conf, for spamdconf.c, in getcap(3)
 * form (see spamdconf.h for the syntax).  It cuts a text into records
 * and records into fields, finds capabilities as cgetcap(3) does and
 * decodes values as cgetstr(3) does; what the records mean is
 * spamdconf.c's.  Pure: it reads no file.
 *
 * Fields are split at ':' outside double quotes (spamd-setup's
 * fix_quoted_colons).  A backslash always takes the next character with
 * it, so "\:" is a colon in the value and "\"" does not toggle the
 * quote; getcap would end the value at "\:".
 */
#ifndef NFS_GETCAP_H
#define NFS_GETCAP_H

#include <stdbool.h>
#include <stddef.h>

/* One record, continuation lines joined. */
struct getcap_rec {
	char	*text;		/* joined, NUL-terminated */
	size_t	 len;
	size_t	 line;		/* first physical line */
	size_t	*cont;		/* offsets where continuation lines start */
	size_t	 ncont;
	size_t	 namelen;	/* the "name|alias" field */
	bool	 checked;	/* the caller's: capabilities warned about */
};

struct getcap_recs {
	struct getcap_rec	*v;
	size_t			 n;
	size_t			 cap;
};

/* A field of a record: p points into the record's text, at off. */
struct getcap_field {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

struct getcap_fields {
	struct getcap_field	*v;
	size_t			 n;
	size_t			 cap;
};

/*
 * Cut text[0..len) into records: comment and blank lines are dropped,
 * continuation lines joined (backslash and newline removed, leading
 * blanks of the next line skipped), a CR before a line's LF dropped
 * with it.  The offset where each continuation line starts is kept so
 * that getcap_line can name the physical line of a field.  A NUL byte
 * and a record over SDC_RECMAX bytes are errors.  name labels errors
 * ("spamd.conf:3: NUL byte").  Returns 0 (free *rs with getcap_free),
 * or -1 with err set and *rs empty.
 */
int	getcap_read(const char *name, const char *text, size_t len,
	    struct getcap_recs *rs, char *err, size_t errlen);
void	getcap_free(struct getcap_recs *rs);

/* The first record with nm (len bytes) among its '|' names, or NULL. */
struct getcap_rec *getcap_find(const struct getcap_recs *rs, const char *nm,
	    size_t len);

/*
 * The fields of r, its name field first.  Returns 0, or -1 when memory
 * runs out.  Either way the caller frees fs->v.
 */
int	getcap_split(const struct getcap_rec *r, struct getcap_fields *fs);

/*
 * cgetcap: the field holding cap, type ':' (boolean) or '=' (string),
 * or NULL when there is none or "cap@" comes first.
 */
const struct getcap_field *getcap_cap(const struct getcap_fields *fs,
	    const char *cap, int type);

/* The physical line of the byte at off in r's joined text. */
size_t	getcap_line(const struct getcap_rec *r, size_t off);

/* True when p[0..len) holds only blanks and tabs, or nothing. */
bool	getcap_blank(const char *p, size_t len);

/*
 * cgetstr escapes on p[0..len), at most SDC_VALMAX bytes.  An escape
 * giving a NUL byte and a trailing lone '\' or '^' are errors rather
 * than silent truncation.  Returns a new string (its length in *olen),
 * or NULL with *why set, or with ENOMEM in errno and *why NULL.
 */
char	*getcap_decode(const char *p, size_t len, size_t *olen,
	    const char **why);

#endif /* NFS_GETCAP_H */
