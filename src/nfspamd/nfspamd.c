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
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "fw.h"
#include "greylist.h"
#include "nfspamd.h"
#include "nfthelper.h"
#include "owner.h"
#include "peers.h"
#include "sync.h"
#include "priv.h"
#include "prog.h"
#include "store.h"
#include "tls.h"
#include "util.h"

#define MAXWORKERS	64

struct wproc {
	pid_t		 pid;
	int		 ctl;
	uv_poll_t	 poll;
	bool		 polling;
	int64_t		 started;
};

struct control_conn {
	uv_pipe_t	 pipe;		/* first: handle <-> struct */
	struct sup	*sup;
	struct buf	 in;
	bool		 failed;
};

struct sup {
	struct conf	 conf;
	struct logger	 log;
	char		**argv;
	int		 argc;
	uv_loop_t	*loop;
	struct store	*store;
	struct bl	*bl;
	struct fw	*fw;
	struct peers	*peers;		/* sync; NULL without -Y/-y */
	struct wproc	 w[MAXWORKERS];
	int		 nw;
	struct priv_user user;
	pid_t		 helper_pid;
	int		 lock_fd;	/* <db>/nfspamd.pid, locked */
	int		 helper_fd;
	uv_pipe_t	 control;
	bool		 have_control;
	uv_timer_t	 scan;
	uv_timer_t	 restart;
	uv_timer_t	 killer;
	struct prog_signals sig;
	int64_t		 started;
	bool		 scanned_once;
	struct greylist_scan last_scan;	/* its counts only */
	bool		 stopping;
	int		 status;
};

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f,
"usage: nfspamd [-45bdVv] [-B maxblack] [-c maxcon] [-G passtime:greyexp:whiteexp]\n"
"               [-h hostname] [-j workers] [-l address] [-M address] [-n name]\n"
"               [-p port] [-S secs] [-s secs] [-w window] [--db dir]\n"
"               [--control path] [--alloweddomains file] [--lists file]\n"
"               [--firewall nft|none] [--user user] [--scan-interval secs]\n"
"               [--idle-timeout secs]\n"
"               [--mx-grace secs] [--db-sync-ms ms] [--db-max-size MiB]\n"
"               [--max-list-bytes MiB] [--backlog n] [-k keyfile]\n"
"               [-Y target] [-y address|interface] [--sync-port port]\n"
"               [--sync-replay-window secs] [-C certfile -K keyfile]\n"
"               [--tls-handshakes n] [--tls-timeout secs]\n"
"       nfspamd --help | --version\n");
	exit(status);
}

enum {
	OPT_DB = 256, OPT_CONTROL, OPT_DOMAINS, OPT_LISTS, OPT_FIREWALL,
	OPT_SCAN, OPT_IDLE, OPT_GRACE, OPT_SYNCMS, OPT_DBMAX, OPT_LISTMAX,
	OPT_BACKLOG, OPT_WORKER, OPT_USER, OPT_SYNCPORT, OPT_SYNCREPLAY,
	OPT_TLSHS, OPT_TLSTIMEOUT, OPT_HELP
};

static const struct option longopts[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "alloweddomains", required_argument, NULL, OPT_DOMAINS },
	{ "lists", required_argument, NULL, OPT_LISTS },
	{ "firewall", required_argument, NULL, OPT_FIREWALL },
	{ "workers", required_argument, NULL, 'j' },
	{ "scan-interval", required_argument, NULL, OPT_SCAN },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "mx-grace", required_argument, NULL, OPT_GRACE },
	{ "db-sync-ms", required_argument, NULL, OPT_SYNCMS },
	{ "db-max-size", required_argument, NULL, OPT_DBMAX },
	{ "max-list-bytes", required_argument, NULL, OPT_LISTMAX },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "worker", required_argument, NULL, OPT_WORKER },
	{ "user", required_argument, NULL, OPT_USER },
	{ "sync-port", required_argument, NULL, OPT_SYNCPORT },
	{ "sync-replay-window", required_argument, NULL, OPT_SYNCREPLAY },
	{ "tls-handshakes", required_argument, NULL, OPT_TLSHS },
	{ "tls-timeout", required_argument, NULL, OPT_TLSTIMEOUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* What a re-executed worker learns from --worker. */
struct workeropt {
	bool	 is_worker;
	int	 id, ctl;
	long	 maxcon, maxblack;
	int64_t	 started;
	int	 fds[NFSPAMD_MAXLISTEN];
	size_t	 nfds;
};

static void
parse_workeropt(const char *s, struct workeropt *wo)
{
	char *copy, *tok, *save = NULL;
	long long v[5];
	int i = 0;

	if ((copy = strdup(s)) == NULL)
		errx(1, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save), i++) {
		long long x = prog_number("--worker", tok, 0, LONG_MAX);

		if (i < 5)
			v[i] = x;
		else if (wo->nfds < NFSPAMD_MAXLISTEN)
			wo->fds[wo->nfds++] = (int)x;
	}
	free(copy);
	if (i < 6)
		errx(1, "--worker %s: internal option, not for people", s);
	wo->is_worker = true;
	wo->id = (int)v[0];
	wo->ctl = (int)v[1];
	wo->maxcon = (long)v[2];
	wo->maxblack = (long)v[3];
	wo->started = (int64_t)v[4];
}

