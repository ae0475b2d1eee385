/* SPDX-License-Identifier: ISC */
/*
 * duration.c: how long a ban lasts, as an operator writes it ("90s",
 * "30m", "12h", "7d", "2w", or a sum such as "1h30m") and as chatd
 * shows the time left. Pure code, for the fuzzers and unit tests.
 */
#ifndef CHATD_DURATION_H
#define CHATD_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define DURATION_STR_MAX	32	/* a formatted duration, NUL included */

const char	*duration_parse(const char *, uint64_t, uint64_t *);
void		 duration_format(uint64_t, char *, size_t);

#endif
