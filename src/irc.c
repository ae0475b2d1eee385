/* SPDX-License-Identifier: ISC */
/*
 * The ngircd dialect (dialect.h): RFC 2813 as ngircd 26 speaks it to a
 * leaf server. The parser cuts the hub's lines into events; the
 * formatters write chatd's side. Both are pure: no sockets, no
 * segment, no logging, so fuzz/irc.c drives them directly.
 *
 * What ngircd does that RFC 2813 leaves open, checked against its
 * source (src/ngircd/irc-*.c of release 26.1):
 *  - every command between servers carries a prefix; a user's is the
 *    bare nick, a server's its name (which holds a dot, a nick never);
 *  - its burst is PASS, SERVER, the servers behind it (SERVER NAME
 *    HOPS TOKEN :INFO), a 7-parameter NICK per user naming the user's
 *    server by the token the hub gave it (1: the hub itself), NJOIN
 *    per channel with the members' mode prefixes, then a PING, which
 *    marks the burst's end;
 *  - a JOIN that carries channel modes appends them after a BEL byte;
 *  - a client's QUIT reason is put in double quotes;
 *  - a nick collision KILLs both nicks with the reason "Nick
 *    collision", sent by a server; an operator's KILL has the reason
 *    "KILLed by NICK: TEXT" or the operator's text.
 * Message text loses mIRC's formatting codes here; chatd's text hygiene
 * follows in the caller.
 */
#include <stdint.h>
#include <string.h>

#include "dialect.h"

#define IRC_PARAMS	15	/* parameters of one message (RFC 2812) */
#define IRC_CONTENT	(DIALECT_LINE_MAX - 2)	/* a line without CRLF */
#define IRC_HUB_TOKEN	1L	/* the token the hub gives itself */
#define IRC_TOKEN_DIGITS 9	/* digits of a server token at most */
#define IRC_COLLISION	"Nick collision"	/* ngircd's KILL reason */

/* One message of the hub, cut in place. */
struct irc_msg {
	char	*prefix;	/* the sender, cut at '!'; NULL: none */
	char	*cmd;
	int	 argc;
	char	*argv[IRC_PARAMS];
};

/* The events of the line being parsed. */
struct irc_evs {
	struct net_event	*ev;
	int			 n;
	int			 overflow;	/* some did not fit */
	const char		*cmd;
};

typedef void	irc_handler(struct net_parser *, struct irc_msg *,
		    struct irc_evs *);

/* How a command must arrive (irc_cmds). */
enum irc_from {
	IRC_ANYONE,	/* with or without a prefix */
	IRC_PREFIX,	/* a prefix, a server's or a user's */
	IRC_USER	/* a prefix that is a valid nick */
};

struct irc_cmd {
	const char	*name;
	int		 min;		/* parameters at least */
	enum irc_from	 from;
	int		 early;		/* may come before the hub's SERVER */
	irc_handler	*fn;
};

static irc_handler irc_pass, irc_server, irc_nick, irc_njoin, irc_join,
    irc_part, irc_kick, irc_quit, irc_kill, irc_privmsg, irc_ping,
    irc_error, irc_squit;

/*
 * The commands chatd needs; everything else (numerics, NOTICE, MODE,
 * TOPIC, CHANINFO, METADATA, SERVICE, ...) is ignored.
 */
static const struct irc_cmd irc_cmds[] = {
	{ "PASS",	1, IRC_ANYONE, 1, irc_pass },
	{ "SERVER",	2, IRC_ANYONE, 1, irc_server },
	{ "NICK",	1, IRC_PREFIX, 0, irc_nick },
	{ "NJOIN",	2, IRC_PREFIX, 0, irc_njoin },
	{ "JOIN",	1, IRC_USER, 0, irc_join },
	{ "PART",	1, IRC_USER, 0, irc_part },
	{ "KICK",	2, IRC_PREFIX, 0, irc_kick },
	{ "QUIT",	0, IRC_USER, 0, irc_quit },
	{ "KILL",	1, IRC_PREFIX, 0, irc_kill },
	{ "PRIVMSG",	2, IRC_PREFIX, 0, irc_privmsg },
	{ "PING",	1, IRC_ANYONE, 1, irc_ping },
	{ "ERROR",	0, IRC_ANYONE, 1, irc_error },
	{ "SQUIT",	1, IRC_PREFIX, 0, irc_squit }
};

