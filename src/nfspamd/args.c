/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * args: nfspamd's command line, spamd's flags and the long ones, into a
 * struct conf that stays read-only after this.
 */
#include "config.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catchup.h"
#include "resolver.h"
#include "store.h"
#include "sup.h"
#include "sync.h"
#include "util.h"

static const char usage_text[] =
"usage: nfspamd [-45bdVv] [-B maxblack] [-c maxcon] [-G passtime:greyexp:whiteexp]\n"
"               [-h hostname] [-j workers] [-l address] [-M address]\n"
"               [-N len4:len6] [-n name]\n"
"               [-p port] [-S secs] [-s secs] [-w window] [--db dir]\n"
"               [--control path] [--alloweddomains file] [--lists file]\n"
"               [--firewall nft|none] [--user user] [--scan-interval secs]\n"
"               [--idle-timeout secs]\n"
"               [--mx-grace secs] [--db-sync-ms ms] [--db-max-size MiB]\n"
"               [--max-list-bytes MiB] [--backlog n] [-k keyfile]\n"
"               [-Y target] [-y address|interface] [--sync-port port]\n"
"               [--sync-replay-window secs] [-C certfile -K keyfile]\n"
"               [--tls-handshakes n] [--tls-timeout secs]\n"
"               [--max-tuples-per-ip n] [--metrics address:port]\n"
"               [--metrics-file path] [--dnsrep file]\n"
"               [--resolver address[@port]] [--catchup-port port]\n"
"               [--catchup-peer host[:port]] [--catchup-rate n]\n"
"               [--catchup-interval secs] [--os-fingerprints file|none]\n"
"               [--os-tarpit-port port] [--os-tarpit-message text]\n"
"               [--proxy-from address[/prefix]]\n"
"       nfspamd --help | --version\n";

enum {
	OPT_CONTROL = 256, OPT_DOMAINS, OPT_LISTS, OPT_FIREWALL,
	OPT_SCAN, OPT_IDLE, OPT_GRACE, OPT_LISTMAX,
	OPT_BACKLOG, OPT_WORKER, OPT_SYNCPORT, OPT_SYNCREPLAY,
	OPT_TLSHS, OPT_TLSTIMEOUT, OPT_MAXTUPLES, OPT_METRICS,
	OPT_METRICSFILE, OPT_DNSREP, OPT_RESOLVER, OPT_CUPORT, OPT_CUPEER,
	OPT_CURATE, OPT_CUINTERVAL, OPT_OSFILE, OPT_OSPORT, OPT_OSMSG,
	OPT_PROXYFROM, OPT_HELP
};

static const struct option longopts[] = {
	PROG_LONGOPTS_DB,
	PROG_LONGOPTS_STORE,
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "alloweddomains", required_argument, NULL, OPT_DOMAINS },
	{ "lists", required_argument, NULL, OPT_LISTS },
	{ "firewall", required_argument, NULL, OPT_FIREWALL },
	{ "workers", required_argument, NULL, 'j' },
	{ "scan-interval", required_argument, NULL, OPT_SCAN },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "mx-grace", required_argument, NULL, OPT_GRACE },
	{ "max-list-bytes", required_argument, NULL, OPT_LISTMAX },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "worker", required_argument, NULL, OPT_WORKER },
	{ "sync-port", required_argument, NULL, OPT_SYNCPORT },
	{ "sync-replay-window", required_argument, NULL, OPT_SYNCREPLAY },
	{ "tls-handshakes", required_argument, NULL, OPT_TLSHS },
	{ "tls-timeout", required_argument, NULL, OPT_TLSTIMEOUT },
	{ "max-tuples-per-ip", required_argument, NULL, OPT_MAXTUPLES },
	{ "prefix-len", required_argument, NULL, 'N' },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-file", required_argument, NULL, OPT_METRICSFILE },
	{ "dnsrep", required_argument, NULL, OPT_DNSREP },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "catchup-port", required_argument, NULL, OPT_CUPORT },
	{ "catchup-peer", required_argument, NULL, OPT_CUPEER },
	{ "catchup-rate", required_argument, NULL, OPT_CURATE },
	{ "catchup-interval", required_argument, NULL, OPT_CUINTERVAL },
	{ "os-fingerprints", required_argument, NULL, OPT_OSFILE },
	{ "os-tarpit-port", required_argument, NULL, OPT_OSPORT },
	{ "os-tarpit-message", required_argument, NULL, OPT_OSMSG },
	{ "proxy-from", required_argument, NULL, OPT_PROXYFROM },
	{ "help", no_argument, NULL, OPT_HELP },
	PROG_LONGOPTS_END
};

