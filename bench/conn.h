/* SPDX-License-Identifier: ISC */
/*
 * conn.c: the load tools' connections to a server of chatd's line
 * protocol (bench/chatbench, tests/soak): a non-blocking connect, lines
 * in through a buffer that keeps an incomplete one, an output queue, and
 * one epoll instance that waits for all of them.
 */
#ifndef CONN_H
#define CONN_H

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define CONN_PROMPT	"Enter your name:"	/* the server asks for a name */

/*
 * One connection.  The tool embeds it in its own client and reaches that
 * from the callbacks; the fields are read-only outside conn.c.
 */
struct conn {
	int		 fd;		/* -1 when closed */
	uint32_t	 events;	/* what epoll is asked to report */
	char		*in;		/* an incomplete line from the last read */
	char		*out;		/* out[outoff] to out[outlen]: unsent */
	uint32_t	 inlen;
	uint32_t	 insize;
	uint32_t	 outoff;
	uint32_t	 outlen;
	uint32_t	 outsize;
	uint8_t		 connecting;	/* connect() not finished yet */
	uint8_t		 reading;	/* EPOLLIN wanted */
	uint8_t		 overlong;	/* discarding a line too long to keep */
};

/*
 * What a tool hears of its connections, from conn_wait() and
 * conn_flush().  After up() with a reason or after down(), the tool
 * ends the connection with conn_close(); a line() or overlong() may end
 * it too (the rest of what was read is then dropped).
 */
struct conn_ops {
	/* The connect finished: why is NULL, or why it failed. */
	void	(*up)(struct conn *, const char *why);
	/*
	 * A whole line, without its LF and a CR before it.  now: when the
	 * read() that brought it returned (CLOCK_MONOTONIC, ns).
	 */
	void	(*line)(struct conn *, const char *, size_t, int64_t now);
	/* A line longer than the input buffer was thrown away. */
	void	(*overlong)(struct conn *);
	/* The connection was closed by the server or failed: why. */
	void	(*down)(struct conn *, const char *why);
};

void	conn_setup(const struct conn_ops *);
void	conn_watch(int);
int	conn_wait(int);
int64_t	now_ns(void);
void	conn_init(struct conn *, char *, size_t, char *, size_t);
void	conn_setout(struct conn *, char *, size_t);
int	conn_open(struct conn *, const struct sockaddr *, socklen_t,
	    struct sockaddr *, socklen_t *, int);
void	conn_close(struct conn *, int);
void	conn_reading(struct conn *, int);
int	conn_put(struct conn *, const void *, size_t);
int	conn_send_line(struct conn *, const char *, size_t);
char	*conn_reserve(struct conn *, size_t);
void	conn_commit(struct conn *, size_t);
void	conn_flush(struct conn *);
void	conn_resolve(const char *, const char *, int, struct sockaddr_storage *,
	    socklen_t *);
rlim_t	conn_nofile(void);

/* Bytes queued and not sent yet. */
static inline size_t
conn_pending(const struct conn *c)
{
	return (c->outlen - c->outoff);
}

/* Bytes the output queue can still take. */
static inline size_t
conn_room(const struct conn *c)
{
	return (c->outsize - conn_pending(c));
}

#endif