static int
irc_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Compares two strings in ASCII case folding: 0 when equal. */
static int
irc_casecmp(const char *a, const char *b)
{
	while (*a != '\0' && irc_lower((unsigned char)*a) ==
	    irc_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return irc_lower((unsigned char)*a) - irc_lower((unsigned char)*b);
}

static int
irc_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int
irc_isxdigit(int c)
{
	return irc_isdigit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* A nick's first character: a letter or one of []\`_^{|}. */
static int
irc_nick_first(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c != '\0' && strchr("[]\\`_^{|}", c) != NULL);
}

/* Why s is no nick chatd keeps; NULL when it is one. */
static const char *
irc_nick_bad(const char *s)
{
	size_t	i;

	if (!irc_nick_first((unsigned char)s[0]))
		return "bad nick";
	for (i = 1; s[i] != '\0'; i++)
		if (!irc_nick_first((unsigned char)s[i]) &&
		    !irc_isdigit((unsigned char)s[i]) && s[i] != '-')
			return "bad nick";
	return i > NICK_MAX_LEN ? "nick too long" : NULL;
}

/* A server's name: 1..SERVER_NAME_MAX of [A-Za-z0-9._-], a dot among them. */
static int
irc_server_ok(const char *s)
{
	size_t	i;
	int	c;

	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (!irc_isdigit(c) && !(c >= 'A' && c <= 'Z') &&
		    !(c >= 'a' && c <= 'z') && c != '.' && c != '-' &&
		    c != '_')
			return 0;
	}
	return i >= 1 && i <= SERVER_NAME_MAX && strchr(s, '.') != NULL;
}

/* A channel's name: not empty, no comma, space or control byte. */
static int
irc_chan_ok(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == ',')
			return 0;
	return i > 0;
}

/* A server's token: decimal, positive. -1 if s is none. */
static long
irc_token(const char *s)
{
	long	t = 0;
	size_t	i;

	for (i = 0; irc_isdigit((unsigned char)s[i]); i++) {
		if (i == IRC_TOKEN_DIGITS)
			return -1;
		t = t * 10 + (s[i] - '0');
	}
	return i == 0 || s[i] != '\0' || t == 0 ? -1 : t;
}

/*
 * The servers the hub introduced, by token. A server introduced again
 * replaces what was known under its name or its token.
 */
static void
irc_servers_del(struct net_parser *p, long token, const char *name)
{
	int	i;

	for (i = 0; i < p->nservers; ) {
		if (p->servers[i].token == token ||
		    irc_casecmp(p->servers[i].name, name) == 0)
			p->servers[i] = p->servers[--p->nservers];
		else
			i++;
	}
}

static int
irc_servers_add(struct net_parser *p, long token, const char *name)
{
	irc_servers_del(p, token, name);
	if (p->nservers >= NET_SERVERS_MAX)
		return 0;
	p->servers[p->nservers].token = token;
	/* irc_server_ok() bounded the name. */
	memcpy(p->servers[p->nservers].name, name, strlen(name) + 1);
	p->nservers++;
	return 1;
}

static const char *
irc_servers_find(const struct net_parser *p, long token)
{
	int	i;

	for (i = 0; i < p->nservers; i++)
		if (p->servers[i].token == token)
			return p->servers[i].name;
	return NULL;
}

/* How many digits of s[i..n) there are, up to max. */
static size_t
irc_digits(const char *s, size_t i, size_t n, size_t max, int hex)
{
	size_t	k;

	for (k = 0; k < max && i + k < n; k++)
		if (!(hex ? irc_isxdigit((unsigned char)s[i + k]) :
		    irc_isdigit((unsigned char)s[i + k])))
			break;
	return k;
}

