/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * A real redis-server for the store's tests.  See redisfx.h.
 */
#include "config.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redisfx.h"

#define REDISFX_SERVER	"/usr/bin/redis-server"

static redisContext *
connect_fx(const struct redisfx *fx)
{
	char sock[128];
	struct timeval tv = { 1, 0 };

	snprintf(sock, sizeof(sock), "%s/redis.sock", fx->dir);
	return redisConnectUnixWithTimeout(sock, tv);
}

static int
command(const struct redisfx *fx, const char *cmd)
{
	redisContext *c = connect_fx(fx);
	redisReply *r;
	int rc = -1;

	if (c == NULL || c->err != 0) {
		if (c != NULL)
			redisFree(c);
		return -1;
	}
	if ((r = redisCommand(c, cmd)) != NULL) {
		rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
		freeReplyObject(r);
	}
	redisFree(c);
	return rc;
}

bool
redisfx_start(struct redisfx *fx)
{
	char sock[128], log[128];
	int fd;

	memset(fx, 0, sizeof(*fx));
	if (access(REDISFX_SERVER, X_OK) != 0)
		return false;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/nfs-redisfx-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return false;
	snprintf(sock, sizeof(sock), "%s/redis.sock", fx->dir);
	snprintf(log, sizeof(log), "%s/redis.log", fx->dir);
	snprintf(fx->url, sizeof(fx->url), "unix:%s", sock);
	if ((fx->pid = fork()) == -1)
		return false;
	if (fx->pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execl(REDISFX_SERVER, "redis-server", "--port", "0",
		    "--unixsocket", sock, "--unixsocketperm", "700",
		    "--save", "", "--appendonly", "no", "--dir", fx->dir,
		    "--logfile", log, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (command(fx, "PING") == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	redisfx_stop(fx);
	return false;
}

int
redisfx_flush(const struct redisfx *fx)
{
	return command(fx, "FLUSHALL");
}

void
redisfx_stop(struct redisfx *fx)
{
	char cmd[128];

	if (fx->pid > 0) {
		kill(fx->pid, SIGTERM);
		waitpid(fx->pid, NULL, 0);
		fx->pid = 0;
	}
	if (fx->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "redisfx: could not remove %s\n",
			    fx->dir);
		fx->dir[0] = '\0';
	}
}
