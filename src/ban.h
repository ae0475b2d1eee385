/* SPDX-License-Identifier: ISC */
/*
 * ban.c: the ban table in the shared segment. A ban matches the exact
 * address a user connected from (IPv4-mapped IPv6 addresses are shown
 * and matched as IPv4). Called with the hub lock held; workers check it
 * before the name prompt.
 */
#ifndef CHATD_BAN_H
#define CHATD_BAN_H

#include "hub.h"

int	ban_find_locked(const struct hub *, const char *);
int	ban_add_locked(struct hub *, const char *, const char *,
	    const char *);
int	ban_remove_locked(struct hub *, const char *);
size_t	ban_count_locked(const struct hub *);

#endif
