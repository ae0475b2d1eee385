/* SPDX-License-Identifier: ISC */
/*
 * worker.c: one client's process, in standalone and inetd mode alike.
 * It reads the client's lines, runs its commands, appends to the log and
 * wakes the recipients; when woken, it copies the log records meant for
 * its client into the output backlog and writes them out. The socket is
 * fd 0 for reading and fd 1 for writing.
 */
#ifndef CHATD_WORKER_H
#define CHATD_WORKER_H

#include <stdint.h>
#include <time.h>

#include "hub.h"
#include "notify.h"
#include "outbuf.h"
#include "proxy.h"
#include "ratelimit.h"
#include "text.h"

struct config;

#define IN_FD	0	/* the client, also under inetd */
#define OUT_FD	1

struct worker {
	struct hub		*hub;
	struct config		*cf;	/* our own copy: live is refreshed */
	uint32_t		 livegen;	/* of the settings in cf->live */
	struct notifier		 nt;
	struct linebuf		 lb;
	struct outbuf		 out;
	unsigned char		*clean;	/* a cleaned line, 3 * max-line bytes */
	char			*text;	/* a record's text, RECORD_TEXT_MAX */
	char			*reply;	/* a reply line, RECORD_TEXT_MAX */
	int			 slot;
	uint32_t		 gen;
	int			 rfd;	/* our wake-up FIFO */
	int			 wfd;
	uint64_t		 pos;	/* next log position to read */
	int			 registered;
	int			 named;	/* a line came at the name prompt */
	uint32_t		 room;
	char			 name[NAME_MAX_LEN + 1];
	char			 addr[ADDR_MAX_LEN + 1];
	time_t			 connected;
	int64_t			 connected_ms;	/* monotonic, for the deadline */
	uint64_t		 nsent;	/* chat lines, /me and direct messages */
	uint64_t		 woken;	/* wake-ups received */
	uint64_t		 lines;	/* log records copied for the client */
	struct bucket		 bucket;	/* rate limit */
	int			 kicked;	/* a kick record came for us */
	int64_t			 held_until;	/* input held back, see worker_hold */
	const char		*held_reply;	/* said when it is let go */
	int			 sniffing;	/* a PROXY header would be refused */
	size_t			 nsniff;	/* first bytes held back meanwhile */
	int64_t			 sniff_until;	/* let go then, now_ms() */
	unsigned char		 sniff[PROXY_SIG_LEN];
	size_t			 inoff;	/* next byte of inbuf to handle */
	size_t			 inlen;
	unsigned char		 inbuf[WORKER_READ];	/* read from the client */
};

void	worker_main(struct hub *, struct config *)
	    __attribute__((noreturn));
void	worker_proxy(const struct config *, struct hub *);

/* client.c */
extern int worker_self_wake;
void	worker_reply(struct worker *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
struct history;
void	worker_post(struct worker *, enum rec_kind, uint32_t, int,
	    const char *, size_t);
void	worker_post_locked(struct worker *, enum rec_kind, uint32_t, int,
	    const char *, size_t);
int	worker_drain(struct worker *, int);
void	worker_hold(struct worker *, unsigned, const char *);
void	worker_replay(struct worker *, struct history *, const char *);
void	worker_exit(struct worker *, const char *, const char *)
	    __attribute__((noreturn));
void	worker_check_kicked(struct worker *);
void	worker_linger(struct worker *);
void	worker_title(const struct worker *);

/* cmd.c */

/* A command line taken apart by cmd_parse(). */
struct cmd;
struct cmd_call {
	const struct cmd *cmd;		/* NULL: no such command */
	const char	*name;		/* the name as typed, not NUL-ended */
	size_t		 namelen;
	char		*args;		/* NUL-ended, trimmed */
	int		 oper;		/* for operators only */
	int		 args_ok;	/* args fit the command's usage */
};

int	cmd_parse(char *, struct cmd_call *);
char	*cmd_split_word(char *);
void	cmd_run(struct worker *, char *, size_t);

#endif
