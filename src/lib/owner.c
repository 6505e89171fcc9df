/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * owner: state files owned by the state directory's owner.  See owner.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "owner.h"
#include "util.h"

int
owner_adopt(const char *dir, uid_t *uid, char *err, size_t errlen)
{
	struct passwd *pw;
	struct stat sb;
	gid_t gid;
	int rc;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		return util_seterr(err, errlen, "%s: %s", dir,
		    strerror(errno));
	}
	if (sb.st_uid == 0)
		return 0;
	pw = getpwuid(sb.st_uid);
	gid = pw != NULL ? pw->pw_gid : sb.st_gid;
	rc = pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(0, NULL);
	if (rc == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(sb.st_uid, sb.st_uid, sb.st_uid) == -1)
		return util_seterr(err, errlen, "%s belongs to %s (uid %u): "
		    "cannot become that user: %s", dir,
		    pw != NULL ? pw->pw_name : "?", (unsigned)sb.st_uid,
		    strerror(errno));
	if (uid != NULL)
		*uid = sb.st_uid;
	return 1;
}

const char *
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

int
owner_give(const char *dir, const char *name, uid_t uid, gid_t gid,
    char *msg, size_t msglen)
{
	char path[PATH_MAX], was[64], now[64];
	struct stat sb;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid != uid) {
		owner_name(sb.st_uid, was, sizeof(was));
		owner_name(uid, now, sizeof(now));
		if (fchown(fd, uid, gid) == -1)
			rc = util_seterr(msg, msglen, "%s belongs to %s, not to "
			    "%s who owns %s, and cannot be given back: %s; "
			    "chown %s %s", path, was, now, dir,
			    strerror(errno), now, path);
		else {
			snprintf(msg, msglen, "%s belonged to %s: given to %s, "
			    "who owns %s", path, was, now, dir);
			rc = 1;
		}
	}
	close(fd);
	return rc;
}

static const char *
group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr != NULL)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned)gid);
	return buf;
}

const char *
owner_whoami(char *buf, size_t len)
{
	return owner_name(geteuid(), buf, len);
}

/* path itself if it exists, else the nearest directory above it. */
static int
nearest(const char *path, char *out, size_t len, struct stat *sb)
{
	char *slash;

	snprintf(out, len, "%s", path);
	for (;;) {
		if (stat(out, sb) == 0)
			return 0;
		if ((slash = strrchr(out, '/')) == NULL) {
			snprintf(out, len, ".");
			return stat(out, sb);
		}
		if (slash == out) {
			out[1] = '\0';
			return stat(out, sb);
		}
		*slash = '\0';
	}
}

const char *
owner_hint(int errnum, const char *path, char *buf, size_t len)
{
	char me[64], who[64], grp[64], near[PATH_MAX];
	struct stat sb;

	buf[0] = '\0';
	if (errnum != EACCES && errnum != EPERM && errnum != EROFS &&
	    errnum != ENOENT)
		return buf;
	owner_whoami(me, sizeof(me));
	if (nearest(path, near, sizeof(near), &sb) == -1)
		return buf;
	if (errnum == ENOENT) {
		if (strcmp(near, path) != 0)
			snprintf(buf, len, "as user %s; %s does not exist: "
			    "create it, owned by the user the program runs "
			    "as (systemd-tmpfiles --create makes nfspamd's "
			    "directories)", me, path);
		return buf;
	}
	if (errnum == EROFS) {
		snprintf(buf, len, "%s is on a read-only file system (as "
		    "user %s; under systemd, ProtectSystem=strict leaves "
		    "only the unit's StateDirectory= and RuntimeDirectory= "
		    "writable)", near, me);
		return buf;
	}
	owner_name(sb.st_uid, who, sizeof(who));
	group_name(sb.st_gid, grp, sizeof(grp));
	if (sb.st_uid == geteuid()) {
		snprintf(buf, len, "as user %s; %s is %s's own but mode %04o: "
		    "chmod u+rw%s %s", me, near, me,
		    (unsigned)(sb.st_mode & 07777), S_ISDIR(sb.st_mode) ?
		    "x" : "", near);
		return buf;
	}
	snprintf(buf, len, "as user %s; %s is owned by %s:%s mode %04o: run "
	    "it as %s, or give %s access (chown %s %s)", me, near, who, grp,
	    (unsigned)(sb.st_mode & 07777), who, me, me, near);
	return buf;
}
