/* SPDX-License-Identifier: ISC */
/*
 * The history journal: loading it into a new segment, appending the
 * lines noted under the lock, and compacting it (state.h).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "journal.h"
#include "log.h"
#include "room.h"
#include "state.h"
#include "statedir.h"
#include "stfmt.h"
#include "text.h"

/* One history line read from the journal. */
struct hrec {
	uint64_t	 seq;
	int64_t		 time;
	int		 kind;
	int		 keep;
	char		 room[ROOM_MAX_LEN + 1];
	char		 key[ROOM_MAX_LEN + 1];
	char		*text;
	size_t		 len;
};

/* The journal as read: its valid lines, and whether any was bad. */
struct hset {
	struct hrec	*r;
	size_t		 n;
	size_t		 cap;
	uint64_t	 maxseq;
	int		 bad;
};

/* The lines of one room in a sorted hset: r[start..end). */
struct group {
	size_t	start;
	size_t	end;
};

static int	st_journal = -1;	/* this process's append fd */
static pid_t	st_jpid;		/* the process that opened it */
static int	st_compact;	/* a compaction found a lock taken */
/* Groups by the seq of their newest line, newest first; lobby first. */
static const struct hrec	*cmp_base;

/* One journal line into hs; NULL or why it is bad. */
static const char *
hist_parse(struct hset *hs, char *line, size_t len)
{
	struct state_hist	 hl;
	struct hrec		*r;
	const char		*why;

	if ((why = state_hist_decode(line, len, &hl)) != NULL)
		return why;
	if (hs->n == hs->cap) {
		hs->cap = hs->cap ? 2 * hs->cap : 256;
		if ((hs->r = reallocarray(hs->r, hs->cap, sizeof(*r))) == NULL)
			fatal("reallocarray");
	}
	r = &hs->r[hs->n++];
	memset(r, 0, sizeof(*r));
	r->seq = hl.seq;
	r->time = hl.time;
	r->kind = hl.kind;
	memcpy(r->room, hl.room, hl.roomlen + 1);
	(void)text_key(r->key, sizeof(r->key), r->room, hl.roomlen);
	if ((r->text = malloc(hl.len + 1)) == NULL)
		fatal("malloc");
	memcpy(r->text, hl.text, hl.len + 1);
	r->len = hl.len;
	if (r->seq > hs->maxseq)
		hs->maxseq = r->seq;
	return NULL;
}

/* Reads every valid line of the open journal fd. */
static void
hist_read(int fd, struct hset *hs)
{
	struct reader	 r;
	const char	*why;
	size_t		 len;
	int		 got;

	memset(hs, 0, sizeof(*hs));
	if (reader_open(&r, fd, "history") == -1) {
		hs->bad = -1;
		return;
	}
	while ((got = reader_next(&r, &len)) != 0)
		if (got == 1 && (why = hist_parse(hs, r.buf, len)) != NULL)
			reader_warn(&r, why);
	hs->bad = r.bad;
	reader_close(&r);
}

static void
hset_free(struct hset *hs)
{
	size_t	i;

	for (i = 0; i < hs->n; i++)
		free(hs->r[i].text);
	free(hs->r);
	memset(hs, 0, sizeof(*hs));
}

