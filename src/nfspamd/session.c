/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * The SMTP worker's dialogue: input through the SMTP engine, replies
 * out at the stutter's pace from one timer wheel (no timer per
 * connection), and the connection's way through enum conn_state.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

static void
on_event(void *arg, const struct smtp_event *ev)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	char ip[ADDR_STRLEN], q[256];

	switch (ev->type) {
	case SMTP_EV_TUPLE:
		if (!w->conf->blackonly)
			commit_queue(c, ev);
		break;
	case SMTP_EV_RCPT:
		if (w->conf->verbose)
			log_fields(w->log, LOG_INFO, "rcpt",
			    conn_ip(c, ip, sizeof(ip)), ev->helo ? ev->helo :
			    "", ev->from ? ev->from : "", ev->to ? ev->to : "",
			    c->black ? " class=black" : c->state == CONN_TLS ?
			    " class=grey tls=yes" : " class=grey");
		break;
	case SMTP_EV_HEADER:
	case SMTP_EV_BODY:
		if (w->conf->verbose)
			log_msg(w->log, ev->type == SMTP_EV_HEADER ? LOG_INFO :
			    LOG_DEBUG, "%s ip=%s line=%s", ev->type ==
			    SMTP_EV_HEADER ? "header" : "body",
			    conn_ip(c, ip, sizeof(ip)), log_quote(q, sizeof(q),
			    ev->line, ev->linelen));
		break;
	}
}

/*
 * Run buffered input through the engine until it produces a reply,
 * ends the dialogue or needs more input.  -1: the caller closes.
 */
static int
feed(struct conn *c)
{
	struct worker *w = c->w;
	struct smtp_out o = { &c->out, on_event, c, NULL, 0 };
	enum smtp_status st;
	size_t used;

	if (c->black && c->blackreply == NULL && worker_blackreply(c) == -1)
		return -1;
	o.blackreply = c->blackreply;
	o.blackreplylen = c->blackreplylen;
	while (c->out.len == 0 && conn_talking(c)) {
		if (c->state == CONN_TLS && conn_tls_pull(c) == -1)
			return -1;
		if (c->inlen == 0)
			break;
		/* Past the bound on handshakes, EHLO offers no STARTTLS. */
		c->smtp.notls = w->handshakes >= w->maxhandshakes;
		st = smtp_input(&c->smtp, &w->smtp, c->in, c->inlen, &used, &o);
		if (st == SMTP_ERROR)
			return -1;
		if (st == SMTP_STARTTLS) {
			/* RFC 3207: whatever was pipelined behind it is
			   dropped, never read as part of the session. */
			c->inlen = 0;
			c->state = CONN_STARTTLS;
			break;
		}
		if (used > 0) {
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen = (uint16_t)(c->inlen - used);
		}
		if (st == SMTP_CLOSE)
			c->state = c->state == CONN_TLS ? CONN_TLS_QUIT :
			    CONN_QUIT;
		if (used == 0)
			break;
	}
	if (c->inlen == 0) {
		free(c->in);
		c->in = NULL;
	}
	return 0;
}

void
session_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = (struct conn *)s;

	if (c->state == CONN_PROXY) {
		worker_proxy_read(c, nread, b);
		return;
	}
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->state == CONN_LINGER ||
	    c->state == CONN_STARTTLS)
		return;		/* after the last reply input is dropped */
	c->since = uv_now(c->w->loop);
	if (c->rep != NULL) {
		/*
		 * Talk before the banner, while --dnsrep decides: kept for
		 * the engine, up to a line's worth; reading goes on only
		 * to see the client leave.
		 */
		if (conn_append(c, b->base, (size_t)nread) == -1) {
			conn_close(c);
			return;
		}
		if (c->inlen >= READ_MAX)
			conn_reading(c, false);
		return;
	}
	if (c->tls != NULL) {
		if (tls_conn_input(c->tls, b->base, (size_t)nread) == -1) {
			conn_close(c);
			return;
		}
		if (c->state == CONN_HANDSHAKE && conn_tls_step(c) == -1)
			return;
	} else if (conn_append(c, b->base, (size_t)nread) == -1) {
		conn_close(c);
		return;
	}
	if (feed(c) == -1) {
		conn_close(c);
		return;
	}
	session_drive(c, false);
}

/*
 * Send what is pending.  A stuttered reply's first byte waits one
 * interval, as in spamd.  false: c waits (for the wheel) or is closed.
 */
static bool
send_pending(struct conn *c, bool due)
{
	uint64_t delay;
	int r;

	/*
	 * A reply after a tuple waits until the tuple is committed: a 451
	 * is only ever said for a tuple in the database.  commit.c drives
	 * c again, as the wheel would have if it came meanwhile.
	 */
	if (c->inflight > 0) {
		c->held_due |= due;
		conn_reading(c, false);
		return false;
	}
	/*
	 * Reading pauses only while a reply waits, so a client cannot
	 * queue up replies; a reply that goes out at once costs no epoll
	 * changes.
	 */
	if (wheel_queued(&c->tick)) {
		conn_reading(c, false);
		return false;		/* the wheel will come */
	}
	delay = c->out.len > 0 && conn_stuttering(c) ?
	    c->w->conf->stutter * 1000ULL : 0;
	if (delay > 0 && !due) {
		conn_reading(c, false);
		wheel_add(&c->w->wheel, &c->tick, delay);
		return false;
	}
	if ((r = conn_write(c)) == -1)
		return false;
	if (r == 1) {
		conn_reading(c, false);
		wheel_add(&c->w->wheel, &c->tick, delay > 0 ? delay : TICK_MS);
		return false;
	}
	return true;
}

void
session_drive(struct conn *c, bool due)
{
	if (c->state == CONN_LINGER || c->state == CONN_CLOSED)
		return;
	for (;;) {
		if (c->out.len > 0 || c->cout.len > 0) {
			if (!send_pending(c, due))
				return;
			due = false;
		}
		if (c->state == CONN_TLS_QUIT) {
			/* A clean end of the session, then FIN. */
			c->state = CONN_TLS_BYE;
			if (tls_conn_shutdown(c->tls) == 0 &&
			    conn_tls_flush(c) == 0 && c->cout.len > 0)
				continue;
		}
		if (c->state == CONN_QUIT || c->state == CONN_TLS_BYE) {
			conn_linger(c);
			return;
		}
		if (c->state == CONN_STARTTLS && conn_tls_begin(c) == -1)
			return;
		if (conn_talking(c) && (c->inlen > 0 ||
		    c->state == CONN_TLS)) {
			if (feed(c) == -1) {
				conn_close(c);
				return;
			}
			if (c->out.len > 0 || c->cout.len > 0 ||
			    !conn_talking(c))
				continue;
		}
		conn_reading(c, true);
		return;
	}
}

void
session_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	uint64_t now = uv_now(w->loop);
	struct wheel_node *n;

	while ((n = wheel_expire(&w->wheel, now)) != NULL)
		session_drive(conn_of(n), true);
}
