/* SPDX-License-Identifier: ISC */
/*
 * Persistence: the state directory, its two files and their formats,
 * loading them into a new segment and writing them as things change.
 * state.h says what is promised and how the writers share the files.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ban.h"
#include "fault.h"
#include "log.h"
#include "room.h"
#include "state.h"

#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u
#define MAX_FIELDS	8
/* The longest line a valid file holds: a history line, all escaped. */
#define LINE_MAX_BYTES	(4 * HIST_TEXT_MAX(CHATD_MAX_LINE_CAP) + 256)

/* A growing byte buffer: a file's content or the lines to append. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

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

/* A state file being read line by line. */
struct reader {
	FILE		*fp;
	const char	*name;
	char		*buf;
	size_t		 lineno;
	int		 bad;
};

struct fields {
	char	*f[MAX_FIELDS];
	size_t	 len[MAX_FIELDS];
	int	 n;
};

static int		st_dirfd = -1;
static char		st_dirpath[PATH_MAX];
static int		st_journal = -1;	/* this process's append fd */
static pid_t		st_jpid;		/* the process that opened it */
static struct sbuf	st_pending;	/* history lines noted under the lock */
static int		st_bans_dirty;
static int		st_loading;
static int		st_flushing;
static int		st_compact;	/* a compaction found a lock taken */

/*
 * Whether to keep quiet about a failure to save: it would otherwise be
 * logged again with every chat line (a full disk, a broken directory).
 * One report a minute, then how many were held back.
 */
static int
st_quiet(void)
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

static void
sb_grow(struct sbuf *b, size_t more)
{
	size_t	 cap = b->cap ? b->cap : 4096;
	char	*p;

	while (cap - b->len < more + 1)
		cap *= 2;
	if (cap == b->cap)
		return;
	if ((p = realloc(b->p, cap)) == NULL)
		fatal("realloc");
	b->p = p;
	b->cap = cap;
}

static void
sb_add(struct sbuf *b, const void *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("bug: vsnprintf failed");
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Adds a field so that it holds no tab, newline or control byte. */
static void
sb_escape(struct sbuf *b, const char *s, size_t n)
{
	unsigned char	c;
	size_t		i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\\')
			sb_add(b, "\\\\", 2);
		else if (c == '\t')
			sb_add(b, "\\t", 2);
		else if (c == '\n')
			sb_add(b, "\\n", 2);
		else if (c == '\r')
			sb_add(b, "\\r", 2);
		else if (c < 0x20 || c == 0x7f)
			sb_printf(b, "\\x%02x", c);
		else
			sb_add(b, &s[i], 1);
	}
}

static uint32_t
fnv1a(const char *s, size_t n)
{
	uint32_t	h = FNV_OFFSET;
	size_t		i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* Ends the line that starts at start with its checksum. */
static void
sb_endline(struct sbuf *b, size_t start)
{
	sb_printf(b, "\t%08x\n", (unsigned)fnv1a(b->p + start,
	    b->len - start));
}

static void
hist_format(struct sbuf *b, uint64_t seq, int64_t when, int kind,
    const char *room, const char *text, size_t len)
{
	size_t	start = b->len;

	sb_printf(b, "h1\t%llu\t%lld\t%s\t", (unsigned long long)seq,
	    (long long)when, kind == REC_ME ? "me" : "chat");
	sb_escape(b, room, strlen(room));
	sb_add(b, "\t", 1);
	sb_escape(b, text, len);
	sb_endline(b, start);
}

static void
ban_format(struct sbuf *b, const struct ban *ban)
{
	size_t	start = b->len;

	sb_add(b, "b1\t", 3);
	sb_escape(b, ban->addr, strlen(ban->addr));
	sb_add(b, "\t", 1);
	sb_escape(b, ban->name, strlen(ban->name));
	sb_add(b, "\t", 1);
	sb_escape(b, ban->reason, strlen(ban->reason));
	sb_endline(b, start);
}

/*
 * A journal line or a bans line as the writers format it, LF included,
 * in a malloc'd string; for the fuzzer's round trip.
 */
char *
state_hist_line(const struct state_hist *hl, size_t *len)
{
	struct sbuf	b = { 0 };

	hist_format(&b, hl->seq, hl->time, hl->kind, hl->room, hl->text,
	    hl->len);
	*len = b.len;
	return b.p;
}

char *
state_ban_line(const struct ban *ban, size_t *len)
{
	struct sbuf	b = { 0 };

	ban_format(&b, ban);
	*len = b.len;
	return b.p;
}

/*
 * Undoes sb_escape in place; -1 for a bad escape, a raw control byte or
 * an escaped NUL, which no file chatd wrote holds (its fields are C
 * strings and cleaned text). A NUL would cut a field short: an address
 * of "\x001.2.3.4" would ban the empty address.
 */
static int
unescape(char *s, size_t *len)
{
	size_t		i, o = 0, n = *len;
	unsigned	v;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
		if (s[i] != '\\') {
			s[o++] = s[i];
			continue;
		}
		if (++i == n)
			return -1;
		switch (s[i]) {
		case '\\': s[o++] = '\\'; break;
		case 't': s[o++] = '\t'; break;
		case 'n': s[o++] = '\n'; break;
		case 'r': s[o++] = '\r'; break;
		case 'x':
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]) ||
			    /* NOLINTNEXTLINE(cert-err34-c): 2 digits fit. */
			    sscanf(s + i + 1, "%2x", &v) != 1 || v == 0)
				return -1;
			s[o++] = (char)v;
			i += 2;
			break;
		default:
			return -1;
		}
	}
	s[o] = '\0';
	*len = o;
	return 0;
}

