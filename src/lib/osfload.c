/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * osfload: see osfload.h.  One OSF_MSG_ADD per fingerprint, each
 * acknowledged, as nfnetlink_osf is not a batching subsystem.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_osf.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "osfload.h"
#include "util.h"

static int
add_one(struct mnl_socket *nl, const struct nf_osf_user_finger *f,
    uint32_t seq, uint32_t portid, char *buf, size_t buflen)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	ssize_t n;
	int rc;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_OSF << 8) | OSF_MSG_ADD;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	mnl_attr_put(nlh, OSF_ATTR_FINGER, sizeof(*f), f);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	for (;;) {
		if ((n = mnl_socket_recvfrom(nl, buf, buflen)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (rc <= MNL_CB_STOP)
			return rc == -1 ? -1 : 0;
	}
}

int
osf_kernel_load(const struct osf_db *db, size_t *sent, size_t *skipped,
    char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nf_osf_user_finger f;
	struct mnl_socket *nl;
	uint32_t seq, portid;
	int one = 1;

	*sent = *skipped = 0;
	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		util_seterr(err, errlen, "netlink: %s", strerror(errno));
		if (nl != NULL)
			mnl_socket_close(nl);
		return -1;
	}
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	portid = mnl_socket_get_portid(nl);
	seq = (uint32_t)time(NULL);
	for (size_t i = 0; i < db->n; i++) {
		if (osf_kernel_finger(&db->fp[i], &f, sizeof(f)) == -1) {
			(*skipped)++;
			continue;
		}
		if (add_one(nl, &f, seq++, portid, buf, sizeof(buf)) == -1) {
			util_seterr(err, errlen, "adding fingerprint %s (line "
			    "%u): %s%s", db->fp[i].genre, db->fp[i].line,
			    strerror(errno), errno == EPERM ? " (needs "
			    "CAP_NET_ADMIN in the host's user namespace)" :
			    errno == ENOENT || errno == EOPNOTSUPP ?
			    " (no nfnetlink_osf in this kernel?)" : "");
			mnl_socket_close(nl);
			return -1;
		}
		(*sent)++;
	}
	mnl_socket_close(nl);
	return 0;
}
