/* SPDX-License-Identifier: ISC */
/*
 * The formats of the state files (state.h): a history journal line and
 * a bans line, encoded and decoded. No I/O: the fuzz harness links this
 * file alone.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"
#include "stfmt.h"
#include "text.h"

#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u
#define MAX_FIELDS	8

struct fields {
	char	*f[MAX_FIELDS];
	size_t	 len[MAX_FIELDS];
	int	 n;
};

static void
sb_grow(struct sbuf *b, size_t more)
{
	size_t	 cap = b->cap ? b->cap : 4096;
	char	*p;

	while (cap - b->len < more + 1)
		cap *= 2;
	if (cap == b->cap)
		return;
	if ((p = realloc(b->p, cap)) == NULL)
		fatal("realloc");
	b->p = p;
	b->cap = cap;
}

void
sb_add(struct sbuf *b, const void *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("bug: vsnprintf failed");
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Adds a field so that it holds no tab, newline or control byte. */
static void
sb_escape(struct sbuf *b, const char *s, size_t n)
{
	unsigned char	c;
	size_t		i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\\')
			sb_add(b, "\\\\", 2);
		else if (c == '\t')
			sb_add(b, "\\t", 2);
		else if (c == '\n')
			sb_add(b, "\\n", 2);
		else if (c == '\r')
			sb_add(b, "\\r", 2);
		else if (c < 0x20 || c == 0x7f)
			sb_printf(b, "\\x%02x", c);
		else
			sb_add(b, &s[i], 1);
	}
}

static uint32_t
fnv1a(const char *s, size_t n)
{
	uint32_t	h = FNV_OFFSET;
	size_t		i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* Ends the line that starts at start with its checksum. */
static void
sb_endline(struct sbuf *b, size_t start)
{
	sb_printf(b, "\t%08x\n", (unsigned)fnv1a(b->p + start,
	    b->len - start));
}

void
hist_format(struct sbuf *b, uint64_t seq, int64_t when, int kind,
    const char *room, const char *text, size_t len)
{
	size_t	start = b->len;

	sb_printf(b, "h1\t%llu\t%lld\t%s\t", (unsigned long long)seq,
	    (long long)when, kind == REC_ME ? "me" : "chat");
	sb_escape(b, room, strlen(room));
	sb_add(b, "\t", 1);
	sb_escape(b, text, len);
	sb_endline(b, start);
}

/*
 * A ban that does not expire is a "b1" line, as before expiring bans; one
 * that does is a "b2" line, with its end after the reason.
 */
void
ban_format(struct sbuf *b, const struct ban *ban)
{
	size_t	start = b->len;

	sb_add(b, ban->expires != 0 ? "b2\t" : "b1\t", 3);
	sb_escape(b, ban->addr, strlen(ban->addr));
	sb_add(b, "\t", 1);
	sb_escape(b, ban->name, strlen(ban->name));
	sb_add(b, "\t", 1);
	sb_escape(b, ban->reason, strlen(ban->reason));
	if (ban->expires != 0)
		sb_printf(b, "\t%lld", (long long)ban->expires);
	sb_endline(b, start);
}

/*
 * A journal line or a bans line as the writers format it, LF included,
 * in a malloc'd string; for the fuzzer's round trip.
 */
char *
state_hist_line(const struct state_hist *hl, size_t *len)
{
	struct sbuf	b = { 0 };

	hist_format(&b, hl->seq, hl->time, hl->kind, hl->room, hl->text,
	    hl->len);
	*len = b.len;
	return b.p;
}

char *
state_ban_line(const struct ban *ban, size_t *len)
{
	struct sbuf	b = { 0 };

	ban_format(&b, ban);
	*len = b.len;
	return b.p;
}

/*
 * Undoes sb_escape in place; -1 for a bad escape, a raw control byte or
 * an escaped NUL, which no file chatd wrote holds (its fields are C
 * strings and cleaned text). A NUL would cut a field short: an address
 * of "\x001.2.3.4" would ban the empty address.
 */
static int
unescape(char *s, size_t *len)
{
	size_t		i, o = 0, n = *len;
	unsigned	v;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
		if (s[i] != '\\') {
			s[o++] = s[i];
			continue;
		}
		if (++i == n)
			return -1;
		switch (s[i]) {
		case '\\': s[o++] = '\\'; break;
		case 't': s[o++] = '\t'; break;
		case 'n': s[o++] = '\n'; break;
		case 'r': s[o++] = '\r'; break;
		case 'x':
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]) ||
			    /* NOLINTNEXTLINE(cert-err34-c): 2 digits fit. */
			    sscanf(s + i + 1, "%2x", &v) != 1 || v == 0)
				return -1;
			s[o++] = (char)v;
			i += 2;
			break;
		default:
			return -1;
		}
	}
	s[o] = '\0';
	*len = o;
	return 0;
}

