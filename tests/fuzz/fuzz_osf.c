/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for osf: fingerprint files and SYNs.  Byte 0, bit
 * 0, is the mode:
 *
 *  0  the rest is a fingerprint file: osf_db_load_buf, then a few fixed
 *     SYNs matched against what was loaded, and each fingerprint said
 *     to the kernel (osf_kernel_finger).
 *  1  the rest is a SYN from its IP header on: osf_syn_parse, matched
 *     against a small db built once from embedded lines, written out
 *     with osf_syn_format and that line read back as a fingerprint.
 *
 * Invariants: a load either succeeds or says "fuzz:line: ..." and
 * keeps at most the fingerprints of the lines before; every fingerprint
 * has a genre, NUL-terminated names, at most OSF_MAXOPT options, a TTL
 * of 1 or more and no zero divisor; what osf_match returns matches, an
 * exact one before an approximate one; a SYN parsed has at most
 * OSF_MAXOPT options, and its formatted line, with a genre appended,
 * loads and matches the SYN, unless the SYN has an option pf.os cannot
 * name (then nothing matches it) or a TTL of 0: then the line is
 * refused.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nfnetlink_osf.h>

#include "fuzz.h"
#include "osf.h"

static const char lines[] =
    "S44:64:1:60:M*,S,T,N,W7:\tLinux:4.19-6.x::Linux 4.19-6.x\n"
    "S45:64:1:60:M*,S,T,N,W10:\tLinux:4.19-6.x::Linux 4.19-6.x\n"
    "64240:128:1:52:M*,N,W8,N,N,S:\tWindows:10-11::Windows 10-11\n"
    "65535:64:1:64:M*,N,W6,N,N,T,S,E,E:\tMacOS:10.x-15::macOS\n"
    "16384:64:1:64:M*,N,N,S,N,W6,N,N,T:\tOpenBSD:6-7::OpenBSD 6-7\n"
    "16384:64:1:60:M*,N,W0,N,N,T0:\tNetBSD:1.6:df:NetBSD 1.6 (DF)\n"
    "T4:64:1:60:M1412,S,T,N,W0:\tLinux:2.4::Linux 2.4 (late)\n"
    "%8192:128:1:48:M536,N,N,S:\tWindows:98::Windows 98\n"
    "65535:64:0:64:M1460,N,N,S,N,W*,N,N,T:\tNetApp:5.3-5.5::NetApp\n"
    "1024:64:0:40:.:\t*NMAP:syn scan:1:NMAP syn scan (1)\n"
    "*:128:1:52:M*,N,W%2,N,N,S:\t@Windows:XP:RFC1323:generic\n"
    "*:128:1:48:M*,N,N,S:\t@Windows:XP::Windows XP/2000\n"
    "*:64:1:*:M%4,S,T,N,W*:\t@Linux:any::Linux, any size\n";

static struct osf_db	small;

static void
setup(void)
{
	char err[256];

	if (small.n > 0)
		return;
	if (osf_db_load_buf(&small, "embedded", lines, sizeof(lines) - 1,
	    err, sizeof(err)) != 0)
		abort();
}

static void
check_fp(const struct osf_fp *fp)
{
	uint8_t kf[sizeof(struct nf_osf_user_finger)];
	const struct nf_osf_user_finger *f = (const void *)kf;
	char name[OSF_OSLEN];

	CHECK(fp->genre[0] != '\0');
	CHECK(memchr(fp->genre, '\0', sizeof(fp->genre)) != NULL);
	CHECK(memchr(fp->version, '\0', sizeof(fp->version)) != NULL);
	CHECK(memchr(fp->subtype, '\0', sizeof(fp->subtype)) != NULL);
	CHECK(memchr(fp->desc, '\0', sizeof(fp->desc)) != NULL);
	CHECK(fp->nopt <= OSF_MAXOPT);
	CHECK(fp->ttl >= 1);
	CHECK(fp->wcmp <= OSF_MTU);
	CHECK(fp->wcmp == OSF_EQ || fp->wcmp == OSF_ANY || fp->wval > 0);
	CHECK(!(fp->approx && fp->scanner));
	for (size_t i = 0; i < fp->nopt; i++) {
		CHECK(fp->opt[i].kind < OSF_OPT_OTHER);
		CHECK(fp->opt[i].cmp != OSF_MOD || fp->opt[i].val > 0);
	}
	CHECK(osf_name(fp, name, sizeof(name)) == strlen(name));
	if (osf_kernel_finger(fp, kf, sizeof(kf)) == 0) {
		CHECK(!fp->anysize && f->ss == fp->size);
		CHECK(f->opt_num == fp->nopt && f->ttl == fp->ttl);
		CHECK(strcmp(f->genre, fp->genre) == 0);
		CHECK(f->wss.wc < OSF_WSS_MAX);
	} else
		CHECK(fp->anysize || (fp->wcmp == OSF_EQ && fp->wval == 0));
	CHECK(osf_kernel_finger(fp, kf, sizeof(kf) - 1) == -1);
}

