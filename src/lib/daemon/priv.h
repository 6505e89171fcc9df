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

/*
 * Started as root with a user that does not exist: never stay root.
 * 0 when fine (found, or not root); -1 with err naming the user and how
 * to make one.
 */
int	priv_check_user(const struct priv_user *, const char *flag,
	    char *err, size_t errlen);

/*
 * As root, before becoming u: give u the files names[0..n) in dir that
 * someone else owns (see owner_give), logging each one to lg.
 */
struct logger;
void	priv_give_back(const char *dir, const char *const *names, size_t n,
	    const struct priv_user *u, struct logger *lg);

/* Does this process hold CAP_NET_ADMIN (permitted) right now? */
bool	priv_has_netadmin(void);

#endif
