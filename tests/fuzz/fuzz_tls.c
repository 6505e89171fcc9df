/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/tls.c: what a hostile client can send
 * after "220 ... burn more CPU cycles": anything in place of a ClientHello
 * and of the records after it, in chunks, as nfspamd's worker feeds them.
 *
 * The server is made once, with a P-256 certificate written to a
 * temporary directory.  Each input is cut into chunks (byte 0: the chunk
 * length); each chunk goes in, the handshake is driven, output is taken
 * and, once the handshake is done, plaintext is read and echoed back.
 * Invariants: the status is one of the three, output only shrinks as it
 * is taken, a failed session stays failed, nothing leaks.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certgen.h"
#include "fuzz.h"
#include "tls.h"

static struct tls_server	*server;

static void
make_server(void)
{
	char dir[] = "/tmp/nfspamd-fuzztls.XXXXXX", cert[64], key[64],
	    err[256];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	CHECK(certgen_p256("fuzz.test", cert, key) == 0);
	if (tls_server_new(&server, cert, key, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_tls: %s\n", err);
		abort();
	}
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_conn *c;
	enum tls_status st = TLS_WANT;
	size_t chunk, n, pending;
	char buf[4096], why[256];
	ssize_t r;

	if (server == NULL)
		make_server();
	if (size < 1)
		return 0;
	chunk = data[0] ? data[0] : 256;
	data++;
	size--;
	CHECK((c = tls_conn_new(server)) != NULL);
	while (size > 0) {
		n = size < chunk ? size : chunk;
		CHECK(tls_conn_input(c, data, n) == 0);
		data += n;
		size -= n;
		if (st == TLS_WANT) {
			st = tls_conn_handshake(c, why, sizeof(why));
			CHECK(st == TLS_WANT || st == TLS_DONE ||
			    st == TLS_FAIL);
			if (st == TLS_FAIL)
				CHECK(why[0] != '\0');
		}
		while ((pending = tls_conn_output_pending(c)) > 0) {
			n = tls_conn_output(c, buf, sizeof(buf));
			CHECK(n > 0 && n <= sizeof(buf));
			CHECK(tls_conn_output_pending(c) < pending);
		}
		if (st == TLS_FAIL)
			break;
		if (st == TLS_DONE) {
			CHECK(tls_conn_version(c) != NULL);
			while ((r = tls_conn_read(c, buf, sizeof(buf), why,
			    sizeof(why))) > 0)
				CHECK(tls_conn_write(c, buf, (size_t)r) == 0);
			if (r == -1)
				break;
		}
	}
	tls_conn_free(c);
	return 0;
}
