/* SPDX-License-Identifier: ISC */
/*
 * room.c: the room table and each room's history, in the shared segment.
 * Every function here is called with the hub lock held.
 *
 * Why history lives beside the log rather than in it: the log is one
 * ring shared by all rooms, so a busy room would overwrite a quiet
 * room's lines. Each room instead keeps its own small ring of its last
 * --history chat and /me lines, written under the same lock as the log
 * record it copies, while delivery keeps going through the log. A reader
 * copies a room's history out under the lock and formats it after.
 */
#ifndef CHATD_ROOM_H
#define CHATD_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"

/* A room's history copied out of the segment. */
struct history {
	unsigned char	*buf;	/* n entries of hdr->hist_size bytes */
	size_t		 n;
	size_t		 size;
};

int		 room_find_locked(const struct hub *, const char *);
int		 room_make_locked(struct hub *, const char *);
void		 room_left_locked(struct hub *, uint32_t);
size_t		 room_count_locked(const struct hub *);
void		 room_history_add_locked(struct hub *, uint32_t, int64_t,
		    int, const char *, size_t);
void		 room_history_copy_locked(const struct hub *, uint32_t,
		    struct history *);

#endif
