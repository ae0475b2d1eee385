/* SPDX-License-Identifier: ISC */
/*
 * audit.c: the audit trail, one log line for each action of an operator
 * or of the administrator, in one format (chatd(8), AUDIT TRAIL):
 *
 *	audit: ACTION [TARGET [(ADDRESS)]] [in RANGE] [until TIME]
 *	    by WHO (FROM)[: REASON]
 *
 * at notice, or warning for a failed /oper. A worker logs its user's
 * actions at once; chatctl, whose standard error is nobody's log, queues
 * its lines in the segment for the server to log (audit_post and
 * audit_drain).
 */
#ifndef CHATD_AUDIT_H
#define CHATD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"

enum audit_action {
	AUDIT_KICK,
	AUDIT_BAN,
	AUDIT_UNBAN,
	AUDIT_WALL,
	AUDIT_SHUTDOWN,
	AUDIT_OPER,
	AUDIT_OPER_FAILED
};

/* An action; a NULL field is left out of the line. */
struct audit {
	enum audit_action	 action;
	const char		*target;	/* a user's name, or an address */
	const char		*target_addr;	/* the user's address */
	const char		*range;		/* what a ban covers, if more */
	int64_t			 until;		/* a ban's end, time(); 0: never */
	const char		*by;		/* a user's name, or "chatctl" */
	const char		*from;		/* its address, or uid and pid */
	const char		*reason;	/* the reason, or a wall's text */
};

size_t	audit_format(char *, size_t, const struct audit *);
void	audit_log(const struct audit *);
void	audit_post(struct hub *, const struct audit *);
void	audit_drain(struct hub *);

#endif
