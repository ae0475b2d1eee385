/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for text.c: line framing with telnet stripping, UTF-8 repair
 * and control character removal, and trimming; and for notice.c, which
 * notices a /me may not imitate.  Fixed vectors pin down the
 * protocol's rules; every framing vector is also fed whole, one byte at a
 * time, split in two at every position and in random chunks, because the
 * result must not depend on how the network cut the bytes.  A randomized
 * run then checks the invariants on many arbitrary inputs under the
 * sanitizers.  Prints one line per failed check; exits 1 if any failed.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/notice.h"
#include "../src/text.h"

/* A string literal as a pointer and length, so NUL bytes are kept. */
#define U(s)		((const unsigned char *)(s)), (sizeof(s) - 1)

#define UNIT_CHECK(e) do {						\
	if (!(e))							\
		unit_fail(__LINE__, "check failed: %s", #e);		\
} while (0)

#define UNIT_LOGSIZE	65536
#define UNIT_RANDOM	200000

/* How unit_frame cuts its input into feed calls. */
enum unit_chunk {
	UNIT_WHOLE,	/* one call */
	UNIT_BYTES,	/* one byte per call */
	UNIT_SPLIT,	/* two calls, split at a given position */
	UNIT_RAND	/* random chunk sizes */
};

/* A printable record of the events a linebuf produced. */
struct unit_log {
	char	buf[UNIT_LOGSIZE];
	size_t	len;
	int	overflow;
};

static int		unit_failures;
static int		unit_where;	/* line of the vector being run */
static uint64_t		unit_seed = 0x9e3779b97f4a7c15ULL;

