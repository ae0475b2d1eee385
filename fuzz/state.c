/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes the state-file loader's line decoding (state_hist_decode and
 * state_ban_decode in state.c, the bans lines of both formats, "b1" and
 * "b2" with an expiry time): each input line is decoded as a history
 * journal line and as a bans line, once as it is and once with a right
 * checksum put at its end (or the fuzzer would rarely get past the
 * checksum). A line that decodes is written out again as chatd writes
 * it, which must decode to the same values: the round trip.
 */
#include <string.h>

#include "../src/ring.h"
#include "../src/state.h"
#include "../src/text.h"
#include "fuzz.h"

/* FNV-1a, 32 bits, as state.h describes it: written apart on purpose. */
static uint32_t
fnv(const char *s, size_t n)
{
	uint32_t	h = 2166136261U;

	while (n-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 16777619U;
	}
	return h;
}

/* A writer's line without its LF, copied to exactly len + 1 bytes. */
static char *
unterminated(const char *line, size_t len)
{
	FUZZ_CHECK(len > 0 && line[len - 1] == '\n');
	return fuzz_strdup((const uint8_t *)line, len - 1);
}

static void
hist(char *line, size_t len)
{
	struct state_hist	 a, b;
	char			*out, *again;
	size_t			 n;

	if (state_hist_decode(line, len, &a) != NULL)
		return;
	FUZZ_CHECK(a.seq != 0 && (a.kind == REC_CHAT || a.kind == REC_ME));
	FUZZ_CHECK(a.roomlen > 0 && a.roomlen <= ROOM_MAX_LEN &&
	    strlen(a.room) == a.roomlen);
	FUZZ_CHECK(a.len <= HIST_TEXT_MAX(CHATD_MAX_LINE_CAP));
	out = state_hist_line(&a, &n);
	again = unterminated(out, n);
	FUZZ_CHECK(state_hist_decode(again, n - 1, &b) == NULL);
	FUZZ_CHECK(a.seq == b.seq && a.time == b.time && a.kind == b.kind);
	FUZZ_CHECK(strcmp(a.room, b.room) == 0);
	FUZZ_CHECK(a.len == b.len && memcmp(a.text, b.text, a.len) == 0);
	free(again);
	free(out);
}

static void
ban(char *line, size_t len)
{
	struct state_ban	 a, b;
	struct ban		 bn;
	char			*out, *again;
	size_t			 n;

	if (state_ban_decode(line, len, &a) != NULL)
		return;
	FUZZ_CHECK(a.addr[0] != '\0' && strchr(a.addr, ' ') == NULL);
	FUZZ_CHECK(strlen(a.addr) < CIDR_STR_MAX &&
	    strlen(a.name) <= NAME_MAX_LEN && strlen(a.reason) <= BAN_REASON_MAX);
	FUZZ_CHECK(a.expires >= 0);
	FUZZ_CHECK(a.range.a.family == 0 ? a.range.len == 128 :
	    a.range.len <= addr_bits(&a.range.a));
	/* Copied into the table as ban_add_locked() does. */
	memset(&bn, 0, sizeof(bn));
	bn.range = a.range;
	bn.expires = a.expires;
	(void)text_format(bn.addr, sizeof(bn.addr), "%s", a.addr);
	(void)text_format(bn.name, sizeof(bn.name), "%s", a.name);
	(void)text_format(bn.reason, sizeof(bn.reason), "%s", a.reason);
	out = state_ban_line(&bn, &n);
	again = unterminated(out, n);
	FUZZ_CHECK(state_ban_decode(again, n - 1, &b) == NULL);
	FUZZ_CHECK(strcmp(bn.addr, b.addr) == 0 &&
	    strcmp(bn.name, b.name) == 0 && strcmp(bn.reason, b.reason) == 0);
	FUZZ_CHECK(cidr_equal(&a.range, &b.range) && a.expires == b.expires);
	free(again);
	free(out);
}

/* Decodes a line both ways; each decoder gets its own copy. */
static void
decode(const char *line, size_t len)
{
	char	*copy;

	copy = fuzz_strdup((const uint8_t *)line, len);
	hist(copy, len);
	free(copy);
	copy = fuzz_strdup((const uint8_t *)line, len);
	ban(copy, len);
	free(copy);
}

/* The line with "\tXXXXXXXX", its checksum, after it. */
static void
decode_summed(const char *line, size_t len)
{
	char	*copy;

	if ((copy = malloc(len + 10)) == NULL)
		abort();
	memcpy(copy, line, len);
	snprintf(copy + len, 10, "\t%08x", (unsigned)fnv(line, len));
	decode(copy, len + 9);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	size_t		 len;

	/* Lines as the loader's reader cuts them: at LF, without it. */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		decode(p, len);
		decode_summed(p, len);
		p += len + 1;
	}
	return 0;
}
