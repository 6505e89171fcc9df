/*
 * nfthelper: the only nfspamd process with CAP_NET_ADMIN.  It serves
 * fwproto requests for the nfspamd sets on one socket and nothing else.
 */
#ifndef NFSPAMD_NFTHELPER_H
#define NFSPAMD_NFTHELPER_H

#include "log.h"
#include "priv.h"

/* Runs until the socket closes; returns the exit status. */
int	nfthelper_main(int fd, const struct priv_user *, struct logger *);

#endif
