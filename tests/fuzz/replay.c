/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * replay: a plain main() for a harness, so it can be built without
 * libFuzzer (tests/fuzz/campaign links it into a coverage build).
 * Runs LLVMFuzzerTestOneInput once on each file named, and on each file
 * of each directory named, in name order; each input is in a buffer of
 * exactly its size.
 *
 * Usage: fuzz_NAME FILE|DIR...
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	FILE		*f;
	uint8_t		*p = NULL, *np;
	size_t		 len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((np = realloc(p, cap)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				free(p);
				fclose(f);
				return -1;
			}
			p = np;
		}
		if ((n = fread(p + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	/* An exact copy, so an overread is past the end. */
	if ((np = malloc(len > 0 ? len : 1)) == NULL) {
		free(p);
		return -1;
	}
	if (len > 0)
		memcpy(np, p, len);
	free(p);
	LLVMFuzzerTestOneInput(np, len);
	free(np);
	return 0;
}

static int
run_dir(const char *dir, size_t *count)
{
	struct dirent	**ents;
	char		  path[4096];
	struct stat	  st;
	int		  i, n, rv = 0;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) == -1)
				rv = -1;
			else
				(*count)++;
		}
		free(ents[i]);
	}
	free(ents);
	return rv;
}

int
main(int argc, char **argv)
{
	struct stat	st;
	size_t		count = 0;
	int		i, rv = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			rv = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) == -1)
				rv = 1;
		} else if (run_file(argv[i]) == -1)
			rv = 1;
		else
			count++;
	}
	fprintf(stderr, "replay: %zu inputs\n", count);
	return rv;
}
