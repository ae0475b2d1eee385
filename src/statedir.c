/* SPDX-License-Identifier: ISC */
/*
 * The state directory: opening it, reading and replacing its files,
 * its lock, and the bans file. state.h says what is promised and how
 * the writers share the files.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ban.h"
#include "fault.h"
#include "log.h"
#include "state.h"
#include "statedir.h"
#include "stfmt.h"

static int		st_dirfd = -1;
static char		st_dirpath[PATH_MAX];

/*
 * Whether to keep quiet about a failure to save: it would otherwise be
 * logged again with every chat line (a full disk, a broken directory).
 * One report a minute, then how many were held back.
 */
int
state_quiet(void)
{
	static time_t		last;
	static unsigned long	held;
	time_t			now = time(NULL);
	int			saved = errno;

	if (last != 0 && now - last < 60) {
		held++;
		return 1;
	}
	if (held > 0)
		log_warnx("%s: %lu more failures to save not reported",
		    st_dirpath, held);
	last = now;
	held = 0;
	errno = saved;
	return 0;
}

void
reader_warn(struct reader *r, const char *why)
{
	log_warnx("%s/%s:%zu: %s, skipped", st_dirpath, r->name, r->lineno,
	    why);
	r->bad = 1;
}

/*
 * Reads the next line into r->buf. Returns 1 with a line, 0 at the end
 * of the file, -1 for a line that was reported and is to be skipped.
 */
int
reader_next(struct reader *r, size_t *len)
{
	size_t	n = 0;
	int	c, over = 0;

	r->lineno++;
	while ((c = getc(r->fp)) != EOF && c != '\n') {
		if (n < LINE_MAX_BYTES)
			r->buf[n++] = (char)c;
		else
			over = 1;
	}
	if (c == EOF && ferror(r->fp)) {
		log_warn("%s/%s: read error at line %zu; the rest is skipped",
		    st_dirpath, r->name, r->lineno);
		r->bad = 1;
		return 0;
	}
	if (c == EOF && n == 0 && !over)
		return 0;
	if (c == EOF) {
		reader_warn(r, "truncated line");
		return -1;
	}
	if (over) {
		reader_warn(r, "line too long");
		return -1;
	}
	r->buf[n] = '\0';
	*len = n;
	return 1;
}

/* Opens a state file to read; 0, or -1 if it is missing or unreadable. */
int
reader_open(struct reader *r, int fd, const char *name)
{
	int	dfd;

	memset(r, 0, sizeof(*r));
	r->name = name;
	if ((dfd = dup(fd)) == -1 || (r->fp = fdopen(dfd, "r")) == NULL) {
		log_warn("%s/%s: cannot read it; skipped", st_dirpath, name);
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	if ((r->buf = malloc(LINE_MAX_BYTES + 1)) == NULL)
		fatal("malloc");
	return 0;
}

void
reader_close(struct reader *r)
{
	fclose(r->fp);
	free(r->buf);
}

/*
 * Opens a file in the state directory to read: its descriptor, -1 if
 * there is none, or -2 if it cannot be read (reported). A FIFO or a
 * symlink in its place is never followed or waited on.
 */
int
state_open_read(int dfd, const char *name)
{
	struct stat	st;
	int		fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return -1;
	if (fd == -1) {
		log_warn("%s/%s: cannot read it; skipped", st_dirpath, name);
		return -2;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("%s/%s: not a regular file; skipped", st_dirpath,
		    name);
		close(fd);
		return -2;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Replaces a state file with content, crash-safely: NAME.tmp is written
 * and fsynced, renamed over NAME, and the directory fsynced. With
 * keepbad the old file (it had bad lines) is kept as NAME.bad first.
 * Returns 0 once the new file is in place, else -1 (reported).
 */
int
replace_file(int dfd, const char *name, const struct sbuf *b, int keepbad)
{
	char	tmp[64], bad[64];
	int	fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	snprintf(bad, sizeof(bad), "%s.bad", name);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1 || write_all(fd, b->p ? b->p : "", b->len) == -1 ||
	    fsync(fd) == -1) {
		log_warn("%s/%s", st_dirpath, tmp);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		log_warn("%s/%s", st_dirpath, tmp);
		return -1;
	}
	FAULT(STATE_REPLACE);
	if (keepbad) {
		if (unlinkat(dfd, bad, 0) == -1 && errno != ENOENT)
			log_warn("%s/%s", st_dirpath, bad);
		if (linkat(dfd, name, dfd, bad, 0) == 0)
			log_warnx("%s/%s had bad lines: kept as %s", st_dirpath,
			    name, bad);
		else if (errno != ENOENT)
			log_warn("%s/%s", st_dirpath, bad);
	}
	if (renameat(dfd, tmp, dfd, name) == -1) {
		log_warn("rename %s/%s", st_dirpath, tmp);
		return -1;
	}
	if (fsync(dfd) == -1)
		log_warn("fsync %s", st_dirpath);
	return 0;
}

/*
 * Takes STATE/lock, which serialises whoever replaces a state file,
 * without waiting for it: its holder may be stopped or on a slow disk.
 * Returns the descriptor that holds it, -2 when somebody else does, or
 * -1 after reporting.
 */
int
lock_take(int dfd)
{
	int	fd;

	fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		log_warn("%s/lock", st_dirpath);
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1)
		if (errno != EINTR) {
			close(fd);
			if (errno != EWOULDBLOCK) {
				log_warn("flock %s/lock", st_dirpath);
				return -1;
			}
			return -2;
		}
	return fd;
}

/* Checks a state directory, making it if missing; NULL or why not. */
static const char *
dir_problem(const char *path, int *fdp)
{
	static char	why[128];
	struct stat	st;
	int		fd;

	*fdp = -1;
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return strerror(errno);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno == ENOTDIR ? "not a directory" : strerror(errno);
	if (fstat(fd, &st) == -1) {
		snprintf(why, sizeof(why), "fstat: %s", strerror(errno));
		close(fd);
		return why;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, sizeof(why), "not chatd's own (owner uid %ld, "
		    "mode %03o; it must be ours and writable by us alone)",
		    (long)st.st_uid, (unsigned)(st.st_mode & 0777));
		close(fd);
		return why;
	}
	*fdp = fd;
	return NULL;
}

