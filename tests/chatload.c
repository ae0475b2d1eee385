/* SPDX-License-Identifier: ISC */
/*
 * chatload - check chatd delivery correctness under concurrent load.
 *
 * Connects CLIENTS clients and registers them all.  Then the first
 * SENDERS clients each send LINES lines "m SENDER SEQ".  Every client
 * must get every other sender's lines exactly once and in order, and
 * never its own.  Then all clients send /quit and wait for the close.
 * With -z BYTES each line is padded to BYTES bytes (LF not counted):
 * "m SENDER SEQ " and filler, which the receivers ignore.
 *
 * One poll() loop, non-blocking sockets, no threads.  Exit 0 only when
 * nothing was lost, duplicated, reordered or echoed within TIMEOUT.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT	200	/* connections not yet registered */
#define MAX_LINE	4096	/* longest server line, without CRLF */
#define INBUF_SIZE	8192
#define OUT_LOW		16384	/* refill a sender below this */
#define FILL_ROUNDS	4	/* refills per sender per loop */
#define READ_ROUNDS	8	/* reads per client per loop */
#define MAX_NAME	16
#define MAX_PROBLEMS	10
#define MAX_PAD		4000	/* -z at most: the relayed line fits MAX_LINE */
#define PAD_CHAR	'x'
#define PROMPT		"Enter your name:"

enum state {
	S_IDLE,			/* not connected yet */
	S_CONNECTING,
	S_PROMPT,		/* waiting for the name prompt */
	S_HELLO,		/* name sent, waiting for "* Hello, NAME!" */
	S_READY,
	S_QUIT,			/* "/quit" sent, waiting for the close */
	S_CLOSED
};

enum phase {
	P_REGISTER,
	P_SEND,
	P_QUIT,
	P_DONE
};

struct client {
	int		 fd;
	enum state	 state;
	char		 name[MAX_NAME + 1];
	char		 in[INBUF_SIZE];
	size_t		 inlen;
	char		*out;
	size_t		 outoff;
	size_t		 outlen;
	size_t		 outsize;
	unsigned	 sent;		/* lines queued (senders) */
	char		 notice[128];	/* last "! " line */
};

static const char	*host = "127.0.0.1";
static const char	*port;
static const char	*prefix = "u";
static unsigned		 nclients = 100;
static unsigned		 nsenders = 5;
static unsigned		 nlines = 50;
static unsigned		 rate;
static unsigned		 timeout = 60;
static unsigned		 padbytes;

static struct addrinfo	*addr;
static struct client	*clients;
static struct pollfd	*pfds;
/* Per (receiver, sender) pair: highest seq + 1, count, bitmap. */
static unsigned		*nextseq;
static unsigned		*ngot;
static uint8_t		*seen;
static size_t		 seenbytes;

static enum phase	 phase = P_REGISTER;
static unsigned		 nstarted, ninflight, nregistered, nclosed;
static double		 tstart, tdeadline, tsend;

static unsigned long long expected, delivered, ndup, nreorder, necho, nbad;

static int		 failed;
static int		 timedout;
static char		 failmsg[512];
static char		 problems[MAX_PROBLEMS][256];
static unsigned		 nproblems;

