/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * spf: SPF records parsed and walked.  See spf.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "spf.h"
#include "util.h"

#define SHOW	64		/* bytes of a bad term shown in an error */

/* --- DNS rdata --- */

int
spf_txt_decode(const uint8_t *rdata, size_t len, char *out, size_t *outlen)
{
	size_t	i = 0, k = 0, l;

	while (i < len) {
		l = rdata[i++];
		if (l > len - i)
			return -1;
		memcpy(out + k, rdata + i, l);
		k += l;
		i += l;
	}
	out[k] = '\0';
	*outlen = k;
	return 0;
}

int
spf_mx_decode(const uint8_t *rdata, size_t len, char *out, size_t outlen)
{
	size_t	i = 2, k = 0, l, j;

	if (len < 3 || outlen < SPF_NAMEMAX + 2)
		return -1;
	while ((l = rdata[i++]) != 0) {
		/* Compression pointers have no place in stored rdata. */
		if (l > 63 || l > len - i || k + l + 1 > SPF_NAMEMAX + 1)
			return -1;
		if (k > 0)
			out[k++] = '.';
		for (j = 0; j < l; j++) {
			if (rdata[i + j] <= ' ' || rdata[i + j] > '~')
				return -1;
			out[k++] = (char)rdata[i + j];
		}
		i += l;
		if (i >= len)
			return -1;
	}
	if (i != len)
		return -1;
	out[k] = '\0';
	return 0;
}

/* --- names --- */

int
spf_name(const char *in, size_t len, char *out, size_t outlen,
    const char **why)
{
	size_t	i, label = 0;
	char	c;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty name";
		return -1;
	}
	if (len > SPF_NAMEMAX || len >= outlen) {
		*why = "name longer than 253 bytes";
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = in[i];
		if (c <= ' ' || c > '~') {
			*why = "a blank or a control character in the name";
			return -1;
		}
		if (c == '.') {
			if (label == 0) {
				*why = "an empty label";
				return -1;
			}
			label = 0;
		} else if (++label > 63) {
			*why = "a label longer than 63 bytes";
			return -1;
		}
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	/* "a.." is an empty label, not a root dot. */
	if (in[len - 1] == '.') {
		*why = "an empty label";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

void
spf_domains_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int
spf_domains_parse(const char *name, const char *text, size_t len,
    char ***out, size_t *nout, char *err, size_t errlen)
{
	char		**v = NULL, buf[SPF_NAMEMAX + 2], show[4 * SHOW + 6];
	const char	*p = text, *end = text + len, *nl, *e, *why;
	size_t		 n = 0, lineno = 0, i, l;

	*out = NULL;
	*nout = 0;
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((e = memchr(p, '#', (size_t)(nl - p))) == NULL)
			e = nl;
		while (p < e && blank(*p))
			p++;
		while (e > p && blank(e[-1]))
			e--;
		l = (size_t)(e - p);
		if (l > 0) {
			util_quote(show, sizeof(show), p, l, SHOW);
			for (i = 0; i < l && !blank(p[i]); i++)
				;
			if (i < l) {
				util_seterr(err, errlen, "%s:%zu: %s: one "
				    "domain a line", name, lineno, show);
				goto fail;
			}
			if (spf_name(p, l, buf, sizeof(buf), &why) == -1) {
				util_seterr(err, errlen, "%s:%zu: %s: %s",
				    name, lineno, show, why);
				goto fail;
			}
			for (i = 0; i < n && strcmp(v[i], buf) != 0; i++)
				;
			if (i == n) {
				if (n == SPF_DOMAINSMAX) {
					util_seterr(err, errlen, "%s:%zu: more "
					    "than %d domains", name, lineno,
					    SPF_DOMAINSMAX);
					goto fail;
				}
				if ((n & (n - 1)) == 0) {
					char **nv = reallocarray(v, n ? n * 2 :
					    1, sizeof(*v));
					if (nv == NULL)
						goto nomem;
					v = nv;
				}
				if ((v[n] = strdup(buf)) == NULL)
					goto nomem;
				n++;
			}
		}
		p = nl + 1;
	}
	*out = v;
	*nout = n;
	return 0;
 nomem:
	util_seterr(err, errlen, "%s: out of memory", name);
 fail:
	spf_domains_free(v, n);
	return -1;
}

/* --- records --- */

/* Room for one more in *vp holding n: doubled at each power of two. */
static bool
grow(void *vp, size_t n, size_t size)
{
	void	**p = vp, *nv;

	if (n > 0 && (n & (n - 1)) != 0)
		return true;
	if ((nv = reallocarray(*p, n ? n * 2 : 1, size)) == NULL)
		return false;
	*p = nv;
	return true;
}


bool
spf_is_record(const char *text, size_t len)
{
	return len >= 6 && strncasecmp(text, "v=spf1", 6) == 0 &&
	    (len == 6 || text[6] == ' ');
}

void
spf_record_free(struct spf_record *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		free(r->t[i].domain);
		free(r->t[i].text);
	}
	free(r->t);
	memset(r, 0, sizeof(*r));
	r->redirect = r->all = -1;
}

