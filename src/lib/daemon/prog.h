/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * prog: what nfspamd and nfspamlogd (which builds with nfspamd's
 * sources) both need around their main loops and command lines.
 */
#ifndef NFSPAMD_PROG_H
#define NFSPAMD_PROG_H

#include <uv.h>

/*
 * The value of a numeric flag, from min to max; otherwise the program
 * exits 1 naming the flag, the value and the range.
 */
long	prog_number(const char *flag, const char *s, long min, long max);

/*
 * One instance per path: take a write lock on path (made 0640 if
 * missing) and write our PID into it.  The descriptor, to keep open for
 * the process's life (the lock goes with the process), or -1 with err
 * naming the process that holds it, or why the file could not be used.
 */
int	prog_lock(const char *path, char *err, size_t errlen);

/* The signals a daemon handles: TERM and INT stop, HUP reloads, CHLD
   reaps.  Every handle's data is the same. */
struct prog_signals {
	uv_signal_t	term, intr, hup, chld;
};

void	prog_signals_start(uv_loop_t *, struct prog_signals *,
	    uv_signal_cb, void *data);

/* Close every handle still open, let their callbacks run, close loop. */
void	prog_loop_close(uv_loop_t *loop);

#endif
