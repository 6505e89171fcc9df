/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * mexport: a program's metrics out to Prometheus, two ways: an HTTP
 * listener answering GET /metrics (libmicrohttpd, run from the
 * program's libuv loop through its epoll descriptor, so a scrape is
 * served between other events and never on another thread), and the
 * node_exporter textfile collector's file, replaced atomically every
 * interval.  The caller renders the text (src/lib/metrics.h) when asked.
 */
#ifndef NFSPAMD_MEXPORT_H
#define NFSPAMD_MEXPORT_H

#include <stddef.h>
#include <uv.h>

#include "buf.h"
#include "log.h"

#define MEXPORT_CONNS		16	/* scrapers at once */
#define MEXPORT_TIMEOUT		10	/* seconds a scraper may idle */
#define MEXPORT_INTERVAL	15	/* seconds between file writes */

/* Append the whole exposition to b.  -1: out of memory. */
typedef int	(*mexport_render_fn)(void *arg, struct buf *b);

struct mexport;

/*
 * listen ("ADDR:PORT", "[ADDR6]:PORT") and file may each be NULL; with
 * both NULL *mp is NULL and nothing runs.  The file is written at once,
 * then every interval seconds, and once more by mexport_close.  -1 with
 * err naming the flag's value.
 */
int	mexport_open(struct mexport **mp, uv_loop_t *, const char *listen,
	    const char *file, unsigned interval, mexport_render_fn, void *arg,
	    struct logger *, char *err, size_t errlen);
/* Write the file now (after a change worth showing at once). */
void	mexport_flush(struct mexport *);
/* Stop listening, write the file a last time; handles close on the loop. */
void	mexport_close(struct mexport *);

/*
 * Replace path with b's bytes: a temporary file in the same directory,
 * then rename, so the collector never reads half a file.  -1 with err.
 */
int	mexport_write_file(const char *path, const struct buf *b, char *err,
	    size_t errlen);

#endif
