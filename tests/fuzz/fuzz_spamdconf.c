/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/spamdconf.c: spamd.conf files as anyone
 * could write them.
 *
 * An accepted file must give at most SDC_LISTMAX lists, each with a
 * non-empty name and file, a known method, and for a black list exactly
 * one of msg and msgfile (a white list has neither), and at most
 * SDC_WARNMAX warnings plus one that says there were more.  A refused
 * file must come with a reason naming the file.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamdconf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdc		 c;
	const struct sdc_list	*l;
	char			 err[512];
	size_t			 i;

	err[0] = '\0';
	if (sdc_parse("f.conf", (const char *)data, size, &c, err,
	    sizeof(err)) == -1) {
		CHECK(strncmp(err, "f.conf", 6) == 0);
		return 0;
	}
	CHECK(c.n <= SDC_LISTMAX);
	CHECK(c.n == 0 || c.lists != NULL);
	/* Warnings are bounded, and each names the file or says so. */
	CHECK(c.nwarn <= SDC_WARNMAX + 1);
	for (i = 0; i < c.nwarn; i++)
		CHECK(strncmp(c.warn[i], "f.conf", 6) == 0 ||
		    strncmp(c.warn[i], "more than", 9) == 0);
	for (i = 0; i < c.n; i++) {
		l = &c.lists[i];
		CHECK(l->name != NULL && l->name[0] != '\0');
		CHECK(l->file != NULL && l->file[0] != '\0');
		CHECK(strlen(l->file) <= SDC_VALMAX);
		CHECK(strcmp(sdc_method_name(l->method), "?") != 0);
		if (l->black) {
			CHECK((l->msg != NULL) != (l->msgfile != NULL));
			CHECK(l->msgfile == NULL || l->msgfile[0] != '\0');
		} else
			CHECK(l->msg == NULL && l->msgfile == NULL);
	}
	sdc_free(&c);
	return 0;
}
