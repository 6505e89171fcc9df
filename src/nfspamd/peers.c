/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * peers: sync with other MX hosts.  See peers.h.
 */
#include "config.h"

#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catchup.h"
#include "catchupd.h"
#include "domains.h"
#include "greylist.h"
#include "metrics.h"
#include "peers.h"
#include "sync.h"
#include "syncsend.h"
#include "util.h"

#define PEERS_MAXMSGS	(SYNC_MAXSIZE / 4)	/* TLVs in one packet */
#define PEERS_WARN_EVERY 60

struct peers {
	const struct conf	*conf;
	struct logger		*log;
	struct store		*store;
	struct fw		*fw;
	struct syncsend		*out;		/* NULL without -Y */
	struct sync_key		 key;
	struct sync_replay	*replay;
	struct domains		 domains;
	int			 fd;		/* -1 without -y */
	uv_poll_t		 poll;
	bool			 polling;
	uint8_t			 buf[SYNC_MAXSIZE];
	/* One packet's messages, copied out of buf. */
	struct sync_msg		 msg[PEERS_MAXMSGS];
	size_t			 nmsg;
	uint64_t		 refused[SYNC_NERR];
	time_t			 warned[SYNC_NERR];
	uint64_t		 applied;
	uint64_t		 received;	/* packets */
	uint64_t		 ignored_addr;	/* messages for no client */
	time_t			 warned_addr;
	struct catchupd		*cu;		/* NULL: no catch-up */
	/* Each sender's last counter, to notice missed packets. */
	struct catchup_source	 src[64];
};

/* --- receiving --- */

static void
collect(void *arg, const struct sync_msg *m)
{
	struct peers *p = arg;

	if (p->nmsg < PEERS_MAXMSGS)
		p->msg[p->nmsg++] = *m;
}

struct applied {
	struct addr	addr;
	int		kind;		/* 'W', 'T' or 0 */
	int64_t		expire;
};

struct apply_ctx {
	struct peers	*p;
	int64_t		 now;
	struct applied	 out[PEERS_MAXMSGS];
	size_t		 nout;
};

static int
apply_tw(struct store_txn *t, const struct grey_conf *gc,
    const struct sync_msg *m, int64_t now, struct applied *out)
{
	char key[ADDR_STRLEN];
	/* A WHITE is for the address's network (-N), a trap for itself. */
	size_t klen = m->type == SYNC_WHITE ? grey_net_key(gc, &m->addr, key,
	    sizeof(key)) : addr_format(&m->addr, key, sizeof(key));
	struct store_rec old, rec;
	enum store_type type, ntype;
	int rc;

	if ((rc = store_get_addr(t, key, klen, &type, &old)) == -1)
		return -1;
	if (grey_sync(m->type == SYNC_WHITE ? GREY_SYNC_WHITE : GREY_SYNC_TRAP,
	    m->expire, rc == 0 ? &old : NULL, now, &rec, &ntype) == -1)
		return 1;	/* already expired: nothing to do */
	if (store_put_addr(t, key, klen, ntype, &rec) == -1)
		return -1;
	out->addr = m->addr;
	out->kind = ntype == STORE_WHITE ? 'W' : 'T';
	out->expire = rec.expire;
	return 0;
}

static int
apply_grey(struct store_txn *t, struct peers *p, const struct sync_msg *m,
    int64_t now, struct applied *out)
{
	struct greylist_domains d = {
		(const char *const *)p->domains.names, p->domains.n };
	/* greyd sends them stripped: kept in spamd's form here. */
	char from[SYNC_MAXSIZE + 3], to[SYNC_MAXSIZE + 3];
	/* Not the low-priority-MX rule: the peer's own -M decided that. */
	struct greylist_rcpt r = { .addr = m->addr, .helo = m->helo,
	    .from = grey_spamd_form(m->from, from, sizeof(from)),
	    .to = grey_spamd_form(m->to, to, sizeof(to)),
	    .lowprio_mx = false };

	r.loose = r.from != m->from || r.to != m->to;
	struct greylist_result res;

	if (greylist_rcpt(t, &p->conf->grey, &d, &r, now, &res) == -1)
		return -1;
	out->addr = m->addr;
	if (res.outcome == GREYLIST_PASSED) {
		out->kind = 'W';
		out->expire = res.white.expire;
	} else if (res.outcome == GREYLIST_TRAPPED) {
		out->kind = 'T';
		out->expire = res.rec.expire;
	}
	return 0;
}