/* --worker=CTL: internal, the supervisor's socket to a new worker. */
static void
parse_workeropt(const char *s, struct workeropt *wo)
{
	long v;

	if (util_parse_long(s, 3, INT_MAX, &v) == -1)
		errx(1, "--worker %s: internal option, not for people", s);
	wo->is_worker = true;
	wo->ctl = (int)v;
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

/* --proxy-from: a network whose connections begin with a PROXY header. */
static void
add_proxy(struct conf *c, const char *s)
{
	const char *why;

	if (c->nproxy_from == NFSPAMD_MAXPROXY)
		errx(1, "--proxy-from %s: at most %d networks", s,
		    NFSPAMD_MAXPROXY);
	if (prefix_parse(s, &c->proxy_from[c->nproxy_from], false,
	    &why) != 0)
		errx(1, "--proxy-from %s: %s", s, why);
	c->nproxy_from++;
}

static void
add_resolver(struct conf *c, const char *s)
{
	char err[256];

	if (c->nresolvers == sizeof(c->resolvers) / sizeof(c->resolvers[0]))
		errx(1, "--resolver %s: at most %zu resolvers", s,
		    sizeof(c->resolvers) / sizeof(c->resolvers[0]));
	if (resolver_check_fwd(s, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	c->resolvers[c->nresolvers++] = s;
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

void
parse_args(int argc, char **argv, struct conf *c, struct workeropt *wo)
{
	struct sync_target st;
	const char *why;
	long maxblack = -1;
	int ch;

	memset(c, 0, sizeof(*c));
	prog_common_init(&c->common);
	c->control = NFSPAMD_CONTROL;
	c->domains = NFSPAMD_CONF_DIR "/alloweddomains";
	c->firewall = "nft";
	c->name = "spamd IP-based SPAM blocker";
	c->port = NFSPAMD_PORT;
	c->code = 450;
	c->maxcon = NFSPAMD_MAXCON;
	c->stutter = 1;
	c->greystutter = 10;
	c->scan_interval = 60;
	c->idle = NFSPAMD_IDLE;
	c->mx_grace = 60;
	c->max_list_bytes = 256UL << 20;
	c->backlog = 16384;
	c->sync_key = SYNC_KEYFILE;
	c->sync_port = SYNC_PORT;
	c->catchup_port = CATCHUP_PORT;
	c->catchup_rate = NFSPAMD_CATCHUP_RATE;
	c->catchup_interval = 60;
	prog_osfiles_init(&c->os);
	c->os_port = NFSPAMD_OS_PORT;
	c->os_msg = NFSPAMD_OS_MSG;
	c->tls_handshakes = NFSPAMD_TLS_HANDSHAKES;
	c->tls_timeout = NFSPAMD_TLS_TIMEOUT;
	grey_conf_default(&c->grey);

	while ((ch = getopt_long(argc, argv,
	    "45B:bC:c:dG:h:j:K:k:l:M:N:n:p:S:s:Vvw:Y:y:", longopts,
	    NULL)) != -1) {
		if (prog_common_opt(&c->common, ch, optarg))
			continue;
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
		case 'N':
			if (grey_parse_nets(optarg, &c->grey, &why) != 0)
				errx(1, "-N %s: %s", optarg, why);
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
		case 'V': prog_version("nfspamd");
		case OPT_HELP: prog_usage(usage_text, 0);
		case 'w': c->window = (int)prog_number("-w", optarg, 1, INT_MAX);
			break;
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
		case OPT_LISTMAX: c->max_list_bytes = (size_t)prog_number(
			    "--max-list-bytes", optarg, 1, 1L << 20) << 20;
			break;
		case OPT_BACKLOG: c->backlog = (int)prog_number("--backlog",
			    optarg, 1, 1 << 20);
			break;
		case OPT_WORKER: parse_workeropt(optarg, wo); break;
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
		case OPT_METRICS: c->metrics = prog_metrics_listen(optarg);
			break;
		case OPT_METRICSFILE:
			c->metrics_file = prog_metrics_file(optarg);
			break;
		case OPT_MAXTUPLES: c->grey.maxtuples = (unsigned)prog_number(
			    "--max-tuples-per-ip", optarg, 0, 10000000);
			break;
		case OPT_DNSREP:
			if (*optarg == '\0')
				errx(1, "--dnsrep: empty file name");
			c->dnsrep = optarg;
			break;
		case OPT_RESOLVER: add_resolver(c, optarg); break;
		case OPT_CUPORT: c->catchup_port = (uint16_t)prog_number(
			    "--catchup-port", optarg, 0, 65535);
			break;
		case OPT_CUPEER:
			if (c->ncatchup_peers == 16)
				errx(1, "--catchup-peer %s: at most 16 peers",
				    optarg);
			if (sync_target_parse(optarg, &st, &why) == -1)
				errx(1, "--catchup-peer %s: %s", optarg, why);
			c->catchup_peers[c->ncatchup_peers++] = optarg;
			break;
		case OPT_CURATE: c->catchup_rate = (uint32_t)prog_number(
			    "--catchup-rate", optarg, 0, 100000000);
			break;
		case OPT_CUINTERVAL: c->catchup_interval = (unsigned)prog_number(
			    "--catchup-interval", optarg, 0, 86400);
			break;
		case OPT_OSFILE: prog_osfiles_add(&c->os, optarg); break;
		case OPT_OSPORT: c->os_port = (uint16_t)prog_number(
			    "--os-tarpit-port", optarg, 0, 65535);
			break;
		case OPT_OSMSG:
			if (*optarg == '\0' || strlen(optarg) > 400 ||
			    strpbrk(optarg, "\r\n") != NULL)
				errx(1, "--os-tarpit-message: one line of 1 to "
				    "400 characters");
			c->os_msg = optarg;
			break;
		case OPT_PROXYFROM: add_proxy(c, optarg); break;
		default: prog_usage(usage_text, 1);
		}
	}
	if (optind != argc)
		prog_usage(usage_text, 1);
	if (c->common.store != NULL && c->common.sync_ms == 0)
		errx(1, "--db-sync-ms 0: the journal is LMDB's; with --store "
		    "the server's persistence (appendonly, appendfsync) "
		    "makes commits durable");
	/* Every node reads the shared store: nothing to catch up on. */
	if (c->common.store != NULL)
		c->catchup_port = 0;
	/* With -b only blacklisted clients are redirected here. */
	if (c->dnsrep != NULL && c->blackonly)
		errx(1, "--dnsrep: not with -b, which greylists nobody");
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
	if (c->os_port != 0 && c->os_port == c->port)
		errx(1, "--os-tarpit-port %u: the same as -p; the tarpit "
		    "needs a port of its own (0 turns it off)", c->os_port);
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
		snprintf(c->listsbuf, sizeof(c->listsbuf), "%s/blacklists",
		    c->common.db);
		c->lists = c->listsbuf;
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
