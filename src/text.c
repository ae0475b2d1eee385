/* SPDX-License-Identifier: ISC */
/*
 * Line framing and text hygiene for client input.  Bytes from the network
 * are cut into lines at LF, telnet negotiation is stripped on the way (the
 * two requests chatd answers are reported where they end) and lines
 * longer than the configured limit are reported once and skipped.
 * Finished lines are then repaired to valid UTF-8 (the WHATWG decoder's
 * replacement behaviour) and stripped of control characters.  All of this
 * works on explicit lengths and touches no global state, so it can be fed
 * any bytes at all, including by a fuzzer.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <stdlib.h>

#include "defs.h"
#include "text.h"

#define TEXT_LF		0x0a
#define TEXT_TAB	0x09
#define TEXT_SPACE	0x20

/* Telnet command bytes (RFC 854). */
#define TEXT_IAC	255
#define TEXT_DONT	254
#define TEXT_DO		253
#define TEXT_WILL	251
#define TEXT_AYT	246
#define TEXT_SB		250
#define TEXT_SE		240
#define TEXT_OPT_TM	6	/* the TIMING-MARK option (RFC 860) */

#define TEXT_REPLACEMENT	0xfffdU

/* Where the telnet parser is; stored in struct linebuf's tstate. */
enum text_tstate {
	TEXT_TS_DATA = 0,	/* ordinary line bytes */
	TEXT_TS_IAC,		/* seen IAC */
	TEXT_TS_OPT,		/* seen IAC WILL/WONT/DONT, option byte next */
	TEXT_TS_DO,		/* seen IAC DO, option byte next */
	TEXT_TS_SB,		/* inside IAC SB ... IAC SE */
	TEXT_TS_SBIAC		/* seen IAC inside a subnegotiation */
};

static void	linebuf_reset(struct linebuf *);
static int	linebuf_telnet(struct linebuf *, unsigned char);
static int	linebuf_discard(struct linebuf *, unsigned char);
static void	linebuf_overflow(struct linebuf *, unsigned char);
static int	text_utf8_lead(unsigned char, size_t *, uint32_t *,
		    unsigned char *, unsigned char *);
static size_t	text_utf8_decode(const unsigned char *, size_t, uint32_t *);
static size_t	text_utf8_encode(uint32_t, unsigned char *);
static int	text_is_control(uint32_t);
static int	text_is_blank(unsigned char);

/* Lines go into buf, of max bytes, which the caller owns. */
void
linebuf_init_buf(struct linebuf *lb, unsigned char *buf, size_t max)
{
	lb->buf = buf;
	lb->max = max;
	lb->request = LB_REQ_NONE;
	linebuf_reset(lb);
}

