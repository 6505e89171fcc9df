/*
 * fw: firewall backends.  See fw.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"

struct fw {
	struct logger	*log;
};

struct fw *
fw_open(const char *backend, struct logger *lg, char *err, size_t errlen)
{
	struct fw *fw;

	if (strcmp(backend, "none") != 0) {
		snprintf(err, errlen, "--firewall %s: unknown backend (this "
		    "version knows: none)", backend);
		return NULL;
	}
	if ((fw = calloc(1, sizeof(*fw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fw->log = lg;
	return fw;
}

void
fw_close(struct fw *fw)
{
	free(fw);
}

static int
one(struct fw *fw, const char *op, const struct addr *a, int64_t expire,
    int64_t now)
{
	char ip[ADDR_STRLEN];

	addr_format(a, ip, sizeof(ip));
	log_info(fw->log, "firewall=none op=%s ip=%s timeout=%lld", op, ip,
	    (long long)(expire > now ? expire - now : 0));
	return 0;
}

int
fw_white(struct fw *fw, const struct addr *a, int64_t expire, int64_t now)
{
	return one(fw, "white", a, expire, now);
}

int
fw_trap(struct fw *fw, const struct addr *a, int64_t expire, int64_t now)
{
	return one(fw, "trap", a, expire, now);
}

int
fw_sync(struct fw *fw, const struct greylist_scan *s, int64_t now)
{
	(void)now;
	log_info(fw->log, "firewall=none op=sync white=%zu trapped=%zu",
	    s->nwhite, s->ntrapped);
	return 0;
}