/* An error about term (tlen bytes) of domain: -1. */
static int	term_err(char *, size_t, const char *, const char *, size_t,
		    const char *, ...) __attribute__((format(printf, 6, 7)));

static int
term_err(char *err, size_t errlen, const char *domain, const char *term,
    size_t tlen, const char *fmt, ...)
{
	char	show[4 * SHOW + 6], why[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	util_quote(show, sizeof(show), term, tlen, SHOW);
	return util_seterr(err, errlen, "%s: term %s: %s", domain, show, why);
}

/*
 * A domain-spec (RFC 7208 7.1) into t->domain: literal escapes %%, %_
 * and %- applied, a %{...} macro marks it.  NULL why on success.
 */
static const char *
domain_spec(const char *s, size_t len, struct spf_term *t)
{
	char		 buf[SPF_NAMEMAX * 3 + 8], out[SPF_NAMEMAX + 2];
	const char	*why = NULL;
	size_t		 i, k = 0;

	if (len == 0)
		return "no domain after the colon";
	if (len > sizeof(buf) - 4)
		return "domain longer than 253 bytes";
	for (i = 0; i < len; i++) {
		if (k + 3 > sizeof(buf))
			return "domain longer than 253 bytes";
		if (s[i] != '%') {
			buf[k++] = s[i];
			continue;
		}
		if (i + 1 == len)
			return "'%' at the end of the domain";
		switch (s[++i]) {
		case '{':
			t->macro = true;
			buf[k++] = '%';
			buf[k++] = '{';
			break;
		case '%': buf[k++] = '%'; break;
		case '_': buf[k++] = ' '; break;
		case '-': buf[k++] = '%'; buf[k++] = '2'; buf[k++] = '0';
			break;
		default:
			return "'%' not followed by {, %, _ or -";
		}
	}
	if (t->macro) {
		for (i = 0; i < k; i++)
			if (buf[i] >= 'A' && buf[i] <= 'Z')
				buf[i] = (char)(buf[i] - 'A' + 'a');
		t->domain = strndup(buf, k);
	} else {
		if (spf_name(buf, k, out, sizeof(out), &why) == -1)
			return why;
		t->domain = strdup(out);
	}
	return t->domain == NULL ? "out of memory" : NULL;
}

/* "/N" digits: 0..max, no leading zero.  -1 when bad. */
static int
cidr_len(const char *s, size_t len, int max)
{
	int	v = 0;
	size_t	i;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > max ? -1 : v;
}

/* a and mx: "/24", "//64", "/24//64" (s starts at the first '/'). */
static const char *
dual_cidr(const char *s, size_t len, struct spf_term *t)
{
	const char	*d;
	size_t		 l4;

	if (len >= 2 && s[1] == '/') {
		if ((t->cidr6 = cidr_len(s + 2, len - 2, 128)) == -1)
			return "bad IPv6 CIDR length";
		return NULL;
	}
	d = len >= 3 ? memmem(s + 1, len - 1, "//", 2) : NULL;
	l4 = d != NULL ? (size_t)(d - s) - 1 : len - 1;
	if ((t->cidr4 = cidr_len(s + 1, l4, 32)) == -1)
		return "bad IPv4 CIDR length";
	if (d != NULL && (t->cidr6 = cidr_len(d + 2, len - (size_t)(d - s) -
	    2, 128)) == -1)
		return "bad IPv6 CIDR length";
	return NULL;
}

/* ip4:/ip6: values. */
static const char *
ip_value(const char *s, size_t len, struct spf_term *t, int family)
{
	char		 buf[ADDR_STRLEN + 8];
	const char	*slash, *why;
	int		 l = -1;
	size_t		 alen;

	if (len == 0)
		return "no address after the colon";
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if (alen >= ADDR_STRLEN)
		return family == AF_INET ? "not an IPv4 address" :
		    "not an IPv6 address";
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (addr_parse(buf, &t->pfx.addr, &why) == -1 ||
	    t->pfx.addr.family != family || (family == AF_INET6 &&
	    strchr(buf, ':') == NULL) || (family == AF_INET &&
	    strchr(buf, ':') != NULL))
		return family == AF_INET ? "not an IPv4 address" :
		    "not an IPv6 address";
	if (slash != NULL && (l = cidr_len(slash + 1, len - alen - 1,
	    family == AF_INET ? 32 : 128)) == -1)
		return "bad CIDR length";
	t->pfx.len = (uint8_t)(l == -1 ? (family == AF_INET ? 32 : 128) : l);
	prefix_mask(&t->pfx);
	return NULL;
}

static const struct {
	const char	*name;
	enum spf_kind	 kind;
} mechs[] = {
	{ "all", SPF_ALL }, { "include", SPF_INCLUDE }, { "a", SPF_A },
	{ "mx", SPF_MX }, { "ptr", SPF_PTR }, { "ip4", SPF_IP4 },
	{ "ip6", SPF_IP6 }, { "exists", SPF_EXISTS }
};

/* One mechanism term (after its qualifier) into t. */
static const char *
mechanism(const char *s, size_t len, struct spf_term *t)
{
	size_t		 i, nl, rest;
	const char	*arg, *why, *slash;

	for (nl = 0; nl < len && s[nl] != ':' && s[nl] != '/'; nl++)
		;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == nl &&
		    strncasecmp(s, mechs[i].name, nl) == 0)
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0]))
		return "unknown mechanism";
	t->kind = mechs[i].kind;
	t->cidr4 = 32;
	t->cidr6 = 128;
	arg = s + nl;
	rest = len - nl;
	switch (t->kind) {
	case SPF_ALL:
		return rest == 0 ? NULL : "\"all\" takes no argument";
	case SPF_INCLUDE:
	case SPF_EXISTS:
		if (rest == 0 || arg[0] != ':')
			return "needs \":domain\"";
		return domain_spec(arg + 1, rest - 1, t);
	case SPF_PTR:
		if (rest == 0)
			return NULL;
		if (arg[0] != ':')
			return "takes no CIDR length";
		return domain_spec(arg + 1, rest - 1, t);
	case SPF_IP4:
	case SPF_IP6:
		if (rest == 0 || arg[0] != ':')
			return "needs \":address\"";
		return ip_value(arg + 1, rest - 1, t, t->kind == SPF_IP4 ?
		    AF_INET : AF_INET6);
	default:	/* a, mx */
		if (rest == 0)
			return NULL;
		if (arg[0] == ':') {
			slash = memchr(arg, '/', rest);
			why = domain_spec(arg + 1, (slash != NULL ?
			    (size_t)(slash - arg) : rest) - 1, t);
			if (why != NULL || slash == NULL)
				return why;
			rest -= (size_t)(slash - arg);
			arg = slash;
		}
		return dual_cidr(arg, rest, t);
	}
}

