/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * blreply: the SMTP reply made of the messages of the lists that hold a
 * client.  See bl.h.  An empty message gives one reply line with no
 * text ("450 ").
 */
#include "config.h"

#include <string.h>

#include "bl.h"
#include "blint.h"

/* The message with its escapes expanded; raw '\r' dropped (CRLF is ours). */
static int
expand(const char *msg, const struct addr *a, struct buf *t)
{
	char		 abuf[ADDR_STRLEN];
	const char	*s;
	size_t		 n;
	int		 rc = 0;

	for (s = msg; *s != '\0' && rc == 0; s++) {
		if (s[0] == '\\' && (s[1] == '"' || s[1] == '\\')) {
			rc = buf_append(t, ++s, 1);
		} else if (s[0] == '\\' && s[1] == 'n') {
			rc = buf_append(t, "\n", 1);
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			rc = buf_append(t, ++s, 1);
		} else if (s[0] == '%' && s[1] == 'A') {
			n = addr_format(a, abuf, sizeof(abuf));
			rc = buf_append(t, abuf, n);
			s++;
		} else if (s[0] != '\r')
			rc = buf_append(t, s, 1);
	}
	return rc;
}

int
bl_reply_msg(const char *msg, const struct addr *a, int code, bool last,
    struct buf *out)
{
	struct buf	 t = { NULL, 0, 0 };
	const char	*p, *end, *nl;
	size_t		 old = out->len;

	if (code < 100 || code > 999 || msg == NULL || a == NULL)
		return -1;
	if (expand(msg, a, &t) == -1)
		goto fail;
	p = t.data != NULL ? t.data : "";
	end = p + t.len;
	/* A final line break ends the last line; it does not start one. */
	if (end > p && end[-1] == '\n')
		end--;
	do {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (buf_printf(out, "%03d%c", code,
		    last && nl == NULL ? ' ' : '-') == -1 ||
		    buf_append(out, p, (size_t)((nl ? nl : end) - p)) == -1 ||
		    buf_append(out, "\r\n", 2) == -1)
			goto fail;
		p = nl != NULL ? nl + 1 : end;
	} while (nl != NULL);
	buf_free(&t);
	return 0;
fail:
	buf_free(&t);
	return bl_buf_cut(out, old);
}

void
bl_reply_more(struct buf *out)
{
	size_t i;

	if (out->len < 6)
		return;
	/* The final line starts after the CRLF before its own. */
	for (i = out->len - 2; i > 0 && out->data[i - 1] != '\n'; i--)
		;
	if (out->len - i >= 4 && out->data[i + 3] == ' ')
		out->data[i + 3] = '-';
}

int
bl_reply(const struct bl *b, const uint32_t *ids, size_t n,
    const struct addr *a, int code, struct buf *out)
{
	const char	*msg;
	size_t		 old = out->len, i;

	if (n == 0)
		return -1;	/* no message makes no reply */
	for (i = 0; i < n; i++) {
		if (ids[i] >= b->nlists)
			goto fail;
		msg = b->lists[ids[i]].msg;
		if (bl_reply_msg(msg != NULL ? msg : "", a, code, i == n - 1,
		    out) == -1)
			goto fail;
	}
	return 0;
fail:
	return bl_buf_cut(out, old);
}
