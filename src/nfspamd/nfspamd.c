/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd: spamd's greylisting and tarpitting SMTP server for nftables.
 *
 * The process started by the admin is the supervisor: it parses the
 * flags, opens the listening sockets (one SO_REUSEPORT set per worker),
 * starts -j workers (this same binary, re-executed with --worker), keeps
 * the blacklists (control socket), runs the scan and owns the firewall
 * backend.  Workers serve SMTP and report passes and traps back.
 * The command line is args.c's, the control socket control.c's.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "bl.h"
#include "follow.h"
#include "fw.h"
#include "jfile.h"
#include "greylist.h"
#include "msg.h"
#include "nfspamd.h"
#include "nfthelper.h"
#include "osf.h"
#include "osfload.h"
#include "owner.h"
#include "peers.h"
#include "sync.h"
#include "priv.h"
#include "prog.h"
#include "reputation.h"
#include "store.h"
#include "sup.h"
#include "tls.h"
#include "util.h"

/* --- listening sockets --- */

/*
 * Bound and listening before any worker runs, so connections made as
 * soon as nfspamd says "listening" wait in the backlog, never refused.
 * IP_FREEBIND: -l may name a virtual address (VRRP) that this node
 * takes over later; the socket works from the moment it does.
 */
static int
listen_socket(const struct addr *a, uint16_t port, int backlog, bool savesyn,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;
	char ip[ADDR_STRLEN];

	len = addr_to_sockaddr(a, port, &ss);
	addr_format(a, ip, sizeof(ip));
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    (a->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one))) ||
	    setsockopt(fd, a->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
	    a->family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one,
	    sizeof(one)) ||
	    /* The kernel keeps each SYN's headers for the fingerprint. */
	    (savesyn && setsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &one,
	    sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, backlog) == -1) {
		snprintf(err, errlen, "listen on %s port %u: %s", ip, port,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* --- workers --- */

static void	on_worker_msg(uv_poll_t *, int, int);
static int	tls_check(struct sup *, bool);

/*
 * The supervisor's own flags, argv[0] "nfspamd: worker N" for ps, and
 * --worker=CTL: the socket on which the worker's MSG_SETTINGS waits.
 */
static char **
worker_argv(struct sup *s, int id, int ctl)
{
	char **av, opt[32], name[32];

	snprintf(opt, sizeof(opt), "--worker=%d", ctl);
	if ((av = calloc((size_t)s->argc + 2, sizeof(*av))) == NULL)
		return NULL;
	for (int i = 1; i < s->argc; i++)
		av[i] = s->argv[i];
	snprintf(name, sizeof(name), "nfspamd: worker %d", id);
	if ((av[0] = strdup(name)) == NULL ||
	    (av[s->argc] = strdup(opt)) == NULL) {
		free(av[0]);
		free(av);
		return NULL;
	}
	return av;
}

static void
worker_argv_free(struct sup *s, char **av)
{
	if (av == NULL)
		return;
	free(av[0]);
	free(av[s->argc]);
	free(av);
}

static int
send_settings(struct sup *s, int id, int ctl, const int *fds, size_t nfds)
{
	const struct conf *c = &s->conf;
	struct msg_settings m = {
		.id = (uint32_t)id,
		.maxcon = (uint64_t)((c->maxcon + c->workers - 1) / c->workers),
		.maxblack = (uint64_t)((c->maxblack + c->workers - 1) /
		    c->workers),
		.started = s->started, .syncfd = s->syncfd,
		.nfds = (uint32_t)nfds,
	};
	uint8_t buf[MSG_MAXSIZE];
	size_t len;

	for (size_t i = 0; i < nfds; i++)
		m.fds[i] = fds[i];
	if ((len = msg_settings_encode(&m, buf)) == 0 ||
	    send(ctl, buf, len, 0) == -1) {
		log_warn(&s->log, "worker %d: settings", id);
		return -1;
	}
	return 0;
}

static int
spawn(struct sup *s, int id)
{
	const struct conf *c = &s->conf;
	int fds[NFSPAMD_MAXFDS], sp[2] = { -1, -1 };
	char **av = NULL, err[256];
	bool savesyn = c->os.n > 0;
	size_t n = 0;
	pid_t pid;

	/* -p on every -l address, then the OS tarpit's port. */
	for (; n < c->nlisten * (c->os_port != 0 ? 2 : 1); n++)
		if ((fds[n] = listen_socket(&c->listen[n % c->nlisten],
		    n < c->nlisten ? c->port : c->os_port, c->backlog,
		    savesyn, err, sizeof(err))) == -1) {
			log_warnx(&s->log, "%s", err);
			goto fail;
		}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn(&s->log, "socketpair");
		goto fail;
	}
	if ((av = worker_argv(s, id, sp[1])) == NULL) {
		log_warnx(&s->log, "out of memory");
		goto fail;
	}
	/* Queued before the worker runs: the first thing it reads. */
	if (send_settings(s, id, sp[0], fds, n) == -1)
		goto fail;
	if ((pid = fork()) == -1) {
		log_warn(&s->log, "fork");
		goto fail;
	}
	if (pid == 0) {
		/* Hand over exactly these descriptors, then become a worker. */
		for (size_t i = 0; i < n; i++)
			fcntl(fds[i], F_SETFD, 0);
		fcntl(sp[1], F_SETFD, 0);
		if (s->syncfd >= 0)
			fcntl(s->syncfd, F_SETFD, 0);
		execv("/proc/self/exe", av);
		_exit(127);
	}
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	close(sp[1]);
	worker_argv_free(s, av);
	s->w[id].pid = pid;
	s->w[id].ctl = sp[0];
	s->w[id].started = (int64_t)time(NULL);
	uv_poll_init(s->loop, &s->w[id].poll, sp[0]);
	s->w[id].poll.data = s;
	uv_poll_start(&s->w[id].poll, UV_READABLE, on_worker_msg);
	s->w[id].polling = true;
	return 0;
fail:
	while (n-- > 0)
		close(fds[n]);
	if (sp[0] != -1) {
		close(sp[0]);
		close(sp[1]);
	}
	worker_argv_free(s, av);
	return -1;
}

void
tell_workers(struct sup *s, enum msg_type t)
{
	uint8_t buf[MSG_HDRSIZE];
	size_t len = msg_empty_encode(t, buf);

	for (int i = 0; i < s->nw; i++)
		if (s->w[i].pid > 0 && send(s->w[i].ctl, buf, len,
		    MSG_DONTWAIT) == -1)
			log_warn(&s->log, "telling worker %d", i);
}

static void
on_worker_msg(uv_poll_t *h, int status, int events)
{
	struct sup *s = h->data;
	uint8_t buf[MSG_MAXSIZE];
	const char *why;
	struct msg *m = &s->msg;	/* big: not on the stack */
	ssize_t n;
	int fd;

	(void)events;
	if (status < 0 || uv_fileno((uv_handle_t *)h, &fd) != 0)
		return;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		int64_t now = (int64_t)time(NULL);

		if (msg_decode(buf, (size_t)n, m, &why) == -1) {
			log_warnx(&s->log, "bad message from a worker: %s",
			    why);
			continue;
		}
		switch (m->type) {
		case MSG_WHITE:
			s->stats.white_reports++;
			fw_white(s->fw, &m->u.addr.addr, m->u.addr.expire, now);
			break;
		case MSG_TRAPPED:
			s->stats.trap_reports++;
			fw_trap(s->fw, &m->u.addr.addr, m->u.addr.expire, now);
			peers_trapped(s->peers, &m->u.addr.addr,
			    m->u.addr.expire, now);
			break;
		case MSG_GREY:
			peers_grey(s->peers, &m->u.grey.addr, m->u.grey.helo,
			    m->u.grey.from, m->u.grey.to, now);
			break;
		default:
			log_warnx(&s->log, "bad message from a worker: %s "
			    "is not a worker's", msg_type_name(m->type));
			break;
		}
	}
	if (n == 0)
		uv_poll_stop(h);	/* worker exited; SIGCHLD handles it */
}

