/* SPDX-License-Identifier: ISC */
/*
 * Numeric IPv4 and IPv6 addresses and CIDR ranges, for --proxy-from,
 * bans and the per-address limit. An IPv4-mapped IPv6 address is
 * stored, compared and shown as IPv4, so one client has one form.
 * Pure code: no I/O, no name lookups.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Longest text form: a full IPv6 address with an IPv4 tail, "/128". */
#define ADDR_STR_MAX	46
#define CIDR_STR_MAX	(ADDR_STR_MAX + 4)

struct addr {
	uint8_t		family;		/* 4 or 6; 0 for none */
	uint8_t		b[16];		/* network order; IPv4 in b[0..3] */
};

struct cidr {
	struct addr	a;		/* host bits cleared */
	uint8_t		len;		/* prefix length: 0..32 or 0..128 */
};

int	addr_parse(struct addr *, const char *);
int	addr_from_bytes(struct addr *, int family, const void *);
void	addr_format(const struct addr *, char *, size_t);
int	addr_equal(const struct addr *, const struct addr *);
int	cidr_parse(struct cidr *, const char *);
void	cidr_from_addr(struct cidr *, const struct addr *, unsigned len);
void	cidr_format(const struct cidr *, char *, size_t);
int	cidr_contains(const struct cidr *, const struct addr *);
int	cidr_equal(const struct cidr *, const struct cidr *);
unsigned addr_bits(const struct addr *);

#endif
