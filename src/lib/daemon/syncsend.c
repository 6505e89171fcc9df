/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * syncsend: see syncsend.h.
 */
#include "config.h"

#include <sys/socket.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sync.h"
#include "syncsend.h"
#include "util.h"

struct target {
	int			 fd;
	struct sockaddr_storage	 to;
	socklen_t		 tolen;
	char			 name[300];
};

struct syncsend {
	struct logger	*log;
	struct sync_key	 key;
	uint32_t	 counter;
	struct target	 t[SYNCSEND_MAXTARGETS];
	size_t		 n;
	uint64_t	 sent, errors;
	time_t		 warned;
};

/* An interface: the multicast group on it, with the TTL given. */
static int
open_mcast(struct target *t, const struct sync_target *st, unsigned ifindex,
    char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->to;
	struct ip_mreqn mr;
	int ttl = st->has_num ? (int)st->num : 1, loop = 0;

	if (ttl > 255)
		return util_seterr(err, errlen, "-Y %s:%u: a multicast TTL is "
		    "at most 255", st->host, st->num);
	memset(&mr, 0, sizeof(mr));
	mr.imr_ifindex = (int)ifindex;
	if ((t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || setsockopt(t->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
	    sizeof(mr)) == -1 || setsockopt(t->fd, IPPROTO_IP,
	    IP_MULTICAST_TTL, &ttl, sizeof(ttl)) == -1 ||
	    setsockopt(t->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
	    sizeof(loop)) == -1)
		return util_seterr(err, errlen, "-Y %s: multicast socket: %s",
		    st->host, strerror(errno));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(SYNC_PORT);
	inet_pton(AF_INET, SYNC_MCAST, &sin->sin_addr);
	t->tolen = sizeof(*sin);
	snprintf(t->name, sizeof(t->name), "%s (%s, ttl %d)", st->host,
	    SYNC_MCAST, ttl);
	return 0;
}

static int
open_unicast(struct target *t, const struct sync_target *st, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", st->has_num ? st->num : SYNC_PORT);
	if ((e = getaddrinfo(st->host, port, &hints, &res)) != 0)
		return util_seterr(err, errlen, "-Y %s: %s", st->host,
		    gai_strerror(e));
	/* The first address, as spamd takes the first. */
	memcpy(&t->to, res->ai_addr, res->ai_addrlen);
	t->tolen = res->ai_addrlen;
	t->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	freeaddrinfo(res);
	if (t->fd == -1)
		return util_seterr(err, errlen, "-Y %s: socket: %s", st->host,
		    strerror(errno));
	snprintf(t->name, sizeof(t->name), "%s port %s", st->host, port);
	return 0;
}

int
syncsend_open(struct syncsend **out, const char *const *targets, size_t n,
    const struct sync_key *key, struct logger *lg, char *err, size_t errlen)
{
	struct syncsend *s;

	*out = NULL;
	if (n > SYNCSEND_MAXTARGETS)
		return util_seterr(err, errlen, "more than %d -Y targets",
		    SYNCSEND_MAXTARGETS);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	s->log = lg;
	for (size_t i = 0; i < SYNCSEND_MAXTARGETS; i++)
		s->t[i].fd = -1;
	s->key = *key;
	for (; s->n < n; s->n++) {
		struct sync_target st;
		const char *why;
		unsigned ifindex;
		int rc;

		if (sync_target_parse(targets[s->n], &st, &why) == -1) {
			util_seterr(err, errlen, "-Y %s: %s", targets[s->n],
			    why);
			goto fail;
		}
		ifindex = if_nametoindex(st.host);
		rc = ifindex != 0 ? open_mcast(&s->t[s->n], &st, ifindex, err,
		    errlen) : open_unicast(&s->t[s->n], &st, err, errlen);
		if (rc == -1)
			goto fail;
		log_info(lg, "sync: sending to %s", s->t[s->n].name);
	}
	*out = s;
	return 0;
fail:
	s->n = SYNCSEND_MAXTARGETS;
	syncsend_close(s);
	return -1;
}

void
syncsend_close(struct syncsend *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < SYNCSEND_MAXTARGETS; i++)
		if (s->t[i].fd != -1)
			close(s->t[i].fd);
	free(s);
}

void
syncsend_msg(struct syncsend *s, const struct sync_msg *m)
{
	uint8_t buf[SYNC_MAXSIZE];
	uint32_t now = m->timestamp;
	size_t len;

	/* Too long for a packet (spamd's peers would drop it too). */
	if ((len = sync_encode(&s->key, s->counter++, m, buf,
	    sizeof(buf))) == 0) {
		s->errors++;
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct target *t = &s->t[i];

		if (sendto(t->fd, buf, len, 0, (struct sockaddr *)&t->to,
		    t->tolen) == (ssize_t)len) {
			s->sent++;
			continue;
		}
		/* UDP: a full buffer or an unreachable peer loses this one. */
		s->errors++;
		if (now - s->warned >= 60) {
			s->warned = now;
			log_warn(s->log, "sync: send to %s (sync-errors=%llu)",
			    t->name, (unsigned long long)s->errors);
		}
	}
}

void
syncsend_counts(const struct syncsend *s, uint64_t *sent, uint64_t *errors)
{
	*sent = s != NULL ? s->sent : 0;
	*errors = s != NULL ? s->errors : 0;
}
