/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * policy: the server's side of Postfix's SMTP access policy delegation
 * protocol (SMTPD_POLICY_README), for nfspamd-policy.  Pure: bytes in,
 * requests out, answers into buffers.
 *
 * A request is a run of "name=value" lines, each ended by a newline,
 * and ends with an empty line; the answer is "action=..." and an empty
 * line; one connection carries any number of requests, one after the
 * other.  The reader takes the bytes as they come, in pieces of any
 * size, and yields each request once its empty line is in.  It keeps
 * the attributes nfspamd-policy uses and skips the others; a name sent
 * twice keeps its last value.  A carriage return before a newline is
 * dropped (a person typing at the socket).
 *
 * What is an error, after which the connection is of no further use
 * (Postfix's rule: on trouble, log and hang up, never answer):
 *  - a line without '=', or with nothing before it;
 *  - a NUL byte;
 *  - a line longer than POLICY_LINEMAX bytes, its newline aside;
 *  - a request longer than POLICY_REQMAX bytes, newlines and the empty
 *    line counted, or of more than POLICY_ATTRMAX attributes;
 *  - a value of one of the kept attributes longer than POLICY_VALMAX
 *    bytes (Postfix never sends one: its names are DNS names, the rest
 *    are shorter);
 *  - an empty line before any attribute.
 */
#ifndef NFS_POLICY_H
#define NFS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define POLICY_LINEMAX		4096
#define POLICY_REQMAX		(64 * 1024)
#define POLICY_ATTRMAX		256
#define POLICY_VALMAX		255
#define POLICY_ERRMAX		256

/* The header's name: RFC 5322 ftext, 1 to POLICY_HEADERMAX bytes. */
#define POLICY_HEADER_DEFAULT	"X-OS-Fingerprint"
#define POLICY_HEADERMAX	64
/* An operating system's name in a header is cut to this many bytes. */
#define POLICY_OSMAX		96
/* Any answer, its NUL included, fits in this. */
#define POLICY_ANSWERMAX	(sizeof("action=PREPEND : \n\n") + \
				    POLICY_HEADERMAX + POLICY_OSMAX)

enum policy_attr {
	POLICY_REQUEST,		/* request */
	POLICY_STATE,		/* protocol_state */
	POLICY_ADDRESS,		/* client_address */
	POLICY_NAME,		/* client_name */
	POLICY_INSTANCE,	/* instance */
	POLICY_NATTR
};

/* One request: each kept value NUL-terminated, "" when not sent. */
struct policy_req {
	char		 val[POLICY_NATTR][POLICY_VALMAX + 1];
	bool		 sent[POLICY_NATTR];
	unsigned	 nattr;		/* attribute lines, all names */
	size_t		 size;		/* bytes, with the empty line */
};

struct policy_reader {
	char		 line[POLICY_LINEMAX + 1];
	size_t		 linelen;
	unsigned long	 lineno;	/* lines ended so far */
	unsigned long	 nreq;		/* requests yielded */
	bool		 yielded;	/* req is whole (and was given) */
	bool		 failed;
	struct policy_req req;
	char		 err[POLICY_ERRMAX];
};

/* The attribute's name on the wire ("client_address", say). */
const char	*policy_attr_name(enum policy_attr);

void	policy_reader_init(struct policy_reader *);

/*
 * Give the reader len more bytes of the connection.  Returns
 *   1  a request is complete: it is in r->req until the next call, and
 *      *used bytes of buf were taken (call again with the rest);
 *   0  every byte was taken, no request is complete yet;
 *  -1  the bytes break the protocol: r->err says how, naming the line
 *      and the attribute; every later call returns -1 again.
 */
int	policy_feed(struct policy_reader *, const void *buf, size_t len,
	    size_t *used);

/* Is the reader inside a request (bytes taken since the last one)? */
bool	policy_pending(const struct policy_reader *);

/*
 * Does req want an answer from us: request=smtpd_access_policy, in a
 * protocol state where Postfix may still prepend a header (any but
 * END-OF-MESSAGE, VRFY and ETRN; none sent counts as one)?
 */
bool	policy_asks(const struct policy_req *);

/* Is name a header field name (RFC 5322 ftext)?  If not, *why says. */
bool	policy_header_ok(const char *name, const char **why);

/*
 * os made fit for a header's value: every byte outside printable ASCII
 * (and a tab) becomes '?', blanks at either end go, and the rest is cut
 * to POLICY_OSMAX bytes.  Writes into buf (at least POLICY_OSMAX + 1
 * bytes, or it is cut shorter) and returns the length, 0 for nothing
 * (os NULL, empty or blank).
 */
size_t	policy_sanitize(const char *os, char *buf, size_t len);

/*
 * The answer to req when the client's operating system is os (NULL:
 * unknown): "action=PREPEND <header>: <os>\n\n" when policy_asks(req),
 * header is a good name and os sanitizes to something, otherwise
 * "action=DUNNO\n\n".  Writes into buf, NUL-terminated, and returns the
 * length; 0 (and buf empty) when len is below POLICY_ANSWERMAX.
 */
size_t	policy_answer(const struct policy_req *, const char *header,
	    const char *os, char *buf, size_t len);

#endif
