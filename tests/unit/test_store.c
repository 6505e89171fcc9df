/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for the LMDB store: encoding, schema checks, transactions,
 * address entries, scans, several processes, growth, SIGKILL, full disk.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

struct fixture {
	char	dir[64];
	char	err[256];
};

static int
rmtree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/nfs-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rmtree(f->dir);
	free(f);
	return 0;
}

static struct store *
open_rw(struct fixture *f, size_t mapsize, size_t maxsize)
{
	struct store_opts o = { .create = true, .mapsize = mapsize,
	    .maxsize = maxsize, .sync_ms = 1000 };
	struct store *st;

	if (store_open(&st, f->dir, &o, f->err, sizeof(f->err)) != 0)
		fail_msg("store_open: %s", f->err);
	return st;
}

static struct store_rec
mkrec(int64_t base)
{
	struct store_rec r = { base, base + 1, base + 2, (int32_t)base,
	    -(int32_t)(base % 3) };
	return r;
}

/* --- encoding --- */

static void
test_rec_layout(void **state)
{
	struct store_rec r = { 0x0102030405060708LL, -2, 1700000000,
	    0x11223344, -1 }, back;
	uint8_t b[STORE_RECSIZE];
	static const uint8_t want[STORE_RECSIZE] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00,
		0x44, 0x33, 0x22, 0x11,
		0xff, 0xff, 0xff, 0xff,
	};

	(void)state;
	store_rec_encode(&r, b);
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(store_rec_decode(b, sizeof(b), &back), 0);
	assert_memory_equal(&back, &r, sizeof(r));
	assert_int_equal(store_rec_decode(b, 31, &back), -1);
	assert_int_equal(store_rec_decode(b, 20, &back), -1);
	assert_int_equal(store_rec_decode(b, 33, &back), -1);
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(store_type_name(STORE_WHITE), "WHITE");
	assert_string_equal(store_type_name(STORE_GREY), "GREY");
	assert_string_equal(store_type_name(STORE_TRAPPED), "TRAPPED");
	assert_string_equal(store_type_name(STORE_SPAMTRAP), "SPAMTRAP");
	assert_string_equal(store_type_name(STORE_NTYPES), "?");
}

/* --- tuple keys --- */

static void
test_tuple_key(void **state)
{
	char buf[STORE_KEYMAX + 1], big[600];
	struct store_tuple tp;
	size_t n;

	(void)state;
	n = store_tuple_key(buf, sizeof(buf), "192.0.2.1", "mx.example",
	    "<a@example.org>", "<b@example.net>");
	assert_int_equal(n, strlen("192.0.2.1\nmx.example\n<a@example.org>\n"
	    "<b@example.net>"));
	assert_string_equal(buf, "192.0.2.1\nmx.example\n<a@example.org>\n"
	    "<b@example.net>");
	assert_int_equal(store_tuple_split(buf, n, &tp), 0);
	assert_int_equal(tp.iplen, 9);
	assert_memory_equal(tp.ip, "192.0.2.1", 9);
	assert_int_equal(tp.helolen, 10);
	assert_memory_equal(tp.helo, "mx.example", 10);
	assert_int_equal(tp.fromlen, 15);
	assert_memory_equal(tp.from, "<a@example.org>", 15);
	assert_int_equal(tp.tolen, 15);
	assert_memory_equal(tp.to, "<b@example.net>", 15);

	/* Empty helo is fine; a newline in any field is not. */
	n = store_tuple_key(buf, sizeof(buf), "2001:db8::1", "", "<>", "<x@y>");
	assert_int_equal(n, 11 + 1 + 0 + 1 + 2 + 1 + 5);
	assert_int_equal(store_tuple_split(buf, n, &tp), 0);
	assert_int_equal(tp.helolen, 0);
	assert_int_equal(store_tuple_key(buf, sizeof(buf), "1.2.3.4", "a\nb",
	    "<>", "<x@y>"), 0);
	assert_int_equal(store_tuple_key(buf, 10, "1.2.3.4", "a", "b", "c"), 0);

	/* Too long for an LMDB key. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_tuple_key(buf, sizeof(buf), "1.2.3.4", "h",
	    big, "x"), 0);

	/* spamdb's old three-field form: empty helo. */
	assert_int_equal(store_tuple_split("10.0.0.1\n<a@b>\n<c@d>", 20, &tp),
	    0);
	assert_int_equal(tp.helolen, 0);
	assert_string_equal(tp.helo, "");
	assert_memory_equal(tp.from, "<a@b>", 5);
	assert_int_equal(tp.tolen, 5);
	assert_memory_equal(tp.to, "<c@d>", 5);

	/* Malformed: too few, too many fields, empty ip. */
	assert_int_equal(store_tuple_split("10.0.0.1", 8, &tp), -1);
	assert_int_equal(store_tuple_split("a\nb", 3, &tp), -1);
	assert_int_equal(store_tuple_split("a\nb\nc\nd\ne", 9, &tp), -1);
	assert_int_equal(store_tuple_split("\nb\nc\nd", 6, &tp), -1);
}

