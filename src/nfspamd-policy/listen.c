/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * listen: nfspamd-policy -l, many clients at once on sockets of its own
 * (TCP, Unix), in one libuv loop.
 *
 * Each client has its own reader and an idle timer (--timeout); its
 * answers go out in the order of its requests.  A client that sends
 * requests faster than it reads the answers is not read from until
 * they drain.  A client that breaks the protocol, hangs up or idles is
 * hung up on once what it was sent has gone (or after a short wait for
 * that).  SIGTERM and SIGINT stop the server, SIGHUP reopens the
 * database.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "metrics.h"
#include "policyd.h"
#include "prog.h"

#define BACKLOG		64
#define READBUF		65536
#define QUEUE_HIGH	(256 * 1024)	/* answers unread: stop reading */
#define FLUSH_MS	10000		/* the last answers' time to go */

struct server;

struct listener {
	union {
		uv_handle_t	 handle;
		uv_stream_t	 stream;
		uv_tcp_t	 tcp;
		uv_pipe_t	 pipe;
	} h;
	struct server	*srv;
	const char	*arg;		/* as given to -l */
	bool		 unix_path;
	bool		 bound;		/* a path of ours, to remove */
};

struct client {
	union {
		uv_handle_t	 handle;
		uv_stream_t	 stream;
		uv_tcp_t	 tcp;
		uv_pipe_t	 pipe;
	} h;
	uv_timer_t	 timer;
	uv_shutdown_t	 sreq;
	struct server	*srv;
	struct client	*prev, *next;
	int		 open;		/* handles not yet closed */
	bool		 closing;
	bool		 paused;
	struct session	 s;
};

struct server {
	struct pd	*pd;
	uv_loop_t	 loop;
	struct prog_signals sig;
	struct listener	 l[PD_MAXLISTEN];
	size_t		 nl;
	struct client	*clients;
	size_t		 nclients;
	unsigned long	 serial;	/* Unix clients, for the log */
	bool		 full_said;
	bool		 stopping;
	char		*rbuf;		/* READBUF, for every read */
};

struct wreq {
	uv_write_t	 req;
	struct client	*c;
	char		 data[];
};

static void	client_close(struct client *, bool flush);

static void
handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct server *srv = c->srv;

	if (--c->open > 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nclients--;
	free(c);
}

static void
hard_close(struct client *c)
{
	if (!uv_is_closing(&c->h.handle))
		uv_close(&c->h.handle, handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, handle_closed);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	hard_close(req->data);
}

static void
on_timer(uv_timer_t *t)
{
	struct client *c = t->data;

	if (c->closing) {
		hard_close(c);
		return;
	}
	log_debug(&c->srv->pd->log, "policy client=%s closed: idle for %u s",
	    c->s.peer, c->srv->pd->timeout);
	client_close(c, true);
}

/*
 * Hang up: with flush, once the answers queued have gone (at most
 * FLUSH_MS), else at once.
 */
static void
client_close(struct client *c, bool flush)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_read_stop(&c->h.stream);
	if (flush) {
		c->sreq.data = c;
		uv_timer_start(&c->timer, on_timer, FLUSH_MS, 0);
		if (uv_shutdown(&c->sreq, &c->h.stream, on_shutdown) == 0)
			return;
	}
	hard_close(c);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct client *c = h->data;
	struct server *srv = c->srv;

	(void)hint;
	/* Each read is used up before the next: one buffer serves all. */
	*b = uv_buf_init(srv->rbuf, READBUF);
}

static void	on_read(uv_stream_t *, ssize_t, const uv_buf_t *);

static void
on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct client *c = w->c;

	free(w);
	if (status < 0) {
		if (!c->closing)
			log_debug(&c->srv->pd->log, "policy client=%s closed: "
			    "write: %s", c->s.peer, uv_strerror(status));
		client_close(c, false);
		return;
	}
	if (c->paused && !c->closing &&
	    uv_stream_get_write_queue_size(&c->h.stream) < QUEUE_HIGH / 2) {
		c->paused = false;
		uv_read_start(&c->h.stream, on_alloc, on_read);
	}
}

