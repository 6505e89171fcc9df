/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * redisfill: the shared store (Valkey/Redis) and LMDB through the same
 * store API nfspamd uses, for bench/shared.
 *
 *   redisfill fill STORE N grey|white [-b batch] [-s seed]
 *   redisfill fleet STORE [-P procs] [-n tuples] [-b batch] [-r rate]
 *                         [-x pct] [-X pool] [-o first] [-s seed]
 *
 * STORE is a --store URL (unix:/path[?db=N], redis://host:port[/db]) or
 * an LMDB directory (made if missing).
 *
 * fill: N greylist tuples through greylist_rcpt, as a worker's commit
 * does (store_prefetch of what greylist_rcpt_wants names, then
 * greylist_rcpt for each tuple), batch tuples to a store_update; or N
 * WHITE entries through store_put (an address, or an IPv6 /64 as -N
 * 32:64 keys it).  Addresses are 80 % IPv4 and 20 % IPv6, each a
 * different one (a keyed permutation); a grey address has 1 tuple (60 %),
 * 2 (25 %), 3-5 (10 %) or 6-10 (5 %), one HELO and a different RCPT TO
 * each.  HELO names, senders and recipients in the styles of
 * bench/store_bench (5 % null senders).  Every tuple must come back
 * new: the run fails otherwise.
 *
 * fleet: procs processes at once, each with a store of its own (its own
 * connection, or its own LMDB environment handle on one directory),
 * each committing tuples tuples in store_updates of batch tuples (the
 * same body as fill), each tuple from an address of its own, or with
 * -x, pct % of them from a pool of -X addresses every process shares
 * (so that one node's EXEC finds a hash another node changed).  -r:
 * rate tuples a second per process, a commit every batch / rate s, the
 * processes' first commits spread over that gap (0: as fast as each
 * goes, the next commit as soon as the last is done).
 * Each process times every store_update (the commit latency) and
 * counts the runs of its body: more runs than store_updates are EXECs
 * refused because a watched key changed, done again.
 *
 * Results go to stdout, last a line "RESULT key=value ...".  Only the
 * store calls are timed (CLOCK_MONOTONIC); making tuples is not.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "grey.h"
#include "greylist.h"
#include "rlayout.h"
#include "store.h"

#define PROG		"redisfill"
#define NS		1000000000ULL
#define MAXPROCS	256
#define POOL_BASE	0xf0000000u	/* the shared pool's address numbers */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage: redisfill fill STORE N grey|white [-b batch] [-s seed]\n"
"       redisfill fleet STORE [-P procs] [-n tuples] [-b batch] [-r rate]\n"
"                             [-x pct] [-X pool] [-o first] [-s seed]\n"
"STORE: unix:/path[?db=N], redis://host[:port][/db], or an LMDB directory\n");
	exit(2);
}