static void	problem(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	fail(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	client_write(struct client *);

static void
usage(void)
{
	fprintf(stderr, "usage: chatload [-h host] -p port [-n clients] "
	    "[-s senders] [-l lines] [-r rate] [-t timeout] [-x prefix]\n"
	    "                [-z bytes]\n");
	exit(2);
}

static double
now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
problem(const char *fmt, ...)
{
	va_list	ap;

	if (nproblems < MAX_PROBLEMS) {
		va_start(ap, fmt);
		vsnprintf(problems[nproblems], sizeof problems[0], fmt, ap);
		va_end(ap);
	}
	nproblems++;
}

/* Record the first fatal error; the main loop stops after it. */
static void
fail(const char *fmt, ...)
{
	va_list	ap;

	if (failed)
		return;
	failed = 1;
	va_start(ap, fmt);
	vsnprintf(failmsg, sizeof failmsg, fmt, ap);
	va_end(ap);
}

static unsigned
number(const char *s, unsigned min, unsigned max, const char *what)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		errx(2, "%s must be %u to %u: %s", what, min, max, s);
	return (v);
}

static void
check_prefix(void)
{
	const char	*p;
	char		 buf[32];
	int		 n;

	if (!isalpha((unsigned char)*prefix))
		errx(2, "prefix must start with a letter: %s", prefix);
	for (p = prefix; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			errx(2, "bad character in prefix: %s", prefix);
	}
	n = snprintf(buf, sizeof buf, "%u", nclients - 1);
	if (strlen(prefix) + n > MAX_NAME)
		errx(2, "prefix too long for %u clients: %s", nclients, prefix);
}

static void
getopts(int argc, char **argv)
{
	int	ch;

	while ((ch = getopt(argc, argv, "h:p:n:s:l:r:t:x:z:")) != -1) {
		switch (ch) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = optarg;
			number(optarg, 1, 65535, "port");
			break;
		case 'n':
			nclients = number(optarg, 1, 100000, "clients");
			break;
		case 's':
			nsenders = number(optarg, 0, 100000, "senders");
			break;
		case 'l':
			nlines = number(optarg, 0, 100000000, "lines");
			break;
		case 'r':
			rate = number(optarg, 0, 1000000, "rate");
			break;
		case 't':
			timeout = number(optarg, 1, 86400, "timeout");
			break;
		case 'x':
			prefix = optarg;
			break;
		case 'z':
			padbytes = number(optarg, 0, MAX_PAD, "bytes");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || port == NULL)
		usage();
	if (nsenders > nclients)
		errx(2, "more senders (%u) than clients (%u)", nsenders,
		    nclients);
	check_prefix();
}

static void
setup_limits(void)
{
	struct rlimit	rl;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			err(1, "setrlimit");
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < nclients + 16)
		errx(1, "%u clients need more than RLIMIT_NOFILE %llu",
		    nclients, (unsigned long long)rl.rlim_cur);
}

static void
resolve(void)
{
	struct addrinfo	hints;
	int		error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	error = getaddrinfo(host, port, &hints, &addr);
	if (error != 0)
		errx(1, "%s port %s: %s", host, port, gai_strerror(error));
}

static void
setup(void)
{
	size_t	i, pairs;

	clients = calloc(nclients, sizeof *clients);
	pfds = calloc(nclients, sizeof *pfds);
	pairs = (size_t)nclients * nsenders;
	nextseq = calloc(pairs + 1, sizeof *nextseq);
	ngot = calloc(pairs + 1, sizeof *ngot);
	seenbytes = (nlines + 7) / 8;
	seen = calloc(pairs * seenbytes + 1, 1);
	if (clients == NULL || pfds == NULL || nextseq == NULL ||
	    ngot == NULL || seen == NULL)
		err(1, "calloc");
	for (i = 0; i < nclients; i++) {
		clients[i].fd = -1;
		snprintf(clients[i].name, sizeof clients[i].name, "%s%zu",
		    prefix, i);
	}
	expected = (unsigned long long)nsenders * nlines * (nclients - 1);
}

static size_t
pending(struct client *c)
{
	return (c->outlen - c->outoff);
}

static void
out_append(struct client *c, const char *buf, size_t len)
{
	size_t	 size;
	char	*p;

	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, pending(c));
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + len > c->outsize) {
		size = c->outsize == 0 ? 4096 : c->outsize;
		while (size < c->outlen + len)
			size *= 2;
		if ((p = realloc(c->out, size)) == NULL)
			err(1, "realloc");
		c->out = p;
		c->outsize = size;
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
}

static void
client_close(struct client *c)
{
	if (close(c->fd) == -1)
		warn("%s: close", c->name);
	c->fd = -1;
	c->state = S_CLOSED;
	nclosed++;
}

static void
client_connect(struct client *c)
{
	int	fd, one = 1;

	fd = socket(addr->ai_family, addr->ai_socktype | SOCK_NONBLOCK,
	    addr->ai_protocol);
	if (fd == -1) {
		fail("%s: socket: %s", c->name, strerror(errno));
		return;
	}
	c->fd = fd;
	c->state = S_CONNECTING;
	nstarted++;
	ninflight++;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1) {
		fail("%s: setsockopt: %s", c->name, strerror(errno));
		return;
	}
	if (connect(fd, addr->ai_addr, addr->ai_addrlen) == 0)
		c->state = S_PROMPT;
	else if (errno != EINPROGRESS && errno != EINTR)
		fail("%s: connect to %s port %s: %s", c->name, host, port,
		    strerror(errno));
}

static void
connect_done(struct client *c)
{
	socklen_t	len = sizeof(int);
	int		error;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1) {
		fail("%s: getsockopt: %s", c->name, strerror(errno));
		return;
	}
	if (error != 0) {
		fail("%s: connect to %s port %s: %s", c->name, host, port,
		    strerror(error));
		return;
	}
	c->state = S_PROMPT;
}

