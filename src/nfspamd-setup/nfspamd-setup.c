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
 * A thin shell: fetch.c moves bytes, src/lib decides (spamdconf, cidr,
 * setup) and talks netlink (nftset).  A list that cannot be fetched or
 * read is reported and left as it was, in nfspamd and in the kernel.
 *
 * Run as root, it works as the owner of the --db directory (the nfspamd
 * user), keeping CAP_NET_ADMIN only, as nfspamd-setup.service runs it:
 * a file it made as root there would lock the service out.
 */

#include "config.h"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "bl.h"
#include "buf.h"
#include "cidr.h"
#include "fetch.h"
#include "log.h"
#include "nftgen.h"
#include "nftset.h"
#include "owner.h"
#include "setup.h"
#include "spamdconf.h"
#include "util.h"

#define CONF_DEFAULT	"/etc/nfspamd/spamd.conf"
#define NOSPAMD_DEFAULT	"/etc/nfspamd/nospamd"
#define CONTROL_DEFAULT	"/run/nfspamd/control.sock"
#define DB_DEFAULT	"/var/lib/nfspamd"
#define USER_DEFAULT	"nfspamd"
#define STATE_FILE	"setup.state"
#define LOCK_FILE	"setup.lock"
#define ERRLEN		1024
#define REPLY_MAX	(1024 * 1024)
#define REPLY_WAIT_MS	120000	/* nfspamd builds its index first */

struct conf {
	const char	*conf;
	const char	*control;
	const char	*db;
	const char	*nospamd;
	const char	*user;
	bool		 kernel;	/* -b */
	bool		 debug;		/* -d */
	bool		 dryrun;	/* -n */
	bool		 daemon;	/* -D */
	struct fetch_opts fo;
};

/* One name in `all', fetched once however often it appears. */
struct item {
	const struct sdc_list	*l;
	bool			 done;		/* fetched (or failed) */
	bool			 ok;
	struct cidr_list	 ranges;
	char			*why;		/* when !ok */
};

/* One black list of this run, with the white lists after it. */
struct black {
	const struct sdc_list	*l;
	struct item		*it;
	bool			 ok;		/* fetched, collapsed, formatted */
	bool			 refused;	/* by nfspamd */
	struct prefix		*pfx;
	size_t			 n;
	size_t			 line;		/* in the control text */
	char			*why;
};

struct ctx {
	struct conf	 c;
	struct logger	 log;
	struct sdc	 sdc;
	struct item	*items;
	size_t		 nitems;
	struct black	*blacks;
	size_t		 nblacks;
	struct setup_state prev;	/* what the last run left */
	bool		 prev_ok;	/* prev could be read */
	bool		 nouser;	/* --user cannot be used */
	size_t		 clear_line;	/* first clear line in the text */
	char		**clears;	/* their tags, NULL once refused */
	size_t		 nclears;
	int		 failed;	/* things that went wrong */
	struct nftgen	*gen;		/* nfspamd's record of our commits */
	char		 genpath[PATH_MAX];
};

/* Asked for (-h) on stdout with status 0; a usage error on stderr. */
static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
"usage: nfspamd-setup [-bDdn] [-f file] [--control path] [--db dir]\n"
"                     [--nospamd file] [--user user] [--timeout secs]\n"
"                     [--connect-timeout secs] [--max-size MiB]\n"
"                     [--cacert file]\n"
"       nfspamd-setup -h | -V\n");
	exit(status);
}

static long
number(const char *opt, const char *s, long min, long max)
{
	long	 v;

	if (util_parse_long(s, min, max, &v) == -1) {
		fprintf(stderr, "nfspamd-setup: %s \"%s\": not a number from "
		    "%ld to %ld\n", opt, s, min, max);
		exit(1);
	}
	return v;
}

enum {
	OPT_CONTROL = 256, OPT_DB, OPT_NOSPAMD, OPT_USER, OPT_TIMEOUT,
	OPT_CTIMEOUT, OPT_MAXSIZE, OPT_CACERT
};

