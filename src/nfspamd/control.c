/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * control: the control socket, where nfspamd-setup (or anyone root or
 * the nfspamd user) sends blacklists in spamd's line format.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl.h"
#include "buf.h"
#include "owner.h"
#include "sup.h"

struct control_conn {
	uv_pipe_t	 pipe;		/* first: handle <-> struct */
	struct sup	*sup;
	struct buf	 in;
	bool		 failed;
};

/* --- the control socket: blacklists from nfspamd-setup --- */

static void
control_closed(uv_handle_t *h)
{
	struct control_conn *cc = (struct control_conn *)h;

	buf_free(&cc->in);
	free(cc);
}

static void
control_reply(struct control_conn *cc, struct buf *out)
{
	uv_buf_t b = uv_buf_init(out->data, (unsigned)out->len);

	/* Small and the peer waits for it: one blocking-free try is enough. */
	if (out->len > 0)
		uv_try_write((uv_stream_t *)&cc->pipe, &b, 1);
	uv_close((uv_handle_t *)&cc->pipe, control_closed);
}

static void
control_written(uv_write_t *req, int status)
{
	struct control_conn *cc = req->data;

	(void)status;
	free(req);
	uv_close((uv_handle_t *)&cc->pipe, control_closed);
}

/*
 * "metrics\n": the metrics, for nfspamdb --stats.  Tens of kilobytes,
 * so written properly rather than tried once; the buffer goes with
 * the request.
 */
static void
control_metrics(struct control_conn *cc)
{
	struct sup *s = cc->sup;
	uv_write_t *req;
	uv_buf_t b;

	buf_free(&cc->in);
	if (expose_render(s, &cc->in) == -1 ||
	    (req = calloc(1, sizeof(*req))) == NULL) {
		s->stats.control_errors++;
		buf_reset(&cc->in);
		buf_puts(&cc->in, "error: out of memory\n");
		control_reply(cc, &cc->in);
		return;
	}
	req->data = cc;
	b = uv_buf_init(cc->in.data, (unsigned)cc->in.len);
	if (uv_write(req, (uv_stream_t *)&cc->pipe, &b, 1,
	    control_written) != 0) {
		free(req);
		uv_close((uv_handle_t *)&cc->pipe, control_closed);
	}
}

static void
control_apply(struct control_conn *cc)
{
	struct sup *s = cc->sup;
	struct buf out = { 0 };
	struct bl_list l;
	char *p = cc->in.data, *end = p + cc->in.len, *nl, err[512];
	size_t line = 0, ok = 0, bad = 0;

	s->stats.control_requests++;
	if (cc->in.len == 8 && memcmp(cc->in.data, "metrics\n", 8) == 0) {
		control_metrics(cc);
		return;
	}

	for (; p != NULL && p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl - p <= 1)
			continue;	/* spamd skips such lines too */
		if (bl_parse(p, (size_t)(nl - p), &l, err, sizeof(err)) != 0) {
			log_warnx(&s->log, "control line %zu refused: %s", line,
			    err);
			buf_printf(&out, "error line %zu: %s\n", line, err);
			bad++;
			continue;
		}
		log_info(&s->log, "blacklist list=%s prefixes=%zu%s", l.tag,
		    l.npfx, l.npfx == 0 ? " (cleared)" : "");
		if (bl_set(s->bl, &l) != 0) {
			bl_list_free(&l);
			buf_printf(&out, "error line %zu: list refused (more "
			    "than 65536 lists, or out of memory)\n", line);
			bad++;
			continue;
		}
		ok++;
	}
	if (ok > 0) {
		if (bl_build(s->bl) != 0) {
			log_warnx(&s->log, "blacklists: out of memory");
			buf_printf(&out, "error: out of memory\n");
		} else if (bl_save(s->bl, s->conf.lists, err,
		    sizeof(err)) != 0) {
			log_warnx(&s->log, "blacklists not saved: %s", err);
			buf_printf(&out, "error: %s\n", err);
		} else
			tell_workers(s, MSG_RELOAD_LISTS);
	}
	if (bad > 0)
		s->stats.control_errors++;
	buf_printf(&out, "ok lists=%zu refused=%zu total=%zu prefixes=%zu\n",
	    ok, bad, bl_count(s->bl), bl_prefixes(s->bl));
	control_reply(cc, &out);
	buf_free(&out);
}

