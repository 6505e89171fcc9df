/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * msg: the typed messages between nfspamd's supervisor and its SMTP
 * workers, one SOCK_SEQPACKET datagram each (so a message is never split
 * or merged with the next).  Pure: encoding and checked decoding only.
 *
 * A message: version (1) = MSG_VERSION, type (1), payload length (2),
 * then the payload, whose fields are laid out by type (below).  Fields:
 * integers big-endian; an address is family 4 or 6 (1) and 16 bytes
 * (IPv4 in the first 4, the rest zero); a string is its length (2) and
 * its bytes, with no NUL and no newline.  A message that is not exactly
 * its header plus the fields of its type is refused whole.
 */
#ifndef NFS_MSG_H
#define NFS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MSG_VERSION	1
#define MSG_HDRSIZE	4
#define MSG_MAXSIZE	4096		/* a whole message, header included */
#define MSG_STRMAX	1024		/* one string field */
#define MSG_MAXFDS	32

enum msg_type {
	/* supervisor -> worker, first: what the worker is to be */
	MSG_SETTINGS = 1,
	/* worker -> supervisor */
	MSG_WHITE,		/* an address became WHITE */
	MSG_TRAPPED,		/* an address was trapped */
	MSG_GREY,		/* a tuple was updated (for sync) */
	/* supervisor -> worker, no payload */
	MSG_RELOAD_LISTS,	/* the saved blacklists changed */
	MSG_RELOAD_CONF,	/* re-read alloweddomains and the certificate */
	MSG_NTYPES
};

/*
 * MSG_SETTINGS: the worker's share, the descriptor numbers of the shared
 * sync state and of its listening sockets.
 */
struct msg_settings {
	uint32_t	 id;
	uint64_t	 maxcon, maxblack;
	int64_t		 started;	/* the daemon's start, for -M */
	int32_t		 syncfd;	/* shared sync state; -1: none */
	uint32_t	 nfds;
	int32_t		 fds[MSG_MAXFDS];
};

/* MSG_WHITE, MSG_TRAPPED. */
struct msg_addr {
	struct addr	 addr;
	int64_t		 expire;
};

/* MSG_GREY: strings NUL-terminated after decoding. */
struct msg_grey {
	struct addr	 addr;
	char		 helo[MSG_STRMAX + 1];
	char		 from[MSG_STRMAX + 1];
	char		 to[MSG_STRMAX + 1];
};

/* One decoded message. */
struct msg {
	enum msg_type	 type;
	union {
		struct msg_settings	settings;
		struct msg_addr		addr;
		struct msg_grey		grey;
	} u;
};

/*
 * Encoders write the whole message into out[0..MSG_MAXSIZE) and return
 * its length, or 0 when it does not fit (a string too long, too many
 * descriptors).
 */
size_t	msg_settings_encode(const struct msg_settings *, uint8_t *out);
size_t	msg_addr_encode(enum msg_type, const struct addr *, int64_t expire,
	    uint8_t *out);
size_t	msg_grey_encode(const struct addr *, const char *helo,
	    const char *from, const char *to, uint8_t *out);
size_t	msg_empty_encode(enum msg_type, uint8_t *out);

/* Decode one datagram: 0, or -1 with *why (the message is refused). */
int	msg_decode(const uint8_t *, size_t, struct msg *, const char **why);

/* "settings", "white", ... for log lines; "?" for anything else. */
const char	*msg_type_name(unsigned);

#endif
