/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * catchupd: serving and fetching whole databases.  See catchupd.h.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catchup.h"
#include "catchupd.h"
#include "grey.h"
#include "metrics.h"
#include "util.h"

#define CU_PEERS	32
#define CU_BATCH	1000		/* merges a transaction */
#define CU_WALK		2000		/* tuples seen per txn */
#define CU_CHUNK	512		/* entries per frame at most */
#define CU_CONNECT_S	5
#define CU_PACE		0.2		/* s ahead of the rate */
#define CU_IO_S		30		/* a stalled peer goes then */
#define CU_HELLO_S	5
#define CU_RETRY_MIN	10
#define CU_RETRY_MAX	300
#define CU_MAXENTRIES	(64UL << 20)	/* per fetch */
#define CU_WARN_EVERY	60
/* A frame's records, at their smallest (a one-byte key). */
#define CU_RECS		(CATCHUP_RAWMAX / (3 + 1 + STORE_RECSIZE) + 1)

struct cu_peer {
	char		 host[256];
	uint16_t	 port;
	struct addr	 addr;		/* as last resolved */
	bool		 resolved;
	bool		 due;
	int64_t		 next;		/* not before; monotonic */
	int64_t		 last;		/* last completed fetch */
	unsigned	 backoff;
};

enum cu_job { CU_JOB_NONE, CU_JOB_MERGE, CU_JOB_FINISH };

/* What one fetch did, for its log line. */
struct cu_tally {
	uint64_t	 got[STORE_NTYPES];
	uint64_t	 merged, unchanged, skipped, superseded;
	uint64_t	 merged_white;
	uint64_t	 bytes;
};

struct catchupd {
	const struct conf	*conf;
	struct store		*store;
	struct logger		*log;
	struct sync_key		 key;
	catchupd_rescan_fn	 rescan;
	void			*rescan_arg;

	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	bool			 stop;		/* under mu */
	atomic_bool		 quit;		/* stop, for serve() */

	/* Serving. */
	int			 lfd;		/* -1 without -y */
	int			 wake[2];
	pthread_t		 srv;
	bool			 srv_running;
	int			 srv_fd;	/* the peer served; mu */
	time_t			 srv_warned;

	/* Fetching. */
	struct cu_peer		 peer[CU_PEERS];
	size_t			 npeers;
	pthread_t		 cli;
	bool			 cli_running;
	int			 cli_fd;	/* under mu */

	/* The job the fetching thread hands the loop, under mu. */
	uv_async_t		 async;
	uv_idle_t		 idle;
	int			 handles;	/* open, to close */
	enum cu_job		 job;
	bool			 job_done;
	bool			 job_failed;
	const struct catchup_rec *recs;
	size_t			 nrecs, jpos;
	struct cu_tally		 tally;
	char			 walk[STORE_KEYMAX];
	size_t			 walklen;
	bool			 walking;

	/* Counters, under mu. */
	uint64_t		 served, served_entries, served_bytes;
	uint64_t		 serve_errors, refused;
	uint64_t		 fetches, fetch_errors, fetched_entries;
	uint64_t		 merged, superseded, skipped, gaps;
	time_t			 warned_nets;
};

static int64_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static double
mono_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0, or -1 with errno (ETIMEDOUT after SO_RCVTIMEO, EPIPE at EOF). */
static int
recv_all(int fd, void *p, size_t n)
{
	int r = util_read_full(fd, p, n);

	if (r == 1)
		return 0;
	if (r == 0 || errno == 0)
		errno = EPIPE;
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		errno = ETIMEDOUT;
	return -1;
}

static void
io_timeouts(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void
fill_random(uint8_t *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			abort();	/* no entropy at all: nothing is safe */
		got += (size_t)r;
	}
}

/* --- serving --- */

struct chunk {
	uint8_t		*raw;
	size_t		 len;
	size_t		 n;
	enum store_type	 type;
	char		 last[STORE_KEYMAX];
	size_t		 lastlen;
	bool		 have_last;
	bool		 more;
	int64_t		 now;
};

static int
chunk_entry(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct chunk *c = arg;
	struct catchup_rec r = { .type = type, .key = key, .keylen = keylen };
	size_t len;

	if (c->have_last && keylen == c->lastlen &&
	    memcmp(key, c->last, keylen) == 0)
		return 0;	/* where the last chunk stopped */
	/* What a peer would refuse (a bogus entry) stays here. */
	if (rec != NULL && keylen <= STORE_KEYMAX &&
	    (rec->pcount == GREY_PCOUNT_SPAMTRAP || rec->expire > c->now) &&
	    catchup_key_ok(type, key, keylen) &&
	    catchup_rec_consistent(type, rec)) {
		r.rec = *rec;
		if ((len = catchup_rec_put(c->raw, CATCHUP_RAWMAX, c->len,
		    &r)) == 0) {
			c->more = true;
			return 1;
		}
		c->len = len;
		c->n++;
	}
	if (keylen <= STORE_KEYMAX) {
		memcpy(c->last, key, keylen);
		c->lastlen = keylen;
		c->have_last = true;
	}
	if (c->n >= CU_CHUNK) {
		c->more = true;
		return 1;
	}
	return 0;
}

static int
chunk_view(struct store_txn *t, void *arg)
{
	struct chunk *c = arg;

	c->len = 0;
	c->n = 0;
	c->more = false;
	if (store_scan_from(t, c->type, c->have_last ? c->last : NULL,
	    c->have_last ? c->lastlen : 0, chunk_entry, c) == -1)
		return -1;
	return 0;
}

static int
send_frame(int fd, const struct catchup_session *s, enum catchup_kind kind,
    uint32_t seq, uint32_t rawlen, uint8_t *frame, size_t bodylen)
{
	struct catchup_frame f = { .kind = kind, .seq = seq,
	    .rawlen = rawlen, .bodylen = (uint32_t)bodylen };

	catchup_frame_hdr(&f, frame);
	catchup_frame_mac(s, frame, frame + CATCHUP_HDRLEN, bodylen,
	    frame + CATCHUP_HDRLEN + bodylen);
	return util_write_full(fd, frame, CATCHUP_HDRLEN + bodylen + CATCHUP_MACLEN);
}