int
linebuf_init(struct linebuf *lb, size_t max)
{
	lb->buf = NULL;
	lb->max = 0;
	lb->request = LB_REQ_NONE;
	linebuf_reset(lb);
	if (max == 0) {
		errno = EINVAL;
		return (-1);
	}
	if ((lb->buf = malloc(max)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	lb->max = max;
	return (0);
}

void
linebuf_free(struct linebuf *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->max = 0;
	linebuf_reset(lb);
}

/* Starts a fresh line: nothing kept, no telnet sequence open. */
static void
linebuf_reset(struct linebuf *lb)
{
	lb->raw = 0;
	lb->len = 0;
	lb->tstate = TEXT_TS_DATA;
	lb->discard = 0;
}

/*
 * Advances the telnet parser by one byte and returns 1 if the byte is line
 * data to keep or 0 if it belongs to a telnet sequence.  The byte that
 * ends IAC DO TIMING-MARK or IAC AYT sets lb->request.  An unknown state
 * value is treated as plain data so that a damaged struct cannot wedge
 * the parser.
 */
static int
linebuf_telnet(struct linebuf *lb, unsigned char c)
{
	switch (lb->tstate) {
	case TEXT_TS_IAC:
		lb->tstate = TEXT_TS_DATA;
		if (c == TEXT_IAC)
			return (1);
		if (c == TEXT_DO)
			lb->tstate = TEXT_TS_DO;
		else if (c >= TEXT_WILL && c <= TEXT_DONT)
			lb->tstate = TEXT_TS_OPT;
		else if (c == TEXT_SB)
			lb->tstate = TEXT_TS_SB;
		else if (c == TEXT_AYT)
			lb->request = LB_REQ_AYT;
		return (0);
	case TEXT_TS_DO:
		if (c == TEXT_OPT_TM)
			lb->request = LB_REQ_TM;
		/* FALLTHROUGH */
	case TEXT_TS_OPT:
		lb->tstate = TEXT_TS_DATA;
		return (0);
	case TEXT_TS_SB:
		if (c == TEXT_IAC)
			lb->tstate = TEXT_TS_SBIAC;
		return (0);
	case TEXT_TS_SBIAC:
		/* IAC IAC is escaped data, anything but SE stays inside. */
		lb->tstate = (c == TEXT_SE) ? TEXT_TS_DATA : TEXT_TS_SB;
		return (0);
	default:
		if (c == TEXT_IAC) {
			lb->tstate = TEXT_TS_IAC;
			return (0);
		}
		lb->tstate = TEXT_TS_DATA;
		return (1);
	}
}

/*
 * The rest of an overlong line, up to any LF, is thrown away; but the
 * telnet parser still reads it, since a client that typed too long a
 * line may press Ctrl-C next and wait for the answer to its request.
 * Returns 1 when the byte ended a request.
 */
static int
linebuf_discard(struct linebuf *lb, unsigned char c)
{
	/* Any LF ends the discard, whatever the bytes looked like. */
	if (c == TEXT_LF) {
		linebuf_reset(lb);
		return (0);
	}
	(void)linebuf_telnet(lb, c);
	return (lb->request != LB_REQ_NONE);
}

/*
 * Byte max + 1 of a line: the line is too long.  Its telnet state is
 * kept for the discarded rest, and the byte itself may end a request.
 * If the byte is an LF (one that telnet hid, say inside SB), the line is
 * already over and there is nothing left to discard.
 */
static void
linebuf_overflow(struct linebuf *lb, unsigned char c)
{
	if (c == TEXT_LF) {
		linebuf_reset(lb);
		return;
	}
	(void)linebuf_telnet(lb, c);
	lb->raw = 0;
	lb->len = 0;
	lb->discard = 1;
}

enum lb_event
linebuf_feed(struct linebuf *lb, const unsigned char *in, size_t n,
    size_t *used, const unsigned char **line, size_t *linelen)
{
	enum lb_event	ev = LB_MORE;
	size_t		i;
	unsigned char	c;

	*line = NULL;
	*linelen = 0;
	lb->request = LB_REQ_NONE;
	/* An event ends the loop just after the byte that caused it. */
	for (i = 0; i < n && ev == LB_MORE; i++) {
		c = in[i];
		if (lb->discard) {
			if (linebuf_discard(lb, c))
				ev = LB_TELNET;
			continue;
		}
		/*
		 * An LF ends the line in data, and after a lone IAC too: IAC
		 * LF is no telnet command, and a client that sends a raw 0xFF
		 * last must not have its line run into the next one.
		 */
		if (c == TEXT_LF && (lb->tstate == TEXT_TS_DATA ||
		    lb->tstate == TEXT_TS_IAC)) {
			*line = lb->buf;
			*linelen = lb->len;
			linebuf_reset(lb);
			ev = LB_LINE;
			continue;
		}
		/* Reported at once, since the client may never send an LF. */
		if (lb->raw >= lb->max) {
			linebuf_overflow(lb, c);
			ev = LB_TOO_LONG;
			continue;
		}
		lb->raw++;
		/* len <= raw <= max, the check only guards a damaged struct. */
		if (linebuf_telnet(lb, c) && lb->len < lb->max)
			lb->buf[lb->len++] = c;
		if (lb->request != LB_REQ_NONE)
			ev = LB_TELNET;
	}
	*used = i;
	return (ev);
}

/*
 * Classifies a UTF-8 lead byte following the WHATWG decoder: how many
 * continuation bytes it needs, its payload bits, and the allowed range of
 * the first continuation byte, which is narrower after E0, ED, F0 and F4 so
 * that overlong forms, surrogates and values above U+10FFFF are caught at
 * the earliest byte.  Returns 0 for bytes that can never start a sequence.
 */
static int
text_utf8_lead(unsigned char b, size_t *need, uint32_t *cp, unsigned char *lo,
    unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf) {
		*need = 1;
		*cp = b & 0x1fU;
	} else if (b >= 0xe0 && b <= 0xef) {
		*need = 2;
		*cp = b & 0x0fU;
		if (b == 0xe0)
			*lo = 0xa0;
		else if (b == 0xed)
			*hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		*need = 3;
		*cp = b & 0x07U;
		if (b == 0xf0)
			*lo = 0x90;
		else if (b == 0xf4)
			*hi = 0x8f;
	} else
		return (0);
	return (1);
}

/*
 * Decodes one code point or one maximal invalid subpart from s[0..n), n > 0.
 * Returns the bytes used (at least one) and stores the code point, or
 * U+FFFD for an invalid subpart.  A byte that breaks a sequence is not
 * consumed, so it gets its own chance to start the next one.
 */
static size_t
text_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		need, i;
	uint32_t	c;
	unsigned char	lo, hi;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	*cp = TEXT_REPLACEMENT;
	if (!text_utf8_lead(s[0], &need, &c, &lo, &hi))
		return (1);
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return (i);
		c = (c << 6) | (s[i] & 0x3fU);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = c;
	return (need + 1);
}

