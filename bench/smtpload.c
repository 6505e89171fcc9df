/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * smtpload: SMTP load generator for nfspamd (run by bench/smtp).
 *
 *   smtpload hold   [-c conns] [-t secs] ...  many stuttered connections
 *   smtpload dialog [-N dialogs] [-k conc] ...  greylisting dialogues/s
 *
 * hold: opens -c connections from source addresses spread over
 * 127.0.0.2..127.0.0.N (bound before connect; -n above 254 runs on into
 * 127.0.1.0 and up, as one 24-bit number), at most -r connects/s,
 * then, once every connection is up, keeps them all open for -t seconds
 * reading every byte, and counts what each one received in that window.
 * A connection is "fully served" when it is still open at the end and
 * received at least -b bytes (default t-5: stuttered at 1 byte/s all
 * along).  One process may hold at most 20,000 descriptors here, so the
 * work is split over -P processes (default ceil(c/15000)), each with its
 * own loop; they report back through pipes and the parent sums.
 *
 * dialog: -k connections at a time, each doing banner, EHLO, MAIL FROM,
 * RCPT TO, DATA and expecting a 451 reply (nfspamd run with -S 0 so the
 * greylisted client is not stuttered), then closing; -N dialogues in all,
 * each with its own tuple (<sI@example.org>, <rI@example.net>, I counted
 * from -o).  Reports dialogues/s, failures and latency percentiles.
 *
 * Results go to stdout, with a last line "RESULT key=value ..." for
 * scripts; errors and progress go to stderr.  Everything is bounded by
 * timeouts, so a run always ends by itself.  Exit status: 0 when every
 * connection was fully served (hold) or every dialogue ended in 451
 * (dialog), 1 otherwise, 2 for a bad command line.
 *
 * Build: cc -std=gnu11 -O2 -Wall -Wextra smtpload.c -luv
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define MAXPROCS	64
#define PER_PROC	15000		/* connections per hold process */
#define FD_SPARE	64
#define HIST		65536		/* bytes-per-connection histogram */
#define INFLIGHT	2000		/* connects pending per process */
#define NS		1000000000ULL
#define SRC_MAX		16777214	/* -n: 127.255.255.254 */

enum mode { HOLD, DIALOG };

struct opts {
	enum mode	 mode;
	struct sockaddr_in dst;
	const char	*host;
	int		 port;
	int		 srclast;	/* sources 127.0.0.2 up to 127.0.0.0
					   + srclast, as a 24-bit number */
	int		 procs;
	const char	*marker;	/* -M: hold phase marker files */
	/* hold */
	long		 conns;
	long		 secs;
	long		 rate;
	long		 minbytes;
	long		 ramp_timeout;
	bool		 talk;		/* -x: HELO/NOOP after each reply */
	/* dialog */
	long		 dialogs;
	long		 conc;
	long		 first;
	long		 dtimeout;	/* seconds per dialogue */
	long		 deadline;	/* seconds for the whole run */
};

static struct opts O;

static const char *prog = "smtpload";

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage: smtpload hold   [-c conns] [-t secs] [-r connects/s] [-b minbytes]\n"
"                       [-W ramp-timeout] [-x] [-M marker] [common]\n"
"       smtpload dialog [-N dialogs] [-k concurrency] [-o first] [-T timeout]\n"
"                       [-D deadline] [common]\n"
"common: [-h host] [-p port] [-n N] [-P procs]\n"
"\n"
"  -h host     server IPv4 address (127.0.0.1)\n"
"  -p port     server port (8025)\n"
"  -n N        bind sources to 127.0.0.2..127.0.0.N, round robin (254);\n"
"              above 254 the count runs on into 127.0.1.0 and up, to\n"
"              16777214 (127.255.255.254); -n 0: do not bind\n"
"  -P procs    client processes, each with its own loop and share\n"
"              (hold: ceil(conns/15000); dialog: 1)\n"
"hold:\n"
"  -c conns    connections to hold (1000)\n"
"  -t secs     hold them this long once all are up (30)\n"
"  -r rate     connects per second, all processes together (5000)\n"
"  -b minbytes bytes a connection must get in the hold window to count\n"
"              as fully served (secs-5, at least 1)\n"
"  -W secs     give up on connects still pending after this long\n"
"              (conns/rate*2+30)\n"
"  -x          after each complete reply send HELO, then NOOP, so the\n"
"              server keeps stuttering past its banner\n"
"  -M path     create path.hold when the hold window starts and path.end\n"
"              when it is over (for a script measuring the server)\n"
"dialog:\n"
"  -N dialogs  dialogues in all, each with its own tuple (10000)\n"
"  -k conc     dialogues at a time, all processes together (100)\n"
"  -o first    number of the first tuple: <s<first>@example.org> (0)\n"
"  -T secs     a dialogue that takes longer fails (10)\n"
"  -D secs     stop the whole run after this long (300)\n"
"Exit status 0 when every connection was fully served or every dialogue\n"
"got its 451, 1 otherwise, 2 for a bad command line.\n");
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static long
num(int flag, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		die("-%c %s: want a whole number from %ld to %ld", flag, s,
		    min, max);
	return v;
}

