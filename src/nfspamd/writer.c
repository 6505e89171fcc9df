/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * writer: a worker's store writes.  The tuples of each loop iteration
 * commit in one transaction at its end (LMDB without fsync: memory and
 * the page cache, microseconds), and the replies wait for that commit
 * only.  What makes commits durable runs on a thread of its own, never
 * on the loop:
 *
 *   --db-sync-ms N   an fsync of the database at most every N ms while
 *                    anything changed (default 1000);
 *   --db-sync-ms 0   every commit is also appended to the worker's
 *                    region of the journal (jfile.h), whose fdatasync
 *                    follows each commit, WRITER_GAP after the last at
 *                    most; the database is synced every
 *                    STORE_SYNC_MS_DEFAULT, and the worker then turns to
 *                    its other region.
 *
 * Why a journal: an fsync of the database writes every B-tree page the
 * commits since the last one touched, some 10 KiB a tuple when they are
 * a few ms apart (unique tuples land on leaves all over the tree), where
 * a journal record is a few hundred bytes; fsyncing the database back
 * to back cost the durable mode a quarter of the dialogues per second.
 *
 * fsyncs are shared by the workers (syncpace.h over a page the supervisor
 * made): all write one database file and one journal file, so an fsync
 * of either covers every worker's writes made before it began, and one
 * that began after a worker's last commit spares that worker its own.
 *
 * The loop only sets a flag under a mutex and wakes the thread when it
 * sleeps: no syscall per commit while an fsync runs, no wakeup back.
 *
 * A shared store (Valkey/Redis) has nothing to fsync: the thread runs
 * the commit itself, two round trips a batch, and tells the loop when
 * it is done; tuples queued meanwhile make the next batch.  A commit
 * that fails (the server unreachable) loses its tuples, counted and
 * logged as any lost commit; the held replies go out all the same.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jfile.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "syncpace.h"
#include "worker.h"

#define NS		1000000000ULL
/*
 * 5 ms between journal fsyncs, the daemon's together: two hundred a
 * second at most, whatever the load; a device slower than that sets its
 * own pace.  An fsync costs some 100 us of CPU on a virtual machine
 * whatever it carries; at 1 ms apart the durable mode lost 10-25 % of
 * the grouped mode's dialogues per second (bench/RESULTS.md).
 */
#define WRITER_GAP	(5 * NS / 1000)
#define WRITER_POLL	(NS / 10000)	/* looks at another's fsync */
#define WRITER_STALE	(NS / 10)	/* a killed worker's fsync */

