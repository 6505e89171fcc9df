/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * rstore: the store on Valkey/Redis.  See rstore.h.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "rlayout.h"
#include "rstore.h"
#include "util.h"

#define CACHE_BUCKETS	256
/*
 * A tuple hash's length, as the cache keeps it: a field name no tuple
 * has (a tuple's field holds two newlines).
 */
#define LEN_FIELD	"#len"
#define SCAN_COUNT	"1000"
#define MIN_VERSION	7	/* EXPIREAT NX/GT, XINFO's deleted id */

struct rstore {
	struct rl_url	 url;
	char		 name[400];
	char		*password;	/* NULL: no AUTH */
	int64_t		 os_ttl;
	redisContext	*c;		/* NULL: not connected */
	uint64_t	 retry_at;	/* ms, monotonic: no connect before */
	unsigned	 backoff;	/* ms */
	bool		 up;
	pthread_mutex_t	 mu;
};

/* What a transaction knows of one key, or of one field of a hash. */
enum ent_state { ENT_ABSENT, ENT_PRESENT, ENT_LOADED };

struct ent {
	struct ent	*next;
	char		*key;
	size_t		 keylen;
	char		*field;		/* NULL: the key itself */
	size_t		 fieldlen;
	enum ent_state	 state;		/* LOADED: a hash's marker, all of
					   its fields are here */
	uint8_t		*val;
	size_t		 vallen;
};

struct rtxn {
	struct rstore	*rs;
	bool		 write;
	bool		 watching;
	bool		 demoted;	/* a READONLY reply was seen */
	struct ent	*tab[CACHE_BUCKETS];
	struct buf	 w;		/* MULTI's commands */
	int		 nw;
	int64_t		 now;
	char		 err[640];	/* the name, and what went wrong */
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval
tv_ms(unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000 };

	return tv;
}

int
rstore_password(const char *file, char **out, char *err, size_t errlen)
{
	char line[1024];
	FILE *f;
	size_t n;

	if ((f = fopen(file, "r")) == NULL)
		return util_seterr(err, errlen, "--store-password-file %s: %s",
		    file, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return util_seterr(err, errlen, "--store-password-file %s: "
		    "empty", file);
	}
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0)
		return util_seterr(err, errlen, "--store-password-file %s: "
		    "the first line is empty", file);
	*out = strdup(line);
	explicit_bzero(line, sizeof(line));
	if (*out == NULL)
		return util_seterr(err, errlen, "out of memory");
	return 0;
}

int
rstore_open(struct rstore **out, const char *url, const char *passfile,
    int64_t os_ttl, char *err, size_t errlen)
{
	struct sigaction sa;
	struct rstore *rs;

	*out = NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if (rl_url_parse(url, &rs->url, err, errlen) == -1 ||
	    (passfile != NULL && rstore_password(passfile, &rs->password, err,
	    errlen) == -1)) {
		free(rs);
		return -1;
	}
	rl_url_format(&rs->url, rs->name, sizeof(rs->name));
	/*
	 * hiredis writes with write(2): a server that went away would end
	 * the process with SIGPIPE instead of returning EPIPE.
	 */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	rs->os_ttl = os_ttl > 0 ? os_ttl : 36 * 86400;
	rs->backoff = RSTORE_BACKOFF_MIN;
	pthread_mutex_init(&rs->mu, NULL);
	*out = rs;
	return 0;
}

void
rstore_close(struct rstore *rs)
{
	if (rs == NULL)
		return;
	if (rs->c != NULL)
		redisFree(rs->c);
	if (rs->password != NULL) {
		explicit_bzero(rs->password, strlen(rs->password));
		free(rs->password);
	}
	pthread_mutex_destroy(&rs->mu);
	free(rs);
}

const char *
rstore_name(const struct rstore *rs)
{
	return rs->name;
}

bool
rstore_up(const struct rstore *rs)
{
	return rs->up;
}

bool
rstore_connected(const struct rstore *rs)
{
	return rs->c != NULL;
}

/*
 * The connection failed: drop it.  One that worked (a server restarted
 * meanwhile) may be made again at once; a connect that fails waits the
 * backoff before the next.
 */
static void
lost(struct rstore *rs)
{
	if (rs->c != NULL) {
		redisFree(rs->c);
		rs->c = NULL;
	}
	if (rs->up) {
		rs->up = false;
		rs->retry_at = 0;
		return;
	}
	rs->retry_at = mono_ms() + rs->backoff;
	rs->backoff = rs->backoff * 2 > RSTORE_BACKOFF_MAX ?
	    RSTORE_BACKOFF_MAX : rs->backoff * 2;
}

/* One command, its reply checked; NULL with err (the connection lost). */
static redisReply *
command(struct rstore *rs, int argc, const char **argv, const size_t *lens,
    char *err, size_t errlen)
{
	redisReply *r;

	r = redisCommandArgv(rs->c, argc, argv, lens);
	if (r == NULL) {
		util_seterr(err, errlen, "%s: %s", rs->name,
		    rs->c->errstr[0] != '\0' ? rs->c->errstr : "no reply");
		lost(rs);
		return NULL;
	}
	return r;
}

/* AUTH, SELECT, and a server that has what the layout needs. */
static int
handshake(struct rstore *rs, char *err, size_t errlen)
{
	const char *auth[] = { "AUTH", rs->url.user, rs->password };
	char db[16], *v;
	const char *sel[] = { "SELECT", db };
	const char *info[] = { "INFO" };
	redisReply *r;
	int ok;

	if (rs->password != NULL) {
		if (rs->url.user[0] != '\0')
			r = command(rs, 3, auth, NULL, err, errlen);
		else {
			auth[1] = rs->password;
			r = command(rs, 2, auth, NULL, err, errlen);
		}
		if (r == NULL)
			return -1;
		ok = r->type != REDIS_REPLY_ERROR;
		if (!ok)
			util_seterr(err, errlen, "%s: AUTH: %s", rs->name,
			    r->str);
		freeReplyObject(r);
		if (!ok)
			return -1;
	}
	if (rs->url.db != 0) {
		snprintf(db, sizeof(db), "%d", rs->url.db);
		if ((r = command(rs, 2, sel, NULL, err, errlen)) == NULL)
			return -1;
		ok = r->type != REDIS_REPLY_ERROR;
		if (!ok)
			util_seterr(err, errlen, "%s: SELECT %s: %s", rs->name,
			    db, r->str);
		freeReplyObject(r);
		if (!ok)
			return -1;
	}
	if ((r = command(rs, 1, info, NULL, err, errlen)) == NULL)
		return -1;
	ok = 0;
	if (r->type == REDIS_REPLY_ERROR)
		util_seterr(err, errlen, "%s: %s", rs->name, r->str);
	else if (r->type != REDIS_REPLY_STRING ||
	    (v = strstr(r->str, "redis_version:")) == NULL ||
	    atoi(v + strlen("redis_version:")) < MIN_VERSION)
		util_seterr(err, errlen, "%s: the server is older than Redis "
		    "%d.0 (or Valkey 7.2), which the shared store needs",
		    rs->name, MIN_VERSION);
	else if (strstr(r->str, "\nrole:master") == NULL)
		/* A failover left us on a replica: writes would be refused. */
		util_seterr(err, errlen, "%s: a replica, not the primary: "
		    "--store must name the primary, or an address that "
		    "follows it (see nfspamd(8), A shared store)", rs->name);
	else
		ok = 1;
	freeReplyObject(r);
	return ok ? 0 : -1;
}