static int
apply_txn(struct store_txn *t, void *arg)
{
	struct apply_ctx *a = arg;
	struct peers *p = a->p;

	/* May run again after the map grew: start over. */
	a->nout = 0;
	for (size_t i = 0; i < p->nmsg; i++) {
		const struct sync_msg *m = &p->msg[i];
		struct applied *o = &a->out[a->nout];
		int rc;

		memset(o, 0, sizeof(*o));
		rc = m->type == SYNC_GREY ? apply_grey(t, p, m, a->now, o) :
		    apply_tw(t, &a->p->conf->grey, m, a->now, o);
		if (rc == -1)
			return -1;
		if (rc == 0)
			a->nout++;
	}
	return 0;
}

static void
refuse(struct peers *p, enum sync_err e, const char *from)
{
	time_t now = time(NULL);

	p->refused[e]++;
	if (now - p->warned[e] < PEERS_WARN_EVERY)
		return;
	p->warned[e] = now;
	log_warnx(p->log, "sync: packet from %s refused: %s "
	    "(refused-%s=%" PRIu64 "; logged at most once a minute)", from,
	    sync_err_name(e), sync_err_name(e), p->refused[e]);
}

/*
 * Drop the messages about addresses that can never be an SMTP client
 * (greyd sends its IPv6 entries as 255.255.255.255).  Loopback is
 * accepted only from a peer on this host's own loopback.
 */
static void
drop_nonclients(struct peers *p, const struct addr *from,
    const char *fromtext)
{
	time_t now = time(NULL);
	char ip[ADDR_STRLEN];
	const char *why;
	size_t kept = 0;

	for (size_t i = 0; i < p->nmsg; i++) {
		if ((why = sync_ignore_addr(from, &p->msg[i].addr)) == NULL) {
			p->msg[kept++] = p->msg[i];
			continue;
		}
		p->ignored_addr++;
		if (now - p->warned_addr < PEERS_WARN_EVERY)
			continue;
		p->warned_addr = now;
		addr_format(&p->msg[i].addr, ip, sizeof(ip));
		log_warnx(p->log, "sync: from %s: message for %s ignored: %s "
		    "address (ignored-address=%" PRIu64 "; logged at most "
		    "once a minute)", fromtext, ip, why, p->ignored_addr);
	}
	p->nmsg = kept;
}

static uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static void
receive_one(struct peers *p, size_t n, const struct sockaddr_storage *ss)
{
	struct apply_ctx *a;
	struct sync_hdr h;
	struct addr from = { 0 };
	char fromtext[ADDR_STRLEN] = "?", err[256];
	int64_t now = (int64_t)time(NULL);
	uint32_t lo = UINT32_MAX, hi = 0;
	enum sync_err e;

	if (addr_from_sockaddr((const struct sockaddr *)ss, &from) == 0)
		addr_format(&from, fromtext, sizeof(fromtext));
	p->nmsg = 0;
	if ((e = sync_decode(&p->key, p->buf, n, &h, collect, p)) != SYNC_OK) {
		refuse(p, e, fromtext);
		return;
	}
	for (size_t i = 0; i < p->nmsg; i++) {
		lo = p->msg[i].timestamp < lo ? p->msg[i].timestamp : lo;
		hi = p->msg[i].timestamp > hi ? p->msg[i].timestamp : hi;
	}
	if (p->nmsg == 0)
		return;
	if (p->replay != NULL && (e = sync_replay_check(p->replay, &h, lo, hi,
	    now)) != SYNC_OK) {
		refuse(p, e, fromtext);
		return;
	}
	if (p->cu != NULL && catchup_gap(p->src, sizeof(p->src) /
	    sizeof(p->src[0]), &from, sockaddr_port(ss), h.counter, now) > 0)
		catchupd_missed(p->cu, &from);
	drop_nonclients(p, &from, fromtext);
	if (p->nmsg == 0)
		return;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	a->p = p;
	a->now = now;
	if (store_update(p->store, apply_txn, a, err, sizeof(err)) != 0) {
		log_warnx(p->log, "sync: from %s: %s", fromtext, err);
		free(a);
		return;
	}
	p->applied += p->nmsg;
	for (size_t i = 0; i < a->nout; i++) {
		const struct applied *o = &a->out[i];
		char ip[ADDR_STRLEN];

		addr_format(&o->addr, ip, sizeof(ip));
		log_debug(p->log, "sync: from %s: %s ip=%s expire=%lld", fromtext,
		    o->kind == 'W' ? "white" : o->kind == 'T' ? "trapped" :
		    "grey", ip, (long long)o->expire);
		if (o->kind == 'W')
			fw_white(p->fw, &o->addr, o->expire, now);
		else if (o->kind == 'T')
			fw_trap(p->fw, &o->addr, o->expire, now);
	}
	free(a);
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
	struct peers *p = h->data;

	(void)events;
	if (status < 0)
		uv_poll_start(h, UV_READABLE, on_readable);
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n;

		/* A zeroed buffer, as spamd reads into. */
		memset(p->buf, 0, sizeof(p->buf));
		n = recvfrom(p->fd, p->buf, sizeof(p->buf), MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &sl);
		if (n < 0)
			break;
		p->received++;
		receive_one(p, (size_t)n, &ss);
	}
}

/*
 * -y address: that address and the sync port.  -y interface, or a
 * multicast -Y: any address, and the group joined on the interface.
 */