static void
parse(int argc, char **argv)
{
	long procs = 0, minbytes = -1, ramp = -1;
	const char *only;
	int ch;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "hold") == 0)
		O.mode = HOLD;
	else if (strcmp(argv[1], "dialog") == 0)
		O.mode = DIALOG;
	else
		usage();
	O.host = "127.0.0.1";
	O.port = 8025;
	O.srclast = 254;
	O.conns = 1000;
	O.secs = 30;
	O.rate = 5000;
	O.dialogs = 10000;
	O.conc = 100;
	O.dtimeout = 10;
	O.deadline = 300;
	optind = 2;
	while ((ch = getopt(argc, argv, "b:c:D:h:k:M:N:n:o:P:p:r:T:t:W:x"))
	    != -1) {
		only = O.mode == HOLD ? "DkNoT" : "bcMrtWx";
		if (strchr(only, ch) != NULL)
			die("-%c is not a %s option", ch, O.mode == HOLD ?
			    "hold" : "dialog");
		switch (ch) {
		case 'b': minbytes = num(ch, optarg, 0, UINT32_MAX); break;
		case 'c': O.conns = num(ch, optarg, 1, 10000000); break;
		case 'D': O.deadline = num(ch, optarg, 1, 86400); break;
		case 'h': O.host = optarg; break;
		case 'k': O.conc = num(ch, optarg, 1, 1000000); break;
		case 'M': O.marker = optarg; break;
		case 'N': O.dialogs = num(ch, optarg, 1, 100000000); break;
		case 'n': O.srclast = (int)num(ch, optarg, 0, SRC_MAX); break;
		case 'o': O.first = num(ch, optarg, 0, LONG_MAX / 2); break;
		case 'P': procs = num(ch, optarg, 1, MAXPROCS); break;
		case 'p': O.port = (int)num(ch, optarg, 1, 65535); break;
		case 'r': O.rate = num(ch, optarg, 1, 10000000); break;
		case 'T': O.dtimeout = num(ch, optarg, 1, 3600); break;
		case 't': O.secs = num(ch, optarg, 1, 86400); break;
		case 'W': ramp = num(ch, optarg, 1, 86400); break;
		case 'x': O.talk = true; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (O.srclast == 1)
		die("-n 1: no sources (127.0.0.2..127.0.0.1); use -n 0 not to "
		    "bind");
	memset(&O.dst, 0, sizeof(O.dst));
	O.dst.sin_family = AF_INET;
	O.dst.sin_port = htons((uint16_t)O.port);
	if (inet_pton(AF_INET, O.host, &O.dst.sin_addr) != 1)
		die("-h %s: not an IPv4 address", O.host);
	if (O.mode == HOLD) {
		O.minbytes = minbytes >= 0 ? minbytes :
		    (O.secs > 5 ? O.secs - 5 : 1);
		O.ramp_timeout = ramp > 0 ? ramp : O.conns / O.rate * 2 + 30;
		O.procs = (int)(procs > 0 ? procs :
		    (O.conns + PER_PROC - 1) / PER_PROC);
		if (O.procs > O.conns)
			O.procs = (int)O.conns;
	} else {
		O.procs = (int)(procs > 0 ? procs : 1);
		if (O.procs > O.conc)
			O.procs = (int)O.conc;
		if (O.procs > O.dialogs)
			O.procs = (int)O.dialogs;
	}
}

/* Share i of n parts of total, the first ones one larger. */
static long
share(long total, int n, int i)
{
	return total / n + (i < total % n ? 1 : 0);
}

/* Raise the soft descriptor limit to the hard one; check it is enough. */
static void
fd_budget(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			die("setrlimit: %s", strerror(errno));
	}
	if ((rlim_t)(need + FD_SPARE) > rl.rlim_cur)
		die("%ld connections per process need %ld descriptors, the "
		    "limit is %lu: use more processes (-P)", need,
		    need + FD_SPARE, (unsigned long)rl.rlim_cur);
}

/*
 * A non-blocking TCP socket bound to the g-th source address, port left
 * to connect() (IP_BIND_ADDRESS_NO_PORT: ports are then shared between
 * destinations instead of reserved at bind time).  -errno on failure.
 */
static int
source_socket(uint64_t g)
{
	struct sockaddr_in src;
	int fd, one = 1, e;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (O.srclast == 0)
		return fd;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000000u |
	    (uint32_t)(2 + g % (uint64_t)(O.srclast - 1)));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static double
cpu_seconds(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1: all read; 0: EOF or interrupted before that. */
static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, c, n)) <= 0)
			return 0;
		c += r;
		n -= (size_t)r;
	}
	return 1;
}

/* Counts of error names, to say what went wrong in a few words. */
#define NERRS	8
struct errs {
	int		 code[NERRS];
	uint64_t	 n[NERRS];
};

static void
errs_add(struct errs *e, int code, uint64_t n)
{
	for (int i = 0; i < NERRS; i++)
		if (e->code[i] == code || e->n[i] == 0) {
			e->code[i] = code;
			e->n[i] += n;
			return;
		}
}

static void
errs_print(const struct errs *e, const char *what)
{
	for (int i = 0; i < NERRS && e->n[i] > 0; i++)
		fprintf(stderr, "%s: %s %s: %llu\n", prog, what,
		    uv_err_name(e->code[i]), (unsigned long long)e->n[i]);
}

/* ------------------------------------------------------------------ */
/* hold                                                                */

enum cstate {
	C_NONE, C_CONNECTING, C_OPEN, C_EOF, C_RESET, C_REFUSED, C_TIMEOUT,
	C_ERROR
};