/* Writes a valid scalar value as UTF-8 and returns its length (1 to 4). */
static size_t
text_utf8_encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return (3);
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return (4);
}

/* C0 controls except TAB, DEL and C1 controls may not reach other users. */
static int
text_is_control(uint32_t cp)
{
	if (cp < 0x20)
		return (cp != TEXT_TAB);
	return (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Every step consumes k >= 1 bytes and writes either nothing, the same k
 * bytes re-encoded, or a 3-byte U+FFFD, so the output never exceeds 3 * n.
 */
size_t
text_clean(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t		i, o;
	uint32_t	cp;

	i = o = 0;
	while (i < n) {
		i += text_utf8_decode(in + i, n - i, &cp);
		if (!text_is_control(cp))
			o += text_utf8_encode(cp, out + o);
	}
	return (o);
}

static int
text_is_blank(unsigned char c)
{
	return (c == TEXT_SPACE || c == TEXT_TAB);
}

void
text_trim(const unsigned char **s, size_t *n)
{
	const unsigned char	*p = *s;
	size_t			 len = *n;

	while (len > 0 && text_is_blank(p[0])) {
		p++;
		len--;
	}
	while (len > 0 && text_is_blank(p[len - 1]))
		len--;
	*s = p;
	*n = len;
}

/*
 * vsnprintf into buf, but returns the length actually stored, and when
 * the text is cut, cuts it before a partial UTF-8 character.
 */
size_t
text_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	int		n;
	size_t		len, i, need;
	unsigned char	c;

	if (size == 0)
		return (0);
	n = vsnprintf(buf, size, fmt, ap);
	if (n < 0) {
		buf[0] = '\0';
		return (0);
	}
	if ((size_t)n < size)
		return ((size_t)n);
	len = size - 1;
	/* Drop the last character if the cut left only part of it. */
	i = len;
	while (i > 0 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0) {
		c = (unsigned char)buf[i - 1];
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (i - 1 + need > len)
			len = i - 1;
	}
	buf[len] = '\0';
	return (len);
}

size_t
text_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list	ap;
	size_t	n;

	va_start(ap, fmt);
	n = text_vformat(buf, size, fmt, ap);
	va_end(ap);
	return (n);
}

/*
 * The key a name or a room is found by: s[0..n) in lower case, cut at
 * size - 1 bytes and NUL-ended in dst. Returns 1 if it fit whole.
 */
int
text_key(char *dst, size_t size, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n && i + 1 < size; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[i] = '\0';
	return i == n;
}

/* A name or a room: 1 to max ASCII letters, digits, _ and -. */
static const char *
word_problem(const char *word, size_t n, size_t max, const char *toolong)
{
	const unsigned char	*s = (const unsigned char *)word;
	size_t			 i;

	if (n == 0)
		return "empty";
	if (n > max)
		return toolong;
	for (i = 0; i < n; i++)
		if (s[i] > 0x7f || (!isalnum(s[i]) && s[i] != '_' &&
		    s[i] != '-'))
			return "use only letters, digits, _ and -";
	return NULL;
}

/* Checks a user name; NULL or why it is not one. */
const char *
text_name_problem(const char *name, size_t n)
{
	unsigned char	c = n > 0 ? (unsigned char)name[0] : 'a';

	if (n <= NAME_MAX_LEN && (!isalpha(c) || c > 0x7f))
		return "must start with a letter";
	return word_problem(name, n, NAME_MAX_LEN,
	    "longer than " CHATD_STR(NAME_MAX_LEN) " characters");
}

/* Checks a room name; NULL or why it is not one. */
const char *
text_room_problem(const char *name, size_t n)
{
	return word_problem(name, n, ROOM_MAX_LEN,
	    "longer than " CHATD_STR(ROOM_MAX_LEN) " characters");
}

/*
 * Whether a line is what an IRC client sends first: CAP, NICK, USER or
 * PASS (any case) and a space, as in "NICK alice". The word alone is a
 * valid name, and whoever types it is taken at their word.
 */
int
text_irc_command(const char *s, size_t n)
{
	static const char *const	 cmds[] = { "cap", "nick", "user",
					    "pass" };
	size_t				 i, len;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		len = strlen(cmds[i]);
		if (n > len && s[len] == ' ' &&
		    strncasecmp(s, cmds[i], len) == 0)
			return 1;
	}
	return 0;
}

/* The noun for a count: one for 1, else many ("1 user", "2 users"). */
const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Compares two secrets without stopping at the first difference. */
int
text_same_secret(const char *a, const char *b)
{
	size_t		 na = strlen(a), nb = strlen(b), i;
	unsigned char	 d = na != nb;

	for (i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}