/* --- open and schema --- */

static void
test_open_missing(void **state)
{
	struct fixture *f = *state;
	struct store_opts ro = { .readonly = true };
	struct store *st;
	char path[128];

	snprintf(path, sizeof(path), "%s/nope", f->dir);
	assert_int_equal(store_open(&st, path, &ro, f->err, sizeof(f->err)),
	    -1);
	assert_null(st);
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "does not exist"));

	/* An existing but empty directory has no database to read. */
	assert_int_equal(store_open(&st, f->dir, &ro, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "no data.mdb"));

	/* Without create, a missing directory is an error for writers too, */
	assert_int_equal(store_open(&st, path, NULL, f->err, sizeof(f->err)),
	    -1);
	/* and so is an empty one: only a creating writer starts a database. */
	assert_int_equal(store_open(&st, f->dir, NULL, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "no data.mdb"));

	/* A regular file where the directory should be. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(store_open(&st, path, NULL, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "not a directory"));
}

static void
test_open_create(void **state)
{
	struct fixture *f = *state;
	struct store_opts o = { .create = true };
	struct store *st;
	char path[128];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/db", f->dir);
	assert_int_equal(store_open(&st, path, &o, f->err, sizeof(f->err)), 0);
	assert_string_equal(store_dir(st), path);
	assert_true(store_mapsize(st) >= STORE_MAPSIZE_DEFAULT);
	store_close(st);
	snprintf(path, sizeof(path), "%s/db/data.mdb", f->dir);
	assert_int_equal(stat(path, &sb), 0);
}

static void
write_raw(const char *dir, const char *dbname, const char *key,
    const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { strlen(key), (void *)key }, v = { vlen, (void *)val };

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, dbname, MDB_CREATE, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_open_foreign(void **state)
{
	struct fixture *f = *state;
	struct store_opts ro = { .readonly = true };
	struct store *st;

	/* Someone else's LMDB environment: refuse, in both modes. */
	write_raw(f->dir, NULL, "hello", "world", 5);
	assert_int_equal(store_open(&st, f->dir, NULL, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "not an nfspamd database"));
	assert_int_equal(store_open(&st, f->dir, &ro, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "not an nfspamd database"));
}

static void
test_open_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 0, 0);
	uint8_t v[4] = { STORE_SCHEMA + 1, 0, 0, 0 };

	store_close(st);
	/* Pretend a newer nfspamd wrote this database. */
	write_raw(f->dir, "meta", "schema", v, sizeof(v));
	assert_int_equal(store_open(&st, f->dir, NULL, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "schema version 2"));
	assert_non_null(strstr(f->err, "not touching"));
}

static void
test_open_garbage(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	char path[128];
	int fd;

	/* Berkeley DB, a text file, anything: not LMDB. */
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	for (int i = 0; i < 64; i++)
		assert_int_equal(write(fd, "this is not an lmdb file\n", 25),
		    25);
	close(fd);
	assert_int_equal(store_open(&st, f->dir, NULL, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, f->dir));
}

/* --- transactions --- */

struct kv {
	enum store_type	 type;
	const char	*key;
	struct store_rec rec;
};

static int
put_one(struct store_txn *t, void *arg)
{
	struct kv *kv = arg;

	return store_put(t, kv->type, kv->key, strlen(kv->key), &kv->rec);
}