/* A decimal number of at most max, optionally negative; -1 if not. */
static int
parse_num(const char *s, size_t n, int neg_ok, long long *v)
{
	unsigned long long	u = 0;
	size_t			i = 0;
	int			neg = 0;

	if (neg_ok && n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || n - i > 18)
		return -1;
	for (; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		u = u * 10 + (unsigned)(s[i] - '0');
	}
	*v = neg ? -(long long)u : (long long)u;
	return 0;
}

/*
 * Checks a line's checksum and cuts the rest at its tabs into fields
 * (the record type first); NULL or why the line is bad.
 */
static const char *
line_split(char *line, size_t len, const char *type, int nfields,
    struct fields *fl)
{
	char		*p = line, *end, *tab;
	unsigned	 sum;
	size_t		 body;

	for (body = len; body > 0 && line[body - 1] != '\t'; body--)
		;
	if (body == 0 || len - body != 8 ||
	    strspn(line + body, "0123456789abcdef") < 8 ||
	    /* NOLINTNEXTLINE(cert-err34-c): 8 hex digits fit. */
	    sscanf(line + body, "%8x", &sum) != 1)
		return "no checksum";
	body--;
	if (fnv1a(line, body) != sum)
		return "bad checksum";
	end = line + body;
	*end = '\0';
	for (fl->n = 0; ; p = tab + 1) {
		if (fl->n == MAX_FIELDS)
			return "wrong number of fields";
		tab = memchr(p, '\t', (size_t)(end - p));
		fl->f[fl->n] = p;
		fl->len[fl->n] = (size_t)((tab ? tab : end) - p);
		fl->n++;
		if (tab == NULL)
			break;
		*tab = '\0';
	}
	if (fl->len[0] != strlen(type) || memcmp(fl->f[0], type,
	    fl->len[0]) != 0)
		return "unknown record type";
	if (fl->n != nfields)
		return "wrong number of fields";
	return NULL;
}

/*
 * Decodes one line of the bans file in place (no LF, NUL-ended at len);
 * NULL or why it is bad. The fields point into line.
 */
const char *
state_ban_decode(char *line, size_t len, struct state_ban *b)
{
	struct fields	 fl;
	const char	*why;
	long long	 expires = 0;
	int		 v2 = len >= 3 && memcmp(line, "b2\t", 3) == 0;

	if ((why = line_split(line, len, v2 ? "b2" : "b1", v2 ? 5 : 4,
	    &fl)) != NULL)
		return why;
	if (unescape(fl.f[1], &fl.len[1]) == -1 || fl.len[1] == 0 ||
	    fl.len[1] >= CIDR_STR_MAX || strchr(fl.f[1], ' ') != NULL)
		return "bad address";
	if (strcmp(fl.f[1], "local") == 0) {
		memset(&b->range, 0, sizeof(b->range));
		b->range.len = 128;
	} else if (cidr_parse(&b->range, fl.f[1]) == -1)
		return "bad address";
	if (v2 && (parse_num(fl.f[4], fl.len[4], 0, &expires) == -1 ||
	    expires == 0))
		return "bad expiry time";
	if (unescape(fl.f[2], &fl.len[2]) == -1 || fl.len[2] > NAME_MAX_LEN)
		return "bad name";
	if (unescape(fl.f[3], &fl.len[3]) == -1 ||
	    fl.len[3] > BAN_REASON_MAX)
		return "bad reason";
	b->addr = fl.f[1];
	b->name = fl.f[2];
	b->reason = fl.f[3];
	b->expires = expires;
	return NULL;
}

/*
 * Decodes one line of the history journal in place (no LF, NUL-ended
 * at len); NULL or why it is bad. The room and the text point into line.
 */
const char *
state_hist_decode(char *line, size_t len, struct state_hist *hl)
{
	struct fields	 fl;
	const char	*why;
	long long	 seq, when;

	if ((why = line_split(line, len, "h1", 6, &fl)) != NULL)
		return why;
	if (parse_num(fl.f[1], fl.len[1], 0, &seq) == -1 || seq == 0)
		return "bad sequence number";
	if (parse_num(fl.f[2], fl.len[2], 1, &when) == -1)
		return "bad time";
	if (strlen(fl.f[3]) != fl.len[3] || (strcmp(fl.f[3], "chat") != 0 &&
	    strcmp(fl.f[3], "me") != 0))
		return "bad kind";
	if (text_room_problem(fl.f[4], fl.len[4]) != NULL)
		return "bad room name";
	if (unescape(fl.f[5], &fl.len[5]) == -1 ||
	    fl.len[5] > HIST_TEXT_MAX(CHATD_MAX_LINE_CAP))
		return "bad text";
	hl->seq = (uint64_t)seq;
	hl->time = when;
	hl->kind = fl.f[3][0] == 'm' ? REC_ME : REC_CHAT;
	hl->room = fl.f[4];
	hl->roomlen = fl.len[4];
	hl->text = fl.f[5];
	hl->len = fl.len[5];
	return NULL;
}
