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
 */

#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "grey.h"
#include "import.h"
#include "log.h"
#include "owner.h"
#include "store.h"

#define ERRLEN		512
#define SHOWLEN		96	/* a key quoted in a message */
#define TXN_FAILED	2	/* our transaction function gave up */
#define NO_TYPE		STORE_NTYPES	/* none of -G, -t, -T */
#define ARRAYLEN(a)	(sizeof(a) / sizeof((a)[0]))

enum action { ACT_LIST, ACT_ADD, ACT_DEL, ACT_IMPORT };

/* How one command line key is looked up. */
enum kind {
	K_BAD,		/* rejected before the database was opened */
	K_ADDR,		/* an address: WHITE or TRAPPED, canonical */
	K_MAIL,		/* SPAMTRAP, lower-cased */
	K_RAW,		/* anything else (a tuple, junk): any type, as given */
	K_GREYIP,	/* -d -G: every GREY tuple of one address */
};

/* Items whose address's GREY tuples are wanted: -d -G, and listing. */
#define WANTS_TUPLES(db, it)	((it)->kind == K_GREYIP || \
	((db)->act == ACT_LIST && (it)->kind == K_ADDR))

enum result {
	R_OK,
	R_BAD,		/* rejected and reported before the transaction */
	R_NOTMAIL,	/* -T without '@': spamdb exits 255 for it */
	R_NOTFOUND,
	R_ERROR,	/* this key's entry is unreadable; see why */
	R_ABORTED,	/* the whole transaction failed, already reported */
};

struct item {
	const char	*arg;		/* as given */
	char		*key;		/* as looked up */
	size_t		 keylen;
	enum kind	 kind;
	struct addr	 addr;		/* K_GREYIP */
	enum result	 res;
	long		 ndel;		/* K_GREYIP: tuples deleted */
	char		 why[ERRLEN];	/* R_ERROR */
};

/* One place an item's entry may be. */
struct cand {
	enum store_type	 type;
	const char	*key;
	size_t		 keylen;
};
#define MAXCAND		8

/*
 * A GREY tuple of an address asked for: deleted after the walk (-d -G)
 * or printed with the address's entry (listing).
 */
struct match {
	char			*key;
	size_t			 keylen;
	struct addr		 addr;
	struct store_rec	 rec;
	bool			 bogus;		/* the record does not decode */
	size_t			 item;		/* the first item it matched */
};

struct nfspamdb {
	const char	*dir;
	const char	*import;	/* --import FILE */
	enum action	 act;
	enum store_type	 type;		/* -G, -t, -T, or NO_TYPE */
	bool		 json;
	FILE		*out;
	int64_t		 now;
	struct item	*items;
	size_t		 nitems;
	struct match	*match;
	size_t		 nmatch, matchcap;
	int		 bogus;		/* listing met an unreadable entry */
	struct store	*store;
	char		 err[ERRLEN];	/* from store_open, _update, _view */
	char		 txnerr[ERRLEN]; /* why our txn function gave up */
};

static void	usage(FILE *, int) __attribute__((noreturn));
static void	version(void) __attribute__((noreturn));
static const char *show(char *, size_t, const char *);
static const char *key_problem(const char *, bool);
static char	*lower_dup(const char *);
static void	parse_args(struct nfspamdb *, int, char **);
static void	prepare_add(struct nfspamdb *, struct item *);
static void	prepare_find(struct nfspamdb *, struct item *);
static int	prepare(struct nfspamdb *, char **, int);
static int	open_store(struct nfspamdb *);
static size_t	utf8_len(const unsigned char *, size_t);
static void	put_json_str(FILE *, const char *, size_t);
static void	put_json_rec(FILE *, const struct store_rec *);
static void	print_json(FILE *, enum store_type, const char *, size_t,
		    const struct store_tuple *, const struct store_rec *);
static void	print_line(FILE *, enum store_type, const char *, size_t,
		    const struct store_tuple *, const struct store_rec *);
