/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for irc.c, the ngircd dialect: every event the parser
 * makes, from the lines ngircd 26.1 sends (the burst, then live
 * traffic), the lines it must refuse or ignore, and the exact bytes of
 * every formatter, long lines cut between UTF-8 characters included.
 * Each parse is written out as one string of the events' fields, so a
 * vector reads like the line it checks. Prints one line per failed
 * check; exits 1 if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/dialect.h"

#define UNIT_CHECK(e) do {						\
	if (!(e))							\
		unit_fail(__LINE__, #e, "", "");			\
} while (0)

#define UNIT_OUTSIZE	4096

static int	unit_failures;

static const struct net_self unit_self = {
	.name = "a.chatd.test",
	.info = "chatd test",
	.password = "linkpw1",
	.version = "0.1"
};

static void
unit_fail(int line, const char *what, const char *got, const char *want)
{
	printf("unit_irc.c:%d: %s\n", line, what);
	if (*got != '\0' || *want != '\0')
		printf("    got:  %s\n    want: %s\n", got, want);
	unit_failures++;
}

static const char *
unit_type(enum net_type t)
{
	static const char *const names[] = {
		"IGNORE", "BAD", "PASS", "SERVER", "SQUIT", "USER", "NICK",
		"JOIN", "PART", "KICK", "QUIT", "KILL", "MSG", "ACTION",
		"PING", "BURST_END", "ERROR"
	};

	return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] :
	    "?";
}

/* Appends "key=value" to a rendering, bytes below 0x20 as \xHH. */
static void
unit_field(char *buf, size_t size, const char *key, const char *s,
    size_t n)
{
	size_t	len = strlen(buf), i;

	len += (size_t)snprintf(buf + len, size - len, " %s=", key);
	for (i = 0; i < n && len + 5 < size; i++) {
		if ((unsigned char)s[i] < 0x20)
			len += (size_t)snprintf(buf + len, size - len, "\\x%02x",
			    (unsigned char)s[i]);
		else
			buf[len++] = s[i];
	}
	buf[len] = '\0';
}

/* One event as "TYPE nick=.. name=.. via=.. channel=.. target=.. text=..". */
static void
unit_render(char *buf, size_t size, const struct net_event *ev)
{
	size_t	len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len > 0 ? " | " : "",
	    unit_type(ev->type));
	if (ev->nick != NULL)
		unit_field(buf, size, "nick", ev->nick, strlen(ev->nick));
	if (ev->name != NULL)
		unit_field(buf, size, "name", ev->name, strlen(ev->name));
	if (ev->via != NULL)
		unit_field(buf, size, "via", ev->via, strlen(ev->via));
	if (ev->channel != NULL)
		unit_field(buf, size, "channel", ev->channel,
		    strlen(ev->channel));
	if (ev->target != NULL)
		unit_field(buf, size, "target", ev->target,
		    strlen(ev->target));
	if (ev->text != NULL)
		unit_field(buf, size, "text", ev->text, ev->len);
	len = strlen(buf);
	if (ev->burst)
		snprintf(buf + len, size - len, " burst");
	len = strlen(buf);
	if (ev->collision)
		snprintf(buf + len, size - len, " collision");
}

/*
 * Parses line[0..n) (a copy, with the one spare byte parse may use) and
 * compares the rendering of its events with want.
 */
static void
unit_parse_n(int at, struct net_parser *p, const char *line, size_t n,
    const char *want)
{
	static struct net_event	ev[DIALECT_EVENTS];
	static char		got[65536];
	char			*copy;
	int			 k, i;

	if ((copy = malloc(n + 1)) == NULL)
		abort();
	memcpy(copy, line, n);
	got[0] = '\0';
	k = dialect_ngircd.parse(p, copy, n, ev);
	if (k < 0 || k > DIALECT_EVENTS)
		unit_fail(at, "event count out of range", "", "");
	for (i = 0; i < k && i < DIALECT_EVENTS; i++) {
		if (ev[i].text != NULL && strlen(ev[i].text) != ev[i].len)
			unit_fail(at, "len is not the text's length", "", "");
		unit_render(got, sizeof(got), &ev[i]);
	}
	if (strcmp(got, want) != 0)
		unit_fail(at, "parse", got, want);
	free(copy);
}

#define PARSE(p, line, want) \
	unit_parse_n(__LINE__, (p), (line), sizeof(line) - 1, (want))

/* A parser through ngircd's handshake and burst, as on this machine. */
static void
unit_linked(struct net_parser *p)
{
	*p = (struct net_parser){ .got_pass = 0 };
	PARSE(p, ":hub.test PASS linkpw2 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ",
	    "PASS text=linkpw2");
	PARSE(p, ":hub.test SERVER hub.test 1 :test hub",
	    "SERVER name=hub.test");
	PARSE(p, ":hub.test SERVER other.test 2 7 :info",
	    "SERVER name=other.test via=hub.test");
}