static int
get_one(struct store_txn *t, void *arg)
{
	struct kv *kv = arg;
	int rc = store_get(t, kv->type, kv->key, strlen(kv->key), &kv->rec);

	return rc == 1 ? 2 : rc;	/* 2: not found */
}

static int
del_one(struct store_txn *t, void *arg)
{
	struct kv *kv = arg;
	int rc = store_del(t, kv->type, kv->key, strlen(kv->key));

	return rc == 1 ? 2 : rc;
}

static void
test_put_get_del_reopen(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 0, 0);
	struct kv kv = { STORE_WHITE, "192.0.2.7", mkrec(1700000000) };
	struct kv q = { STORE_WHITE, "192.0.2.7", { 0 } };

	assert_int_equal(store_update(st, put_one, &kv, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_view(st, get_one, &q, f->err, sizeof(f->err)),
	    0);
	assert_memory_equal(&q.rec, &kv.rec, sizeof(kv.rec));
	store_close(st);

	/* A reopen (read-only this time) sees the same record. */
	struct store_opts ro = { .readonly = true };
	assert_int_equal(store_open(&st, f->dir, &ro, f->err, sizeof(f->err)),
	    0);
	memset(&q.rec, 0, sizeof(q.rec));
	assert_int_equal(store_view(st, get_one, &q, f->err, sizeof(f->err)),
	    0);
	assert_memory_equal(&q.rec, &kv.rec, sizeof(kv.rec));
	/* Read-only handles refuse writes with a reason. */
	assert_int_equal(store_update(st, put_one, &kv, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "read-only"));
	store_close(st);

	st = open_rw(f, 0, 0);
	/* Types are separate key spaces. */
	q.type = STORE_TRAPPED;
	assert_int_equal(store_view(st, get_one, &q, f->err, sizeof(f->err)),
	    2);
	q.type = STORE_WHITE;
	assert_int_equal(store_update(st, del_one, &q, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_update(st, del_one, &q, f->err,
	    sizeof(f->err)), 2);
	assert_int_equal(store_view(st, get_one, &q, f->err, sizeof(f->err)),
	    2);
	store_close(st);
}

static int
put_then_fail(struct store_txn *t, void *arg)
{
	struct kv *kv = arg;

	if (store_put(t, kv->type, kv->key, strlen(kv->key), &kv->rec) != 0)
		return -1;
	return 7;	/* changed my mind: nothing may be committed */
}

static void
test_abort_on_error(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 0, 0);
	struct kv kv = { STORE_GREY, "1.2.3.4\nh\nf\nt", mkrec(1) };

	assert_int_equal(store_update(st, put_then_fail, &kv, f->err,
	    sizeof(f->err)), 7);
	assert_int_equal(store_view(st, get_one, &kv, f->err, sizeof(f->err)),
	    2);
	store_close(st);
}

static int
bad_keys(struct store_txn *t, void *arg)
{
	char big[STORE_KEYMAX + 2];
	struct store_rec r = mkrec(1);

	(void)arg;
	memset(big, 'k', sizeof(big));
	assert_int_equal(store_put(t, STORE_WHITE, "", 0, &r), -1);
	assert_non_null(strstr(store_txn_error(t), "key of 0 bytes"));
	assert_int_equal(store_put(t, STORE_WHITE, big, sizeof(big), &r), -1);
	assert_non_null(strstr(store_txn_error(t), "key of 513 bytes"));
	assert_int_equal(store_get(t, STORE_NTYPES, "x", 1, &r), -1);
	assert_int_equal(store_put(t, STORE_WHITE, big, STORE_KEYMAX, &r), 0);
	return 0;
}

static void
test_key_limits(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 0, 0);

	assert_int_equal(store_update(st, bad_keys, NULL, f->err,
	    sizeof(f->err)), 0);
	store_close(st);
}

/* --- address entries --- */

struct addrq {
	const char	*key;
	enum store_type	 type;
	struct store_rec rec;
	int		 rc;
};

static int
put_addr(struct store_txn *t, void *arg)
{
	struct addrq *a = arg;

	return store_put_addr(t, a->key, strlen(a->key), a->type, &a->rec);
}

