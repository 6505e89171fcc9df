/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd SMTP worker: accepts connections on its own SO_REUSEPORT
 * sockets, runs the fake SMTP dialogue, stutters at blacklisted and
 * trapped clients and records tuples in the store.
 *
 * Memory per connection is kept small (the goal is 100,000 of them):
 * no timer per connection (stutter runs on one timer wheel), input held
 * only while a line is incomplete, output only while a reply is pending.
 */
#include "config.h"

#include <sys/prctl.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "bl.h"
#include "greylist.h"
#include "nfspamd.h"
#include "priv.h"
#include "prog.h"
#include "store.h"
#include "tls.h"

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST	80
#endif

#define TICK_MS		10
#define WHEEL_SLOTS	1024		/* 10.24 s: the longest -s is 10 */
#define READ_MAX	SMTP_LINEMAX
#define LINGER_MS	2000	/* draining input after the last reply */
#define TLS_FAILED	"500 STARTTLS failed\r\n"	/* spamd's words */

/* Where a connection is with STARTTLS. */
enum tlsstate {
	TLS_NONE,	/* plaintext */
	TLS_REPLY,	/* STARTTLS answered: the 220 is going out */
	TLS_HANDSHAKE,
	TLS_UP,		/* everything goes through c->tls */
	TLS_BYE,	/* done: close_notify sent */
};

struct worker;

struct conn {
	uv_tcp_t	 tcp;		/* first: handle <-> conn */
	struct worker	*w;
	struct conn	*next, *prev;	/* all connections */
	struct conn	*wnext, *wprev;	/* wheel slot */
	struct smtp	 smtp;
	struct buf	 out;		/* reply being sent (plaintext) */
	struct buf	 cout;		/* TLS records not yet sent */
	struct tls_conn	*tls;
	uint64_t	 hs_since;	/* handshake start, loop ms */
	char		*in;		/* unconsumed input */
	uint16_t	 inlen;
	uint16_t	 slot;
	struct addr	 addr;
	int64_t		 start;		/* wall clock, seconds */
	uint64_t	 since;		/* last progress, loop ms */
	char		*blackreply;	/* built when first needed */
	uint32_t	 blackreplylen;
	bool		 black;		/* blacklisted or trapped */
	bool		 trapped;
	bool		 stutter;	/* this connection is stuttered */
	bool		 queued;	/* on the wheel */
	bool		 reading;
	bool		 done;		/* SMTP_CLOSE: close after output */
	bool		 closing;
	bool		 lingering;	/* final reply sent, draining input */
	bool		 lowprio;	/* reached the -M address */
	bool		 counted_black;
	uint8_t		 tlsstate;	/* enum tlsstate */
};

/* A tuple waiting for the next group commit. */
struct pending {
	struct pending		*next;
	struct greylist_rcpt	 rcpt;
	struct greylist_result	 res;
	char			*strings;	/* helo, from, to */
	const char		*tlsver;	/* "TLSv1.3", or NULL */
};

struct worker {
	const struct worker_args *a;
	const struct conf	*conf;
	struct logger		*log;
	uv_loop_t		*loop;
	uv_tcp_t		 listeners[NFSPAMD_MAXLISTEN];
	size_t			 nlisteners;
	uv_poll_t		 ctl;
	uv_timer_t		 wheel_timer;
	uv_timer_t		 house;
	uv_check_t		 commit;
	uv_signal_t		 sigterm, sigint, sighup;
	struct conn		*wheel[WHEEL_SLOTS];
	uint16_t		 cur;		/* wheel position */
	uint64_t		 wheel_ms;	/* time of slot cur */
	struct conn		*conns;
	long			 nconns;
	long			 nblack;
	long			 refused;
	struct store		*store;
	struct bl		*bl;
	struct domains		 domains;
	struct timespec		 domains_mtime;
	struct pending		*pending, **pending_tail;
	struct smtp_conf	 smtp;
	struct tls_server	*tls;		/* -C/-K; NULL without */
	long			 handshakes;	/* in progress */
	long			 maxhandshakes;	/* this worker's share */
	char			 rbuf[READ_MAX];
	bool			 stopping;
};

static void	conn_close(struct conn *);
static void	conn_drive(struct conn *, bool);
static void	read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);

static int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

static const char *
conn_ip(const struct conn *c, char *buf, size_t len)
{
	addr_format(&c->addr, buf, len);
	return buf;
}

/* --- the stutter wheel --- */

static void
wheel_remove(struct conn *c)
{
	struct worker *w = c->w;

	if (!c->queued)
		return;
	if (c->wprev != NULL)
		c->wprev->wnext = c->wnext;
	else
		w->wheel[c->slot] = c->wnext;
	if (c->wnext != NULL)
		c->wnext->wprev = c->wprev;
	c->wnext = c->wprev = NULL;
	c->queued = false;
}