/* A decimal number of at most max, optionally negative; -1 if not. */
static int
parse_num(const char *s, size_t n, int neg_ok, long long *v)
{
	unsigned long long	u = 0;
	size_t			i = 0;
	int			neg = 0;

	if (neg_ok && n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || n - i > 18)
		return -1;
	for (; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		u = u * 10 + (unsigned)(s[i] - '0');
	}
	*v = neg ? -(long long)u : (long long)u;
	return 0;
}

/*
 * Checks a line's checksum and cuts the rest at its tabs into fields
 * (the record type first); NULL or why the line is bad.
 */
static const char *
line_split(char *line, size_t len, const char *type, int nfields,
    struct fields *fl)
{
	char		*p = line, *end, *tab;
	unsigned	 sum;
	size_t		 body;

	for (body = len; body > 0 && line[body - 1] != '\t'; body--)
		;
	if (body == 0 || len - body != 8 ||
	    strspn(line + body, "0123456789abcdef") < 8 ||
	    /* NOLINTNEXTLINE(cert-err34-c): 8 hex digits fit. */
	    sscanf(line + body, "%8x", &sum) != 1)
		return "no checksum";
	body--;
	if (fnv1a(line, body) != sum)
		return "bad checksum";
	end = line + body;
	*end = '\0';
	for (fl->n = 0; ; p = tab + 1) {
		if (fl->n == MAX_FIELDS)
			return "wrong number of fields";
		tab = memchr(p, '\t', (size_t)(end - p));
		fl->f[fl->n] = p;
		fl->len[fl->n] = (size_t)((tab ? tab : end) - p);
		fl->n++;
		if (tab == NULL)
			break;
		*tab = '\0';
	}
	if (fl->len[0] != strlen(type) || memcmp(fl->f[0], type,
	    fl->len[0]) != 0)
		return "unknown record type";
	if (fl->n != nfields)
		return "wrong number of fields";
	return NULL;
}

static void
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
static int
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
static int
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

