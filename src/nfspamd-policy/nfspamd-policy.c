/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd-policy: a Postfix policy server that answers with the
 * operating system nfspamd fingerprinted for the client's address, as
 * a header to prepend ("X-OS-Fingerprint: Linux 3.11-6.x"), or DUNNO.
 *
 * One client on standard input and output (how Postfix's spawn(8),
 * inetd and systemd's Accept=yes sockets run it) unless -l gives
 * sockets to listen on (listen.c).  policy.c reads the protocol and
 * writes the answers; lookup.c reads the database.  This file holds the
 * flags, the answers and the standard input loop.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "metrics.h"
#include "policyd.h"
#include "prog.h"
#include "rlayout.h"
#include "util.h"

#define RBUF	16384
#define QLEN	(4 * POLICY_OSMAX + 8)	/* a value quoted for a log */

static const char usage_text[] =
    "usage: nfspamd-policy [-dv] [--db dir] [--header name] "
    "[--timeout seconds]\n"
    "                      [--store url [--store-password-file file]]\n"
    "                      [-l address:port | -l /path ...]\n"
    "       nfspamd-policy -h | -V\n";

enum { OPT_DB = 0x100, OPT_HEADER, OPT_TIMEOUT, OPT_STORE, OPT_STOREPASS };

static const struct option longopts[] = {
	{ "db",		required_argument,	NULL, OPT_DB },
	{ "header",	required_argument,	NULL, OPT_HEADER },
	{ "timeout",	required_argument,	NULL, OPT_TIMEOUT },
	{ "store",	required_argument,	NULL, OPT_STORE },
	{ "store-password-file", required_argument, NULL, OPT_STOREPASS },
	{ "listen",	required_argument,	NULL, 'l' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

uint64_t
pd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* client_address as Postfix sends it, or with the SMTP "IPv6:" tag. */
static int
client_key(const char *text, char *key, size_t keylen)
{
	struct addr a;
	const char *why;

	if (strncasecmp(text, "IPv6:", 5) == 0)
		text += 5;
	if (addr_parse(text, &a, &why) == -1)
		return -1;
	addr_format(&a, key, keylen);
	return 0;
}

/* One request's answer onto out; -1 when memory ran out. */
static int
answer(struct pd *pd, struct session *s, const struct policy_req *req,
    struct buf *out)
{
	char key[ADDR_STRLEN], os[STORE_OSMAX + 1], text[POLICY_ANSWERMAX];
	char qip[QLEN], qos[QLEN], qreq[QLEN], qstate[QLEN];
	const char *ip = req->val[POLICY_ADDRESS], *found = NULL;
	bool asks = policy_asks(req);
	size_t n;

	os[0] = '\0';
	if (asks && client_key(ip, key, sizeof(key)) == 0) {
		ip = key;
		if (lookup_os(pd, key, os, sizeof(os)) == 0)
			found = os;
	}
	n = policy_answer(req, pd->header, found, text, sizeof(text));
	if (buf_append(out, text, n) == -1) {
		log_warnx(&pd->log, "policy client=%s closed: out of memory",
		    s->peer);
		return -1;
	}
	if (!pd->verbose)
		return 0;
	log_quote(qip, sizeof(qip), ip, strlen(ip));
	log_quote(qos, sizeof(qos), os, found != NULL ? strlen(os) : 0);
	if (asks)
		log_debug(&pd->log, "policy client=%s ip=%s os=%s answer=%s",
		    s->peer, qip, qos, strncmp(text, "action=PREPEND ", 15) ==
		    0 ? "PREPEND" : "DUNNO");
	else
		log_debug(&pd->log, "policy client=%s ip=%s answer=DUNNO "
		    "request=%s state=%s", s->peer, qip,
		    log_quote(qreq, sizeof(qreq), req->val[POLICY_REQUEST],
		    strlen(req->val[POLICY_REQUEST])),
		    log_quote(qstate, sizeof(qstate), req->val[POLICY_STATE],
		    strlen(req->val[POLICY_STATE])));
	return 0;
}

int
session_input(struct pd *pd, struct session *s, const void *buf, size_t len,
    struct buf *out)
{
	const char *p = buf;
	size_t used;
	int rc;

	while (len > 0) {
		rc = policy_feed(&s->rd, p, len, &used);
		p += used;
		len -= used;
		if (rc == -1) {
			log_warnx(&pd->log, "policy client=%s closed: %s",
			    s->peer, s->rd.err);
			return -1;
		}
		if (rc == 0)
			break;
		if (answer(pd, s, &s->rd.req, out) == -1)
			return -1;
	}
	return 0;
}

void
session_eof(struct pd *pd, struct session *s)
{
	if (policy_pending(&s->rd))
		log_warnx(&pd->log, "policy client=%s closed: hung up inside "
		    "a request, at line %lu", s->peer, s->rd.lineno + 1);
	else
		log_debug(&pd->log, "policy client=%s closed: done, "
		    "requests=%lu", s->peer, s->rd.nreq);
}

/* What is on standard input: "ADDRESS:PORT", "unix" or "stdin". */
static void
stdin_peer(char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addr a;
	char host[ADDR_STRLEN];
	uint16_t port;

	snprintf(buf, len, "stdin");
	if (getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_UNIX) {
		snprintf(buf, len, "unix");
		return;
	}
	if (addr_from_sockaddr((struct sockaddr *)&ss, &a) == -1)
		return;
	addr_format(&a, host, sizeof(host));
	port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(buf, len, a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
	    (unsigned)port);
}

/* All of it, waiting at most timeout_ms for room each time. */
static int
write_all(int fd, const char *p, size_t len, int timeout_ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	ssize_t n;
	int r;

	while (len > 0) {
		if ((n = write(fd, p, len)) >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		while ((r = poll(&pf, 1, timeout_ms)) == -1 && errno == EINTR)
			;
		if (r == 0)
			errno = ETIMEDOUT;
		if (r <= 0)
			return -1;
	}
	return 0;
}

/* The one client on standard input and output, to its end: 0. */
static int
serve_stdin(struct pd *pd)
{
	struct pollfd pf = { .fd = STDIN_FILENO, .events = POLLIN };
	struct session *s;
	struct buf out = { 0 };
	char *rbuf;
	ssize_t n;
	int r, rc = 0, ms = (int)pd->timeout * 1000;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (rbuf = malloc(RBUF)) == NULL) {
		free(s);
		log_warnx(&pd->log, "out of memory");
		return 1;
	}
	policy_reader_init(&s->rd);
	stdin_peer(s->peer, sizeof(s->peer));
	lookup_open(pd);
	log_debug(&pd->log, "policy client=%s: serving", s->peer);
	for (;;) {
		if ((r = poll(&pf, 1, ms)) == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn(&pd->log, "policy client=%s: poll", s->peer);
			break;
		}
		if (r == 0) {
			log_debug(&pd->log, "policy client=%s closed: idle for "
			    "%u s", s->peer, pd->timeout);
			break;
		}
		if ((n = read(STDIN_FILENO, rbuf, RBUF)) == -1 &&
		    (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			continue;
		if (n == -1) {
			log_warn(&pd->log, "policy client=%s closed: read",
			    s->peer);
			break;
		}
		if (n == 0) {
			session_eof(pd, s);
			break;
		}
		rc = session_input(pd, s, rbuf, (size_t)n, &out);
		if (out.len > 0 && write_all(STDOUT_FILENO, out.data, out.len,
		    ms) == -1) {
			log_warn(&pd->log, "policy client=%s closed: write",
			    s->peer);
			break;
		}
		buf_reset(&out);
		if (rc == -1)
			break;
	}
	buf_free(&out);
	free(rbuf);
	free(s);
	return 0;
}

/* -l: a path, or an address and port; exits when it is neither. */
static const char *
listen_arg(const char *s)
{
	struct addr a;
	uint16_t port;
	const char *why;

	if (*s == '/') {
		if (strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			errx(1, "-l %s: path too long", s);
		return s;
	}
	if (metrics_endpoint_parse(s, &a, &port, &why) == -1)
		errx(1, "-l %s: %s (or an absolute path for a Unix socket)",
		    s, why);
	return s;
}

static void
parse_args(struct pd *pd, int argc, char **argv)
{
	struct rl_url url;
	const char *why;
	char err[512];
	int ch;

	while ((ch = getopt_long(argc, argv, "dhl:vV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			pd->debug = true;
			break;
		case 'v':
			pd->verbose = true;
			break;
		case 'l':
			if (pd->nlisten == PD_MAXLISTEN)
				errx(1, "-l: at most %d", PD_MAXLISTEN);
			pd->listen[pd->nlisten++] = listen_arg(optarg);
			break;
		case OPT_DB:
			if (*optarg == '\0')
				errx(1, "--db: empty directory name");
			pd->lk.dir = optarg;
			break;
		case OPT_STORE:
			if (rl_url_parse(optarg, &url, err, sizeof(err)) == -1)
				errx(1, "%s", err);
			pd->lk.shared = optarg;
			break;
		case OPT_STOREPASS:
			if (*optarg != '/')
				errx(1, "--store-password-file %s: not an "
				    "absolute path", optarg);
			pd->lk.passfile = optarg;
			break;
		case OPT_HEADER:
			if (!policy_header_ok(optarg, &why))
				errx(1, "--header %s: %s", optarg, why);
			pd->header = optarg;
			break;
		case OPT_TIMEOUT:
			pd->timeout = (unsigned)prog_number("--timeout", optarg,
			    1, 86400);
			break;
		case 'h':
			prog_usage(usage_text, 0);
		case 'V':
			prog_version("nfspamd-policy");
		default:
			prog_usage(usage_text, 1);
		}
	}
	if (optind != argc) {
		warnx("unexpected argument: %s", argv[optind]);
		prog_usage(usage_text, 1);
	}
}

int
main(int argc, char **argv)
{
	struct pd pd;
	int rc;

	memset(&pd, 0, sizeof(pd));
	pd.header = POLICY_HEADER_DEFAULT;
	pd.timeout = PD_TIMEOUT;
	pd.lk.dir = STORE_DEFAULT_DIR;
	parse_args(&pd, argc, argv);
	/* A client gone before its answer is an error on write, no more. */
	signal(SIGPIPE, SIG_IGN);
	log_init(&pd.log, "nfspamd-policy", pd.debug, pd.verbose ? LOG_DEBUG :
	    LOG_INFO);
	rc = pd.nlisten > 0 ? listen_main(&pd) : serve_stdin(&pd);
	lookup_close(&pd);
	log_close(&pd.log);
	return rc;
}
