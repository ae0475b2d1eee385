/* SPDX-License-Identifier: ISC */
/*
 * The load tools' side of a connection to a chat server: what
 * bench/chatbench and tests/soak share, so that the benchmark and the
 * checker connect, read and write the protocol the same way.  One epoll
 * instance waits for every connection (and any other descriptor a tool
 * watches); a ready connection is served here and what happened is
 * handed to the tool's callbacks (conn.h).  Lines are split in place in
 * one read buffer: only a line cut by the end of a read is copied, into
 * the connection's own input buffer.  Nothing here allocates, and
 * nothing makes a system call per line: the benchmark measures through
 * it.  A failing system call that should never fail ends the tool
 * (err(3), exit status 1).
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

#define READ_SIZE	65536	/* one read() */
#define MAX_EVENTS	512	/* events taken from one epoll_wait() */
#define NS		1000000000LL

static const struct conn_ops	*ops;
static int			 ep = -1;
static char			 readbuf[READ_SIZE];

int64_t
now_ns(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ((int64_t)ts.tv_sec * NS + ts.tv_nsec);
}

/*
 * The epoll instance and the tool's callbacks.  The read buffer is
 * touched now, so that it is resident before the tool measures anything
 * (chatbench takes MemAvailable before its first connect).
 */
void
conn_setup(const struct conn_ops *o)
{
	ops = o;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	memset(readbuf, 0, sizeof readbuf);
}

/* A descriptor of the tool's (a timer): conn_wait() counts its events. */
void
conn_watch(int fd)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		err(1, "epoll_ctl");
}

/*
 * A closed connection with its buffers: in takes an incomplete line of
 * at most insize bytes, out is the output queue.
 */
void
conn_init(struct conn *c, char *in, size_t insize, char *out,
    size_t outsize)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->in = in;
	c->insize = (uint32_t)insize;
	conn_setout(c, out, outsize);
}

/* Another output queue, empty (chatbench's senders get a larger one). */
void
conn_setout(struct conn *c, char *out, size_t outsize)
{
	c->out = out;
	c->outsize = (uint32_t)outsize;
	c->outoff = c->outlen = 0;
}

/* Asks epoll for these events of the connection (op: add or modify). */
static void
conn_epoll(struct conn *c, int op, uint32_t events)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(ep, op, c->fd, &ev) == -1)
		err(1, "epoll_ctl");
	c->events = events;
}

/* Asks epoll for what the connection waits for now. */
static void
conn_interest(struct conn *c)
{
	uint32_t	want;

	if (c->connecting)
		want = EPOLLOUT;
	else
		want = (c->reading ? EPOLLIN : 0U) |
		    (conn_pending(c) > 0 ? EPOLLOUT : 0U);
	if (want != c->events)
		conn_epoll(c, EPOLL_CTL_MOD, want);
}

/*
 * Starts a connect() to dst: from src if given (bound first, and its
 * port filled in), with a receive buffer of rcvbuf bytes if not 0.
 * Returns 0, and the outcome comes to up(); or -1 when connect() failed
 * at once, errno saying why: the tool closes the connection.
 */
int
conn_open(struct conn *c, const struct sockaddr *dst, socklen_t dstlen,
    struct sockaddr *src, socklen_t *srclen, int rcvbuf)
{
	int	one = 1;

	c->fd = socket(dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		err(1, "socket");
	/* Lines are small and latency is measured: no Nagle. */
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ==
	    -1)
		err(1, "setsockopt TCP_NODELAY");
	if (rcvbuf > 0 && setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof rcvbuf) == -1)
		err(1, "setsockopt SO_RCVBUF");
	if (src != NULL && (bind(c->fd, src, *srclen) == -1 ||
	    getsockname(c->fd, src, srclen) == -1))
		err(1, "bind");
	c->connecting = 1;
	c->reading = c->overlong = 0;
	c->inlen = c->outoff = c->outlen = 0;
	if (connect(c->fd, dst, dstlen) == -1 && errno != EINPROGRESS)
		return (-1);
	conn_epoll(c, EPOLL_CTL_ADD, EPOLLOUT);
	return (0);
}