static void
send_fail(int fd, const struct catchup_session *s, uint32_t seq,
    uint8_t *frame, const char *why)
{
	size_t n = strlen(why);

	if (n > CATCHUP_FAILMAX)
		n = CATCHUP_FAILMAX;
	memcpy(frame + CATCHUP_HDRLEN, why, n);
	send_frame(fd, s, CATCHUP_FAIL, seq, (uint32_t)n, frame, n);
}

/*
 * Sleep until sent entries fit the rate; false when told to stop.  Not
 * after every frame: only once CU_PACE seconds ahead, then back to the
 * schedule.  Bursts at full speed and long sleeps cost the SMTP workers
 * less than a wakeup every few milliseconds (bench/catchup, a sink as
 * the client: p99 1.9-2.3 times idle paced frame by frame, 1.1-1.3 in
 * bursts).
 */
static bool
pace(struct catchupd *cu, uint64_t sent, double t0)
{
	double due, now;

	if (cu->conf->catchup_rate == 0)
		return !atomic_load(&cu->quit);
	due = t0 + (double)sent / cu->conf->catchup_rate;
	if (due - mono_f() < CU_PACE)
		return !atomic_load(&cu->quit);
	while ((now = mono_f()) < due && !atomic_load(&cu->quit)) {
		double d = due - now > 0.1 ? 0.1 : due - now;
		struct timespec ts = { .tv_sec = 0,
		    .tv_nsec = (long)(d * 1e9) };

		nanosleep(&ts, NULL);
	}
	return !atomic_load(&cu->quit);
}

/* Addresses first, so the passes a peer missed arrive soonest. */
static const enum store_type serve_order[STORE_NTYPES] = {
	STORE_WHITE, STORE_TRAPPED, STORE_SPAMTRAP, STORE_GREY };

static int
stream(struct catchupd *cu, int fd, const struct catchup_session *s,
    uint8_t *raw, uint8_t *frame, struct catchup_end *end, uint64_t *bytes,
    uint64_t *rawbytes, char *why, size_t wl)
{
	struct chunk *c;
	uint32_t seq = 0;
	uint64_t total = 0;
	double t0 = mono_f();
	char err[512];
	int rc = -1;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return util_seterr(why, wl, "out of memory");
	c->raw = raw;
	c->now = (int64_t)time(NULL);
	for (int i = 0; i < STORE_NTYPES; i++) {
		c->type = serve_order[i];
		c->have_last = false;
		do {
			size_t blen;

			if (store_view(cu->store, chunk_view, c, err,
			    sizeof(err)) != 0) {
				send_fail(fd, s, seq, frame, "database error");
				util_seterr(why, wl, "%s", err);
				goto out;
			}
			if (c->n == 0)
				break;
			if ((blen = catchup_deflate(raw, c->len, frame +
			    CATCHUP_HDRLEN, CATCHUP_BODYMAX)) == 0) {
				util_seterr(why, wl, "deflate failed");
				goto out;
			}
			if (send_frame(fd, s, CATCHUP_DATA, seq++,
			    (uint32_t)c->len, frame, blen) == -1) {
				util_seterr(why, wl, "sending: %s",
				    strerror(errno));
				goto out;
			}
			*bytes += CATCHUP_HDRLEN + blen + CATCHUP_MACLEN;
			*rawbytes += c->len;
			end->sent[c->type] += c->n;
			total += c->n;
			if (!pace(cu, total, t0)) {
				util_seterr(why, wl, "stopping");
				goto out;
			}
		} while (c->more);
	}
	end->net4 = (uint8_t)cu->conf->grey.net4;
	end->net6 = (uint8_t)cu->conf->grey.net6;
	catchup_end_encode(end, frame + CATCHUP_HDRLEN);
	if (send_frame(fd, s, CATCHUP_END, seq, CATCHUP_ENDLEN, frame,
	    CATCHUP_ENDLEN) == -1) {
		util_seterr(why, wl, "sending: %s", strerror(errno));
		goto out;
	}
	*bytes += CATCHUP_HDRLEN + CATCHUP_ENDLEN + CATCHUP_MACLEN;
	rc = 0;
out:
	free(c);
	return rc;
}

static void
serve_one(struct catchupd *cu, int fd, const char *who, uint8_t *raw,
    uint8_t *frame)
{
	struct catchup_session s = { .key = cu->key };
	uint8_t hello[CATCHUP_HELLOLEN], proof[CATCHUP_MACLEN];
	struct catchup_end end = { 0 };
	uint64_t bytes = 0, raw_bytes = 0, n = 0;
	double t0 = mono_f();
	char why[600];
	time_t now;

	/* A client that stalls holds the server up this long at most. */
	io_timeouts(fd, CU_HELLO_S);
	fill_random(s.snonce, sizeof(s.snonce));
	if (recv_all(fd, hello, sizeof(hello)) == -1 ||
	    catchup_hello_parse(hello, s.cnonce) == -1) {
		snprintf(why, sizeof(why), "not a catch-up client");
		goto refused;
	}
	catchup_hello(s.snonce, hello);
	if (util_write_full(fd, hello, sizeof(hello)) == -1 ||
	    recv_all(fd, proof, sizeof(proof)) == -1) {
		snprintf(why, sizeof(why), "gone before its proof: %s",
		    strerror(errno));
		goto refused;
	}
	if (!catchup_proof_ok(&s, proof)) {
		/* Under our key, which the client finds is not its own. */
		send_fail(fd, &s, 0, frame, "wrong key");
		snprintf(why, sizeof(why), "wrong key");
		goto refused;
	}
	io_timeouts(fd, CU_IO_S);
	if (stream(cu, fd, &s, raw, frame, &end, &bytes, &raw_bytes, why,
	    sizeof(why)) == -1) {
		pthread_mutex_lock(&cu->mu);
		cu->serve_errors++;
		pthread_mutex_unlock(&cu->mu);
		log_warnx(cu->log, "catchup: to %s: %s", who, why);
		return;
	}
	for (int t = 0; t < STORE_NTYPES; t++)
		n += end.sent[t];
	pthread_mutex_lock(&cu->mu);
	cu->served++;
	cu->served_entries += n;
	cu->served_bytes += bytes;
	pthread_mutex_unlock(&cu->mu);
	log_info(cu->log, "catchup: to %s: entries=%" PRIu64 " white=%" PRIu64
	    " trapped=%" PRIu64 " spamtrap=%" PRIu64 " grey=%" PRIu64
	    " bytes=%" PRIu64 " inflated=%" PRIu64 " seconds=%.2f", who, n,
	    end.sent[STORE_WHITE], end.sent[STORE_TRAPPED],
	    end.sent[STORE_SPAMTRAP], end.sent[STORE_GREY], bytes, raw_bytes,
	    mono_f() - t0);
	return;
refused:
	now = time(NULL);
	pthread_mutex_lock(&cu->mu);
	cu->refused++;
	pthread_mutex_unlock(&cu->mu);
	if (now - cu->srv_warned >= CU_WARN_EVERY) {
		cu->srv_warned = now;
		log_warnx(cu->log, "catchup: from %s: refused: %s (logged at "
		    "most once a minute)", who, why);
	}
}

