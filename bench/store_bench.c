/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * store_bench: how fast the LMDB greylist store takes and gives back
 * greylist tuples, measured against bare LMDB and against spamd's way
 * of committing (one fsync'd commit per update), all in one run.
 *
 * In order: the store as nfspamd runs it (grouped commits, a sync at
 * most every second) takes n tuples in random order, gives each back in
 * another order, checked, and is scanned; bare LMDB (MDB_NOSYNC) takes
 * the same puts; the store takes them again with no sync until the end;
 * then f updates of one commit each, unsynced and fsync'd.
 *
 * Everything happens in a fresh directory under $TMPDIR (or /tmp) that
 * is removed at the end unless --keep is given.  Tuples are generated
 * from a seed, so two runs with the same flags write the same bytes.
 * Only the store (or LMDB) calls are timed, with CLOCK_MONOTONIC; making
 * the keys is not.  Figures go to stdout, one "name: value unit" a line.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <lmdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define PROG		"store_bench"

#define N_DEFAULT	1000000
#define N_MAX		20000000
#define B_DEFAULT	1000
#define B_MAX		100000
#define F_DEFAULT	5000
#define F_MAX		1000000
#define SEED_DEFAULT	1
#define GETBATCH	10000		/* keys read per store_view */
#define SYNC_MS		1000		/* as nfspamd runs */
#define KEYBUF		256		/* generated keys stay well below */
#define OPT_KEEP	1000		/* long options without a letter */
#define OPT_HELP	1001
#define TMPFS_MAGIC_	0x01021994	/* <linux/magic.h> TMPFS_MAGIC */

/* spamd's defaults: passtime 25 min, greyexp 4 h. */
#define PASSTIME	(25 * 60)
#define GREYEXP		(4 * 60 * 60)
#define T0		1700000000	/* tuples first seen from here on */

/* Streams of the PRNG that are not tuples (tuples use their index). */
#define STREAM_INSERT	(1ULL << 40)
#define STREAM_READ	((1ULL << 40) + 1)
#define STREAM_PERM	((1ULL << 40) + 2)

struct item {
	struct store_rec	rec;
	size_t			len;
	char			key[KEYBUF];
};

struct conf {
	unsigned long	n;		/* tuples */
	unsigned long	b;		/* tuples per transaction */
	unsigned long	f;		/* single-commit updates */
	uint64_t	seed;
	uint32_t	pkey;		/* keys the IP permutation */
	bool		keep;
};

/*
 * The temporary tree, with every path computed up front so that the
 * signal handler can remove it with unlink and rmdir alone.
 */
enum { ENV_STORE, ENV_RAW, ENV_NOSYNC, ENV_SINGLE, ENV_FSYNC, NENVS };
static const char *const envnames[NENVS] = {
	"store", "raw", "nosync", "single", "fsync"
};
#define TMPLEN	2048
static char	tmpdir[TMPLEN];
static char	envdir[NENVS][TMPLEN + 16];
static char	envfile[NENVS][2][TMPLEN + 32];	/* data.mdb, lock.mdb */
static volatile sig_atomic_t have_tmp, keep_tmp;

static void
cleanup(void)
{
	if (!have_tmp || keep_tmp)
		return;
	for (int i = 0; i < NENVS; i++) {
		unlink(envfile[i][0]);
		unlink(envfile[i][1]);
		rmdir(envdir[i]);
	}
	rmdir(tmpdir);
	have_tmp = 0;
}

static void
on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	if (have_tmp && keep_tmp)
		fprintf(stderr, "%s: kept %s\n", PROG, tmpdir);
	exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n, size)) == NULL)
		die("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static double
rate(unsigned long n, uint64_t ns)
{
	return ns == 0 ? 0.0 : (double)n / secs(ns);
}

static long
peak_rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return ru.ru_maxrss;
}

/*
 * The PRNG: xorshift64*, each stream seeded through splitmix64 from the
 * seed and a stream number (a tuple's index, or one of STREAM_*).
 */
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

/* Uniform enough in [0, n): the high bits, scaled. */
static uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/*
 * A keyed bijection of 32-bit numbers: every step (xor, multiply by an
 * odd number, xor with a right shift, add) can be undone.  Tuple i gets
 * address bits perm32(i), so no two tuples share an address and every
 * generated key is distinct, however the other fields fall.
 */
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

