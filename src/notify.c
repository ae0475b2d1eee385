/* SPDX-License-Identifier: ISC */
/*
 * Wake-up pipes. A worker keeps the write ends of the pipes it used
 * recently in a small cache indexed by slot, so a busy room costs one
 * write(2) per sleeping recipient and no open(2); the slot's generation
 * tells a cached pipe of a departed worker from its successor's. Keeping
 * every worker's pipe open in every worker would cost N squared
 * descriptors.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "hub.h"
#include "log.h"
#include "notify.h"

/* Milliseconds on the monotonic clock, the same in every process. */
WAKE_PATH int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds from now until when, for poll(2): 0 if past, -1 if 0. */
WAKE_PATH int
ms_until(int64_t when)
{
	int64_t	left;

	if (when == 0)
		return -1;
	left = when - now_ms();
	return left > 0 ? (int)left : 0;
}

static void
fifo_name(char *buf, size_t len, int slot)
{
	snprintf(buf, len, "w%d", slot);
}

/*
 * Creates the slot's FIFO and opens its read end, plus a write end of
 * our own so that the read end never sees end-of-file when senders come
 * and go. Returns the read end, or -1.
 */
int
notify_open(struct hub *h, int slot, int *wfd)
{
	struct stat	st;
	char		name[32];
	int		rfd;

	fifo_name(name, sizeof(name), slot);
	/* A pipe left by a dead worker is normal; anything else is not. */
	if (fstatat(h->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISFIFO(st.st_mode))
		log_warnx("%s/%s was not a pipe (%s): replacing it",
		    h->dirpath, name, S_ISLNK(st.st_mode) ? "a symbolic link" :
		    S_ISDIR(st.st_mode) ? "a directory" : "a file");
	if (unlinkat(h->dirfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	if (mkfifoat(h->dirfd, name, 0600) == -1)
		return -1;
	rfd = openat(h->dirfd, name,
	    O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (rfd == -1)
		return -1;
	*wfd = openat(h->dirfd, name,
	    O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (*wfd == -1) {
		close(rfd);
		return -1;
	}
	return rfd;
}

/* Whether senders still find our pipe rfd under the slot's name. */
int
notify_reachable(struct hub *h, int slot, int rfd)
{
	struct stat	ours, named;
	char		name[32];

	fifo_name(name, sizeof(name), slot);
	if (fstat(rfd, &ours) == -1 || fstatat(h->dirfd, name, &named,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	return ours.st_dev == named.st_dev && ours.st_ino == named.st_ino;
}

/* Closes and removes a slot's FIFO. */
void
notify_close(struct hub *h, int slot, int rfd, int wfd)
{
	char	name[32];

	if (rfd != -1)
		close(rfd);
	if (wfd != -1)
		close(wfd);
	fifo_name(name, sizeof(name), slot);
	if (unlinkat(h->dirfd, name, 0) == -1 && errno != ENOENT)
		log_warn("unlink %s/%s", h->dirpath, name);
}

/*
 * Empties the pipe. A short read means it is empty: the usual wake-up
 * (one byte) costs one read(2), not a second one to see EAGAIN.
 */
WAKE_PATH void
notify_drain(int fd)
{
	char	buf[256];

	while (read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		;
}

/*
 * Called by the owner before it reads the log. The fence orders the
 * store before the reads of the log's head that follow, so a record
 * appended after them finds the flag clear and writes the pipe.
 */
WAKE_PATH void
notify_clear(struct hub *h, int slot)
{
	atomic_store(&h->slots[slot].wake, 0);
	atomic_thread_fence(memory_order_seq_cst);
}

void
notify_init(struct notifier *n, struct hub *h)
{
	size_t	i;

	memset(n, 0, sizeof(*n));
	n->hub = h;
	n->claim = WAKE_CLAIM(getpid());
	for (i = 0; i < FIFO_CACHE; i++) {
		n->cache[i].fd = -1;
		n->cache[i].slot = -1;
	}
}

/* Closes every cached pipe: a forked worker starts with none of ours. */
void
notify_forget(struct notifier *n)
{
	size_t	i;

	for (i = 0; i < FIFO_CACHE; i++)
		if (n->cache[i].fd != -1) {
			close(n->cache[i].fd);
			n->cache[i].fd = -1;
			n->cache[i].slot = -1;
		}
}

/*
 * Closes the cached pipes of workers that have left (their slot free or
 * taken by a successor). The listener calls it when it reaps: otherwise
 * it would hold a descriptor and an unlinked FIFO for every worker it
 * once woke, up to FIFO_CACHE of them, long after they are gone.
 */
void
notify_prune(struct notifier *n)
{
	struct fifo_cache	*c;
	struct slot		*s;
	size_t			 i;

	for (i = 0; i < FIFO_CACHE; i++) {
		c = &n->cache[i];
		if (c->fd == -1)
			continue;
		s = &n->hub->slots[c->slot];
		if (atomic_load(&s->state) != SLOT_FREE &&
		    atomic_load(&s->gen) == c->gen)
			continue;
		close(c->fd);
		c->fd = -1;
		c->slot = -1;
	}
}

/* The cached write end of a slot's current FIFO, opening it if needed. */
static int
fifo_get(struct notifier *n, int slot, uint32_t gen)
{
	struct fifo_cache	*c = &n->cache[slot % FIFO_CACHE];
	char			 name[32];

	if (c->fd != -1 && c->slot == slot && c->gen == gen)
		return c->fd;
	if (c->fd != -1)
		close(c->fd);
	fifo_name(name, sizeof(name), slot);
	c->fd = openat(n->hub->dirfd, name,
	    O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	c->slot = slot;
	c->gen = gen;
	return c->fd;
}

/* Writes a slot's pipe once: 0, or -1 with errno set. */
static int
fifo_wake(struct notifier *n, int slot, uint32_t gen)
{
	int	fd, saved;

	fd = fifo_get(n, slot, gen);
	if (fd == -1 && (errno == EMFILE || errno == ENFILE)) {
		/* Out of descriptors: give back the ones we keep, once. */
		notify_forget(n);
		fd = fifo_get(n, slot, gen);
	}
	if (fd == -1)
		return -1;
	n->wakes++;
	if (write(fd, "", 1) == -1 && errno != EAGAIN) {
		saved = errno;
		close(fd);
		n->cache[slot % FIFO_CACHE].fd = -1;
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * A pipe that is missing (ENOENT) or that its reader closed (EPIPE)
 * usually means its owner is gone. But somebody may have removed the
 * run directory, and the listener made it again: then the owner makes
 * a new pipe there (see hub.c), and we must look in the new directory.
 * Returns 1 when it is worth trying once more.
 */
static int
fifo_moved(struct notifier *n, int err)
{
	char	why[PATH_MSG_MAX];
	int	r;

	if (err != ENOENT && err != EPIPE)
		return 0;
	if ((r = hub_dir_refresh(n->hub, 0, why, sizeof(why))) == 1)
		notify_forget(n);
	return r != -1;
}

static int	wake_write(struct notifier *, int, uint32_t);

/*
 * Whether a slot's wake flag has been set for longer than a wake-up
 * takes: its owner is stopped or starved, or its waker was stopped or
 * killed between claiming the flag and writing the pipe.
 */
static int
overdue(const struct slot *s, int64_t now)
{
	return now - atomic_load_explicit(&s->wake_at, memory_order_relaxed) >
	    RELAY_DEADLINE_MS;
}

/*
 * Claims a slot's wake flag if it is clear, and notes when. Returns
 * the flag as it is now: our claim, or what another waker left.
 */
static uint32_t
wake_claim(struct notifier *n, struct slot *s)
{
	uint32_t	cur = WAKE_NONE;

	if (!atomic_compare_exchange_strong(&s->wake, &cur, n->claim))
		return cur;
	atomic_store_explicit(&s->wake_at, now_ms(), memory_order_relaxed);
	return n->claim;
}

/*
 * Wakes a slot's owner unless a wake-up is pending already: then it
 * costs no system call. A waker claims the flag with its own mark
 * (WAKE_CLAIM), writes the pipe, then sets WAKE_SENT if the flag still
 * holds its mark. A waker stopped or killed in between would leave a
 * claim that turns every later waker away and no byte to wake the
 * owner: a claim older than RELAY_DEADLINE_MS is not trusted, and the
 * pipe is written for it (a byte too many costs the owner one empty
 * read). WAKE_SENT is trusted, however old: the byte is there, and an
 * owner that has not run since is stopped or starved, its own trouble.
 * Returns 1 when it wrote.
 */
int
notify_slot(struct notifier *n, int slot)
{
	struct slot	*s = &n->hub->slots[slot];
	uint32_t	 cur = wake_claim(n, s);

	HUB_ASSERT_UNLOCKED();
	if (cur != n->claim && (cur == WAKE_SENT || !overdue(s, now_ms())))
		return 0;
	FAULT(WAKE_CLAIMED);
	return wake_write(n, slot, cur);
}

/*
 * Writes a slot's pipe, whatever its flag says: for the rare wake-ups
 * that must not trust a flag a dead process may have left, burial and
 * shutdown. Returns 1 when it wrote.
 */
static int
notify_force(struct notifier *n, int slot)
{
	return wake_write(n, slot, wake_claim(n, &n->hub->slots[slot]));
}

/*
 * Writes a slot's pipe for the flag value claim, and marks it sent if
 * the flag still holds it (the owner may have cleared it, and another
 * waker claimed it, meanwhile). Returns 1 when it wrote.
 */
static int
wake_write(struct notifier *n, int slot, uint32_t claim)
{
	struct slot	*s = &n->hub->slots[slot];
	uint32_t	 gen;
	int		 err;

	gen = atomic_load(&s->gen);
	err = fifo_wake(n, slot, gen) == 0 ? 0 : errno;
	if (err != 0 && fifo_moved(n, err))
		err = fifo_wake(n, slot, gen) == 0 ? 0 : errno;
	if (err == 0) {
		(void)atomic_compare_exchange_strong(&s->wake, &claim,
		    WAKE_SENT);
		return 1;
	}
	errno = err;
	/* No reader: the owner is gone, or was never there yet. */
	if (errno == ENXIO || errno == ENOENT || errno == EPIPE) {
		n->dead = 1;
		return 0;
	}
	/*
	 * Not woken: clear the flag, or no later sender would try again
	 * and the owner would sleep on; and its time, or a backstop would
	 * take it for woken (woken_since).
	 */
	atomic_store(&s->wake_at, 0);
	atomic_store(&s->wake, WAKE_NONE);
	if (!n->warned++)
		log_warn("wake-up pipe of slot %d", slot);
	return 0;
}

/* Whether slot i is registered and in room (or room is every room). */
static int
member(const struct hub *h, uint32_t i, uint32_t room)
{
	const struct slot	*s = &h->slots[i];

	return atomic_load_explicit(&s->state, memory_order_relaxed) ==
	    SLOT_ACTIVE && (room == RING_ALLROOMS ||
	    atomic_load_explicit(&s->room, memory_order_relaxed) == room);
}

/*
 * Whether a slot has sat on a wake-up for longer than a relay may:
 * its worker is stopped, starved or busy elsewhere. It gets no task.
 */
static int
stalled(const struct slot *s, int64_t now)
{
	return atomic_load_explicit(&s->wake, memory_order_relaxed) != 0 &&
	    overdue(s, now);
}

#define RELAY(room, end)	((uint64_t)(room) << 32 | (end))
#define RELAY_ROOM(t)		((uint32_t)((t) >> 32))
#define RELAY_END(t)		((uint32_t)(t))

static void	wake_range(struct notifier *, uint32_t, uint32_t, uint32_t,
		    int);

/*
 * hand_over and wake_range call each other on purpose, and the recursion
 * is bounded: each wake_range hands out parts of at most 1/RELAY_FANOUT
 * of its range, and a hand-over that falls back does a part itself, so
 * it is at most log4(slots) deep before RELAY_LEAF slots are woken in a
 * loop. NOLINTBEGIN(misc-no-recursion)
 */

/*
 * Hands slot i the wake-ups of room's members after it up to end, and
 * wakes it. A task the slot already holds for the same room grows to
 * cover both; one for another room is left alone, and we do the range
 * ourselves. Once handed over, the slot's owner may have left without
 * seeing it (it takes its last task after it stops being ACTIVE): then
 * we take the task back, if it is still there, and do it ourselves.
 */
static void
hand_over(struct notifier *n, uint32_t i, uint32_t room, uint32_t end,
    int except)
{
	struct slot	*s = &n->hub->slots[i];
	uint32_t	 gen = atomic_load(&s->gen);
	uint64_t	 cur = atomic_load(&s->relay), task;

	n->handed = 1;
	do {
		if (cur != 0 && RELAY_ROOM(cur) != room) {
			wake_range(n, room, i + 1, end, except);
			notify_slot(n, (int)i);
			return;
		}
		task = RELAY(room, cur != 0 && RELAY_END(cur) > end ?
		    RELAY_END(cur) : end);
	} while (!atomic_compare_exchange_weak(&s->relay, &cur, task));
	if (atomic_load(&s->state) != SLOT_ACTIVE ||
	    atomic_load(&s->gen) != gen) {
		if (atomic_compare_exchange_strong(&s->relay, &task, 0))
			wake_range(n, room, i + 1, RELAY_END(task), except);
		return;
	}
	notify_slot(n, (int)i);
}

/*
 * Wakes room's members in slots [lo, end), but except: a few directly,
 * many by handing equal parts of the range to the first member of each
 * that is not stalled.
 */
static void
wake_range(struct notifier *n, uint32_t room, uint32_t lo, uint32_t end,
    int except)
{
	struct hub	*h = n->hub;
	uint32_t	 a, b, i, step;

	if (end > h->hdr->nslots)
		end = h->hdr->nslots;
	if (lo >= end)
		return;
	if (end - lo <= RELAY_LEAF) {
		for (i = lo; i < end; i++)
			if ((int)i != except && member(h, i, room))
				notify_slot(n, (int)i);
		return;
	}
	step = (end - lo + RELAY_FANOUT - 1) / RELAY_FANOUT;
	for (a = lo; a < end; a = b) {
		b = end - a > step ? a + step : end;
		/* A stalled member passed over has a wake-up already. */
		for (i = a; i < b; i++)
			if ((int)i != except && member(h, i, room) &&
			    !stalled(&h->slots[i], n->now))
				break;
		if (i < b)
			hand_over(n, i, room, b, except);
	}
}
/* NOLINTEND(misc-no-recursion) */

/*
 * Called by a woken worker (slot) once its wake flag is clear: passes
 * on the wake-ups it was handed, before it reads the log itself. A
 * relay's own hand-overs set no deadline: the sender's covers them.
 */
WAKE_PATH void
notify_relay(struct notifier *n, int slot)
{
	uint64_t	task;

	HUB_ASSERT_UNLOCKED();
	task = atomic_exchange(&n->hub->slots[slot].relay, 0);
	if (task == 0)
		return;
	n->now = now_ms();
	wake_range(n, RELAY_ROOM(task), (uint32_t)slot + 1, RELAY_END(task),
	    slot);
}

/*
 * The backstop. A relay may be stopped, starved, sleeping or dying
 * with its part of the room in hand, and nobody may wait on it. So a
 * sender that handed anything over looks again RELAY_DEADLINE_MS later
 * (notify_backstop, from its main loop) at every member of the room
 * that has not read up to where the log stood when it handed over
 * (rpos, stored by the owner after a drain), and calls notify_slot for
 * each. That is exact:
 *  - A member whose rpos reached the head we saw has read our lines.
 *  - A member with a wake-up sent (WAKE_SENT) will read the log, our
 *    lines included: the owner clears the flag before it reads.
 *  - A member with no wake-up pending, but woken (wake_at) in a later
 *    millisecond than the hand-over, was woken after our lines were in
 *    the log and is reading them: nothing to do, as in the usual case.
 *  - Any other member with no wake-up pending is woken by us.
 *  - A member whose flag a waker claimed longer than a deadline ago
 *    gets the byte that waker never wrote (notify_slot); one claimed
 *    more lately is looked at once more a deadline later.
 * So nobody but the sender stands between a line and its recipients
 * for more than a deadline or two, whatever became of the relays. A
 * member caught between clearing its flag and storing rpos gets one
 * wake-up too many, and a late relay wakes members the backstop woke
 * already: both cost a read of an empty pipe, never a line delivered
 * twice, since delivery goes by each reader's own log position. The
 * scan is O(members), cheaper per member than the wake-ups it backs,
 * and made once per deadline however many lines were sent meanwhile.
 * Relays that sat on a wake-up past the deadline are passed over when
 * parts are handed out (stalled), so a stopped worker costs its part
 * one deadline, not one per line. The sender itself is on the path of
 * its own lines only: stopped before the backstop, it delays those.
 */
/*
 * Adds a hand-over (or an earlier backstop) to b: one look covers them
 * all, at the room (every room if they differ) and the log's head of
 * the last.
 */
static void
backstop_add(struct backstop *b, uint32_t room, int except, int64_t since,
    uint64_t pos)
{
	if (!b->armed) {
		b->armed = 1;
		b->room = room;
		b->except = except;
	} else if (b->room != room || b->except != except) {
		b->room = RING_ALLROOMS;
		b->except = -1;
	}
	if (since > b->since)
		b->since = since;
	if (pos > b->pos)
		b->pos = pos;
}

/*
 * A hand-over was made: the backstop due first covers it if it is free;
 * else the next one does, which is due RELAY_DEADLINE_MS after its last
 * hand-over once the first has run. So every hand-over is looked behind
 * between one and two deadlines later, never sooner (when the tree is
 * still at work), and a busy sender looks once per deadline at most.
 */
static void
backstop_arm(struct notifier *n, uint32_t room, int except)
{
	struct backstop	*b = &n->bs[n->bs[0].armed ? 1 : 0];

	backstop_add(b, room, except, n->now, ring_head(&n->hub->ring));
	if (b == &n->bs[0])
		b->due = n->now + RELAY_DEADLINE_MS;
}

/*
 * Whether a member with no wake-up pending was woken after the last
 * hand-over, and so after our lines were in the log. A later
 * millisecond: one woken in the same may have been woken just before.
 */
static int
woken_since(const struct slot *s, int64_t since)
{
	return atomic_load_explicit(&s->wake_at, memory_order_relaxed) >
	    since;
}

/* Milliseconds until the backstop is due, 0 if it is, or -1: none. */
WAKE_PATH int
notify_timeout(const struct notifier *n)
{
	return n->bs[0].armed ? ms_until(n->bs[0].due) : -1;
}

/*
 * Looks behind the hand-overs b covers; returns 1 when a member's
 * wake-up was too young to judge, and it must look again.
 */
static int
backstop_run(struct notifier *n, const struct backstop *b, int64_t now)
{
	struct hub	*h = n->hub;
	struct slot	*s;
	uint32_t	 i, hwm, w;
	uint64_t	 late = 0;
	int		 again = 0;

	/* Our posts before the loads below: see notify_clear. */
	atomic_thread_fence(memory_order_seq_cst);
	hwm = atomic_load(&h->hdr->hwm);
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		if ((int)i == b->except || !member(h, i, b->room) ||
		    atomic_load_explicit(&s->rpos, memory_order_relaxed) >=
		    b->pos)
			continue;
		w = atomic_load_explicit(&s->wake, memory_order_relaxed);
		if (w == WAKE_SENT ||
		    (w == WAKE_NONE && woken_since(s, b->since)))
			continue;
		if (notify_slot(n, (int)i))
			late++;
		else if (w != WAKE_NONE && !overdue(s, now))
			again = 1;
	}
	if (late > 0)
		atomic_fetch_add(&h->hdr->late, late);
	return again;
}

/*
 * Runs the backstop if it is due. A member whose wake-up is pending but
 * younger than the deadline may have a waker stopped halfway: it is
 * looked at once more a deadline later, when notify_slot no longer
 * trusts its flag.
 */
WAKE_PATH void
notify_backstop(struct notifier *n)
{
	struct backstop	 b = n->bs[0];
	int64_t		 now;
	int		 again;

	HUB_ASSERT_UNLOCKED();
	/*
	 * Every wake-up of every worker comes here, and most have nothing
	 * armed: those read no clock.
	 */
	if (!b.armed || (now = now_ms()) < b.due)
		return;
	again = backstop_run(n, &b, now);
	if (again)
		backstop_add(&n->bs[1], b.room, b.except, b.since, b.pos);
	n->bs[0] = n->bs[1];
	memset(&n->bs[1], 0, sizeof(n->bs[1]));
	if (n->bs[0].armed)
		n->bs[0].due = (again ? now : n->bs[0].since) +
		    RELAY_DEADLINE_MS;
}

/*
 * For a process about to exit: waits for the backstops and runs them,
 * a few rounds at most (each looks again only at members just woken).
 */
void
notify_settle(struct notifier *n)
{
	struct timespec	ts;
	int		ms, round;

	HUB_ASSERT_UNLOCKED();
	for (round = 0; round < 8 && (ms = notify_timeout(n)) != -1;
	    round++) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		if (ms > 0)
			(void)nanosleep(&ts, NULL);
		notify_backstop(n);
	}
}

/* Wakes every registered user in a room (or all rooms), but one slot. */
void
notify_room(struct notifier *n, uint32_t room, int except)
{
	HUB_ASSERT_UNLOCKED();
	/* Our posts before the flags we read: see notify_clear. */
	atomic_thread_fence(memory_order_seq_cst);
	n->now = now_ms();
	n->handed = 0;
	wake_range(n, room, 0, atomic_load(&n->hub->hdr->hwm), except);
	if (n->handed)
		backstop_arm(n, room, except);
	if (hub_link_slot(n->hub) != except)
		notify_link(n);
}

/*
 * Wakes the link process, if there is one: every room's lines and every
 * local user's comings and goings are its business.
 */
void
notify_link(struct notifier *n)
{
	int	link = hub_link_slot(n->hub);

	if (link != -1)
		(void)notify_slot(n, link);
}

/*
 * Wakes a room once the caller has posted everything it has to post:
 * the lines of one read from a client go to the log one by one, but
 * their recipients are woken once, and find them all at once. A wake-up
 * for another room first sends the one deferred.
 */
void
notify_room_later(struct notifier *n, uint32_t room, int except)
{
	if (n->pending && (n->pend_room != room || n->pend_except != except))
		notify_flush(n);
	n->pending = 1;
	n->pend_room = room;
	n->pend_except = except;
}

/* Sends the deferred wake-up, if any. */
void
notify_flush(struct notifier *n)
{
	HUB_ASSERT_UNLOCKED();
	if (!n->pending)
		return;
	n->pending = 0;
	notify_room(n, n->pend_room, n->pend_except);
}

/*
 * Wakes every connection, registered or not (burial, shutdown), even
 * those whose flag says a wake-up is pending: the dead may have set it
 * and died before writing the pipe.
 */
void
notify_all(struct notifier *n)
{
	struct hub	*h = n->hub;
	uint32_t	 i, hwm = atomic_load(&h->hdr->hwm);

	HUB_ASSERT_UNLOCKED();
	for (i = 0; i < hwm; i++)
		if (atomic_load(&h->slots[i].state) != SLOT_FREE)
			(void)notify_force(n, (int)i);
}

