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
#include "ratelimit.h"
#include "text.h"

struct config;

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
	size_t			 inoff;	/* next byte of inbuf to handle */
	size_t			 inlen;
	unsigned char		 inbuf[WORKER_READ];	/* read from the client */
};

void	worker_main(struct hub *, struct config *)
	    __attribute__((noreturn));
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
const char *worker_name_problem(const unsigned char *, size_t);
void	worker_title(const struct worker *);
void	worker_exit(struct worker *, const char *, const char *)
	    __attribute__((noreturn));
void	worker_bury(struct hub *, struct notifier *, pid_t, int);
void	worker_check_kicked(struct worker *);
int	worker_leave_locked(struct hub *, int, const char *, size_t, int);

/* cmd.c */

/* A kick or ban by an operator, or by the administrator (no slot). */
struct kick {
	const char	*by;		/* the kicker's name, as shown */
	int		 slot;		/* the kicker's slot, or -1 */
	uint32_t	 room;		/* the kicker's room */
	const char	*reason;	/* or NULL */
	int		 ban;
	int		 handover;	/* --oper-first-user */
	char		 name[NAME_MAX_LEN + 1];	/* set: who was kicked */
	char		 addr[ADDR_MAX_LEN + 1];	/* set: and its address */
	int		 full;		/* set: no room to ban, only kicked */
};

enum kick_result {
	KICK_OK,
	KICK_NO_USER,
	KICK_SELF
};

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
enum kick_result cmd_kick_user(struct hub *, struct notifier *, struct kick *,
	    const char *, char *);
const char *plural(unsigned long, const char *, const char *);

#endif