/*
 * This thread only (Linux's nice is per thread), named for top -H.
 * Raising one's own nice needs no privilege, but a seccomp filter
 * without setpriority refuses it: then say so.
 */
static void
behind_smtp(struct catchupd *cu, const char *name, int nice)
{
	pthread_setname_np(pthread_self(), name);
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) == -1)
		log_warnx(cu->log, "catchup: %s: setpriority %d: %s; it runs "
		    "at SMTP's priority", name, nice, strerror(errno));
}

static void *
serve(void *arg)
{
	struct catchupd *cu = arg;
	uint8_t *raw = malloc(CATCHUP_RAWMAX);
	uint8_t *frame = malloc(CATCHUP_HDRLEN + CATCHUP_BODYMAX +
	    CATCHUP_MACLEN);

	behind_smtp(cu, "catchup-serve", 19);
	while (raw != NULL && frame != NULL && !atomic_load(&cu->quit)) {
		struct pollfd pf[2] = { { .fd = cu->lfd, .events = POLLIN },
		    { .fd = cu->wake[0], .events = POLLIN } };
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct addr a;
		char who[ADDR_STRLEN] = "?";
		int fd;

		if (poll(pf, 2, -1) == -1 || pf[1].revents != 0)
			continue;
		if ((fd = accept4(cu->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_CLOEXEC)) == -1)
			continue;
		if (addr_from_sockaddr((struct sockaddr *)&ss, &a) == 0)
			addr_format(&a, who, sizeof(who));
		pthread_mutex_lock(&cu->mu);
		cu->srv_fd = fd;
		pthread_mutex_unlock(&cu->mu);
		serve_one(cu, fd, who, raw, frame);
		pthread_mutex_lock(&cu->mu);
		cu->srv_fd = -1;
		pthread_mutex_unlock(&cu->mu);
		close(fd);
	}
	if (raw == NULL || frame == NULL)
		log_warnx(cu->log, "catchup: out of memory: not serving");
	free(raw);
	free(frame);
	return NULL;
}

/*
 * The -y address, or every address for -y interface (multicast): TCP,
 * dual-stack.  IP_FREEBIND: a VRRP backup may be told to serve on an
 * address it does not hold yet.
 */
