/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfthelper: netlink on behalf of the unprivileged supervisor.  Blocking
 * I/O on purpose: one request at a time, nothing else to do meanwhile.
 */
#include "config.h"

#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fwproto.h"
#include "nftgen.h"
#include "nfthelper.h"
#include "nftset.h"
#include "util.h"

/*
 * Whether the supervisor's record of its sets still holds: every commit
 * since the last question must be one of the nfspamd programs' own
 * (nftgen.h).  Ours are recorded as we make them.
 */
struct gen {
	struct nftgen	*ng;
	struct logger	*log;
	uint32_t	 since;		/* generation of the last answer */
	bool		 known;
};

static void
gen_warn(struct gen *g)
{
	const char *why = nftgen_error(g->ng);

	if (why != NULL)
		log_warnx(g->log, "nft helper: %s", why);
}

/* FWP_GEN: has anyone else committed since we last said? */
static bool
gen_changed(struct gen *g)
{
	uint32_t cur;
	bool clean;

	if (nftgen_check(g->ng, g->since, &cur, &clean) == -1) {
		g->known = false;
		return true;
	}
	gen_warn(g);
	/* The first answer has nothing to compare with (and the
	   supervisor's first sync replaces everything anyway). */
	clean = clean && g->known;
	if (!clean && g->known)
		log_info(g->log, "nft helper: the ruleset changed at "
		    "generation %u by a commit that was not nfspamd's: the "
		    "sets are replaced whole", cur);
	g->since = cur;
	g->known = true;
	return !clean;
}

static int
reply(int fd, int status, const char *err, const struct nftset_elem *e,
    size_t n)
{
	struct buf b = { 0 };
	int rc = -1;

	if (fwp_reply_encode(status, err, e, n, &b) == 0)
		rc = util_write_full(fd, b.data, b.len);
	buf_free(&b);
	return rc;
}

/* FWP_GEN's reply: the answer in the count field, nothing after it. */
static int
reply_gen(int fd, size_t changed)
{
	uint8_t h[12] = { 0 };

	h[11] = changed != 0;
	return util_write_full(fd, h, sizeof(h));
}

/*
 * FWP_COUNTERS: the ruleset's counters, asked for by their names in
 * fwproto and answered by number.  Nothing the supervisor sends names an
 * object: it cannot reach any other, nor any other table's.
 */
static int
reply_counters(int fd, struct nftset *ns)
{
	struct nftset_counter nc[FWP_NCTRS];
	struct fwp_counter c[FWP_NCTRS];
	struct buf b = { 0 };
	char err[FWP_ERRMAX];
	unsigned i;
	int rc = -1;

	for (i = 0; i < FWP_NCTRS; i++)
		nc[i] = (struct nftset_counter){ .name = fwp_ctr_name(i) };
	if (nftset_counters(ns, nc, FWP_NCTRS, err, sizeof(err)) == -1)
		return reply(fd, 1, err, NULL, 0);
	for (i = 0; i < FWP_NCTRS; i++)
		c[i] = (struct fwp_counter){ .found = nc[i].found,
		    .packets = nc[i].packets, .bytes = nc[i].bytes };
	if (fwp_counters_encode(c, &b) == 0)
		rc = util_write_full(fd, b.data, b.len);
	buf_free(&b);
	return rc;
}

static int
check_all(struct nftset *ns, char *err, size_t errlen)
{
	const char *sets[FWP_NSETS];

	for (unsigned i = 0; i < FWP_NSETS; i++)
		sets[i] = fwp_set_name(i);
	return nftset_check(ns, sets, FWP_NSETS, err, errlen);
}

static int
serve_change(struct nftset *ns, const struct fwp_req *r, const char *set,
    char *err, size_t errlen)
{
	switch (r->op) {
	case FWP_ADD:
		return nftset_add(ns, set, r->add, r->nadd, err, errlen);
	case FWP_DEL:
		return nftset_del(ns, set, r->del, r->ndel, err, errlen);
	case FWP_APPLY:
		return nftset_apply(ns, set, r->add, r->nadd, r->del, r->ndel,
		    err, errlen);
	case FWP_REPLACE:
		return nftset_replace(ns, set, r->add, r->nadd, err, errlen);
	case FWP_ADD46: {
		struct nftset_change c[2] = {
			{ .set = set, .add = r->add, .nadd = r->nadd },
			{ .set = fwp_set_name(fwp_add6_set(r)), .add = r->add6,
			    .nadd = r->nadd6 },
		};

		/* One transaction for both families; skip an empty one. */
		if (r->nadd == 0)
			return nftset_commit(ns, &c[1], r->nadd6 > 0, err,
			    errlen);
		return nftset_commit(ns, c, r->nadd6 > 0 ? 2 : 1, err, errlen);
	}
	}
	return -1;
}

