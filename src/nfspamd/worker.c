/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd SMTP worker: accepts connections on its own SO_REUSEPORT
 * sockets, runs the fake SMTP dialogue, stutters at blacklisted and
 * trapped clients and records tuples in the store.  Here: start and
 * stop, accepting and classifying clients, closing them, blacklists,
 * alloweddomains and housekeeping; the connection's I/O is in conn.c,
 * the dialogue in session.c, the group commit in commit.c.
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
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "log.h"
#include "priv.h"
#include "prog.h"
#include "proxy.h"
#include "reputation.h"
#include "worker.h"

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST	80
#endif

#define LINGER_MS	2000	/* draining input after the last reply */

int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

/* --- the blacklist reply and list names --- */

static size_t
lookup(struct worker *w, const struct addr *a, uint32_t *ids, size_t max)
{
	if (w->bl == NULL)
		return 0;
	return bl_lookup(w->bl, a, ids, max);
}

int
worker_blackreply(struct conn *c)
{
	struct worker *w = c->w;
	uint32_t ids[64];
	size_t n;
	struct buf b = { 0 };
	int rc;

	n = lookup(w, &c->addr, ids, 64);
	if (n > 64)
		n = 64;
	/* Each message ends the reply until another one follows it. */
	rc = n > 0 ? bl_reply(w->bl, ids, n, &c->addr, w->conf->code, &b) : 0;
	if (rc == 0 && c->osf) {
		bl_reply_more(&b);
		rc = bl_reply_msg(w->conf->os_msg, &c->addr, w->conf->code,
		    true, &b);
	}
	if (rc == 0 && c->trapped) {
		bl_reply_more(&b);
		rc = bl_reply_msg(BL_GREYTRAP_MSG, &c->addr, w->conf->code,
		    true, &b);
	}
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
	if (c->dnsrep)
		snprintf(out + o, len - o, "%s%s", o ? " " : "", REP_LIST);
	o = strlen(out);
	if (c->osf)
		snprintf(out + o, len - o, "%s%s", o ? " " : "",
		    NFSPAMD_OS_LIST);
}

const char *
worker_os_field(const struct worker *w, const struct osf_fp *fp, char *buf,
    size_t len)
{
	char name[OSF_OSLEN];

	if (w->osf.n == 0) {
		buf[0] = '\0';
		return buf;
	}
	if (fp == NULL)
		snprintf(buf, len, " os=unknown");
	else {
		osf_name(fp, name, sizeof(name));
		snprintf(buf, len, " os=\"%s\"", name);
	}
	return buf;
}

/* --- accept --- */

struct trapq {
	const struct addr	*addr;
	const struct grey_conf	*gc;
	int64_t			 now;
	int64_t			 pass;	/* WHITE: the entry's pass time */
};

/*
 * 2: trapped; 3: WHITE (yet here: the kernel set lags, or the ruleset
 * does not look the network up as -N keys it); 0: neither; -1: error.
 */
int
worker_standing(struct store_txn *t, const struct grey_conf *gc,
    const struct addr *a, int64_t now, int64_t *pass)
{
	char ip[ADDR_STRLEN];
	struct store_rec r;
	size_t n;
	int rc = greylist_is_trapped(t, a, now);

	if (rc != 0)
		return rc == 1 ? 2 : rc;
	n = grey_net_key(gc, a, ip, sizeof(ip));
	if ((rc = store_get(t, STORE_WHITE, ip, n, &r)) != 0)
		return rc == 1 ? 0 : -1;
	*pass = r.pass;
	return r.expire > now ? 3 : 0;
}

static int
trapq_body(struct store_txn *t, void *arg)
{
	struct trapq *q = arg;

	return worker_standing(t, q->gc, q->addr, q->now, &q->pass);
}

/*
 * A sender WHITE for longer than two scans (each puts the database's
 * whitelist into the kernel) that the ruleset still sent here: the
 * ruleset's whitelist test does not match what -N keys by.  Said once
 * an hour, with what to check.
 */
