/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * smtp: spamd's fake SMTP dialogue as a pure state machine.
 *
 * Bytes in, reply bytes and events out; no sockets, no clock (the banner
 * takes the time as a parameter).  The caller sends each reply (stuttered
 * or not) before feeding more input, so one connection's memory stays
 * bounded whatever the client sends: smtp_input consumes lines only up to
 * and including the first one that produces a reply.
 *
 * Replies end in CRLF.  Input lines may end in LF or CRLF.
 */
#ifndef NFS_SMTP_H
#define NFS_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define SMTP_LINEMAX	1024	/* longest input line, LF included */
#define SMTP_FIELDMAX	256	/* longest HELO/MAIL/RCPT argument kept */
#define SMTP_MAXBAD	20	/* unrecognized commands before we hang up */
#define SMTP_DATALINES	10	/* body lines read from a blacklisted client */

#define SMTP_GREY_REPLY	"451 Temporary failure, please try again later.\r\n"

struct smtp_conf {
	const char	*hostname;	/* -h: in 220, 221 and EHLO replies */
	const char	*name;		/* -n: banner text */
	size_t		 linemax;	/* 0: SMTP_LINEMAX */
	unsigned	 maxbad;	/* 0: SMTP_MAXBAD */
	bool		 tls;		/* -C/-K: STARTTLS may be offered */
};

/* Per connection; keep it small, there may be 100,000 of them. */
struct smtp {
	uint8_t		 state;
	uint8_t		 laststate;
	bool		 black;		/* blacklisted or trapped */
	bool		 body;		/* DATA: past the header block */
	bool		 notls;		/* the caller says: do not offer
					   STARTTLS (too many handshakes) */
	bool		 offered;	/* the last reply offered STARTTLS */
	bool		 tls;		/* the dialogue runs over TLS */
	uint16_t	 bad;		/* unrecognized commands so far */
	uint16_t	 datalines;	/* DATA: body lines read */
	char		*helo;		/* NULL until a HELO/EHLO argument */
	char		*from;		/* NULL until a MAIL argument */
};

enum smtp_event_type {
	SMTP_EV_TUPLE,		/* RCPT with MAIL and RCPT both non-empty,
				   from a client that is not black */
	SMTP_EV_RCPT,		/* every RCPT with an argument (for -v) */
	SMTP_EV_HEADER,		/* DATA: a From:, To: or Subject: header */
	SMTP_EV_BODY,		/* DATA: a non-empty body line (for -v) */
};

struct smtp_event {
	enum smtp_event_type	 type;
	const char		*helo;	/* "" when the client sent none */
	const char		*from;
	const char		*to;
	const char		*line;	/* HEADER, BODY: the line, no EOL */
	size_t			 linelen;
};

typedef void	(*smtp_event_fn)(void *arg, const struct smtp_event *);

/* Where smtp_input puts its results. */
struct smtp_out {
	struct buf	*reply;		/* reply bytes are appended here */
	smtp_event_fn	 event;		/* may be NULL */
	void		*arg;
	/*
	 * The final reply for a black client (the blacklist message lines,
	 * already formatted with codes and CRLF); unused for grey clients,
	 * whose final reply is SMTP_GREY_REPLY.
	 */
	const char	*blackreply;
	size_t		 blackreplylen;
};

enum smtp_status {
	SMTP_MORE,	/* send the reply (if any), then feed more input */
	SMTP_CLOSE,	/* send the reply, then close the connection */
	SMTP_ERROR,	/* out of memory: close at once */
	SMTP_STARTTLS,	/* send the 220, drop any input after the STARTTLS
			   line (RFC 3207: it was sent in the clear), then
			   do the handshake and call smtp_tls_started */
};

void	smtp_init(struct smtp *, bool black);
void	smtp_free(struct smtp *);	/* releases helo/from */

/*
 * STARTTLS (as in spamd): an EHLO from a client that is not black,
 * with conf->tls and neither notls nor TLS already, gets
 * "250-<hostname>", "250-8BITMIME", "250-SMTPUTF8", "250 STARTTLS"; the
 * STARTTLS right after it gets the 220 and SMTP_STARTTLS.  Anywhere
 * else STARTTLS is an unrecognized command.  After the handshake the
 * dialogue starts again at HELO/EHLO, over TLS, with nothing kept.
 */
#define SMTP_STARTTLS_REPLY \
	"220 glad you want to burn more CPU cycles on your spam\r\n"
void	smtp_tls_started(struct smtp *);

/* "220 <hostname> ESMTP <name>; <ctime without newline>\r\n" */
int	smtp_banner(const struct smtp_conf *, time_t now, struct buf *out);

/*
 * Feed input.  Consumes complete lines from in[0..len) until one of them
 * produces a reply or ends the dialogue, and sets *used to the bytes
 * consumed; unconsumed bytes are the caller's to feed again later (with
 * more input appended).  A line longer than linemax gets
 * "500 5.5.1 Line too long" and SMTP_CLOSE (a body line in DATA is just
 * consumed in pieces).  A line holding a NUL byte is an unrecognized
 * command.
 */
enum smtp_status
	smtp_input(struct smtp *, const struct smtp_conf *, const char *in,
	    size_t len, size_t *used, const struct smtp_out *);

#endif
