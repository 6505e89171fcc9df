/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * resolver: libunbound's asynchronous API behind a small interface.
 * See resolver.h.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "addr.h"
#include "resolver.h"
#include "spf.h"
#include "util.h"

/* One query in flight: libunbound holds a pointer to it. */
struct rq {
	struct resolver	*r;
	int		 id;
	int		 type;
	resolver_cb	 cb;
	void		*arg;
	char		 name[];
};

struct resolver {
	struct ub_ctx	*ub;
	struct rq	**q;		/* pending */
	size_t		  nq, capq;
};

int
resolver_check_fwd(const char *spec, char *err, size_t errlen)
{
	char		 a[ADDR_STRLEN];
	const char	*at, *why;
	struct addr	 ad;
	char		*end;
	unsigned long	 port;
	size_t		 alen;

	at = strchr(spec, '@');
	alen = at != NULL ? (size_t)(at - spec) : strlen(spec);
	if (alen == 0 || alen >= sizeof(a))
		return util_seterr(err, errlen, "--resolver %s: not an "
		    "address (ADDR or ADDR@PORT)", spec);
	memcpy(a, spec, alen);
	a[alen] = '\0';
	if (addr_parse(a, &ad, &why) == -1)
		return util_seterr(err, errlen, "--resolver %s: %s: %s", spec,
		    a, why);
	if (at != NULL) {
		errno = 0;
		port = strtoul(at + 1, &end, 10);
		if (at[1] < '0' || at[1] > '9' || *end != '\0' ||
		    errno != 0 || port == 0 || port > 65535)
			return util_seterr(err, errlen, "--resolver %s: bad "
			    "port \"%s\" (1-65535)", spec, at + 1);
	}
	return 0;
}

int
resolver_new(struct resolver **out, const char *const *fwd, size_t nfwd,
    char *err, size_t errlen)
{
	struct resolver	*r;
	size_t		 i;
	int		 e;

	*out = NULL;
	if (nfwd > RESOLVER_FWDMAX)
		return util_seterr(err, errlen, "%zu resolvers, more than %d",
		    nfwd, RESOLVER_FWDMAX);
	for (i = 0; i < nfwd; i++)
		if (resolver_check_fwd(fwd[i], err, errlen) == -1)
			return -1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if ((r->ub = ub_ctx_create()) == NULL) {
		free(r);
		return util_seterr(err, errlen, "libunbound: cannot create "
		    "a context");
	}
	/* A thread, not a forked process: nothing outlives us. */
	if ((e = ub_ctx_async(r->ub, 1)) != 0) {
		util_seterr(err, errlen, "libunbound: %s", ub_strerror(e));
		goto fail;
	}
	for (i = 0; i < nfwd; i++)
		if ((e = ub_ctx_set_fwd(r->ub, fwd[i])) != 0) {
			util_seterr(err, errlen, "--resolver %s: %s", fwd[i],
			    ub_strerror(e));
			goto fail;
		}
	if (nfwd == 0) {
		if ((e = ub_ctx_resolvconf(r->ub, NULL)) != 0) {
			util_seterr(err, errlen, "/etc/resolv.conf: %s",
			    ub_strerror(e));
			goto fail;
		}
		/* A missing /etc/hosts is no reason to fail. */
		(void)ub_ctx_hosts(r->ub, NULL);
	}
	*out = r;
	return 0;
 fail:
	ub_ctx_delete(r->ub);
	free(r);
	return -1;
}

static void
rq_drop(struct resolver *r, struct rq *q)
{
	size_t	i;

	for (i = 0; i < r->nq; i++)
		if (r->q[i] == q) {
			r->q[i] = r->q[--r->nq];
			break;
		}
	free(q);
}

void
resolver_free(struct resolver *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nq; i++) {
		(void)ub_cancel(r->ub, r->q[i]->id);
		free(r->q[i]);
	}
	free(r->q);
	ub_ctx_delete(r->ub);
	free(r);
}

int
resolver_fd(const struct resolver *r)
{
	return ub_fd(r->ub);
}

size_t
resolver_pending(const struct resolver *r)
{
	return r->nq;
}