/* Is s[0..len) a modifier ("name=")?  Its name's length, or 0. */
static size_t
modifier_name(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; i < len; i++) {
		char c = s[i];
		if (c == '=')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.'))
			return 0;
	}
	return 0;
}

static int
push_term(struct spf_record *r, struct spf_term *t, const char *s,
    size_t len)
{
	if (!grow(&r->t, r->n, sizeof(*r->t)))
		return -1;
	if ((t->text = strndup(s, len)) == NULL)
		return -1;
	r->t[r->n++] = *t;
	return 0;
}

static bool
has_kind(const struct spf_record *r, enum spf_kind k)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].kind == k)
			return true;
	return false;
}

/* One term of the record (s0, len0 bytes): 0, or -1 with err. */
static int
one_term(const char *domain, const char *s0, size_t len0,
    struct spf_record *r, char *err, size_t errlen)
{
	struct spf_term	 t;
	const char	*why, *s = s0;
	size_t		 nl, len = len0;
	bool		 redir;

	memset(&t, 0, sizeof(t));
	if ((nl = modifier_name(s, len)) > 0) {
		redir = nl == 8 && strncasecmp(s, "redirect", 8) == 0;
		if (!redir && !(nl == 3 && strncasecmp(s, "exp", 3) == 0))
			return 0;	/* RFC 7208 6: ignored */
		t.kind = redir ? SPF_REDIRECT : SPF_EXP;
		if (has_kind(r, t.kind)) {
			why = redir ? "a second redirect= (RFC 7208 6)" :
			    "a second exp= (RFC 7208 6)";
			goto bad;
		}
		if ((why = domain_spec(s + nl + 1, len - nl - 1, &t)) != NULL)
			goto bad;
		if (redir)
			r->redirect = (long)r->n;
	} else {
		t.qual = '+';
		if (s[0] == '+' || s[0] == '-' || s[0] == '~' || s[0] == '?') {
			t.qual = s[0];
			s++;
			len--;
		}
		if ((why = mechanism(s, len, &t)) != NULL)
			goto bad;
		if (t.kind == SPF_ALL && r->all < 0)
			r->all = (long)r->n;
	}
	if (push_term(r, &t, s0, len0) == -1) {
		free(t.domain);
		return util_seterr(err, errlen, "%s: out of memory", domain);
	}
	return 0;
 bad:
	free(t.domain);
	return term_err(err, errlen, domain, s0, len0, "%s", why);
}

