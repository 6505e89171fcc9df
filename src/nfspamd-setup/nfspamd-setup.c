/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd-setup: spamd-setup(8) for nfspamd.  Reads spamd.conf, fetches
 * each list, subtracts white lists from the black list before them,
 * collapses the result into CIDRs, and feeds nfspamd's control socket;
 * with -b it also loads the union into the nft sets spamd/spamd6, as a
 * difference against the last load when it can.  /etc/nfspamd/nospamd,
 * when present, goes into @nospamd/@nospamd6.
 *
 * A thin shell: fetch.c moves bytes, control.c talks to nfspamd,
 * kernel.c loads the sets and keeps the state file, src/lib decides
 * (spamdconf, cidr, setup) and talks netlink (nftset).  A list that
 * cannot be fetched or read is reported and left as it was, in nfspamd
 * and in the kernel.
 *
 * Run as root, it works as the owner of the --db directory (the nfspamd
 * user), keeping CAP_NET_ADMIN only, as nfspamd-setup.service runs it:
 * a file it made as root there would lock the service out.
 */

#include "config.h"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "expose.h"
#include "kernel.h"
#include "nftgen.h"
#include "owner.h"
#include "spfwalk.h"
#include "util.h"

#define CONF_DEFAULT	"/etc/nfspamd/spamd.conf"
#define NOSPAMD_DEFAULT	"/etc/nfspamd/nospamd"
#define CONTROL_DEFAULT	"/run/nfspamd/control.sock"
#define LOCK_FILE	"setup.lock"
static const char usage_text[] =
"usage: nfspamd-setup [-bDdn] [-f file] [--control path] [--db dir]\n"
"                     [--nospamd file] [--user user] [--timeout secs]\n"
"                     [--connect-timeout secs] [--max-size MiB]\n"
"                     [--cacert file] [--metrics-file path]\n"
"                     [--resolver addr[@port]] [--dns-timeout secs]\n"
"       nfspamd-setup -h | -V\n";

enum {
	OPT_CONTROL = 256, OPT_NOSPAMD, OPT_TIMEOUT,
	OPT_CTIMEOUT, OPT_MAXSIZE, OPT_CACERT, OPT_METRICSFILE,
	OPT_RESOLVER, OPT_DNSTIMEOUT
};

static void
parse_args(struct conf *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "control", required_argument, NULL, OPT_CONTROL },
		PROG_LONGOPTS_DB,
		{ "nospamd", required_argument, NULL, OPT_NOSPAMD },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "connect-timeout", required_argument, NULL, OPT_CTIMEOUT },
		{ "max-size", required_argument, NULL, OPT_MAXSIZE },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "metrics-file", required_argument, NULL, OPT_METRICSFILE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "dns-timeout", required_argument, NULL, OPT_DNSTIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		PROG_LONGOPTS_END
	};
	char	err[ERRLEN];
	int	ch;

	memset(c, 0, sizeof(*c));
	c->dns_timeout = 10;
	c->conf = CONF_DEFAULT;
	c->control = CONTROL_DEFAULT;
	prog_common_init(&c->common);
	c->nospamd = NOSPAMD_DEFAULT;
	c->fo.timeout = 300;
	c->fo.connect_timeout = 30;
	c->fo.max = (size_t)256 << 20;
	while ((ch = getopt_long(argc, argv, "bDdhnVf:", longopts, NULL)) !=
	    -1) {
		if (prog_common_opt(&c->common, ch, optarg))
			continue;
		switch (ch) {
		case 'b': c->kernel = true; break;
		case 'D': c->daemon = true; break;
		case 'd': c->debug = true; break;
		case 'h': prog_usage(usage_text, 0);
		case 'V': prog_version("nfspamd-setup");
		case 'n': c->dryrun = true; break;
		case 'f': c->conf = optarg; break;
		case OPT_CONTROL: c->control = optarg; break;
		case OPT_NOSPAMD: c->nospamd = optarg; break;
		case OPT_TIMEOUT:
			c->fo.timeout = prog_number("--timeout", optarg, 1,
			    86400);
			break;
		case OPT_CTIMEOUT:
			c->fo.connect_timeout = prog_number("--connect-timeout",
			    optarg, 1, 3600);
			break;
		case OPT_MAXSIZE:
			c->fo.max = (size_t)prog_number("--max-size", optarg, 1,
			    65536) << 20;
			break;
		case OPT_CACERT: c->fo.cacert = optarg; break;
		case OPT_METRICSFILE:
			c->metrics_file = prog_metrics_file(optarg);
			break;
		case OPT_RESOLVER:
			if (resolver_check_fwd(optarg, err, sizeof(err)) == -1)
				errx(1, "%s", err);
			if (c->nresolvers == RESOLVER_FWDMAX)
				errx(1, "--resolver: more than %d",
				    RESOLVER_FWDMAX);
			c->resolvers[c->nresolvers++] = optarg;
			break;
		case OPT_DNSTIMEOUT:
			c->dns_timeout = (unsigned)prog_number("--dns-timeout",
			    optarg, 1, 3600);
			break;
		default: prog_usage(usage_text, 1);
		}
	}
	if (optind != argc)
		prog_usage(usage_text, 1);
	c->fo.user = c->common.user;
}