/* Tuple i of the run: its key and the record written for it. */
static void
gen_tuple(const struct conf *c, uint32_t i, struct item *it)
{
	char ip[48], helo[96], from[96], to[64];
	uint32_t u = perm32(i, c->pkey);
	struct rng r;
	int64_t t;
	bool v6;

	rng_seed(&r, c->seed, i);
	v6 = rng_below(&r, 100) < 20;
	if (!v6)
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", u >> 24,
		    (u >> 16) & 0xff, (u >> 8) & 0xff, u & 0xff);
	else if (u >> 16 != 0)
		snprintf(ip, sizeof(ip), "%s:%x:%x::%x:%x",
		    v6pfx[rng_below(&r, NELEM(v6pfx))],
		    1 + rng_below(&r, 0xffff), 1 + rng_below(&r, 0xffff),
		    u >> 16, u & 0xffff);
	else
		snprintf(ip, sizeof(ip), "%s:%x:%x::%x",
		    v6pfx[rng_below(&r, NELEM(v6pfx))],
		    1 + rng_below(&r, 0xffff), 1 + rng_below(&r, 0xffff),
		    u & 0xffff);

	switch (rng_below(&r, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		snprintf(helo, sizeof(helo), "mail.example%u.com",
		    rng_below(&r, 100000));
		break;
	case 4:
	case 5:
		snprintf(helo, sizeof(helo), "mx%u.out%u.example.net",
		    1 + rng_below(&r, 20), rng_below(&r, 10000));
		break;
	case 6:
		snprintf(helo, sizeof(helo), v6 ? "[IPv6:%s]" : "[%s]", ip);
		break;
	case 7:
		snprintf(helo, sizeof(helo), "DESKTOP-%07X",
		    rng_below(&r, 0x10000000));
		break;
	default:
		if (v6)
			snprintf(helo, sizeof(helo), "host%u.isp%u.example",
			    rng_below(&r, 1000000), rng_below(&r, 1000));
		else
			snprintf(helo, sizeof(helo),
			    "%u-%u-%u-%u.dyn.isp%u.example", u & 0xff,
			    (u >> 8) & 0xff, (u >> 16) & 0xff, u >> 24,
			    rng_below(&r, 1000));
		break;
	}

	if (rng_below(&r, 100) < 5)
		strcpy(from, "<>");	/* bounces are greylisted too */
	else
		snprintf(from, sizeof(from), "<%s%u@domain%u.example>",
		    locals[rng_below(&r, NELEM(locals))],
		    rng_below(&r, 1000), rng_below(&r, 1000));
	snprintf(to, sizeof(to), "<rcpt%u@%s>", rng_below(&r, 1000),
	    ourdomains[rng_below(&r, NELEM(ourdomains))]);

	it->len = store_tuple_key(it->key, sizeof(it->key), ip, helo, from,
	    to);
	if (it->len == 0)
		die("internal error: tuple %u does not make a key", i);

	/* A greylist entry as spamd makes it on first sight. */
	t = T0 + (int64_t)rng_below(&r, 4 * 86400);
	it->rec.first = t;
	it->rec.pass = t + PASSTIME;
	it->rec.expire = t + GREYEXP;
	it->rec.bcount = 1;
	if (rng_below(&r, 8) == 0)
		it->rec.bcount += (int32_t)rng_below(&r, 5);
	it->rec.pcount = 0;
}

static bool
rec_equal(const struct store_rec *a, const struct store_rec *b)
{
	return a->first == b->first && a->pass == b->pass &&
	    a->expire == b->expire && a->bcount == b->bcount &&
	    a->pcount == b->pcount;
}

