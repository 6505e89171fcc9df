/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * setup_bench: the pieces of bench/setup (nfspamd-setup at list sizes
 * real feeds reach).
 *
 *	setup_bench gen N4 N6 SEED		random list lines to stdout
 *	setup_bench mutate PERMILLE SEED	stdin to stdout, that many lines
 *						per thousand replaced
 *	setup_bench parse FILE			parse + collapse, best of 3
 *	setup_bench nft FILE			"nft -f" input for the same
 *						elements nfspamd-setup loads
 *	setup_bench bare FILE			the same elements as one bare
 *						libnftnl batch, timed
 *
 * IPv4 lines are random /20../32 prefixes (host bits set, as lists have
 * them), IPv6 random /32../64 under 2000::/3.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "addr.h"
#include "cidr.h"

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(uint64_t *s)
{
	/* splitmix64 */
	uint64_t	z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
line(uint64_t *s, bool v6, char *buf, size_t len)
{
	uint64_t	r = rnd(s);
	unsigned	a, b, c, d;

	if (!v6) {
		a = (unsigned)(r >> 24) & 0xff;
		if (a == 0 || a == 127 || a >= 224)
			a = 1 + a % 126;
		b = (unsigned)(r >> 16) & 0xff;
		c = (unsigned)(r >> 8) & 0xff;
		d = (unsigned)r & 0xff;
		snprintf(buf, len, "%u.%u.%u.%u/%u", a, b, c, d,
		    20 + (unsigned)((r >> 40) % 13));
	} else
		snprintf(buf, len, "%x:%x:%x:%x::/%u",
		    0x2000 | (unsigned)((r >> 48) & 0x1fff),
		    (unsigned)(r >> 32) & 0xffff, (unsigned)(r >> 16) & 0xffff,
		    (unsigned)r & 0xffff, 32 + (unsigned)((rnd(s)) % 33));
}

static int
gen(long n4, long n6, uint64_t seed)
{
	char	buf[80];
	long	i;

	printf("# setup_bench gen %ld %ld\n", n4, n6);
	for (i = 0; i < n4; i++) {
		line(&seed, false, buf, sizeof(buf));
		puts(buf);
	}
	for (i = 0; i < n6; i++) {
		line(&seed, true, buf, sizeof(buf));
		puts(buf);
	}
	return 0;
}

static int
mutate(long permille, uint64_t seed)
{
	char	buf[256], out[80];

	while (fgets(buf, sizeof(buf), stdin) != NULL) {
		if (buf[0] != '#' && (long)(rnd(&seed) % 1000) < permille) {
			line(&seed, strchr(buf, ':') != NULL, out, sizeof(out));
			puts(out);
		} else
			fputs(buf, stdout);
	}
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "r");
	char	*p;
	long	 n;

	if (f == NULL || fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0) {
		perror(path);
		exit(1);
	}
	rewind(f);
	if ((p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static void
collapse(const char *path, struct prefix **v, size_t *n, double *secs)
{
	struct cidr_list	 l;
	size_t			 len;
	char			*text = slurp(path, &len);
	double			 t0;

	t0 = now();
	cidr_list_init(&l);
	if (cidr_parse(path, text, len, &l, NULL) == -1 ||
	    cidr_collapse(&l, NULL, v, n) == -1) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	*secs = now() - t0;
	cidr_list_free(&l);
	free(text);
}

static int
parse(const char *path)
{
	struct prefix	*v;
	size_t		 n, i, n4 = 0;
	double		 s, best = 1e9;
	int		 k;

	for (k = 0; k < 3; k++) {
		collapse(path, &v, &n, &s);
		if (s < best)
			best = s;
		if (k < 2)
			free(v);
	}
	for (i = 0; i < n; i++)
		n4 += v[i].addr.family == AF_INET;
	printf("parse+collapse %.3f s, %zu prefixes (%zu IPv4, %zu IPv6)\n",
	    best, n, n4, n - n4);
	free(v);
	return 0;
}

static int
nftfile(const char *path)
{
	struct prefix	*v;
	char		 a[ADDR_STRLEN];
	size_t		 n, i, k;
	double		 s;
	int		 fam;

	collapse(path, &v, &n, &s);
	for (fam = 0; fam < 2; fam++) {
		k = 0;
		for (i = 0; i < n; i++) {
			if ((v[i].addr.family == AF_INET6) != fam)
				continue;
			if (k++ % 10000 == 0)
				printf("%sadd element inet nfspamd %s { ",
				    k > 1 ? " }\n" : "", fam ? "spamd6" : "spamd");
			else
				printf(", ");
			prefix_format(&v[i], a, sizeof(a));
			fputs(a, stdout);
		}
		if (k > 0)
			printf(" }\n");
	}
	free(v);
	return 0;
}

/* The bare batch: start and end elements, under 64 KiB a message, one send. */
static size_t
put_msg(char *buf, uint32_t seq, const char *set, const struct prefix *v,
    size_t n, bool v6)
{
	struct nftnl_set	*s = nftnl_set_alloc();
	struct nftnl_set_elem	*e;
	struct nlmsghdr		*nlh;
	unsigned __int128	 lo, hi, top;
	uint8_t			 key[16];
	size_t			 i, j, kl = v6 ? 16 : 4;

	top = v6 ? ~(unsigned __int128)0 : 0xffffffffu;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, "nfspamd");
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	for (i = 0; i < n; i++) {
		lo = v6 ? cidr_addr_to6(&v[i].addr) : cidr_addr_to4(&v[i].addr);
		hi = lo | (v[i].len == (v6 ? 128 : 32) ? 0 :
		    (((unsigned __int128)1 << ((v6 ? 128 : 32) - v[i].len)) -
		    1));
		for (j = 0; j < kl; j++)
			key[j] = (uint8_t)(lo >> (8 * (kl - 1 - j)));
		e = nftnl_set_elem_alloc();
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)kl);
		nftnl_set_elem_add(s, e);
		if (hi == top)
			continue;
		for (j = 0; j < kl; j++)
			key[j] = (uint8_t)((hi + 1) >> (8 * (kl - 1 - j)));
		e = nftnl_set_elem_alloc();
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)kl);
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
		    NFT_SET_ELEM_INTERVAL_END);
		nftnl_set_elem_add(s, e);
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET,
	    NLM_F_CREATE, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return NLMSG_ALIGN(nlh->nlmsg_len);
}

