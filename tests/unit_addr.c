/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for numeric addresses and CIDR ranges. Prints each failed
 * check; exits 1 if any.
 */
#include <stdio.h>
#include <string.h>

#include "../src/addr.h"

static int	failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("unit_addr.c:%d: %s\n", __LINE__, #cond);	\
		failures++;						\
	}								\
} while (0)

/* cidr_parse(in) then cidr_format: the canonical form, or "ERR". */
static const char *
canon(const char *in)
{
	static char	buf[CIDR_STR_MAX];
	struct cidr	c;

	if (cidr_parse(&c, in) == -1)
		return "ERR";
	cidr_format(&c, buf, sizeof(buf));
	return buf;
}

/* Whether range r contains address a (both parsed; -1 if one fails). */
static int
contains(const char *r, const char *a)
{
	struct cidr	c;
	struct addr	x;

	if (cidr_parse(&c, r) == -1 || addr_parse(&x, a) == -1)
		return -1;
	return cidr_contains(&c, &x);
}

int
main(void)
{
	struct addr	a;
	char		buf[ADDR_STR_MAX];

	/* Addresses, and the mapped form folded into IPv4. */
	CHECK(addr_parse(&a, "192.0.2.7") == 0 && a.family == 4);
	CHECK(addr_parse(&a, "::ffff:192.0.2.7") == 0 && a.family == 4);
	addr_format(&a, buf, sizeof(buf));
	CHECK(strcmp(buf, "192.0.2.7") == 0);
	CHECK(addr_parse(&a, "2001:db8::1") == 0 && a.family == 6);
	addr_format(&a, buf, sizeof(buf));
	CHECK(strcmp(buf, "2001:db8::1") == 0);
	CHECK(addr_parse(&a, "") == -1);
	CHECK(addr_parse(&a, "localhost") == -1);
	CHECK(addr_parse(&a, "1.2.3") == -1);
	CHECK(addr_parse(&a, "1.2.3.4 ") == -1);
	CHECK(addr_parse(&a, "256.1.1.1") == -1);

	/* Ranges: canonical form, host bits cleared. */
	CHECK(strcmp(canon("192.0.2.7"), "192.0.2.7") == 0);
	CHECK(strcmp(canon("192.0.2.7/32"), "192.0.2.7") == 0);
	CHECK(strcmp(canon("192.0.2.7/24"), "192.0.2.0/24") == 0);
	CHECK(strcmp(canon("192.0.2.7/0"), "0.0.0.0/0") == 0);
	CHECK(strcmp(canon("10.255.255.255/9"), "10.128.0.0/9") == 0);
	CHECK(strcmp(canon("2001:db8:1:2:3:4:5:6/64"), "2001:db8:1:2::/64") == 0);
	CHECK(strcmp(canon("2001:db8::1/128"), "2001:db8::1") == 0);
	CHECK(strcmp(canon("2001:db8::/29"), "2001:db8::/29") == 0);
	CHECK(strcmp(canon("2001:dbf::/29"), "2001:db8::/29") == 0);
	CHECK(strcmp(canon("::ffff:10.1.2.3/120"), "10.1.2.0/24") == 0);
	CHECK(strcmp(canon("::ffff:10.1.2.3"), "10.1.2.3") == 0);
	CHECK(strcmp(canon("::ffff:10.1.2.3/64"), "ERR") == 0);
	CHECK(strcmp(canon("192.0.2.7/33"), "ERR") == 0);
	CHECK(strcmp(canon("2001:db8::/129"), "ERR") == 0);
	CHECK(strcmp(canon("192.0.2.7/"), "ERR") == 0);
	CHECK(strcmp(canon("192.0.2.7/-1"), "ERR") == 0);
	CHECK(strcmp(canon("192.0.2.7/+8"), "ERR") == 0);
	CHECK(strcmp(canon("192.0.2.7/8x"), "ERR") == 0);
	CHECK(strcmp(canon("192.0.2.7/0008"), "ERR") == 0);
	CHECK(strcmp(canon("/8"), "ERR") == 0);
	CHECK(strcmp(canon("alice"), "ERR") == 0);
	CHECK(strcmp(canon(""), "ERR") == 0);

	/* Membership. */
	CHECK(contains("192.0.2.0/24", "192.0.2.255") == 1);
	CHECK(contains("192.0.2.0/24", "192.0.3.0") == 0);
	CHECK(contains("192.0.2.7", "192.0.2.7") == 1);
	CHECK(contains("192.0.2.7", "192.0.2.8") == 0);
	CHECK(contains("0.0.0.0/0", "203.0.113.9") == 1);
	CHECK(contains("0.0.0.0/0", "2001:db8::1") == 0);
	CHECK(contains("2001:db8:1:2::/64", "2001:db8:1:2:ffff::9") == 1);
	CHECK(contains("2001:db8:1:2::/64", "2001:db8:1:3::9") == 0);
	CHECK(contains("10.0.0.0/8", "::ffff:10.9.9.9") == 1);
	CHECK(contains("::/0", "10.9.9.9") == 0);
	CHECK(contains("2001:db8::/33", "2001:db8:7fff::1") == 1);
	CHECK(contains("2001:db8::/33", "2001:db8:8000::1") == 0);

	if (failures != 0)
		printf("%d failed\n", failures);
	return failures != 0;
}
