/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes the PROXY protocol header parser (proxy.c) on the first bytes
 * of a connection. The verdict on the whole input must be the verdict
 * on every longer one: a header found is found again, with the same
 * length and addresses, and a refusal stays a refusal; every shorter
 * prefix of a header found asks for more, so a header cut anywhere by
 * the network is waited for. A header found fits its version's limits,
 * and its source address prints as an address that parses back to it.
 * The sniffer agrees with the parser on what may be a header.
 */
#include <string.h>

#include "../src/proxy.h"
#include "fuzz.h"

/* The limits of a header found in data. */
static void
fuzz_done(const uint8_t *data, const struct proxy_header *ph)
{
	char		buf[ADDR_STR_MAX];
	struct addr	a;

	FUZZ_CHECK(ph->version == 1 || ph->version == 2);
	if (ph->version == 1) {
		FUZZ_CHECK(ph->len >= 8 && ph->len <= PROXY_V1_MAX);
		FUZZ_CHECK(memcmp(data, "PROXY ", 6) == 0);
		FUZZ_CHECK(data[ph->len - 2] == '\r' &&
		    data[ph->len - 1] == '\n');
		FUZZ_CHECK(memchr(data, '\n', ph->len - 1) == NULL);
	} else
		FUZZ_CHECK(ph->len == PROXY_V2_HEAD +
		    ((size_t)data[14] << 8 | data[15]) &&
		    ph->len <= PROXY_HEADER_MAX);
	if (ph->local)
		return;
	/* An IPv4-mapped address of either end is IPv4, in both versions. */
	FUZZ_CHECK(ph->src.family == 4 || ph->src.family == 6);
	FUZZ_CHECK(ph->dst.family == 4 || ph->dst.family == 6);
	if (ph->version == 2 && data[13] == 0x11)
		FUZZ_CHECK(ph->src.family == 4 && ph->dst.family == 4);
	addr_format(&ph->src, buf, sizeof(buf));
	FUZZ_CHECK(addr_parse(&a, buf) == 0 && addr_equal(&a, &ph->src));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header	ph, whole;
	enum proxy_status	st, full;
	enum proxy_sniff	sn = proxy_sniff(data, size);
	size_t			n;

	full = proxy_parse(data, size, &whole);
	FUZZ_CHECK(full != PROXY_BAD || whole.why != NULL);
	FUZZ_CHECK((sn == PROXY_SNIFF_NO) == (full == PROXY_BAD &&
	    strcmp(whole.why, "no PROXY header") == 0));
	if (full == PROXY_DONE)
		fuzz_done(data, &whole);
	/* Every prefix: its verdict holds for the whole. */
	for (n = 0; n < size && n <= PROXY_HEADER_MAX; n++) {
		st = proxy_parse(data, n, &ph);
		if (st == PROXY_MORE) {
			FUZZ_CHECK(full != PROXY_DONE || n < whole.len);
			continue;
		}
		FUZZ_CHECK(st == full);
		if (st == PROXY_DONE) {
			FUZZ_CHECK(ph.len == whole.len && ph.local == whole.local &&
			    ph.sport == whole.sport && ph.dport == whole.dport);
			FUZZ_CHECK(addr_equal(&ph.src, &whole.src) &&
			    addr_equal(&ph.dst, &whole.dst));
		} else
			FUZZ_CHECK(strcmp(ph.why, whole.why) == 0);
	}
	/* Past the longest header there is, the verdict is in. */
	FUZZ_CHECK(size <= PROXY_HEADER_MAX || full != PROXY_MORE);
	return 0;
}
