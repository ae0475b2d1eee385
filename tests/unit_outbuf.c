/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the output backlog: it starts in the block its owner
 * lends, moves to the heap with its queued bytes intact when they
 * outgrow it, keeps its bound, and flushes into a pipe in order.
 * Prints each failed check; exits 1 if any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/outbuf.h"

static int	failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("unit_outbuf.c:%d: %s\n", __LINE__, #cond);	\
		failures++;						\
	}								\
} while (0)

/* Reads what the pipe holds into buf; returns the bytes read. */
static size_t
drain(int fd, char *buf, size_t len)
{
	ssize_t	n;
	size_t	got = 0;

	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	return got;
}

int
main(void)
{
	struct outbuf	ob;
	char		first[16], want[256], got[256];
	int		fd[2], i;
	size_t		wlen = 0;

	outbuf_init(&ob, 128, first, sizeof(first));
	CHECK(ob.buf == first && ob.cap == sizeof(first));
	/* Two short lines fit the lent block: no heap. */
	CHECK(outbuf_line(&ob, "abc", 3) == 0);
	CHECK(outbuf_line(&ob, "defg", 4) == 0);
	CHECK(ob.buf == first && outbuf_pending(&ob) == 11);
	/* The third does not: the queued bytes move with the buffer. */
	CHECK(outbuf_line(&ob, "hijklmnop", 9) == 0);
	CHECK(ob.buf != first && ob.cap >= 22 && ob.cap <= 128);
	CHECK(outbuf_pending(&ob) == 22);
	CHECK(memcmp(ob.buf, "abc\r\ndefg\r\nhijklmnop\r\n", 22) == 0);
	memcpy(want, ob.buf, 22);
	wlen = 22;
	/* The bound still holds after the move, and a refusal queues nothing. */
	for (i = 0; outbuf_line(&ob, "0123456789", 10) == 0; i++) {
		memcpy(want + wlen, "0123456789\r\n", 12);
		wlen += 12;
	}
	CHECK(outbuf_pending(&ob) == wlen && wlen <= 128 && wlen + 12 > 128);
	CHECK(pipe(fd) == 0);
	CHECK(outbuf_flush(&ob, fd[1]) == 0 && outbuf_pending(&ob) == 0);
	close(fd[1]);
	CHECK(drain(fd[0], got, sizeof(got)) == wlen);
	CHECK(memcmp(got, want, wlen) == 0);
	close(fd[0]);
	free(ob.buf);

	/* No block lent: the first line goes to the heap. */
	outbuf_init(&ob, 64, NULL, 0);
	CHECK(outbuf_line(&ob, "x", 1) == 0 && ob.buf != NULL &&
	    memcmp(ob.buf, "x\r\n", 3) == 0);
	free(ob.buf);
	return failures > 0;
}
