/* SPDX-License-Identifier: ISC */
/*
 * A server-to-server dialect: how the link process (link.c) reads the
 * hub's lines and writes its own, kept apart from everything else so
 * that another protocol (InspIRCd's spanning tree) is one more table.
 * link.c knows events and names, never the syntax of a line. irc.c is
 * RFC 2813 as ngircd 26 speaks it.
 *
 * Parsing is pure and takes any bytes: a line is cut into at most
 * DIALECT_EVENTS events whose strings point into the line (changed in
 * place) or into static text. Formatting appends whole lines, CRLF
 * included, to a buffer, and never writes past its end.
 */
#ifndef CHATD_DIALECT_H
#define CHATD_DIALECT_H

#include <stddef.h>

#define DIALECT_LINE_MAX	512	/* bytes of one line, CRLF included */
/*
 * Events from one line at most: one per entry of a comma list (an
 * NJOIN's members, a JOIN's channels), and ngircd fills an NJOIN to
 * about 470 bytes, so a line of DIALECT_LINE_MAX holds fewer than this.
 */
#define DIALECT_EVENTS		256
#define NICK_MAX_LEN		31	/* remote nicks kept, characters */
#define SERVER_NAME_MAX		63	/* a server's name, characters */

enum net_type {
	NET_IGNORE,	/* nothing chatd needs (MODE, TOPIC, a numeric...) */
	NET_BAD,	/* a line that breaks the protocol: text says why */
	NET_PASS,	/* the hub's password: text */
	NET_SERVER,	/* a server: name, and via the server it is behind
			   (NULL: the hub itself, the first SERVER) */
	NET_SQUIT,	/* a server and everything behind it left: name */
	NET_USER,	/* a user introduced: nick, on server name */
	NET_NICK,	/* nick is now known as name */
	NET_JOIN,	/* nick joined channel; burst: it came in a burst */
	NET_PART,	/* nick left channel */
	NET_KICK,	/* name kicked nick from channel, text the reason */
	NET_QUIT,	/* nick quit, text the reason (quotes removed) */
	NET_KILL,	/* name killed nick, text the reason; collision set
			   when it was for a nick collision */
	NET_MSG,	/* nick said text to target (a channel or a nick) */
	NET_ACTION,	/* the same, as a CTCP ACTION */
	NET_PING,	/* answer with pong(text) */
	NET_BURST_END,	/* the hub's burst is over */
	NET_ERROR	/* the hub says it closes: text */
};

struct net_event {
	enum net_type	 type;
	const char	*nick;
	const char	*name;
	const char	*via;
	const char	*channel;	/* as sent, with its '#' */
	const char	*target;
	const char	*text;
	size_t		 len;	/* of text */
	int		 burst;
	int		 collision;
};

/* Who we are on the network. */
struct net_self {
	const char	*name;		/* --server-name */
	const char	*info;		/* its description */
	const char	*password;	/* line 1 of --link-password-file */
	const char	*version;	/* PACKAGE_VERSION */
};

/* One outgoing buffer; a formatter that does not fit sets full. */
struct net_out {
	char	*buf;
	size_t	 len;
	size_t	 size;
	int	 full;
};

/*
 * What a dialect remembers between lines of one connection: it is
 * zeroed when the connection starts. The servers are those the hub
 * introduced, by the token it gave them (RFC 2813 NICK names its
 * server by token).
 */
#define NET_SERVERS_MAX	64
struct net_parser {
	int	got_pass;
	int	got_server;
	int	burst_over;
	int	nservers;
	struct {
		long	token;
		char	name[SERVER_NAME_MAX + 1];
	}	servers[NET_SERVERS_MAX];
};

struct dialect {
	const char	*name;
	/*
	 * Cuts one line (CRLF removed, not NUL-ended: len bytes; it is
	 * changed in place and must have one spare byte) into events;
	 * returns how many (0 to DIALECT_EVENTS).
	 */
	int	(*parse)(struct net_parser *, char *, size_t,
		    struct net_event *);
	/* The handshake: our password and our server. */
	void	(*hello)(struct net_out *, const struct net_self *);
	/* A local user, introduced (in a burst or on registration). */
	void	(*user)(struct net_out *, const struct net_self *,
		    const char *);
	/* A local user joins or leaves a room (no '#'); burst: NJOIN. */
	void	(*join)(struct net_out *, const struct net_self *,
		    const char *, const char *, int);
	void	(*part)(struct net_out *, const char *, const char *);
	void	(*quit)(struct net_out *, const char *, const char *);
	void	(*nick)(struct net_out *, const char *, const char *);
	/*
	 * A line from a local user to a room (room set, no '#') or to a
	 * nick; action: a /me. Long text goes out as several lines, cut
	 * between UTF-8 characters.
	 */
	void	(*say)(struct net_out *, const char *, const char *,
		    const char *, const char *, size_t, int);
	void	(*pong)(struct net_out *, const struct net_self *,
		    const char *);
	void	(*ping)(struct net_out *, const struct net_self *);
	/* We close the link: text the reason. */
	void	(*error)(struct net_out *, const struct net_self *,
		    const char *);
	/* Folds a nick for comparison (the network's case mapping). */
	void	(*fold)(char *, size_t, const char *);
};

extern const struct dialect dialect_ngircd;

#endif
