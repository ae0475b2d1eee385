/* SPDX-License-Identifier: ISC */
/*
 * Numeric addresses and CIDR ranges (addr.h). inet_pton and inet_ntop
 * do the parsing and printing; this file adds the prefix arithmetic and
 * folds IPv4-mapped IPv6 addresses into IPv4.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static const uint8_t	v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			    0xff, 0xff };

/* How many bits an address of this family has. */
unsigned
addr_bits(const struct addr *a)
{
	return a->family == 4 ? 32 : 128;
}

/*
 * Fills a from 4 (AF_INET-sized) or 16 bytes in network order; family
 * is 4 or 6. A mapped IPv4 address becomes IPv4. Returns -1 for any
 * other family.
 */
int
addr_from_bytes(struct addr *a, int family, const void *bytes)
{
	memset(a, 0, sizeof(*a));
	if (family == 4) {
		a->family = 4;
		memcpy(a->b, bytes, 4);
		return 0;
	}
	if (family != 6)
		return -1;
	if (memcmp(bytes, v4mapped, sizeof(v4mapped)) == 0) {
		a->family = 4;
		memcpy(a->b, (const uint8_t *)bytes + 12, 4);
		return 0;
	}
	a->family = 6;
	memcpy(a->b, bytes, 16);
	return 0;
}

/* Parses a numeric IPv4 or IPv6 address; 0, or -1 if s is none. */
int
addr_parse(struct addr *a, const char *s)
{
	uint8_t	bytes[16];

	if (inet_pton(AF_INET, s, bytes) == 1)
		return addr_from_bytes(a, 4, bytes);
	if (inet_pton(AF_INET6, s, bytes) == 1)
		return addr_from_bytes(a, 6, bytes);
	return -1;
}

/* The address's usual text form ("" for none); len >= ADDR_STR_MAX. */
void
addr_format(const struct addr *a, char *buf, size_t len)
{
	if (a->family == 0 || inet_ntop(a->family == 4 ? AF_INET : AF_INET6,
	    a->b, buf, (socklen_t)len) == NULL)
		(void)snprintf(buf, len, "%s", "");
}

int
addr_equal(const struct addr *x, const struct addr *y)
{
	return x->family == y->family &&
	    memcmp(x->b, y->b, x->family == 4 ? 4 : 16) == 0;
}

/* Clears the bits of a after the first len. */
static void
mask(struct addr *a, unsigned len)
{
	unsigned	i, nbytes = addr_bits(a) / 8;

	for (i = len / 8; i < nbytes; i++)
		a->b[i] = i == len / 8 ? (uint8_t)(a->b[i] &
		    (0xFFU << (8 - len % 8))) : 0;
}

/* The range of the first len bits of a (len capped at a's size). */
void
cidr_from_addr(struct cidr *c, const struct addr *a, unsigned len)
{
	c->a = *a;
	if (len > addr_bits(a))
		len = addr_bits(a);
	c->len = (uint8_t)len;
	mask(&c->a, len);
}

/*
 * Parses ADDR or ADDR/LEN (a bare address is the range of that one
 * address). Host bits are cleared: 192.0.2.7/24 is 192.0.2.0/24. A
 * mapped IPv4 range ::ffff:A.B.C.D/LEN with LEN >= 96 becomes the IPv4
 * range A.B.C.D/(LEN - 96). Returns 0, or -1 for anything else.
 */
int
cidr_parse(struct cidr *c, const char *s)
{
	char		 buf[CIDR_STR_MAX];
	const char	*slash = strchr(s, '/');
	char		*end;
	unsigned long	 len;
	size_t		 n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct addr	 a;
	int		 mapped;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (addr_parse(&a, buf) == -1)
		return -1;
	mapped = a.family == 4 && strchr(buf, ':') != NULL;
	if (slash == NULL) {
		cidr_from_addr(c, &a, addr_bits(&a));
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
		return -1;
	len = strtoul(slash + 1, &end, 10);
	if (*end != '\0')
		return -1;
	if (mapped) {
		if (len < 96 || len > 128)
			return -1;
		len -= 96;
	}
	if (len > addr_bits(&a))
		return -1;
	cidr_from_addr(c, &a, (unsigned)len);
	return 0;
}

/* ADDR for a single address, ADDR/LEN for a wider range. */
void
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char	a[ADDR_STR_MAX];

	addr_format(&c->a, a, sizeof(a));
	if (c->len == addr_bits(&c->a))
		(void)snprintf(buf, len, "%s", a);
	else
		(void)snprintf(buf, len, "%s/%u", a, (unsigned)c->len);
}

/* Whether a lies in the range c. */
int
cidr_contains(const struct cidr *c, const struct addr *a)
{
	struct addr	m;

	if (a->family != c->a.family)
		return 0;
	m = *a;
	mask(&m, c->len);
	return addr_equal(&m, &c->a);
}

int
cidr_equal(const struct cidr *x, const struct cidr *y)
{
	return x->len == y->len && addr_equal(&x->a, &y->a);
}
