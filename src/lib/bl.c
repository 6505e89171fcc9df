/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * bl: blacklists from the control socket, and their lookup.  See bl.h.
 *
 * Lines arrive from nfspamd-setup and from our own saved file, so the
 * parser trusts nothing: a count must fit in the bytes that remain,
 * memory grows with the entries actually parsed, and one bad element
 * refuses the whole line (as spamd does) with an error that names the
 * list and the element.
 *
 * The index: every prefix of every list gives a start and an end event.
 * Sorted and swept, the events cut each address space into disjoint
 * segments, each naming the set of lists that covers it; identical sets
 * are stored once.  A lookup is one binary search over segment starts.
 *
 * Decisions the header leaves open:
 * - "tag;" clears a list but keeps its slot, so the list keeps its place
 *   when it is filled again (spamd does the same).  bl_count counts such
 *   slots, bl_get returns them (npfx 0, msg NULL), lookup never matches
 *   them and bl_save does not write them.  Clearing an unknown tag adds
 *   nothing.
 * - Until bl_build succeeds after a change, bl_lookup scans every prefix
 *   linearly: slow but right, so a missed or failed build never lets a
 *   listed host through or names a list that has gone.
 * - An empty message gives one reply line with no text ("450 ").
 * - bl_load is all or nothing: on success the set holds exactly the
 *   file's lists, built; on any error it is left as it was, so nfspamd
 *   keeps serving its old lists.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl.h"
#include "util.h"

typedef unsigned __int128	u128;

/*
 * Lists a set may hold.  Indexes must fit the 31 bits a sort key gives
 * them, and every build keeps a few words per list.
 */
#define BL_LISTMAX	65536
/* An error message quotes this many bytes of the offending text. */
#define SHOWMAX		64
#define SHOWBUF		(SHOWMAX * 4 + 8)
#define NOSET		UINT32_MAX
#define SET_EMPTY	0

/*
 * The lookup index, valid while the set is not stale.  Segment starts
 * ascend from 0, so every address falls in exactly one segment.
 */
struct bl_index {
	uint32_t	*start4;
	uint32_t	*set4;		/* the set of lists for each segment */
	size_t		 nseg4;
	u128		*start6;
	uint32_t	*set6;
	size_t		 nseg6;
	/* Set s holds setids[setoff[s]] up to setids[setoff[s + 1]]. */
	uint32_t	*setoff;
	uint32_t	*setids;	/* list indexes, ascending per set */
	size_t		 nsets;
};

struct bl {
	struct bl_list	*lists;
	size_t		 nlists;
	size_t		 caplists;
	size_t		 npfx;
	bool		 stale;		/* lists changed since bl_build */
	struct bl_index	 idx;
};

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

/*
 * Parsing.
 */

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
static bool
valid_list(const struct bl_list *l)
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

	if (!valid_list(l))
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
	out->len = old;
	if (out->data != NULL)
		out->data[old] = '\0';
	return -1;
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

/*
 * The set.
 */

static void
index_free(struct bl_index *x)
{
	free(x->start4);
	free(x->set4);
	free(x->start6);
	free(x->set6);
	free(x->setoff);
	free(x->setids);
	memset(x, 0, sizeof(*x));
}

struct bl *
bl_new(void)
{
	return calloc(1, sizeof(struct bl));
}

static void
bl_clear(struct bl *b)
{
	size_t	i;

	for (i = 0; i < b->nlists; i++)
		bl_list_free(&b->lists[i]);
	free(b->lists);
	index_free(&b->idx);
	memset(b, 0, sizeof(*b));
}

void
bl_free(struct bl *b)
{
	if (b == NULL)
		return;
	bl_clear(b);
	free(b);
}

static struct bl_list *
find(const struct bl *b, const char *tag)
{
	size_t	i;

	for (i = 0; i < b->nlists; i++)
		if (strcmp(b->lists[i].tag, tag) == 0)
			return &b->lists[i];
	return NULL;
}

