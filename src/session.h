/* SPDX-License-Identifier: ISC */
/*
 * session.c: ending a session, whoever ends it.
 */
#ifndef CHATD_SESSION_H
#define CHATD_SESSION_H

#include <stdint.h>
#include <sys/types.h>

#include "hub.h"
#include "notify.h"

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

int	session_leave_locked(struct hub *, int, const char *, size_t, int);
int	session_end_locked(struct hub *, int, const char *, size_t, int);
void	session_bury(struct hub *, struct notifier *, pid_t, int);
enum kick_result session_kick(struct hub *, struct notifier *, struct kick *,
	    const char *, char *);

#endif
