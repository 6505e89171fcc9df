/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * msg: supervisor <-> worker messages.  See msg.h.
 */
#include "config.h"

#include <sys/socket.h>

#include <string.h>

#include "msg.h"
#include "util.h"

static const char *const names[MSG_NTYPES] = {
	[MSG_SETTINGS] = "settings",
	[MSG_WHITE] = "white",
	[MSG_TRAPPED] = "trapped",
	[MSG_GREY] = "grey",
	[MSG_RELOAD_LISTS] = "reload-lists",
	[MSG_RELOAD_CONF] = "reload-conf",
};

const char *
msg_type_name(unsigned t)
{
	return t > 0 && t < MSG_NTYPES ? names[t] : "?";
}

/* --- writing: a cursor that stops at the end of the buffer --- */

struct wr {
	uint8_t	*p;
	size_t	 len;
	bool	 full;
};

static void
put(struct wr *w, const void *v, size_t n)
{
	if (w->full || n > MSG_MAXSIZE - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void
put32(struct wr *w, uint32_t v)
{
	uint8_t b[4];

	util_put32be(b, v);
	put(w, b, 4);
}

static void
put64(struct wr *w, uint64_t v)
{
	put32(w, (uint32_t)(v >> 32));
	put32(w, (uint32_t)v);
}

static void
put_addr(struct wr *w, const struct addr *a)
{
	uint8_t b[17] = { a->family == AF_INET6 ? 6 : 4 };

	memcpy(b + 1, a->bytes, a->family == AF_INET6 ? 16 : 4);
	put(w, b, sizeof(b));
}

static void
put_str(struct wr *w, const char *s)
{
	size_t n = strlen(s);
	uint8_t b[2] = { (uint8_t)(n >> 8), (uint8_t)n };

	if (n > MSG_STRMAX || strchr(s, '\n') != NULL) {
		w->full = true;
		return;
	}
	put(w, b, 2);
	put(w, s, n);
}

static void
begin(struct wr *w, uint8_t *out, enum msg_type t)
{
	uint8_t h[MSG_HDRSIZE] = { MSG_VERSION, (uint8_t)t, 0, 0 };

	w->p = out;
	w->len = 0;
	w->full = false;
	put(w, h, sizeof(h));
}

static size_t
end(struct wr *w)
{
	size_t body = w->len - MSG_HDRSIZE;

	if (w->full)
		return 0;
	w->p[2] = (uint8_t)(body >> 8);
	w->p[3] = (uint8_t)body;
	return w->len;
}

size_t
msg_settings_encode(const struct msg_settings *s, uint8_t *out)
{
	struct wr w;

	if (s->nfds > MSG_MAXFDS)
		return 0;
	begin(&w, out, MSG_SETTINGS);
	put32(&w, s->id);
	put64(&w, s->maxcon);
	put64(&w, s->maxblack);
	put64(&w, (uint64_t)s->started);
	put32(&w, (uint32_t)s->syncfd);
	put32(&w, s->nfds);
	for (uint32_t i = 0; i < s->nfds; i++)
		put32(&w, (uint32_t)s->fds[i]);
	return end(&w);
}

size_t
msg_addr_encode(enum msg_type t, const struct addr *a, int64_t expire,
    uint8_t *out)
{
	struct wr w;

	if (t != MSG_WHITE && t != MSG_TRAPPED)
		return 0;
	begin(&w, out, t);
	put_addr(&w, a);
	put64(&w, (uint64_t)expire);
	return end(&w);
}

size_t
msg_grey_encode(const struct addr *a, const char *helo, const char *from,
    const char *to, uint8_t *out)
{
	struct wr w;

	begin(&w, out, MSG_GREY);
	put_addr(&w, a);
	put_str(&w, helo);
	put_str(&w, from);
	put_str(&w, to);
	return end(&w);
}

size_t
msg_empty_encode(enum msg_type t, uint8_t *out)
{
	struct wr w;

	if (t != MSG_RELOAD_LISTS && t != MSG_RELOAD_CONF)
		return 0;
	begin(&w, out, t);
	return end(&w);
}

/* --- reading: a cursor that turns bad on the first short field --- */

struct rd {
	const uint8_t	*p;
	size_t		 len, off;
	const char	*why;
};

static bool
get(struct rd *r, void *v, size_t n)
{
	if (r->why != NULL)
		return false;
	if (n > r->len - r->off) {
		r->why = "message too short for its type";
		return false;
	}
	memcpy(v, r->p + r->off, n);
	r->off += n;
	return true;
}

static uint32_t
get32(struct rd *r)
{
	uint8_t b[4] = { 0 };

	get(r, b, 4);
	return util_get32be(b);
}

static uint64_t
get64(struct rd *r)
{
	uint64_t hi = get32(r);

	return hi << 32 | get32(r);
}

static void
get_addr(struct rd *r, struct addr *a)
{
	uint8_t b[17] = { 0 };
	static const uint8_t zero[12];

	memset(a, 0, sizeof(*a));
	if (!get(r, b, sizeof(b)))
		return;
	if (b[0] == 4 && memcmp(b + 5, zero, 12) == 0) {
		a->family = AF_INET;
		memcpy(a->bytes, b + 1, 4);
	} else if (b[0] == 6) {
		a->family = AF_INET6;
		memcpy(a->bytes, b + 1, 16);
	} else
		r->why = "not an address";
}

static void
get_str(struct rd *r, char *out)
{
	uint8_t b[2] = { 0 };
	size_t n;

	out[0] = '\0';
	if (!get(r, b, 2))
		return;
	if ((n = (size_t)b[0] << 8 | b[1]) > MSG_STRMAX) {
		r->why = "string too long";
		return;
	}
	if (!get(r, out, n))
		return;
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL || memchr(out, '\n', n) != NULL)
		r->why = "string with a NUL or a newline";
}

static void
get_settings(struct rd *r, struct msg_settings *s)
{
	s->id = get32(r);
	s->maxcon = get64(r);
	s->maxblack = get64(r);
	s->started = (int64_t)get64(r);
	s->syncfd = (int32_t)get32(r);
	if ((s->nfds = get32(r)) > MSG_MAXFDS) {
		if (r->why == NULL)
			r->why = "too many descriptors";
		return;
	}
	for (uint32_t i = 0; i < s->nfds; i++)
		s->fds[i] = (int32_t)get32(r);
}

int
msg_decode(const uint8_t *p, size_t len, struct msg *m, const char **why)
{
	struct rd r = { p, len, MSG_HDRSIZE, NULL };

	memset(m, 0, sizeof(*m));
	if (len < MSG_HDRSIZE || len > MSG_MAXSIZE)
		r.why = "not a message (size)";
	else if (p[0] != MSG_VERSION)
		r.why = "unknown message version";
	else if (((size_t)p[2] << 8 | p[3]) != len - MSG_HDRSIZE)
		r.why = "length does not match the datagram";
	else if (p[1] == 0 || p[1] >= MSG_NTYPES)
		r.why = "unknown message type";
	if (r.why != NULL) {
		*why = r.why;
		return -1;
	}
	m->type = (enum msg_type)p[1];
	switch (m->type) {
	case MSG_SETTINGS:
		get_settings(&r, &m->u.settings);
		break;
	case MSG_WHITE:
	case MSG_TRAPPED:
		get_addr(&r, &m->u.addr.addr);
		m->u.addr.expire = (int64_t)get64(&r);
		break;
	case MSG_GREY:
		get_addr(&r, &m->u.grey.addr);
		get_str(&r, m->u.grey.helo);
		get_str(&r, m->u.grey.from);
		get_str(&r, m->u.grey.to);
		break;
	default:
		break;
	}
	if (r.why == NULL && r.off != len)
		r.why = "trailing bytes after the message";
	*why = r.why;
	return r.why == NULL ? 0 : -1;
}
