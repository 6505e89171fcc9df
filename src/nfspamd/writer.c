/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * writer: a worker's store writes.  The tuples of each loop iteration
 * commit in one transaction at its end (LMDB without fsync: memory and
 * the page cache, microseconds).  The fsync that makes them durable
 * runs on a thread of its own, never on the loop:
 *
 *   --db-sync-ms 0   an fsync starts after every commit, or as soon as
 *                    the one running ends (group commit: one fsync covers
 *                    every commit made while the last one ran);
 *   --db-sync-ms N   an fsync at most every N ms while anything changed.
 *
 * The loop only sets a flag under a mutex and wakes the thread when it
 * sleeps: no syscall per commit while an fsync runs, no wakeup back.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

static void
on_again(uv_idle_t *h)
{
	uv_idle_stop(h);
}

static void *
syncer(void *arg)
{
	struct worker *w = arg;
	struct writer *wr = &w->wr;
	char err[256];

	pthread_mutex_lock(&wr->mu);
	for (;;) {
		while (!wr->wanted && !wr->stop)
			pthread_cond_wait(&wr->cv, &wr->mu);
		if (!wr->wanted)
			break;		/* stop, and nothing left to sync */
		wr->wanted = false;
		pthread_mutex_unlock(&wr->mu);
		/* Covers every commit made before it starts. */
		if (store_sync(w->store, err, sizeof(err)) != 0)
			log_warnx(w->log, "worker=%d: %s", w->a->id, err);
		pthread_mutex_lock(&wr->mu);
		wr->syncs++;
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

static void
want_sync(struct writer *wr)
{
	pthread_mutex_lock(&wr->mu);
	wr->wanted = true;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
	wr->dirty = false;
}

void
writer_commit(struct worker *w)
{
	struct writer *wr = &w->wr;
	struct pending *batch = w->pending;
	int rc = 0;

	if (batch == NULL)
		return;
	w->pending = NULL;
	w->pending_tail = &w->pending;
	wr->batch = batch;
	wr->batch_now = wall_now();
	wr->batch_err[0] = '\0';
	/* -b: nothing is kept, replies need not wait. */
	if (w->store != NULL) {
		rc = store_update(w->store, commit_body, w, wr->batch_err,
		    sizeof(wr->batch_err)) == 0 ? 0 : -1;
		if (rc == 0)
			wr->dirty = true;
	}
	wr->batch = NULL;
	commit_done(w, batch, rc, wr->batch_err, wr->batch_now);
	if (wr->dirty && wr->running && w->conf->common.sync_ms == 0)
		want_sync(wr);
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
		want_sync(&w->wr);
}

int
writer_init(struct worker *w)
{
	struct writer *wr = &w->wr;
	unsigned ms = w->conf->common.sync_ms;
	int rc;

	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->cv, NULL);
	uv_timer_init(w->loop, &wr->sync_timer);
	wr->sync_timer.data = w;
	uv_idle_init(w->loop, &wr->again);
	if (w->store == NULL)
		return 0;
	if ((rc = pthread_create(&wr->thread, NULL, syncer, w)) != 0) {
		log_warnx(w->log, "worker=%d: starting the sync thread: %s",
		    w->a->id, strerror(rc));
		return -1;
	}
	wr->running = true;
	if (ms > 0)
		uv_timer_start(&wr->sync_timer, on_sync_timer, ms, ms);
	return 0;
}

void
writer_drain(struct worker *w)
{
	struct writer *wr = &w->wr;

	uv_timer_stop(&wr->sync_timer);
	writer_commit(w);
	if (!wr->running)
		return;
	pthread_mutex_lock(&wr->mu);
	wr->wanted = wr->wanted || wr->dirty;
	wr->stop = true;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->thread, NULL);
	wr->running = false;
	wr->dirty = false;
}