static void
wheel_add(struct conn *c, uint64_t delay_ms)
{
	struct worker *w = c->w;
	uint64_t ticks = (delay_ms + TICK_MS - 1) / TICK_MS;

	wheel_remove(c);
	if (ticks == 0)
		ticks = 1;
	if (ticks >= WHEEL_SLOTS)
		ticks = WHEEL_SLOTS - 1;
	c->slot = (uint16_t)((w->cur + ticks) % WHEEL_SLOTS);
	c->wprev = NULL;
	c->wnext = w->wheel[c->slot];
	if (c->wnext != NULL)
		c->wnext->wprev = c;
	w->wheel[c->slot] = c;
	c->queued = true;
}

/* --- output --- */

/* spamd switches a greylisted client's stutter off after -S seconds. */
static bool
stuttering(struct conn *c)
{
	const struct conf *cf = c->w->conf;

	if (!c->stutter)
		return false;
	if (!c->black && wall_now() - c->start >= (int64_t)cf->greystutter)
		c->stutter = false;
	return c->stutter;
}

/* Move the records OpenSSL made to cout.  -1 when memory runs out. */
static int
tls_flush(struct conn *c)
{
	char tmp[4096];
	size_t n;

	while ((n = tls_conn_output(c->tls, tmp, sizeof(tmp))) > 0)
		if (buf_append(&c->cout, tmp, n) == -1)
			return -1;
	return 0;
}

/*
 * Write what is pending: one byte when stuttering (whole buffers when
 * the worker is near its connection limit, as spamd does), all of it
 * otherwise.  Over TLS the byte becomes a record of its own, made once
 * the one before it is out, so records keep the stutter's pace.
 * Returns 1 when output remains, 0 when drained, -1 when the connection
 * is gone.
 */
static int
conn_write(struct conn *c)
{
	struct worker *w = c->w;
	struct buf *b = &c->out;
	size_t n = c->out.len;
	uv_buf_t ub;
	int r;

	if (n > 0 && stuttering(c) && w->nconns + 5 < w->a->maxcon)
		n = 1;
	if (c->tls != NULL) {
		if (n > 0 && c->cout.len == 0) {
			if (tls_conn_write(c->tls, c->out.data, n) == -1) {
				conn_close(c);
				return -1;
			}
			buf_consume(&c->out, n);
			if (c->out.len == 0)
				buf_free(&c->out);
		}
		if (tls_flush(c) == -1) {
			conn_close(c);
			return -1;
		}
	}
	if (c->cout.len > 0) {
		b = &c->cout;		/* records, or the alert and the 500 */
		n = b->len;
	} else if (c->tls != NULL)
		n = 0;
	if (n == 0)
		return c->out.len > 0 ? 1 : 0;
	ub = uv_buf_init(b->data, (unsigned)n);
	r = uv_try_write((uv_stream_t *)&c->tcp, &ub, 1);
	if (r == UV_EAGAIN)
		r = 0;
	else if (r < 0) {
		conn_close(c);
		return -1;
	}
	if (r > 0) {
		buf_consume(b, (size_t)r);
		c->since = uv_now(w->loop);
	}
	if (b->len == 0)
		buf_free(b);
	return c->out.len > 0 || c->cout.len > 0 ? 1 : 0;
}

static void
wheel_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	uint64_t now = uv_now(w->loop);

	/* Catch up on every slot whose time has come. */
	while (w->wheel_ms + TICK_MS <= now) {
		struct conn *c, *next;

		w->wheel_ms += TICK_MS;
		w->cur = (uint16_t)((w->cur + 1) % WHEEL_SLOTS);
		c = w->wheel[w->cur];
		w->wheel[w->cur] = NULL;
		for (; c != NULL; c = next) {
			next = c->wnext;
			c->wnext = c->wprev = NULL;
			c->queued = false;
			conn_drive(c, true);
		}
	}
}

/* --- events from the SMTP engine --- */

static char *
dupfields(const char *helo, const char *from, const char *to,
    const char **h, const char **f, const char **t)
{
	size_t hl = strlen(helo) + 1, fl = strlen(from) + 1,
	    tl = strlen(to) + 1;
	char *s = malloc(hl + fl + tl);

	if (s == NULL)
		return NULL;
	memcpy(s, helo, hl);
	memcpy(s + hl, from, fl);
	memcpy(s + hl + fl, to, tl);
	*h = s;
	*f = s + hl;
	*t = s + hl + fl;
	return s;
}

static void
log_fields(struct logger *lg, int prio, const char *event, const char *ip,
    const char *helo, const char *from, const char *to, const char *extra)
{
	char qh[160], qf[160], qt[160];

	log_msg(lg, prio, "%s ip=%s helo=%s from=%s to=%s%s", event, ip,
	    log_quote(qh, sizeof(qh), helo, strlen(helo)),
	    log_quote(qf, sizeof(qf), from, strlen(from)),
	    log_quote(qt, sizeof(qt), to, strlen(to)), extra);
}