static void
check_match(const struct osf_db *db, const struct osf_syn *syn)
{
	const struct osf_fp *m = osf_match(db, syn);
	size_t i;

	if (m == NULL) {
		for (i = 0; i < db->n; i++)
			CHECK(!osf_fp_match(&db->fp[i], syn));
		return;
	}
	CHECK(!syn->unknown_opt);
	CHECK(osf_fp_match(m, syn));
	/* Nothing exact before it; nothing exact at all if approximate. */
	for (i = 0; &db->fp[i] != m; i++)
		CHECK(db->fp[i].approx || !osf_fp_match(&db->fp[i], syn));
	if (m->approx)
		for (; i < db->n; i++)
			CHECK(db->fp[i].approx ||
			    !osf_fp_match(&db->fp[i], syn));
}

/* Linux's SYN, and an IPv6 one. */
static const uint8_t fixed4[] =
    "\x45\x00\x00\x3c\x94\x26\x40\x00\x40\x06\x91\xcd"
    "\x0a\x63\x00\x01\x0a\x63\x00\x02\xac\x34\x00\x09"
    "\xfc\x9e\x34\xa1\x00\x00\x00\x00\xa0\x02\xfa\xf0"
    "\x14\xf7\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a"
    "\xaf\xde\x05\xc8\x00\x00\x00\x00\x01\x03\x03\x07";
static const uint8_t fixed6[] =
    "\x60\x03\x01\x37\x00\x20\x06\x78\xfd\x99\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
    "\xfd\x99\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x02\x84\x72\x00\x09\xbf\x56\x20\xab"
    "\x00\x00\x00\x00\x80\x02\xfa\xf0\xfb\x64\x00\x00"
    "\x02\x04\x05\xb4\x01\x03\x03\x08\x01\x01\x04\x02";

static void
file(const uint8_t *p, size_t len)
{
	struct osf_db db = { 0 };
	struct osf_syn syn;
	char err[256];
	int rc;

	err[0] = '\0';
	rc = osf_db_load_buf(&db, "fuzz", (const char *)p, len, err,
	    sizeof(err));
	CHECK(rc == 0 || rc == -1);
	if (rc == -1)
		CHECK(strncmp(err, "fuzz:", 5) == 0);
	/* The shortest line: "1:1:0:*:.:a:::\n". */
	CHECK(db.n <= db.cap && db.n * 15 <= len + 1);
	for (size_t i = 0; i < db.n; i++) {
		check_fp(&db.fp[i]);
		CHECK(i == 0 || db.fp[i].line > db.fp[i - 1].line);
	}
	CHECK(osf_syn_parse(fixed4, sizeof(fixed4) - 1, &syn, err,
	    sizeof(err)) == 0);
	check_match(&db, &syn);
	CHECK(osf_syn_parse(fixed6, sizeof(fixed6) - 1, &syn, err,
	    sizeof(err)) == 0);
	check_match(&db, &syn);
	osf_db_free(&db);
}

static void
syn(const uint8_t *p, size_t len)
{
	struct osf_syn s;
	struct osf_db back = { 0 };
	char err[256], line[512];
	size_t n;
	int rc;

	err[0] = '\0';
	if (osf_syn_parse(p, len, &s, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(s.family == 4 || s.family == 6);
	CHECK(s.nopt <= OSF_MAXOPT);
	CHECK(s.size >= 40);
	for (size_t i = 0; i < s.nopt; i++)
		CHECK(s.opt[i].kind <= OSF_OPT_OTHER &&
		    (s.opt[i].kind == OSF_OPT_OTHER) <= s.unknown_opt);
	check_match(&small, &s);
	for (size_t i = 0; i < small.n; i++)
		check_fp(&small.fp[i]);

	n = osf_syn_format(&s, line, sizeof(line) - 16);
	CHECK(n == strlen(line) && n < sizeof(line) - 16);
	memcpy(line + n, ":Fuzz:::\n", 10);
	rc = osf_db_load_buf(&back, "fuzz", line, n + 9, err, sizeof(err));
	if (s.unknown_opt || s.ttl == 0)
		CHECK(rc == -1 && back.n == 0);
	else {
		CHECK(rc == 0 && back.n == 1);
		CHECK(osf_fp_match(&back.fp[0], &s));
		CHECK(osf_match(&back, &s) == &back.fp[0]);
	}
	osf_db_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	if (data[0] & 1)
		syn(data + 1, size - 1);
	else
		file(data + 1, size - 1);
	return 0;
}