/*
 * At start-up, before anything is served: the state directory must be
 * usable, or chatd does not start.
 */
void
statedir_open(const char *path)
{
	const char	*why;
	int		 fd;

	if (path[0] == '\0')
		return;
	if ((why = dir_problem(path, &fd)) != NULL)
		fatal_status(EX_UNAVAILABLE, "state directory %s: %s", path,
		    why);
	if (st_dirfd != -1)
		close(st_dirfd);
	st_dirfd = fd;
	snprintf(st_dirpath, sizeof(st_dirpath), "%s", path);
}

/* The instance's state directory, opened once per path; -1 if none. */
int
state_dir(const struct hub *h)
{
	const char	*path = h->hdr->statedir, *why;
	int		 fd;

	if (path[0] == '\0')
		return -1;
	if (st_dirfd != -1 && strcmp(st_dirpath, path) == 0)
		return st_dirfd;
	if ((why = dir_problem(path, &fd)) != NULL) {
		if (!state_quiet())
			log_warnx("state directory %s: %s; not saved", path,
			    why);
		return -1;
	}
	if (st_dirfd != -1)
		close(st_dirfd);
	st_dirfd = fd;
	snprintf(st_dirpath, sizeof(st_dirpath), "%s", path);
	return fd;
}

/*
 * One line of the bans file into the ban table; NULL or why not. A ban
 * that has expired is left out, and *expired counted.
 */
static const char *
ban_parse(struct hub *h, char *line, size_t len, size_t *expired)
{
	struct state_ban	 b;
	const char		*why;

	if ((why = state_ban_decode(line, len, &b)) != NULL)
		return why;
	if (b.expires != 0 && b.expires <= (int64_t)time(NULL)) {
		(*expired)++;
		return NULL;
	}
	if (ban_add_locked(h, &b.range, b.name, b.reason, b.expires) == -1)
		return "the ban table is full";
	return NULL;
}

/* The bans in force, as the file holds them: expired ones are dropped. */
static void
bans_snapshot(const struct hub *h, struct sbuf *b)
{
	int64_t	now = time(NULL);
	size_t	i;

	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (ban_active(&h->hdr->bans[i], now))
			ban_format(b, &h->hdr->bans[i]);
}

/* Loads the bans; a file with bad lines is rewritten without them. */
void
bans_load(struct hub *h, int dfd)
{
	struct reader	 r;
	struct sbuf	 b = { 0 };
	const char	*why;
	size_t		 len, expired = 0, n;
	int		 fd, got;

	/* Saving over a file we could not read would lose its bans. */
	if ((fd = state_open_read(dfd, "bans")) == -2)
		h->hdr->bans_frozen = 1;
	if (fd < 0)
		return;
	if (reader_open(&r, fd, "bans") == -1) {
		close(fd);
		return;
	}
	while ((got = reader_next(&r, &len)) != 0)
		if (got == 1 && (why = ban_parse(h, r.buf, len,
		    &expired)) != NULL)
			reader_warn(&r, why);
	/* Rewritten without the bad lines, or without the expired bans. */
	if (r.bad || expired > 0) {
		bans_snapshot(h, &b);
		(void)replace_file(dfd, "bans", &b, r.bad);
		free(b.p);
	}
	n = ban_count_locked(h, time(NULL));
	if (expired > 0)
		log_info("loaded %zu %s from %s/bans; %zu expired", n,
		    n == 1 ? "ban" : "bans", st_dirpath, expired);
	else
		log_info("loaded %zu %s from %s/bans", n,
		    n == 1 ? "ban" : "bans", st_dirpath);
	reader_close(&r);
	close(fd);
}

/*
 * Writes the ban table out, newest copy last: see state.h. Returns 1
 * when somebody else holds STATE/lock: try again later.
 */
int
bans_save(struct hub *h)
{
	struct sbuf	b = { 0 };
	int		dfd, lockfd;

	HUB_ASSERT_UNLOCKED();
	if (h->hdr->bans_frozen) {
		if (!state_quiet())
			log_warnx("%s/bans could not be read at start: bans "
			    "are not saved over it", st_dirpath);
		return 0;
	}
	if ((dfd = state_dir(h)) == -1)
		return 0;
	if ((lockfd = lock_take(dfd)) < 0)
		return lockfd == -2;
	hub_lock(h);
	bans_snapshot(h, &b);
	hub_unlock(h);
	(void)replace_file(dfd, "bans", &b, 0);
	free(b.p);
	close(lockfd);
	return 0;
}

/* The state directory's path, for messages. */
const char *
state_path(void)
{
	return st_dirpath;
}
