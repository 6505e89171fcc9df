/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * prog: see prog.h.
 */
#include "config.h"

#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "owner.h"

#include "prog.h"
#include "util.h"

long
prog_number(const char *flag, const char *s, long min, long max)
{
	long v;

	if (util_parse_long(s, min, max, &v) == -1)
		errx(1, "%s %s: want a whole number from %ld to %ld", flag, s,
		    min, max);
	return v;
}

/*
 * A POSIX record lock, not flock: F_GETLK names the holder's PID, so the
 * message is right even when the file's text is stale.  Not inherited
 * by children, so workers and helpers never hold it.
 */
int
prog_lock(const char *path, char *err, size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[32], hint[512];
	int fd, n;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0640)) == -1) {
		int saved = errno;

		return util_seterr(err, errlen, "%s: %s (%s)", path,
		    strerror(saved), owner_hint(saved, path, hint,
		    sizeof(hint)));
	}
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		int saved = errno;

		fl.l_type = F_WRLCK;
		if ((saved == EAGAIN || saved == EACCES) &&
		    fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
			close(fd);
			return util_seterr(err, errlen, "%s: in use by another "
			    "instance, pid %ld: stop it first, or give this "
			    "one its own --db and --control", path,
			    (long)fl.l_pid);
		}
		close(fd);
		return util_seterr(err, errlen, "%s: cannot lock: %s", path,
		    strerror(saved));
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		int saved = errno;

		close(fd);
		return util_seterr(err, errlen, "%s: %s", path,
		    strerror(saved));
	}
	return fd;
}

void
prog_signals_start(uv_loop_t *loop, struct prog_signals *g, uv_signal_cb cb,
    void *data)
{
	uv_signal_t *h[] = { &g->term, &g->intr, &g->hup, &g->chld };
	const int signum[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };

	for (size_t i = 0; i < 4; i++) {
		uv_signal_init(loop, h[i]);
		h[i]->data = data;
		uv_signal_start(h[i], cb, signum[i]);
	}
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void
prog_loop_close(uv_loop_t *loop)
{
	uv_walk(loop, close_walk, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}
