/* SPDX-License-Identifier: ISC */
/*
 * proxy.c: the PROXY protocol header a TLS front end (stunnel, haproxy)
 * sends first, version 1 (text) and 2 (binary), as haproxy's
 * proxy-protocol.txt describes them. Pure code over explicit lengths:
 * the caller feeds what it has read so far, from the connection's
 * first byte, and learns whether more is needed, where the header ends
 * and what it says, or why it is no header.
 */
#ifndef CHATD_PROXY_H
#define CHATD_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "defs.h"

#define PROXY_V1_MAX	107	/* a v1 header with its CRLF, bytes at most */
#define PROXY_V2_HEAD	16	/* a v2 header before its addresses */
#define PROXY_SIG_LEN	12	/* the v2 signature */
/* The most bytes a header can take: one of PROXY_V2_MAX, or a v1 one. */
#define PROXY_HEADER_MAX	(PROXY_V2_HEAD + PROXY_V2_MAX)

enum proxy_status {
	PROXY_MORE,		/* no verdict yet: feed more bytes */
	PROXY_DONE,		/* a valid header of len bytes */
	PROXY_BAD		/* no valid header: why says what is wrong */
};

struct proxy_header {
	int		 version;	/* 1 or 2 */
	int		 local;		/* LOCAL, UNKNOWN or UNSPEC: no addresses;
					   the connection's own ones stand */
	struct addr	 src, dst;	/* unless local */
	uint16_t	 sport, dport;
	size_t		 len;		/* bytes the header takes */
	const char	*why;		/* PROXY_BAD: a static string */
};

/* What the first bytes of a connection may be. */
enum proxy_sniff {
	PROXY_SNIFF_NO,		/* not a PROXY header */
	PROXY_SNIFF_MAYBE,	/* the start of a signature: wait for more */
	PROXY_SNIFF_YES		/* the whole signature of v1 or v2 */
};

enum proxy_status proxy_parse(const uint8_t *, size_t, struct proxy_header *);
enum proxy_sniff proxy_sniff(const uint8_t *, size_t);

#endif
