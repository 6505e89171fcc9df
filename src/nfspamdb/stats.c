/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * stats: nfspamdb --stats.  Walks the database in one read-only
 * transaction, asks the running nfspamd for its totals (ctl.c), and
 * prints both, aligned for a person
 * or as one JSON object (--json).  What is counted, ranked and parsed
 * is decided in src/lib/stats.c; this is the I/O around it.
 *
 * nfspamd not running is no error: the report then says in one line why
 * its totals are missing.
 *
 * A shared store is walked the same way (store_count cannot count its
 * tuples; the walk counts everything): SCAN's batches, each network's
 * tuples together, so the per-address sums hold.  SCAN may return a
 * key twice while the server rehashes: the report says so.
 */

#include "config.h"

#include <err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ctl.h"
#include "json.h"
#include "log.h"
#include "nfspamdb.h"
#include "stats.h"
#include "store.h"

#define TIMELEN		64
#define FIELDLEN	256	/* a tuple field shown in plain text */

struct walk {
	struct nfspamdb	*db;
	struct dbstats	*st;
};

/* The order of the listing. */
static const enum store_type order[] = {
	STORE_WHITE, STORE_GREY, STORE_TRAPPED, STORE_SPAMTRAP
};
#define NORDER	(sizeof(order) / sizeof(order[0]))

/* --- the database --- */

static int
walk_entry(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct walk	*w = arg;

	dbstats_add(w->st, type, key, keylen, rec);
	return 0;
}

static int
walk_txn(struct store_txn *txn, void *arg)
{
	struct walk	*w = arg;
	size_t		 i;

	for (i = 0; i < NORDER; i++)
		if (store_scan(txn, order[i], walk_entry, w) != 0)
			return txn_failed(w->db, txn);
	return 0;
}

/* --- plain text --- */

