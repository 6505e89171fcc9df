/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * owner: files in the database directory belong to whoever owns that
 * directory (the nfspamd user on an installed system), whoever runs the
 * program; and permission errors say who we are and what to change.
 */
#ifndef NFS_OWNER_H
#define NFS_OWNER_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Run as root: become the owner of dir for good (its uid, the owner's
 * primary group and supplementary groups, or dir's group when the owner
 * has no passwd entry), so that every file made in dir from now on is
 * the owner's.  Nothing happens when not root, when dir is root's, or
 * when dir does not exist (the caller then makes it, as itself).
 * 1: became the owner (*uid says who); 0: nothing to do; -1: err says why.
 */
int	owner_adopt(const char *dir, uid_t *uid, char *err, size_t errlen);

/* The name of user uid, or "uid N": for messages.  Returns buf. */
const char	*owner_name(uid_t uid, char *buf, size_t len);

/*
 * As root, before becoming uid: give dir/name to uid:gid when someone
 * else owns it (a root run of an older version left it so, and uid
 * could not use it).  Links and anything but a plain file are left
 * alone.  0: nothing to do; 1: given, msg says so; -1: msg says why not
 * and what to run.
 */
int	owner_give(const char *dir, const char *name, uid_t uid, gid_t gid,
	    char *msg, size_t msglen);

/*
 * The name of the effective user, or its number: for messages.  Writes
 * into buf and returns it.
 */
const char	*owner_whoami(char *buf, size_t len);

/*
 * A hint for an error number met on path: for EACCES, EPERM and EROFS,
 * "as user U; D is owned by O:G mode M: ...what to do..." naming the
 * nearest existing directory above path; for ENOENT, the missing
 * directory and how to make it.  An empty string for anything else.
 * Writes into buf and returns it.
 */
const char	*owner_hint(int errnum, const char *path, char *buf, size_t len);

#endif