static void
on_event(void *arg, const struct smtp_event *ev)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	struct pending *p;
	char ip[ADDR_STRLEN], q[256];

	switch (ev->type) {
	case SMTP_EV_TUPLE:
		if (w->conf->blackonly)
			return;
		if ((p = calloc(1, sizeof(*p))) == NULL ||
		    (p->strings = dupfields(ev->helo, ev->from, ev->to,
		    &p->rcpt.helo, &p->rcpt.from, &p->rcpt.to)) == NULL) {
			free(p);
			log_warnx(w->log, "out of memory: tuple from %s lost",
			    conn_ip(c, ip, sizeof(ip)));
			return;
		}
		p->rcpt.addr = c->addr;
		p->rcpt.lowprio_mx = c->lowprio;
		p->tlsver = c->tlsstate == TLS_UP ?
		    tls_conn_version(c->tls) : NULL;
		*w->pending_tail = p;
		w->pending_tail = &p->next;
		break;
	case SMTP_EV_RCPT:
		if (w->conf->verbose)
			log_fields(w->log, LOG_INFO, "rcpt",
			    conn_ip(c, ip, sizeof(ip)), ev->helo ? ev->helo :
			    "", ev->from ? ev->from : "", ev->to ? ev->to : "",
			    c->black ? " class=black" : c->tlsstate == TLS_UP ?
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

/* --- the blacklist reply and list names --- */

static size_t
lookup(struct worker *w, const struct addr *a, uint32_t *ids, size_t max)
{
	if (w->bl == NULL)
		return 0;
	return bl_lookup(w->bl, a, ids, max);
}

static int
build_blackreply(struct conn *c)
{
	struct worker *w = c->w;
	uint32_t ids[64];
	size_t n;
	struct buf b = { 0 };
	int rc;

	n = lookup(w, &c->addr, ids, 64);
	if (n > 64)
		n = 64;
	rc = n > 0 ? bl_reply(w->bl, ids, n, &c->addr, w->conf->code, &b) : 0;
	if (rc == 0 && c->trapped)
		rc = bl_reply_msg(BL_GREYTRAP_MSG, &c->addr, w->conf->code,
		    true, &b);
	if (rc == 0 && b.len == 0)
		rc = buf_printf(&b, "%d Temporary failure\r\n",
		    w->conf->code);
	if (rc != 0) {
		buf_free(&b);
		return -1;
	}
	c->blackreply = b.data;
	c->blackreplylen = (uint32_t)b.len;
	return 0;
}

/* "nixspam spews1" for the log; "" when none. */
static void
list_names(struct conn *c, char *out, size_t len)
{
	struct worker *w = c->w;
	uint32_t ids[16];
	size_t n, o = 0;

	out[0] = '\0';
	n = lookup(w, &c->addr, ids, 16);
	for (size_t i = 0; i < n && i < 16; i++) {
		const struct bl_list *l = bl_get(w->bl, ids[i]);
		int k = snprintf(out + o, len - o, "%s%s", o ? " " : "",
		    l->tag);

		if (k < 0 || (size_t)k >= len - o)
			break;
		o += (size_t)k;
	}
	if (c->trapped)
		snprintf(out + o, len - o, "%s%s", o ? " " : "", BL_GREYTRAP);
}

/* --- input --- */

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *c = (struct conn *)h;
	struct worker *w = c->w;

	(void)suggested;
	/*
	 * Never more than one line's worth: the rest waits in the kernel.
	 * Over TLS the bytes read are records, which go to OpenSSL; the
	 * plaintext is pulled from it only as far as c->in has room.
	 */
	*b = uv_buf_init(w->rbuf, c->tls != NULL ? READ_MAX :
	    (unsigned)(READ_MAX - c->inlen));
}

static void
reading(struct conn *c, bool on)
{
	if (on == c->reading || c->closing)
		return;
	if (on)
		uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	else
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = on;
}

/*
 * Plaintext that TLS has decrypted, into c->in as far as a line's room
 * goes (the rest waits inside OpenSSL).  -1: the client closed the
 * session or broke it.
 */
static int
tls_pull(struct conn *c)
{
	struct worker *w = c->w;
	size_t room = READ_MAX - c->inlen;
	char why[256], ip[ADDR_STRLEN], *p;
	ssize_t n;

	if (room == 0)
		return 0;
	n = tls_conn_read(c->tls, w->rbuf, room, why, sizeof(why));
	/* Reading can answer the client (a TLS 1.3 key update). */
	if (tls_flush(c) == -1)
		return -1;
	if (n == -1) {
		log_debug(w->log, "tls ip=%s closed reason=\"%s\"",
		    conn_ip(c, ip, sizeof(ip)), why);
		return -1;
	}
	if (n == 0)
		return 0;
	if ((p = realloc(c->in, c->inlen + (size_t)n)) == NULL)
		return -1;
	memcpy(p + c->inlen, w->rbuf, (size_t)n);
	c->in = p;
	c->inlen = (uint16_t)(c->inlen + n);
	return 0;
}

/*
 * Run buffered input through the engine until it produces a reply or
 * needs more input.
 */
static int
conn_feed(struct conn *c)
{
	struct worker *w = c->w;
	struct smtp_out o = { &c->out, on_event, c, NULL, 0 };
	enum smtp_status st;
	size_t used;

	if (c->black && c->blackreply == NULL && build_blackreply(c) == -1)
		return -1;
	o.blackreply = c->blackreply;
	o.blackreplylen = c->blackreplylen;
	while (c->out.len == 0 && !c->done && (c->tlsstate == TLS_NONE ||
	    c->tlsstate == TLS_UP)) {
		if (c->tlsstate == TLS_UP && tls_pull(c) == -1)
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
			c->tlsstate = TLS_REPLY;
			break;
		}
		if (used > 0) {
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen = (uint16_t)(c->inlen - used);
		}
		if (st == SMTP_CLOSE)
			c->done = true;
		if (used == 0)
			break;
	}
	if (c->inlen == 0) {
		free(c->in);
		c->in = NULL;
	}
	return 0;
}