/* Root hands fetching to the unprivileged user; anyone else fetches. */
static int
resolve_user(struct ctx *x)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		return 0;
	errno = 0;
	if ((pw = getpwnam(x->c.common.user)) == NULL) {
		log_warnx(&x->log, "user %s: %s; exec and download lists need "
		    "it (create it with systemd-sysusers, or name another "
		    "with --user)", x->c.common.user, errno != 0 ?
		    strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_warnx(&x->log, "user %s is root; refusing to fetch lists "
		    "as root", x->c.common.user);
		return -1;
	}
	x->c.fo.drop = true;
	x->c.fo.uid = pw->pw_uid;
	x->c.fo.gid = pw->pw_gid;
	return 0;
}

/* --- working as the owner of --db --- */

/* Our files in --db: its owner must be able to use every one. */
static const char *const own_files[] = { LOCK_FILE, STATE_FILE,
					 HISTORY_FILE, NFTGEN_FILE,
					 NOSPAMD_STATE };

/*
 * " (as user U; D is owned by ...: what to do)" for error e on path, or
 * "".  For a missing file the hint is about its directory.
 */
const char *
why_not(int e, const char *path, char *buf, size_t len)
{
	char	hint[ERRLEN - 4], dir[PATH_MAX];	/* fits " (hint)" */

	snprintf(dir, sizeof(dir), "%s", path);
	owner_hint(e, e == ENOENT ? dirname(dir) : path, hint, sizeof(hint));
	if (hint[0] == '\0')
		buf[0] = '\0';
	else
		snprintf(buf, len, " (%s)", hint);
	return buf;
}

/* As root, before becoming uid: see owner_give. */
static void
give_back(struct ctx *x, uid_t uid, gid_t gid)
{
	char msg[PATH_MAX + 256];

	for (size_t i = 0; i < sizeof(own_files) / sizeof(own_files[0]); i++)
		switch (owner_give(x->c.common.db, own_files[i], uid, gid, msg,
		    sizeof(msg))) {
		case 1: log_info(&x->log, "%s", msg); break;
		case -1: log_warnx(&x->log, "%s", msg); break;
		}
}

/* Trim what was kept across the uid change to CAP_NET_ADMIN alone. */
static int
keep_netadmin(void)
{
	struct __user_cap_header_struct	h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	d[2];

	memset(d, 0, sizeof(d));
	d[CAP_NET_ADMIN / 32].effective = d[CAP_NET_ADMIN / 32].permitted =
	    1u << (CAP_NET_ADMIN % 32);
	return (int)syscall(SYS_capset, &h, d);
}

