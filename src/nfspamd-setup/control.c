/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * control: feeding nfspamd's control socket.  See control.h.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl.h"
#include "buf.h"
#include "control.h"
#include "owner.h"
#include "util.h"

#define REPLY_MAX	(1024 * 1024)
#define REPLY_WAIT_MS	120000	/* nfspamd builds its index first */

/* A black list's message: quoted in spamd.conf, or read from a file. */
static char *
black_msg(const struct sdc_list *l, char *err, size_t errlen)
{
	char	*data;
	size_t	 len;

	if (l->msg != NULL)
		return strdup(l->msg);
	if (read_file(l->msgfile, BL_MSGMAX, &data, &len, err, errlen) == -1)
		return NULL;
	if (memchr(data, '\0', len) != NULL) {
		free(data);
		util_seterr(err, errlen, "%s: holds a NUL byte", l->msgfile);
		return NULL;
	}
	return data;
}

/* b's line in the control text: its name, message and prefixes. */
static int
black_line(const struct black *b, struct buf *out, char *err, size_t errlen)
{
	char	*msg;
	int	 r;

	if ((msg = black_msg(b->l, err, errlen)) == NULL)
		return -1;
	r = setup_line(b->l->name, msg, b->pfx, b->n, out, err, errlen);
	free(msg);
	return r;
}

/* The control text: every good black list, then clears. */
static int
control_text(struct ctx *x, struct buf *out)
{
	struct black	*b;
	const char	*tag;
	char		 err[ERRLEN];
	size_t		 i, line = 0;

	if ((x->clears = calloc(x->prev.nlists + 1,
	    sizeof(*x->clears))) == NULL)
		return -1;
	for (i = 0; i < x->nblacks; i++) {
		b = &x->blacks[i];
		if (!b->ok)
			continue;
		if (black_line(b, out, err, sizeof(err)) == -1)
			black_fail(x, b, FAIL_LINE, err);
		else
			b->line = ++line;
	}
	x->clear_line = line + 1;
	for (i = 0; i < x->prev.nlists; i++) {
		tag = x->prev.lists[i].tag;
		if (in_config(x, tag))
			continue;
		if (setup_line(tag, NULL, NULL, 0, out, err,
		    sizeof(err)) == -1)
			return -1;
		x->clears[x->nclears++] = tag;
		if (x->c.debug)
			log_info(&x->log, "list %s: gone from %s, clearing it",
			    tag, x->c.conf);
	}
	return 0;
}

/*
 * What a failed connect to the control socket means: nfspamd is not
 * there only when the socket is missing from its directory or nobody
 * listens on it; for a missing directory or a permission, what to do.
 */
static const char *
control_why(int e, const char *path, char *buf, size_t len)
{
	char	dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	if (e == ENOENT && access(dirname(dir), F_OK) == 0)
		snprintf(buf, len, " (is nfspamd running, with this "
		    "--control?)");
	else if (e == ECONNREFUSED)
		snprintf(buf, len, " (nobody listens there: nfspamd is not "
		    "running, or is still starting)");
	else
		why_not(e, path, buf, len);
	return buf;
}

