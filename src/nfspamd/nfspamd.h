/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd: what the supervisor and the SMTP workers share.
 */
#ifndef NFSPAMD_H
#define NFSPAMD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include "addr.h"
#include "domains.h"
#include "grey.h"
#include "log.h"
#include "prog.h"
#include "smtp.h"

#define NFSPAMD_PORT		8025
#define NFSPAMD_MAXCON		800
#define NFSPAMD_MAXLISTEN	16
/* Listening sockets: -p and --os-tarpit-port on each -l address. */
#define NFSPAMD_MAXFDS		(2 * NFSPAMD_MAXLISTEN)
#define NFSPAMD_CONF_DIR	"/etc/nfspamd"	/* fixed, whatever the prefix */
#define NFSPAMD_CONTROL		"/run/nfspamd/control.sock"
#define NFSPAMD_IDLE		400	/* spamd's MAXTIME */
#define NFSPAMD_PER_WORKER	16000	/* descriptors a worker may use */
#define NFSPAMD_TLS_HANDSHAKES	256	/* in progress at once, in all */
#define NFSPAMD_TLS_TIMEOUT	30	/* seconds for a handshake */
#define NFSPAMD_CATCHUP_RATE	200000	/* entries a second, served */
#define NFSPAMD_OS_PORT		8027	/* --os-tarpit-port */
#define NFSPAMD_OS_LIST		"osf"	/* the OS tarpit's list name */
#define NFSPAMD_OS_MSG		"Your operating system does not send mail " \
				"directly"
#define NFSPAMD_MAXPROXY	32	/* --proxy-from networks */
#define NFSPAMD_PROXY_TIMEOUT	10	/* seconds for a PROXY header */

/* Everything the command line says; read-only after parsing. */
struct conf {
	struct prog_common common;	/* --db, --user, --db-sync-ms, ... */
	const char	*control;
	const char	*domains;	/* alloweddomains file */
	const char	*lists;		/* saved blacklists */
	const char	*firewall;
	const char	*hostname;
	const char	*name;
	char		 hostbuf[256];
	char		 listsbuf[PATH_MAX];	/* <db>/blacklists */
	struct addr	 listen[NFSPAMD_MAXLISTEN];
	size_t		 nlisten;
	bool		 listen_default;	/* no -l: 0.0.0.0 and :: */
	uint16_t	 port;
	struct grey_conf grey;
	int		 code;		/* 450 (-4) or 550 (-5) */
	bool		 blackonly;	/* -b */
	bool		 debug;		/* -d: foreground, stderr */
	bool		 verbose;	/* -v */
	long		 maxcon;	/* -c, all workers together */
	long		 maxblack;	/* -B */
	unsigned	 stutter;	/* -s seconds per byte */
	unsigned	 greystutter;	/* -S seconds */
	int		 window;	/* -w SO_RCVBUF at DATA; 0: off */
	bool		 lowprio_set;
	struct addr	 lowprio;	/* -M */
	int		 workers;	/* -j */
	unsigned	 scan_interval;	/* seconds */
	unsigned	 idle;		/* seconds */
	unsigned	 mx_grace;	/* seconds after start before -M traps */
	size_t		 max_list_bytes;/* control socket input cap */
	int		 backlog;
	const char	*sync_targets[16];	/* -Y */
	size_t		 nsync_targets;
	const char	*sync_listen;		/* -y */
	const char	*sync_key;		/* -k */
	uint16_t	 sync_port;		/* --sync-port */
	uint32_t	 sync_replay;		/* --sync-replay-window, s */
	uint16_t	 catchup_port;		/* --catchup-port; 0: off */
	const char	*catchup_peers[16];	/* -Y's and --catchup-peer */
	size_t		 ncatchup_peers;
	uint32_t	 catchup_rate;		/* entries/s served; 0: any */
	unsigned	 catchup_interval;	/* s between fetches on gaps */
	const char	*tls_cert;		/* -C */
	const char	*tls_key;		/* -K */
	long		 tls_handshakes;	/* --tls-handshakes, all
						   workers together */
	unsigned	 tls_timeout;		/* --tls-timeout, s */
	const char	*metrics;		/* --metrics address:port */
	const char	*metrics_file;		/* --metrics-file */
	const char	*dnsrep;		/* --dnsrep file */
	const char	*resolvers[16];		/* --resolver */
	size_t		 nresolvers;
	struct prog_osfiles os;			/* --os-fingerprints */
	uint16_t	 os_port;		/* --os-tarpit-port; 0: off */
	const char	*os_msg;		/* --os-tarpit-message */
	struct prefix	 proxy_from[NFSPAMD_MAXPROXY];	/* --proxy-from */
	size_t		 nproxy_from;
};

/*
 * Supervisor <-> worker messages: src/lib/msg.h, one SEQPACKET datagram
 * each.  A worker is started with --worker=CTL and reads its
 * MSG_SETTINGS (id, share of -c and -B, listening sockets) there first.
 */

/*
 * What the workers' fsync threads share (writer.c), on a page the
 * supervisor makes once and hands to every worker it starts: syncpace's
 * view of the fsyncs of the database and of the journal file,
 * CLOCK_MONOTONIC nanoseconds.
 */
struct syncclock {
	_Atomic uint64_t	 started;	/* latest fsync begun */
	_Atomic uint64_t	 covered;	/* start of the latest done */
};

struct syncshare {
	struct syncclock	 db;
	struct syncclock	 journal;
};

struct worker_args {
	const struct conf	*conf;
	struct logger		*log;
	int			 id;
	int			 fds[NFSPAMD_MAXFDS];
	size_t			 nfds;
	int			 ctl;		/* socketpair end */
	long			 maxcon;	/* this worker's share */
	long			 maxblack;
	int64_t			 started;	/* daemon start (for -M) */
	int			 syncfd;	/* shared sync state; -1 */
};

int	worker_main(const struct worker_args *);

#endif