static int
serve_listen(struct catchupd *cu, char *err, size_t errlen)
{
	const struct conf *c = cu->conf;
	struct sockaddr_storage ss;
	struct sync_target st;
	struct addr a = { .family = AF_INET6 };	/* :: */
	socklen_t sl;
	const char *why;
	int on = 1, off = 0;

	if (sync_target_parse(c->sync_listen, &st, &why) == -1)
		return util_seterr(err, errlen, "-y %s: %s", c->sync_listen,
		    why);
	if (if_nametoindex(st.host) == 0 && addr_parse(st.host, &a,
	    &why) != 0)
		return util_seterr(err, errlen, "-y %s: %s", c->sync_listen,
		    why);
	sl = addr_to_sockaddr(&a, c->catchup_port, &ss);
	/* Non-blocking: a peer gone between poll and accept blocks none. */
	if ((cu->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 && if_nametoindex(st.host) != 0) {
		/* No IPv6 here: every IPv4 address then. */
		a = (struct addr){ .family = AF_INET };
		sl = addr_to_sockaddr(&a, c->catchup_port, &ss);
		cu->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
	}
	if (cu->lfd == -1)
		return util_seterr(err, errlen, "catch-up: socket: %s",
		    strerror(errno));
	setsockopt(cu->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6) {
		setsockopt(cu->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
		    sizeof(off));
		setsockopt(cu->lfd, IPPROTO_IPV6, IPV6_FREEBIND, &on,
		    sizeof(on));
	} else
		setsockopt(cu->lfd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on));
	if (bind(cu->lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(cu->lfd, 8) == -1)
		return util_seterr(err, errlen, "catch-up: -y %s: TCP port "
		    "%u: %s (--catchup-port 0 turns catch-up off)",
		    c->sync_listen, c->catchup_port, strerror(errno));
	log_info(cu->log, "catchup: serving on %s TCP port %u", st.host,
	    c->catchup_port);
	return 0;
}

/* --- fetching: the loop's side --- */

/* A peer's address key as ours; 0 when our -N cannot hold it. */
static size_t
local_key(const struct catchupd *cu, const struct catchup_rec *r,
    char *key, size_t len)
{
	char text[ADDR_STRLEN + 8];
	struct prefix p;
	const char *why;

	if (r->keylen >= sizeof(text))
		return 0;
	memcpy(text, r->key, r->keylen);
	text[r->keylen] = '\0';
	if (prefix_parse(text, &p, false, &why) != 0)
		return 0;
	if (r->type == STORE_TRAPPED)
		return p.len == addr_bits(&p.addr) ?
		    prefix_key(&p, key, len) : 0;
	/* A network wider than ours would whitelist addresses not passed. */
	if (p.len < (p.addr.family == AF_INET ? cu->conf->grey.net4 :
	    cu->conf->grey.net6))
		return 0;
	return grey_net_key(&cu->conf->grey, &p.addr, key, len);
}

static int
merge_one(struct catchupd *cu, struct store_txn *t,
    const struct catchup_rec *r, int64_t now)
{
	struct store_rec local, out;
	enum store_type ltype = r->type, otype;
	char key[ADDR_STRLEN + 8];
	const char *k = r->key;
	size_t klen = r->keylen;
	int rc;

	if (r->type == STORE_WHITE || r->type == STORE_TRAPPED) {
		if ((klen = local_key(cu, r, key, sizeof(key))) == 0) {
			cu->tally.skipped++;
			return 0;
		}
		k = key;
		rc = store_get_addr(t, k, klen, &ltype, &local);
	} else
		rc = store_get(t, r->type, k, klen, &local);
	if (rc == -1)
		return -1;
	if (catchup_merge(r->type, &r->rec, ltype, rc == 0 ? &local : NULL,
	    now, &out, &otype) == 0) {
		cu->tally.unchanged++;
		return 0;
	}
	rc = otype == STORE_WHITE || otype == STORE_TRAPPED ?
	    store_put_addr(t, k, klen, otype, &out) :
	    store_put(t, otype, k, klen, &out);
	if (rc == -1)
		return -1;
	cu->tally.merged++;
	if (otype == STORE_WHITE)
		cu->tally.merged_white++;
	return 0;
}

struct merge_ctx {
	struct catchupd	*cu;
	size_t		 from, to;
	struct cu_tally	 saved;
};

static int
merge_txn(struct store_txn *t, void *arg)
{
	struct merge_ctx *m = arg;
	int64_t now = (int64_t)time(NULL);

	/* May run again after the map grew: count from the start. */
	m->cu->tally = m->saved;
	for (size_t i = m->from; i < m->to; i++)
		if (merge_one(m->cu, t, &m->cu->recs[i], now) == -1)
			return -1;
	return 0;
}

/*
 * The end's walk over our tuples, in slices: each read in a snapshot
 * (LMDB's writer lock, which the SMTP workers' commits need, is taken
 * only when there is something to delete), each deletion kept as the
 * key and the record seen, and done only if the record is still that.
 */
struct walk_ctx {
	struct catchupd	*cu;
	struct store_txn *t;
	int64_t		 now;
	size_t		 seen;
	struct buf	 del;		/* keylen (2 bytes), key, record */
	size_t		 ndel, gone;
	bool		 more;
	int		 err;
};

/* One tuple: is its network white since it was first seen? */
static int
walk_entry(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct walk_ctx *w = arg;
	struct catchupd *cu = w->cu;
	struct store_tuple tp;
	struct store_rec white;
	enum store_type wt;
	struct addr a;
	char ip[ADDR_STRLEN], nk[ADDR_STRLEN + 8];
	uint8_t len[2] = { (uint8_t)(keylen >> 8), (uint8_t)keylen };
	const char *why;
	size_t nlen;
	int rc;

	(void)type;
	if (cu->walking && keylen == cu->walklen &&
	    memcmp(key, cu->walk, keylen) == 0)
		return 0;
	if (keylen > STORE_KEYMAX)
		return 0;
	if (w->seen++ >= CU_WALK) {
		w->more = true;
		return 1;
	}
	memcpy(cu->walk, key, keylen);
	cu->walklen = keylen;
	cu->walking = true;
	if (rec == NULL || store_tuple_split(key, keylen, &tp) != 0 ||
	    tp.iplen >= sizeof(ip))
		return 0;
	memcpy(ip, tp.ip, tp.iplen);
	ip[tp.iplen] = '\0';
	if (addr_parse(ip, &a, &why) != 0)
		return 0;
	nlen = grey_net_key(&cu->conf->grey, &a, nk, sizeof(nk));
	if ((rc = store_get_addr(w->t, nk, nlen, &wt, &white)) == -1) {
		w->err = -1;
		return 1;
	}
	if (rc != 0 || wt != STORE_WHITE ||
	    !catchup_superseded(rec, &white, w->now))
		return 0;
	if (buf_append(&w->del, len, 2) == -1 ||
	    buf_append(&w->del, key, keylen) == -1 ||
	    buf_append(&w->del, rec, sizeof(*rec)) == -1) {
		w->err = -1;
		return 1;
	}
	w->ndel++;
	return 0;
}

static int
walk_view(struct store_txn *t, void *arg)
{
	struct walk_ctx *w = arg;
	struct catchupd *cu = w->cu;

	w->t = t;
	if (store_scan_from(t, STORE_GREY, cu->walking ? cu->walk : NULL,
	    cu->walking ? cu->walklen : 0, walk_entry, w) == -1 ||
	    w->err == -1)
		return -1;
	return 0;
}

static int
walk_delete(struct store_txn *t, void *arg)
{
	struct walk_ctx *w = arg;
	size_t off = 0;

	/* May run again after the map grew: count from the start. */
	w->gone = 0;
	while (off < w->del.len) {
		const uint8_t *p = (const uint8_t *)w->del.data + off;
		size_t klen = (size_t)p[0] << 8 | p[1];
		struct store_rec seen, cur;
		int rc;

		memcpy(&seen, p + 2 + klen, sizeof(seen));
		off += 2 + klen + sizeof(seen);
		if ((rc = store_get(t, STORE_GREY, p + 2, klen, &cur)) == -1)
			return -1;
		/* Retried meanwhile: the next catch-up or scan decides. */
		if (rc == 1 || memcmp(&cur, &seen, sizeof(cur)) != 0)
			continue;
		if (store_del(t, STORE_GREY, p + 2, klen) == -1)
			return -1;
		w->gone++;
	}
	return 0;
}

/* One slice of the end's walk; true when it is over. */
static bool
walk_step(struct catchupd *cu)
{
	struct walk_ctx w = { .cu = cu, .now = (int64_t)time(NULL) };
	char err[512] = "";
	bool over = true;

	if (store_view(cu->store, walk_view, &w, err, sizeof(err)) != 0)
		log_warnx(cu->log, "catchup: removing passed tuples: %s",
		    w.err == -1 && err[0] == '\0' ? "out of memory" : err);
	else if (w.ndel > 0 && store_update(cu->store, walk_delete, &w, err,
	    sizeof(err)) != 0)
		log_warnx(cu->log, "catchup: removing passed tuples: %s", err);
	else {
		cu->tally.superseded += w.gone;
		over = !w.more;
	}
	buf_free(&w.del);
	return over;
}

static void
job_finish(struct catchupd *cu, bool failed)
{
	uv_idle_stop(&cu->idle);
	pthread_mutex_lock(&cu->mu);
	cu->job_done = true;
	cu->job_failed = failed;
	pthread_cond_broadcast(&cu->cv);
	pthread_mutex_unlock(&cu->mu);
}

static void
on_idle(uv_idle_t *h)
{
	struct catchupd *cu = h->data;
	struct merge_ctx m = { .cu = cu };
	char err[512];

	if (cu->job == CU_JOB_FINISH) {
		/* Only a WHITE merged here can make a tuple of ours pointless. */
		if (cu->tally.merged_white > 0 && !walk_step(cu))
			return;
		if (cu->rescan != NULL)
			cu->rescan(cu->rescan_arg);
		job_finish(cu, false);
		return;
	}
	m.from = cu->jpos;
	m.to = cu->nrecs - cu->jpos > CU_BATCH ? cu->jpos + CU_BATCH :
	    cu->nrecs;
	m.saved = cu->tally;
	if (store_update(cu->store, merge_txn, &m, err, sizeof(err)) != 0) {
		log_warnx(cu->log, "catchup: merging: %s", err);
		cu->tally = m.saved;
		job_finish(cu, true);
		return;
	}
	cu->jpos = m.to;
	if (cu->jpos == cu->nrecs)
		job_finish(cu, false);
}

static void
on_async(uv_async_t *h)
{
	struct catchupd *cu = h->data;
	bool go;

	pthread_mutex_lock(&cu->mu);
	go = cu->job != CU_JOB_NONE && !cu->job_done && !cu->stop;
	pthread_mutex_unlock(&cu->mu);
	if (go)
		uv_idle_start(&cu->idle, on_idle);
}

/* --- fetching: the thread's side --- */

/* Hand the loop a job and wait for it; -1 when stopping or it failed. */
static int
run_job(struct catchupd *cu, enum cu_job job, const struct catchup_rec *r,
    size_t n)
{
	int rc;

	pthread_mutex_lock(&cu->mu);
	cu->job = job;
	cu->recs = r;
	cu->nrecs = n;
	cu->jpos = 0;
	cu->job_done = false;
	cu->job_failed = false;
	cu->walking = false;
	pthread_mutex_unlock(&cu->mu);
	uv_async_send(&cu->async);
	pthread_mutex_lock(&cu->mu);
	while (!cu->job_done && !cu->stop)
		pthread_cond_wait(&cu->cv, &cu->mu);
	rc = cu->job_done && !cu->job_failed ? 0 : -1;
	cu->job = CU_JOB_NONE;
	pthread_mutex_unlock(&cu->mu);
	return rc;
}

/*
 * From the -y address when there is one: the peer then sees the address
 * its -Y names, in its log and in its firewall.
 */
static void
bind_source(struct catchupd *cu, int fd, int family)
{
	struct sockaddr_storage ss;
	struct addr a;
	const char *why;
	socklen_t sl;

	if (cu->conf->sync_listen == NULL ||
	    addr_parse(cu->conf->sync_listen, &a, &why) != 0 ||
	    a.family != family)
		return;
	sl = addr_to_sockaddr(&a, 0, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		log_debug(cu->log, "catchup: from %s: %s",
		    cu->conf->sync_listen, strerror(errno));
}

static int
dial(struct catchupd *cu, struct cu_peer *p, char *why, size_t wl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char port[8];
	int fd = -1, rc, soerr;
	socklen_t sl;

	snprintf(port, sizeof(port), "%u", p->port);
	if ((rc = getaddrinfo(p->host, port, &hints, &res)) != 0)
		return util_seterr(why, wl, "%s: %s", p->host,
		    gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pf;

		if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0)) == -1)
			continue;
		pthread_mutex_lock(&cu->mu);
		cu->cli_fd = fd;
		p->resolved = addr_from_sockaddr(ai->ai_addr, &p->addr) == 0;
		pthread_mutex_unlock(&cu->mu);
		bind_source(cu, fd, ai->ai_family);
		pf = (struct pollfd){ .fd = fd, .events = POLLOUT };
		sl = sizeof(soerr);
		if ((connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS &&
		    poll(&pf, 1, CU_CONNECT_S * 1000) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    (errno = soerr) == 0)) &&
		    fcntl(fd, F_SETFL, 0) == 0)
			break;
		if (errno == EINPROGRESS)
			errno = ETIMEDOUT;
		util_seterr(why, wl, "connecting to port %u: %s", p->port,
		    strerror(errno));
		pthread_mutex_lock(&cu->mu);
		cu->cli_fd = -1;
		pthread_mutex_unlock(&cu->mu);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return -1;
	io_timeouts(fd, CU_IO_S);
	return fd;
}