/*
 * Run as root (but with -n, which writes nothing): work as the owner of
 * --db, as nfspamd-setup.service does, so that all we make there is that
 * user's.  CAP_NET_ADMIN stays, for the sets; commands and downloads
 * then run as that user without it (fetch.c).  Nothing to do when not
 * root or when the directory is root's or missing (lock_db says so).
 */
static int
become_owner(struct ctx *x)
{
	struct passwd	*pw;
	struct stat	 sb;
	char		 err[ERRLEN], who[64];
	gid_t		 gid;
	uid_t		 uid;
	int		 r;

	if (geteuid() != 0 || x->c.dryrun || stat(x->c.common.db, &sb) == -1 ||
	    sb.st_uid == 0)
		return 0;
	pw = getpwuid(sb.st_uid);
	gid = pw != NULL ? pw->pw_gid : sb.st_gid;	/* as owner_adopt */
	give_back(x, sb.st_uid, gid);
	/* Keep the permitted set across setresuid, then trim it. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1) {
		log_warn(&x->log, "prctl PR_SET_KEEPCAPS");
		return -1;
	}
	r = owner_adopt(x->c.common.db, &uid, err, sizeof(err));
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (r == -1) {
		log_warnx(&x->log, "%s; run nfspamd-setup as that user (as "
		    "nfspamd-setup.service does)", err);
		return -1;
	}
	if (r == 0)
		return 0;
	owner_name(uid, who, sizeof(who));
	if (keep_netadmin() == -1) {
		log_warnx(&x->log, "as user %s, the owner of %s: cannot keep "
		    "CAP_NET_ADMIN: %s", who, x->c.common.db, strerror(errno));
		return -1;
	}
	if (x->c.debug)
		log_info(&x->log, "working as %s, the owner of %s, with "
		    "CAP_NET_ADMIN only", who, x->c.common.db);
	return 0;
}

/* --- reading files --- */

/* read_file's work once path is open. */
static int
read_fd(int fd, const char *path, size_t max, char **data, size_t *len,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		*p;
	int		 r;

	if (fstat(fd, &st) == -1)
		return util_seterr(err, errlen, "%s: %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return util_seterr(err, errlen, "%s: not a regular file",
		    path);
	}
	if ((size_t)st.st_size > max)
		return util_seterr(err, errlen, "%s: %lld bytes, more than %zu",
		    path, (long long)st.st_size, max);
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		return util_seterr(err, errlen, "%s: out of memory", path);
	r = st.st_size == 0 ? 1 : util_read_full(fd, p, (size_t)st.st_size);
	if (r != 1) {
		free(p);
		return util_seterr(err, errlen, "%s: %s", path, r == 0 ?
		    "file shrank while read" : strerror(errno));
	}
	p[st.st_size] = '\0';
	*data = p;
	*len = (size_t)st.st_size;
	return 0;
}

int
read_file(const char *path, size_t max, char **data, size_t *len,
    char *err, size_t errlen)
{
	char	hint[ERRLEN];
	int	fd, r, e;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		/* A missing file is often fine (nospamd, the state). */
		e = errno;
		util_seterr(err, errlen, "%s: %s%s", path, strerror(e),
		    e == ENOENT ? "" : why_not(e, path, hint, sizeof(hint)));
		errno = e;
		return -1;
	}
	r = read_fd(fd, path, max, data, len, err, errlen);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/* --- fetching and collapsing --- */

static struct item *
item_for(struct ctx *x, const struct sdc_list *l)
{
	size_t	i;

	for (i = 0; i < x->nitems; i++)
		if (strcmp(x->items[i].l->name, l->name) == 0)
			return &x->items[i];
	x->items[x->nitems].l = l;
	cidr_list_init(&x->items[x->nitems].ranges);
	return &x->items[x->nitems++];
}

static void
report_bad_lines(struct ctx *x, const struct sdc_list *l,
    const struct cidr_report *r)
{
	size_t	i;

	if (r->bad == 0)
		return;
	log_warnx(&x->log, "list %s: %zu of %zu lines not understood, "
	    "skipped%s", l->name, r->bad, r->lines, r->bad > r->nkept ?
	    " (the first ones follow)" : ":");
	for (i = 0; i < r->nkept; i++)
		log_warnx(&x->log, "  %s", r->kept[i]);
}