/* Past a colour code's arguments at s[i]: "F", "FF", "F,B", "FF,BB". */
static size_t
irc_skip_colour(const char *s, size_t i, size_t n)
{
	size_t	k;

	if ((k = irc_digits(s, i, n, 2, 0)) == 0)
		return i;
	i += k;
	if (i < n && s[i] == ',' && (k = irc_digits(s, i + 1, n, 2, 0)) > 0)
		i += 1 + k;
	return i;
}

/* Past a hex colour code's arguments at s[i]: "RRGGBB[,RRGGBB]". */
static size_t
irc_skip_hex(const char *s, size_t i, size_t n)
{
	if (irc_digits(s, i, n, 6, 1) < 6)
		return i;
	i += 6;
	if (i < n && s[i] == ',' && irc_digits(s, i + 1, n, 6, 1) == 6)
		i += 7;
	return i;
}

/* Removes mIRC's formatting codes from s[0..n) in place; the new length. */
static size_t
irc_strip(char *s, size_t n)
{
	size_t	i = 0, o = 0;

	while (i < n) {
		switch ((unsigned char)s[i]) {
		case 0x03:	/* colour */
			i = irc_skip_colour(s, i + 1, n);
			break;
		case 0x04:	/* hex colour */
			i = irc_skip_hex(s, i + 1, n);
			break;
		case 0x02: case 0x0f: case 0x11: case 0x16: case 0x1d:
		case 0x1e: case 0x1f:
			i++;
			break;
		default:
			s[o++] = s[i++];
		}
	}
	s[o] = '\0';
	return o;
}

/* The next event of the line, zeroed; NULL when DIALECT_EVENTS are used. */
static struct net_event *
irc_ev(struct irc_evs *e, enum net_type type)
{
	struct net_event	*ev;

	if (e->n >= DIALECT_EVENTS) {
		e->overflow = 1;
		return NULL;
	}
	ev = &e->ev[e->n++];
	*ev = (struct net_event){ .type = type };
	return ev;
}

static void
irc_bad(struct irc_evs *e, const char *why)
{
	struct net_event	*ev;

	if ((ev = irc_ev(e, NET_BAD)) != NULL) {
		ev->name = e->cmd;
		ev->text = why;
		ev->len = strlen(why);
	}
}

static void
irc_text(struct net_event *ev, const char *text)
{
	ev->text = text;
	ev->len = strlen(text);
}

/*
 * The next entry of a comma list at *list, NUL-ended in place; NULL at
 * the list's end. Empty entries are skipped.
 */
static char *
irc_next(char **list)
{
	char	*s = *list, *end;

	while (*s == ',')
		s++;
	if (*s == '\0')
		return NULL;
	end = s + strcspn(s, ",");
	*list = end;
	if (*end != '\0') {
		*end = '\0';
		*list = end + 1;
	}
	return s;
}

/* An optional parameter's text, its formatting removed; "" if absent. */
static const char *
irc_reason(struct irc_msg *m, int i)
{
	if (i >= m->argc)
		return "";
	irc_strip(m->argv[i], strlen(m->argv[i]));
	return m->argv[i];
}

static void
irc_pass(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;

	if (p->got_pass) {
		irc_bad(e, "PASS again");
		return;
	}
	p->got_pass = 1;
	if ((ev = irc_ev(e, NET_PASS)) != NULL)
		irc_text(ev, m->argv[0]);
}

/*
 * The first SERVER is the hub's own (NAME HOPS [TOKEN] :INFO); the
 * others are servers behind it, introduced by the prefix.
 */