static void
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
static int
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
static int
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
static int
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
state_open(const char *path)
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
static int
state_dir(const struct hub *h)
{
	const char	*path = h->hdr->statedir, *why;
	int		 fd;

	if (path[0] == '\0')
		return -1;
	if (st_dirfd != -1 && strcmp(st_dirpath, path) == 0)
		return st_dirfd;
	if ((why = dir_problem(path, &fd)) != NULL) {
		if (!st_quiet())
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
 * Decodes one line of the bans file in place (no LF, NUL-ended at len);
 * NULL or why it is bad. The fields point into line.
 */
const char *
state_ban_decode(char *line, size_t len, struct state_ban *b)
{
	struct fields	 fl;
	const char	*why;

	if ((why = line_split(line, len, "b1", 4, &fl)) != NULL)
		return why;
	if (unescape(fl.f[1], &fl.len[1]) == -1 || fl.len[1] == 0 ||
	    fl.len[1] > ADDR_MAX_LEN || strchr(fl.f[1], ' ') != NULL)
		return "bad address";
	if (unescape(fl.f[2], &fl.len[2]) == -1 || fl.len[2] > NAME_MAX_LEN)
		return "bad name";
	if (unescape(fl.f[3], &fl.len[3]) == -1 ||
	    fl.len[3] > BAN_REASON_MAX)
		return "bad reason";
	b->addr = fl.f[1];
	b->name = fl.f[2];
	b->reason = fl.f[3];
	return NULL;
}

/* One line of the bans file into the ban table; NULL or why not. */
static const char *
ban_parse(struct hub *h, char *line, size_t len)
{
	struct state_ban	 b;
	const char		*why;

	if ((why = state_ban_decode(line, len, &b)) != NULL)
		return why;
	if (ban_add(h, b.addr, b.name, b.reason) == -1)
		return "the ban table is full";
	return NULL;
}

static void
bans_snapshot(const struct hub *h, struct sbuf *b)
{
	size_t	i;

	for (i = 0; i < CHATD_MAX_BANS; i++)
		if (h->hdr->bans[i].used)
			ban_format(b, &h->hdr->bans[i]);
}

/* Loads the bans; a file with bad lines is rewritten without them. */
static void
bans_load(struct hub *h, int dfd)
{
	struct reader	 r;
	struct sbuf	 b = { 0 };
	const char	*why;
	size_t		 len;
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
		if (got == 1 && (why = ban_parse(h, r.buf, len)) != NULL)
			reader_warn(&r, why);
	if (r.bad) {
		bans_snapshot(h, &b);
		(void)replace_file(dfd, "bans", &b, 1);
		free(b.p);
	}
	log_info("loaded %zu %s from %s/bans", ban_count(h),
	    ban_count(h) == 1 ? "ban" : "bans", st_dirpath);
	reader_close(&r);
	close(fd);
}

/*
 * Writes the ban table out, newest copy last: see state.h. Returns 1
 * when somebody else holds STATE/lock: try again later.
 */
static int
bans_save(struct hub *h)
{
	struct sbuf	b = { 0 };
	int		dfd, lockfd;

	if (h->hdr->bans_frozen) {
		if (!st_quiet())
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

/*
 * Decodes one line of the history journal in place (no LF, NUL-ended
 * at len); NULL or why it is bad. The room and the text point into line.
 */
const char *
state_hist_decode(char *line, size_t len, struct state_hist *hl)
{
	struct fields	 fl;
	const char	*why;
	long long	 seq, when;

	if ((why = line_split(line, len, "h1", 6, &fl)) != NULL)
		return why;
	if (parse_num(fl.f[1], fl.len[1], 0, &seq) == -1 || seq == 0)
		return "bad sequence number";
	if (parse_num(fl.f[2], fl.len[2], 1, &when) == -1)
		return "bad time";
	if (strlen(fl.f[3]) != fl.len[3] || (strcmp(fl.f[3], "chat") != 0 &&
	    strcmp(fl.f[3], "me") != 0))
		return "bad kind";
	if (room_name_problem(fl.f[4], fl.len[4]) != NULL)
		return "bad room name";
	if (unescape(fl.f[5], &fl.len[5]) == -1 ||
	    fl.len[5] > HIST_TEXT_MAX(CHATD_MAX_LINE_CAP))
		return "bad text";
	hl->seq = (uint64_t)seq;
	hl->time = when;
	hl->kind = fl.f[3][0] == 'm' ? REC_ME : REC_CHAT;
	hl->room = fl.f[4];
	hl->roomlen = fl.len[4];
	hl->text = fl.f[5];
	hl->len = fl.len[5];
	return NULL;
}

/* One journal line into hs; NULL or why it is bad. */
static const char *
hist_parse(struct hset *hs, char *line, size_t len)
{
	struct state_hist	 hl;
	struct hrec		*r;
	const char		*why;
	size_t			 i;

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
	for (i = 0; i < hl.roomlen; i++)
		r->key[i] = (char)tolower((unsigned char)r->room[i]);
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

/* Groups by the seq of their newest line, newest first; lobby first. */
static const struct hrec	*cmp_base;

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
			    "%u): its %zu lines are dropped", st_dirpath,
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
		    "dropped", st_dirpath, hs->n);
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
		if (room_make(h, hs->r[g[i].end - 1].room) == -1)
			fatalx("bug: no room for %s at load",
			    hs->r[g[i].end - 1].room);
	sort(hs->r, hs->n, sizeof(*hs->r), cmp_seq);
	for (i = 0; i < hs->n; i++) {
		r = &hs->r[i];
		if (r->keep && (room = room_find(h, r->room)) != -1)
			room_history_add(h, (uint32_t)room, r->time, r->kind,
			    r->text, r->len);
	}
}

/* Loads the journal into the new segment and compacts it. */
static void
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
	    st_dirpath);
	free(g);
	hset_free(&hs);
}

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
state_note_history(struct hub *h, uint32_t room, int64_t when, int kind,
    const char *text, size_t len)
{
	if (st_loading || h->hdr->statedir[0] == '\0')
		return;
	hist_format(&st_pending, ++h->hdr->histseq, when, kind,
	    h->rooms[room].name, text, len);
}

/* Under the hub lock: the ban table changed. */
void
state_note_bans(void)
{
	if (!st_loading)
		st_bans_dirty = 1;
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
				fatal("flock %s/history", st_dirpath);
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
				    "%lld bytes", st_dirpath,
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
				if (!st_quiet())
					log_warn("%s/history: not saved",
					    st_dirpath);
				return -1;
			}
			st_jpid = getpid();
		}
		while (flock(st_journal, LOCK_SH | LOCK_NB) == -1) {
			if (errno == EWOULDBLOCK)
				return 1;
			if (errno != EINTR)
				fatal("flock %s/history", st_dirpath);
		}
		if (journal_current(dfd, st_journal))
			return 0;
		close(st_journal);
		st_journal = -1;
	}
	if (!st_quiet())
		log_warnx("%s/history keeps being replaced: not saved",
		    st_dirpath);
	return -1;
}

