/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * expose: --metrics-file and setup.history.  See expose.h.
 *
 * What must outlive a run (a list's last success, its last failure and
 * why, its entries while it fails) is kept in setup.history in --db
 * rather than read back from the last .prom file.  --db is ours and is
 * written under setup.lock, as setup.state is, so two runs never
 * interleave their reading and writing; the textfile directory is
 * node_exporter's, shared with other exporters and cleaned by hand, and
 * the file in it is output: moving --metrics-file elsewhere, or losing
 * the file, must not forget when a list last worked.  A format of our
 * own, checked field by field, also spares a second parser of
 * Prometheus' text, which could then never change.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cidr.h"
#include "expose.h"
#include "kernel.h"
#include "metrics.h"
#include "mexport.h"
#include "nftset.h"
#include "util.h"

#define HISTORY_MAGIC	"nfspamd-setup history 1\n"
#define HISTORY_MAX	((size_t)64 << 20)

/* The reason label's values; "-" is never written as a label. */
static const char *const fail_names[FAIL_N] = {
	[FAIL_NONE] = "-", [FAIL_FETCH] = "fetch", [FAIL_USER] = "user",
	[FAIL_EMPTY] = "empty", [FAIL_WHITE] = "white", [FAIL_NAME] = "name",
	[FAIL_LINE] = "line", [FAIL_REFUSED] = "refused",
	[FAIL_CONTROL] = "control", [FAIL_MEMORY] = "memory",
	[FAIL_DNS] = "dns",
};

/* One list as the history keeps it. */
struct hrec {
	char		*name;
	int64_t		 success, failure;	/* unix seconds, 0 never */
	enum fail	 fail;			/* the last failure's */
	int64_t		 entries;		/* -1 not known */
};

struct history {
	int64_t		 run_success;		/* 0 never */
	int64_t		 kdiff, kwhole;		/* -b's last loads, 0 never */
	struct hrec	*l;
	size_t		 n, cap;
};

/* One list as the file shows it. */
struct mlist {
	const struct hrec *h;
	const char	*type;		/* "black" or "white"; NULL unknown */
	const char	*method;
	bool		 run;		/* handled by this run: failed is set */
	bool		 fetched;	/* secs is this run's fetch */
	bool		 failed;
	double		 secs;
};

/* --- the history --- */

static void
hist_free(struct history *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->l[i].name);
	free(h->l);
	memset(h, 0, sizeof(*h));
}

static const struct hrec *
hist_find(const struct history *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->l[i].name, name) == 0)
			return &h->l[i];
	return NULL;
}

/* A new record for name, never succeeded nor failed; NULL: memory. */
static struct hrec *
hist_add(struct history *h, const char *name)
{
	struct hrec	*r;
	size_t		 cap;

	if (h->n == h->cap) {
		cap = h->cap == 0 ? 16 : h->cap * 2;
		if ((r = reallocarray(h->l, cap, sizeof(*r))) == NULL)
			return NULL;
		h->l = r;
		h->cap = cap;
	}
	r = &h->l[h->n];
	memset(r, 0, sizeof(*r));
	r->entries = -1;
	if ((r->name = strdup(name)) == NULL)
		return NULL;
	h->n++;
	return r;
}

