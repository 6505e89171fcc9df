/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for osf: fingerprint lines good and bad (every error with
 * its message), the shipped etc/pf.os and etc/os-fingerprints, SYNs of
 * the common systems over IPv4 and IPv6 laid out by hand from RFC 791,
 * 8200 and 9293, what is refused in a SYN, the TTL distance, T0, S and
 * T windows, the approximate fallback, osf_syn_format read back as a
 * fingerprint, and the kernel's struct.
 *
 * The source tree's etc/ is found through $top_srcdir (make check sets
 * it), else through this file's own path.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/netfilter/nfnetlink_osf.h>

#include "osf.h"

#define PKTMAX	256

/* TCP options, as bytes. */
#define O_MSS(v)	2, 4, (uint8_t)((v) >> 8), (uint8_t)((v) & 0xff)
#define O_WS(v)		3, 3, (v)
#define O_SOK		4, 2
#define O_TS		8, 10, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0
#define O_TS0		8, 10, 0, 0, 0, 0, 0, 0, 0, 0
#define O_N		1
#define O_E		0

static const uint8_t o_xp[] = { O_MSS(1460), O_N, O_N, O_SOK };
static const uint8_t o_win10[] = { O_MSS(1460), O_N, O_WS(8), O_N, O_N,
    O_SOK };
static const uint8_t o_win10v6[] = { O_MSS(1440), O_N, O_WS(8), O_N, O_N,
    O_SOK };
static const uint8_t o_linux[] = { O_MSS(1460), O_SOK, O_TS, O_N,
    O_WS(7) };
static const uint8_t o_linux10[] = { O_MSS(1460), O_SOK, O_TS, O_N,
    O_WS(10) };
static const uint8_t o_linuxv6[] = { O_MSS(1440), O_SOK, O_TS, O_N,
    O_WS(7) };
static const uint8_t o_freebsd[] = { O_MSS(1460), O_N, O_WS(6), O_SOK,
    O_TS };
static const uint8_t o_macos[] = { O_MSS(1460), O_N, O_WS(6), O_N, O_N,
    O_TS, O_SOK, O_E, O_E };
static const uint8_t o_openbsd[] = { O_MSS(1460), O_N, O_N, O_SOK, O_N,
    O_WS(6), O_N, O_N, O_TS };
static const uint8_t o_bsd44[] = { O_MSS(1460), O_N, O_WS(0), O_N, O_N,
    O_TS };
static const uint8_t o_bsd44ts0[] = { O_MSS(1460), O_N, O_WS(0), O_N, O_N,
    O_TS0 };
/* Linux's with a TCP Fast Open cookie request (kind 34, length 2). */
static const uint8_t o_tfo[] = { O_MSS(1460), O_SOK, O_TS, O_N, O_WS(7),
    34, 2, O_N, O_N };

struct pkt {
	uint8_t		b[PKTMAX];
	size_t		len;
};

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A TCP header at t; flags 0x02 is a SYN.  Its length. */
static size_t
tcp(uint8_t *t, uint16_t win, uint8_t flags, const uint8_t *opt,
    size_t optlen)
{
	size_t hl = 20 + optlen;

	assert_true(optlen % 4 == 0 && hl <= 60);
	memset(t, 0, 20);
	put16(t, 49152);		/* source port */
	put16(t + 2, 25);		/* destination port */
	t[4] = 0x11;			/* sequence number */
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = flags;
	put16(t + 14, win);
	if (optlen > 0)
		memcpy(t + 20, opt, optlen);
	return hl;
}

