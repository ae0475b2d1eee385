/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the PROXY protocol header parser (src/proxy.c): both
 * versions, whole, cut short at every byte, and each kind of bad
 * header. Prints each failed check; exits 1 if any.
 */
#include <stdio.h>
#include <string.h>

#include "../src/proxy.h"

static int	failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("unit_proxy.c:%d: %s\n", __LINE__, #cond);	\
		failures++;						\
	}								\
} while (0)

#define SIG	"\r\n\r\n\0\r\nQUIT\n"
#define B(s)	(const uint8_t *)(s), sizeof(s) - 1

static struct proxy_header	ph;

/*
 * Parses p[0..n) and checks that every shorter prefix asks for more
 * (a header may come split anywhere) unless the verdict is bad and
 * shows early; returns the verdict on the whole.
 */
static enum proxy_status
parse(const uint8_t *p, size_t n)
{
	struct proxy_header	part;
	enum proxy_status	st = proxy_parse(p, n, &ph);
	size_t			i;

	if (st == PROXY_DONE)
		for (i = 0; i < ph.len; i++)
			CHECK(proxy_parse(p, i, &part) == PROXY_MORE);
	return st;
}

/* The source address of the last header, as text. */
static const char *
src(void)
{
	static char	buf[ADDR_STR_MAX];

	addr_format(&ph.src, buf, sizeof(buf));
	return buf;
}

/* Writes the bytes of s, without its NUL, at dst. */
static void
put(uint8_t *dst, const char *s)
{
	while (*s != '\0')
		*dst++ = (uint8_t)*s++;
}

/* The last verdict was bad, for this reason. */
static int
why(const char *s)
{
	return ph.why != NULL && strcmp(ph.why, s) == 0;
}

