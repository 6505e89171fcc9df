/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * spfwalk: :method=spf: lists.  See spfwalk.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cidr.h"
#include "spfwalk.h"
#include "util.h"

/* One lookup in flight. */
struct slot {
	struct spf_walk	*w;
	bool		 live;
	unsigned	 wid;		/* the walk's id */
	int		 rid;		/* the resolver's */
	uint64_t	 deadline;
	bool		 nomem;
};

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static enum spf_astatus
status_of(enum resolver_status s)
{
	switch (s) {
	case RESOLVER_OK: return SPF_ANS_OK;
	case RESOLVER_NXDOMAIN: return SPF_ANS_NXDOMAIN;
	case RESOLVER_SERVFAIL: return SPF_ANS_SERVFAIL;
	default: return SPF_ANS_ERROR;
	}
}

/* The resolver's answer, as the walk takes it. */
static void
on_answer(void *arg, const struct resolver_answer *ra)
{
	struct slot		*s = arg;
	struct spf_answer	 a;
	const char		**text = NULL, **name = NULL;
	size_t			*tlen = NULL, i, k = 0;
	struct addr		*ad = NULL;
	char			(*mx)[SPF_NAMEMAX + 2] = NULL;

	s->live = false;
	memset(&a, 0, sizeof(a));
	a.status = status_of(ra->status);
	a.ttl = ra->ttl;
	if (a.status == SPF_ANS_OK && ra->n > 0) {
		if ((text = calloc(ra->n, sizeof(*text))) == NULL ||
		    (tlen = calloc(ra->n, sizeof(*tlen))) == NULL ||
		    (ad = calloc(ra->n, sizeof(*ad))) == NULL ||
		    (name = calloc(ra->n, sizeof(*name))) == NULL ||
		    (mx = calloc(ra->n, sizeof(*mx))) == NULL) {
			a.status = SPF_ANS_ERROR;
			goto out;
		}
		for (i = 0; i < ra->n; i++) {
			const struct resolver_rr *rr = &ra->rr[i];
			switch (ra->type) {
			case RESOLVER_TXT:
				/* Malformed rdata: a record that is no SPF. */
				text[k] = rr->text != NULL ? rr->text : "";
				tlen[k++] = rr->text != NULL ? rr->textlen : 0;
				break;
			case RESOLVER_A:
				if (rr->len != 4)
					break;
				ad[k].family = AF_INET;
				memcpy(ad[k++].bytes, rr->rdata, 4);
				break;
			case RESOLVER_AAAA:
				if (rr->len != 16)
					break;
				ad[k].family = AF_INET6;
				memcpy(ad[k++].bytes, rr->rdata, 16);
				break;
			case RESOLVER_MX:
				if (spf_mx_decode(rr->rdata, rr->len, mx[k],
				    sizeof(mx[k])) == -1)
					mx[k][0] = '\0';
				name[k] = mx[k];
				k++;
				break;
			}
		}
		a.n = k;
		a.text = text;
		a.textlen = tlen;
		a.addr = ad;
		a.name = name;
	}
 out:
	if (spf_walk_answer(s->w, s->wid, &a) == -1)
		s->nomem = true;
	free(text);
	free(tlen);
	free(ad);
	free(name);
	free(mx);
}

/* Log the walk's problems and results; count them in it. */
static void
report(struct ctx *x, struct item *it, const struct spf_result *r,
    size_t nr, const struct spf_problem *p, size_t np)
{
	size_t	i, pfx = 0;
	unsigned lookups = 0;

	it->spf_ttl = UINT32_MAX;
	for (i = 0; i < np; i++) {
		it->spf_problems[p[i].kind]++;
		if (p[i].kind != SPF_P_SKIPPED)
			log_warnx(&x->log, "list %s: spf %s: %s", it->l->name,
			    spf_pkind_name(p[i].kind), p[i].text);
		else if (x->c.debug)
			log_info(&x->log, "list %s: spf %s: %s", it->l->name,
			    spf_pkind_name(p[i].kind), p[i].text);
	}
	for (i = 0; i < nr; i++) {
		pfx += r[i].n;
		lookups += r[i].lookups;
		if (r[i].n > 0 && r[i].ttl < it->spf_ttl)
			it->spf_ttl = r[i].ttl;
		if (x->c.debug)
			log_info(&x->log, "list %s: %s: %zu prefixes, ttl %u "
			    "s, %u lookups%s", it->l->name, r[i].domain,
			    r[i].n, r[i].ttl, r[i].lookups, r[i].failed ?
			    ", failed" : "");
	}
	if (it->spf_ttl == UINT32_MAX)
		it->spf_ttl = 0;
	if (x->c.debug)
		log_info(&x->log, "list %s: spf %s, %zu domains, %zu prefixes "
		    "before collapsing, %u lookups, least ttl %u s",
		    it->l->name, it->l->file, nr, pfx, lookups, it->spf_ttl);
}