static void
control_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct control_conn *cc = (struct control_conn *)h;

	(void)suggested;
	if (cc->in.cap - cc->in.len < 65536 + 1 &&
	    buf_append(&cc->in, "", 0) == 0) {
		size_t want = cc->in.cap < 65536 ? 131072 : cc->in.cap * 2;
		char *p = realloc(cc->in.data, want);

		if (p != NULL) {
			cc->in.data = p;
			cc->in.cap = want;
		}
	}
	*b = uv_buf_init(cc->in.data + cc->in.len,
	    (unsigned)(cc->in.cap - cc->in.len - 1));
}

static void
control_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct control_conn *cc = (struct control_conn *)st;
	struct sup *s = cc->sup;
	struct buf out = { 0 };

	(void)b;
	if (n > 0) {
		cc->in.len += (size_t)n;
		if (cc->in.len > s->conf.max_list_bytes) {
			log_warnx(&s->log, "control: more than %zu MiB, "
			    "refused (--max-list-bytes)",
			    s->conf.max_list_bytes >> 20);
			buf_printf(&out, "error: more than %zu MiB "
			    "(--max-list-bytes)\n", s->conf.max_list_bytes >>
			    20);
			uv_read_stop(st);
			control_reply(cc, &out);
			buf_free(&out);
		}
		return;
	}
	if (n == UV_EOF) {
		uv_read_stop(st);
		control_apply(cc);
	} else if (n < 0) {
		uv_read_stop(st);
		uv_close((uv_handle_t *)st, control_closed);
	}
}

static bool
peer_allowed(struct sup *s, uv_pipe_t *p, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd;

	if (uv_fileno((uv_handle_t *)p, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return false;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid() ||
	    (s->user.found && cr.uid == s->user.uid);
}

static void
on_control(uv_stream_t *server, int status)
{
	struct sup *s = server->data;
	struct control_conn *cc;
	uid_t uid = (uid_t)-1;

	if (status < 0 || (cc = calloc(1, sizeof(*cc))) == NULL)
		return;
	cc->sup = s;
	uv_pipe_init(s->loop, &cc->pipe, 0);
	if (uv_accept(server, (uv_stream_t *)&cc->pipe) != 0) {
		uv_close((uv_handle_t *)&cc->pipe, control_closed);
		return;
	}
	if (!peer_allowed(s, &cc->pipe, &uid)) {
		log_warnx(&s->log, "control: connection from uid %ld refused "
		    "(root or the nfspamd user only)", (long)uid);
		uv_close((uv_handle_t *)&cc->pipe, control_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&cc->pipe, control_alloc, control_read);
}

/*
 * The PID serving the socket at path (-1 if it answers but will not
 * say), or 0 when nobody listens there.
 */
static pid_t
control_owner(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	pid_t pid = 0;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 ?
		    cr.pid : -1;
	else if (errno != ECONNREFUSED && errno != ENOENT)
		pid = -1;	/* e.g. EACCES: someone's, not ours to remove */
	close(fd);
	return pid;
}

int
control_open(struct sup *s)
{
	const char *path = s->conf.control;
	struct stat sb;
	int rc;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_warnx(&s->log, "--control %s: path too long", path);
		return -1;
	}
	/*
	 * A socket left by a killed nfspamd; never remove anything else,
	 * and never one that another process still serves.
	 */
	if (lstat(path, &sb) == 0) {
		pid_t pid;

		if (!S_ISSOCK(sb.st_mode)) {
			log_warnx(&s->log, "--control %s: exists and is not a "
			    "socket", path);
			return -1;
		}
		if ((pid = control_owner(path)) != 0) {
			log_warnx(&s->log, "--control %s: in use by another "
			    "nfspamd, pid %ld: stop it first, or give this one "
			    "its own --control and --db", path, (long)pid);
			return -1;
		}
		unlink(path);
	}
	uv_pipe_init(s->loop, &s->control, 0);
	s->control.data = s;
	if ((rc = uv_pipe_bind(&s->control, path)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&s->control, 16, on_control)) != 0) {
		char dir[PATH_MAX], hint[512], *slash;
		int e = -rc;

		/* libuv turns ENOENT into EACCES here; say which it was. */
		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
			*slash = '\0';
		if (slash != NULL && stat(dir, &sb) == -1 && errno == ENOENT)
			e = ENOENT;
		log_warnx(&s->log, "--control %s: %s (%s)", path, strerror(e),
		    owner_hint(e, e == ENOENT ? dir : path, hint,
		    sizeof(hint)));
		return -1;
	}
	chmod(path, 0660);
	s->have_control = true;
	return 0;
}