struct hconn {
	uv_tcp_t	 tcp;		/* first */
	uv_connect_t	 req;
	uint32_t	 bytes;		/* all received */
	uint32_t	 wbytes;	/* received in the hold window */
	uint16_t	 linepos;	/* -x: position in the reply line */
	uint8_t		 state;
	bool		 established;
	bool		 helo_sent;
	bool		 cont;		/* -x: this line is a continuation */
};

struct hres {
	uint64_t	 attempted, established, open_end, served;
	uint64_t	 refused, reset, eof, timeout, other;
	uint64_t	 bytes, wbytes;
	uint64_t	 minb;
	uint64_t	 ramp_ns;
	double		 cpu;
	struct errs	 errs;
	uint32_t	 hist[HIST];
};

struct hproc {
	uv_loop_t	*loop;
	int		 id;
	int		 resfd, gofd;
	struct hconn	*c;
	long		 n;		/* this process's share */
	long		 started;
	long		 connecting;
	double		 rate;
	uint64_t	 t0, ramp_deadline, ramp_end;
	uv_timer_t	 ramp, hold, gotimer;
	uv_poll_t	 gopoll;
	bool		 ramped, holding, done;
	struct hres	 r;
};

static char rbuf[65536];

static void
h_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)h;
	(void)sz;
	*b = uv_buf_init(rbuf, sizeof(rbuf));
}

static void
h_fail(struct hproc *p, struct hconn *c, int status)
{
	switch (status) {
	case UV_ECONNREFUSED: c->state = C_REFUSED; p->r.refused++; break;
	case UV_ECONNRESET:
	case UV_EPIPE: c->state = C_RESET; p->r.reset++; break;
	case UV_EOF: c->state = C_EOF; p->r.eof++; break;
	case UV_ETIMEDOUT: c->state = C_TIMEOUT; p->r.timeout++; break;
	default:
		c->state = C_ERROR;
		p->r.other++;
		errs_add(&p->r.errs, status, 1);
		break;
	}
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, NULL);
}

/* -x: after a complete final reply line, say something back. */
static void
h_talk(struct hconn *c, const char *p, size_t n)
{
	static const char helo[] = "HELO bench.example\r\n";
	static const char noop[] = "NOOP\r\n";

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (!c->cont) {
				uv_buf_t b;

				b = c->helo_sent ?
				    uv_buf_init((char *)noop, sizeof(noop) - 1) :
				    uv_buf_init((char *)helo, sizeof(helo) - 1);
				c->helo_sent = true;
				/* A few bytes into an empty socket buffer. */
				uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
			}
			c->linepos = 0;
			c->cont = false;
			continue;
		}
		if (c->linepos == 3 && p[i] == '-')
			c->cont = true;
		if (c->linepos < UINT16_MAX)
			c->linepos++;
	}
}

static void
h_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct hconn *c = (struct hconn *)s;
	struct hproc *p = s->loop->data;

	if (n < 0) {
		h_fail(p, c, (int)n);
		return;
	}
	c->bytes += (uint32_t)n;
	if (p->holding)
		c->wbytes += (uint32_t)n;
	if (O.talk && n > 0)
		h_talk(c, b->base, (size_t)n);
}

static void
h_connected(uv_connect_t *req, int status)
{
	struct hconn *c = (struct hconn *)req->handle;
	struct hproc *p = req->handle->loop->data;
	int rc;

	if (c->state != C_CONNECTING)
		return;		/* given up on at the ramp deadline */
	p->connecting--;
	if (status < 0) {
		h_fail(p, c, status);
		return;
	}
	c->state = C_OPEN;
	c->established = true;
	p->r.established++;
	if ((rc = uv_read_start((uv_stream_t *)&c->tcp, h_alloc, h_read)) != 0)
		h_fail(p, c, rc);
}

static void
h_start(struct hproc *p)
{
	struct hconn *c = &p->c[p->started];
	uint64_t g = (uint64_t)p->id + (uint64_t)p->started * (uint64_t)O.procs;
	int fd, rc;

	p->started++;
	p->r.attempted++;
	if ((fd = source_socket(g)) < 0) {
		c->state = C_ERROR;
		p->r.other++;
		errs_add(&p->r.errs, fd, 1);
		return;
	}
	uv_tcp_init(p->loop, &c->tcp);
	if ((rc = uv_tcp_open(&c->tcp, fd)) != 0) {
		close(fd);
		h_fail(p, c, rc);
		return;
	}
	c->state = C_CONNECTING;
	if ((rc = uv_tcp_connect(&c->req, &c->tcp,
	    (const struct sockaddr *)&O.dst, h_connected)) != 0) {
		h_fail(p, c, rc);
		return;
	}
	p->connecting++;
}

static void	h_go(struct hproc *);

static void
h_ramp_done(struct hproc *p)
{
	char r = 'R';

	p->ramped = true;
	p->ramp_end = uv_hrtime();
	p->r.ramp_ns = p->ramp_end - p->t0;
	uv_timer_stop(&p->ramp);
	/* Tell the parent, then wait for its go (all processes are up). */
	if (write_all(p->resfd, &r, 1) == -1)
		h_go(p);
}

