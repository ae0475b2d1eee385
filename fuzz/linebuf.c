/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes line framing and telnet stripping (linebuf_feed in text.c), with
 * the two telnet requests chatd answers (IAC DO TIMING-MARK, IAC AYT).
 * The first input byte sets the line limit (1 to 256 bytes), the second
 * how the rest is cut into reads; the rest is what a client sends. The
 * stream is framed three ways, which must agree: all in one call, in
 * reads of varying size, and by a model of the rules in text.h.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/text.h"
#include "fuzz.h"

/*
 * What framing produced: 'L', a 4-byte length and the line; 'T'; or 'M'
 * and 'Y' for the requests TIMING-MARK and AYT.
 */
struct events {
	unsigned char	*p;
	size_t		 len;
};

static void
ev_add(struct events *ev, char kind, const unsigned char *line, size_t n)
{
	ev->p[ev->len++] = (unsigned char)kind;
	if (kind != 'L')
		return;
	memcpy(ev->p + ev->len, &n, 4);
	ev->len += 4;
	memcpy(ev->p + ev->len, line, n);
	ev->len += n;
}

/* Frames in[0..n) in reads of at most step bytes (varied by seed). */
static void
frame(const unsigned char *in, size_t n, size_t max, unsigned seed,
    struct events *ev)
{
	struct linebuf		 lb;
	const unsigned char	*line;
	size_t			 off = 0, chunk, used, len;
	enum lb_event		 e;

	FUZZ_CHECK(linebuf_init(&lb, max) == 0);
	while (off < n) {
		chunk = seed == 0 ? n - off : 1 + (seed % 13);
		seed = seed * 1103515245U + 12345U;
		if (chunk > n - off)
			chunk = n - off;
		/* Each read is fed until it is used up, as worker_input does. */
		while (chunk > 0) {
			e = linebuf_feed(&lb, in + off, chunk, &used, &line,
			    &len);
			FUZZ_CHECK(used >= 1 && used <= chunk);
			if (e == LB_LINE) {
				FUZZ_CHECK(len <= max && line != NULL);
				FUZZ_CHECK(memchr(line, '\n', len) == NULL);
				ev_add(ev, 'L', line, len);
			} else {
				FUZZ_CHECK(line == NULL && len == 0);
				if (e == LB_TOO_LONG)
					ev_add(ev, 'T', NULL, 0);
				else if (e == LB_MORE)
					FUZZ_CHECK(used == chunk);
				else
					FUZZ_CHECK(e == LB_TELNET &&
					    lb.request != LB_REQ_NONE);
			}
			/* A request comes alone, or with the too-long byte. */
			FUZZ_CHECK(lb.request == LB_REQ_NONE ||
			    e == LB_TELNET || e == LB_TOO_LONG);
			if (lb.request == LB_REQ_TM)
				ev_add(ev, 'M', NULL, 0);
			else if (lb.request == LB_REQ_AYT)
				ev_add(ev, 'Y', NULL, 0);
			else
				FUZZ_CHECK(lb.request == LB_REQ_NONE);
			off += used;
			chunk -= used;
		}
	}
	linebuf_free(&lb);
}

/* Where the model's telnet parser is (RFC 854). */
enum { M_DATA, M_IAC, M_OPT, M_SB, M_SBIAC, M_DO };

/*
 * One byte through the model's telnet parser: 1 if it is line data. A
 * byte that ends IAC DO 6 or IAC 246 adds its event.
 */
static int
model_telnet(int *st, unsigned char c, struct events *ev)
{
	switch (*st) {
	case M_DATA:
		*st = c == 0xff ? M_IAC : M_DATA;
		return c != 0xff;
	case M_IAC:
		/* IAC IAC is a 0xFF byte; WILL, WONT, DO, DONT take one more. */
		*st = c == 253 ? M_DO : c >= 251 && c <= 254 ? M_OPT :
		    c == 250 ? M_SB : M_DATA;
		if (c == 246)
			ev_add(ev, 'Y', NULL, 0);
		return c == 0xff;
	case M_DO:
		if (c == 6)
			ev_add(ev, 'M', NULL, 0);
		*st = M_DATA;
		return 0;
	case M_OPT:
		*st = M_DATA;
		return 0;
	case M_SB:
		*st = c == 0xff ? M_SBIAC : M_SB;
		return 0;
	default:
		*st = c == 240 ? M_DATA : M_SB;
		return 0;
	}
}

/*
 * The rules of text.h, written apart from text.c: LF ends a line in
 * data or right after an IAC; every other byte counts towards max, and
 * byte max + 1 is one 'T' and the rest up to any LF is skipped. Every
 * byte but an LF that ends a line or a skip goes through the telnet
 * parser, skipped ones and byte max + 1 too, so that each request is
 * seen wherever it ends.
 */
static void
model(const unsigned char *in, size_t n, size_t max, struct events *ev)
{
	unsigned char	*line;
	size_t		 i, raw = 0, len = 0;
	int		 st = M_DATA, skip = 0;

	if ((line = malloc(max)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (skip || (in[i] == '\n' && (st == M_DATA || st == M_IAC))) {
			if (in[i] != '\n') {
				(void)model_telnet(&st, in[i], ev);
				continue;
			}
			if (!skip)
				ev_add(ev, 'L', line, len);
			skip = 0;
			raw = len = 0;
			st = M_DATA;
			continue;
		}
		if (raw++ == max) {
			ev_add(ev, 'T', NULL, 0);
			raw = len = 0;
			if (in[i] == '\n')
				st = M_DATA;
			else {
				skip = 1;
				(void)model_telnet(&st, in[i], ev);
			}
			continue;
		}
		if (model_telnet(&st, in[i], ev))
			line[len++] = in[i];
	}
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events	 a, b, m;
	size_t		 max, n;
	unsigned	 seed;

	if (size < 2)
		return 0;
	max = 1 + (size_t)data[0];
	seed = 1 + data[1];
	data += 2;
	n = size - 2;
	/* Each event costs at least one input byte and adds five. */
	a.len = b.len = m.len = 0;
	if ((a.p = malloc(6 * n + 1)) == NULL ||
	    (b.p = malloc(6 * n + 1)) == NULL ||
	    (m.p = malloc(6 * n + 1)) == NULL)
		abort();
	frame(data, n, max, 0, &a);
	frame(data, n, max, seed, &b);
	FUZZ_CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	model(data, n, max, &m);
	FUZZ_CHECK(a.len == m.len && memcmp(a.p, m.p, a.len) == 0);
	free(a.p);
	free(b.p);
	free(m.p);
	return 0;
}