static int	print_entry(struct nfspamdb *, enum store_type, const char *,
		    size_t, const struct store_rec *);
static int	txn_failed(struct nfspamdb *, struct store_txn *);
static void	item_error(struct item *, struct store_txn *);
static int	list_entry(void *, enum store_type, const char *, size_t,
		    const struct store_rec *);
static int	list_txn(struct store_txn *, void *);
static size_t	candidates(struct nfspamdb *, struct item *, struct cand *);
static void	find_one(struct nfspamdb *, struct store_txn *, struct item *);
static void	show_tuples(struct nfspamdb *, struct item *);
static int	find_txn(struct store_txn *, void *);
static int	add_one(struct nfspamdb *, struct store_txn *, struct item *);
static int	add_txn(struct store_txn *, void *);
static int	del_one(struct nfspamdb *, struct store_txn *, struct item *);
static int	del_txn(struct store_txn *, void *);
static void	clear_matches(struct nfspamdb *);
static int	grey_match(void *, enum store_type, const char *, size_t,
		    const struct store_rec *);
static int	collect_tuples(struct nfspamdb *, struct store_txn *);
static int	delgrey_txn(struct store_txn *, void *);
static int	run(struct nfspamdb *);
static int	run_import(struct nfspamdb *);
static int	report(struct nfspamdb *);
static int	finish_output(struct nfspamdb *);
static void	cleanup(struct nfspamdb *);

static const struct option longopts[] = {
	{ "db",		required_argument,	NULL,	'D' },
	{ "json",	no_argument,		NULL,	'J' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "import",	required_argument,	NULL,	'I' },
	{ "version",	no_argument,		NULL,	'V' },
	{ NULL,		0,			NULL,	0 }
};

