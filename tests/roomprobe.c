/* SPDX-License-Identifier: ISC */
/*
 * roomprobe - a room full of users, driven one command at a time, to
 * see who gets a chat line and how late (tests/relay.bats).
 *
 *	roomprobe -p PORT [-n USERS] [-P PREFIX] [-t SECONDS]
 *
 * Connects USERS users (default 200) to 127.0.0.1:PORT one after
 * another, each once the one before was greeted: chatd gives a new
 * connection the lowest free slot, so user I holds slot I.  Registers
 * them as PREFIX0 ... (default "u"), then the last one says "ready" and
 * the probe waits until everybody got it: every notice about the
 * registrations came before it.  It forgets what came so far, prints
 * "ready USERS" and reads commands from stdin, one a line, each answered
 * with one line on stdout (lines: more):
 *
 *	send I TEXT	user I sends TEXT in one write; "\n" in TEXT
 *			separates lines.  Answer: ok
 *	wait TEXT SECONDS [SKIP ...]
 *			waits until every user but TEXT's sender and the
 *			SKIP users got "<SENDER> TEXT" (TEXT one word, sent
 *			before).  Answer: "ok MIN MAX", the first and the
 *			last arrival in ms after the send, or after SECONDS
 *			"missing K: I J ..." (the K users without it)
 *	expect I SECONDS LINE
 *			waits until user I got exactly LINE.  Answer:
 *			"ok MS", ms after user I's last send (or after
 *			"ready"), or after SECONDS "timeout"
 *	lines I		"lines K", then the K lines user I got since ready
 *	quit		exits (so does the end of stdin)
 *
 * A command it does not understand gets "error: WHY".  The sockets are
 * read all the time, between commands too, so a line's time is that of
 * its arrival.  Exits 0 on quit, 1 on a failure, 2 after -t SECONDS
 * (default 120) whatever it is doing, so it never hangs a test.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_USERS	4096
#define INBUF		8192	/* a server line at most, CRLF included */
#define CMDBUF		8192	/* a command line at most */
#define MAX_PREFIX	10

struct line {
	char		*text;
	int64_t		 us;		/* arrival */
};

struct user {
	int		 fd;
	char		 in[INBUF];
	size_t		 inlen;
	struct line	*lines;
	size_t		 nlines, cap;
	int64_t		 sent_us;	/* the last send, or ready */
};

/* A line some user sent: wait looks up its sender and time. */
struct sent {
	char		*text;
	int		 user;
	int64_t		 us;
};

static struct user	*users;
static int		 nusers = 200;
static struct pollfd	*pfds;		/* one per user, then stdin */
static struct sent	*sends;
static size_t		 nsends;
static char		 prefix[MAX_PREFIX + 1] = "u";

static void
on_alarm(int sig)
{
	static const char msg[] = "roomprobe: timed out\n";

	(void)sig;
	(void)write(2, msg, sizeof(msg) - 1);
	_exit(2);
}

static int64_t
now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *
xrealloc(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL)
		err(1, "realloc");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		err(1, "strdup");
	return p;
}

static void
answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
answer(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vprintf(fmt, ap) < 0 || putchar('\n') == EOF ||
	    fflush(stdout) == EOF)
		err(1, "stdout");
	va_end(ap);
}

static void
user_add_line(struct user *u, const char *text, int64_t us)
{
	if (u->nlines == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 16;
		u->lines = xrealloc(u->lines, u->cap, sizeof(*u->lines));
	}
	u->lines[u->nlines].text = xstrdup(text);
	u->lines[u->nlines++].us = us;
}

static void
user_forget(struct user *u)
{
	while (u->nlines > 0)
		free(u->lines[--u->nlines].text);
}

/* Reads what user i's socket holds and keeps each whole line. */
static void
user_read(int i, int64_t us)
{
	struct user	*u = &users[i];
	char		*nl, *start;
	ssize_t		 n;

	n = read(u->fd, u->in + u->inlen, sizeof(u->in) - u->inlen);
	if (n == -1 && errno == EINTR)
		return;
	if (n <= 0) {
		if (n == -1)
			warn("user %d", i);
		else
			warnx("user %d: connection closed", i);
		close(u->fd);
		u->fd = pfds[i].fd = -1;
		return;
	}
	u->inlen += (size_t)n;
	start = u->in;
	while ((nl = memchr(start, '\n', u->inlen - (size_t)(start - u->in)))) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		user_add_line(u, start, us);
		start = nl + 1;
	}
	u->inlen -= (size_t)(start - u->in);
	memmove(u->in, start, u->inlen);
	if (u->inlen == sizeof(u->in))
		errx(1, "user %d: a line longer than %d bytes", i, INBUF);
}