static void
white_diverted(struct worker *w, const struct addr *a, int64_t pass,
    int64_t now)
{
	char ip[ADDR_STRLEN], net[ADDR_STRLEN];
	const struct conf *cf = w->conf;

	if (strcmp(cf->firewall, "nft") != 0 ||
	    now - pass < 2 * (int64_t)cf->scan_interval + 60 ||
	    now - w->warned_white < 3600)
		return;
	w->warned_white = now;
	addr_format(a, ip, sizeof(ip));
	grey_net_key(&cf->grey, a, net, sizeof(net));
	log_warnx(w->log, "%s is WHITE (as %s) since %lld s, yet the ruleset "
	    "still sends it here: do the ruleset's NFSPAMD_WHITE4_MASK and "
	    "NFSPAMD_WHITE6_MASK match -N %u:%u, and does it look senders up "
	    "in @spamd-white and @spamd-white6 before the redirect? (said "
	    "once an hour)", ip, net, (long long)(now - pass), cf->grey.net4,
	    cf->grey.net6);
}

static enum ws_class
standing_class(struct worker *w, const struct addr *a, int rc, int64_t pass,
    int64_t now)
{
	if (rc == 3)
		white_diverted(w, a, pass, now);
	return rc == 2 ? WS_TRAPPED : rc == 3 ? WS_WHITE : WS_GREY;
}

/* The client's standing in the database: WS_TRAPPED, WS_WHITE or WS_GREY. */
static enum ws_class
db_class(struct worker *w, const struct addr *a)
{
	struct trapq q = { a, &w->conf->grey, wall_now(), 0 };
	char err[256];
	int rc;

	if (w->store == NULL)
		return WS_GREY;
	rc = store_view(w->store, trapq_body, &q, err, sizeof(err));
	if (rc == -1)
		log_warnx(w->log, "trap lookup: %s", err);
	return standing_class(w, a, rc, q.pass, q.now);
}

/* One more under name in a published table of names; other if full. */
static void
count_name(struct ws_list *t, _Atomic uint32_t *nt, size_t max,
    _Atomic uint64_t *other, const char *name)
{
	uint32_t nl;
	size_t j;

	nl = atomic_load_explicit(nt, memory_order_relaxed);
	for (j = 0; j < nl; j++)
		if (strcmp(t[j].name, name) == 0)
			break;
	if (j == nl) {
		if (nl == max || strlen(name) >= sizeof(t[0].name)) {
			ws_add(other, 1);
			return;
		}
		/* The name first, then publish it. */
		memcpy(t[j].name, name, strlen(name) + 1);
		atomic_store_explicit(nt, nl + 1, memory_order_release);
	}
	ws_add(&t[j].n, 1);
}

void
worker_count_list(struct worker *w, const char *tag)
{
	struct wstats *st = w->st;

	count_name(st->lists, &st->nlists, WS_LISTS, &st->c[WS_BLACK_OTHER],
	    tag);
}

/*
 * The SYN the kernel kept for this connection (TCP_SAVE_SYN on the
 * listener), fingerprinted.  None kept (SYN cookies) or not parsed:
 * unknown, which is an answer too.
 */
static void
fingerprint(struct worker *w, struct conn *c, int fd)
{
	uint8_t syn[512];
	socklen_t len = sizeof(syn);
	struct osf_syn s;
	char err[128];

	if (w->osf.n == 0)
		return;
	if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, syn, &len) == 0 &&
	    osf_syn_parse(syn, len, &s, err, sizeof(err)) == 0)
		c->os = osf_match(&w->osf, &s);
	if (c->os == NULL)
		ws_add(&w->st->c[WS_OS_UNKNOWN], 1);
	else
		count_name(w->st->oses, &w->st->noses, WS_OSES,
		    &w->st->c[WS_OS_OTHER], c->os->genre);
}

