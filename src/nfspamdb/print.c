/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * print: nfspamdb's output, an entry a line: spamdb's lines byte for
 * byte, or with --json one JSON object a line.  See nfspamdb.h.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nfspamdb.h"
#include "store.h"

static size_t	utf8_len(const unsigned char *, size_t);
static void	put_json_str(FILE *, const char *, size_t);
static void	put_json_rec(FILE *, const struct store_rec *);
static void	print_json(FILE *, enum store_type, const char *, size_t,
		    const struct store_tuple *, const struct store_rec *);
static void	print_line(FILE *, enum store_type, const char *, size_t,
		    const struct store_tuple *, const struct store_rec *);

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

int
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