int
spf_parse(const char *domain, const char *text, size_t len,
    struct spf_record *r, char *err, size_t errlen)
{
	size_t	i, j;

	memset(r, 0, sizeof(*r));
	r->redirect = r->all = -1;
	if (!spf_is_record(text, len))
		return util_seterr(err, errlen, "%s: not an SPF record (no "
		    "\"v=spf1\")", domain);
	for (i = 6; i < len; i = j) {
		while (i < len && text[i] == ' ')
			i++;
		for (j = i; j < len && text[j] != ' '; j++)
			;
		if (j == i)
			break;
		if (one_term(domain, text + i, j - i, r, err, errlen) == -1) {
			spf_record_free(r);
			return -1;
		}
	}
	return 0;
}

/* --- the walk --- */

void
spf_limits_default(struct spf_limits *l)
{
	l->depth = 10;
	l->lookups = 200;
	l->mxhosts = 10;
	l->prefixes = 10000;
	l->recordmax = 4096;
	l->walk_ms = 120000;
}

const char *
spf_pkind_name(enum spf_pkind k)
{
	static const char *const names[SPF_P_N] = {
		[SPF_P_DEAD] = "dead", [SPF_P_LOOP] = "loop",
		[SPF_P_DEEP] = "deep", [SPF_P_LIMIT] = "limit",
		[SPF_P_ERROR] = "error", [SPF_P_SKIPPED] = "skipped",
		[SPF_P_TEMP] = "temp", [SPF_P_TIMEOUT] = "timeout"
	};

	return (unsigned)k < SPF_P_N ? names[k] : "?";
}

/* One domain whose record is being walked. */
struct node {
	char	*domain;
	long	 parent;		/* -1: a top domain */
	size_t	 top;
	unsigned depth;
};

enum wkind { W_TXT, W_A, W_AAAA, W_MX, W_HOSTA, W_HOSTAAAA };

/* Who waits for a lookup, and what to do with its answer. */
struct waiter {
	enum wkind	 kind;
	size_t		 node;
	int		 cidr4, cidr6;
	char		*term;		/* for messages */
};

/* One lookup, asked once, its answer kept for later askers. */
struct lookup {
	char		*name;
	int		 type;
	bool		 asked, answered;
	enum spf_astatus status;
	uint32_t	 ttl;
	size_t		 n;
	char		**text;
	size_t		*textlen;
	struct addr	*addr;
	char		**mx;
	struct waiter	*w;
	size_t		 nw;
};

struct top {
	struct cidr_list l;
	size_t		 added;
	bool		 limited;	/* the prefix limit was said */
};

struct spf_walk {
	struct spf_limits lim;
	uint64_t	 deadline;
	bool		 expired;
	bool		 nomem;
	struct top	*tops;
	struct spf_result *res;		/* side by side, for the caller */
	size_t		 ntops;
	struct node	**nodes;
	size_t		 nnodes;
	struct lookup	**lk;
	size_t		 nlk;
	size_t		 unanswered;
	struct spf_problem *p;
	size_t		 np;
};

/* "top > a > b" for node k, into buf. */
static void
chain(const struct spf_walk *w, size_t k, char *buf, size_t len)
{
	const struct node	*v[64];
	size_t			 n = 0, off = 0;
	long			 i = (long)k;

	while (i >= 0 && n < 64) {
		v[n++] = w->nodes[i];
		i = w->nodes[i]->parent;
	}
	buf[0] = '\0';
	while (n-- > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    v[n]->domain, n > 0 ? " > " : "");
}

static void	problem(struct spf_walk *, enum spf_pkind, size_t,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));

static void
problem(struct spf_walk *w, enum spf_pkind kind, size_t node,
    const char *term, const char *fmt, ...)
{
	char		 c[1024], why[512];
	struct spf_problem *p;
	va_list		 ap;
	size_t		 top = w->nodes[node]->top;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	chain(w, node, c, sizeof(c));
	if (kind == SPF_P_TEMP || kind == SPF_P_TIMEOUT)
		w->res[top].failed = true;
	if (!grow(&w->p, w->np, sizeof(*w->p))) {
		w->nomem = true;
		return;
	}
	p = &w->p[w->np];
	p->kind = kind;
	p->top = top;
	if (asprintf(&p->text, "%s: %s%s%s", c, term != NULL ? term : "",
	    term != NULL ? ": " : "", why) == -1) {
		w->nomem = true;
		return;
	}
	w->np++;
}