/* The 220 is out: the client's next bytes are its ClientHello. */
static int
tls_begin(struct conn *c)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN];

	if ((c->tls = tls_conn_new(w->tls)) == NULL) {
		log_warnx(w->log, "starttls ip=%s: out of memory",
		    conn_ip(c, ip, sizeof(ip)));
		conn_close(c);
		return -1;
	}
	c->tlsstate = TLS_HANDSHAKE;
	c->hs_since = uv_now(w->loop);
	w->handshakes++;
	return 0;
}

/*
 * A failed handshake: the alert OpenSSL made (if any), then spamd's
 * plaintext "500 STARTTLS failed", then the connection closes.
 */
static void
tls_failed(struct conn *c, const char *why)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN];

	log_info(w->log, "starttls ip=%s failed reason=\"%s\"",
	    conn_ip(c, ip, sizeof(ip)), why);
	w->handshakes--;
	tls_conn_free(c->tls);
	c->tls = NULL;
	c->tlsstate = TLS_NONE;
	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	buf_free(&c->out);
	buf_append(&c->cout, TLS_FAILED, sizeof(TLS_FAILED) - 1);
	c->done = true;
}

/* Drive the handshake with what has arrived.  -1: connection gone. */
static int
tls_step(struct conn *c)
{
	struct worker *w = c->w;
	char why[256], ip[ADDR_STRLEN];

	switch (tls_conn_handshake(c->tls, why, sizeof(why))) {
	case TLS_WANT:
		break;
	case TLS_DONE:
		c->tlsstate = TLS_UP;
		w->handshakes--;
		smtp_tls_started(&c->smtp);
		log_info(w->log, "starttls ip=%s version=%s",
		    conn_ip(c, ip, sizeof(ip)), tls_conn_version(c->tls));
		break;
	case TLS_FAIL:
		if (tls_flush(c) == -1) {
			conn_close(c);
			return -1;
		}
		tls_failed(c, why);
		return 0;
	}
	if (tls_flush(c) == -1) {
		conn_close(c);
		return -1;
	}
	return 0;
}

static void
read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = (struct conn *)s;
	char *p;

	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->lingering || c->tlsstate == TLS_REPLY)
		return;		/* after the last reply input is dropped */
	c->since = uv_now(c->w->loop);
	if (c->tls != NULL) {
		if (tls_conn_input(c->tls, b->base, (size_t)nread) == -1) {
			conn_close(c);
			return;
		}
		if (c->tlsstate == TLS_HANDSHAKE && tls_step(c) == -1)
			return;
	} else {
		if ((p = realloc(c->in, c->inlen + (size_t)nread)) == NULL) {
			conn_close(c);
			return;
		}
		memcpy(p + c->inlen, b->base, (size_t)nread);
		c->in = p;
		c->inlen = (uint16_t)(c->inlen + nread);
	}
	if (conn_feed(c) == -1) {
		conn_close(c);
		return;
	}
	conn_drive(c, false);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/*
 * The dialogue is over.  Closing a socket with unread input makes the
 * kernel send a reset, which can destroy replies still in flight, so
 * send FIN first and drain what the client still sends for a while;
 * the housekeeping timer closes it after LINGER_MS.
 */
static void
conn_linger(struct conn *c)
{
	uv_shutdown_t *req;

	if ((req = malloc(sizeof(*req))) == NULL ||
	    uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
		free(req);
		conn_close(c);
		return;
	}
	c->lingering = true;
	c->since = uv_now(c->w->loop);
	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	reading(c, true);
}

/*
 * Move a connection along: send pending output (now, or from the wheel
 * when stuttering: due says the wheel called), close when the dialogue
 * is over, otherwise read.  A stuttered reply's first byte waits one
 * interval, as in spamd.
 */