static const struct syncpace_conf writer_pace = {
	.gap = WRITER_GAP, .poll = WRITER_POLL, .stale = WRITER_STALE
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
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
on_again(uv_idle_t *h)
{
	uv_idle_stop(h);
}

/*
 * Make durable what completed by `commit`, with fsync (the database or
 * the journal) over the view sh: by an fsync of our own, or by one begun
 * after it (another worker's, for the database).  false: fsync failed.
 */
static bool
sync_covering(struct worker *w, struct syncclock *sh, uint64_t commit,
    int (*fsync_fn)(struct worker *, char *, size_t))
{
	struct writer *wr = &w->wr;
	char err[256];
	bool ok;

	for (;;) {
		struct syncpace_view v = {
			atomic_load(&sh->started), atomic_load(&sh->covered)
		};
		uint64_t now = mono_ns(), until, seen;

		switch (syncpace_next(&v, &writer_pace, commit, now, &until)) {
		case SYNCPACE_COVERED:
			wr->syncs_spared++;
			ws_add(&w->st->c[WS_FSYNCS_SPARED], 1);
			return true;
		case SYNCPACE_WAIT:
			sleep_until(until);
			continue;
		case SYNCPACE_START:
			break;
		}
		if (!atomic_compare_exchange_strong(&sh->started, &v.started,
		    now))
			continue;	/* another began one: look again */
		if (!(ok = fsync_fn(w, err, sizeof(err)) == 0))
			log_warnx(w->log, "worker=%d: %s", w->a->id, err);
		seen = atomic_load(&sh->covered);
		while (seen < now &&
		    !atomic_compare_exchange_weak(&sh->covered, &seen, now))
			;
		wr->syncs++;
		ws_add(&w->st->c[WS_FSYNCS], 1);
		return ok;
	}
}

static int
fsync_store(struct worker *w, char *err, size_t errlen)
{
	return store_sync(w->store, err, errlen);
}

static int
fsync_journal(struct worker *w, char *err, size_t errlen)
{
	struct writer *wr = &w->wr;
	struct jfile *j;

	pthread_mutex_lock(&wr->mu);
	j = wr->jf[wr->jcur];
	pthread_mutex_unlock(&wr->mu);
	return jfile_sync(j, err, errlen);
}

/*
 * A database sync; with a journal, it first turns to the other file:
 * every record of the one it leaves was committed before the sync
 * begins, so the sync covers them, and the file is free to be written
 * over from the next turn on.
 */
static void
sync_store(struct worker *w)
{
	struct writer *wr = &w->wr;
	uint64_t upto;

	pthread_mutex_lock(&wr->mu);
	upto = wr->want_store;
	/*
	 * The region turned to was covered by the last database sync only
	 * if that sync succeeded; after a failed one, stay where we are.
	 */
	if (wr->journal && wr->store_synced) {
		wr->jcur ^= 1;
		jfile_rewind(wr->jf[wr->jcur]);
		upto = mono_ns();
	}
	pthread_mutex_unlock(&wr->mu);
	wr->store_synced = sync_covering(w, &wr->share->db, upto, fsync_store);
}

static void *
syncer(void *arg)
{
	struct worker *w = arg;
	struct writer *wr = &w->wr;
	uint64_t commit;

	pthread_mutex_lock(&wr->mu);
	for (;;) {
		while (!wr->wanted_store && !wr->wanted_journal && !wr->stop)
			pthread_cond_wait(&wr->cv, &wr->mu);
		if (wr->wanted_store) {
			/* First: it covers what the journal would. */
			wr->wanted_store = false;
			wr->wanted_journal = false;
			pthread_mutex_unlock(&wr->mu);
			sync_store(w);
		} else if (wr->wanted_journal) {
			wr->wanted_journal = false;
			commit = wr->want_journal;
			pthread_mutex_unlock(&wr->mu);
			if (!sync_covering(w, &wr->share->journal, commit,
			    fsync_journal)) {
				pthread_mutex_lock(&wr->mu);
				wr->wanted_store = true;  /* the next best */
				continue;
			}
		} else
			break;		/* stop, and nothing left to sync */
		pthread_mutex_lock(&wr->mu);
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

static void
want_sync(struct writer *wr, bool store)
{
	pthread_mutex_lock(&wr->mu);
	if (store) {
		wr->wanted_store = true;
		wr->want_store = wr->last_commit;
		wr->dirty = false;
	} else {
		wr->wanted_journal = true;
		wr->want_journal = wr->last_commit;
	}
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
}

/* The commit's record into the current journal file. */
static void
journal_append(struct worker *w)
{
	struct writer *wr = &w->wr;
	char err[256];
	int rc;

	if (wr->jb.nops == 0)
		return;
	if (journal_buf_seal(&wr->jb, wr->txnid) == -1) {
		log_warnx(w->log, "worker=%d: a commit too big for the "
		    "journal; it is durable at the next database sync",
		    w->a->id);
		return;
	}
	pthread_mutex_lock(&wr->mu);
	rc = jfile_append(wr->jf[wr->jcur], wr->jb.p, wr->jb.len, err,
	    sizeof(err));
	pthread_mutex_unlock(&wr->mu);
	if (rc == 0)
		return;
	/* A database sync now: it covers the commit, and turns the region. */
	want_sync(wr, true);
	if (time(NULL) - wr->warned >= 60) {
		wr->warned = time(NULL);
		log_warnx(w->log, "worker=%d: journal: %s; commits are made "
		    "durable by a database sync instead (logged at most once "
		    "a minute)", w->a->id, err);
	}
}

static void	lookups_send(struct worker *);

struct lookups {
	struct worker	*w;
	struct lookup	*list;
	int64_t		 now;
};

/* Every address's two entries in one round trip, then each standing. */
static int
lookups_body(struct store_txn *t, void *arg)
{
	struct lookups *q = arg;
	const struct grey_conf *gc = &q->w->conf->grey;
	struct store_want *want;
	char (*keys)[2][ADDR_STRLEN];
	size_t n = 0, k = 0;

	for (struct lookup *l = q->list; l != NULL; l = l->next)
		n++;
	want = calloc(n, 2 * sizeof(*want));
	keys = calloc(n, sizeof(*keys));
	if (want != NULL && keys != NULL) {
		n = 0;
		for (struct lookup *l = q->list; l != NULL; l = l->next, n++) {
			size_t al = addr_format(&l->addr, keys[n][0],
			    ADDR_STRLEN), nl = grey_net_key(gc, &l->addr,
			    keys[n][1], ADDR_STRLEN);

			want[k++] = (struct store_want){ STORE_WANT_ADDR,
			    keys[n][0], al };
			/* At -N 32 (and /128) the network is the address. */
			if (nl != al || memcmp(keys[n][0], keys[n][1], al) != 0)
				want[k++] = (struct store_want){
				    STORE_WANT_ADDR, keys[n][1], nl };
		}
		/* Failing here, each lookup tries on its own below. */
		store_prefetch(t, want, k);
	}
	free(want);
	free(keys);
	for (struct lookup *l = q->list; l != NULL; l = l->next)
		if ((l->rc = worker_standing(t, gc, &l->addr, q->now,
		    &l->pass)) == -1)
			snprintf(l->err, sizeof(l->err), "%s",
			    store_txn_error(t));
	return 0;
}

static void
run_lookups(struct worker *w, struct lookup *list)
{
	struct lookups q = { w, list, wall_now() };
	char err[160];

	if (store_view(w->store, lookups_body, &q, err, sizeof(err)) != 0)
		for (struct lookup *l = list; l != NULL; l = l->next) {
			l->rc = -1;
			snprintf(l->err, sizeof(l->err), "%s", err);
		}
}

/*
 * The thread of a shared store: new connections' lookups first (a
 * client waits for its banner), then one batch at a time.
 */
static void *
committer(void *arg)
{
	struct worker *w = arg;
	struct writer *wr = &w->wr;
	struct lookup *list, **tail;
	int rc;

	pthread_mutex_lock(&wr->mu);
	for (;;) {
		while (!wr->go && wr->lgo == NULL && !wr->stop)
			pthread_cond_wait(&wr->cv, &wr->mu);
		if (wr->lgo != NULL) {
			list = wr->lgo;
			wr->lgo = NULL;
			pthread_mutex_unlock(&wr->mu);
			run_lookups(w, list);
			pthread_mutex_lock(&wr->mu);
			for (tail = &wr->ldone; *tail != NULL;
			    tail = &(*tail)->next)
				;
			*tail = list;
			uv_async_send(&wr->done);
			continue;
		}
		if (!wr->go)
			break;
		pthread_mutex_unlock(&wr->mu);
		rc = store_update(w->store, commit_body, w, wr->batch_err,
		    sizeof(wr->batch_err));
		pthread_mutex_lock(&wr->mu);
		wr->rc = rc == 0 ? 0 : -1;
		wr->go = false;
		uv_async_send(&wr->done);
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

/* The shared store's state changed: said once each way. */
static void
shared_health(struct worker *w, int rc)
{
	struct writer *wr = &w->wr;

	if (rc != 0 && !wr->down) {
		wr->down = true;
		wr->down_since = time(NULL);
		log_warnx(w->log, "worker=%d: shared store: %s; SMTP goes "
		    "on, its tuples are not kept until the store is back",
		    w->a->id, wr->batch_err);
	} else if (rc == 0 && wr->down) {
		wr->down = false;
		log_info(w->log, "worker=%d: shared store %s is back after "
		    "%lld s", w->a->id, store_dir(w->store),
		    (long long)(time(NULL) - wr->down_since));
	}
}

static void
committed(struct worker *w, int rc, uint64_t t0)
{
	static const double bounds[] = WS_COMMIT_BOUNDS;
	struct writer *wr = &w->wr;
	struct pending *batch = wr->batch;

	wr->batch = NULL;
	wr->busy = false;
	if (rc == 0) {
		t0 = mono_ns() - t0;
		ws_add(&w->st->c[WS_COMMITS], 1);
		ws_add(&w->st->c[WS_COMMIT_US], t0 / 1000);
		ws_add(&w->st->commit[metrics_bucket(bounds, WS_NCOMMIT,
		    (double)t0 / 1e9)], 1);
	}
	shared_health(w, rc);
	commit_done(w, batch, rc, wr->batch_err, wr->batch_now);
	if (w->reload_domains) {
		w->reload_domains = false;
		worker_load_domains(w, true);
	}
}

/* Answered lookups: their connections go on; queued ones go over. */
static void
lookups_done(struct worker *w)
{
	struct writer *wr = &w->wr;
	struct lookup *l, *next;

	pthread_mutex_lock(&wr->mu);
	l = wr->ldone;
	wr->ldone = NULL;
	pthread_mutex_unlock(&wr->mu);
	if (l == NULL)
		return;
	wr->lbusy = false;
	for (; l != NULL; l = next) {
		next = l->next;
		worker_lookup_done(w, l);
		free(l);
	}
	lookups_send(w);
}

static void
on_done(uv_async_t *h)
{
	struct worker *w = h->data;
	struct writer *wr = &w->wr;
	bool done;
	int rc;

	lookups_done(w);
	pthread_mutex_lock(&wr->mu);
	done = wr->busy && !wr->go;
	rc = wr->rc;
	pthread_mutex_unlock(&wr->mu);
	if (!done)
		return;		/* a wakeup for lookups, or too early */
	committed(w, rc, wr->last_commit);
	writer_commit(w);
}

static void
commit_shared(struct worker *w)
{
	struct writer *wr = &w->wr;

	if (wr->busy || w->pending == NULL)
		return;
	wr->batch = w->pending;
	w->pending = NULL;
	w->pending_tail = &w->pending;
	wr->batch_now = wall_now();
	wr->batch_err[0] = '\0';
	wr->busy = true;
	wr->last_commit = mono_ns();	/* when it began, for the metric */
	pthread_mutex_lock(&wr->mu);
	wr->go = true;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
}

bool
writer_busy(const struct worker *w)
{
	return w->wr.busy;
}

/* What queued while the thread was looking up goes as one more lot. */
static void
lookups_send(struct worker *w)
{
	struct writer *wr = &w->wr;

	if (wr->lbusy || wr->lq == NULL || !wr->running)
		return;
	wr->lbusy = true;
	pthread_mutex_lock(&wr->mu);
	wr->lgo = wr->lq;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
	wr->lq = NULL;
	wr->lq_tail = &wr->lq;
}

void
writer_lookup(struct worker *w, struct lookup *l)
{
	struct writer *wr = &w->wr;

	if (wr->lq_tail == NULL)
		wr->lq_tail = &wr->lq;
	*wr->lq_tail = l;
	wr->lq_tail = &l->next;
	lookups_send(w);
}

void
writer_commit(struct worker *w)
{
	struct writer *wr = &w->wr;
	struct pending *batch = w->pending;
	static const double bounds[] = WS_COMMIT_BOUNDS;
	uint64_t t0;
	int rc = 0;

	if (w->shared && wr->running) {
		commit_shared(w);
		return;
	}
	if (batch == NULL)
		return;
	w->pending = NULL;
	w->pending_tail = &w->pending;
	wr->batch = batch;
	wr->batch_now = wall_now();
	wr->batch_err[0] = '\0';
	/* -b: nothing is kept, replies need not wait. */
	if (w->store != NULL) {
		t0 = mono_ns();
		if (wr->journal)
			rc = store_update_logged(w->store, commit_body, w,
			    &wr->jb, &wr->txnid, wr->batch_err,
			    sizeof(wr->batch_err));
		else
			rc = store_update(w->store, commit_body, w,
			    wr->batch_err, sizeof(wr->batch_err));
		rc = rc == 0 ? 0 : -1;
		if (rc == 0) {
			wr->dirty = true;
			wr->last_commit = mono_ns();
			if (wr->journal) {
				journal_append(w);
				want_sync(wr, false);
			}
			t0 = mono_ns() - t0;
			ws_add(&w->st->c[WS_COMMITS], 1);
			ws_add(&w->st->c[WS_COMMIT_US], t0 / 1000);
			ws_add(&w->st->commit[metrics_bucket(bounds,
			    WS_NCOMMIT, (double)t0 / 1e9)], 1);
		}
	}
	wr->batch = NULL;
	commit_done(w, batch, rc, wr->batch_err, wr->batch_now);
	/*
	 * Released replies may have let input already read make new tuples:
	 * the next iteration commits them without waiting in epoll.
	 */
	if (w->pending != NULL)
		uv_idle_start(&wr->again, on_again);
	else
		uv_idle_stop(&wr->again);
}

static void
on_sync_timer(uv_timer_t *t)
{
	struct worker *w = t->data;

	if (w->wr.dirty && w->wr.running)
		want_sync(&w->wr, true);
}

/*
 * The page shared with the supervisor and the other workers: the fsync
 * clocks, and this worker's counters.  Kept mapped until exit.
 */
static void
map_share(struct worker *w)
{
	struct writer *wr = &w->wr;
	struct share *p;

	wr->share = &wr->own;
	w->st = &w->own_st;
	if (w->a->syncfd < 0)
		return;
	p = mmap(NULL, sizeof(struct share), PROT_READ | PROT_WRITE,
	    MAP_SHARED, w->a->syncfd, 0);
	if (p == MAP_FAILED)
		log_warn(w->log, "worker=%d: mapping the shared page (each "
		    "worker syncs on its own; no metrics from it)", w->a->id);
	else if (w->a->id >= 0 && w->a->id < NFSPAMD_MAXWORKERS) {
		wr->share = &p->sync;
		w->st = &p->w[w->a->id];
	}
	close(w->a->syncfd);
}

/*
 * The durable mode's journal files.  The database is synced first: a
 * worker before this one (killed, restarted) may have left commits that
 * only its journal made durable, and the files are now rewritten.
 */
static int
journal_open(struct worker *w)
{
	struct writer *wr = &w->wr;
	const char *dir = w->conf->common.db;
	uint64_t epoch;
	char err[512];

	if (store_epoch(w->store, &epoch, err, sizeof(err)) == -1 ||
	    store_sync(w->store, err, sizeof(err)) == -1 ||
	    jfile_open(&wr->jf[0], dir, w->a->id, 0, epoch, err,
	    sizeof(err)) == -1 ||
	    jfile_open(&wr->jf[1], dir, w->a->id, 1, epoch, err,
	    sizeof(err)) == -1) {
		log_warnx(w->log, "worker=%d: journal: %s", w->a->id, err);
		jfile_close(wr->jf[0], 0);
		wr->jf[0] = NULL;
		return -1;
	}
	wr->journal = true;
	wr->store_synced = true;	/* just above */
	return 0;
}

int
writer_init(struct worker *w)
{
	struct writer *wr = &w->wr;
	unsigned ms = w->conf->common.sync_ms;
	int rc;

	map_share(w);
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->cv, NULL);
	uv_timer_init(w->loop, &wr->sync_timer);
	wr->sync_timer.data = w;
	uv_idle_init(w->loop, &wr->again);
	if (w->store == NULL)
		return 0;
	if (w->shared) {
		uv_async_init(w->loop, &wr->done, on_done);
		wr->done.data = w;
		if ((rc = pthread_create(&wr->thread, NULL, committer,
		    w)) != 0) {
			log_warnx(w->log, "worker=%d: starting the commit "
			    "thread: %s", w->a->id, strerror(rc));
			return -1;
		}
		wr->running = true;
		return 0;
	}
	if (ms == 0 && journal_open(w) == -1)
		return -1;
	if ((rc = pthread_create(&wr->thread, NULL, syncer, w)) != 0) {
		log_warnx(w->log, "worker=%d: starting the sync thread: %s",
		    w->a->id, strerror(rc));
		return -1;
	}
	wr->running = true;
	if (ms == 0)
		ms = STORE_SYNC_MS_DEFAULT;
	uv_timer_start(&wr->sync_timer, on_sync_timer, ms, ms);
	return 0;
}

void
writer_touched(struct worker *w)
{
	w->wr.dirty = true;
	w->wr.last_commit = mono_ns();
}

/*
 * The batch at the thread finishes, then what is still queued commits
 * here, on the loop: nothing else is left to wait for.
 */
static void
drain_shared(struct worker *w)
{
	struct writer *wr = &w->wr;

	pthread_mutex_lock(&wr->mu);
	wr->stop = true;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->thread, NULL);
	wr->running = false;
	lookups_done(w);
	/* Never sent: each is answered as a store that failed would be. */
	for (struct lookup *l = wr->lq, *next; l != NULL; l = next) {
		next = l->next;
		l->rc = -1;
		snprintf(l->err, sizeof(l->err), "the worker is stopping");
		worker_lookup_done(w, l);
		free(l);
	}
	wr->lq = NULL;
	wr->lq_tail = &wr->lq;
	if (wr->busy)
		committed(w, wr->rc, wr->last_commit);
	uv_close((uv_handle_t *)&wr->done, NULL);
	writer_commit(w);
}

void
writer_drain(struct worker *w)
{
	struct writer *wr = &w->wr;

	uv_timer_stop(&wr->sync_timer);
	if (w->shared && wr->running) {
		drain_shared(w);
		return;
	}
	writer_commit(w);
	if (wr->running) {
		pthread_mutex_lock(&wr->mu);
		if (wr->dirty) {
			wr->wanted_store = true;
			wr->want_store = wr->last_commit;
		}
		wr->stop = true;
		pthread_cond_signal(&wr->cv);
		pthread_mutex_unlock(&wr->mu);
		pthread_join(wr->thread, NULL);
		wr->running = false;
		wr->dirty = false;
	}
	/* The database is synced: the journal holds nothing it lacks. */
	for (int i = 0; i < 2; i++) {
		jfile_close(wr->jf[i], 1);
		wr->jf[i] = NULL;
	}
	wr->journal = false;
	journal_buf_free(&wr->jb);
}