/* The walk's lookups, in flight until answered, cancelled or done. */
static int
drive(struct ctx *x, struct spf_walk *w, char *err, size_t errlen)
{
	struct slot		 s[SPFWALK_INFLIGHT];
	struct spf_query	 q[SPFWALK_INFLIGHT];
	struct spf_answer	 none;
	struct pollfd		 pfd;
	uint64_t		 now, next;
	size_t			 i, j, k, live, free_n;
	int			 r = 0, ms;
	char			 e[ERRLEN];

	memset(s, 0, sizeof(s));
	for (;;) {
		now = mono_ms();
		for (i = 0, live = 0; i < SPFWALK_INFLIGHT; i++)
			live += s[i].live;
		free_n = SPFWALK_INFLIGHT - live;
		k = spf_walk_next(w, now, q, free_n);
		for (j = 0, i = 0; j < k; j++) {
			while (s[i].live)
				i++;
			s[i] = (struct slot){ .w = w, .live = true,
			    .wid = q[j].id, .deadline = now +
			    (uint64_t)x->c.dns_timeout * 1000 };
			if (resolver_query(x->res, q[j].name, q[j].type,
			    on_answer, &s[i], &s[i].rid, e, sizeof(e)) == -1) {
				log_warnx(&x->log, "dns: %s", e);
				s[i].live = false;
				memset(&none, 0, sizeof(none));
				none.status = SPF_ANS_ERROR;
				if (spf_walk_answer(w, q[j].id, &none) == -1)
					return util_seterr(err, errlen,
					    "out of memory");
			}
		}
		if (spf_walk_done(w))
			break;
		next = UINT64_MAX;
		for (i = 0; i < SPFWALK_INFLIGHT; i++)
			if (s[i].live && s[i].deadline < next)
				next = s[i].deadline;
		if (next == UINT64_MAX) {
			/* Nothing in flight, nothing to ask: the deadline. */
			next = now + 1000;
		}
		ms = next > now ? (int)(next - now) : 0;
		pfd.fd = resolver_fd(x->res);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) == -1 && errno != EINTR) {
			r = util_seterr(err, errlen, "poll: %s",
			    strerror(errno));
			break;
		}
		if ((pfd.revents & POLLIN) && resolver_process(x->res, e,
		    sizeof(e)) == -1) {
			r = util_seterr(err, errlen, "%s", e);
			break;
		}
		now = mono_ms();
		for (i = 0; i < SPFWALK_INFLIGHT; i++) {
			if (s[i].nomem)
				return util_seterr(err, errlen,
				    "out of memory");
			if (!s[i].live || s[i].deadline > now)
				continue;
			/* libunbound keeps trying: the deadline is ours. */
			resolver_cancel(x->res, s[i].rid);
			s[i].live = false;
			memset(&none, 0, sizeof(none));
			none.status = SPF_ANS_TIMEOUT;
			if (spf_walk_answer(w, s[i].wid, &none) == -1)
				return util_seterr(err, errlen,
				    "out of memory");
		}
	}
	for (i = 0; i < SPFWALK_INFLIGHT; i++)
		if (s[i].live)
			resolver_cancel(x->res, s[i].rid);
	return r;
}

/* The domains of it's :file=, walked; it->ranges filled. */
static int
walk(struct ctx *x, struct item *it, char **domains, size_t nd, char *err,
    size_t errlen)
{
	struct spf_limits		 lim;
	struct spf_walk			*w;
	const struct spf_result		*r;
	const struct spf_problem	*p;
	size_t				 nr, np, i, j, failed = 0;
	const char			*first = NULL;

	spf_limits_default(&lim);
	/* The list's whole walk gets what a download gets. */
	lim.walk_ms = (uint64_t)x->c.fo.timeout * 1000;
	if (spf_walk_new(&w, (const char *const *)domains, nd, &lim,
	    mono_ms()) == -1)
		return util_seterr(err, errlen, "out of memory");
	if (drive(x, w, err, errlen) == -1 ||
	    spf_walk_results(w, &r, &nr, &p, &np) == -1) {
		if (err[0] == '\0')
			util_seterr(err, errlen, "out of memory");
		it->fail = FAIL_MEMORY;
		spf_walk_free(w);
		return -1;
	}
	report(x, it, r, nr, p, np);
	for (i = 0; i < nr; i++) {
		if (r[i].failed) {
			failed++;
			first = first != NULL ? first : r[i].domain;
		}
		for (j = 0; j < r[i].n; j++)
			if (cidr_add_prefix(&it->ranges, &r[i].pfx[j]) == -1) {
				spf_walk_free(w);
				it->fail = FAIL_MEMORY;
				return util_seterr(err, errlen,
				    "out of memory");
			}
	}
	if (failed > 0) {
		it->fail = FAIL_DNS;
		util_seterr(err, errlen, "%s: DNS lookups failed for %zu of "
		    "%zu domains (%s first; see above)", it->l->file, failed,
		    nd, first);
		spf_walk_free(w);
		return -1;
	}
	spf_walk_free(w);
	if (it->ranges.n4 + it->ranges.n6 == 0) {
		it->fail = FAIL_EMPTY;
		return util_seterr(err, errlen, "%s: no addresses in the SPF "
		    "records of %zu domains", it->l->file, nd);
	}
	return 0;
}

void
spfwalk_item(struct ctx *x, struct item *it)
{
	struct timespec	 t0, t1;
	char		 err[ERRLEN], *data = NULL, **domains = NULL;
	size_t		 len, nd = 0;

	err[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	it->fail = FAIL_FETCH;
	if (read_file(it->l->file, SPFWALK_FILEMAX, &data, &len, err,
	    sizeof(err)) == -1 || spf_domains_parse(it->l->file, data, len,
	    &domains, &nd, err, sizeof(err)) == -1)
		goto done;
	if (nd == 0) {
		it->fail = FAIL_EMPTY;
		util_seterr(err, sizeof(err), "%s: no domains", it->l->file);
		goto done;
	}
	if (x->res == NULL && resolver_new(&x->res, x->c.resolvers,
	    x->c.nresolvers, err, sizeof(err)) == -1) {
		x->res = NULL;
		it->fail = FAIL_DNS;
		goto done;
	}
	if (walk(x, it, domains, nd, err, sizeof(err)) == 0) {
		it->ok = true;
		it->fail = FAIL_NONE;
	}
 done:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	it->secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!it->ok && (it->why = strdup(err)) == NULL)
		it->fail = FAIL_MEMORY;
	spf_domains_free(domains, nd);
	free(data);
}
