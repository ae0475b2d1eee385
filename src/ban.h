/* SPDX-License-Identifier: ISC */
/*
 * ban.c: the ban table in the shared segment. A ban covers a CIDR range
 * of addresses (a single address is a range of one), and may expire;
 * an expired ban is as if it were not there. IPv4-mapped IPv6 addresses
 * are shown and matched as IPv4. The _locked functions are called with
 * the hub lock held; workers check a new client before the name prompt
 * (hub_claim_locked) and again as it registers.
 */
#ifndef CHATD_BAN_H
#define CHATD_BAN_H

#include <stdint.h>

#include "addr.h"
#include "hub.h"

#define BAN_LOCAL	"local"	/* a client with no numeric address */

int	ban_is_range(const char *);
int	ban_range_parse(struct cidr *, const char *);
void	ban_addr_of(struct addr *, const char *);
void	ban_range_of(struct cidr *, const struct addr *, unsigned);
void	ban_range_format(const struct cidr *, char *, size_t);
int	ban_active(const struct ban *, int64_t);
int	ban_match_locked(struct hub *, const struct addr *, int64_t);
int	ban_find_locked(const struct hub *, const struct cidr *, int64_t);
int	ban_covering_locked(const struct hub *, const struct cidr *,
	    int64_t);
int	ban_add_locked(struct hub *, const struct cidr *, const char *,
	    const char *, int64_t);
int	ban_remove_locked(struct hub *, const struct cidr *, int64_t);
size_t	ban_count_locked(const struct hub *, int64_t);
size_t	ban_list_locked(const struct hub *, struct ban *, int64_t);

#endif
