/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * What nfspamdb --stats works out; see stats.h.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promparse.h"
#include "stats.h"
#include "util.h"

/* --- the database --- */

int
dbstats_init(struct dbstats *st, size_t top, int64_t now)
{
	memset(st, 0, sizeof(*st));
	st->now = now;
	if (top > STATS_TOP_MAX)
		top = STATS_TOP_MAX;
	if (top == 0)
		return 0;
	st->trapped.ent = calloc(top, sizeof(struct stats_ent));
	st->grey.ent = calloc(top, sizeof(struct stats_ent));
	if (st->trapped.ent == NULL || st->grey.ent == NULL) {
		dbstats_free(st);
		return -1;
	}
	st->trapped.cap = st->grey.cap = top;
	return 0;
}

void
dbstats_free(struct dbstats *st)
{
	free(st->trapped.ent);
	free(st->grey.ent);
	st->trapped.ent = st->grey.ent = NULL;
	st->trapped.n = st->trapped.cap = st->grey.n = st->grey.cap = 0;
}

int64_t
stats_since(enum store_type type, const struct store_rec *rec)
{
	switch (type) {
	case STORE_WHITE:
		return rec->pass > 0 ? rec->pass : rec->first;
	case STORE_GREY:
	case STORE_TRAPPED:
		return rec->first;
	default:
		return 0;
	}
}

static void
ent_set(struct stats_ent *e, const char *key, size_t keylen)
{
	if (keylen > STORE_KEYMAX)
		keylen = STORE_KEYMAX;
	memcpy(e->key, key, keylen);
	e->key[keylen] = '\0';
	e->keylen = keylen;
}

/* a ranks above b: more attempts, or as many and the smaller key. */
static bool
better(const struct stats_ent *a, const struct stats_ent *b)
{
	size_t	n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int	c;

	if (a->attempts != b->attempts)
		return a->attempts > b->attempts;
	if ((c = memcmp(a->key, b->key, n)) != 0)
		return c < 0;
	return a->keylen < b->keylen;
}

static void
swap(struct stats_ent *a, struct stats_ent *b)
{
	struct stats_ent	t = *a;

	*a = *b;
	*b = t;
}

/* The heap keeps the worst of the best at ent[0]. */
static void
sift_down(struct stats_top *t, size_t i)
{
	size_t	c;

	for (; (c = 2 * i + 1) < t->n; i = c) {
		if (c + 1 < t->n && better(&t->ent[c], &t->ent[c + 1]))
			c++;
		if (!better(&t->ent[i], &t->ent[c]))
			break;
		swap(&t->ent[i], &t->ent[c]);
	}
}

static void
sift_up(struct stats_top *t, size_t i)
{
	size_t	p;

	for (; i > 0; i = p) {
		p = (i - 1) / 2;
		if (!better(&t->ent[p], &t->ent[i]))
			break;
		swap(&t->ent[p], &t->ent[i]);
	}
}

static void
top_offer(struct stats_top *t, const struct stats_ent *e)
{
	if (t->cap == 0)
		return;
	if (t->n < t->cap) {
		t->ent[t->n++] = *e;
		sift_up(t, t->n - 1);
	} else if (better(e, &t->ent[0])) {
		t->ent[0] = *e;
		sift_down(t, 0);
	}
}

static int
cmp_ent(const void *a, const void *b)
{
	if (better(a, b))
		return -1;
	return better(b, a) ? 1 : 0;
}

static uint64_t
attempts(const struct store_rec *rec)
{
	return rec->bcount > 0 ? (uint64_t)rec->bcount : 0;
}

/* The address's run of tuples is over: offer it. */
static void
run_end(struct dbstats *st)
{
	if (!st->inrun)
		return;
	st->greyaddrs++;
	top_offer(&st->grey, &st->run);
	st->inrun = false;
}

static void
run_add(struct dbstats *st, const struct store_tuple *t,
    const struct store_rec *rec)
{
	if (st->inrun && (t->iplen != st->run.keylen ||
	    memcmp(t->ip, st->run.key, t->iplen) != 0))
		run_end(st);
	if (!st->inrun) {
		memset(&st->run, 0, sizeof(st->run));
		ent_set(&st->run, t->ip, t->iplen);
		st->inrun = true;
	}
	st->run.tuples++;
	st->run.attempts += attempts(rec);
}

