/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/msg.c: datagrams as a compromised worker
 * (or supervisor) could send them.  A refused one comes with a reason;
 * an accepted one encodes back to exactly the bytes it came from.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "msg.h"

static size_t
again(const struct msg *m, uint8_t *out)
{
	switch (m->type) {
	case MSG_SETTINGS:
		return msg_settings_encode(&m->u.settings, out);
	case MSG_WHITE:
	case MSG_TRAPPED:
		return msg_addr_encode(m->type, &m->u.addr.addr,
		    m->u.addr.expire, out);
	case MSG_GREY:
		return msg_grey_encode(&m->u.grey.addr, m->u.grey.helo,
		    m->u.grey.from, m->u.grey.to, out);
	default:
		return msg_empty_encode(m->type, out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg m;
	uint8_t back[MSG_MAXSIZE];
	const char *why = NULL;
	size_t n;

	if (msg_decode(data, size, &m, &why) == -1) {
		CHECK(why != NULL);
		return 0;
	}
	CHECK(m.type > 0 && m.type < MSG_NTYPES);
	n = again(&m, back);
	CHECK(n == size && memcmp(back, data, size) == 0);
	return 0;
}
