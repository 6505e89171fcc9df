/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * blparse: a blacklist's control line, parsed and formatted.  See bl.h.
 *
 * Lines arrive from nfspamd-setup and from our own saved file, so the
 * parser trusts nothing: a count must fit in the bytes that remain,
 * memory grows with the entries actually parsed, and one bad element
 * refuses the whole line (as spamd does) with an error that names the
 * list and the element.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl.h"
#include "blint.h"
#include "util.h"

/* An error message quotes this many bytes of the offending text. */
#define SHOWMAX		64
#define SHOWBUF		(SHOWMAX * 4 + 8)

/*
 * Text from a line, fit to be quoted in an error message (and a log
 * line): quotes, backslashes and bytes outside printable ASCII escaped,
 * long text cut short.
 */
static const char *
show(const char *s, size_t n, char *buf, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0;
	unsigned char		c;

	for (i = 0; i < n && i < SHOWMAX && o + 5 < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		} else
			buf[o++] = (char)c;
	}
	if (i < n && o + 4 <= len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static const char *const famname[2] = { "inet", "inet6" };
static const int famaf[2] = { AF_INET, AF_INET6 };

struct parser {
	const char	*p;		/* next unread byte */
	const char	*end;
	const char	*tag;
	size_t		 taglen;
	char		*err;
	size_t		 errlen;
	struct prefix	*pfx[2];	/* per family, in the order given */
	size_t		 npfx[2];
	size_t		 cap[2];
	bool		 seen[2];
};

/* An error about a list whose name is known. */
static int __attribute__((format(printf, 2, 3)))
perr(struct parser *ps, const char *fmt, ...)
{
	char	what[SHOWBUF + 256], tb[SHOWBUF];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return util_seterr(ps->err, ps->errlen, "list \"%s\": %s",
	    show(ps->tag, ps->taglen, tb, sizeof(tb)), what);
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* The text up to the next ';' or the end of the line; skips the ';'. */
static void
next_token(struct parser *ps, const char **tok, size_t *len)
{
	const char	*semi;

	semi = memchr(ps->p, ';', (size_t)(ps->end - ps->p));
	*tok = ps->p;
	if (semi == NULL) {
		*len = (size_t)(ps->end - ps->p);
		ps->p = ps->end;
	} else {
		*len = (size_t)(semi - ps->p);
		ps->p = semi + 1;
	}
}

static int
check_tag(const char *s, size_t n, char *err, size_t errlen)
{
	char	tb[SHOWBUF];
	size_t	i;

	if (n == 0)
		return util_seterr(err, errlen, "empty list name");
	if (n > BL_TAGMAX)
		return util_seterr(err, errlen, "list name \"%s\" longer than %d "
		    "bytes", show(s, n, tb, sizeof(tb)), BL_TAGMAX);
	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)s[i]) || s[i] == ' ' || s[i] == '\t')
			return util_seterr(err, errlen, "list name \"%s\" contains "
			    "a blank or control character",
			    show(s, n, tb, sizeof(tb)));
	return 0;
}

/*
 * What the parser would take between the quotes: no control character
 * but tab, every '"' escaped, no escape left open at the end.
 */
static bool
msg_ok(const char *s)
{
	size_t	n;
	bool	esc = false;

	for (n = 0; s[n] != '\0'; n++) {
		if (is_ctl((unsigned char)s[n]) && s[n] != '\t')
			return false;
		if (esc)
			esc = false;
		else if (s[n] == '\\')
			esc = true;
		else if (s[n] == '"')
			return false;
	}
	return !esc && n <= BL_MSGMAX;
}

/*
 * The message runs to the first '"' that is not escaped by '\'.  (spamd
 * looks only at the byte before, so "a\\" never ends there; we treat
 * "\\" as one escape so that any stored message prints back as itself.)
 */
static int
parse_msg(struct parser *ps, const char **msg, size_t *len)
{
	const char	*s;
	bool		 esc = false;

	if (ps->p == ps->end || *ps->p != '"')
		return perr(ps, "message not in double quotes");
	for (s = ps->p + 1; s < ps->end; s++) {
		/* A raw line break would split the reply: use \n. */
		if (is_ctl((unsigned char)*s) && *s != '\t')
			return perr(ps, "message contains a control character "
			    "at byte %zu", (size_t)(s - ps->p));
		if (esc)
			esc = false;
		else if (*s == '\\')
			esc = true;
		else if (*s == '"')
			break;
	}
	if (s == ps->end)
		return perr(ps, "message has no closing quote");
	*msg = ps->p + 1;
	*len = (size_t)(s - *msg);
	if (*len > BL_MSGMAX)
		return perr(ps, "message longer than %d bytes", BL_MSGMAX);
	if (s + 1 == ps->end || s[1] != ';')
		return perr(ps, "no ';' after the message");
	ps->p = s + 2;
	return 0;
}

static int
family_index(const char *s, size_t n)
{
	int	i;

	for (i = 0; i < 2; i++)
		if (n == strlen(famname[i]) && memcmp(s, famname[i], n) == 0)
			return i;
	return -1;
}