static int
listen_on(struct peers *p, const char *spec, bool mcast_only, char *err,
    size_t errlen)
{
	const struct conf *c = p->conf;
	struct sync_target st;
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned ifindex;
	const char *why;
	struct addr a;
	int on = 1;

	if (sync_target_parse(spec, &st, &why) == -1)
		return util_seterr(err, errlen, "-y %s: %s", spec, why);
	ifindex = if_nametoindex(st.host);
	if (ifindex == 0 && (mcast_only || addr_parse(st.host, &a, &why) != 0))
		return util_seterr(err, errlen, "-y %s: neither an interface "
		    "nor an address", spec);
	if (ifindex != 0)
		a = (struct addr){ .family = AF_INET };	/* 0.0.0.0 */
	sl = addr_to_sockaddr(&a, c->sync_port, &ss);
	/* IP_FREEBIND: an address that a VRRP failover brings later. */
	if ((p->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(p->fd, ss.ss_family == AF_INET ? IPPROTO_IP :
	    IPPROTO_IPV6, ss.ss_family == AF_INET ? IP_FREEBIND :
	    IPV6_FREEBIND, &on, sizeof(on)) == -1 ||
	    bind(p->fd, (struct sockaddr *)&ss, sl) == -1)
		return util_seterr(err, errlen, "-y %s: port %u: %s", spec,
		    c->sync_port, strerror(errno));
	if (ifindex != 0) {
		struct ip_mreqn mr;

		memset(&mr, 0, sizeof(mr));
		inet_pton(AF_INET, SYNC_MCAST, &mr.imr_multiaddr);
		mr.imr_ifindex = (int)ifindex;
		if (setsockopt(p->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
		    sizeof(mr)) == -1)
			return util_seterr(err, errlen, "-y %s: joining %s: %s",
			    spec, SYNC_MCAST, strerror(errno));
	}
	log_info(p->log, "sync: listening on %s port %u%s", st.host,
	    c->sync_port, ifindex != 0 ? " (multicast " SYNC_MCAST ")" : "");
	return 0;
}

/* The first multicast -Y target, if any: spamd listens there too. */
static const char *
mcast_target(const struct conf *c)
{
	for (size_t i = 0; i < c->nsync_targets; i++) {
		struct sync_target st;
		const char *why;

		if (sync_target_parse(c->sync_targets[i], &st, &why) == 0 &&
		    if_nametoindex(st.host) != 0)
			return c->sync_targets[i];
	}
	return NULL;
}

int
peers_open(struct peers **out, uv_loop_t *loop, const struct conf *c,
    struct store *store, struct fw *fw, struct logger *lg,
    void (*rescan)(void *), void *rescan_arg, char *err, size_t errlen)
{
	struct peers *p;
	const char *mc = NULL;
	bool missing;

	*out = NULL;
	if (c->nsync_targets == 0 && c->sync_listen == NULL &&
	    c->ncatchup_peers == 0)
		return 0;
	if (c->blackonly) {
		log_warnx(lg, "sync: ignored in blacklist-only mode (-b), as "
		    "in spamd");
		return 0;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	p->conf = c;
	p->log = lg;
	p->store = store;
	p->fw = fw;
	p->fd = -1;
	if (sync_key_load(c->sync_key, &p->key, &missing, err, errlen) == -1)
		goto fail;
	if (missing)
		log_warnx(lg, "sync: no key file %s: the empty key, as spamd "
		    "uses without one; anyone can forge messages",
		    c->sync_key);
	if (c->nsync_targets > 0 && syncsend_open(&p->out,
	    c->sync_targets, c->nsync_targets, &p->key, lg, err,
	    errlen) == -1)
		goto fail;
	if (c->sync_listen == NULL)
		mc = mcast_target(c);
	if ((c->sync_listen != NULL || mc != NULL) &&
	    listen_on(p, c->sync_listen != NULL ? c->sync_listen : mc,
	    c->sync_listen == NULL, err, errlen) == -1)
		goto fail;
	if (c->sync_replay > 0 &&
	    (p->replay = sync_replay_new(c->sync_replay)) == NULL) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	if (catchupd_open(&p->cu, loop, c, &p->key, !missing, store, lg,
	    rescan, rescan_arg, err, errlen) == -1)
		goto fail;
	peers_reload(p);
	if (p->fd != -1) {
		uv_poll_init(loop, &p->poll, p->fd);
		p->poll.data = p;
		uv_poll_start(&p->poll, UV_READABLE, on_readable);
		p->polling = true;
	}
	*out = p;
	return 0;
fail:
	peers_close(p);
	return -1;
}

static void
peers_free(struct peers *p)
{
	if (p->fd != -1)
		close(p->fd);
	domains_free(&p->domains);
	sync_replay_free(p->replay);
	free(p);
}

static void
on_closed(uv_handle_t *h)
{
	peers_free(h->data);
}

/* Before the loop's handles are closed, so ours gets its callback. */
void
peers_close(struct peers *p)
{
	if (p == NULL)
		return;
	catchupd_close(p->cu);
	p->cu = NULL;
	syncsend_close(p->out);
	p->out = NULL;
	if (p->polling)
		uv_close((uv_handle_t *)&p->poll, on_closed);
	else
		peers_free(p);
}

void
peers_reload(struct peers *p)
{
	struct domains d = { 0 };
	char err[512];

	if (p == NULL)
		return;
	if (domains_load(p->conf->domains, &d, err, sizeof(err)) == -1) {
		if (errno != ENOENT)
			log_warnx(p->log, "sync: %s", err);
		return;
	}
	domains_free(&p->domains);
	p->domains = d;
}

void
peers_grey(struct peers *p, const struct addr *a, const char *helo,
    const char *from, const char *to, int64_t now)
{
	struct sync_msg m = { .type = SYNC_GREY, .timestamp = (uint32_t)now,
	    .addr = *a, .helo = helo, .from = from, .to = to };

	if (p != NULL && p->out != NULL)
		syncsend_msg(p->out, &m);
}

void
peers_trapped(struct peers *p, const struct addr *a, int64_t expire,
    int64_t now)
{
	struct sync_msg m = { .type = SYNC_TRAPPED,
	    .timestamp = (uint32_t)now, .addr = *a,
	    .expire = (uint32_t)expire };

	if (p != NULL && p->out != NULL)
		syncsend_msg(p->out, &m);
}

void
peers_log_stats(struct peers *p)
{
	uint64_t sent, errors, refused = 0;

	if (p == NULL)
		return;
	syncsend_counts(p->out, &sent, &errors);
	for (int e = SYNC_ESHORT; e < SYNC_NERR; e++)
		refused += p->refused[e];
	log_info(p->log, "sync stats sent=%" PRIu64 " send-errors=%" PRIu64
	    " applied=%" PRIu64 " refused=%" PRIu64 " refused-short=%" PRIu64
	    " refused-version=%" PRIu64 " refused-af=%" PRIu64
	    " refused-hmac=%" PRIu64 " refused-tlv=%" PRIu64
	    " refused-unknown-tlv=%" PRIu64 " refused-stale=%" PRIu64
	    " refused-replay=%" PRIu64 " replay-forgotten=%" PRIu64
	    " ignored-address=%" PRIu64,
	    sent, errors, p->applied, refused, p->refused[SYNC_ESHORT],
	    p->refused[SYNC_EVERSION], p->refused[SYNC_EAF],
	    p->refused[SYNC_EHMAC], p->refused[SYNC_ETLV],
	    p->refused[SYNC_EUNKNOWN], p->refused[SYNC_ESTALE],
	    p->refused[SYNC_EREPLAY], p->replay != NULL ?
	    sync_replay_forgotten(p->replay) : 0, p->ignored_addr);
	catchupd_log_stats(p->cu);
}

int
peers_metrics(const struct peers *p, struct buf *b)
{
	uint64_t sent = 0, errors = 0;
	struct mlabel l[1];
	int rc = 0;

	if (p == NULL)
		return 0;
	if (p->out != NULL)
		syncsend_counts(p->out, &sent, &errors);
	rc |= metrics_one(b, "nfspamd_sync_sent_total", METRICS_COUNTER,
	    "Sync messages sent, one per -Y target.", (double)sent);
	rc |= metrics_one(b, "nfspamd_sync_send_errors_total", METRICS_COUNTER,
	    "Sync messages that could not be sent.", (double)errors);
	rc |= metrics_one(b, "nfspamd_sync_received_total", METRICS_COUNTER,
	    "Sync packets received on -y.", (double)p->received);
	rc |= metrics_one(b, "nfspamd_sync_applied_total", METRICS_COUNTER,
	    "Sync messages applied to the database.", (double)p->applied);
	rc |= metrics_head(b, "nfspamd_sync_refused_total", METRICS_COUNTER,
	    "Sync packets refused, by reason.");
	for (int e = SYNC_ESHORT; e < SYNC_NERR; e++) {
		l[0] = (struct mlabel){ "reason", sync_err_name(e) };
		rc |= metrics_sample(b, "nfspamd_sync_refused_total", l, 1,
		    (double)p->refused[e]);
	}
	rc |= metrics_one(b, "nfspamd_sync_ignored_total", METRICS_COUNTER,
	    "Sync messages about an address that cannot be an SMTP client.",
	    (double)p->ignored_addr);
	rc |= catchupd_metrics(p->cu, b);
	return rc == 0 ? 0 : -1;
}