static void
irc_server(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	long			 token = IRC_HUB_TOKEN;

	if (!p->got_pass) {
		irc_bad(e, "SERVER before PASS");
		return;
	}
	if (p->got_server) {
		if (m->argc < 4) {
			irc_bad(e, "missing parameters");
			return;
		}
		if (m->prefix == NULL) {
			irc_bad(e, "prefix missing");
			return;
		}
		if ((token = irc_token(m->argv[2])) < 0) {
			irc_bad(e, "bad server token");
			return;
		}
	}
	if (!irc_server_ok(m->argv[0])) {
		irc_bad(e, "bad server name");
		return;
	}
	if (!irc_servers_add(p, token, m->argv[0])) {
		irc_bad(e, "too many servers");
		return;
	}
	if ((ev = irc_ev(e, NET_SERVER)) != NULL) {
		ev->name = m->argv[0];
		ev->via = p->got_server ? m->prefix : NULL;
	}
	p->got_server = 1;
}

/* NICK NEW from a user: a change; NICK with 7 parameters: a new user. */
static void
irc_nick(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	const char		*why, *server;

	if (m->argc == 1) {
		if ((why = irc_nick_bad(m->prefix)) == NULL)
			why = irc_nick_bad(m->argv[0]);
		if (why != NULL) {
			irc_bad(e, why);
		} else if ((ev = irc_ev(e, NET_NICK)) != NULL) {
			ev->nick = m->prefix;
			ev->name = m->argv[0];
		}
		return;
	}
	if (m->argc < 7) {
		irc_bad(e, "missing parameters");
		return;
	}
	if ((why = irc_nick_bad(m->argv[0])) != NULL) {
		irc_bad(e, why);
		return;
	}
	server = irc_servers_find(p, irc_token(m->argv[4]));
	if (server == NULL) {
		irc_bad(e, "unknown server token");
		return;
	}
	if ((ev = irc_ev(e, NET_USER)) != NULL) {
		ev->nick = m->argv[0];
		ev->name = server;
	}
}

/* NJOIN #CHANNEL :@nick,+nick,...: members in a burst. */
static void
irc_njoin(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	char			*list = m->argv[1], *nick;
	const char		*why;

	(void)p;
	if (!irc_chan_ok(m->argv[0])) {
		irc_bad(e, "bad channel");
		return;
	}
	while ((nick = irc_next(&list)) != NULL) {
		nick += strspn(nick, "@+%&~");
		if ((why = irc_nick_bad(nick)) != NULL) {
			irc_bad(e, why);
		} else if ((ev = irc_ev(e, NET_JOIN)) != NULL) {
			ev->nick = nick;
			ev->channel = m->argv[0];
			ev->burst = 1;
		}
	}
}

/* JOIN #a,#b\aov: each channel, the modes after BEL cut off. */
static void
irc_join(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	char			*list = m->argv[0], *chan;

	(void)p;
	while ((chan = irc_next(&list)) != NULL) {
		chan[strcspn(chan, "\a")] = '\0';
		if (chan[0] == '\0')
			continue;
		if (!irc_chan_ok(chan))
			irc_bad(e, "bad channel");
		else if ((ev = irc_ev(e, NET_JOIN)) != NULL) {
			ev->nick = m->prefix;
			ev->channel = chan;
		}
	}
}

static void
irc_part(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	char			*list = m->argv[0], *chan;
	const char		*why = irc_reason(m, 1);

	(void)p;
	while ((chan = irc_next(&list)) != NULL) {
		if (!irc_chan_ok(chan))
			irc_bad(e, "bad channel");
		else if ((ev = irc_ev(e, NET_PART)) != NULL) {
			ev->nick = m->prefix;
			ev->channel = chan;
			irc_text(ev, why);
		}
	}
}

/*
 * KICK #c nick1,nick2 :why kicks each from the one channel; KICK
 * #a,#b n1,n2 pairs them (RFC 2812 3.2.8).
 */
static void
irc_kick(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	char			*chans = m->argv[0], *nicks = m->argv[1];
	char			*chan, *nick;
	const char		*why, *reason = irc_reason(m, 2);
	int			 one = strchr(chans, ',') == NULL;

	(void)p;
	chan = irc_next(&chans);
	while (chan != NULL && (nick = irc_next(&nicks)) != NULL) {
		if ((why = irc_nick_bad(nick)) != NULL) {
			irc_bad(e, why);
		} else if (!irc_chan_ok(chan)) {
			irc_bad(e, "bad channel");
		} else if ((ev = irc_ev(e, NET_KICK)) != NULL) {
			ev->name = m->prefix;
			ev->channel = chan;
			ev->nick = nick;
			irc_text(ev, reason);
		}
		if (!one)
			chan = irc_next(&chans);
	}
}

