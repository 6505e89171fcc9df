/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * kernel: the nft sets and the state file.  See kernel.h.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "control.h"
#include "kernel.h"
#include "nftgen.h"
#include "nftset.h"
#include "util.h"

int
write_atomic(const char *dir, const char *name, const void *data,
    size_t len, char *err, size_t errlen)
{
	char	path[4096], tmp[4096], hint[ERRLEN];
	int	fd, dfd, e, r = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || (size_t)snprintf(tmp, sizeof(tmp),
	    "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp))
		return util_seterr(err, errlen, "%s: path too long", dir);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		e = errno;
		return util_seterr(err, errlen, "%s: %s%s", tmp, strerror(e),
		    why_not(e, tmp, hint, sizeof(hint)));
	}
	if (util_write_full(fd, data, len) == -1 || fsync(fd) == -1)
		r = util_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
	close(fd);
	if (r == 0 && rename(tmp, path) == -1) {
		e = errno;
		r = util_seterr(err, errlen, "%s: %s%s", path, strerror(e),
		    why_not(e, path, hint, sizeof(hint)));
	}
	if (r == -1) {
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* --- the state of the last run --- */

void
state_load(struct ctx *x)
{
	char	 path[4096], err[ERRLEN], *data;
	size_t	 len;

	memset(&x->prev, 0, sizeof(x->prev));
	x->prev_ok = true;
	snprintf(path, sizeof(path), "%s/%s", x->c.common.db, STATE_FILE);
	if (read_file(path, (size_t)1 << 30, &data, &len, err,
	    sizeof(err)) == -1) {
		if (errno != ENOENT) {
			log_warnx(&x->log, "%s; lists removed from spamd.conf "
			    "since the last run cannot be cleared, and -b "
			    "loads the sets whole", err);
			x->prev_ok = false;
		}
		return;
	}
	if (setup_state_decode(data, len, &x->prev, err, sizeof(err)) == -1) {
		log_warnx(&x->log, "%s: %s; starting afresh (lists removed "
		    "from spamd.conf since the last run cannot be cleared, "
		    "-b loads the sets whole)", path, err);
		x->prev_ok = false;
	}
	free(data);
}

static int
rec_push(struct setup_state *st, const char *tag, const struct prefix *v,
    size_t n)
{
	struct setup_rec	*r;

	if (setup_state_find(st, tag) >= 0)
		return 0;
	r = &st->lists[st->nlists];
	memset(r, 0, sizeof(*r));
	if ((r->tag = strdup(tag)) == NULL)
		return -1;
	if (n > 0) {
		if ((r->pfx = reallocarray(NULL, n, sizeof(*v))) == NULL) {
			free(r->tag);
			return -1;
		}
		memcpy(r->pfx, v, n * sizeof(*v));
		r->n = n;
	}
	st->nlists++;
	return 0;
}

int
next_state(struct ctx *x, struct setup_state *next, bool sent)
{
	const struct black	*b;
	const struct setup_rec	*p;
	long			 k;
	size_t			 i;
	bool			 kp = x->c.kernel && x->prev_ok &&
				     x->prev.kernel;

	memset(next, 0, sizeof(*next));
	if ((next->lists = calloc(x->nblacks + x->prev.nlists + 1,
	    sizeof(*next->lists))) == NULL)
		return -1;
	for (i = 0; i < x->nblacks; i++) {
		b = &x->blacks[i];
		if (b->ok && !b->refused) {
			if (rec_push(next, b->l->name, b->pfx, x->c.kernel ?
			    b->n : 0) == -1)
				return -1;
		} else if ((k = setup_state_find(&x->prev, b->l->name)) >= 0) {
			p = &x->prev.lists[k];
			if (rec_push(next, p->tag, p->pfx, kp ? p->n : 0) == -1)
				return -1;
		}
	}
	for (i = 0; i < x->prev.nlists; i++) {
		p = &x->prev.lists[i];
		if (in_config(x, p->tag) ||
		    (sent && control_cleared(x, p->tag)))
			continue;
		if (rec_push(next, p->tag, NULL, 0) == -1)
			return -1;
	}
	return 0;
}

int
state_save(struct ctx *x, const struct setup_state *next)
{
	struct buf	out = { 0 };
	char		err[ERRLEN];
	int		r = -1;

	if (setup_state_encode(next, &out) == -1)
		log_warnx(&x->log, "state: out of memory");
	else if (write_atomic(x->c.common.db, STATE_FILE, out.data, out.len,
	    err, sizeof(err)) == -1)
		log_warnx(&x->log, "state not saved: %s", err);
	else
		r = 0;
	buf_free(&out);
	return r;
}

/* --- the sets --- */

static size_t
count_family(const struct prefix *v, size_t n, int family)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		k += v[i].addr.family == family;
	return k;
}

/* Prefixes of one family, as set elements (appended to *out). */
static int
to_elems(const struct prefix *v, size_t n, int family,
    struct nftset_elem **out, size_t *nout)
{
	struct nftset_elem	*e;
	size_t			 i, k = *nout, cnt = count_family(v, n, family);

	if (cnt == 0)
		return 0;
	if ((e = reallocarray(*out, k + cnt, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i].addr.family == family) {
			memset(&e[k], 0, sizeof(e[k]));
			e[k++].pfx = v[i];
		}
	*out = e;
	*nout = k;
	return 0;
}

struct famchange {
	struct nftset_elem	*add, *del;
	size_t			 nadd, ndel;
};

static void
famchange_free(struct famchange *f)
{
	free(f->add);
	free(f->del);
	memset(f, 0, sizeof(*f));
}

/*
 * fam's part of a change: v whole (d NULL), or the difference d with
 * fam's kept prefix deleted and re-added.
 */
static int
famchange_make(struct famchange *f, int fam, const struct prefix *v,
    size_t n, const struct setup_diff *d)
{
	const struct prefix	*keep;

	if (d == NULL)
		return to_elems(v, n, fam, &f->add, &f->nadd);
	keep = fam == AF_INET ? d->keep4 : d->keep6;
	if (to_elems(d->add, d->nadd, fam, &f->add, &f->nadd) == -1 ||
	    to_elems(d->del, d->ndel, fam, &f->del, &f->ndel) == -1)
		return -1;
	if (keep != NULL && (to_elems(keep, 1, fam, &f->add,
	    &f->nadd) == -1 || to_elems(keep, 1, fam, &f->del,
	    &f->ndel) == -1))
		return -1;
	return 0;
}

/* nft.gen is not used: say why, and for permissions what to do. */
static void
gen_warn(struct ctx *x, const char *why)
{
	char	hint[ERRLEN];
	int	e = 0;

	if (faccessat(AT_FDCWD, x->genpath, R_OK | W_OK, AT_EACCESS) == -1)
		e = errno;
	log_warnx(&x->log, "%s%s", why, why_not(e, x->genpath, hint,
	    sizeof(hint)));
}

/*
 * Both families' sets in one transaction: whole (flush and load), or
 * the difference with one kept prefix per family deleted and re-added.
 */
static int
kernel_commit(struct ctx *x, const char *const sets[2],
    const struct prefix *v, size_t n, const struct setup_diff *d,
    char *err, size_t errlen)
{
	static const int	 fams[2] = { AF_INET, AF_INET6 };
	struct nftset_change	 ch[2];
	struct famchange	 fc[2];
	const char		*why;
	uint32_t		 g0 = 0;
	int			 i, begun, r = -1;

	memset(ch, 0, sizeof(ch));
	memset(fc, 0, sizeof(fc));
	for (i = 0; i < 2; i++) {
		if (famchange_make(&fc[i], fams[i], v, n, d) == -1)
			break;
		ch[i].set = sets[i];
		ch[i].flush = d == NULL;
		ch[i].add = fc[i].add;
		ch[i].nadd = fc[i].nadd;
		ch[i].del = fc[i].del;
		ch[i].ndel = fc[i].ndel;
	}
	if (i < 2)
		util_seterr(err, errlen, "out of memory");
	else {
		/* Recorded as nfspamd's own: it keeps applying diffs. */
		begun = nftgen_begin(x->gen, &g0);
		r = nftset_commit(x->ns, ch, 2, err, errlen);
		nftgen_end(x->gen, begun, g0);
		if ((why = nftgen_error(x->gen)) != NULL)
			gen_warn(x, why);
	}
	for (i = 0; i < 2; i++)
		famchange_free(&fc[i]);
	return r;
}

/* The union of what each list contributes to the sets this run. */
static int
kernel_union(const struct setup_state *next, struct prefix **out,
    size_t *n)
{
	struct cidr_list	 u;
	size_t			 i, j, lists = 0, last = 0;
	int			 r;

	*out = NULL;
	*n = 0;
	for (i = 0; i < next->nlists; i++)
		if (next->lists[i].n > 0) {
			lists++;
			last = i;
		}
	if (lists == 0)
		return 0;
	if (lists == 1) {
		/* Already canonical. */
		if ((*out = reallocarray(NULL, next->lists[last].n,
		    sizeof(**out))) == NULL)
			return -1;
		memcpy(*out, next->lists[last].pfx, next->lists[last].n *
		    sizeof(**out));
		*n = next->lists[last].n;
		return 0;
	}
	cidr_list_init(&u);
	r = 0;
	for (i = 0; i < next->nlists && r == 0; i++)
		for (j = 0; j < next->lists[i].n && r == 0; j++)
			r = cidr_add_prefix(&u, &next->lists[i].pfx[j]);
	if (r == 0)
		r = cidr_collapse(&u, NULL, out, n);
	cidr_list_free(&u);
	return r;
}

static void
print_prefixes(const char *what, const struct prefix *v, size_t n)
{
	char	a[ADDR_STRLEN];
	size_t	i;

	for (i = 0; i < n; i++) {
		prefix_format(&v[i], a, sizeof(a));
		printf("%s %s\n", what, a);
	}
}

static const char *const black_sets[2] = { NFTSET_BLACK, NFTSET_BLACK6 };
static const char *const nospamd_sets[2] = { NFTSET_NOSPAMD,
					     NFTSET_NOSPAMD6 };

/* x->ns, and x->gen to record our commits in, opened once. */
static int
nft_open(struct ctx *x)
{
	char	err[ERRLEN];

	if (x->ns != NULL)
		return 0;
	if (x->gen == NULL) {
		snprintf(x->genpath, sizeof(x->genpath), "%s/%s",
		    x->c.common.db, NFTGEN_FILE);
		if (nftgen_new(&x->gen, x->genpath) == -1) {
			log_warnx(&x->log, "out of memory");
			return -1;
		}
	}
	if (nftset_open(&x->ns, NULL, err, sizeof(err)) == -1) {
		log_warnx(&x->log, "nftables: %s", err);
		x->ns = NULL;
		return -1;
	}
	return 0;
}

void
kernel_close(struct ctx *x)
{
	if (x->ns != NULL)
		nftset_close(x->ns);
	x->ns = NULL;
	nftgen_free(x->gen);
	x->gen = NULL;
}

/* -n: what kernel_load would load, on stdout. */
static void
kernel_print(const struct prefix *u, size_t nu, const struct setup_diff *d)
{
	if (d != NULL) {
		printf("# sets %s/%s: %zu prefixes, as a difference "
		    "from the last load\n", black_sets[0], black_sets[1], nu);
		print_prefixes("+spamd", d->add, d->nadd);
		print_prefixes("-spamd", d->del, d->ndel);
	} else {
		printf("# sets %s/%s: %zu prefixes, loaded whole\n",
		    black_sets[0], black_sets[1], nu);
		print_prefixes("spamd", u, nu);
	}
}

/*
 * Commit u (nu prefixes) to spamd/spamd6: as the difference d when diff,
 * whole when not or when the sets do not hold what the last run loaded.
 * On success next takes u (*u becomes NULL).
 */
static void
kernel_apply(struct ctx *x, struct setup_state *next, struct prefix **u,
    size_t nu, const struct setup_diff *d, bool diff)
{
	struct timespec	 t0, t1;
	char		 err[ERRLEN];
	int		 r = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (diff) {
		r = kernel_commit(x, black_sets, *u, nu, d, err, sizeof(err));
		if (r == -1 && (errno == ENOENT || errno == ENOTSUP ||
		    errno == EEXIST)) {
			log_warnx(&x->log, "sets %s/%s do not hold what the "
			    "last run loaded (%s); loading them whole",
			    black_sets[0], black_sets[1], err);
			diff = false;
		}
	}
	if (!diff)
		r = kernel_commit(x, black_sets, *u, nu, NULL, err,
		    sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == -1) {
		log_warnx(&x->log, "kernel sets not loaded: %s", err);
		x->failed++;
		return;
	}
	next->kernel = true;
	next->loaded = *u;
	next->nloaded = nu;
	*u = NULL;
	x->k.loaded = true;
	x->k.diff = diff;
	x->k.n4 = count_family(next->loaded, nu, AF_INET);
	x->k.n6 = count_family(next->loaded, nu, AF_INET6);
	x->k.nadd = diff ? d->nadd : 0;
	x->k.ndel = diff ? d->ndel : 0;
	x->k.secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (x->c.debug || !diff)
		log_info(&x->log, "sets %s/%s: %zu IPv4 and %zu IPv6 "
		    "prefixes, %s in %.3f s", black_sets[0], black_sets[1],
		    x->k.n4, x->k.n6, diff ? "changed by a difference" :
		    "loaded whole", x->k.secs);
	if (x->c.debug && diff)
		log_info(&x->log, "sets %s/%s: %zu added, %zu deleted",
		    black_sets[0], black_sets[1], d->nadd, d->ndel);
}

void
kernel_load(struct ctx *x, struct setup_state *next)
{
	struct setup_diff	 d;
	struct prefix		*u = NULL;
	size_t			 nu = 0;
	bool			 diff = x->prev_ok && x->prev.kernel;

	memset(&d, 0, sizeof(d));
	next->kernel = false;
	if (kernel_union(next, &u, &nu) == -1 || (diff &&
	    setup_diff(x->prev.loaded, x->prev.nloaded, u, nu, &d) == -1)) {
		log_warnx(&x->log, "kernel sets: out of memory");
		x->failed++;
	} else if (x->c.dryrun)
		kernel_print(u, nu, diff ? &d : NULL);
	else if (nft_open(x) == -1)
		x->failed++;
	else
		kernel_apply(x, next, &u, nu, &d, diff);
	setup_diff_free(&d);
	free(u);
}

/*
 * The nospamd file's prefixes, collapsed: 0; 1 when there is no file
 * (*v empty); -1 when it cannot be read, logged and counted.
 */
static int
nospamd_read(struct ctx *x, struct prefix **v, size_t *n)
{
	struct cidr_list	 l;
	struct cidr_report	 rep;
	size_t			 len, i;
	char			 err[ERRLEN], *data;
	int			 r = 0;

	*v = NULL;
	*n = 0;
	if (read_file(x->c.nospamd, x->c.fo.max, &data, &len, err,
	    sizeof(err)) == -1) {
		if (errno == ENOENT)
			return 1;
		log_warnx(&x->log, "%s; sets %s/%s left as they are", err,
		    nospamd_sets[0], nospamd_sets[1]);
		x->failed++;
		return -1;
	}
	cidr_list_init(&l);
	memset(&rep, 0, sizeof(rep));
	if (cidr_parse(x->c.nospamd, data, len, &l, &rep) == -1 ||
	    cidr_collapse(&l, NULL, v, n) == -1) {
		log_warnx(&x->log, "%s: out of memory", x->c.nospamd);
		x->failed++;
		r = -1;
	} else if (rep.bad > 0) {
		log_warnx(&x->log, "%s: %zu of %zu lines not understood, "
		    "skipped", x->c.nospamd, rep.bad, rep.lines);
		for (i = 0; i < rep.nkept; i++)
			log_warnx(&x->log, "  %s", rep.kept[i]);
	}
	free(data);
	cidr_list_free(&l);
	return r;
}

/* The nospamd file alone (no :nospamd: list): whole, as always. */
static void
nospamd_file_load(struct ctx *x)
{
	struct prefix	*v = NULL;
	size_t		 n = 0;
	char		 err[ERRLEN];
	int		 r;

	if ((r = nospamd_read(x, &v, &n)) != 0) {
		if (r == 1 && x->c.debug)
			log_info(&x->log, "%s: none; sets %s/%s left as they "
			    "are", x->c.nospamd, nospamd_sets[0],
			    nospamd_sets[1]);
		return;
	}
	if (x->c.dryrun) {
		printf("# sets %s/%s: %zu prefixes, loaded whole\n",
		    nospamd_sets[0], nospamd_sets[1], n);
		print_prefixes("nospamd", v, n);
	} else if (nft_open(x) == -1 || kernel_commit(x, nospamd_sets, v, n,
	    NULL, err, sizeof(err)) == -1) {
		if (x->ns != NULL)
			log_warnx(&x->log, "%s not loaded: %s", x->c.nospamd,
			    err);
		x->failed++;
	} else if (x->c.debug)
		log_info(&x->log, "sets %s/%s: %zu IPv4 and %zu IPv6 prefixes "
		    "from %s", nospamd_sets[0], nospamd_sets[1],
		    count_family(v, n, AF_INET), count_family(v, n, AF_INET6),
		    x->c.nospamd);
	free(v);
}

/* NOSPAMD_STATE into x->nprev; x->nprev_ok when it says something. */
static void
nospamd_state_load(struct ctx *x)
{
	char	 path[4096], err[ERRLEN], *data;
	size_t	 len;

	memset(&x->nprev, 0, sizeof(x->nprev));
	x->nprev_ok = false;
	snprintf(path, sizeof(path), "%s/%s", x->c.common.db, NOSPAMD_STATE);
	if (read_file(path, (size_t)1 << 30, &data, &len, err,
	    sizeof(err)) == -1) {
		if (errno != ENOENT)
			log_warnx(&x->log, "%s; a :nospamd: list that fails "
			    "now leaves the sets without its prefixes", err);
		return;
	}
	if (setup_state_decode(data, len, &x->nprev, err, sizeof(err)) == -1)
		log_warnx(&x->log, "%s: %s; starting afresh", path, err);
	else
		x->nprev_ok = true;
	free(data);
}

/*
 * One :nospamd: list's prefixes for this run into rec: its own when it
 * worked, else what it gave the last run.  -1: out of memory.
 */
static int
nospamd_list(struct ctx *x, const struct item *it, struct setup_rec *rec)
{
	long	k;

	memset(rec, 0, sizeof(*rec));
	if ((rec->tag = strdup(it->l->name)) == NULL)
		return -1;
	if (it->ok)
		return cidr_collapse(&it->ranges, NULL, &rec->pfx, &rec->n);
	if (!x->nprev_ok || (k = setup_state_find(&x->nprev,
	    it->l->name)) < 0) {
		log_warnx(&x->log, "list %s: failed, and no earlier run gave "
		    "the sets %s/%s anything of it", it->l->name,
		    nospamd_sets[0], nospamd_sets[1]);
		return 0;
	}
	log_warnx(&x->log, "list %s: failed; sets %s/%s keep its %zu "
	    "prefixes of the last run", it->l->name, nospamd_sets[0],
	    nospamd_sets[1], x->nprev.lists[k].n);
	if (x->nprev.lists[k].n == 0)
		return 0;
	if ((rec->pfx = reallocarray(NULL, x->nprev.lists[k].n,
	    sizeof(*rec->pfx))) == NULL)
		return -1;
	memcpy(rec->pfx, x->nprev.lists[k].pfx, x->nprev.lists[k].n *
	    sizeof(*rec->pfx));
	rec->n = x->nprev.lists[k].n;
	return 0;
}

/* The :nospamd: lists of this run, and the file, into next. */
static int
nospamd_union(struct ctx *x, const struct prefix *fv, size_t fn,
    struct setup_state *next)
{
	struct cidr_list	 u;
	size_t			 i, j;
	int			 r = 0;

	cidr_list_init(&u);
	for (i = 0; i < fn && r == 0; i++)
		r = cidr_add_prefix(&u, &fv[i]);
	for (i = 0; i < x->nitems && r == 0; i++) {
		const struct item *it = &x->items[i];
		struct setup_rec *rec;
		if (!it->l->nospamd || !it->done)
			continue;
		rec = &next->lists[next->nlists];
		if ((r = nospamd_list(x, it, rec)) == -1) {
			free(rec->tag);
			break;
		}
		next->nlists++;
		for (j = 0; j < rec->n && r == 0; j++)
			r = cidr_add_prefix(&u, &rec->pfx[j]);
	}
	if (r == 0)
		r = cidr_collapse(&u, NULL, &next->loaded, &next->nloaded);
	cidr_list_free(&u);
	return r;
}

/* -n: what nospamd_load would load. */
static void
nospamd_print(const struct setup_state *next, const struct setup_diff *d)
{
	if (d != NULL) {
		printf("# sets %s/%s: %zu prefixes, as a difference from the "
		    "last load\n", nospamd_sets[0], nospamd_sets[1],
		    next->nloaded);
		print_prefixes("+nospamd", d->add, d->nadd);
		print_prefixes("-nospamd", d->del, d->ndel);
	} else {
		printf("# sets %s/%s: %zu prefixes, loaded whole\n",
		    nospamd_sets[0], nospamd_sets[1], next->nloaded);
		print_prefixes("nospamd", next->loaded, next->nloaded);
	}
}

/* next->loaded into the sets: as the difference d, or whole. */
static int
nospamd_apply(struct ctx *x, const struct setup_state *next,
    const struct setup_diff *d, bool diff)
{
	char	err[ERRLEN];
	int	r = -1;

	if (nft_open(x) == -1)
		return -1;
	if (diff) {
		r = kernel_commit(x, nospamd_sets, next->loaded,
		    next->nloaded, d, err, sizeof(err));
		if (r == -1 && (errno == ENOENT || errno == ENOTSUP ||
		    errno == EEXIST)) {
			if (errno != ENOTSUP)
				log_warnx(&x->log, "sets %s/%s do not hold "
				    "what the last run loaded (%s); loading "
				    "them whole", nospamd_sets[0],
				    nospamd_sets[1], err);
			diff = false;
		}
	}
	if (!diff)
		r = kernel_commit(x, nospamd_sets, next->loaded,
		    next->nloaded, NULL, err, sizeof(err));
	if (r == -1) {
		log_warnx(&x->log, "sets %s/%s not loaded: %s",
		    nospamd_sets[0], nospamd_sets[1], err);
		return -1;
	}
	if (x->c.debug || !diff)
		log_info(&x->log, "sets %s/%s: %zu IPv4 and %zu IPv6 prefixes "
		    "from %s and the :nospamd: lists, %s", nospamd_sets[0],
		    nospamd_sets[1], count_family(next->loaded,
		    next->nloaded, AF_INET), count_family(next->loaded,
		    next->nloaded, AF_INET6), x->c.nospamd, diff ?
		    "changed by a difference" : "loaded whole");
	if (x->c.debug && diff)
		log_info(&x->log, "sets %s/%s: %zu added, %zu deleted",
		    nospamd_sets[0], nospamd_sets[1], d->nadd, d->ndel);
	return 0;
}

static bool
have_nospamd_lists(const struct ctx *x)
{
	for (size_t i = 0; i < x->nitems; i++)
		if (x->items[i].l->nospamd && x->items[i].done)
			return true;
	return false;
}

void
nospamd_load(struct ctx *x)
{
	struct setup_state	 next;
	struct setup_diff	 d;
	struct prefix		*fv = NULL;
	struct buf		 out = { 0 };
	char			 path[4096], err[ERRLEN];
	size_t			 fn = 0;
	bool			 diff;

	if (!have_nospamd_lists(x)) {
		/* None any more: a later one must not trust an old state. */
		snprintf(path, sizeof(path), "%s/%s", x->c.common.db,
		    NOSPAMD_STATE);
		if (!x->c.dryrun && unlink(path) == -1 && errno != ENOENT)
			log_warnx(&x->log, "%s: %s", path, strerror(errno));
		nospamd_file_load(x);
		return;
	}
	/* A missing file is empty here: the lists still have the sets. */
	if (nospamd_read(x, &fv, &fn) == -1)
		return;
	nospamd_state_load(x);
	memset(&next, 0, sizeof(next));
	memset(&d, 0, sizeof(d));
	diff = x->nprev_ok && x->nprev.kernel;
	if ((next.lists = calloc(x->nitems + 1, sizeof(*next.lists))) ==
	    NULL || nospamd_union(x, fv, fn, &next) == -1 || (diff &&
	    setup_diff(x->nprev.loaded, x->nprev.nloaded, next.loaded,
	    next.nloaded, &d) == -1)) {
		log_warnx(&x->log, "sets %s/%s: out of memory",
		    nospamd_sets[0], nospamd_sets[1]);
		x->failed++;
		goto done;
	}
	if (x->c.dryrun) {
		nospamd_print(&next, diff ? &d : NULL);
		goto done;
	}
	/*
	 * Saved even when the load failed, for the lists' results; the
	 * next run then loads the sets whole (kernel false).
	 */
	if (nospamd_apply(x, &next, &d, diff) == -1)
		x->failed++;
	else
		next.kernel = true;
	if (setup_state_encode(&next, &out) == -1)
		log_warnx(&x->log, "%s: out of memory", NOSPAMD_STATE);
	else if (write_atomic(x->c.common.db, NOSPAMD_STATE, out.data,
	    out.len, err, sizeof(err)) == -1) {
		log_warnx(&x->log, "state not saved: %s", err);
		x->failed++;
	}
	buf_free(&out);
 done:
	setup_diff_free(&d);
	setup_state_free(&next);
	free(fv);
}
