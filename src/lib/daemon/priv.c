/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * priv: dropping privileges.  See priv.h.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "owner.h"
#include "priv.h"

void
priv_lookup(const char *name, struct priv_user *u)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	if ((pw = getpwnam(name)) != NULL) {
		u->found = true;
		u->uid = pw->pw_uid;
		u->gid = pw->pw_gid;
	}
}

static int
capset_mask(uint64_t mask)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)mask;
	d[1].effective = d[1].permitted = (uint32_t)(mask >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

static int
has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) == -1)
		return 0;
	return (d[cap / 32].permitted >> (cap % 32)) & 1;
}

static int
become(const struct priv_user *u, bool keep, char *err, size_t errlen)
{
	/* Nothing to change, or already done by the process before us. */
	if (geteuid() != 0 || !u->found || (getuid() == u->uid &&
	    geteuid() == u->uid && getgid() == u->gid))
		return 0;
	/*
	 * Keep the permitted set across the uid change, then trim it.  The
	 * user's groups come along, as with systemd's User=: that is how a
	 * key in group ssl-cert stays readable (-K).
	 */
	if ((keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1) ||
	    initgroups(u->name, u->gid) == -1 ||
	    setresgid(u->gid, u->gid, u->gid) == -1 ||
	    setresuid(u->uid, u->uid, u->uid) == -1) {
		snprintf(err, errlen, "cannot become user %s: %s", u->name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
clear_ambient_and_bounding(uint64_t keep)
{
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* Needs CAP_SETPCAP; without it the bounding set is already ours
	   to live with (systemd's CapabilityBoundingSet). */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!((keep >> c) & 1))
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
}

int
priv_check_user(const struct priv_user *u, const char *flag, char *err,
    size_t errlen)
{
	if (geteuid() != 0 || u->found)
		return 0;
	snprintf(err, errlen, "%s %s: no such user: create it "
	    "(systemd-sysusers makes nfspamd's), or name the user to run as "
	    "with %s", flag, u->name, flag);
	return -1;
}

void
priv_give_back(const char *dir, const char *const *names, size_t n,
    const struct priv_user *u, struct logger *lg)
{
	char msg[PATH_MAX + 256];

	for (size_t i = 0; i < n; i++)
		switch (owner_give(dir, names[i], u->uid, u->gid, msg,
		    sizeof(msg))) {
		case 1: log_info(lg, "%s", msg); break;
		case -1: log_warnx(lg, "%s", msg); break;
		}
}

bool
priv_has_netadmin(void)
{
	return has_cap(CAP_NET_ADMIN);
}

int
priv_drop_all(const struct priv_user *u, char *err, size_t errlen)
{
	clear_ambient_and_bounding(0);
	if (become(u, false, err, errlen) == -1)
		return -1;
	if (capset_mask(0) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
priv_keep_netadmin(const struct priv_user *u, char *err, size_t errlen)
{
	uint64_t keep = 1ULL << CAP_NET_ADMIN;

	if (!has_cap(CAP_NET_ADMIN)) {
		snprintf(err, errlen, "changing the nftables sets needs "
		    "CAP_NET_ADMIN "
		    "(run as root, or give the service "
		    "AmbientCapabilities=CAP_NET_ADMIN)");
		return -1;
	}
	clear_ambient_and_bounding(keep);
	if (become(u, true, err, errlen) == -1)
		return -1;
	if (capset_mask(keep) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}
