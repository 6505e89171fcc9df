/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for policy: Postfix's policy requests read in pieces of
 * every size, several on one stream, the limits, bad lines, and the
 * answers with their header made safe.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define MAXREQ	8

/* What a stream gave: its requests, and the error if it ended in one. */
struct got {
	struct policy_req	 req[MAXREQ];
	int			 n;
	bool			 failed;
	char			 err[POLICY_ERRMAX];
};

/*
 * Feed s to a fresh reader in pieces of at most step bytes (0: all at
 * once), the first piece cut at first (0: no special first piece).
 */
static void
feed(const char *s, size_t len, size_t first, size_t step, struct got *g)
{
	struct policy_reader *r = malloc(sizeof(*r));
	size_t off = 0, piece, used;
	int rc;

	assert_non_null(r);
	memset(g, 0, sizeof(*g));
	policy_reader_init(r);
	while (off < len) {
		piece = len - off;
		if (off == 0 && first > 0 && first < piece)
			piece = first;
		else if (step > 0 && step < piece)
			piece = step;
		while (piece > 0) {
			rc = policy_feed(r, s + off, piece, &used);
			assert_true(used <= piece);
			if (rc == -1) {
				g->failed = true;
				snprintf(g->err, sizeof(g->err), "%s", r->err);
				/* Sticky: more bytes change nothing. */
				assert_int_equal(policy_feed(r, "a=b\n\n", 5,
				    &used), -1);
				free(r);
				return;
			}
			off += used;
			piece -= used;
			if (rc == 1) {
				assert_true(g->n < MAXREQ);
				g->req[g->n++] = r->req;
				assert_false(policy_pending(r));
			} else
				assert_int_equal(piece, 0);
		}
	}
	free(r);
}

static void
feed_str(const char *s, struct got *g)
{
	feed(s, strlen(s), 0, 0, g);
}