static int
control_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	char			why[ERRLEN];
	int			fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return util_seterr(err, errlen, "control socket %s: path too "
		    "long", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return util_seterr(err, errlen, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		util_seterr(err, errlen, "control socket %s: %s%s", path,
		    strerror(e), control_why(e, path, why, sizeof(why)));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send all of text, then end our side. */
static int
control_write(int fd, const char *path, const struct buf *text, char *err,
    size_t errlen)
{
	ssize_t	n;
	size_t	off = 0;

	while (off < text->len) {
		n = send(fd, text->data + off, text->len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* nfspamd may have answered already (too big). */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			return util_seterr(err, errlen, "control socket %s: %s",
			    path, strerror(errno));
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	return 0;
}

/* nfspamd's answer to EOF, NUL-terminated. */
static int
control_read(int fd, const char *path, struct buf *reply, char *err,
    size_t errlen)
{
	struct pollfd	pf;
	char		chunk[4096];
	ssize_t		n;
	int		r;

	for (;;) {
		pf.fd = fd;
		pf.events = POLLIN;
		if ((r = poll(&pf, 1, REPLY_WAIT_MS)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return util_seterr(err, errlen, "control socket %s: no "
			    "answer within %d s", path, REPLY_WAIT_MS / 1000);
		if ((n = read(fd, chunk, sizeof(chunk))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (reply->len + (size_t)n > REPLY_MAX ||
		    buf_append(reply, chunk, (size_t)n) == -1)
			return util_seterr(err, errlen, "control socket %s: "
			    "answer too long", path);
	}
	if (buf_append(reply, "", 1) == -1)
		return util_seterr(err, errlen, "out of memory");
	reply->len--;
	return 0;
}

/* Send the text, read nfspamd's answer to EOF. */
static int
control_send(const char *path, const struct buf *text, struct buf *reply,
    char *err, size_t errlen)
{
	int	fd, r;

	if ((fd = control_connect(path, err, errlen)) == -1)
		return -1;
	r = control_write(fd, path, text, err, errlen);
	if (r == 0)
		r = control_read(fd, path, reply, err, errlen);
	close(fd);
	return r;
}

/*
 * nfspamd answers "error line N: why" for each line it refused, then
 * "ok lists=... refused=..." (or "error: why" for the whole lot).
 */
static int
control_answer(struct ctx *x, const char *reply)
{
	const char	*p, *nl;
	unsigned long	 line;
	size_t		 i;
	bool		 done = false;
	int		 n;

	for (p = reply; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (sscanf(p, "error line %lu: %n", &line, &n) == 1) {
			for (i = 0; i < x->nblacks; i++)
				if (x->blacks[i].ok && x->blacks[i].line ==
				    line) {
					x->blacks[i].refused = true;
					break;
				}
			if (i == x->nblacks && line >= x->clear_line &&
			    line - x->clear_line < x->nclears) {
				log_warnx(&x->log, "nfspamd refused to clear "
				    "list %s: %.*s", x->clears[line -
				    x->clear_line], (int)(nl - p - n), p + n);
				x->clears[line - x->clear_line] = NULL;
			} else
				log_warnx(&x->log, "nfspamd refused %s%s: %.*s",
				    i < x->nblacks ? "list " : "line ",
				    i < x->nblacks ? x->blacks[i].l->name : "?",
				    (int)(nl - p - n), p + n);
			x->failed++;
		} else if (strncmp(p, "ok ", 3) == 0) {
			done = true;
			if (x->c.debug)
				log_info(&x->log, "nfspamd: %.*s",
				    (int)(nl - p - 3), p + 3);
		} else if (nl > p) {
			log_warnx(&x->log, "nfspamd: %.*s", (int)(nl - p), p);
			x->failed++;
		}
		if (*nl == '\0')
			break;
	}
	if (!done) {
		char me[64];

		/* nfspamd hangs up on users it takes nothing from. */
		if (*reply == '\0')
			log_warnx(&x->log, "nfspamd closed the control "
			    "connection without an answer: it takes lists "
			    "from root and the user it runs as only, and this "
			    "is user %s (nfspamd's log says more)",
			    owner_whoami(me, sizeof(me)));
		else
			log_warnx(&x->log, "nfspamd did not confirm the "
			    "lists");
		x->failed++;
		return -1;
	}
	return 0;
}

int
control_feed(struct ctx *x, bool *delivered)
{
	struct buf	 text = { 0 }, reply = { 0 };
	char		 err[ERRLEN];
	size_t		 i, sent = 0;

	*delivered = false;
	if (control_text(x, &text) == -1) {
		log_warnx(&x->log, "out of memory");
		buf_free(&text);
		return -1;
	}
	for (i = 0; i < x->nblacks; i++)
		sent += x->blacks[i].ok;
	if (x->c.dryrun) {
		fwrite(text.data != NULL ? text.data : "", 1, text.len, stdout);
		*delivered = true;
	} else if (text.len > 0) {
		if (control_send(x->c.control, &text, &reply, err,
		    sizeof(err)) == -1) {
			log_warnx(&x->log, "%s; nothing sent", err);
			x->failed++;
		} else if (control_answer(x, reply.data) == 0)
			*delivered = true;
	} else
		*delivered = true;
	if (*delivered && !x->c.dryrun && (sent > 0 || x->nclears > 0))
		log_info(&x->log, "nfspamd: %zu list%s sent, %zu cleared", sent,
		    sent == 1 ? "" : "s", x->nclears);
	buf_free(&text);
	buf_free(&reply);
	return 0;
}

bool
control_cleared(const struct ctx *x, const char *tag)
{
	size_t	i;

	for (i = 0; i < x->nclears; i++)
		if (x->clears[i] != NULL && strcmp(x->clears[i], tag) == 0)
			return true;
	return false;
}
