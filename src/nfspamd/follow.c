/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * follow: the shared store's stream into the kernel sets.  See follow.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "addr.h"
#include "metrics.h"
#include "rlayout.h"
#include "rstore.h"
#include "util.h"

#include "follow.h"

struct follow {
	uv_loop_t		*loop;
	struct logger		*log;
	struct fw		*fw;
	struct rl_url		 url;
	char			 name[400];
	char			*password;
	redisAsyncContext	*ac;		/* NULL: not connected */
	uv_timer_t		 retry;		/* the next connect */
	uv_timer_t		 stall;		/* a read that never returns */
	unsigned		 backoff;
	struct rl_id		 last;		/* the last event applied */
	bool			 have_last;
	bool			 up;
	bool			 closing;
	int			 open_timers;	/* retry, stall: until closed */
	uint64_t		 role_at;	/* loop ms: ROLE last asked */
	bool			 full;		/* a full reconcile is due */
	int64_t			 last_full;
	uint64_t		 events, applied, bad, gaps, reconnects;
};

static void	follow_connect(struct follow *);
static void	read_next(struct follow *);
static void	on_role(redisAsyncContext *, void *, void *);

/*
 * hiredis's events on the loop: a uv_poll_t for the connection's
 * socket.  hiredis 0.14's own libuv adapter drops a poll that ends in
 * an error (a refused connect), so the attempt would hang until the
 * stall timer; here an error is handed to hiredis as the events it
 * waited for, and its read or write finds the error and ends it.
 */
struct uvev {
	redisAsyncContext	*ac;	/* NULL once hiredis let go */
	uv_poll_t		 poll;
	int			 events;
};

static void
uvev_poll(uv_poll_t *h, int status, int events)
{
	struct uvev *e = h->data;

	if (status != 0)
		events = e->events;
	if (e->ac != NULL && (events & UV_READABLE))
		redisAsyncHandleRead(e->ac);
	/* The read may have ended the connection: cleanup then ran. */
	if (e->ac != NULL && (events & UV_WRITABLE))
		redisAsyncHandleWrite(e->ac);
}

static void
uvev_set(struct uvev *e, int on, int off)
{
	e->events = (e->events | on) & ~off;
	if (e->events != 0)
		uv_poll_start(&e->poll, e->events, uvev_poll);
	else
		uv_poll_stop(&e->poll);
}

static void
uvev_add_read(void *p)
{
	uvev_set(p, UV_READABLE, 0);
}

static void
uvev_del_read(void *p)
{
	uvev_set(p, 0, UV_READABLE);
}

static void
uvev_add_write(void *p)
{
	uvev_set(p, UV_WRITABLE, 0);
}

static void
uvev_del_write(void *p)
{
	uvev_set(p, 0, UV_WRITABLE);
}

static void
uvev_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
uvev_cleanup(void *p)
{
	struct uvev *e = p;

	e->ac = NULL;
	uv_close((uv_handle_t *)&e->poll, uvev_closed);
}