static void	on_restart(uv_timer_t *);
static void	shutdown_all(struct sup *);

static void
reap(struct sup *s)
{
	int status, alive = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->helper_pid) {
			s->helper_pid = 0;
			if (!s->stopping) {
				log_warnx(&s->log, "nft helper exited; "
				    "stopping");
				s->status = 1;
				shutdown_all(s);
			}
			continue;
		}
		for (int i = 0; i < s->nw; i++) {
			struct wproc *w = &s->w[i];

			if (w->pid != pid)
				continue;
			w->pid = 0;
			if (w->polling) {
				uv_close((uv_handle_t *)&w->poll, NULL);
				w->polling = false;
			}
			close(w->ctl);
			if (s->stopping)
				break;
			if (WIFEXITED(status))
				log_warnx(&s->log, "worker %d exited with "
				    "status %d", i, WEXITSTATUS(status));
			else
				log_warnx(&s->log, "worker %d killed by "
				    "signal %d", i, WTERMSIG(status));
			/* One that dies at once will not do better later. */
			if ((int64_t)time(NULL) - w->started < 2) {
				log_warnx(&s->log, "worker %d failed at start; "
				    "stopping", i);
				s->status = 1;
				kill(getpid(), SIGTERM);
			} else
				uv_timer_start(&s->restart, on_restart, 1000,
				    0);
		}
	}
	for (int i = 0; i < s->nw; i++)
		alive += s->w[i].pid > 0;
	if (s->stopping && alive == 0)
		uv_stop(s->loop);
}

