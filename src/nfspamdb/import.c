/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * import: nfspamdb --import.  See import.h.
 *
 * The file is read twice: once to check every line (and, for a pipe, to
 * keep a copy in a temporary file), once inside the write transaction.
 * Only one line is held in memory at a time.
 */

#include "config.h"

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbimport.h"
#include "import.h"
#include "store.h"

#define ERRLEN		1024
#define SHOWBAD		20	/* bad lines reported one by one */
#define LINECAP		(DBIMPORT_LINEMAX + 1)	/* room for a final CR */
#define TXN_FAILED	2	/* import_txn gave up; see imp->err */

struct import {
	const char	*name;		/* in messages: the path, or "stdin" */
	FILE		*in;
	off_t		 start;		/* where the input began */
	FILE		*spool;		/* a copy of input that cannot seek */
	long long	 lineno;
	long long	 count[STORE_NTYPES];
	long long	 ndomain;
	char		 buf[LINECAP];
	char		 why[ERRLEN / 2];	/* what is wrong with a line */
	char		 err[ERRLEN];		/* why the transaction failed */
};

enum readres { R_EOF, R_LINE, R_LONG, R_FAIL };

struct import *
import_open(const char *path)
{
	struct import	*imp;
	struct stat	 sb;

	if ((imp = calloc(1, sizeof(*imp))) == NULL)
		err(1, NULL);
	if (strcmp(path, "-") == 0) {
		imp->name = "stdin";
		imp->in = stdin;
	} else {
		imp->name = path;
		if ((imp->in = fopen(path, "r")) == NULL) {
			warn("%s", path);
			free(imp);
			return NULL;
		}
	}
	/* A pipe cannot be read twice: the first pass keeps a copy. */
	if (fstat(fileno(imp->in), &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (imp->start = ftello(imp->in)) == -1) {
		if ((imp->spool = tmpfile()) == NULL) {
			warn("%s: temporary copy", imp->name);
			import_close(imp);
			return NULL;
		}
	}
	return imp;
}

void
import_close(struct import *imp)
{
	if (imp == NULL)
		return;
	if (imp->in != NULL && imp->in != stdin)
		fclose(imp->in);
	if (imp->spool != NULL)
		fclose(imp->spool);
	free(imp);
}

/* A line into imp->buf, without its '\n'; what does not fit is skipped. */
static enum readres
read_line(struct import *imp, FILE *fp, size_t *len)
{
	size_t	n = 0;
	bool	toolong = false;
	int	c;

	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		if (n < sizeof(imp->buf))
			imp->buf[n++] = (char)c;
		else
			toolong = true;
	}
	if (c == EOF && ferror(fp))
		return R_FAIL;
	if (c == EOF && n == 0 && !toolong)
		return R_EOF;
	*len = n;
	imp->lineno++;
	return toolong ? R_LONG : R_LINE;
}

/* The parsed line, or -1 with the reason in imp->why. */
static int
parse_line(struct import *imp, enum readres r, size_t len,
    struct dbimport_line *l)
{
	if (r == R_LONG) {
		snprintf(imp->why, sizeof(imp->why), "line longer than %d "
		    "bytes", DBIMPORT_LINEMAX);
		return -1;
	}
	return dbimport_parse(imp->buf, len, l, imp->why, sizeof(imp->why));
}

static void
spool_line(struct import *imp, size_t len)
{
	if (imp->spool == NULL)
		return;
	fwrite(imp->buf, 1, len, imp->spool);
	putc('\n', imp->spool);
}

static void
report_bad(const struct import *imp, long long nbad)
{
	if (nbad > SHOWBAD)
		warnx("%s: %lld bad lines (the first %d shown), nothing "
		    "imported", imp->name, nbad, SHOWBAD);
	else
		warnx("%s: %lld bad line%s, nothing imported", imp->name,
		    nbad, nbad == 1 ? "" : "s");
}