/* Read the elements a header announced, decoded for its set. */
static int
read_elems(int fd, size_t n, unsigned set, struct nftset_elem **out,
    const char **why)
{
	uint8_t *raw;
	int rc = -1;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((raw = malloc(n * FWP_ELEMSIZE)) == NULL ||
	    (*out = calloc(n, sizeof(**out))) == NULL) {
		*why = "out of memory";
		goto done;
	}
	if (util_read_full(fd, raw, n * FWP_ELEMSIZE) != 1) {
		*why = "short request";
		goto done;
	}
	rc = fwp_elems_decode(raw, n * FWP_ELEMSIZE, n, set, *out, why);
done:
	free(raw);
	if (rc == -1) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int
serve(struct nftset *ns, struct gen *g, const struct fwp_req *r,
    struct nftset_elem **list, size_t *nlist, char *err, size_t errlen)
{
	const char *set = fwp_set_name(r->set);
	uint32_t g0 = 0;
	int begun, rc;

	switch (r->op) {
	case FWP_ADD:
	case FWP_DEL:
	case FWP_APPLY:
	case FWP_REPLACE:
	case FWP_ADD46:
		begun = nftgen_begin(g->ng, &g0);
		rc = serve_change(ns, r, set, err, errlen);
		nftgen_end(g->ng, begun, g0);
		gen_warn(g);
		return rc;
	case FWP_GEN:
		/* *nlist carries the answer; see fwproto.h. */
		*nlist = gen_changed(g);
		return 0;
	default:
		break;
	}
	switch (r->op) {
	case FWP_CHECK:
		return check_all(ns, err, errlen);
	case FWP_LIST:
		if (nftset_list(ns, set, list, nlist, err, errlen) != 0)
			return -1;
		/* A listing reports the time left where a request has the
		   timeout. */
		for (size_t i = 0; i < *nlist; i++)
			(*list)[i].timeout_ms = (*list)[i].expires_ms;
		return 0;
	}
	return -1;
}

int
nfthelper_main(int fd, const struct priv_user *u, struct logger *lg,
    const char *genpath)
{
	struct nftset *ns = NULL;
	struct gen g = { .log = lg };
	uint8_t hdr[FWP_HDRSIZE];
	char err[FWP_ERRMAX];
	int rc, status = 0;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* the supervisor decides */
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (priv_keep_netadmin(u, err, sizeof(err)) == -1 ||
	    nftset_open(&ns, NFTSET_TABLE, err, sizeof(err)) == -1 ||
	    (nftgen_new(&g.ng, genpath) == -1 &&
	    snprintf(err, sizeof(err), "out of memory") > 0)) {
		log_warnx(lg, "nft helper: %s", err);
		reply(fd, 1, err, NULL, 0);
		return 1;
	}
	while ((rc = util_read_full(fd, hdr, sizeof(hdr))) == 1) {
		struct fwp_req r;
		struct nftset_elem *list = NULL;
		size_t nlist = 0;
		const char *why = NULL;

		if (fwp_hdr_decode(hdr, sizeof(hdr), &r, &why) == -1 ||
		    read_elems(fd, r.nadd, r.set, &r.add, &why) == -1 ||
		    read_elems(fd, r.ndel, r.set, &r.del, &why) == -1 ||
		    read_elems(fd, r.nadd6, fwp_add6_set(&r), &r.add6,
		    &why) == -1) {
			/* Out of step with the sender: say so and stop. */
			log_warnx(lg, "nft helper: request refused: %s", why);
			reply(fd, 1, why, NULL, 0);
			free(r.add);
			free(r.del);
			free(r.add6);
			status = 1;
			break;
		}
		/* Its own reply: records, not elements (fwproto.h). */
		if (r.op == FWP_COUNTERS) {
			if (reply_counters(fd, ns) == -1)
				break;
			continue;
		}
		err[0] = '\0';
		rc = serve(ns, &g, &r, &list, &nlist, err, sizeof(err));
		free(r.add);
		free(r.del);
		free(r.add6);
		if ((r.op == FWP_GEN ? reply_gen(fd, nlist) :
		    reply(fd, rc != 0, rc != 0 ? err : NULL, list, nlist)) ==
		    -1) {
			free(list);
			break;
		}
		free(list);
	}
	if (rc == -1)
		status = 1;
	nftset_close(ns);
	nftgen_free(g.ng);
	return status;
}

pid_t
nfthelper_spawn(const struct priv_user *u, struct logger *log,
    const char *db, int *fd)
{
	char genpath[PATH_MAX];
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn(log, "socketpair");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn(log, "fork");
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		snprintf(genpath, sizeof(genpath), "%s/%s", db, NFTGEN_FILE);
		_exit(nfthelper_main(sp[1], u, log, genpath));
	}
	close(sp[1]);
	*fd = sp[0];
	return pid;
}

int
nfthelper_split(const struct priv_user *u, struct logger *log,
    const char *db, bool want_helper, pid_t *pid, int *fd,
    int (*as_root)(void *), void *arg)
{
	char err[512];

	if (priv_check_user(u, "--user", err, sizeof(err)) == -1) {
		log_warnx(log, "%s", err);
		return -1;
	}
	if (want_helper && (*pid = nfthelper_spawn(u, log, db, fd)) == -1)
		return -1;
	if (as_root != NULL && as_root(arg) == -1)
		return -1;
	if (priv_drop_all(u, err, sizeof(err)) == -1) {
		log_warnx(log, "%s", err);
		return -1;
	}
	return 0;
}