/* Local time, or "-" when there is none. */
static const char *
fmt_time(char *buf, size_t len, int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

/* An entry's key for a person: a tuple as nfspamd logs one. */
static void
plain_key(FILE *fp, enum store_type type, const struct stats_ent *e)
{
	struct store_tuple	t;
	char			ip[FIELDLEN], h[FIELDLEN], f[FIELDLEN];
	char			to[FIELDLEN];

	if (type == STORE_GREY && store_tuple_split(e->key, e->keylen,
	    &t) == 0)
		fprintf(fp, "%s helo=%s from=%s to=%s",
		    log_quote(ip, sizeof(ip), t.ip, t.iplen),
		    log_quote(h, sizeof(h), t.helo, t.helolen),
		    log_quote(f, sizeof(f), t.from, t.fromlen),
		    log_quote(to, sizeof(to), t.to, t.tolen));
	else
		fputs(log_quote(ip, sizeof(ip), e->key, e->keylen), fp);
}

static void
plain_types(FILE *fp, const struct dbstats *st)
{
	const struct stats_type	*ty;
	char			 o[TIMELEN], n[TIMELEN], ex[24];
	size_t			 i;

	fprintf(fp, "%-10s %10s %10s  %-19s  %s\n", "type", "entries",
	    "expired", "oldest", "newest");
	for (i = 0; i < NORDER; i++) {
		ty = &st->type[order[i]];
		snprintf(ex, sizeof(ex), "%llu",
		    (unsigned long long)ty->expired);
		fprintf(fp, "%-10s %10llu %10s  %-19s  %s\n",
		    store_type_name(order[i]), (unsigned long long)ty->count,
		    order[i] == STORE_SPAMTRAP ? "-" : ex,
		    fmt_time(o, sizeof(o), ty->dated ? ty->oldest.time : 0),
		    fmt_time(n, sizeof(n), ty->dated ? ty->newest.time : 0));
	}
	fprintf(fp, "GREY tuples come from %llu address%s.\n",
	    (unsigned long long)st->greyaddrs, st->greyaddrs == 1 ? "" :
	    "es");
	for (i = 0; i < NORDER; i++) {
		ty = &st->type[order[i]];
		if (ty->unreadable > 0)
			fprintf(fp, "%s: %llu unreadable\n",
			    store_type_name(order[i]),
			    (unsigned long long)ty->unreadable);
	}
}

static void
plain_ends(FILE *fp, const struct dbstats *st)
{
	const struct stats_type	*ty;
	const char		*sep = "\n";
	size_t			 i;

	for (i = 0; i < NORDER; i++) {
		ty = &st->type[order[i]];
		if (!ty->dated)
			continue;
		fprintf(fp, "%soldest %-9s ", sep, store_type_name(order[i]));
		plain_key(fp, order[i], &ty->oldest);
		fprintf(fp, "\nnewest %-9s ", store_type_name(order[i]));
		plain_key(fp, order[i], &ty->newest);
		putc('\n', fp);
		sep = "";
	}
}

static void
plain_tops(FILE *fp, const struct dbstats *st)
{
	const struct stats_ent	*e;
	char			 t[TIMELEN];

	fprintf(fp, "\nmost greylisted addresses (%zu of %llu)\n", st->grey.n,
	    (unsigned long long)st->greyaddrs);
	if (st->grey.n > 0)
		fprintf(fp, "%10s %10s  %s\n", "attempts", "tuples",
		    "address");
	for (e = st->grey.ent; e < st->grey.ent + st->grey.n; e++) {
		fprintf(fp, "%10llu %10llu  ", (unsigned long long)e->attempts,
		    (unsigned long long)e->tuples);
		plain_key(fp, STORE_WHITE, e);	/* an address */
		putc('\n', fp);
	}
	fprintf(fp, "\nmost trapped addresses (%zu of %llu)\n",
	    st->trapped.n, (unsigned long long)
	    (st->type[STORE_TRAPPED].count -
	    st->type[STORE_TRAPPED].unreadable));
	if (st->trapped.n > 0)
		fprintf(fp, "%10s  %-19s  %s\n", "attempts", "expires",
		    "address");
	for (e = st->trapped.ent; e < st->trapped.ent + st->trapped.n; e++) {
		fprintf(fp, "%10llu  %-19s  ", (unsigned long long)e->attempts,
		    fmt_time(t, sizeof(t), e->time));
		plain_key(fp, STORE_TRAPPED, e);
		putc('\n', fp);
	}
}

static void
plain_daemon(FILE *fp, const struct nfspamdb *db, const struct ctl_answer *d)
{
	const struct stats_total_def	*def;
	char				 q[SHOWLEN], t[TIMELEN], up[32];
	char				 name[64];
	int				 k;

	if (!d->ok) {
		fprintf(fp, "\nnfspamd totals unavailable: %s\n", d->why);
		return;
	}
	fprintf(fp, "\nnfspamd totals since start (%s%s, %s)\n",
	    d->tot.version[0] != '\0' ? "version " : "version unknown",
	    d->tot.version[0] != '\0' ? log_quote(q, sizeof(q),
	    d->tot.version, strlen(d->tot.version)) : "", db->control);
	fprintf(fp, "%-30s %s, up %s\n", "started", fmt_time(t, sizeof(t),
	    (int64_t)d->tot.v[ST_START]), stats_duration(up, sizeof(up),
	    stats_uptime(&d->tot, db->now)));
	for (k = 0; k < ST_START; k++) {
		def = stats_total_def((enum stats_total)k);
		snprintf(name, sizeof(name), "%s %s", def->group, def->name);
		fprintf(fp, "%-30s %10llu\n", name,
		    (unsigned long long)d->tot.v[k]);
	}
	fprintf(fp, "%-30s %10llu\n%-30s %10llu\n", "passed",
	    (unsigned long long)stats_passed(&d->tot), "trapped",
	    (unsigned long long)stats_trapped(&d->tot));
}

static void
print_plain(FILE *fp, const struct nfspamdb *db, const struct dbstats *st,
    const struct ctl_answer *d)
{
	struct tm	tm;
	time_t		now = (time_t)db->now;
	char		t[TIMELEN], zone[16] = "";

	if (localtime_r(&now, &tm) != NULL)
		strftime(zone, sizeof(zone), "%Z", &tm);
	fprintf(fp, "database %s at %s %s\n\n", db->dir,
	    fmt_time(t, sizeof(t), db->now), zone);
	plain_types(fp, st);
	if (store_shared(db->store))
		fprintf(fp, "A shared store, walked in no order: a changing "
		    "entry may count twice.\n");
	plain_ends(fp, st);
	plain_tops(fp, st);
	plain_daemon(fp, db, d);
}

/* --- JSON --- */


/* "name":"value" */
static void
json_member(FILE *fp, const char *name, const char *s, size_t len)
{
	fprintf(fp, "\"%s\":", name);
	put_json_str(fp, s, len);
}

/* An entry's key: "ip", with a tuple's "helo", "from" and "to". */
static void
json_key(FILE *fp, enum store_type type, const struct stats_ent *e)
{
	struct store_tuple	t;

	if (type == STORE_GREY && store_tuple_split(e->key, e->keylen,
	    &t) == 0) {
		json_member(fp, "ip", t.ip, t.iplen);
		putc(',', fp);
		json_member(fp, "helo", t.helo, t.helolen);
		putc(',', fp);
		json_member(fp, "from", t.from, t.fromlen);
		putc(',', fp);
		json_member(fp, "to", t.to, t.tolen);
	} else
		json_member(fp, type == STORE_SPAMTRAP ? "address" : "ip",
		    e->key, e->keylen);
}

static void
json_end(FILE *fp, const char *name, enum store_type type,
    const struct stats_type *ty, const struct stats_ent *e)
{
	fprintf(fp, ",\"%s\":", name);
	if (!ty->dated) {
		fputs("null", fp);
		return;
	}
	fprintf(fp, "{\"time\":%lld,", (long long)e->time);
	json_key(fp, type, e);
	putc('}', fp);
}

static void
json_types(FILE *fp, const struct dbstats *st)
{
	static const char *const names[STORE_NTYPES] = {
		[STORE_WHITE] = "white", [STORE_GREY] = "grey",
		[STORE_TRAPPED] = "trapped", [STORE_SPAMTRAP] = "spamtrap"
	};
	const struct stats_type	*ty;
	size_t			 i;

	fputs("\"entries\":{", fp);
	for (i = 0; i < NORDER; i++) {
		ty = &st->type[order[i]];
		fprintf(fp, "%s\"%s\":{\"count\":%llu,\"expired\":%llu,"
		    "\"unreadable\":%llu", i > 0 ? "," : "", names[order[i]],
		    (unsigned long long)ty->count,
		    (unsigned long long)ty->expired,
		    (unsigned long long)ty->unreadable);
		if (order[i] == STORE_GREY)
			fprintf(fp, ",\"addresses\":%llu",
			    (unsigned long long)st->greyaddrs);
		json_end(fp, "oldest", order[i], ty, &ty->oldest);
		json_end(fp, "newest", order[i], ty, &ty->newest);
		putc('}', fp);
	}
	putc('}', fp);
}

static void
json_tops(FILE *fp, const struct dbstats *st)
{
	const struct stats_ent	*e;

	fputs(",\"top_greylisted\":[", fp);
	for (e = st->grey.ent; e < st->grey.ent + st->grey.n; e++) {
		fprintf(fp, "%s{", e > st->grey.ent ? "," : "");
		json_member(fp, "ip", e->key, e->keylen);
		fprintf(fp, ",\"attempts\":%llu,\"tuples\":%llu}",
		    (unsigned long long)e->attempts,
		    (unsigned long long)e->tuples);
	}
	fputs("],\"top_trapped\":[", fp);
	for (e = st->trapped.ent; e < st->trapped.ent + st->trapped.n; e++) {
		fprintf(fp, "%s{", e > st->trapped.ent ? "," : "");
		json_member(fp, "ip", e->key, e->keylen);
		fprintf(fp, ",\"attempts\":%llu,\"expire\":%lld}",
		    (unsigned long long)e->attempts, (long long)e->time);
	}
	putc(']', fp);
}

/* The totals of one group, "connections" or "tuples". */
static void
json_group(FILE *fp, const struct ctl_answer *d, const char *group)
{
	const struct stats_total_def	*def;
	const char			*sep = "";
	int				 k;

	fprintf(fp, ",\"%s\":{", group);
	for (k = 0; k < ST_NTOTALS; k++) {
		def = stats_total_def((enum stats_total)k);
		if (def->group == NULL || strcmp(def->group, group) != 0)
			continue;
		fprintf(fp, "%s\"%s\":%llu", sep, def->name,
		    (unsigned long long)d->tot.v[k]);
		sep = ",";
	}
	putc('}', fp);
}

static void
json_daemon(FILE *fp, const struct nfspamdb *db, const struct ctl_answer *d)
{
	fprintf(fp, ",\"daemon\":{\"available\":%s,",
	    d->ok ? "true" : "false");
	json_member(fp, "control", db->control, strlen(db->control));
	if (!d->ok) {
		putc(',', fp);
		json_member(fp, "error", d->why, strlen(d->why));
		putc('}', fp);
		return;
	}
	putc(',', fp);
	if (d->tot.version[0] != '\0')
		json_member(fp, "version", d->tot.version,
		    strlen(d->tot.version));
	else
		fputs("\"version\":null", fp);
	fprintf(fp, ",\"start_time\":%llu,\"uptime\":%lld",
	    (unsigned long long)d->tot.v[ST_START],
	    (long long)stats_uptime(&d->tot, db->now));
	json_group(fp, d, "connections");
	json_group(fp, d, "tuples");
	fprintf(fp, ",\"passed\":%llu,\"trapped\":%llu}",
	    (unsigned long long)stats_passed(&d->tot),
	    (unsigned long long)stats_trapped(&d->tot));
}

static void
print_json(FILE *fp, const struct nfspamdb *db, const struct dbstats *st,
    const struct ctl_answer *d)
{
	putc('{', fp);
	json_member(fp, "database", db->dir, strlen(db->dir));
	fprintf(fp, ",\"shared\":%s,\"time\":%lld,\"top\":%zu,",
	    store_shared(db->store) ? "true" : "false", (long long)db->now,
	    db->top);
	json_types(fp, st);
	json_tops(fp, st);
	json_daemon(fp, db, d);
	fputs("}\n", fp);
}

/* --- the run --- */

int
stats_run(struct nfspamdb *db)
{
	struct dbstats	 st;
	struct ctl_answer	 d;
	struct walk	 w = { db, &st };
	unsigned long long bad = 0;
	size_t		 i;
	int		 r;

	if (dbstats_init(&st, db->top, db->now) == -1)
		err(1, NULL);
	r = store_view(db->store, walk_txn, &w, db->err, sizeof(db->err));
	if (r != 0) {
		warnx("%s", r == TXN_FAILED ? db->txnerr : db->err);
		dbstats_free(&st);
		return 1;
	}
	dbstats_finish(&st);
	ctl_totals(db->control, &d);
	if (db->json)
		print_json(db->out, db, &st, &d);
	else
		print_plain(db->out, db, &st, &d);
	for (i = 0; i < NORDER; i++)
		bad += st.type[order[i]].unreadable;
	if (bad > 0)
		warnx("%s: %llu unreadable entr%s: nfspamdb lists them, "
		    "nfspamdb -d removes them", db->dir, bad,
		    bad == 1 ? "y" : "ies");
	dbstats_free(&st);
	return bad > 0 ? 1 : 0;
}