static int
connect_now(struct rstore *rs, char *err, size_t errlen)
{
	struct timeval ct = tv_ms(RSTORE_CONNECT_MS);
	uint64_t now = mono_ms();

	if (rs->c != NULL)
		return 0;
	if (now < rs->retry_at)
		return util_seterr(err, errlen, "%s: unreachable (next try in "
		    "%" PRIu64 " ms)", rs->name, rs->retry_at - now);
	if (rs->url.unix_sock)
		rs->c = redisConnectUnixWithTimeout(rs->url.path, ct);
	else
		rs->c = redisConnectWithTimeout(rs->url.host, rs->url.port, ct);
	if (rs->c == NULL || rs->c->err != 0) {
		util_seterr(err, errlen, "%s: %s", rs->name, rs->c != NULL ?
		    rs->c->errstr : "out of memory");
		lost(rs);
		return -1;
	}
	if (redisSetTimeout(rs->c, tv_ms(RSTORE_COMMAND_MS)) != REDIS_OK ||
	    (!rs->url.unix_sock && redisEnableKeepAlive(rs->c) != REDIS_OK)) {
		util_seterr(err, errlen, "%s: setting timeouts: %s", rs->name,
		    rs->c->errstr);
		lost(rs);
		return -1;
	}
	if (handshake(rs, err, errlen) == -1) {
		lost(rs);
		return -1;
	}
	rs->up = true;
	rs->backoff = RSTORE_BACKOFF_MIN;
	return 0;
}

/* --- the transaction's cache --- */

static unsigned
hash(const char *k, size_t kl, const char *f, size_t fl)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < kl; i++)
		h = (h ^ (uint8_t)k[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (size_t i = 0; f != NULL && i < fl; i++)
		h = (h ^ (uint8_t)f[i]) * 16777619u;
	return h % CACHE_BUCKETS;
}

static bool
same(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

/* field NULL: the key itself; LOADED markers have field "" (len 0). */
static struct ent *
ent_find(struct rtxn *t, const char *k, size_t kl, const char *f, size_t fl)
{
	for (struct ent *e = t->tab[hash(k, kl, f, fl)]; e != NULL;
	    e = e->next)
		if (same(e->key, e->keylen, k, kl) &&
		    (f == NULL) == (e->field == NULL) &&
		    (f == NULL || same(e->field, e->fieldlen, f, fl)))
			return e;
	return NULL;
}

static int
ent_set(struct rtxn *t, const char *k, size_t kl, const char *f, size_t fl,
    enum ent_state state, const void *v, size_t vl)
{
	struct ent *e = ent_find(t, k, kl, f, fl);
	uint8_t *nv = NULL;
	unsigned h;

	if (v != NULL && (nv = malloc(vl > 0 ? vl : 1)) == NULL)
		goto oom;
	if (v != NULL)
		memcpy(nv, v, vl);
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL ||
		    (e->key = malloc(kl + 1)) == NULL ||
		    (f != NULL && (e->field = malloc(fl + 1)) == NULL)) {
			if (e != NULL)
				free(e->key);
			free(e);
			free(nv);
			goto oom;
		}
		memcpy(e->key, k, kl);
		e->keylen = kl;
		if (f != NULL) {
			memcpy(e->field, f, fl);
			e->fieldlen = fl;
		}
		h = hash(k, kl, f, fl);
		e->next = t->tab[h];
		t->tab[h] = e;
	}
	free(e->val);
	e->val = nv;
	e->vallen = vl;
	e->state = state;
	return 0;
oom:
	snprintf(t->err, sizeof(t->err), "out of memory");
	return -1;
}

static void
cache_free(struct rtxn *t)
{
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		struct ent *e, *next;

		for (e = t->tab[i]; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e->field);
			free(e->val);
			free(e);
		}
		t->tab[i] = NULL;
	}
}

static bool
hash_loaded(struct rtxn *t, const char *k, size_t kl)
{
	struct ent *e = ent_find(t, k, kl, "", 0);

	return e != NULL && e->state == ENT_LOADED;
}

/* --- talking --- */

static int
fail(struct rtxn *t, const char *what)
{
	redisContext *c = t->rs->c;

	/* hiredis says EAGAIN's text for a read that timed out. */
	if (c != NULL && c->err == REDIS_ERR_IO && (errno == EAGAIN ||
	    errno == EWOULDBLOCK))
		snprintf(t->err, sizeof(t->err), "%s: %s: no answer within "
		    "%d ms", t->rs->name, what, RSTORE_COMMAND_MS);
	else
		snprintf(t->err, sizeof(t->err), "%s: %s: %s", t->rs->name,
		    what, c != NULL && c->errstr[0] != '\0' ? c->errstr :
		    "connection lost");
	/* Once: a later call on the dropped connection is no new failure. */
	if (c != NULL)
		lost(t->rs);
	return -1;
}

static int
append(struct rtxn *t, int argc, const char **argv, const size_t *lens)
{
	if (t->rs->c == NULL)
		return fail(t, "sending");
	if (redisAppendCommandArgv(t->rs->c, argc, argv, lens) != REDIS_OK)
		return fail(t, "sending");
	return 0;
}

/* The next reply; an error reply is -1 with its text (connection kept). */
static int
reply(struct rtxn *t, redisReply **r)
{
	void *p = NULL;

	if (redisGetReply(t->rs->c, &p) != REDIS_OK || p == NULL)
		return fail(t, "reading a reply");
	*r = p;
	if ((*r)->type == REDIS_REPLY_ERROR) {
		snprintf(t->err, sizeof(t->err), "%s: %s", t->rs->name,
		    (*r)->str);
		/*
		 * The primary became a replica (a failover): the connection
		 * goes at the transaction's end, and the next one finds out
		 * whether the address now reaches the primary.
		 */
		if (strncmp((*r)->str, "READONLY", 8) == 0)
			t->demoted = true;
		freeReplyObject(*r);
		*r = NULL;
		return -1;
	}
	return 0;
}