int
bl_set(struct bl *b, struct bl_list *l)
{
	struct bl_list	*old, *p;
	size_t		 cap;

	if (!valid_list(l)) {
		errno = EINVAL;
		return -1;
	}
	if ((old = find(b, l->tag)) != NULL) {
		b->npfx -= old->npfx;
		bl_list_free(old);
		*old = *l;
	} else if (l->npfx == 0) {
		/* Clearing what we do not hold: nothing to keep. */
		bl_list_free(l);
		return 0;
	} else {
		if (b->nlists >= BL_LISTMAX) {
			errno = E2BIG;
			return -1;
		}
		if (b->nlists == b->caplists) {
			cap = b->caplists ? b->caplists * 2 : 8;
			p = reallocarray(b->lists, cap, sizeof(*p));
			if (p == NULL)
				return -1;
			b->lists = p;
			b->caplists = cap;
		}
		b->lists[b->nlists++] = *l;
	}
	b->npfx += l->npfx;
	b->stale = true;
	memset(l, 0, sizeof(*l));
	return 0;
}

static bool
named(const char *tag, const char *const *tags, size_t ntags)
{
	size_t	i;

	for (i = 0; i < ntags; i++)
		if (tags[i] != NULL && strcmp(tags[i], tag) == 0)
			return true;
	return false;
}

void
bl_retain(struct bl *b, const char *const *tags, size_t ntags)
{
	size_t	i, j = 0;

	for (i = 0; i < b->nlists; i++) {
		if (named(b->lists[i].tag, tags, ntags)) {
			b->lists[j++] = b->lists[i];
			continue;
		}
		b->npfx -= b->lists[i].npfx;
		bl_list_free(&b->lists[i]);
		b->stale = true;
	}
	b->nlists = j;
}

size_t
bl_count(const struct bl *b)
{
	return b->nlists;
}

size_t
bl_prefixes(const struct bl *b)
{
	return b->npfx;
}

const struct bl_list *
bl_get(const struct bl *b, size_t i)
{
	return i < b->nlists ? &b->lists[i] : NULL;
}

/*
 * Building the index.
 */

/*
 * The sweep's state: which lists cover the current point, and the sets
 * seen so far.  A set is hashed as the xor of its members' hashes, so
 * adding or removing a member updates the hash in O(1).
 */
struct sweep {
	size_t		*cnt;		/* per list: prefixes covering it */
	uint32_t	*pos;		/* per list: index in mem, or NOSET */
	uint32_t	*mem;		/* lists covering it, unordered */
	size_t		 nmem;
	uint64_t	 hash;
	uint32_t	*setoff;	/* nsets + 1 entries */
	size_t		 capoff;
	uint32_t	*setids;
	size_t		 nids;
	size_t		 capids;
	uint64_t	*sethash;
	size_t		 nsets;
	uint32_t	*table;		/* set + 1, or 0 for a free slot */
	size_t		 tcap;
};

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
sweep_free(struct sweep *sw)
{
	free(sw->cnt);
	free(sw->pos);
	free(sw->mem);
	free(sw->setoff);
	free(sw->setids);
	free(sw->sethash);
	free(sw->table);
	memset(sw, 0, sizeof(*sw));
}

/* Set 0 is the empty set, hash 0. */
static int
sweep_init(struct sweep *sw, size_t nlists)
{
	size_t	i, n = nlists > 0 ? nlists : 1;

	memset(sw, 0, sizeof(*sw));
	sw->cnt = calloc(n, sizeof(*sw->cnt));
	sw->pos = calloc(n, sizeof(*sw->pos));
	sw->mem = calloc(n, sizeof(*sw->mem));
	sw->capoff = 64;
	sw->setoff = calloc(sw->capoff, sizeof(*sw->setoff));
	sw->sethash = calloc(sw->capoff, sizeof(*sw->sethash));
	sw->tcap = 64;
	sw->table = calloc(sw->tcap, sizeof(*sw->table));
	if (sw->cnt == NULL || sw->pos == NULL || sw->mem == NULL ||
	    sw->setoff == NULL || sw->sethash == NULL || sw->table == NULL) {
		sweep_free(sw);
		return -1;
	}
	for (i = 0; i < n; i++)
		sw->pos[i] = NOSET;
	sw->nsets = 1;
	sw->table[0] = SET_EMPTY + 1;
	return 0;
}

/* Nothing covers the point: the start of each family's sweep. */
static void
sweep_reset(struct sweep *sw)
{
	size_t	i;

	for (i = 0; i < sw->nmem; i++) {
		sw->cnt[sw->mem[i]] = 0;
		sw->pos[sw->mem[i]] = NOSET;
	}
	sw->nmem = 0;
	sw->hash = 0;
}