/* Whether a token reads as an address, to word an error. */
static bool
is_prefix_text(const char *s, size_t n)
{
	char		buf[ADDR_STRLEN];
	struct prefix	p;

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return prefix_parse(buf, &p, true, NULL) == 0;
}

/* Decimal, and no more than the bytes left could hold. */
static int
parse_count(struct parser *ps, int fam, size_t *countp)
{
	const char	*s;
	char		 tb[SHOWBUF];
	size_t		 n, i, v = 0, left;

	if (ps->p == ps->end)
		return perr(ps, "%s: no count", famname[fam]);
	next_token(ps, &s, &n);
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if (n == 0 || i < n)
		return perr(ps, "%s count \"%s\" is not a number", famname[fam],
		    show(s, n, tb, sizeof(tb)));
	left = (size_t)(ps->end - ps->p);
	for (i = 0; i < n; i++) {
		v = v * 10 + (size_t)(s[i] - '0');
		if (v > left)
			return perr(ps, "%s count %s is more than the line "
			    "holds", famname[fam], show(s, n, tb, sizeof(tb)));
	}
	*countp = v;
	return 0;
}

static int
parse_entry(struct parser *ps, int fam, size_t i, struct prefix *out)
{
	const char	*s, *why = NULL;
	char		 buf[ADDR_STRLEN], tb[SHOWBUF];
	size_t		 n;

	next_token(ps, &s, &n);
	show(s, n, tb, sizeof(tb));
	if (n >= sizeof(buf))
		why = "address too long";
	else if (memchr(s, '\0', n) != NULL)
		why = "contains a NUL byte";
	else {
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (prefix_parse(buf, out, true, &why) == 0) {
			if (out->addr.family != famaf[fam])
				why = fam == 0 ? "not an IPv4 prefix" :
				    "not an IPv6 prefix";
			else if (out->len == 0)
				why = "would blacklist the entire net";
		}
	}
	if (why != NULL)
		return perr(ps, "%s entry %zu \"%s\": %s", famname[fam], i + 1,
		    tb, why);
	return 0;
}

/*
 * Room for more entries, growing with what has parsed rather than with
 * the count, so that a lying count costs no more than the text it sent.
 */
static int
grow_section(struct parser *ps, int fam, size_t count)
{
	struct prefix	*p;
	size_t		 cap;

	cap = ps->cap[fam] == 0 ? 1024 : ps->cap[fam] * 2;
	if (cap > count)
		cap = count;
	if ((p = reallocarray(ps->pfx[fam], cap, sizeof(*p))) == NULL)
		return -1;
	ps->pfx[fam] = p;
	ps->cap[fam] = cap;
	return 0;
}

/* "inet;N;a;b;..." or "inet6;N;...", the family word already read. */
static int
parse_section(struct parser *ps, int fam)
{
	const char	*semi;
	size_t		 count = 0, i, n;

	if (ps->seen[fam])
		return perr(ps, "%s section appears twice", famname[fam]);
	ps->seen[fam] = true;
	if (parse_count(ps, fam, &count) == -1)
		return -1;
	for (i = 0; i < count; i++) {
		if (ps->p == ps->end)
			return perr(ps, "%s count %zu but %zu addresses",
			    famname[fam], count, i);
		/* A family word here means the count was too big. */
		n = (size_t)(ps->end - ps->p);
		if ((semi = memchr(ps->p, ';', n)) != NULL)
			n = (size_t)(semi - ps->p);
		if (family_index(ps->p, n) != -1)
			return perr(ps, "%s count %zu but %zu addresses",
			    famname[fam], count, i);
		if (i == ps->cap[fam] && grow_section(ps, fam, count) == -1)
			return perr(ps, "out of memory");
		if (parse_entry(ps, fam, i, &ps->pfx[fam][i]) == -1)
			return -1;
		ps->npfx[fam]++;
	}
	return 0;
}

static int
parse_sections(struct parser *ps)
{
	const char	*tok;
	char		 tb[SHOWBUF];
	size_t		 n;
	int		 fam, last = -1;

	/* Running out here is fine: a trailing ';' is tolerated. */
	while (ps->p < ps->end) {
		next_token(ps, &tok, &n);
		if ((fam = family_index(tok, n)) == -1) {
			if (last != -1 && is_prefix_text(tok, n))
				return perr(ps, "%s count %zu but more "
				    "addresses follow", famname[last],
				    ps->npfx[last]);
			if (last == -1 && is_prefix_text(tok, n))
				return perr(ps, "address \"%s\" without "
				    "\"inet;count;\" before it",
				    show(tok, n, tb, sizeof(tb)));
			return perr(ps, "unknown address family \"%s\"",
			    show(tok, n, tb, sizeof(tb)));
		}
		if (parse_section(ps, fam) == -1)
			return -1;
		last = fam;
	}
	if (ps->npfx[0] + ps->npfx[1] == 0)
		return perr(ps, "no addresses");
	return 0;
}