static void
h_ramp_tick(uv_timer_t *t)
{
	struct hproc *p = t->loop->data;
	uint64_t now = uv_hrtime();
	double el = (double)(now - p->t0) / 1e9;
	long allowed = (long)(el * p->rate) + 1;

	while (p->started < p->n && p->started < allowed &&
	    p->connecting < INFLIGHT)
		h_start(p);
	if (p->started == p->n && p->connecting == 0) {
		h_ramp_done(p);
		return;
	}
	if (now >= p->ramp_deadline) {
		/* Connects still pending count as timed out. */
		for (long i = 0; i < p->started; i++) {
			struct hconn *c = &p->c[i];

			if (c->state != C_CONNECTING)
				continue;
			c->state = C_TIMEOUT;
			p->r.timeout++;
			p->connecting--;
			uv_close((uv_handle_t *)&c->tcp, NULL);
		}
		/* And those never started were not attempted. */
		fprintf(stderr, "%s: process %d: ramp deadline (-W %ld s): "
		    "%ld of %ld connects started\n", prog, p->id,
		    O.ramp_timeout, p->started, p->n);
		h_ramp_done(p);
	}
}

static void
h_hold_over(uv_timer_t *t)
{
	struct hproc *p = t->loop->data;
	struct hres *r = &p->r;
	uint64_t min = UINT64_MAX;

	p->holding = false;
	for (long i = 0; i < p->started; i++) {
		struct hconn *c = &p->c[i];

		r->bytes += c->bytes;
		if (!c->established)
			continue;
		r->wbytes += c->wbytes;
		r->hist[c->wbytes < HIST ? c->wbytes : HIST - 1]++;
		if (c->wbytes < min)
			min = c->wbytes;
		if (c->state == C_OPEN) {
			r->open_end++;
			if (c->wbytes >= (uint64_t)O.minbytes)
				r->served++;
		}
	}
	r->minb = min == UINT64_MAX ? 0 : min;
	p->done = true;
	uv_stop(p->loop);
}

static void
h_go(struct hproc *p)
{
	if (p->holding || p->done)
		return;
	uv_timer_stop(&p->gotimer);
	if (uv_is_active((uv_handle_t *)&p->gopoll))
		uv_poll_stop(&p->gopoll);
	for (long i = 0; i < p->started; i++)
		p->c[i].wbytes = 0;
	p->holding = true;
	uv_timer_start(&p->hold, h_hold_over, (uint64_t)O.secs * 1000, 0);
}

static void
h_gopoll(uv_poll_t *h, int status, int events)
{
	struct hproc *p = h->loop->data;

	(void)status;
	(void)events;
	h_go(p);
}

static void
h_gotimeout(uv_timer_t *t)
{
	struct hproc *p = t->loop->data;

	fprintf(stderr, "%s: process %d: no word from the parent; holding\n",
	    prog, p->id);
	h_go(p);
}

static int
hold_child(int id, int resfd, int gofd)
{
	struct hproc *p;
	uv_loop_t loop;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return 1;
	p->id = id;
	p->resfd = resfd;
	p->gofd = gofd;
	p->n = share(O.conns, O.procs, id);
	p->rate = (double)O.rate / O.procs;
	if ((p->c = calloc((size_t)(p->n > 0 ? p->n : 1), sizeof(*p->c))) ==
	    NULL)
		return 1;
	uv_loop_init(&loop);
	loop.data = p;
	p->loop = &loop;
	uv_timer_init(&loop, &p->ramp);
	uv_timer_init(&loop, &p->hold);
	uv_timer_init(&loop, &p->gotimer);
	uv_poll_init(&loop, &p->gopoll, gofd);
	p->t0 = uv_hrtime();
	p->ramp_deadline = p->t0 + (uint64_t)O.ramp_timeout * NS;
	/* The go from the parent, or after a while on our own. */
	uv_poll_start(&p->gopoll, UV_READABLE | UV_DISCONNECT, h_gopoll);
	uv_timer_start(&p->gotimer, h_gotimeout,
	    ((uint64_t)O.ramp_timeout + 30) * 1000, 0);
	uv_timer_start(&p->ramp, h_ramp_tick, 0, 10);
	uv_run(&loop, UV_RUN_DEFAULT);
	p->r.cpu = cpu_seconds(RUSAGE_SELF);
	if (write_all(resfd, &p->r, sizeof(p->r)) == -1)
		return 1;
	/* Exit closes every connection; no need to walk 15,000 handles. */
	return 0;
}

/* ------------------------------------------------------------------ */
/* dialog                                                              */

struct dres {
	uint64_t	 ok, fconnect, ftimeout, feof, freset, freply, fother;
	uint64_t	 unfinished;
	uint64_t	 t0, t1;	/* uv_hrtime of first start, last end */
	double		 cpu;
	struct errs	 errs;
	uint64_t	 nlat;		/* followed by nlat uint32 (us) */
};

struct dslot {
	uv_tcp_t	 tcp;		/* first */
	uv_connect_t	 creq;
	uv_write_t	 wreq;
	uv_timer_t	 timer;
	struct dproc	*p;
	uint64_t	 tuple;
	uint64_t	 t0;
	int		 step;		/* replies received */
	bool		 active;	/* a dialogue is under way */
	bool		 ended;		/* its outcome is counted */
	size_t		 linelen;
	char		 line[1024];
	char		 cmd[160];
};

struct dproc {
	uv_loop_t	*loop;
	int		 id;
	struct dslot	*s;
	long		 nslots;
	long		 n, next, done;
	long		 idle;
	bool		 stopping;
	uv_timer_t	 deadline;
	uint32_t	*lat;
	struct dres	 r;
	int		 unexpected;	/* lines shown so far */
};

