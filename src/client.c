/* SPDX-License-Identifier: ISC */
/*
 * What a worker does for its client, and for the commands (cmd.c):
 * answer it, post for others, copy what the log holds for it, replay a
 * room's history, hold its input back, and end the session. worker.c
 * has the loop that calls these; cmd.c calls them too, never the loop.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fault.h"
#include "log.h"
#include "proctitle.h"
#include "room.h"
#include "session.h"
#include "state.h"
#include "worker.h"

/* Our pipe's write end, for the signal handlers in worker.c; -1: none. */
int	worker_self_wake = -1;

/*
 * Queues a reply line for our client. A client whose backlog is full has
 * stopped reading; it is too slow to keep.
 */
void
worker_reply(struct worker *w, const char *fmt, ...)
{
	va_list	ap;
	size_t	n;

	va_start(ap, fmt);
	n = text_vformat(w->reply, RECORD_TEXT_MAX, fmt, ap);
	va_end(ap);
	if (outbuf_line(&w->out, w->reply, n) == -1)
		worker_exit(w, "too slow", NULL);
}

/* Under the lock: a record from us, see session_post_locked. */
void
worker_post_locked(struct worker *w, enum rec_kind kind, uint32_t room,
    int target, const char *text, size_t len)
{
	HUB_ASSERT_LOCKED();
	session_post_locked(w->hub, w->slot, w->gen, kind, room, target, text,
	    len);
}

/*
 * Posts a record and wakes whoever must read it: a room once the rest
 * of the client's input is posted too (worker_input's notify_flush).
 */
void
worker_post(struct worker *w, enum rec_kind kind, uint32_t room, int target,
    const char *text, size_t len)
{
	HUB_ASSERT_UNLOCKED();
	hub_lock(w->hub);
	worker_post_locked(w, kind, room, target, text, len);
	hub_unlock(w->hub);
	if (target >= 0)
		notify_slot(&w->nt, target);
	else
		notify_room_later(&w->nt, room, w->slot);
}

/* Whether a log record is meant for this worker's client. */
WAKE_PATH static int
worker_wants(const struct record *rec, void *arg)
{
	const struct worker	*w = arg;

	if (rec->target >= 0)
		return rec->target == w->slot && rec->tgen == w->gen;
	if (rec->exclude == w->slot && rec->xgen == w->gen)
		return 0;
	return rec->room == RING_ALLROOMS || rec->room == w->room;
}

/*
 * For chatctl: the lag, and the wake-ups per line delivered. Plain
 * stores by the owner alone, no lock.
 */
WAKE_PATH static void
worker_counters(struct worker *w)
{
	struct slot	*s = &w->hub->slots[w->slot];

	atomic_store_explicit(&s->rpos, w->pos, memory_order_relaxed);
	atomic_store_explicit(&s->wakeups, w->woken, memory_order_relaxed);
	atomic_store_explicit(&s->lines, w->lines, memory_order_relaxed);
}

/*
 * Copies every new record meant for us into the backlog; -1 when we are
 * too slow (lapped by the log and a line for us lost, or the backlog is
 * full). locked says whether the caller holds the hub lock; it makes no
 * system call that waits. Unlocked, it first clears our wake flag and
 * passes on the wake-ups we were handed: the main loop always drains
 * unlocked after any locked drain, so none of them is left waiting.
 */
WAKE_PATH int
worker_drain(struct worker *w, int locked)
{
	struct record	rec;
	int		r;

	if (!w->registered)
		return 0;
	if (!locked) {
		notify_clear(w->hub, w->slot);
		notify_relay(&w->nt, w->slot);
	}
	for (;;) {
		switch (ring_read(&w->hub->ring, &w->pos, &rec, w->text,
		    worker_wants, w)) {
		case RING_EMPTY:
			worker_counters(w);
			return 0;
		case RING_LAPPED:
			if (!locked)
				hub_lock(w->hub);
			r = hub_resync_locked(w->hub, w->room, w->slot,
			    &w->pos);
			if (!locked)
				hub_unlock(w->hub);
			if (r == -1)
				return -1;
			break;
		case RING_OK:
			if (outbuf_line(&w->out, w->text, rec.len) == -1)
				return -1;
			w->lines++;
			/* Kicked: nothing after this line is for us. */
			if (rec.kind == REC_KICK) {
				w->kicked = 1;
				return 0;
			}
			break;
		}
	}
}

/*
 * Leaves if a kick came for us. The kicker told the room, unless it died
 * before: then our slot is still in the room, which hears that we quit.
 */
WAKE_PATH void
worker_check_kicked(struct worker *w)
{
	if (w->kicked)
		worker_exit(w, "kicked", NULL);
}