static void
on_restart(uv_timer_t *t)
{
	struct sup *s = t->data;

	for (int i = 0; i < s->nw && !s->stopping; i++)
		if (s->w[i].pid == 0) {
			if (spawn(s, i) == 0) {
				s->stats.worker_restarts++;
				log_info(&s->log, "worker %d restarted", i);
			}
			else
				uv_timer_start(&s->restart, on_restart, 5000,
				    0);
		}
}

/* --- the scan --- */

static bool
blacklisted(void *arg, const struct addr *a)
{
	struct sup *s = arg;
	uint32_t id;

	return s->bl != NULL && bl_lookup(s->bl, a, &id, 1) > 0;
}

struct osexp {
	int64_t	before;
	long	deleted;
};

static int
osexp_body(struct store_txn *t, void *arg)
{
	struct osexp *x = arg;

	return store_os_expire(t, x->before, &x->deleted);
}

/*
 * The OS of an address is kept as long as a WHITE entry lives unseen:
 * whiteexp after nfspamd last fingerprinted it.
 */
static void
os_expire(struct sup *s, int64_t now)
{
	struct osexp x = { now - s->conf.grey.whiteexp, 0 };
	char err[512];

	if (store_update(s->store, osexp_body, &x, err, sizeof(err)) != 0)
		log_warnx(&s->log, "scan: os entries: %s", err);
	else if (x.deleted > 0)
		log_debug(&s->log, "scan os_deleted=%ld", x.deleted);
}

static int	save_nets(struct sup *);

/*
 * A shared store's scan: the sorted sets trimmed, and read whole into
 * the kernel sets only when follow.h says a full reconcile is due; the
 * stream keeps them current in between.
 */
static bool
shared_scan(struct sup *s, int64_t now)
{
	char err[512];
	long trimmed;

	if (follow_want_full(s->follow, now))
		return false;
	if (store_trim(s->store, now, &trimmed, err, sizeof(err)) == -1) {
		s->stats.scan_errors++;
		log_warnx(&s->log, "scan: %s", err);
	} else
		log_debug(&s->log, "scan trimmed=%ld (the kernel sets follow "
		    "the shared store's events)", trimmed);
	return true;
}