static void
sweep_apply(struct sweep *sw, uint32_t list, bool end)
{
	uint32_t	i;

	if (!end) {
		if (sw->cnt[list]++ == 0) {
			sw->pos[list] = (uint32_t)sw->nmem;
			sw->mem[sw->nmem++] = list;
			sw->hash ^= mix(list);
		}
		return;
	}
	if (--sw->cnt[list] == 0) {
		i = sw->pos[list];
		sw->mem[i] = sw->mem[--sw->nmem];
		sw->pos[sw->mem[i]] = i;
		sw->pos[list] = NOSET;
		sw->hash ^= mix(list);
	}
}

static bool
same_set(const struct sweep *sw, uint32_t s)
{
	uint32_t	i;

	if (sw->sethash[s] != sw->hash ||
	    sw->setoff[s + 1] - sw->setoff[s] != sw->nmem)
		return false;
	for (i = sw->setoff[s]; i < sw->setoff[s + 1]; i++)
		if (sw->pos[sw->setids[i]] == NOSET)
			return false;
	return true;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
grow_table(struct sweep *sw)
{
	uint32_t	*t;
	size_t		 cap = sw->tcap * 2, i, s;

	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return -1;
	for (s = 0; s < sw->nsets; s++) {
		for (i = sw->sethash[s] & (cap - 1); t[i] != 0;
		    i = (i + 1) & (cap - 1))
			;
		t[i] = (uint32_t)s + 1;
	}
	free(sw->table);
	sw->table = t;
	sw->tcap = cap;
	return 0;
}

static int
grow_sets(struct sweep *sw)
{
	uint32_t	*off;
	uint64_t	*h;
	uint32_t	*ids;
	size_t		 cap;

	if (sw->nsets + 2 > sw->capoff) {
		cap = sw->capoff * 2;
		if ((off = reallocarray(sw->setoff, cap, sizeof(*off))) == NULL)
			return -1;
		sw->setoff = off;
		if ((h = reallocarray(sw->sethash, cap, sizeof(*h))) == NULL)
			return -1;
		sw->sethash = h;
		sw->capoff = cap;
	}
	if (sw->nids + sw->nmem > sw->capids) {
		cap = sw->capids ? sw->capids : 64;
		while (cap < sw->nids + sw->nmem)
			cap *= 2;
		if ((ids = reallocarray(sw->setids, cap, sizeof(*ids))) == NULL)
			return -1;
		sw->setids = ids;
		sw->capids = cap;
	}
	return 0;
}

/* The set of lists covering the current point, added if new. */
static uint32_t
intern(struct sweep *sw)
{
	uint32_t	*ids;
	size_t		 i, mask = sw->tcap - 1;

	for (i = sw->hash & mask; sw->table[i] != 0; i = (i + 1) & mask)
		if (same_set(sw, sw->table[i] - 1))
			return sw->table[i] - 1;
	if (sw->nsets >= UINT32_MAX - 1 || sw->nids + sw->nmem >= UINT32_MAX ||
	    grow_sets(sw) == -1)
		return NOSET;
	ids = sw->setids + sw->nids;
	memcpy(ids, sw->mem, sw->nmem * sizeof(*ids));
	qsort(ids, sw->nmem, sizeof(*ids), cmp_u32);
	sw->nids += sw->nmem;
	sw->setoff[sw->nsets + 1] = (uint32_t)sw->nids;
	sw->sethash[sw->nsets] = sw->hash;
	sw->table[i] = (uint32_t)sw->nsets + 1;
	sw->nsets++;
	if (sw->nsets * 2 > sw->tcap && grow_table(sw) == -1)
		return NOSET;
	return (uint32_t)sw->nsets - 1;
}

/* Trim an array grown to its worst case; keep it if realloc balks. */
static void *
shrink(void *p, size_t n, size_t size)
{
	void	*q;

	if (n == 0)
		n = 1;
	q = reallocarray(p, n, size);
	return q != NULL ? q : p;
}

static u128
get128(const uint8_t *b)
{
	u128	v = 0;
	int	i;

	for (i = 0; i < 16; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * IPv4 events as one sortable word: the address (32 bits), then 0 for a
 * start or 1 for an end, then the list.  A start takes effect at its
 * address, an end just past its address; so a boundary is addr + end,
 * which is 2^32 only past the top of the space.
 */
#define EV4_END		(UINT64_C(1) << 31)
#define EV4_LIST	(EV4_END - 1)

static uint64_t
ev4_boundary(uint64_t ev)
{
	return (ev >> 32) + ((ev & EV4_END) != 0);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every IPv4 prefix's two events, sorted. */
static uint64_t *
events4(const struct bl *b, size_t n, size_t *nevp)
{
	const struct prefix	*p;
	uint64_t		*ev;
	uint32_t		 lo, mask;
	size_t			 nev = 0, i, k;

	if (n > (SIZE_MAX - 1) / 2 / sizeof(*ev))
		return NULL;
	if ((ev = malloc((2 * n + 1) * sizeof(*ev))) == NULL)
		return NULL;
	for (i = 0; i < b->nlists; i++) {
		for (k = 0; k < b->lists[i].npfx; k++) {
			p = &b->lists[i].pfx[k];
			if (p->addr.family != AF_INET)
				continue;
			mask = p->len == 0 ? 0 : UINT32_MAX << (32 - p->len);
			lo = util_get32be(p->addr.bytes) & mask;
			ev[nev++] = (uint64_t)lo << 32 | i;
			ev[nev++] = (uint64_t)(lo | ~mask) << 32 | EV4_END | i;
		}
	}
	qsort(ev, nev, sizeof(*ev), cmp_u64);
	*nevp = nev;
	return ev;
}

/*
 * Sweep the events: at each boundary, apply all its events, then start
 * a segment if the set of covering lists changed.
 */
static int
sweep4(struct sweep *sw, const uint64_t *ev, size_t nev, struct bl_index *x)
{
	uint64_t	bnd;
	uint32_t	s;
	size_t		i, j, ns = 1;

	x->start4 = malloc((nev + 1) * sizeof(*x->start4));
	x->set4 = malloc((nev + 1) * sizeof(*x->set4));
	if (x->start4 == NULL || x->set4 == NULL)
		return -1;
	x->start4[0] = 0;
	x->set4[0] = SET_EMPTY;
	sweep_reset(sw);
	for (i = 0; i < nev; i = j) {
		if ((bnd = ev4_boundary(ev[i])) > UINT32_MAX)
			break;
		for (j = i; j < nev && ev4_boundary(ev[j]) == bnd; j++)
			sweep_apply(sw, (uint32_t)(ev[j] & EV4_LIST),
			    (ev[j] & EV4_END) != 0);
		if ((s = intern(sw)) == NOSET)
			return -1;
		if (x->start4[ns - 1] == bnd)	/* only at address 0 */
			x->set4[ns - 1] = s;
		else if (x->set4[ns - 1] != s) {
			x->start4[ns] = (uint32_t)bnd;
			x->set4[ns++] = s;
		}
	}
	x->start4 = shrink(x->start4, ns, sizeof(*x->start4));
	x->set4 = shrink(x->set4, ns, sizeof(*x->set4));
	x->nseg4 = ns;
	return 0;
}

static int
build4(const struct bl *b, struct sweep *sw, size_t n, struct bl_index *x)
{
	uint64_t	*ev;
	size_t		 nev;
	int		 rc;

	if ((ev = events4(b, n, &nev)) == NULL)
		return -1;
	rc = sweep4(sw, ev, nev, x);
	free(ev);
	return rc;
}

/* IPv6 events: same scheme, the address too wide to share a word. */
struct ev6 {
	u128		addr;
	uint32_t	list;
	uint32_t	end;
};

static int
cmp_ev6(const void *a, const void *b)
{
	const struct ev6	*x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* False past the top of the space. */
static bool
ev6_boundary(const struct ev6 *e, u128 *bnd)
{
	if (e->end && e->addr == ~(u128)0)
		return false;
	*bnd = e->addr + (e->end ? 1 : 0);
	return true;
}

static struct ev6 *
events6(const struct bl *b, size_t n, size_t *nevp)
{
	const struct prefix	*p;
	struct ev6		*ev;
	u128			 lo, mask;
	size_t			 nev = 0, i, k;

	if (n > (SIZE_MAX - 1) / 2 / sizeof(*ev))
		return NULL;
	if ((ev = malloc((2 * n + 1) * sizeof(*ev))) == NULL)
		return NULL;
	for (i = 0; i < b->nlists; i++) {
		for (k = 0; k < b->lists[i].npfx; k++) {
			p = &b->lists[i].pfx[k];
			if (p->addr.family != AF_INET6)
				continue;
			mask = p->len == 0 ? 0 : ~(u128)0 << (128 - p->len);
			lo = get128(p->addr.bytes) & mask;
			ev[nev].addr = lo;
			ev[nev].list = (uint32_t)i;
			ev[nev++].end = 0;
			ev[nev].addr = lo | ~mask;
			ev[nev].list = (uint32_t)i;
			ev[nev++].end = 1;
		}
	}
	qsort(ev, nev, sizeof(*ev), cmp_ev6);
	*nevp = nev;
	return ev;
}

static int
sweep6(struct sweep *sw, const struct ev6 *ev, size_t nev,
    struct bl_index *x)
{
	u128		bnd, bj;
	uint32_t	s;
	size_t		i, j, ns = 1;

	x->start6 = malloc((nev + 1) * sizeof(*x->start6));
	x->set6 = malloc((nev + 1) * sizeof(*x->set6));
	if (x->start6 == NULL || x->set6 == NULL)
		return -1;
	x->start6[0] = 0;
	x->set6[0] = SET_EMPTY;
	sweep_reset(sw);
	for (i = 0; i < nev; i = j) {
		if (!ev6_boundary(&ev[i], &bnd))
			break;
		for (j = i; j < nev && ev6_boundary(&ev[j], &bj) && bj == bnd;
		    j++)
			sweep_apply(sw, ev[j].list, ev[j].end != 0);
		if ((s = intern(sw)) == NOSET)
			return -1;
		if (x->start6[ns - 1] == bnd)	/* only at address 0 */
			x->set6[ns - 1] = s;
		else if (x->set6[ns - 1] != s) {
			x->start6[ns] = bnd;
			x->set6[ns++] = s;
		}
	}
	x->start6 = shrink(x->start6, ns, sizeof(*x->start6));
	x->set6 = shrink(x->set6, ns, sizeof(*x->set6));
	x->nseg6 = ns;
	return 0;
}

static int
build6(const struct bl *b, struct sweep *sw, size_t n, struct bl_index *x)
{
	struct ev6	*ev;
	size_t		 nev;
	int		 rc;

	if ((ev = events6(b, n, &nev)) == NULL)
		return -1;
	rc = sweep6(sw, ev, nev, x);
	free(ev);
	return rc;
}

int
bl_build(struct bl *b)
{
	struct sweep	sw;
	struct bl_index	x;
	size_t		n[2] = { 0, 0 }, i, k;

	/* The old index names lists by position: useless once they move. */
	index_free(&b->idx);
	b->stale = true;
	memset(&x, 0, sizeof(x));
	for (i = 0; i < b->nlists; i++)
		for (k = 0; k < b->lists[i].npfx; k++)
			n[b->lists[i].pfx[k].addr.family == AF_INET6]++;
	if (sweep_init(&sw, b->nlists) == -1)
		return -1;
	if (build4(b, &sw, n[0], &x) == -1 || build6(b, &sw, n[1], &x) == -1) {
		sweep_free(&sw);
		index_free(&x);
		return -1;
	}
	x.nsets = sw.nsets;
	x.setoff = shrink(sw.setoff, sw.nsets + 1, sizeof(*x.setoff));
	x.setids = shrink(sw.setids, sw.nids, sizeof(*x.setids));
	sw.setoff = NULL;
	sw.setids = NULL;
	sweep_free(&sw);
	b->idx = x;
	b->stale = false;
	return 0;
}

/*
 * Lookup.
 */

static size_t
put_set(const struct bl_index *x, uint32_t s, uint32_t *ids, size_t max)
{
	size_t	n = x->setoff[s + 1] - x->setoff[s];

	if (ids != NULL && n > 0 && max > 0)
		memcpy(ids, x->setids + x->setoff[s],
		    (n < max ? n : max) * sizeof(*ids));
	return n;
}

static size_t
lookup4(const struct bl_index *x, uint32_t a, uint32_t *ids, size_t max)
{
	size_t	lo = 0, hi = x->nseg4, mid;

	if (x->nseg4 == 0)
		return 0;
	/* The last segment starting at or below a; start4[0] is 0. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (x->start4[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return put_set(x, x->set4[lo], ids, max);
}

static size_t
lookup6(const struct bl_index *x, u128 a, uint32_t *ids, size_t max)
{
	size_t	lo = 0, hi = x->nseg6, mid;

	if (x->nseg6 == 0)
		return 0;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (x->start6[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return put_set(x, x->set6[lo], ids, max);
}

/* Before a build: every prefix of every list, in list order. */
static size_t
lookup_linear(const struct bl *b, const struct addr *a, uint32_t *ids,
    size_t max)
{
	size_t	i, k, n = 0;

	for (i = 0; i < b->nlists; i++) {
		for (k = 0; k < b->lists[i].npfx; k++) {
			if (!prefix_contains(&b->lists[i].pfx[k], a))
				continue;
			if (ids != NULL && n < max)
				ids[n] = (uint32_t)i;
			n++;
			break;
		}
	}
	return n;
}

size_t
bl_lookup(const struct bl *b, const struct addr *a, uint32_t *ids,
    size_t max)
{
	if (b->stale)
		return lookup_linear(b, a, ids, max);
	switch (a->family) {
	case AF_INET:
		return lookup4(&b->idx, util_get32be(a->bytes), ids, max);
	case AF_INET6:
		return lookup6(&b->idx, get128(a->bytes), ids, max);
	default:
		return 0;
	}
}

/*
 * Replies.
 */

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
	out->len = old;
	if (out->data != NULL)
		out->data[old] = '\0';
	return -1;
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
	out->len = old;
	if (out->data != NULL)
		out->data[old] = '\0';
	return -1;
}

/*
 * Saving and loading.
 */

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The rename is only durable once the directory is synced too. */
static int
sync_dir(const char *path, char *err, size_t errlen)
{
	char	*dir, *slash;
	int	 fd, rc = 0;

	if ((dir = strdup(path)) == NULL)
		return util_seterr(err, errlen, "%s: out of memory", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		rc = util_seterr(err, errlen, "%s: sync directory: %s", dir,
		    strerror(errno));
	if (fd != -1)
		close(fd);
	free(dir);
	return rc;
}

static int
save_lists(const struct bl *b, int fd, const char *tmp, char *err,
    size_t errlen)
{
	struct buf	line = { NULL, 0, 0 };
	size_t		i;

	for (i = 0; i < b->nlists; i++) {
		if (b->lists[i].npfx == 0)
			continue;	/* cleared: nothing worth keeping */
		buf_reset(&line);
		if (bl_format(&b->lists[i], &line) == -1 ||
		    buf_append(&line, "\n", 1) == -1) {
			buf_free(&line);
			return util_seterr(err, errlen, "%s: out of memory", tmp);
		}
		if (write_all(fd, line.data, line.len) == -1) {
			buf_free(&line);
			return util_seterr(err, errlen, "%s: write: %s", tmp,
			    strerror(errno));
		}
	}
	buf_free(&line);
	return 0;
}

int
bl_save(const struct bl *b, const char *path, char *err, size_t errlen)
{
	char	*tmp;
	int	 fd;

	if (asprintf(&tmp, "%s.tmp", path) == -1)
		return util_seterr(err, errlen, "%s: out of memory", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		util_seterr(err, errlen, "%s: open: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (save_lists(b, fd, tmp, err, errlen) == -1)
		goto fail;
	if (fsync(fd) == -1) {
		util_seterr(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		util_seterr(err, errlen, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		util_seterr(err, errlen, "%s: rename to %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	free(tmp);
	return sync_dir(path, err, errlen);
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
load_lines(struct bl *b, FILE *fp, const char *path, char *err,
    size_t errlen)
{
	struct bl_list	 l;
	char		*line = NULL, why[512];
	size_t		 cap = 0, lineno = 0;
	ssize_t		 n;
	int		 rc = -1;

	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n == 0 || (n == 1 && line[0] == '\n'))
			continue;
		if (bl_parse(line, (size_t)n, &l, why, sizeof(why)) == -1) {
			util_seterr(err, errlen, "%s:%zu: %s", path, lineno, why);
			goto done;
		}
		if (bl_set(b, &l) == -1) {
			util_seterr(err, errlen, "%s:%zu: %s", path, lineno,
			    strerror(errno));
			bl_list_free(&l);
			goto done;
		}
	}
	if (ferror(fp)) {
		util_seterr(err, errlen, "%s: read: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	free(line);
	return rc;
}

int
bl_load(struct bl *b, const char *path, char *err, size_t errlen)
{
	struct bl	*nb;
	FILE		*fp;
	int		 rc;

	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return util_seterr(err, errlen, "%s: open: %s", path,
		    strerror(errno));
	}
	if ((nb = bl_new()) == NULL) {
		fclose(fp);
		return util_seterr(err, errlen, "%s: out of memory", path);
	}
	rc = load_lines(nb, fp, path, err, errlen);
	fclose(fp);
	if (rc == 0 && bl_build(nb) == -1)
		rc = util_seterr(err, errlen, "%s: building the index: out of "
		    "memory", path);
	if (rc == -1) {
		bl_free(nb);
		return -1;
	}
	bl_clear(b);
	*b = *nb;
	free(nb);
	return 0;
}