static int
uvev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct uvev *e;

	if (ac->ev.data != NULL || (e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	if (uv_poll_init(loop, &e->poll, ac->c.fd) != 0) {
		free(e);
		return -1;
	}
	e->ac = ac;
	e->poll.data = e;
	ac->ev.data = e;
	ac->ev.addRead = uvev_add_read;
	ac->ev.delRead = uvev_del_read;
	ac->ev.addWrite = uvev_add_write;
	ac->ev.delWrite = uvev_del_write;
	ac->ev.cleanup = uvev_cleanup;
	return 0;
}

static void
on_retry(uv_timer_t *t)
{
	follow_connect(t->data);
}

/* The link is gone (or never came): try again after the backoff. */
static void
lost(struct follow *f, const char *why)
{
	if (f->up && !f->closing)
		log_warnx(f->log, "shared store %s: %s; the kernel sets follow "
		    "it again once it is back", f->name, why);
	f->up = false;
	f->ac = NULL;
	uv_timer_stop(&f->stall);
	if (f->closing)
		return;
	uv_timer_start(&f->retry, on_retry, f->backoff, 0);
	f->backoff = f->backoff * 2 > FOLLOW_BACKOFF_MAX ?
	    FOLLOW_BACKOFF_MAX : f->backoff * 2;
	/* Whatever happened meanwhile is read whole. */
	f->full = true;
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct follow *f = ac->data;

	lost(f, status == REDIS_OK ? "disconnected" : ac->errstr[0] != '\0' ?
	    ac->errstr : "connection lost");
}

static void
on_stall(uv_timer_t *t)
{
	struct follow *f = t->data;
	redisAsyncContext *ac = f->ac;

	if (ac == NULL)
		return;
	/* Free, not disconnect: the reply we wait for may never come. */
	log_warnx(f->log, "shared store %s: no answer for %d s; connecting "
	    "again", f->name, FOLLOW_STALL_MS / 1000);
	redisAsyncFree(ac);
	/* Not connected yet: hiredis said nothing of the end. */
	if (f->ac == ac)
		lost(f, "no answer");
}

static void
apply(struct follow *f, const struct rl_event *ev)
{
	int64_t now = (int64_t)time(NULL);
	struct prefix p;
	const char *why;

	if (ev->type == 'D') {
		f->full = true;		/* the sets shed it at the next one */
		return;
	}
	if (prefix_parse(ev->addr, &p, false, &why) == -1) {
		f->bad++;
		log_debug(f->log, "shared store event for \"%s\": %s",
		    ev->addr, why);
		return;
	}
	if (ev->expire <= now)
		return;
	f->applied++;
	if (ev->type == 'W')
		fw_white(f->fw, &p.addr, ev->expire, now);
	else
		fw_trap(f->fw, &p.addr, ev->expire, now);
}

/* One stream entry: [id, [field, value, ...]]. */
static void
entry(struct follow *f, const redisReply *e)
{
	const char *fields[32];
	size_t lens[32], n;
	const redisReply *kv;
	struct rl_event ev;
	struct rl_id id;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    rl_id_parse(e->element[0]->str, e->element[0]->len, &id) == -1) {
		f->bad++;
		return;
	}
	f->last = id;
	f->have_last = true;
	f->events++;
	kv = e->element[1];
	if (kv->type != REDIS_REPLY_ARRAY || kv->elements > 32) {
		f->bad++;
		return;
	}
	for (n = 0; n < kv->elements; n++) {
		if (kv->element[n]->type != REDIS_REPLY_STRING) {
			f->bad++;
			return;
		}
		fields[n] = kv->element[n]->str;
		lens[n] = kv->element[n]->len;
	}
	if (rl_event_parse(n, fields, lens, &ev) == -1) {
		f->bad++;
		return;
	}
	apply(f, &ev);
}

/* XREAD's reply: nil (nothing within BLOCK) or [[key, [entries]]]. */
static void
on_read(redisAsyncContext *ac, void *r, void *priv)
{
	struct follow *f = priv;
	const redisReply *rep = r, *entries;

	(void)ac;
	if (rep == NULL)
		return;		/* freed or disconnected: lost() follows */
	uv_timer_stop(&f->stall);
	if (rep->type == REDIS_REPLY_ERROR) {
		log_warnx(f->log, "shared store %s: XREAD: %s", f->name,
		    rep->str);
		redisAsyncDisconnect(f->ac);
		return;
	}
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
	    rep->element[0]->type == REDIS_REPLY_ARRAY &&
	    rep->element[0]->elements == 2) {
		entries = rep->element[0]->element[1];
		if (entries->type == REDIS_REPLY_ARRAY)
			for (size_t i = 0; i < entries->elements; i++)
				entry(f, entries->element[i]);
	}
	if (uv_now(f->loop) - f->role_at >= FOLLOW_ROLE_MS) {
		const char *role[] = { "ROLE" };

		f->role_at = uv_now(f->loop);
		redisAsyncCommandArgv(f->ac, on_role, f, 1, role, NULL);
	}
	read_next(f);
}

static void
read_next(struct follow *f)
{
	char last[48], block[16];
	const char *argv[] = { "XREAD", "COUNT", FOLLOW_COUNT, "BLOCK", block,
	    "STREAMS", RL_EVENTS, last };

	if (f->ac == NULL)
		return;
	rl_id_format(&f->last, last, sizeof(last));
	snprintf(block, sizeof(block), "%d", FOLLOW_BLOCK_MS);
	if (redisAsyncCommandArgv(f->ac, on_read, f, 8, argv, NULL) !=
	    REDIS_OK) {
		redisAsyncDisconnect(f->ac);
		return;
	}
	uv_timer_start(&f->stall, on_stall, FOLLOW_STALL_MS, 0);
}

