/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * priv: dropping privileges.  Works both when nfspamd starts as root and
 * when systemd starts it as the nfspamd user with an ambient
 * CAP_NET_ADMIN.  No libcap: plain capset(2) and prctl(2).
 */
#ifndef NFSPAMD_PRIV_H
#define NFSPAMD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct priv_user {
	bool	 found;		/* the user exists */
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
};

/* Look the user up (before any chroot-like restriction). */
void	priv_lookup(const char *name, struct priv_user *);

/*
 * Become the user (when root and it exists) and drop every capability,
 * ambient ones included; no new privileges after this.  -1 with err.
 */
int	priv_drop_all(const struct priv_user *, char *err, size_t errlen);

/*
 * Become the user (when root and it exists) keeping CAP_NET_ADMIN only.
 * -1 with err when CAP_NET_ADMIN is not there to keep.
 */
int	priv_keep_netadmin(const struct priv_user *, char *err,
	    size_t errlen);

/* Does this process hold CAP_NET_ADMIN (permitted) right now? */
bool	priv_has_netadmin(void);

#endif