static void dispatch(struct spf_walk *, struct lookup *, struct waiter *);

/* Wait for name/type; an answer already there is used at once. */
static void
request(struct spf_walk *w, size_t node, enum wkind kind, const char *name,
    int type, int cidr4, int cidr6, const char *term)
{
	struct lookup	*q = NULL;
	struct waiter	 wt;
	size_t		 i;

	wt.kind = kind;
	wt.node = node;
	wt.cidr4 = cidr4;
	wt.cidr6 = cidr6;
	wt.term = NULL;
	if (term != NULL && (wt.term = strdup(term)) == NULL) {
		w->nomem = true;
		return;
	}
	for (i = 0; i < w->nlk; i++)
		if (w->lk[i]->type == type && strcmp(w->lk[i]->name,
		    name) == 0) {
			q = w->lk[i];
			break;
		}
	if (q == NULL) {
		if (!grow(&w->lk, w->nlk, sizeof(*w->lk)) ||
		    (q = calloc(1, sizeof(*q))) == NULL ||
		    (q->name = strdup(name)) == NULL) {
			free(q);
			free(wt.term);
			w->nomem = true;
			return;
		}
		q->type = type;
		w->lk[w->nlk++] = q;
		w->unanswered++;
	}
	if (q->answered) {
		dispatch(w, q, &wt);
		free(wt.term);
		return;
	}
	if (!grow(&q->w, q->nw, sizeof(*q->w))) {
		free(wt.term);
		w->nomem = true;
		return;
	}
	q->w[q->nw++] = wt;
}

/* A term that queries: counted against the top domain's limit. */
static bool
count_lookup(struct spf_walk *w, size_t node, const char *term)
{
	struct spf_result *r = &w->res[w->nodes[node]->top];

	if (r->lookups >= w->lim.lookups) {
		problem(w, SPF_P_LIMIT, node, term, "over the limit of %u "
		    "lookups for %s; not followed", w->lim.lookups, r->domain);
		return false;
	}
	r->lookups++;
	return true;
}

static void
add_prefix(struct spf_walk *w, size_t node, const char *term,
    const struct prefix *p)
{
	size_t		 top = w->nodes[node]->top;
	struct top	*t = &w->tops[top];

	if (t->added >= w->lim.prefixes) {
		if (!t->limited)
			problem(w, SPF_P_LIMIT, node, term, "over the limit "
			    "of %zu prefixes for %s; the rest left out",
			    w->lim.prefixes, w->res[top].domain);
		t->limited = true;
		return;
	}
	if (cidr_add_prefix(&t->l, p) == -1)
		w->nomem = true;
	t->added++;
}

static void
new_node(struct spf_walk *w, size_t parent, const char *domain,
    const char *term)
{
	struct node	*nd = NULL, *p = w->nodes[parent];
	long		 i;

	for (i = (long)parent; i >= 0; i = w->nodes[i]->parent)
		if (strcmp(w->nodes[i]->domain, domain) == 0) {
			problem(w, SPF_P_LOOP, parent, term, "loop (%s is "
			    "already on the path); not followed", domain);
			return;
		}
	if (p->depth + 1 > w->lim.depth) {
		problem(w, SPF_P_DEEP, parent, term, "deeper than %u "
		    "includes and redirects; not followed", w->lim.depth);
		return;
	}
	if (!grow(&w->nodes, w->nnodes, sizeof(*w->nodes)) ||
	    (nd = calloc(1, sizeof(*nd))) == NULL ||
	    (nd->domain = strdup(domain)) == NULL) {
		free(nd);
		w->nomem = true;
		return;
	}
	nd->parent = (long)parent;
	nd->top = p->top;
	nd->depth = p->depth + 1;
	w->nodes[w->nnodes++] = nd;
	request(w, w->nnodes - 1, W_TXT, domain, SPF_QTXT, 0, 0, NULL);
}

