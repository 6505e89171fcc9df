/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Metrics export over HTTP and to a textfile; see mexport.h.
 *
 * libmicrohttpd runs with MHD_USE_EPOLL and no thread of its own: its
 * one epoll descriptor is polled by libuv, MHD_run does the work when
 * it is readable, and a timer covers the timeouts it asks for.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "addr.h"
#include "metrics.h"
#include "mexport.h"

struct mexport {
	uv_loop_t		*loop;
	struct logger		*log;
	mexport_render_fn	 render;
	void			*arg;
	struct MHD_Daemon	*mhd;
	uv_poll_t		 poll;
	uv_timer_t		 mhd_timer;
	uv_timer_t		 file_timer;
	char			*file;
	int			 handles;	/* open, to be closed */
	int			 file_failing;	/* errno last logged, or 0 */
};

static void
mhd_log(void *arg, const char *fmt, va_list ap)
{
	struct mexport *m = arg;
	char s[256];
	size_t n;

	vsnprintf(s, sizeof(s), fmt, ap);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	log_warnx(m->log, "metrics listener: %s", s);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *type,
    const char *body, size_t len, bool allow)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
on_request(void *arg, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	static const char plain[] = "text/plain; charset=utf-8";
	struct mexport *m = arg;
	struct buf b = { 0 };
	enum MHD_Result rc;

	(void)version;
	(void)upload;
	/* A body is not wanted: read it away, then answer. */
	if (*state == NULL) {
		*state = m;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, plain,
		    "only GET and HEAD\n", 18, true);
	if (strcmp(url, "/") == 0)
		return reply(conn, MHD_HTTP_OK, plain,
		    "Prometheus metrics: /metrics\n", 29, false);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, plain,
		    "not found; the metrics are at /metrics\n", 39, false);
	if (m->render(m->arg, &b) == -1) {
		buf_free(&b);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, plain,
		    "out of memory\n", 14, false);
	}
	rc = reply(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE,
	    b.data != NULL ? b.data : "", b.len, false);
	buf_free(&b);
	return rc;
}

static void	on_mhd_timer(uv_timer_t *);

/* After MHD ran: when it wants to run again without an event. */
static void
mhd_rearm(struct mexport *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES)
		uv_timer_start(&m->mhd_timer, on_mhd_timer,
		    ms > 60000 ? 60000 : ms, 0);
	else
		uv_timer_stop(&m->mhd_timer);
}

static void
mhd_run(struct mexport *m)
{
	MHD_run(m->mhd);
	mhd_rearm(m);
}

static void
on_mhd_timer(uv_timer_t *t)
{
	mhd_run(t->data);
}

static void
on_mhd_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	mhd_run(p->data);
}

static int
listen_open(struct mexport *m, const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct addr a;
	uint16_t port;
	const char *why;

	if (metrics_endpoint_parse(listen, &a, &port, &why) == -1) {
		snprintf(err, errlen, "--metrics %s: %s", listen, why);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (a.family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a.bytes, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a.bytes, 16);
		flags |= MHD_USE_IPv6;
	}
	m->mhd = MHD_start_daemon(flags, port, NULL, NULL, on_request, m,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MEXPORT_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MEXPORT_TIMEOUT,
	    MHD_OPTION_END);
	if (m->mhd == NULL) {
		snprintf(err, errlen, "--metrics %s: cannot listen there "
		    "(in use, or not an address of this host?)", listen);
		return -1;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || uv_poll_init(m->loop, &m->poll,
	    info->epoll_fd) != 0) {
		snprintf(err, errlen, "--metrics %s: no epoll descriptor",
		    listen);
		MHD_stop_daemon(m->mhd);
		m->mhd = NULL;
		return -1;
	}
	uv_timer_init(m->loop, &m->mhd_timer);
	m->poll.data = m->mhd_timer.data = m;
	m->handles += 2;
	uv_poll_start(&m->poll, UV_READABLE, on_mhd_poll);
	mhd_rearm(m);
	return 0;
}

int
mexport_write_file(const char *path, const struct buf *b, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX], base[PATH_MAX];
	size_t off = 0;
	ssize_t n;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	/* The collector reads *.prom only: a dot file is never half read. */
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", dirname(dir),
	    basename(base), (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < b->len) {
		if ((n = write(fd, b->data + off, b->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
file_write(struct mexport *m)
{
	struct buf b = { 0 };
	char err[PATH_MAX + 128];

	if (m->render(m->arg, &b) == -1) {
		log_warnx(m->log, "metrics file %s: out of memory", m->file);
		buf_free(&b);
		return;
	}
	/* A failing file says so when it starts failing, not every time. */
	if (mexport_write_file(m->file, &b, err, sizeof(err)) == -1) {
		if (m->file_failing != errno)
			log_warnx(m->log, "metrics file: %s", err);
		m->file_failing = errno != 0 ? errno : -1;
	} else if (m->file_failing != 0) {
		log_info(m->log, "metrics file %s written again", m->file);
		m->file_failing = 0;
	}
	buf_free(&b);
}

static void
on_file_timer(uv_timer_t *t)
{
	file_write(t->data);
}

int
mexport_open(struct mexport **mp, uv_loop_t *loop, const char *listen,
    const char *file, unsigned interval, mexport_render_fn render,
    void *arg, struct logger *log, char *err, size_t errlen)
{
	struct mexport *m;

	*mp = NULL;
	if (listen == NULL && file == NULL)
		return 0;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return -1;
	}
	m->loop = loop;
	m->log = log;
	m->render = render;
	m->arg = arg;
	if (listen != NULL && listen_open(m, listen, err, errlen) == -1) {
		free(m);
		return -1;
	}
	if (file != NULL) {
		if ((m->file = strdup(file)) == NULL) {
			snprintf(err, errlen, "metrics: out of memory");
			mexport_close(m);
			return -1;
		}
		uv_timer_init(loop, &m->file_timer);
		m->file_timer.data = m;
		m->handles++;
		file_write(m);
		if (interval == 0)
			interval = MEXPORT_INTERVAL;
		uv_timer_start(&m->file_timer, on_file_timer,
		    interval * 1000ULL, interval * 1000ULL);
	}
	*mp = m;
	return 0;
}

void
mexport_flush(struct mexport *m)
{
	if (m != NULL && m->file != NULL)
		file_write(m);
}

static void
on_closed(uv_handle_t *h)
{
	struct mexport *m = h->data;

	if (--m->handles > 0)
		return;
	free(m->file);
	free(m);
}

void
mexport_close(struct mexport *m)
{
	if (m == NULL)
		return;
	if (m->file != NULL)
		file_write(m);
	if (m->mhd != NULL) {
		uv_close((uv_handle_t *)&m->poll, on_closed);
		uv_close((uv_handle_t *)&m->mhd_timer, on_closed);
		MHD_stop_daemon(m->mhd);
		m->mhd = NULL;
	}
	if (m->file != NULL)
		uv_close((uv_handle_t *)&m->file_timer, on_closed);
	if (m->handles == 0) {
		free(m->file);
		free(m);
	}
}