/* Read n replies and throw them away; the first error is the result. */
static int
drain(struct rtxn *t, int n)
{
	redisReply *r;
	int rc = 0;

	for (int i = 0; i < n; i++) {
		if (t->rs->c == NULL)
			return -1;
		if (reply(t, &r) == -1) {
			rc = -1;
			continue;
		}
		freeReplyObject(r);
	}
	return rc;
}

/* WATCH k, in an update (queued: its reply is read by the caller). */
static int
watch(struct rtxn *t, const char *k, size_t kl, int *n)
{
	const char *argv[] = { "WATCH", k };
	size_t lens[] = { 5, kl };

	if (!t->write)
		return 0;
	t->watching = true;
	(*n)++;
	return append(t, 2, argv, lens);
}

/* A string or nil reply into the cache as (k, f). */
static int
cache_reply(struct rtxn *t, const redisReply *r, const char *k, size_t kl,
    const char *f, size_t fl)
{
	if (r->type == REDIS_REPLY_NIL)
		return ent_set(t, k, kl, f, fl, ENT_ABSENT, NULL, 0);
	if (r->type != REDIS_REPLY_STRING) {
		snprintf(t->err, sizeof(t->err), "%s: %.*s: not a string "
		    "(reply type %d)", t->rs->name, (int)(kl > 80 ? 80 : kl),
		    k, r->type);
		return -1;
	}
	return ent_set(t, k, kl, f, fl, ENT_PRESENT, r->str, r->len);
}

static int	queued(struct rtxn *, int);

/*
 * A tuple that expired, read in an update: deleted with the update's
 * writes.  A hash lives as long as its latest tuple, so a network that
 * keeps sending would otherwise keep every tuple it ever had.
 */
static int
sweep(struct rtxn *t, const char *k, size_t kl, const redisReply *f,
    const redisReply *v, bool *gone)
{
	size_t pl = strlen(RL_TUPLES);
	struct store_rec r;
	struct rl_loc l;

	*gone = false;
	if (!t->write || kl <= pl || kl > sizeof(l.key) ||
	    memcmp(k, RL_TUPLES, pl) != 0 ||
	    store_rec_decode(v->str, v->len, &r) == -1 || r.expire > t->now)
		return 0;
	memcpy(l.key, k, kl);
	l.keylen = kl;
	l.field = f->str;
	l.fieldlen = f->len;
	*gone = true;
	if (queued(t, rl_del_field(&t->w, &l)) == -1)
		return -1;
	return ent_set(t, k, kl, f->str, f->len, ENT_ABSENT, NULL, 0);
}

/* An HGETALL reply: every field, and the marker. */
static int
cache_hash(struct rtxn *t, const redisReply *r, const char *k, size_t kl)
{
	bool gone;

	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
		snprintf(t->err, sizeof(t->err), "%s: %.*s: not a hash",
		    t->rs->name, (int)(kl > 80 ? 80 : kl), k);
		return -1;
	}
	for (size_t i = 0; i < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];

		if (f->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING) {
			snprintf(t->err, sizeof(t->err), "%s: %.*s: a field "
			    "that is not a string", t->rs->name,
			    (int)(kl > 80 ? 80 : kl), k);
			return -1;
		}
		/* A field this txn wrote is newer than the server's. */
		if (ent_find(t, k, kl, f->str, f->len) != NULL)
			continue;
		if (sweep(t, k, kl, f, v, &gone) == -1)
			return -1;
		if (!gone && ent_set(t, k, kl, f->str, f->len, ENT_PRESENT,
		    v->str, v->len) == -1)
			return -1;
	}
	return ent_set(t, k, kl, "", 0, ENT_LOADED, NULL, 0);
}

/* An HLEN reply, kept as the hash's LEN_FIELD (a uint64_t). */
static int
cache_len(struct rtxn *t, const redisReply *r, const char *k, size_t kl)
{
	uint64_t n;

	if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
		snprintf(t->err, sizeof(t->err), "%s: HLEN: not a count",
		    t->rs->name);
		return -1;
	}
	n = (uint64_t)r->integer;
	return ent_set(t, k, kl, LEN_FIELD, strlen(LEN_FIELD), ENT_PRESENT,
	    &n, sizeof(n));
}

/*
 * A tuple field this transaction writes or deletes: the length it
 * keeps of the hash follows (a field of unknown state makes the length
 * unknown: the hash is read when it is asked for).
 */
static void
len_follow(struct rtxn *t, const char *k, size_t kl, const char *f,
    size_t fl, bool present)
{
	struct ent *e = ent_find(t, k, kl, f, fl);
	struct ent *len = ent_find(t, k, kl, LEN_FIELD, strlen(LEN_FIELD));
	uint64_t n;

	if (len == NULL || len->state != ENT_PRESENT || len->vallen != 8)
		return;
	memcpy(&n, len->val, sizeof(n));
	if (e == NULL)
		n = UINT64_MAX;
	else if (e->state != ENT_PRESENT && present && n != UINT64_MAX)
		n++;
	else if (e->state == ENT_PRESENT && !present && n > 0 &&
	    n != UINT64_MAX)
		n--;
	memcpy(len->val, &n, sizeof(n));
}

/* Read one key or field into the cache unless it is there. */
static struct ent *
fetch(struct rtxn *t, const char *k, size_t kl, const char *f, size_t fl)
{
	const char *get[] = { "GET", k }, *hget[] = { "HGET", k, f };
	size_t getl[] = { 3, kl }, hgetl[] = { 4, kl, fl };
	struct ent *e;
	redisReply *r;
	int n = 0, rc;

	if ((e = ent_find(t, k, kl, f, fl)) != NULL)
		return e;
	if (f != NULL && hash_loaded(t, k, kl)) {
		if (ent_set(t, k, kl, f, fl, ENT_ABSENT, NULL, 0) == -1)
			return NULL;
		return ent_find(t, k, kl, f, fl);
	}
	if (watch(t, k, kl, &n) == -1)
		return NULL;
	if ((f == NULL ? append(t, 2, get, getl) :
	    append(t, 3, hget, hgetl)) == -1)
		return NULL;
	if (drain(t, n) == -1 || reply(t, &r) == -1)
		return NULL;
	rc = cache_reply(t, r, k, kl, f, fl);
	freeReplyObject(r);
	return rc == -1 ? NULL : ent_find(t, k, kl, f, fl);
}