/* QUIT :"why": ngircd quotes a client's reason; one pair goes. */
static void
irc_quit(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	char			*why;
	size_t			 n;

	(void)p;
	if ((ev = irc_ev(e, NET_QUIT)) == NULL)
		return;
	ev->nick = m->prefix;
	if (m->argc > 0) {
		why = m->argv[0];
		n = strlen(why);
		if (n >= 2 && why[0] == '"' && why[n - 1] == '"') {
			why[n - 1] = '\0';
			m->argv[0] = why + 1;
		}
	}
	irc_text(ev, irc_reason(m, 0));
}

/*
 * An operator's KILL reaches other servers as "KILLed by NICK: TEXT";
 * the reason is TEXT, as the operator typed it.
 */
static const char *
irc_kill_reason(const char *why, const char *by)
{
	size_t	n = strlen(by);

	if (strncmp(why, "KILLed by ", 10) == 0 &&
	    strncmp(why + 10, by, n) == 0 && strncmp(why + 10 + n, ": ", 2) == 0)
		return why + 12 + n;
	return why;
}

/* A KILL from a server with ngircd's reason is a nick collision. */
static void
irc_kill(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	const char		*why;
	int			 collision;

	(void)p;
	if ((why = irc_nick_bad(m->argv[0])) != NULL) {
		irc_bad(e, why);
		return;
	}
	collision = strchr(m->prefix, '.') != NULL && m->argc > 1 &&
	    strcmp(m->argv[1], IRC_COLLISION) == 0;
	if ((ev = irc_ev(e, NET_KILL)) != NULL) {
		ev->name = m->prefix;
		ev->nick = m->argv[0];
		ev->collision = collision;
		irc_text(ev, irc_kill_reason(irc_reason(m, 1), m->prefix));
	}
}

/*
 * A CTCP request: ACTION is a /me, and its text what follows; any other
 * is ignored (NET_IGNORE). The closing \1 is optional.
 */
static enum net_type
irc_ctcp(char **text)
{
	char	*s = *text;
	size_t	 n;

	if (s[0] != '\001')
		return NET_MSG;
	s++;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '\001')
		s[--n] = '\0';
	if (strncmp(s, "ACTION", 6) != 0 || (s[6] != ' ' && s[6] != '\0'))
		return NET_IGNORE;
	*text = s[6] == ' ' ? s + 7 : s + 6;
	return NET_ACTION;
}

/*
 * PRIVMSG a,b :text from a user, to each target but server and host
 * masks ($mask, #mask.with.dots). A server's PRIVMSG, another CTCP and
 * text that is empty once its formatting is gone are ignored.
 */
static void
irc_privmsg(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;
	enum net_type		 type;
	char			*list = m->argv[0], *target, *text = m->argv[1];
	const char		*why;
	size_t			 n;

	(void)p;
	if (strchr(m->prefix, '.') != NULL)
		return;
	if ((why = irc_nick_bad(m->prefix)) != NULL) {
		irc_bad(e, why);
		return;
	}
	if ((type = irc_ctcp(&text)) == NET_IGNORE)
		return;
	if ((n = irc_strip(text, strlen(text))) == 0)
		return;
	while ((target = irc_next(&list)) != NULL) {
		if (target[0] == '$' || (target[0] == '#' &&
		    strchr(target, '.') != NULL))
			continue;
		if ((ev = irc_ev(e, type)) != NULL) {
			ev->nick = m->prefix;
			ev->target = target;
			ev->text = text;
			ev->len = n;
		}
	}
}

/* The first PING after the hub's SERVER ends its burst. */
static void
irc_ping(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;

	if (p->got_server && !p->burst_over) {
		p->burst_over = 1;
		(void)irc_ev(e, NET_BURST_END);
	}
	if ((ev = irc_ev(e, NET_PING)) != NULL)
		irc_text(ev, m->argv[0]);
}