static void
conn_drive(struct conn *c, bool due)
{
	struct worker *w = c->w;
	uint64_t delay;
	int r;

	if (c->closing || c->lingering)
		return;
	for (;;) {
		if (c->out.len > 0 || c->cout.len > 0) {
			/*
			 * Reading pauses only while a reply waits, so a client
			 * cannot queue up replies; a reply that goes out at
			 * once costs no epoll changes.
			 */
			if (c->queued) {
				reading(c, false);
				return;		/* the wheel will come */
			}
			delay = c->out.len > 0 && stuttering(c) ?
			    w->conf->stutter * 1000ULL : 0;
			if (delay > 0 && !due) {
				reading(c, false);
				wheel_add(c, delay);
				return;
			}
			due = false;
			if ((r = conn_write(c)) == -1)
				return;
			if (r == 1) {
				reading(c, false);
				wheel_add(c, delay > 0 ? delay : TICK_MS);
				return;
			}
		}
		if (c->done && c->tlsstate == TLS_UP) {
			/* A clean end of the session, then FIN. */
			c->tlsstate = TLS_BYE;
			if (tls_conn_shutdown(c->tls) == 0 &&
			    tls_flush(c) == 0 && c->cout.len > 0)
				continue;
		}
		if (c->done) {
			conn_linger(c);
			return;
		}
		if (c->tlsstate == TLS_REPLY && tls_begin(c) == -1)
			return;
		if (c->inlen > 0 || c->tlsstate == TLS_UP) {
			if (conn_feed(c) == -1) {
				conn_close(c);
				return;
			}
			if (c->out.len > 0 || c->cout.len > 0 || c->done ||
			    c->tlsstate == TLS_REPLY)
				continue;
		}
		reading(c, true);
		return;
	}
}

/* --- accept --- */

struct trapq {
	const struct addr	*addr;
	int64_t			 now;
};

static int
trapq_body(struct store_txn *t, void *arg)
{
	struct trapq *q = arg;
	int rc = greylist_is_trapped(t, q->addr, q->now);

	return rc == 1 ? 2 : rc;	/* 2: trapped; 0: not */
}

static bool
is_trapped(struct worker *w, const struct addr *a)
{
	struct trapq q = { a, wall_now() };
	char err[256];
	int rc;

	if (w->store == NULL)
		return false;
	rc = store_view(w->store, trapq_body, &q, err, sizeof(err));
	if (rc == -1)
		log_warnx(w->log, "trap lookup: %s", err);
	return rc == 2;
}

/*
 * The address the client dialled: the redirect's original destination,
 * or the socket's own address when not redirected.
 */
static bool
orig_dst(int fd, struct addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len) == 0 ||
	    (len = sizeof(ss), getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST,
	    &ss, &len) == 0) ||
	    (len = sizeof(ss), getsockname(fd, (struct sockaddr *)&ss,
	    &len) == 0))
		return addr_from_sockaddr((struct sockaddr *)&ss, a) == 0;
	return false;
}

static void
classify(struct worker *w, struct conn *c, int fd)
{
	const struct conf *cf = w->conf;
	uint32_t id;
	struct addr dst;

	c->trapped = !cf->blackonly && is_trapped(w, &c->addr);
	c->black = c->trapped || lookup(w, &c->addr, &id, 1) > 0;
	if (c->black) {
		w->nblack++;
		c->counted_black = true;
	}
	/* Past maxblack, blacklisted clients are no longer stuttered. */
	if (c->black)
		c->stutter = cf->stutter > 0 && (cf->blackonly ||
		    w->nblack <= w->a->maxblack);
	else
		c->stutter = cf->stutter > 0 && cf->greystutter > 0;
	if (cf->lowprio_set && orig_dst(fd, &dst) &&
	    addr_eq(&dst, &cf->lowprio) &&
	    wall_now() - w->a->started >= (int64_t)cf->mx_grace)
		c->lowprio = true;
}

static void
on_close(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;

	free(c);
}

static void
conn_close(struct conn *c)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN], lists[256];

	if (c->closing)
		return;
	c->closing = true;
	wheel_remove(c);
	if (c->black)
		list_names(c, lists, sizeof(lists));
	log_info(w->log, "disconnected ip=%s after=%lld%s%s%s%s%s",
	    conn_ip(c, ip, sizeof(ip)), (long long)(wall_now() - c->start),
	    c->black ? " lists=\"" : "", c->black ? lists : "",
	    c->black ? "\"" : "", c->tlsstate >= TLS_UP ? " tls=" : "",
	    c->tlsstate >= TLS_UP ? tls_conn_version(c->tls) : "");
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	if (c->counted_black)
		w->nblack--;
	if (c->tlsstate == TLS_HANDSHAKE)
		w->handshakes--;
	tls_conn_free(c->tls);
	buf_free(&c->cout);
	smtp_free(&c->smtp);
	buf_free(&c->out);
	free(c->in);
	free(c->blackreply);
	uv_close((uv_handle_t *)&c->tcp, on_close);
}

