/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * logd: what nfspamlogd's files share: its settings, its counters and
 * its state (nfspamlogd.c: flags, privileges, bursts into the database
 * and the sets, the loop; nflog.c: the NFLOG group; expose.c: the
 * counters in Prometheus' format).
 */
#ifndef NFSPAMLOGD_LOGD_H
#define NFSPAMLOGD_LOGD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "buf.h"
#include "grey.h"
#include "log.h"
#include "logev.h"
#include "mexport.h"
#include "nftset.h"
#include "osf.h"
#include "priv.h"
#include "prog.h"
#include "store.h"
#include "syncsend.h"

#define LOGD_GROUP		25
#define LOGD_BURST		8192	/* distinct addresses per burst */
#define LOGD_READS		256	/* reads before yielding to the loop */
#define LOGD_RBUF		(256 * 1024)
#define LOGD_NLBUFSIZ		65536	/* kernel side batch of messages */
#define LOGD_QTHRESH		256
#define LOGD_QTIMEOUT		2	/* hundredths of a second */
#define LOGD_WARN_EVERY		10	/* seconds between repeated warnings */

/* Histogram buckets (upper bounds): a burst's latency, in seconds. */
#define LOGD_BURST_BOUNDS \
	{ 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, \
	  0.05, 0.1, 0.25, 1 }
#define LOGD_NBURST		12

struct conf {
	unsigned	 group;
	int64_t		 whiteexp;
	struct grey_awl	 awl;		/* --auto-white; count 0: off */
	bool		 inbound_only;
	bool		 debug;
	bool		 verbose;
	struct prog_common common;	/* --db, --user, --db-sync-ms, ... */
	unsigned	 stats_interval;
	size_t		 rcvbuf;
	const char	*targets[SYNCSEND_MAXTARGETS];	/* -Y */
	size_t		 ntargets;
	const char	*keyfile;			/* -k */
	const char	*metrics;		/* --metrics address:port */
	const char	*metrics_file;		/* --metrics-file */
	struct prog_osfiles os;			/* --os-fingerprints */
};

struct counters {
	uint64_t	 events;	/* packets read from the group */
	uint64_t	 kind[LOGEV_NKINDS];
	uint64_t	 updates;	/* database entries written */
	uint64_t	 added;		/* of which new on the whitelist */
	uint64_t	 os_refreshed;	/* "os" entries written */
	uint64_t	 bursts;
	uint64_t	 lost;		/* sequence gaps: dropped by the kernel */
	uint64_t	 enobufs;	/* receive buffer overruns */
	uint64_t	 store_errors;
	uint64_t	 kernel_errors;
	uint64_t	 burst_ns;	/* time applying bursts, summed */
	uint64_t	 burst_hist[LOGD_NBURST + 1];	/* per bucket */
};

struct logd {
	struct conf		 conf;
	struct logger		 log;
	struct priv_user	 user;
	pid_t			 helper_pid;
	int			 helper_fd;
	struct mnl_socket	*nl;		/* the NFLOG group */
	int			 nfd;
	struct store		*store;
	struct syncsend		*sync;		/* NULL without -Y */
	uv_loop_t		*loop;
	uv_poll_t		 poll;
	uv_timer_t		 stats, flush;
	struct prog_signals	 sig;
	struct mexport		*mx;		/* --metrics, --metrics-file */
	int64_t			 started;	/* time of start */
	struct logev_burst	 burst;
	struct nftset_elem	*e4, *e6;	/* one burst's elements */
	bool			*isnew;		/* per burst entry */
	int64_t			*expire;	/* per burst entry, as written */
	struct grey_conf	 nets;		/* -N, as the database says */
	struct osf_db		 osf;		/* --os-fingerprints */
	uint8_t			*rbuf;
	struct counters		 c;
	uint32_t		 seq_next;
	bool			 seq_known;
	int64_t			 now;		/* of the burst being applied */
	time_t			 warned_enobufs, warned_kernel;
	bool			 stopping;
	int			 status;
};

/* nfspamlogd.c: write the burst to the database and the sets. */
void	apply(struct logd *);
/* nfspamlogd.c: stop the loop; status 0 keeps an earlier failure. */
void	stop(struct logd *, int status);

/* expose.c: the counters in Prometheus' format (mexport_render_fn). */
int	logd_metrics(void *arg, struct buf *);

/* nflog.c: bind the group (needs CAP_NET_ADMIN); -1 logged. */
int	nflog_setup(struct logd *);
/* nflog.c: the loop's callback for the group's socket. */
void	on_readable(uv_poll_t *, int status, int events);

#endif
