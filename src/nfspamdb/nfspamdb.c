/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamdb: list, add and delete entries of the nfspamd database with
 * spamdb(8)'s flags, output lines and exit codes.
 *
 * A thin shell: the store decides how entries are kept, grey.c what an
 * added entry looks like, dbimport.c what an imported line means.  Keys
 * are checked before the database is touched, and all changes of one run
 * go into one transaction.
 *
 * This file holds the flags, the keys and the run; nfspamdb.h says
 * where the rest is.  --stats is stats.c's, --copy-from copy.c's.
 *
 * --store names a shared store (Valkey/Redis) instead of the directory:
 * the same store API, so every action works on either.
 */

#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "greylist.h"
#include "import.h"
#include "log.h"
#include "nfspamdb.h"
#include "owner.h"
#include "rlayout.h"
#include "stats.h"
#include "store.h"
#include "util.h"

static void	usage(FILE *, int) __attribute__((noreturn));
static void	version(void) __attribute__((noreturn));
static const char *key_problem(const char *, bool);
static char	*lower_dup(const char *);
static void	parse_args(struct nfspamdb *, int, char **);
static void	check_url(const char *, const char *);
static void	check_store(struct nfspamdb *, bool);
static void	check_stats(struct nfspamdb *, bool, int, int);
static void	check_copy(struct nfspamdb *, bool, int, int);
static void	prepare_add(struct nfspamdb *, struct item *);
static void	prepare_find(struct nfspamdb *, struct item *);
static int	prepare(struct nfspamdb *, char **, int);
static int	open_store(struct nfspamdb *);
static int	run(struct nfspamdb *);
static int	run_import(struct nfspamdb *);
static int	report(struct nfspamdb *);
static int	finish_output(struct nfspamdb *);
static void	cleanup(struct nfspamdb *);

static const struct option longopts[] = {
	{ "db",		required_argument,	NULL,	'D' },
	{ "json",	no_argument,		NULL,	'J' },
	{ "os",		no_argument,		NULL,	'O' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "import",	required_argument,	NULL,	'I' },
	{ "stats",	no_argument,		NULL,	'S' },
	{ "top",	required_argument,	NULL,	'N' },
	{ "control",	required_argument,	NULL,	'C' },
	{ "version",	no_argument,		NULL,	'V' },
	{ "store",	required_argument,	NULL,	'R' },
	{ "store-password-file", required_argument, NULL, 'P' },
	{ "copy-from",	required_argument,	NULL,	'F' },
	{ "copy-password-file", required_argument, NULL, 'Q' },
	{ NULL,		0,			NULL,	0 }
};

static void
usage(FILE *fp, int status)
{
	const char	*p = program_invocation_short_name;

	fprintf(fp, "usage: %s [-adGTt] [--db dir] [--json] [--os] "
	    "[keys ...]\n"
	    "       %s [--db dir] --import file\n"
	    "       %s [--db dir] --stats [--json] [--top n] "
	    "[--control path]\n"
	    "       %s [--db dir] --copy-from source "
	    "[--copy-password-file file]\n"
	    "       %s -h | -V\n"
	    "--store url [--store-password-file file] may stand for --db dir,"
	    "\nurl: redis://[user@]host[:port][/db] or unix:/path[?db=N]\n",
	    p, p, p, p, p);
	if (fflush(fp) == EOF && status == 0)
		err(1, "standard output");
	exit(status);
}

static void
version(void)
{
	printf("nfspamdb %s\n", PACKAGE_VERSION);
	if (fflush(stdout) == EOF)
		err(1, "standard output");
	exit(0);
}

/* A key made safe for a one-line message. */
const char *
show(char *buf, size_t len, const char *s)
{
	return log_quote(buf, len, s, strlen(s));
}

/* Why a key can never be stored, or NULL.  Tuple keys hold newlines. */
static const char *
key_problem(const char *s, bool tuple_ok)
{
	size_t	len = strlen(s);

	if (len == 0)
		return "empty key";
	if (len > STORE_KEYMAX)
		return "key longer than 511 bytes";
	if (!tuple_ok && strchr(s, '\n') != NULL)
		return "key contains a newline";
	return NULL;
}

