/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * tls: STARTTLS over memory BIOs.  See tls.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"
#include "util.h"

struct tls_server {
	SSL_CTX		*ctx;
};

struct tls_conn {
	SSL		*ssl;
	BIO		*in;		/* network -> OpenSSL */
	BIO		*out;		/* OpenSSL -> network */
	bool		 compacted;
};

/* The first error OpenSSL queued, as text; the queue is emptied. */
static const char *
ossl_why(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static SSL_CTX *
ctx_load(const char *certfile, const char *keyfile, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char why[256];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		util_seterr(err, errlen, "TLS: %s", ossl_why(why,
		    sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Nothing kept between connections: no tickets, no cache. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Idle connections are the norm in a tarpit: no 34 KB of record
	   buffers each while nothing is being read or written. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) {
		util_seterr(err, errlen, "-C %s: %s", certfile,
		    ossl_why(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH) {
		util_seterr(err, errlen, "-K %s: %s", keyfile,
		    ossl_why(why, sizeof(why)));
		goto fail;
	}
	/* OpenSSL checks the pair when it loads the key, or here. */
	if (ERR_peek_error() != 0 || SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		util_seterr(err, errlen, "-K %s does not match the "
		    "certificate in -C %s", keyfile, certfile);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_server_new(struct tls_server **out, const char *certfile,
    const char *keyfile, char *err, size_t errlen)
{
	struct tls_server *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if ((s->ctx = ctx_load(certfile, keyfile, err, errlen)) == NULL) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
tls_server_reload(struct tls_server *s, const char *certfile,
    const char *keyfile, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = ctx_load(certfile, keyfile, err, errlen)) == NULL)
		return -1;
	/* Open connections hold their own reference to the old one. */
	SSL_CTX_free(s->ctx);
	s->ctx = ctx;
	return 0;
}

void
tls_server_free(struct tls_server *s)
{
	if (s == NULL)
		return;
	SSL_CTX_free(s->ctx);
	free(s);
}

struct tls_conn *
tls_conn_new(struct tls_server *s)
{
	struct tls_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->ssl = SSL_new(s->ctx)) == NULL ||
	    (c->in = BIO_new(BIO_s_mem())) == NULL ||
	    (c->out = BIO_new(BIO_s_mem())) == NULL) {
		BIO_free(c->in);
		BIO_free(c->out);
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return NULL;
	}
	/* An empty input BIO means "wait", not end of file. */
	BIO_set_mem_eof_return(c->in, -1);
	SSL_set_bio(c->ssl, c->in, c->out);	/* the SSL owns them now */
	SSL_set_accept_state(c->ssl);
	return c;
}

void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c);
}

int
tls_conn_input(struct tls_conn *c, const void *p, size_t n)
{
	while (n > 0) {
		int chunk = n > 65536 ? 65536 : (int)n;
		int w = BIO_write(c->in, p, chunk);

		if (w <= 0)
			return -1;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/* What an SSL call's failure means. */
static enum tls_status
failure(struct tls_conn *c, int rc, char *why, size_t whylen)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(why, whylen, "closed by the peer");
		return TLS_FAIL;
	default:
		ossl_why(why, whylen);
		return TLS_FAIL;
	}
}

enum tls_status
tls_conn_handshake(struct tls_conn *c, char *why, size_t whylen)
{
	int rc;

	ERR_clear_error();
	if ((rc = SSL_do_handshake(c->ssl)) == 1)
		return TLS_DONE;
	return failure(c, rc, why, whylen);
}

ssize_t
tls_conn_read(struct tls_conn *c, void *p, size_t len, char *why,
    size_t whylen)
{
	size_t got = 0;
	int rc;

	ERR_clear_error();
	if ((rc = SSL_read_ex(c->ssl, p, len, &got)) == 1)
		return (ssize_t)got;
	return failure(c, rc, why, whylen) == TLS_WANT ? 0 : -1;
}

int
tls_conn_write(struct tls_conn *c, const void *p, size_t len)
{
	size_t done = 0;

	ERR_clear_error();
	/* Memory BIOs take everything: one call writes it all. */
	if (len > 0 && SSL_write_ex(c->ssl, p, len, &done) != 1) {
		ERR_clear_error();
		return -1;
	}
	return done == len ? 0 : -1;
}

/*
 * Memory BIOs keep the largest size they ever held (the handshake's
 * flights, some KB): once it is over and both are empty, start again
 * with empty ones.  Worth 2 KB of the 15 KB an idle connection costs.
 */
static void
compact(struct tls_conn *c)
{
	BIO *in, *out;

	c->compacted = true;
	if ((in = BIO_new(BIO_s_mem())) == NULL ||
	    (out = BIO_new(BIO_s_mem())) == NULL) {
		BIO_free(in);
		ERR_clear_error();
		return;
	}
	BIO_set_mem_eof_return(in, -1);
	SSL_set_bio(c->ssl, in, out);	/* frees the old pair */
	c->in = in;
	c->out = out;
}

size_t
tls_conn_output(struct tls_conn *c, void *p, size_t len)
{
	int n = BIO_read(c->out, p, len > 65536 ? 65536 : (int)len);

	if (!c->compacted && SSL_is_init_finished(c->ssl) &&
	    BIO_ctrl_pending(c->out) == 0 && BIO_ctrl_pending(c->in) == 0)
		compact(c);
	return n > 0 ? (size_t)n : 0;
}

size_t
tls_conn_output_pending(struct tls_conn *c)
{
	return BIO_ctrl_pending(c->out);
}

int
tls_conn_shutdown(struct tls_conn *c)
{
	int rc;

	ERR_clear_error();
	/* 0: sent, the peer's has not come; we do not wait for it. */
	rc = SSL_shutdown(c->ssl);
	ERR_clear_error();
	return rc >= 0 ? 0 : -1;
}

const char *
tls_conn_version(const struct tls_conn *c)
{
	return SSL_get_version(c->ssl);
}
