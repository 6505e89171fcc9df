/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * fuzz.h: what every libFuzzer harness here shares.
 */
#ifndef NFS_FUZZ_H
#define NFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* An invariant: a failure is a finding, with the file and line. */
#define CHECK(e)	do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #e);	\
		abort();						\
	}								\
} while (0)

#endif
