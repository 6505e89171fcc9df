/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * synflood: TCP SYNs to one address and port from many source addresses,
 * at a set rate.  bench/logd runs it in a network namespace of its own
 * to measure how many NFLOG events nfspamlogd turns into updates, and
 * tests/system/logd.sh to overflow nfspamlogd's socket on purpose.
 *
 * usage: synflood -d DST -s SRC [-n NSRC] [-p PORT] [-r RATE]
 *        [-t SECONDS | -c COUNT] [-b BATCH]
 *
 * Sources are SRC, SRC+1, ... SRC+NSRC-1, in turn (spoofed: they need
 * not be configured anywhere); each SYN has a new source port, so each
 * is a new connection to conntrack.  Raw IP sockets, sendmmsg batches.
 * Prints "sent=N seconds=S rate=R enobufs=E".
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL	36
#endif

#define MAXBATCH	256
#define PKTMAX		60	/* IPv6 header + TCP header */

struct opts {
	int		 family;
	uint8_t		 dst[16], src[16];
	uint32_t	 nsrc;
	uint16_t	 port;
	uint64_t	 rate;		/* 0: as fast as possible */
	double		 seconds;
	uint64_t	 count;		/* 0: run for seconds */
	unsigned	 batch;
};

static void __attribute__((noreturn))
usage(const char *why, const char *val)
{
	if (why != NULL)
		fprintf(stderr, "synflood: %s: %s\n", why, val);
	fprintf(stderr, "usage: synflood -d DST -s SRC [-n NSRC] [-p PORT] "
	    "[-r RATE] [-t SECONDS | -c COUNT] [-b BATCH]\n");
	exit(2);
}

static uint64_t
unum(const char *s, uint64_t min, uint64_t max, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v < min ||
	    v > max)
		usage(what, s);
	return v;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	const char *dst = NULL, *src = NULL;
	int ch, fam;

	memset(o, 0, sizeof(*o));
	o->nsrc = 1;
	o->port = 25;
	o->seconds = 1;
	o->batch = 64;
	while ((ch = getopt(argc, argv, "6b:c:d:n:p:r:s:t:")) != -1) {
		switch (ch) {
		case '6': break;	/* the addresses say it */
		case 'b': o->batch = (unsigned)unum(optarg, 1, MAXBATCH,
			    "bad -b"); break;
		case 'c': o->count = unum(optarg, 1, UINT64_MAX / 2,
			    "bad -c"); break;
		case 'd': dst = optarg; break;
		case 'n': o->nsrc = (uint32_t)unum(optarg, 1, UINT32_MAX,
			    "bad -n"); break;
		case 'p': o->port = (uint16_t)unum(optarg, 1, 65535,
			    "bad -p"); break;
		case 'r': o->rate = unum(optarg, 0, 100000000, "bad -r");
			break;
		case 's': src = optarg; break;
		case 't': {
			char *end;

			o->seconds = strtod(optarg, &end);
			if (*end != '\0' || !(o->seconds > 0 &&
			    o->seconds <= 86400))
				usage("bad -t", optarg);
			break;
		}
		default: usage(NULL, NULL);
		}
	}
	if (optind != argc || dst == NULL || src == NULL)
		usage(NULL, NULL);
	fam = strchr(dst, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(fam, dst, o->dst) != 1)
		usage("bad -d", dst);
	if (inet_pton(fam, src, o->src) != 1)
		usage("bad -s (not the family of -d)", src);
	o->family = fam;
}