/* The record of node k: its terms that pass, walked. */
static void
walk_record(struct spf_walk *w, size_t k, const struct spf_record *r)
{
	const struct spf_term	*t;
	const char		*d;
	char			 dom[SPF_NAMEMAX + 2];
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		t = &r->t[i];
		if (t->kind == SPF_ALL)
			break;	/* what follows never matches */
		if (t->kind == SPF_REDIRECT || t->kind == SPF_EXP ||
		    t->qual != '+')
			continue;
		if (t->macro) {
			problem(w, SPF_P_SKIPPED, k, t->text, "a macro needs "
			    "a sender; skipped");
			continue;
		}
		/* The node may move when nodes grows: copy its name. */
		snprintf(dom, sizeof(dom), "%s", w->nodes[k]->domain);
		d = t->domain != NULL ? t->domain : dom;
		switch (t->kind) {
		case SPF_IP4:
		case SPF_IP6:
			add_prefix(w, k, t->text, &t->pfx);
			break;
		case SPF_A:
			if (count_lookup(w, k, t->text)) {
				request(w, k, W_A, d, SPF_QA, t->cidr4,
				    t->cidr6, t->text);
				request(w, k, W_AAAA, d, SPF_QAAAA, t->cidr4,
				    t->cidr6, t->text);
			}
			break;
		case SPF_MX:
			if (count_lookup(w, k, t->text))
				request(w, k, W_MX, d, SPF_QMX, t->cidr4,
				    t->cidr6, t->text);
			break;
		case SPF_INCLUDE:
			if (count_lookup(w, k, t->text))
				new_node(w, k, d, t->text);
			break;
		case SPF_PTR:
		case SPF_EXISTS:
			problem(w, SPF_P_SKIPPED, k, t->text, "needs a "
			    "sender; skipped");
			break;
		default:
			break;
		}
	}
	if (r->all < 0 && r->redirect >= 0) {
		t = &r->t[r->redirect];
		if (t->macro)
			problem(w, SPF_P_SKIPPED, k, t->text, "a macro needs "
			    "a sender; skipped");
		else if (count_lookup(w, k, t->text))
			new_node(w, k, t->domain, t->text);
	}
}

static void
on_txt(struct spf_walk *w, const struct lookup *q, size_t k)
{
	struct spf_record	 r;
	char			 err[512];
	size_t			 i, found = 0, at = 0;

	for (i = 0; i < q->n; i++)
		if (spf_is_record(q->text[i], q->textlen[i])) {
			found++;
			at = i;
		}
	if (found == 0) {
		problem(w, SPF_P_DEAD, k, NULL, "no SPF record (%zu TXT "
		    "record%s)", q->n, q->n == 1 ? "" : "s");
		return;
	}
	if (found > 1) {
		problem(w, SPF_P_ERROR, k, NULL, "%zu SPF records, a "
		    "permanent error (RFC 7208 4.5)", found);
		return;
	}
	if (q->textlen[at] > w->lim.recordmax) {
		problem(w, SPF_P_ERROR, k, NULL, "SPF record of %zu bytes, "
		    "more than %zu", q->textlen[at], w->lim.recordmax);
		return;
	}
	if (memchr(q->text[at], '\0', q->textlen[at]) != NULL) {
		problem(w, SPF_P_ERROR, k, NULL, "a NUL byte in the SPF "
		    "record");
		return;
	}
	if (spf_parse(w->nodes[k]->domain, q->text[at], q->textlen[at], &r,
	    err, sizeof(err)) == -1) {
		problem(w, SPF_P_ERROR, k, NULL, "%s", err);
		return;
	}
	walk_record(w, k, &r);
	spf_record_free(&r);
}

static void
on_addr(struct spf_walk *w, const struct lookup *q, const struct waiter *wt)
{
	struct prefix	p;
	size_t		i;

	for (i = 0; i < q->n; i++) {
		p.addr = q->addr[i];
		if (p.addr.family == AF_INET && (wt->kind == W_A ||
		    wt->kind == W_HOSTA))
			p.len = (uint8_t)wt->cidr4;
		else if (p.addr.family == AF_INET6 && (wt->kind == W_AAAA ||
		    wt->kind == W_HOSTAAAA))
			p.len = (uint8_t)wt->cidr6;
		else
			continue;
		prefix_mask(&p);
		add_prefix(w, wt->node, wt->term, &p);
	}
}

static void
on_mx(struct spf_walk *w, const struct lookup *q, const struct waiter *wt)
{
	size_t	i;

	for (i = 0; i < q->n; i++) {
		if (i == w->lim.mxhosts) {
			problem(w, SPF_P_LIMIT, wt->node, wt->term, "%zu MX "
			    "hosts, more than %u; the rest left out", q->n,
			    w->lim.mxhosts);
			break;
		}
		if (q->mx[i][0] == '\0')
			continue;	/* a null MX (RFC 7505) */
		if (!count_lookup(w, wt->node, wt->term))
			break;
		request(w, wt->node, W_HOSTA, q->mx[i], SPF_QA, wt->cidr4,
		    wt->cidr6, wt->term);
		request(w, wt->node, W_HOSTAAAA, q->mx[i], SPF_QAAAA,
		    wt->cidr4, wt->cidr6, wt->term);
	}
}