/*
 * Closes the connection, with a reset (RST: SO_LINGER 0) if reset, and
 * empties its buffers for the next one.
 */
void
conn_close(struct conn *c, int reset)
{
	struct linger	lg = { 1, 0 };

	if (c->fd == -1)
		return;
	if (reset && setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof lg) == -1)
		err(1, "setsockopt SO_LINGER");
	if (close(c->fd) == -1)
		err(1, "close");
	c->fd = -1;
	c->connecting = c->reading = c->overlong = 0;
	c->events = 0;
	c->inlen = c->outoff = c->outlen = 0;
}

/*
 * Whether the connection reads (on) or lets the server's lines wait in
 * the kernel (soak's stalled users).  A closed or failed connection is
 * read all the same: there is nothing left to wait for.
 */
void
conn_reading(struct conn *c, int on)
{
	c->reading = on != 0;
	if (c->fd != -1 && !c->connecting)
		conn_interest(c);
}

/*
 * Room for n more bytes at the end of the output queue, moving what is
 * still unsent to the front if need be: where to write them before
 * conn_commit(); NULL when the queue cannot take them.
 */
char *
conn_reserve(struct conn *c, size_t n)
{
	if (c->outsize - c->outlen >= n)
		return (c->out + c->outlen);
	if (conn_room(c) < n)
		return (NULL);
	memmove(c->out, c->out + c->outoff, conn_pending(c));
	c->outlen -= c->outoff;
	c->outoff = 0;
	return (c->out + c->outlen);
}

/* The n bytes written where conn_reserve() said are queued. */
void
conn_commit(struct conn *c, size_t n)
{
	c->outlen += (uint32_t)n;
}

/* Queues n bytes; -1 when the queue cannot take them. */
int
conn_put(struct conn *c, const void *s, size_t n)
{
	char	*p;

	if ((p = conn_reserve(c, n)) == NULL)
		return (-1);
	memcpy(p, s, n);
	conn_commit(c, n);
	return (0);
}

/* Queues a line of n bytes and its LF, and sends; -1 when there is no room. */
int
conn_send_line(struct conn *c, const char *s, size_t n)
{
	if (conn_room(c) < n + 1 || conn_put(c, s, n) == -1 ||
	    conn_put(c, "\n", 1) == -1)
		return (-1);
	conn_flush(c);
	return (0);
}

/*
 * Sends what the socket takes; epoll says when it takes more.  A failure
 * goes to down().
 */
static void
conn_send(struct conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			ops->down(c, strerror(errno));
			return;
		}
		c->outoff += (uint32_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	conn_interest(c);
}

/*
 * Sends what is queued, unless the socket was full at the last try:
 * then the queue goes when epoll says the socket takes more.
 */
void
conn_flush(struct conn *c)
{
	if (c->fd == -1 || c->connecting || conn_pending(c) == 0 ||
	    (c->events & EPOLLOUT))
		return;
	conn_send(c);
}

/*
 * With no server on a port in the ephemeral range, a connect() can pick
 * that very port as its source and connect to itself, then wait forever
 * for a prompt.
 */
static int
self_connected(int fd)
{
	struct sockaddr_storage	a, b;
	socklen_t		alen = sizeof a, blen = sizeof b;

	if (getsockname(fd, (struct sockaddr *)&a, &alen) == -1)
		err(1, "getsockname");
	if (getpeername(fd, (struct sockaddr *)&b, &blen) == -1)
		return (0);	/* the connection failed meanwhile: read sees it */
	return (alen == blen && memcmp(&a, &b, alen) == 0);
}

static void
conn_connected(struct conn *c)
{
	int		e;
	socklen_t	len = sizeof e;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		err(1, "getsockopt SO_ERROR");
	if (e != 0) {
		ops->up(c, strerror(e));
		return;
	}
	if (self_connected(c->fd)) {
		ops->up(c, "connected to itself: nobody listens there");
		return;
	}
	c->connecting = 0;
	c->reading = 1;
	conn_interest(c);
	ops->up(c, NULL);
}