/* A blacklisted client, counted under each list that holds it. */
static void
count_lists(struct worker *w, const struct addr *a)
{
	uint32_t ids[16];
	size_t n, i;

	n = lookup(w, a, ids, 16);
	for (i = 0; i < n && i < 16; i++)
		worker_count_list(w, bl_get(w->bl, ids[i])->tag);
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

/*
 * to: the address the client dialled, from a PROXY header; NULL: ask
 * the socket.
 */
static void
classify(struct worker *w, struct conn *c, int fd, bool osport,
    const struct addr *to, enum ws_class class)
{
	const struct conf *cf = w->conf;
	uint32_t id;
	struct addr dst;

	c->class = class;
	c->trapped = c->class == WS_TRAPPED;
	/* The ruleset sent it for its OS; a WHITE entry still wins. */
	c->osf = osport && c->class != WS_WHITE;
	c->black = c->trapped || c->osf || lookup(w, &c->addr, &id, 1) > 0;
	if (c->black && !c->trapped) {
		c->class = WS_BLACK;
		count_lists(w, &c->addr);
		if (c->osf)
			worker_count_list(w, NFSPAMD_OS_LIST);
	}
	if (c->black)
		w->nblack++;
	/* Past maxblack, blacklisted clients are no longer stuttered. */
	if (c->black)
		c->stutter = cf->stutter > 0 && (cf->blackonly ||
		    w->nblack <= w->a->maxblack);
	else
		c->stutter = cf->stutter > 0 && cf->greystutter > 0;
	c->stuttered = c->stutter;
	if (to != NULL)
		dst = *to;
	if (cf->lowprio_set && (to != NULL || orig_dst(fd, &dst)) &&
	    addr_eq(&dst, &cf->lowprio) &&
	    wall_now() - w->a->started >= (int64_t)cf->mx_grace)
		c->lowprio = true;
}

static void
on_close(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;

	/* A batch still pointing at c frees it when it comes back. */
	c->handle_closed = true;
	if (c->inflight == 0)
		free(c);
}

/* How long c was stuttered at: all its life, or a grey one's -S. */
static void
count_stutter(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t ms = uv_now(w->loop), start = (uint64_t)c->since0;

	if (!c->stuttered)
		return;
	ms = ms > start ? ms - start : 0;
	if (!c->black && ms > w->conf->greystutter * 1000ULL)
		ms = w->conf->greystutter * 1000ULL;
	ws_add(&w->st->c[WS_STUTTER_MS], ms);
}

void
conn_close(struct conn *c)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN], lists[256];
	bool handshake = c->state == CONN_HANDSHAKE;
	/* Still reading a PROXY header: never counted as a client. */
	bool header = c->state == CONN_PROXY;

	if (c->state == CONN_CLOSED)
		return;
	if (c->rep != NULL) {
		/* Closed while its verdict was awaited, never greeted. */
		rep_abandon(c);
		ws_add(&w->st->c[WS_ACCEPTED + c->class], 1);
	}
	wheel_remove(&c->tick);
	if (c->black)
		list_names(c, lists, sizeof(lists));
	if (!header)
		log_info(w->log, "disconnected ip=%s after=%lld%s%s%s%s%s",
		    conn_ip(c, ip, sizeof(ip)),
		    (long long)(wall_now() - c->start),
		    c->black ? " lists=\"" : "", c->black ? lists : "",
		    c->black ? "\"" : "", conn_tls_up(c) ? " tls=" : "",
		    conn_tls_up(c) ? tls_conn_version(c->tls) : "");
	c->state = CONN_CLOSED;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	if (c->black)
		w->nblack--;
	if (handshake) {
		w->handshakes--;
		ws_add(&w->st->c[WS_TLS_FAILED], 1);
	}
	if (!header)
		ws_add(&w->st->c[WS_CLOSED + c->class], 1);
	count_stutter(c);
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

/*
 * Classify c under its address and greet it, or, with --dnsrep, wait
 * for the verdict first.  to: as for classify.
 */
static void
admit(struct conn *c, int fd, bool osport, const struct addr *to)
{
	struct worker *w = c->w;
	struct lookup *l;

	if (w->conf->blackonly || w->store == NULL) {
		classify(w, c, fd, osport, to, WS_GREY);
	} else if (!w->shared || (l = calloc(1, sizeof(*l))) == NULL) {
		classify(w, c, fd, osport, to, db_class(w, &c->addr));
	} else {
		/* The commit thread asks the shared store; see below. */
		l->conn = c;
		l->addr = c->addr;
		l->fd = fd;
		l->osport = osport;
		if ((l->have_to = to != NULL))
			l->to = *to;
		c->inflight++;
		writer_lookup(w, l);
		return;
	}
	if (!rep_start(c))
		worker_greet(c);
}

/*
 * The shared store answered (or failed: the client is greylisted as
 * if the store had no entry, said once a minute).  A connection that
 * the worker closed meanwhile (its end) is only let go.
 */
void
worker_lookup_done(struct worker *w, struct lookup *l)
{
	struct conn *c = l->conn;

	if (l->rc == -1 && time(NULL) - w->wr.lwarned >= 60) {
		w->wr.lwarned = time(NULL);
		log_warnx(w->log, "trap lookup: %s (logged at most once a "
		    "minute)", l->err);
	}
	if (--c->inflight == 0 && c->state == CONN_CLOSED) {
		if (c->handle_closed)
			free(c);
		return;
	}
	if (c->state == CONN_CLOSED)
		return;
	classify(w, c, l->fd, l->osport, l->have_to ? &l->to : NULL,
	    standing_class(w, &l->addr, l->rc, l->pass, wall_now()));
	if (!rep_start(c))
		worker_greet(c);
}

