/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * domains: the alloweddomains file.  See domains.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domains.h"

void
domains_free(struct domains *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	d->names = NULL;
	d->n = 0;
}

static int
add(struct domains *d, size_t *cap, const char *s, size_t n)
{
	char *p;

	if (d->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nn = reallocarray(d->names, ncap, sizeof(*nn));

		if (nn == NULL)
			return -1;
		d->names = nn;
		*cap = ncap;
	}
	if ((p = malloc(n + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		p[i] = (char)tolower((unsigned char)s[i]);
	p[n] = '\0';
	d->names[d->n++] = p;
	return 0;
}

int
domains_parse(const char *name, const char *text, size_t len,
    struct domains *out, char *err, size_t errlen)
{
	struct domains d = { 0 };
	const char *p = text, *end = text + len, *nl, *s, *e;
	size_t cap = 0, line = 0;

	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		s = p;
		e = nl;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (e - s > DOMAINS_LINEMAX) {
			snprintf(err, errlen, "%s:%zu: line longer than %d "
			    "bytes", name, line, DOMAINS_LINEMAX);
			goto fail;
		}
		for (const char *q = s; q < e; q++)
			if (!isgraph((unsigned char)*q)) {
				snprintf(err, errlen, "%s:%zu: blank or control "
				    "character inside \"%.*s\"", name, line,
				    (int)(e - s), s);
				goto fail;
			}
		if (d.n >= DOMAINS_MAX) {
			snprintf(err, errlen, "%s:%zu: more than %d domains",
			    name, line, DOMAINS_MAX);
			goto fail;
		}
		if (add(&d, &cap, s, (size_t)(e - s)) == -1) {
			snprintf(err, errlen, "%s: out of memory", name);
			goto fail;
		}
	}
	*out = d;
	return 0;
fail:
	domains_free(&d);
	return -1;
}

int
domains_load(const char *path, struct domains *d, char *err, size_t errlen)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nt;

			/* A sane file is small; refuse to slurp a huge one. */
			if (cap > (size_t)DOMAINS_MAX * (DOMAINS_LINEMAX + 1)) {
				snprintf(err, errlen, "%s: file too large",
				    path);
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			if ((nt = realloc(text, cap)) == NULL) {
				snprintf(err, errlen, "%s: out of memory",
				    path);
				goto fail;
			}
			text = nt;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	rc = domains_parse(path, text, len, d, err, errlen);
	free(text);
	return rc;
fail:
	fclose(f);
	free(text);
	return -1;
}
