/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * osf: passive operating system fingerprints.  The fingerprint files are
 * in OpenBSD's pf.os format ("window:ttl:df:size:options:genre:version:
 * subtype:description", one a line); a SYN is what the kernel saved of it
 * (TCP_SAVED_SYN: the IPv4 or IPv6 header, then the TCP header with its
 * options) or what NFLOG copied.  Matching follows pf: the first exact
 * fingerprint that matches, in load order, else the first approximate
 * ("@genre") one.  Pure: no I/O but osf_db_load's reading of a file.
 *
 * The same fingerprints, encoded as the kernel's nfnetlink_osf wants
 * them (osf_kernel_finger), let nft's "osf" expression see what we see.
 */
#ifndef NFS_OSF_H
#define NFS_OSF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSF_NAMELEN	32	/* genre, version, subtype: the kernel's */
#define OSF_DESCLEN	80
#define OSF_MAXOPT	40	/* TCP options: 40 bytes, so 40 at most */
#define OSF_MAXTTLDIST	40	/* hops a SYN may have travelled (pf's) */
#define OSF_OSLEN	(3 * OSF_NAMELEN)	/* "genre version subtype" */

/* How a fingerprint's value (window, MSS, window scale) is compared. */
enum osf_cmp {
	OSF_ANY,		/* '*' */
	OSF_EQ,			/* nnn */
	OSF_MOD,		/* %nnn: a multiple of nnn */
	OSF_MSS,		/* Snn: the window is nn times the MSS */
	OSF_MTU			/* Tnn: the window is nn times (MSS + 40) */
};

enum osf_optkind {
	OSF_OPT_EOL,		/* E */
	OSF_OPT_NOP,		/* N */
	OSF_OPT_MSS,		/* Mnnn */
	OSF_OPT_WS,		/* Wnnn */
	OSF_OPT_SACKOK,		/* S */
	OSF_OPT_TS,		/* T: a timestamp, not zero */
	OSF_OPT_TS0,		/* T0: a zero timestamp */
	OSF_OPT_OTHER		/* in a SYN only: a kind pf.os cannot name
				   (val: the byte), "?nnn" */
};

struct osf_opt {
	uint8_t		kind;		/* enum osf_optkind */
	uint8_t		cmp;		/* enum osf_cmp (MSS and WS) */
	uint32_t	val;
};

struct osf_fp {
	uint8_t		wcmp;		/* enum osf_cmp */
	uint32_t	wval;
	uint8_t		ttl;		/* initial TTL */
	bool		df;
	bool		anysize;	/* size '*' */
	uint16_t	size;		/* the SYN's IP total length */
	uint8_t		nopt;
	struct osf_opt	opt[OSF_MAXOPT];
	bool		approx;		/* "@genre": a group's catch-all */
	bool		scanner;	/* "*genre": a scanner's stack */
	char		genre[OSF_NAMELEN];	/* without '@' or '*' */
	char		version[OSF_NAMELEN];
	char		subtype[OSF_NAMELEN];
	char		desc[OSF_DESCLEN];
	unsigned	line;		/* where it was read */
};

struct osf_db {
	struct osf_fp	*fp;
	size_t		 n, cap;
};

/*
 * Add the fingerprints of one file's text to db; name is what errors
 * call it.  A malformed line stops the load: -1, and err says
 * "name:line: what (the value)"; db keeps the lines before it.  Blank
 * lines and '#' comments are skipped.  -1 also without memory.
 */
int	osf_db_load_buf(struct osf_db *, const char *name, const char *buf,
	    size_t len, char *err, size_t errlen);
/* The same for a file (at most 1 MiB); errors name the path. */
int	osf_db_load(struct osf_db *, const char *path, char *err,
	    size_t errlen);
void	osf_db_free(struct osf_db *);

/* What fingerprinting looks at in a SYN. */
struct osf_syn {
	int		family;		/* 4 or 6 */
	uint8_t		ttl;		/* IPv6: the hop limit */
	bool		df;		/* IPv6: always set (pf's rule) */
	uint16_t	size;		/* IPv4 total length; IPv6: the TCP
					   header's length + 20, as pf */
	uint16_t	window;
	bool		has_mss;
	uint16_t	mss;
	uint8_t		nopt;
	struct osf_opt	opt[OSF_MAXOPT];	/* kind and val as seen
						   (cmp OSF_EQ) */
	bool		unknown_opt;	/* an option pf.os cannot name */
};

/*
 * Parse a SYN from its IP header on: 0, or -1 with the reason in err (too
 * short, not TCP, not a SYN, a TCP option that runs past the header).
 * IPv6 extension headers before TCP are skipped.
 */
int	osf_syn_parse(const void *pkt, size_t len, struct osf_syn *,
	    char *err, size_t errlen);

/* Does fp describe syn?  The rules of the file's header comment. */
bool	osf_fp_match(const struct osf_fp *, const struct osf_syn *);
/* The fingerprint for syn (see the top), or NULL: unknown. */
const struct osf_fp *osf_match(const struct osf_db *,
	    const struct osf_syn *);
/*
 * fp's name: "genre version subtype", the empty parts left out
 * ("Windows XP SP1", "Linux 2.6"); always NUL-terminated.  Its length.
 */
size_t	osf_name(const struct osf_fp *, char *buf, size_t len);

/* The SYN written back as a pf.os line, for logs and new fingerprints:
 * "64240:64:1:60:M1460,S,T,N,W7" (the window as a number, the TTL as
 * seen).  Its length; always NUL-terminated. */
size_t	osf_syn_format(const struct osf_syn *, char *buf, size_t len);

/*
 * fp as struct nf_osf_user_finger (linux/netfilter/nfnetlink_osf.h),
 * into out, which must hold that struct.  The kernel compares less than
 * we do: sizes exactly, MSS values not at all, option values only when
 * not zero.  -1 if fp cannot be said to the kernel (a '*' size).
 */
int	osf_kernel_finger(const struct osf_fp *, void *out, size_t outlen);

#endif