static int
load_hash(struct rtxn *t, const char *k, size_t kl)
{
	const char *argv[] = { "HGETALL", k };
	size_t lens[] = { 7, kl };
	redisReply *r;
	int n = 0, rc;

	if (hash_loaded(t, k, kl))
		return 0;
	if (watch(t, k, kl, &n) == -1 || append(t, 2, argv, lens) == -1 ||
	    drain(t, n) == -1 || reply(t, &r) == -1)
		return -1;
	rc = cache_hash(t, r, k, kl);
	freeReplyObject(r);
	return rc;
}

/* --- transactions --- */

int
rtxn_begin(struct rstore *rs, bool write, struct rtxn **out, char *err,
    size_t errlen)
{
	struct rtxn *t;

	*out = NULL;
	pthread_mutex_lock(&rs->mu);
	if (connect_now(rs, err, errlen) == -1) {
		pthread_mutex_unlock(&rs->mu);
		return -1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		pthread_mutex_unlock(&rs->mu);
		return util_seterr(err, errlen, "out of memory");
	}
	t->rs = rs;
	t->write = write;
	t->now = (int64_t)time(NULL);
	*out = t;
	return 0;
}

static void
txn_end(struct rtxn *t)
{
	struct rstore *rs = t->rs;

	if (t->demoted && rs->c != NULL)
		lost(rs);
	cache_free(t);
	buf_free(&t->w);
	free(t);
	pthread_mutex_unlock(&rs->mu);
}

static void
unwatch(struct rtxn *t)
{
	const char *argv[] = { "UNWATCH" };

	if (t->watching && t->rs->c != NULL && append(t, 1, argv, NULL) == 0)
		drain(t, 1);
}

void
rtxn_abort(struct rtxn *t)
{
	if (t == NULL)
		return;
	unwatch(t);
	txn_end(t);
}

const char *
rtxn_error(const struct rtxn *t)
{
	return t->err;
}

/* The EXEC reply: every command's, the first error named. */
static int
exec_result(struct rtxn *t, redisReply *r, char *err, size_t errlen)
{
	if (r->type == REDIS_REPLY_NIL)
		return 1;
	if (r->type != REDIS_REPLY_ARRAY)
		return util_seterr(err, errlen, "%s: EXEC: unexpected reply "
		    "type %d", t->rs->name, r->type);
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_ERROR)
			return util_seterr(err, errlen, "%s: in a transaction:"
			    " %s", t->rs->name, r->element[i]->str);
	return 0;
}

int
rtxn_commit(struct rtxn *t, char *err, size_t errlen)
{
	static const char multi[] = "*1\r\n$5\r\nMULTI\r\n";
	static const char exec[] = "*1\r\n$4\r\nEXEC\r\n";
	redisContext *c = t->rs->c;
	redisReply *r = NULL;
	char first[sizeof(t->err)] = "";
	int rc;

	if (t->nw == 0) {
		rtxn_abort(t);
		return 0;
	}
	if (c == NULL || redisAppendFormattedCommand(c, multi,
	    sizeof(multi) - 1) != REDIS_OK ||
	    redisAppendFormattedCommand(c, t->w.data, t->w.len) != REDIS_OK ||
	    redisAppendFormattedCommand(c, exec, sizeof(exec) - 1) !=
	    REDIS_OK) {
		fail(t, "sending a transaction");
		goto failed;
	}
	/*
	 * +OK, then QUEUED for each; a refused one fails EXEC whole, and
	 * its reason (READONLY, OOM, ...) is the one to tell.
	 */
	if (drain(t, 1 + t->nw) == -1) {
		if (t->rs->c == NULL)
			goto failed;
		snprintf(first, sizeof(first), "%s", t->err);
	}
	if (reply(t, &r) == -1) {
		if (first[0] != '\0')
			snprintf(t->err, sizeof(t->err), "%s", first);
		goto failed;
	}
	rc = exec_result(t, r, err, errlen);
	freeReplyObject(r);
	txn_end(t);
	return rc;
failed:
	util_seterr(err, errlen, "%s", t->err);
	txn_end(t);
	return -1;
}

static int
queued(struct rtxn *t, int n)
{
	if (n == -1) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		return -1;
	}
	t->nw += n;
	return 0;
}

static int
refuse_readonly(struct rtxn *t)
{
	if (t->write)
		return 0;
	snprintf(t->err, sizeof(t->err), "%s: a write in a read-only "
	    "transaction", t->rs->name);
	return -1;
}

static int
bad_key(struct rtxn *t, enum store_type type, size_t keylen)
{
	snprintf(t->err, sizeof(t->err), "%s: %s key of %zu bytes that has "
	    "no place in the shared store", t->rs->name,
	    (unsigned)type < STORE_NTYPES ? store_type_name(type) : "bad",
	    keylen);
	return -1;
}

/* Named by its field, the tuple or mail address, when it has one. */
static int
bogus(struct rtxn *t, const struct rl_loc *l, size_t len)
{
	const char *n = l->field != NULL ? l->field : l->key;
	size_t nl = l->field != NULL ? l->fieldlen : l->keylen;

	snprintf(t->err, sizeof(t->err), "%s: bogus entry \"%.*s%s%.*s\": "
	    "%zu bytes", t->rs->name, l->field != NULL ? (int)(l->keylen >
	    80 ? 80 : l->keylen) : 0, l->key, l->field != NULL ? "\" field \""
	    : "", (int)(nl > 80 ? 80 : nl), n, len);
	return -1;
}

int
rtxn_get_addr(struct rtxn *t, const char *key, size_t keylen,
    enum store_type *type, struct store_rec *rec)
{
	struct rl_loc l;
	struct ent *e;

	if (rl_locate(STORE_WHITE, key, keylen, &l) == -1)
		return bad_key(t, STORE_WHITE, keylen);
	if ((e = fetch(t, l.key, l.keylen, NULL, 0)) == NULL)
		return -1;
	if (e->state == ENT_ABSENT)
		return 1;
	if (rl_addr_decode(e->val, e->vallen, type, rec) == -1)
		return bogus(t, &l, e->vallen);
	return 0;
}

int
rtxn_get(struct rtxn *t, enum store_type type, const void *key,
    size_t keylen, struct store_rec *rec)
{
	enum store_type got;
	struct rl_loc l;
	struct ent *e;
	int rc;

	if (type == STORE_WHITE || type == STORE_TRAPPED) {
		if ((rc = rtxn_get_addr(t, key, keylen, &got, rec)) != 0)
			return rc;
		return got == type ? 0 : 1;
	}
	if (rl_locate(type, key, keylen, &l) == -1)
		return bad_key(t, type, keylen);
	if ((e = fetch(t, l.key, l.keylen, l.field, l.fieldlen)) == NULL)
		return -1;
	if (e->state == ENT_ABSENT)
		return 1;
	if (store_rec_decode(e->val, e->vallen, rec) == -1)
		return bogus(t, &l, e->vallen);
	return 0;
}

