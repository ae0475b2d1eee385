/* SPDX-License-Identifier: ISC */
/*
 * Persistence, as the hub sees it: it registers the hooks that load a
 * new segment and hear of history lines and ban changes under the
 * lock, and writes them out after each unlock. The files and their
 * formats are in statedir.c, journal.c and stfmt.c; state.h says what
 * is promised and how the writers share the files.
 */
#include <stdio.h>
#include <time.h>

#include "journal.h"
#include "log.h"
#include "state.h"
#include "statedir.h"
#include "stfmt.h"

static struct sbuf	st_pending;	/* history lines noted under the lock */
static int		st_bans_dirty;
static int		st_loading;
static int		st_flushing;

/*
 * In the segment's creator, before it is ready: remembers the state
 * directory in the header and loads the bans and the history.
 */
void
state_load(struct hub *h, const struct config *cf)
{
	int	dfd;

	if (cf->statedir[0] == '\0')
		return;
	snprintf(h->hdr->statedir, sizeof(h->hdr->statedir), "%s",
	    cf->statedir);
	if ((dfd = state_dir(h)) == -1)
		return;
	st_loading = 1;
	bans_load(h, dfd);
	hist_load(h, dfd);
	st_loading = 0;
	st_bans_dirty = 0;
}

/* Under the hub lock: a line entered a room's history. */
void
state_note_history_locked(struct hub *h, uint32_t room, int64_t when, int kind,
    const char *text, size_t len)
{
	HUB_ASSERT_LOCKED();
	if (st_loading || h->hdr->statedir[0] == '\0')
		return;
	hist_format(&st_pending, ++h->hdr->histseq, when, kind,
	    h->rooms[room].name, text, len);
}

/* Under the hub lock: the ban table changed. */
void
state_note_bans_locked(void)
{
	HUB_ASSERT_LOCKED();
	if (!st_loading)
		st_bans_dirty = 1;
}

/*
 * After the hub lock is dropped (hub_unlock calls it): writes out what
 * was noted under the lock. History lines that find the journal being
 * compacted wait for the next flush: the worker's loop tries again
 * every STATE_RETRY_MS while state_waiting(), and state_finish() as it
 * leaves; at most STATE_PENDING_MAX bytes. Returns 1 while lines wait.
 */
WAKE_PATH int
state_flush(struct hub *h)
{
	HUB_ASSERT_UNLOCKED();
	if (st_flushing || !state_waiting())
		return 0;
	st_flushing = 1;
	if (st_pending.len > 0 &&
	    (journal_append(h, st_pending.p, st_pending.len) == 0 ||
	    st_pending.len > STATE_PENDING_MAX)) {
		if (st_pending.len > STATE_PENDING_MAX && !state_quiet())
			log_warnx("%s/history: %zu bytes of lines not saved: "
			    "the journal stayed locked", state_path(),
			    st_pending.len);
		st_pending.len = 0;
	}
	if (st_bans_dirty) {
		st_bans_dirty = 0;
		if (bans_save(h) == 1)
			st_bans_dirty = 1;
	}
	/* A compaction that found a lock taken, tried again. */
	if (st_pending.len == 0)
		journal_retry(h);
	st_flushing = 0;
	return state_waiting();
}

/* Whether history lines, bans or a compaction wait for a lock. */
WAKE_PATH int
state_waiting(void)
{
	return st_pending.len > 0 || st_bans_dirty || journal_waiting();
}

/*
 * For a process about to exit: gives history lines and bans still
 * waiting for a lock up to STATE_FINISH_MS to be written.
 */
void
state_finish(struct hub *h)
{
	struct timespec	ts = { 0, 10L * 1000 * 1000 };
	int		waited;

	HUB_ASSERT_UNLOCKED();
	for (waited = 0; state_flush(h) && waited < STATE_FINISH_MS;
	    waited += 10)
		(void)nanosleep(&ts, NULL);
	if (st_pending.len > 0) {
		if (!state_quiet())
			log_warnx("%s/history: %zu bytes of lines not saved: "
			    "the journal stayed locked", state_path(),
			    st_pending.len);
		st_pending.len = 0;
	}
	if (st_bans_dirty) {
		log_warnx("%s/bans: not saved: %s/lock stayed locked",
		    state_path(), state_path());
		st_bans_dirty = 0;
	}
	/* Left to the next appender. */
	journal_forget();
}

static const struct hub_hooks	state_hooks = {
	.load = state_load,
	.history = state_note_history_locked,
	.bans = state_note_bans_locked,
	.unlocked = state_flush
};

/*
 * Registers the hooks with the hub: every process that changes the
 * segment calls it (state_open does) before it takes the lock.
 */
void
state_init(void)
{
	hub_set_hooks(&state_hooks);
}

/*
 * At start-up, before the segment is made: registers the hooks and
 * checks the state directory (none: path is empty).
 */
void
state_open(const char *path)
{
	state_init();
	statedir_open(path);
}
