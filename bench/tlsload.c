/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * bench/tlsload: STARTTLS load for nfspamd -C/-K (issue 8), and the
 * in-process baseline.
 *
 *   tlsload local -C cert -K key [-n N]
 *	N handshakes between an OpenSSL client and server in this one
 *	thread, over memory BIOs: what the CPU can do without sockets,
 *	SMTP or nfspamd (the baseline).
 *   tlsload hs -p port [-n N] [-t threads]
 *	N connections to 127.0.0.1:port, each: banner, EHLO, STARTTLS,
 *	handshake, QUIT; threads at a time.  Prints handshakes/s.
 *   tlsload hold -p port -c C [-t threads] [-w secs] [-P]
 *	C connections, each through the handshake and an EHLO inside TLS
 *	(-P: the same dialogue in plaintext, without STARTTLS), then all
 *	held idle for secs (default 10).  Prints "held C" once they are all
 *	up, so the caller can measure the server.
 *
 * Loopback only; sources 127.0.0.2 and up, 20,000 connections each.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

struct opts {
	const char	*mode, *cert, *key;
	int		 port, threads, hold_secs;
	long		 n;
	bool		 plain;
};

struct conn {
	int	 fd;
	SSL	*ssl;
};

static SSL_CTX		*cctx;
static struct opts	 o;
static atomic_long	 next_id, done_n, failed_n;
static struct conn	*held;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Read until a complete final reply line ("ddd " ... "\n"). */
static int
reply(int fd, SSL *ssl, char *buf, size_t len)
{
	size_t have = 0;

	for (;;) {
		ssize_t r;
		char *last;

		r = ssl ? SSL_read(ssl, buf + have, (int)(len - have - 1)) :
		    recv(fd, buf + have, len - have - 1, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		if (have < 2 || buf[have - 1] != '\n')
			continue;
		buf[have - 1] = '\0';
		last = strrchr(buf, '\n');
		last = last ? last + 1 : buf;
		buf[have - 1] = '\n';
		if (strlen(last) >= 4 && last[3] == ' ')
			return atoi(last);
		if (have >= len - 1)
			return -1;
	}
}

static int
say(int fd, SSL *ssl, const char *s)
{
	size_t n = strlen(s);

	if (ssl)
		return SSL_write(ssl, s, (int)n) == (int)n ? 0 : -1;
	return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int
dial(long id)
{
	struct sockaddr_in src = { .sin_family = AF_INET },
	    dst = { .sin_family = AF_INET };
	int fd, one = 1;

	src.sin_addr.s_addr = htonl(0x7f000002 + (uint32_t)(id / 20000));
	dst.sin_addr.s_addr = htonl(0x7f000001);
	dst.sin_port = htons((uint16_t)o.port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Banner, EHLO, STARTTLS, handshake, EHLO again; the open connection. */
static int
session(long id, struct conn *c)
{
	char buf[4096];

	c->ssl = NULL;
	if ((c->fd = dial(id)) == -1)
		return -1;
	if (reply(c->fd, NULL, buf, sizeof(buf)) != 220 ||
	    say(c->fd, NULL, "EHLO bench.example\r\n") == -1 ||
	    reply(c->fd, NULL, buf, sizeof(buf)) != 250)
		goto fail;
	if (o.plain)
		return 0;
	if (strstr(buf, "STARTTLS") == NULL ||
	    say(c->fd, NULL, "STARTTLS\r\n") == -1 ||
	    reply(c->fd, NULL, buf, sizeof(buf)) != 220)
		goto fail;
	if ((c->ssl = SSL_new(cctx)) == NULL)
		goto fail;
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1 ||
	    say(c->fd, c->ssl, "EHLO bench.example\r\n") == -1 ||
	    reply(c->fd, c->ssl, buf, sizeof(buf)) != 250)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	return -1;
}

static void
hangup(struct conn *c)
{
	if (c->ssl != NULL) {
		say(c->fd, c->ssl, "QUIT\r\n");
		SSL_free(c->ssl);
	}
	close(c->fd);
}

static void *
hs_thread(void *arg)
{
	long id;

	(void)arg;
	while ((id = atomic_fetch_add(&next_id, 1)) < o.n) {
		struct conn c;

		if (session(id, &c) == -1) {
			atomic_fetch_add(&failed_n, 1);
			continue;
		}
		hangup(&c);
		atomic_fetch_add(&done_n, 1);
	}
	return NULL;
}

static void *
hold_thread(void *arg)
{
	long id;

	(void)arg;
	while ((id = atomic_fetch_add(&next_id, 1)) < o.n) {
		if (session(id, &held[id]) == -1) {
			held[id].fd = -1;
			atomic_fetch_add(&failed_n, 1);
			continue;
		}
		atomic_fetch_add(&done_n, 1);
	}
	return NULL;
}

static void
run_threads(void *(*fn)(void *))
{
	pthread_t t[64];

	for (int i = 0; i < o.threads; i++)
		if (pthread_create(&t[i], NULL, fn, NULL) != 0)
			errx(1, "pthread_create");
	for (int i = 0; i < o.threads; i++)
		pthread_join(t[i], NULL);
}

/* Client and server in one thread over memory BIOs. */
static void
local(void)
{
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	double t0, t;
	long ok = 0;

	if (sctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(sctx, o.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(sctx, o.key, SSL_FILETYPE_PEM) != 1)
		errx(1, "cannot load %s / %s", o.cert, o.key);
	SSL_CTX_set_min_proto_version(sctx, TLS1_2_VERSION);
	SSL_CTX_set_num_tickets(sctx, 0);
	SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
	t0 = now();
	for (long i = 0; i < o.n; i++) {
		SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
		BIO *a, *b;
		int rs = 0, rc = 0;

		BIO_new_bio_pair(&a, 0, &b, 0);
		SSL_set_bio(s, a, a);
		SSL_set_bio(c, b, b);
		SSL_set_accept_state(s);
		SSL_set_connect_state(c);
		for (int k = 0; k < 20 && (rs != 1 || rc != 1); k++) {
			if (rc != 1)
				rc = SSL_do_handshake(c);
			if (rs != 1)
				rs = SSL_do_handshake(s);
		}
		ok += rs == 1 && rc == 1;
		SSL_free(s);
		SSL_free(c);
	}
	t = now() - t0;
	printf("local handshakes=%ld ok=%ld seconds=%.2f per_s=%.0f\n", o.n, ok,
	    t, ok / t);
	SSL_CTX_free(sctx);
}

int
main(int argc, char **argv)
{
	double t0, c0, t;
	int ch;

	if (argc < 2)
		errx(1, "usage: tlsload local|hs|hold [options]");
	o.mode = argv[1];
	o.n = 1000;
	o.threads = 4;
	o.hold_secs = 10;
	optind = 2;
	while ((ch = getopt(argc, argv, "C:c:K:n:Pp:t:w:")) != -1) {
		switch (ch) {
		case 'C': o.cert = optarg; break;
		case 'K': o.key = optarg; break;
		case 'c':
		case 'n': o.n = atol(optarg); break;
		case 'P': o.plain = true; break;
		case 'p': o.port = atoi(optarg); break;
		case 't': o.threads = atoi(optarg); break;
		case 'w': o.hold_secs = atoi(optarg); break;
		default: errx(1, "bad option");
		}
	}
	if (o.threads < 1 || o.threads > 64 || o.n < 1)
		errx(1, "-t 1..64, -n/-c at least 1");
	if ((cctx = SSL_CTX_new(TLS_client_method())) == NULL)
		errx(1, "SSL_CTX_new");
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_OFF);
	if (strcmp(o.mode, "local") == 0) {
		if (o.cert == NULL || o.key == NULL)
			errx(1, "local needs -C and -K");
		local();
		return 0;
	}
	if (o.port <= 0)
		errx(1, "-p port");
	t0 = now();
	c0 = cpu_self();
	if (strcmp(o.mode, "hs") == 0) {
		run_threads(hs_thread);
		t = now() - t0;
		printf("hs connections=%ld handshakes=%ld failed=%ld "
		    "seconds=%.2f per_s=%.0f client_cpu_s=%.2f\n", o.n,
		    (long)done_n, (long)failed_n, t, done_n / t,
		    cpu_self() - c0);
		return failed_n > 0;
	}
	if (strcmp(o.mode, "hold") != 0)
		errx(1, "unknown mode %s", o.mode);
	if ((held = calloc((size_t)o.n, sizeof(*held))) == NULL)
		errx(1, "out of memory");
	run_threads(hold_thread);
	t = now() - t0;
	printf("held %ld failed=%ld seconds=%.2f\n", (long)done_n,
	    (long)failed_n, t);
	fflush(stdout);
	sleep((unsigned)o.hold_secs);
	for (long i = 0; i < o.n; i++)
		if (held[i].fd != -1)
			close(held[i].fd);
	return failed_n > 0;
}