static void
following(struct follow *f)
{
	if (!f->up) {
		f->up = true;
		f->backoff = FOLLOW_BACKOFF_MIN;
		log_info(f->log, "shared store %s: following its events",
		    f->name);
	}
	read_next(f);
}

/*
 * The first time: the stream's last entry is where reading begins; what
 * came before is the full reconcile's, which follow_full_done leaves
 * due until it has run with the link up.
 */
static void
on_tail(redisAsyncContext *ac, void *r, void *priv)
{
	struct follow *f = priv;
	const redisReply *rep = r, *e;

	(void)ac;
	if (rep == NULL)
		return;
	f->last = (struct rl_id){ 0, 0 };
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
	    (e = rep->element[0])->type == REDIS_REPLY_ARRAY &&
	    e->elements == 2 && e->element[0]->type == REDIS_REPLY_STRING &&
	    rl_id_parse(e->element[0]->str, e->element[0]->len,
	    &f->last) == -1)
		f->last = (struct rl_id){ 0, 0 };
	f->have_last = true;
	following(f);
}

/*
 * XINFO STREAM, before reading on from where this node stopped: did the
 * trimming take events it had not read?  No stream yet is no gap.
 */
static void
on_info(redisAsyncContext *ac, void *r, void *priv)
{
	struct follow *f = priv;
	const redisReply *rep = r;
	struct rl_id del;

	(void)ac;
	if (rep == NULL)
		return;
	if (rep->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i + 1 < rep->elements; i += 2) {
			const redisReply *k = rep->element[i],
			    *v = rep->element[i + 1];

			if (k->type != REDIS_REPLY_STRING ||
			    strcmp(k->str, "max-deleted-entry-id") != 0 ||
			    v->type != REDIS_REPLY_STRING ||
			    rl_id_parse(v->str, v->len, &del) == -1)
				continue;
			if (f->have_last && rl_id_gap(&f->last, &del)) {
				f->gaps++;
				f->full = true;
				log_info(f->log, "shared store %s: events were "
				    "trimmed before this node read them; the "
				    "kernel sets are read whole", f->name);
			}
		}
	if (!f->have_last) {
		const char *argv[] = { "XREVRANGE", RL_EVENTS, "+", "-",
		    "COUNT", "1" };

		if (redisAsyncCommandArgv(f->ac, on_tail, f, 6, argv, NULL) !=
		    REDIS_OK)
			redisAsyncDisconnect(f->ac);
		return;
	}
	following(f);
}

/*
 * A replica's stream never moves: after a failover the address must
 * reach the new primary.  Asked at connect and every FOLLOW_ROLE_MS.
 */
static void
on_role(redisAsyncContext *ac, void *r, void *priv)
{
	struct follow *f = priv;
	const redisReply *rep = r;

	(void)ac;
	if (rep == NULL || f->ac == NULL)
		return;
	f->role_at = uv_now(f->loop);
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
	    rep->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(rep->element[0]->str, "master") == 0)
		return;
	log_warnx(f->log, "shared store %s: a replica, not the primary; "
	    "connecting again until the address reaches the primary",
	    f->name);
	redisAsyncDisconnect(f->ac);
}

/* AUTH and SELECT: an error there is logged, and the link dropped. */
static void
on_setup(redisAsyncContext *ac, void *r, void *priv)
{
	struct follow *f = priv;
	const redisReply *rep = r;

	(void)ac;
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		log_warnx(f->log, "shared store %s: %s", f->name, rep->str);
		redisAsyncDisconnect(f->ac);
	}
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct follow *f = ac->data;
	const char *auth[] = { "AUTH", f->url.user, f->password };
	const char *info[] = { "XINFO", "STREAM", RL_EVENTS };
	const char *role[] = { "ROLE" };
	char db[16];
	const char *sel[] = { "SELECT", db };

	if (status != REDIS_OK) {
		lost(f, ac->errstr);
		return;
	}
	if (f->password != NULL) {
		if (f->url.user[0] != '\0')
			redisAsyncCommandArgv(f->ac, on_setup, f, 3, auth,
			    NULL);
		else {
			auth[1] = f->password;
			redisAsyncCommandArgv(f->ac, on_setup, f, 2, auth,
			    NULL);
		}
	}
	if (f->url.db != 0) {
		snprintf(db, sizeof(db), "%d", f->url.db);
		redisAsyncCommandArgv(f->ac, on_setup, f, 2, sel, NULL);
	}
	redisAsyncCommandArgv(f->ac, on_role, f, 1, role, NULL);
	redisAsyncCommandArgv(f->ac, on_info, f, 3, info, NULL);
}