static void
dated(struct stats_type *ty, int64_t since, const char *key, size_t keylen)
{
	if (since <= 0) {
		ty->undated++;
		return;
	}
	if (!ty->dated || since < ty->oldest.time) {
		ent_set(&ty->oldest, key, keylen);
		ty->oldest.time = since;
	}
	if (!ty->dated || since > ty->newest.time) {
		ent_set(&ty->newest, key, keylen);
		ty->newest.time = since;
	}
	ty->dated = true;
}

void
dbstats_add(struct dbstats *st, enum store_type type, const char *key,
    size_t keylen, const struct store_rec *rec)
{
	struct stats_type	*ty;
	struct store_tuple	 t;
	struct stats_ent	 e;

	if ((unsigned)type >= STORE_NTYPES)
		return;
	ty = &st->type[type];
	ty->count++;
	if (rec == NULL || (type == STORE_GREY &&
	    store_tuple_split(key, keylen, &t) == -1)) {
		ty->unreadable++;
		return;
	}
	if (type != STORE_SPAMTRAP && rec->expire <= st->now)
		ty->expired++;
	dated(ty, stats_since(type, rec), key, keylen);
	if (type == STORE_GREY)
		run_add(st, &t, rec);
	else if (type == STORE_TRAPPED) {
		memset(&e, 0, sizeof(e));
		ent_set(&e, key, keylen);
		e.attempts = attempts(rec);
		e.time = rec->expire;
		top_offer(&st->trapped, &e);
	}
}

void
dbstats_finish(struct dbstats *st)
{
	run_end(st);
	if (st->trapped.n > 1)
		qsort(st->trapped.ent, st->trapped.n, sizeof(struct stats_ent),
		    cmp_ent);
	if (st->grey.n > 1)
		qsort(st->grey.ent, st->grey.n, sizeof(struct stats_ent),
		    cmp_ent);
}

/* --- the daemon --- */

static const struct stats_total_def defs[ST_NTOTALS] = {
	[ST_CONN_GREY] = { "nfspamd_connections_total", "class", "grey",
	    "connections", "grey" },
	[ST_CONN_BLACK] = { "nfspamd_connections_total", "class", "black",
	    "connections", "black" },
	[ST_CONN_TRAPPED] = { "nfspamd_connections_total", "class", "trapped",
	    "connections", "trapped" },
	[ST_CONN_WHITE] = { "nfspamd_connections_total", "class", "white",
	    "connections", "white" },
	[ST_CONN_REFUSED] = { "nfspamd_connections_refused_total", NULL, NULL,
	    "connections", "refused" },
	[ST_GREY_NEW] = { "nfspamd_tuples_total", "outcome", "greylisted_new",
	    "tuples", "greylisted_new" },
	[ST_GREY_AGAIN] = { "nfspamd_tuples_total", "outcome",
	    "greylisted_again", "tuples", "greylisted_again" },
	[ST_PASSED] = { "nfspamd_tuples_total", "outcome", "passed",
	    "tuples", "passed" },
	[ST_TRAP_SPAMTRAP] = { "nfspamd_tuples_total", "outcome",
	    "trapped_spamtrap", "tuples", "trapped_spamtrap" },
	[ST_TRAP_DOMAINS] = { "nfspamd_tuples_total", "outcome",
	    "trapped_alloweddomains", "tuples", "trapped_alloweddomains" },
	[ST_TRAP_LOWPRIO] = { "nfspamd_tuples_total", "outcome",
	    "trapped_lowprio_mx", "tuples", "trapped_lowprio_mx" },
	[ST_SKIPPED] = { "nfspamd_tuples_total", "outcome", "skipped",
	    "tuples", "skipped" },
	[ST_CAPPED] = { "nfspamd_tuples_total", "outcome", "capped",
	    "tuples", "capped" },
	[ST_LOST] = { "nfspamd_tuples_total", "outcome", "lost",
	    "tuples", "lost" },
	[ST_START] = { "nfspamd_start_time_seconds", NULL, NULL, NULL,
	    "start_time" },
};

const struct stats_total_def *
stats_total_def(enum stats_total k)
{
	if ((unsigned)k >= ST_NTOTALS)
		return NULL;
	return &defs[k];
}

struct fold {
	struct stats_totals	*tot;
	bool			 seen[ST_NTOTALS];
};