struct fetch_bufs {
	uint8_t		 frame[CATCHUP_HDRLEN];
	uint8_t		 mac[CATCHUP_MACLEN];
	uint8_t		*body;
	uint8_t		*raw;
	struct catchup_rec *recs;
};

/* A DATA frame's records, counted and merged. */
static int
take_data(struct catchupd *cu, struct fetch_bufs *b,
    const struct catchup_frame *f, uint64_t *total, char *why, size_t wl)
{
	size_t off = 0, n = 0;
	const char *w;
	int rc;

	if (catchup_inflate(b->body, f->bodylen, f->rawlen, b->raw, &w) == -1)
		return util_seterr(why, wl, "frame %" PRIu32 ": %s", f->seq, w);
	while ((rc = catchup_rec_next(b->raw, f->rawlen, &off, &b->recs[n],
	    &w)) == 1) {
		cu->tally.got[b->recs[n].type]++;
		n++;
	}
	if (rc == -1)
		return util_seterr(why, wl, "frame %" PRIu32 ", byte %zu: %s",
		    f->seq, off, w);
	if ((*total += n) > CU_MAXENTRIES)
		return util_seterr(why, wl, "more than %lu entries",
		    CU_MAXENTRIES);
	if (run_job(cu, CU_JOB_MERGE, b->recs, n) == -1)
		return util_seterr(why, wl, "merging stopped");
	return 0;
}