/* Mail addresses are kept lower-cased, as spamd compares them. */
static char *
lower_dup(const char *s)
{
	char	*p, *d;

	if ((d = strdup(s)) == NULL)
		err(1, NULL);
	for (p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return d;
}

/*
 * A URL that rl_url_parse refuses: its message (which names --store)
 * under the flag given, and exit 1.  Checked here so that a bad URL
 * stops the run before anything is opened.
 */
static void
check_url(const char *flag, const char *url)
{
	struct rl_url	 u;
	char		 e[ERRLEN];
	const char	*why = e;

	if (rl_url_parse(url, &u, e, sizeof(e)) == 0)
		return;
	if (strncmp(e, "--store", 7) == 0)
		why = e + 7;
	warnx("%s%s", flag, why);
	exit(1);
}

/* One store: --db or --store; each password file with its URL. */
static void
check_store(struct nfspamdb *db, bool dirgiven)
{
	if (db->shared != NULL && dirgiven) {
		warnx("--db and --store name two stores: give one");
		usage(stderr, 1);
	}
	if (db->passfile != NULL && db->shared == NULL) {
		warnx("--store-password-file goes with --store");
		usage(stderr, 1);
	}
	if (db->copypass != NULL && (db->copyfrom == NULL ||
	    !rl_url_is_shared(db->copyfrom))) {
		warnx("--copy-password-file goes with a --copy-from URL");
		usage(stderr, 1);
	}
	if (db->shared != NULL)
		check_url("--store", db->shared);
	if (db->copyfrom != NULL && rl_url_is_shared(db->copyfrom))
		check_url("--copy-from", db->copyfrom);
}

/* --copy-from takes the destination's flags and nothing else. */
static void
check_copy(struct nfspamdb *db, bool other, int ntype, int nkeys)
{
	if (db->copyfrom == NULL)
		return;
	if (other || ntype > 0 || nkeys > 0 || db->json || db->os ||
	    db->import != NULL) {
		warnx("--copy-from takes no keys and no other flag but --db "
		    "or --store, and the password files");
		usage(stderr, 1);
	}
	db->act = ACT_COPY;
}

/*
 * --stats takes --db or --store, --json, --top and --control, and
 * nothing else; --top and --control go with --stats only.
 */
static void
check_stats(struct nfspamdb *db, bool other, int ntype, int nkeys)
{
	bool	stats = db->act == ACT_STATS;

	if (stats && (other || ntype > 0 || nkeys > 0 ||
	    db->import != NULL || db->copyfrom != NULL)) {
		warnx("--stats takes no keys and no other flag but --db or "
		    "--store, --json, --top and --control");
		usage(stderr, 1);
	}
	if (!stats && (db->control != NULL || db->top != TOP_UNSET)) {
		warnx("--top and --control go with --stats only");
		usage(stderr, 1);
	}
	if (db->control == NULL)
		db->control = CONTROL_DEFAULT;
	if (db->top == TOP_UNSET)
		db->top = STATS_TOP_DEFAULT;
}

static void
parse_args(struct nfspamdb *db, int argc, char **argv)
{
	bool	add = false, del = false, dirgiven = false;
	int	ch, ntype = 0;
	long	top;

	while ((ch = getopt_long(argc, argv, "adGhTtV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			add = true;
			break;
		case 'd':
			del = true;
			break;
		case 'G':
		case 'T':
		case 't':
			/* count distinct type flags: -t -t is still one */
			if ((ch == 'G' && db->type != STORE_GREY) ||
			    (ch == 'T' && db->type != STORE_SPAMTRAP) ||
			    (ch == 't' && db->type != STORE_TRAPPED))
				ntype++;
			db->type = ch == 'G' ? STORE_GREY :
			    ch == 'T' ? STORE_SPAMTRAP : STORE_TRAPPED;
			break;
		case 'D':
			if (*optarg == '\0') {
				warnx("--db: empty directory name");
				usage(stderr, 1);
			}
			if (rl_url_is_shared(optarg)) {
				warnx("--db %s: a shared store goes with "
				    "--store", optarg);
				usage(stderr, 1);
			}
			db->dir = optarg;
			dirgiven = true;
			break;
		case 'R':
			db->shared = optarg;
			break;
		case 'P':
			db->passfile = optarg;
			break;
		case 'F':
			if (*optarg == '\0') {
				warnx("--copy-from: empty source");
				usage(stderr, 1);
			}
			db->copyfrom = optarg;
			break;
		case 'Q':
			db->copypass = optarg;
			break;
		case 'J':
			db->json = true;
			break;
		case 'O':
			db->os = true;
			break;
		case 'h':
			usage(stdout, 0);
		case 'I':
			if (db->import != NULL) {
				warnx("--import: only one file at a time");
				usage(stderr, 1);
			}
			db->import = optarg;
			break;
		case 'S':
			db->act = ACT_STATS;
			break;
		case 'N':
			if (util_parse_long(optarg, 0, STATS_TOP_MAX,
			    &top) == -1) {
				warnx("--top: not a number from 0 to %d: %s",
				    STATS_TOP_MAX, optarg);
				usage(stderr, 1);
			}
			db->top = (size_t)top;
			break;
		case 'C':
			if (*optarg == '\0') {
				warnx("--control: empty path");
				usage(stderr, 1);
			}
			db->control = optarg;
			break;
		case 'V':
			version();
		default:
			usage(stderr, 1);
		}
	}

	check_store(db, dirgiven);
	check_stats(db, add || del, ntype, argc - optind);
	if (db->act == ACT_STATS)
		return;
	check_copy(db, add || del, ntype, argc - optind);
	if (db->act == ACT_COPY)
		return;

	if (db->import != NULL && (add || del || ntype > 0 || db->json ||
	    db->os || optind != argc)) {
		warnx("--import takes no keys and no other flag but --db or "
		    "--store");
		usage(stderr, 1);
	}
	if (db->import != NULL) {
		db->act = ACT_IMPORT;
		return;
	}
	if ((add && del) || ntype > 1 || (ntype == 1 && !add && !del))
		usage(stderr, 1);
	if ((db->json || db->os) && (add || del)) {
		warnx("--json and --os apply to listing only");
		usage(stderr, 1);
	}
	if (add && db->type == STORE_GREY)
		errx(2, "cannot add GREY entries");
	if ((add || del) && optind == argc)
		errx(2, "no addresses specified");
	db->act = add ? ACT_ADD : del ? ACT_DEL : ACT_LIST;
	if (add && db->type == NO_TYPE)
		db->type = STORE_WHITE;
}

/* -a: addresses for WHITE and TRAPPED, mail addresses for SPAMTRAP. */
static void
prepare_add(struct nfspamdb *db, struct item *it)
{
	char		 q[SHOWLEN], buf[ADDR_STRLEN];
	const char	*why;

	if ((why = key_problem(it->arg, false)) != NULL) {
		warnx("%s: %s", why, show(q, sizeof(q), it->arg));
		it->res = R_BAD;
		return;
	}
	if (db->type == STORE_SPAMTRAP) {
		if (strchr(it->arg, '@') == NULL) {
			warnx("not an email address: %s",
			    show(q, sizeof(q), it->arg));
			it->res = R_NOTMAIL;
			return;
		}
		it->kind = K_MAIL;
		it->key = lower_dup(it->arg);
	} else {
		struct prefix p;

		if (prefix_parse(it->arg, &p, false, &why) == -1) {
			warnx("invalid ip address: %s (%s)",
			    show(q, sizeof(q), it->arg), why);
			it->res = R_BAD;
			return;
		}
		/* Loopback is this host's own: an admin may mean it. */
		if ((why = addr_not_client(&p.addr)) != NULL &&
		    strcmp(why, "loopback") != 0) {
			warnx("not a client address: %s (%s)",
			    show(q, sizeof(q), it->arg), why);
			it->res = R_BAD;
			return;
		}
		if (p.len < addr_bits(&p.addr) && db->type != STORE_WHITE) {
			warnx("%s: a network; traps are per address",
			    show(q, sizeof(q), it->arg));
			it->res = R_BAD;
			return;
		}
		it->addr = p.addr;
		it->plen = p.len;
		/* WHITE: the network's key, made once -N is known (add). */
		prefix_key(&p, buf, sizeof(buf));
		it->kind = K_ADDR;
		if ((it->key = strdup(buf)) == NULL)
			err(1, NULL);
	}
	it->keylen = strlen(it->key);
}

/*
 * Listing and -d: an exact key, except that addresses are canonical and
 * mail addresses lower-case, as -a stores them.
 */
static void
prepare_find(struct nfspamdb *db, struct item *it)
{
	char		 q[SHOWLEN], buf[ADDR_STRLEN];
	const char	*why;
	bool		 tuple_ok = db->type == NO_TYPE;

	if ((why = key_problem(it->arg, tuple_ok)) != NULL) {
		warnx("%s: %s", why, show(q, sizeof(q), it->arg));
		it->res = R_BAD;
		return;
	}
	struct prefix p;

	if (db->type == STORE_GREY) {
		if (prefix_parse(it->arg, &p, false, &why) == -1) {
			warnx("invalid ip address: %s (%s)",
			    show(q, sizeof(q), it->arg), why);
			it->res = R_BAD;
			return;
		}
		it->kind = K_GREYIP;
	} else if (strchr(it->arg, '\n') != NULL)
		it->kind = K_RAW;
	else if (db->type == STORE_SPAMTRAP ||
	    (db->type == NO_TYPE && strchr(it->arg, '@') != NULL))
		it->kind = K_MAIL;
	else if (prefix_parse(it->arg, &p, false, &why) == 0)
		it->kind = K_ADDR;
	else
		it->kind = K_RAW;

	if (it->kind == K_MAIL)
		it->key = lower_dup(it->arg);
	else if (it->kind == K_ADDR || it->kind == K_GREYIP) {
		it->addr = p.addr;
		it->plen = p.len;
		prefix_key(&p, buf, sizeof(buf));
		it->key = strdup(buf);
	} else
		it->key = strdup(it->arg);
	if (it->key == NULL)
		err(1, NULL);
	it->keylen = strlen(it->key);
}

bool
item_covers(const struct item *it, const struct prefix *p)
{
	if (it->plen == addr_bits(&it->addr))
		return prefix_contains(p, &it->addr);
	return p->len == it->plen && addr_eq(&p->addr, &it->addr);
}

/* Returns the number of keys kept for the database. */
static int
prepare(struct nfspamdb *db, char **keys, int nkeys)
{
	struct item	*it;
	int		 i, good = 0;

	if (nkeys == 0)
		return 0;
	if ((db->items = calloc(nkeys, sizeof(*db->items))) == NULL)
		err(1, NULL);
	db->nitems = nkeys;
	for (i = 0; i < nkeys; i++) {
		it = &db->items[i];
		it->arg = keys[i];
		it->kind = K_BAD;
		if (db->act == ACT_ADD)
			prepare_add(db, it);
		else
			prepare_find(db, it);
		if (it->kind != K_BAD)
			good++;
	}
	return good;
}

static int
nets_body(struct store_txn *t, void *arg)
{
	return greylist_nets_load(t, arg) == -1 ? -1 : 0;
}

/*
 * Run as root, become the database directory's owner first, so no file
 * in it ever belongs to root (owner.h).  The store's errors name the
 * user and the fix for permission problems.  A shared store has no
 * directory: nothing to adopt.  Its first transaction connects, so an
 * unreachable server is reported here, naming the URL.
 */
static int
open_store(struct nfspamdb *db)
{
	struct store_opts	opts;

	if (db->shared == NULL && owner_adopt(db->dir, NULL, db->err,
	    sizeof(db->err)) == -1) {
		warnx("%s", db->err);
		return -1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.readonly = db->act == ACT_LIST || db->act == ACT_STATS;
	opts.create = db->act == ACT_ADD || db->act == ACT_IMPORT;
	opts.shared = db->shared;
	opts.passfile = db->passfile;
	if (store_open(&db->store, db->shared != NULL ? db->shared : db->dir,
	    &opts, db->err, sizeof(db->err)) == -1) {
		warnx("%s", db->err);
		db->store = NULL;
		return -1;
	}
	db->dir = store_dir(db->store);
	grey_conf_default(&db->nets);
	if (store_view(db->store, nets_body, &db->nets, db->err,
	    sizeof(db->err)) == -1) {
		warnx("%s", db->err);
		return -1;
	}
	return 0;
}

/* The store's text already names the directory. */
int
txn_failed(struct nfspamdb *db, struct store_txn *txn)
{
	snprintf(db->txnerr, sizeof(db->txnerr), "%s", store_txn_error(txn));
	return TXN_FAILED;
}

void
item_error(struct item *it, struct store_txn *txn)
{
	it->res = R_ERROR;
	snprintf(it->why, sizeof(it->why), "%s", store_txn_error(txn));
}

/* -1 if the database could not be read or changed at all. */
static int
run(struct nfspamdb *db)
{
	store_fn	 fn;
	int		 r;

	if (db->act == ACT_LIST && db->nitems == 0)
		fn = list_txn;
	else if (db->act == ACT_LIST)
		fn = find_txn;
	else if (db->act == ACT_ADD)
		fn = add_txn;
	else if (db->type == STORE_GREY)
		fn = delgrey_txn;
	else
		fn = del_txn;

	if (db->act == ACT_LIST)
		r = store_view(db->store, fn, db, db->err, sizeof(db->err));
	else
		r = store_update(db->store, fn, db, db->err, sizeof(db->err));
	if (r != 0) {
		warnx("%s", r == TXN_FAILED ? db->txnerr : db->err);
		return -1;
	}
	return 0;
}

/* Checks the whole file before the database is opened: 0 or 1. */
static int
run_import(struct nfspamdb *db)
{
	struct import	*imp;
	int		 status = 1;

	if ((imp = import_open(db->import)) == NULL)
		return 1;
	if (import_check(imp) == 0 && open_store(db) == 0 &&
	    import_store(imp, db->store) == 0)
		status = 0;
	import_close(imp);
	return status;
}

/* Reports each failed key; returns spamdb's exit status. */
static int
report(struct nfspamdb *db)
{
	struct item	*it;
	char		 q[SHOWLEN];
	long		 failed = 0;
	bool		 notmail = false;
	size_t		 i;

	for (i = 0; i < db->nitems; i++) {
		it = &db->items[i];
		switch (it->res) {
		case R_OK:
			continue;
		case R_NOTMAIL:
			notmail = true;
			break;
		case R_NOTFOUND:
			if (it->kind == K_GREYIP)
				warnx("no GREY entries for %s",
				    show(q, sizeof(q), it->arg));
			else
				warnx("no entry for %s",
				    show(q, sizeof(q), it->arg));
			break;
		case R_ERROR:
			warnx("%s", it->why);
			break;
		default:
			break;
		}
		failed++;
	}
	if (notmail)
		return 255;	/* spamdb's errx(-1) */
	return failed > 255 ? 255 : (int)failed;
}

static int
finish_output(struct nfspamdb *db)
{
	if (fflush(db->out) != 0 || ferror(db->out)) {
		warn("standard output");
		return -1;
	}
	return 0;
}

static void
cleanup(struct nfspamdb *db)
{
	size_t	i;

	if (db->store != NULL)
		store_close(db->store);
	clear_matches(db);
	free(db->match);
	for (i = 0; i < db->nitems; i++)
		free(db->items[i].key);
	free(db->items);
}

int
main(int argc, char *argv[])
{
	struct nfspamdb	 db;
	size_t		 i;
	int		 status, good;

	memset(&db, 0, sizeof(db));
	db.dir = STORE_DEFAULT_DIR;
	db.type = NO_TYPE;
	db.out = stdout;
	db.now = time(NULL);
	db.top = TOP_UNSET;

	parse_args(&db, argc, argv);
	if (db.act == ACT_COPY) {
		status = copy_run(&db);
		if (finish_output(&db) == -1 && status == 0)
			status = 1;
		cleanup(&db);
		return status;
	}
	if (db.act == ACT_STATS) {
		status = open_store(&db) == -1 ? 1 : stats_run(&db);
		if (finish_output(&db) == -1 && status == 0)
			status = 1;
		cleanup(&db);
		return status;
	}
	if (db.act == ACT_IMPORT) {
		status = run_import(&db);
		cleanup(&db);
		return status;
	}
	good = prepare(&db, argv + optind, argc - optind);

	/* nothing valid to add or delete: leave the database alone */
	if (db.act != ACT_LIST && good == 0) {
		status = report(&db);
		cleanup(&db);
		return status;
	}
	if (open_store(&db) == -1) {
		cleanup(&db);
		return 1;
	}
	if (run(&db) == -1) {
		/* nothing was applied: every key failed */
		for (i = 0; i < db.nitems; i++)
			if (db.items[i].kind != K_BAD)
				db.items[i].res = R_ABORTED;
		status = db.act == ACT_LIST ? 1 : report(&db);
	} else if (db.act == ACT_LIST && db.nitems == 0)
		status = db.bogus;
	else
		status = report(&db);
	if (finish_output(&db) == -1 && status == 0)
		status = 1;
	cleanup(&db);
	return status;
}
