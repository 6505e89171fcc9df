/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for jfile: the durable mode's journal files on a real LMDB
 * store, and their replay after a crash that lost the database's latest
 * pages (simulated by putting back a copy of data.mdb from before them).
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jfile.h"
#include "journal.h"
#include "store.h"

struct fixture {
	char		 dir[64];
	char		 err[512];
	struct store	*st;
	uint64_t	 epoch;
};

/* A shell command with each %D replaced by the directory. */
static void
sh(const char *tmpl, const char *dir)
{
	char cmd[512];
	size_t n = 0;

	for (const char *p = tmpl; *p != '\0' && n + 64 < sizeof(cmd); p++)
		if (p[0] == '%' && p[1] == 'D') {
			n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s",
			    dir);
			p++;
		} else
			cmd[n++] = *p;
	cmd[n] = '\0';
	assert_int_equal(system(cmd), 0);
}

static struct store *
open_rw(struct fixture *f)
{
	struct store_opts o = { .create = true, .sync_ms = 1000,
	    .defer_sync = true };
	struct store *st;

	if (store_open(&st, f->dir, &o, f->err, sizeof(f->err)) != 0)
		fail_msg("store_open: %s", f->err);
	return st;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/nfs-jfile-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->st = open_rw(f);
	if (store_epoch(f->st, &f->epoch, f->err, sizeof(f->err)) != 0 ||
	    f->epoch == 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->st != NULL)
		store_close(f->st);
	sh("rm -rf '%D'", f->dir);
	free(f);
	return 0;
}

struct put {
	const char	*key;
	int64_t		 first;
};

static int
put_body(struct store_txn *t, void *arg)
{
	const struct put *p = arg;
	struct store_rec r = { p->first, p->first + 1, p->first + 2, 0, 1 };

	return store_put(t, STORE_GREY, p->key, strlen(p->key), &r);
}

static int
del_body(struct store_txn *t, void *arg)
{
	return store_del(t, STORE_GREY, arg, strlen(arg)) == -1 ? -1 : 0;
}

/* One logged commit appended to j. */
static void
commit(struct fixture *f, struct jfile *j, store_fn fn, void *arg)
{
	struct journal_buf b = { 0 };
	uint64_t txnid = 0;

	assert_int_equal(store_update_logged(f->st, fn, arg, &b, &txnid,
	    f->err, sizeof(f->err)), 0);
	assert_true(txnid > 0);
	assert_int_equal(journal_buf_seal(&b, txnid), 0);
	assert_int_equal(jfile_append(j, b.p, b.len, f->err, sizeof(f->err)),
	    0);
	journal_buf_free(&b);
}

struct find {
	const char		*key;
	struct store_rec	 r;
	int			 rc;
};

static int
find_body(struct store_txn *t, void *arg)
{
	struct find *q = arg;

	q->rc = store_get(t, STORE_GREY, q->key, strlen(q->key), &q->r);
	return 0;
}

static int
find(struct fixture *f, const char *key, int64_t *first)
{
	struct find q = { key, { 0 }, -1 };

	assert_int_equal(store_view(f->st, find_body, &q, f->err,
	    sizeof(f->err)), 0);
	if (q.rc == 0 && first != NULL)
		*first = q.r.first;
	return q.rc;
}

/* Crash: the database as it was synced at the snapshot, journals kept. */
static void
crash_to_snapshot(struct fixture *f)
{
	store_close(f->st);	/* syncs; the copy below undoes that */
	sh("cp '%D/snap.mdb' '%D/data.mdb' && rm -f '%D/lock.mdb'", f->dir);
	f->st = open_rw(f);
}