int
rtxn_put_addr(struct rtxn *t, const char *key, size_t keylen,
    enum store_type type, const struct store_rec *rec)
{
	uint8_t v[RL_ADDRSIZE];
	struct rl_loc l;

	if (refuse_readonly(t) == -1)
		return -1;
	if ((type != STORE_WHITE && type != STORE_TRAPPED) ||
	    rl_locate(type, key, keylen, &l) == -1)
		return bad_key(t, type, keylen);
	if (queued(t, rl_put_addr(&t->w, type, key, keylen, rec, t->now)) ==
	    -1)
		return -1;
	rl_addr_encode(type, rec, v);
	return rec->expire <= t->now ?
	    ent_set(t, l.key, l.keylen, NULL, 0, ENT_ABSENT, NULL, 0) :
	    ent_set(t, l.key, l.keylen, NULL, 0, ENT_PRESENT, v, sizeof(v));
}

int
rtxn_put(struct rtxn *t, enum store_type type, const void *key,
    size_t keylen, const struct store_rec *rec)
{
	uint8_t v[STORE_RECSIZE];
	struct rl_loc l;
	int n;

	if (type == STORE_WHITE || type == STORE_TRAPPED)
		return rtxn_put_addr(t, key, keylen, type, rec);
	if (refuse_readonly(t) == -1)
		return -1;
	if (rl_locate(type, key, keylen, &l) == -1)
		return bad_key(t, type, keylen);
	n = type == STORE_GREY ? rl_put_tuple(&t->w, &l, rec, t->now) :
	    rl_put_spamtrap(&t->w, &l, rec);
	if (queued(t, n) == -1)
		return -1;
	store_rec_encode(rec, v);
	if (type == STORE_GREY)
		len_follow(t, l.key, l.keylen, l.field, l.fieldlen,
		    rec->expire > t->now);
	if (type == STORE_GREY && rec->expire <= t->now)
		return ent_set(t, l.key, l.keylen, l.field, l.fieldlen,
		    ENT_ABSENT, NULL, 0);
	return ent_set(t, l.key, l.keylen, l.field, l.fieldlen, ENT_PRESENT, v,
	    sizeof(v));
}

int
rtxn_del(struct rtxn *t, enum store_type type, const void *key,
    size_t keylen)
{
	enum store_type got;
	struct store_rec r;
	struct rl_loc l;
	struct ent *e;

	if (refuse_readonly(t) == -1)
		return -1;
	if (rl_locate(type, key, keylen, &l) == -1)
		return bad_key(t, type, keylen);
	/*
	 * Whether it was there is the result; only its own type goes, and
	 * a value that does not decode goes too (it is of no type).
	 */
	if ((e = fetch(t, l.key, l.keylen, l.field, l.fieldlen)) == NULL)
		return -1;
	if (e->state != ENT_PRESENT)
		return 1;
	if ((type == STORE_WHITE || type == STORE_TRAPPED) &&
	    rl_addr_decode(e->val, e->vallen, &got, &r) == 0 && got != type)
		return 1;
	if (type == STORE_WHITE || type == STORE_TRAPPED) {
		if (queued(t, rl_del_addr(&t->w, key, keylen)) == -1)
			return -1;
		return ent_set(t, l.key, l.keylen, NULL, 0, ENT_ABSENT, NULL,
		    0);
	}
	if (queued(t, rl_del_field(&t->w, &l)) == -1)
		return -1;
	if (type == STORE_GREY)
		len_follow(t, l.key, l.keylen, l.field, l.fieldlen, false);
	return ent_set(t, l.key, l.keylen, l.field, l.fieldlen, ENT_ABSENT,
	    NULL, 0);
}

int
rtxn_meta_get(struct rtxn *t, const char *name, void *buf, size_t len,
    size_t *got)
{
	struct ent *e;

	if ((e = fetch(t, RL_META, strlen(RL_META), name, strlen(name))) ==
	    NULL)
		return -1;
	if (e->state == ENT_ABSENT)
		return 1;
	*got = e->vallen;
	memcpy(buf, e->val, e->vallen < len ? e->vallen : len);
	return 0;
}

int
rtxn_meta_put(struct rtxn *t, const char *name, const void *buf,
    size_t len)
{
	if (refuse_readonly(t) == -1 ||
	    queued(t, rl_meta_put(&t->w, name, buf, len)) == -1)
		return -1;
	return ent_set(t, RL_META, strlen(RL_META), name, strlen(name),
	    ENT_PRESENT, buf, len);
}

int
rtxn_os_get(struct rtxn *t, const char *key, size_t keylen, int64_t *seen,
    char *os, size_t oslen)
{
	char k[RL_KEYMAX], name[RL_OSSIZE];
	size_t kl;
	struct ent *e;
	int64_t s;

	if ((kl = rl_os_key(key, keylen, k, sizeof(k))) == 0)
		return 1;
	if ((e = fetch(t, k, kl, NULL, 0)) == NULL)
		return -1;
	if (e->state == ENT_ABSENT)
		return 1;
	if (rl_os_decode(e->val, e->vallen, &s, name, sizeof(name)) == -1) {
		snprintf(t->err, sizeof(t->err), "%s: bogus os entry \"%.*s\"",
		    t->rs->name, (int)(keylen > 64 ? 64 : keylen), key);
		return -1;
	}
	if (seen != NULL)
		*seen = s;
	if (os != NULL && oslen > 0)
		snprintf(os, oslen, "%s", name);
	return 0;
}

int
rtxn_os_put(struct rtxn *t, const char *key, size_t keylen, int64_t seen,
    const char *os)
{
	char k[RL_KEYMAX];
	uint8_t v[RL_OSSIZE];
	size_t kl, vl;

	if (refuse_readonly(t) == -1)
		return -1;
	if ((kl = rl_os_key(key, keylen, k, sizeof(k))) == 0) {
		snprintf(t->err, sizeof(t->err), "%s: os key of %zu bytes",
		    t->rs->name, keylen);
		return -1;
	}
	if (queued(t, rl_put_os(&t->w, key, keylen, seen, os,
	    t->rs->os_ttl)) == -1)
		return -1;
	vl = rl_os_encode(seen, os, v);
	return ent_set(t, k, kl, NULL, 0, ENT_PRESENT, v, vl);
}