static void
add_listen(struct conf *c, const char *s)
{
	if (c->nlisten == NFSPAMD_MAXLISTEN)
		errx(1, "-l %s: at most %d listen addresses", s,
		    NFSPAMD_MAXLISTEN);
	if (addr_parse(s, &c->listen[c->nlisten], NULL) != 0) {
		const char *why = NULL;

		addr_parse(s, &c->listen[c->nlisten], &why);
		errx(1, "-l %s: %s", s, why);
	}
	c->nlisten++;
}

/* A kernel booted with ipv6.disable=1 has no AF_INET6 at all. */
static bool
ipv6_available(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return errno != EAFNOSUPPORT;
	close(fd);
	return true;
}

static bool
loopback_only(const struct conf *c)
{
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct addr *a = &c->listen[i];
		bool lo = a->family == AF_INET ? a->bytes[0] == 127 :
		    memcmp(a->bytes, &in6addr_loopback, 16) == 0;

		if (!lo)
			return false;
	}
	return true;
}

static void
parse_args(int argc, char **argv, struct conf *c, struct workeropt *wo)
{
	static char listsbuf[PATH_MAX];
	struct sync_target st;
	const char *why;
	long maxblack = -1;
	int ch;

	memset(c, 0, sizeof(*c));
	c->db = STORE_DEFAULT_DIR;
	c->control = NFSPAMD_CONTROL;
	c->domains = NFSPAMD_CONF_DIR "/alloweddomains";
	c->firewall = "nft";
	c->user = "nfspamd";
	c->name = "spamd IP-based SPAM blocker";
	c->port = NFSPAMD_PORT;
	c->code = 450;
	c->maxcon = NFSPAMD_MAXCON;
	c->stutter = 1;
	c->greystutter = 10;
	c->scan_interval = 60;
	c->idle = NFSPAMD_IDLE;
	c->mx_grace = 60;
	c->sync_ms = STORE_SYNC_MS_DEFAULT;
	c->max_list_bytes = 256UL << 20;
	c->backlog = 16384;
	c->sync_key = SYNC_KEYFILE;
	c->sync_port = SYNC_PORT;
	c->tls_handshakes = NFSPAMD_TLS_HANDSHAKES;
	c->tls_timeout = NFSPAMD_TLS_TIMEOUT;
	grey_conf_default(&c->grey);

	while ((ch = getopt_long(argc, argv, "45B:bC:c:dG:h:j:K:k:l:M:n:p:S:s:Vvw:Y:y:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case '4': c->code = 450; break;
		case '5': c->code = 550; break;
		case 'B': maxblack = prog_number("-B", optarg, 0, 10000000); break;
		case 'b': c->blackonly = true; break;
		case 'C': c->tls_cert = optarg; break;
		case 'K': c->tls_key = optarg; break;
		case 'c': c->maxcon = prog_number("-c", optarg, 1, 10000000); break;
		case 'd': c->debug = true; break;
		case 'G':
			if (grey_parse_times(optarg, &c->grey, &why) != 0)
				errx(1, "-G %s: %s", optarg, why);
			break;
		case 'h':
			if (strlen(optarg) >= sizeof(c->hostbuf) ||
			    strpbrk(optarg, " \t\r\n") != NULL)
				errx(1, "-h %s: not a host name", optarg);
			c->hostname = optarg;
			break;
		case 'j':
			c->workers = (int)prog_number("-j", optarg, 1, MAXWORKERS);
			break;
		case 'l': add_listen(c, optarg); break;
		case 'M':
			if (addr_parse(optarg, &c->lowprio, &why) != 0)
				errx(1, "-M %s: %s", optarg, why);
			c->lowprio_set = true;
			break;
		case 'n':
			if (strpbrk(optarg, "\r\n") != NULL ||
			    strlen(optarg) > 200)
				errx(1, "-n: the banner must be one line of at most "
				    "200 characters");
			c->name = optarg;
			break;
		case 'p': c->port = (uint16_t)prog_number("-p", optarg, 1, 65535);
			break;
		case 'S': c->greystutter = (unsigned)prog_number("-S", optarg, 0,
			    90);
			break;
		case 's': c->stutter = (unsigned)prog_number("-s", optarg, 0, 10);
			break;
		case 'v': c->verbose = true; break;
		case 'V':
			printf("nfspamd %s\n", PACKAGE_VERSION);
			exit(0);
		case OPT_HELP: usage(stdout, 0);
		case 'w': c->window = (int)prog_number("-w", optarg, 1, INT_MAX);
			break;
		case OPT_DB: c->db = optarg; break;
		case OPT_CONTROL: c->control = optarg; break;
		case OPT_DOMAINS: c->domains = optarg; break;
		case OPT_LISTS: c->lists = optarg; break;
		case OPT_FIREWALL: c->firewall = optarg; break;
		case OPT_SCAN: c->scan_interval = (unsigned)prog_number(
			    "--scan-interval", optarg, 1, 86400);
			break;
		case OPT_IDLE: c->idle = (unsigned)prog_number("--idle-timeout",
			    optarg, 1, 86400);
			break;
		case OPT_GRACE: c->mx_grace = (unsigned)prog_number("--mx-grace",
			    optarg, 0, 86400);
			break;
		case OPT_SYNCMS: c->sync_ms = (unsigned)prog_number("--db-sync-ms",
			    optarg, 0, 60000);
			break;
		case OPT_DBMAX: c->db_max = (size_t)prog_number("--db-max-size",
			    optarg, 1, 1L << 30) << 20;
			break;
		case OPT_LISTMAX: c->max_list_bytes = (size_t)prog_number(
			    "--max-list-bytes", optarg, 1, 1L << 20) << 20;
			break;
		case OPT_BACKLOG: c->backlog = (int)prog_number("--backlog",
			    optarg, 1, 1 << 20);
			break;
		case OPT_WORKER: parse_workeropt(optarg, wo); break;
		case OPT_USER: c->user = optarg; break;
		case 'k': c->sync_key = optarg; break;
		case 'Y':
			if (c->nsync_targets == 16)
				errx(1, "-Y %s: at most 16 targets", optarg);
			if (sync_target_parse(optarg, &st, &why) == -1)
				errx(1, "-Y %s: %s", optarg, why);
			c->sync_targets[c->nsync_targets++] = optarg;
			break;
		case 'y':
			if (sync_target_parse(optarg, &st, &why) == -1 ||
			    st.has_num)
				errx(1, "-y %s: an address or an interface",
				    optarg);
			c->sync_listen = optarg;
			break;
		case OPT_SYNCPORT: c->sync_port = (uint16_t)prog_number(
			    "--sync-port", optarg, 1, 65535);
			break;
		case OPT_SYNCREPLAY: c->sync_replay = (uint32_t)prog_number(
			    "--sync-replay-window", optarg, 1, 86400);
			break;
		case OPT_TLSHS: c->tls_handshakes = prog_number("--tls-handshakes",
			    optarg, 1, 1000000);
			break;
		case OPT_TLSTIMEOUT: c->tls_timeout = (unsigned)prog_number(
			    "--tls-timeout", optarg, 1, 3600);
			break;
		default: usage(stderr, 1);
		}
	}
	if (optind != argc)
		usage(stderr, 1);
	/* spamd: "need key and certificate for TLS". */
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		errx(1, "%s without %s: STARTTLS needs both a certificate (-C) "
		    "and its key (-K)", c->tls_cert ? "-C" : "-K",
		    c->tls_cert ? "-K" : "-C");
	if (c->tls_cert != NULL && (*c->tls_cert == '\0' ||
	    *c->tls_key == '\0'))
		errx(1, "-C/-K: empty file name");
	/*
	 * The ruleset's redirect delivers to the address of the interface
	 * the mail came in on, so by default every address listens.
	 */
	if (c->nlisten == 0) {
		add_listen(c, "0.0.0.0");
		if (ipv6_available())
			add_listen(c, "::");
		c->listen_default = true;
	}
	if (strcmp(c->firewall, "nft") == 0 && loopback_only(c))
		errx(1, "-l: listening on loopback addresses only, but the "
		    "nfspamd ruleset redirects SMTP from other hosts to the "
		    "address it arrived at, so nobody could connect: leave "
		    "out -l (every address), or name the addresses mail "
		    "arrives at");
	if (c->hostname == NULL) {
		if (gethostname(c->hostbuf, sizeof(c->hostbuf) - 1) == -1)
			errx(1, "gethostname: %s", strerror(errno));
		c->hostname = c->hostbuf;
	}
	if (c->lists == NULL) {
		snprintf(listsbuf, sizeof(listsbuf), "%s/blacklists", c->db);
		c->lists = listsbuf;
	}
	/* spamd: -B defaults to maxcon-100; -b serves everyone black. */
	if (c->blackonly)
		c->maxblack = c->maxcon;
	else if (maxblack > c->maxcon)
		errx(1, "-B %ld: more than -c %ld", maxblack, c->maxcon);
	else if (maxblack >= 0 && maxblack < c->maxcon)
		c->maxblack = maxblack;
	else
		c->maxblack = c->maxcon > 100 ? c->maxcon - 100 : 0;
	if (c->workers == 0)
		c->workers = (int)((c->maxcon + NFSPAMD_PER_WORKER - 1) /
		    NFSPAMD_PER_WORKER);
	if (c->workers > MAXWORKERS)
		errx(1, "-c %ld needs more than %d workers", c->maxcon,
		    MAXWORKERS);
}

/* --- listening sockets --- */

/*
 * Bound and listening before any worker runs, so connections made as
 * soon as nfspamd says "listening" wait in the backlog, never refused.
 */
static int
listen_socket(const struct addr *a, uint16_t port, int backlog, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;
	char ip[ADDR_STRLEN];

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		len = sizeof(*sin6);
	}
	addr_format(a, ip, sizeof(ip));
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    (a->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one))) ||
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
 * --worker with what only this worker is told.
 */