/* One whole line for the tool, without its CR. */
static void
conn_line(struct conn *c, const char *s, size_t n, int64_t now)
{
	if (n > 0 && s[n - 1] == '\r')
		n--;
	ops->line(c, s, n, now);
}

/* The line being read is too long to keep: the rest of it is dropped. */
static void
conn_overlong(struct conn *c)
{
	c->overlong = 1;
	c->inlen = 0;
	if (ops->overlong != NULL)
		ops->overlong(c);
}

/*
 * Completes the line kept from the last read with what this one brought
 * up to its first LF; returns where the rest begins, or NULL when all of
 * it was taken (or the tool ended the connection).
 */
static const char *
conn_carry(struct conn *c, const char *p, size_t len, int64_t now)
{
	const char	*nl = memchr(p, '\n', len);
	size_t		 take = nl != NULL ? (size_t)(nl - p) : len;

	if (!c->overlong && c->inlen + take > c->insize)
		conn_overlong(c);
	if (c->fd == -1)
		return (NULL);
	if (!c->overlong) {
		memcpy(c->in + c->inlen, p, take);
		c->inlen += (uint32_t)take;
	}
	if (nl == NULL)
		return (NULL);
	if (!c->overlong)
		conn_line(c, c->in, c->inlen, now);
	c->inlen = 0;
	c->overlong = 0;
	return (c->fd == -1 ? NULL : nl + 1);
}

/* Splits what one read() brought into lines; keeps the incomplete tail. */
static void
conn_input(struct conn *c, const char *buf, size_t len, int64_t now)
{
	const char	*p = buf, *end = buf + len, *nl;
	size_t		 take;

	if ((c->inlen > 0 || c->overlong) &&
	    (p = conn_carry(c, p, len, now)) == NULL)
		return;
	while (p < end && c->fd != -1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			take = (size_t)(end - p);
			if (take > c->insize)
				conn_overlong(c);
			else {
				memcpy(c->in, p, take);
				c->inlen = (uint32_t)take;
			}
			return;
		}
		conn_line(c, p, (size_t)(nl - p), now);
		p = nl + 1;
	}
}

static void
conn_read(struct conn *c)
{
	ssize_t	n;

	n = read(c->fd, readbuf, sizeof readbuf);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		ops->down(c, strerror(errno));
		return;
	}
	if (n == 0) {
		ops->down(c, "closed by the server");
		return;
	}
	conn_input(c, readbuf, (size_t)n, now_ns());
}

static void
conn_event(struct conn *c, uint32_t events)
{
	if (c->fd == -1)
		return;
	if (c->connecting) {
		conn_connected(c);
		return;
	}
	if ((events & (EPOLLHUP | EPOLLERR)) ||
	    ((events & EPOLLIN) && c->reading))
		conn_read(c);
	if (c->fd != -1 && (events & EPOLLOUT))
		conn_send(c);
}

/*
 * Waits at most timeout_ms (-1: as long as it takes) and serves the
 * connections that are ready.  Returns how many of the tool's own
 * descriptors (conn_watch) are ready.
 */
int
conn_wait(int timeout_ms)
{
	struct epoll_event	ev[MAX_EVENTS];
	int			i, n, others = 0;

	if ((n = epoll_wait(ep, ev, MAX_EVENTS, timeout_ms)) == -1) {
		if (errno == EINTR)
			return (0);
		err(1, "epoll_wait");
	}
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr == NULL)
			others++;
		else
			conn_event(ev[i].data.ptr, ev[i].events);
	}
	return (others);
}

/* The first address of host and port of that family (AF_UNSPEC: any). */
void
conn_resolve(const char *host, const char *port, int family,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo	hints, *ai;
	int		e;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0)
		errx(1, "%s port %s: %s", host, port, gai_strerror(e));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/*
 * Raises the soft limit of descriptors to the hard one, and returns it
 * (RLIM_INFINITY: no limit): a tool opens one a user.
 */
rlim_t
conn_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	return (rl.rlim_cur);
}