static void
start_connects(void)
{
	while (!failed && nstarted < nclients && ninflight < MAX_INFLIGHT)
		client_connect(&clients[nstarted]);
}

static void
send_line(struct client *c, const char *line)
{
	out_append(c, line, strlen(line));
	out_append(c, "\n", 1);
	client_write(c);
}

/* Account one chat line with sequence seq from sender s at receiver r. */
static void
record(struct client *c, unsigned s, unsigned seq)
{
	size_t	 k = (size_t)(c - clients) * nsenders + s;
	uint8_t	*bits = seen + k * seenbytes;
	uint8_t	 bit = 1 << (seq & 7);

	if (bits[seq >> 3] & bit) {
		ndup++;
		problem("%s: from %s: duplicate seq %u (expected %u)",
		    c->name, clients[s].name, seq, nextseq[k]);
		return;
	}
	bits[seq >> 3] |= bit;
	ngot[k]++;
	delivered++;
	if (seq > nextseq[k]) {
		problem("%s: from %s: expected seq %u, got %u (gap)",
		    c->name, clients[s].name, nextseq[k], seq);
		nextseq[k] = seq + 1;
	} else if (seq < nextseq[k]) {
		nreorder++;
		problem("%s: from %s: got seq %u after %u (reordered)",
		    c->name, clients[s].name, seq, nextseq[k] - 1);
	} else
		nextseq[k] = seq + 1;
}

static int
parse_uint(char **pp, unsigned *v)
{
	char	*p = *pp;

	if (*p < '0' || *p > '9')
		return (-1);
	for (*v = 0; *p >= '0' && *p <= '9'; p++) {
		if (*v > UINT_MAX / 10 - 1)
			return (-1);
		*v = *v * 10 + (*p - '0');
	}
	*pp = p;
	return (0);
}

/*
 * A "<NAME> TEXT" line; only TEXT starting with "m " is ours. Filler
 * after "m SENDER SEQ " is ignored.
 */
static void
check_chat(struct client *c, char *line)
{
	char		*name = line + 1, *end, *text, *p;
	unsigned	 s, seq;

	if ((end = strchr(name, '>')) == NULL || end[1] != ' ')
		return;
	*end = '\0';
	text = end + 2;
	if (strncmp(text, "m ", 2) != 0)
		return;
	if (strcmp(name, c->name) == 0) {
		necho++;
		problem("%s: got its own line back: \"%s\"", c->name, text);
		return;
	}
	p = text + 2;
	if (parse_uint(&p, &s) == -1 || *p++ != ' ' ||
	    parse_uint(&p, &seq) == -1 || (*p != '\0' && *p != ' ') ||
	    s >= nsenders || seq >= nlines ||
	    strcmp(name, clients[s].name) != 0) {
		nbad++;
		problem("%s: unexpected line: \"<%s> %s\"", c->name, name,
		    text);
		return;
	}
	record(c, s, seq);
}

static void
line_prompt(struct client *c, const char *line)
{
	if (strncmp(line, "! ", 2) == 0)
		fail("%s: server refused connection: %s", c->name, line);
	else if (strncmp(line, PROMPT, strlen(PROMPT)) == 0) {
		c->state = S_HELLO;
		send_line(c, c->name);
	}
}

static void
line_hello(struct client *c, const char *line)
{
	char	hello[64];

	snprintf(hello, sizeof hello, "* Hello, %s!", c->name);
	line += strspn(line, " ");
	if (strncmp(line, "! ", 2) == 0)
		fail("%s: registration refused: %s", c->name, line);
	else if (strncmp(line, hello, strlen(hello)) == 0) {
		c->state = S_READY;
		ninflight--;
		nregistered++;
	}
}

static void
handle_line(struct client *c, char *line)
{
	if (line[0] == '<') {
		check_chat(c, line);
		return;
	}
	if (strncmp(line, "! ", 2) == 0)
		snprintf(c->notice, sizeof c->notice, "%.*s",
		    (int)sizeof c->notice - 1, line);
	switch (c->state) {
	case S_PROMPT:
		line_prompt(c, line);
		break;
	case S_HELLO:
		line_hello(c, line);
		break;
	default:
		break;
	}
}

