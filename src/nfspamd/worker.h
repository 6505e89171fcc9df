/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * The SMTP worker's insides, shared by its files: worker.c (start,
 * accept and classify, close, housekeeping), conn.c (connection I/O),
 * session.c (the dialogue's state machine) and commit.c (tuples to the
 * store in one transaction per loop iteration).
 */
#ifndef NFS_WORKER_H
#define NFS_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "bl.h"
#include "conn.h"
#include "greylist.h"
#include "journal.h"
#include "msg.h"
#include "nfspamd.h"
#include "osf.h"
#include "stats.h"
#include "store.h"
#include "tls.h"
#include "wheel.h"

#define TICK_MS		10	/* the wheel's 1024 slots: 10.24 s; -s <= 10 */
#define READ_MAX	SMTP_LINEMAX

/* A tuple waiting for the next group commit. */
struct pending {
	struct pending		*next;
	struct conn		*conn;		/* whose replies wait for it */
	struct greylist_rcpt	 rcpt;
	struct greylist_result	 res;
	char			*strings;	/* helo, from, to */
	const char		*tlsver;	/* "TLSv1.3", or NULL */
	const struct osf_fp	*os;		/* the client's, or NULL */
};

/*
 * The store's writes (writer.c): a commit at the end of each loop
 * iteration on the loop, and the fsyncs on a thread of their own, which
 * touches only the store and the fields under mu.
 */
struct writer {
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	bool			 wanted_store;	/* mu: a database fsync */
	bool			 wanted_journal; /* mu: a journal fsync */
	bool			 stop;		/* mu: the thread ends */
	uint64_t		 want_store;	/* mu: commit to cover */
	uint64_t		 want_journal;	/* mu: commit to cover */
	struct jfile		*jf[2];		/* --db-sync-ms 0 */
	int			 jcur;		/* mu: the one appended to */
	bool			 journal;	/* jf are open */
	bool			 store_synced;	/* thread: the last database
						   sync succeeded */
	struct journal_buf	 jb;		/* loop: the commit's record */
	time_t			 warned;	/* loop: journal trouble */
	uint64_t		 txnid;		/* loop: its transaction */
	_Atomic uint64_t	 syncs;		/* fsyncs done */
	_Atomic uint64_t	 syncs_spared;	/* covered by one already begun */
	struct syncshare	*share;		/* database fsyncs: mapped, or
						   &own */
	struct syncshare	 own;		/* without the shared page */
	uint64_t		 last_commit;	/* loop: when it completed */
	bool			 running;	/* the thread was started */
	bool			 dirty;		/* committed since the last ask */
	uv_timer_t		 sync_timer;	/* database syncs */
	uv_idle_t		 again;		/* more tuples were queued */
	struct pending		*batch;		/* being committed */
	int64_t			 batch_now;
	char			 batch_err[640];
	/*
	 * A shared store: the batch commits on the thread (its round
	 * trips never hold the loop), which tells the loop through done.
	 */
	uv_async_t		 done;
	bool			 go;		/* mu: a batch for the thread */
	int			 rc;		/* mu: its commit's result */
	bool			 busy;		/* loop: a batch is at the thread */
	bool			 down;		/* loop: the last commit failed */
	time_t			 down_since;
	/* Connections waiting for their standing (writer_lookup). */
	struct lookup		*lq, **lq_tail;	/* loop: not yet sent */
	struct lookup		*lgo;		/* mu: at the thread */
	struct lookup		*ldone;		/* mu: answered */
	bool			 lbusy;		/* loop: lookups at the thread */
	time_t			 lwarned;	/* loop: a failed lookup */
};

/*
 * A new connection's standing in a shared store, looked up on the
 * commit thread (what it does with LMDB on the loop, db_class): many
 * in one round trip.  The greeting waits for it.
 */
struct lookup {
	struct lookup		*next;
	struct conn		*conn;
	struct addr		 addr;		/* the client's */
	int			 fd;
	bool			 osport;
	bool			 have_to;
	struct addr		 to;		/* from a PROXY header */
	int			 rc;		/* thread: 2 trapped, 3 WHITE,
						   0 neither, -1 error */
	int64_t			 pass;		/* thread: WHITE's pass time */
	char			 err[160];	/* thread: rc -1 */
};