static const char *const expect[5] = { "220", "250", "250", "250", "451" };

static void	d_next(struct dslot *);

static void
d_closed(uv_handle_t *h)
{
	d_next((struct dslot *)h);
}

/* The dialogue is over: count it (once) and close the connection. */
static void
d_end(struct dslot *s, int how, int err)
{
	struct dproc *p = s->p;
	uint64_t now;

	if (s->ended)
		return;
	s->ended = true;
	uv_timer_stop(&s->timer);
	now = uv_hrtime();
	p->r.t1 = now;
	p->done++;
	switch (how) {
	case 0:
		p->r.ok++;
		p->lat[p->r.nlat++] = (uint32_t)((now - s->t0) / 1000);
		break;
	case 1: p->r.fconnect++; errs_add(&p->r.errs, err, 1); break;
	case 2: p->r.ftimeout++; break;
	case 3: p->r.feof++; break;
	case 4: p->r.freset++; break;
	case 5: p->r.freply++; break;
	default: p->r.fother++; errs_add(&p->r.errs, err, 1); break;
	}
	if (!uv_is_closing((uv_handle_t *)&s->tcp))
		uv_close((uv_handle_t *)&s->tcp, d_closed);
}

static void
d_readerr(struct dslot *s, int err)
{
	if (err == UV_EOF)
		d_end(s, 3, err);
	else if (err == UV_ECONNRESET || err == UV_EPIPE)
		d_end(s, 4, err);
	else
		d_end(s, 6, err);
}

static void
d_written(uv_write_t *req, int status)
{
	struct dslot *s = req->data;

	if (status < 0 && status != UV_ECANCELED)
		d_readerr(s, status);
}

static void
d_send(struct dslot *s)
{
	uv_buf_t b;
	int n, rc;

	switch (s->step) {
	case 1:
		n = snprintf(s->cmd, sizeof(s->cmd),
		    "EHLO client.example.com\r\n");
		break;
	case 2:
		n = snprintf(s->cmd, sizeof(s->cmd),
		    "MAIL FROM:<s%llu@example.org>\r\n",
		    (unsigned long long)s->tuple);
		break;
	case 3:
		n = snprintf(s->cmd, sizeof(s->cmd),
		    "RCPT TO:<r%llu@example.net>\r\n",
		    (unsigned long long)s->tuple);
		break;
	default:
		n = snprintf(s->cmd, sizeof(s->cmd), "DATA\r\n");
		break;
	}
	b = uv_buf_init(s->cmd, (unsigned)n);
	s->wreq.data = s;
	if ((rc = uv_write(&s->wreq, (uv_stream_t *)&s->tcp, &b, 1,
	    d_written)) != 0)
		d_readerr(s, rc);
}

/* A complete reply line (no EOL). */
static void
d_line(struct dslot *s, const char *l, size_t n)
{
	struct dproc *p = s->p;

	if (n >= 4 && l[3] == '-')
		return;		/* continuation */
	if (n < 3 || memcmp(l, expect[s->step], 3) != 0) {
		if (p->unexpected < 5) {
			p->unexpected++;
			fprintf(stderr, "%s: dialogue %llu step %d: expected "
			    "%s, got \"%.*s\"\n", prog,
			    (unsigned long long)s->tuple, s->step,
			    expect[s->step], (int)(n > 80 ? 80 : n), l);
		}
		d_end(s, 5, 0);
		return;
	}
	if (++s->step == 5) {
		d_end(s, 0, 0);
		return;
	}
	d_send(s);
}

static void
d_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)h;
	(void)sz;
	*b = uv_buf_init(rbuf, sizeof(rbuf));
}

static void
d_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct dslot *s = (struct dslot *)st;

	if (s->ended)
		return;
	if (nread < 0) {
		d_readerr(s, (int)nread);
		return;
	}
	for (ssize_t i = 0; i < nread && !s->ended; i++) {
		char ch = b->base[i];

		if (ch == '\n') {
			size_t n = s->linelen;

			if (n > 0 && s->line[n - 1] == '\r')
				n--;
			d_line(s, s->line, n);
			s->linelen = 0;
		} else if (s->linelen < sizeof(s->line))
			s->line[s->linelen++] = ch;
	}
}

static void
d_connected(uv_connect_t *req, int status)
{
	struct dslot *s = req->data;
	int rc;

	if (s->ended)
		return;
	if (status < 0) {
		d_end(s, 1, status);
		return;
	}
	if ((rc = uv_read_start((uv_stream_t *)&s->tcp, d_alloc, d_read)) != 0)
		d_end(s, 6, rc);
}

static void
d_timeout(uv_timer_t *t)
{
	d_end(t->data, 2, 0);
}

static void
d_finish_check(struct dproc *p)
{
	if (p->idle == p->nslots) {
		uv_timer_stop(&p->deadline);
		for (long i = 0; i < p->nslots; i++)
			uv_close((uv_handle_t *)&p->s[i].timer, NULL);
		uv_close((uv_handle_t *)&p->deadline, NULL);
	}
}