/* Split the input buffer into lines; keep a partial line for later. */
static void
process_input(struct client *c)
{
	char	*p = c->in, *end = c->in + c->inlen, *nl;
	size_t	 len;

	while (!failed && (nl = memchr(p, '\n', end - p)) != NULL) {
		len = nl - p;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > MAX_LINE) {
			fail("%s: line longer than %d bytes", c->name,
			    MAX_LINE);
			return;
		}
		p[len] = '\0';
		handle_line(c, p);
		p = nl + 1;
	}
	c->inlen = end - p;
	memmove(c->in, p, c->inlen);
	if (c->inlen > MAX_LINE + 1)
		fail("%s: line longer than %d bytes", c->name, MAX_LINE);
	else if (c->state == S_PROMPT && c->inlen >= strlen(PROMPT) &&
	    memcmp(c->in, PROMPT, strlen(PROMPT)) == 0) {
		/* Prompt without line end; spaces after it are skipped. */
		c->inlen = 0;
		line_prompt(c, PROMPT);
	}
}

static void
client_eof(struct client *c)
{
	if (c->state == S_QUIT) {
		client_close(c);
		return;
	}
	if (c->state == S_READY)
		fail("%s: server closed connection unexpectedly%s%s",
		    c->name, *c->notice ? ", last notice: " : "", c->notice);
	else
		fail("%s: server closed connection during registration",
		    c->name);
}

static void
client_read(struct client *c)
{
	ssize_t	n;
	int	i;

	for (i = 0; i < READ_ROUNDS && !failed && c->fd != -1; i++) {
		n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == ECONNRESET && c->state == S_QUIT)
				client_close(c);
			else
				fail("%s: read: %s", c->name, strerror(errno));
			return;
		}
		if (n == 0) {
			client_eof(c);
			return;
		}
		c->inlen += n;
		process_input(c);
	}
}

static void
client_write(struct client *c)
{
	ssize_t	n;

	while (c->fd != -1 && pending(c) > 0) {
		n = write(c->fd, c->out + c->outoff, pending(c));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if ((errno == EPIPE || errno == ECONNRESET) &&
			    c->state == S_QUIT)
				client_close(c);
			else
				fail("%s: write: %s", c->name, strerror(errno));
			return;
		}
		c->outoff += n;
	}
	c->outoff = c->outlen = 0;
}

/* Queue due lines for one sender; return when the next one is due. */
static double
fill_sender(unsigned i, double t)
{
	struct client	*c = &clients[i];
	char		 buf[MAX_PAD + 64];
	double		 due;
	int		 round, n;

	for (round = 0; round < FILL_ROUNDS; round++) {
		while (c->sent < nlines) {
			if (rate == 0) {
				if (pending(c) >= OUT_LOW)
					break;
			} else {
				due = tsend + (double)c->sent / rate;
				if (due > t)
					return (due);
			}
			n = snprintf(buf, sizeof buf, "m %u %u", i, c->sent);
			if ((unsigned)n + 1 < padbytes) {
				buf[n++] = ' ';
				memset(buf + n, PAD_CHAR, padbytes - n);
				n = padbytes;
			}
			buf[n++] = '\n';
			out_append(c, buf, n);
			c->sent++;
		}
		client_write(c);
		if (failed || c->fd == -1 || pending(c) > 0)
			break;
	}
	return (tdeadline);
}

static double
fill_senders(double t)
{
	double		wake = tdeadline, due;
	unsigned	i;

	for (i = 0; i < nsenders && !failed; i++) {
		if (clients[i].fd == -1 || clients[i].sent == nlines)
			continue;
		due = fill_sender(i, t);
		if (due < wake)
			wake = due;
	}
	return (wake);
}

static int
senders_flushed(void)
{
	unsigned	i;

	for (i = 0; i < nsenders; i++) {
		if (clients[i].sent < nlines || pending(&clients[i]) > 0)
			return (0);
	}
	return (1);
}

static void
start_quit(void)
{
	unsigned	i;

	phase = P_QUIT;
	for (i = 0; i < nclients && !failed; i++) {
		clients[i].state = S_QUIT;
		send_line(&clients[i], "/quit");
	}
}

static void
advance(double t)
{
	if (phase == P_REGISTER && nregistered == nclients) {
		phase = P_SEND;
		tsend = t;
	}
	if (phase == P_SEND && delivered == expected && senders_flushed())
		start_quit();
	if (phase == P_QUIT && nclosed == nclients)
		phase = P_DONE;
}

static void
build_pollfds(void)
{
	struct client	*c;
	unsigned	 i;

	for (i = 0; i < nclients; i++) {
		c = &clients[i];
		pfds[i].fd = c->fd;
		pfds[i].revents = 0;
		if (c->state == S_CONNECTING)
			pfds[i].events = POLLOUT;
		else if (pending(c) > 0)
			pfds[i].events = POLLIN | POLLOUT;
		else
			pfds[i].events = POLLIN;
	}
}