/* 0, or -1 (logged) when they cannot be queued. */
static int
send_answers(struct client *c, const struct buf *out)
{
	struct wreq *w;
	uv_buf_t b;
	int rc;

	if ((w = malloc(sizeof(*w) + out->len)) == NULL) {
		log_warnx(&c->srv->pd->log, "policy client=%s closed: out of "
		    "memory", c->s.peer);
		return -1;
	}
	w->c = c;
	memcpy(w->data, out->data, out->len);
	b = uv_buf_init(w->data, (unsigned)out->len);
	if ((rc = uv_write(&w->req, &c->h.stream, &b, 1, on_write)) != 0) {
		log_debug(&c->srv->pd->log, "policy client=%s closed: write: "
		    "%s", c->s.peer, uv_strerror(rc));
		free(w);
		return -1;
	}
	if (!c->paused &&
	    uv_stream_get_write_queue_size(&c->h.stream) > QUEUE_HIGH) {
		log_debug(&c->srv->pd->log, "policy client=%s: %zu bytes of "
		    "answers unread: reading no more until they are",
		    c->s.peer, uv_stream_get_write_queue_size(&c->h.stream));
		c->paused = true;
		uv_read_stop(&c->h.stream);
	}
	return 0;
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct client *c = st->data;
	struct pd *pd = c->srv->pd;
	struct buf out = { 0 };
	int rc;

	if (n == 0 || c->closing)
		return;
	if (n == UV_EOF) {
		session_eof(pd, &c->s);
		client_close(c, true);
		return;
	}
	if (n < 0) {
		log_debug(&pd->log, "policy client=%s closed: read: %s",
		    c->s.peer, uv_strerror((int)n));
		client_close(c, false);
		return;
	}
	uv_timer_again(&c->timer);
	rc = session_input(pd, &c->s, b->base, (size_t)n, &out);
	if (out.len > 0 && send_answers(c, &out) == -1)
		rc = -1;
	buf_free(&out);
	if (rc == -1)
		client_close(c, true);
}

static void
peer_name(struct listener *l, struct client *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct addr a;
	char host[ADDR_STRLEN];
	uint16_t port;

	if (l->unix_path) {
		snprintf(c->s.peer, sizeof(c->s.peer), "unix#%lu",
		    ++c->srv->serial);
		return;
	}
	snprintf(c->s.peer, sizeof(c->s.peer), "?");
	if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) != 0 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, &a) == -1)
		return;
	addr_format(&a, host, sizeof(host));
	port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(c->s.peer, sizeof(c->s.peer), a.family == AF_INET6 ?
	    "[%s]:%u" : "%s:%u", host, (unsigned)port);
}

static void
free_unaccepted(uv_handle_t *h)
{
	free(h->data);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	struct server *srv = l->srv;
	struct pd *pd = srv->pd;
	struct client *c;

	if (status < 0) {
		log_warnx(&pd->log, "-l %s: accept: %s", l->arg,
		    uv_strerror(status));
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx(&pd->log, "-l %s: out of memory for a client",
		    l->arg);
		return;
	}
	c->srv = srv;
	c->h.handle.data = c;
	if (l->unix_path)
		uv_pipe_init(&srv->loop, &c->h.pipe, 0);
	else
		uv_tcp_init(&srv->loop, &c->h.tcp);
	if (uv_accept(server, &c->h.stream) != 0 ||
	    srv->nclients >= PD_MAXCLIENTS) {
		if (srv->nclients >= PD_MAXCLIENTS && !srv->full_said)
			log_warnx(&pd->log, "-l %s: %d clients already: "
			    "hanging up on more", l->arg, PD_MAXCLIENTS);
		srv->full_said = srv->nclients >= PD_MAXCLIENTS;
		uv_close(&c->h.handle, free_unaccepted);
		return;
	}
	srv->full_said = false;
	uv_timer_init(&srv->loop, &c->timer);
	c->timer.data = c;
	c->open = 2;
	c->next = srv->clients;
	if (c->next != NULL)
		c->next->prev = c;
	srv->clients = c;
	srv->nclients++;
	policy_reader_init(&c->s.rd);
	peer_name(l, c);
	if (!l->unix_path)
		uv_tcp_nodelay(&c->h.tcp, 1);
	log_debug(&pd->log, "policy client=%s: serving", c->s.peer);
	uv_timer_start(&c->timer, on_timer, (uint64_t)pd->timeout * 1000,
	    (uint64_t)pd->timeout * 1000);
	uv_read_start(&c->h.stream, on_alloc, on_read);
}