static void
on_scan(uv_timer_t *t)
{
	struct sup *s = t->data;
	struct greylist_scan r;
	struct timespec a, b;
	int64_t now = (int64_t)time(NULL);
	char err[512];
	bool news;

	if (s->store == NULL)
		return;
	if (s->follow != NULL && !s->nets_saved)
		save_nets(s);
	if (s->follow != NULL && shared_scan(s, now))
		return;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if ((store_shared(s->store) ? greylist_live_run(s->store, now, &r,
	    err, sizeof(err)) : greylist_scan_run(s->store, &s->conf.grey, now,
	    blacklisted, s, 1000, &r, err, sizeof(err))) != 0) {
		s->stats.scan_errors++;
		log_warnx(&s->log, "scan: %s", err);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	s->stats.scans++;
	s->stats.scan_deleted += r.deleted;
	s->stats.scan_promoted += r.promoted;
	s->stats.scan_demoted += r.demoted;
	s->stats.scan_bogus += r.bogus;
	s->stats.scan_rekeyed += r.rekeyed;
	s->stats.last_scan_seconds = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	s->stats.scan_seconds += s->stats.last_scan_seconds;
	news = greylist_scan_news(&r, s->scanned_once ? &s->last_scan : NULL);
	s->scanned_once = true;
	s->last_scan = (struct greylist_scan){ .nwhite = r.nwhite,
	    .ntrapped = r.ntrapped };
	log_msg(&s->log, news ? LOG_INFO : LOG_DEBUG, "scan entries=%zu "
	    "white=%zu trapped=%zu "
	    "deleted=%zu promoted=%zu demoted=%zu bogus=%zu rekeyed=%zu "
	    "ms=%lld", r.scanned, r.nwhite, r.ntrapped, r.deleted, r.promoted,
	    r.demoted, r.bogus, r.rekeyed,
	    (long long)((b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000));
	fw_sync(s->fw, &r, now);
	greylist_scan_free(&r);
	if (s->follow != NULL)
		follow_full_done(s->follow, now);
	os_expire(s, now);
}

/* After a catch-up: the kernel sets follow the merged entries now. */
static void
rescan_now(void *arg)
{
	struct sup *s = arg;

	uv_timer_start(&s->scan, on_scan, 0, s->conf.scan_interval * 1000ULL);
}

/* --- signals and shutdown --- */

static void
on_killer(uv_timer_t *t)
{
	struct sup *s = t->data;

	for (int i = 0; i < s->nw; i++)
		if (s->w[i].pid > 0) {
			log_warnx(&s->log, "worker %d did not stop; killing it",
			    i);
			kill(s->w[i].pid, SIGKILL);
		}
}

static void
shutdown_all(struct sup *s)
{
	int alive = 0;

	if (s->stopping)
		return;
	s->stopping = true;
	log_info(&s->log, "stopping");
	uv_timer_stop(&s->scan);
	uv_timer_stop(&s->restart);
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].pid > 0) {
			kill(s->w[i].pid, SIGTERM);
			alive++;
		}
	if (alive == 0)
		uv_stop(s->loop);
	else
		uv_timer_start(&s->killer, on_killer, 10000, 0);
}

static void
on_reload(void *arg)
{
	struct sup *s = arg;

	log_info(&s->log, "SIGHUP: re-reading alloweddomains%s",
	    s->conf.tls_cert ? " and the certificate" : "");
	tls_check(s, true);
	tell_workers(s, MSG_RELOAD_CONF);
	peers_reload(s->peers);
	peers_log_stats(s->peers);
}

static void
on_stop(void *arg)
{
	shutdown_all(arg);
}

static void
on_reap(void *arg)
{
	reap(arg);
}

static const struct prog_signal_ops sup_signals = {
	.stop = on_stop, .reload = on_reload, .reap = on_reap
};

/*
 * One nfspamd per database: a second one would split the connections
 * with the first (SO_REUSEPORT) and take its control socket over.
 */
static int
instance_lock(struct sup *s)
{
	char path[PATH_MAX], err[1024], hint[512];

	if (mkdir(s->conf.common.db, 0750) == -1 && errno != EEXIST) {
		int saved = errno;

		log_warnx(&s->log, "--db %s: cannot create: %s (%s)",
		    s->conf.common.db, strerror(saved), owner_hint(saved,
		    s->conf.common.db, hint, sizeof(hint)));
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/nfspamd.pid", s->conf.common.db) >=
	    (int)sizeof(path)) {
		log_warnx(&s->log, "--db %s: path too long", s->conf.common.db);
		return -1;
	}
	if ((s->lock_fd = prog_lock(path, err, sizeof(err))) == -1) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * What the durable mode's journals hold and the database lacks (after a
 * crash of the system) is done again before any worker runs.
 */
static int
replay_journal(struct sup *s)
{
	struct jfile_replay r;
	char err[512];

	if (jfile_replay(s->store, s->conf.common.db, &r, err,
	    sizeof(err)) == -1) {
		log_warnx(&s->log, "journal replay: %s; move %s/%s aside to "
		    "start without it", err, s->conf.common.db, JFILE_NAME);
		return -1;
	}
	s->stats.replayed = r.records;
	if (r.records > 0)
		log_info(&s->log, "journal replayed commits=%u changes=%lu "
		    "regions=%u", r.records, r.ops, r.regions);
	if (r.foreign > 0)
		log_warnx(&s->log, "journal: %u regions of %s/%s were not this "
		    "database's (restored from elsewhere?), ignored",
		    r.foreign, s->conf.common.db, JFILE_NAME);
	return 0;
}

