/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * policy: Postfix's policy delegation protocol, the server's side.  See
 * policy.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "util.h"

#define ACCESS_POLICY	"smtpd_access_policy"
#define SHOWMAX		40	/* bytes of a name or line in errors */

static const char *const names[POLICY_NATTR] = {
	[POLICY_REQUEST] = "request",
	[POLICY_STATE] = "protocol_state",
	[POLICY_ADDRESS] = "client_address",
	[POLICY_NAME] = "client_name",
	[POLICY_INSTANCE] = "instance",
};

/* Postfix's states in which a PREPEND comes too late or to nothing. */
static const char *const nostates[] = { "END-OF-MESSAGE", "VRFY", "ETRN" };

const char *
policy_attr_name(enum policy_attr a)
{
	return (unsigned)a < POLICY_NATTR ? names[a] : "?";
}

void
policy_reader_init(struct policy_reader *r)
{
	memset(r, 0, sizeof(*r));
}

static int
fail(struct policy_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "line N: ...", the reader failed for good; -1. */
static int
fail(struct policy_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof(r->err), "line %lu: ", r->lineno + 1);
	if (n > 0 && (size_t)n < sizeof(r->err)) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	r->failed = true;
	return -1;
}

/* The line so far, or the name before its '=', quoted for a message. */
static const char *
show_name(const struct policy_reader *r, char *buf, size_t len)
{
	const char *eq = memchr(r->line, '=', r->linelen);

	if (eq == NULL)
		return NULL;
	return util_quote(buf, len, r->line, (size_t)(eq - r->line), SHOWMAX);
}

/* One attribute line, its newline (and a carriage return) gone. */
static int
attribute(struct policy_reader *r, const char *s, size_t len)
{
	char q[4 * SHOWMAX + 6];
	const char *eq;
	size_t nlen, vlen;

	if (++r->req.nattr > POLICY_ATTRMAX)
		return fail(r, "more than %d attributes in one request",
		    POLICY_ATTRMAX);
	if ((eq = memchr(s, '=', len)) == NULL)
		return fail(r, "no '=' in %s", util_quote(q, sizeof(q), s,
		    len, SHOWMAX));
	if (eq == s)
		return fail(r, "no attribute name before '=' in %s",
		    util_quote(q, sizeof(q), s, len, SHOWMAX));
	nlen = (size_t)(eq - s);
	vlen = len - nlen - 1;
	for (int a = 0; a < POLICY_NATTR; a++) {
		if (strlen(names[a]) != nlen || memcmp(s, names[a], nlen) != 0)
			continue;
		if (vlen > POLICY_VALMAX)
			return fail(r, "attribute %s: value of %zu bytes, "
			    "longer than %d", names[a], vlen, POLICY_VALMAX);
		memcpy(r->req.val[a], eq + 1, vlen);
		r->req.val[a][vlen] = '\0';
		r->req.sent[a] = true;
		break;
	}
	return 0;
}

/* A whole line: 1 when it ends the request, 0 to go on, -1. */
static int
line_end(struct policy_reader *r)
{
	size_t len = r->linelen;

	if (len > 0 && r->line[len - 1] == '\r')
		len--;
	if (len > 0)
		return attribute(r, r->line, len);
	if (r->req.nattr == 0)
		return fail(r, "empty line before any attribute");
	return 1;
}

int
policy_feed(struct policy_reader *r, const void *buf, size_t len,
    size_t *used)
{
	const unsigned char *p = buf;
	char q[4 * SHOWMAX + 6];
	const char *name;
	size_t i;
	int rc;

	*used = 0;
	if (r->failed)
		return -1;
	if (r->yielded) {
		memset(&r->req, 0, sizeof(r->req));
		r->yielded = false;
	}
	for (i = 0; i < len; i++) {
		if (++r->req.size > POLICY_REQMAX) {
			*used = i;
			return fail(r, "request longer than %d bytes",
			    POLICY_REQMAX);
		}
		if (p[i] == '\n') {
			rc = line_end(r);
			r->linelen = 0;
			if (rc == -1) {
				*used = i;
				return -1;
			}
			r->lineno++;
			if (rc == 1) {
				r->nreq++;
				r->yielded = true;
				*used = i + 1;
				return 1;
			}
			continue;
		}
		if (p[i] == '\0' || r->linelen == POLICY_LINEMAX) {
			*used = i;
			name = show_name(r, q, sizeof(q));
			if (p[i] == '\0' && name != NULL)
				return fail(r, "NUL byte in attribute %s",
				    name);
			if (p[i] == '\0')
				return fail(r, "NUL byte");
			if (name != NULL)
				return fail(r, "longer than %d bytes "
				    "(attribute %s)", POLICY_LINEMAX, name);
			return fail(r, "longer than %d bytes, without '=' "
			    "(%s)", POLICY_LINEMAX, util_quote(q, sizeof(q),
			    r->line, r->linelen, SHOWMAX));
		}
		r->line[r->linelen++] = (char)p[i];
	}
	*used = len;
	return 0;
}

bool
policy_pending(const struct policy_reader *r)
{
	return !r->failed && !r->yielded && r->req.size > 0;
}

bool
policy_asks(const struct policy_req *req)
{
	if (strcmp(req->val[POLICY_REQUEST], ACCESS_POLICY) != 0)
		return false;
	for (size_t i = 0; i < sizeof(nostates) / sizeof(nostates[0]); i++)
		if (strcmp(req->val[POLICY_STATE], nostates[i]) == 0)
			return false;
	return true;
}

bool
policy_header_ok(const char *name, const char **why)
{
	const char *dummy;
	size_t n;

	if (why == NULL)
		why = &dummy;
	if (name == NULL || (n = strlen(name)) == 0) {
		*why = "empty header name";
		return false;
	}
	if (n > POLICY_HEADERMAX) {
		*why = "header name longer than 64 bytes";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		/* ftext: printable US-ASCII but ':'; no blanks. */
		if (c < 33 || c > 126 || c == ':') {
			*why = "a header name is printable ASCII without "
			    "':' or blanks";
			return false;
		}
	}
	return true;
}

size_t
policy_sanitize(const char *os, char *buf, size_t len)
{
	size_t max, n = 0;
	unsigned char c;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (os == NULL)
		return 0;
	max = len - 1 < POLICY_OSMAX ? len - 1 : POLICY_OSMAX;
	while (*os == ' ')
		os++;
	for (; *os != '\0' && n < max; os++) {
		c = (unsigned char)*os;
		buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return n;
}

size_t
policy_answer(const struct policy_req *req, const char *header,
    const char *os, char *buf, size_t len)
{
	char clean[POLICY_OSMAX + 1];
	int n;

	if (len < POLICY_ANSWERMAX) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	if (req == NULL || !policy_asks(req) ||
	    !policy_header_ok(header, NULL) ||
	    policy_sanitize(os, clean, sizeof(clean)) == 0)
		n = snprintf(buf, len, "action=DUNNO\n\n");
	else
		n = snprintf(buf, len, "action=PREPEND %s: %s\n\n", header,
		    clean);
	return n < 0 ? 0 : (size_t)n;
}
