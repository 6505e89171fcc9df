/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * certgen: a self-signed P-256 certificate and its key, written as PEM,
 * for the tests and fuzz harnesses of src/lib/tls.
 */
#ifndef NFS_CERTGEN_H
#define NFS_CERTGEN_H

/* Valid from now for an hour; 0, or -1 when something failed. */
int	certgen_p256(const char *cn, const char *certpath,
	    const char *keypath);

#endif