/*
 * Reads every socket with something to read, waiting up to ms (-1:
 * forever) for the first. Returns whether stdin is readable (only
 * when with_stdin).
 */
static int
pump(int ms, int with_stdin)
{
	int64_t	us;
	int	i, n;

	n = poll(pfds, (nfds_t)nusers + (with_stdin ? 1 : 0), ms);
	if (n == -1 && errno != EINTR)
		err(1, "poll");
	if (n <= 0)
		return 0;
	us = now_us();
	for (i = 0; i < nusers; i++)
		if (pfds[i].revents != 0)
			user_read(i, us);
	return with_stdin && pfds[nusers].revents != 0;
}

/* Reads until deadline (us), at most 50 ms at a time. */
static int
pump_until(int64_t deadline)
{
	int64_t	left = deadline - now_us();

	if (left <= 0)
		return 0;
	pump(left > 50000 ? 50 : (int)(left / 1000) + 1, 0);
	return 1;
}

/* The index of user i's first line equal to text, or -1. */
static long
find_line(const struct user *u, const char *text)
{
	size_t	i;

	for (i = 0; i < u->nlines; i++)
		if (strcmp(u->lines[i].text, text) == 0)
			return (long)i;
	return -1;
}

/* Reads until user i got a line starting with text; no limit but -t. */
static void
await_prefix(int i, const char *text)
{
	struct user	*u = &users[i];
	size_t		 k = 0, len = strlen(text);

	for (;;) {
		for (; k < u->nlines; k++)
			if (strncmp(u->lines[k].text, text, len) == 0)
				return;
		if (u->fd == -1)
			errx(1, "user %d: closed before \"%s\"", i, text);
		pump(-1, 0);
	}
}

static void
user_write(int i, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(users[i].fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(1, "user %d: send", i);
		buf += n;
		len -= (size_t)n;
	}
}

