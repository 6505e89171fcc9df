/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * The SMTP worker's connection I/O: plaintext or TLS, the stutter's
 * one-byte writes, and the STARTTLS handshake (see conn.h).  Nothing
 * here allocates per byte: input is held only while a line is
 * incomplete, output only while a reply is pending.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

#define TLS_FAILED	"500 STARTTLS failed\r\n"	/* spamd's words */

const char *
conn_ip(const struct conn *c, char *buf, size_t len)
{
	addr_format(&c->addr, buf, len);
	return buf;
}

/* spamd switches a greylisted client's stutter off after -S seconds. */
bool
conn_stuttering(struct conn *c)
{
	const struct conf *cf = c->w->conf;

	if (!c->stutter)
		return false;
	if (!c->black && wall_now() - c->start >= (int64_t)cf->greystutter)
		c->stutter = false;
	return c->stutter;
}

int
conn_tls_flush(struct conn *c)
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
 */
int
conn_write(struct conn *c)
{
	struct worker *w = c->w;
	struct buf *b = &c->out;
	size_t n = c->out.len;
	uv_buf_t ub;
	int r;
	bool stutter = false;

	if (n > 0 && conn_stuttering(c) && w->nconns + 5 < w->a->maxcon) {
		n = 1;
		stutter = true;
	}
	if (c->tls != NULL) {
		if (n > 0 && c->cout.len == 0) {
			if (tls_conn_write(c->tls, c->out.data, n) == -1) {
				conn_close(c);
				return -1;
			}
			buf_consume(&c->out, n);
			if (stutter)
				ws_add(&w->st->c[WS_STUTTER_BYTES], n);
			if (c->out.len == 0)
				buf_free(&c->out);
		}
		if (conn_tls_flush(c) == -1) {
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
		if (stutter && b == &c->out)
			ws_add(&w->st->c[WS_STUTTER_BYTES], (uint64_t)r);
	}
	if (b->len == 0)
		buf_free(b);
	return c->out.len > 0 || c->cout.len > 0 ? 1 : 0;
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *c = (struct conn *)h;
	struct worker *w = c->w;

	(void)suggested;
	if (c->state == CONN_PROXY) {
		*b = uv_buf_init(w->rbuf, worker_proxy_room(c));
		return;
	}
	/*
	 * Never more than one line's worth: the rest waits in the kernel.
	 * Over TLS the bytes read are records, which go to OpenSSL; the
	 * plaintext is pulled from it only as far as c->in has room.
	 */
	*b = uv_buf_init(w->rbuf, c->tls != NULL ? READ_MAX :
	    (unsigned)(READ_MAX - c->inlen));
}

void
conn_reading(struct conn *c, bool on)
{
	if (on == c->reading || c->state == CONN_CLOSED)
		return;
	if (on)
		uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, session_read);
	else
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = on;
}

int
conn_append(struct conn *c, const char *data, size_t len)
{
	char *p;

	if ((p = realloc(c->in, c->inlen + len)) == NULL)
		return -1;
	memcpy(p + c->inlen, data, len);
	c->in = p;
	c->inlen = (uint16_t)(c->inlen + len);
	return 0;
}

/*
 * Plaintext that TLS has decrypted, into c->in as far as a line's room
 * goes (the rest waits inside OpenSSL).
 */
int
conn_tls_pull(struct conn *c)
{
	struct worker *w = c->w;
	size_t room = READ_MAX - c->inlen;
	char why[256], ip[ADDR_STRLEN];
	ssize_t n;

	if (room == 0)
		return 0;
	n = tls_conn_read(c->tls, w->rbuf, room, why, sizeof(why));
	/* Reading can answer the client (a TLS 1.3 key update). */
	if (conn_tls_flush(c) == -1)
		return -1;
	if (n == -1) {
		log_debug(w->log, "tls ip=%s closed reason=\"%s\"",
		    conn_ip(c, ip, sizeof(ip)), why);
		return -1;
	}
	if (n == 0)
		return 0;
	return conn_append(c, w->rbuf, (size_t)n);
}

/* The client's next bytes are its ClientHello. */
int
conn_tls_begin(struct conn *c)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN];

	if ((c->tls = tls_conn_new(w->tls)) == NULL) {
		log_warnx(w->log, "starttls ip=%s: out of memory",
		    conn_ip(c, ip, sizeof(ip)));
		conn_close(c);
		return -1;
	}
	c->state = CONN_HANDSHAKE;
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
	ws_add(&w->st->c[WS_TLS_FAILED], 1);
	w->handshakes--;
	tls_conn_free(c->tls);
	c->tls = NULL;
	c->state = CONN_QUIT;
	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	buf_free(&c->out);
	buf_append(&c->cout, TLS_FAILED, sizeof(TLS_FAILED) - 1);
}

int
conn_tls_step(struct conn *c)
{
	struct worker *w = c->w;
	char why[256], ip[ADDR_STRLEN];

	switch (tls_conn_handshake(c->tls, why, sizeof(why))) {
	case TLS_WANT:
		break;
	case TLS_DONE:
		c->state = CONN_TLS;
		w->handshakes--;
		smtp_tls_started(&c->smtp);
		ws_add(&w->st->c[WS_TLS_OK], 1);
		log_info(w->log, "starttls ip=%s version=%s",
		    conn_ip(c, ip, sizeof(ip)), tls_conn_version(c->tls));
		break;
	case TLS_FAIL:
		if (conn_tls_flush(c) == -1) {
			conn_close(c);
			return -1;
		}
		tls_failed(c, why);
		return 0;
	}
	if (conn_tls_flush(c) == -1) {
		conn_close(c);
		return -1;
	}
	return 0;
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/*
 * Closing a socket with unread input makes the kernel send a reset,
 * which can destroy replies still in flight, so send FIN first and
 * drain what the client still sends for a while; the housekeeping
 * timer closes it after LINGER_MS.
 */
void
conn_linger(struct conn *c)
{
	uv_shutdown_t *req;

	if ((req = malloc(sizeof(*req))) == NULL ||
	    uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
		free(req);
		conn_close(c);
		return;
	}
	c->state = CONN_LINGER;
	c->since = uv_now(c->w->loop);
	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	conn_reading(c, true);
}