static void
dispatch(struct spf_walk *w, struct lookup *q, struct waiter *wt)
{
	struct spf_result	*r = &w->res[w->nodes[wt->node]->top];
	const char		*what;

	what = q->type == SPF_QTXT ? "TXT" : q->type == SPF_QMX ? "MX" :
	    q->type == SPF_QA ? "A" : "AAAA";
	switch (q->status) {
	case SPF_ANS_OK:
		break;
	case SPF_ANS_NXDOMAIN:
		/* Reported once for a and mx hosts: on the A lookup. */
		if (wt->kind == W_TXT)
			problem(w, SPF_P_DEAD, wt->node, NULL, "no such "
			    "domain (NXDOMAIN)");
		else if (wt->kind == W_A || wt->kind == W_MX ||
		    wt->kind == W_HOSTA)
			problem(w, SPF_P_DEAD, wt->node, wt->term, "%s: no "
			    "such domain (NXDOMAIN)", q->name);
		return;
	case SPF_ANS_TIMEOUT:
		problem(w, SPF_P_TIMEOUT, wt->node, wt->term, "%s %s: no "
		    "answer in time", q->name, what);
		return;
	case SPF_ANS_SERVFAIL:
		problem(w, SPF_P_TEMP, wt->node, wt->term, "%s %s: server "
		    "failure", q->name, what);
		return;
	default:
		problem(w, SPF_P_TEMP, wt->node, wt->term, "%s %s: resolver "
		    "error", q->name, what);
		return;
	}
	/* A NODATA's TTL is the zone's negative one: not a record used. */
	if (q->n > 0 && q->ttl < r->ttl)
		r->ttl = q->ttl;
	switch (wt->kind) {
	case W_TXT:
		on_txt(w, q, wt->node);
		break;
	case W_MX:
		on_mx(w, q, wt);
		break;
	default:
		on_addr(w, q, wt);
		break;
	}
}

int
spf_walk_new(struct spf_walk **out, const char *const *domains, size_t n,
    const struct spf_limits *lim, uint64_t now_ms)
{
	struct spf_walk	*w;
	size_t		 i;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->lim = *lim;
	w->deadline = now_ms + lim->walk_ms;
	if (n > 0 && ((w->tops = calloc(n, sizeof(*w->tops))) == NULL ||
	    (w->res = calloc(n, sizeof(*w->res))) == NULL ||
	    (w->nodes = calloc(n, sizeof(*w->nodes))) == NULL)) {
		spf_walk_free(w);
		return -1;
	}
	w->ntops = n;
	for (i = 0; i < n; i++) {
		cidr_list_init(&w->tops[i].l);
		w->res[i].ttl = UINT32_MAX;
	}
	for (i = 0; i < n; i++) {
		if ((w->nodes[i] = calloc(1, sizeof(**w->nodes))) == NULL ||
		    (w->nodes[i]->domain = strdup(domains[i])) == NULL) {
			w->nnodes = i + (w->nodes[i] != NULL);
			spf_walk_free(w);
			return -1;
		}
		w->res[i].domain = w->nodes[i]->domain;
		w->nodes[i]->parent = -1;
		w->nodes[i]->top = i;
		w->nnodes = i + 1;
	}
	/* nodes was sized n, grow() wants a power of two or more. */
	if (n > 0) {
		size_t cap = 1;
		struct node **nv;
		while (cap < n)
			cap *= 2;
		if ((nv = reallocarray(w->nodes, cap, sizeof(*nv))) == NULL) {
			spf_walk_free(w);
			return -1;
		}
		w->nodes = nv;
	}
	for (i = 0; i < n; i++)
		request(w, i, W_TXT, domains[i], SPF_QTXT, 0, 0, NULL);
	if (w->nomem) {
		spf_walk_free(w);
		return -1;
	}
	*out = w;
	return 0;
}

static void
lookup_free(struct lookup *q)
{
	size_t	i;

	for (i = 0; i < q->nw; i++)
		free(q->w[i].term);
	free(q->w);
	for (i = 0; q->text != NULL && i < q->n; i++)
		free(q->text[i]);
	for (i = 0; q->mx != NULL && i < q->n; i++)
		free(q->mx[i]);
	free(q->text);
	free(q->textlen);
	free(q->addr);
	free(q->mx);
	free(q->name);
	free(q);
}

void
spf_walk_free(struct spf_walk *w)
{
	size_t	i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nlk; i++)
		lookup_free(w->lk[i]);
	free(w->lk);
	for (i = 0; i < w->nnodes; i++) {
		free(w->nodes[i]->domain);
		free(w->nodes[i]);
	}
	free(w->nodes);
	for (i = 0; i < w->ntops; i++) {
		cidr_list_free(&w->tops[i].l);
		free(w->res[i].pfx);
	}
	free(w->tops);
	free(w->res);
	for (i = 0; i < w->np; i++)
		free(w->p[i].text);
	free(w->p);
	free(w);
}