/* Sends a room's history, framed, and frees the copy. */
void
worker_replay(struct worker *w, struct history *hist, const char *room)
{
	const struct hist_entry	*e;
	struct tm		 tm;
	time_t			 t;
	size_t			 i;

	if (hist->n == 0)
		return;
	worker_reply(w, "* history: last %zu %s in %s", hist->n,
	    plural(hist->n, "message", "messages"), room);
	for (i = 0; i < hist->n; i++) {
		e = (const struct hist_entry *)(hist->buf + i * hist->size);
		t = (time_t)e->time;
		if (localtime_r(&t, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
		worker_reply(w, "[%02d:%02d] %.*s", tm.tm_hour, tm.tm_min,
		    (int)e->len, (const char *)(e + 1));
		if (i == 0)
			FAULT(HISTORY_REPLAY);
	}
	worker_reply(w, "* end of history");
	free(hist->buf);
	hist->buf = NULL;
}

/*
 * Gives the client up to FLUSH_GRACE_MS to take what is queued, then
 * closes our side and reads what it still sends, so that the close does
 * not turn into a reset that would destroy our last lines in transit.
 */
void
worker_linger(struct worker *w)
{
	struct pollfd	pfd = { .fd = OUT_FD, .events = POLLOUT };
	int64_t		end = now_ms() + FLUSH_GRACE_MS;
	char		buf[4096];

	while (outbuf_pending(&w->out) > 0 && now_ms() < end) {
		if (outbuf_flush(&w->out, OUT_FD) == -1)
			return;
		if (outbuf_pending(&w->out) > 0 &&
		    poll(&pfd, 1, (int)(end - now_ms())) == -1 &&
		    errno != EINTR)
			return;
	}
	if (shutdown(OUT_FD, SHUT_WR) == -1)
		return;
	pfd.fd = IN_FD;
	pfd.events = POLLIN;
	end = now_ms() + FLUSH_GRACE_MS / 2;
	while (now_ms() < end && poll(&pfd, 1, (int)(end - now_ms())) > 0)
		if (read(IN_FD, buf, sizeof(buf)) <= 0)
			break;
}

/*
 * Ends the session: a last line for the client (or NULL), and a reason
 * for the room ("" for a plain quit, NULL for none). Frees the slot so
 * the name can be taken at once, then says goodbye and exits.
 */
void
worker_exit(struct worker *w, const char *reason, const char *last)
{
	struct hub	*h = w->hub;
	size_t		 n = 0;
	int		 heir, slow = reason != NULL &&
			    strcmp(reason, "too slow") == 0;

	HUB_ASSERT_UNLOCKED();
	notify_flush(&w->nt);
	/*
	 * Lines the log already holds for us come before the goodbye: a
	 * /quit read in the same round as a wake-up must not drop them.
	 * Not after a kick (nothing after it is ours), nor when too slow.
	 */
	if (!slow && !w->kicked)
		(void)worker_drain(w, 0);
	/* Our pipe is about to close: its number may be reused. */
	worker_self_wake = -1;
	if (last != NULL)
		(void)outbuf_line(&w->out, last, strlen(last));
	if (w->registered && reason != NULL &&
	    !atomic_load(&h->hdr->shutdown))
		n = reason[0] == '\0' ?
		    text_format(w->text, RECORD_TEXT_MAX, "* %s quit", w->name) :
		    text_format(w->text, RECORD_TEXT_MAX, "* %s quit (%s)",
		    w->name, reason);
	log_debug("%s left (%s) after %llu wake-ups",
	    w->registered ? w->name : w->addr, reason ? reason : "no reason",
	    (unsigned long long)w->woken);
	/*
	 * Our pipe goes while the slot is still ours: once it is free, a
	 * new worker may take it and make its own pipe under the same name,
	 * which a late unlink would remove, leaving it never woken.
	 */
	notify_close(h, w->slot, w->rfd, w->wfd);
	hub_lock(h);
	/* Gone from the room already (kicked): it heard why. */
	if (n > 0 && (hub_quiet_locked(h, w->room) ||
	    atomic_load(&h->slots[w->slot].state) != SLOT_ACTIVE))
		n = 0;
	heir = session_end_locked(h, w->slot, w->text, n,
	    w->cf->live.oper_first_user, reason != NULL ? reason : "");
	hub_unlock(h);
	/* Handed over before we left: nobody else will pass them on. */
	notify_relay(&w->nt, w->slot);
	if (n > 0)
		notify_room(&w->nt, w->room, w->slot);
	else
		notify_link(&w->nt);
	if (heir != -1)
		notify_slot(&w->nt, heir);
	/*
	 * Our wake-ups and our history lines are seen through now, before
	 * the instance directory's lock, which others may wait for. The
	 * segment stays mapped for us even if another leaver removes it.
	 */
	notify_settle(&w->nt);
	state_finish(h);
	/* Perhaps the last one out: then the segment goes too. */
	hub_leave_begin(h);
	hub_leave_end(h);
	if (!slow)
		worker_linger(w);
	_exit(0);
}

/*
 * Holds the client's input back for ms, then answers reply (a static
 * string): a wrong /oper password is answered late, so guessing is
 * slow, but the worker goes on delivering and relaying meanwhile, as
 * nobody may wait on it. What the client sent after the command is
 * handled after the answer, in order.
 */
void
worker_hold(struct worker *w, unsigned ms, const char *reply)
{
	w->held_until = now_ms() + ms;
	w->held_reply = reply;
}

/*
 * The process title: the peer's address, then the user's name too.
 * Both are safe to show: the address is numeric (or "local"), and a
 * name is set only once text_name_problem() accepted it.
 */
void
worker_title(const struct worker *w)
{
	if (w->registered)
		proctitle_set("%s@%s", w->name, w->addr);
	else
		proctitle_set("worker %s", w->addr);
}