/* --- the PROXY header of a load balancer (--proxy-from) --- */

static bool
from_proxy(const struct worker *w, const struct addr *a)
{
	for (size_t i = 0; i < w->conf->nproxy_from; i++)
		if (prefix_contains(&w->conf->proxy_from[i], a))
			return true;
	return false;
}

/* Seconds a proxy has for its header: --idle-timeout when shorter. */
static unsigned
proxy_timeout(const struct conf *cf)
{
	return cf->idle < NFSPAMD_PROXY_TIMEOUT ? cf->idle :
	    NFSPAMD_PROXY_TIMEOUT;
}

/*
 * What the header needs at least, or, within the connection's first
 * PROXY_V1_MAX bytes, as far as them: a v1 line's end is only found by
 * reading it.  So reads go past the header only within those bytes,
 * and what they bring after it is the client's first SMTP, well under
 * a line's room, kept for the engine.  A read of 0 bytes would be taken
 * for the end of the connection: never 0.
 */
unsigned
worker_proxy_room(const struct conn *c)
{
	struct proxy_hdr h;
	size_t room = c->inlen < PROXY_V1_MAX ? PROXY_V1_MAX - c->inlen : 0;

	if (proxy_parse(c->in, c->inlen, &h) == PROXY_NEED_MORE &&
	    h.len > room)
		room = h.len;
	if (room == 0)
		room = 1;
	return (unsigned)(room < READ_MAX ? room : READ_MAX);
}

/* No good header: closed without a word, as the peer is no client. */
static void
proxy_refuse(struct conn *c, enum ws_counter what, const char *why)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN];

	ws_add(&w->st->c[what], 1);
	log_info(w->log, "proxy ip=%s failed reason=\"%s\"",
	    conn_ip(c, ip, sizeof(ip)), why);
	conn_close(c);
}

/*
 * The header is in: from here on c is the client it names, or, for
 * LOCAL and UNKNOWN, the proxy itself.
 */
static void
proxy_done(struct conn *c, const struct proxy_hdr *h)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN];
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
		conn_close(c);
		return;
	}
	c->proxy = c->addr;
	c->state = CONN_SMTP;
	c->since = uv_now(w->loop);
	if (h->kind == PROXY_ADDRS) {
		/* The SYN the kernel kept is the proxy's: os unknown. */
		ws_add(&w->st->c[WS_PROXY_OK], 1);
		c->addr = h->src;
		admit(c, fd, c->osf, &h->dst);
		return;
	}
	ws_add(&w->st->c[WS_PROXY_LOCAL], 1);
	log_info(w->log, "proxy ip=%s version=%u header=%s: the proxy's own "
	    "address is kept", conn_ip(c, ip, sizeof(ip)), h->version,
	    proxy_kind_name(h->kind));
	fingerprint(w, c, fd);
	admit(c, fd, c->osf, NULL);
}