long
rtxn_count(struct rtxn *t, enum store_type type)
{
	const char *argv[] = { "ZCARD", RL_WHITE };
	redisReply *r;
	long n;

	switch (type) {
	case STORE_WHITE:
		break;
	case STORE_TRAPPED:
		argv[1] = RL_TRAPPED;
		break;
	case STORE_SPAMTRAP:
		argv[0] = "HLEN";
		argv[1] = RL_SPAMTRAP;
		break;
	default:
		/* Tuples live in a hash per network: no cheap count. */
		snprintf(t->err, sizeof(t->err), "%s: tuples are not counted "
		    "in a shared store", t->rs->name);
		return -1;
	}
	if (append(t, 2, argv, NULL) == -1 || reply(t, &r) == -1)
		return -1;
	n = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1;
	freeReplyObject(r);
	if (n == -1)
		snprintf(t->err, sizeof(t->err), "%s: %s: not a number",
		    t->rs->name, argv[0]);
	return n;
}

/* --- scans --- */

struct field_ref {
	const struct ent	*e;
};

static int
field_cmp(const void *a, const void *b)
{
	const struct ent *x = ((const struct field_ref *)a)->e;
	const struct ent *y = ((const struct field_ref *)b)->e;
	size_t n = x->fieldlen < y->fieldlen ? x->fieldlen : y->fieldlen;
	int c = memcmp(x->field, y->field, n);

	if (c != 0)
		return c;
	return x->fieldlen < y->fieldlen ? -1 : x->fieldlen > y->fieldlen;
}

/*
 * The fields of one cached hash whose name starts with fp, in order, to
 * fn with the store key (name + "\n" + field for tuples).
 */
static int
walk_hash(struct rtxn *t, enum store_type type, const char *k, size_t kl,
    const char *name, size_t nl, const char *fp, size_t fpl,
    store_scan_fn fn, void *arg)
{
	struct field_ref *refs = NULL;
	size_t n = 0, cap = 0;
	char key[STORE_KEYMAX + 1];
	struct store_rec rec;
	int rc = 0;

	for (size_t i = 0; i < CACHE_BUCKETS; i++)
		for (const struct ent *e = t->tab[i]; e != NULL; e = e->next) {
			if (e->field == NULL || e->state != ENT_PRESENT ||
			    !same(e->key, e->keylen, k, kl) ||
			    e->fieldlen < fpl ||
			    memcmp(e->field, fp, fpl) != 0 ||
			    same(e->field, e->fieldlen, LEN_FIELD,
			    strlen(LEN_FIELD)))
				continue;
			if (n == cap) {
				struct field_ref *nr;

				cap = cap == 0 ? 16 : cap * 2;
				if ((nr = realloc(refs, cap *
				    sizeof(*refs))) == NULL) {
					free(refs);
					snprintf(t->err, sizeof(t->err),
					    "out of memory");
					return -1;
				}
				refs = nr;
			}
			refs[n++].e = e;
		}
	if (n > 0)
		qsort(refs, n, sizeof(*refs), field_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct ent *e = refs[i].e;
		size_t len = 0;

		if (nl > 0) {
			if (nl + 1 + e->fieldlen > STORE_KEYMAX)
				continue;
			memcpy(key, name, nl);
			key[nl] = '\n';
			len = nl + 1;
		} else if (e->fieldlen > STORE_KEYMAX)
			continue;
		memcpy(key + len, e->field, e->fieldlen);
		len += e->fieldlen;
		rc = fn(arg, type, key, len, store_rec_decode(e->val,
		    e->vallen, &rec) == 0 ? &rec : NULL);
	}
	free(refs);
	return rc;
}

/* A glob pattern matching keys that start with pfx + s[0..n). */
static int
pattern(struct buf *b, const char *pfx, const char *s, size_t n)
{
	buf_reset(b);
	if (buf_puts(b, pfx) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strchr("*?[]\\", s[i]) != NULL && s[i] != '\0' &&
		    buf_append(b, "\\", 1) == -1)
			return -1;
		if (buf_append(b, &s[i], 1) == -1)
			return -1;
	}
	return buf_append(b, "*", 1);
}

/* One batch of SCAN's keys: their values in one round trip, to fn. */
static int
scan_batch(struct rtxn *t, enum store_type type, const redisReply *keys,
    const char *pfx, const char *prefix, size_t plen, store_scan_fn fn,
    void *arg)
{
	size_t pl = strlen(pfx), sent = 0;
	int rc = 0;

	for (size_t i = 0; i < keys->elements && rc == 0; i++) {
		const redisReply *k = keys->element[i];
		const char *argv[] = { type == STORE_GREY ? "HGETALL" : "GET",
		    k->str };
		size_t lens[] = { strlen(argv[0]), k->len };

		if (k->type != REDIS_REPLY_STRING)
			continue;
		rc = append(t, 2, argv, lens);
		sent++;
	}
	for (size_t i = 0; i < keys->elements && sent > 0; i++) {
		const redisReply *k = keys->element[i];
		redisReply *r;

		if (k->type != REDIS_REPLY_STRING)
			continue;
		sent--;
		if (t->rs->c == NULL)
			return -1;
		if (reply(t, &r) == -1) {
			rc = -1;
			continue;
		}
		if (rc == 0)
			rc = type == STORE_GREY ? cache_hash(t, r, k->str,
			    k->len) : cache_reply(t, r, k->str, k->len, NULL,
			    0);
		freeReplyObject(r);
	}
	for (size_t i = 0; i < keys->elements && rc == 0; i++) {
		const redisReply *k = keys->element[i];
		const char *name = k->str + pl;
		size_t nl = k->len - pl;
		struct store_rec rec;
		enum store_type got;
		struct ent *e;

		if (k->type != REDIS_REPLY_STRING || k->len <= pl)
			continue;
		if (type == STORE_GREY) {
			/* The prefix may run into the fields. */
			const char *fp = "";
			size_t fpl = 0;

			if (plen > nl + 1) {
				fp = prefix + nl + 1;
				fpl = plen - nl - 1;
			}
			rc = walk_hash(t, type, k->str, k->len, name, nl, fp,
			    fpl, fn, arg);
			continue;
		}
		if ((e = ent_find(t, k->str, k->len, NULL, 0)) == NULL ||
		    e->state != ENT_PRESENT || nl > STORE_KEYMAX)
			continue;
		/* A value of no type: shown once, in the WHITE walk. */
		if (rl_addr_decode(e->val, e->vallen, &got, &rec) == -1)
			rc = type == STORE_WHITE ? fn(arg, type, name, nl,
			    NULL) : 0;
		else if (got == type)
			rc = fn(arg, type, name, nl, &rec);
	}
	return rc;
}