static void
unit_burst(void)
{
	struct net_parser	p;

	unit_linked(&p);
	UNIT_CHECK(p.got_pass && p.got_server && !p.burst_over);
	PARSE(&p, ":hub.test 376 a.chatd.test :End of MOTD command", "IGNORE");
	PARSE(&p, ":hub.test NICK carol 1 ~carol 127.0.0.1 1 + :Carol",
	    "USER nick=carol name=hub.test");
	PARSE(&p, ":hub.test NICK dave 2 ~dave 10.0.0.1 7 +i :Dave",
	    "USER nick=dave name=other.test");
	PARSE(&p, ":hub.test NICK [x]`^{|}_-9 1 u h 1 + :i",
	    "USER nick=[x]`^{|}_-9 name=hub.test");
	PARSE(&p, ":hub.test NICK eve 2 ~eve 10.0.0.1 9 + :Eve",
	    "BAD name=NICK text=unknown server token");
	PARSE(&p, ":hub.test NICK eve 2 ~eve 10.0.0.1 x + :Eve",
	    "BAD name=NICK text=unknown server token");
	PARSE(&p, ":hub.test NJOIN #lobby :@carol,+bob",
	    "JOIN nick=carol channel=#lobby burst | "
	    "JOIN nick=bob channel=#lobby burst");
	PARSE(&p, ":hub.test NJOIN #dev :~&@%+carol,,dave,9bad,eve",
	    "JOIN nick=carol channel=#dev burst | "
	    "JOIN nick=dave channel=#dev burst | "
	    "BAD name=NJOIN text=bad nick | "
	    "JOIN nick=eve channel=#dev burst");
	PARSE(&p, ":hub.test CHANINFO #lobby +nt :topic", "IGNORE");
	PARSE(&p, ":hub.test PING :hub.test",
	    "BURST_END | PING text=hub.test");
	UNIT_CHECK(p.burst_over);
	PARSE(&p, ":hub.test PING :hub.test", "PING text=hub.test");
	PARSE(&p, "PING hub.test", "PING text=hub.test");
	PARSE(&p, ":hub.test PONG hub.test :a.chatd.test", "IGNORE");
}

static void
unit_servers(void)
{
	struct net_parser	p;

	unit_linked(&p);
	PARSE(&p, ":other.test SERVER third.test 3 9 :behind other",
	    "SERVER name=third.test via=other.test");
	PARSE(&p, ":hub.test NICK t 3 ~t h 9 + :T", "USER nick=t name=third.test");
	PARSE(&p, ":hub.test SQUIT other.test :Remote host closed",
	    "SQUIT name=other.test text=Remote host closed");
	PARSE(&p, ":hub.test NICK d 2 ~d h 7 + :D",
	    "BAD name=NICK text=unknown server token");
	PARSE(&p, ":hub.test SQUIT other.test", "SQUIT name=other.test text=");
	/* A server introduced again takes the token it now has. */
	PARSE(&p, ":hub.test SERVER other.test 2 8 :back",
	    "SERVER name=other.test via=hub.test");
	PARSE(&p, ":hub.test NICK d 2 ~d h 8 + :D",
	    "USER nick=d name=other.test");
	PARSE(&p, ":hub.test SERVER x.test 2 :info",
	    "BAD name=SERVER text=missing parameters");
	PARSE(&p, "SERVER x.test 2 5 :info",
	    "BAD name=SERVER text=prefix missing");
	PARSE(&p, ":hub.test SERVER x.test 2 0 :info",
	    "BAD name=SERVER text=bad server token");
	PARSE(&p, ":hub.test SERVER nodot 2 5 :info",
	    "BAD name=SERVER text=bad server name");
	PARSE(&p, ":hub.test SERVER a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v"
	    ".w.x.y.z.a.b.c.d.e.f.g 2 5 :long",
	    "BAD name=SERVER text=bad server name");
	PARSE(&p, ":hub.test SQUIT", "BAD name=SQUIT text=missing parameters");
}