/* Ones' complement sum, folded; the caller complements. */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Source number i: SRC + i, carried across the address's bytes. */
static void
source(const struct opts *o, uint32_t i, uint8_t *out)
{
	size_t n = o->family == AF_INET ? 4 : 16;
	uint64_t carry = i;

	memcpy(out, o->src, n);
	for (size_t k = n; k-- > 0 && carry != 0;) {
		carry += out[k];
		out[k] = (uint8_t)carry;
		carry >>= 8;
	}
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One SYN, headers and checksums; returns its length. */
static size_t
build(const struct opts *o, uint32_t srcno, uint16_t sport, uint32_t seq,
    uint8_t *pkt)
{
	bool v4 = o->family == AF_INET;
	size_t alen = v4 ? 4 : 16, ihl = v4 ? 20 : 40;
	uint8_t *tcp = pkt + ihl, *sa, *da;
	uint32_t s;

	memset(pkt, 0, ihl + 20);
	if (v4) {
		pkt[0] = 0x45;
		put16(pkt + 2, (uint16_t)(ihl + 20));
		pkt[6] = 0x40;			/* DF */
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		sa = pkt + 12;
		da = pkt + 16;
	} else {
		pkt[0] = 0x60;
		put16(pkt + 4, 20);
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;
		sa = pkt + 8;
		da = pkt + 24;
	}
	source(o, srcno, sa);
	memcpy(da, o->dst, alen);
	if (v4)
		put16(pkt + 10, fold(sum16(pkt, 20, 0)));
	put16(tcp, sport);
	put16(tcp + 2, o->port);
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;				/* SYN */
	put16(tcp + 14, 64240);
	/* Pseudo-header: addresses, protocol, TCP length. */
	s = sum16(sa, alen, 0);
	s = sum16(da, alen, s);
	s += IPPROTO_TCP + 20;
	put16(tcp + 16, fold(sum16(tcp, 20, s)));
	return ihl + 20;
}

static int
open_raw(int family)
{
	int fd, on = 1;

	if ((fd = socket(family, SOCK_RAW, IPPROTO_RAW)) == -1) {
		fprintf(stderr, "synflood: socket(raw): %s\n",
		    strerror(errno));
		exit(1);
	}
	/* IPPROTO_RAW implies IP_HDRINCL for IPv4 only. */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL,
	    &on, sizeof(on)) == -1) {
		fprintf(stderr, "synflood: IPV6_HDRINCL: %s\n",
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep until the monotonic time t. */
static void
sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

int
main(int argc, char **argv)
{
	static uint8_t pkt[MAXBATCH][PKTMAX];
	struct iovec iov[MAXBATCH];
	struct mmsghdr msg[MAXBATCH];
	struct sockaddr_storage to;
	socklen_t tolen;
	struct opts o;
	uint64_t sent = 0, enobufs = 0, goal;
	uint32_t srcno = 0, seq = 0x12345678;
	uint16_t sport = 1024;
	double t0, t1, deadline, stuck;
	int fd;

	parse(argc, argv, &o);
	fd = open_raw(o.family);
	memset(&to, 0, sizeof(to));
	if (o.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&to;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, o.dst, 4);
		tolen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&to;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, o.dst, 16);
		tolen = sizeof(*s6);
	}
	memset(msg, 0, sizeof(msg));
	for (unsigned i = 0; i < MAXBATCH; i++) {
		iov[i].iov_base = pkt[i];
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		msg[i].msg_hdr.msg_name = &to;
		msg[i].msg_hdr.msg_namelen = tolen;
	}
	goal = o.count;
	t0 = now_s();
	deadline = t0 + o.seconds;
	for (;;) {
		unsigned n = o.batch, done = 0;
		double t = now_s();

		if (goal != 0 ? sent >= goal : t >= deadline)
			break;
		if (goal != 0 && goal - sent < n)
			n = (unsigned)(goal - sent);
		/* Paced: this batch is due when the ones before it are. */
		if (o.rate > 0) {
			double due = t0 + (double)sent / (double)o.rate;

			if (due > t) {
				if (goal == 0 && due >= deadline)
					break;
				sleep_until(due);
			}
		}
		for (unsigned i = 0; i < n; i++) {
			iov[i].iov_len = build(&o, srcno, sport, seq++, pkt[i]);
			if (++srcno == o.nsrc) {
				srcno = 0;
				/* Every source has had this port: the next. */
				sport = sport == 65535 ? 1024 : sport + 1;
			}
		}
		stuck = now_s() + 5;
		while (done < n) {
			int r = sendmmsg(fd, msg + done, n - done,
			    MSG_DONTWAIT);

			if (r > 0) {
				done += (unsigned)r;
				continue;
			}
			/* Full queues drain; an unresolved neighbour never. */
			if (r == -1 && (errno == ENOBUFS || errno == EAGAIN ||
			    errno == EINTR) && now_s() < stuck) {
				enobufs += errno != EINTR;
				usleep(100);
				continue;
			}
			if (r == -1 && (errno == ENOBUFS || errno == EAGAIN)) {
				fprintf(stderr, "synflood: no packet sent for 5 s "
				    "(is the destination's neighbour entry "
				    "resolved?)\n");
				return 1;
			}
			fprintf(stderr, "synflood: sendmmsg: %s\n",
			    strerror(errno));
			return 1;
		}
		sent += n;
	}
	t1 = now_s();
	printf("sent=%llu seconds=%.3f rate=%llu enobufs=%llu\n",
	    (unsigned long long)sent, t1 - t0,
	    (unsigned long long)((double)sent / (t1 - t0)),
	    (unsigned long long)enobufs);
	close(fd);
	return 0;
}