/*
 * SCAN over the keys of a type.  The cache holds what was read, so a
 * long walk is let go of batch by batch (the transaction is a view).
 */
static int
scan_keys(struct rtxn *t, enum store_type type, const char *prefix,
    size_t plen, store_scan_fn fn, void *arg)
{
	const char *pfx = type == STORE_GREY ? RL_TUPLES : RL_ADDRS;
	char cursor[32] = "0";
	struct buf pat = { 0 };
	size_t nl;
	int rc = 0;

	/* A tuple prefix: only the network part goes into the pattern. */
	nl = plen;
	if (type == STORE_GREY && prefix != NULL) {
		const char *p = memchr(prefix, '\n', plen);

		if (p != NULL)
			nl = (size_t)(p - prefix);
	}
	if (pattern(&pat, pfx, prefix != NULL ? prefix : "", prefix != NULL ?
	    nl : 0) == -1) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		return -1;
	}
	do {
		const char *argv[] = { "SCAN", cursor, "MATCH", pat.data,
		    "COUNT", SCAN_COUNT };
		size_t lens[] = { 4, strlen(cursor), 5, pat.len, 5,
		    strlen(SCAN_COUNT) };
		redisReply *r;

		if (append(t, 6, argv, lens) == -1 || reply(t, &r) == -1) {
			rc = -1;
			break;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[0]->len >= sizeof(cursor) ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			snprintf(t->err, sizeof(t->err), "%s: SCAN: an "
			    "unexpected reply", t->rs->name);
			freeReplyObject(r);
			rc = -1;
			break;
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len);
		cursor[r->element[0]->len] = '\0';
		rc = scan_batch(t, type, r->element[1], pfx, prefix, plen, fn,
		    arg);
		freeReplyObject(r);
		if (!t->write)
			cache_free(t);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	buf_free(&pat);
	return rc;
}

int
rtxn_scan(struct rtxn *t, enum store_type type, const void *prefix,
    size_t plen, store_scan_fn fn, void *arg)
{
	const char *p = prefix, *nl;
	struct rl_loc l;

	switch (type) {
	case STORE_GREY:
		/* "net\n...": one hash, read whole. */
		if (p != NULL && (nl = memchr(p, '\n', plen)) != NULL) {
			size_t netlen = (size_t)(nl - p);

			l.keylen = strlen(RL_TUPLES) + netlen;
			if (netlen == 0 || l.keylen > sizeof(l.key))
				return bad_key(t, type, plen);
			memcpy(l.key, RL_TUPLES, strlen(RL_TUPLES));
			memcpy(l.key + strlen(RL_TUPLES), p, netlen);
			if (load_hash(t, l.key, l.keylen) == -1)
				return -1;
			return walk_hash(t, type, l.key, l.keylen, p, netlen,
			    nl + 1, plen - netlen - 1, fn, arg);
		}
		return scan_keys(t, type, p, plen, fn, arg);
	case STORE_WHITE:
	case STORE_TRAPPED:
		return scan_keys(t, type, p, p != NULL ? plen : 0, fn, arg);
	case STORE_SPAMTRAP:
		if (load_hash(t, RL_SPAMTRAP, strlen(RL_SPAMTRAP)) == -1)
			return -1;
		return walk_hash(t, type, RL_SPAMTRAP, strlen(RL_SPAMTRAP),
		    NULL, 0, p != NULL ? p : "", p != NULL ? plen : 0, fn,
		    arg);
	default:
		return bad_key(t, type, plen);
	}
}

/* --- read-ahead --- */

/* What one want reads: its key (and field), and with which command. */
enum wcmd { W_GET, W_HGET, W_HGETALL, W_HLEN };

static int
want_loc(const struct store_want *w, char *k, size_t klen, size_t *kl,
    const char **f, size_t *fl, enum wcmd *cmd)
{
	struct rl_loc l;

	*f = NULL;
	*fl = 0;
	*kl = 0;
	switch (w->kind) {
	case STORE_WANT_TUPLES:
	case STORE_WANT_COUNT:
		*cmd = w->kind == STORE_WANT_TUPLES ? W_HGETALL : W_HLEN;
		if (w->keylen > 0 && w->keylen + strlen(RL_TUPLES) <= klen) {
			*kl = strlen(RL_TUPLES) + w->keylen;
			memcpy(k, RL_TUPLES, strlen(RL_TUPLES));
			memcpy(k + strlen(RL_TUPLES), w->key, w->keylen);
		}
		if (*cmd == W_HLEN) {
			*f = LEN_FIELD;
			*fl = strlen(LEN_FIELD);
		}
		break;
	case STORE_WANT_TUPLE:
		*cmd = W_HGET;
		if (rl_locate(STORE_GREY, w->key, w->keylen, &l) == -1 ||
		    l.keylen > klen)
			break;
		memcpy(k, l.key, l.keylen);
		*kl = l.keylen;
		*f = l.field;		/* into w->key */
		*fl = l.fieldlen;
		break;
	case STORE_WANT_ADDR:
		*cmd = W_GET;
		*kl = rl_addr_key(w->key, w->keylen, k, klen);
		break;
	case STORE_WANT_OS:
		*cmd = W_GET;
		*kl = rl_os_key(w->key, w->keylen, k, klen);
		break;
	case STORE_WANT_SPAMTRAP:
		*cmd = W_HGET;
		*kl = strlen(RL_SPAMTRAP);
		memcpy(k, RL_SPAMTRAP, *kl);
		*f = w->key;
		*fl = w->keylen;
		break;
	}
	return *kl > 0 ? 0 : -1;
}

static bool
want_cached(struct rtxn *t, const char *k, size_t kl, const char *f,
    size_t fl, enum wcmd cmd)
{
	if (cmd == W_HGETALL)
		return hash_loaded(t, k, kl);
	return ent_find(t, k, kl, f, fl) != NULL ||
	    (f != NULL && hash_loaded(t, k, kl));
}