/* The stream must fail with an error that holds want. */
static void
want_err(const char *s, size_t len, const char *want)
{
	struct got g;

	feed(s, len, 0, 0, &g);
	assert_true(g.failed);
	if (strstr(g.err, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", g.err, want);
	/* The same byte by byte. */
	feed(s, len, 0, 1, &g);
	assert_true(g.failed);
	if (strstr(g.err, want) == NULL)
		fail_msg("byte by byte: \"%s\" lacks \"%s\"", g.err, want);
}

static const char stream[] =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=192.0.2.7\n"
    "client_name=mail.example.org\n"
    "reverse_client_name=mail.example.org\n"
    "helo_name=mail.example.org\n"
    "sender=a@example.org\n"
    "recipient=b@example.net\n"
    "instance=123.456.7\n"
    "ccert_subject=\n"
    "size=12345\n"
    "\n"
    /* CRLF, a value with '=' in it, a name twice: the last one. */
    "request=smtpd_access_policy\r\n"
    "client_address=2001:db8::1\r\n"
    "client_address=2001:db8::25\r\n"
    "stress=\r\n"
    "sasl_method=x=y\r\n"
    "\r\n"
    /* Not a policy request; nothing but the request attribute. */
    "request=something_else\n"
    "\n";

static void
check_stream(const struct got *g)
{
	const struct policy_req *q;

	assert_false(g->failed);
	assert_int_equal(g->n, 3);
	q = &g->req[0];
	assert_string_equal(q->val[POLICY_REQUEST], "smtpd_access_policy");
	assert_string_equal(q->val[POLICY_STATE], "RCPT");
	assert_string_equal(q->val[POLICY_ADDRESS], "192.0.2.7");
	assert_string_equal(q->val[POLICY_NAME], "mail.example.org");
	assert_string_equal(q->val[POLICY_INSTANCE], "123.456.7");
	for (int a = 0; a < POLICY_NATTR; a++)
		assert_true(q->sent[a]);
	assert_int_equal(q->nattr, 12);
	assert_true(policy_asks(q));
	q = &g->req[1];
	assert_string_equal(q->val[POLICY_ADDRESS], "2001:db8::25");
	assert_string_equal(q->val[POLICY_STATE], "");
	assert_false(q->sent[POLICY_STATE]);
	assert_false(q->sent[POLICY_NAME]);
	assert_int_equal(q->nattr, 5);
	assert_true(policy_asks(q));
	q = &g->req[2];
	assert_string_equal(q->val[POLICY_REQUEST], "something_else");
	assert_false(q->sent[POLICY_ADDRESS]);
	assert_int_equal(q->nattr, 1);
	assert_int_equal(q->size, strlen("request=something_else\n\n"));
	assert_false(policy_asks(q));
}

static void
test_whole(void **state)
{
	struct got g;

	(void)state;
	feed_str(stream, &g);
	check_stream(&g);
	assert_int_equal(g.req[0].size, strstr(stream, "\n\n") + 2 - stream);
}

/* Every cut into two pieces, then every piece size up to 64. */
static void
test_split(void **state)
{
	size_t len = strlen(stream);
	struct got g;

	(void)state;
	for (size_t cut = 1; cut < len; cut++) {
		feed(stream, len, cut, 0, &g);
		check_stream(&g);
	}
	for (size_t step = 1; step <= 64; step++) {
		feed(stream, len, 0, step, &g);
		check_stream(&g);
		feed(stream, len, 7, step, &g);
		check_stream(&g);
	}
}

/* Requests come one at a time out of one buffer, used says where. */
static void
test_used(void **state)
{
	static const char two[] = "request=a\n\nrequest=b\n\nrequest=c\n";
	struct policy_reader *r = malloc(sizeof(*r));
	size_t used, off = 0;

	(void)state;
	assert_non_null(r);
	policy_reader_init(r);
	assert_false(policy_pending(r));
	assert_int_equal(policy_feed(r, two, strlen(two), &used), 1);
	assert_int_equal(used, 11);
	assert_string_equal(r->req.val[POLICY_REQUEST], "a");
	off += used;
	assert_int_equal(policy_feed(r, two + off, strlen(two) - off, &used),
	    1);
	assert_int_equal(used, 11);
	assert_string_equal(r->req.val[POLICY_REQUEST], "b");
	off += used;
	assert_int_equal(policy_feed(r, two + off, strlen(two) - off, &used),
	    0);
	assert_int_equal(used, strlen(two) - off);
	assert_true(policy_pending(r));
	assert_int_equal(r->nreq, 2);
	assert_int_equal(r->lineno, 5);
	/* Nothing fed: nothing changes. */
	assert_int_equal(policy_feed(r, "", 0, &used), 0);
	assert_int_equal(used, 0);
	assert_true(policy_pending(r));
	assert_int_equal(policy_feed(r, "\n", 1, &used), 1);
	assert_string_equal(r->req.val[POLICY_REQUEST], "c");
	assert_int_equal(r->req.size, 11);
	free(r);
}

static void
test_bad_lines(void **state)
{
	(void)state;
	want_err("request=a\nclient_address 192.0.2.1\n\n", 36,
	    "line 2: no '=' in \"client_address 192.0.2.1\"");
	want_err("request=a\n=x\n\n", 14,
	    "line 2: no attribute name before '=' in \"=x\"");
	want_err("\n", 1, "line 1: empty line before any attribute");
	want_err("request=a\n\n\r\n", 13,
	    "line 3: empty line before any attribute");
	want_err("request=a\nhelo_name=x\0y\n\n", 25,
	    "line 2: NUL byte in attribute \"helo_name\"");
	want_err("req\0uest=a\n\n", 12, "line 1: NUL byte");
	want_err("garbage\x01\xff\"\n", 11,
	    "no '=' in \"garbage\\x01\\xff\\\"\"");
	/* An error after good requests: they were given first. */
	{
		struct got g;

		feed_str("request=a\n\nrequest=b\n\nbad\n", &g);
		assert_true(g.failed);
		assert_int_equal(g.n, 2);
		assert_non_null(strstr(g.err, "line 5: no '='"));
	}
}

static void
test_limits(void **state)
{
	char *s = malloc(2 * POLICY_REQMAX);
	size_t n;
	struct got g;

	(void)state;
	assert_non_null(s);
	/* A line of exactly POLICY_LINEMAX bytes, and one longer. */
	n = (size_t)snprintf(s, 64, "request=a\nccert_subject=");
	memset(s + n, 'x', POLICY_LINEMAX - strlen("ccert_subject="));
	n += POLICY_LINEMAX - strlen("ccert_subject=");
	memcpy(s + n, "\n\n", 2);
	feed(s, n + 2, 0, 0, &g);
	assert_false(g.failed);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.req[0].nattr, 2);
	/* With a carriage return it is one byte too long. */
	memcpy(s + n, "\r\n\n", 3);
	want_err(s, n + 3, "line 2: longer than 4096 bytes (attribute "
	    "\"ccert_subject\")");
	memset(s, 'y', 5000);
	want_err(s, 5000, "line 1: longer than 4096 bytes, without '=' "
	    "(\"yyyy");

	/* A kept value: 255 bytes, 256 bytes. */
	n = (size_t)snprintf(s, 64, "client_name=");
	memset(s + n, 'n', POLICY_VALMAX);
	n += POLICY_VALMAX;
	memcpy(s + n, "\n\n", 2);
	feed(s, n + 2, 0, 0, &g);
	assert_false(g.failed);
	assert_int_equal(strlen(g.req[0].val[POLICY_NAME]), POLICY_VALMAX);
	memcpy(s + n, "n\n\n", 3);
	want_err(s, n + 3, "line 1: attribute client_name: value of 256 "
	    "bytes, longer than 255");

	/* 256 attributes, then 257. */
	n = 0;
	for (int i = 0; i < POLICY_ATTRMAX; i++)
		n += (size_t)sprintf(s + n, "a%d=%d\n", i, i);
	memcpy(s + n, "\n", 1);
	feed(s, n + 1, 0, 0, &g);
	assert_false(g.failed);
	assert_int_equal(g.req[0].nattr, POLICY_ATTRMAX);
	n += (size_t)sprintf(s + n, "one=more\n\n");
	want_err(s, n, "line 257: more than 256 attributes in one request");

	/* 64 KiB in all, and a byte more; a second request starts afresh. */
	n = 0;
	while (n + 4000 < POLICY_REQMAX)
		n += (size_t)sprintf(s + n, "x=%03998d\n", 0);
	n += (size_t)sprintf(s + n, "y=");
	memset(s + n, 'y', POLICY_REQMAX - n - 2);
	n = POLICY_REQMAX - 2;
	memcpy(s + n, "\n\n", 2);
	feed(s, POLICY_REQMAX, 0, 0, &g);
	assert_false(g.failed);
	assert_int_equal(g.req[0].size, POLICY_REQMAX);
	memcpy(s + POLICY_REQMAX, s, POLICY_REQMAX);
	feed(s, 2 * POLICY_REQMAX, 0, 0, &g);
	assert_false(g.failed);
	assert_int_equal(g.n, 2);
	feed(s, 2 * POLICY_REQMAX, 0, 1000, &g);
	assert_false(g.failed);
	assert_int_equal(g.n, 2);
	memcpy(s + n, "y\n\n", 3);
	want_err(s, POLICY_REQMAX + 1, "request longer than 65536 bytes");
	free(s);
}

static const char *
answer(const char *req_text, const char *header, const char *os)
{
	static char buf[POLICY_ANSWERMAX];
	struct got g;
	size_t n;

	feed_str(req_text, &g);
	assert_false(g.failed);
	assert_int_equal(g.n, 1);
	n = policy_answer(&g.req[0], header, os, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	return buf;
}

#define ACCESS	\
	"request=smtpd_access_policy\nclient_address=192.0.2.1\n\n"

static void
test_answer(void **state)
{
	char long_os[300], want[300], buf[POLICY_ANSWERMAX];
	struct got g;

	(void)state;
	assert_string_equal(answer(ACCESS, POLICY_HEADER_DEFAULT,
	    "Linux 3.11-6.x"),
	    "action=PREPEND X-OS-Fingerprint: Linux 3.11-6.x\n\n");
	assert_string_equal(answer(ACCESS, "X-Passive-OS", "Windows XP SP1"),
	    "action=PREPEND X-Passive-OS: Windows XP SP1\n\n");
	assert_string_equal(answer(ACCESS, "X-OS", NULL), "action=DUNNO\n\n");
	assert_string_equal(answer(ACCESS, "X-OS", ""), "action=DUNNO\n\n");
	assert_string_equal(answer(ACCESS, "X-OS", "   "), "action=DUNNO\n\n");
	/* Not for us, or too late to prepend. */
	assert_string_equal(answer("request=junk\nclient_address=192.0.2.1"
	    "\n\n", "X-OS", "Linux"), "action=DUNNO\n\n");
	assert_string_equal(answer("client_address=192.0.2.1\n\n", "X-OS",
	    "Linux"), "action=DUNNO\n\n");
	assert_string_equal(answer("request=smtpd_access_policy\n"
	    "protocol_state=END-OF-MESSAGE\n\n", "X-OS", "Linux"),
	    "action=DUNNO\n\n");
	assert_string_equal(answer("request=smtpd_access_policy\n"
	    "protocol_state=VRFY\n\n", "X-OS", "Linux"), "action=DUNNO\n\n");
	assert_string_equal(answer("request=smtpd_access_policy\n"
	    "protocol_state=DATA\n\n", "X-OS", "Linux"),
	    "action=PREPEND X-OS: Linux\n\n");
	/* A header name that is not one: no header at all. */
	assert_string_equal(answer(ACCESS, "X OS", "Linux"),
	    "action=DUNNO\n\n");
	assert_string_equal(answer(ACCESS, "X-OS:", "Linux"),
	    "action=DUNNO\n\n");
	assert_string_equal(answer(ACCESS, "", "Linux"), "action=DUNNO\n\n");
	assert_string_equal(answer(ACCESS, NULL, "Linux"), "action=DUNNO\n\n");
	/* Names that would break the header, or the protocol. */
	assert_string_equal(answer(ACCESS, "X-OS",
	    "Linux\r\nBcc: victim@example.org\n\naction=REJECT"),
	    "action=PREPEND X-OS: Linux??Bcc: victim@example.org??"
	    "action=REJECT\n\n");
	assert_string_equal(answer(ACCESS, "X-OS", "  Mac\tOS \xc3\xa9  "),
	    "action=PREPEND X-OS: Mac?OS ??\n\n");
	memset(long_os, 'L', sizeof(long_os) - 1);
	long_os[sizeof(long_os) - 1] = '\0';
	snprintf(want, sizeof(want), "action=PREPEND X-OS: %.*s\n\n",
	    POLICY_OSMAX, long_os);
	assert_string_equal(answer(ACCESS, "X-OS", long_os), want);
	/* The longest answer fits. */
	memset(want, 'H', POLICY_HEADERMAX);
	want[POLICY_HEADERMAX] = '\0';
	feed_str(ACCESS, &g);
	assert_int_equal(policy_answer(&g.req[0], want, long_os, buf,
	    sizeof(buf)), sizeof(buf) - 1);
	assert_int_equal(buf[sizeof(buf) - 2], '\n');
	/* A buffer too small for it: nothing. */
	assert_int_equal(policy_answer(&g.req[0], "X-OS", "Linux", buf,
	    sizeof(buf) - 1), 0);
	assert_string_equal(buf, "");
	assert_int_equal(policy_answer(&g.req[0], "X-OS", "Linux", buf, 0),
	    0);
}

static void
test_sanitize(void **state)
{
	char buf[POLICY_OSMAX + 1], small[8];

	(void)state;
	assert_int_equal(policy_sanitize(NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(policy_sanitize(" a b ", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "a b");
	assert_int_equal(policy_sanitize("\x7f\x80", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "??");
	assert_int_equal(policy_sanitize("FreeBSD 9.0-10.x", small,
	    sizeof(small)), 7);
	assert_string_equal(small, "FreeBSD");
	assert_int_equal(policy_sanitize("abc", small, 0), 0);
	assert_int_equal(policy_sanitize("abc", small, 1), 0);
	assert_string_equal(small, "");
}

static void
test_header_ok(void **state)
{
	char name[POLICY_HEADERMAX + 2];
	const char *why;

	(void)state;
	assert_true(policy_header_ok("X-OS-Fingerprint", &why));
	assert_true(policy_header_ok("x_os.fp!~", NULL));
	why = NULL;
	assert_false(policy_header_ok("", &why));
	assert_non_null(why);
	assert_false(policy_header_ok(NULL, &why));
	assert_false(policy_header_ok("X-OS:", &why));
	assert_false(policy_header_ok("X OS", &why));
	assert_false(policy_header_ok("X-OS\n", &why));
	assert_false(policy_header_ok("X-\xc3\xa9", &why));
	assert_non_null(strstr(why, "printable ASCII"));
	memset(name, 'h', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_false(policy_header_ok(name, &why));
	assert_non_null(strstr(why, "longer than 64"));
	name[POLICY_HEADERMAX] = '\0';
	assert_true(policy_header_ok(name, &why));
}

static void
test_attr_names(void **state)
{
	(void)state;
	assert_string_equal(policy_attr_name(POLICY_ADDRESS),
	    "client_address");
	assert_string_equal(policy_attr_name(POLICY_STATE), "protocol_state");
	assert_string_equal(policy_attr_name(POLICY_NATTR), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_header_ok),
		cmocka_unit_test(test_attr_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
