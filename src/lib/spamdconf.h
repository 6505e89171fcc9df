/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * spamdconf: OpenBSD spamd.conf(5) files, read unchanged.
 *
 * The file is in getcap(3) form: records "name|alias:cap:cap=value:...",
 * continued by a trailing backslash (leading blanks of the next line are
 * skipped), '#' comment lines and blank lines between records.  As in
 * spamd-setup, a ':' inside a double-quoted value is part of the value.
 * The mandatory record "all" names the lists in processing order; a name
 * may repeat (spamd's way to subtract one white list from several black
 * lists), and each occurrence gives its own sdc_list.
 *
 * Lines may end in CRLF, as a file saved on Windows does: the CR is
 * dropped with the LF.
 *
 * A capability getcap would skip, being unknown or of the wrong form
 * (":flie=", ":black=yes"), is skipped here too, so OpenBSD files keep
 * working, but not silently: each gives a warning naming the file, the
 * line, the entry and, when it is close to one, the capability it was
 * probably meant to be.  An error for a missing capability names such
 * a near miss too ("no :file= (is :flie= on line 4 meant to be
 * :file=?)").
 *
 * Parsing is pure: no file is read but the one sdc_load is given, and a
 * message file (:msg=path) is only recorded.
 */
#ifndef NFS_SPAMDCONF_H
#define NFS_SPAMDCONF_H

#include <stdbool.h>
#include <stddef.h>

#define SDC_RECMAX	(1024 * 1024)	/* bytes in one joined record */
#define SDC_VALMAX	(64 * 1024)	/* bytes in one capability value */
#define SDC_LISTMAX	10000		/* names in "all" */
#define SDC_FILEMAX	(16 * 1024 * 1024) /* bytes sdc_load reads */
#define SDC_WARNMAX	64		/* warnings kept; one more says so */

enum sdc_method {
	SDC_FILE,
	SDC_EXEC,
	SDC_HTTP,
	SDC_HTTPS,
	SDC_FTP,
	SDC_SPF		/* nfspamd: :file= names domains whose SPF records
			   are walked (spf.h); white lists only */
};

struct sdc_list {
	char		*name;		/* as written in "all" */
	bool		 black;		/* false: a white list */
	char		*msg;		/* quoted :msg=, unquoted, escapes applied */
	char		*msgfile;	/* unquoted :msg=: a file to read */
	enum sdc_method	 method;
	char		*file;		/* never empty */
	bool		 nospamd;	/* nfspamd's :nospamd: (white lists):
					   also into @nospamd/@nospamd6 */
};

struct sdc {
	struct sdc_list	*lists;		/* in "all" order, repeats included */
	size_t		 n;
	char		**warn;		/* capabilities skipped, for the log */
	size_t		 nwarn;
};

/*
 * Parse a whole spamd.conf held in text[0..len).  name is the file name
 * used in errors ("spamd.conf:12: entry \"uatraps\": no :file=").  On
 * success returns 0 and fills *c (free with sdc_free); on error returns
 * -1, leaves *c untouched and writes the reason to err (err may be NULL).
 * A black list has exactly one of msg and msgfile; a white list has
 * neither (its :msg= is ignored, as spamd-setup ignores it).  Two
 * nfspamd extensions are white lists' only, and an error on a black
 * list: :method=spf: and :nospamd:.  Warnings
 * ("spamd.conf:7: entry \"x\": unknown capability :flie=: ignored (a
 * misspelling of :file=?)") are in c->warn, once per record, for the
 * records "all" names.
 */
int		 sdc_parse(const char *name, const char *text, size_t len,
		    struct sdc *c, char *err, size_t errlen);

/* Read path (at most SDC_FILEMAX bytes) and sdc_parse it. */
int		 sdc_load(const char *path, struct sdc *c, char *err,
		    size_t errlen);

void		 sdc_free(struct sdc *c);

/* "file", "exec", "http", "https", "ftp" or "spf". */
const char	*sdc_method_name(enum sdc_method m);

#endif /* NFS_SPAMDCONF_H */