/* Digits only (or "-" for -1, when dash): 0, or -1. */
static int
hist_num(const char *s, bool dash, int64_t *v)
{
	char		*end;
	long long	 n;

	if (dash && strcmp(s, "-") == 0) {
		*v = -1;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

static int
hist_fail(const char *s, enum fail *f)
{
	for (int i = 0; i < FAIL_N; i++)
		if (strcmp(s, fail_names[i]) == 0) {
			*f = (enum fail)i;
			return 0;
		}
	return -1;
}

/*
 * One line, NUL-terminated: "run\tTIME", "kernel\tDIFF\tWHOLE" or
 * "list\tSUCCESS\tFAILURE\tREASON\tENTRIES\tNAME", the name last and as
 * it is (spamd.conf's names hold no newline).  NULL, or what is wrong.
 */
static const char *
hist_line(struct history *h, char *line)
{
	struct hrec	*r;
	char		*f[6], *p;
	size_t		 nf = 1;
	int64_t		 v[3];
	enum fail	 fail;

	f[0] = line;
	while (nf < 6 && (p = strchr(f[nf - 1], '\t')) != NULL) {
		*p = '\0';
		f[nf++] = p + 1;
	}
	if (nf == 2 && strcmp(f[0], "run") == 0)
		return hist_num(f[1], false, &h->run_success) == -1 ?
		    "bad time" : NULL;
	if (nf == 3 && strcmp(f[0], "kernel") == 0)
		return hist_num(f[1], false, &h->kdiff) == -1 ||
		    hist_num(f[2], false, &h->kwhole) == -1 ? "bad time" : NULL;
	if (nf != 6 || strcmp(f[0], "list") != 0)
		return "not a record";
	if (hist_num(f[1], false, &v[0]) == -1 ||
	    hist_num(f[2], false, &v[1]) == -1)
		return "bad time";
	if (hist_fail(f[3], &fail) == -1)
		return "unknown reason";
	if (hist_num(f[4], true, &v[2]) == -1)
		return "bad entries";
	if (*f[5] == '\0' || hist_find(h, f[5]) != NULL)
		return "empty or repeated list name";
	if ((r = hist_add(h, f[5])) == NULL)
		return "out of memory";
	r->success = v[0];
	r->failure = v[1];
	r->fail = fail;
	r->entries = v[2];
	return NULL;
}

/* The file's len bytes (ours to change) into h: 0, or -1 with err. */
static int
hist_decode(char *data, size_t len, struct history *h, char *err,
    size_t errlen)
{
	size_t		 mlen = strlen(HISTORY_MAGIC), line = 1;
	char		*p, *nl, *end = data + len;
	const char	*why;

	if (len < mlen || memcmp(data, HISTORY_MAGIC, mlen) != 0)
		return util_seterr(err, errlen, "not a history file");
	if (memchr(data, '\0', len) != NULL)
		return util_seterr(err, errlen, "holds a NUL byte");
	for (p = data + mlen; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return util_seterr(err, errlen, "line %zu: cut short",
			    line);
		*nl = '\0';
		if ((why = hist_line(h, p)) != NULL)
			return util_seterr(err, errlen, "line %zu: %s", line,
			    why);
	}
	return 0;
}

/* The history of the last run; empty when there is none or it is bad. */
static void
hist_load(struct ctx *x, struct history *h)
{
	char	 path[PATH_MAX], err[ERRLEN], *data;
	size_t	 len;

	memset(h, 0, sizeof(*h));
	snprintf(path, sizeof(path), "%s/%s", x->c.common.db, HISTORY_FILE);
	if (read_file(path, HISTORY_MAX, &data, &len, err,
	    sizeof(err)) == -1) {
		if (errno != ENOENT)
			log_warnx(&x->log, "%s; the lists' last success and "
			    "failure times start afresh", err);
		return;
	}
	if (hist_decode(data, len, h, err, sizeof(err)) == -1) {
		log_warnx(&x->log, "%s: %s; the lists' last success and "
		    "failure times start afresh", path, err);
		hist_free(h);
	}
	free(data);
}

/* h into HISTORY_FILE: 0, or -1 logged. */
static int
hist_save(struct ctx *x, const struct history *h)
{
	const struct hrec	*r;
	struct buf		 b = { 0 };
	char			 err[ERRLEN];
	int			 rc = 0;

	rc |= buf_puts(&b, HISTORY_MAGIC);
	rc |= buf_printf(&b, "run\t%" PRId64 "\nkernel\t%" PRId64 "\t%"
	    PRId64 "\n", h->run_success, h->kdiff, h->kwhole);
	for (size_t i = 0; i < h->n && rc == 0; i++) {
		r = &h->l[i];
		if (strchr(r->name, '\n') != NULL)
			continue;
		rc |= buf_printf(&b, "list\t%" PRId64 "\t%" PRId64 "\t%s\t",
		    r->success, r->failure, fail_names[r->fail]);
		if (r->entries < 0)
			rc |= buf_puts(&b, "-");
		else
			rc |= buf_printf(&b, "%" PRId64, r->entries);
		rc |= buf_printf(&b, "\t%s\n", r->name);
	}
	if (rc != 0) {
		log_warnx(&x->log, "%s: out of memory", HISTORY_FILE);
		rc = -1;
	} else if (write_atomic(x->c.common.db, HISTORY_FILE, b.data, b.len,
	    err, sizeof(err)) == -1) {
		log_warnx(&x->log, "%s not saved: %s", HISTORY_FILE, err);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* --- this run's lists --- */

static const struct black *
black_of(const struct ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nblacks; i++)
		if (strcmp(x->blacks[i].l->name, name) == 0)
			return &x->blacks[i];
	return NULL;
}

static const struct item *
item_of(const struct ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nitems; i++)
		if (strcmp(x->items[i].l->name, name) == 0)
			return &x->items[i];
	return NULL;
}

/* A white list's prefixes, as many as nfspamd-setup takes away. */
static int64_t
white_entries(const struct item *it)
{
	struct prefix	*p;
	size_t		 n;

	if (cidr_collapse(&it->ranges, NULL, &p, &n) == -1)
		return -1;
	free(p);
	return (int64_t)n;
}

/*
 * Whether list l worked in this run, or why not, and its entries then.
 * 0 when the run did not handle it (a white list with no black list
 * before it), 1 when it did, -1 when memory runs out.
 */
static int
list_result(const struct ctx *x, const struct sdc_list *l,
    const struct item **it, bool *ok, enum fail *fail, int64_t *entries)
{
	const struct black	*b;

	*entries = -1;
	if (l->black) {
		if ((b = black_of(x, l->name)) == NULL)
			return 0;
		*it = b->it;
		*ok = b->ok && !b->refused && x->delivered;
		*fail = !b->ok ? b->fail : b->refused ? FAIL_REFUSED :
		    FAIL_CONTROL;
		*entries = (int64_t)b->n;
		return 1;
	}
	if ((*it = item_of(x, l->name)) == NULL || !(*it)->done)
		return 0;
	*ok = (*it)->ok;
	*fail = (*it)->fail;
	if (*ok && (*entries = white_entries(*it)) == -1)
		return -1;
	return 1;
}

/*
 * The lists of this run, in the order of `all', into nh (their records
 * in old, updated) and m.  -1: out of memory.
 */
static int
run_lists(const struct ctx *x, const struct history *old,
    struct history *nh, struct mlist *m, size_t *nm)
{
	const struct sdc_list	*l;
	const struct hrec	*o;
	const struct item	*it;
	struct hrec		*r;
	int64_t			 entries, now = (int64_t)x->t0.tv_sec;
	enum fail		 fail;
	bool			 ok;
	int			 res;

	for (size_t i = 0; i < x->sdc.n; i++) {
		l = &x->sdc.lists[i];
		it = NULL;
		if (hist_find(nh, l->name) != NULL)
			continue;	/* named again in `all' */
		if ((res = list_result(x, l, &it, &ok, &fail,
		    &entries)) == -1)
			return -1;
		if (res == 0)
			continue;
		if ((r = hist_add(nh, l->name)) == NULL)
			return -1;
		if ((o = hist_find(old, l->name)) != NULL) {
			r->success = o->success;
			r->failure = o->failure;
			r->fail = o->fail;
			r->entries = o->entries;
		}
		if (ok) {
			r->success = now;
			r->entries = entries;
		} else {
			r->failure = now;
			r->fail = fail;
		}
		m[*nm] = (struct mlist){ .type = l->black ? "black" : "white",
		    .method = sdc_method_name(l->method), .run = true,
		    .failed = !ok, .fetched = it != NULL && it->done &&
		    it->fail != FAIL_USER, .secs = it != NULL ? it->secs : 0 };
		(*nm)++;
	}
	/* nh has stopped moving: point at its records. */
	for (size_t i = 0; i < *nm; i++)
		m[i].h = &nh->l[i];
	return 0;
}

/* --- the file --- */

/* A family of one sample per list that has one (value returns 1). */
static int
per_list(struct buf *b, const char *name, enum metrics_type t,
    const char *help, const struct mlist *m, size_t nm,
    int (*value)(const struct mlist *, double *))
{
	struct mlabel	 l[1];
	double		 v;
	int		 rc = metrics_head(b, name, t, help);

	for (size_t i = 0; i < nm && rc == 0; i++)
		if (value(&m[i], &v) == 1) {
			l[0] = (struct mlabel){ "list", m[i].h->name };
			rc = metrics_sample(b, name, l, 1, v);
		}
	return rc;
}

static int
v_entries(const struct mlist *m, double *v)
{
	*v = (double)m->h->entries;
	return m->h->entries >= 0;
}

static int
v_secs(const struct mlist *m, double *v)
{
	*v = m->secs;
	return m->fetched;
}

static int
v_failed(const struct mlist *m, double *v)
{
	*v = m->failed;
	return m->run;
}

static int
v_success(const struct mlist *m, double *v)
{
	*v = (double)m->h->success;
	return m->h->success > 0;
}

static int
render_lists(struct buf *b, const struct mlist *m, size_t nm)
{
	static const char *const failure =
	    "nfspamd_setup_list_last_failure_timestamp_seconds";
	struct mlabel	 l[3];
	int		 rc = 0;

	rc |= metrics_head(b, "nfspamd_setup_list_info", METRICS_GAUGE,
	    "Always 1: each list of spamd.conf's \"all\" this run handled, "
	    "its type (black or white) and method.");
	for (size_t i = 0; i < nm; i++)
		if (m[i].type != NULL) {
			l[0] = (struct mlabel){ "list", m[i].h->name };
			l[1] = (struct mlabel){ "type", m[i].type };
			l[2] = (struct mlabel){ "method", m[i].method };
			rc |= metrics_sample(b, "nfspamd_setup_list_info", l,
			    3, 1);
		}
	rc |= per_list(b, "nfspamd_setup_list_entries", METRICS_GAUGE,
	    "Prefixes the list has where it applies, from its last success: "
	    "a black list's as sent to nfspamd (its white lists taken away), "
	    "a white list's own.", m, nm, v_entries);
	rc |= per_list(b, "nfspamd_setup_list_fetch_seconds", METRICS_GAUGE,
	    "How long this run took to fetch the list (file, command or "
	    "download, uncompressing included).", m, nm, v_secs);
	rc |= per_list(b, "nfspamd_setup_list_failed", METRICS_GAUGE,
	    "1 when the list failed in this run (nfspamd and the sets keep "
	    "its last success), else 0.", m, nm, v_failed);
	rc |= per_list(b, "nfspamd_setup_list_last_success_timestamp_seconds",
	    METRICS_GAUGE, "Start of the last run in which the list worked "
	    "(for a black list: sent and taken by nfspamd).", m, nm,
	    v_success);
	rc |= metrics_head(b, failure, METRICS_GAUGE, "Start of the last run "
	    "in which the list failed, and why: fetch, user, empty, white, "
	    "name, line, refused, control, memory or dns (see "
	    "nfspamd-setup(8)).");
	for (size_t i = 0; i < nm; i++)
		if (m[i].h->failure > 0) {
			l[0] = (struct mlabel){ "list", m[i].h->name };
			l[1] = (struct mlabel){ "reason",
			    fail_names[m[i].h->fail] };
			rc |= metrics_sample(b, failure, l, 2,
			    (double)m[i].h->failure);
		}
	return rc;
}

/* -b: the sets spamd and spamd6. */
static int
render_kernel(struct buf *b, const struct ctx *x, const struct history *h,
    bool conf_ok)
{
	static const char *const stamp =
	    "nfspamd_setup_kernel_last_load_timestamp_seconds";
	const struct kstat	*k = &x->k;
	struct mlabel		 l[1];
	int			 rc = 0;

	if (conf_ok)
		rc |= metrics_one(b, "nfspamd_setup_kernel_load_success",
		    METRICS_GAUGE, "1 when this run loaded the sets spamd and "
		    "spamd6 (-b), else 0.", k->loaded);
	rc |= metrics_head(b, stamp, METRICS_GAUGE, "Start of the last run "
	    "that loaded the sets, by how: difference (only what changed) or "
	    "whole (flushed and refilled).");
	l[0] = (struct mlabel){ "mode", "difference" };
	if (h->kdiff > 0)
		rc |= metrics_sample(b, stamp, l, 1, (double)h->kdiff);
	l[0] = (struct mlabel){ "mode", "whole" };
	if (h->kwhole > 0)
		rc |= metrics_sample(b, stamp, l, 1, (double)h->kwhole);
	if (!k->loaded)
		return rc;
	rc |= metrics_head(b, "nfspamd_setup_kernel_set_prefixes",
	    METRICS_GAUGE, "Prefixes this run left in the set.");
	l[0] = (struct mlabel){ "set", NFTSET_BLACK };
	rc |= metrics_sample(b, "nfspamd_setup_kernel_set_prefixes", l, 1,
	    (double)k->n4);
	l[0] = (struct mlabel){ "set", NFTSET_BLACK6 };
	rc |= metrics_sample(b, "nfspamd_setup_kernel_set_prefixes", l, 1,
	    (double)k->n6);
	rc |= metrics_one(b, "nfspamd_setup_kernel_load_seconds",
	    METRICS_GAUGE, "How long this run took to load the sets.",
	    k->secs);
	if (!k->diff)
		return rc;
	rc |= metrics_head(b, "nfspamd_setup_kernel_diff_prefixes",
	    METRICS_GAUGE, "The difference this run applied to the sets: "
	    "prefixes added and deleted.");
	l[0] = (struct mlabel){ "change", "added" };
	rc |= metrics_sample(b, "nfspamd_setup_kernel_diff_prefixes", l, 1,
	    (double)k->nadd);
	l[0] = (struct mlabel){ "change", "deleted" };
	rc |= metrics_sample(b, "nfspamd_setup_kernel_diff_prefixes", l, 1,
	    (double)k->ndel);
	return rc;
}

/* :method=spf: lists walked in this run. */
static int
render_spf(struct buf *b, const struct ctx *x)
{
	static const char *const probs = "nfspamd_setup_spf_problems";
	static const char *const ttl = "nfspamd_setup_spf_ttl_seconds";
	const struct item	*it;
	struct mlabel		 l[2];
	size_t			 i, n = 0;
	int			 rc = 0, k;

	for (i = 0; i < x->nitems; i++)
		n += x->items[i].done && x->items[i].l->method == SDC_SPF;
	if (n == 0)
		return 0;
	rc |= metrics_head(b, probs, METRICS_GAUGE, "What this run's walk "
	    "of the list's SPF records found wrong, by kind: dead (NXDOMAIN "
	    "or no SPF record), loop, deep, limit, error, skipped (needs a "
	    "sender), temp and timeout (the list failed).");
	for (i = 0; i < x->nitems; i++) {
		it = &x->items[i];
		if (!it->done || it->l->method != SDC_SPF)
			continue;
		for (k = 0; k < SPF_P_N; k++) {
			l[0] = (struct mlabel){ "list", it->l->name };
			l[1] = (struct mlabel){ "kind", spf_pkind_name(k) };
			rc |= metrics_sample(b, probs, l, 2,
			    it->spf_problems[k]);
		}
	}
	rc |= metrics_head(b, ttl, METRICS_GAUGE, "The least DNS TTL of the "
	    "records this run's walk used, when the list worked.");
	for (i = 0; i < x->nitems; i++) {
		it = &x->items[i];
		if (!it->done || it->l->method != SDC_SPF || !it->ok)
			continue;
		l[0] = (struct mlabel){ "list", it->l->name };
		rc |= metrics_sample(b, ttl, l, 1, it->spf_ttl);
	}
	return rc;
}

static int
render_run(struct buf *b, const struct ctx *x, const struct history *h)
{
	struct timespec	 m1;
	int		 rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &m1);
	rc |= metrics_build_info(b, "nfspamd_setup_build_info",
	    "nfspamd-setup");
	rc |= metrics_one(b, "nfspamd_setup_last_run_timestamp_seconds",
	    METRICS_GAUGE, "When the last run started, seconds since the "
	    "epoch.", (double)x->t0.tv_sec);
	rc |= metrics_one(b, "nfspamd_setup_last_run_duration_seconds",
	    METRICS_GAUGE, "How long the last run took.",
	    (double)(m1.tv_sec - x->m0.tv_sec) +
	    (double)(m1.tv_nsec - x->m0.tv_nsec) / 1e9);
	rc |= metrics_one(b, "nfspamd_setup_last_run_success", METRICS_GAUGE,
	    "1 when everything in the last run worked (its exit status was "
	    "0), else 0.", x->failed == 0);
	rc |= metrics_one(b, "nfspamd_setup_last_run_problems", METRICS_GAUGE,
	    "Problems the last run reported: lists, nfspamd, the sets, the "
	    "nospamd file, the state files.", (double)x->failed);
	if (h->run_success > 0)
		rc |= metrics_one(b,
		    "nfspamd_setup_last_success_timestamp_seconds",
		    METRICS_GAUGE, "Start of the last run in which everything "
		    "worked.", (double)h->run_success);
	return rc;
}

/* The file: 0, or -1 logged. */
static int
file_write(struct ctx *x, const struct history *h, const struct mlist *m,
    size_t nm, bool conf_ok)
{
	struct buf	 b = { 0 };
	char		 err[PATH_MAX + 128], hint[ERRLEN], dir[PATH_MAX];
	int		 rc = 0, e;

	rc |= render_run(&b, x, h);
	rc |= render_lists(&b, m, nm);
	if (conf_ok)
		rc |= render_spf(&b, x);
	if (x->c.kernel)
		rc |= render_kernel(&b, x, h, conf_ok);
	if (rc != 0)
		log_warnx(&x->log, "metrics file %s: out of memory",
		    x->c.metrics_file);
	else if ((rc = mexport_write_file(x->c.metrics_file, &b, err,
	    sizeof(err))) == -1) {
		/* The directory is node_exporter's: the hint is about its
		   permissions only. */
		e = errno;
		snprintf(dir, sizeof(dir), "%s", x->c.metrics_file);
		hint[0] = '\0';
		if (e != ENOENT)
			why_not(e, dirname(dir), hint, sizeof(hint));
		log_warnx(&x->log, "metrics file not written: %s%s", err,
		    hint);
	}
	buf_free(&b);
	return rc == 0 ? 0 : -1;
}

void
expose_write(struct ctx *x, bool conf_ok)
{
	struct history	 old, nh;
	struct mlist	*m;
	size_t		 nm = 0;
	int64_t		 now = (int64_t)x->t0.tv_sec;

	hist_load(x, &old);
	memset(&nh, 0, sizeof(nh));
	m = calloc((conf_ok ? x->sdc.n : old.n) + 1, sizeof(*m));
	if (m == NULL || (conf_ok && run_lists(x, &old, &nh, m, &nm) == -1)) {
		log_warnx(&x->log, "metrics: out of memory");
		x->failed++;
		goto out;
	}
	if (conf_ok) {
		nh.run_success = x->failed == 0 ? now : old.run_success;
		nh.kdiff = x->k.loaded && x->k.diff ? now : old.kdiff;
		nh.kwhole = x->k.loaded && !x->k.diff ? now : old.kwhole;
		if (hist_save(x, &nh) == -1) {
			x->failed++;
			nh.run_success = old.run_success;
		}
	} else
		for (nm = 0; nm < old.n; nm++)
			m[nm].h = &old.l[nm];
	if (file_write(x, conf_ok ? &nh : &old, m, nm, conf_ok) == -1)
		x->failed++;
out:
	free(m);
	hist_free(&old);
	hist_free(&nh);
}
