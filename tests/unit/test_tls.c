/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for tls: the STARTTLS server over memory BIOs, against an
 * OpenSSL client in the same process.  Keys and certificates are made
 * at test time.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "certgen.h"
#include "tls.h"

struct files {
	char	dir[64];
	char	cert[128], key[128], cert2[128], key2[128];
};

static int
setup(void **state)
{
	struct files *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/nfspamd-tls.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->cert, sizeof(f->cert), "%s/one.crt", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/one.key", f->dir);
	snprintf(f->cert2, sizeof(f->cert2), "%s/two.crt", f->dir);
	snprintf(f->key2, sizeof(f->key2), "%s/two.key", f->dir);
	if (certgen_p256("one.example", f->cert, f->key) == -1 ||
	    certgen_p256("two.example", f->cert2, f->key2) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct files *f = *state;

	unlink(f->cert);
	unlink(f->key);
	unlink(f->cert2);
	unlink(f->key2);
	rmdir(f->dir);
	free(f);
	return 0;
}

struct client {
	SSL_CTX	*ctx;
	SSL	*ssl;
	BIO	*in, *out;
};

static void
client_new(struct client *c, int maxver)
{
	assert_non_null(c->ctx = SSL_CTX_new(TLS_client_method()));
	if (maxver != 0) {
		SSL_CTX_set_min_proto_version(c->ctx, 0);
		SSL_CTX_set_security_level(c->ctx, 0);
		SSL_CTX_set_max_proto_version(c->ctx, maxver);
	}
	assert_non_null(c->ssl = SSL_new(c->ctx));
	c->in = BIO_new(BIO_s_mem());
	c->out = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(c->in, -1);
	SSL_set_bio(c->ssl, c->in, c->out);
	SSL_set_connect_state(c->ssl);
}

static void
client_free(struct client *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
}

/* Move bytes both ways once; returns how many moved. */
static size_t
pump(struct client *c, struct tls_conn *s)
{
	char buf[16384];
	size_t moved = 0, n;
	int r;

	while ((r = BIO_read(c->out, buf, sizeof(buf))) > 0) {
		assert_int_equal(tls_conn_input(s, buf, (size_t)r), 0);
		moved += (size_t)r;
	}
	while ((n = tls_conn_output(s, buf, sizeof(buf))) > 0) {
		BIO_write(c->in, buf, (int)n);
		moved += n;
	}
	return moved;
}

/* Handshake both sides; the server's last status. */
static enum tls_status
shake(struct client *c, struct tls_conn *s, char *why, size_t whylen)
{
	enum tls_status st = TLS_WANT;

	for (int i = 0; i < 20; i++) {
		SSL_do_handshake(c->ssl);
		pump(c, s);
		st = tls_conn_handshake(s, why, whylen);
		pump(c, s);
		if (st != TLS_WANT && SSL_is_init_finished(c->ssl))
			break;
		if (st == TLS_FAIL)
			break;
	}
	return st;
}

static void
peer_cn(struct client *c, char *cn, size_t len)
{
	X509 *x = SSL_get1_peer_certificate(c->ssl);

	assert_non_null(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, (int)len);
	X509_free(x);
}

static void
test_dialogue(void **state)
{
	struct files *f = *state;
	struct tls_server *srv;
	struct tls_conn *s;
	struct client c;
	char err[256], why[256] = "", buf[256], cn[64];
	size_t n = 0;
	ssize_t r;

	assert_int_equal(tls_server_new(&srv, f->cert, f->key, err,
	    sizeof(err)), 0);
	client_new(&c, 0);
	assert_non_null(s = tls_conn_new(srv));
	assert_int_equal(shake(&c, s, why, sizeof(why)), TLS_DONE);
	assert_true(SSL_is_init_finished(c.ssl));
	assert_string_equal(tls_conn_version(s), "TLSv1.3");
	peer_cn(&c, cn, sizeof(cn));
	assert_string_equal(cn, "one.example");

	/* Client to server, then server to client. */
	assert_int_equal(SSL_write(c.ssl, "EHLO a.example\r\n", 16), 16);
	pump(&c, s);
	r = tls_conn_read(s, buf, sizeof(buf), why, sizeof(why));
	assert_int_equal(r, 16);
	assert_memory_equal(buf, "EHLO a.example\r\n", 16);
	assert_int_equal(tls_conn_read(s, buf, sizeof(buf), why, sizeof(why)),
	    0);
	assert_int_equal(tls_conn_write(s, "250 hi\r\n", 8), 0);
	assert_true(tls_conn_output_pending(s) > 0);
	pump(&c, s);
	assert_int_equal(SSL_read_ex(c.ssl, buf, sizeof(buf), &n), 1);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "250 hi\r\n", 8);

	/* No session tickets were offered to the client. */
	assert_int_equal(SSL_SESSION_get_ticket_lifetime_hint(
	    SSL_get_session(c.ssl)), 0);

	/* The client says goodbye: the server sees the end. */
	SSL_shutdown(c.ssl);
	pump(&c, s);
	assert_int_equal(tls_conn_read(s, buf, sizeof(buf), why, sizeof(why)),
	    -1);
	assert_string_equal(why, "closed by the peer");
	tls_conn_free(s);
	client_free(&c);
	tls_server_free(srv);
}