/* it's ranges from what was fetched: it->ok, or it->why. */
static void
item_ranges(struct ctx *x, struct item *it, const struct fetch_result *res)
{
	struct cidr_report	 rep;

	memset(&rep, 0, sizeof(rep));
	if (cidr_parse(res->where, res->data, res->len, &it->ranges, &rep) ==
	    -1) {
		it->fail = FAIL_MEMORY;
		it->why = strdup("out of memory");
		return;
	}
	report_bad_lines(x, it->l, &rep);
	/*
	 * No addresses: a download or command that broke.  A local white
	 * list file may well be empty (no exceptions yet); any other empty
	 * white list would widen the black list, so it fails.
	 */
	if (rep.ranges == 0 && !(!it->l->black &&
	    it->l->method == SDC_FILE)) {
		it->fail = FAIL_EMPTY;
		if (asprintf(&it->why, "%s: no addresses in %zu lines (%zu "
		    "bytes%s)", res->where, rep.lines, res->raw,
		    res->gzip ? ", gzip" : "") == -1)
			it->why = NULL;
		return;
	}
	if (x->c.debug)
		log_info(&x->log, "list %s: %s, %zu bytes%s, %zu lines, %zu "
		    "ranges, %zu bad", it->l->name, res->where, res->raw,
		    res->gzip ? " (gzip)" : "", rep.lines, rep.ranges,
		    rep.bad);
	it->ok = true;
}

