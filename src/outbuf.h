/* SPDX-License-Identifier: ISC */
/*
 * outbuf.c: a client's output backlog, bounded. Lines wait here while
 * the socket is not writable; a client that lets the backlog pass its
 * bound is too slow to keep.
 */
#ifndef CHATD_OUTBUF_H
#define CHATD_OUTBUF_H

#include <stddef.h>

struct outbuf {
	char	*buf;
	char	*first;	/* the owner's block, not malloc'd; NULL: none */
	size_t	 off;	/* first unsent byte */
	size_t	 len;	/* end of the queued bytes */
	size_t	 cap;
	size_t	 max;
};

void	outbuf_init(struct outbuf *, size_t, char *, size_t);
int	outbuf_line(struct outbuf *, const char *, size_t);
int	outbuf_bytes(struct outbuf *, const void *, size_t);
size_t	outbuf_pending(const struct outbuf *);
int	outbuf_flush(struct outbuf *, int);

#endif
