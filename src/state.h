/* SPDX-License-Identifier: ISC */
/*
 * state.c: what outlives the segment when --state-dir is set: each
 * room's history and the ban table, as two files in the state
 * directory. The directory is made 0700 if missing and must be a
 * directory of chatd's effective user that no one else may write, or
 * chatd does not start (69). Its path is kept in the segment's header,
 * so every process of the instance writes to the one its creator chose.
 *
 * What it promises. A process killed at any moment (kill -9 of the whole
 * server included) loses nothing it had written: the bans file is
 * replaced whole by rename, and each history line is one O_APPEND write
 * of a whole line. History appends are not fsynced, so a power loss may
 * lose the last lines; bans are fsynced (file, then directory). A line
 * with a bad checksum or bad field, or a last line cut short, is logged
 * as "FILE:LINE: why, skipped" and the rest loads; a file that cannot be
 * read is logged and left alone. Nothing here is fatal after start-up.
 *
 * STATE/bans: one ban a line, "b1" TAB address TAB name TAB reason TAB
 * checksum. Rewritten whole after each change: bans.tmp is written,
 * fsynced and renamed over bans, then the directory is fsynced. Writers
 * take flock(STATE/lock) first and then the hub lock to copy the table,
 * so the last rename is always of the newest copy. A writer that finds
 * STATE/lock taken does not wait: it tries again like a history line
 * that finds the journal being compacted (below).
 *
 * STATE/history: a journal, one chat or /me line a line, "h1" TAB
 * sequence TAB time TAB kind ("chat" or "me") TAB room TAB text TAB
 * checksum. The sequence number is given under the hub lock when the
 * line enters the room's history (hdr->histseq), so it orders the lines
 * as posted even when appenders write them out of order. Loading sorts
 * by it and keeps the last --history lines of each room.
 *
 * In every field a backslash, tab, CR, LF or other control byte is
 * written as \\, \t, \r, \n or \xHH, so a field never holds a tab or a
 * newline. The checksum is FNV-1a (32 bits, 8 lower-case hex digits) of
 * the line's bytes before its last tab.
 *
 * Who writes when. A worker never does file I/O under the hub lock:
 * room_history_add_locked() and the ban table note the change under the
 * lock (state_note_*_locked, through the hub's hooks), and hub_unlock() calls state_flush(), which writes it
 * out once the lock is dropped.
 *
 * Compaction. The segment's creator, holding the run directory's lock
 * (nobody else runs), loads the journal and rewrites it with only the
 * kept lines (history.tmp, fsync, rename, fsync of the directory). At
 * run time, an appender that sees the journal grow past
 * max(STATE_JOURNAL_FACTOR times its size after the last compaction,
 * STATE_JOURNAL_MIN) compacts it the same way. Appenders hold
 * flock(LOCK_SH) on the journal around each write; the compactor takes
 * flock(STATE/lock), then LOCK_EX on the journal, reads and replaces it,
 * and only then unlocks. Neither waits for the other: a process may be
 * stopped, or on a slow disk, with a lock in hand. A compactor that
 * finds either lock taken tries again like the appender below, and an
 * appender that finds the journal being compacted keeps its lines and
 * tries again every STATE_RETRY_MS (state_waiting), and as it leaves
 * (state_finish). An appender, once it holds LOCK_SH, checks that
 * its descriptor is still the file the path names (same inode) and
 * reopens the path if not. So no line is written to a file already read,
 * even if the compactor died right after its rename.
 *
 * A room forgotten because the room table was full keeps its lines in
 * the journal until it is compacted away, so after a restart it may
 * come back with its history if it fits. When more rooms have history
 * than --max-rooms holds, the ones with the newest lines are kept and
 * the others reported.
 */
#ifndef CHATD_STATE_H
#define CHATD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hub.h"

void	state_init(void);
void	state_open(const char *);
void	state_load(struct hub *, const struct config *);
void	state_note_history_locked(struct hub *, uint32_t, int64_t, int,
	    const char *, size_t);
void	state_note_bans_locked(void);
int	state_flush(struct hub *);
void	state_finish(struct hub *);
int	state_waiting(void);

/* One history journal line, decoded in place: see state_hist_decode(). */
struct state_hist {
	uint64_t	 seq;
	int64_t		 time;
	int		 kind;		/* REC_CHAT or REC_ME */
	const char	*room;		/* NUL-ended, a valid room name */
	size_t		 roomlen;
	const char	*text;		/* NUL-ended, but may hold a NUL */
	size_t		 len;
};

/* One bans file line, decoded in place: NUL-ended strings. */
struct state_ban {
	const char	*addr;		/* ADDR, ADDR/LEN or "local" */
	struct cidr	 range;		/* addr parsed */
	const char	*name;
	const char	*reason;
	int64_t		 expires;	/* time(); 0: never (a "b1" line) */
};

const char *state_hist_decode(char *, size_t, struct state_hist *);
const char *state_ban_decode(char *, size_t, struct state_ban *);
char	*state_hist_line(const struct state_hist *, size_t *);
char	*state_ban_line(const struct ban *, size_t *);

#endif
