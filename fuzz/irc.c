/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes the ngircd dialect (irc.c). The input after its first byte is
 * cut at each LF into lines, which one parser reads in turn (from a
 * fresh connection, or one past the handshake, as the first byte
 * says). Every event must hold what dialect.h promises for its type:
 * strings NUL-ended inside the line or static, valid nicks, text
 * without mIRC codes, len the text's length, one burst end at most.
 * Each line is also sent back out as a say, a quit and a fold into a
 * buffer of exactly the size the first byte picks: whole lines that
 * fit the relayed 512 bytes, all of them or none, and the say parses
 * back to the text it carried.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/dialect.h"
#include "fuzz.h"

static const char	*fuzz_formatting = "\002\003\004\017\021\026\035\036\037";

/* A nick as chatd keeps it, checked apart from irc.c. */
static int
fuzz_nick_ok(const char *s)
{
	static const char	*special = "[]\\`_^{|}";
	size_t			 i;
	int			 c;

	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    strchr(special, c) != NULL)
			continue;
		if (i == 0 || !((c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return i >= 1 && i <= NICK_MAX_LEN;
}

/* A string of an event: NUL-ended inside the line, or elsewhere (static). */
static void
fuzz_str(const char *s, const char *line, size_t n)
{
	if (s >= line && s <= line + n)
		FUZZ_CHECK(memchr(s, '\0', (size_t)(line + n + 1 - s)) != NULL);
	else
		FUZZ_CHECK(strlen(s) < (size_t)DIALECT_LINE_MAX * 4);
}

static void
fuzz_strings(const struct net_event *ev, const char *line, size_t n)
{
	const char	*s[] = { ev->nick, ev->name, ev->via, ev->channel,
			    ev->target, ev->text };
	size_t		 i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i] != NULL)
			fuzz_str(s[i], line, n);
	if (ev->text != NULL)
		FUZZ_CHECK(strlen(ev->text) == ev->len);
	else
		FUZZ_CHECK(ev->len == 0);
}

/* What each type of event must carry. */
static void
fuzz_event(const struct net_event *ev)
{
	switch (ev->type) {
	case NET_IGNORE: case NET_BURST_END:
		break;
	case NET_BAD: case NET_PASS: case NET_PING: case NET_ERROR:
		FUZZ_CHECK(ev->text != NULL);
		break;
	case NET_SERVER:
		FUZZ_CHECK(ev->name != NULL && strchr(ev->name, '.') != NULL &&
		    strlen(ev->name) <= SERVER_NAME_MAX);
		break;
	case NET_SQUIT:
		FUZZ_CHECK(ev->name != NULL && ev->text != NULL);
		break;
	case NET_USER: case NET_NICK:
		FUZZ_CHECK(fuzz_nick_ok(ev->nick) && ev->name != NULL);
		if (ev->type == NET_NICK)
			FUZZ_CHECK(fuzz_nick_ok(ev->name));
		break;
	case NET_JOIN: case NET_PART: case NET_KICK:
		FUZZ_CHECK(fuzz_nick_ok(ev->nick) && ev->channel != NULL);
		FUZZ_CHECK(ev->channel[0] != '\0' &&
		    strpbrk(ev->channel, ",\a ") == NULL);
		FUZZ_CHECK(ev->type == NET_JOIN || ev->text != NULL);
		FUZZ_CHECK(ev->type != NET_KICK || ev->name != NULL);
		break;
	case NET_QUIT: case NET_KILL:
		FUZZ_CHECK(fuzz_nick_ok(ev->nick) && ev->text != NULL);
		FUZZ_CHECK(ev->type == NET_QUIT || ev->name != NULL);
		FUZZ_CHECK(!ev->collision || ev->type == NET_KILL);
		break;
	case NET_MSG: case NET_ACTION:
		FUZZ_CHECK(fuzz_nick_ok(ev->nick) && ev->target != NULL);
		FUZZ_CHECK(ev->target[0] != '\0' &&
		    strchr(ev->target, ',') == NULL && ev->target[0] != '$');
		FUZZ_CHECK(ev->len > 0 &&
		    strpbrk(ev->text, fuzz_formatting) == NULL);
		break;
	default:
		FUZZ_CHECK(!"an event of no type");
	}
	if (ev->type != NET_KILL)
		FUZZ_CHECK(!ev->collision);
	if (ev->type != NET_JOIN)
		FUZZ_CHECK(!ev->burst);
}

static void
fuzz_state(const struct net_parser *p)
{
	int	i;

	FUZZ_CHECK(p->nservers >= 0 && p->nservers <= NET_SERVERS_MAX);
	FUZZ_CHECK(!p->got_server || p->got_pass);
	FUZZ_CHECK(!p->burst_over || p->got_server);
	for (i = 0; i < p->nservers; i++)
		FUZZ_CHECK(memchr(p->servers[i].name, '\0',
		    sizeof(p->servers[i].name)) != NULL);
}

/* Parses one line (a copy of exactly n + 1 bytes) and checks it. */
static void
fuzz_parse(struct net_parser *p, const uint8_t *data, size_t n)
{
	static struct net_event	 ev[DIALECT_EVENTS];
	char			*line = fuzz_strdup(data, n);
	int			 k, i, was_over = p->burst_over;

	k = dialect_ngircd.parse(p, line, n, ev);
	FUZZ_CHECK(k >= 1 && k <= DIALECT_EVENTS);
	for (i = 0; i < k; i++) {
		fuzz_strings(&ev[i], line, n);
		fuzz_event(&ev[i]);
		if (ev[i].type == NET_BURST_END) {
			FUZZ_CHECK(!was_over && p->burst_over);
			FUZZ_CHECK(i + 1 < k && ev[i + 1].type == NET_PING);
		}
	}
	fuzz_state(p);
	free(line);
}