static void
usage(FILE *fp, int status)
{
	const char	*p = program_invocation_short_name;

	fprintf(fp, "usage: %s [-adGTt] [--db dir] [--json] [keys ...]\n"
	    "       %s [--db dir] --import file\n"
	    "       %s -h | -V\n", p, p, p);
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
static const char *
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

static void
parse_args(struct nfspamdb *db, int argc, char **argv)
{
	bool	add = false, del = false;
	int	ch, ntype = 0;

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
			db->dir = optarg;
			break;
		case 'J':
			db->json = true;
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
		case 'V':
			version();
		default:
			usage(stderr, 1);
		}
	}

	if (db->import != NULL && (add || del || ntype > 0 || db->json ||
	    optind != argc)) {
		warnx("--import takes no keys and no other flag but --db");
		usage(stderr, 1);
	}
	if (db->import != NULL) {
		db->act = ACT_IMPORT;
		return;
	}
	if ((add && del) || ntype > 1 || (ntype == 1 && !add && !del))
		usage(stderr, 1);
	if (db->json && (add || del)) {
		warnx("--json applies to listing only");
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
		if (addr_parse(it->arg, &it->addr, &why) == -1) {
			warnx("invalid ip address: %s (%s)",
			    show(q, sizeof(q), it->arg), why);
			it->res = R_BAD;
			return;
		}
		addr_format(&it->addr, buf, sizeof(buf));
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
	if (db->type == STORE_GREY) {
		if (addr_parse(it->arg, &it->addr, &why) == -1) {
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
	else if (addr_parse(it->arg, &it->addr, &why) == 0)
		it->kind = K_ADDR;
	else
		it->kind = K_RAW;

	if (it->kind == K_MAIL)
		it->key = lower_dup(it->arg);
	else if (it->kind == K_ADDR || it->kind == K_GREYIP) {
		addr_format(&it->addr, buf, sizeof(buf));
		it->key = strdup(buf);
	} else
		it->key = strdup(it->arg);
	if (it->key == NULL)
		err(1, NULL);
	it->keylen = strlen(it->key);
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

/*
 * Run as root, become the database directory's owner first, so no file
 * in it ever belongs to root (owner.h).  The store's errors name the
 * user and the fix for permission problems.
 */
static int
open_store(struct nfspamdb *db)
{
	struct store_opts	opts;

	if (owner_adopt(db->dir, NULL, db->err, sizeof(db->err)) == -1) {
		warnx("%s", db->err);
		return -1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.readonly = db->act == ACT_LIST;
	opts.create = db->act == ACT_ADD || db->act == ACT_IMPORT;
	if (store_open(&db->store, db->dir, &opts, db->err,
	    sizeof(db->err)) == -1) {
		warnx("%s", db->err);
		db->store = NULL;
		return -1;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s, or 0 if there is none. */
static size_t
utf8_len(const unsigned char *s, size_t len)
{
	uint32_t	cp;
	size_t		i, n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond Unicode */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * Tuple fields come from SMTP clients: any byte may appear.  Bytes that
 * are not UTF-8 are written as the code point of the same number, so the
 * line is always valid JSON and nothing is lost.
 */
static void
put_json_str(FILE *fp, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n;

	putc('"', fp);
	for (i = 0; i < len; i += n) {
		n = 1;
		if (u[i] == '"' || u[i] == '\\')
			fprintf(fp, "\\%c", u[i]);
		else if (u[i] < 0x20 || u[i] == 0x7f)
			fprintf(fp, "\\u%04x", u[i]);
		else if (u[i] < 0x80)
			putc(u[i], fp);
		else if ((n = utf8_len(u + i, len - i)) > 0)
			fwrite(u + i, 1, n, fp);
		else {
			fprintf(fp, "\\u%04x", u[i]);
			n = 1;
		}
	}
	putc('"', fp);
}

static void
put_json_rec(FILE *fp, const struct store_rec *rec)
{
	fprintf(fp, "\"first\":%lld,\"pass\":%lld,\"expire\":%lld,"
	    "\"bcount\":%d,\"pcount\":%d}\n", (long long)rec->first,
	    (long long)rec->pass, (long long)rec->expire, (int)rec->bcount,
	    (int)rec->pcount);
}

static void
print_json(FILE *fp, enum store_type type, const char *key, size_t keylen,
    const struct store_tuple *t, const struct store_rec *rec)
{
	fprintf(fp, "{\"type\":\"%s\",", store_type_name(type));
	if (type == STORE_GREY) {
		fputs("\"ip\":", fp);
		put_json_str(fp, t->ip, t->iplen);
		fputs(",\"helo\":", fp);
		put_json_str(fp, t->helo, t->helolen);
		fputs(",\"from\":", fp);
		put_json_str(fp, t->from, t->fromlen);
		fputs(",\"to\":", fp);
		put_json_str(fp, t->to, t->tolen);
	} else {
		fputs(type == STORE_SPAMTRAP ? "\"address\":" : "\"ip\":", fp);
		put_json_str(fp, key, keylen);
	}
	putc(',', fp);
	put_json_rec(fp, rec);
}

/* spamdb's lines, byte for byte. */
static void
print_line(FILE *fp, enum store_type type, const char *key, size_t keylen,
    const struct store_tuple *t, const struct store_rec *rec)
{
	fprintf(fp, "%s|", store_type_name(type));
	switch (type) {
	case STORE_GREY:
		fwrite(t->ip, 1, t->iplen, fp);
		putc('|', fp);
		fwrite(t->helo, 1, t->helolen, fp);
		putc('|', fp);
		fwrite(t->from, 1, t->fromlen, fp);
		putc('|', fp);
		fwrite(t->to, 1, t->tolen, fp);
		putc('|', fp);
		break;
	case STORE_WHITE:
		fwrite(key, 1, keylen, fp);
		fputs("|||", fp);
		break;
	case STORE_TRAPPED:
		fwrite(key, 1, keylen, fp);
		fprintf(fp, "|%lld\n", (long long)rec->expire);
		return;
	default:
		fwrite(key, 1, keylen, fp);
		putc('\n', fp);
		return;
	}
	fprintf(fp, "%lld|%lld|%lld|%d|%d\n", (long long)rec->first,
	    (long long)rec->pass, (long long)rec->expire, (int)rec->bcount,
	    (int)rec->pcount);
}

/* -1 for a GREY key that does not split into a tuple. */
static int
print_entry(struct nfspamdb *db, enum store_type type, const char *key,
    size_t keylen, const struct store_rec *rec)
{
	struct store_tuple	 t;

	memset(&t, 0, sizeof(t));
	if (type == STORE_GREY && store_tuple_split(key, keylen, &t) == -1)
		return -1;
	if (db->json)
		print_json(db->out, type, key, keylen, &t, rec);
	else
		print_line(db->out, type, key, keylen, &t, rec);
	return 0;
}

/* The store's text already names the directory. */
static int
txn_failed(struct nfspamdb *db, struct store_txn *txn)
{
	snprintf(db->txnerr, sizeof(db->txnerr), "%s", store_txn_error(txn));
	return TXN_FAILED;
}

static void
item_error(struct item *it, struct store_txn *txn)
{
	it->res = R_ERROR;
	snprintf(it->why, sizeof(it->why), "%s", store_txn_error(txn));
}

static int
list_entry(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct nfspamdb	*db = arg;
	char		 q[SHOWLEN];

	if (rec == NULL || print_entry(db, type, key, keylen, rec) == -1) {
		warnx("bogus %s entry: %s", store_type_name(type),
		    log_quote(q, sizeof(q), key, keylen));
		db->bogus = 1;
	}
	return 0;
}

static int
list_txn(struct store_txn *txn, void *arg)
{
	static const enum store_type order[] = {
		STORE_WHITE, STORE_GREY, STORE_TRAPPED, STORE_SPAMTRAP
	};
	struct nfspamdb	*db = arg;
	size_t		 i;

	for (i = 0; i < ARRAYLEN(order); i++)
		if (store_scan(txn, order[i], list_entry, db) != 0)
			return txn_failed(db, txn);
	return 0;
}

/*
 * Where listing and -d look for an item: the key as -a would store it,
 * then, if that differs, the key as given (entries written by older or
 * foreign tools).  -t narrows the search to TRAPPED.
 */
static size_t
candidates(struct nfspamdb *db, struct item *it, struct cand *c)
{
	static const enum store_type addrtypes[] = {
		STORE_WHITE, STORE_TRAPPED
	};
	static const enum store_type mailtypes[] = { STORE_SPAMTRAP };
	static const enum store_type traptypes[] = { STORE_TRAPPED };
	static const enum store_type rawtypes[] = {
		STORE_WHITE, STORE_TRAPPED, STORE_GREY, STORE_SPAMTRAP
	};
	const enum store_type	*types;
	const char		*keys[2];
	size_t			 lens[2], ntypes, nkeys = 1, i, j, n = 0;

	if (db->type == STORE_TRAPPED) {
		types = traptypes;
		ntypes = ARRAYLEN(traptypes);
	} else if (it->kind == K_ADDR) {
		types = addrtypes;
		ntypes = ARRAYLEN(addrtypes);
	} else if (it->kind == K_MAIL) {
		types = mailtypes;
		ntypes = ARRAYLEN(mailtypes);
	} else {
		types = rawtypes;
		ntypes = ARRAYLEN(rawtypes);
	}
	keys[0] = it->key;
	lens[0] = it->keylen;
	if (strcmp(it->arg, it->key) != 0) {
		keys[nkeys] = it->arg;
		lens[nkeys++] = strlen(it->arg);
	}
	for (i = 0; i < nkeys; i++)
		for (j = 0; j < ntypes && n < MAXCAND; j++) {
			c[n].type = types[j];
			c[n].key = keys[i];
			c[n++].keylen = lens[i];
		}
	return n;
}

/* Lists one key.  A store_view is never run twice: print as we go. */
static void
find_one(struct nfspamdb *db, struct store_txn *txn, struct item *it)
{
	struct cand		 c[MAXCAND];
	struct store_rec	 rec;
	char			 q[SHOWLEN];
	size_t			 i, n;
	int			 r = 1;

	n = candidates(db, it, c);
	for (i = 0; i < n && r == 1; i++)
		r = store_get(txn, c[i].type, c[i].key, c[i].keylen, &rec);
	if (r == -1)
		item_error(it, txn);
	else if (r == 1)
		it->res = R_NOTFOUND;
	else if (print_entry(db, c[i - 1].type, c[i - 1].key,
	    c[i - 1].keylen, &rec) == -1) {
		it->res = R_ERROR;
		snprintf(it->why, sizeof(it->why), "bogus GREY entry: %s",
		    show(q, sizeof(q), it->arg));
	} else
		it->res = R_OK;
}

/* An address's GREY tuples follow its entry; any of them makes it found. */
static void
show_tuples(struct nfspamdb *db, struct item *it)
{
	struct match	*m;
	char		 q[SHOWLEN];
	size_t		 i;

	if (!WANTS_TUPLES(db, it))
		return;
	for (i = 0; i < db->nmatch; i++) {
		m = &db->match[i];
		if (!addr_eq(&m->addr, &it->addr))
			continue;
		if (m->bogus) {
			it->res = R_ERROR;
			snprintf(it->why, sizeof(it->why), "bogus GREY entry: "
			    "%s", log_quote(q, sizeof(q), m->key, m->keylen));
			continue;
		}
		/* the key splits: grey_match kept only such keys */
		print_entry(db, STORE_GREY, m->key, m->keylen, &m->rec);
		if (it->res == R_NOTFOUND)
			it->res = R_OK;
	}
}

static int
find_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	size_t		 i;
	bool		 tuples = false;

	for (i = 0; i < db->nitems; i++)
		tuples = tuples || WANTS_TUPLES(db, &db->items[i]);
	if (tuples && collect_tuples(db, txn) != 0)
		return TXN_FAILED;
	for (i = 0; i < db->nitems; i++) {
		if (db->items[i].kind == K_BAD)
			continue;
		find_one(db, txn, &db->items[i]);
		show_tuples(db, &db->items[i]);
	}
	return 0;
}

/* -1 when the transaction cannot go on. */
static int
add_one(struct nfspamdb *db, struct store_txn *txn, struct item *it)
{
	struct store_rec	 old, rec;
	enum store_type		 have;
	int			 r;

	if (it->kind == K_MAIL)
		r = store_get(txn, STORE_SPAMTRAP, it->key, it->keylen, &old);
	else
		r = store_get_addr(txn, it->key, it->keylen, &have, &old);
	if (r == -1) {
		/* a bogus entry: leave it for -d, spamdb refuses it too */
		item_error(it, txn);
		return 0;
	}
	if (grey_dbadd(db->type, r == 0 ? &old : NULL, db->now, &rec) == -1) {
		it->res = R_ERROR;
		snprintf(it->why, sizeof(it->why), "cannot add %s entries",
		    store_type_name(db->type));
		return 0;
	}
	if (it->kind == K_MAIL)
		r = store_put(txn, STORE_SPAMTRAP, it->key, it->keylen, &rec);
	else
		r = store_put_addr(txn, it->key, it->keylen, db->type, &rec);
	if (r == -1)
		return -1;
	it->res = R_OK;
	return 0;
}

/* May run more than once (the map grows): results are set afresh. */
static int
add_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	size_t		 i;

	for (i = 0; i < db->nitems; i++) {
		if (db->items[i].kind == K_BAD)
			continue;
		if (add_one(db, txn, &db->items[i]) == -1)
			return txn_failed(db, txn);
	}
	return 0;
}

/* -1 when the transaction cannot go on. */
static int
del_one(struct nfspamdb *db, struct store_txn *txn, struct item *it)
{
	struct cand	c[MAXCAND];
	size_t		i, n;
	int		r = 1;

	n = candidates(db, it, c);
	for (i = 0; i < n && r == 1; i++)
		r = store_del(txn, c[i].type, c[i].key, c[i].keylen);
	if (r == -1)
		return -1;
	it->res = r == 0 ? R_OK : R_NOTFOUND;
	return 0;
}

static int
del_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	size_t		 i;

	for (i = 0; i < db->nitems; i++) {
		if (db->items[i].kind == K_BAD)
			continue;
		if (del_one(db, txn, &db->items[i]) == -1)
			return txn_failed(db, txn);
	}
	return 0;
}

static void
clear_matches(struct nfspamdb *db)
{
	size_t	i;

	for (i = 0; i < db->nmatch; i++)
		free(db->match[i].key);
	db->nmatch = 0;
}

/*
 * Collects the tuples of the addresses asked for (WANTS_TUPLES); stops
 * only when out of memory.
 */
static int
grey_match(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct nfspamdb		*db = arg;
	struct store_tuple	 t;
	struct match		*m;
	struct addr		 a;
	const char		*why;
	char			 ip[STORE_KEYMAX + 1];
	size_t			 i;

	(void)type;
	if (store_tuple_split(key, keylen, &t) == -1 || t.iplen >= sizeof(ip))
		return 0;
	memcpy(ip, t.ip, t.iplen);
	ip[t.iplen] = '\0';
	/* compare addresses, not text: older keys may not be canonical */
	if (addr_parse(ip, &a, &why) == -1)
		return 0;
	for (i = 0; i < db->nitems; i++)
		if (WANTS_TUPLES(db, &db->items[i]) &&
		    addr_eq(&a, &db->items[i].addr))
			break;
	if (i == db->nitems)
		return 0;

	if (db->nmatch == db->matchcap) {
		size_t	 cap = db->matchcap ? db->matchcap * 2 : 16;

		if ((m = reallocarray(db->match, cap, sizeof(*m))) == NULL)
			return 1;
		db->match = m;
		db->matchcap = cap;
	}
	m = &db->match[db->nmatch];
	if ((m->key = malloc(keylen)) == NULL)
		return 1;
	memcpy(m->key, key, keylen);
	m->keylen = keylen;
	m->addr = a;
	m->bogus = rec == NULL;
	if (rec != NULL)
		m->rec = *rec;
	m->item = i;
	db->nmatch++;
	return 0;
}

/* One walk of the GREY tuples for every address asked for. */
static int
collect_tuples(struct nfspamdb *db, struct store_txn *txn)
{
	int	r;

	clear_matches(db);
	if ((r = store_scan(txn, STORE_GREY, grey_match, db)) == -1)
		return txn_failed(db, txn);
	if (r != 0) {
		snprintf(db->txnerr, sizeof(db->txnerr), "%s: %s",
		    store_dir(db->store), strerror(ENOMEM));
		return TXN_FAILED;
	}
	return 0;
}

/* store_scan forbids changes during the walk: collect, then delete. */
static int
delgrey_txn(struct store_txn *txn, void *arg)
{
	struct nfspamdb	*db = arg;
	struct match	*m;
	size_t		 i;
	int		 r;

	for (i = 0; i < db->nitems; i++)
		db->items[i].ndel = 0;
	if (collect_tuples(db, txn) != 0)
		return TXN_FAILED;
	for (i = 0; i < db->nmatch; i++) {
		m = &db->match[i];
		r = store_del(txn, STORE_GREY, m->key, m->keylen);
		if (r == -1)
			return txn_failed(db, txn);
		if (r == 0)
			db->items[m->item].ndel++;
	}
	for (i = 0; i < db->nitems; i++)
		if (db->items[i].kind == K_GREYIP)
			db->items[i].res = db->items[i].ndel > 0 ?
			    R_OK : R_NOTFOUND;
	return 0;
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

	parse_args(&db, argc, argv);
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