/* The TXT records' texts, decoded into rr[i].text (malloc'd). */
static void
txt_decode(struct resolver_rr *rr, size_t n, char **bufs)
{
	size_t	i, tl;

	for (i = 0; i < n; i++) {
		bufs[i] = NULL;
		if ((bufs[i] = malloc(rr[i].len + 1)) == NULL)
			continue;
		if (spf_txt_decode(rr[i].rdata, rr[i].len, bufs[i], &tl) ==
		    -1) {
			free(bufs[i]);
			bufs[i] = NULL;
			continue;
		}
		rr[i].text = bufs[i];
		rr[i].textlen = tl;
	}
}

static void
on_result(void *arg, int err, struct ub_result *res)
{
	struct rq		*q = arg;
	struct resolver		*r = q->r;
	struct resolver_answer	 a;
	struct resolver_rr	*rr = NULL;
	char			**bufs = NULL;
	size_t			 i, n = 0;

	memset(&a, 0, sizeof(a));
	a.name = q->name;
	a.type = q->type;
	if (err != 0 || res == NULL) {
		a.status = RESOLVER_ERROR;
		a.why = ub_strerror(err);
	} else {
		a.rcode = res->rcode;
		a.ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
		if (res->nxdomain || res->rcode == 3)
			a.status = RESOLVER_NXDOMAIN;
		else if (res->rcode != 0)
			a.status = RESOLVER_SERVFAIL;
		else
			a.status = RESOLVER_OK;
		if (a.status == RESOLVER_OK && res->havedata)
			while (res->data[n] != NULL)
				n++;
		if (n > 0 && ((rr = calloc(n, sizeof(*rr))) == NULL ||
		    (q->type == RESOLVER_TXT && (bufs = calloc(n,
		    sizeof(*bufs))) == NULL))) {
			a.status = RESOLVER_ERROR;
			a.why = "out of memory";
			n = 0;
		}
		for (i = 0; i < n; i++) {
			rr[i].rdata = (const uint8_t *)res->data[i];
			rr[i].len = res->len[i] > 0 ? (size_t)res->len[i] : 0;
		}
		if (bufs != NULL)
			txt_decode(rr, n, bufs);
		a.rr = rr;
		a.n = n;
	}
	/* Off the pending list before the callback, which may cancel. */
	for (i = 0; i < r->nq; i++)
		if (r->q[i] == q) {
			r->q[i] = r->q[--r->nq];
			break;
		}
	q->cb(q->arg, &a);
	if (bufs != NULL)
		for (i = 0; i < n; i++)
			free(bufs[i]);
	free(bufs);
	free(rr);
	free(q);
	if (res != NULL)
		ub_resolve_free(res);
}

int
resolver_query(struct resolver *r, const char *name, int type,
    resolver_cb cb, void *arg, int *id, char *err, size_t errlen)
{
	struct rq	*q, **v;
	size_t		 len = strlen(name);
	int		 e;

	if (r->nq == r->capq) {
		if ((v = reallocarray(r->q, r->capq ? r->capq * 2 : 16,
		    sizeof(*v))) == NULL)
			return util_seterr(err, errlen, "out of memory");
		r->q = v;
		r->capq = r->capq ? r->capq * 2 : 16;
	}
	if ((q = malloc(sizeof(*q) + len + 1)) == NULL)
		return util_seterr(err, errlen, "out of memory");
	q->r = r;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	memcpy(q->name, name, len + 1);
	if ((e = ub_resolve_async(r->ub, name, type, 1, q, on_result,
	    &q->id)) != 0) {
		free(q);
		return util_seterr(err, errlen, "%s: %s", name,
		    ub_strerror(e));
	}
	r->q[r->nq++] = q;
	*id = q->id;
	return 0;
}

void
resolver_cancel(struct resolver *r, int id)
{
	size_t	i;

	for (i = 0; i < r->nq; i++)
		if (r->q[i]->id == id) {
			(void)ub_cancel(r->ub, id);
			rq_drop(r, r->q[i]);
			return;
		}
}

int
resolver_process(struct resolver *r, char *err, size_t errlen)
{
	int	e;

	if ((e = ub_process(r->ub)) != 0)
		return util_seterr(err, errlen, "libunbound: %s",
		    ub_strerror(e));
	return 0;
}
