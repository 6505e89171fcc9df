/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * writer: a worker's store writes, off its event loop.  The loop hands
 * a batch of tuples to libuv's thread pool and goes on serving SMTP;
 * the batch commits there (LMDB without fsync), and the fsync runs as a
 * job of its own, so neither ever blocks the loop:
 *
 *   --db-sync-ms 0   an fsync starts after every commit, or as soon as
 *                    the one running ends (group commit: one fsync covers
 *                    every batch committed while the last one ran);
 *   --db-sync-ms N   an fsync at most every N ms while anything changed.
 *
 * At most one commit and one fsync are in flight.
 */
#include "config.h"

#include <stdlib.h>

#include "log.h"
#include "worker.h"

static void	start_sync(struct worker *);

static void
commit_work(uv_work_t *req)
{
	struct worker *w = req->data;

	w->wr.batch_rc = store_update(w->store, commit_body, w,
	    w->wr.batch_err, sizeof(w->wr.batch_err)) == 0 ? 0 : -1;
}

static void
commit_after(uv_work_t *req, int status)
{
	struct worker *w = req->data;
	struct writer *wr = &w->wr;
	struct pending *batch = wr->batch;

	(void)status;
	wr->batch = NULL;
	wr->committing = false;
	if (wr->batch_rc == 0)
		wr->dirty = true;
	/* alloweddomains read again while the batch was out. */
	if (w->have_domains_next) {
		domains_free(&w->domains);
		w->domains = w->domains_next;
		w->have_domains_next = false;
	}
	commit_done(w, batch, wr->batch_rc, wr->batch_err, wr->batch_now);
	if (w->conf->common.sync_ms == 0)
		start_sync(w);
	writer_kick(w);
}

void
writer_kick(struct worker *w)
{
	struct writer *wr = &w->wr;

	if (wr->committing || w->pending == NULL)
		return;
	if (w->store == NULL) {
		/* -b: nothing is kept, replies need not wait. */
		struct pending *p = w->pending;

		w->pending = NULL;
		w->pending_tail = &w->pending;
		commit_done(w, p, 0, "", wall_now());
		return;
	}
	wr->batch = w->pending;
	wr->batch_now = wall_now();
	w->pending = NULL;
	w->pending_tail = &w->pending;
	wr->committing = true;
	wr->commit_req.data = w;
	uv_queue_work(w->loop, &wr->commit_req, commit_work, commit_after);
}

static void
sync_work(uv_work_t *req)
{
	struct worker *w = req->data;

	w->wr.sync_rc = store_sync(w->store, w->wr.sync_err,
	    sizeof(w->wr.sync_err));
}

static void
sync_after(uv_work_t *req, int status)
{
	struct worker *w = req->data;
	struct writer *wr = &w->wr;

	(void)status;
	wr->syncing = false;
	if (wr->sync_rc != 0) {
		log_warnx(w->log, "worker=%d: %s", w->a->id, wr->sync_err);
		wr->dirty = true;	/* try again with the next one */
	}
	if (wr->sync_again && w->conf->common.sync_ms == 0)
		start_sync(w);
}

/* What was committed before this starts is on the disk when it ends. */
static void
start_sync(struct worker *w)
{
	struct writer *wr = &w->wr;

	if (!wr->dirty || w->store == NULL)
		return;
	if (wr->syncing) {
		wr->sync_again = true;
		return;
	}
	wr->dirty = false;
	wr->sync_again = false;
	wr->syncing = true;
	wr->sync_req.data = w;
	uv_queue_work(w->loop, &wr->sync_req, sync_work, sync_after);
}

static void
on_sync_timer(uv_timer_t *t)
{
	start_sync(t->data);
}

void
writer_init(struct worker *w)
{
	unsigned ms = w->conf->common.sync_ms;

	uv_timer_init(w->loop, &w->wr.sync_timer);
	w->wr.sync_timer.data = w;
	if (ms > 0)
		uv_timer_start(&w->wr.sync_timer, on_sync_timer, ms, ms);
}

void
writer_drain(struct worker *w)
{
	struct writer *wr = &w->wr;

	uv_timer_stop(&wr->sync_timer);
	writer_kick(w);
	while (wr->committing || wr->syncing || w->pending != NULL) {
		if (!wr->committing)
			writer_kick(w);
		uv_run(w->loop, UV_RUN_ONCE);
	}
	start_sync(w);
	while (wr->syncing)
		uv_run(w->loop, UV_RUN_ONCE);
}
