/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * print: nfspamdb's output, an entry a line: spamdb's lines byte for
 * byte, or with --json one JSON object a line.  See nfspamdb.h.
 */

#include "config.h"

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "nfspamdb.h"
#include "store.h"

static void	put_json_rec(FILE *, const struct store_rec *);
static void	print_json(FILE *, enum store_type, const char *, size_t,
		    const struct store_tuple *, const struct store_rec *,
		    const char *);
static void	print_line(FILE *, enum store_type, const char *, size_t,
		    const struct store_tuple *, const struct store_rec *,
		    const char *);

/*
 * Tuple fields come from SMTP clients: any byte may appear.  json.h says
 * how they are written, always as valid JSON and losing nothing.
 */
void
put_json_str(FILE *fp, const char *s, size_t len)
{
	struct buf	b = { 0 };

	if (json_str(&b, s, len) == -1)
		err(1, NULL);
	fwrite(b.data, 1, b.len, fp);
	buf_free(&b);
}

static void
put_json_rec(FILE *fp, const struct store_rec *rec)
{
	fprintf(fp, "\"first\":%lld,\"pass\":%lld,\"expire\":%lld,"
	    "\"bcount\":%d,\"pcount\":%d}\n", (long long)rec->first,
	    (long long)rec->pass, (long long)rec->expire, (int)rec->bcount,
	    (int)rec->pcount);
}

/*
 * What fingerprinting said of the entry's address (nfspamd, from its
 * SYN); "" when nothing, a network key (-N), or a spamtrap.
 */
static const char *
os_of(struct nfspamdb *db, enum store_type type, const char *key,
    size_t keylen, const struct store_tuple *t, char *os, size_t len)
{
	os[0] = '\0';
	if (db->txn == NULL || type == STORE_SPAMTRAP)
		return os;
	if (type == STORE_GREY) {
		key = t->ip;
		keylen = t->iplen;
	}
	if (store_os_get(db->txn, key, keylen, NULL, os, len) != 0)
		os[0] = '\0';
	return os;
}

static void
print_json(FILE *fp, enum store_type type, const char *key, size_t keylen,
    const struct store_tuple *t, const struct store_rec *rec, const char *os)
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
	if (*os != '\0') {
		fputs(",\"os\":", fp);
		put_json_str(fp, os, strlen(os));
	}
	putc(',', fp);
	put_json_rec(fp, rec);
}

/* spamdb's lines, byte for byte; --os adds "|os" to the end of each. */
static void
print_line(FILE *fp, enum store_type type, const char *key, size_t keylen,
    const struct store_tuple *t, const struct store_rec *rec, const char *os)
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
		fprintf(fp, "|%lld%s%s\n", (long long)rec->expire,
		    os != NULL ? "|" : "", os != NULL ? os : "");
		return;
	default:
		fwrite(key, 1, keylen, fp);
		fprintf(fp, "%s\n", os != NULL ? "|" : "");
		return;
	}
	fprintf(fp, "%lld|%lld|%lld|%d|%d%s%s\n", (long long)rec->first,
	    (long long)rec->pass, (long long)rec->expire, (int)rec->bcount,
	    (int)rec->pcount, os != NULL ? "|" : "", os != NULL ? os : "");
}

int
print_entry(struct nfspamdb *db, enum store_type type, const char *key,
    size_t keylen, const struct store_rec *rec)
{
	struct store_tuple	 t;
	char			 os[STORE_OSMAX + 1] = "";

	memset(&t, 0, sizeof(t));
	if (type == STORE_GREY && store_tuple_split(key, keylen, &t) == -1)
		return -1;
	if (db->json || db->os)
		os_of(db, type, key, keylen, &t, os, sizeof(os));
	if (db->json)
		print_json(db->out, type, key, keylen, &t, rec, os);
	else
		print_line(db->out, type, key, keylen, &t, rec,
		    db->os ? os : NULL);
	return 0;
}
