/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * ctl: nfspamdb's side of nfspamd's control socket, for --stats: send
 * "metrics", end our side, read the answer to EOF (at most 4 MiB, all
 * of it within 10 s) and hand it to stats_totals_parse.  Every way this can fail,
 * from a missing socket to a bad answer, ends as one line in why.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "owner.h"
#include "stats.h"

#define ANSWER_MAX	(4 * 1024 * 1024)	/* nfspamd's is tens of KiB */
#define ANSWER_WAIT_MS	10000

/* Why a connect to the control socket failed, for one line. */
static void
connect_failed(struct ctl_answer *d, int e, const char *path)
{
	char		 copy[PATH_MAX], hint[CTL_WHYLEN / 2];
	const char	*dir, *what = "";

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (e == ENOENT && access(dir, F_OK) == 0)
		what = " (is nfspamd running, with this --control?)";
	else if (e == ECONNREFUSED)
		what = " (nobody listens there: nfspamd is not running, or "
		    "is still starting)";
	else if (owner_hint(e, e == ENOENT ? dir : path, hint,
	    sizeof(hint))[0] != '\0') {
		snprintf(d->why, sizeof(d->why), "control socket %s: %s (%s)",
		    path, strerror(e), hint);
		return;
	}
	snprintf(d->why, sizeof(d->why), "control socket %s: %s%s", path,
	    strerror(e), what);
}

static int
daemon_connect(struct ctl_answer *d, const char *path)
{
	struct sockaddr_un	sun;
	int			fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(d->why, sizeof(d->why), "control socket %s: path "
		    "longer than %zu bytes", path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(d->why, sizeof(d->why), "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		close(fd);
		connect_failed(d, e, path);
		return -1;
	}
	return fd;
}

/* "metrics\n", then EOF: nfspamd answers once it has read to EOF. */
static int
daemon_ask(struct ctl_answer *d, int fd, const char *path)
{
	static const char	 req[] = "metrics\n";
	ssize_t			 n;
	size_t			 off = 0;

	while (off < sizeof(req) - 1) {
		n = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		/* hung up already: what it said, if anything, is read next */
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (n == -1) {
			snprintf(d->why, sizeof(d->why), "control socket %s: "
			    "%s", path, strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	return 0;
}

/* Milliseconds left until end, 0 once it has passed. */
static int
ms_left(const struct timespec *end)
{
	struct timespec	now;
	long long	ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(end->tv_sec - now.tv_sec) * 1000 +
	    (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* The whole answer, up to ANSWER_MAX bytes, within ANSWER_WAIT_MS. */
static int
daemon_read(struct ctl_answer *d, int fd, const char *path, struct buf *ans)
{
	struct timespec	end;
	struct pollfd	pf;
	char		chunk[8192];
	ssize_t		n;
	int		r;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ANSWER_WAIT_MS / 1000;
	for (;;) {
		pf.fd = fd;
		pf.events = POLLIN;
		if ((r = poll(&pf, 1, ms_left(&end))) == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(d->why, sizeof(d->why), "control socket %s: "
			    "no answer within %d s", path,
			    ANSWER_WAIT_MS / 1000);
			return -1;
		}
		if ((n = read(fd, chunk, sizeof(chunk))) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1 && errno == ECONNRESET && ans->len == 0)
			return 0;	/* hung up without a word */
		if (n == -1) {
			snprintf(d->why, sizeof(d->why), "control socket %s: "
			    "%s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (ans->len + (size_t)n > ANSWER_MAX) {
			snprintf(d->why, sizeof(d->why), "control socket %s: "
			    "answer longer than %d MiB", path,
			    ANSWER_MAX >> 20);
			return -1;
		}
		if (buf_append(ans, chunk, (size_t)n) == -1)
			err(1, NULL);
	}
}

void
ctl_totals(const char *path, struct ctl_answer *d)
{
	struct buf	ans = { 0 };
	char		me[64], why[CTL_WHYLEN / 2];
	int		fd;

	memset(d, 0, sizeof(*d));
	if ((fd = daemon_connect(d, path)) == -1)
		return;
	if (daemon_ask(d, fd, path) == 0 &&
	    daemon_read(d, fd, path, &ans) == 0) {
		/* nfspamd hangs up on users it answers no request of. */
		if (ans.len == 0)
			snprintf(d->why, sizeof(d->why), "control socket %s: "
			    "nfspamd closed the connection without an answer: "
			    "it answers root and the user it runs as only, and "
			    "this is user %s", path,
			    owner_whoami(me, sizeof(me)));
		else if (stats_totals_parse(ans.data, ans.len, &d->tot, why,
		    sizeof(why)) == -1)
			snprintf(d->why, sizeof(d->why), "control socket %s: "
			    "bad answer: %s", path, why);
		else
			d->ok = true;
	}
	close(fd);
	buf_free(&ans);
}
