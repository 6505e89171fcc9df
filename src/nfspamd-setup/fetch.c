/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * fetch: see fetch.h.
 */

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fetch.h"
#include "gz.h"
#include "owner.h"
#include "util.h"

#define READ_CHUNK	(64 * 1024)
#define ERRTEXT_MAX	1024
#define ARGV_MAX	256

char *
fetch_where(const struct sdc_list *l)
{
	char	*s;

	switch (l->method) {
	case SDC_HTTP:
	case SDC_HTTPS:
	case SDC_FTP:
		if (asprintf(&s, "%s://%s", sdc_method_name(l->method),
		    l->file) == -1)
			return NULL;
		return s;
	default:
		return strdup(l->file);
	}
}

void
fetch_result_free(struct fetch_result *r)
{
	free(r->data);
	free(r->where);
	memset(r, 0, sizeof(*r));
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* file: read here, with the caller's rights. */
static int
fetch_file(const struct sdc_list *l, const struct fetch_opts *o,
    struct gz *z, char *err, size_t errlen)
{
	char	*buf, gerr[256], hint[512];
	ssize_t	 n;
	int	 fd, ret = -1, e;

	if ((fd = open(l->file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		e = errno;
		hint[0] = '\0';
		if (e != ENOENT)	/* the path in the message says it all */
			owner_hint(e, l->file, hint, sizeof(hint));
		return util_seterr(err, errlen, "%s: %s%s%s%s", l->file,
		    strerror(e), hint[0] != '\0' ? " (" : "", hint,
		    hint[0] != '\0' ? ")" : "");
	}
	if ((buf = malloc(READ_CHUNK)) == NULL) {
		close(fd);
		return util_seterr(err, errlen, "out of memory");
	}
	for (;;) {
		if ((n = read(fd, buf, READ_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			util_seterr(err, errlen, "%s: %s", l->file,
			    strerror(errno));
			break;
		}
		if (n == 0) {
			if (gz_finish(z, gerr, sizeof(gerr)) == -1)
				util_seterr(err, errlen, "%s: %s", l->file,
				    gerr);
			else
				ret = 0;
			break;
		}
		if (gz_in_bytes(z) + (size_t)n > o->max) {
			util_seterr(err, errlen, "%s: more than %zu bytes "
			    "(--max-size)", l->file, o->max);
			break;
		}
		if (gz_feed(z, buf, (size_t)n, gerr, sizeof(gerr)) == -1) {
			util_seterr(err, errlen, "%s: %s", l->file, gerr);
			break;
		}
	}
	free(buf);
	close(fd);
	return ret;
}

/*
 * In the child: become the unprivileged user, or die trying.  Without
 * root (the service runs as nfspamd with CAP_NET_ADMIN in its ambient
 * set) the capabilities must go explicitly: exec would pass them on.
 */
static int
drop(const struct fetch_opts *o, int errfd)
{
	struct __user_cap_header_struct	h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	d[2];
	char				msg[256];
	int				n;

	if (!o->drop) {
		memset(d, 0, sizeof(d));
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0,
		    0) == -1 && errno != EINVAL)
			goto fail;
		if (syscall(SYS_capset, &h, d) == -1)
			goto fail;
		return 0;
	}
	if (setgroups(1, &o->gid) == -1 || setgid(o->gid) == -1 ||
	    setuid(o->uid) == -1 || getuid() != o->uid ||
	    geteuid() != o->uid) {
		n = snprintf(msg, sizeof(msg), "cannot become user %s: %s",
		    o->user, strerror(errno));
		(void)!write(errfd, msg, (size_t)n);
		return -1;
	}
	return 0;
fail:
	n = snprintf(msg, sizeof(msg), "cannot drop capabilities: %s",
	    strerror(errno));
	(void)!write(errfd, msg, (size_t)n);
	return -1;
}

static size_t
curl_out(char *p, size_t size, size_t n, void *arg)
{
	int	fd = *(int *)arg;

	if (util_write_full(fd, p, size * n) == -1)
		return 0;	/* the parent gave up: stop */
	return size * n;
}

/* In the child: the transfer, into fd.  Returns the exit status. */
static int
curl_child(const struct sdc_list *l, const struct fetch_opts *o, int fd,
    int errfd)
{
	CURL		*c;
	CURLcode	 rc;
	char		 cerr[CURL_ERROR_SIZE], msg[ERRTEXT_MAX], *url;
	const char	*proto = sdc_method_name(l->method), *redir;
	long		 code = 0;
	int		 n;

	if ((url = fetch_where(l)) == NULL ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (c = curl_easy_init()) == NULL) {
		n = snprintf(msg, sizeof(msg), "cannot start libcurl");
		(void)!write(errfd, msg, (size_t)n);
		return 1;
	}
	/*
	 * http may be sent on to https, never the other way.  The first
	 * option bounds redirects too, so http's must name both.
	 */
	redir = l->method == SDC_HTTP ? "http,https" : proto;
	if (l->method == SDC_HTTP)
		proto = redir;
	cerr[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proto);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, redir);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "nfspamd-setup/" VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_out);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
	if (o->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_cleanup(c);
		free(url);
		return 0;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_FILESIZE_EXCEEDED)
		n = snprintf(msg, sizeof(msg), "%s: more than %zu bytes "
		    "(--max-size)", url, o->max);
	else if (rc == CURLE_HTTP_RETURNED_ERROR && code != 0)
		n = snprintf(msg, sizeof(msg), "%s: server answered %ld", url,
		    code);
	else
		n = snprintf(msg, sizeof(msg), "%s: %s", url, cerr[0] != '\0' ?
		    cerr : curl_easy_strerror(rc));
	if (n > 0)
		(void)!write(errfd, msg, (size_t)n < sizeof(msg) ? (size_t)n :
		    sizeof(msg) - 1);
	curl_easy_cleanup(c);
	free(url);
	return 1;
}

/* exec's command line, split on blanks: no shell. */
static int
split_argv(const char *cmd, char **argv, size_t max, char *copy)
{
	char	*p, *save = NULL;
	size_t	 n = 0;

	strcpy(copy, cmd);
	for (p = strtok_r(copy, " \t", &save); p != NULL;
	    p = strtok_r(NULL, " \t", &save)) {
		if (n + 1 >= max)
			return -1;
		argv[n++] = p;
	}
	argv[n] = NULL;
	return (int)n;
}

static void	child(const struct sdc_list *, const struct fetch_opts *, int,
		    int, char **) __attribute__((noreturn));

static void
child(const struct sdc_list *l, const struct fetch_opts *o, int fd,
    int errfd, char **argv)
{
	char	msg[ERRTEXT_MAX], hint[512];
	int	n, nul, e;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	if (drop(o, errfd) == -1)
		_exit(1);
	if (l->method != SDC_EXEC) {
		signal(SIGPIPE, SIG_IGN);
		_exit(curl_child(l, o, fd, errfd));
	}
	if ((nul = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(nul, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1) {
		n = snprintf(msg, sizeof(msg), "cannot set up: %s",
		    strerror(errno));
		(void)!write(errfd, msg, (size_t)n);
		_exit(1);
	}
	execvp(argv[0], argv);
	/* As whom, and the fix, when the command is named by its path. */
	e = errno;
	hint[0] = '\0';
	if (strchr(argv[0], '/') != NULL && e != ENOENT)
		owner_hint(e, argv[0], hint, sizeof(hint));
	n = snprintf(msg, sizeof(msg), "cannot run %s: %s%s%s%s", argv[0],
	    strerror(e), hint[0] != '\0' ? " (" : "", hint,
	    hint[0] != '\0' ? ")" : "");
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	(void)!write(errfd, msg, (size_t)n);
	_exit(127);
}

struct run {
	pid_t		 pid;
	int		 fd, errfd;
	char		 errtext[ERRTEXT_MAX];
	size_t		 errlen;
};

/* Read what the child sends until both pipes close or time runs out. */
static int
collect(struct run *r, const struct fetch_opts *o, struct gz *z,
    const char *where, long long deadline, char *err, size_t errlen)
{
	struct pollfd	 pf[2];
	char		*buf, gerr[256];
	ssize_t		 n;
	long long	 left;
	int		 ret = -1;

	if ((buf = malloc(READ_CHUNK)) == NULL)
		return util_seterr(err, errlen, "out of memory");
	while (r->fd != -1 || r->errfd != -1) {
		if ((left = deadline - now_ms()) <= 0) {
			util_seterr(err, errlen, "%s: no answer within %ld s "
			    "(--timeout)", where, o->timeout);
			goto out;
		}
		pf[0].fd = r->fd;
		pf[1].fd = r->errfd;
		pf[0].events = pf[1].events = POLLIN;
		if (poll(pf, 2, (int)(left > 1000 ? 1000 : left)) == -1) {
			if (errno == EINTR)
				continue;
			util_seterr(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		if (r->errfd != -1 && (pf[1].revents & (POLLIN | POLLHUP))) {
			n = read(r->errfd, r->errtext + r->errlen,
			    sizeof(r->errtext) - 1 - r->errlen);
			if (n > 0)
				r->errlen += (size_t)n;
			else if (n == 0 || errno != EINTR) {
				close(r->errfd);
				r->errfd = -1;
			}
			if (r->errlen == sizeof(r->errtext) - 1) {
				close(r->errfd);
				r->errfd = -1;
			}
		}
		if (r->fd != -1 && (pf[0].revents & (POLLIN | POLLHUP))) {
			n = read(r->fd, buf, READ_CHUNK);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(r->fd);
				r->fd = -1;
				continue;
			}
			if (gz_in_bytes(z) + (size_t)n > o->max) {
				util_seterr(err, errlen, "%s: more than %zu "
				    "bytes (--max-size)", where, o->max);
				goto out;
			}
			if (gz_feed(z, buf, (size_t)n, gerr, sizeof(gerr)) ==
			    -1) {
				util_seterr(err, errlen, "%s: %s", where, gerr);
				goto out;
			}
		}
	}
	ret = 0;
out:
	free(buf);
	r->errtext[r->errlen] = '\0';
	return ret;
}

/* Wait for the child; with kill, make sure its whole group is gone. */
static int
reap(pid_t pid, bool kill_it, long long deadline)
{
	int	status;
	pid_t	w;

	if (kill_it)
		kill(-pid, SIGKILL);
	for (;;) {
		w = waitpid(pid, &status, kill_it ? 0 : WNOHANG);
		if (w == pid)
			return status;
		if (w == -1 && errno != EINTR)
			return -1;
		if (w == 0) {
			/* Closed its pipes but still runs: give it a moment. */
			if (now_ms() > deadline) {
				kill(-pid, SIGKILL);
				kill_it = true;
				continue;
			}
			usleep(10000);
		}
	}
}

static int
fetch_child(const struct sdc_list *l, const struct fetch_opts *o,
    struct gz *z, const char *where, char *err, size_t errlen)
{
	struct run	 r;
	char		*argv[ARGV_MAX], *copy = NULL;
	char		 gerr[256];
	int		 p[2], e[2], status;
	long long	 deadline;

	memset(&r, 0, sizeof(r));
	r.fd = r.errfd = -1;
	if (l->method == SDC_EXEC) {
		if ((copy = malloc(strlen(l->file) + 1)) == NULL)
			return util_seterr(err, errlen, "out of memory");
		if (split_argv(l->file, argv, ARGV_MAX, copy) <= 0) {
			free(copy);
			return util_seterr(err, errlen, "exec \"%s\": no "
			    "command, or more than %d words", l->file,
			    ARGV_MAX - 1);
		}
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		free(copy);
		return util_seterr(err, errlen, "pipe: %s", strerror(errno));
	}
	if (pipe2(e, O_CLOEXEC) == -1) {
		close(p[0]);
		close(p[1]);
		free(copy);
		return util_seterr(err, errlen, "pipe: %s", strerror(errno));
	}
	/* Curl's own limit first; ours, a little later, catches the rest. */
	deadline = now_ms() + o->timeout * 1000 +
	    (l->method == SDC_EXEC ? 0 : 5000);
	if ((r.pid = fork()) == -1) {
		util_seterr(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		close(e[0]);
		close(e[1]);
		free(copy);
		return -1;
	}
	if (r.pid == 0) {
		close(p[0]);
		close(e[0]);
		child(l, o, p[1], e[1], argv);
	}
	setpgid(r.pid, r.pid);	/* either side may win the race */
	close(p[1]);
	close(e[1]);
	free(copy);
	r.fd = p[0];
	r.errfd = e[0];
	if (collect(&r, o, z, where, deadline, err, errlen) == -1) {
		if (r.fd != -1)
			close(r.fd);
		if (r.errfd != -1)
			close(r.errfd);
		reap(r.pid, true, 0);
		return -1;
	}
	status = reap(r.pid, false, deadline);
	if (r.errtext[0] != '\0' && (status == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)) {
		util_seterr(err, errlen, "%s", r.errtext);
		return -1;
	}
	if (status == -1)
		return util_seterr(err, errlen, "%s: lost the child: %s", where,
		    strerror(errno));
	if (WIFSIGNALED(status))
		return util_seterr(err, errlen, "%s: killed by signal %d",
		    where, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return util_seterr(err, errlen, "%s: exited with status %d",
		    where, WEXITSTATUS(status));
	if (gz_finish(z, gerr, sizeof(gerr)) == -1)
		return util_seterr(err, errlen, "%s: %s", where, gerr);
	return 0;
}

int
fetch_list(const struct sdc_list *l, const struct fetch_opts *o,
    struct fetch_result *res, char *err, size_t errlen)
{
	struct gz	*z;
	int		 r;

	memset(res, 0, sizeof(*res));
	if ((res->where = fetch_where(l)) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if ((z = gz_new(o->max)) == NULL) {
		fetch_result_free(res);
		return util_seterr(err, errlen, "out of memory");
	}
	if (l->method == SDC_FILE)
		r = fetch_file(l, o, z, err, errlen);
	else
		r = fetch_child(l, o, z, res->where, err, errlen);
	if (r == 0) {
		res->raw = gz_in_bytes(z);
		res->gzip = gz_compressed(z);
		if ((res->data = gz_take(z, &res->len)) == NULL) {
			util_seterr(err, errlen, "out of memory");
			r = -1;
		}
	}
	gz_free(z);
	if (r == -1) {
		free(res->data);
		free(res->where);
		memset(res, 0, sizeof(*res));
	}
	return r;
}