static long
num(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		die("%s %s: want a whole number from %ld to %ld", what, s, min,
		    max);
	return v;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static double
cpu_self(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* --- tuples, as bench/store_bench makes them --- */

struct rng {
	uint64_t	s;
};

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	r->s = splitmix64(seed ^ (stream * 0xd1342543de82ef95ULL));
	if (r->s == 0)
		r->s = 0x9e3779b97f4a7c15ULL;
}

static uint64_t
rng_next(struct rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A keyed bijection: address number i gets bits perm32(i). */
static uint32_t
perm32(uint32_t x, uint32_t k)
{
	x ^= k;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	x += k >> 7;
	return x;
}

static const char *const v6pfx[] = {
	"2a01:4f8", "2001:41d0", "2607:f8b0", "2a00:1450",
	"2604:a880", "2001:19f0", "2a02:c207", "2400:cb00",
};
static const char *const locals[] = {
	"user", "info", "sales", "news", "admin", "j.doe", "noreply", "mail",
};
static const char *const ourdomains[] = {
	"ourdomain.example", "ourdomain.example", "ourdomain.example",
	"ourdomain.example", "ourdomain.example", "ourdomain.example",
	"ourdomain.example", "lists.ourdomain.example",
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* One sender: an address, its HELO, and how many tuples it makes. */
struct sender {
	struct addr	 addr;
	char		 ip[48];
	char		 helo[96];
	uint32_t	 ntuples;
	uint32_t	 rcpt0;
	struct rng	 r;
};

static void
gen_sender(uint64_t seed, uint32_t i, struct sender *s)
{
	uint32_t u = perm32(i, (uint32_t)splitmix64(seed)), k;
	const char *why;
	bool v6;

	rng_seed(&s->r, seed, i);
	v6 = rng_below(&s->r, 100) < 20;
	if (!v6)
		snprintf(s->ip, sizeof(s->ip), "%u.%u.%u.%u", u >> 24,
		    (u >> 16) & 0xff, (u >> 8) & 0xff, u & 0xff);
	else
		snprintf(s->ip, sizeof(s->ip), "%s:%x:%x::%x:%x",
		    v6pfx[rng_below(&s->r, NELEM(v6pfx))],
		    1 + rng_below(&s->r, 0xffff), 1 + rng_below(&s->r, 0xffff),
		    u >> 16, u & 0xffff);
	if (addr_parse(s->ip, &s->addr, &why) == -1)
		die("internal error: %s: %s", s->ip, why);
	switch (rng_below(&s->r, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		snprintf(s->helo, sizeof(s->helo), "mail.example%u.com",
		    rng_below(&s->r, 100000));
		break;
	case 4:
	case 5:
		snprintf(s->helo, sizeof(s->helo), "mx%u.out%u.example.net",
		    1 + rng_below(&s->r, 20), rng_below(&s->r, 10000));
		break;
	case 6:
		snprintf(s->helo, sizeof(s->helo), v6 ? "[IPv6:%s]" : "[%s]",
		    s->ip);
		break;
	case 7:
		snprintf(s->helo, sizeof(s->helo), "DESKTOP-%07X",
		    rng_below(&s->r, 0x10000000));
		break;
	default:
		if (v6)
			snprintf(s->helo, sizeof(s->helo),
			    "host%u.isp%u.example", rng_below(&s->r, 1000000),
			    rng_below(&s->r, 1000));
		else
			snprintf(s->helo, sizeof(s->helo),
			    "%u-%u-%u-%u.dyn.isp%u.example", u & 0xff,
			    (u >> 8) & 0xff, (u >> 16) & 0xff, u >> 24,
			    rng_below(&s->r, 1000));
		break;
	}
	k = rng_below(&s->r, 100);
	s->ntuples = k < 60 ? 1 : k < 85 ? 2 : k < 95 ?
	    3 + rng_below(&s->r, 3) : 6 + rng_below(&s->r, 5);
	s->rcpt0 = rng_below(&s->r, 1000);
}

struct tuple {
	struct greylist_rcpt	 in;
	char			 from[96];
	char			 to[64];
	struct greylist_result	 res;
};

/* The sender's tuple j: a RCPT TO of its own (j < 1000), any sender. */
static void
gen_tuple(struct sender *s, uint32_t j, struct tuple *t)
{
	if (rng_below(&s->r, 100) < 5)
		strcpy(t->from, "<>");
	else
		snprintf(t->from, sizeof(t->from), "<%s%u@domain%u.example>",
		    locals[rng_below(&s->r, NELEM(locals))],
		    rng_below(&s->r, 1000), rng_below(&s->r, 1000));
	snprintf(t->to, sizeof(t->to), "<rcpt%u@%s>",
	    (s->rcpt0 + j) % 1000,
	    ourdomains[rng_below(&s->r, NELEM(ourdomains))]);
	memset(&t->in, 0, sizeof(t->in));
	t->in.addr = s->addr;
	t->in.helo = s->helo;
	t->in.from = t->from;
	t->in.to = t->to;
}

/* --- the body: a worker's commit (src/nfspamd/commit.c) --- */

struct batch {
	struct tuple		*t;
	size_t			 n;
	struct grey_conf	 gc;
	int64_t			 now;
	unsigned long		 runs;		/* body runs */
};

static int
grey_body(struct store_txn *txn, void *arg)
{
	struct batch *b = arg;
	struct greylist_wants *gw;
	struct store_want *all;
	size_t k = 0;
	int rc = 0;

	b->runs++;
	gw = calloc(b->n, sizeof(*gw));
	all = calloc(b->n, sizeof(*all) * GREYLIST_WANTS);
	if (gw == NULL || all == NULL)
		die("out of memory");
	for (size_t i = 0; i < b->n; i++) {
		greylist_rcpt_wants(&b->gc, &b->t[i].in, &gw[i]);
		for (size_t j = 0; j < gw[i].n; j++)
			all[k++] = gw[i].w[j];
	}
	if (store_prefetch(txn, all, k) == -1)
		rc = -1;
	for (size_t i = 0; i < b->n && rc == 0; i++)
		rc = greylist_rcpt(txn, &b->gc, NULL, &b->t[i].in, b->now,
		    &b->t[i].res);
	free(all);
	free(gw);
	return rc;
}

struct whites {
	struct sender		*s;
	size_t			 n;
	struct grey_conf	 gc;
	int64_t			 now;
	size_t			 keybytes;
};

static int
white_body(struct store_txn *txn, void *arg)
{
	struct whites *w = arg;
	char key[ADDR_STRLEN];
	struct store_rec r;
	size_t kl;

	w->keybytes = 0;
	for (size_t i = 0; i < w->n; i++) {
		kl = grey_net_key(&w->gc, &w->s[i].addr, key, sizeof(key));
		/* Passed within the last hour, WHITE for whiteexp. */
		r = (struct store_rec){ w->now - 3600 - (int64_t)(i % 3600),
		    w->now - 1800, w->now + w->gc.whiteexp -
		    (int64_t)(i % 86400), 2, 1 };
		if (store_put(txn, STORE_WHITE, key, kl, &r) != 0)
			return -1;
		w->keybytes += kl;
	}
	return 0;
}

static struct store *
open_store(const char *where, bool create)
{
	struct store_opts o = { .create = create, .sync_ms = 1000 };
	struct store *st;
	char err[512];

	if (rl_url_is_shared(where))
		o.shared = where;
	if (store_open(&st, where, &o, err, sizeof(err)) != 0)
		die("%s", err);
	return st;
}

static int
noop(struct store_txn *t, void *arg)
{
	(void)t;
	(void)arg;
	return 0;
}

/* --- fill --- */

static int
fill(int argc, char **argv)
{
	long n, batch = 1000, done = 0, addrs = 0, newt = 0;
	uint64_t seed = 1, spent = 0, t0;
	size_t keybytes = 0, nb = 0;
	struct store *st;
	struct tuple *t;
	struct sender *s;
	struct batch b = { 0 };
	char err[512], key[STORE_KEYMAX + 1];
	bool white;
	double cpu;
	int ch;

	if (argc < 5)
		usage();
	n = num("N", argv[3], 1, 100000000);
	if (strcmp(argv[4], "grey") == 0)
		white = false;
	else if (strcmp(argv[4], "white") == 0)
		white = true;
	else
		usage();
	optind = 5;
	while ((ch = getopt(argc, argv, "b:s:")) != -1)
		switch (ch) {
		case 'b': batch = num("-b", optarg, 1, 100000); break;
		case 's': seed = (uint64_t)num("-s", optarg, 0, 1L << 62);
			break;
		default: usage();
		}
	if (optind != argc)
		usage();
	st = open_store(argv[2], true);
	if (store_view(st, noop, NULL, err, sizeof(err)) != 0)
		die("%s", err);
	cpu = cpu_self();
	if (white) {
		struct whites w = { 0 };

		grey_conf_default(&w.gc);
		w.now = (int64_t)time(NULL);
		if ((s = calloc((size_t)batch, sizeof(*s))) == NULL)
			die("out of memory");
		w.s = s;
		for (done = 0; done < n; done += (long)w.n) {
			w.n = (size_t)(n - done < batch ? n - done : batch);
			for (size_t i = 0; i < w.n; i++)
				gen_sender(seed, (uint32_t)(done + (long)i),
				    &s[i]);
			t0 = mono_ns();
			if (store_update(st, white_body, &w, err,
			    sizeof(err)) != 0)
				die("%s", err);
			spent += mono_ns() - t0;
			keybytes += w.keybytes;
		}
		free(s);
		addrs = n;
		newt = n;
	} else {
		struct sender cur;
		uint32_t j = 0;

		grey_conf_default(&b.gc);
		b.gc.maxtuples = 0;
		b.now = (int64_t)time(NULL);
		if ((t = calloc((size_t)batch, sizeof(*t))) == NULL)
			die("out of memory");
		b.t = t;
		gen_sender(seed, 0, &cur);
		addrs = 1;
		while (done < n) {
			for (b.n = 0; b.n < (size_t)batch && done + (long)b.n <
			    n; b.n++) {
				if (j == cur.ntuples) {
					gen_sender(seed, (uint32_t)addrs++,
					    &cur);
					j = 0;
				}
				gen_tuple(&cur, j++, &t[b.n]);
			}
			t0 = mono_ns();
			if (store_update(st, grey_body, &b, err,
			    sizeof(err)) != 0)
				die("%s", err);
			spent += mono_ns() - t0;
			nb++;
			for (size_t i = 0; i < b.n; i++) {
				char ip[ADDR_STRLEN];

				if (t[i].res.outcome != GREYLIST_GREY ||
				    !t[i].res.new_tuple)
					die("tuple %ld: not new (outcome %d)",
					    done + (long)i, t[i].res.outcome);
				grey_net_key(&b.gc, &t[i].in.addr, ip,
				    sizeof(ip));
				keybytes += store_tuple_key(key, sizeof(key),
				    ip, t[i].in.helo, t[i].in.from,
				    t[i].in.to);
				newt++;
			}
			done += (long)b.n;
		}
		free(t);
	}
	cpu = cpu_self() - cpu;
	store_close(st);
	printf("fill: %ld %s into %s, %ld to a transaction\n", n,
	    white ? "WHITE entries" : "tuples",
	    argv[2], batch);
	printf("  addresses              %ld\n", addrs);
	printf("  entries                %ld (%.2f a sender)\n", newt,
	    (double)newt / (double)addrs);
	printf("  mean key               %.1f bytes (%s)\n",
	    (double)keybytes / (double)newt,
	    white ? "the address or /64" : "ip\\nhelo\\nfrom\\nto");
	printf("  store time             %.3f s: %.0f entries/s, client "
	    "cpu %.2f s\n", (double)spent / 1e9,
	    (double)newt / ((double)spent / 1e9), cpu);
	printf("RESULT mode=fill what=%s n=%ld addrs=%ld keybytes=%zu "
	    "secs=%.3f rate=%.0f body_runs=%lu batches=%zu cpu_s=%.2f\n",
	    white ? "white" : "grey", newt, addrs, keybytes,
	    (double)spent / 1e9, (double)newt / ((double)spent / 1e9),
	    b.runs, nb, cpu);
	return 0;
}

/* --- fleet --- */

struct fconf {
	const char	*where;
	long		 procs, tuples, batch, rate, pct, pool;
	long		 first;
	uint64_t	 seed;
};

struct fres {
	long		 id;
	long		 tuples, commits, runs, errors, newt;
	double		 start, end;		/* s, CLOCK_MONOTONIC */
	double		 p50, p90, p99, max;	/* ms a commit */
	double		 cpu;
	char		 err[512];
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_ms(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	return (double)v[(size_t)(p * (double)(n - 1))] / 1e6;
}

static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / NS), (long)(t % NS) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		c += w;
		n -= (size_t)w;
	}
}

static void
fleet_child(const struct fconf *c, long id, int ready, int go, int res)
{
	struct fres r = { .id = id };
	struct batch b = { 0 };
	struct sender s;
	struct store *st;
	struct rng pick;
	uint64_t *lat, t0, begin, gap, stagger;
	size_t nlat = 0, cap;
	char err[512], ch;

	st = open_store(c->where, false);
	if (store_view(st, noop, NULL, err, sizeof(err)) != 0)
		die("node %ld: %s", id, err);
	grey_conf_default(&b.gc);
	cap = (size_t)((c->tuples + c->batch - 1) / c->batch);
	if ((b.t = calloc((size_t)c->batch, sizeof(*b.t))) == NULL ||
	    (lat = calloc(cap, sizeof(*lat))) == NULL)
		die("out of memory");
	rng_seed(&pick, c->seed ^ 0x5eed, (uint64_t)id);
	write_all(ready, "r", 1);
	close(ready);
	if (read(go, &ch, 1) == -1)
		_exit(1);
	close(go);
	gap = c->rate > 0 ? (uint64_t)c->batch * NS / (uint64_t)c->rate : 0;
	/* Paced nodes start spread over one gap, not all at once. */
	stagger = gap * (uint64_t)id / (uint64_t)c->procs;
	begin = mono_ns();
	r.start = (double)begin / 1e9;
	r.cpu = cpu_self();
	for (long done = 0; done < c->tuples; done += (long)b.n) {
		if (gap > 0)
			sleep_until(begin + stagger + (uint64_t)r.commits *
			    gap);
		b.n = (size_t)(c->tuples - done < c->batch ? c->tuples - done :
		    c->batch);
		for (size_t i = 0; i < b.n; i++) {
			uint32_t a;

			if (c->pct > 0 && (long)rng_below(&pick, 100) < c->pct)
				a = POOL_BASE + rng_below(&pick,
				    (uint32_t)c->pool);
			else
				a = (uint32_t)(c->first + id * c->tuples +
				    done + (long)i);
			gen_sender(c->seed, a, &s);
			/* A tuple of its own, also from a pool address. */
			gen_tuple(&s, rng_below(&pick, 1000), &b.t[i]);
			snprintf(b.t[i].to, sizeof(b.t[i].to),
			    "<n%ld.%ld@ourdomain.example>", id,
			    done + (long)i);
		}
		b.now = (int64_t)time(NULL);
		t0 = mono_ns();
		if (store_update(st, grey_body, &b, err, sizeof(err)) != 0) {
			r.errors++;
			snprintf(r.err, sizeof(r.err), "%s", err);
		} else {
			for (size_t i = 0; i < b.n; i++)
				r.newt += b.t[i].res.new_tuple;
		}
		lat[nlat++] = mono_ns() - t0;
		r.commits++;
		r.tuples += (long)b.n;
	}
	r.end = (double)mono_ns() / 1e9;
	r.cpu = cpu_self() - r.cpu;
	r.runs = (long)b.runs;
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	r.p50 = pct_ms(lat, nlat, 0.50);
	r.p90 = pct_ms(lat, nlat, 0.90);
	r.p99 = pct_ms(lat, nlat, 0.99);
	r.max = pct_ms(lat, nlat, 1.0);
	store_close(st);
	write_all(res, &r, sizeof(r));
	_exit(0);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static pid_t	nodes[MAXPROCS];
static long	nnodes;

/* A node failed: the others go too, rather than wait for a reader. */
static void __attribute__((noreturn))
fleet_fail(const char *why)
{
	for (long i = 0; i < nnodes; i++)
		kill(nodes[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	die("%s", why);
}

static int
fleet(int argc, char **argv)
{
	struct fconf c = { .procs = 20, .tuples = 5000, .batch = 10,
	    .pool = 1000, .seed = 7 };
	int ready[2], go[2], res[2], ch, status, bad = 0;
	struct fres *r;
	double first = 0, last = 0, *p50, *p99, cpu = 0;
	long tuples = 0, commits = 0, runs = 0, errors = 0, newt = 0;
	pid_t pid;

	if (argc < 3)
		usage();
	c.where = argv[2];
	optind = 3;
	while ((ch = getopt(argc, argv, "b:n:o:P:r:s:X:x:")) != -1)
		switch (ch) {
		case 'b': c.batch = num("-b", optarg, 1, 100000); break;
		case 'n': c.tuples = num("-n", optarg, 1, 10000000); break;
		case 'o': c.first = num("-o", optarg, 0, 1L << 30); break;
		case 'P': c.procs = num("-P", optarg, 1, MAXPROCS); break;
		case 'r': c.rate = num("-r", optarg, 0, 10000000); break;
		case 's': c.seed = (uint64_t)num("-s", optarg, 0, 1L << 62);
			break;
		case 'X': c.pool = num("-X", optarg, 1, 1000000); break;
		case 'x': c.pct = num("-x", optarg, 0, 100); break;
		default: usage();
		}
	if (optind != argc)
		usage();
	if (c.first + c.procs * c.tuples >= (long)POOL_BASE)
		die("-o and -P x -n reach the pool's addresses");
	if (!rl_url_is_shared(c.where))
		store_close(open_store(c.where, true));	/* made once */
	if (pipe(ready) == -1 || pipe(go) == -1 || pipe(res) == -1)
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	for (long i = 0; i < c.procs; i++) {
		if ((pid = fork()) == -1)
			fleet_fail("fork failed");
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			close(res[0]);
			fleet_child(&c, i, ready[1], go[0], res[1]);
		}
		nodes[nnodes++] = pid;
	}
	close(ready[1]);
	close(go[0]);
	close(res[1]);
	for (long i = 0; i < c.procs; i++) {
		char x;

		if (read(ready[0], &x, 1) != 1)
			fleet_fail("a node did not get ready");
	}
	close(go[1]);		/* all go */
	if ((r = calloc((size_t)c.procs, sizeof(*r))) == NULL ||
	    (p50 = calloc((size_t)c.procs, sizeof(*p50))) == NULL ||
	    (p99 = calloc((size_t)c.procs, sizeof(*p99))) == NULL)
		die("out of memory");
	for (long i = 0; i < c.procs; i++) {
		size_t got = 0;
		ssize_t k;

		while (got < sizeof(r[i]) && (k = read(res[0],
		    (char *)&r[i] + got, sizeof(r[i]) - got)) > 0)
			got += (size_t)k;
		if (got != sizeof(r[i]))
			fleet_fail("node results cut short");
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	printf("fleet: %ld nodes at once on %s, %ld tuples each, %ld to a "
	    "commit, %s, %ld %% from a shared pool of %ld addresses\n",
	    c.procs, c.where, c.tuples, c.batch, c.rate > 0 ? "paced" :
	    "as fast as they go", c.pct, c.pool);
	for (long i = 0; i < c.procs; i++) {
		struct fres *x = &r[i];

		if (i == 0 || x->start < first)
			first = x->start;
		if (i == 0 || x->end > last)
			last = x->end;
		tuples += x->tuples;
		commits += x->commits;
		runs += x->runs;
		errors += x->errors;
		newt += x->newt;
		cpu += x->cpu;
		p50[i] = x->p50;
		p99[i] = x->p99;
		printf("  node %2ld: %ld tuples in %.3f s (%.0f/s), commit p50 "
		    "%.3f p90 %.3f p99 %.3f max %.3f ms, body runs %ld for "
		    "%ld commits, errors %ld%s%s\n", x->id, x->tuples,
		    x->end - x->start, (double)x->tuples / (x->end - x->start),
		    x->p50, x->p90, x->p99, x->max, x->runs, x->commits,
		    x->errors, x->errors ? ": " : "", x->err);
	}
	{
		double secs = last - first, mp50, mp99, lo50, hi99;

		mp50 = median(p50, (size_t)c.procs);
		lo50 = p50[0];
		mp99 = median(p99, (size_t)c.procs);
		hi99 = p99[c.procs - 1];
		printf("  all: %ld tuples in %.3f s: %.0f tuples/s; per-node "
		    "commit p50 median %.3f ms (lowest %.3f), p99 median "
		    "%.3f ms (highest %.3f); %ld bodies run again (EXEC "
		    "refused); %ld errors; %.1f us client cpu a tuple\n",
		    tuples, secs, (double)tuples / secs, mp50, lo50, mp99,
		    hi99, runs - commits, errors, cpu * 1e6 / (double)tuples);
		printf("RESULT mode=fleet procs=%ld tuples=%ld new=%ld "
		    "secs=%.3f rate=%.0f p50_med_ms=%.3f p50_min_ms=%.3f "
		    "p99_med_ms=%.3f p99_max_ms=%.3f commits=%ld retries=%ld "
		    "errors=%ld client_cpu_s=%.2f\n", c.procs, tuples, newt,
		    secs, (double)tuples / secs, mp50, lo50, mp99, hi99,
		    commits, runs - commits, errors, cpu);
	}
	free(r);
	free(p50);
	free(p99);
	return errors > 0 || bad > 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "fill") == 0)
		return fill(argc, argv);
	if (strcmp(argv[1], "fleet") == 0)
		return fleet(argc, argv);
	usage();
}
