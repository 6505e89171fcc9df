/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * control: nfspamd-setup's side of nfspamd's control socket.  One text
 * carries a line per good black list (its message and prefixes) and a
 * clear line per list gone from spamd.conf since the last run; nfspamd
 * answers per line.  With -n the text goes to stdout instead.
 */
#ifndef NFS_SETUP_CONTROL_H
#define NFS_SETUP_CONTROL_H

#include <stdbool.h>

#include "nfspamd-setup.h"

/*
 * Send the text and read the answer: a black list nfspamd refused is
 * marked so, a clear it refused is dropped from x->clears, and each
 * problem counts in x->failed.  *delivered: nfspamd confirmed the text
 * (with -n, or nothing to send, always).  Returns 0, or -1 (logged) when
 * memory runs out before anything is sent.
 */
int	control_feed(struct ctx *x, bool *delivered);

/* Did nfspamd take the clear line for tag? */
bool	control_cleared(const struct ctx *x, const char *tag);

#endif /* NFS_SETUP_CONTROL_H */