/* 0..n-1 in a random order (Fisher-Yates). */
static uint32_t *
shuffled(const struct conf *c, uint64_t stream)
{
	uint32_t *v = xcalloc(c->n, sizeof(*v));
	struct rng r;

	rng_seed(&r, c->seed, stream);
	for (uint32_t i = 0; i < c->n; i++)
		v[i] = i;
	for (uint32_t i = (uint32_t)c->n - 1; i > 0; i--) {
		uint32_t j = rng_below(&r, i + 1), x = v[i];

		v[i] = v[j];
		v[j] = x;
	}
	return v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile q (0..1] of n latencies, in ms; sorts v. */
static double
pct_ms(uint64_t *v, size_t n, double q)
{
	size_t k;

	qsort(v, n, sizeof(*v), cmp_u64);
	k = (size_t)(q * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1e6;
}

/*
 * This process's write counters from /proc/self/io: wchar, the bytes
 * handed to write(2) and the like (LMDB writes its pages so), and
 * write_bytes, the bytes of page cache it dirtied, i.e. sent on their
 * way to the disk.  ok is false where the file cannot be read.
 */
struct iocount {
	long long	wchar, dirtied;
	bool		ok;
};

static struct iocount
io_now(void)
{
	struct iocount io = { 0, 0, false };
	char line[128];
	int seen = 0;
	FILE *fp;

	if ((fp = fopen("/proc/self/io", "r")) == NULL)
		return io;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "wchar: %lld", &io.wchar) == 1)
			seen |= 1;
		else if (sscanf(line, "write_bytes: %lld", &io.dirtied) == 1)
			seen |= 2;
	}
	fclose(fp);
	io.ok = seen == 3;
	return io;
}

static struct iocount
io_since(struct iocount start)
{
	struct iocount now = io_now();

	now.ok = now.ok && start.ok;
	now.wchar -= start.wchar;
	now.dirtied -= start.dirtied;
	return now;
}

struct dbsize {
	long long	disk;		/* st_blocks * 512 */
	long long	file;		/* st_size */
};

static struct dbsize
db_size(const char *path)
{
	struct dbsize s;
	struct stat sb;

	if (stat(path, &sb) == -1)
		die("%s: %s", path, strerror(errno));
	s.disk = (long long)sb.st_blocks * 512;
	s.file = (long long)sb.st_size;
	return s;
}

/* --- the store --------------------------------------------------- */

struct batch {
	struct item	*it;
	size_t		 n;
};

static int
put_batch(struct store_txn *t, void *arg)
{
	const struct batch *b = arg;

	for (size_t i = 0; i < b->n; i++)
		if (store_put(t, STORE_GREY, b->it[i].key, b->it[i].len,
		    &b->it[i].rec) == -1)
			return -1;
	return 0;
}

struct check {
	const struct batch *b;
	unsigned long	 bad;
	char		 first[256];	/* what went wrong first */
};