/* Start the slot's next dialogue, or retire the slot. */
static void
d_next(struct dslot *s)
{
	struct dproc *p = s->p;
	int fd, rc;

	s->active = false;
	while (!p->stopping && p->next < p->n) {
		s->tuple = (uint64_t)O.first + (uint64_t)p->id +
		    (uint64_t)p->next * (uint64_t)O.procs;
		p->next++;
		s->step = 0;
		s->linelen = 0;
		s->ended = false;
		s->t0 = uv_hrtime();
		if (p->r.t0 == 0)
			p->r.t0 = s->t0;
		if ((fd = source_socket(s->tuple)) < 0) {
			p->done++;
			p->r.fconnect++;
			errs_add(&p->r.errs, fd, 1);
			continue;
		}
		uv_tcp_init(p->loop, &s->tcp);
		s->active = true;
		uv_timer_start(&s->timer, d_timeout,
		    (uint64_t)O.dtimeout * 1000, 0);
		s->creq.data = s;
		if ((rc = uv_tcp_open(&s->tcp, fd)) != 0) {
			close(fd);
			d_end(s, 1, rc);
			return;
		}
		if ((rc = uv_tcp_connect(&s->creq, &s->tcp,
		    (const struct sockaddr *)&O.dst, d_connected)) != 0)
			d_end(s, 1, rc);
		return;
	}
	p->idle++;
	d_finish_check(p);
}

static void
d_deadline(uv_timer_t *t)
{
	struct dproc *p = t->loop->data;

	fprintf(stderr, "%s: process %d: deadline (-D %ld s) reached with "
	    "%ld of %ld dialogues done\n", prog, p->id, O.deadline, p->done,
	    p->n);
	p->stopping = true;
	p->r.unfinished = (uint64_t)(p->n - p->next);
	for (long i = 0; i < p->nslots; i++)
		if (p->s[i].active && !p->s[i].ended)
			d_end(&p->s[i], 2, 0);
}

static int
dialog_child(int id, int resfd)
{
	struct dproc *p;
	uv_loop_t loop;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return 1;
	p->id = id;
	p->n = share(O.dialogs, O.procs, id);
	p->nslots = share(O.conc, O.procs, id);
	if (p->nslots > p->n)
		p->nslots = p->n;
	if ((p->s = calloc((size_t)p->nslots, sizeof(*p->s))) == NULL ||
	    (p->lat = calloc((size_t)p->n, sizeof(*p->lat))) == NULL)
		return 1;
	uv_loop_init(&loop);
	loop.data = p;
	p->loop = &loop;
	uv_timer_init(&loop, &p->deadline);
	uv_timer_start(&p->deadline, d_deadline, (uint64_t)O.deadline * 1000,
	    0);
	for (long i = 0; i < p->nslots; i++) {
		p->s[i].p = p;
		uv_timer_init(&loop, &p->s[i].timer);
		p->s[i].timer.data = &p->s[i];
	}
	for (long i = 0; i < p->nslots; i++)
		d_next(&p->s[i]);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	p->r.cpu = cpu_seconds(RUSAGE_SELF);
	if (write_all(resfd, &p->r, sizeof(p->r)) == -1 ||
	    write_all(resfd, p->lat, p->r.nlat * sizeof(*p->lat)) == -1)
		return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the parent                                                          */

static pid_t kids[MAXPROCS];
static int nkids;
static volatile sig_atomic_t alarmed;

static void
on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static void
kill_kids(void)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
}

static void
marker(const char *suffix)
{
	char path[PATH_MAX];
	int fd;

	if (O.marker == NULL)
		return;
	snprintf(path, sizeof(path), "%s.%s", O.marker, suffix);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644))
	    == -1)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	else
		close(fd);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of a histogram of n values. */
static uint64_t
hist_q(const uint64_t *h, uint64_t n, double q)
{
	uint64_t want = (uint64_t)(q * (double)(n > 0 ? n - 1 : 0)), seen = 0;

	if (n == 0)
		return 0;
	for (int i = 0; i < HIST; i++) {
		seen += h[i];
		if (seen > want)
			return (uint64_t)i;
	}
	return HIST - 1;
}

static void
merge_errs(struct errs *to, const struct errs *from)
{
	for (int i = 0; i < NERRS && from->n[i] > 0; i++)
		errs_add(to, from->code[i], from->n[i]);
}