static int
get_addr(struct store_txn *t, void *arg)
{
	struct addrq *a = arg;

	a->rc = store_get_addr(t, a->key, strlen(a->key), &a->type, &a->rec);
	return a->rc == -1 ? -1 : 0;
}

static void
test_addr_entries(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 0, 0);
	struct addrq a = { "2001:db8::1", STORE_WHITE, mkrec(10), 0 };
	struct addrq q = { "2001:db8::1", STORE_GREY, { 0 }, 0 };
	struct kv kv = { STORE_WHITE, "2001:db8::1", { 0 } };

	assert_int_equal(store_update(st, put_addr, &a, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_view(st, get_addr, &q, f->err, sizeof(f->err)),
	    0);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.type, STORE_WHITE);
	assert_memory_equal(&q.rec, &a.rec, sizeof(a.rec));

	/* Trapping moves the key: it is never in both. */
	a.type = STORE_TRAPPED;
	a.rec.pcount = -1;
	assert_int_equal(store_update(st, put_addr, &a, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_view(st, get_addr, &q, f->err, sizeof(f->err)),
	    0);
	assert_int_equal(q.type, STORE_TRAPPED);
	assert_int_equal(q.rec.pcount, -1);
	assert_int_equal(store_view(st, get_one, &kv, f->err, sizeof(f->err)),
	    2);

	/* And back. */
	a.type = STORE_WHITE;
	a.rec.pcount = 0;
	assert_int_equal(store_update(st, put_addr, &a, f->err,
	    sizeof(f->err)), 0);
	kv.type = STORE_TRAPPED;
	assert_int_equal(store_view(st, get_one, &kv, f->err, sizeof(f->err)),
	    2);

	/* Only WHITE and TRAPPED are address types. */
	a.type = STORE_GREY;
	assert_int_equal(store_update(st, put_addr, &a, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "not an address entry type"));

	q.key = "192.0.2.99";
	assert_int_equal(store_view(st, get_addr, &q, f->err, sizeof(f->err)),
	    0);
	assert_int_equal(q.rc, 1);
	store_close(st);
}

/* --- scans --- */

struct collect {
	char	keys[16][64];
	int	n;
	int	bogus;
	int	stop_at;
};

static int
collect_fn(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct collect *c = arg;

	(void)type;
	if (rec == NULL)
		c->bogus++;
	snprintf(c->keys[c->n], sizeof(c->keys[0]), "%.*s", (int)keylen, key);
	c->n++;
	return c->n == c->stop_at ? 42 : 0;
}

struct scanreq {
	enum store_type	 type;
	struct collect	*c;
	long		 count;
};

static int
scan_fn(struct store_txn *t, void *arg)
{
	struct scanreq *s = arg;

	s->count = store_count(t, s->type);
	return store_scan(t, s->type, collect_fn, s->c);
}

static void
test_scan_order_and_bogus(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 0, 0);
	const char *keys[] = { "192.0.2.3", "10.0.0.1", "2001:db8::1",
	    "192.0.2.10" };
	struct collect c = { .stop_at = -1 };
	struct scanreq s = { STORE_WHITE, &c, 0 };

	for (size_t i = 0; i < 4; i++) {
		struct kv kv = { STORE_WHITE, keys[i], mkrec((int64_t)i) };
		assert_int_equal(store_update(st, put_one, &kv, f->err,
		    sizeof(f->err)), 0);
	}
	store_close(st);
	/* A value of the wrong size, as a damaged database might hold. */
	write_raw(f->dir, "white", "192.0.2.5", "short", 5);
	st = open_rw(f, 0, 0);

	assert_int_equal(store_view(st, scan_fn, &s, f->err, sizeof(f->err)),
	    0);
	assert_int_equal(s.count, 5);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.bogus, 1);
	/* Byte order of the keys: stable output for nfspamdb. */
	assert_string_equal(c.keys[0], "10.0.0.1");
	assert_string_equal(c.keys[1], "192.0.2.10");
	assert_string_equal(c.keys[2], "192.0.2.3");
	assert_string_equal(c.keys[3], "192.0.2.5");
	assert_string_equal(c.keys[4], "2001:db8::1");

	/* get on the bogus entry is an error naming it. */
	struct kv b = { STORE_WHITE, "192.0.2.5", { 0 } };
	assert_int_equal(store_view(st, get_one, &b, f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "bogus WHITE entry \"192.0.2.5\""));

	/* The callback can stop the walk. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(store_view(st, scan_fn, &s, f->err, sizeof(f->err)),
	    42);
	assert_int_equal(c.n, 2);

	/* An empty database walks nothing. */
	memset(&c, 0, sizeof(c));
	s.type = STORE_SPAMTRAP;
	assert_int_equal(store_view(st, scan_fn, &s, f->err, sizeof(f->err)),
	    0);
	assert_int_equal(c.n, 0);
	assert_int_equal(s.count, 0);
	store_close(st);
}