static void
fetch_item(struct ctx *x, struct item *it)
{
	struct fetch_result	 res;
	struct timespec		 t0, t1;
	char			 err[ERRLEN];
	int			 r;

	it->done = true;
	if (it->l->method == SDC_SPF) {
		spfwalk_item(x, it);
		return;
	}
	if (x->nouser && it->l->method != SDC_FILE) {
		it->fail = FAIL_USER;
		if (asprintf(&it->why, "method %s needs user %s to run as",
		    sdc_method_name(it->l->method), x->c.common.user) == -1)
			it->why = NULL;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = fetch_list(it->l, &x->c.fo, &res, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	it->secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (r == -1) {
		it->fail = FAIL_FETCH;
		it->why = strdup(err);
		return;
	}
	item_ranges(x, it, &res);
	fetch_result_free(&res);
}

static int
add_ranges(struct cidr_list *dst, const struct cidr_list *src)
{
	size_t	i;

	for (i = 0; i < src->n4; i++)
		if (cidr_add4(dst, src->v4[i].lo, src->v4[i].hi) == -1)
			return -1;
	for (i = 0; i < src->n6; i++)
		if (cidr_add6(dst, src->v6[i].lo, src->v6[i].hi) == -1)
			return -1;
	return 0;
}

void
black_fail(struct ctx *x, struct black *b, enum fail fail, const char *why)
{
	b->ok = false;
	b->fail = fail;
	free(b->why);
	b->why = strdup(why);
	log_warnx(&x->log, "list %s: %s; %s", b->l->name, why, x->c.kernel ?
	    "nfspamd and the kernel sets keep what they had" :
	    "nfspamd keeps what it had");
	x->failed++;
}

/* Black minus its white lists, collapsed. */
static void
black_finish(struct ctx *x, struct black *b, struct cidr_list *white,
    bool white_failed, const char *white_why)
{
	char	why[ERRLEN];

	if (!b->it->ok) {
		black_fail(x, b, b->it->fail != FAIL_NONE ? b->it->fail :
		    FAIL_MEMORY, b->it->why != NULL ? b->it->why :
		    "out of memory");
		return;
	}
	if (white_failed) {
		snprintf(why, sizeof(why), "its white list failed (%s)",
		    white_why);
		black_fail(x, b, FAIL_WHITE, why);
		return;
	}
	if (cidr_collapse(&b->it->ranges, white, &b->pfx, &b->n) == -1) {
		black_fail(x, b, FAIL_MEMORY, "out of memory");
		return;
	}
	b->ok = true;
	if (x->c.debug)
		log_info(&x->log, "blacklist %s %zu entries", b->l->name,
		    b->n);
}

bool
in_config(const struct ctx *x, const char *tag)
{
	size_t	i;

	for (i = 0; i < x->nblacks; i++)
		if (strcmp(x->blacks[i].l->name, tag) == 0)
			return true;
	return false;
}

static void
collect_lists(struct ctx *x)
{
	struct black		*b = NULL;
	struct item		*it;
	struct cidr_list	 white;
	const struct sdc_list	*l;
	const char		*white_why = NULL;
	bool			 white_failed = false;
	char			 why[256];
	size_t			 i;

	cidr_list_init(&white);
	x->items = calloc(x->sdc.n, sizeof(*x->items));
	x->blacks = calloc(x->sdc.n, sizeof(*x->blacks));
	if (x->sdc.n > 0 && (x->items == NULL || x->blacks == NULL)) {
		log_warnx(&x->log, "out of memory");
		exit(1);
	}
	for (i = 0; i < x->sdc.n; i++) {
		l = &x->sdc.lists[i];
		if (l->black) {
			if (b != NULL)
				black_finish(x, b, &white, white_failed,
				    white_why);
			b = NULL;
			cidr_list_clear(&white);
			white_failed = false;
			if (in_config(x, l->name)) {
				log_warnx(&x->log, "list %s: a black list named "
				    "twice in \"all\"; the first one counts",
				    l->name);
				continue;
			}
			b = &x->blacks[x->nblacks++];
			b->l = l;
			if (!setup_tag_ok(l->name, why, sizeof(why))) {
				b->it = NULL;
				black_fail(x, b, FAIL_NAME, why);
				b = NULL;
				continue;
			}
		} else if (b == NULL) {
			/* :nospamd: still has the nospamd sets to feed. */
			if (l->nospamd) {
				it = item_for(x, l);
				if (!it->done)
					fetch_item(x, it);
				if (!it->ok) {
					log_warnx(&x->log, "list %s: %s; the "
					    "nospamd sets keep what it gave "
					    "them", l->name, it->why != NULL ?
					    it->why : "out of memory");
					x->failed++;
				}
				continue;
			}
			log_warnx(&x->log, "list %s: a white list with no black "
			    "list before it in \"all\" has no effect",
			    l->name);
			continue;
		}
		it = item_for(x, l);
		if (!it->done)
			fetch_item(x, it);
		if (l->black) {
			b->it = it;
			continue;
		}
		if (!it->ok) {
			white_failed = true;
			white_why = it->why != NULL ? it->why : "out of memory";
			log_warnx(&x->log, "list %s: %s", l->name, white_why);
		} else if (add_ranges(&white, &it->ranges) == -1) {
			white_failed = true;
			white_why = "out of memory";
		}
	}
	if (b != NULL)
		black_finish(x, b, &white, white_failed, white_why);
	cidr_list_free(&white);
}

/* --- putting it together --- */

/* One run at a time: the state file is read, then rewritten. */
static int
lock_db(struct ctx *x)
{
	char	path[4096], hint[ERRLEN];
	int	fd, e;

	snprintf(path, sizeof(path), "%s/%s", x->c.common.db, LOCK_FILE);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		e = errno;
		log_warnx(&x->log, "%s: %s%s", path, strerror(e),
		    why_not(e, path, hint, sizeof(hint)));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		log_warnx(&x->log, "%s: %s", path, errno == EWOULDBLOCK ?
		    "another nfspamd-setup is running" : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;	/* held until exit */
}

static void
free_all(struct ctx *x)
{
	size_t	i;

	for (i = 0; i < x->nitems; i++) {
		cidr_list_free(&x->items[i].ranges);
		free(x->items[i].why);
	}
	for (i = 0; i < x->nblacks; i++) {
		free(x->blacks[i].pfx);
		free(x->blacks[i].why);
	}
	free(x->items);
	free(x->blacks);
	free(x->clears);
	setup_state_free(&x->prev);
	setup_state_free(&x->nprev);
	resolver_free(x->res);
	x->res = NULL;
	sdc_free(&x->sdc);
}

/* spamd.conf into x->sdc, its warnings logged. */
static int
load_conf(struct ctx *x)
{
	char	err[ERRLEN], hint[ERRLEN];
	size_t	i;

	if (sdc_load(x->c.conf, &x->sdc, err, sizeof(err)) == -1) {
		/* Not ENOENT's hint: /etc/nfspamd is root's to make. */
		hint[0] = '\0';
		if (access(x->c.conf, R_OK) == -1 && errno != ENOENT)
			why_not(errno, x->c.conf, hint, sizeof(hint));
		log_warnx(&x->log, "%s%s", err, hint);
		return -1;
	}
	for (i = 0; i < x->sdc.nwarn; i++)
		log_warnx(&x->log, "%s", x->sdc.warn[i]);
	return 0;
}

/*
 * spamd.conf cannot be used: with --metrics-file, the failed run is
 * still written, with each list as the history has it, so that an alert
 * on the run fires rather than one on a missing file.
 */
static void
conf_failed(struct ctx *x)
{
	int	lockfd;

	if (x->c.metrics_file == NULL || x->c.dryrun ||
	    become_owner(x) == -1 || (lockfd = lock_db(x)) == -1)
		return;
	x->failed++;
	expose_write(x, false);
	close(lockfd);
}

int
main(int argc, char **argv)
{
	struct ctx		 x;
	struct setup_state	 next;
	size_t			 i;
	int			 lockfd = -1, rc = 1;

	memset(&x, 0, sizeof(x));
	memset(&next, 0, sizeof(next));
	clock_gettime(CLOCK_REALTIME, &x.t0);
	clock_gettime(CLOCK_MONOTONIC, &x.m0);
	parse_args(&x.c, argc, argv);
	log_init(&x.log, "nfspamd-setup", 1, x.c.debug ? LOG_DEBUG :
	    LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	if (load_conf(&x) == -1) {
		conf_failed(&x);
		free_all(&x);
		log_close(&x.log);
		return 1;
	}
	if (x.c.daemon) {
		if (daemon(1, 0) == -1) {
			log_warn(&x.log, "daemon");
			goto done;
		}
		log_init(&x.log, "nfspamd-setup", 0, x.c.debug ? LOG_DEBUG :
		    LOG_INFO);
	}
	if (become_owner(&x) == -1)
		goto done;
	if (!x.c.dryrun && (lockfd = lock_db(&x)) == -1)
		goto done;
	state_load(&x);
	for (i = 0; i < x.sdc.n; i++)
		if (x.sdc.lists[i].method != SDC_FILE &&
		    x.sdc.lists[i].method != SDC_SPF) {
			/* Only exec and downloads need it; files still work. */
			x.nouser = resolve_user(&x) == -1;
			break;
		}
	collect_lists(&x);
	if (control_feed(&x, &x.delivered) == -1)
		goto done;
	if (next_state(&x, &next, x.delivered) == -1) {
		log_warnx(&x.log, "out of memory");
		goto done;
	}
	if (x.c.kernel)
		kernel_load(&x, &next);
	nospamd_load(&x);
	if (!x.c.dryrun && state_save(&x, &next) == -1)
		x.failed++;
	if (x.c.metrics_file != NULL && !x.c.dryrun)
		expose_write(&x, true);

	if (x.failed > 0)
		log_warnx(&x.log, "%d problem%s, see above", x.failed,
		    x.failed == 1 ? "" : "s");
	rc = x.failed > 0 ? 1 : 0;
done:
	kernel_close(&x);
	if (lockfd != -1)
		close(lockfd);
	setup_state_free(&next);
	free_all(&x);
	log_close(&x.log);
	return rc;
}