struct worker {
	struct msg		 msg;		/* the one being read */
	const struct worker_args *a;
	const struct conf	*conf;
	struct logger		*log;
	uv_loop_t		*loop;
	uv_tcp_t		 listeners[NFSPAMD_MAXFDS];
	bool			 osport[NFSPAMD_MAXFDS]; /* the OS tarpit's */
	size_t			 nlisteners;
	struct osf_db		 osf;		/* empty: fingerprinting off */
	uv_poll_t		 ctl;
	uv_timer_t		 wheel_timer;
	uv_timer_t		 house;
	uv_check_t		 commit;
	struct prog_signals	 sig;
	struct wheel		 wheel;		/* stutter */
	struct conn		*conns;
	long			 nconns;
	long			 nblack;
	long			 refused;
	struct store		*store;
	bool			 shared;	/* store is Valkey/Redis */
	bool			 reload_domains;	/* at the commit's end */
	struct bl		*bl;
	struct domains		 domains;
	struct timespec		 domains_mtime;
	struct pending		*pending, **pending_tail;
	struct writer		 wr;
	struct wstats		*st;		/* this worker's counters: on
						   the shared page, or &own_st */
	struct wstats		 own_st;
	uint64_t		 tuples_lost;	/* store errors, map full */
	uint64_t		 tuples_capped;	/* per-address limit */
	time_t			 warned_lost, warned_capped;
	int64_t			 warned_white;	/* white_diverted */
	struct smtp_conf	 smtp;
	struct tls_server	*tls;		/* -C/-K; NULL without */
	long			 handshakes;	/* in progress */
	long			 maxhandshakes;	/* this worker's share */
	char			 rbuf[READ_MAX];
	bool			 stopping;
	struct rep		*rep;		/* --dnsrep; NULL without */
};

/* worker.c */
int64_t	wall_now(void);
/* Close c: logged, unlinked, its memory freed by the loop.  Idempotent. */
void	conn_close(struct conn *);
/* c->blackreply for a blacklisted or trapped c.  -1: out of memory. */
int	worker_blackreply(struct conn *);
/* A classified c: counted, its banner out, the dialogue begun; may close. */
void	worker_greet(struct conn *);
/* A blacklisted client counted under the list tag. */
void	worker_count_list(struct worker *, const char *tag);
/* " os=\"Windows XP\"" for c's log lines; "" when not fingerprinting. */
const char *worker_os_field(const struct worker *, const struct osf_fp *,
	    char *, size_t);
/* CONN_PROXY: bytes to read next, never 0. */
unsigned	worker_proxy_room(const struct conn *);
/* CONN_PROXY: libuv's read callback; may greet or close c. */
void	worker_proxy_read(struct conn *, ssize_t, const uv_buf_t *);

/* session.c */
/*
 * Move c along: send pending output (now, or from the wheel when
 * stuttering: due says the wheel called), finish the dialogue, or read.
 */
void	session_drive(struct conn *, bool due);
/* libuv's read callback for connections. */
void	session_read(uv_stream_t *, ssize_t, const uv_buf_t *);
/* The wheel timer: drives every connection whose time has come. */
void	session_tick(uv_timer_t *);

/* commit.c */
/* The log line of a tuple: "event ip=... helo=... from=... to=...extra". */
void	log_fields(struct logger *, int prio, const char *event,
	    const char *ip, const char *helo, const char *from, const char *to,
	    const char *extra);
/*
 * Queue a tuple for the next group commit; lost (logged) without memory.
 * c's replies wait until it is committed.
 */
void	commit_queue(struct conn *, const struct smtp_event *);
/* The batch's transaction (store_fn). */
int	commit_body(struct store_txn *, void *worker);
/* Back on the loop: log and report a committed batch, or its loss. */
void	commit_done(struct worker *, struct pending *, int rc,
	    const char *err, int64_t now);
/* The check handle's callback: commit what is queued. */
void	commit_check(uv_check_t *);
/* Worker counters on SIGHUP and at exit. */
void	commit_log_stats(struct worker *);

/* writer.c */
/* The sync thread and timer; -1 (logged) if the thread cannot start. */
int	writer_init(struct worker *);
/* Commit what is queued in one transaction, then report it. */
void	writer_commit(struct worker *);
/* At stop: commit what is queued, then run the loop until it is synced. */
void	writer_drain(struct worker *);
/* Something else committed to the store: the next sync covers it. */
void	writer_touched(struct worker *);
/* A batch is at the shared store's commit thread. */
bool	writer_busy(const struct worker *);
/* Queue l (c's standing) for the commit thread; NULL-safe on memory. */
void	writer_lookup(struct worker *, struct lookup *);
/* writer.c -> worker.c: l's answer is in; classify and greet. */
void	worker_lookup_done(struct worker *, struct lookup *);
/* worker.c: the standing query of one address, in a transaction. */
int	worker_standing(struct store_txn *, const struct grey_conf *,
	    const struct addr *, int64_t now, int64_t *pass);
/* alloweddomains, read again if changed (force: anyway). */
void	worker_load_domains(struct worker *, bool force);

#endif
