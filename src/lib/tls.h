/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * tls: the server side of STARTTLS for nfspamd's workers, with no
 * sockets: OpenSSL reads and writes memory BIOs, and the caller moves the
 * bytes between them and the network (the libuv loop).  The SMTP engine
 * then sees plaintext, as without TLS.
 *
 * The context: one certificate and key (-C/-K), TLS 1.2 and 1.3 only,
 * no server-side session tickets or cache (a tarpit keeps no state for
 * spammers), reloadable so a renewed certificate needs no restart.
 */
#ifndef NFS_TLS_H
#define NFS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tls_server;
struct tls_conn;

/*
 * Load certfile (a PEM chain) and keyfile.  -1 with err naming the file
 * that cannot be read or parsed, or saying that the key does not match
 * the certificate.
 */
int	tls_server_new(struct tls_server **, const char *certfile,
	    const char *keyfile, char *err, size_t errlen);
/*
 * Load them again (SIGHUP).  On error the old ones stay in use and err
 * says why.  Connections already open keep what they started with.
 */
int	tls_server_reload(struct tls_server *, const char *certfile,
	    const char *keyfile, char *err, size_t errlen);
void	tls_server_free(struct tls_server *);

enum tls_status {
	TLS_WANT,	/* more input needed (send what tls_conn_output has) */
	TLS_DONE,	/* handshake complete */
	TLS_FAIL,	/* handshake failed or the peer broke the session */
};

/* NULL when memory runs out. */
struct tls_conn	*tls_conn_new(struct tls_server *);
void		 tls_conn_free(struct tls_conn *);

/* Ciphertext from the network.  -1 when memory runs out. */
int		 tls_conn_input(struct tls_conn *, const void *, size_t);
/* Drive the handshake; with TLS_FAIL, why says what went wrong. */
enum tls_status	 tls_conn_handshake(struct tls_conn *, char *why,
		    size_t whylen);
/*
 * After the handshake: plaintext received so far (0: none yet; -1: the
 * peer closed or broke the session, why says which).
 */
ssize_t		 tls_conn_read(struct tls_conn *, void *, size_t,
		    char *why, size_t whylen);
/* Plaintext to send; -1 on error. */
int		 tls_conn_write(struct tls_conn *, const void *, size_t);
/* Ciphertext waiting to go to the network: copies up to len bytes. */
size_t		 tls_conn_output(struct tls_conn *, void *, size_t len);
size_t		 tls_conn_output_pending(struct tls_conn *);
/* Queue a close_notify (then send tls_conn_output); -1 on error. */
int		 tls_conn_shutdown(struct tls_conn *);
/* "TLSv1.3" and the like, once the handshake is done. */
const char	*tls_conn_version(const struct tls_conn *);

#endif