/* The handshake in the wrong order, and what may come before it. */
static void
unit_order(void)
{
	struct net_parser	p = { .got_pass = 0 };

	PARSE(&p, ":hub.test NOTICE * :*** Looking up your hostname",
	    "IGNORE");
	PARSE(&p, ":hub.test SERVER hub.test 1 :test hub",
	    "BAD name=SERVER text=SERVER before PASS");
	PARSE(&p, ":hub.test NICK carol 1 ~carol 127.0.0.1 1 + :Carol",
	    "BAD name=NICK text=before the hub's SERVER");
	PARSE(&p, ":carol PRIVMSG #lobby :hi",
	    "BAD name=PRIVMSG text=before the hub's SERVER");
	PARSE(&p, "PING :hub.test", "PING text=hub.test");
	UNIT_CHECK(!p.burst_over);
	PARSE(&p, "PASS", "BAD name=PASS text=missing parameters");
	PARSE(&p, "PASS linkpw2 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ",
	    "PASS text=linkpw2");
	PARSE(&p, "PASS again", "BAD name=PASS text=PASS again");
	PARSE(&p, "ERROR :Closing connection: a.chatd.test[127.0.0.1] "
	    "(Bad password)",
	    "ERROR text=Closing connection: a.chatd.test[127.0.0.1] "
	    "(Bad password)");
	PARSE(&p, "SERVER hub.test", "BAD name=SERVER text=missing parameters");
	PARSE(&p, "SERVER hub.test 1 :test hub", "SERVER name=hub.test");
	PARSE(&p, "ERROR", "ERROR text=");
	PARSE(&p, ":hub.test ERROR :Prefix missing", "ERROR text=Prefix missing");
}

static void
unit_live(void)
{
	struct net_parser	p;

	unit_linked(&p);
	PARSE(&p, ":carol JOIN #dev\x07o", "JOIN nick=carol channel=#dev");
	PARSE(&p, ":carol JOIN #a,#b\x07ov,,#c",
	    "JOIN nick=carol channel=#a | JOIN nick=carol channel=#b | "
	    "JOIN nick=carol channel=#c");
	PARSE(&p, ":carol!~carol@127.0.0.1 JOIN :#dev",
	    "JOIN nick=carol channel=#dev");
	PARSE(&p, ":carol PART #dev :why", "PART nick=carol channel=#dev text=why");
	PARSE(&p, ":carol PART #a,#b",
	    "PART nick=carol channel=#a text= | PART nick=carol channel=#b text=");
	PARSE(&p, ":carol QUIT :\"bye now\"", "QUIT nick=carol text=bye now");
	PARSE(&p, ":carol QUIT :\"\"", "QUIT nick=carol text=");
	PARSE(&p, ":carol QUIT :\"", "QUIT nick=carol text=\"");
	PARSE(&p, ":carol QUIT :\"a\" \"b\"", "QUIT nick=carol text=a\" \"b");
	PARSE(&p, ":carol QUIT :a.test hub.test", "QUIT nick=carol text=a.test hub.test");
	PARSE(&p, ":carol QUIT", "QUIT nick=carol text=");
	PARSE(&p, ":carol QUIT :\"\x02" "bold\x02\"", "QUIT nick=carol text=bold");
	PARSE(&p, ":carol NICK caz", "NICK nick=carol name=caz");
	PARSE(&p, ":carol NICK :caz", "NICK nick=carol name=caz");
	PARSE(&p, ":op KICK #dev alice :why",
	    "KICK nick=alice name=op channel=#dev text=why");
	PARSE(&p, ":hub.test KICK #dev alice",
	    "KICK nick=alice name=hub.test channel=#dev text=");
	PARSE(&p, ":op KICK #dev alice,bob :x",
	    "KICK nick=alice name=op channel=#dev text=x | "
	    "KICK nick=bob name=op channel=#dev text=x");
	PARSE(&p, ":op KICK #a,#b alice,bob :x",
	    "KICK nick=alice name=op channel=#a text=x | "
	    "KICK nick=bob name=op channel=#b text=x");
	PARSE(&p, ":op KICK #a,#b alice", "KICK nick=alice name=op channel=#a text=");
	PARSE(&p, ":op KICK #dev 1x", "BAD name=KICK text=bad nick");
	PARSE(&p, ":oper KILL alice :reason",
	    "KILL nick=alice name=oper text=reason");
	PARSE(&p, ":oper KILL alice :KILLed by oper: go",
	    "KILL nick=alice name=oper text=go");
	PARSE(&p, ":oper KILL alice :KILLed by other: go",
	    "KILL nick=alice name=oper text=KILLed by other: go");
	PARSE(&p, ":hub.test KILL alice :Nick collision",
	    "KILL nick=alice name=hub.test text=Nick collision collision");
	/* Only a server's KILL is a collision. */
	PARSE(&p, ":oper KILL alice :Nick collision",
	    "KILL nick=alice name=oper text=Nick collision");
	PARSE(&p, ":hub.test KILL alice", "KILL nick=alice name=hub.test text=");
	PARSE(&p, ":hub.test KILL a.b :x", "BAD name=KILL text=bad nick");
	PARSE(&p, ":hub.test SQUIT other.test :reason",
	    "SQUIT name=other.test text=reason");
	PARSE(&p, "ERROR :text", "ERROR text=text");
	PARSE(&p, ":hub.test MODE #dev +o carol", "IGNORE");
	PARSE(&p, ":carol TOPIC #dev :new", "IGNORE");
	PARSE(&p, ":hub.test METADATA carol cloakhost :x", "IGNORE");
	PARSE(&p, ":carol AWAY :gone", "IGNORE");
	PARSE(&p, ":carol INVITE alice #dev", "IGNORE");
	PARSE(&p, ":hub.test WALLOPS :hello", "IGNORE");
	PARSE(&p, ":hub.test SERVICE s 1 * +o 1 :x", "IGNORE");
	PARSE(&p, ":hub.test 005 a.chatd.test CASEMAPPING=ascii :are supported",
	    "IGNORE");
	PARSE(&p, ":carol FROBNICATE x", "IGNORE");
	PARSE(&p, ":carol join #lower", "JOIN nick=carol channel=#lower");
	PARSE(&p, ":carol JOIN \x07o,#a b", "JOIN nick=carol channel=#a");
	PARSE(&p, ":carol JOIN :#a b\x01,#c", "BAD name=JOIN text=bad channel | "
	    "JOIN nick=carol channel=#c");
	PARSE(&p, ":carol PART #a\x07o", "BAD name=PART text=bad channel");
	PARSE(&p, ":op KICK #a\x07 alice", "BAD name=KICK text=bad channel");
	PARSE(&p, ":hub.test NJOIN #a,#b :carol", "BAD name=NJOIN text=bad channel");
	PARSE(&p, ":hub.test NJOIN \x01 :carol", "BAD name=NJOIN text=bad channel");
}