static int
check_end(struct catchupd *cu, struct cu_peer *p, const uint8_t *body,
    char *why, size_t wl)
{
	struct catchup_end e;
	time_t now = time(NULL);

	catchup_end_parse(body, &e);
	for (int t = 0; t < STORE_NTYPES; t++)
		if (e.sent[t] != cu->tally.got[t])
			return util_seterr(why, wl, "%s: %" PRIu64 " sent, "
			    "%" PRIu64 " received", store_type_name(t),
			    e.sent[t], cu->tally.got[t]);
	if ((e.net4 != cu->conf->grey.net4 || e.net6 != cu->conf->grey.net6) &&
	    now - cu->warned_nets >= CU_WARN_EVERY) {
		cu->warned_nets = now;
		log_warnx(cu->log, "catchup: from %s: it greylists by -N "
		    "%u:%u, this node by -N %u:%u: its passes of wider "
		    "networks than ours are not taken; give both the same -N",
		    p->host, e.net4, e.net6, cu->conf->grey.net4,
		    cu->conf->grey.net6);
	}
	return 0;
}

static int
fetch_frames(struct catchupd *cu, struct cu_peer *p, int fd,
    const struct catchup_session *s, struct fetch_bufs *b, char *why,
    size_t wl)
{
	uint64_t total = 0;
	uint32_t seq = 0;

	for (;;) {
		struct catchup_frame f;
		const char *w;
		char q[CATCHUP_FAILMAX * 4 + 8];

		if (recv_all(fd, b->frame, CATCHUP_HDRLEN) == -1)
			return util_seterr(why, wl, "after frame %" PRIu32
			    ": %s", seq, strerror(errno));
		if (catchup_frame_parse(b->frame, &f, &w) == -1)
			return util_seterr(why, wl, "frame %" PRIu32 ": %s",
			    seq, w);
		if (recv_all(fd, b->body, f.bodylen) == -1 ||
		    recv_all(fd, b->mac, CATCHUP_MACLEN) == -1)
			return util_seterr(why, wl, "frame %" PRIu32 ": %s",
			    seq, strerror(errno));
		cu->tally.bytes += CATCHUP_HDRLEN + f.bodylen + CATCHUP_MACLEN;
		if (!catchup_frame_mac_ok(s, b->frame, b->body, f.bodylen,
		    b->mac))
			return util_seterr(why, wl, "frame %" PRIu32 ": wrong "
			    "HMAC (not the same key file?)", seq);
		if (f.seq != seq++)
			return util_seterr(why, wl, "frame %" PRIu32 " out of "
			    "order", f.seq);
		switch (f.kind) {
		case CATCHUP_DATA:
			if (take_data(cu, b, &f, &total, why, wl) == -1)
				return -1;
			break;
		case CATCHUP_END:
			return check_end(cu, p, b->body, why, wl);
		case CATCHUP_FAIL:
			return util_seterr(why, wl, "the peer failed: %s",
			    util_quote(q, sizeof(q), (const char *)b->body,
			    f.bodylen, CATCHUP_FAILMAX));
		}
	}
}

