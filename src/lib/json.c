/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * JSON strings; see json.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "json.h"

size_t
json_utf8_len(const unsigned char *s, size_t len)
{
	uint32_t	cp;
	size_t		i, n;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond Unicode */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* One byte that cannot go out as it is. */
static int
put_escaped(struct buf *b, unsigned char c)
{
	char	esc[8];

	if (c == '"' || c == '\\')
		snprintf(esc, sizeof(esc), "\\%c", c);
	else
		snprintf(esc, sizeof(esc), "\\u%04x", c);
	return buf_puts(b, esc);
}

int
json_str(struct buf *b, const void *s, size_t len)
{
	const unsigned char	*u = s, *run;
	size_t			 i = 0, n;

	if (buf_append(b, "\"", 1) == -1)
		return -1;
	while (i < len) {
		/* copy what needs no escape in one go */
		run = u + i;
		for (; i < len; i += n) {
			if (u[i] == '"' || u[i] == '\\' || u[i] < 0x20 ||
			    u[i] == 0x7f)
				break;
			if ((n = json_utf8_len(u + i, len - i)) == 0)
				break;
		}
		if (buf_append(b, run, (size_t)(u + i - run)) == -1)
			return -1;
		if (i < len && put_escaped(b, u[i++]) == -1)
			return -1;
	}
	return buf_append(b, "\"", 1);
}
