/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for owner: permission hints, and becoming the state
 * directory's owner (the part that needs root runs in a child).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "owner.h"

struct fix {
	char	dir[64];
	char	me[64];
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_owner.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	owner_whoami(f->me, sizeof(f->me));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	chmod(f->dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
test_whoami(void **state)
{
	struct fix *f = *state;
	struct passwd *pw = getpwuid(geteuid());
	char want[32];

	if (pw != NULL)
		snprintf(want, sizeof(want), "%s", pw->pw_name);
	else
		snprintf(want, sizeof(want), "uid %u", (unsigned)geteuid());
	assert_string_equal(f->me, want);
}

/* Someone else's directory: the owner, the mode and a chown. */
static void
test_hint_eacces(void **state)
{
	struct fix *f = *state;
	char path[128], dir[128], buf[1024], want[256];
	struct passwd *pw;

	if (geteuid() == 0) {
		/* The nearest existing directory above the path is named. */
		if ((pw = getpwnam("nobody")) == NULL)
			skip();
		assert_int_equal(chown(f->dir, pw->pw_uid, pw->pw_gid), 0);
		assert_int_equal(chmod(f->dir, 0500), 0);
		snprintf(dir, sizeof(dir), "%s", f->dir);
		snprintf(path, sizeof(path), "%s/db/data.mdb", f->dir);
		snprintf(want, sizeof(want), "%s is owned by nobody:", dir);
	} else {
		snprintf(dir, sizeof(dir), "/root");
		snprintf(path, sizeof(path), "/root/nfspamd-test/data.mdb");
		snprintf(want, sizeof(want), "/root is owned by root:");
	}
	owner_hint(EACCES, path, buf, sizeof(buf));
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "as user %s; ", f->me);
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "chown %s %s", f->me, dir);
	assert_non_null(strstr(buf, want));
	if (geteuid() == 0)
		assert_non_null(strstr(buf, "mode 0500"));
	/* EPERM reads the same. */
	owner_hint(EPERM, path, buf, sizeof(buf));
	assert_non_null(strstr(buf, want));
}

/* One's own directory with too few permissions: chmod, not chown. */
static void
test_hint_own_mode(void **state)
{
	struct fix *f = *state;
	char buf[1024], want[256];

	assert_int_equal(chmod(f->dir, 0500), 0);
	owner_hint(EACCES, f->dir, buf, sizeof(buf));
	snprintf(want, sizeof(want), "chmod u+rwx %s", f->dir);
	assert_non_null(strstr(buf, want));
	assert_null(strstr(buf, "chown"));
}

static void
test_hint_enoent(void **state)
{
	struct fix *f = *state;
	char path[128], buf[1024], want[256];

	snprintf(path, sizeof(path), "%s/run/nfspamd", f->dir);
	owner_hint(ENOENT, path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "as user %s; %s does not exist", f->me,
	    path);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "systemd-tmpfiles --create"));
	/* A path that exists is not what was missing: no hint. */
	owner_hint(ENOENT, f->dir, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void
test_hint_other(void **state)
{
	struct fix *f = *state;
	char buf[64] = "x";

	owner_hint(EIO, f->dir, buf, sizeof(buf));
	assert_string_equal(buf, "");
	owner_hint(EROFS, f->dir, buf, sizeof(buf));
	assert_non_null(strstr(buf, "read-only"));
	/* A short buffer truncates, never overflows. */
	owner_hint(EACCES, f->dir, buf, 8);
	assert_int_equal(strlen(buf), 7);
}

static void
test_adopt_nothing_to_do(void **state)
{
	struct fix *f = *state;
	char path[128], err[256];
	uid_t uid = 12345;

	/* Not root, or a directory that is root's or missing: no change. */
	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(owner_adopt(path, &uid, err, sizeof(err)), 0);
	if (geteuid() != 0)
		assert_int_equal(owner_adopt(f->dir, &uid, err, sizeof(err)), 0);
	assert_int_equal(owner_adopt("/", &uid, err, sizeof(err)), 0);
	assert_int_equal(uid, 12345);
	assert_int_equal(geteuid(), getuid());
}

/* As root: a child becomes the owner of a directory chowned to nobody. */
static void
test_adopt_as_root(void **state)
{
	struct fix *f = *state;
	struct passwd *pw;
	pid_t pid;
	int status;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	assert_int_equal(chown(f->dir, pw->pw_uid, pw->pw_gid), 0);
	if ((pid = fork()) == 0) {
		char err[256], file[128];
		uid_t uid = 0;
		struct stat sb;
		FILE *fp;

		if (owner_adopt(f->dir, &uid, err, sizeof(err)) != 1 ||
		    uid != pw->pw_uid || geteuid() != pw->pw_uid ||
		    getuid() != pw->pw_uid || getegid() != pw->pw_gid)
			_exit(1);
		snprintf(file, sizeof(file), "%s/made", f->dir);
		if ((fp = fopen(file, "w")) == NULL)
			_exit(2);
		fclose(fp);
		if (stat(file, &sb) == -1 || sb.st_uid != pw->pw_uid)
			_exit(3);
		/* For good: no way back to root. */
		if (setuid(0) == 0)
			_exit(4);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_whoami),
		T(test_hint_eacces),
		T(test_hint_own_mode),
		T(test_hint_enoent),
		T(test_hint_other),
		T(test_adopt_nothing_to_do),
		T(test_adopt_as_root),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