static void
test_refusals(void **state)
{
	struct files *f = *state;
	struct tls_server *srv = NULL;
	struct tls_conn *s;
	struct client c;
	char err[256], why[256] = "", missing[160];

	snprintf(missing, sizeof(missing), "%s/missing.crt", f->dir);
	assert_int_equal(tls_server_new(&srv, missing, f->key, err,
	    sizeof(err)), -1);
	assert_null(srv);
	assert_non_null(strstr(err, missing));
	assert_int_equal(tls_server_new(&srv, f->cert, missing, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "-K"));
	/* A key that is not the certificate's. */
	assert_int_equal(tls_server_new(&srv, f->cert, f->key2, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
	/* A key file as the certificate. */
	assert_int_equal(tls_server_new(&srv, f->key, f->key, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "-C"));

	assert_int_equal(tls_server_new(&srv, f->cert, f->key, err,
	    sizeof(err)), 0);
	/* TLS 1.1 and older are refused. */
	client_new(&c, TLS1_1_VERSION);
	assert_non_null(s = tls_conn_new(srv));
	assert_int_equal(shake(&c, s, why, sizeof(why)), TLS_FAIL);
	assert_true(strlen(why) > 0);
	tls_conn_free(s);
	client_free(&c);
	/* TLS 1.2 is fine. */
	client_new(&c, TLS1_2_VERSION);
	assert_non_null(s = tls_conn_new(srv));
	assert_int_equal(shake(&c, s, why, sizeof(why)), TLS_DONE);
	assert_string_equal(tls_conn_version(s), "TLSv1.2");
	tls_conn_free(s);
	client_free(&c);
	/* Garbage instead of a ClientHello. */
	assert_non_null(s = tls_conn_new(srv));
	assert_int_equal(tls_conn_input(s, "EHLO plain text\r\n", 17), 0);
	why[0] = '\0';
	assert_int_equal(tls_conn_handshake(s, why, sizeof(why)), TLS_FAIL);
	assert_true(strlen(why) > 0);
	tls_conn_free(s);
	/* Nothing yet: wait. */
	assert_non_null(s = tls_conn_new(srv));
	assert_int_equal(tls_conn_handshake(s, why, sizeof(why)), TLS_WANT);
	tls_conn_free(s);
	tls_server_free(srv);
}

/* A new connection to srv completes its handshake with cn's certificate. */
static void
assert_serves(struct tls_server *srv, const char *cn)
{
	struct client c;
	struct tls_conn *s;
	char why[256], got[64];

	client_new(&c, 0);
	assert_non_null(s = tls_conn_new(srv));
	assert_int_equal(shake(&c, s, why, sizeof(why)), TLS_DONE);
	peer_cn(&c, got, sizeof(got));
	assert_string_equal(got, cn);
	tls_conn_free(s);
	client_free(&c);
}

/* SIGHUP: new connections get the new certificate; a bad one is kept out. */
static void
test_reload(void **state)
{
	struct files *f = *state;
	struct tls_server *srv;
	struct tls_conn *old;
	struct client c;
	char err[256], why[256], cn[64];

	assert_int_equal(tls_server_new(&srv, f->cert, f->key, err,
	    sizeof(err)), 0);
	client_new(&c, 0);
	assert_non_null(old = tls_conn_new(srv));
	assert_int_equal(tls_server_reload(srv, f->cert2, f->key2, err,
	    sizeof(err)), 0);
	/* Begun before the reload: still the old certificate. */
	assert_int_equal(shake(&c, old, why, sizeof(why)), TLS_DONE);
	peer_cn(&c, cn, sizeof(cn));
	assert_string_equal(cn, "one.example");
	assert_serves(srv, "two.example");
	/* A reload that fails keeps the certificate in use. */
	assert_int_equal(tls_server_reload(srv, f->cert, f->key2, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
	assert_serves(srv, "two.example");
	tls_conn_free(old);
	client_free(&c);
	tls_server_free(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dialogue, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