static void
irc_error(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;

	(void)p;
	if ((ev = irc_ev(e, NET_ERROR)) != NULL)
		irc_text(ev, m->argc > 0 ? m->argv[0] : "");
}

static void
irc_squit(struct net_parser *p, struct irc_msg *m, struct irc_evs *e)
{
	struct net_event	*ev;

	irc_servers_del(p, -1, m->argv[0]);
	if ((ev = irc_ev(e, NET_SQUIT)) != NULL) {
		ev->name = m->argv[0];
		irc_text(ev, irc_reason(m, 1));
	}
}

/*
 * Cuts a NUL-ended line into prefix, command and parameters in place:
 * spaces separate them (runs of them too), a parameter starting with
 * ':' or the fifteenth takes the rest of the line. NULL, or why the
 * line is no message.
 */
static const char *
irc_split(char *s, struct irc_msg *m)
{
	*m = (struct irc_msg){ .prefix = NULL };
	s += strspn(s, " ");
	if (*s == ':') {
		m->prefix = ++s;
		s += strcspn(s, " ");
		if (*s != '\0')
			*s++ = '\0';
		m->prefix[strcspn(m->prefix, "!@")] = '\0';
		if (m->prefix[0] == '\0')
			return "empty prefix";
		s += strspn(s, " ");
	}
	if (*s == '\0')
		return "no command";
	m->cmd = s;
	s += strcspn(s, " ");
	while (*s != '\0') {
		*s++ = '\0';
		s += strspn(s, " ");
		if (*s == '\0')
			break;
		if (*s == ':' || m->argc == IRC_PARAMS - 1) {
			m->argv[m->argc++] = *s == ':' ? s + 1 : s;
			break;
		}
		m->argv[m->argc++] = s;
		s += strcspn(s, " ");
	}
	return NULL;
}

static const struct irc_cmd *
irc_cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(irc_cmds) / sizeof(irc_cmds[0]); i++)
		if (irc_casecmp(irc_cmds[i].name, name) == 0)
			return &irc_cmds[i];
	return NULL;
}

/* Why a known command may not be handled as it came; NULL if it may. */
static const char *
irc_refuse(const struct net_parser *p, const struct irc_cmd *c,
    const struct irc_msg *m)
{
	if (!c->early && !p->got_server)
		return "before the hub's SERVER";
	if (m->argc < c->min)
		return "missing parameters";
	if (c->from != IRC_ANYONE && m->prefix == NULL)
		return "prefix missing";
	/* A server sends PRIVMSG too: irc_privmsg() ignores it. */
	if (c->from == IRC_USER)
		return irc_nick_bad(m->prefix);
	return NULL;
}

static int
irc_parse(struct net_parser *p, char *line, size_t len,
    struct net_event *ev)
{
	struct irc_evs		 e = { .ev = ev, .n = 0 };
	struct irc_msg		 m;
	const struct irc_cmd	*c;
	const char		*why;

	line[len] = '\0';
	if (memchr(line, '\0', len) != NULL) {
		irc_bad(&e, "NUL byte in the line");
		return e.n;
	}
	if ((why = irc_split(line, &m)) != NULL) {
		irc_bad(&e, why);
		return e.n;
	}
	e.cmd = m.cmd;
	if ((c = irc_cmd_find(m.cmd)) == NULL) {
		(void)irc_ev(&e, NET_IGNORE);
		return e.n;
	}
	if ((why = irc_refuse(p, c, &m)) != NULL)
		irc_bad(&e, why);
	else
		c->fn(p, &m, &e);
	if (e.overflow) {
		e.n = DIALECT_EVENTS - 1;
		irc_bad(&e, "too many entries in one line");
	}
	if (e.n == 0)
		(void)irc_ev(&e, NET_IGNORE);
	return e.n;
}