static void
test_v1(void)
{
	static const char	*maxline = "PROXY UNKNOWN "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	uint8_t			buf[PROXY_V1_MAX + 1];

	CHECK(parse(B("PROXY TCP4 198.51.100.7 192.0.2.1 51234 9443\r\n"))
	    == PROXY_DONE);
	CHECK(ph.version == 1 && !ph.local && ph.len == 46);
	CHECK(strcmp(src(), "198.51.100.7") == 0);
	CHECK(ph.sport == 51234 && ph.dport == 9443);
	/* What follows the header is the client's, and not counted. */
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nalice\r\n"))
	    == PROXY_DONE && ph.len == 32 && strcmp(src(), "1.2.3.4") == 0);
	CHECK(parse(B("PROXY TCP6 2001:db8::7 2001:db8::1 0 65535\r\n"))
	    == PROXY_DONE);
	CHECK(strcmp(src(), "2001:db8::7") == 0 && ph.sport == 0 &&
	    ph.dport == 65535);
	/* A mapped address is the client's IPv4 address, as elsewhere. */
	CHECK(parse(B("PROXY TCP6 ::ffff:10.1.2.3 ::1 1 2\r\n")) ==
	    PROXY_DONE && strcmp(src(), "10.1.2.3") == 0);
	CHECK(parse(B("PROXY UNKNOWN\r\n")) == PROXY_DONE && ph.local &&
	    ph.len == 15);
	CHECK(parse(B("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")) ==
	    PROXY_DONE && ph.local);
	/* The longest header there can be: 107 bytes, the document's. */
	CHECK(strlen(maxline) == PROXY_V1_MAX);
	CHECK(parse((const uint8_t *)maxline, strlen(maxline)) == PROXY_DONE);

	/* Bad ones. */
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n")) == PROXY_BAD &&
	    why("a control byte in a v1 header"));
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx")) == PROXY_BAD &&
	    why("CR without LF in a v1 header"));
	CHECK(parse(B("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n")) == PROXY_BAD &&
	    why("unknown protocol"));
	CHECK(parse(B("PROXY \r\n")) == PROXY_BAD && why("no protocol"));
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n")) == PROXY_BAD &&
	    why("missing fields"));
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n")) == PROXY_BAD &&
	    why("extra fields"));
	CHECK(parse(B("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n")) == PROXY_BAD);
	CHECK(parse(B("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n")) == PROXY_BAD &&
	    why("bad address"));
	CHECK(parse(B("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n")) == PROXY_BAD &&
	    why("bad address"));
	CHECK(parse(B("PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n")) ==
	    PROXY_BAD && why("bad address"));
	CHECK(parse(B("PROXY TCP6 1.2.3.4 2001:db8::1 1 2\r\n")) ==
	    PROXY_BAD && why("bad address"));
	CHECK(parse(B("PROXY TCP4 localhost 5.6.7.8 1 2\r\n")) == PROXY_BAD);
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n")) ==
	    PROXY_BAD && why("bad port"));
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n")) == PROXY_BAD &&
	    why("bad port"));
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n")) == PROXY_BAD &&
	    why("bad port"));
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n")) ==
	    PROXY_BAD && why("bad port"));
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xc3\xa9\r\n")) ==
	    PROXY_BAD);
	/*
	 * Over-long: 106 bytes without a CR are refused, not waited on,
	 * and so is a CRLF that would end the line after 107 bytes.
	 */
	memset(buf, 'x', sizeof(buf));
	put(buf, "PROXY UNKNOWN ");
	CHECK(parse(buf, PROXY_V1_MAX - 2) == PROXY_MORE);
	CHECK(parse(buf, PROXY_V1_MAX - 1) == PROXY_BAD &&
	    why("v1 header too long"));
	put(buf + PROXY_V1_MAX - 1, "\r\n");
	CHECK(parse(buf, PROXY_V1_MAX + 1) == PROXY_BAD &&
	    why("v1 header too long"));
	put(buf + PROXY_V1_MAX - 2, "\r\n");
	CHECK(parse(buf, PROXY_V1_MAX) == PROXY_DONE &&
	    ph.len == PROXY_V1_MAX);
	/* Truncated: all there is could still be one. */
	CHECK(parse(B("PROXY TCP4 1.2.3.4")) == PROXY_MORE);
	CHECK(parse(B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r")) == PROXY_MORE);
	CHECK(parse(B("PROX")) == PROXY_MORE);
}

static void
test_v2(void)
{
	/* PROXY, TCP over IPv4: 203.0.113.9:51234 to 192.0.2.1:9443. */
	static const uint8_t	v4[] = SIG "\x21\x11\x00\x0c"
	    "\xcb\x00\x71\x09" "\xc0\x00\x02\x01" "\xc8\x22" "\x24\xe3";
	static const uint8_t	v6[] = SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\x00\x50" "\x24\xe3";
	/* With two TLVs (ALPN "h2", a NOOP of 3 bytes) and a name after. */
	static const uint8_t	tlv[] = SIG "\x21\x11\x00\x17"
	    "\xcb\x00\x71\x09" "\xc0\x00\x02\x01" "\xc8\x22" "\x24\xe3"
	    "\x01\x00\x02h2" "\x04\x00\x03\0\0\0" "alice\r\n";
	uint8_t			buf[PROXY_HEADER_MAX + 16];

	CHECK(parse(v4, sizeof(v4) - 1) == PROXY_DONE);
	CHECK(ph.version == 2 && !ph.local && ph.len == 28);
	CHECK(strcmp(src(), "203.0.113.9") == 0 && ph.sport == 51234 &&
	    ph.dport == 9443);
	CHECK(parse(v6, sizeof(v6) - 1) == PROXY_DONE && ph.len == 52);
	CHECK(strcmp(src(), "2001:db8::7") == 0 && ph.sport == 80);
	CHECK(parse(tlv, sizeof(tlv) - 1) == PROXY_DONE && ph.len == 39 &&
	    strcmp(src(), "203.0.113.9") == 0);
	/* LOCAL (a health check), UNSPEC: the front end's own address. */
	CHECK(parse(B(SIG "\x20\x00\x00\x00")) == PROXY_DONE && ph.local &&
	    ph.len == 16);
	CHECK(parse(B(SIG "\x20\x11\x00\x02xy")) == PROXY_DONE && ph.local &&
	    ph.len == 18);
	CHECK(parse(B(SIG "\x21\x00\x00\x00")) == PROXY_DONE && ph.local);

	/* Bad ones. */
	CHECK(parse(B(SIG "\x11\x11\x00\x0c")) == PROXY_BAD &&
	    why("unknown version"));
	CHECK(parse(B(SIG "\x22\x11\x00\x0c")) == PROXY_BAD &&
	    why("unknown command"));
	CHECK(parse(B(SIG "\x21\x31\x00\x00")) == PROXY_BAD &&
	    why("not a TCP connection over IP"));
	CHECK(parse(B(SIG "\x21\x12\x00\x00")) == PROXY_BAD &&
	    why("not a TCP connection over IP"));
	CHECK(parse(B(SIG "\x21\x41\x00\x00")) == PROXY_BAD &&
	    why("unknown address family"));
	CHECK(parse(B(SIG "\x21\x13\x00\x00")) == PROXY_BAD &&
	    why("unknown address family"));
	CHECK(parse(B(SIG "\x21\x11\x00\x08" "12345678")) == PROXY_BAD &&
	    why("address block too short"));
	CHECK(parse(B(SIG "\x21\x21\x00\x0c" "123456789012")) == PROXY_BAD &&
	    why("address block too short"));
	/* A TLV longer than what is left, or a cut TLV header. */
	CHECK(parse(B(SIG "\x21\x11\x00\x10" "123456789012" "\x01\x00\x02h"))
	    == PROXY_BAD && why("malformed TLV"));
	CHECK(parse(B(SIG "\x21\x11\x00\x0e" "123456789012" "\x01\x00"))
	    == PROXY_BAD && why("malformed TLV"));
	/* Too long to wait for: refused from its length field. */
	CHECK(parse(B(SIG "\x21\x11\xff\xff")) == PROXY_BAD &&
	    why("v2 header too long"));
	memset(buf, 0, sizeof(buf));
	memcpy(buf, SIG "\x21\x11", PROXY_SIG_LEN + 2);
	buf[14] = PROXY_V2_MAX >> 8;
	buf[15] = PROXY_V2_MAX & 0xFF;
	buf[PROXY_V2_HEAD + 12] = 0xFE;		/* one NOOP TLV for the rest */
	buf[PROXY_V2_HEAD + 13] = (PROXY_V2_MAX - 15) >> 8;
	buf[PROXY_V2_HEAD + 14] = (PROXY_V2_MAX - 15) & 0xFF;
	CHECK(parse(buf, PROXY_HEADER_MAX) == PROXY_DONE &&
	    ph.len == PROXY_HEADER_MAX);
	buf[15]++;
	CHECK(parse(buf, sizeof(buf)) == PROXY_BAD);
	/* Truncated: the length says more is to come. */
	CHECK(parse(v4, sizeof(v4) - 2) == PROXY_MORE);
	CHECK(parse(B(SIG "\x21")) == PROXY_MORE);
}

static void
test_sniff(void)
{
	CHECK(proxy_sniff(B("")) == PROXY_SNIFF_MAYBE);
	CHECK(proxy_sniff(B("PRO")) == PROXY_SNIFF_MAYBE);
	CHECK(proxy_sniff(B("PROXY")) == PROXY_SNIFF_MAYBE);
	CHECK(proxy_sniff(B("PROXY ")) == PROXY_SNIFF_YES);
	CHECK(proxy_sniff(B("PROXY TCP4")) == PROXY_SNIFF_YES);
	CHECK(proxy_sniff(B("PROXYalice")) == PROXY_SNIFF_NO);
	CHECK(proxy_sniff(B("Peter")) == PROXY_SNIFF_NO);
	CHECK(proxy_sniff(B("\r\n")) == PROXY_SNIFF_MAYBE);
	CHECK(proxy_sniff(B("\r\n\r\n\0\r\nQUI")) == PROXY_SNIFF_MAYBE);
	CHECK(proxy_sniff(B(SIG)) == PROXY_SNIFF_YES);
	CHECK(proxy_sniff(B(SIG "\x21")) == PROXY_SNIFF_YES);
	CHECK(proxy_sniff(B("\r\nalice")) == PROXY_SNIFF_NO);
	CHECK(proxy_sniff(B("\n")) == PROXY_SNIFF_NO);
	CHECK(proxy_parse(B("alice\r\n"), &ph) == PROXY_BAD &&
	    why("no PROXY header"));
	CHECK(proxy_parse(B("\r\n\r\nbob"), &ph) == PROXY_BAD);
}

int
main(void)
{
	test_v1();
	test_v2();
	test_sniff();
	if (failures != 0)
		printf("%d failed\n", failures);
	return failures != 0;
}