int
rtxn_prefetch(struct rtxn *t, const struct store_want *w, size_t n)
{
	static const char *const names[] = { "GET", "HGET", "HGETALL",
	    "HLEN" };
	char k[RL_KEYMAX];
	const char *f;
	size_t kl, fl, sent = 0;
	enum wcmd cmd;
	bool *ask;
	int nwatch = 0, rc = 0;

	if (n == 0)
		return 0;
	if ((ask = calloc(n, sizeof(*ask))) == NULL) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		return -1;
	}
	/* One round trip: the WATCHes, then every read. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (want_loc(&w[i], k, sizeof(k), &kl, &f, &fl, &cmd) ==
		    -1 || want_cached(t, k, kl, f, fl, cmd))
			continue;
		ask[i] = true;
		rc = watch(t, k, kl, &nwatch);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *argv[3];
		size_t lens[3];
		int argc;

		if (!ask[i])
			continue;
		want_loc(&w[i], k, sizeof(k), &kl, &f, &fl, &cmd);
		argv[0] = names[cmd];
		lens[0] = strlen(argv[0]);
		argv[1] = k;
		lens[1] = kl;
		argv[2] = f;
		lens[2] = fl;
		argc = cmd == W_HGET ? 3 : 2;
		rc = append(t, argc, argv, lens);
		sent++;
	}
	if (rc == 0)
		rc = drain(t, nwatch);
	for (size_t i = 0; i < n && sent > 0; i++) {
		redisReply *r;

		if (!ask[i])
			continue;
		sent--;
		if (t->rs->c == NULL) {
			rc = -1;
			break;
		}
		if (reply(t, &r) == -1) {
			rc = -1;
			continue;
		}
		want_loc(&w[i], k, sizeof(k), &kl, &f, &fl, &cmd);
		/* The same key may be wanted twice: the first reply wins. */
		if (rc == 0 && !want_cached(t, k, kl, f, fl, cmd))
			rc = cmd == W_HGETALL ? cache_hash(t, r, k, kl) :
			    cmd == W_HLEN ? cache_len(t, r, k, kl) :
			    cache_reply(t, r, k, kl, f, fl);
		freeReplyObject(r);
	}
	free(ask);
	return rc;
}

/* --- the sorted sets --- */

#define LIVE_BATCH	"10000"

static int
live_batch(struct rtxn *t, enum store_type type, const redisReply *r,
    store_live_fn fn, void *arg, size_t *got)
{
	int rc = 0;

	*got = r->elements / 2;
	for (size_t i = 0; i + 1 < r->elements && rc == 0; i += 2) {
		const redisReply *m = r->element[i], *sc = r->element[i + 1];
		char num[32];
		long long e;

		if (m->type != REDIS_REPLY_STRING ||
		    sc->type != REDIS_REPLY_STRING || sc->len >= sizeof(num) ||
		    m->len == 0 || m->len > STORE_KEYMAX) {
			snprintf(t->err, sizeof(t->err), "%s: %s: a member or "
			    "score that is not one", t->rs->name,
			    store_type_name(type));
			return -1;
		}
		memcpy(num, sc->str, sc->len);
		num[sc->len] = '\0';
		e = strtoll(num, NULL, 10);
		rc = fn(arg, m->str, m->len, (int64_t)e);
	}
	return rc;
}

int
rtxn_live(struct rtxn *t, enum store_type type, int64_t now,
    store_live_fn fn, void *arg)
{
	char min[32], off[32];
	size_t offset = 0, got;
	int rc = 0;

	if (type != STORE_WHITE && type != STORE_TRAPPED)
		return bad_key(t, type, 0);
	snprintf(min, sizeof(min), "(%lld", (long long)now);
	do {
		const char *argv[] = { "ZRANGE", type == STORE_WHITE ?
		    RL_WHITE : RL_TRAPPED, min, "+inf", "BYSCORE", "LIMIT",
		    off, LIVE_BATCH, "WITHSCORES" };
		redisReply *r;

		snprintf(off, sizeof(off), "%zu", offset);
		if (append(t, 9, argv, NULL) == -1 || reply(t, &r) == -1)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			snprintf(t->err, sizeof(t->err), "%s: ZRANGE: not an "
			    "array", t->rs->name);
			return -1;
		}
		rc = live_batch(t, type, r, fn, arg, &got);
		freeReplyObject(r);
		offset += got;
	} while (rc == 0 && got == (size_t)atoi(LIVE_BATCH));
	return rc;
}

int
rtxn_trim(struct rtxn *t, int64_t now, long *removed)
{
	char max[32];
	const char *argv[] = { "ZREMRANGEBYSCORE", RL_WHITE, "-inf", max };
	redisReply *r;

	*removed = 0;
	snprintf(max, sizeof(max), "%lld", (long long)now);
	for (int i = 0; i < 2; i++) {
		argv[1] = i == 0 ? RL_WHITE : RL_TRAPPED;
		if (append(t, 4, argv, NULL) == -1 || reply(t, &r) == -1)
			return -1;
		if (r->type == REDIS_REPLY_INTEGER)
			*removed += (long)r->integer;
		freeReplyObject(r);
	}
	return 0;
}

/* --- a network's live tuples --- */

static size_t
count_live(struct rtxn *t, const char *k, size_t kl, int64_t now)
{
	struct store_rec r;
	size_t n = 0;

	for (size_t i = 0; i < CACHE_BUCKETS; i++)
		for (const struct ent *e = t->tab[i]; e != NULL; e = e->next)
			if (e->field != NULL && e->state == ENT_PRESENT &&
			    same(e->key, e->keylen, k, kl) &&
			    !same(e->field, e->fieldlen, LEN_FIELD,
			    strlen(LEN_FIELD)) &&
			    store_rec_decode(e->val, e->vallen, &r) == 0 &&
			    r.expire > now)
				n++;
	return n;
}

int
rtxn_tuples_live(struct rtxn *t, const char *net, size_t netlen,
    size_t limit, int64_t now, size_t *n)
{
	const struct store_want w = { STORE_WANT_COUNT, net, netlen };
	char k[RL_KEYMAX];
	size_t kl = strlen(RL_TUPLES) + netlen;
	struct ent *e;
	uint64_t len;

	*n = 0;
	if (kl > sizeof(k))
		return bad_key(t, STORE_GREY, netlen);
	memcpy(k, RL_TUPLES, strlen(RL_TUPLES));
	memcpy(k + strlen(RL_TUPLES), net, netlen);
	if (!hash_loaded(t, k, kl)) {
		/* The length (with the expired) is enough below limit. */
		if (rtxn_prefetch(t, &w, 1) == -1)
			return -1;
		if ((e = ent_find(t, k, kl, LEN_FIELD,
		    strlen(LEN_FIELD))) != NULL && e->state == ENT_PRESENT &&
		    e->vallen == sizeof(len)) {
			memcpy(&len, e->val, sizeof(len));
			if (len < limit) {
				*n = (size_t)len;
				return 0;
			}
		}
		if (load_hash(t, k, kl) == -1)
			return -1;
	}
	*n = count_live(t, k, kl, now);
	if (*n > limit)
		*n = limit;
	return 0;
}