/* The total a sample is, or ST_NTOTALS for one not wanted. */
static enum stats_total
which(const struct prom_sample *s)
{
	char	v[64];
	int	k;

	for (k = 0; k < ST_NTOTALS; k++) {
		if (!prom_is(s, defs[k].metric))
			continue;
		if (defs[k].label == NULL)
			return (enum stats_total)k;
		if (prom_label(s, defs[k].label, v, sizeof(v)) == 0 &&
		    strcmp(v, defs[k].value) == 0)
			return (enum stats_total)k;
	}
	return ST_NTOTALS;
}

static void
name_of(char *buf, size_t len, enum stats_total k)
{
	if (defs[k].label == NULL)
		snprintf(buf, len, "%s", defs[k].metric);
	else
		snprintf(buf, len, "%s{%s=\"%s\"}", defs[k].metric,
		    defs[k].label, defs[k].value);
}

static int
take(void *arg, const struct prom_sample *s, char *err, size_t errlen)
{
	struct fold		*f = arg;
	enum stats_total	 k;
	char			 name[128];

	if (prom_is(s, "nfspamd_build_info")) {
		if (prom_label(s, "version", f->tot->version,
		    sizeof(f->tot->version)) != 0)
			f->tot->version[0] = '\0';
		return 0;
	}
	if ((k = which(s)) == ST_NTOTALS)
		return 0;
	name_of(name, sizeof(name), k);
	if (f->seen[k])
		return util_seterr(err, errlen, "line %zu: %s given twice",
		    s->line, name);
	/* Whole counts only, as far as a double holds them exactly. */
	if (!(s->value >= 0 && s->value <= 9007199254740992.0) ||
	    s->value != floor(s->value))
		return util_seterr(err, errlen, "line %zu: %s is not a "
		    "count: %.17g", s->line, name, s->value);
	f->tot->v[k] = (uint64_t)s->value;
	f->seen[k] = true;
	return 0;
}

/* nfspamd's own "error: why" line, made safe to print. */
static int
daemon_error(const char *text, size_t len, char *err, size_t errlen)
{
	char	line[128];
	size_t	i;

	for (i = 0; i < len && i < sizeof(line) - 1 && text[i] != '\n'; i++)
		line[i] = text[i] >= ' ' && text[i] < 0x7f ? text[i] : '?';
	line[i] = '\0';
	return util_seterr(err, errlen, "nfspamd answered \"%s\"", line);
}

int
stats_totals_parse(const char *text, size_t len, struct stats_totals *tot,
    char *err, size_t errlen)
{
	struct fold	f;
	char		name[128];
	int		k;

	memset(tot, 0, sizeof(*tot));
	memset(&f, 0, sizeof(f));
	f.tot = tot;
	if (len == 0)
		return util_seterr(err, errlen, "empty answer");
	if (len >= 7 && memcmp(text, "error: ", 7) == 0)
		return daemon_error(text, len, err, errlen);
	if (prom_parse(text, len, take, &f, err, errlen) != 0)
		return -1;
	for (k = 0; k < ST_NTOTALS; k++)
		if (!f.seen[k]) {
			name_of(name, sizeof(name), (enum stats_total)k);
			return util_seterr(err, errlen, "no %s in the answer: "
			    "not nfspamd's metrics, or cut short", name);
		}
	return 0;
}

uint64_t
stats_passed(const struct stats_totals *tot)
{
	return tot->v[ST_PASSED];
}

uint64_t
stats_trapped(const struct stats_totals *tot)
{
	return tot->v[ST_TRAP_SPAMTRAP] + tot->v[ST_TRAP_DOMAINS] +
	    tot->v[ST_TRAP_LOWPRIO];
}

int64_t
stats_uptime(const struct stats_totals *tot, int64_t now)
{
	if (now < 0 || (uint64_t)now < tot->v[ST_START])
		return 0;
	return now - (int64_t)tot->v[ST_START];
}

const char *
stats_duration(char *buf, size_t len, int64_t secs)
{
	static const struct {
		int64_t		 n;
		const char	*u;
	} units[] = { { 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } };
	size_t	i;

	if (secs < 0)
		secs = 0;
	for (i = 0; i < 3 && secs < units[i].n; i++)
		;
	if (i == 3 || secs % units[i].n / units[i + 1].n == 0)
		snprintf(buf, len, "%lld%s", (long long)(secs / units[i].n),
		    units[i].u);
	else
		snprintf(buf, len, "%lld%s %lld%s",
		    (long long)(secs / units[i].n), units[i].u,
		    (long long)(secs % units[i].n / units[i + 1].n),
		    units[i + 1].u);
	return buf;
}