static struct pkt
syn4f(uint8_t ttl, bool df, uint16_t win, uint8_t flags, const uint8_t *opt,
    size_t optlen)
{
	struct pkt p;
	size_t hl;

	memset(&p, 0, sizeof(p));
	hl = tcp(p.b + 20, win, flags, opt, optlen);
	p.b[0] = 0x45;
	put16(p.b + 2, (unsigned)(20 + hl));
	put16(p.b + 4, 0x1234);		/* id */
	p.b[6] = df ? 0x40 : 0;
	p.b[8] = ttl;
	p.b[9] = 6;
	memcpy(p.b + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x01", 8);
	p.len = 20 + hl;
	return p;
}

static struct pkt
syn4(uint8_t ttl, bool df, uint16_t win, const uint8_t *opt, size_t optlen)
{
	return syn4f(ttl, df, win, 0x02, opt, optlen);
}

/* ext: extension headers, the first of kind nh0, already chained. */
static struct pkt
syn6x(uint8_t hop, uint16_t win, uint8_t nh0, const uint8_t *ext,
    size_t extlen, const uint8_t *opt, size_t optlen)
{
	struct pkt p;
	size_t hl;

	memset(&p, 0, sizeof(p));
	p.b[0] = 0x60;
	if (extlen > 0)
		memcpy(p.b + 40, ext, extlen);
	hl = tcp(p.b + 40 + extlen, win, 0x02, opt, optlen);
	put16(p.b + 4, (unsigned)(extlen + hl));
	p.b[6] = nh0;
	p.b[7] = hop;
	p.b[8] = 0x20;			/* 2001:db8::1 -> 2001:db8::2 */
	p.b[9] = 0x01;
	p.b[10] = 0x0d;
	p.b[11] = 0xb8;
	p.b[23] = 1;
	memcpy(p.b + 24, p.b + 8, 15);
	p.b[39] = 2;
	p.len = 40 + extlen + hl;
	return p;
}

static struct pkt
syn6(uint8_t hop, uint16_t win, const uint8_t *opt, size_t optlen)
{
	return syn6x(hop, win, 6, NULL, 0, opt, optlen);
}

static void
parse_syn(const struct pkt *p, struct osf_syn *syn)
{
	char err[256] = "";

	if (osf_syn_parse(p->b, p->len, syn, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void
syn_err(const struct pkt *p, size_t len, const char *want)
{
	struct osf_syn syn;
	char err[256] = "";

	assert_int_equal(osf_syn_parse(p->b, len, &syn, err, sizeof(err)),
	    -1);
	if (strcmp(err, want) != 0)
		fail_msg("\"%s\", not \"%s\"", err, want);
}

static void
load_ok(struct osf_db *db, const char *text)
{
	char err[256] = "";

	if (osf_db_load_buf(db, "t", text, strlen(text), err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void
load_err(const char *text, size_t len, const char *want)
{
	struct osf_db db = { 0 };
	char err[256] = "";

	assert_int_equal(osf_db_load_buf(&db, "t", text, len, err,
	    sizeof(err)), -1);
	if (strcmp(err, want) != 0)
		fail_msg("\"%s\", not \"%s\"", err, want);
	osf_db_free(&db);
}

static const char *
name_of(const struct osf_fp *fp)
{
	static char buf[OSF_OSLEN];

	if (fp == NULL)
		return "(none)";
	osf_name(fp, buf, sizeof(buf));
	return buf;
}

/* The source tree: $top_srcdir, else this file's path less its tail. */
static void
srcpath(char *buf, size_t len, const char *rel)
{
	const char *top = getenv("top_srcdir"), *me = __FILE__;
	const char *tail = "tests/unit/test_osf.c";
	size_t n = strlen(me), t = strlen(tail);

	if (top != NULL && *top != '\0')
		snprintf(buf, len, "%s/%s", top, rel);
	else if (n >= t && strcmp(me + n - t, tail) == 0)
		snprintf(buf, len, "%.*s%s", (int)(n - t), me, rel);
	else
		snprintf(buf, len, "%s", rel);
}

/* The shipped files, in the daemon's order. */
static void
load_shipped(struct osf_db *db)
{
	char path[4096], err[512] = "";

	memset(db, 0, sizeof(*db));
	srcpath(path, sizeof(path), "etc/os-fingerprints");
	if (osf_db_load(db, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	srcpath(path, sizeof(path), "etc/pf.os");
	if (osf_db_load(db, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static const struct osf_fp *
match_shipped(const struct pkt *p)
{
	static struct osf_db db;
	static bool loaded;
	struct osf_syn syn;

	if (!loaded) {
		load_shipped(&db);
		loaded = true;
	}
	parse_syn(p, &syn);
	return osf_match(&db, &syn);
}

static void
test_parse(void **state)
{
	struct osf_db db = { 0 };
	const struct osf_fp *fp;
	char desc[300];

	(void)state;
	load_ok(&db,
	    "# a comment\n"
	    "   # an indented one\n"
	    "\n"
	    " \t \r\n"
	    "S44:64:1:60:M*,S,T,N,W7:\tLinux:4.19-6.x::Linux: now\n"
	    "%8192:128:1:48:M%4,N,N,S:\t@Windows:XP:SP1:generic\r\n"
	    "T4:255:0:*:.:*NMAP:syn scan:1:\n"
	    "*:32:1:44:M1460 N  W*,T0,E:RISC OS:3.70:4.10:x\n"
	    "0:64:0:48:W%2,N:HP-UX:B.11.00:A:no newline");
	assert_int_equal(db.n, 5);

	fp = &db.fp[0];
	assert_int_equal(fp->line, 5);
	assert_int_equal(fp->wcmp, OSF_MSS);
	assert_int_equal(fp->wval, 44);
	assert_int_equal(fp->ttl, 64);
	assert_true(fp->df);
	assert_false(fp->anysize);
	assert_int_equal(fp->size, 60);
	assert_int_equal(fp->nopt, 5);
	assert_int_equal(fp->opt[0].kind, OSF_OPT_MSS);
	assert_int_equal(fp->opt[0].cmp, OSF_ANY);
	assert_int_equal(fp->opt[1].kind, OSF_OPT_SACKOK);
	assert_int_equal(fp->opt[2].kind, OSF_OPT_TS);
	assert_int_equal(fp->opt[3].kind, OSF_OPT_NOP);
	assert_int_equal(fp->opt[4].kind, OSF_OPT_WS);
	assert_int_equal(fp->opt[4].cmp, OSF_EQ);
	assert_int_equal(fp->opt[4].val, 7);
	assert_false(fp->approx);
	assert_false(fp->scanner);
	assert_string_equal(fp->genre, "Linux");
	assert_string_equal(fp->version, "4.19-6.x");
	assert_string_equal(fp->subtype, "");
	assert_string_equal(fp->desc, "Linux: now");
	assert_string_equal(name_of(fp), "Linux 4.19-6.x");

	fp = &db.fp[1];
	assert_int_equal(fp->wcmp, OSF_MOD);
	assert_int_equal(fp->wval, 8192);
	assert_int_equal(fp->opt[0].cmp, OSF_MOD);
	assert_int_equal(fp->opt[0].val, 4);
	assert_true(fp->approx);
	assert_false(fp->scanner);
	assert_string_equal(fp->genre, "Windows");
	assert_string_equal(fp->desc, "generic");
	assert_string_equal(name_of(fp), "Windows XP SP1");

	fp = &db.fp[2];
	assert_int_equal(fp->wcmp, OSF_MTU);
	assert_int_equal(fp->wval, 4);
	assert_false(fp->df);
	assert_true(fp->anysize);
	assert_int_equal(fp->nopt, 0);
	assert_true(fp->scanner);
	assert_string_equal(fp->genre, "NMAP");
	assert_string_equal(fp->desc, "");
	assert_string_equal(name_of(fp), "NMAP syn scan 1");

	fp = &db.fp[3];
	assert_int_equal(fp->wcmp, OSF_ANY);
	assert_int_equal(fp->nopt, 5);
	assert_int_equal(fp->opt[0].cmp, OSF_EQ);
	assert_int_equal(fp->opt[0].val, 1460);
	assert_int_equal(fp->opt[1].kind, OSF_OPT_NOP);
	assert_int_equal(fp->opt[2].kind, OSF_OPT_WS);
	assert_int_equal(fp->opt[2].cmp, OSF_ANY);
	assert_int_equal(fp->opt[3].kind, OSF_OPT_TS0);
	assert_int_equal(fp->opt[4].kind, OSF_OPT_EOL);
	assert_string_equal(fp->genre, "RISC OS");

	fp = &db.fp[4];
	assert_int_equal(fp->wcmp, OSF_EQ);
	assert_int_equal(fp->wval, 0);
	assert_int_equal(fp->opt[0].cmp, OSF_MOD);
	assert_int_equal(fp->opt[0].val, 2);
	assert_string_equal(fp->desc, "no newline");
	assert_int_equal(fp->line, 9);

	/* A long description is cut; the longest names fit. */
	snprintf(desc, sizeof(desc), "1:1:0:40:.:%031d:%031d:%031d:%0150d\n",
	    1, 2, 3, 4);
	load_ok(&db, desc);
	assert_int_equal(db.n, 6);
	fp = &db.fp[5];
	assert_int_equal(strlen(fp->genre), OSF_NAMELEN - 1);
	assert_int_equal(strlen(fp->subtype), OSF_NAMELEN - 1);
	assert_int_equal(strlen(fp->desc), OSF_DESCLEN - 1);
	assert_int_equal(fp->line, 1);
	osf_db_free(&db);
	assert_null(db.fp);
	assert_int_equal(db.n, 0);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char	*text, *want;
	} bad[] = {
		{ "S44:64:1:60:M*:Linux:2.6:x\n", "t:1: want window:ttl:df:"
		    "size:options:genre:version:subtype:description "
		    "(S44:64:1:60:M*:Linux:2.6:x)" },
		{ "\n\nS0:64:1:60:.:L:::\n", "t:3: bad window (S0)" },
		{ "T0:64:1:60:.:L:::\n", "t:1: bad window (T0)" },
		{ "%0:64:1:60:.:L:::\n", "t:1: bad window (%0)" },
		{ "65536:64:1:60:.:L:::\n", "t:1: bad window (65536)" },
		{ "S:64:1:60:.:L:::\n", "t:1: bad window (S)" },
		{ "-1:64:1:60:.:L:::\n", "t:1: bad window (-1)" },
		{ ":64:1:60:.:L:::\n", "t:1: bad window ()" },
		{ "1:0:1:60:.:L:::\n", "t:1: bad ttl (0)" },
		{ "1:256:1:60:.:L:::\n", "t:1: bad ttl (256)" },
		{ "1:6x:1:60:.:L:::\n", "t:1: bad ttl (6x)" },
		{ "1:64:2:60:.:L:::\n", "t:1: bad df (2)" },
		{ "1:64:01:60:.:L:::\n", "t:1: bad df (01)" },
		{ "1:64:1:65536:.:L:::\n", "t:1: bad size (65536)" },
		{ "1:64:1:**:.:L:::\n", "t:1: bad size (**)" },
		{ "1:64:1:60::L:::\n", "t:1: no options (\".\" says none) ()" },
		{ "1:64:1:60:M*,?12:L:::\n", "t:1: unknown option (?12)" },
		{ "1:64:1:60:N,..:L:::\n", "t:1: unknown option (..)" },
		{ "1:64:1:60:t:L:::\n", "t:1: unknown option (t)" },
		{ "1:64:1:60:T1:L:::\n", "t:1: unknown option (T1)" },
		{ "1:64:1:60:M:L:::\n", "t:1: bad MSS option (M)" },
		{ "1:64:1:60:M%0:L:::\n", "t:1: bad MSS option (M%0)" },
		{ "1:64:1:60:M65536:L:::\n", "t:1: bad MSS option (M65536)" },
		{ "1:64:1:60:W256:L:::\n",
		    "t:1: bad window scale option (W256)" },
		{ "1:64:1:60:W**:L:::\n",
		    "t:1: bad window scale option (W**)" },
		{ "1:64:1:60:.:@:::\n", "t:1: empty genre ()" },
		{ "1:64:1:60:.: \t:::\n", "t:1: empty genre ()" },
		{ "1:64:1:60:.:0123456789012345678901234567890123:::\n",
		    "t:1: genre too long "
		    "(0123456789012345678901234567890123)" },
		{ "1:64:1:60:.:L:0123456789012345678901234567890123::\n",
		    "t:1: version too long "
		    "(0123456789012345678901234567890123)" },
		{ "1:64:1:60:.:L::0123456789012345678901234567890123:\n",
		    "t:1: subtype too long "
		    "(0123456789012345678901234567890123)" },
	};
	struct osf_db db = { 0 };
	char err[256], *big;
	size_t n, at;
	const char *fp = "1:1:0:1:.:a:::\n";
	const char *keep = "1:1:0:40:.:A:::\n# c\n2:1:0:40:.:B:::\nx\n"
	    "4:1:0:40:.:D:::\n";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		load_err(bad[i].text, strlen(bad[i].text), bad[i].want);

	/* 41 options. */
	big = calloc(1, 4096);
	assert_non_null(big);
	strcpy(big, "1:64:1:60:N");
	for (int i = 0; i < OSF_MAXOPT; i++)
		strcat(big, ",N");
	strcat(big, ":L:::\n");
	load_err(big, strlen(big), "t:1: more than 40 options (N)");
	free(big);

	/* A NUL byte, even in a comment. */
	load_err("1:1:0:40:.:L:::\n# a\0b\n", 22, "t:2: NUL byte in the text");

	/* The lines before a bad one stay. */
	assert_int_equal(osf_db_load_buf(&db, "f.os", keep, strlen(keep), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "f.os:4: want window:ttl:df:size:options:"
	    "genre:version:subtype:description (x)");
	assert_int_equal(db.n, 2);
	assert_string_equal(db.fp[1].genre, "B");
	assert_int_equal(db.fp[1].line, 3);
	osf_db_free(&db);

	/* 65536 fingerprints at most, in all files together. */
	n = strlen(fp);
	big = malloc(65537 * n);
	assert_non_null(big);
	for (at = 0; at < 65537 * n; at += n)
		memcpy(big + at, fp, n);
	assert_int_equal(osf_db_load_buf(&db, "t", big, 65536 * n, err,
	    sizeof(err)), 0);
	assert_int_equal(db.n, 65536);
	assert_int_equal(osf_db_load_buf(&db, "u", fp, n, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "u:1: more than 65536 fingerprints");
	osf_db_free(&db);
	load_err(big, 65537 * n, "t:65537: more than 65536 fingerprints");
	free(big);

	/* 1 MiB at most. */
	big = malloc(1024 * 1024 + 1);
	assert_non_null(big);
	memset(big, '\n', 1024 * 1024 + 1);
	assert_int_equal(osf_db_load_buf(&db, "t", big, 1024 * 1024, err,
	    sizeof(err)), 0);
	load_err(big, 1024 * 1024 + 1,
	    "t: larger than 1 MiB (1048577 bytes)");
	free(big);
	osf_db_free(&db);
}

/* The fingerprint lines of a file, counted apart from the parser. */
static size_t
count_lines(const char *path)
{
	char line[1024];
	size_t n = 0, i;
	FILE *f;

	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		for (i = 0; line[i] == ' ' || line[i] == '\t'; i++)
			;
		if (line[i] != '#' && line[i] != '\n' && line[i] != '\0')
			n++;
	}
	fclose(f);
	return n;
}

static void
test_shipped(void **state)
{
	struct osf_db db = { 0 };
	char path[4096], err[512] = "";
	size_t ours, n;
	int fd;

	(void)state;
	srcpath(path, sizeof(path), "etc/os-fingerprints");
	assert_int_equal(osf_db_load(&db, path, err, sizeof(err)), 0);
	ours = db.n;
	assert_int_equal(ours, count_lines(path));
	assert_int_equal(ours, 25);
	srcpath(path, sizeof(path), "etc/pf.os");
	if (osf_db_load(&db, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* Every line of pf.os is read. */
	assert_int_equal(db.n - ours, count_lines(path));
	assert_int_equal(db.n - ours, 239);
	/* The genres nft's "osf name" would be asked for. */
	for (size_t i = 0; i < db.n; i++) {
		assert_true(db.fp[i].genre[0] != '\0');
		assert_null(strchr(db.fp[i].genre, '@'));
	}
	osf_db_free(&db);

	assert_int_equal(osf_db_load(&db, "/nonexistent/pf.os", err,
	    sizeof(err)), -1);
	assert_string_equal(err,
	    "/nonexistent/pf.os: No such file or directory");

	/* A file over 1 MiB. */
	snprintf(path, sizeof(path), "/tmp/test_osf.%ld", (long)getpid());
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >=
	    0);
	assert_int_equal(ftruncate(fd, 1024 * 1024 + 1), 0);
	close(fd);
	assert_int_equal(osf_db_load(&db, path, err, sizeof(err)), -1);
	n = strlen(path);
	assert_string_equal(err + n, ": larger than 1 MiB");
	/* 1 MiB of NULs is read, and refused for them. */
	assert_int_equal(truncate(path, 1024 * 1024), 0);
	assert_int_equal(osf_db_load(&db, path, err, sizeof(err)), -1);
	assert_string_equal(err + n, ":1: NUL byte in the text");
	unlink(path);
	osf_db_free(&db);
}

static void
test_match_ipv4(void **state)
{
	struct pkt p;
	const struct osf_fp *fp;

	(void)state;
	/* pf.os's first line for it: 65535:128:1:48:M*,N,N,S. */
	p = syn4(113, true, 65535, o_xp, sizeof(o_xp));
	assert_string_equal(name_of(match_shipped(&p)), "Windows 2000 SP4");
	p = syn4(117, true, 64240, o_win10, sizeof(o_win10));
	fp = match_shipped(&p);
	assert_string_equal(name_of(fp), "Windows 10-11");
	assert_false(fp->approx);
	p = syn4(120, true, 8192, o_win10, sizeof(o_win10));
	assert_string_equal(name_of(match_shipped(&p)), "Windows 7-8");
	p = syn4(60, true, 64240, o_linux, sizeof(o_linux));
	assert_string_equal(name_of(match_shipped(&p)), "Linux 4.19-6.x");
	p = syn4(64, true, 64240, o_linux10, sizeof(o_linux10));
	assert_string_equal(name_of(match_shipped(&p)), "Linux 4.19-6.x");
	/* 3.x: twenty segments. */
	p = syn4(64, true, 29200, o_linux, sizeof(o_linux));
	assert_string_equal(name_of(match_shipped(&p)), "Linux 3.11-4.18");
	p = syn4(55, true, 65535, o_freebsd, sizeof(o_freebsd));
	assert_string_equal(name_of(match_shipped(&p)), "FreeBSD 11-14");
	p = syn4(52, true, 65535, o_macos, sizeof(o_macos));
	assert_string_equal(name_of(match_shipped(&p)), "MacOS 10.x-15");
	p = syn4(250 - 200, true, 16384, o_openbsd, sizeof(o_openbsd));
	assert_string_equal(name_of(match_shipped(&p)), "OpenBSD 6-7");
	p = syn4(64, false, 16384, o_openbsd, sizeof(o_openbsd));
	assert_string_equal(name_of(match_shipped(&p)), "OpenBSD 6-7 no-df");
	/* nmap's SYN scan: no options, no DF. */
	p = syn4(49, false, 1024, NULL, 0);
	fp = match_shipped(&p);
	assert_string_equal(name_of(fp), "NMAP syn scan 1");
	assert_true(fp->scanner);
}

static void
test_match_ipv6(void **state)
{
	/* Hop-by-hop (8 bytes), routing (16), destination options (8). */
	static const uint8_t ext[] = {
		43, 0, 1, 4, 0, 0, 0, 0,
		60, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		6, 0, 1, 4, 0, 0, 0, 0,
	};
	struct osf_syn syn;
	struct pkt p;

	(void)state;
	/* 64800: 45 times 1440. */
	p = syn6(57, 64800, o_linuxv6, sizeof(o_linuxv6));
	parse_syn(&p, &syn);
	assert_int_equal(syn.family, 6);
	assert_int_equal(syn.ttl, 57);
	assert_true(syn.df);
	assert_int_equal(syn.size, 60);
	assert_string_equal(name_of(match_shipped(&p)), "Linux 4.19-6.x");
	p = syn6(120, 65535, o_win10v6, sizeof(o_win10v6));
	assert_string_equal(name_of(match_shipped(&p)), "Windows 10-11");

	p = syn6x(64, 64800, 0, ext, sizeof(ext), o_linuxv6,
	    sizeof(o_linuxv6));
	parse_syn(&p, &syn);
	assert_int_equal(syn.size, 60);
	assert_int_equal(syn.window, 64800);
	assert_int_equal(syn.mss, 1440);
	assert_string_equal(name_of(match_shipped(&p)), "Linux 4.19-6.x");
	for (size_t l = 0; l < p.len; l++)
		assert_int_equal(osf_syn_parse(p.b, l, &syn, NULL, 0), -1);
	syn_err(&p, 47, "IPv6 extension header truncated (0)");
	syn_err(&p, 60, "IPv6 extension header truncated (64)");

	/* A fragment header, UDP, no next header. */
	p = syn6x(64, 64800, 44, ext, sizeof(ext), o_linuxv6,
	    sizeof(o_linuxv6));
	syn_err(&p, p.len, "a fragment: next header (44)");
	p.b[6] = 0;
	p.b[40] = 44;
	syn_err(&p, p.len, "a fragment: next header (44)");
	p.b[40] = 17;
	syn_err(&p, p.len, "not TCP: next header (17)");
	p.b[6] = 59;
	syn_err(&p, p.len, "not TCP: next header (59)");
	syn_err(&p, 39, "too short for IPv6 (39)");
}

/*
 * SYNs captured on Linux 6.18 (AF_PACKET, a veth pair between two
 * network namespaces, MTU 1500; and loopback), as the wire had them.
 */
static const struct {
	const char	*bytes;
	size_t		 len;
	const char	*line, *name;
} captured[] = {
	{ "\x45\x00\x00\x3c\x94\x26\x40\x00\x40\x06\x91\xcd"
	  "\x0a\x63\x00\x01\x0a\x63\x00\x02\xac\x34\x00\x09"
	  "\xfc\x9e\x34\xa1\x00\x00\x00\x00\xa0\x02\xfa\xf0"
	  "\x14\xf7\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a"
	  "\xaf\xde\x05\xc8\x00\x00\x00\x00\x01\x03\x03\x0a", 60,
	  "64240:64:1:60:M1460,S,T,N,W10", "Linux 4.19-6.x" },
	{ "\x60\x03\x01\x37\x00\x28\x06\x40\xfd\x99\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	  "\xfd\x99\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	  "\x00\x00\x00\x02\x84\x72\x00\x09\xbf\x56\x20\xab"
	  "\x00\x00\x00\x00\xa0\x02\xfd\x20\xfb\x64\x00\x00"
	  "\x02\x04\x05\xa0\x04\x02\x08\x0a\x70\x7b\xe1\x19"
	  "\x00\x00\x00\x00\x01\x03\x03\x0a", 80,
	  "64800:64:1:60:M1440,S,T,N,W10", "Linux 4.19-6.x" },
	{ "\x45\x00\x00\x34\x08\xe2\x40\x00\x40\x06\x1d\x1a"
	  "\x0a\x63\x00\x01\x0a\x63\x00\x02\x93\x7e\x00\x09"
	  "\x95\xdb\x95\x4d\x00\x00\x00\x00\x80\x02\xfa\xf0"
	  "\x14\xef\x00\x00\x02\x04\x05\xb4\x01\x01\x04\x02"
	  "\x01\x03\x03\x0a", 52,
	  "64240:64:1:52:M1460,N,N,S,N,W10", "Linux 4.19-6.x ts" },
	{ "\x45\x00\x00\x3c\xaa\xfa\x40\x00\x40\x06\x91\xbf"
	  "\x7f\x00\x00\x01\x7f\x00\x00\x01\xaa\x64\x00\x09"
	  "\x8c\x79\x6a\x96\x00\x00\x00\x00\xa0\x02\xff\xd7"
	  "\xfe\x30\x00\x00\x02\x04\xff\xd7\x04\x02\x08\x0a"
	  "\x22\xc4\x1f\x83\x00\x00\x00\x00\x01\x03\x03\x0a", 60,
	  "65495:64:1:60:M65495,S,T,N,W10", "Linux 4.19-6.x lo0" },
};

static void
test_captured(void **state)
{
	struct pkt p;
	struct osf_syn syn;
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(captured) / sizeof(captured[0]); i++) {
		memset(&p, 0, sizeof(p));
		memcpy(p.b, captured[i].bytes, captured[i].len);
		p.len = captured[i].len;
		parse_syn(&p, &syn);
		osf_syn_format(&syn, buf, sizeof(buf));
		assert_string_equal(buf, captured[i].line);
		assert_string_equal(name_of(match_shipped(&p)),
		    captured[i].name);
	}
}

static void
test_ttl(void **state)
{
	struct pkt p;

	(void)state;
	/* 128 - 88 = 40 hops: the farthest. */
	p = syn4(88, true, 65535, o_xp, sizeof(o_xp));
	assert_string_equal(name_of(match_shipped(&p)), "Windows 2000 SP4");
	/* 78 hops from 128, and no 64 fingerprint of this shape. */
	p = syn4(87, true, 65535, o_xp, sizeof(o_xp));
	assert_null(match_shipped(&p));
	p = syn4(50, true, 65535, o_xp, sizeof(o_xp));
	assert_null(match_shipped(&p));
	/* More than any initial TTL of this shape. */
	p = syn4(129, true, 65535, o_xp, sizeof(o_xp));
	assert_null(match_shipped(&p));
	/* 50 is 14 hops from Linux's 64. */
	p = syn4(50, true, 64240, o_linux, sizeof(o_linux));
	assert_string_equal(name_of(match_shipped(&p)), "Linux 4.19-6.x");
	p = syn4(65, true, 64240, o_linux, sizeof(o_linux));
	assert_null(match_shipped(&p));
}

static void
test_options(void **state)
{
	struct osf_db db = { 0 };
	struct osf_syn syn;
	struct pkt p;
	const struct osf_fp *fp;

	(void)state;
	/* T and T0: the same shape, two systems in pf.os. */
	p = syn4(64, true, 16384, o_bsd44, sizeof(o_bsd44));
	assert_string_equal(name_of(match_shipped(&p)), "FreeBSD 4.4");
	p = syn4(64, true, 16384, o_bsd44ts0, sizeof(o_bsd44ts0));
	assert_string_equal(name_of(match_shipped(&p)), "NetBSD 1.6 df");
	parse_syn(&p, &syn);
	assert_int_equal(syn.opt[5].kind, OSF_OPT_TS0);

	/* An option pf.os cannot name: nothing. */
	p = syn4(64, true, 64240, o_tfo, sizeof(o_tfo));
	parse_syn(&p, &syn);
	assert_true(syn.unknown_opt);
	assert_int_equal(syn.nopt, 8);
	assert_int_equal(syn.opt[5].kind, OSF_OPT_OTHER);
	assert_int_equal(syn.opt[5].val, 34);
	assert_null(match_shipped(&p));

	/* macOS's padding: one E a zero byte. */
	p = syn4(64, true, 65535, o_macos, sizeof(o_macos));
	parse_syn(&p, &syn);
	assert_int_equal(syn.nopt, 9);
	assert_int_equal(syn.opt[7].kind, OSF_OPT_EOL);
	assert_int_equal(syn.opt[8].kind, OSF_OPT_EOL);
	assert_false(syn.unknown_opt);
	/* A byte past the EOL that is not zero. */
	p.b[20 + 20 + 23] = 7;
	parse_syn(&p, &syn);
	assert_int_equal(syn.nopt, 9);
	assert_int_equal(syn.opt[8].kind, OSF_OPT_OTHER);
	assert_true(syn.unknown_opt);
	assert_null(match_shipped(&p));

	/* S and T windows want an MSS to multiply. */
	load_ok(&db, "S4:64:0:40:.:NoMSS:::\nT4:64:0:40:.:NoMTU:::\n"
	    "S4:64:0:44:M*:MSS:::\nT4:64:0:44:M*:MTU:::\n");
	p = syn4(64, false, 5840, NULL, 0);
	parse_syn(&p, &syn);
	assert_false(osf_fp_match(&db.fp[0], &syn));
	assert_false(osf_fp_match(&db.fp[1], &syn));
	p = syn4(64, false, 6000, NULL, 0);
	parse_syn(&p, &syn);
	assert_false(osf_fp_match(&db.fp[1], &syn));
	p = syn4(64, false, 5840, (const uint8_t []){ O_MSS(1460) }, 4);
	parse_syn(&p, &syn);
	assert_true(syn.has_mss);
	assert_ptr_equal(osf_match(&db, &syn), &db.fp[2]);
	p = syn4(64, false, 6000, (const uint8_t []){ O_MSS(1460) }, 4);
	parse_syn(&p, &syn);
	assert_ptr_equal(osf_match(&db, &syn), &db.fp[3]);
	osf_db_free(&db);

	/* M and W values: exact, '*', '%'. */
	load_ok(&db, "1:64:1:44:M%8:Mod:::\n1:64:1:44:M1460:Eq:::\n"
	    "1:64:1:44:M*:Any:::\n1:64:1:44:W%4,N:WMod:::\n");
	p = syn4(64, true, 1, (const uint8_t []){ O_MSS(1460) }, 4);
	assert_string_equal(name_of(osf_match(&db, (parse_syn(&p, &syn),
	    &syn))), "Eq");
	p = syn4(64, true, 1, (const uint8_t []){ O_MSS(1464) }, 4);
	assert_string_equal(name_of(osf_match(&db, (parse_syn(&p, &syn),
	    &syn))), "Mod");
	p = syn4(64, true, 1, (const uint8_t []){ O_MSS(1461) }, 4);
	assert_string_equal(name_of(osf_match(&db, (parse_syn(&p, &syn),
	    &syn))), "Any");
	p = syn4(64, true, 1, (const uint8_t []){ O_WS(8), O_N }, 4);
	assert_string_equal(name_of(osf_match(&db, (parse_syn(&p, &syn),
	    &syn))), "WMod");
	p = syn4(64, true, 1, (const uint8_t []){ O_WS(9), O_N }, 4);
	assert_null(osf_match(&db, (parse_syn(&p, &syn), &syn)));
	/* Size and DF are compared. */
	p = syn4(64, false, 1, (const uint8_t []){ O_MSS(1460) }, 4);
	assert_null(osf_match(&db, (parse_syn(&p, &syn), &syn)));
	osf_db_free(&db);

	/* An approximate line only when nothing exact matches. */
	load_ok(&db, "*:128:1:52:M*,N,W*,N,N,S:@Windows:XP:RFC1323:x\n"
	    "12345:128:1:52:M*,N,W*,N,N,S:Exact:::\n");
	p = syn4(120, true, 12345, o_win10, sizeof(o_win10));
	fp = osf_match(&db, (parse_syn(&p, &syn), &syn));
	assert_string_equal(name_of(fp), "Exact");
	p = syn4(120, true, 12346, o_win10, sizeof(o_win10));
	fp = osf_match(&db, (parse_syn(&p, &syn), &syn));
	assert_ptr_equal(fp, &db.fp[0]);
	assert_true(fp->approx);
	assert_string_equal(name_of(fp), "Windows XP RFC1323");
	osf_db_free(&db);
	/* And in the shipped files, pf.os's generic Windows lines. */
	p = syn4(120, true, 12346, o_win10, sizeof(o_win10));
	fp = match_shipped(&p);
	assert_non_null(fp);
	assert_true(fp->approx);
	assert_string_equal(name_of(fp), "Windows XP RFC1323");
}

static void
test_syn_errors(void **state)
{
	struct pkt pk[8], p;
	struct osf_syn syn;
	uint8_t *b;
	size_t n = 0;

	(void)state;
	pk[n++] = syn4(64, true, 64240, o_linux, sizeof(o_linux));
	pk[n++] = syn4(64, true, 65535, o_macos, sizeof(o_macos));
	pk[n++] = syn4(64, false, 1024, NULL, 0);
	pk[n++] = syn6(64, 64800, o_linuxv6, sizeof(o_linuxv6));
	pk[n++] = syn6(64, 65535, o_win10v6, sizeof(o_win10v6));
	/* Every truncation fails, and reads nothing past it. */
	for (size_t i = 0; i < n; i++) {
		for (size_t l = 0; l < pk[i].len; l++) {
			b = malloc(l > 0 ? l : 1);
			assert_non_null(b);
			memcpy(b, pk[i].b, l);
			assert_int_equal(osf_syn_parse(b, l, &syn, NULL, 0),
			    -1);
			free(b);
		}
		parse_syn(&pk[i], &syn);
	}

	p = syn4(64, true, 64240, o_linux, sizeof(o_linux));
	syn_err(&p, 0, "empty packet (0)");
	syn_err(&p, 19, "too short for IPv4 (19)");
	syn_err(&p, 39, "TCP header truncated (19)");
	syn_err(&p, 59, "TCP options truncated (39)");

	/* TCP_SAVED_SYN: the headers only; the size is the IP header's. */
	put16(p.b + 2, 1500);
	parse_syn(&p, &syn);
	assert_int_equal(syn.size, 1500);
	put16(p.b + 2, 39);
	syn_err(&p, p.len, "bad IPv4 total length (39)");
	put16(p.b + 2, 60);

	p.b[0] = 0x44;
	syn_err(&p, p.len, "bad IPv4 header length (16)");
	p.b[0] = 0x4f;
	syn_err(&p, p.len, "bad IPv4 total length (60)");
	syn_err(&p, 59, "IPv4 header truncated (59)");
	p.b[0] = 0x55;
	syn_err(&p, p.len, "not IPv4 or IPv6: version (5)");
	p.b[0] = 0x45;
	p.b[9] = 17;
	syn_err(&p, p.len, "not TCP: protocol (17)");
	p.b[9] = 6;
	p.b[7] = 0xb9;			/* offset 185 * 8 */
	syn_err(&p, p.len, "a fragment: offset (1480)");
	p.b[6] = 0x20;			/* MF, offset 0: the first one */
	p.b[7] = 0;
	parse_syn(&p, &syn);
	assert_false(syn.df);

	/* An IPv4 header with options: TCP after them. */
	p = syn4(64, true, 64240, o_linux, sizeof(o_linux));
	memmove(p.b + 24, p.b + 20, p.len - 20);
	memcpy(p.b + 20, "\x01\x01\x01\x00", 4);
	p.b[0] = 0x46;
	put16(p.b + 2, 64);
	p.len += 4;
	parse_syn(&p, &syn);
	assert_int_equal(syn.size, 64);
	assert_int_equal(syn.nopt, 5);

	/* Not a SYN. */
	p = syn4f(64, true, 64240, 0x12, o_linux, sizeof(o_linux));
	syn_err(&p, p.len, "not a SYN: flags (18)");
	p = syn4f(64, true, 64240, 0x10, o_linux, sizeof(o_linux));
	syn_err(&p, p.len, "not a SYN: flags (16)");
	p = syn4f(64, true, 64240, 0x04, o_linux, sizeof(o_linux));
	syn_err(&p, p.len, "not a SYN: flags (4)");
	/* SYN with FIN or PSH is still a SYN. */
	p = syn4f(64, true, 64240, 0x0b, o_linux, sizeof(o_linux));
	parse_syn(&p, &syn);

	p = syn4(64, true, 64240, o_linux, sizeof(o_linux));
	p.b[32] = 0x40;
	syn_err(&p, p.len, "bad TCP data offset (16)");
	/* Options: a length of 1, past the end, a kind with no length. */
	p = syn4(64, true, 1, (const uint8_t []){ 30, 1, 1, 1 }, 4);
	syn_err(&p, p.len, "bad TCP option length (1)");
	p = syn4(64, true, 1, (const uint8_t []){ O_MSS(1460), 1, 3, 5,
	    1 }, 8);
	syn_err(&p, p.len, "TCP option past the header: length (5)");
	p = syn4(64, true, 1, (const uint8_t []){ 1, 1, 1, 3 }, 4);
	syn_err(&p, p.len, "TCP option past the header: kind (3)");
	/* A known kind with a length it does not have: unknown. */
	p = syn4(64, true, 1, (const uint8_t []){ 2, 3, 5, 1 }, 4);
	parse_syn(&p, &syn);
	assert_true(syn.unknown_opt);
	assert_false(syn.has_mss);
	assert_int_equal(syn.opt[0].kind, OSF_OPT_OTHER);
	assert_int_equal(syn.opt[0].val, 2);
	/* 40 NOPs: the most there can be. */
	p = syn4(64, true, 1, (const uint8_t []){ [0 ... 39] = 1 }, 40);
	parse_syn(&p, &syn);
	assert_int_equal(syn.nopt, 40);
}

static void
test_format(void **state)
{
	const struct pkt pk[] = {
		syn4(60, true, 64240, o_linux, sizeof(o_linux)),
		syn4(113, true, 65535, o_xp, sizeof(o_xp)),
		syn4(52, true, 65535, o_macos, sizeof(o_macos)),
		syn4(64, true, 16384, o_openbsd, sizeof(o_openbsd)),
		syn4(64, true, 16384, o_bsd44ts0, sizeof(o_bsd44ts0)),
		syn4(49, false, 1024, NULL, 0),
		syn6(57, 64800, o_linuxv6, sizeof(o_linuxv6)),
		syn6(1, 65535, o_win10v6, sizeof(o_win10v6)),
	};
	static const char *const want[] = {
		"64240:60:1:60:M1460,S,T,N,W7",
		"65535:113:1:48:M1460,N,N,S",
		"65535:52:1:64:M1460,N,W6,N,N,T,S,E,E",
		"16384:64:1:64:M1460,N,N,S,N,W6,N,N,T",
		"16384:64:1:60:M1460,N,W0,N,N,T0",
		"1024:49:0:40:.",
		"64800:57:1:60:M1440,S,T,N,W7",
		"65535:1:1:52:M1440,N,W8,N,N,S",
	};
	struct osf_db db = { 0 };
	struct osf_syn syn;
	struct pkt p;
	char buf[256], line[300];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(pk) / sizeof(pk[0]); i++) {
		parse_syn(&pk[i], &syn);
		n = osf_syn_format(&syn, buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
		assert_int_equal(n, strlen(want[i]));
		/* Read back as a fingerprint, it is the SYN's. */
		snprintf(line, sizeof(line), "%s:Test:%zu::round trip\n", buf,
		    i);
		load_ok(&db, line);
		assert_true(osf_fp_match(&db.fp[db.n - 1], &syn));
		assert_ptr_equal(osf_match(&db, &syn), &db.fp[i]);
	}
	osf_db_free(&db);

	p = syn4(64, true, 64240, o_tfo, sizeof(o_tfo));
	parse_syn(&p, &syn);
	osf_syn_format(&syn, buf, sizeof(buf));
	assert_string_equal(buf, "64240:64:1:64:M1460,S,T,N,W7,?34,N,N");

	/* Cut short, still a string. */
	p = syn4(60, true, 64240, o_linux, sizeof(o_linux));
	parse_syn(&p, &syn);
	assert_int_equal(osf_syn_format(&syn, buf, 9), 8);
	assert_string_equal(buf, "64240:60");
	assert_int_equal(osf_syn_format(&syn, buf, 1), 0);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	assert_int_equal(osf_syn_format(&syn, buf, 0), 0);
	assert_int_equal(buf[0], 'x');
}

static void
test_name(void **state)
{
	struct osf_db db = { 0 };
	char buf[OSF_OSLEN];

	(void)state;
	load_ok(&db, "1:1:0:40:.:QNX:::\n1:1:0:40:.:Windows::SP1:\n"
	    "1:1:0:40:.:Windows:XP:SP1:\n");
	assert_int_equal(osf_name(&db.fp[0], buf, sizeof(buf)), 3);
	assert_string_equal(buf, "QNX");
	osf_name(&db.fp[1], buf, sizeof(buf));
	assert_string_equal(buf, "Windows SP1");
	assert_int_equal(osf_name(&db.fp[2], buf, sizeof(buf)), 14);
	assert_string_equal(buf, "Windows XP SP1");
	assert_int_equal(osf_name(&db.fp[2], buf, 8), 7);
	assert_string_equal(buf, "Windows");
	assert_int_equal(osf_name(&db.fp[2], buf, 10), 9);
	assert_string_equal(buf, "Windows X");
	osf_db_free(&db);
}

static void
test_kernel(void **state)
{
	struct nf_osf_user_finger f;
	struct osf_db db = { 0 };
	static const uint16_t kind[] = { 2, 4, 8, 1, 3 };
	static const uint16_t length[] = { 4, 2, 10, 1, 3 };

	(void)state;
	load_ok(&db,
	    "S44:64:1:60:M*,S,T,N,W7:\tLinux:4.19-6.x::Linux 4.19-6.x\n"
	    "*:128:1:52:M1460,N,W*,N,N,S:\t@Windows:XP:RFC1323:x\n"
	    "%8192:128:0:48:M536,N,N,S,E,T0:Windows:98::x\n"
	    "T4:64:1:60:M1412,S,T,N,W0:Linux:2.4::x\n"
	    "1024:64:0:40:.:*NMAP:syn scan:1:x\n"
	    "1024:64:0:*:.:Any size:::\n"
	    "0:64:0:48:M*,W0,N:HP-UX:B.11.00:A:x\n");

	assert_int_equal(osf_kernel_finger(&db.fp[0], &f, sizeof(f)), 0);
	assert_int_equal(f.wss.wc, OSF_WSS_MSS);
	assert_int_equal(f.wss.val, 44);
	assert_int_equal(f.ttl, 64);
	assert_int_equal(f.df, 1);
	assert_int_equal(f.ss, 60);
	assert_int_equal(f.mss, 0);
	assert_int_equal(f.opt_num, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(f.opt[i].kind, kind[i]);
		assert_int_equal(f.opt[i].length, length[i]);
		assert_int_equal(f.opt[i].wc.val, i == 4 ? 7 : 0);
	}
	assert_int_equal(f.opt[5].kind, 0);
	assert_string_equal(f.genre, "Linux");
	assert_string_equal(f.version, "4.19-6.x");
	assert_string_equal(f.subtype, "");

	assert_int_equal(osf_kernel_finger(&db.fp[1], &f, sizeof(f)), 0);
	assert_int_equal(f.wss.wc, OSF_WSS_PLAIN);
	assert_int_equal(f.wss.val, 0);
	assert_int_equal(f.mss, 1460);
	assert_int_equal(f.opt_num, 6);
	assert_int_equal(f.opt[0].wc.val, 0);
	assert_int_equal(f.opt[2].kind, 3);
	assert_int_equal(f.opt[2].wc.val, 0);
	assert_string_equal(f.genre, "Windows");
	assert_string_equal(f.version, "XP");
	assert_string_equal(f.subtype, "RFC1323");

	assert_int_equal(osf_kernel_finger(&db.fp[2], &f, sizeof(f)), 0);
	assert_int_equal(f.wss.wc, OSF_WSS_MODULO);
	assert_int_equal(f.wss.val, 8192);
	assert_int_equal(f.df, 0);
	assert_int_equal(f.mss, 536);
	assert_int_equal(f.opt[4].kind, 0);
	assert_int_equal(f.opt[4].length, 1);
	assert_int_equal(f.opt[5].kind, 8);
	assert_int_equal(f.opt[5].length, 10);

	assert_int_equal(osf_kernel_finger(&db.fp[3], &f, sizeof(f)), 0);
	assert_int_equal(f.wss.wc, OSF_WSS_MTU);
	assert_int_equal(f.wss.val, 4);
	assert_int_equal(f.mss, 1412);
	/* W0 exact is 0: "any" to a kernel that would look. */
	assert_int_equal(f.opt[4].wc.val, 0);

	assert_int_equal(osf_kernel_finger(&db.fp[4], &f, sizeof(f)), 0);
	assert_int_equal(f.wss.wc, OSF_WSS_PLAIN);
	assert_int_equal(f.wss.val, 1024);
	assert_int_equal(f.opt_num, 0);
	assert_string_equal(f.genre, "NMAP");
	assert_string_equal(f.version, "syn scan");
	assert_string_equal(f.subtype, "1");

	/* What the kernel would read otherwise. */
	assert_int_equal(osf_kernel_finger(&db.fp[5], &f, sizeof(f)), -1);
	assert_int_equal(osf_kernel_finger(&db.fp[6], &f, sizeof(f)), -1);
	assert_int_equal(osf_kernel_finger(&db.fp[0], &f, sizeof(f) - 1), -1);
	osf_db_free(&db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_match_ipv4),
		cmocka_unit_test(test_match_ipv6),
		cmocka_unit_test(test_captured),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_syn_errors),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