static int
hold_parent(const int *resfd, const int *gofd, double t_start)
{
	static uint64_t hist[HIST];
	struct hres *r, sum;
	uint64_t min = UINT64_MAX, ramp = 0, p1, med, max;
	int got = 0, status = 0;
	char ch;
	struct timespec ts;
	double t_hold = 0, t_end;

	memset(&sum, 0, sizeof(sum));
	memset(hist, 0, sizeof(hist));
	if ((r = malloc(sizeof(*r))) == NULL)
		die("out of memory");
	/* Every process is up (or gave up), then all hold together. */
	alarm((unsigned)(O.ramp_timeout + 60));
	for (int i = 0; i < O.procs; i++)
		if (read(resfd[i], &ch, 1) != 1 || ch != 'R') {
			fprintf(stderr, "%s: process %d did not report its "
			    "ramp\n", prog, i);
			status = 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t_hold = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	fprintf(stderr, "%s: all connects done after %.1f s; holding %ld s\n",
	    prog, t_hold - t_start, O.secs);
	marker("hold");
	for (int i = 0; i < O.procs; i++) {
		ch = 'G';
		if (write_all(gofd[i], &ch, 1) == -1)
			fprintf(stderr, "%s: telling process %d to hold: %s\n",
			    prog, i, strerror(errno));
	}
	alarm((unsigned)(O.secs + 60));
	for (int i = 0; i < O.procs; i++) {
		if (!read_all(resfd[i], r, sizeof(*r))) {
			fprintf(stderr, "%s: no result from process %d%s\n",
			    prog, i, alarmed ? " (timed out)" : "");
			status = 1;
			if (alarmed)
				break;
			continue;
		}
		got++;
		sum.attempted += r->attempted;
		sum.established += r->established;
		sum.open_end += r->open_end;
		sum.served += r->served;
		sum.refused += r->refused;
		sum.reset += r->reset;
		sum.eof += r->eof;
		sum.timeout += r->timeout;
		sum.other += r->other;
		sum.bytes += r->bytes;
		sum.wbytes += r->wbytes;
		sum.cpu += r->cpu;
		merge_errs(&sum.errs, &r->errs);
		if (r->established > 0 && r->minb < min)
			min = r->minb;
		if (r->ramp_ns > ramp)
			ramp = r->ramp_ns;
		for (int k = 0; k < HIST; k++)
			hist[k] += r->hist[k];
	}
	marker("end");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t_end = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	alarm(0);
	if (alarmed)
		kill_kids();
	if (min == UINT64_MAX)
		min = 0;

	printf("hold: %ld connections to %s:%d from 127.0.0.2..127.%d.%d.%d, "
	    "%d processes, ramp %ld/s, hold %ld s\n", O.conns, O.host, O.port,
	    O.srclast >> 16, (O.srclast >> 8) & 255, O.srclast & 255, O.procs,
	    O.rate, O.secs);
	printf("  processes reporting    %d of %d\n", got, O.procs);
	printf("  connects attempted     %llu\n",
	    (unsigned long long)sum.attempted);
	printf("  established            %llu (ramp %.1f s)\n",
	    (unsigned long long)sum.established, (double)ramp / 1e9);
	printf("  open at the end        %llu\n",
	    (unsigned long long)sum.open_end);
	printf("  fully served           %llu (open at the end, >= %ld bytes "
	    "in the %ld s hold)\n", (unsigned long long)sum.served,
	    O.minbytes, O.secs);
	printf("  refused                %llu\n",
	    (unsigned long long)sum.refused);
	printf("  reset                  %llu\n",
	    (unsigned long long)sum.reset);
	printf("  closed by the server   %llu\n", (unsigned long long)sum.eof);
	printf("  timed out              %llu\n",
	    (unsigned long long)sum.timeout);
	printf("  other errors           %llu\n",
	    (unsigned long long)sum.other);
	printf("  bytes received         %llu in all, %llu in the hold\n",
	    (unsigned long long)sum.bytes, (unsigned long long)sum.wbytes);
	p1 = hist_q(hist, sum.established, 0.01);
	med = hist_q(hist, sum.established, 0.5);
	max = hist_q(hist, sum.established, 1.0);
	printf("  bytes per connection in the hold: min %llu, p1 %llu%s, "
	    "median %llu%s, max %llu%s\n", (unsigned long long)min,
	    (unsigned long long)p1, p1 == HIST - 1 ? "+" : "",
	    (unsigned long long)med, med == HIST - 1 ? "+" : "",
	    (unsigned long long)max, max == HIST - 1 ? "+" : "");
	printf("  client cpu             %.1f s (all processes)\n", sum.cpu);
	fflush(stdout);
	errs_print(&sum.errs, "error");
	printf("RESULT mode=hold conns=%ld secs=%ld procs=%d attempted=%llu "
	    "established=%llu open_end=%llu served=%llu refused=%llu "
	    "reset=%llu eof=%llu timeout=%llu other=%llu bytes=%llu "
	    "hold_bytes=%llu min=%llu median=%llu ramp_s=%.1f hold_s=%.1f "
	    "client_cpu_s=%.1f\n", O.conns, O.secs, O.procs,
	    (unsigned long long)sum.attempted,
	    (unsigned long long)sum.established,
	    (unsigned long long)sum.open_end, (unsigned long long)sum.served,
	    (unsigned long long)sum.refused, (unsigned long long)sum.reset,
	    (unsigned long long)sum.eof, (unsigned long long)sum.timeout,
	    (unsigned long long)sum.other, (unsigned long long)sum.bytes,
	    (unsigned long long)sum.wbytes, (unsigned long long)min,
	    (unsigned long long)med, (double)ramp / 1e9, t_end - t_hold, sum.cpu);
	free(r);
	if (sum.served != (uint64_t)O.conns)
		status = 1;
	return status;
}

static int
dialog_parent(const int *resfd)
{
	struct dres r, sum;
	uint32_t *lat;
	uint64_t n = 0, t0 = UINT64_MAX, t1 = 0;
	int status = 0, got = 0;
	double secs, p50 = 0, p99 = 0, pmax = 0, rate;

	memset(&sum, 0, sizeof(sum));
	if ((lat = calloc((size_t)O.dialogs, sizeof(*lat))) == NULL)
		die("out of memory");
	alarm((unsigned)(O.deadline + 60));
	for (int i = 0; i < O.procs; i++) {
		if (!read_all(resfd[i], &r, sizeof(r)) ||
		    r.nlat > (uint64_t)O.dialogs - n ||
		    !read_all(resfd[i], lat + n, r.nlat * sizeof(*lat))) {
			fprintf(stderr, "%s: no result from process %d%s\n",
			    prog, i, alarmed ? " (timed out)" : "");
			status = 1;
			if (alarmed)
				break;
			continue;
		}
		got++;
		n += r.nlat;
		sum.ok += r.ok;
		sum.fconnect += r.fconnect;
		sum.ftimeout += r.ftimeout;
		sum.feof += r.feof;
		sum.freset += r.freset;
		sum.freply += r.freply;
		sum.fother += r.fother;
		sum.unfinished += r.unfinished;
		sum.cpu += r.cpu;
		merge_errs(&sum.errs, &r.errs);
		if (r.t0 != 0 && r.t0 < t0)
			t0 = r.t0;
		if (r.t1 > t1)
			t1 = r.t1;
	}
	alarm(0);
	if (alarmed)
		kill_kids();
	secs = t1 > t0 && t0 != UINT64_MAX ? (double)(t1 - t0) / 1e9 : 0;
	rate = secs > 0 ? (double)sum.ok / secs : 0;
	if (n > 0) {
		qsort(lat, (size_t)n, sizeof(*lat), cmp_u32);
		p50 = lat[(size_t)(0.50 * (double)(n - 1))] / 1000.0;
		p99 = lat[(size_t)(0.99 * (double)(n - 1))] / 1000.0;
		pmax = lat[n - 1] / 1000.0;
	}
	printf("dialog: %ld dialogues to %s:%d from 127.0.0.2..127.%d.%d.%d, "
	    "%ld at a time, %d processes, tuples %ld..%ld\n", O.dialogs,
	    O.host, O.port, O.srclast >> 16, (O.srclast >> 8) & 255,
	    O.srclast & 255, O.conc, O.procs, O.first,
	    O.first + O.dialogs - 1);
	printf("  processes reporting    %d of %d\n", got, O.procs);
	printf("  completed (451)        %llu in %.3f s: %.0f dialogues/s\n",
	    (unsigned long long)sum.ok, secs, rate);
	printf("  failed                 connect %llu, timeout %llu, closed "
	    "%llu, reset %llu, bad reply %llu, other %llu, not started %llu\n",
	    (unsigned long long)sum.fconnect, (unsigned long long)sum.ftimeout,
	    (unsigned long long)sum.feof, (unsigned long long)sum.freset,
	    (unsigned long long)sum.freply, (unsigned long long)sum.fother,
	    (unsigned long long)sum.unfinished);
	printf("  latency per dialogue   p50 %.2f ms, p99 %.2f ms, max %.2f "
	    "ms\n", p50, p99, pmax);
	printf("  client cpu             %.2f s (all processes)\n", sum.cpu);
	fflush(stdout);
	errs_print(&sum.errs, "error");
	printf("RESULT mode=dialog dialogs=%ld conc=%ld procs=%d ok=%llu "
	    "failed=%llu secs=%.3f rate=%.0f p50_ms=%.2f p99_ms=%.2f "
	    "max_ms=%.2f client_cpu_s=%.2f\n", O.dialogs, O.conc, O.procs,
	    (unsigned long long)sum.ok,
	    (unsigned long long)(sum.fconnect + sum.ftimeout + sum.feof +
	    sum.freset + sum.freply + sum.fother + sum.unfinished), secs,
	    rate, p50, p99, pmax, sum.cpu);
	free(lat);
	if (sum.ok != (uint64_t)O.dialogs)
		status = 1;
	return status;
}

int
main(int argc, char **argv)
{
	int resfd[MAXPROCS], gofd[MAXPROCS], rp[2], gp[2], rc, st;
	struct sigaction sa;
	struct timespec ts;
	double t_start;

	parse(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: reads give up */
	sigaction(SIGALRM, &sa, NULL);
	if (O.mode == HOLD)
		fd_budget(share(O.conns, O.procs, 0));
	else
		fd_budget(share(O.conc, O.procs, 0) * 2);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t_start = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	fflush(NULL);
	for (int i = 0; i < O.procs; i++) {
		pid_t pid;

		if (pipe2(rp, O_CLOEXEC) == -1 || pipe2(gp, O_CLOEXEC) == -1)
			die("pipe: %s", strerror(errno));
		if ((pid = fork()) == -1) {
			kill_kids();
			die("fork: %s", strerror(errno));
		}
		if (pid == 0) {
			/* Only our own pipe ends: EOF must mean what it says. */
			for (int k = 0; k < i; k++) {
				close(resfd[k]);
				close(gofd[k]);
			}
			close(rp[0]);
			close(gp[1]);
			signal(SIGALRM, SIG_DFL);
			/* A child outliving a killed parent is bounded too. */
			alarm((unsigned)(O.mode == HOLD ? O.ramp_timeout +
			    O.secs + 120 : O.deadline + 60));
			rc = O.mode == HOLD ? hold_child(i, rp[1], gp[0]) :
			    dialog_child(i, rp[1]);
			_exit(rc);
		}
		kids[nkids++] = pid;
		close(rp[1]);
		close(gp[0]);
		resfd[i] = rp[0];
		gofd[i] = gp[1];
	}
	rc = O.mode == HOLD ? hold_parent(resfd, gofd, t_start) :
	    dialog_parent(resfd);
	for (int i = 0; i < O.procs; i++) {
		close(resfd[i]);
		close(gofd[i]);
	}
	for (int i = 0; i < nkids; i++)
		if (waitpid(kids[i], &st, 0) > 0 &&
		    !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			fprintf(stderr, "%s: process %d ended badly (status "
			    "0x%x)\n", prog, i, st);
			rc = 1;
		}
	return rc;
}