/* "what: key" with the key's newlines shown as \n, for one line. */
static void
describe(char *buf, size_t len, const char *what, const struct item *it)
{
	size_t n;

	n = (size_t)snprintf(buf, len, "%s: \"", what);
	for (size_t i = 0; i < it->len && n + 4 < len; i++) {
		if (it->key[i] == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else
			buf[n++] = it->key[i];
	}
	buf[n++] = '"';
	buf[n] = '\0';
}

static int
get_batch(struct store_txn *t, void *arg)
{
	struct check *ck = arg;
	const struct item *it;
	struct store_rec r;
	int rc;

	for (size_t i = 0; i < ck->b->n; i++) {
		it = &ck->b->it[i];
		rc = store_get(t, STORE_GREY, it->key, it->len, &r);
		if (rc == -1)
			return -1;
		if (rc == 0 && rec_equal(&r, &it->rec))
			continue;
		if (ck->bad++ == 0)
			describe(ck->first, sizeof(ck->first), rc == 1 ?
			    "not found" : "record differs", it);
	}
	return 0;
}

struct scan {
	unsigned long	 n, bogus;
	unsigned long long keybytes;
};

static int
scan_one(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct scan *s = arg;

	(void)type;
	(void)key;
	s->n++;
	s->keybytes += keylen;
	if (rec == NULL)
		s->bogus++;
	return 0;
}

static int
scan_grey(struct store_txn *t, void *arg)
{
	return store_scan(t, STORE_GREY, scan_one, arg);
}

static int
count_grey(struct store_txn *t, void *arg)
{
	long *n = arg;

	if ((*n = store_count(t, STORE_GREY)) == -1)
		return -1;
	return 0;
}

struct results {
	/* store, grouped commits */
	uint64_t	put_ns, flush_ns, get_ns, scan_ns;
	struct iocount	put_io, raw_io, nosync_io;
	double		batch_p50, batch_p99, batch_max;
	double		keyavg;
	unsigned long long keybytes;
	size_t		keymin, keymax;
	unsigned long	v6;
	struct dbsize	size;
	size_t		mapsize;
	long		rss_store;
	/* store, no sync until the end */
	uint64_t	nosync_put_ns, nosync_flush_ns;
	/* bare LMDB */
	uint64_t	raw_put_ns, raw_sync_ns;
	struct dbsize	raw_size;
	/* one commit per update */
	uint64_t	single_ns, view1_ns, fsync_ns;
	double		fsync_p50, fsync_max;
};

static struct store *
open_store(int env, unsigned sync_ms)
{
	struct store_opts o = { 0 };
	struct store *st;
	char err[512];

	o.sync_ms = sync_ms;
	o.create = true;
	if (store_open(&st, envdir[env], &o, err, sizeof(err)) == -1)
		die("store_open: %s", err);
	return st;
}

/* Shortest, longest and IPv6 keys into ks; returns the bytes of keys. */
static size_t
key_stats(struct results *ks, const struct item *it, size_t n)
{
	size_t bytes = 0;

	for (size_t i = 0; i < n; i++) {
		bytes += it[i].len;
		if (it[i].len < ks->keymin)
			ks->keymin = it[i].len;
		if (it[i].len > ks->keymax)
			ks->keymax = it[i].len;
		if (memchr(it[i].key, ':', it[i].len) != NULL)
			ks->v6++;
	}
	return bytes;
}

/*
 * Write the n tuples in the given order through store_update, b to a
 * transaction; returns the time spent in store_update.  Batch latencies
 * go to lat (one per batch); key statistics to ks unless it is NULL.
 */
static uint64_t
put_all(const struct conf *c, const uint32_t *order, struct store *st,
    struct item *it, uint64_t *lat, struct results *ks)
{
	unsigned long long keybytes = 0;
	struct batch b = { it, 0 };
	uint64_t t0, t1, total = 0;
	char err[512];
	size_t k = 0;
	int rc;

	if (ks != NULL)
		ks->keymin = SIZE_MAX;
	for (unsigned long done = 0; done < c->n; done += b.n) {
		b.n = c->n - done < c->b ? c->n - done : c->b;
		for (size_t i = 0; i < b.n; i++)
			gen_tuple(c, order[done + i], &it[i]);
		if (ks != NULL)
			keybytes += key_stats(ks, it, b.n);
		t0 = now_ns();
		rc = store_update(st, put_batch, &b, err, sizeof(err));
		t1 = now_ns();
		if (rc != 0)
			die("store_update: %s", err);
		lat[k++] = t1 - t0;
		total += t1 - t0;
	}
	if (ks != NULL) {
		ks->keybytes = keybytes;
		ks->keyavg = (double)keybytes / (double)c->n;
	}
	return total;
}

static void
bench_store(const struct conf *c, const uint32_t *order, struct results *res)
{
	size_t cap = c->b > GETBATCH ? c->b : GETBATCH;
	size_t nbatch = (c->n + c->b - 1) / c->b;
	struct item *it = xcalloc(cap, sizeof(*it));
	uint64_t *lat = xcalloc(nbatch, sizeof(*lat));
	struct batch b = { it, 0 };
	struct iocount io;
	struct check ck;
	struct scan sc;
	struct store *st;
	uint32_t *rorder;
	uint64_t t0, t1;
	char err[512];
	long count;
	int rc;

	st = open_store(ENV_STORE, SYNC_MS);
	io = io_now();
	res->put_ns = put_all(c, order, st, it, lat, res);
	res->put_io = io_since(io);
	res->batch_max = pct_ms(lat, nbatch, 1.0);
	res->batch_p99 = pct_ms(lat, nbatch, 0.99);
	res->batch_p50 = pct_ms(lat, nbatch, 0.50);
	free(lat);

	t0 = now_ns();
	if (store_flush(st, err, sizeof(err)) == -1)
		die("store_flush: %s", err);
	res->flush_ns = now_ns() - t0;
	res->size = db_size(envfile[ENV_STORE][0]);
	res->mapsize = store_mapsize(st);

	/* Read every tuple back, in another order, and check it. */
	rorder = shuffled(c, STREAM_READ);
	memset(&ck, 0, sizeof(ck));
	ck.b = &b;
	for (unsigned long done = 0; done < c->n; done += b.n) {
		b.n = c->n - done < GETBATCH ? c->n - done : GETBATCH;
		for (size_t i = 0; i < b.n; i++)
			gen_tuple(c, rorder[done + i], &it[i]);
		t0 = now_ns();
		rc = store_view(st, get_batch, &ck, err, sizeof(err));
		t1 = now_ns();
		if (rc != 0)
			die("store_view: %s", err);
		res->get_ns += t1 - t0;
	}
	free(rorder);
	if (ck.bad > 0)
		die("%lu of %lu tuples did not read back as written; "
		    "first: %s", ck.bad, c->n, ck.first);

	memset(&sc, 0, sizeof(sc));
	t0 = now_ns();
	rc = store_view(st, scan_grey, &sc, err, sizeof(err));
	res->scan_ns = now_ns() - t0;
	if (rc != 0)
		die("store_scan: %s", err);
	if (sc.n != c->n || sc.bogus != 0 || sc.keybytes != res->keybytes)
		die("scan saw %lu entries (%lu bogus, %llu key bytes); "
		    "wrote %lu (%llu key bytes)", sc.n, sc.bogus,
		    sc.keybytes, c->n, res->keybytes);
	if (store_view(st, count_grey, &count, err, sizeof(err)) != 0)
		die("store_count: %s", err);
	if (count != (long)c->n)
		die("store_count says %ld entries, wrote %lu", count, c->n);

	res->rss_store = peak_rss_kib();
	store_close(st);
	free(it);
}

/*
 * The store again, but with no sync until the end: what the store costs
 * over bare LMDB apart from the periodic sync.
 */
static void
bench_nosync(const struct conf *c, const uint32_t *order,
    struct results *res)
{
	struct item *it = xcalloc(c->b, sizeof(*it));
	uint64_t *lat = xcalloc((c->n + c->b - 1) / c->b, sizeof(*lat));
	struct iocount io;
	struct store *st;
	uint64_t t0;
	char err[512];

	st = open_store(ENV_NOSYNC, UINT_MAX);	/* 49 days */
	io = io_now();
	res->nosync_put_ns = put_all(c, order, st, it, lat, NULL);
	res->nosync_io = io_since(io);
	t0 = now_ns();
	if (store_flush(st, err, sizeof(err)) == -1)
		die("store_flush: %s", err);
	res->nosync_flush_ns = now_ns() - t0;
	store_close(st);
	free(lat);
	free(it);
}

/* --- bare LMDB: the same puts, no store in between ----------------- */

static void
mdb_die(const char *what, int rc)
{
	die("LMDB %s (%s): %s", what, envdir[ENV_RAW], mdb_strerror(rc));
}

static void
bench_raw(const struct conf *c, const uint32_t *order, struct results *res)
{
	struct item *it = xcalloc(c->b, sizeof(*it));
	uint8_t val[STORE_RECSIZE];
	struct iocount io;
	MDB_val k, v;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint64_t t0;
	size_t n;
	int rc;

	if (mkdir(envdir[ENV_RAW], 0750) == -1)
		die("%s: %s", envdir[ENV_RAW], strerror(errno));
	if ((rc = mdb_env_create(&env)) != 0)
		mdb_die("env_create", rc);
	/* Big enough from the start: bare LMDB never grows. */
	if ((rc = mdb_env_set_mapsize(env, (size_t)c->n * 1024 +
	    (64UL << 20))) != 0)
		mdb_die("set_mapsize", rc);
	if ((rc = mdb_env_open(env, envdir[ENV_RAW], MDB_NOSYNC, 0640)) != 0)
		mdb_die("env_open", rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0)
		mdb_die("dbi_open", rc);

	io = io_now();
	for (unsigned long done = 0; done < c->n; done += n) {
		n = c->n - done < c->b ? c->n - done : c->b;
		for (size_t i = 0; i < n; i++)
			gen_tuple(c, order[done + i], &it[i]);
		t0 = now_ns();
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
			mdb_die("txn_begin", rc);
		for (size_t i = 0; i < n; i++) {
			store_rec_encode(&it[i].rec, val);
			k.mv_size = it[i].len;
			k.mv_data = it[i].key;
			v.mv_size = sizeof(val);
			v.mv_data = val;
			if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
				mdb_die("put", rc);
		}
		if ((rc = mdb_txn_commit(txn)) != 0)
			mdb_die("commit", rc);
		res->raw_put_ns += now_ns() - t0;
	}
	res->raw_io = io_since(io);
	t0 = now_ns();
	if ((rc = mdb_env_sync(env, 1)) != 0)
		mdb_die("sync", rc);
	res->raw_sync_ns = now_ns() - t0;
	res->raw_size = db_size(envfile[ENV_RAW][0]);
	mdb_env_close(env);
	free(it);
}

/* --- one commit per update: unsynced, and fsync'd as spamd does ----- */

/*
 * f updates of one tuple each, one store_update apiece.  With getns, the
 * tuples are then read back one store_view apiece, as nfspamd looks a
 * tuple up for each connection, into *getns.
 */
static uint64_t
bench_single(const struct conf *c, int env, unsigned sync_ms,
    double *p50, double *pmax, uint64_t *getns)
{
	uint64_t *lat = xcalloc(c->f, sizeof(*lat));
	struct item it;
	struct batch b = { &it, 1 };
	struct check ck;
	struct store *st;
	uint64_t t0, t1, total = 0;
	char err[512];

	st = open_store(env, sync_ms);
	for (unsigned long i = 0; i < c->f; i++) {
		/* Tuples' keys fall in random order whatever their index. */
		gen_tuple(c, (uint32_t)i, &it);
		t0 = now_ns();
		if (store_update(st, put_batch, &b, err, sizeof(err)) != 0)
			die("store_update: %s", err);
		t1 = now_ns();
		lat[i] = t1 - t0;
		total += t1 - t0;
	}
	memset(&ck, 0, sizeof(ck));
	ck.b = &b;
	for (unsigned long i = 0; getns != NULL && i < c->f; i++) {
		gen_tuple(c, (uint32_t)i, &it);
		t0 = now_ns();
		if (store_view(st, get_batch, &ck, err, sizeof(err)) != 0)
			die("store_view: %s", err);
		*getns += now_ns() - t0;
	}
	if (ck.bad > 0)
		die("%lu of %lu tuples did not read back as written; "
		    "first: %s", ck.bad, c->f, ck.first);
	store_close(st);
	if (pmax != NULL)
		*pmax = pct_ms(lat, c->f, 1.0);
	if (p50 != NULL)
		*p50 = pct_ms(lat, c->f, 0.5);
	free(lat);
	return total;
}

/* --- setup and report ---------------------------------------------- */

static void
make_tmp(const struct conf *c)
{
	const char *base = getenv("TMPDIR");
	struct statfs sf;
	int n;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	n = snprintf(tmpdir, sizeof(tmpdir), "%s/nfspamd-bench-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof(tmpdir))
		die("TMPDIR is too long: %s", base);
	if (mkdtemp(tmpdir) == NULL)
		die("cannot make a directory in %s: %s", base,
		    strerror(errno));
	for (int i = 0; i < NENVS; i++) {
		snprintf(envdir[i], sizeof(envdir[i]), "%s/%s", tmpdir,
		    envnames[i]);
		snprintf(envfile[i][0], sizeof(envfile[i][0]),
		    "%s/%s/data.mdb", tmpdir, envnames[i]);
		snprintf(envfile[i][1], sizeof(envfile[i][1]),
		    "%s/%s/lock.mdb", tmpdir, envnames[i]);
	}
	keep_tmp = c->keep;
	have_tmp = 1;
	if (statfs(tmpdir, &sf) == 0 && sf.f_type == TMPFS_MAGIC_)
		fprintf(stderr, "%s: note: %s is on tmpfs, where fsync costs "
		    "nothing; set TMPDIR to a disk for meaningful figures\n",
		    PROG, tmpdir);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-n tuples] [-b batch] [-s seed] [-f fsync-updates] "
	    "[--keep]\n"
	    "  -n N    greylist tuples to write, read and scan "
	    "(default %d, 1..%d)\n"
	    "  -b B    tuples per write transaction (default %d, 1..%d)\n"
	    "  -s S    seed of the tuple generator (default %d)\n"
	    "  -f F    updates for the one-commit-per-update baselines "
	    "(default %d, 0 skips)\n"
	    "  --keep  leave the temporary directory in place\n"
	    "  -h      this help\n"
	    "Works in a new directory under $TMPDIR (or /tmp).\n",
	    PROG, N_DEFAULT, N_MAX, B_DEFAULT, B_MAX, SEED_DEFAULT, F_DEFAULT);
}