void
worker_proxy_read(struct conn *c, ssize_t nread, const uv_buf_t *b)
{
	struct proxy_hdr h;
	char ip[ADDR_STRLEN];

	if (nread < 0 && c->inlen == 0) {
		/*
		 * A health check that only connects, then closes or resets:
		 * no header, no count.
		 */
		log_debug(c->w->log, "proxy ip=%s closed before a header",
		    conn_ip(c, ip, sizeof(ip)));
		conn_close(c);
		return;
	}
	if (nread < 0) {
		proxy_refuse(c, WS_PROXY_ERROR, nread == UV_EOF ?
		    "closed in the middle of the header" :
		    uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	if (conn_append(c, b->base, (size_t)nread) == -1) {
		conn_close(c);
		return;
	}
	switch (proxy_parse(c->in, c->inlen, &h)) {
	case PROXY_NEED_MORE:
		return;
	case PROXY_ERROR:
		proxy_refuse(c, WS_PROXY_ERROR, h.why);
		return;
	case PROXY_DONE:
		break;
	}
	/* What followed the header is the client's. */
	c->inlen = (uint16_t)(c->inlen - h.len);
	memmove(c->in, c->in + h.len, c->inlen);
	if (c->inlen == 0) {
		free(c->in);
		c->in = NULL;
	}
	proxy_done(c, &h);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct worker *w = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct conn *c;
	uv_os_fd_t fd;

	if (status < 0) {
		log_warnx(w->log, "accept: %s", uv_strerror(status));
		return;
	}
	if (w->stopping || w->nconns >= w->a->maxcon) {
		refuse(w, server);
		if (!w->stopping)
			ws_add(&w->st->c[WS_REFUSED_MAXCON], 1);
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
	c->since = c->since0 = uv_now(w->loop);
	c->next = w->conns;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns = c;
	w->nconns++;
	if (from_proxy(w, &c->addr)) {
		/* osf holds the port's kind until classify decides it. */
		c->osf = w->osport[(uv_tcp_t *)server - w->listeners];
		c->state = CONN_PROXY;
		conn_reading(c, true);
		return;
	}
	fingerprint(w, c, fd);
	admit(c, fd, w->osport[(uv_tcp_t *)server - w->listeners], NULL);
}

void
worker_greet(struct conn *c)
{
	struct worker *w = c->w;
	char ip[ADDR_STRLEN], lists[256], os[OSF_OSLEN + 8];
	char proxy[ADDR_STRLEN + 8] = "";
	uv_os_fd_t fd;

	ws_add(&w->st->c[WS_ACCEPTED + c->class], 1);
	smtp_init(&c->smtp, c->black);
	if (smtp_banner(&w->smtp, (time_t)c->start, &c->out) != 0) {
		conn_close(c);
		return;
	}
	if (c->black)
		list_names(c, lists, sizeof(lists));
	if (c->proxy.family != 0) {
		memcpy(proxy, " proxy=", 7);
		addr_format(&c->proxy, proxy + 7, sizeof(proxy) - 7);
	}
	log_info(w->log, "connected ip=%s clients=%ld black=%ld%s%s%s%s%s",
	    conn_ip(c, ip, sizeof(ip)), w->nconns, w->nblack,
	    c->black ? " lists=\"" : "", c->black ? lists : "",
	    c->black ? "\"" : "", worker_os_field(w, c->os, os, sizeof(os)),
	    proxy);
	if (c->black && w->conf->window > 0 &&
	    uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &w->conf->window,
		    sizeof(w->conf->window));
	session_drive(c, false);
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

/*
 * The commit thread of a shared store reads the list: a new one waits
 * for its batch to be done (writer.c calls again).
 */
void
worker_load_domains(struct worker *w, bool force)
{
	struct domains d = { 0 };
	struct stat sb;
	char err[512];

	if (writer_busy(w)) {
		w->reload_domains = true;
		return;
	}
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
 * SIGHUP: alloweddomains and a renewed certificate.  The supervisor has
 * checked the files and said what is wrong with them; here a failure
 * keeps the old certificate.  One line per worker says it is done, so
 * that whoever sent the signal knows when new connections see it.
 */
static void
reload_conf(struct worker *w)
{
	const char *cert = "none";
	char err[512];

	worker_load_domains(w, true);
	if (w->tls != NULL) {
		cert = "reloaded";
		if (tls_server_reload(w->tls, w->conf->tls_cert,
		    w->conf->tls_key, err, sizeof(err)) == -1) {
			cert = "kept";
			log_debug(w->log, "worker=%d: certificate kept: %s",
			    w->a->id, err);
		}
	}
	log_info(w->log, "reloaded worker=%d domains=%zu certificate=%s",
	    w->a->id, w->domains.n, cert);
	commit_log_stats(w);
}

static void
on_ctl(uv_poll_t *h, int status, int events)
{
	struct worker *w = h->data;
	uint8_t buf[MSG_MAXSIZE];
	struct msg *m = &w->msg;
	const char *why;
	ssize_t n;

	(void)events;
	if (status < 0)
		return;
	while ((n = recv(w->a->ctl, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (msg_decode(buf, (size_t)n, m, &why) == -1)
			log_warnx(w->log, "worker=%d: bad message from the "
			    "supervisor: %s", w->a->id, why);
		else if (m->type == MSG_RELOAD_LISTS)
			load_lists(w);
		else if (m->type == MSG_RELOAD_CONF)
			reload_conf(w);
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

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_HANDSHAKE && now - c->hs_since >=
		    w->conf->tls_timeout * 1000ULL) {
			char ip[ADDR_STRLEN];

			log_info(w->log, "starttls ip=%s failed "
			    "reason=\"no handshake in %u s\"",
			    conn_ip(c, ip, sizeof(ip)), w->conf->tls_timeout);
			conn_close(c);
		} else if (c->state == CONN_PROXY && now - c->since0 >=
		    proxy_timeout(w->conf) * 1000ULL) {
			char why[32];

			snprintf(why, sizeof(why), "no header in %u s",
			    proxy_timeout(w->conf));
			proxy_refuse(c, WS_PROXY_TIMEOUT, why);
		} else if (now - c->since >= (c->state == CONN_LINGER ? LINGER_MS :
		    idle))
			conn_close(c);
	}
	worker_load_domains(w, false);
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
}

static void
on_reload(void *arg)
{
	reload_conf(arg);
}

static void
on_stop(void *arg)
{
	struct worker *w = arg;

	stop(w);
	uv_stop(w->loop);
}

/* No children: SIGCHLD is not watched. */
static const struct prog_signal_ops worker_signals = {
	.stop = on_stop, .reload = on_reload, .reap = NULL
};

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

static uint16_t
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/*
 * The supervisor read these files before; the shipped ones may be
 * missing (it said so), anything else it refused to start with.
 */
static void
osf_load(struct worker *w)
{
	const struct conf *cf = w->conf;
	char err[512];

	for (size_t i = 0; i < cf->os.n; i++)
		if (osf_db_load(&w->osf, cf->os.files[i], err,
		    sizeof(err)) == -1) {
			if (!cf->os.shipped)
				log_warnx(w->log, "worker=%d: fingerprinting "
				    "off: %s", w->a->id, err);
			osf_db_free(&w->osf);
			return;
		}
}

static int
worker_open(struct worker *w)
{
	const struct conf *cf = w->conf;
	/* The writer syncs, on its own thread (writer.c). */
	struct store_opts o = { .sync_ms = cf->common.sync_ms,
	    .maxsize = cf->common.db_max, .defer_sync = true,
	    .shared = cf->common.store, .passfile = cf->common.store_passfile,
	    .os_ttl = cf->grey.whiteexp };
	char err[512];
	int rc;

	if (!cf->blackonly && store_open(&w->store, cf->common.db, &o, err,
	    sizeof(err)) != 0) {
		log_warnx(w->log, "worker=%d: %s", w->a->id, err);
		return -1;
	}
	w->shared = w->store != NULL && store_shared(w->store);
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
	worker_load_domains(w, true);
	if (rep_open(w, &w->rep) == -1)
		return -1;
	raise_nofile(w);
	osf_load(w);
	for (size_t i = 0; i < w->a->nfds; i++) {
		uv_tcp_t *t = &w->listeners[i];

		w->osport[i] = cf->os_port != 0 &&
		    local_port(w->a->fds[i]) == cf->os_port;
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

	/* struct wstats is cache-line aligned: so must the worker be. */
	if ((w = aligned_alloc(_Alignof(struct worker), (sizeof(*w) +
	    _Alignof(struct worker) - 1) / _Alignof(struct worker) *
	    _Alignof(struct worker))) == NULL)
		return 1;
	memset(w, 0, sizeof(*w));
	w->st = &w->own_st;
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
		priv_lookup(a->conf->common.user, &u);
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
	wheel_init(&w->wheel, uv_now(&loop), TICK_MS);
	uv_timer_start(&w->wheel_timer, session_tick, TICK_MS, TICK_MS);
	uv_timer_init(&loop, &w->house);
	w->house.data = w;
	uv_timer_start(&w->house, on_house, 1000, 1000);
	uv_check_init(&loop, &w->commit);
	w->commit.data = w;
	uv_check_start(&w->commit, commit_check);
	if (writer_init(w) == -1) {
		rc = 1;
		goto out;
	}
	uv_poll_init(&loop, &w->ctl, a->ctl);
	w->ctl.data = w;
	uv_poll_start(&w->ctl, UV_READABLE, on_ctl);
	prog_signals_start(&loop, &w->sig, &worker_signals, w);

	uv_run(&loop, UV_RUN_DEFAULT);
	/* Not uv_stop again here: the loop must run once more to close. */
	stop(w);
	writer_drain(w);
	commit_log_stats(w);
out:
	prog_loop_close(&loop);
	rep_free(w->rep);
	bl_free(w->bl);
	domains_free(&w->domains);
	store_close(w->store);
	tls_server_free(w->tls);
	osf_db_free(&w->osf);
	free(w);
	return rc;
}
