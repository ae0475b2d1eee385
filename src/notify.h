/* SPDX-License-Identifier: ISC */
/*
 * notify.c: wake-ups between workers. Each worker owns one FIFO in the
 * instance's run directory, named after its slot. A sender wakes a slot
 * only if the slot's wake flag was clear (an atomic exchange, as in
 * PostgreSQL's latch.c), so a busy worker costs its senders no system
 * call; the owner clears the flag before it reads the log and reads it
 * once more before it sleeps. Pipes are non-blocking at both ends: a
 * full pipe only means the owner is already woken. A room of many is
 * woken along a tree: a waker hands ranges of the slot table to relays,
 * members it wakes, which pass their range on when they wake
 * (notify_relay), so no process writes thousands of pipes per line and
 * the wake-ups run on every CPU at once. A relay is never trusted: the
 * sender's backstop (notify.c) wakes, a few milliseconds later, any
 * member the tree did not reach.
 */
#ifndef CHATD_NOTIFY_H
#define CHATD_NOTIFY_H

#include <stdint.h>

#include "defs.h"

struct hub;

/* A slot's wake flag: see notify_slot. */
#define WAKE_NONE	0U
#define WAKE_SENT	1U
#define WAKE_CLAIM(pid)	((uint32_t)(pid) << 1)	/* being written by pid */

struct fifo_cache {
	int		fd;
	int32_t		slot;
	uint32_t	gen;
};

/* A backstop to run: see notify.c. */
struct backstop {
	int		armed;
	int64_t		due;	/* when it looks, now_ms() */
	int64_t		since;	/* the last hand-over it covers, now_ms() */
	uint64_t	pos;	/* the log's head then */
	uint32_t	room;	/* or RING_ALLROOMS */
	int		except;	/* a slot it need not look at, or -1 */
};

struct notifier {
	struct hub		*hub;
	struct fifo_cache	 cache[FIFO_CACHE];
	uint64_t		 wakes;	/* pipe writes this process made */
	int			 pending;	/* a room wake-up is deferred */
	uint32_t		 pend_room;
	int			 pend_except;
	int			 dead;	/* a wake found a vanished owner */
	uint32_t		 claim;	/* WAKE_CLAIM of this process */
	int64_t			 now;	/* now_ms() of the wake-up being spread */
	int			 handed;	/* it handed a part to a relay */
	struct backstop		 bs[2];	/* due first; hand-overs since */
	unsigned		 warned;	/* wakes that failed, once logged */
};

int	notify_open(struct hub *, int, int *);
int	notify_reachable(struct hub *, int, int);
void	notify_close(struct hub *, int, int, int);
void	notify_drain(int);
void	notify_clear(struct hub *, int);
void	notify_init(struct notifier *, struct hub *);
void	notify_forget(struct notifier *);
void	notify_prune(struct notifier *);
int	notify_slot(struct notifier *, int);
void	notify_room(struct notifier *, uint32_t, int);
void	notify_room_later(struct notifier *, uint32_t, int);
void	notify_flush(struct notifier *);
void	notify_all(struct notifier *);
void	notify_link(struct notifier *);
void	notify_relay(struct notifier *, int);
int	notify_timeout(const struct notifier *);
void	notify_backstop(struct notifier *);
void	notify_settle(struct notifier *);
int64_t	now_ms(void);
int	ms_until(int64_t);

#endif