static void
dispatch(void)
{
	struct client	*c;
	unsigned	 i;
	short		 re;

	for (i = 0; i < nclients && !failed; i++) {
		c = &clients[i];
		re = pfds[i].revents;
		if (re == 0 || c->fd == -1)
			continue;
		if (c->state == S_CONNECTING) {
			connect_done(c);
			continue;
		}
		if (re & (POLLIN | POLLHUP | POLLERR))
			client_read(c);
		if (c->fd != -1 && !failed && (re & POLLOUT))
			client_write(c);
	}
}

static int
poll_timeout(double t, double wake)
{
	double	d;

	d = (wake < tdeadline ? wake : tdeadline) - t;
	if (d <= 0)
		return (0);
	return ((int)(d * 1000) + 1);
}

static void
timed_out(void)
{
	timedout = 1;
	switch (phase) {
	case P_REGISTER:
		fail("timeout after %us: %u of %u clients registered",
		    timeout, nregistered, nclients);
		break;
	case P_SEND:
		fail("timeout after %us: %llu of %llu lines delivered",
		    timeout, delivered, expected);
		break;
	default:
		fail("timeout after %us: %u of %u connections closed "
		    "after /quit", timeout, nclosed, nclients);
		break;
	}
}

static void
run(void)
{
	double	t, wake;
	int	n;

	while (!failed && phase != P_DONE) {
		t = now();
		if (t >= tdeadline) {
			timed_out();
			break;
		}
		start_connects();
		advance(t);
		wake = tdeadline;
		if (phase == P_SEND)
			wake = fill_senders(t);
		advance(t);
		if (failed || phase == P_DONE)
			break;
		build_pollfds();
		n = poll(pfds, nclients, poll_timeout(t, wake));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (n > 0)
			dispatch();
	}
}

/* List the first (receiver, sender) pairs still missing lines. */
static void
report_missing(void)
{
	unsigned	 r, s, seq;
	size_t		 k;
	uint8_t		*bits;

	for (r = 0; r < nclients && nproblems < MAX_PROBLEMS; r++) {
		for (s = 0; s < nsenders && nproblems < MAX_PROBLEMS; s++) {
			k = (size_t)r * nsenders + s;
			if (r == s || ngot[k] == nlines)
				continue;
			bits = seen + k * seenbytes;
			for (seq = 0; bits[seq >> 3] & (1 << (seq & 7)); seq++)
				;
			problem("%s: from %s: missing %u of %u lines, "
			    "first missing seq %u", clients[r].name,
			    clients[s].name, nlines - ngot[k], nlines, seq);
		}
	}
}

static void
summary(FILE *f, double seconds)
{
	fprintf(f, "chatload: clients=%u senders=%u lines=%u expected=%llu "
	    "delivered=%llu lost=%llu dup=%llu reordered=%llu echo=%llu "
	    "seconds=%.2f\n", nclients, nsenders, nlines, expected,
	    delivered, expected - delivered, ndup, nreorder, necho, seconds);
}

static void
close_all(void)
{
	unsigned	i;

	for (i = 0; i < nclients; i++) {
		if (clients[i].fd != -1)
			client_close(&clients[i]);
	}
}

static int
finish(void)
{
	double		seconds = now() - tstart;
	unsigned	i;
	int		ok;

	ok = !failed && phase == P_DONE && delivered == expected &&
	    ndup == 0 && nreorder == 0 && necho == 0 && nbad == 0;
	if (timedout && phase == P_SEND)
		report_missing();
	summary(stdout, seconds);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	if (ok)
		return (0);
	summary(stderr, seconds);
	if (failed)
		fprintf(stderr, "chatload: FAIL: %s\n", failmsg);
	else
		fprintf(stderr, "chatload: FAIL: delivery errors\n");
	for (i = 0; i < nproblems && i < MAX_PROBLEMS; i++)
		fprintf(stderr, "chatload: %s\n", problems[i]);
	if (nproblems > MAX_PROBLEMS)
		fprintf(stderr, "chatload: ... and %u more problems\n",
		    nproblems - MAX_PROBLEMS);
	return (1);
}

int
main(int argc, char **argv)
{
	int	rc;

	getopts(argc, argv);
	setup_limits();
	resolve();
	setup();
	tstart = now();
	tdeadline = tstart + timeout;
	run();
	rc = finish();
	close_all();
	freeaddrinfo(addr);
	return (rc);
}