int
import_check(struct import *imp)
{
	struct dbimport_line	 l;
	enum readres		 r;
	long long		 nbad = 0;
	size_t			 len;

	imp->lineno = 0;
	while ((r = read_line(imp, imp->in, &len)) != R_EOF) {
		if (r == R_FAIL) {
			warn("%s", imp->name);
			return -1;
		}
		spool_line(imp, len);
		if (parse_line(imp, r, len, &l) == 0)
			continue;
		if (++nbad <= SHOWBAD)
			warnx("%s:%lld: %s", imp->name, imp->lineno, imp->why);
	}
	if (nbad > 0) {
		report_bad(imp, nbad);
		return -1;
	}
	if (imp->spool != NULL && (fflush(imp->spool) == EOF ||
	    ferror(imp->spool))) {
		warn("%s: temporary copy", imp->name);
		return -1;
	}
	return 0;
}

/* Back to the first line, for each run of the transaction. */
static int
rewind_input(struct import *imp, FILE **fp)
{
	*fp = imp->spool != NULL ? imp->spool : imp->in;
	clearerr(*fp);
	if (fseeko(*fp, imp->spool != NULL ? 0 : imp->start, SEEK_SET) == -1) {
		snprintf(imp->err, sizeof(imp->err), "%s: cannot read it "
		    "again: %s", imp->name, strerror(errno));
		return -1;
	}
	imp->lineno = 0;
	memset(imp->count, 0, sizeof(imp->count));
	imp->ndomain = 0;
	return 0;
}

static int
put_entry(struct store_txn *txn, const struct dbimport_line *l)
{
	if (l->type == STORE_WHITE || l->type == STORE_TRAPPED)
		return store_put_addr(txn, l->key, l->keylen, l->type, &l->rec);
	return store_put(txn, l->type, l->key, l->keylen, &l->rec);
}

/*
 * Runs again from the start when the map grows.  A line that no longer
 * parses means the file changed after it was checked.
 */
static int
import_txn(struct store_txn *txn, void *arg)
{
	struct import		*imp = arg;
	struct dbimport_line	 l;
	enum readres		 r;
	FILE			*fp;
	size_t			 len;

	if (rewind_input(imp, &fp) == -1)
		return TXN_FAILED;
	while ((r = read_line(imp, fp, &len)) != R_EOF) {
		if (r == R_FAIL) {
			snprintf(imp->err, sizeof(imp->err), "%s: %s",
			    imp->name, strerror(errno));
			return TXN_FAILED;
		}
		if (parse_line(imp, r, len, &l) == -1) {
			snprintf(imp->err, sizeof(imp->err), "%s:%lld: %s (the "
			    "file changed during the import)", imp->name,
			    imp->lineno, imp->why);
			return TXN_FAILED;
		}
		if (l.kind == DBIMPORT_DOMAIN)
			imp->ndomain++;
		if (l.kind != DBIMPORT_ENTRY)
			continue;
		if (put_entry(txn, &l) == -1) {
			snprintf(imp->err, sizeof(imp->err), "%s",
			    store_txn_error(txn));
			return TXN_FAILED;
		}
		imp->count[l.type]++;
	}
	return 0;
}

int
import_store(struct import *imp, struct store *st)
{
	char		 err[ERRLEN];
	long long	 n;
	int		 r;

	r = store_update(st, import_txn, imp, err, sizeof(err));
	if (r != 0) {
		warnx("%s", r == TXN_FAILED ? imp->err : err);
		return -1;
	}
	n = imp->count[STORE_WHITE] + imp->count[STORE_GREY] +
	    imp->count[STORE_TRAPPED] + imp->count[STORE_SPAMTRAP];
	warnx("%s: imported %lld entr%s (%lld white, %lld grey, %lld trapped, "
	    "%lld spamtrap)", imp->name, n, n == 1 ? "y" : "ies",
	    imp->count[STORE_WHITE], imp->count[STORE_GREY],
	    imp->count[STORE_TRAPPED], imp->count[STORE_SPAMTRAP]);
	if (imp->ndomain > 0)
		warnx("%s: %lld DOMAIN entr%s not imported: nfspamd reads "
		    "allowed domains from its alloweddomains file", imp->name,
		    imp->ndomain, imp->ndomain == 1 ? "y" : "ies");
	return 0;
}
