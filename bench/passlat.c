/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * passlat: how long from a greylist pass to the address being in the
 * kernel's spamd-white set.  Run inside a network namespace that has the
 * nfspamd ruleset and an nfspamd with --firewall nft listening on
 * 127.0.0.1:PORT, started with a short passtime (-G 1s:1h:1h) and -S 0.
 *
 * For each of N sources 127.1.x.y: a first dialogue (greylisted), then,
 * after passtime, the retry; the clock starts when the retry's RCPT is
 * answered (the tuple passes there) and stops when a listing of the set
 * shows the address.
 *
 * With LEN4 below 32 (nfspamd -N LEN4:...), greylisting by network: the
 * first dialogue of source i comes from 127.(2 + i / 250).(i % 250).1,
 * the retry from .2 of the same /24 (another address of the network), and
 * the clock stops when the set shows the network's address.
 *
 * usage: passlat PORT N PASSTIME_S [LEN4]
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nftset.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
readline(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		if (read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

/* One dialogue up to the RCPT reply; returns the socket (DATA unsent). */
static int
dialog(const char *src, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, b = a;
	char line[512];
	const char *cmds[] = { "HELO passlat.example\r\n",
	    "MAIL FROM:<lat@example.org>\r\n", "RCPT TO:<x@example.net>\r\n" };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, src, &a.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
	b.sin_port = htons((uint16_t)port);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    connect(fd, (struct sockaddr *)&b, sizeof(b)) == -1 ||
	    readline(fd, line, sizeof(line)) == -1)
		goto fail;
	for (size_t i = 0; i < 3; i++)
		if (write(fd, cmds[i], strlen(cmds[i])) < 0 ||
		    readline(fd, line, sizeof(line)) == -1)
			goto fail;
	return fd;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

static void
finish(int fd)
{
	char line[512];

	if (write(fd, "DATA\r\n", 6) == 6)
		readline(fd, line, sizeof(line));
	close(fd);
}

static int
present(struct nftset *ns, const struct addr *a)
{
	struct nftset_elem *e;
	size_t n;
	char err[512];
	int found = 0;

	if (nftset_list(ns, NFTSET_WHITE, &e, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "passlat: %s\n", err);
		exit(1);
	}
	for (size_t i = 0; i < n && !found; i++)
		found = addr_eq(&e[i].pfx.addr, a);
	free(e);
	return found;
}

static int
cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Source i's address for its first (try 1) or second dialogue. */
static void
source(char *buf, size_t len, int i, int len4, int try)
{
	if (len4 == 32)
		snprintf(buf, len, "127.1.%d.%d", i / 250, i % 250 + 1);
	else
		snprintf(buf, len, "127.%d.%d.%d", 2 + i / 250, i % 250, try);
}

int
main(int argc, char **argv)
{
	struct nftset *ns;
	char err[512], src[32];
	double *lat;
	int port, n, pass, len4 = 32, ok = 0;

	if ((argc != 4 && argc != 5) || (port = atoi(argv[1])) <= 0 ||
	    (n = atoi(argv[2])) <= 0 || n > 60000 ||
	    (pass = atoi(argv[3])) < 0 ||
	    (argc == 5 && ((len4 = atoi(argv[4])) < 8 || len4 > 32))) {
		fprintf(stderr, "usage: passlat PORT N PASSTIME_S [LEN4]\n");
		return 1;
	}
	if (nftset_open(&ns, NFTSET_TABLE, err, sizeof(err)) != 0) {
		fprintf(stderr, "passlat: %s\n", err);
		return 1;
	}
	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		source(src, sizeof(src), i, len4, 1);
		int fd = dialog(src, port);
		if (fd != -1)
			finish(fd);
	}
	sleep((unsigned)pass + 1);
	for (int i = 0; i < n; i++) {
		struct addr a;
		double t0;
		int fd;

		source(src, sizeof(src), i, len4, 2);
		addr_parse(src, &a, NULL);
		addr_mask(&a, (unsigned)len4);
		if ((fd = dialog(src, port)) == -1)
			continue;
		t0 = now_ms();
		while (!present(ns, &a) && now_ms() - t0 < 5000)
			;
		lat[ok++] = now_ms() - t0;
		finish(fd);
	}
	qsort(lat, (size_t)ok, sizeof(*lat), cmp);
	if (ok == 0) {
		fprintf(stderr, "passlat: no dialogue completed\n");
		return 1;
	}
	printf("passes measured: %d of %d\n", ok, n);
	printf("pass -> kernel set: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	    lat[ok / 2], lat[(size_t)(ok * 0.99)], lat[ok - 1]);
	nftset_close(ns);
	free(lat);
	return 0;
}
