/*
 * util: small helpers several modules share.
 */
#ifndef NFS_UTIL_H
#define NFS_UTIL_H

#include <stddef.h>

/* Format into err (when err and errlen allow) and return -1. */
int	util_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Read exactly n bytes, retrying on EINTR: 1 done, 0 end of file before
 * any byte, -1 error or end of file part way.
 */
int	util_read_full(int fd, void *, size_t n);
/* Write exactly n bytes, retrying on EINTR: 0 done, -1 error. */
int	util_write_full(int fd, const void *, size_t n);

#endif
