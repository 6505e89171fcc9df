/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for what the store reads back from disk: record
 * values and tuple keys.  A damaged or hostile database file must give
 * errors, never crashes or reads past the value.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_rec r;
	struct store_tuple tp;
	uint8_t enc[STORE_RECSIZE];
	char *key, buf[STORE_KEYMAX + 1];
	size_t n;

	if (store_rec_decode(data, size, &r) == 0) {
		if (size != STORE_RECSIZE)
			abort();
		store_rec_encode(&r, enc);
		if (memcmp(enc, data, STORE_RECSIZE) != 0)
			abort();
	} else if (size == STORE_RECSIZE)
		abort();

	/* A private copy so the sanitizer sees exact bounds. */
	if ((key = malloc(size + 1)) == NULL)
		return 0;
	memcpy(key, data, size);
	key[size] = '\0';
	if (store_tuple_split(key, size, &tp) == 0) {
		char ip[STORE_KEYMAX + 1], helo[STORE_KEYMAX + 1];
		char from[STORE_KEYMAX + 1], to[STORE_KEYMAX + 1];

		if (tp.iplen == 0 || tp.ip + tp.iplen > key + size ||
		    tp.to + tp.tolen > key + size)
			abort();
		/* A split key must rebuild into itself (4-field form). */
		if (size <= STORE_KEYMAX && tp.helo != NULL &&
		    memchr(key, '\0', size) == NULL && tp.helolen > 0) {
			snprintf(ip, sizeof(ip), "%.*s", (int)tp.iplen, tp.ip);
			snprintf(helo, sizeof(helo), "%.*s", (int)tp.helolen,
			    tp.helo);
			snprintf(from, sizeof(from), "%.*s", (int)tp.fromlen,
			    tp.from);
			snprintf(to, sizeof(to), "%.*s", (int)tp.tolen, tp.to);
			n = store_tuple_key(buf, sizeof(buf), ip, helo, from,
			    to);
			if (n != size || memcmp(buf, key, size) != 0)
				abort();
		}
	}
	free(key);
	return 0;
}
