/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * wheel: a hashed timer wheel (see wheel.h).  Adding, removing and
 * expiring are O(1) per node; a slot is a doubly linked list through
 * the nodes, so a node needs no slot number to leave it.
 */
#include "config.h"

#include <string.h>

#include "wheel.h"

void
wheel_init(struct wheel *wh, uint64_t now, uint64_t tick)
{
	memset(wh->slots, 0, sizeof(wh->slots));
	wh->tick = tick;
	wh->time = now;
	wh->cur = 0;
}

void
wheel_remove(struct wheel_node *n)
{
	if (n->pprev == NULL)
		return;
	*n->pprev = n->next;
	if (n->next != NULL)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

void
wheel_add(struct wheel *wh, struct wheel_node *n, uint64_t delay)
{
	uint64_t ticks = (delay + wh->tick - 1) / wh->tick;
	struct wheel_node **head;

	wheel_remove(n);
	/* Never the current slot: it has been expired already. */
	if (ticks == 0)
		ticks = 1;
	if (ticks >= WHEEL_SLOTS)
		ticks = WHEEL_SLOTS - 1;
	head = &wh->slots[(wh->cur + ticks) % WHEEL_SLOTS];
	n->next = *head;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
}

struct wheel_node *
wheel_expire(struct wheel *wh, uint64_t now)
{
	struct wheel_node *n;

	/* Catch up on every slot whose time has come. */
	while ((n = wh->slots[wh->cur]) == NULL) {
		if (wh->time + wh->tick > now)
			return NULL;
		wh->time += wh->tick;
		wh->cur = (uint16_t)((wh->cur + 1) % WHEEL_SLOTS);
	}
	wheel_remove(n);
	return n;
}