static void
unit_messages(void)
{
	struct net_parser	p;

	unit_linked(&p);
	PARSE(&p, ":carol PRIVMSG #lobby :hi", "MSG nick=carol target=#lobby text=hi");
	PARSE(&p, ":carol PRIVMSG alice :psst", "MSG nick=carol target=alice text=psst");
	PARSE(&p, ":carol PRIVMSG #a,alice,$*.test,#*.test :x",
	    "MSG nick=carol target=#a text=x | MSG nick=carol target=alice text=x");
	PARSE(&p, ":carol PRIVMSG #lobby :\x01" "ACTION waves\x01",
	    "ACTION nick=carol target=#lobby text=waves");
	PARSE(&p, ":carol PRIVMSG #lobby :\x01" "ACTION waves",
	    "ACTION nick=carol target=#lobby text=waves");
	PARSE(&p, ":carol PRIVMSG #lobby :\x01" "ACTION  two  \x01",
	    "ACTION nick=carol target=#lobby text= two  ");
	PARSE(&p, ":carol PRIVMSG #lobby :\x01" "ACTION\x01", "IGNORE");
	PARSE(&p, ":carol PRIVMSG #lobby :\x01" "ACTIONS x\x01", "IGNORE");
	PARSE(&p, ":carol PRIVMSG alice :\x01VERSION\x01", "IGNORE");
	PARSE(&p, ":carol PRIVMSG alice :\x01", "IGNORE");
	PARSE(&p, ":carol NOTICE #lobby :hi", "IGNORE");
	PARSE(&p, ":hub.test PRIVMSG alice :server says", "IGNORE");
	PARSE(&p, ":carol PRIVMSG #lobby :", "IGNORE");
	PARSE(&p, ":carol PRIVMSG #lobby", "BAD name=PRIVMSG text=missing parameters");
	PARSE(&p, "PRIVMSG #lobby :hi", "BAD name=PRIVMSG text=prefix missing");
	PARSE(&p, ":1carol PRIVMSG #lobby :hi", "BAD name=PRIVMSG text=bad nick");
	PARSE(&p, ":carol PRIVMSG #lobby :a:b :c", "MSG nick=carol target=#lobby text=a:b :c");
	PARSE(&p, ":carol PRIVMSG #lobby hi", "MSG nick=carol target=#lobby text=hi");
	PARSE(&p, ":carol   PRIVMSG   #lobby   :  hi  ",
	    "MSG nick=carol target=#lobby text=  hi  ");
}

