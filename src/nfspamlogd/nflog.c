/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nflog: nfspamlogd's side of the NFLOG group: binding it, reading its
 * packets into the burst (src/lib/logev) with the fingerprint of each
 * inbound SYN, and noticing what the kernel dropped (sequence gaps,
 * receive buffer overruns).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <linux/netfilter/nfnetlink.h>
#include <uv.h>

#include "logd.h"

/* --- reading NFLOG --- */

static void
on_packet(struct logd *d, const struct nlmsghdr *nlh)
{
	struct nlattr *attr[NFULA_MAX + 1] = { 0 };
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *prefix = NULL;
	const uint8_t *payload = NULL;
	size_t len = 0;
	struct addr a;
	enum logev_kind k;
	const struct osf_fp *os;

	d->c.events++;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) ||
	    nflog_nlmsg_parse(nlh, attr) < 0) {
		d->c.kind[LOGEV_BADPACKET]++;
		return;
	}
	if (attr[NFULA_SEQ] != NULL) {
		uint32_t seq = ntohl(mnl_attr_get_u32(attr[NFULA_SEQ]));

		/* The instance numbers every packet it logs: a gap was
		   dropped on the way. */
		if (d->seq_known && seq != d->seq_next &&
		    (uint32_t)(seq - d->seq_next) < (1u << 31))
			d->c.lost += (uint32_t)(seq - d->seq_next);
		d->seq_known = true;
		d->seq_next = seq + 1;
	}
	if (attr[NFULA_PREFIX] != NULL)
		prefix = mnl_attr_get_str(attr[NFULA_PREFIX]);
	if (attr[NFULA_PAYLOAD] != NULL) {
		payload = mnl_attr_get_payload(attr[NFULA_PAYLOAD]);
		len = mnl_attr_get_payload_len(attr[NFULA_PAYLOAD]);
	}
	k = logev_parse(prefix, payload, len, g->nfgen_family,
	    d->conf.inbound_only, &a);
	d->c.kind[k]++;
	if (k != LOGEV_IN && k != LOGEV_OUT)
		return;
	os = logev_os(&d->osf, k, payload, len);
	if (logev_burst_add(&d->burst, &a, k, os) == -1) {
		apply(d);
		logev_burst_add(&d->burst, &a, k, os);
	}
}

static bool
is_packet(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == (NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET);
}

static void
on_datagram(struct logd *d, size_t n)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)d->rbuf;
	int left = (int)n;

	/* One datagram holds up to a queue threshold of packets. */
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (is_packet(nlh))
			on_packet(d, nlh);
}

static void
overrun(struct logd *d)
{
	time_t now = time(NULL);

	d->c.enobufs++;
	if (now - d->warned_enobufs < LOGD_WARN_EVERY)
		return;
	d->warned_enobufs = now;
	log_warnx(&d->log, "NFLOG group %u: receive buffer overrun, the kernel "
	    "dropped events (enobufs=%" PRIu64 " lost=%" PRIu64 " so far); "
	    "reading on; a larger --rcvbuf helps", d->conf.group,
	    d->c.enobufs, d->c.lost);
}

void
on_readable(uv_poll_t *p, int status, int events)
{
	struct logd *d = p->data;

	(void)events;
	/*
	 * An overrun sets the socket's error, which poll reports as POLLERR;
	 * libuv then stops the handle (status UV_EBADF).  The recv below
	 * returns the ENOBUFS and clears it; watch the socket again.
	 */
	if (status < 0 && uv_poll_start(p, UV_READABLE, on_readable) != 0) {
		log_warnx(&d->log, "NFLOG poll: %s", uv_strerror(status));
		stop(d, 1);
		return;
	}
	for (int i = 0; i < LOGD_READS; i++) {
		ssize_t n = recv(d->nfd, d->rbuf, LOGD_RBUF, MSG_DONTWAIT);

		if (n > 0) {
			on_datagram(d, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ENOBUFS) {
			/* The socket still holds what did fit: drain on. */
			overrun(d);
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn(&d->log, "NFLOG group %u: recv",
			    d->conf.group);
		break;
	}
	apply(d);
}

/* Wait for the kernel's answer to our configuration message. */
static int
nflog_ack(struct logd *d, uint32_t seq)
{
	uint32_t portid = mnl_socket_get_portid(d->nl);

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(d->nl, d->rbuf, LOGD_RBUF);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)d->rbuf;
		int left = (int)n;

		if (n == -1 && (errno == EINTR || errno == ENOBUFS))
			continue;
		if (n <= 0)
			return -1;
		/* Packets logged before the answer are let go: start-up. */
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh,
		    &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
				continue;
			if (e->error == 0)
				return 0;
			errno = -e->error;
			return -1;
		}
	}
}

/*
 * Bind the group before dropping privileges: every NFLOG configuration
 * message needs CAP_NET_ADMIN, reading does not.  One message binds and
 * configures, so the first packet already comes as we want it.
 */
int
nflog_setup(struct logd *d)
{
	const struct conf *c = &d->conf;
	int sz = (int)(c->rcvbuf > INT32_MAX / 2 ? INT32_MAX / 2 : c->rcvbuf);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);

	if ((d->rbuf = malloc(LOGD_RBUF)) == NULL) {
		log_warnx(&d->log, "out of memory");
		return -1;
	}
	if ((d->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn(&d->log, "NFLOG: cannot open a netlink socket");
		return -1;
	}
	d->nfd = mnl_socket_get_fd(d->nl);
	/* A burst of SYNs must wait in the socket, not be dropped. */
	if (setsockopt(d->nfd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
	    sizeof(sz)) == -1 && setsockopt(d->nfd, SOL_SOCKET, SO_RCVBUF,
	    &sz, sizeof(sz)) == -1)
		log_warn(&d->log, "NFLOG: receive buffer of %d bytes", sz);
	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC,
	    (uint16_t)c->group);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_BIND);
	nflog_attr_put_cfg_mode(nlh, NFULNL_COPY_PACKET, LOGEV_COPY_RANGE);
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(LOGD_NLBUFSIZ));
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(LOGD_QTHRESH));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(LOGD_QTIMEOUT));
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0 ||
	    nflog_ack(d, seq) == -1) {
		/* The kernel says EPERM both for a missing capability and
		   for a group another socket has bound. */
		if (errno == EPERM && !priv_has_netadmin())
			log_warnx(&d->log, "NFLOG group %u: binding needs "
			    "CAP_NET_ADMIN (run as root, or give the service "
			    "AmbientCapabilities=CAP_NET_ADMIN)", c->group);
		else if (errno == EPERM || errno == EBUSY)
			log_warnx(&d->log, "NFLOG group %u is taken by another "
			    "program (ulogd? a second nfspamlogd?); use -l",
			    c->group);
		else
			log_warn(&d->log, "NFLOG group %u: bind", c->group);
		return -1;
	}
	return 0;
}