static int
nets_body(struct store_txn *t, void *arg)
{
	return greylist_nets_save(t, arg) == -1 ? -1 : 0;
}

/* What -N keys by, for nfspamlogd and nfspamdb to key the same way. */
static int
save_nets(struct sup *s)
{
	const struct grey_conf *gc = &s->conf.grey;
	char err[512];

	if (store_update(s->store, nets_body, (void *)gc, err,
	    sizeof(err)) != 0) {
		log_warnx(&s->log, "%s%s", err, store_shared(s->store) ?
		    "; SMTP is served meanwhile, and every scan tries again" :
		    "");
		return -1;
	}
	s->nets_saved = true;
	log_info(&s->log, "greylisting by network: IPv4 /%u, IPv6 /%u "
	    "(-N %u:%u)", gc->net4, gc->net6, gc->net4, gc->net6);
	return 0;
}

static int
sup_open(struct sup *s)
{
	const struct conf *c = &s->conf;
	struct store_opts o = { .create = true, .sync_ms = c->common.sync_ms,
	    .maxsize = c->common.db_max, .shared = c->common.store,
	    .passfile = c->common.store_passfile,
	    .os_ttl = c->grey.whiteexp };
	char err[512];

	if (instance_lock(s) == -1)
		return -1;
	if (!c->blackonly &&
	    store_open(&s->store, c->common.db, &o, err, sizeof(err)) != 0) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	if (s->store != NULL && !store_shared(s->store) &&
	    replay_journal(s) == -1)
		return -1;
	/*
	 * A shared store that cannot be reached now (or is a replica) is
	 * not the end: SMTP is served, and the scans try again.
	 */
	if (s->store != NULL && save_nets(s) == -1 &&
	    !store_shared(s->store))
		return -1;
	if ((s->bl = bl_new()) == NULL)
		return -1;
	if (bl_load(s->bl, c->lists, err, sizeof(err)) != 0)
		log_warnx(&s->log, "starting without saved blacklists: %s",
		    err);
	else if (bl_count(s->bl) > 0)
		log_info(&s->log, "blacklists=%zu prefixes=%zu from %s",
		    bl_count(s->bl), bl_prefixes(s->bl), c->lists);
	s->fw = fw_open(c->firewall, s->helper_fd, &c->grey, &s->log, err,
	    sizeof(err));
	s->helper_fd = -1;	/* fw owns it now */
	if (s->fw == NULL) {
		log_warnx(&s->log, "%s%s", err, strcmp(c->firewall, "nft") == 0 ?
		    "; or run nfspamd with --firewall none, which keeps the "
		    "whitelist in the database only" : "");
		return -1;
	}
	if (s->store != NULL && store_shared(s->store) &&
	    follow_open(&s->follow, s->loop, c->common.store,
	    c->common.store_passfile, s->fw, &s->log, err,
	    sizeof(err)) == -1) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	if (peers_open(&s->peers, s->loop, c, s->store, s->fw, &s->log,
	    rescan_now, s, err, sizeof(err)) == -1) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	return control_open(s);
}

/*
 * Started as root on the --user's database directory: files there that
 * a root run of something else left root's go back to that user, who
 * could not open them after the drop.
 */
static void
give_back(struct sup *s)
{
	static const char *const names[] = { "data.mdb", "lock.mdb",
	    "nft.gen", "nfspamd.pid", "blacklists" };
	struct stat sb;

	if (geteuid() != 0 || !s->user.found ||
	    stat(s->conf.common.db, &sb) == -1 || sb.st_uid != s->user.uid)
		return;
	priv_give_back(s->conf.common.db, names, sizeof(names) /
	    sizeof(names[0]), &s->user, &s->log);
}

/*
 * --os-fingerprints, read once here so that a bad file stops the start
 * with its line named; the workers read them again.
 */
static int
osf_open(struct sup *s)
{
	return prog_osfiles_load(&s->conf.os, &s->osf, &s->log);
}

/*
 * Still privileged: the fingerprints into the kernel, for the ruleset's
 * "osf" (the tarpit block of nfspamd.nft).  Failing is no reason to
 * stop: our own fingerprinting works without.
 */