/* mIRC's codes go from message text, in place. */
static void
unit_strip(void)
{
	struct net_parser	p;

	unit_linked(&p);
	PARSE(&p, ":c PRIVMSG #a :\x02" "b\x1d" "i\x1f" "u\x1e" "s\x11" "m\x16"
	    "r\x0f" "o", "MSG nick=c target=#a text=biusmro");
	PARSE(&p, ":c PRIVMSG #a :\x03" "4red\x03" "04,12x\x03" "1,2y\x03z",
	    "MSG nick=c target=#a text=redxyz");
	PARSE(&p, ":c PRIVMSG #a :\x03" "123", "MSG nick=c target=#a text=3");
	PARSE(&p, ":c PRIVMSG #a :\x03" "12,345", "MSG nick=c target=#a text=5");
	PARSE(&p, ":c PRIVMSG #a :\x03,5 and \x03" "5, x",
	    "MSG nick=c target=#a text=,5 and , x");
	PARSE(&p, ":c PRIVMSG #a :\x04" "FF00aaX\x04" "ff00aa,000000Y\x04" "ff0Z",
	    "MSG nick=c target=#a text=XYff0Z");
	PARSE(&p, ":c PRIVMSG #a :\x04" "ff00aa,00", "MSG nick=c target=#a text=,00");
	PARSE(&p, ":c PRIVMSG #a :\x03", "IGNORE");
	PARSE(&p, ":c PRIVMSG #a :\x02\x03" "4,5\x0f", "IGNORE");
	PARSE(&p, ":c PRIVMSG #a :\x01" "ACTION \x02" "waves\x02\x01",
	    "ACTION nick=c target=#a text=waves");
	PARSE(&p, ":c PRIVMSG #a :tab\there \x07" "bell",
	    "MSG nick=c target=#a text=tab\\x09here \\x07bell");
	PARSE(&p, ":op KICK #dev alice :\x03" "4why",
	    "KICK nick=alice name=op channel=#dev text=why");
	PARSE(&p, ":c PART #dev :\x02" "bye", "PART nick=c channel=#dev text=bye");
	PARSE(&p, ":o KILL alice :\x1f" "go", "KILL nick=alice name=o text=go");
}

static void
unit_nicks(void)
{
	struct net_parser	p;

	unit_linked(&p);
	PARSE(&p, ":hub.test NICK abcdefghijabcdefghijabcdefghijA 1 u h 1 + :i",
	    "USER nick=abcdefghijabcdefghijabcdefghijA name=hub.test");
	PARSE(&p, ":hub.test NICK abcdefghijabcdefghijabcdefghijAB 1 u h 1 + :i",
	    "BAD name=NICK text=nick too long");
	PARSE(&p, ":hub.test NICK -x 1 u h 1 + :i", "BAD name=NICK text=bad nick");
	PARSE(&p, ":hub.test NICK 9x 1 u h 1 + :i", "BAD name=NICK text=bad nick");
	PARSE(&p, ":hub.test NICK a.b 1 u h 1 + :i", "BAD name=NICK text=bad nick");
	PARSE(&p, ":hub.test NICK x\xc3\xa9 1 u h 1 + :i",
	    "BAD name=NICK text=bad nick");
	PARSE(&p, ":hub.test NICK x 1 u h 1 :i",
	    "BAD name=NICK text=missing parameters");
	PARSE(&p, ":hub.test NICK x 1", "BAD name=NICK text=missing parameters");
	PARSE(&p, "NICK x", "BAD name=NICK text=prefix missing");
	PARSE(&p, ":carol NICK 1x", "BAD name=NICK text=bad nick");
	PARSE(&p, ":hub.test NICK x", "BAD name=NICK text=bad nick");
	PARSE(&p, ":1x JOIN #dev", "BAD name=JOIN text=bad nick");
	PARSE(&p, ":hub.test JOIN #dev", "BAD name=JOIN text=bad nick");
	PARSE(&p, "JOIN #dev", "BAD name=JOIN text=prefix missing");
	PARSE(&p, ":carol JOIN", "BAD name=JOIN text=missing parameters");
	PARSE(&p, ":c~ PART #dev", "BAD name=PART text=bad nick");
	PARSE(&p, ":x!y QUIT", "QUIT nick=x text=");
	PARSE(&p, ":carol KICK #dev", "BAD name=KICK text=missing parameters");
	PARSE(&p, ":carol KILL", "BAD name=KILL text=missing parameters");
	PARSE(&p, "KILL x :y", "BAD name=KILL text=prefix missing");
	PARSE(&p, ":carol PING", "BAD name=PING text=missing parameters");
}