/* A connection we will not serve: accept it and close it at once. */
static void
refuse(struct worker *w, uv_stream_t *server)
{
	uv_tcp_t *t = malloc(sizeof(*t));

	if (t == NULL)
		return;
	uv_tcp_init(w->loop, t);
	if (uv_accept(server, (uv_stream_t *)t) == 0)
		w->refused++;
	uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct worker *w = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct conn *c;
	char ip[ADDR_STRLEN], lists[256];
	uv_os_fd_t fd;

	if (status < 0) {
		log_warnx(w->log, "accept: %s", uv_strerror(status));
		return;
	}
	if (w->stopping || w->nconns >= w->a->maxcon) {
		refuse(w, server);
		if (!w->stopping && (w->refused & (w->refused - 1)) == 0)
			log_warnx(w->log, "refused reason=maxcon clients=%ld "
			    "refused=%ld", w->nconns, w->refused);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		refuse(w, server);
		return;
	}
	c->w = w;
	uv_tcp_init(w->loop, &c->tcp);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, &c->addr) != 0 ||
	    uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
		uv_close((uv_handle_t *)&c->tcp, on_close);
		return;
	}
	/* Replies are small and each one waits for the client: no Nagle. */
	uv_tcp_nodelay(&c->tcp, 1);
	c->start = wall_now();
	c->since = uv_now(w->loop);
	c->next = w->conns;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns = c;
	w->nconns++;
	classify(w, c, fd);
	smtp_init(&c->smtp, c->black);
	if (smtp_banner(&w->smtp, (time_t)c->start, &c->out) != 0) {
		conn_close(c);
		return;
	}
	if (c->black)
		list_names(c, lists, sizeof(lists));
	log_info(w->log, "connected ip=%s clients=%ld black=%ld%s%s%s",
	    conn_ip(c, ip, sizeof(ip)), w->nconns, w->nblack,
	    c->black ? " lists=\"" : "", c->black ? lists : "",
	    c->black ? "\"" : "");
	if (c->black && w->conf->window > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &w->conf->window,
		    sizeof(w->conf->window));
	conn_drive(c, false);
}

/* --- group commit of tuples --- */

struct batch {
	struct worker	*w;
	int64_t		 now;
};

static int
commit_body(struct store_txn *t, void *arg)
{
	struct batch *b = arg;
	struct worker *w = b->w;
	struct greylist_domains d = {
		(const char *const *)w->domains.names, w->domains.n };

	for (struct pending *p = w->pending; p != NULL; p = p->next)
		if (greylist_rcpt(t, &w->conf->grey, &d, &p->rcpt, b->now,
		    &p->res) == -1)
			return -1;
	return 0;
}

static void
tell_supervisor(struct worker *w, char kind, const struct addr *a,
    int64_t expire)
{
	char ip[ADDR_STRLEN], msg[MSG_MAX];
	int n;

	addr_format(a, ip, sizeof(ip));
	n = snprintf(msg, sizeof(msg), "%c %s %lld", kind, ip,
	    (long long)expire);
	if (send(w->a->ctl, msg, (size_t)n, MSG_DONTWAIT) == -1)
		log_warn(w->log, "telling the supervisor about %s", ip);
}

/* For -Y: the supervisor sends the peers a GREY for the tuple. */
static void
tell_grey(struct worker *w, const struct pending *p)
{
	char ip[ADDR_STRLEN], msg[MSG_MAX];
	int n;

	if (w->conf->nsync_targets == 0)
		return;
	addr_format(&p->rcpt.addr, ip, sizeof(ip));
	n = snprintf(msg, sizeof(msg), "G %s\n%s\n%s\n%s", ip, p->rcpt.helo,
	    p->rcpt.from, p->rcpt.to);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;		/* longer than any sync packet anyway */
	if (send(w->a->ctl, msg, (size_t)n, MSG_DONTWAIT) == -1)
		log_warn(w->log, "telling the supervisor about %s", ip);
}

static void
report(struct worker *w, struct pending *p, int64_t now)
{
	char ip[ADDR_STRLEN], extra[160], tls[32] = "";
	const struct greylist_result *r = &p->res;

	if (p->tlsver != NULL)
		snprintf(tls, sizeof(tls), " tls=%s", p->tlsver);

	addr_format(&p->rcpt.addr, ip, sizeof(ip));
	switch (r->outcome) {
	case GREYLIST_GREY:
		snprintf(extra, sizeof(extra), " new=%d attempts=%d%s",
		    r->new_tuple, r->rec.bcount, tls);
		log_fields(w->log, LOG_INFO, "greylisted", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, extra);
		tell_grey(w, p);
		break;
	case GREYLIST_PASSED:
		snprintf(extra, sizeof(extra), " attempts=%d waited=%lld "
		    "white_expire=%lld%s", r->rec.bcount,
		    (long long)(now - r->rec.first),
		    (long long)r->white.expire, tls);
		log_fields(w->log, LOG_INFO, "passed", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, extra);
		tell_supervisor(w, 'W', &p->rcpt.addr, r->white.expire);
		tell_grey(w, p);
		break;
	case GREYLIST_TRAPPED:
		snprintf(extra, sizeof(extra), " reason=%s expire=%lld%s",
		    r->why, (long long)r->rec.expire, tls);
		log_fields(w->log, LOG_INFO, "trapped", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, extra);
		tell_supervisor(w, 'T', &p->rcpt.addr, r->rec.expire);
		break;
	case GREYLIST_SKIPPED:
		log_fields(w->log, LOG_WARNING, "skipped", ip, p->rcpt.helo,
		    p->rcpt.from, p->rcpt.to, p->tlsver != NULL ?
		    " reason=key-too-long tls=yes" : " reason=key-too-long");
		break;
	}
}