static void
parse_args(struct conf *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "db", required_argument, NULL, OPT_DB },
		{ "nospamd", required_argument, NULL, OPT_NOSPAMD },
		{ "user", required_argument, NULL, OPT_USER },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "connect-timeout", required_argument, NULL, OPT_CTIMEOUT },
		{ "max-size", required_argument, NULL, OPT_MAXSIZE },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	memset(c, 0, sizeof(*c));
	c->conf = CONF_DEFAULT;
	c->control = CONTROL_DEFAULT;
	c->db = DB_DEFAULT;
	c->nospamd = NOSPAMD_DEFAULT;
	c->user = USER_DEFAULT;
	c->fo.timeout = 300;
	c->fo.connect_timeout = 30;
	c->fo.max = (size_t)256 << 20;
	while ((ch = getopt_long(argc, argv, "bDdhnVf:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'b': c->kernel = true; break;
		case 'D': c->daemon = true; break;
		case 'd': c->debug = true; break;
		case 'h': usage(0);
		case 'V':
			printf("nfspamd-setup %s\n", PACKAGE_VERSION);
			exit(0);
		case 'n': c->dryrun = true; break;
		case 'f': c->conf = optarg; break;
		case OPT_CONTROL: c->control = optarg; break;
		case OPT_DB: c->db = optarg; break;
		case OPT_NOSPAMD: c->nospamd = optarg; break;
		case OPT_USER: c->user = optarg; break;
		case OPT_TIMEOUT:
			c->fo.timeout = number("--timeout", optarg, 1, 86400);
			break;
		case OPT_CTIMEOUT:
			c->fo.connect_timeout = number("--connect-timeout",
			    optarg, 1, 3600);
			break;
		case OPT_MAXSIZE:
			c->fo.max = (size_t)number("--max-size", optarg, 1,
			    65536) << 20;
			break;
		case OPT_CACERT: c->fo.cacert = optarg; break;
		default: usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	c->fo.user = c->user;
}

/* Root hands fetching to the unprivileged user; anyone else fetches. */
static int
resolve_user(struct ctx *x)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		return 0;
	errno = 0;
	if ((pw = getpwnam(x->c.user)) == NULL) {
		log_warnx(&x->log, "user %s: %s; exec and download lists need "
		    "it (create it with systemd-sysusers, or name another "
		    "with --user)", x->c.user, errno != 0 ? strerror(errno) :
		    "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_warnx(&x->log, "user %s is root; refusing to fetch lists "
		    "as root", x->c.user);
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
					 NFTGEN_FILE };

/*
 * " (as user U; D is owned by ...: what to do)" for error e on path, or
 * "".  For a missing file the hint is about its directory.
 */
static const char *
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
		switch (owner_give(x->c.db, own_files[i], uid, gid, msg,
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

	if (geteuid() != 0 || x->c.dryrun || stat(x->c.db, &sb) == -1 ||
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
	r = owner_adopt(x->c.db, &uid, err, sizeof(err));
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
		    "CAP_NET_ADMIN: %s", who, x->c.db, strerror(errno));
		return -1;
	}
	if (x->c.debug)
		log_info(&x->log, "working as %s, the owner of %s, with "
		    "CAP_NET_ADMIN only", who, x->c.db);
	return 0;
}

/* --- reading files --- */

static int
read_file(const char *path, size_t max, char **data, size_t *len,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		*p, hint[ERRLEN];
	int		 fd, r, e;

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
	if (fstat(fd, &st) == -1) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return util_seterr(err, errlen, "%s: not a regular file",
		    path);
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return util_seterr(err, errlen, "%s: %lld bytes, more than %zu",
		    path, (long long)st.st_size, max);
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return util_seterr(err, errlen, "%s: out of memory", path);
	}
	r = st.st_size == 0 ? 1 : util_read_full(fd, p, (size_t)st.st_size);
	close(fd);
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

/* Write path atomically: a temporary file, fsync, rename, fsync dir. */
static int
write_atomic(const char *dir, const char *name, const void *data,
    size_t len, char *err, size_t errlen)
{
	char	path[4096], tmp[4096], hint[ERRLEN];
	int	fd, dfd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || (size_t)snprintf(tmp, sizeof(tmp),
	    "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp))
		return util_seterr(err, errlen, "%s: path too long", dir);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		e = errno;
		return util_seterr(err, errlen, "%s: %s%s", tmp, strerror(e),
		    why_not(e, tmp, hint, sizeof(hint)));
	}
	if (util_write_full(fd, data, len) == -1 || fsync(fd) == -1) {
		util_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		e = errno;
		util_seterr(err, errlen, "%s: %s%s", path, strerror(e),
		    why_not(e, path, hint, sizeof(hint)));
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

static void
state_load(struct ctx *x)
{
	char	 path[4096], err[ERRLEN], *data;
	size_t	 len;

	memset(&x->prev, 0, sizeof(x->prev));
	x->prev_ok = true;
	snprintf(path, sizeof(path), "%s/%s", x->c.db, STATE_FILE);
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

static void
fetch_item(struct ctx *x, struct item *it)
{
	struct fetch_result	 res;
	struct cidr_report	 rep;
	char			 err[ERRLEN];

	it->done = true;
	if (x->nouser && it->l->method != SDC_FILE) {
		if (asprintf(&it->why, "method %s needs user %s to run as",
		    sdc_method_name(it->l->method), x->c.user) == -1)
			it->why = NULL;
		return;
	}
	if (fetch_list(it->l, &x->c.fo, &res, err, sizeof(err)) == -1) {
		it->why = strdup(err);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	if (cidr_parse(res.where, res.data, res.len, &it->ranges, &rep) ==
	    -1) {
		it->why = strdup("out of memory");
		fetch_result_free(&res);
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
		if (asprintf(&it->why, "%s: no addresses in %zu lines (%zu "
		    "bytes%s)", res.where, rep.lines, res.raw,
		    res.gzip ? ", gzip" : "") == -1)
			it->why = NULL;
		fetch_result_free(&res);
		return;
	}
	if (x->c.debug)
		log_info(&x->log, "list %s: %s, %zu bytes%s, %zu lines, %zu "
		    "ranges, %zu bad", it->l->name, res.where, res.raw,
		    res.gzip ? " (gzip)" : "", rep.lines, rep.ranges,
		    rep.bad);
	it->ok = true;
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

/* A black list's message: quoted in spamd.conf, or read from a file. */
static char *
black_msg(const struct sdc_list *l, char *err, size_t errlen)
{
	char	*data;
	size_t	 len;

	if (l->msg != NULL)
		return strdup(l->msg);
	if (read_file(l->msgfile, BL_MSGMAX, &data, &len, err, errlen) == -1)
		return NULL;
	if (memchr(data, '\0', len) != NULL) {
		free(data);
		util_seterr(err, errlen, "%s: holds a NUL byte", l->msgfile);
		return NULL;
	}
	return data;
}

static void
black_fail(struct ctx *x, struct black *b, const char *why)
{
	b->ok = false;
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
		black_fail(x, b, b->it->why != NULL ? b->it->why :
		    "out of memory");
		return;
	}
	if (white_failed) {
		snprintf(why, sizeof(why), "its white list failed (%s)",
		    white_why);
		black_fail(x, b, why);
		return;
	}
	if (cidr_collapse(&b->it->ranges, white, &b->pfx, &b->n) == -1) {
		black_fail(x, b, "out of memory");
		return;
	}
	b->ok = true;
	if (x->c.debug)
		log_info(&x->log, "blacklist %s %zu entries", b->l->name,
		    b->n);
}

static bool	in_config(const struct ctx *, const char *);

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
				black_fail(x, b, why);
				b = NULL;
				continue;
			}
		} else if (b == NULL) {
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

/* --- nfspamd's control socket --- */

static bool
in_config(const struct ctx *x, const char *tag)
{
	size_t	i;

	for (i = 0; i < x->nblacks; i++)
		if (strcmp(x->blacks[i].l->name, tag) == 0)
			return true;
	return false;
}

/* The control text: every good black list, then clears. */
static int
control_text(struct ctx *x, struct buf *out, char ***cleared, size_t *ncl)
{
	struct black	*b;
	char		 err[ERRLEN], *msg;
	size_t		 i, line = 0;

	*cleared = calloc(x->prev.nlists + 1, sizeof(**cleared));
	*ncl = 0;
	if (*cleared == NULL)
		return -1;
	for (i = 0; i < x->nblacks; i++) {
		b = &x->blacks[i];
		if (!b->ok)
			continue;
		if ((msg = black_msg(b->l, err, sizeof(err))) == NULL) {
			black_fail(x, b, err);
			continue;
		}
		if (setup_line(b->l->name, msg, b->pfx, b->n, out, err,
		    sizeof(err)) == -1) {
			free(msg);
			black_fail(x, b, err);
			continue;
		}
		free(msg);
		b->line = ++line;
	}
	x->clear_line = line + 1;
	for (i = 0; i < x->prev.nlists; i++) {
		if (in_config(x, x->prev.lists[i].tag))
			continue;
		if (setup_line(x->prev.lists[i].tag, NULL, NULL, 0, out, err,
		    sizeof(err)) == -1)
			return -1;
		(*cleared)[(*ncl)++] = x->prev.lists[i].tag;
		line++;
		if (x->c.debug)
			log_info(&x->log, "list %s: gone from %s, clearing it",
			    x->prev.lists[i].tag, x->c.conf);
	}
	return 0;
}

/*
 * What a failed connect to the control socket means: nfspamd is not
 * there only when the socket is missing from its directory or nobody
 * listens on it; for a missing directory or a permission, what to do.
 */
static const char *
control_why(int e, const char *path, char *buf, size_t len)
{
	char	dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	if (e == ENOENT && access(dirname(dir), F_OK) == 0)
		snprintf(buf, len, " (is nfspamd running, with this "
		    "--control?)");
	else if (e == ECONNREFUSED)
		snprintf(buf, len, " (nobody listens there: nfspamd is not "
		    "running, or is still starting)");
	else
		why_not(e, path, buf, len);
	return buf;
}

static int
control_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	char			why[ERRLEN];
	int			fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return util_seterr(err, errlen, "control socket %s: path too "
		    "long", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return util_seterr(err, errlen, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		util_seterr(err, errlen, "control socket %s: %s%s", path,
		    strerror(e), control_why(e, path, why, sizeof(why)));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send the text, read nfspamd's answer to EOF. */
static int
control_send(const char *path, const struct buf *text, struct buf *reply,
    char *err, size_t errlen)
{
	struct pollfd	pf;
	char		chunk[4096];
	ssize_t		n;
	size_t		off = 0;
	int		fd, r;

	if ((fd = control_connect(path, err, errlen)) == -1)
		return -1;
	while (off < text->len) {
		n = send(fd, text->data + off, text->len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* nfspamd may have answered already (too big). */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			util_seterr(err, errlen, "control socket %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		pf.fd = fd;
		pf.events = POLLIN;
		if ((r = poll(&pf, 1, REPLY_WAIT_MS)) == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			util_seterr(err, errlen, "control socket %s: no answer "
			    "within %d s", path, REPLY_WAIT_MS / 1000);
			close(fd);
			return -1;
		}
		if ((n = read(fd, chunk, sizeof(chunk))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (reply->len + (size_t)n > REPLY_MAX ||
		    buf_append(reply, chunk, (size_t)n) == -1) {
			util_seterr(err, errlen, "control socket %s: answer "
			    "too long", path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (buf_append(reply, "", 1) == -1)
		return util_seterr(err, errlen, "out of memory");
	reply->len--;
	return 0;
}

/*
 * nfspamd answers "error line N: why" for each line it refused, then
 * "ok lists=... refused=..." (or "error: why" for the whole lot).
 */
static int
control_answer(struct ctx *x, const char *reply)
{
	const char	*p, *nl;
	unsigned long	 line;
	size_t		 i;
	bool		 done = false;
	int		 n;

	for (p = reply; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (sscanf(p, "error line %lu: %n", &line, &n) == 1) {
			for (i = 0; i < x->nblacks; i++)
				if (x->blacks[i].ok && x->blacks[i].line ==
				    line) {
					x->blacks[i].refused = true;
					break;
				}
			if (i == x->nblacks && line >= x->clear_line &&
			    line - x->clear_line < x->nclears) {
				log_warnx(&x->log, "nfspamd refused to clear "
				    "list %s: %.*s", x->clears[line -
				    x->clear_line], (int)(nl - p - n), p + n);
				x->clears[line - x->clear_line] = NULL;
			} else
				log_warnx(&x->log, "nfspamd refused %s%s: %.*s",
				    i < x->nblacks ? "list " : "line ",
				    i < x->nblacks ? x->blacks[i].l->name : "?",
				    (int)(nl - p - n), p + n);
			x->failed++;
		} else if (strncmp(p, "ok ", 3) == 0) {
			done = true;
			if (x->c.debug)
				log_info(&x->log, "nfspamd: %.*s",
				    (int)(nl - p - 3), p + 3);
		} else if (nl > p) {
			log_warnx(&x->log, "nfspamd: %.*s", (int)(nl - p), p);
			x->failed++;
		}
		if (*nl == '\0')
			break;
	}
	if (!done) {
		char me[64];

		/* nfspamd hangs up on users it takes nothing from. */
		if (*reply == '\0')
			log_warnx(&x->log, "nfspamd closed the control "
			    "connection without an answer: it takes lists "
			    "from root and the user it runs as only, and this "
			    "is user %s (nfspamd's log says more)",
			    owner_whoami(me, sizeof(me)));
		else
			log_warnx(&x->log, "nfspamd did not confirm the "
			    "lists");
		x->failed++;
		return -1;
	}
	return 0;
}

/* --- the kernel sets --- */

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
kernel_commit(struct ctx *x, struct nftset *ns, const char *const sets[2],
    const struct prefix *v, size_t n, const struct setup_diff *d,
    char *err, size_t errlen)
{
	static const int	 fams[2] = { AF_INET, AF_INET6 };
	struct nftset_change	 ch[2];
	struct famchange	 fc[2];
	const struct prefix	*keep;
	const char		*why;
	uint32_t		 g0 = 0;
	int			 i, begun, r = -1;

	memset(ch, 0, sizeof(ch));
	memset(fc, 0, sizeof(fc));
	for (i = 0; i < 2; i++) {
		if (d == NULL) {
			if (to_elems(v, n, fams[i], &fc[i].add,
			    &fc[i].nadd) == -1)
				goto nomem;
		} else {
			keep = i == 0 ? d->keep4 : d->keep6;
			if (to_elems(d->add, d->nadd, fams[i], &fc[i].add,
			    &fc[i].nadd) == -1 || to_elems(d->del, d->ndel,
			    fams[i], &fc[i].del, &fc[i].ndel) == -1 ||
			    (keep != NULL && (to_elems(keep, 1, fams[i],
			    &fc[i].add, &fc[i].nadd) == -1 || to_elems(keep,
			    1, fams[i], &fc[i].del, &fc[i].ndel) == -1)))
				goto nomem;
		}
		ch[i].set = sets[i];
		ch[i].flush = d == NULL;
		ch[i].add = fc[i].add;
		ch[i].nadd = fc[i].nadd;
		ch[i].del = fc[i].del;
		ch[i].ndel = fc[i].ndel;
	}
	/* Recorded as nfspamd's own, so nfspamd keeps applying diffs. */
	begun = nftgen_begin(x->gen, &g0);
	r = nftset_commit(ns, ch, 2, err, errlen);
	nftgen_end(x->gen, begun, g0);
	if ((why = nftgen_error(x->gen)) != NULL)
		gen_warn(x, why);
	goto out;
nomem:
	util_seterr(err, errlen, "out of memory");
out:
	for (i = 0; i < 2; i++)
		famchange_free(&fc[i]);
	return r;
}

/* The union of what each list contributes to the sets this run. */
static int
kernel_union(struct ctx *x, struct setup_state *next, struct prefix **out,
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
	for (i = 0; i < next->nlists; i++)
		for (j = 0; j < next->lists[i].n; j++)
			if (cidr_add_prefix(&u, &next->lists[i].pfx[j]) == -1) {
				cidr_list_free(&u);
				return -1;
			}
	(void)x;
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

static int
nft_open(struct ctx *x, struct nftset **ns)
{
	char	err[ERRLEN];

	if (*ns != NULL)
		return 0;
	if (x->gen == NULL) {
		snprintf(x->genpath, sizeof(x->genpath), "%s/%s", x->c.db,
		    NFTGEN_FILE);
		if (nftgen_new(&x->gen, x->genpath) == -1) {
			log_warnx(&x->log, "out of memory");
			return -1;
		}
	}
	if (nftset_open(ns, NULL, err, sizeof(err)) == -1) {
		log_warnx(&x->log, "nftables: %s", err);
		*ns = NULL;
		return -1;
	}
	return 0;
}

/* -b: load the union into spamd/spamd6; next->kernel says if it took. */
static void
kernel_load(struct ctx *x, struct nftset **ns, struct setup_state *next)
{
	struct setup_diff	 d;
	struct prefix		*u;
	struct timespec		 t0, t1;
	size_t			 nu;
	char			 err[ERRLEN];
	bool			 diff;
	int			 r;

	memset(&d, 0, sizeof(d));
	next->kernel = false;
	if (kernel_union(x, next, &u, &nu) == -1) {
		log_warnx(&x->log, "kernel sets: out of memory");
		x->failed++;
		return;
	}
	diff = x->prev_ok && x->prev.kernel;
	if (diff && setup_diff(x->prev.loaded, x->prev.nloaded, u, nu,
	    &d) == -1) {
		log_warnx(&x->log, "kernel sets: out of memory");
		free(u);
		x->failed++;
		return;
	}
	if (x->c.dryrun) {
		if (diff) {
			printf("# sets %s/%s: %zu prefixes, as a difference "
			    "from the last load\n", black_sets[0],
			    black_sets[1], nu);
			print_prefixes("+spamd", d.add, d.nadd);
			print_prefixes("-spamd", d.del, d.ndel);
		} else {
			printf("# sets %s/%s: %zu prefixes, loaded whole\n",
			    black_sets[0], black_sets[1], nu);
			print_prefixes("spamd", u, nu);
		}
		setup_diff_free(&d);
		free(u);
		return;
	}
	if (nft_open(x, ns) == -1) {
		x->failed++;
		setup_diff_free(&d);
		free(u);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = -1;
	if (diff) {
		r = kernel_commit(x, *ns, black_sets, u, nu, &d, err,
		    sizeof(err));
		if (r == -1 && (errno == ENOENT || errno == ENOTSUP ||
		    errno == EEXIST)) {
			log_warnx(&x->log, "sets %s/%s do not hold what the "
			    "last run loaded (%s); loading them whole",
			    black_sets[0], black_sets[1], err);
			diff = false;
		}
	}
	if (!diff)
		r = kernel_commit(x, *ns, black_sets, u, nu, NULL, err,
		    sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == -1) {
		log_warnx(&x->log, "kernel sets not loaded: %s", err);
		x->failed++;
	} else {
		next->kernel = true;
		next->loaded = u;
		next->nloaded = nu;
		u = NULL;
		if (x->c.debug || !diff)
			log_info(&x->log, "sets %s/%s: %zu IPv4 and %zu IPv6 "
			    "prefixes, %s in %.3f s", black_sets[0],
			    black_sets[1], count_family(next->loaded, nu,
			    AF_INET), count_family(next->loaded, nu, AF_INET6),
			    diff ? "changed by a difference" : "loaded whole",
			    (double)(t1.tv_sec - t0.tv_sec) +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (x->c.debug && diff)
			log_info(&x->log, "sets %s/%s: %zu added, %zu deleted",
			    black_sets[0], black_sets[1], d.nadd, d.ndel);
	}
	setup_diff_free(&d);
	free(u);
}

/* /etc/nfspamd/nospamd into @nospamd/@nospamd6, whole, one transaction. */
static void
nospamd_load(struct ctx *x, struct nftset **ns)
{
	struct cidr_list	 l;
	struct cidr_report	 rep;
	struct prefix		*v = NULL;
	size_t			 n = 0, len;
	char			 err[ERRLEN], *data;

	if (read_file(x->c.nospamd, x->c.fo.max, &data, &len, err,
	    sizeof(err)) == -1) {
		if (errno == ENOENT) {
			if (x->c.debug)
				log_info(&x->log, "%s: none; sets %s/%s left "
				    "as they are", x->c.nospamd,
				    nospamd_sets[0], nospamd_sets[1]);
			return;
		}
		log_warnx(&x->log, "%s; sets %s/%s left as they are", err,
		    nospamd_sets[0], nospamd_sets[1]);
		x->failed++;
		return;
	}
	cidr_list_init(&l);
	memset(&rep, 0, sizeof(rep));
	if (cidr_parse(x->c.nospamd, data, len, &l, &rep) == -1 ||
	    cidr_collapse(&l, NULL, &v, &n) == -1) {
		log_warnx(&x->log, "%s: out of memory", x->c.nospamd);
		x->failed++;
		goto out;
	}
	if (rep.bad > 0) {
		log_warnx(&x->log, "%s: %zu of %zu lines not understood, "
		    "skipped", x->c.nospamd, rep.bad, rep.lines);
		for (len = 0; len < rep.nkept; len++)
			log_warnx(&x->log, "  %s", rep.kept[len]);
	}
	if (x->c.dryrun) {
		printf("# sets %s/%s: %zu prefixes, loaded whole\n",
		    nospamd_sets[0], nospamd_sets[1], n);
		print_prefixes("nospamd", v, n);
		goto out;
	}
	if (nft_open(x, ns) == -1 || kernel_commit(x, *ns, nospamd_sets, v,
	    n, NULL, err, sizeof(err)) == -1) {
		if (*ns != NULL)
			log_warnx(&x->log, "%s not loaded: %s", x->c.nospamd,
			    err);
		x->failed++;
		goto out;
	}
	if (x->c.debug)
		log_info(&x->log, "sets %s/%s: %zu IPv4 and %zu IPv6 prefixes "
		    "from %s", nospamd_sets[0], nospamd_sets[1],
		    count_family(v, n, AF_INET), count_family(v, n, AF_INET6),
		    x->c.nospamd);
out:
	free(data);
	free(v);
	cidr_list_free(&l);
}

/* --- putting it together --- */

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

/*
 * What nfspamd and the sets hold of our lists after this run: a list
 * fetched now has its new prefixes; one that failed keeps its record; a
 * list gone from spamd.conf is dropped once nfspamd took the clear.
 * The prefixes are kept only for -b.
 */
/* Did nfspamd take the clear line for this tag? */
static bool
cleared(const struct ctx *x, const char *tag)
{
	size_t	i;

	for (i = 0; i < x->nclears; i++)
		if (x->clears[i] != NULL && strcmp(x->clears[i], tag) == 0)
			return true;
	return false;
}

static int
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
		if (in_config(x, p->tag) || (sent && cleared(x, p->tag)))
			continue;
		if (rec_push(next, p->tag, NULL, 0) == -1)
			return -1;
	}
	return 0;
}

static int
state_save(struct ctx *x, const struct setup_state *next)
{
	struct buf	out = { 0 };
	char		err[ERRLEN];

	if (setup_state_encode(next, &out) == -1) {
		log_warnx(&x->log, "state: out of memory");
		return -1;
	}
	if (write_atomic(x->c.db, STATE_FILE, out.data, out.len, err,
	    sizeof(err)) == -1) {
		log_warnx(&x->log, "state not saved: %s", err);
		buf_free(&out);
		return -1;
	}
	buf_free(&out);
	return 0;
}

/* One run at a time: the state file is read, then rewritten. */
static int
lock_db(struct ctx *x)
{
	char	path[4096], hint[ERRLEN];
	int	fd, e;

	snprintf(path, sizeof(path), "%s/%s", x->c.db, LOCK_FILE);
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
	setup_state_free(&x->prev);
	sdc_free(&x->sdc);
}

int
main(int argc, char **argv)
{
	struct ctx		 x;
	struct setup_state	 next;
	struct nftset		*ns = NULL;
	struct buf		 text = { 0 }, reply = { 0 };
	char			 err[ERRLEN], **clr = NULL;
	size_t			 ncl = 0, i, sent = 0;
	bool			 delivered = false;
	int			 lockfd = -1, rc = 1;

	memset(&x, 0, sizeof(x));
	memset(&next, 0, sizeof(next));
	parse_args(&x.c, argc, argv);
	log_init(&x.log, "nfspamd-setup", 1, x.c.debug ? LOG_DEBUG :
	    LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	if (sdc_load(x.c.conf, &x.sdc, err, sizeof(err)) == -1) {
		char hint[ERRLEN];

		/* Not ENOENT's hint: /etc/nfspamd is root's to make. */
		hint[0] = '\0';
		if (access(x.c.conf, R_OK) == -1 && errno != ENOENT)
			why_not(errno, x.c.conf, hint, sizeof(hint));
		log_warnx(&x.log, "%s%s", err, hint);
		return 1;
	}
	for (i = 0; i < x.sdc.nwarn; i++)
		log_warnx(&x.log, "%s", x.sdc.warn[i]);
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
		if (x.sdc.lists[i].method != SDC_FILE) {
			/* Only exec and downloads need it; files still work. */
			x.nouser = resolve_user(&x) == -1;
			break;
		}
	collect_lists(&x);

	if (control_text(&x, &text, &clr, &ncl) == -1) {
		log_warnx(&x.log, "out of memory");
		goto done;
	}
	x.clears = clr;
	x.nclears = ncl;
	for (i = 0; i < x.nblacks; i++)
		sent += x.blacks[i].ok;
	if (x.c.dryrun) {
		fwrite(text.data != NULL ? text.data : "", 1, text.len, stdout);
		delivered = true;
	} else if (text.len > 0) {
		if (control_send(x.c.control, &text, &reply, err,
		    sizeof(err)) == -1) {
			log_warnx(&x.log, "%s; nothing sent", err);
			x.failed++;
		} else if (control_answer(&x, reply.data) == 0)
			delivered = true;
	} else
		delivered = true;
	if (delivered && !x.c.dryrun && (sent > 0 || ncl > 0))
		log_info(&x.log, "nfspamd: %zu list%s sent, %zu cleared", sent,
		    sent == 1 ? "" : "s", ncl);

	if (next_state(&x, &next, delivered) == -1) {
		log_warnx(&x.log, "out of memory");
		goto done;
	}
	if (x.c.kernel)
		kernel_load(&x, &ns, &next);
	nospamd_load(&x, &ns);
	if (!x.c.dryrun && state_save(&x, &next) == -1)
		x.failed++;

	if (x.failed > 0)
		log_warnx(&x.log, "%d problem%s, see above", x.failed,
		    x.failed == 1 ? "" : "s");
	rc = x.failed > 0 ? 1 : 0;
done:
	if (ns != NULL)
		nftset_close(ns);
	nftgen_free(x.gen);
	if (lockfd != -1)
		close(lockfd);
	free(clr);
	buf_free(&text);
	buf_free(&reply);
	setup_state_free(&next);
	free_all(&x);
	log_close(&x.log);
	return rc;
}