static char **
worker_argv(struct sup *s, int id, int ctl, const int *fds, size_t nfds)
{
	const struct conf *c = &s->conf;
	char **av, opt[512], name[32];
	int n;

	n = snprintf(opt, sizeof(opt), "--worker=%d,%d,%ld,%ld,%lld", id, ctl,
	    (c->maxcon + c->workers - 1) / c->workers,
	    (c->maxblack + c->workers - 1) / c->workers,
	    (long long)s->started);
	for (size_t i = 0; i < nfds; i++)
		n += snprintf(opt + n, sizeof(opt) - (size_t)n, ",%d", fds[i]);
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
spawn(struct sup *s, int id)
{
	const struct conf *c = &s->conf;
	int fds[NFSPAMD_MAXLISTEN], sp[2] = { -1, -1 };
	char **av = NULL, err[256];
	size_t n = 0;
	pid_t pid;

	for (; n < c->nlisten; n++)
		if ((fds[n] = listen_socket(&c->listen[n], c->port, c->backlog, err,
		    sizeof(err))) == -1) {
			log_warnx(&s->log, "%s", err);
			goto fail;
		}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn(&s->log, "socketpair");
		goto fail;
	}
	if ((av = worker_argv(s, id, sp[1], fds, n)) == NULL) {
		log_warnx(&s->log, "out of memory");
		goto fail;
	}
	if ((pid = fork()) == -1) {
		log_warn(&s->log, "fork");
		goto fail;
	}
	if (pid == 0) {
		/* Hand over exactly these descriptors, then become a worker. */
		for (size_t i = 0; i < n; i++)
			fcntl(fds[i], F_SETFD, 0);
		fcntl(sp[1], F_SETFD, 0);
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

static void
tell_workers(struct sup *s, const char *msg)
{
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].pid > 0 && send(s->w[i].ctl, msg, strlen(msg),
		    MSG_DONTWAIT) == -1)
			log_warn(&s->log, "telling worker %d", i);
}