static off_t
file_size(struct fixture *f, const char *name)
{
	char path[128];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void
test_replay_after_crash(void **state)
{
	struct fixture *f = *state;
	struct jfile *j0, *j1;
	struct jfile_replay r;
	struct put a = { "1.2.3.4\nh\n<a>\n<b>", 100 },
	    b = { "1.2.3.5\nh\n<a>\n<b>", 200 },
	    c = { "1.2.3.6\nh\n<a>\n<b>", 300 },
	    a2 = { "1.2.3.4\nh\n<a>\n<b>", 150 };
	int64_t first;

	assert_int_equal(jfile_open(&j0, f->dir, 0, 0, f->epoch, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(jfile_open(&j1, f->dir, 0, 1, f->epoch, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_sync(f->st, f->err, sizeof(f->err)), 0);
	sh("cp '%D/data.mdb' '%D/snap.mdb'", f->dir);
	/* Commits in file 0, a turn (no database sync done yet), more. */
	commit(f, j0, put_body, &a);
	commit(f, j0, put_body, &b);
	jfile_rewind(j1);
	commit(f, j1, del_body, (void *)b.key);
	commit(f, j1, put_body, &c);
	commit(f, j1, put_body, &a2);
	assert_int_equal(jfile_sync(j0, f->err, sizeof(f->err)), 0);
	assert_int_equal(jfile_sync(j1, f->err, sizeof(f->err)), 0);
	jfile_close(j0, 0);
	jfile_close(j1, 0);

	crash_to_snapshot(f);
	assert_int_equal(find(f, a.key, NULL), 1);
	assert_int_equal(jfile_replay(f->st, f->dir, &r, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(r.regions, 2);
	assert_int_equal(r.records, 5);
	assert_int_equal(r.ops, 5);
	assert_int_equal(r.foreign, 0);
	/* In transaction order across the files: the later put wins. */
	assert_int_equal(find(f, a.key, &first), 0);
	assert_int_equal(first, 150);
	assert_int_equal(find(f, b.key, NULL), 1);
	assert_int_equal(find(f, c.key, &first), 0);
	assert_int_equal(first, 300);
	assert_int_equal(file_size(f, "journal"), 0);

	/* Again: nothing left to do. */
	assert_int_equal(jfile_replay(f->st, f->dir, &r, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(r.records, 0);
}

/* Records the database already has (it was synced after them): skipped. */
static void
test_synced_records_skipped(void **state)
{
	struct fixture *f = *state;
	struct jfile *j;
	struct jfile_replay r;
	struct put a = { "1.2.3.4\nh\n<a>\n<b>", 100 };
	int64_t first;

	assert_int_equal(jfile_open(&j, f->dir, 3, 1, f->epoch, f->err,
	    sizeof(f->err)), 0);
	commit(f, j, put_body, &a);
	jfile_close(j, 0);
	/* Changed since by someone who keeps no journal (nfspamdb). */
	a.first = 500;
	assert_int_equal(store_update(f->st, put_body, &a, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(jfile_replay(f->st, f->dir, &r, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(r.records, 0);
	assert_int_equal(find(f, a.key, &first), 0);
	assert_int_equal(first, 500);
}

/* Another database's region, or one that is no journal: ignored. */
static void
test_foreign(void **state)
{
	struct fixture *f = *state;
	struct jfile *j;
	struct jfile_replay r;
	struct put a = { "1.2.3.4\nh\n<a>\n<b>", 100 };
	char path[128];
	int fd;

	assert_int_equal(store_sync(f->st, f->err, sizeof(f->err)), 0);
	sh("cp '%D/data.mdb' '%D/snap.mdb'", f->dir);
	assert_int_equal(jfile_open(&j, f->dir, 1, 0, f->epoch + 1, f->err,
	    sizeof(f->err)), 0);
	commit(f, j, put_body, &a);
	jfile_close(j, 0);
	snprintf(path, sizeof(path), "%s/journal", f->dir);
	assert_true((fd = open(path, O_WRONLY)) != -1);
	assert_int_equal(pwrite(fd, "hello", 5, 0), 5);	/* region 0 */
	close(fd);
	crash_to_snapshot(f);
	assert_int_equal(jfile_replay(f->st, f->dir, &r, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(r.foreign, 2);
	assert_int_equal(r.records, 0);
	assert_int_equal(find(f, a.key, NULL), 1);
	assert_int_equal(file_size(f, "journal"), 0);
}

/* A torn record at the end: the ones before it are replayed. */
static void
test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct jfile *j;
	struct jfile_replay r;
	struct put a = { "1.2.3.4\nh\n<a>\n<b>", 100 },
	    b = { "1.2.3.5\nh\n<a>\n<b>", 200 };
	char path[128];
	off_t end;
	int fd;

	assert_int_equal(store_sync(f->st, f->err, sizeof(f->err)), 0);
	sh("cp '%D/data.mdb' '%D/snap.mdb'", f->dir);
	assert_int_equal(jfile_open(&j, f->dir, 0, 0, f->epoch, f->err,
	    sizeof(f->err)), 0);
	commit(f, j, put_body, &a);
	commit(f, j, put_body, &b);
	jfile_close(j, 0);
	/* The second record cut short, as a crash in its write leaves it. */
	end = JOURNAL_HDRSIZE + 2 * (JOURNAL_RECHDR + 4 +
	    (off_t)strlen(a.key) + STORE_RECSIZE);
	snprintf(path, sizeof(path), "%s/journal", f->dir);
	assert_true((fd = open(path, O_WRONLY)) != -1);
	assert_int_equal(pwrite(fd, "\0\0\0\0\0", 5, end - 5), 5);
	close(fd);
	crash_to_snapshot(f);
	assert_int_equal(jfile_replay(f->st, f->dir, &r, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(r.records, 1);
	assert_int_equal(find(f, a.key, NULL), 0);
	assert_int_equal(find(f, b.key, NULL), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay_after_crash, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_synced_records_skipped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
