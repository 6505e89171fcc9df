/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * conn: one SMTP worker connection, its state, and its I/O layer:
 * plaintext or TLS reading and writing, the stutter's one-byte writes,
 * and the STARTTLS handshake stepped through src/lib/tls.
 *
 * Functions that may close the connection say so; after a close the
 * struct stays valid until the loop runs its close callback, but the
 * caller must not touch it beyond returning.
 */
#ifndef NFS_CONN_H
#define NFS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "addr.h"
#include "buf.h"
#include "smtp.h"
#include "tls.h"
#include "wheel.h"

/*
 * Where a connection is.  The dialogue runs in CONN_SMTP or CONN_TLS;
 * STARTTLS leads from CONN_SMTP through CONN_STARTTLS (the 220 goes
 * out) and CONN_HANDSHAKE to CONN_TLS, or back to plaintext in
 * CONN_QUIT when the handshake fails.  When the dialogue is over the
 * pending output goes out (over TLS followed by close_notify), then
 * CONN_LINGER drains input after the FIN until the connection closes.
 * A connection from a --proxy-from network begins in CONN_PROXY, which
 * reads the load balancer's PROXY header before anything else; then it
 * is classified under the address the header names and greeted.
 */
enum conn_state {
	CONN_SMTP,	/* plaintext dialogue */
	CONN_STARTTLS,	/* STARTTLS answered: the 220 is going out */
	CONN_HANDSHAKE,
	CONN_TLS,	/* everything goes through c->tls */
	CONN_QUIT,	/* plaintext: close after output */
	CONN_TLS_QUIT,	/* TLS: output, then close_notify */
	CONN_TLS_BYE,	/* close_notify made: close after output */
	CONN_LINGER,	/* FIN sent, draining input */
	CONN_CLOSED,	/* the handle is being closed */
	CONN_PROXY,	/* reading the PROXY header: not yet greeted */
};

struct worker;
struct rep_q;
struct osf_fp;

struct conn {
	uv_tcp_t		 tcp;		/* first: handle <-> conn */
	struct worker		*w;
	struct conn		*next, *prev;	/* all connections */
	struct wheel_node	 tick;		/* on the stutter wheel */
	struct smtp		 smtp;
	struct buf		 out;		/* reply being sent (plaintext) */
	struct buf		 cout;		/* TLS records not yet sent */
	struct tls_conn		*tls;
	uint64_t		 hs_since;	/* handshake start, loop ms */
	char			*in;		/* unconsumed input */
	uint16_t		 inlen;
	uint8_t			 state;		/* enum conn_state */
	uint8_t			 class;		/* enum ws_class */
	struct addr		 addr;
	struct addr		 proxy;		/* --proxy-from: the proxy's;
						   family 0: not proxied */
	int64_t			 start;		/* wall clock, seconds */
	uint64_t		 since;		/* last progress, loop ms */
	uint64_t		 since0;	/* accepted, loop ms */
	char			*blackreply;	/* built when first needed */
	uint32_t		 blackreplylen;
	bool			 black;		/* blacklisted or trapped */
	bool			 trapped;
	bool			 stutter;	/* this connection is stuttered */
	bool			 stuttered;	/* it was, from the start */
	bool			 reading;	/* uv_read_start in effect */
	bool			 lowprio;	/* reached the -M address */
	bool			 held_due;	/* the wheel came while held */
	bool			 handle_closed;	/* uv_close's callback ran */
	uint16_t		 inflight;	/* tuples not yet committed */
	bool			 dnsrep;	/* black: listed by --dnsrep */
	bool			 osf;		/* black: came to the OS
						   tarpit's port */
	const struct osf_fp	*os;		/* its SYN's fingerprint, or
						   NULL: unknown */
	struct rep_q		*rep;		/* its --dnsrep lookup: the
						   banner waits */
};

/* The connection a wheel node is embedded in. */
static inline struct conn *
conn_of(struct wheel_node *n)
{
	return (struct conn *)(void *)((char *)n - offsetof(struct conn, tick));
}

/* In the dialogue: input goes to the SMTP engine. */
static inline bool
conn_talking(const struct conn *c)
{
	return c->state == CONN_SMTP || c->state == CONN_TLS;
}

/* A TLS session was established (and may have ended since). */
static inline bool
conn_tls_up(const struct conn *c)
{
	return c->tls != NULL && c->state != CONN_HANDSHAKE;
}

const char	*conn_ip(const struct conn *, char *, size_t);

/* Whether replies are stuttered now; a grey client's stutter ends. */
bool	conn_stuttering(struct conn *);

/* Start or stop reading from the socket. */
void	conn_reading(struct conn *, bool);

/*
 * Send pending output (see conn.c for the stutter's share).  1: output
 * remains; 0: drained; -1: the connection was closed.
 */
int	conn_write(struct conn *);

/* Received plaintext into c->in.  -1: out of memory (not closed). */
int	conn_append(struct conn *, const char *, size_t);

/* Decrypted input into c->in.  -1: session over, broken or out of
   memory (not closed). */
int	conn_tls_pull(struct conn *);

/* Move the records OpenSSL made to cout.  -1: out of memory. */
int	conn_tls_flush(struct conn *);

/* The 220 is out: start the handshake.  -1: closed. */
int	conn_tls_begin(struct conn *);

/* The handshake with what has arrived.  -1: closed. */
int	conn_tls_step(struct conn *);

/* The dialogue is over: FIN, then drain input; may close. */
void	conn_linger(struct conn *);

#endif