/* Lines of any bytes: never a crash, always a sane answer. */
static void
unit_garbage(void)
{
	struct net_parser	p;
	char			long_line[2000];
	size_t			i;

	unit_linked(&p);
	PARSE(&p, "", "BAD text=no command");
	PARSE(&p, "   ", "BAD text=no command");
	PARSE(&p, ":", "BAD text=empty prefix");
	PARSE(&p, ": PING x", "BAD text=empty prefix");
	PARSE(&p, ":!x PING x", "BAD text=empty prefix");
	PARSE(&p, ":hub.test", "BAD text=no command");
	PARSE(&p, ":hub.test   ", "BAD text=no command");
	PARSE(&p, ":carol PRIVMSG #a :x\0y", "BAD text=NUL byte in the line");
	PARSE(&p, "\0", "BAD text=NUL byte in the line");
	PARSE(&p, "\xff\xfe\x01", "IGNORE");
	PARSE(&p, ":carol PRIVMSG #a :\xff\xfe", "MSG nick=carol target=#a text=\xff\xfe");
	PARSE(&p, "a b c d e f g h i j k l m n o p q r s", "IGNORE");
	/* The fifteenth parameter takes the rest. */
	PARSE(&p, ":hub.test NICK n 1 u h 1 + 7 8 9 10 11 12 13 14 15 16 :i",
	    "USER nick=n name=hub.test");
	/* Longer than a line may be: the caller's business, not a crash. */
	memset(long_line, 'a', sizeof(long_line));
	for (i = 0; i < 19; i++)
		long_line[i] = ":carol PRIVMSG #a :"[i];
	{
		struct net_event	ev[DIALECT_EVENTS];
		char			copy[sizeof(long_line) + 1];

		memcpy(copy, long_line, sizeof(long_line));
		UNIT_CHECK(dialect_ngircd.parse(&p, copy, sizeof(long_line),
		    ev) == 1);
		UNIT_CHECK(ev[0].type == NET_MSG &&
		    ev[0].len == sizeof(long_line) - 19);
	}
	/* More entries than events: the last event says so. */
	{
		static char		line[4096];
		static struct net_event	ev[DIALECT_EVENTS];
		size_t			len;

		len = (size_t)snprintf(line, sizeof(line), ":carol JOIN ");
		for (i = 0; i < DIALECT_EVENTS + 10; i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			    "#%zu,", i);
		UNIT_CHECK(dialect_ngircd.parse(&p, line, len, ev) ==
		    DIALECT_EVENTS);
		UNIT_CHECK(ev[DIALECT_EVENTS - 2].type == NET_JOIN);
		UNIT_CHECK(ev[DIALECT_EVENTS - 1].type == NET_BAD &&
		    strcmp(ev[DIALECT_EVENTS - 1].text,
		    "too many entries in one line") == 0);
	}
	/* A full NJOIN as ngircd packs it fits whole. */
	{
		static char		line[DIALECT_LINE_MAX];
		static struct net_event	ev[DIALECT_EVENTS];
		size_t			len;
		int			k;

		len = (size_t)snprintf(line, sizeof(line), ":hub.test NJOIN #x :");
		for (i = 0; len + 3 < DIALECT_LINE_MAX - 2; i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			    "%s%c", i > 0 ? "," : "", 'a' + (int)(i % 26));
		k = dialect_ngircd.parse(&p, line, len, ev);
		UNIT_CHECK(k == (int)i && ev[k - 1].type == NET_JOIN);
	}
}

/* Runs a formatter into a fresh buffer and compares its bytes. */
static char	unit_buf[UNIT_OUTSIZE];

static struct net_out
unit_out(size_t size)
{
	memset(unit_buf, '#', sizeof(unit_buf));
	return (struct net_out){ .buf = unit_buf, .len = 0, .size = size };
}

static void
unit_bytes(int at, const struct net_out *out, const char *want)
{
	char	got[UNIT_OUTSIZE + 1];

	memcpy(got, out->buf, out->len);
	got[out->len] = '\0';
	if (out->len != strlen(want) || strcmp(got, want) != 0)
		unit_fail(at, "formatted bytes", got, want);
	if (out->full)
		unit_fail(at, "full set", "", "");
	if (out->len < out->size && out->buf[out->len] != '#')
		unit_fail(at, "wrote past its lines", "", "");
}

#define BYTES(out, want)	unit_bytes(__LINE__, (out), (want))