/*
 * A Unix socket left at path by a server that is gone: removed.  Never
 * anything but a socket, and never one that something still serves.
 */
static int
clear_path(struct pd *pd, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd, r;

	if (lstat(path, &sb) == -1)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		log_warnx(&pd->log, "-l %s: exists and is not a socket", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn(&pd->log, "-l %s: socket", path);
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (r == 0 || errno != ECONNREFUSED) {
		log_warnx(&pd->log, "-l %s: %s", path, r == 0 ? "another "
		    "server listens there" : strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	unlink(path);
	return 0;
}

static int
listen_one(struct server *srv, struct listener *l)
{
	struct pd *pd = srv->pd;
	struct sockaddr_storage ss;
	struct addr a;
	uint16_t port;
	const char *why;
	int rc;

	l->srv = srv;
	l->unix_path = l->arg[0] == '/';
	if (l->unix_path) {
		if (clear_path(pd, l->arg) == -1)
			return -1;
		uv_pipe_init(&srv->loop, &l->h.pipe, 0);
		l->h.handle.data = l;
		if ((rc = uv_pipe_bind(&l->h.pipe, l->arg)) == 0) {
			l->bound = true;
			/* Who may connect is the directory's business. */
			if (chmod(l->arg, 0666) == -1)
				log_warn(&pd->log, "-l %s: chmod", l->arg);
		}
	} else {
		if (metrics_endpoint_parse(l->arg, &a, &port, &why) == -1) {
			log_warnx(&pd->log, "-l %s: %s", l->arg, why);
			return -1;
		}
		addr_to_sockaddr(&a, port, &ss);
		uv_tcp_init(&srv->loop, &l->h.tcp);
		l->h.handle.data = l;
		rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
	}
	if (rc == 0)
		rc = uv_listen(&l->h.stream, BACKLOG, on_connection);
	if (rc != 0) {
		log_warnx(&pd->log, "-l %s: %s", l->arg, uv_strerror(rc));
		return -1;
	}
	log_info(&pd->log, "serving on %s, database %s, header %s", l->arg,
	    pd->lk.dir, pd->header);
	return 0;
}

static void
on_stop(void *arg)
{
	struct server *srv = arg;
	struct client *c;

	if (srv->stopping)
		return;
	srv->stopping = true;
	log_info(&srv->pd->log, "stopping: %zu clients", srv->nclients);
	/* Those waiting for their last answers to go too. */
	for (c = srv->clients; c != NULL; c = c->next) {
		c->closing = true;
		hard_close(c);
	}
	uv_stop(&srv->loop);
}

static void
on_reload(void *arg)
{
	struct server *srv = arg;

	log_info(&srv->pd->log, "SIGHUP: opening the database afresh");
	lookup_close(srv->pd);
	lookup_open(srv->pd);
}

static const struct prog_signal_ops sigops = {
	.stop = on_stop,
	.reload = on_reload,
	.reap = NULL,
};

int
listen_main(struct pd *pd)
{
	struct server *srv;
	int rc = 0;

	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->rbuf = malloc(READBUF)) == NULL) {
		free(srv);
		log_warnx(&pd->log, "out of memory");
		return 1;
	}
	srv->pd = pd;
	uv_loop_init(&srv->loop);
	/* As root, the database's owner from here on (lookup.c). */
	lookup_open(pd);
	for (size_t i = 0; i < pd->nlisten; i++) {
		srv->l[i].arg = pd->listen[i];
		if (listen_one(srv, &srv->l[i]) == -1) {
			rc = 1;
			break;
		}
		srv->nl++;
	}
	if (rc == 0) {
		prog_signals_start(&srv->loop, &srv->sig, &sigops, srv);
		uv_run(&srv->loop, UV_RUN_DEFAULT);
	}
	for (size_t i = 0; i < srv->nl + (rc != 0); i++)
		if (srv->l[i].bound && unlink(srv->l[i].arg) == -1)
			log_debug(&pd->log, "-l %s: unlink: %s", srv->l[i].arg,
			    strerror(errno));
	prog_loop_close(&srv->loop);
	free(srv->rbuf);
	free(srv);
	return rc;
}