static void
commit_pending(struct worker *w)
{
	struct batch b = { w, wall_now() };
	struct pending *p, *next;
	char err[256];

	if (w->pending == NULL || w->store == NULL)
		return;
	if (store_update(w->store, commit_body, &b, err, sizeof(err)) != 0)
		log_warnx(w->log, "tuples lost: %s", err);
	else
		for (p = w->pending; p != NULL; p = p->next)
			report(w, p, b.now);
	for (p = w->pending; p != NULL; p = next) {
		next = p->next;
		free(p->strings);
		free(p);
	}
	w->pending = NULL;
	w->pending_tail = &w->pending;
}

static void
on_check(uv_check_t *h)
{
	commit_pending(h->data);
}

/* --- lists, alloweddomains, housekeeping --- */

static void
load_lists(struct worker *w)
{
	struct bl *nb;
	char err[512];

	if ((nb = bl_new()) == NULL) {
		log_warnx(w->log, "blacklists: out of memory");
		return;
	}
	if (bl_load(nb, w->conf->lists, err, sizeof(err)) != 0) {
		log_warnx(w->log, "blacklists kept as they were: %s", err);
		bl_free(nb);
		return;
	}
	bl_free(w->bl);
	w->bl = nb;
	log_debug(w->log, "worker=%d blacklists=%zu prefixes=%zu", w->a->id,
	    bl_count(nb), bl_prefixes(nb));
}

static void
load_domains(struct worker *w, bool force)
{
	struct domains d = { 0 };
	struct stat sb;
	char err[512];

	if (stat(w->conf->domains, &sb) == -1) {
		if (w->domains.n > 0 || force)
			log_debug(w->log, "alloweddomains %s: none",
			    w->conf->domains);
		memset(&w->domains_mtime, 0, sizeof(w->domains_mtime));
		domains_free(&w->domains);
		return;
	}
	if (!force && sb.st_mtim.tv_sec == w->domains_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == w->domains_mtime.tv_nsec)
		return;
	w->domains_mtime = sb.st_mtim;
	if (domains_load(w->conf->domains, &d, err, sizeof(err)) != 0) {
		log_warnx(w->log, "alloweddomains kept as they were: %s",
		    err);
		return;
	}
	domains_free(&w->domains);
	w->domains = d;
	if (w->a->id == 0)
		log_info(w->log, "alloweddomains file=%s domains=%zu",
		    w->conf->domains, d.n);
}

/*
 * SIGHUP: a renewed certificate.  The supervisor has checked the files
 * and said what is wrong with them; here a failure keeps the old one.
 */
static void
reload_tls(struct worker *w)
{
	char err[512];

	if (w->tls == NULL)
		return;
	if (tls_server_reload(w->tls, w->conf->tls_cert, w->conf->tls_key,
	    err, sizeof(err)) == -1)
		log_debug(w->log, "worker=%d: certificate kept: %s", w->a->id,
		    err);
}

static void
on_ctl(uv_poll_t *h, int status, int events)
{
	struct worker *w = h->data;
	char msg[MSG_MAX];
	ssize_t n;

	(void)events;
	if (status < 0)
		return;
	while ((n = recv(w->a->ctl, msg, sizeof(msg), MSG_DONTWAIT)) > 0) {
		if (msg[0] == 'L')
			load_lists(w);
		else if (msg[0] == 'H') {
			load_domains(w, true);
			reload_tls(w);
		}
	}
	if (n == 0) {
		/* The supervisor is gone: nobody would see our passes. */
		log_warnx(w->log, "worker=%d: supervisor gone, exiting",
		    w->a->id);
		uv_stop(w->loop);
	}
}

static void
on_house(uv_timer_t *t)
{
	struct worker *w = t->data;
	uint64_t now = uv_now(w->loop), idle = w->conf->idle * 1000ULL;
	struct conn *c, *next;
	char err[256];

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->tlsstate == TLS_HANDSHAKE && now - c->hs_since >=
		    w->conf->tls_timeout * 1000ULL) {
			char ip[ADDR_STRLEN];

			log_info(w->log, "starttls ip=%s failed "
			    "reason=\"no handshake in %u s\"",
			    conn_ip(c, ip, sizeof(ip)), w->conf->tls_timeout);
			conn_close(c);
		} else if (now - c->since >= (c->lingering ? LINGER_MS :
		    idle))
			conn_close(c);
	}
	load_domains(w, false);
	if (w->store != NULL && store_flush(w->store, err, sizeof(err)) != 0)
		log_warnx(w->log, "%s", err);
}

/* --- start and stop --- */