static int
osf_kernel(void *arg)
{
	struct sup *s = arg;
	size_t sent, skipped;
	char err[512];

	if (s->osf.n == 0 || strcmp(s->conf.firewall, "nft") != 0)
		return 0;
	if (osf_kernel_load(&s->osf, &sent, &skipped, err,
	    sizeof(err)) == -1)
		log_warnx(&s->log, "OS fingerprints not loaded into the "
		    "kernel, so the ruleset's osf matches nothing: %s", err);
	else
		log_info(&s->log, "os fingerprints loaded into the kernel: "
		    "%zu (%zu it cannot take)", sent, skipped);
	return 0;
}

/*
 * Fork the netlink helper before anything else is open, then drop every
 * privilege here: from now on only the helper can touch the kernel sets.
 */
static int
privsep(struct sup *s)
{
	s->helper_fd = -1;
	priv_lookup(s->conf.common.user, &s->user);
	give_back(s);
	return nfthelper_split(&s->user, &s->log, s->conf.common.db,
	    strcmp(s->conf.firewall, "nft") == 0, &s->helper_pid,
	    &s->helper_fd, osf_kernel, s);
}

/*
 * -C/-K must load as the user nfspamd runs as: the workers read them
 * after dropping privileges, and again on SIGHUP.  Said here, once,
 * before any worker starts.
 */
static int
tls_check(struct sup *s, bool reload)
{
	const struct conf *c = &s->conf;
	const char *files[2] = { c->tls_cert, c->tls_key };
	const char *flags[2] = { "-C", "-K" };
	struct tls_server *t;
	struct passwd *pw;
	char err[512];
	int fd, saved;

	if (c->tls_cert == NULL)
		return 0;
	for (int i = 0; i < 2; i++) {
		if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) != -1) {
			close(fd);
			continue;
		}
		saved = errno;
		pw = getpwuid(geteuid());
		log_warnx(&s->log, "%s %s: %s (as user %s%s)%s", flags[i],
		    files[i], strerror(saved), pw ? pw->pw_name : "?",
		    saved == EACCES ? ", which nfspamd runs as: make it "
		    "readable by that user, e.g. through the group ssl-cert" :
		    "", reload ? "; the certificate loaded before stays in "
		    "use" : "");
		return -1;
	}
	if (tls_server_new(&t, c->tls_cert, c->tls_key, err,
	    sizeof(err)) == -1) {
		log_warnx(&s->log, "%s%s", err, reload ? "; the certificate "
		    "loaded before stays in use" : "");
		return -1;
	}
	tls_server_free(t);
	if (reload)
		log_info(&s->log, "STARTTLS certificate re-read from %s",
		    c->tls_cert);
	return 0;
}

/*
 * The page the workers share with the supervisor: their fsync clocks
 * and their counters.  Made once and kept open here, so a restarted
 * worker finds the others' state and goes on with its counters;
 * ftruncate zeroes it.  Without it each worker syncs on its own and
 * the metrics lack the workers' counters.
 */
static void
share_create(struct sup *s)
{
	void *p = MAP_FAILED;

	if ((s->syncfd = memfd_create("nfspamd-share", MFD_CLOEXEC)) == -1 ||
	    ftruncate(s->syncfd, sizeof(struct share)) == -1 ||
	    (p = mmap(NULL, sizeof(struct share), PROT_READ | PROT_WRITE,
	    MAP_SHARED, s->syncfd, 0)) == MAP_FAILED) {
		log_warn(&s->log, "the page shared with the workers; each "
		    "syncs on its own, and the metrics lack their counters");
		if (s->syncfd != -1)
			close(s->syncfd);
		s->syncfd = -1;
		return;
	}
	s->share = p;
}

/* --metrics, --metrics-file: -1 (logged) if the listener cannot be. */
static int
metrics_open(struct sup *s)
{
	char err[512];

	if (mexport_open(&s->mx, s->loop, s->conf.metrics,
	    s->conf.metrics_file, 0, expose_render, s, &s->log, err,
	    sizeof(err)) == -1) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	if (s->conf.metrics != NULL)
		log_info(&s->log, "metrics listening=%s", s->conf.metrics);
	return 0;
}