static int
fetch(struct catchupd *cu, struct cu_peer *p, struct fetch_bufs *b,
    char *why, size_t wl)
{
	struct catchup_session s = { .key = cu->key };
	uint8_t hello[CATCHUP_HELLOLEN], proof[CATCHUP_MACLEN];
	int fd, rc = -1;

	memset(&cu->tally, 0, sizeof(cu->tally));
	if ((fd = dial(cu, p, why, wl)) == -1)
		return -1;
	fill_random(s.cnonce, sizeof(s.cnonce));
	catchup_hello(s.cnonce, hello);
	if (util_write_full(fd, hello, sizeof(hello)) == -1 ||
	    recv_all(fd, hello, sizeof(hello)) == -1) {
		util_seterr(why, wl, "no answer: %s", strerror(errno));
		goto out;
	}
	if (catchup_hello_parse(hello, s.snonce) == -1) {
		util_seterr(why, wl, "port %u does not speak catch-up",
		    p->port);
		goto out;
	}
	catchup_proof(&s, proof);
	if (util_write_full(fd, proof, sizeof(proof)) == -1) {
		util_seterr(why, wl, "sending: %s", strerror(errno));
		goto out;
	}
	if (fetch_frames(cu, p, fd, &s, b, why, wl) == -1)
		goto out;
	if (run_job(cu, CU_JOB_FINISH, NULL, 0) == -1) {
		util_seterr(why, wl, "stopped");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_lock(&cu->mu);
	cu->cli_fd = -1;
	pthread_mutex_unlock(&cu->mu);
	close(fd);
	return rc;
}

static void
fetched(struct catchupd *cu, struct cu_peer *p, double secs)
{
	const struct cu_tally *t = &cu->tally;
	uint64_t n = 0;

	for (int i = 0; i < STORE_NTYPES; i++)
		n += t->got[i];
	pthread_mutex_lock(&cu->mu);
	cu->fetches++;
	cu->fetched_entries += n;
	cu->merged += t->merged;
	cu->superseded += t->superseded;
	cu->skipped += t->skipped;
	pthread_mutex_unlock(&cu->mu);
	log_info(cu->log, "catchup: from %s: entries=%" PRIu64 " white=%"
	    PRIu64 " trapped=%" PRIu64 " spamtrap=%" PRIu64 " grey=%" PRIu64
	    " merged=%" PRIu64 " unchanged=%" PRIu64 " skipped=%" PRIu64
	    " superseded=%" PRIu64 " bytes=%" PRIu64 " seconds=%.2f", p->host,
	    n, t->got[STORE_WHITE], t->got[STORE_TRAPPED],
	    t->got[STORE_SPAMTRAP], t->got[STORE_GREY], t->merged,
	    t->unchanged, t->skipped, t->superseded, t->bytes, secs);
}

/* The next peer due, under mu; NULL and *wait seconds if none is. */
static struct cu_peer *
next_due(struct catchupd *cu, int64_t now, int64_t *wait)
{
	*wait = 3600;
	for (size_t i = 0; i < cu->npeers; i++) {
		struct cu_peer *p = &cu->peer[i];

		if (!p->due)
			continue;
		if (p->next <= now)
			return p;
		if (p->next - now < *wait)
			*wait = p->next - now;
	}
	return NULL;
}

static void *
fetcher(void *arg)
{
	struct catchupd *cu = arg;
	struct fetch_bufs b = { .body = malloc(CATCHUP_BODYMAX),
	    .raw = malloc(CATCHUP_RAWMAX),
	    .recs = calloc(CU_RECS, sizeof(struct catchup_rec)) };

	/* Reading and inflating: behind SMTP too. */
	behind_smtp(cu, "catchup-fetch", 10);
	if (b.body == NULL || b.raw == NULL || b.recs == NULL) {
		log_warnx(cu->log, "catchup: out of memory: not fetching");
		goto out;
	}
	pthread_mutex_lock(&cu->mu);
	while (!cu->stop) {
		int64_t now = mono(), wait;
		struct cu_peer *p = next_due(cu, now, &wait);
		struct timespec ts;
		char why[600];
		double t0;
		int rc;

		if (p == NULL) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait;
			pthread_cond_timedwait(&cu->cv, &cu->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&cu->mu);
		t0 = mono_f();
		rc = fetch(cu, p, &b, why, sizeof(why));
		pthread_mutex_lock(&cu->mu);
		if (cu->stop)
			break;
		if (rc == 0) {
			p->due = false;
			p->last = mono();
			p->backoff = 0;
			pthread_mutex_unlock(&cu->mu);
			fetched(cu, p, mono_f() - t0);
			pthread_mutex_lock(&cu->mu);
			continue;
		}
		cu->fetch_errors++;
		p->backoff = p->backoff == 0 ? CU_RETRY_MIN :
		    p->backoff * 2 > CU_RETRY_MAX ? CU_RETRY_MAX :
		    p->backoff * 2;
		p->next = mono() + p->backoff;
		log_warnx(cu->log, "catchup: from %s: %s; next try in %u s",
		    p->host, why, p->backoff);
	}
	pthread_mutex_unlock(&cu->mu);
out:
	free(b.body);
	free(b.raw);
	free(b.recs);
	return NULL;
}

/* -Y's unicast peers (their catch-up port is ours) and --catchup-peer. */
static int
add_peers(struct catchupd *cu, char *err, size_t errlen)
{
	const struct conf *c = cu->conf;

	for (size_t i = 0; i < c->nsync_targets + c->ncatchup_peers; i++) {
		bool named = i >= c->nsync_targets;
		const char *spec = named ?
		    c->catchup_peers[i - c->nsync_targets] :
		    c->sync_targets[i];
		struct sync_target st;
		struct cu_peer *p;
		const char *why;

		if (sync_target_parse(spec, &st, &why) == -1)
			return util_seterr(err, errlen, "%s: %s", spec, why);
		/* A multicast -Y names an interface, not a peer. */
		if (!named && if_nametoindex(st.host) != 0)
			continue;
		if (cu->npeers == CU_PEERS)
			break;
		p = &cu->peer[cu->npeers++];
		snprintf(p->host, sizeof(p->host), "%s", st.host);
		p->port = named && st.has_num ? (uint16_t)st.num :
		    c->catchup_port;
		p->due = true;
		p->next = 0;
		/* Known now for catchupd_missed; re-resolved when dialled. */
		p->resolved = addr_parse(st.host, &p->addr, &why) == 0;
	}
	return 0;
}

/* --- the interface --- */

static void
on_close(uv_handle_t *h)
{
	struct catchupd *cu = h->data;

	if (--cu->handles == 0) {
		pthread_mutex_destroy(&cu->mu);
		pthread_cond_destroy(&cu->cv);
		free(cu);
	}
}

static void
early_free(struct catchupd *cu)
{
	if (cu->lfd != -1)
		close(cu->lfd);
	if (cu->wake[0] != -1) {
		close(cu->wake[0]);
		close(cu->wake[1]);
	}
	pthread_mutex_destroy(&cu->mu);
	pthread_cond_destroy(&cu->cv);
	free(cu);
}

int
catchupd_open(struct catchupd **out, uv_loop_t *loop, const struct conf *c,
    const struct sync_key *key, bool keyfile, struct store *store,
    struct logger *lg, catchupd_rescan_fn rescan, void *rescan_arg,
    char *err, size_t errlen)
{
	struct catchupd *cu;

	*out = NULL;
	if (c->catchup_port == 0 || store == NULL)
		return 0;
	if (!keyfile) {
		log_warnx(lg, "catchup: off: without a key file (%s) anyone "
		    "could read the database; make one and copy it to every "
		    "peer, as for sync", c->sync_key);
		return 0;
	}
	if ((cu = calloc(1, sizeof(*cu))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	cu->conf = c;
	cu->store = store;
	cu->log = lg;
	cu->key = *key;
	cu->rescan = rescan;
	cu->rescan_arg = rescan_arg;
	cu->lfd = cu->wake[0] = cu->wake[1] = -1;
	cu->srv_fd = cu->cli_fd = -1;
	pthread_mutex_init(&cu->mu, NULL);
	pthread_cond_init(&cu->cv, NULL);
	if (add_peers(cu, err, errlen) == -1)
		goto fail;
	if (c->sync_listen != NULL) {
		if (pipe2(cu->wake, O_CLOEXEC) == -1) {
			util_seterr(err, errlen, "catch-up: pipe: %s",
			    strerror(errno));
			goto fail;
		}
		if (serve_listen(cu, err, errlen) == -1)
			goto fail;
	}
	if (cu->lfd == -1 && cu->npeers == 0) {
		early_free(cu);
		return 0;
	}
	uv_async_init(loop, &cu->async, on_async);
	uv_idle_init(loop, &cu->idle);
	cu->async.data = cu->idle.data = cu;
	cu->handles = 2;
	*out = cu;
	if (cu->lfd != -1) {
		if ((errno = pthread_create(&cu->srv, NULL, serve, cu)) != 0)
			goto nothread;
		cu->srv_running = true;
	}
	if (cu->npeers > 0) {
		if ((errno = pthread_create(&cu->cli, NULL, fetcher, cu)) != 0)
			goto nothread;
		cu->cli_running = true;
	}
	return 0;
nothread:
	util_seterr(err, errlen, "catch-up: thread: %s", strerror(errno));
	catchupd_close(cu);
	*out = NULL;
	return -1;
fail:
	early_free(cu);
	return -1;
}

void
catchupd_close(struct catchupd *cu)
{
	if (cu == NULL)
		return;
	pthread_mutex_lock(&cu->mu);
	cu->stop = true;
	atomic_store(&cu->quit, true);
	pthread_cond_broadcast(&cu->cv);
	/* Out of a blocking read or write at once. */
	if (cu->srv_fd != -1)
		shutdown(cu->srv_fd, SHUT_RDWR);
	if (cu->cli_fd != -1)
		shutdown(cu->cli_fd, SHUT_RDWR);
	pthread_mutex_unlock(&cu->mu);
	if (cu->wake[1] != -1 && write(cu->wake[1], "x", 1) == -1)
		log_warn(cu->log, "catchup: waking the server");
	if (cu->srv_running)
		pthread_join(cu->srv, NULL);
	if (cu->cli_running)
		pthread_join(cu->cli, NULL);
	if (cu->lfd != -1)
		close(cu->lfd);
	if (cu->wake[0] != -1) {
		close(cu->wake[0]);
		close(cu->wake[1]);
	}
	uv_idle_stop(&cu->idle);
	uv_close((uv_handle_t *)&cu->async, on_close);
	uv_close((uv_handle_t *)&cu->idle, on_close);
}

void
catchupd_missed(struct catchupd *cu, const struct addr *from)
{
	int64_t now = mono(), every;

	if (cu == NULL)
		return;
	every = cu->conf->catchup_interval;
	pthread_mutex_lock(&cu->mu);
	cu->gaps++;
	for (size_t i = 0; i < cu->npeers; i++) {
		struct cu_peer *p = &cu->peer[i];

		if (!p->resolved || !addr_eq(&p->addr, from) || p->due)
			continue;
		p->due = true;
		p->backoff = 0;
		p->next = p->last + every > now ? p->last + every : now;
		log_info(cu->log, "catchup: sync packets from %s went "
		    "missing: fetching from it in %lld s", p->host,
		    (long long)(p->next - now));
		pthread_cond_broadcast(&cu->cv);
	}
	pthread_mutex_unlock(&cu->mu);
}

void
catchupd_log_stats(struct catchupd *cu)
{
	if (cu == NULL)
		return;
	pthread_mutex_lock(&cu->mu);
	log_info(cu->log, "catchup stats served=%" PRIu64 " served-entries=%"
	    PRIu64 " served-bytes=%" PRIu64 " serve-errors=%" PRIu64
	    " refused=%" PRIu64 " fetches=%" PRIu64 " fetch-errors=%" PRIu64
	    " fetched-entries=%" PRIu64 " merged=%" PRIu64 " superseded=%"
	    PRIu64 " skipped=%" PRIu64 " gaps=%" PRIu64, cu->served,
	    cu->served_entries, cu->served_bytes, cu->serve_errors,
	    cu->refused, cu->fetches, cu->fetch_errors, cu->fetched_entries,
	    cu->merged, cu->superseded, cu->skipped, cu->gaps);
	pthread_mutex_unlock(&cu->mu);
}

int
catchupd_metrics(struct catchupd *cu, struct buf *b)
{
	int rc = 0;

	if (cu == NULL)
		return 0;
	pthread_mutex_lock(&cu->mu);
	rc |= metrics_one(b, "nfspamd_catchup_served_total", METRICS_COUNTER,
	    "Catch-up sessions served to peers.", (double)cu->served);
	rc |= metrics_one(b, "nfspamd_catchup_served_entries_total",
	    METRICS_COUNTER, "Entries sent to catching-up peers.",
	    (double)cu->served_entries);
	rc |= metrics_one(b, "nfspamd_catchup_served_bytes_total",
	    METRICS_COUNTER, "Bytes sent to catching-up peers.",
	    (double)cu->served_bytes);
	rc |= metrics_one(b, "nfspamd_catchup_refused_total", METRICS_COUNTER,
	    "Catch-up clients refused (no hello or the wrong key).",
	    (double)cu->refused);
	rc |= metrics_one(b, "nfspamd_catchup_serve_errors_total",
	    METRICS_COUNTER, "Catch-up sessions served that broke off.",
	    (double)cu->serve_errors);
	rc |= metrics_one(b, "nfspamd_catchup_fetches_total", METRICS_COUNTER,
	    "Catch-ups from peers completed.", (double)cu->fetches);
	rc |= metrics_one(b, "nfspamd_catchup_fetch_errors_total",
	    METRICS_COUNTER, "Catch-ups from peers that failed.",
	    (double)cu->fetch_errors);
	rc |= metrics_one(b, "nfspamd_catchup_merged_total", METRICS_COUNTER,
	    "Entries a catch-up added or changed.", (double)cu->merged);
	rc |= metrics_one(b, "nfspamd_catchup_superseded_total",
	    METRICS_COUNTER, "Tuples removed after a catch-up because their "
	    "address passed on the peer.", (double)cu->superseded);
	rc |= metrics_one(b, "nfspamd_catchup_gaps_total", METRICS_COUNTER,
	    "Jumps in a peer's sync packet counter (packets missed).",
	    (double)cu->gaps);
	pthread_mutex_unlock(&cu->mu);
	return rc == 0 ? 0 : -1;
}