/* "G <addr>\n<helo>\n<from>\n<to>": a worker's tuple update, for -Y. */
static void
sync_grey(struct sup *s, char *msg)
{
	char *f[4], *nl;
	struct addr a;
	int i;

	f[0] = msg + 2;
	for (i = 1; i < 4; i++) {
		if ((nl = strchr(f[i - 1], '\n')) == NULL)
			break;
		*nl = '\0';
		f[i] = nl + 1;
	}
	if (i < 4 || strchr(f[3], '\n') != NULL ||
	    addr_parse(f[0], &a, NULL) != 0) {
		log_warnx(&s->log, "bad message from a worker: %.40s", msg);
		return;
	}
	peers_grey(s->peers, &a, f[1], f[2], f[3], (int64_t)time(NULL));
}

static void
on_worker_msg(uv_poll_t *h, int status, int events)
{
	struct sup *s = h->data;
	int fd;
	char msg[MSG_MAX + 1], kind, ip[ADDR_STRLEN];
	long long expire;
	struct addr a;
	ssize_t n;

	(void)events;
	if (status < 0 || uv_fileno((uv_handle_t *)h, &fd) != 0)
		return;
	while ((n = recv(fd, msg, MSG_MAX, MSG_DONTWAIT)) > 0) {
		int64_t now = (int64_t)time(NULL);

		msg[n] = '\0';
		if (msg[0] == 'G') {
			sync_grey(s, msg);
			continue;
		}
		if (sscanf(msg, "%c %45s %lld", &kind, ip, &expire) != 3 ||
		    addr_parse(ip, &a, NULL) != 0) {
			log_warnx(&s->log, "bad message from a worker: %.40s",
			    msg);
			continue;
		}
		if (kind == 'W')
			fw_white(s->fw, &a, expire, now);
		else if (kind == 'T') {
			fw_trap(s->fw, &a, expire, now);
			peers_trapped(s->peers, &a, expire, now);
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
			if (spawn(s, i) == 0)
				log_info(&s->log, "worker %d restarted", i);
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
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (greylist_scan_run(s->store, &s->conf.grey, now, blacklisted, s,
	    1000, &r, err, sizeof(err)) != 0) {
		log_warnx(&s->log, "scan: %s", err);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	news = greylist_scan_news(&r, s->scanned_once ? &s->last_scan : NULL);
	s->scanned_once = true;
	s->last_scan = (struct greylist_scan){ .nwhite = r.nwhite,
	    .ntrapped = r.ntrapped };
	log_msg(&s->log, news ? LOG_INFO : LOG_DEBUG, "scan entries=%zu "
	    "white=%zu trapped=%zu "
	    "deleted=%zu promoted=%zu demoted=%zu bogus=%zu ms=%lld",
	    r.scanned, r.nwhite, r.ntrapped, r.deleted, r.promoted, r.demoted,
	    r.bogus, (long long)((b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000));
	fw_sync(s->fw, &r, now);
	greylist_scan_free(&r);
}

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
control_apply(struct control_conn *cc)
{
	struct sup *s = cc->sup;
	struct buf out = { 0 };
	struct bl_list l;
	char *p = cc->in.data, *end = p + cc->in.len, *nl, err[512];
	size_t line = 0, ok = 0, bad = 0;

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
			tell_workers(s, "L");
	}
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

static int
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
on_signal(uv_signal_t *h, int signum)
{
	struct sup *s = h->data;

	switch (signum) {
	case SIGCHLD:
		reap(s);
		break;
	case SIGHUP:
		log_info(&s->log, "SIGHUP: re-reading alloweddomains%s",
		    s->conf.tls_cert ? " and the certificate" : "");
		tls_check(s, true);
		tell_workers(s, "H");
		peers_reload(s->peers);
		peers_log_stats(s->peers);
		break;
	default:
		shutdown_all(s);
		break;
	}
}

/*
 * One nfspamd per database: a second one would split the connections
 * with the first (SO_REUSEPORT) and take its control socket over.
 */
static int
instance_lock(struct sup *s)
{
	char path[PATH_MAX], err[1024], hint[512];

	if (mkdir(s->conf.db, 0750) == -1 && errno != EEXIST) {
		int saved = errno;

		log_warnx(&s->log, "--db %s: cannot create: %s (%s)",
		    s->conf.db, strerror(saved), owner_hint(saved,
		    s->conf.db, hint, sizeof(hint)));
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/nfspamd.pid", s->conf.db) >=
	    (int)sizeof(path)) {
		log_warnx(&s->log, "--db %s: path too long", s->conf.db);
		return -1;
	}
	if ((s->lock_fd = prog_lock(path, err, sizeof(err))) == -1) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	return 0;
}

static int
sup_open(struct sup *s)
{
	const struct conf *c = &s->conf;
	struct store_opts o = { .create = true, .sync_ms = c->sync_ms,
	    .maxsize = c->db_max };
	char err[512];

	if (instance_lock(s) == -1)
		return -1;
	if (!c->blackonly &&
	    store_open(&s->store, c->db, &o, err, sizeof(err)) != 0) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	if ((s->bl = bl_new()) == NULL)
		return -1;
	if (bl_load(s->bl, c->lists, err, sizeof(err)) != 0)
		log_warnx(&s->log, "starting without saved blacklists: %s",
		    err);
	else if (bl_count(s->bl) > 0)
		log_info(&s->log, "blacklists=%zu prefixes=%zu from %s",
		    bl_count(s->bl), bl_prefixes(s->bl), c->lists);
	s->fw = fw_open(c->firewall, s->helper_fd, &s->log, err, sizeof(err));
	s->helper_fd = -1;	/* fw owns it now */
	if (s->fw == NULL) {
		log_warnx(&s->log, "%s%s", err, strcmp(c->firewall, "nft") == 0 ?
		    "; or run nfspamd with --firewall none, which keeps the "
		    "whitelist in the database only" : "");
		return -1;
	}
	if (peers_open(&s->peers, s->loop, c, s->store, s->fw, &s->log, err,
	    sizeof(err)) == -1) {
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

	if (geteuid() != 0 || !s->user.found || stat(s->conf.db, &sb) == -1 ||
	    sb.st_uid != s->user.uid)
		return;
	priv_give_back(s->conf.db, names, sizeof(names) / sizeof(names[0]),
	    &s->user, &s->log);
}

/*
 * Fork the netlink helper before anything else is open, then drop every
 * privilege here: from now on only the helper can touch the kernel sets.
 */
static int
privsep(struct sup *s)
{
	char err[512];

	s->helper_fd = -1;
	priv_lookup(s->conf.user, &s->user);
	if (priv_check_user(&s->user, "--user", err, sizeof(err)) == -1) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	give_back(s);
	if (strcmp(s->conf.firewall, "nft") == 0 &&
	    (s->helper_pid = nfthelper_spawn(&s->user, &s->log, s->conf.db,
	    &s->helper_fd)) == -1)
		return -1;
	if (priv_drop_all(&s->user, err, sizeof(err)) == -1) {
		log_warnx(&s->log, "%s", err);
		return -1;
	}
	return 0;
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

static int
supervise(struct sup *s)
{
	uv_loop_t loop;

	if (privsep(s) == -1 || tls_check(s, false) == -1)
		return 1;
	uv_loop_init(&loop);
	s->loop = &loop;
	s->started = (int64_t)time(NULL);
	s->nw = s->conf.workers;
	uv_timer_init(&loop, &s->scan);
	uv_timer_init(&loop, &s->restart);
	uv_timer_init(&loop, &s->killer);
	s->scan.data = s->restart.data = s->killer.data = s;
	prog_signals_start(&loop, &s->sig, on_signal, s);

	if (sup_open(s) == -1) {
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
		    "maxcon=%ld firewall=%s%s%s", s->conf.port,
		    s->conf.nlisten, s->nw, s->conf.maxcon, s->conf.firewall,
		    s->conf.blackonly ? " mode=blacklist-only" : "",
		    s->conf.tls_cert ? " starttls=on" : "");
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
	if (s->have_control)
		unlink(s->conf.control);
	if (s->lock_fd != -1)
		close(s->lock_fd);
	prog_loop_close(&loop);
	fw_close(s->fw);
	bl_free(s->bl);
	store_close(s->store);
	return s->status;
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
	s->argc = argc;
	s->argv = argv;
	parse_args(argc, argv, &s->conf, &wo);
	log_init(&s->log, "nfspamd", s->conf.debug, s->conf.verbose ?
	    LOG_DEBUG : LOG_INFO);
	if (wo.is_worker) {
		struct worker_args a = {
			.conf = &s->conf, .log = &s->log, .id = wo.id,
			.nfds = wo.nfds, .ctl = wo.ctl, .maxcon = wo.maxcon,
			.maxblack = wo.maxblack, .started = wo.started,
		};

		memcpy(a.fds, wo.fds, sizeof(a.fds));
		rc = worker_main(&a);
	} else
		rc = supervise(s);
	log_close(&s->log);
	free(s);
	return rc;
}
