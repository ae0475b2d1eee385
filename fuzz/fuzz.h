/* SPDX-License-Identifier: ISC */
/*
 * What the fuzz harnesses share. Each harness is one libFuzzer entry
 * point driving one of chatd's pure parsers; under clang (make fuzz) it
 * links with libFuzzer, under make check with replay.c, which feeds it
 * the seed corpus. A broken invariant aborts, which both count as a
 * crash.
 */
#ifndef CHATD_FUZZ_H
#define CHATD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A malloc'd copy of data with a NUL after it, exactly n + 1 bytes. */
static inline char *
fuzz_strdup(const uint8_t *data, size_t n)
{
	char	*s;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		s[i] = (char)data[i];
	s[n] = '\0';
	return s;
}

/*
 * Whether s[0..n) is valid UTF-8 (no overlong forms, surrogates or
 * values past U+10FFFF) holding no C0 control but TAB, no DEL and no C1
 * control: what text hygiene promises. Written apart from text.c on
 * purpose, so that the two check each other.
 */
static inline int
fuzz_clean_utf8(const unsigned char *s, size_t n)
{
	size_t		i = 0, k, need;
	uint32_t	cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1fU;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0fU;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07U;
			min = 0x10000;
		} else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3fU);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 &&
		    cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += need + 1;
	}
	return 1;
}

#endif