static int
bare(const char *path)
{
	struct mnl_socket	*nl;
	struct prefix		*v;
	struct nlmsghdr		*nlh;
	char			*buf, rbuf[8192];
	size_t			 n, i, k, off = 0, cap, nv4 = 0;
	uint32_t		 seq = (uint32_t)time(NULL);
	double			 s, t0, t1;
	int			 sz;
	ssize_t			 r;

	collapse(path, &v, &n, &s);
	for (i = 0; i < n; i++)
		nv4 += v[i].addr.family == AF_INET;
	t0 = now();
	/* Prefixes are sorted IPv4 first: two runs. */
	cap = 128 + (n / 500 + 4) * 65536;
	if ((buf = malloc(cap)) == NULL)
		return 1;
	nftnl_batch_begin(buf, seq++);
	off = NLMSG_ALIGN(((struct nlmsghdr *)buf)->nlmsg_len);
	for (i = 0; i < n; i += k) {
		bool v6 = i >= nv4;
		size_t end = v6 ? n : nv4, per = v6 ? 500 : 1000;

		k = end - i < per ? end - i : per;
		off += put_msg(buf + off, seq++, v6 ? "spamd6" : "spamd", v + i,
		    k, v6);
	}
	nlh = nftnl_batch_end(buf + off, seq++);
	off += NLMSG_ALIGN(nlh->nlmsg_len);
	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		perror("mnl_socket");
		return 1;
	}
	sz = (int)off;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz,
	    sizeof(sz));
	if (mnl_socket_sendto(nl, buf, off) < 0) {
		perror("sendto");
		return 1;
	}
	t1 = now();
	/* No acknowledgements were asked for: anything here is an error. */
	r = recv(mnl_socket_get_fd(nl), rbuf, sizeof(rbuf), MSG_DONTWAIT);
	if (r > 0) {
		nlh = (struct nlmsghdr *)rbuf;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			fprintf(stderr, "bare batch: %s\n", strerror(-*(int *)
			    mnl_nlmsg_get_payload(nlh)));
			return 1;
		}
	}
	printf("bare libnftnl batch %.3f s (%zu prefixes, %zu bytes)\n",
	    t1 - t0, n, off);
	mnl_socket_close(nl);
	free(buf);
	free(v);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		return gen(atol(argv[2]), atol(argv[3]),
		    strtoull(argv[4], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "mutate") == 0)
		return mutate(atol(argv[2]), strtoull(argv[3], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "parse") == 0)
		return parse(argv[2]);
	if (argc == 3 && strcmp(argv[1], "nft") == 0)
		return nftfile(argv[2]);
	if (argc == 3 && strcmp(argv[1], "bare") == 0)
		return bare(argv[2]);
	fprintf(stderr, "usage: setup_bench gen N4 N6 SEED | mutate PERMILLE "
	    "SEED | parse FILE | nft FILE | bare FILE\n");
	return 2;
}
