/* SPDX-License-Identifier: ISC */
/*
 * stfmt.c: the state files' line formats, for statedir.c and journal.c
 * (state.h has the decoders the fuzz harness uses).
 */
#ifndef CHATD_STFMT_H
#define CHATD_STFMT_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"

/* The longest line a valid file holds: a history line, all escaped. */
#define LINE_MAX_BYTES	(4 * HIST_TEXT_MAX(CHATD_MAX_LINE_CAP) + 256)

/* A growing byte buffer: a file's content or the lines to append. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

void	sb_add(struct sbuf *, const void *, size_t);
void	hist_format(struct sbuf *, uint64_t, int64_t, int, const char *,
	    const char *, size_t);
void	ban_format(struct sbuf *, const struct ban *);

#endif
