/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

#include "syncpace.h"

enum syncpace_act
syncpace_next(const struct syncpace_view *v, const struct syncpace_conf *c,
    uint64_t commit, uint64_t now, uint64_t *until)
{
	/* Strictly after: a start read at the same instant may precede it. */
	if (v->covered > commit)
		return SYNCPACE_COVERED;
	/* Another's fsync, begun after the commit, still running. */
	if (v->started > commit && v->started > v->covered &&
	    (now < v->started || now - v->started < c->stale)) {
		*until = now + c->poll;
		return SYNCPACE_WAIT;
	}
	if (v->started != 0 && now < v->started + c->gap) {
		*until = v->started + c->gap;
		return SYNCPACE_WAIT;
	}
	return SYNCPACE_START;
}
