/* SPDX-License-Identifier: ISC */
/*
 * The PROXY protocol header (proxy.h), read as haproxy's
 * proxy-protocol.txt says a receiver must: version 1 is one line of at
 * most 107 bytes ending in CRLF, "PROXY TCP4|TCP6 SRC DST SPORT DPORT"
 * or "PROXY UNKNOWN ..."; version 2 is a 12-byte signature, a version
 * and command byte, a family byte, a 16-bit length and that many bytes
 * of addresses and TLVs. A header is judged only once it is whole, but
 * a stream that cannot become one is refused as soon as that shows.
 */
#include <string.h>

#include "proxy.h"

static const uint8_t	v1_sig[] = "PROXY ";
static const uint8_t	v2_sig[PROXY_SIG_LEN] = { 0x0D, 0x0A, 0x0D, 0x0A,
			    0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

#define V1_SIG_LEN	(sizeof(v1_sig) - 1)

/* Whether the n bytes of p begin sig (of siglen bytes), or it them. */
static int
prefix(const uint8_t *p, size_t n, const uint8_t *sig, size_t siglen)
{
	return memcmp(p, sig, n < siglen ? n : siglen) == 0;
}

enum proxy_sniff
proxy_sniff(const uint8_t *p, size_t n)
{
	if ((n >= V1_SIG_LEN && prefix(p, n, v1_sig, V1_SIG_LEN)) ||
	    (n >= PROXY_SIG_LEN && prefix(p, n, v2_sig, PROXY_SIG_LEN)))
		return PROXY_SNIFF_YES;
	if (prefix(p, n, v1_sig, V1_SIG_LEN) ||
	    prefix(p, n, v2_sig, PROXY_SIG_LEN))
		return PROXY_SNIFF_MAYBE;
	return PROXY_SNIFF_NO;
}

static enum proxy_status
bad(struct proxy_header *ph, const char *why)
{
	ph->why = why;
	return PROXY_BAD;
}

/*
 * A v1 port: decimal, 0 to 65535, no leading zero (as the document
 * asks of addresses, so that one port has one form).
 */
static int
v1_port(const char *s, uint16_t *port)
{
	unsigned long	v = 0;
	size_t		n = strlen(s), i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* A v1 address of the family its protocol names (":" tells IPv6). */
static int
v1_addr(const char *s, int v6, struct addr *a)
{
	if ((strchr(s, ':') != NULL) != v6)
		return -1;
	return addr_parse(a, s);
}

/* Cuts the next field off *s at a single space; NULL if none is left. */
static char *
v1_field(char **s)
{
	char	*f = *s, *sp;

	if (f == NULL || *f == '\0')
		return NULL;
	if ((sp = strchr(f, ' ')) != NULL) {
		*sp = '\0';
		*s = sp + 1;
	} else
		*s = NULL;
	return f;
}

/* The fields of a whole v1 line, CRLF cut, "PROXY " skipped. */
static enum proxy_status
v1_fields(char *s, struct proxy_header *ph)
{
	char	*proto = v1_field(&s), *f[4];
	int	 v6, i;

	if (proto == NULL)
		return bad(ph, "no protocol");
	if (strcmp(proto, "UNKNOWN") == 0) {
		ph->local = 1;
		return PROXY_DONE;
	}
	if (strcmp(proto, "TCP4") != 0 && strcmp(proto, "TCP6") != 0)
		return bad(ph, "unknown protocol");
	v6 = proto[3] == '6';
	for (i = 0; i < 4; i++)
		if ((f[i] = v1_field(&s)) == NULL)
			return bad(ph, "missing fields");
	if (s != NULL)
		return bad(ph, "extra fields");
	if (v1_addr(f[0], v6, &ph->src) == -1 ||
	    v1_addr(f[1], v6, &ph->dst) == -1)
		return bad(ph, "bad address");
	if (v1_port(f[2], &ph->sport) == -1 || v1_port(f[3], &ph->dport) == -1)
		return bad(ph, "bad port");
	return PROXY_DONE;
}

static enum proxy_status
v1_parse(const uint8_t *p, size_t n, struct proxy_header *ph)
{
	char		 line[PROXY_V1_MAX];
	/* Its CR is at 105 at the latest. */
	size_t		 lim = n < PROXY_V1_MAX - 1 ? n : PROXY_V1_MAX - 1;
	const uint8_t	*cr = memchr(p, '\r', lim);
	size_t		 end = cr != NULL ? (size_t)(cr - p) : lim, i;

	ph->version = 1;
	for (i = 0; i < end; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return bad(ph, "a control byte in a v1 header");
	if (cr == NULL)
		return lim == PROXY_V1_MAX - 1 ?
		    bad(ph, "v1 header too long") : PROXY_MORE;
	if (end + 1 == n)
		return PROXY_MORE;
	if (p[end + 1] != '\n')
		return bad(ph, "CR without LF in a v1 header");
	ph->len = end + 2;
	memcpy(line, p + V1_SIG_LEN, end - V1_SIG_LEN);
	line[end - V1_SIG_LEN] = '\0';
	return v1_fields(line, ph);
}

/* The TLVs after a v2 header's addresses: skipped, but they must fit. */
static int
v2_tlvs(const uint8_t *p, size_t n)
{
	size_t	len;

	while (n > 0) {
		if (n < 3)
			return -1;
		len = (size_t)p[1] << 8 | p[2];
		if (len > n - 3)
			return -1;
		p += 3 + len;
		n -= 3 + len;
	}
	return 0;
}

/* The address block of a v2 PROXY command of family fam, len bytes. */
static enum proxy_status
v2_addresses(const uint8_t *p, size_t len, uint8_t fam,
    struct proxy_header *ph)
{
	size_t	alen;
	int	family;

	switch (fam) {
	case 0x00:		/* UNSPEC: the front end does not know */
		ph->local = 1;
		return PROXY_DONE;
	case 0x11:		/* TCP over IPv4 */
		family = 4;
		alen = 12;
		break;
	case 0x21:		/* TCP over IPv6 */
		family = 6;
		alen = 36;
		break;
	case 0x12: case 0x22: case 0x31: case 0x32:
		return bad(ph, "not a TCP connection over IP");
	default:
		return bad(ph, "unknown address family");
	}
	if (len < alen)
		return bad(ph, "address block too short");
	(void)addr_from_bytes(&ph->src, family, p);
	(void)addr_from_bytes(&ph->dst, family, p + alen / 2 - 2);
	ph->sport = (uint16_t)(p[alen - 4] << 8 | p[alen - 3]);
	ph->dport = (uint16_t)(p[alen - 2] << 8 | p[alen - 1]);
	if (v2_tlvs(p + alen, len - alen) == -1)
		return bad(ph, "malformed TLV");
	return PROXY_DONE;
}

static enum proxy_status
v2_parse(const uint8_t *p, size_t n, struct proxy_header *ph)
{
	size_t	len;

	ph->version = 2;
	if (n < PROXY_V2_HEAD)
		return PROXY_MORE;
	if ((p[12] & 0xF0U) != 0x20U)
		return bad(ph, "unknown version");
	if ((p[12] & 0x0FU) > 1)
		return bad(ph, "unknown command");
	len = (size_t)p[14] << 8 | p[15];
	if (len > PROXY_V2_MAX)
		return bad(ph, "v2 header too long");
	if (n < PROXY_V2_HEAD + len)
		return PROXY_MORE;
	ph->len = PROXY_V2_HEAD + len;
	if ((p[12] & 0x0FU) == 0) {	/* LOCAL: the front end's own */
		ph->local = 1;
		return PROXY_DONE;
	}
	return v2_addresses(p + PROXY_V2_HEAD, len, p[13], ph);
}

/*
 * Reads the header at the start of p[0..n): PROXY_MORE while the bytes
 * could still become one, PROXY_DONE with ph filled, or PROXY_BAD with
 * ph->why. Only ph->len bytes belong to the header; what follows is the
 * client's.
 */
enum proxy_status
proxy_parse(const uint8_t *p, size_t n, struct proxy_header *ph)
{
	memset(ph, 0, sizeof(*ph));
	switch (proxy_sniff(p, n)) {
	case PROXY_SNIFF_MAYBE:
		return PROXY_MORE;
	case PROXY_SNIFF_NO:
		return bad(ph, "no PROXY header");
	case PROXY_SNIFF_YES:
		break;
	}
	if (p[0] == 'P')
		return v1_parse(p, n, ph);
	return v2_parse(p, n, ph);
}
