/* SPDX-License-Identifier: ISC */
/*
 * session.c: ending a session, whoever ends it.
 */
#ifndef CHATD_SESSION_H
#define CHATD_SESSION_H

#include <stdint.h>
#include <sys/types.h>

#include "audit.h"
#include "hub.h"
#include "notify.h"

/* A kick or ban by an operator, or by the administrator (no slot). */
struct kick {
	const char	*by;		/* the kicker's name, as shown */
	int		 slot;		/* the kicker's slot, or -1 */
	uint32_t	 room;		/* the kicker's room */
	const char	*reason;	/* or NULL */
	int		 ban;
	int64_t		 expires;	/* a ban's end, time(); 0: never */
	unsigned	 v6prefix;	/* --ipv6-prefix: what a ban covers */
	int		 handover;	/* --oper-first-user */
	char		 name[NICK_MAX_LEN + 1];	/* set: who was kicked */
	char		 server[SERVER_NAME_MAX + 1];	/* set: a remote user's */
	char		 addr[ADDR_MAX_LEN + 1];	/* set: and its address */
	char		 range[CIDR_STR_MAX];	/* set: the range banned */
	int		 full;		/* set: no room to ban, only kicked */
	size_t		 kicked;	/* set by session_ban: users kicked */
};

enum kick_result {
	KICK_OK,
	KICK_NO_USER,
	KICK_SELF,
	KICK_REMOTE,	/* a user of another server: k->server */
	KICK_FULL	/* session_ban: the ban table is full */
};

void	session_post_locked(struct hub *, int, uint32_t, enum rec_kind,
	    uint32_t, int, const char *, size_t);
void	session_event_locked(struct hub *, uint32_t, char, const char *,
	    const char *);
int	session_leave_locked(struct hub *, int, const char *, size_t, int,
	    const char *);
int	session_end_locked(struct hub *, int, const char *, size_t, int,
	    const char *);
size_t	session_split_locked(struct hub *, uint32_t, const char *);
void	session_unlink_locked(struct hub *, int, const char *);
void	session_bury(struct hub *, struct notifier *, pid_t, int);
int	session_kill(struct hub *, struct notifier *, const char *,
	    const char *, const char *, int);
enum kick_result session_kick(struct hub *, struct notifier *, struct kick *,
	    const char *, char *);
enum kick_result session_ban(struct hub *, struct notifier *, struct kick *,
	    const struct cidr *, char *);
void	session_audit_kick(struct audit *, const struct kick *, int);

#endif