/* q's answer is in: every waiter gets it. */
static void
answered(struct spf_walk *w, struct lookup *q)
{
	struct waiter	*v = q->w;
	size_t		 i, n = q->nw;

	q->answered = true;
	q->w = NULL;
	q->nw = 0;
	w->unanswered--;
	for (i = 0; i < n; i++) {
		dispatch(w, q, &v[i]);
		free(v[i].term);
	}
	free(v);
}

size_t
spf_walk_next(struct spf_walk *w, uint64_t now_ms, struct spf_query *out,
    size_t max)
{
	size_t	i, k = 0;

	if (!w->expired && now_ms >= w->deadline) {
		w->expired = true;
		/* Answering one may ask more: loop until none is left. */
		for (i = 0; i < w->nlk; i++)
			if (!w->lk[i]->answered) {
				w->lk[i]->status = SPF_ANS_TIMEOUT;
				w->lk[i]->asked = true;
				answered(w, w->lk[i]);
				i = (size_t)-1;
			}
	}
	if (w->expired)
		return 0;
	for (i = 0; i < w->nlk && k < max; i++)
		if (!w->lk[i]->asked) {
			w->lk[i]->asked = true;
			out[k].id = (unsigned)i;
			out[k].name = w->lk[i]->name;
			out[k].type = w->lk[i]->type;
			k++;
		}
	return k;
}

/* a's records into q (copied: the caller's live only for the call). */
static int
keep_answer(struct lookup *q, const struct spf_answer *a)
{
	size_t	i;

	q->status = a->status;
	q->ttl = a->ttl;
	if (a->status != SPF_ANS_OK || a->n == 0)
		return 0;
	switch (q->type) {
	case SPF_QTXT:
		if (a->text == NULL || a->textlen == NULL)
			return 0;
		if ((q->text = calloc(a->n, sizeof(*q->text))) == NULL ||
		    (q->textlen = calloc(a->n, sizeof(*q->textlen))) == NULL)
			return -1;
		for (i = 0; i < a->n; i++) {
			if ((q->text[i] = malloc(a->textlen[i] + 1)) == NULL) {
				q->n = i;
				return -1;
			}
			memcpy(q->text[i], a->text[i], a->textlen[i]);
			q->text[i][a->textlen[i]] = '\0';
			q->textlen[i] = a->textlen[i];
		}
		break;
	case SPF_QMX:
		if (a->name == NULL)
			return 0;
		if ((q->mx = calloc(a->n, sizeof(*q->mx))) == NULL)
			return -1;
		for (i = 0; i < a->n; i++) {
			char b[SPF_NAMEMAX + 2];
			const char *why;
			if (spf_name(a->name[i], strlen(a->name[i]), b,
			    sizeof(b), &why) == -1)
				b[0] = '\0';	/* unusable: like a null MX */
			if ((q->mx[i] = strdup(b)) == NULL) {
				q->n = i;
				return -1;
			}
		}
		break;
	default:
		if (a->addr == NULL)
			return 0;
		if ((q->addr = reallocarray(NULL, a->n, sizeof(*q->addr))) ==
		    NULL)
			return -1;
		memcpy(q->addr, a->addr, a->n * sizeof(*q->addr));
		break;
	}
	q->n = a->n;
	return 0;
}

int
spf_walk_answer(struct spf_walk *w, unsigned id, const struct spf_answer *a)
{
	struct lookup	*q;

	if (id >= w->nlk || w->lk[id]->answered || !w->lk[id]->asked)
		return 0;	/* late, or after the deadline */
	q = w->lk[id];
	if (keep_answer(q, a) == -1) {
		w->nomem = true;
		q->status = SPF_ANS_ERROR;
	}
	answered(w, q);
	return w->nomem ? -1 : 0;
}

bool
spf_walk_done(const struct spf_walk *w)
{
	return w->unanswered == 0 || w->nomem;
}

int
spf_walk_results(struct spf_walk *w, const struct spf_result **r,
    size_t *nr, const struct spf_problem **p, size_t *np)
{
	struct spf_result	*x;
	size_t			 i;

	if (w->nomem)
		return -1;
	for (i = 0; i < w->ntops; i++) {
		x = &w->res[i];
		if (x->ttl == UINT32_MAX)
			x->ttl = 0;
		if (x->pfx == NULL && w->tops[i].l.n4 + w->tops[i].l.n6 > 0 &&
		    cidr_collapse(&w->tops[i].l, NULL, &x->pfx, &x->n) == -1)
			return -1;
	}
	*r = w->res;
	*nr = w->ntops;
	*p = w->p;
	*np = w->np;
	return 0;
}