/*
 * Appends the noted history lines, whole, and compacts if need be.
 * Returns 1 when the journal is being compacted: the lines are kept
 * for the next try.
 */
static int
journal_append(struct hub *h, const char *p, size_t n)
{
	ssize_t	w;
	off_t	end;
	int	dfd, r;

	if ((dfd = state_dir(h)) == -1 || (r = journal_lock(dfd)) == -1)
		return 0;
	if (r == 1)
		return 1;
	while ((w = write(st_journal, p, n)) == -1 && errno == EINTR)
		;
	if (w != (ssize_t)n) {
		if (!st_quiet())
			log_warn("%s/history: a line was not saved",
			    st_dirpath);
		/* End a partial line, so that only it is lost. */
		if (w > 0 && write(st_journal, "\n", 1) == -1 && !st_quiet())
			log_warn("%s/history", st_dirpath);
	}
	end = lseek(st_journal, 0, SEEK_CUR);
	FAULT(STATE_JOURNAL);
	if (flock(st_journal, LOCK_UN) == -1)
		fatal("flock %s/history", st_dirpath);
	if (end != -1 && (uint64_t)end > journal_bound(h))
		st_compact = journal_compact(h, dfd);
	return 0;
}

/*
 * After the hub lock is dropped (hub_unlock calls it): writes out what
 * was noted under the lock. History lines that find the journal being
 * compacted wait for the next flush: the worker's loop tries again
 * every STATE_RETRY_MS while state_waiting(), and state_finish() as it
 * leaves; at most STATE_PENDING_MAX bytes. Returns 1 while lines wait.
 */
int
state_flush(struct hub *h)
{
	int	dfd;

	if (st_flushing || !state_waiting())
		return 0;
	st_flushing = 1;
	if (st_pending.len > 0 &&
	    (journal_append(h, st_pending.p, st_pending.len) == 0 ||
	    st_pending.len > STATE_PENDING_MAX)) {
		if (st_pending.len > STATE_PENDING_MAX && !st_quiet())
			log_warnx("%s/history: %zu bytes of lines not saved: "
			    "the journal stayed locked", st_dirpath,
			    st_pending.len);
		st_pending.len = 0;
	}
	if (st_bans_dirty) {
		st_bans_dirty = 0;
		if (bans_save(h) == 1)
			st_bans_dirty = 1;
	}
	/* A compaction that found a lock taken, tried again. */
	if (st_compact && st_pending.len == 0)
		st_compact = (dfd = state_dir(h)) != -1 &&
		    journal_compact(h, dfd);
	st_flushing = 0;
	return state_waiting();
}

/* Whether history lines, bans or a compaction wait for a lock. */
int
state_waiting(void)
{
	return st_pending.len > 0 || st_bans_dirty || st_compact;
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

	for (waited = 0; state_flush(h) && waited < STATE_FINISH_MS;
	    waited += 10)
		(void)nanosleep(&ts, NULL);
	if (st_pending.len > 0) {
		if (!st_quiet())
			log_warnx("%s/history: %zu bytes of lines not saved: "
			    "the journal stayed locked", st_dirpath,
			    st_pending.len);
		st_pending.len = 0;
	}
	if (st_bans_dirty) {
		log_warnx("%s/bans: not saved: %s/lock stayed locked",
		    st_dirpath, st_dirpath);
		st_bans_dirty = 0;
	}
	/* Left to the next appender. */
	st_compact = 0;
}