/* IPv4 first, then IPv6, each in the order given, in one array. */
static struct prefix *
join_sections(struct parser *ps)
{
	struct prefix	*p;
	size_t		 n4 = ps->npfx[0], n6 = ps->npfx[1];

	if (n6 == 0) {
		p = ps->pfx[0];
		ps->pfx[0] = NULL;
		return p;
	}
	if (n4 == 0) {
		p = ps->pfx[1];
		ps->pfx[1] = NULL;
		return p;
	}
	if ((p = reallocarray(ps->pfx[0], n4 + n6, sizeof(*p))) == NULL)
		return NULL;
	ps->pfx[0] = NULL;
	memcpy(p + n4, ps->pfx[1], n6 * sizeof(*p));
	return p;
}

int
bl_parse(const char *line, size_t len, struct bl_list *l, char *err,
    size_t errlen)
{
	struct parser	 ps;
	struct bl_list	 nl;
	const char	*semi, *msg = NULL;
	size_t		 msglen = 0;
	int		 rc = -1;

	memset(&ps, 0, sizeof(ps));
	memset(&nl, 0, sizeof(nl));
	ps.err = err;
	ps.errlen = errlen;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	ps.end = line + len;

	if ((semi = memchr(line, ';', len)) == NULL)
		return util_seterr(err, errlen, "no ';' after the list name");
	ps.tag = line;
	ps.taglen = (size_t)(semi - line);
	if (check_tag(ps.tag, ps.taglen, err, errlen) == -1)
		return -1;
	ps.p = semi + 1;
	if (ps.p < ps.end) {
		if (parse_msg(&ps, &msg, &msglen) == -1 ||
		    parse_sections(&ps) == -1)
			goto done;
		if ((nl.msg = strndup(msg, msglen)) == NULL ||
		    (nl.pfx = join_sections(&ps)) == NULL) {
			perr(&ps, "out of memory");
			goto done;
		}
		nl.npfx = ps.npfx[0] + ps.npfx[1];
	}
	if ((nl.tag = strndup(ps.tag, ps.taglen)) == NULL) {
		perr(&ps, "out of memory");
		goto done;
	}
	*l = nl;
	memset(&nl, 0, sizeof(nl));
	rc = 0;
done:
	bl_list_free(&nl);
	free(ps.pfx[0]);
	free(ps.pfx[1]);
	return rc;
}

/*
 * Only what bl_parse could have made, so that every list formats to a
 * line that parses back to it (and a saved file always loads).
 */
bool
bl_list_valid(const struct bl_list *l)
{
	const struct prefix	*p;
	struct addr		 m;
	size_t			 i;

	if (l->tag == NULL || check_tag(l->tag, strnlen(l->tag,
	    BL_TAGMAX + 1), NULL, 0) == -1 || strchr(l->tag, ';') != NULL)
		return false;
	if (l->npfx == 0)
		return true;
	if (l->pfx == NULL || (l->msg != NULL && !msg_ok(l->msg)))
		return false;
	for (i = 0; i < l->npfx; i++) {
		p = &l->pfx[i];
		if (p->addr.family != AF_INET && p->addr.family != AF_INET6)
			return false;
		if (p->len == 0 || p->len > addr_bits(&p->addr))
			return false;
		m = p->addr;
		addr_mask(&m, p->len);
		if (memcmp(&m, &p->addr, sizeof(m)) != 0)
			return false;
	}
	return true;
}

static int
format_family(const struct bl_list *l, int fam, size_t n, struct buf *out)
{
	char	buf[ADDR_STRLEN];
	size_t	i, len;

	if (n == 0)
		return 0;
	if (buf_printf(out, ";%s;%zu", famname[fam], n) == -1)
		return -1;
	for (i = 0; i < l->npfx; i++) {
		if (l->pfx[i].addr.family != famaf[fam])
			continue;
		buf[0] = ';';
		len = prefix_format(&l->pfx[i], buf + 1, sizeof(buf) - 1);
		if (buf_append(out, buf, len + 1) == -1)
			return -1;
	}
	return 0;
}

int
bl_format(const struct bl_list *l, struct buf *out)
{
	size_t	old = out->len, n[2] = { 0, 0 }, i;

	if (!bl_list_valid(l))
		return -1;
	for (i = 0; i < l->npfx; i++)
		n[l->pfx[i].addr.family == AF_INET6]++;
	if (buf_printf(out, "%s;", l->tag) == -1)
		goto fail;
	if (l->npfx == 0)
		return 0;
	if (buf_printf(out, "\"%s\"", l->msg != NULL ? l->msg : "") == -1 ||
	    format_family(l, 0, n[0], out) == -1 ||
	    format_family(l, 1, n[1], out) == -1)
		goto fail;
	return 0;
fail:
	return bl_buf_cut(out, old);
}

void
bl_list_free(struct bl_list *l)
{
	if (l == NULL)
		return;
	free(l->tag);
	free(l->msg);
	free(l->pfx);
	memset(l, 0, sizeof(*l));
}