static void
follow_connect(struct follow *f)
{
	redisAsyncContext *ac;

	if (f->closing || f->ac != NULL)
		return;
	f->reconnects++;
	ac = f->url.unix_sock ? redisAsyncConnectUnix(f->url.path) :
	    redisAsyncConnect(f->url.host, f->url.port);
	if (ac == NULL || ac->err != 0) {
		lost(f, ac != NULL ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		return;
	}
	ac->data = f;
	if (uvev_attach(ac, f->loop) == -1) {
		redisAsyncFree(ac);
		lost(f, "attaching to the loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	f->ac = ac;
	/* A connect that never completes is a stall too. */
	uv_timer_start(&f->stall, on_stall, FOLLOW_STALL_MS, 0);
}

int
follow_open(struct follow **out, uv_loop_t *loop, const char *url,
    const char *passfile, struct fw *fw, struct logger *log, char *err,
    size_t errlen)
{
	struct follow *f;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if (rl_url_parse(url, &f->url, err, errlen) == -1 ||
	    (passfile != NULL && rstore_password(passfile, &f->password, err,
	    errlen) == -1)) {
		free(f);
		return -1;
	}
	rl_url_format(&f->url, f->name, sizeof(f->name));
	f->loop = loop;
	f->log = log;
	f->fw = fw;
	f->full = true;
	f->backoff = FOLLOW_BACKOFF_MIN;
	uv_timer_init(loop, &f->retry);
	uv_timer_init(loop, &f->stall);
	f->retry.data = f->stall.data = f;
	f->open_timers = 2;
	follow_connect(f);
	*out = f;
	return 0;
}

/* Freed when both timers are closed, whichever libuv closes last. */
static void
on_timer_closed(uv_handle_t *h)
{
	struct follow *f = h->data;

	if (--f->open_timers > 0)
		return;
	if (f->password != NULL) {
		explicit_bzero(f->password, strlen(f->password));
		free(f->password);
	}
	free(f);
}

void
follow_close(struct follow *f)
{
	if (f == NULL)
		return;
	f->closing = true;
	if (f->ac != NULL)
		redisAsyncFree(f->ac);	/* on_disconnect, then lost() */
	f->ac = NULL;
	uv_close((uv_handle_t *)&f->retry, on_timer_closed);
	uv_close((uv_handle_t *)&f->stall, on_timer_closed);
}

bool
follow_want_full(const struct follow *f, int64_t now)
{
	return f->full || now - f->last_full >= FOLLOW_FULL_EVERY;
}

void
follow_full_done(struct follow *f, int64_t now)
{
	/* A link that is down will want one when it is back. */
	f->full = !f->up;
	f->last_full = now;
}

int
follow_metrics(const struct follow *f, struct buf *b)
{
	int rc = 0;

	if (f == NULL)
		return 0;
	rc |= metrics_one(b, "nfspamd_shared_store_up", METRICS_GAUGE,
	    "1 while the supervisor follows the shared store's events.",
	    f->up ? 1 : 0);
	rc |= metrics_one(b, "nfspamd_shared_events_total", METRICS_COUNTER,
	    "Events read from the shared store's stream.",
	    (double)f->events);
	rc |= metrics_one(b, "nfspamd_shared_events_applied_total",
	    METRICS_COUNTER, "Events that put an address into a kernel set.",
	    (double)f->applied);
	rc |= metrics_one(b, "nfspamd_shared_events_bad_total",
	    METRICS_COUNTER, "Stream entries that were not an event.",
	    (double)f->bad);
	rc |= metrics_one(b, "nfspamd_shared_gaps_total", METRICS_COUNTER,
	    "Times events were trimmed before this node read them.",
	    (double)f->gaps);
	rc |= metrics_one(b, "nfspamd_shared_connects_total", METRICS_COUNTER,
	    "Connections made to follow the shared store.",
	    (double)f->reconnects);
	return rc == 0 ? 0 : -1;
}
