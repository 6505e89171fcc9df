/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * sup: the nfspamd supervisor's state, shared by its files: nfspamd.c
 * (workers, scan, signals, start-up), args.c (the command line) and
 * control.c (the control socket for blacklists).
 */
#ifndef NFSPAMD_SUP_H
#define NFSPAMD_SUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "greylist.h"
#include "msg.h"
#include "nfspamd.h"
#include "osf.h"
#include "mexport.h"
#include "priv.h"
#include "prog.h"
#include "stats.h"

#define MAXWORKERS	NFSPAMD_MAXWORKERS

struct wproc {
	pid_t		 pid;
	int		 ctl;
	uv_poll_t	 poll;
	bool		 polling;
	int64_t		 started;
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
	struct follow	*follow;	/* a shared store's events; NULL */
	struct wproc	 w[MAXWORKERS];
	int		 nw;
	struct priv_user user;
	pid_t		 helper_pid;
	int		 lock_fd;	/* <db>/nfspamd.pid, locked */
	int		 syncfd;	/* struct share, or -1 */
	struct share	*share;		/* mapped here too; NULL without */
	struct mexport	*mx;		/* --metrics, --metrics-file */
	struct supstats {
		uint64_t control_requests;	/* lists received */
		uint64_t control_errors;	/* refused or failed */
		uint64_t scans, scan_errors;
		uint64_t scan_deleted, scan_promoted, scan_demoted;
		uint64_t scan_bogus, scan_rekeyed;
		double	 scan_seconds, last_scan_seconds;
		uint64_t white_reports, trap_reports; /* from workers */
		uint64_t worker_restarts;
		uint64_t replayed;		/* journal commits, at start */
	}		 stats;
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
	bool		 nets_saved;	/* -N is in the store */
	int		 status;
	struct msg	 msg;		/* the one being read from a worker */
	struct osf_db	 osf;		/* checked at start, for the kernel */
};

/* What a re-executed worker learns from --worker. */
struct workeropt {
	bool	 is_worker;
	int	 ctl;		/* where its MSG_SETTINGS waits */
};

/* args.c: the flags into *c, or exit 1 (0 for --help, --version). */
void	parse_args(int argc, char **argv, struct conf *c,
	    struct workeropt *wo);

/* control.c: listen on --control; -1 (logged) if that cannot be done. */
int	control_open(struct sup *);

/* nfspamd.c: a message without payload to every running worker. */
void	tell_workers(struct sup *, enum msg_type);

/* expose.c: every metric of the daemon, in Prometheus' format. */
int	expose_render(void *sup, struct buf *);

#endif
