/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * blfile: the saved-lists file, one control line per list.  See bl.h.
 *
 * bl_load is all or nothing: on success the set holds exactly the file's
 * lists, built; on any error it is left as it was, so nfspamd keeps
 * serving its old lists.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl.h"
#include "blint.h"
#include "util.h"

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The rename is only durable once the directory is synced too. */
static int
sync_dir(const char *path, char *err, size_t errlen)
{
	char	*dir, *slash;
	int	 fd, rc = 0;

	if ((dir = strdup(path)) == NULL)
		return util_seterr(err, errlen, "%s: out of memory", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		rc = util_seterr(err, errlen, "%s: sync directory: %s", dir,
		    strerror(errno));
	if (fd != -1)
		close(fd);
	free(dir);
	return rc;
}

static int
save_lists(const struct bl *b, int fd, const char *tmp, char *err,
    size_t errlen)
{
	const struct bl_list	*l;
	struct buf		 line = { NULL, 0, 0 };
	size_t			 i;

	for (i = 0; i < bl_count(b); i++) {
		l = bl_get(b, i);
		if (l->npfx == 0)
			continue;	/* cleared: nothing worth keeping */
		buf_reset(&line);
		if (bl_format(l, &line) == -1 ||
		    buf_append(&line, "\n", 1) == -1) {
			buf_free(&line);
			return util_seterr(err, errlen, "%s: out of memory", tmp);
		}
		if (write_all(fd, line.data, line.len) == -1) {
			buf_free(&line);
			return util_seterr(err, errlen, "%s: write: %s", tmp,
			    strerror(errno));
		}
	}
	buf_free(&line);
	return 0;
}

int
bl_save(const struct bl *b, const char *path, char *err, size_t errlen)
{
	char	*tmp;
	int	 fd;

	if (asprintf(&tmp, "%s.tmp", path) == -1)
		return util_seterr(err, errlen, "%s: out of memory", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		util_seterr(err, errlen, "%s: open: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (save_lists(b, fd, tmp, err, errlen) == -1)
		goto fail;
	if (fsync(fd) == -1) {
		util_seterr(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		util_seterr(err, errlen, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		util_seterr(err, errlen, "%s: rename to %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	free(tmp);
	return sync_dir(path, err, errlen);
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
load_lines(struct bl *b, FILE *fp, const char *path, char *err,
    size_t errlen)
{
	struct bl_list	 l;
	char		*line = NULL, why[512];
	size_t		 cap = 0, lineno = 0;
	ssize_t		 n;
	int		 rc = -1;

	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n == 0 || (n == 1 && line[0] == '\n'))
			continue;
		if (bl_parse(line, (size_t)n, &l, why, sizeof(why)) == -1) {
			util_seterr(err, errlen, "%s:%zu: %s", path, lineno, why);
			goto done;
		}
		if (bl_set(b, &l) == -1) {
			util_seterr(err, errlen, "%s:%zu: %s", path, lineno,
			    strerror(errno));
			bl_list_free(&l);
			goto done;
		}
	}
	if (ferror(fp)) {
		util_seterr(err, errlen, "%s: read: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	free(line);
	return rc;
}

int
bl_load(struct bl *b, const char *path, char *err, size_t errlen)
{
	struct bl	*nb;
	FILE		*fp;
	int		 rc;

	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return util_seterr(err, errlen, "%s: open: %s", path,
		    strerror(errno));
	}
	if ((nb = bl_new()) == NULL) {
		fclose(fp);
		return util_seterr(err, errlen, "%s: out of memory", path);
	}
	rc = load_lines(nb, fp, path, err, errlen);
	fclose(fp);
	if (rc == 0 && bl_build(nb) == -1)
		rc = util_seterr(err, errlen, "%s: building the index: out of "
		    "memory", path);
	if (rc == -1) {
		bl_free(nb);
		return -1;
	}
	bl_replace(b, nb);
	return 0;
}