static void
unit_format(void)
{
	const struct dialect	*d = &dialect_ngircd;
	struct net_out		 o;

	o = unit_out(UNIT_OUTSIZE);
	d->hello(&o, &unit_self);
	BYTES(&o, "PASS linkpw1 0210-IRC+ chatd|0.1:\r\n"
	    "SERVER a.chatd.test 1 :chatd test\r\n");
	o = unit_out(UNIT_OUTSIZE);
	d->user(&o, &unit_self, "alice");
	BYTES(&o, ":a.chatd.test NICK alice 1 alice a.chatd.test 1 + :alice\r\n");
	o = unit_out(UNIT_OUTSIZE);
	d->join(&o, &unit_self, "alice", "lobby", 1);
	d->join(&o, &unit_self, "alice", "lobby", 0);
	BYTES(&o, ":a.chatd.test NJOIN #lobby :alice\r\n:alice JOIN #lobby\r\n");
	o = unit_out(UNIT_OUTSIZE);
	d->part(&o, "alice", "lobby");
	d->quit(&o, "alice", "reason");
	d->quit(&o, "alice", "");
	d->nick(&o, "old", "new");
	BYTES(&o, ":alice PART #lobby\r\n:alice QUIT :reason\r\n"
	    ":alice QUIT :\r\n:old NICK new\r\n");
	o = unit_out(UNIT_OUTSIZE);
	d->say(&o, "alice", "room", NULL, "text", 4, 0);
	d->say(&o, "alice", NULL, "carol", "text", 4, 0);
	d->say(&o, "alice", "room", NULL, "waves", 5, 1);
	d->say(&o, "alice", NULL, "carol", "hugs", 4, 1);
	d->say(&o, "alice", "room", NULL, "", 0, 0);
	d->say(&o, "alice", "room", NULL, "", 0, 1);
	BYTES(&o, ":alice PRIVMSG #room :text\r\n:alice PRIVMSG carol :text\r\n"
	    ":alice PRIVMSG #room :\x01" "ACTION waves\x01\r\n"
	    ":alice PRIVMSG carol :\x01" "ACTION hugs\x01\r\n");
	o = unit_out(UNIT_OUTSIZE);
	d->pong(&o, &unit_self, "hub.test");
	d->ping(&o, &unit_self);
	d->error(&o, &unit_self, "text");
	BYTES(&o, ":a.chatd.test PONG a.chatd.test :hub.test\r\n"
	    ":a.chatd.test PING :a.chatd.test\r\n"
	    ":a.chatd.test ERROR :text\r\n");
	/* No caller's byte ends a line or forges a CTCP. */
	o = unit_out(UNIT_OUTSIZE);
	d->say(&o, "alice", "room", NULL, "a\r\nb\0c\x01" "d", 8, 0);
	d->quit(&o, "alice", "x\r\nQUIT");
	BYTES(&o, ":alice PRIVMSG #room :a  b c d\r\n:alice QUIT :x  QUIT\r\n");
}

/* A buffer too small: nothing written, full set; full stays. */
static void
unit_full(void)
{
	const struct dialect	*d = &dialect_ngircd;
	struct net_out		 o;

	o = unit_out(20);
	d->part(&o, "alice", "lobby");	/* ":alice PART #lobby\r\n", 20 */
	UNIT_CHECK(o.len == 20 && !o.full);
	d->ping(&o, &unit_self);
	UNIT_CHECK(o.len == 20 && o.full);
	o = unit_out(19);
	d->part(&o, "alice", "lobby");
	UNIT_CHECK(o.len == 0 && o.full && unit_buf[0] == '#');
	o = unit_out(30);
	d->join(&o, &unit_self, "a", "b", 0);	/* ":a JOIN #b\r\n", 12 */
	d->part(&o, "a", "lobby-which-is-long");
	d->part(&o, "a", "b");
	UNIT_CHECK(o.len == 12 && o.full);
	o = unit_out(0);
	d->error(&o, &unit_self, "x");
	UNIT_CHECK(o.len == 0 && o.full);
}

/* Fills buf[0..n) with piece, again and again. */
static void
unit_fill(char *buf, size_t n, const char *piece)
{
	size_t	i, k = strlen(piece);

	for (i = 0; i < n; i++)
		buf[i] = piece[i % k];
}

/*
 * Checks the lines of a say: each a whole PRIVMSG of prefix, at most
 * DIALECT_LINE_MAX bytes relayed, none empty, none cut inside a UTF-8
 * character, together the text. Returns how many lines.
 */
static int
unit_say_lines(int at, const struct net_out *o, const char *head,
    const char *text, size_t n, size_t relayed_extra, int action)
{
	const char	*p = o->buf, *end = o->buf + o->len, *eol;
	size_t		 hl = strlen(head), done = 0, k, frame = action ? 9 : 0;
	int		 lines = 0;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL || eol[-1] != '\r' ||
		    strncmp(p, head, hl) != 0) {
			unit_fail(at, "a say line is no PRIVMSG line", "", "");
			return lines;
		}
		k = (size_t)(eol + 1 - p) - hl - 2 - frame;
		if (k == 0 || (size_t)(eol + 1 - p) + relayed_extra >
		    DIALECT_LINE_MAX)
			unit_fail(at, "a say line is empty or too long", "", "");
		if (action && (p[hl] != '\001' || eol[-2] != '\001'))
			unit_fail(at, "an action line is no CTCP", "", "");
		if (done + k > n || memcmp(p + hl + (action ? 8 : 0),
		    text + done, k) != 0)
			unit_fail(at, "say lines are not the text", "", "");
		if (done + k < n && ((unsigned char)text[done + k] & 0xc0U) ==
		    0x80)
			unit_fail(at, "a say line cut a character", "", "");
		done += k;
		lines++;
		p = eol + 1;
	}
	if (done != n)
		unit_fail(at, "say lines lost text", "", "");
	return lines;
}