static void
unit_fail(int line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
unit_fail(int line, const char *fmt, ...)
{
	va_list	ap;

	if (unit_where != 0)
		printf("unit_text.c:%d (vector at line %d): ", line,
		    unit_where);
	else
		printf("unit_text.c:%d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	unit_failures++;
}

/* splitmix64, so runs are repeatable from the seed. */
static uint64_t
unit_rand(void)
{
	uint64_t	z;

	z = (unit_seed += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static size_t
unit_below(size_t n)
{
	return ((size_t)(unit_rand() % n));
}

static void
unit_log_put(struct unit_log *log, const char *s, size_t n)
{
	if (n > sizeof log->buf - log->len) {
		log->overflow = 1;
		return;
	}
	memcpy(log->buf + log->len, s, n);
	log->len += n;
}

/* Appends bytes with anything but printable ASCII written as \xHH. */
static void
unit_log_escape(struct unit_log *log, const unsigned char *s, size_t n)
{
	char	hex[8];
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			unit_log_put(log, (const char *)s + i, 1);
		else {
			snprintf(hex, sizeof hex, "\\x%02x", s[i]);
			unit_log_put(log, hex, 4);
		}
	}
}

/*
 * An independent strict UTF-8 check, written the textbook way rather than
 * with text.c's first-continuation-byte ranges.  Also rejects the control
 * characters text_clean must remove.  Returns 1 if s[0..n) is acceptable.
 */
static int
unit_clean_ok(const unsigned char *s, size_t n)
{
	static const uint32_t	 min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t			 i, j, k;
	uint32_t		 cp;

	for (i = 0; i < n; i += k) {
		if (s[i] < 0x80)
			k = 1;
		else if ((s[i] & 0xe0) == 0xc0)
			k = 2;
		else if ((s[i] & 0xf0) == 0xe0)
			k = 3;
		else if ((s[i] & 0xf8) == 0xf0)
			k = 4;
		else
			return (0);
		if (k > n - i)
			return (0);
		cp = k == 1 ? s[i] : (s[i] & (0x7fU >> k));
		for (j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (s[i + j] & 0x3fU);
		}
		if (cp < min[k] || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		if ((cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
			return (0);
	}
	return (1);
}

/*
 * Runs text_clean into a buffer of exactly 3 * n bytes from malloc, so
 * ASan catches a write past the promised bound, and checks the output's
 * invariants.  Returns the output, which the caller frees.
 */
static unsigned char *
unit_clean(const unsigned char *in, size_t n, size_t *outlen)
{
	unsigned char	*out, *again;
	size_t		 len, len2;

	if ((out = malloc(TEXT_CLEAN_MAX(n) + (n == 0))) == NULL) {
		perror("malloc");
		exit(2);
	}
	len = text_clean(in, n, out);
	if (len > TEXT_CLEAN_MAX(n))
		unit_fail(__LINE__, "text_clean length %zu > 3 * %zu", len, n);
	else if (!unit_clean_ok(out, len))
		unit_fail(__LINE__, "text_clean output not clean UTF-8");
	else {
		/* Clean text must come through a second pass unchanged. */
		if ((again = malloc(TEXT_CLEAN_MAX(len) + 1)) == NULL) {
			perror("malloc");
			exit(2);
		}
		len2 = text_clean(out, len, again);
		if (len2 != len || memcmp(out, again, len) != 0)
			unit_fail(__LINE__, "text_clean not idempotent");
		free(again);
	}
	*outlen = len;
	return (out);
}

static size_t
unit_chunk_size(enum unit_chunk how, size_t split, size_t pos, size_t left)
{
	switch (how) {
	case UNIT_BYTES:
		return (1);
	case UNIT_SPLIT:
		return (pos < split ? split - pos : left);
	case UNIT_RAND:
		if (unit_below(4) == 0)
			return (1 + unit_below(left));
		return (1 + unit_below(left < 8 ? left : 8));
	default:
		return (left);
	}
}

/* Records one feed result and checks what the API promises about it. */
static void
unit_event(struct unit_log *log, struct linebuf *lb, enum lb_event ev,
    const unsigned char *line, size_t linelen)
{
	unsigned char	*out;
	size_t		 outlen;

	switch (ev) {
	case LB_LINE:
		if (line < lb->buf || linelen > lb->max ||
		    line + linelen > lb->buf + lb->max) {
			unit_fail(__LINE__, "line outside lb->buf");
			return;
		}
		unit_log_put(log, "L", 1);
		unit_log_escape(log, line, linelen);
		unit_log_put(log, "\n", 1);
		out = unit_clean(line, linelen, &outlen);
		free(out);
		break;
	case LB_TOO_LONG:
		if (line != NULL || linelen != 0)
			unit_fail(__LINE__, "LB_TOO_LONG with a line");
		unit_log_put(log, "T\n", 2);
		break;
	case LB_MORE:
		if (line != NULL || linelen != 0)
			unit_fail(__LINE__, "LB_MORE with a line");
		break;
	case LB_TELNET:
		if (line != NULL || linelen != 0)
			unit_fail(__LINE__, "LB_TELNET with a line");
		if (lb->request == LB_REQ_NONE)
			unit_fail(__LINE__, "LB_TELNET without a request");
		break;
	default:
		unit_fail(__LINE__, "unknown event %d", (int)ev);
		break;
	}
	/* A request comes with LB_TELNET, or with the too-long byte. */
	if (lb->request != LB_REQ_NONE && ev != LB_TELNET &&
	    ev != LB_TOO_LONG)
		unit_fail(__LINE__, "request %d with event %d", lb->request,
		    (int)ev);
	if (lb->request == LB_REQ_TM)
		unit_log_put(log, "M\n", 2);
	else if (lb->request == LB_REQ_AYT)
		unit_log_put(log, "Y\n", 2);
	else if (lb->request != LB_REQ_NONE)
		unit_fail(__LINE__, "unknown request %d", lb->request);
}

/* Feeds one chunk, calling linebuf_feed until it is used up. */
static void
unit_feed_chunk(struct unit_log *log, struct linebuf *lb,
    const unsigned char *in, size_t n)
{
	const unsigned char	*line;
	size_t			 off, used, linelen;
	enum lb_event		 ev;

	for (off = 0; off < n; off += used) {
		ev = linebuf_feed(lb, in + off, n - off, &used, &line,
		    &linelen);
		if (used == 0 || used > n - off) {
			unit_fail(__LINE__, "used %zu of %zu", used, n - off);
			return;
		}
		if (ev == LB_MORE && used != n - off)
			unit_fail(__LINE__, "LB_MORE but input left");
		if (lb->raw > lb->max || lb->len > lb->raw)
			unit_fail(__LINE__, "raw %zu len %zu max %zu",
			    lb->raw, lb->len, lb->max);
		unit_event(log, lb, ev, line, linelen);
	}
}

/*
 * Frames in[0..n) with the given limit and chunking and writes the events
 * to log, plus the final parser state if withstate is set.
 */
static void
unit_frame(struct unit_log *log, const unsigned char *in, size_t n,
    size_t max, enum unit_chunk how, size_t split, int withstate)
{
	struct linebuf	lb;
	size_t		pos, chunk;
	char		state[128];
	int		len;

	log->len = 0;
	log->overflow = 0;
	if (linebuf_init(&lb, max) != 0) {
		perror("linebuf_init");
		exit(2);
	}
	for (pos = 0; pos < n; pos += chunk) {
		chunk = unit_chunk_size(how, split, pos, n - pos);
		unit_feed_chunk(log, &lb, in + pos, chunk);
	}
	if (withstate) {
		len = snprintf(state, sizeof state, "S%zu,%zu,%d,%d\n",
		    lb.raw, lb.len, lb.tstate, lb.discard);
		unit_log_put(log, state, (size_t)len);
	}
	linebuf_free(&lb);
}

static int
unit_log_equal(const struct unit_log *a, const struct unit_log *b)
{
	return (!a->overflow && !b->overflow && a->len == b->len &&
	    memcmp(a->buf, b->buf, a->len) == 0);
}

/*
 * Checks that framing in[0..n) gives exactly the expected events, however
 * the input is cut.  expect is a sequence of "L<bytes>\n", "T\n", and "M\n"
 * and "Y\n" for the telnet requests TIMING-MARK and AYT.
 */
static void
unit_expect_frame(int where, const unsigned char *in, size_t n, size_t max,
    const char *expect)
{
	static struct unit_log	log;
	size_t			split;
	int			i;

	unit_where = where;
	for (i = 0; i < 3 + 2 * (int)n; i++) {
		split = 0;
		if (i == 0)
			unit_frame(&log, in, n, max, UNIT_WHOLE, 0, 0);
		else if (i == 1)
			unit_frame(&log, in, n, max, UNIT_BYTES, 0, 0);
		else if (i < 2 + (int)n) {
			split = (size_t)i - 1;
			unit_frame(&log, in, n, max, UNIT_SPLIT, split, 0);
		} else
			unit_frame(&log, in, n, max, UNIT_RAND, 0, 0);
		if (log.overflow || log.len != strlen(expect) ||
		    memcmp(log.buf, expect, log.len) != 0) {
			unit_fail(__LINE__, "framing (mode %d, split %zu) gave "
			    "\"%.*s\", want \"%s\"", i, split, (int)log.len,
			    log.buf, expect);
			break;
		}
	}
	unit_where = 0;
}

#define EXPECT_FRAME(in, max, expect) \
	unit_expect_frame(__LINE__, U(in), (max), (expect))

static void
unit_test_framing(void)
{
	/* Plain lines, several per call, LF only, CRLF, empty lines. */
	EXPECT_FRAME("", 80, "");
	EXPECT_FRAME("hello", 80, "");
	EXPECT_FRAME("hello\n", 80, "Lhello\n");
	EXPECT_FRAME("a\nb\nc\n", 80, "La\nLb\nLc\n");
	EXPECT_FRAME("a\nb\nc", 80, "La\nLb\n");
	EXPECT_FRAME("\n", 80, "L\n");
	EXPECT_FRAME("\n\n\n", 80, "L\nL\nL\n");
	EXPECT_FRAME("hi\r\n", 80, "Lhi\\x0d\n");
	EXPECT_FRAME("\r\n\r\n", 80, "L\\x0d\nL\\x0d\n");
	EXPECT_FRAME("a\rb\r\n", 80, "La\\x0db\\x0d\n");

	/* NUL bytes neither end nor shorten a line. */
	EXPECT_FRAME("a\0b\n", 80, "La\\x00b\n");
	EXPECT_FRAME("\0\n\0\0\n", 80, "L\\x00\nL\\x00\\x00\n");

	/* Exactly max raw bytes is fine, max + 1 is not. */
	EXPECT_FRAME("abcde\n", 5, "Labcde\n");
	EXPECT_FRAME("abcdef\n", 5, "T\n");
	EXPECT_FRAME("abcdef", 5, "T\n");
	EXPECT_FRAME("abcd\r\n", 5, "Labcd\\x0d\n");
	EXPECT_FRAME("abcde\r\n", 5, "T\n");
	EXPECT_FRAME("\n", 1, "L\n");
	EXPECT_FRAME("a\n", 1, "La\n");
	EXPECT_FRAME("ab\n", 1, "T\n");
	EXPECT_FRAME("ab\nc\n", 1, "T\nLc\n");

	/* Overlong lines are reported once, then the next line is normal. */
	EXPECT_FRAME("abcdef\nok\n", 5, "T\nLok\n");
	EXPECT_FRAME("abcdefghijklmnopqrstuvwxyz\nxy\n", 5, "T\nLxy\n");
	EXPECT_FRAME("aaaaaaa\nbbbbbbb\nc\n", 3, "T\nT\nLc\n");
	EXPECT_FRAME("aaaaaaa\n\nbbbbbbb\n", 3, "T\nL\nT\n");
	EXPECT_FRAME("abc\nabcd\nabc\n", 3, "Labc\nT\nLabc\n");
	EXPECT_FRAME("abcdefgh\xff\xfa" "abc\xff\nxy\n", 5, "T\nLxy\n");

	/* Telnet negotiation is removed. */
	EXPECT_FRAME("a\xff\xfb\x01" "b\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff\xfc\x01" "b\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff\xfd\x1f" "b\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff\xfe\x18" "b\n", 80, "Lab\n");
	EXPECT_FRAME("\xff\xfb\x01\xff\xfd\x03\n", 80, "L\n");
	EXPECT_FRAME("a\xff\xf1" "b\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff\xf4\xff\xf9" "b\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff\xf0" "b\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff" "Xb\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff\x00" "b\n", 80, "Lab\n");

	/* IAC IAC is a data byte 0xFF. */
	EXPECT_FRAME("a\xff\xff" "b\n", 80, "La\\xffb\n");
	EXPECT_FRAME("\xff\xff\xff\xff\n", 80, "L\\xff\\xff\n");
	EXPECT_FRAME("\xff\xff\xff\xfb\x01\n", 80, "L\\xff\n");

	/* The option byte after WILL/WONT/DO/DONT may be 10 (NAOCRD). */
	EXPECT_FRAME("a\xff\xfd\nb\n", 80, "Lab\n");
	EXPECT_FRAME("a\xff\xfb\n\n", 80, "La\n");
	/* IAC LF is no telnet command: the lone IAC goes, the LF ends the line. */
	EXPECT_FRAME("a\xff\nb\n", 80, "La\nLb\n");

	/* Subnegotiation is removed whole; LF inside it ends nothing. */
	EXPECT_FRAME("a\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0" "b\n", 80,
	    "Lab\n");
	EXPECT_FRAME("a\xff\xfa\x1f\x00\x0a\x00\x0a\xff\xf0" "b\n", 80,
	    "Lab\n");
	EXPECT_FRAME("\xff\xfa\x1f\xff\xff\x0a\xff\xff\xff\xf0" "x\n", 80,
	    "Lx\n");
	EXPECT_FRAME("\xff\xfa\x18\x00" "xterm\xff\xf0\n", 80, "L\n");
	EXPECT_FRAME("\xff\xfa\n\n\n\xff\xf0ok\nnext\n", 80, "Lok\nLnext\n");
	/* IAC other than SE or IAC inside SB keeps the SB open. */
	EXPECT_FRAME("\xff\xfa\xff\xf1\n\xff\xf0ok\n", 80, "Lok\n");
	EXPECT_FRAME("\xff\xfa\xff\n\n\xff\xf0ok\n", 80, "Lok\n");
	/* Unfinished SB with no end yet: no line. */
	EXPECT_FRAME("ab\xff\xfa" "cd\n", 80, "");

	/* Telnet bytes count towards max. */
	EXPECT_FRAME("\xff\xfb\x01" "ab\n", 5, "Lab\n");
	EXPECT_FRAME("\xff\xfb\x01" "abc\n", 5, "T\n");
	EXPECT_FRAME("\xff\xff\xff\xff" "a\n", 5, "L\\xff\\xffa\n");
	EXPECT_FRAME("\xff\xff\xff\xff" "ab\n", 5, "T\n");
	/* A lone IAC before LF is dropped and the LF still ends the line. */
	EXPECT_FRAME("\xff\xff\xff\xff\xff\n", 5, "L\\xff\\xff\n");
	EXPECT_FRAME("\xff\xff\xff\xff\xff\n" "ab\n", 80,
	    "L\\xff\\xff\nLab\n");
	EXPECT_FRAME("\xff\xff\xff\xff\xff\xff\n", 5, "T\n");

	/* An unterminated SB that runs past max, then normal again. */
	EXPECT_FRAME("\xff\xfa" "abc\ndefgh\nnext\n", 8, "T\nLnext\n");
	EXPECT_FRAME("\xff\xfa" "ab" "cd\nz\n", 4, "T\nLz\n");
	EXPECT_FRAME("\xff\xfa" "\xff\xfa\xff" "cd\nz\n", 4, "T\nLz\n");
	/* The overlong byte is an LF inside SB: it also ends the line. */
	EXPECT_FRAME("\xff\xfa" "abc\nxy\n", 5, "T\nLxy\n");
	/* Overlong while an IAC or WILL is pending. */
	EXPECT_FRAME("abc\xff\nd\n", 3, "T\nLd\n");
	EXPECT_FRAME("ab\xff\xfb\nd\n", 3, "T\nLd\n");
	EXPECT_FRAME("ab\xff\xfa\nx\n", 3, "T\nLx\n");
	/* After the discard the telnet state is fresh. */
	EXPECT_FRAME("abcd\xff\nx\n", 3, "T\nLx\n");
	EXPECT_FRAME("abcd\xff\xfa\n\xff\xf0x\n", 3, "T\nLx\n");

	/*
	 * IAC DO TIMING-MARK (M) and IAC AYT (Y) are reported where they
	 * end, in stream order with the lines, mid-line too; nothing else is.
	 */
	EXPECT_FRAME("\xff\xfd\x06", 80, "M\n");
	EXPECT_FRAME("\xff\xf6", 80, "Y\n");
	EXPECT_FRAME("\xff\xf4\xff\xfd\x06", 80, "M\n");
	EXPECT_FRAME("a\nb\xff\xfd\x06" "c\n", 80, "La\nM\nLbc\n");
	EXPECT_FRAME("a\n\xff\xf6\xff\xf6" "b\n", 80, "La\nY\nY\nLb\n");
	EXPECT_FRAME("\xff\xfd\x06\xff\xf6\xff\xfd\x06", 80, "M\nY\nM\n");
	EXPECT_FRAME("\xff\xfb\x06\xff\xfe\x06\xff\xfc\x06\xff\xfd\x05"
	    "\xff\xfd\xfd\xff\xf5\xff\xf3\xff\xf9\xff\xf1x\n", 80, "Lx\n");
	/* Escaped IAC, inside SB, or after an LF that ended IAC: data. */
	EXPECT_FRAME("\xff\xff\xf6\n", 80, "L\\xff\\xf6\n");
	EXPECT_FRAME("\xff\xff\xfd\x06\n", 80, "L\\xff\\xfd\\x06\n");
	EXPECT_FRAME("\xff\xfa\xff\xf6\xff\xfd\x06\xff\xf0z\n", 80, "Lz\n");
	EXPECT_FRAME("\xff\n\xf6\n", 80, "L\nL\\xf6\n");
	/* The request's bytes still count towards max. */
	EXPECT_FRAME("ab\xff\xf6\n", 4, "Y\nLab\n");
	EXPECT_FRAME("abc\xff\xf6\n", 4, "T\nY\n");
	EXPECT_FRAME("abcd\xff\xf6\nz\n", 4, "T\nY\nLz\n");
	EXPECT_FRAME("ab\xff\xfd\x06" "c\n", 5, "M\nT\n");
	EXPECT_FRAME("abc\xff\xfd\x06\n", 4, "T\nM\n");
	EXPECT_FRAME("abcd\xff\xfd\x06\n", 4, "T\nM\n");
	/* Requests in an overlong line's discarded rest are answered too. */
	EXPECT_FRAME("abcdefgh\xff\xf4\xff\xfd\x06ij\xff\xf6\nok\n", 4,
	    "T\nM\nY\nLok\n");
	/* The discard ends at any LF, and the telnet state with it. */
	EXPECT_FRAME("abcdef\xff\xfd\n\x06\n", 4, "T\nL\\x06\n");
	EXPECT_FRAME("abcdef\xff\n\xf6\n", 4, "T\nL\\xf6\n");

	/* A longer mixed stream. */
	EXPECT_FRAME("\xff\xfd\x01\xff\xfb\x1fhello\r\n\xff\xfa\x1f\x00\x50"
	    "\x00\x0a\xff\xf0world\r\n" "0123456789abcdefghij\r\n"
	    "\xff\xff\x00\x1b[1mbold\n\n", 16,
	    "Lhello\\x0d\nLworld\\x0d\nT\nL\\xff\\x00\\x1b[1mbold\nL\n");
}

static void
unit_test_api(void)
{
	struct linebuf		 lb;
	const unsigned char	*line;
	size_t			 used, linelen;
	enum lb_event		 ev;
	const unsigned char	 in[] = "ab\ncd\nxyz";

	errno = 0;
	UNIT_CHECK(linebuf_init(&lb, 0) == -1 && errno == EINVAL);
	UNIT_CHECK(lb.buf == NULL);
	linebuf_free(&lb);

	UNIT_CHECK(linebuf_init(&lb, 8) == 0);
	UNIT_CHECK(lb.buf != NULL && lb.max == 8 && lb.raw == 0 &&
	    lb.len == 0 && lb.discard == 0);

	ev = linebuf_feed(&lb, in, sizeof in - 1, &used, &line, &linelen);
	UNIT_CHECK(ev == LB_LINE && used == 3 && line == lb.buf &&
	    linelen == 2 && memcmp(line, "ab", 2) == 0);
	ev = linebuf_feed(&lb, in + 3, sizeof in - 4, &used, &line, &linelen);
	UNIT_CHECK(ev == LB_LINE && used == 3 && linelen == 2 &&
	    memcmp(line, "cd", 2) == 0);
	ev = linebuf_feed(&lb, in + 6, sizeof in - 7, &used, &line, &linelen);
	UNIT_CHECK(ev == LB_MORE && used == 3 && line == NULL &&
	    linelen == 0 && lb.raw == 3 && lb.len == 3);
	ev = linebuf_feed(&lb, in, 0, &used, &line, &linelen);
	UNIT_CHECK(ev == LB_MORE && used == 0 && line == NULL &&
	    linelen == 0 && lb.raw == 3);
	ev = linebuf_feed(&lb, U("\n"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_LINE && used == 1 && linelen == 3 &&
	    memcmp(line, "xyz", 3) == 0);

	/* The too-long event comes with byte max + 1, before any LF. */
	ev = linebuf_feed(&lb, U("123456789abc"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_TOO_LONG && used == 9 && line == NULL);
	ev = linebuf_feed(&lb, U("abc"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_MORE && used == 3 && lb.discard);
	ev = linebuf_feed(&lb, U("x\nok\n"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_LINE && used == 5 && linelen == 2 &&
	    memcmp(line, "ok", 2) == 0 && !lb.discard);

	/* A request stops the call where it ends, and the next call clears it. */
	ev = linebuf_feed(&lb, U("hi\xff\xfd\x06yo\n"), &used, &line,
	    &linelen);
	UNIT_CHECK(ev == LB_TELNET && used == 5 && line == NULL &&
	    linelen == 0 && lb.request == LB_REQ_TM && lb.len == 2);
	ev = linebuf_feed(&lb, U("yo\n"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_LINE && used == 3 && lb.request == LB_REQ_NONE &&
	    linelen == 4 && memcmp(line, "hiyo", 4) == 0);
	ev = linebuf_feed(&lb, U("\xff\xf6"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_TELNET && used == 2 && lb.request == LB_REQ_AYT);
	ev = linebuf_feed(&lb, U("\xff"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_MORE && used == 1 && lb.request == LB_REQ_NONE);
	ev = linebuf_feed(&lb, U("\xfd"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_MORE && used == 1 && lb.request == LB_REQ_NONE);
	ev = linebuf_feed(&lb, U("\x06"), &used, &line, &linelen);
	UNIT_CHECK(ev == LB_TELNET && used == 1 && lb.request == LB_REQ_TM);

	linebuf_free(&lb);
	UNIT_CHECK(lb.buf == NULL);
	linebuf_free(&lb);
}

static void
unit_expect_clean(int where, const unsigned char *in, size_t n,
    const unsigned char *want, size_t wantlen)
{
	static struct unit_log	 got, exp;
	unsigned char		*out;
	size_t			 len;

	unit_where = where;
	out = unit_clean(in, n, &len);
	if (len != wantlen || memcmp(out, want, len) != 0) {
		got.len = exp.len = 0;
		unit_log_escape(&got, out, len);
		unit_log_escape(&exp, want, wantlen);
		unit_fail(__LINE__, "text_clean gave \"%.*s\", want \"%.*s\"",
		    (int)got.len, got.buf, (int)exp.len, exp.buf);
	}
	free(out);
	unit_where = 0;
}

#define EXPECT_CLEAN(in, want)	unit_expect_clean(__LINE__, U(in), U(want))
#define EXPECT_SAME(in)		unit_expect_clean(__LINE__, U(in), U(in))
#define R			"\xef\xbf\xbd"

static void
unit_test_clean_valid(void)
{
	EXPECT_SAME("");
	EXPECT_SAME("hello, world");
	EXPECT_SAME("a\tb\t");
	EXPECT_SAME("\xc2\xa0");		/* U+00A0, first after C1 */
	EXPECT_SAME("\xc3\xa9t\xc3\xa9");	/* U+00E9 */
	EXPECT_SAME("\xdf\xbf");		/* U+07FF */
	EXPECT_SAME("\xe0\xa0\x80");		/* U+0800 */
	EXPECT_SAME("\xe1\x80\x80");		/* U+1000 */
	EXPECT_SAME("\xe2\x82\xac");		/* U+20AC */
	EXPECT_SAME("\xed\x9f\xbf");		/* U+D7FF */
	EXPECT_SAME("\xee\x80\x80");		/* U+E000 */
	EXPECT_SAME(R);				/* U+FFFD itself */
	EXPECT_SAME("\xef\xbf\xbf");		/* U+FFFF */
	EXPECT_SAME("\xf0\x90\x80\x80");	/* U+10000 */
	EXPECT_SAME("\xf0\x9f\x98\x80");	/* U+1F600 */
	EXPECT_SAME("\xf3\xbf\xbf\xbf");	/* U+FFFFF */
	EXPECT_SAME("\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	/* NOLINTNEXTLINE(misc-misleading-bidirectional): on purpose. */
	EXPECT_SAME("\xe2\x80\xae");		/* U+202E is not a control */
}

static void
unit_test_clean_invalid(void)
{
	/* Stray continuation bytes, one U+FFFD each. */
	EXPECT_CLEAN("\x80", R);
	EXPECT_CLEAN("\xbf", R);
	EXPECT_CLEAN("\x80\xbf\x80", R R R);
	EXPECT_CLEAN("a\x80" "b", "a" R "b");
	EXPECT_CLEAN("\xc3\xa9\xa9", "\xc3\xa9" R);

	/* Bytes that never appear in UTF-8. */
	EXPECT_CLEAN("\xc0", R);
	EXPECT_CLEAN("\xc1", R);
	EXPECT_CLEAN("\xc0\x80", R R);
	EXPECT_CLEAN("\xc0\xaf", R R);
	EXPECT_CLEAN("\xc1\xbf", R R);
	EXPECT_CLEAN("\xc0\x8a", R R);		/* not an LF */
	EXPECT_CLEAN("\xf5", R);
	EXPECT_CLEAN("\xf5\x80\x80\x80", R R R R);
	EXPECT_CLEAN("\xf7\xbf\xbf\xbf", R R R R);
	EXPECT_CLEAN("\xf8\x88\x80\x80\x80", R R R R R);
	EXPECT_CLEAN("\xfc\x84\x80\x80\x80\x80", R R R R R R);
	EXPECT_CLEAN("\xfe", R);
	EXPECT_CLEAN("\xff", R);
	EXPECT_CLEAN("\xfe\xfe\xff\xff", R R R R);

	/* Overlong three- and four-byte forms. */
	EXPECT_CLEAN("\xe0\x80\x80", R R R);
	EXPECT_CLEAN("\xe0\x80\xaf", R R R);
	EXPECT_CLEAN("\xe0\x9f\xbf", R R R);
	EXPECT_CLEAN("\xe0\x80\x8a", R R R);
	EXPECT_CLEAN("\xf0\x80\x80", R R R);
	EXPECT_CLEAN("\xf0\x80\x80\x80", R R R R);
	EXPECT_CLEAN("\xf0\x80\x80\xaf", R R R R);
	EXPECT_CLEAN("\xf0\x8f\xbf\xbf", R R R R);

	/* Surrogates. */
	EXPECT_CLEAN("\xed\xa0\x80", R R R);
	EXPECT_CLEAN("\xed\xad\xbf", R R R);
	EXPECT_CLEAN("\xed\xbf\xbf", R R R);
	EXPECT_CLEAN("\xed\xa0\xbd\xed\xb8\x80", R R R R R R);

	/* Above U+10FFFF. */
	EXPECT_CLEAN("\xf4\x90\x80\x80", R R R R);
	EXPECT_CLEAN("\xf4\xbf\xbf\xbf", R R R R);

	/* Truncated sequences: one U+FFFD for the whole valid prefix. */
	EXPECT_CLEAN("\xc3", R);
	EXPECT_CLEAN("\xc3" "A", R "A");
	EXPECT_CLEAN("\xe1\x80", R);
	EXPECT_CLEAN("\xe1\x80" "A", R "A");
	EXPECT_CLEAN("\xe1" "A", R "A");
	EXPECT_CLEAN("\xe0\xa0", R);
	EXPECT_CLEAN("\xed\x9f", R);
	EXPECT_CLEAN("\xf0\x9f\x98", R);
	EXPECT_CLEAN("\xf0\x9f\x98" "A", R "A");
	EXPECT_CLEAN("\xf0\x9f" "A", R "A");
	EXPECT_CLEAN("\xf0\x90\x80", R);
	EXPECT_CLEAN("\xf4\x8f\xbf", R);
	EXPECT_CLEAN("\xf1\x80\x80\xc3\xa9", R "\xc3\xa9");
	EXPECT_CLEAN("\xe2\x82\xe2\x82\xac", R "\xe2\x82\xac");
	EXPECT_CLEAN("\xc3\xc3\xa9", R "\xc3\xa9");
	EXPECT_CLEAN("\xe1\x80\x80\x80", "\xe1\x80\x80" R);
	EXPECT_CLEAN("\xe1\x80\n", R);		/* LF then removed */

	/* The example of Unicode 15, Table 3-8. */
	EXPECT_CLEAN("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	    "a" R R R "b" R "c" R R "d");
	/* The Table 3-11 examples, as the WHATWG decoder does them. */
	EXPECT_CLEAN("\xc0\xaf\xe0\x80\xbf\xf0\x81\x82\x41",
	    R R R R R R R R "A");
	EXPECT_CLEAN("\xed\xa0\x80\xed\xbf\xbf\xed\xaf\x41",
	    R R R R R R R R "A");
	EXPECT_CLEAN("\xf4\x91\x92\x93\xff\x41\x80\xbf\x42",
	    R R R R R "A" R R "B");
	EXPECT_CLEAN("\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41",
	    R R R R "A");
}

static void
unit_test_clean_controls(void)
{
	EXPECT_CLEAN("\0", "");
	EXPECT_CLEAN("a\0b\0", "ab");
	EXPECT_CLEAN("\x01\x02\x03\x04\x05\x06\x07\x08", "");
	EXPECT_CLEAN("a\tb", "a\tb");
	EXPECT_CLEAN("\x0a\x0b\x0c\x0d\x0e\x0f", "");
	EXPECT_CLEAN("\x10\x11\x12\x13\x14\x15\x16\x17", "");
	EXPECT_CLEAN("\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f", "");
	EXPECT_CLEAN("hi\r", "hi");
	EXPECT_CLEAN("a\x7f" "b", "ab");
	EXPECT_CLEAN(" ~\x7f", " ~");
	EXPECT_CLEAN("\xc2\x80", "");
	EXPECT_CLEAN("\xc2\x85", "");
	EXPECT_CLEAN("\xc2\x9b" "31m", "31m");
	EXPECT_CLEAN("\xc2\x9f", "");
	EXPECT_CLEAN("\xc2\x7f", R);
	EXPECT_CLEAN("\x1b[31mred\x1b[0m", "[31mred[0m");
	EXPECT_CLEAN("\x1b]0;title\x07", "]0;title");
	EXPECT_CLEAN("\x1b\x1b", "");
	EXPECT_CLEAN("\xff\x00\x1b", R);
}

/* The output buffer is exactly 3 * n from malloc; ASan guards its end. */
static void
unit_test_clean_bound(void)
{
	EXPECT_CLEAN("\xff\xff\xff", R R R);
	EXPECT_CLEAN("\xc0", R);
	EXPECT_CLEAN("\xe1\x80\xe1\x80\xe1\x80", R R R);
	EXPECT_CLEAN("\xf0\x9f\x98\x80\xf0\x9f\x98",
	    "\xf0\x9f\x98\x80" R);
}

static void
unit_expect_trim(int where, const char *in, const char *want)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 n = strlen(in), wantoff;

	unit_where = where;
	wantoff = (size_t)(strstr(in, want) - in);
	text_trim(&s, &n);
	if (n != strlen(want) || memcmp(s, want, n) != 0)
		unit_fail(__LINE__, "text_trim gave \"%.*s\", want \"%s\"",
		    (int)n, (const char *)s, want);
	else if (n != 0 && s != (const unsigned char *)in + wantoff)
		unit_fail(__LINE__, "text_trim start moved wrongly");
	unit_where = 0;
}

static void
unit_test_trim(void)
{
	const unsigned char	*s;
	size_t			 n;

	unit_expect_trim(__LINE__, "", "");
	unit_expect_trim(__LINE__, " ", "");
	unit_expect_trim(__LINE__, " \t \t", "");
	unit_expect_trim(__LINE__, "abc", "abc");
	unit_expect_trim(__LINE__, "  abc", "abc");
	unit_expect_trim(__LINE__, "abc\t\t", "abc");
	unit_expect_trim(__LINE__, " \tab c\t ", "ab c");
	unit_expect_trim(__LINE__, "\x0b a \r", "\x0b a \r");
	unit_expect_trim(__LINE__, "\xc2\xa0x\xc2\xa0", "\xc2\xa0x\xc2\xa0");

	/* Only n bytes are looked at, even with NULs and a NULL start. */
	s = (const unsigned char *)" a\0 ";
	n = 4;
	text_trim(&s, &n);
	UNIT_CHECK(n == 2 && s[0] == 'a' && s[1] == '\0');
	s = NULL;
	n = 0;
	text_trim(&s, &n);
	UNIT_CHECK(s == NULL && n == 0);
}

/* Random bytes, weighted towards the ones the parsers care about. */
static size_t
unit_random_input(unsigned char *buf, size_t size)
{
	static const unsigned char	special[] = {
		'\n', '\r', '\t', '\0', 0x1b, 0x7f, 0xff, 0xff, 0xff, 0xfa,
		0xf0, 0xfb, 0xfd, 0xf1, 0xc2, 0xc0, 0x80, 0x9f, 0xbf, 0xe0,
		0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x90, 0x8f
	};
	size_t				n, i, r;

	n = unit_below(8) == 0 ? unit_below(size + 1) : unit_below(64);
	for (i = 0; i < n; i++) {
		r = unit_below(10);
		if (r < 3)
			buf[i] = special[unit_below(sizeof special)];
		else if (r < 7)
			buf[i] = (unsigned char)(0x20 + unit_below(0x5f));
		else
			buf[i] = (unsigned char)unit_rand();
	}
	return (n);
}

static void
unit_test_random(void)
{
	static struct unit_log	 whole, other;
	unsigned char		 in[512], *out;
	size_t			 n, max, outlen;
	int			 i, bad = 0;

	for (i = 0; i < UNIT_RANDOM && bad < 10; i++) {
		n = unit_random_input(in, sizeof in);
		max = 1 + (unit_below(4) == 0 ? unit_below(400) : unit_below(24));
		out = unit_clean(in, n, &outlen);
		free(out);

		unit_frame(&whole, in, n, max, UNIT_WHOLE, 0, 1);
		if (i % 4 == 0)
			unit_frame(&other, in, n, max, UNIT_BYTES, 0, 1);
		else
			unit_frame(&other, in, n, max, UNIT_RAND, 0, 1);
		if (!unit_log_equal(&whole, &other)) {
			unit_fail(__LINE__, "iteration %d: chunked framing "
			    "differs from whole (max %zu)", i, max);
			bad++;
		}
	}
}

/* text_format: the stored length, and never half a character. */
static void
unit_test_format(void)
{
	char	buf[8];
	size_t	n;

	n = text_format(buf, sizeof(buf), "%s", "abc");
	if (n != 3 || strcmp(buf, "abc") != 0)
		unit_fail(__LINE__, "short text: %zu '%s'", n, buf);
	n = text_format(buf, sizeof(buf), "%s", "abcdefghij");
	if (n != 7 || strcmp(buf, "abcdefg") != 0)
		unit_fail(__LINE__, "cut text: %zu '%s'", n, buf);
	/* "abcde" and a 3-byte character: 8 bytes, one too many. */
	n = text_format(buf, sizeof(buf), "%s", "abcde\xe2\x82\xac");
	if (n != 5 || strcmp(buf, "abcde") != 0)
		unit_fail(__LINE__, "cut character: %zu '%s'", n, buf);
	/* "abcd" and a 3-byte character fit exactly. */
	n = text_format(buf, sizeof(buf), "%s", "abcd\xe2\x82\xacz");
	if (n != 7 || strcmp(buf, "abcd\xe2\x82\xac") != 0)
		unit_fail(__LINE__, "whole character: %zu '%s'", n, buf);
}

/* notice_forged on a string literal, with its line for the message. */
static void
unit_expect_forged(int where, const char *text, size_t n, int want)
{
	if (notice_forged(text, n) != want)
		unit_fail(where, "notice_forged(\"%s\") is not %d", text, want);
}

#define FORGED(s)	unit_expect_forged(__LINE__, (s), sizeof(s) - 1, 1)
#define ALLOWED(s)	unit_expect_forged(__LINE__, (s), sizeof(s) - 1, 0)

/* Each notice form about a user, and texts that only resemble one. */
static void
unit_test_notice(void)
{
	/* joined WORD, left WORD: WORD is one token. */
	FORGED("joined lobby");
	FORGED("left dev");
	FORGED("joined caf\xc3\xa9!");
	/* quit, quit (ANYTHING): every reason chatd and the link write. */
	FORGED("quit");
	FORGED("quit (connection closed)");
	FORGED("quit (connection lost)");
	FORGED("quit (ping timeout)");
	FORGED("quit (too slow)");
	FORGED("quit (flooding)");
	FORGED("quit (killed by oper)");
	FORGED("quit (name collision)");
	FORGED("quit (gone (for good))");
	FORGED("quit ()");
	/* is now known as WORD. */
	FORGED("is now known as alice");
	/* was kicked/banned by WORD, by the administrator, with a reason. */
	FORGED("was kicked by alice");
	FORGED("was banned by alice");
	FORGED("was kicked by alice (spam)");
	FORGED("was banned by ircop (bye now)");
	FORGED("was kicked by the administrator");
	FORGED("was banned by the administrator (flood)");
	/* is now the operator, is now an operator. */
	FORGED("is now the operator");
	FORGED("is now an operator");
	/* Case and repeated blanks do not count, nor blanks at the ends. */
	FORGED("QUIT");
	FORGED("Is Now Known As Alice");
	FORGED("  joined \t  lobby  ");
	FORGED("was  KICKED\tby\t\tthe  Administrator   (x)");
	FORGED("quit    (connection   lost) ");
	/* Nor Unicode spaces, nor invisible characters. */
	FORGED("quit\xc2\xa0(connection lost)");
	FORGED("joined\xe3\x80\x80lobby");
	FORGED("is\xe2\x80\x83now\xe2\x80\xafknown\xe2\x80\x8a" "as alice");
	FORGED("qu\xe2\x80\x8bit");
	FORGED("\xef\xbb\xbfjoined lo\xc2\xad" "bby");
	FORGED("left\xe2\x80\x8d dev\xe2\x80\x8e");
	FORGED("quit (x)\xe2\x81\xa0");

	/* The spec's allowed examples. */
	ALLOWED("joined the army");
	ALLOWED("is happy");
	ALLOWED("left early today");
	/* Near misses: a word more or less, other words, no parentheses. */
	ALLOWED("");
	ALLOWED("   ");
	ALLOWED("\xe2\x80\x8b");
	ALLOWED("waves");
	ALLOWED("joined");
	ALLOWED("left");
	ALLOWED("quit smoking");
	ALLOWED("quit(smoking)");
	ALLOWED("quit (smoking) today");
	ALLOWED("quit (smoking");
	ALLOWED("quits");
	ALLOWED("is now known");
	ALLOWED("is now known as");
	ALLOWED("is now known as a pirate");
	ALLOWED("is now the best operator");
	ALLOWED("is now the operator of the grill");
	ALLOWED("is now operator");
	ALLOWED("was kicked by");
	ALLOWED("was kicked by a horse");
	ALLOWED("was kicked by alice today");
	ALLOWED("was kicked by alice (x");
	ALLOWED("was kicked by the administrator today");
	ALLOWED("was kicked");
	ALLOWED("was tickled by alice");
	ALLOWED("kicked by alice");
	/* An invisible character joins, it does not separate. */
	ALLOWED("is now known\xc2\xad" "as alice");
	/* Not about the sender: names hold no colon. */
	ALLOWED("netsplit: 2 users left (hub.test)");
	ALLOWED(": 2 users left (hub.test)");
	/* Look-alike letters of other scripts are not caught. */
	ALLOWED("q\xd1\x83it");
}

#define IRC(s)	text_irc_command((s), sizeof(s) - 1)

/* What an IRC client sends first, and names that only begin like it. */
static void
unit_test_irc_command(void)
{
	UNIT_CHECK(IRC("CAP LS 302"));
	UNIT_CHECK(IRC("NICK alice"));
	UNIT_CHECK(IRC("USER alice 0 * :Alice"));
	UNIT_CHECK(IRC("PASS :secret"));
	UNIT_CHECK(IRC("nick alice"));
	UNIT_CHECK(IRC("Pass x"));
	UNIT_CHECK(IRC("CAP "));
	/* The word alone is a valid name; other words are no IRC. */
	UNIT_CHECK(!IRC("CAP"));
	UNIT_CHECK(!IRC("NICK"));
	UNIT_CHECK(!IRC("USER"));
	UNIT_CHECK(!IRC("PASS"));
	UNIT_CHECK(!IRC("NICKNAME alice"));
	UNIT_CHECK(!IRC("NICK\talice"));
	UNIT_CHECK(!IRC("JOIN #lobby"));
	UNIT_CHECK(!IRC(" NICK alice"));
	UNIT_CHECK(!IRC(""));
	UNIT_CHECK(!IRC("NIC"));
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		unit_seed = strtoull(argv[1], NULL, 0);

	unit_test_api();
	unit_test_framing();
	unit_test_clean_valid();
	unit_test_clean_invalid();
	unit_test_clean_controls();
	unit_test_clean_bound();
	unit_test_trim();
	unit_test_format();
	unit_test_notice();
	unit_test_irc_command();
	unit_test_random();

	if (unit_failures != 0) {
		printf("unit_text: %d check(s) failed\n", unit_failures);
		return (1);
	}
	return (0);
}
