/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * promparse: reading Prometheus' text exposition format (the subset
 * metrics.c writes): "name value", "name{label="value",...} value", an
 * optional timestamp after the value, comment lines beginning with '#'
 * and blank lines.  For nfspamdb --stats, which reads nfspamd's metrics
 * from its control socket.  Pure: no I/O, no memory allocated.
 *
 * The text comes from another process and is checked whole: every line
 * must end in a newline (a missing one means the text was cut short),
 * no line may hold a NUL byte, names must be well-formed and label
 * values well-escaped.  The samples point into the text; label values
 * are left escaped until prom_label unescapes one into the caller's
 * buffer, so a line of any length costs nothing.
 */
#ifndef NFS_PROMPARSE_H
#define NFS_PROMPARSE_H

#include <stdbool.h>
#include <stddef.h>

#define PROM_LABELMAX	8	/* labels a sample may carry */
#define PROM_VALUEMAX	63	/* bytes of a sample's value as written */

struct prom_label {
	const char	*name;
	size_t		 namelen;
	const char	*value;		/* as written: still escaped */
	size_t		 valuelen;
};

struct prom_sample {
	const char		*name;
	size_t			 namelen;
	struct prom_label	 label[PROM_LABELMAX];
	size_t			 nlabels;
	double			 value;
	size_t			 line;		/* from 1 */
};

/*
 * Called once a sample, in the order of the text.  Returns 0 to go on;
 * anything else stops the parse, and prom_parse returns it (err is then
 * fn's to fill).
 */
typedef int	(*prom_fn)(void *arg, const struct prom_sample *,
		    char *err, size_t errlen);

/*
 * Parse len bytes of text.  0: every line was good and fn took every
 * sample; -1: a bad line, with "line N: what" in err (nothing after it
 * was read); or fn's value.
 */
int	prom_parse(const char *text, size_t len, prom_fn fn, void *arg,
	    char *err, size_t errlen);

/* The sample's name is name. */
bool	prom_is(const struct prom_sample *, const char *name);

/*
 * The value of the sample's label name, unescaped and NUL-terminated in
 * buf: 0; 1 when the sample has no such label; -1 when the value does
 * not fit in len bytes (buf then holds "").
 */
int	prom_label(const struct prom_sample *, const char *name, char *buf,
	    size_t len);

#endif
