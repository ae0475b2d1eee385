/* SPDX-License-Identifier: ISC */
/*
 * The output backlog. It starts in a block its owner lends (or none),
 * grows on the heap only when a backlog outgrows that, up to its bound,
 * and is compacted as the socket drains. Every
 * line added gets its CRLF here; only a telnet answer goes in raw.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "defs.h"
#include "log.h"
#include "outbuf.h"

/* first, of cap bytes (may be NULL, 0), is used until it is too small. */
void
outbuf_init(struct outbuf *ob, size_t max, char *first, size_t cap)
{
	memset(ob, 0, sizeof(*ob));
	ob->max = max;
	ob->buf = ob->first = first;
	ob->cap = first != NULL ? cap : 0;
}

WAKE_PATH size_t
outbuf_pending(const struct outbuf *ob)
{
	return ob->len - ob->off;
}

/* Makes room for n more bytes; -1 if that would pass the bound. */
WAKE_PATH static int
outbuf_reserve(struct outbuf *ob, size_t n)
{
	size_t	 want, cap;
	char	*p;

	if (ob->off > 0 && ob->off == ob->len)
		ob->off = ob->len = 0;
	if (outbuf_pending(ob) + n > ob->max)
		return -1;
	if (ob->len + n <= ob->cap)
		return 0;
	if (ob->off > 0) {
		memmove(ob->buf, ob->buf + ob->off, ob->len - ob->off);
		ob->len -= ob->off;
		ob->off = 0;
		if (ob->len + n <= ob->cap)
			return 0;
	}
	want = ob->len + n;
	for (cap = ob->cap ? ob->cap : 4096; cap < want; cap *= 2)
		;
	if (cap > ob->max)
		cap = ob->max;
	if (ob->buf == ob->first) {
		if ((p = malloc(cap)) == NULL)
			fatal("malloc");
		if (ob->len > 0)
			memcpy(p, ob->buf, ob->len);
	} else if ((p = realloc(ob->buf, cap)) == NULL)
		fatal("realloc");
	ob->buf = p;
	ob->cap = cap;
	return 0;
}

/* Queues one line and its CRLF; -1 when the backlog is full. */
WAKE_PATH int
outbuf_line(struct outbuf *ob, const char *s, size_t n)
{
	if (outbuf_reserve(ob, n + 2) == -1)
		return -1;
	memcpy(ob->buf + ob->len, s, n);
	memcpy(ob->buf + ob->len + n, "\r\n", 2);
	ob->len += n + 2;
	return 0;
}

/*
 * Queues bytes as they are, without a CRLF: a telnet answer. -1 when
 * the backlog is full.
 */
int
outbuf_bytes(struct outbuf *ob, const void *s, size_t n)
{
	if (outbuf_reserve(ob, n) == -1)
		return -1;
	memcpy(ob->buf + ob->len, s, n);
	ob->len += n;
	return 0;
}

/*
 * Writes what the socket takes now. Returns 0, or -1 when the peer is
 * gone (errno says why).
 */
WAKE_PATH int
outbuf_flush(struct outbuf *ob, int fd)
{
	ssize_t	n;

	while (ob->off < ob->len) {
		n = write(fd, ob->buf + ob->off, ob->len - ob->off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		ob->off += (size_t)n;
	}
	ob->off = ob->len = 0;
	return 0;
}