/* --- growth --- */

struct bulk {
	int	from, to;
};

static int
put_bulk(struct store_txn *t, void *arg)
{
	struct bulk *b = arg;
	char key[64];
	struct store_rec r;

	for (int i = b->from; i < b->to; i++) {
		int n = snprintf(key, sizeof(key),
		    "10.%d.%d.%d\nhelo.example\n<s%d@example.org>\n<r@x>",
		    i >> 16 & 255, i >> 8 & 255, i & 255, i);
		r = mkrec(i);
		if (store_put(t, STORE_GREY, key, (size_t)n, &r) != 0)
			return -1;
	}
	return 0;
}

static int
count_grey(struct store_txn *t, void *arg)
{
	*(long *)arg = store_count(t, STORE_GREY);
	return 0;
}

static void
test_map_growth(void **state)
{
	struct fixture *f = *state;
	/* 1 MiB to start: 20,000 tuples need several doublings. */
	struct store *st = open_rw(f, 1 << 20, 64 << 20);
	struct bulk b = { 0, 20000 };
	long n = 0;

	assert_int_equal(store_mapsize(st), 1 << 20);
	assert_int_equal(store_update(st, put_bulk, &b, f->err,
	    sizeof(f->err)), 0);
	assert_true(store_mapsize(st) > (1 << 20));
	assert_int_equal(store_view(st, count_grey, &n, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(n, 20000);
	store_close(st);

	/* A later open with a small mapsize adopts the larger file. */
	st = open_rw(f, 1 << 20, 64 << 20);
	assert_true(store_mapsize(st) > (1 << 20));
	store_close(st);
}

static void
test_map_limit(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 1 << 20, 2 << 20);
	struct bulk b = { 0, 1000 };
	long n = 0;

	assert_int_equal(store_update(st, put_bulk, &b, f->err,
	    sizeof(f->err)), 0);
	/* 100,000 tuples do not fit in 2 MiB: a clear error, no damage. */
	b.from = 1000;
	b.to = 100000;
	assert_int_equal(store_update(st, put_bulk, &b, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "database full"));
	assert_non_null(strstr(f->err, "--db-max-size"));
	assert_int_equal(store_view(st, count_grey, &n, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(n, 1000);
	store_close(st);
}

/* --- several processes --- */

static void
child_writer(const char *dir, int base, int count)
{
	struct store_opts o = { .sync_ms = 1000 };
	struct store *st;
	char err[256];

	if (store_open(&st, dir, &o, err, sizeof(err)) != 0)
		_exit(2);
	for (int i = base; i < base + count; i++) {
		struct bulk b = { i, i + 1 };
		if (store_update(st, put_bulk, &b, err, sizeof(err)) != 0)
			_exit(3);
	}
	store_close(st);
	_exit(0);
}

static void
test_two_processes(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_rw(f, 0, 0);
	pid_t pid[2];
	int status;
	long n = 0;

	/* Both children and this process hold the environment open. */
	for (int i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0)
			child_writer(f->dir, i * 5000, 2000);
		assert_true(pid[i] > 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(store_view(st, count_grey, &n, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(n, 4000);
	store_close(st);
}

/* Commits one tuple per transaction and reports each commit on fd. */
static void
child_reporter(const char *dir, int fd)
{
	struct store_opts o = { .sync_ms = 1000 };
	struct store *st;
	char err[256];

	if (store_open(&st, dir, &o, err, sizeof(err)) != 0)
		_exit(2);
	for (int i = 0;; i++) {
		struct bulk b = { i, i + 1 };
		if (store_update(st, put_bulk, &b, err, sizeof(err)) != 0)
			_exit(3);
		if (write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(4);
	}
}

struct has {
	int	upto;
	int	missing;
};

static int
check_has(struct store_txn *t, void *arg)
{
	struct has *h = arg;
	char key[64];
	struct store_rec r;

	for (int i = 0; i <= h->upto; i++) {
		int n = snprintf(key, sizeof(key),
		    "10.%d.%d.%d\nhelo.example\n<s%d@example.org>\n<r@x>",
		    i >> 16 & 255, i >> 8 & 255, i & 255, i);
		if (store_get(t, STORE_GREY, key, (size_t)n, &r) != 0 ||
		    r.first != i)
			h->missing++;
	}
	return 0;
}

static void
test_sigkill_keeps_commits(void **state)
{
	struct fixture *f = *state;
	struct has h = { -1, 0 };
	struct store *st;
	int p[2], i, status;
	pid_t pid;

	/* Create the environment first so the child only writes. */
	st = open_rw(f, 0, 0);
	store_close(st);
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		child_reporter(f->dir, p[1]);
	}
	close(p[1]);
	/* Let it commit a few thousand, then kill it mid-stream. */
	while (read(p[0], &i, sizeof(i)) == sizeof(i)) {
		h.upto = i;
		if (i == 3000)
			kill(pid, SIGKILL);
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_true(h.upto >= 3000);

	st = open_rw(f, 0, 0);
	assert_int_equal(store_view(st, check_has, &h, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(h.missing, 0);
	store_close(st);
}

/* --- durability settings --- */

static void
test_sync_modes(void **state)
{
	struct fixture *f = *state;
	struct store_opts o = { .create = true, .sync_ms = 0 };
	struct store *st;
	struct kv kv = { STORE_SPAMTRAP, "trap@example.org", mkrec(9) };

	/* fsync on every commit. */
	assert_int_equal(store_open(&st, f->dir, &o, f->err, sizeof(f->err)),
	    0);
	assert_int_equal(store_update(st, put_one, &kv, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_flush(st, f->err, sizeof(f->err)), 0);
	store_close(st);

	/* Grouped: flush syncs what is pending. */
	st = open_rw(f, 0, 0);
	kv.key = "other@example.org";
	assert_int_equal(store_update(st, put_one, &kv, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_flush(st, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_view(st, get_one, &kv, f->err, sizeof(f->err)),
	    0);
	store_close(st);
}

/* --- full disk (root only: a 1 MiB tmpfs in a private mount ns) --- */

static void
child_fill_disk(const char *dir)
{
	struct store_opts o = { .create = true, .sync_ms = 1000 };
	struct store *st;
	char err[256];
	int i, committed = -1;
	struct has h;

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=1m") != 0)
		_exit(77);
	if (store_open(&st, dir, &o, err, sizeof(err)) != 0)
		_exit(2);
	for (i = 0; i < 100000; i++) {
		struct bulk b = { i * 10, i * 10 + 10 };
		if (store_update(st, put_bulk, &b, err, sizeof(err)) != 0)
			break;
		committed = i * 10 + 9;
	}
	if (i == 100000 || strstr(err, "No space left") == NULL) {
		fprintf(stderr, "unexpected: i=%d err=%s\n", i, err);
		_exit(5);
	}
	store_close(st);
	/* Everything committed before the error is intact. */
	if (store_open(&st, dir, &o, err, sizeof(err)) != 0)
		_exit(6);
	h.upto = committed;
	h.missing = 0;
	if (store_view(st, check_has, &h, err, sizeof(err)) != 0 ||
	    h.missing != 0 || committed < 100)
		_exit(7);
	store_close(st);
	_exit(0);
}

static void
test_full_disk(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	if ((pid = fork()) == 0)
		child_fill_disk(f->dir);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();		/* no mount namespaces in this sandbox */
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rec_layout),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_tuple_key),
		cmocka_unit_test_setup_teardown(test_open_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_create, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_foreign, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_newer_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_garbage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_put_get_del_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abort_on_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_addr_entries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_order_and_bogus,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_growth, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_keeps_commits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_modes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