/*
 * Checks out's bytes are whole lines, each ending in its only CR and
 * LF, and fitting DIALECT_LINE_MAX with extra bytes more; returns how
 * many.
 */
static int
fuzz_lines(const struct net_out *o, size_t extra)
{
	const char	*p = o->buf, *end = o->buf + o->len, *eol;
	int		 lines = 0;

	FUZZ_CHECK(o->len <= o->size);
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(eol != NULL && eol > p && eol[-1] == '\r');
		FUZZ_CHECK((size_t)(eol + 1 - p) + extra <= DIALECT_LINE_MAX);
		FUZZ_CHECK(memchr(p, '\r', (size_t)(eol - 1 - p)) == NULL);
		FUZZ_CHECK(memchr(p, '\0', (size_t)(eol - p)) == NULL);
		lines++;
		p = eol + 1;
	}
	return lines;
}

/* A linked parser, as if the hub had sent its handshake and burst. */
static void
fuzz_linked(struct net_parser *p)
{
	*p = (struct net_parser){ .got_pass = 1, .got_server = 1,
	    .burst_over = 1 };
}

/*
 * The say lines parse back, as the hub would read them, to the text:
 * exactly when it holds no control byte, which chatd's hygiene removed
 * before (the formatter turns some into spaces).
 */
static void
fuzz_say_back(const struct net_out *o, const uint8_t *text, size_t n,
    int action)
{
	static struct net_event	 ev[DIALECT_EVENTS];
	struct net_parser	 p;
	const char		*s = o->buf, *eol;
	char			*line;
	size_t			 done = 0, i;

	for (i = 0; i < n; i++)
		if (text[i] < 0x20)
			return;
	fuzz_linked(&p);
	while (s < o->buf + o->len) {
		eol = memchr(s, '\r', (size_t)(o->buf + o->len - s));
		line = fuzz_strdup((const uint8_t *)s, (size_t)(eol - s));
		FUZZ_CHECK(dialect_ngircd.parse(&p, line, (size_t)(eol - s),
		    ev) == 1);
		FUZZ_CHECK(ev[0].type == (action ? NET_ACTION : NET_MSG));
		FUZZ_CHECK(strcmp(ev[0].nick, "alice") == 0 &&
		    strcmp(ev[0].target, "#room") == 0);
		FUZZ_CHECK(done + ev[0].len <= n &&
		    memcmp(text + done, ev[0].text, ev[0].len) == 0);
		done += ev[0].len;
		free(line);
		s = eol + 2;
	}
	FUZZ_CHECK(done == n);
}

/* The formatters on a line's bytes, into exactly size bytes. */
static void
fuzz_format(const uint8_t *data, size_t n, size_t size, int action)
{
	static const struct net_self self = { .name = "a.chatd.test",
	    .info = "chatd", .password = "pw", .version = "0" };
	struct net_out	 o;
	char		*str = fuzz_strdup(data, n), *fold;
	size_t		 i;

	o = (struct net_out){ .buf = malloc(size), .size = size };
	if (o.buf == NULL)
		abort();
	dialect_ngircd.say(&o, "alice", "room", NULL, str, n, action);
	/* ":alice!~alice@" and a server name of SERVER_NAME_MAX, relayed. */
	FUZZ_CHECK(fuzz_lines(&o, 1 + 1 + 5 + 1 + SERVER_NAME_MAX) > 0 ||
	    n == 0 || o.full);
	FUZZ_CHECK(o.full ? o.len == 0 : (o.len > 0) == (n > 0));
	if (!o.full)
		fuzz_say_back(&o, data, n, action);
	o = (struct net_out){ .buf = o.buf, .size = size };
	dialect_ngircd.quit(&o, "alice", str);
	dialect_ngircd.error(&o, &self, str);
	FUZZ_CHECK(fuzz_lines(&o, 0) == 2 || o.full);
	free(o.buf);

	fold = malloc(size);
	if (fold == NULL)
		abort();
	dialect_ngircd.fold(fold, size, str);
	for (i = 0; i + 1 < size && str[i] != '\0'; i++)
		FUZZ_CHECK(fold[i] == (str[i] >= 'A' && str[i] <= 'Z' ?
		    str[i] - 'A' + 'a' : str[i]));
	FUZZ_CHECK(fold[i] == '\0');
	free(fold);
	free(str);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_parser	 p = { .got_pass = 0 };
	const uint8_t		*eol;
	size_t			 outsize, at, n;

	if (size == 0)
		return 0;
	/* Bit 0: start past the handshake; the rest: the output's size. */
	if (data[0] & 1U)
		fuzz_linked(&p);
	outsize = 1 + (size_t)(data[0] >> 1U) * 16;
	for (at = 1; at <= size; at += n + 1) {
		eol = memchr(data + at, '\n', size - at);
		n = eol != NULL ? (size_t)(eol - (data + at)) : size - at;
		fuzz_parse(&p, data + at, n);
		fuzz_format(data + at, n, outsize, (data[0] & 2U) != 0);
	}
	return 0;
}