static int
supervise(struct sup *s)
{
	uv_loop_t loop;

	if (osf_open(s) == -1 || privsep(s) == -1 ||
	    tls_check(s, false) == -1 || rep_check(&s->conf, &s->log) == -1) {
		osf_db_free(&s->osf);
		return 1;
	}
	uv_loop_init(&loop);
	s->loop = &loop;
	s->started = (int64_t)time(NULL);
	s->nw = s->conf.workers;
	uv_timer_init(&loop, &s->scan);
	uv_timer_init(&loop, &s->restart);
	uv_timer_init(&loop, &s->killer);
	s->scan.data = s->restart.data = s->killer.data = s;
	prog_signals_start(&loop, &s->sig, &sup_signals, s);

	if (sup_open(s) == -1) {
		s->status = 1;
		goto out;
	}
	share_create(s);
	if (metrics_open(s) == -1) {
		s->status = 1;
		goto out;
	}
	for (int i = 0; i < s->nw; i++)
		if (spawn(s, i) == -1) {
			s->status = 1;
			shutdown_all(s);
			break;
		}
	if (!s->stopping) {
		log_info(&s->log, "listening port=%u addresses=%zu workers=%d "
		    "maxcon=%ld firewall=%s%s%s%s", s->conf.port,
		    s->conf.nlisten, s->nw, s->conf.maxcon, s->conf.firewall,
		    s->conf.blackonly ? " mode=blacklist-only" : "",
		    s->conf.tls_cert ? " starttls=on" : "",
		    s->conf.nproxy_from > 0 ? " proxy=on" : "");
		if (s->store != NULL)
			uv_timer_start(&s->scan, on_scan, 0,
			    s->conf.scan_interval * 1000ULL);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
out:
	if (s->peers != NULL) {
		peers_log_stats(s->peers);
		peers_close(s->peers);
		s->peers = NULL;
	}
	if (s->follow != NULL) {
		follow_close(s->follow);
		s->follow = NULL;
	}
	if (s->have_control)
		unlink(s->conf.control);
	if (s->lock_fd != -1)
		close(s->lock_fd);
	if (s->syncfd != -1)
		close(s->syncfd);
	/* After the workers: the file gets their last counts. */
	mexport_close(s->mx);
	s->mx = NULL;
	prog_loop_close(&loop);
	if (s->share != NULL)
		munmap(s->share, sizeof(struct share));
	s->share = NULL;
	fw_close(s->fw);
	bl_free(s->bl);
	store_close(s->store);
	osf_db_free(&s->osf);
	return s->status;
}

/*
 * A re-executed worker: its first message, sent before it was started,
 * says which worker it is and which descriptors are its sockets.
 */
static int
worker_settings(struct sup *s, struct worker_args *a)
{
	uint8_t buf[MSG_MAXSIZE];
	const struct msg_settings *m = &s->msg.u.settings;
	const char *why = "the supervisor is gone";
	ssize_t n;

	while ((n = recv(a->ctl, buf, sizeof(buf), 0)) == -1 && errno == EINTR)
		;
	if (n <= 0 || msg_decode(buf, (size_t)n, &s->msg, &why) == -1 ||
	    (s->msg.type != MSG_SETTINGS && (why = "not settings")) ||
	    (m->nfds > NFSPAMD_MAXFDS && (why = "too many sockets"))) {
		log_warnx(&s->log, "worker: no settings: %s", why);
		return -1;
	}
	a->id = (int)m->id;
	a->maxcon = (long)m->maxcon;
	a->maxblack = (long)m->maxblack;
	a->started = m->started;
	a->syncfd = m->syncfd;
	a->nfds = m->nfds;
	for (uint32_t i = 0; i < m->nfds; i++)
		a->fds[i] = m->fds[i];
	return 0;
}

int
main(int argc, char **argv)
{
	struct sup *s;
	struct workeropt wo = { 0 };
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		errx(1, "out of memory");
	s->lock_fd = -1;
	s->syncfd = -1;
	s->argc = argc;
	s->argv = argv;
	parse_args(argc, argv, &s->conf, &wo);
	log_init(&s->log, "nfspamd", s->conf.debug, s->conf.verbose ?
	    LOG_DEBUG : LOG_INFO);
	if (wo.is_worker) {
		struct worker_args a = { .conf = &s->conf, .log = &s->log,
		    .ctl = wo.ctl };

		rc = worker_settings(s, &a) == -1 ? 1 : worker_main(&a);
	} else
		rc = supervise(s);
	log_close(&s->log);
	free(s);
	return rc;
}