static int
cmp_room_seq(const void *a, const void *b)
{
	const struct hrec	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_seq(const void *a, const void *b)
{
	const struct hrec	*x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* qsort, but for an empty array too, whose base may be NULL. */
static void
sort(void *base, size_t n, size_t size, int (*cmp)(const void *,
    const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int
cmp_group_newest(const void *a, const void *b)
{
	const struct group	*x = a, *y = b;
	const struct hrec	*nx = &cmp_base[x->end - 1];
	const struct hrec	*ny = &cmp_base[y->end - 1];
	int			 lx = strcmp(nx->key, "lobby") == 0;
	int			 ly = strcmp(ny->key, "lobby") == 0;

	if (lx != ly)
		return ly - lx;
	return nx->seq > ny->seq ? -1 : nx->seq < ny->seq;
}

/* Cuts hs, sorted by room, into one group per room; their number. */
static size_t
hist_groups(const struct hset *hs, struct group *g)
{
	size_t	i, j, ng = 0;

	for (i = 0; i < hs->n; i = j) {
		for (j = i; j < hs->n &&
		    strcmp(hs->r[j].key, hs->r[i].key) == 0; j++)
			;
		g[ng].start = i;
		g[ng++].end = j;
	}
	return ng;
}

/*
 * Marks the lines to keep: the last hist_len of each room, for the
 * lobby and the nrooms - 1 other rooms with the newest lines. Returns
 * the kept rooms' groups, the one whose newest line is oldest first
 * (the order to make them in), with *n their number.
 */
static struct group *
hist_select(struct hset *hs, uint32_t hist_len, uint32_t nrooms, size_t *n)
{
	struct group	*g, t;
	size_t		 i, j, ng, others = 0, kept = 0;

	sort(hs->r, hs->n, sizeof(*hs->r), cmp_room_seq);
	if ((g = calloc(hs->n + 1, sizeof(*g))) == NULL)
		fatal("calloc");
	ng = hist_groups(hs, g);
	cmp_base = hs->r;
	sort(g, ng, sizeof(*g), cmp_group_newest);
	for (i = 0; i < ng && hist_len > 0; i++) {
		/* Groups exist only over lines hist_parse put in hs->r. */
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
		if (strcmp(hs->r[g[i].start].key, "lobby") != 0 &&
		    others++ >= nrooms - 1) {
			log_warnx("%s/history: no room for %s (--max-rooms "
			    "%u): its %zu lines are dropped", state_path(),
			    hs->r[g[i].end - 1].room, nrooms,
			    g[i].end - g[i].start);
			continue;
		}
		for (j = g[i].end; j > g[i].start &&
		    g[i].end - j < hist_len; j--)
			hs->r[j - 1].keep = 1;
		g[kept++] = g[i];
	}
	if (hist_len == 0 && hs->n > 0)
		log_warnx("%s/history: --history is 0: its %zu lines are "
		    "dropped", state_path(), hs->n);
	for (i = 0; i < kept / 2; i++) {
		t = g[i];
		g[i] = g[kept - 1 - i];
		g[kept - 1 - i] = t;
	}
	*n = kept;
	return g;
}

/* Writes the kept lines, in order, as the new journal; its size or -1. */
static long long
hist_rewrite(int dfd, struct hset *hs)
{
	struct sbuf	b = { 0 };
	size_t		i;
	long long	size;

	sort(hs->r, hs->n, sizeof(*hs->r), cmp_seq);
	for (i = 0; i < hs->n; i++)
		if (hs->r[i].keep)
			hist_format(&b, hs->r[i].seq, hs->r[i].time,
			    hs->r[i].kind, hs->r[i].room, hs->r[i].text,
			    hs->r[i].len);
	size = replace_file(dfd, "history", &b, hs->bad == 1) == 0 ?
	    (long long)b.len : -1;
	free(b.p);
	return size;
}

/* Makes the kept rooms and fills their history, oldest line first. */
static void
hist_install(struct hub *h, struct hset *hs, struct group *g, size_t ng)
{
	const struct hrec	*r;
	size_t			 i;
	int			 room;

	for (i = 0; i < ng; i++)
		if (room_make_locked(h, hs->r[g[i].end - 1].room) == -1)
			fatalx("bug: no room for %s at load",
			    hs->r[g[i].end - 1].room);
	sort(hs->r, hs->n, sizeof(*hs->r), cmp_seq);
	for (i = 0; i < hs->n; i++) {
		r = &hs->r[i];
		if (r->keep && (room = room_find_locked(h, r->room)) != -1)
			room_history_add_locked(h, (uint32_t)room, r->time,
			    r->kind, r->text, r->len);
	}
}

/* Loads the journal into the new segment and compacts it. */
void
hist_load(struct hub *h, int dfd)
{
	struct hset	 hs;
	struct group	*g;
	size_t		 ng, i, kept = 0;
	long long	 size;
	int		 fd;

	memset(&hs, 0, sizeof(hs));
	if ((fd = state_open_read(dfd, "history")) == -2)
		return;	/* unreadable: left for the admin, not replaced */
	if (fd >= 0) {
		hist_read(fd, &hs);
		close(fd);
		if (hs.bad == -1)
			return;
	}
	g = hist_select(&hs, h->hdr->hist_len, h->hdr->nrooms, &ng);
	hist_install(h, &hs, g, ng);
	h->hdr->histseq = hs.maxseq;
	if ((size = hist_rewrite(dfd, &hs)) >= 0)
		atomic_store(&h->hdr->journalkept, (uint64_t)size);
	for (i = 0; i < hs.n; i++)
		kept += hs.r[i].keep;
	log_info("loaded %zu history %s in %zu %s from %s/history", kept,
	    kept == 1 ? "line" : "lines", ng, ng == 1 ? "room" : "rooms",
	    state_path());
	free(g);
	hset_free(&hs);
}

/* How big the journal may grow before it is compacted. */
static uint64_t
journal_bound(const struct hub *h)
{
	uint64_t	b = atomic_load(&h->hdr->journalkept) *
	    STATE_JOURNAL_FACTOR;

	return b > STATE_JOURNAL_MIN ? b : STATE_JOURNAL_MIN;
}

/*
 * Replaces a journal grown past its bound by its kept lines; see
 * state.h for how appenders are kept off the file being replaced.
 */
static int
journal_compact(struct hub *h, int dfd)
{
	struct hset	 hs;
	struct group	*g;
	struct stat	 st;
	size_t		 ng;
	long long	 size;
	int		 lockfd, fd;

	/* Somebody compacting already, or an appender: another time. */
	if ((lockfd = lock_take(dfd)) < 0)
		return lockfd == -2;
	if ((fd = state_open_read(dfd, "history")) < 0) {
		close(lockfd);
		return 0;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1)
		if (errno != EINTR) {
			if (errno != EWOULDBLOCK)
				fatal("flock %s/history", state_path());
			close(fd);
			close(lockfd);
			return 1;
		}
	/* Another appender may have compacted it while we waited. */
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > journal_bound(h)) {
		hist_read(fd, &hs);
		if (hs.bad != -1) {
			g = hist_select(&hs, h->hdr->hist_len, h->hdr->nrooms,
			    &ng);
			free(g);
			if ((size = hist_rewrite(dfd, &hs)) >= 0) {
				atomic_store(&h->hdr->journalkept,
				    (uint64_t)size);
				log_info("compacted %s/history from %lld to "
				    "%lld bytes", state_path(),
				    (long long)st.st_size, size);
			}
		}
		hset_free(&hs);
	}
	close(fd);
	close(lockfd);
	return 0;
}

/*
 * Whether fd is still the file the path names: a compactor may have
 * renamed a new journal over it (and may even have died right after).
 */
static int
journal_current(int dfd, int fd)
{
	struct stat	a, b;

	return fstat(fd, &a) == 0 &&
	    fstatat(dfd, "history", &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Opens the journal to append, and locks it shared; 0, 1 when a
 * compactor holds it (try again later: nobody waits on another
 * process, which may be stopped or on a slow disk), or -1 after
 * reporting. A descriptor of a journal that was replaced is reopened:
 * checked once the shared lock is held, since a compactor replaces the
 * file only under the exclusive one.
 */
static int
journal_lock(int dfd)
{
	int	tries;

	for (tries = 0; tries < 100; tries++) {
		/* One inherited across fork would share our parent's flock. */
		if (st_journal != -1 && st_jpid != getpid()) {
			close(st_journal);
			st_journal = -1;
		}
		if (st_journal == -1) {
			st_journal = openat(dfd, "history", O_WRONLY |
			    O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (st_journal == -1) {
				if (!state_quiet())
					log_warn("%s/history: not saved",
					    state_path());
				return -1;
			}
			st_jpid = getpid();
		}
		while (flock(st_journal, LOCK_SH | LOCK_NB) == -1) {
			if (errno == EWOULDBLOCK)
				return 1;
			if (errno != EINTR)
				fatal("flock %s/history", state_path());
		}
		if (journal_current(dfd, st_journal))
			return 0;
		close(st_journal);
		st_journal = -1;
	}
	if (!state_quiet())
		log_warnx("%s/history keeps being replaced: not saved",
		    state_path());
	return -1;
}

/*
 * Appends the noted history lines, whole, and compacts if need be.
 * Returns 1 when the journal is being compacted: the lines are kept
 * for the next try.
 */
int
journal_append(struct hub *h, const char *p, size_t n)
{
	ssize_t	w;
	off_t	end;
	int	dfd, r;

	HUB_ASSERT_UNLOCKED();
	if ((dfd = state_dir(h)) == -1 || (r = journal_lock(dfd)) == -1)
		return 0;
	if (r == 1)
		return 1;
	while ((w = write(st_journal, p, n)) == -1 && errno == EINTR)
		;
	if (w != (ssize_t)n) {
		if (!state_quiet())
			log_warn("%s/history: a line was not saved",
			    state_path());
		/* End a partial line, so that only it is lost. */
		if (w > 0 && write(st_journal, "\n", 1) == -1 && !state_quiet())
			log_warn("%s/history", state_path());
	}
	end = lseek(st_journal, 0, SEEK_CUR);
	FAULT(STATE_JOURNAL);
	if (flock(st_journal, LOCK_UN) == -1)
		fatal("flock %s/history", state_path());
	if (end != -1 && (uint64_t)end > journal_bound(h))
		st_compact = journal_compact(h, dfd);
	return 0;
}

/* Whether a compaction that found a lock taken is still to be done. */
WAKE_PATH int
journal_waiting(void)
{
	return st_compact;
}

/* Tries again a compaction that found a lock taken. */
void
journal_retry(struct hub *h)
{
	int	dfd;

	if (st_compact)
		st_compact = (dfd = state_dir(h)) != -1 &&
		    journal_compact(h, dfd);
}

/* For a process about to exit: the next appender will compact. */
void
journal_forget(void)
{
	st_compact = 0;
}
