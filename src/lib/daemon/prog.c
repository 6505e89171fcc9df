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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "osf.h"
#include "owner.h"
#include "rlayout.h"
#include "store.h"

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

const char *
prog_metrics_listen(const char *s)
{
	struct addr a;
	uint16_t port;
	const char *why;

	if (metrics_endpoint_parse(s, &a, &port, &why) == -1)
		errx(1, "--metrics %s: %s", s, why);
	return s;
}

const char *
prog_metrics_file(const char *s)
{
	if (*s != '/')
		errx(1, "--metrics-file %s: not an absolute path", s);
	return s;
}

void
prog_common_init(struct prog_common *pc)
{
	pc->db = STORE_DEFAULT_DIR;
	pc->user = "nfspamd";
	pc->sync_ms = STORE_SYNC_MS_DEFAULT;
	pc->db_max = 0;
}

bool
prog_common_opt(struct prog_common *pc, int ch, const char *arg)
{
	struct rl_url url;
	char err[512];

	switch (ch) {
	case PROG_OPT_DB:
		pc->db = arg;
		return true;
	case PROG_OPT_USER:
		pc->user = arg;
		return true;
	case PROG_OPT_DBSYNC:
		pc->sync_ms = (unsigned)prog_number("--db-sync-ms", arg, 0,
		    60000);
		return true;
	case PROG_OPT_DBMAX:
		pc->db_max = (size_t)prog_number("--db-max-size", arg, 1,
		    1L << 30) << 20;
		return true;
	case PROG_OPT_STORE:
		if (rl_url_parse(arg, &url, err, sizeof(err)) == -1)
			errx(1, "%s", err);
		pc->store = arg;
		return true;
	case PROG_OPT_STOREPASS:
		if (*arg != '/')
			errx(1, "--store-password-file %s: not an absolute "
			    "path", arg);
		pc->store_passfile = arg;
		return true;
	default:
		return false;
	}
}

void
prog_usage(const char *text, int status)
{
	fputs(text, status == 0 ? stdout : stderr);
	exit(status);
}

void
prog_version(const char *name)
{
	printf("%s %s\n", name, PACKAGE_VERSION);
	exit(0);
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

static void
on_signal(uv_signal_t *h, int signum)
{
	struct prog_signals *g = h->data;

	if (signum == SIGCHLD)
		g->ops->reap(g->data);
	else if (signum == SIGHUP)
		g->ops->reload(g->data);
	else
		g->ops->stop(g->data);
}

void
prog_signals_start(uv_loop_t *loop, struct prog_signals *g,
    const struct prog_signal_ops *ops, void *data)
{
	uv_signal_t *h[] = { &g->term, &g->intr, &g->hup, &g->chld };
	const int signum[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	size_t n = ops->reap != NULL ? 4 : 3;

	g->ops = ops;
	g->data = data;
	for (size_t i = 0; i < n; i++) {
		uv_signal_init(loop, h[i]);
		h[i]->data = g;
		uv_signal_start(h[i], on_signal, signum[i]);
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

/* --- --os-fingerprints --- */

void
prog_osfiles_init(struct prog_osfiles *f)
{
	f->files[0] = NFSPAMD_DATADIR "/os-fingerprints";
	f->files[1] = NFSPAMD_DATADIR "/pf.os";
	f->n = 2;
	f->shipped = true;
}

void
prog_osfiles_add(struct prog_osfiles *f, const char *arg)
{
	if (f->shipped) {
		f->shipped = false;
		f->n = 0;
	}
	if (strcmp(arg, "none") == 0) {
		f->n = 0;
		return;
	}
	if (*arg == '\0')
		errx(1, "--os-fingerprints: empty file name");
	if (f->n == PROG_OS_FILES)
		errx(1, "--os-fingerprints %s: at most %d files", arg,
		    PROG_OS_FILES);
	f->files[f->n++] = arg;
}

int
prog_osfiles_load(struct prog_osfiles *f, struct osf_db *db,
    struct logger *lg)
{
	char err[512], hint[512] = "";

	for (size_t i = 0; i < f->n; i++) {
		if (osf_db_load(db, f->files[i], err, sizeof(err)) == 0)
			continue;
		if (f->shipped && access(f->files[i], F_OK) == -1) {
			log_warnx(lg, "OS fingerprinting off: %s", err);
			osf_db_free(db);
			f->n = 0;
			return 0;
		}
		/* Not readable as the user we became: say who, and the fix. */
		if (access(f->files[i], R_OK) == -1 && errno == EACCES)
			owner_hint(errno, f->files[i], hint, sizeof(hint));
		log_warnx(lg, "--os-fingerprints %s%s%s%s", err,
		    hint[0] != '\0' ? " (" : "", hint,
		    hint[0] != '\0' ? ")" : "");
		osf_db_free(db);
		return -1;
	}
	if (f->n > 0)
		log_info(lg, "os fingerprints=%zu files=%zu", db->n, f->n);
	return 0;
}