static void
unit_split(void)
{
	const struct dialect	*d = &dialect_ngircd;
	static char		 text[1500];
	struct net_out		 o;
	size_t			 extra, budget;
	int			 lines;

	/*
	 * ":alice PRIVMSG #room :" is 22 bytes; ngircd relays it as
	 * ":alice!alice@SERVER PRIVMSG #room :", which with the longest
	 * server name is 1 + 5 + 1 + 1 + 5 + 1 + 63 bytes longer (the
	 * extra 1: a '~' ngircd may add to the user name) than ":alice".
	 */
	extra = 1 + 1 + 5 + 1 + 63;
	budget = DIALECT_LINE_MAX - 2 - 22 - extra;
	unit_fill(text, sizeof(text), "abcdefghij");
	o = unit_out(UNIT_OUTSIZE);
	d->say(&o, "alice", "room", NULL, text, budget, 0);
	lines = unit_say_lines(__LINE__, &o, ":alice PRIVMSG #room :", text,
	    budget, extra, 0);
	UNIT_CHECK(lines == 1);
	UNIT_CHECK(o.len == 22 + budget + 2);
	o = unit_out(UNIT_OUTSIZE);
	d->say(&o, "alice", "room", NULL, text, budget + 1, 0);
	lines = unit_say_lines(__LINE__, &o, ":alice PRIVMSG #room :", text,
	    budget + 1, extra, 0);
	UNIT_CHECK(lines == 2);
	UNIT_CHECK(memcmp(o.buf + 22 + budget + 2 + 22, text + budget, 1) == 0);
	o = unit_out(UNIT_OUTSIZE);
	d->say(&o, "alice", "room", NULL, text, sizeof(text), 0);
	lines = unit_say_lines(__LINE__, &o, ":alice PRIVMSG #room :", text,
	    sizeof(text), extra, 0);
	UNIT_CHECK(lines == 4);

	/* Two- and three-byte characters are never cut. */
	unit_fill(text, sizeof(text), "\xc3\xa9\xe2\x82\xac");
	o = unit_out(UNIT_OUTSIZE);
	d->say(&o, "alice", "room", NULL, text, 1495, 0);
	lines = unit_say_lines(__LINE__, &o, ":alice PRIVMSG #room :", text,
	    1495, extra, 0);
	UNIT_CHECK(lines == 4);
	o = unit_out(UNIT_OUTSIZE);
	d->say(&o, "bob", NULL, "carol", text, 1000, 1);
	lines = unit_say_lines(__LINE__, &o, ":bob PRIVMSG carol :", text,
	    1000, 1 + 1 + 3 + 1 + 63, 1);
	UNIT_CHECK(lines == 3);

	/* All the lines or none. */
	unit_fill(text, sizeof(text), "abcdefghij");
	o = unit_out(600);
	d->say(&o, "alice", "room", NULL, text, sizeof(text), 0);
	UNIT_CHECK(o.len == 0 && o.full);
	/* 34 bytes of PING, then 441 and 34: the second line does not fit. */
	o = unit_out(490);
	d->ping(&o, &unit_self);
	d->say(&o, "alice", "room", NULL, text, budget + 10, 0);
	UNIT_CHECK(o.len == strlen(":a.chatd.test PING :a.chatd.test\r\n") &&
	    o.full);
}

static void
unit_fold(void)
{
	char	buf[8];

	dialect_ngircd.fold(buf, sizeof(buf), "AbC[]\\~");
	UNIT_CHECK(strcmp(buf, "abc[]\\~") == 0);
	dialect_ngircd.fold(buf, sizeof(buf), "ABCDEFGHIJ");
	UNIT_CHECK(strcmp(buf, "abcdefg") == 0);
	dialect_ngircd.fold(buf, 1, "ABC");
	UNIT_CHECK(buf[0] == '\0');
	buf[0] = 'x';
	dialect_ngircd.fold(buf, 0, "ABC");
	UNIT_CHECK(buf[0] == 'x');
	dialect_ngircd.fold(buf, sizeof(buf), "\xc3\x89Z");
	UNIT_CHECK(strcmp(buf, "\xc3\x89z") == 0);
	UNIT_CHECK(strcmp(dialect_ngircd.name, "ngircd") == 0);
}

int
main(void)
{
	unit_burst();
	unit_servers();
	unit_order();
	unit_live();
	unit_messages();
	unit_strip();
	unit_nicks();
	unit_garbage();
	unit_format();
	unit_full();
	unit_split();
	unit_fold();
	if (unit_failures > 0) {
		printf("%d checks failed\n", unit_failures);
		return 1;
	}
	printf("all checks passed\n");
	return 0;
}