static unsigned long long
number(int opt, const char *s, unsigned long long min,
    unsigned long long max)
{
	unsigned long long v = 0;
	char *end = NULL;
	bool ok = false;

	/* Digits only: strtoull alone would take "-1", " 5" and "". */
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoull(s, &end, 10);
		ok = errno == 0 && *end == '\0' && v >= min && v <= max;
	}
	if (!ok) {
		fprintf(stderr, "%s: -%c: want a whole number from %llu to "
		    "%llu, not \"%s\"\n", PROG, opt, min, max, s);
		usage(stderr);
		exit(1);
	}
	return v;
}

static void
print_io(const char *name, const struct conf *c, struct iocount io)
{
	if (!io.ok)
		return;
	printf("%s_written: %.0f bytes/tuple\n", name, (double)io.wchar /
	    (double)c->n);
	printf("%s_dirtied: %.0f bytes/tuple\n", name, (double)io.dirtied /
	    (double)c->n);
}

static void
report(const struct conf *c, const struct results *r)
{
	double put = rate(c->n, r->put_ns), raw = rate(c->n, r->raw_put_ns);
	double get = rate(c->n, r->get_ns), single = 0, fsync = 0;
	double nosync = rate(c->n, r->nosync_put_ns);
	int maj, min, pat;

	if (c->f > 0) {
		single = rate(c->f, r->single_ns);
		fsync = rate(c->f, r->fsync_ns);
	}
	printf("lmdb_version: %s\n", mdb_version(&maj, &min, &pat));
	printf("tuples: %lu tuples\n", c->n);
	printf("batch: %lu tuples/txn\n", c->b);
	printf("seed: %llu\n", (unsigned long long)c->seed);
	printf("key_avg: %.1f bytes\n", r->keyavg);
	printf("key_min: %zu bytes\n", r->keymin);
	printf("key_max: %zu bytes\n", r->keymax);
	printf("ipv6_share: %.1f %%\n", 100.0 * (double)r->v6 /
	    (double)c->n);

	printf("put_time: %.3f s\n", secs(r->put_ns));
	printf("put_rate: %.0f puts/s\n", put);
	printf("put_batch_p50: %.3f ms\n", r->batch_p50);
	printf("put_batch_p99: %.3f ms\n", r->batch_p99);
	printf("put_batch_max: %.3f ms\n", r->batch_max);
	print_io("put", c, r->put_io);
	printf("put_final_sync: %.3f s\n", secs(r->flush_ns));
	printf("get_time: %.3f s\n", secs(r->get_ns));
	printf("get_rate: %.0f gets/s\n", get);
	printf("get_verified: %lu records\n", c->n);
	printf("scan_time: %.3f s\n", secs(r->scan_ns));
	printf("scan_rate: %.0f entries/s\n", rate(c->n, r->scan_ns));
	printf("scan_count: %lu entries\n", c->n);
	printf("db_disk_size: %lld bytes\n", r->size.disk);
	printf("db_file_size: %lld bytes\n", r->size.file);
	printf("db_bytes_per_tuple: %.1f bytes\n", (double)r->size.disk /
	    (double)c->n);
	printf("db_map_size: %zu bytes\n", r->mapsize);
	printf("peak_rss_store: %ld KiB\n", r->rss_store);

	printf("raw_put_time: %.3f s\n", secs(r->raw_put_ns));
	printf("raw_put_rate: %.0f puts/s\n", raw);
	print_io("raw_put", c, r->raw_io);
	printf("raw_final_sync: %.3f s\n", secs(r->raw_sync_ns));
	printf("raw_db_disk_size: %lld bytes\n", r->raw_size.disk);
	printf("store_raw_put_ratio: %.3f\n", raw > 0 ? put / raw : 0.0);
	printf("nosync_put_time: %.3f s\n", secs(r->nosync_put_ns));
	printf("nosync_put_rate: %.0f puts/s\n", nosync);
	print_io("nosync_put", c, r->nosync_io);
	printf("nosync_final_sync: %.3f s\n", secs(r->nosync_flush_ns));
	printf("nosync_raw_put_ratio: %.3f\n", raw > 0 ? nosync / raw : 0.0);

	if (c->f > 0) {
		printf("single_commits: %lu commits\n", c->f);
		printf("single_commit_rate: %.0f commits/s\n", single);
		printf("single_view_get_rate: %.0f gets/s\n",
		    rate(c->f, r->view1_ns));
		printf("fsync_commits: %lu commits\n", c->f);
		printf("fsync_time: %.3f s\n", secs(r->fsync_ns));
		printf("fsync_commit_rate: %.0f commits/s\n", fsync);
		printf("fsync_commit_p50: %.3f ms\n", r->fsync_p50);
		printf("fsync_commit_max: %.3f ms\n", r->fsync_max);
		printf("grouped_fsync_ratio: %.1f\n", fsync > 0 ?
		    put / fsync : 0.0);
	}
	printf("peak_rss: %ld KiB\n", peak_rss_kib());

	printf("summary: %lu tuples, batch %lu: %.0f puts/s (%.2fx bare "
	    "LMDB), %.0f gets/s, scan %.3f s, %.1f bytes/tuple on disk",
	    c->n, c->b, put, raw > 0 ? put / raw : 0.0, get,
	    secs(r->scan_ns), (double)r->size.disk / (double)c->n);
	if (c->f > 0)
		printf(", fsync per update %.0f commits/s (grouped %.1fx "
		    "faster)", fsync, fsync > 0 ? put / fsync : 0.0);
	printf(", peak RSS %.0f MiB\n", (double)peak_rss_kib() / 1024.0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct conf c = { N_DEFAULT, B_DEFAULT, F_DEFAULT, SEED_DEFAULT,
	    0, false };
	struct results res;
	struct sigaction sa;
	uint32_t *order;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":n:b:s:f:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			c.n = number(ch, optarg, 1, N_MAX);
			break;
		case 'b':
			c.b = number(ch, optarg, 1, B_MAX);
			break;
		case 's':
			c.seed = number(ch, optarg, 0, UINT64_MAX);
			break;
		case 'f':
			c.f = number(ch, optarg, 0, F_MAX);
			break;
		case OPT_KEEP:
			c.keep = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "%s: %s needs a value\n", PROG,
			    argv[optind - 1]);
			usage(stderr);
			return 1;
		default:
			if (optopt == OPT_KEEP || optopt == OPT_HELP)
				fprintf(stderr, "%s: --%s takes no value\n",
				    PROG, optopt == OPT_KEEP ? "keep" : "help");
			else if (optopt != 0)
				fprintf(stderr, "%s: unknown flag -%c\n",
				    PROG, optopt);
			else
				fprintf(stderr, "%s: unknown flag %s\n",
				    PROG, argv[optind - 1]);
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", PROG,
		    argv[optind]);
		usage(stderr);
		return 1;
	}
	if (c.b > c.n)
		c.b = c.n;
	c.pkey = (uint32_t)splitmix64(c.seed ^ STREAM_PERM);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	make_tmp(&c);
	memset(&res, 0, sizeof(res));
	order = shuffled(&c, STREAM_INSERT);
	bench_store(&c, order, &res);
	bench_raw(&c, order, &res);
	bench_nosync(&c, order, &res);
	free(order);
	if (c.f > 0) {
		res.single_ns = bench_single(&c, ENV_SINGLE, SYNC_MS, NULL,
		    NULL, &res.view1_ns);
		res.fsync_ns = bench_single(&c, ENV_FSYNC, 0, &res.fsync_p50,
		    &res.fsync_max, NULL);
	}
	report(&c, &res);
	if (c.keep)
		fprintf(stderr, "%s: kept %s\n", PROG, tmpdir);
	cleanup();
	return 0;
}