static void
stop(struct worker *w)
{
	struct conn *c, *next;

	if (w->stopping)
		return;
	w->stopping = true;
	for (size_t i = 0; i < w->nlisteners; i++)
		uv_close((uv_handle_t *)&w->listeners[i], NULL);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
	commit_pending(w);
	uv_stop(w->loop);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct worker *w = s->data;

	if (signum == SIGHUP) {
		load_domains(w, true);
		reload_tls(w);
	} else
		stop(w);
}

static void
raise_nofile(struct worker *w)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)w->a->maxcon + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn(w->log, "worker=%d: setrlimit", w->a->id);
	if (rl.rlim_cur < want)
		log_warnx(w->log, "worker=%d: only %lu descriptors allowed, "
		    "%ld connections wanted: use more workers (-j)",
		    w->a->id, (unsigned long)rl.rlim_cur, w->a->maxcon);
	else
		log_info(w->log, "worker=%d: descriptor limit raised to %lu",
		    w->a->id, (unsigned long)rl.rlim_cur);
}

static int
worker_open(struct worker *w)
{
	const struct conf *cf = w->conf;
	struct store_opts o = { .sync_ms = cf->sync_ms, .maxsize = cf->db_max };
	char err[512];
	int rc;

	if (!cf->blackonly && store_open(&w->store, cf->db, &o, err,
	    sizeof(err)) != 0) {
		log_warnx(w->log, "worker=%d: %s", w->a->id, err);
		return -1;
	}
	if (cf->tls_cert != NULL) {
		if (tls_server_new(&w->tls, cf->tls_cert, cf->tls_key, err,
		    sizeof(err)) == -1) {
			log_warnx(w->log, "worker=%d: %s", w->a->id, err);
			return -1;
		}
		w->smtp.tls = true;
		w->maxhandshakes = (cf->tls_handshakes + cf->workers - 1) /
		    cf->workers;
	}
	load_lists(w);
	load_domains(w, true);
	raise_nofile(w);
	for (size_t i = 0; i < w->a->nfds; i++) {
		uv_tcp_t *t = &w->listeners[i];

		uv_tcp_init(w->loop, t);
		t->data = w;
		if ((rc = uv_tcp_open(t, w->a->fds[i])) != 0 ||
		    (rc = uv_listen((uv_stream_t *)t, cf->backlog,
		    on_connection)) != 0) {
			log_warnx(w->log, "worker=%d: listen: %s", w->a->id,
			    uv_strerror(rc));
			return -1;
		}
		w->nlisteners++;
	}
	return 0;
}

int
worker_main(const struct worker_args *a)
{
	struct worker *w;
	uv_loop_t loop;
	int rc = 0;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return 1;
	w->a = a;
	w->conf = a->conf;
	w->log = a->log;
	w->pending_tail = &w->pending;
	{
		struct priv_user u;
		char err[256], comm[16];

		/* comm (top, ss -p) says "exe" after /proc/self/exe. */
		snprintf(comm, sizeof(comm), "nfspamd-work%d", a->id);
		prctl(PR_SET_NAME, comm, 0, 0, 0);

		/* The process that reads the network holds nothing. */
		priv_lookup(a->conf->user, &u);
		if (priv_drop_all(&u, err, sizeof(err)) == -1) {
			log_warnx(a->log, "worker=%d: %s", a->id, err);
			free(w);
			return 1;
		}
	}
	w->smtp.hostname = a->conf->hostname;
	w->smtp.name = a->conf->name;
	uv_loop_init(&loop);
	w->loop = &loop;
	if (worker_open(w) == -1) {
		rc = 1;
		goto out;
	}
	uv_timer_init(&loop, &w->wheel_timer);
	w->wheel_timer.data = w;
	w->wheel_ms = uv_now(&loop);
	uv_timer_start(&w->wheel_timer, wheel_tick, TICK_MS, TICK_MS);
	uv_timer_init(&loop, &w->house);
	w->house.data = w;
	uv_timer_start(&w->house, on_house, 1000, 1000);
	uv_check_init(&loop, &w->commit);
	w->commit.data = w;
	uv_check_start(&w->commit, on_check);
	uv_poll_init(&loop, &w->ctl, a->ctl);
	w->ctl.data = w;
	uv_poll_start(&w->ctl, UV_READABLE, on_ctl);
	uv_signal_init(&loop, &w->sigterm);
	uv_signal_init(&loop, &w->sigint);
	uv_signal_init(&loop, &w->sighup);
	w->sigterm.data = w->sigint.data = w->sighup.data = w;
	uv_signal_start(&w->sigterm, on_signal, SIGTERM);
	uv_signal_start(&w->sigint, on_signal, SIGINT);
	uv_signal_start(&w->sighup, on_signal, SIGHUP);

	uv_run(&loop, UV_RUN_DEFAULT);
	stop(w);
out:
	prog_loop_close(&loop);
	bl_free(w->bl);
	domains_free(&w->domains);
	store_close(w->store);
	tls_server_free(w->tls);
	free(w);
	return rc;
}