/* Connects user i and registers it once it was greeted. */
static void
user_connect(int i, const struct sockaddr_in *sin)
{
	struct user	*u = &users[i];
	char		 buf[64];

	if ((u->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (connect(u->fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		err(1, "user %d: connect", i);
	pfds[i].fd = u->fd;
	pfds[i].events = POLLIN;
	await_prefix(i, "Enter your name:");
	snprintf(buf, sizeof(buf), "%s%d\n", prefix, i);
	user_write(i, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "* Hello, %s%d!", prefix, i);
	await_prefix(i, buf);
}

/* The next word of *p (words are separated by one space), or NULL. */
static char *
next_word(char **p)
{
	char	*w = *p, *sp;

	if (*w == '\0')
		return NULL;
	if ((sp = strchr(w, ' ')) != NULL) {
		*sp = '\0';
		*p = sp + 1;
	} else
		*p = w + strlen(w);
	return w;
}

/* s as a number from lo to hi, in *v: 0, or -1 if it is none. */
static int
parse_number(const char *s, long lo, long hi, long *v)
{
	char	*end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	return *end != '\0' || errno != 0 || *v < lo || *v > hi ? -1 : 0;
}

/* A user's number, or -1. */
static int
parse_user(const char *s)
{
	long	v;

	return parse_number(s, 0, nusers - 1, &v) == -1 ? -1 : (int)v;
}

/* The time SECONDS from now, in us, or -1. */
static int64_t
parse_deadline(const char *s)
{
	char	*end;
	double	 d;

	if (s == NULL || *s == '\0')
		return -1;
	d = strtod(s, &end);
	if (*end != '\0' || !(d > 0 && d <= 3600))
		return -1;
	return now_us() + (int64_t)(d * 1e6);
}

/* User i sends text, its "\n" separating lines, in one write. */
static void
user_send(int i, char *text)
{
	char	*buf, *line, *esc;
	size_t	 len = 0, n;
	int64_t	 us = now_us();

	buf = xrealloc(NULL, strlen(text) + 2, 1);
	for (line = text; line != NULL; line = esc) {
		if ((esc = strstr(line, "\\n")) != NULL) {
			*esc = '\0';
			esc += 2;
		}
		sends = xrealloc(sends, nsends + 1, sizeof(*sends));
		sends[nsends].text = xstrdup(line);
		sends[nsends].user = i;
		sends[nsends++].us = us;
		n = strlen(line);
		memcpy(buf + len, line, n);
		len += n;
		buf[len++] = '\n';
	}
	user_write(i, buf, len);
	users[i].sent_us = us;
	free(buf);
}

/* The latest line sent as text, or NULL. */
static const struct sent *
find_sent(const char *text)
{
	size_t	k;

	for (k = nsends; k-- > 0;)
		if (strcmp(sends[k].text, text) == 0)
			return &sends[k];
	return NULL;
}

/* The line others get for s: "<SENDER> TEXT". */
static void
chat_line(char *buf, size_t size, const struct sent *s)
{
	if (snprintf(buf, size, "<%s%d> %s", prefix, s->user, s->text) >=
	    (int)size)
		errx(1, "a line longer than %zu bytes", size);
}

/*
 * How many users, but s's sender and those skipped, have not got s yet;
 * *first and *last: the earliest and the latest arrival among the rest.
 */
static int
count_missing(const struct sent *s, const char *skip, int64_t *first,
    int64_t *last)
{
	char	expected[INBUF];
	long	at;
	int	i, missing = 0;

	chat_line(expected, sizeof(expected), s);
	*first = *last = s->us;
	for (i = 0; i < nusers; i++) {
		if (i == s->user || (skip != NULL && skip[i]))
			continue;
		if ((at = find_line(&users[i], expected)) == -1) {
			missing++;
			continue;
		}
		if (*first == s->us || users[i].lines[at].us < *first)
			*first = users[i].lines[at].us;
		if (users[i].lines[at].us > *last)
			*last = users[i].lines[at].us;
	}
	return missing;
}

static void
cmd_send(char *args)
{
	int	i = parse_user(next_word(&args));

	if (i == -1 || *args == '\0')
		answer("error: usage: send I TEXT");
	else if (users[i].fd == -1)
		answer("error: user %d is disconnected", i);
	else {
		user_send(i, args);
		answer("ok");
	}
}

/* "missing K: I J ...": the users without s. */
static void
answer_missing(const struct sent *s, const char *skip, int missing)
{
	char	expected[INBUF];
	int	i;

	chat_line(expected, sizeof(expected), s);
	if (printf("missing %d:", missing) < 0)
		err(1, "stdout");
	for (i = 0; i < nusers; i++)
		if (i != s->user && !skip[i] &&
		    find_line(&users[i], expected) == -1 && printf(" %d", i) < 0)
			err(1, "stdout");
	answer("%s", "");
}

static void
cmd_wait(char *args)
{
	const struct sent	*s;
	char			*text = next_word(&args), *w, *skip;
	int64_t			 deadline = parse_deadline(next_word(&args));
	int64_t			 first, last;
	int			 i, missing;

	if (text == NULL || deadline == -1) {
		answer("error: usage: wait TEXT SECONDS [SKIP ...]");
		return;
	}
	if ((s = find_sent(text)) == NULL) {
		answer("error: nobody sent %s", text);
		return;
	}
	if ((skip = calloc((size_t)nusers, 1)) == NULL)
		err(1, "calloc");
	while ((w = next_word(&args)) != NULL) {
		if ((i = parse_user(w)) == -1) {
			answer("error: no user %s", w);
			free(skip);
			return;
		}
		skip[i] = 1;
	}
	while ((missing = count_missing(s, skip, &first, &last)) > 0 &&
	    pump_until(deadline))
		;
	if (missing == 0)
		answer("ok %lld %lld", (long long)(first - s->us) / 1000,
		    (long long)(last - s->us) / 1000);
	else
		answer_missing(s, skip, missing);
	free(skip);
}

static void
cmd_expect(char *args)
{
	struct user	*u;
	int64_t		 deadline;
	long		 at;
	int		 i;

	i = parse_user(next_word(&args));
	deadline = parse_deadline(next_word(&args));
	if (i == -1 || deadline == -1 || *args == '\0') {
		answer("error: usage: expect I SECONDS LINE");
		return;
	}
	u = &users[i];
	while ((at = find_line(u, args)) == -1 && pump_until(deadline))
		;
	if (at == -1)
		answer("timeout");
	else
		answer("ok %lld", (long long)(u->lines[at].us - u->sent_us) /
		    1000);
}

static void
cmd_lines(char *args)
{
	struct user	*u;
	size_t		 k;
	int		 i = parse_user(next_word(&args));

	if (i == -1) {
		answer("error: usage: lines I");
		return;
	}
	u = &users[i];
	if (printf("lines %zu\n", u->nlines) < 0)
		err(1, "stdout");
	for (k = 0; k < u->nlines; k++)
		answer("%s", u->lines[k].text);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
}

static const struct command {
	const char	*name;
	void		(*run)(char *);
} commands[] = {
	{ "send",	cmd_send },
	{ "wait",	cmd_wait },
	{ "expect",	cmd_expect },
	{ "lines",	cmd_lines },
};

/* Runs one command line; returns 0 for quit. */
static int
run_command(char *line)
{
	const char	*name = next_word(&line);
	size_t		 k;

	if (name != NULL && strcmp(name, "quit") == 0)
		return 0;
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (name != NULL && strcmp(name, commands[k].name) == 0) {
			commands[k].run(line);
			return 1;
		}
	answer("error: unknown command: %s", name != NULL ? name : "");
	return 1;
}

/* Every user in and registered, and every notice about it come. */
static void
setup(int port)
{
	struct sockaddr_in	 sin;
	const struct sent	*s;
	int64_t			 first, last;
	int			 i;
	char			 ready[] = "ready";

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < nusers; i++)
		user_connect(i, &sin);
	user_send(nusers - 1, ready);
	s = find_sent("ready");
	while (count_missing(s, NULL, &first, &last) > 0) {
		for (i = 0; i < nusers; i++)
			if (users[i].fd == -1)
				errx(1, "user %d: closed before ready", i);
		pump(-1, 0);
	}
	for (i = 0; i < nusers; i++) {
		user_forget(&users[i]);
		users[i].sent_us = now_us();
	}
	answer("ready %d", nusers);
}

/* Reads commands from stdin and runs them until quit or end of file. */
static void
serve(void)
{
	char	cmd[CMDBUF] = "", *nl;
	size_t	len = 0;
	ssize_t	n;

	for (;;) {
		while ((nl = memchr(cmd, '\n', len)) == NULL) {
			if (len == sizeof(cmd))
				errx(1, "a command longer than %d bytes", CMDBUF);
			if (!pump(-1, 1))
				continue;
			n = read(0, cmd + len, sizeof(cmd) - len);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				err(1, "stdin");
			if (n == 0)
				return;
			len += (size_t)n;
		}
		*nl = '\0';
		if (!run_command(cmd))
			return;
		len -= (size_t)(nl + 1 - cmd);
		memmove(cmd, nl + 1, len);
	}
}

/* A number between lo and hi, or a usage error. */
static long
number(const char *what, const char *s, long lo, long hi)
{
	long	v;

	if (parse_number(s, lo, hi, &v) == -1) {
		warnx("%s: not a number from %ld to %ld: %s", what, lo, hi, s);
		exit(64);
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct sigaction	sa;
	int			c, i, port = 0;
	unsigned		timeout = 120;

	while ((c = getopt(argc, argv, "p:n:P:t:")) != -1)
		switch (c) {
		case 'p':
			port = (int)number("-p", optarg, 1, 65535);
			break;
		case 'n':
			nusers = (int)number("-n", optarg, 2, MAX_USERS);
			break;
		case 'P':
			if (strlen(optarg) > MAX_PREFIX)
				errx(64, "-P: longer than %d", MAX_PREFIX);
			snprintf(prefix, sizeof(prefix), "%s", optarg);
			break;
		case 't':
			timeout = (unsigned)number("-t", optarg, 1, 86400);
			break;
		default:
			goto usage;
		}
	if (port == 0 || optind != argc)
		goto usage;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		err(1, "sigaction");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	alarm(timeout);
	users = xrealloc(NULL, (size_t)nusers, sizeof(*users));
	pfds = xrealloc(NULL, (size_t)nusers + 1, sizeof(*pfds));
	memset(users, 0, (size_t)nusers * sizeof(*users));
	for (i = 0; i <= nusers; i++) {
		pfds[i].fd = i < nusers ? -1 : 0;
		pfds[i].events = POLLIN;
	}
	setup(port);
	serve();
	return 0;
usage:
	fprintf(stderr, "usage: roomprobe -p PORT [-n USERS] [-P PREFIX] "
	    "[-t SECONDS]\n");
	return 64;
}