/*
 * Formatting. A line is built in a buffer of DIALECT_LINE_MAX: what
 * does not fit is cut between UTF-8 characters, and CR, LF, NUL and
 * \1 become spaces, so no caller's text can end a line early or forge
 * a CTCP. Then it goes into the net_out whole, or not at all.
 */
struct irc_line {
	char	buf[DIALECT_LINE_MAX];
	size_t	len;
};

static void
irc_put(struct irc_line *l, const char *s, size_t n)
{
	size_t	i;
	char	c;

	if (n > IRC_CONTENT - l->len) {
		n = IRC_CONTENT - l->len;
		while (n > 0 && ((unsigned char)s[n] & 0xc0U) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '\r' || c == '\n' || c == '\0' || c == '\001')
			c = ' ';
		l->buf[l->len++] = c;
	}
}

static void
irc_puts(struct irc_line *l, const char *s)
{
	if (s != NULL)
		irc_put(l, s, strlen(s));
}

/* A byte of the protocol itself (the \1 of a CTCP). */
static void
irc_putc(struct irc_line *l, char c)
{
	if (l->len < IRC_CONTENT)
		l->buf[l->len++] = c;
}

/* Appends the line with its CRLF, or sets full; 0 if it did not fit. */
static int
irc_send(struct net_out *out, struct irc_line *l)
{
	l->buf[l->len++] = '\r';
	l->buf[l->len++] = '\n';
	if (out->full || out->len > out->size ||
	    out->size - out->len < l->len) {
		out->full = 1;
		return 0;
	}
	memcpy(out->buf + out->len, l->buf, l->len);
	out->len += l->len;
	return 1;
}

/* Starts a line with our server's prefix: ":NAME CMD". */
static void
irc_begin(struct irc_line *l, const char *from, const char *cmd)
{
	l->len = 0;
	if (from != NULL) {
		irc_putc(l, ':');
		irc_puts(l, from);
		irc_putc(l, ' ');
	}
	irc_puts(l, cmd);
}

static void
irc_hello(struct net_out *out, const struct net_self *self)
{
	struct irc_line	l;

	irc_begin(&l, NULL, "PASS ");
	irc_puts(&l, self->password);
	irc_puts(&l, " 0210-IRC+ chatd|");
	irc_puts(&l, self->version);
	irc_putc(&l, ':');
	irc_send(out, &l);
	irc_begin(&l, NULL, "SERVER ");
	irc_puts(&l, self->name);
	irc_puts(&l, " 1 :");
	irc_puts(&l, self->info);
	irc_send(out, &l);
}

/* NICK nick hops user host token modes :info, the user being the nick. */
static void
irc_user(struct net_out *out, const struct net_self *self, const char *nick)
{
	struct irc_line	l;

	irc_begin(&l, self->name, "NICK ");
	irc_puts(&l, nick);
	irc_puts(&l, " 1 ");
	irc_puts(&l, nick);
	irc_putc(&l, ' ');
	irc_puts(&l, self->name);
	irc_puts(&l, " 1 + :");
	irc_puts(&l, nick);
	irc_send(out, &l);
}

static void
irc_join_out(struct net_out *out, const struct net_self *self,
    const char *nick, const char *room, int burst)
{
	struct irc_line	l;

	if (burst) {
		irc_begin(&l, self->name, "NJOIN #");
		irc_puts(&l, room);
		irc_puts(&l, " :");
		irc_puts(&l, nick);
	} else {
		irc_begin(&l, nick, "JOIN #");
		irc_puts(&l, room);
	}
	irc_send(out, &l);
}

static void
irc_part_out(struct net_out *out, const char *nick, const char *room)
{
	struct irc_line	l;

	irc_begin(&l, nick, "PART #");
	irc_puts(&l, room);
	irc_send(out, &l);
}

static void
irc_quit_out(struct net_out *out, const char *nick, const char *reason)
{
	struct irc_line	l;

	irc_begin(&l, nick, "QUIT :");
	irc_puts(&l, reason);
	irc_send(out, &l);
}

static void
irc_nick_out(struct net_out *out, const char *old, const char *new)
{
	struct irc_line	l;

	irc_begin(&l, old, "NICK ");
	irc_puts(&l, new);
	irc_send(out, &l);
}

/*
 * How many bytes of text one PRIVMSG carries: the line ngircd relays
 * to its clients, ":NICK!~NICK@SERVER PRIVMSG TARGET :TEXT", must fit
 * in DIALECT_LINE_MAX, whatever our server's name (SERVER_NAME_MAX).
 * 0 if not even that fits.
 */
static size_t
irc_say_room(const char *nick, const char *room, const char *target,
    int action)
{
	size_t	used;

	used = 1 + 2 * strlen(nick) + 3 + SERVER_NAME_MAX +
	    strlen(" PRIVMSG ") + (room != NULL ? 1 + strlen(room) :
	    strlen(target)) + strlen(" :") +
	    (action ? strlen("\001ACTION \001") : 0);
	return used + 4 > IRC_CONTENT ? 0 : IRC_CONTENT - used;
}

/* How much of text[0..n) goes into one line of room bytes. */
static size_t
irc_say_cut(const char *text, size_t n, size_t room)
{
	size_t	k;

	if (n <= room)
		return n;
	for (k = room; k > 0 && ((unsigned char)text[k] & 0xc0U) == 0x80; k--)
		;
	return k > 0 ? k : room;
}

/*
 * PRIVMSG #ROOM or PRIVMSG NICK, in as many lines as the text needs,
 * all of them or, when they do not fit, none (and full set).
 */
static void
irc_say(struct net_out *out, const char *nick, const char *room,
    const char *target, const char *text, size_t len, int action)
{
	struct irc_line	l;
	size_t		room_bytes, k, start = out->len;

	if (len == 0)
		return;
	if ((room_bytes = irc_say_room(nick, room, target, action)) == 0) {
		out->full = 1;
		return;
	}
	while (len > 0) {
		k = irc_say_cut(text, len, room_bytes);
		irc_begin(&l, nick, "PRIVMSG ");
		if (room != NULL) {
			irc_putc(&l, '#');
			irc_puts(&l, room);
		} else
			irc_puts(&l, target);
		irc_puts(&l, " :");
		if (action) {
			irc_putc(&l, '\001');
			irc_puts(&l, "ACTION ");
		}
		irc_put(&l, text, k);
		if (action)
			irc_putc(&l, '\001');
		if (!irc_send(out, &l)) {
			out->len = start;
			return;
		}
		text += k;
		len -= k;
	}
}

static void
irc_pong(struct net_out *out, const struct net_self *self,
    const char *token)
{
	struct irc_line	l;

	irc_begin(&l, self->name, "PONG ");
	irc_puts(&l, self->name);
	irc_puts(&l, " :");
	irc_puts(&l, token);
	irc_send(out, &l);
}

static void
irc_ping_out(struct net_out *out, const struct net_self *self)
{
	struct irc_line	l;

	irc_begin(&l, self->name, "PING :");
	irc_puts(&l, self->name);
	irc_send(out, &l);
}

static void
irc_error_out(struct net_out *out, const struct net_self *self,
    const char *text)
{
	struct irc_line	l;

	irc_begin(&l, self->name, "ERROR :");
	irc_puts(&l, text);
	irc_send(out, &l);
}

/* ngircd's CASEMAPPING=ascii: A-Z folds to a-z, nothing else. */
static void
irc_fold(char *dst, size_t size, const char *src)
{
	size_t	i;

	if (size == 0)
		return;
	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (char)irc_lower((unsigned char)src[i]);
	dst[i] = '\0';
}

const struct dialect dialect_ngircd = {
	.name = "ngircd",
	.parse = irc_parse,
	.hello = irc_hello,
	.user = irc_user,
	.join = irc_join_out,
	.part = irc_part_out,
	.quit = irc_quit_out,
	.nick = irc_nick_out,
	.say = irc_say,
	.pong = irc_pong,
	.ping = irc_ping_out,
	.error = irc_error_out,
	.fold = irc_fold
};
