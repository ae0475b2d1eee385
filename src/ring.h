/* SPDX-License-Identifier: ISC */
/*
 * ring.c: the message log, a ring of variable-length records in the
 * shared segment. One writer at a time (the caller holds the hub lock);
 * any number of readers, which take no lock at all.
 *
 * Positions are byte offsets that only grow; a record at position p
 * lives at base[p % size]. Records are 64-byte aligned and never wrap
 * around the end of the ring (a pad record fills the tail instead).
 *
 * The writer first raises `alloc` to the end of the bytes it is about to
 * overwrite, then writes the record, then publishes it by moving `head`.
 * A reader copies a record and only then checks `alloc`: if the writer
 * has reserved the bytes it was reading, the copy may be torn and the
 * reader has been lapped. A writer that dies half-way leaves alloc ahead
 * of head and an unpublished record that nobody reads, so nothing needs
 * repair.
 */
#ifndef CHATD_RING_H
#define CHATD_RING_H

#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>

#define RING_ALIGN	64
#define RING_ALLROOMS	UINT32_MAX	/* a record for every room */

enum rec_kind {
	REC_PAD = 1,	/* filler at the end of the ring */
	REC_CHAT,	/* <NAME> TEXT, to a room */
	REC_ME,		/* * NAME TEXT, to a room */
	REC_NOTICE,	/* * ... from the server, to a room or everybody */
	REC_DIRECT,	/* a notice for one user only */
	REC_DM,		/* a direct message, for one user only */
	REC_KICK,	/* its one user is told the line and disconnected */
	REC_EVENT	/* for the link process alone: see session_event_locked */
};

struct ring_hdr {
	_Atomic uint64_t	head;	/* end of the last published record */
	_Atomic uint64_t	alloc;	/* end of the bytes a writer may be changing */
};

/* A record's fixed part, as stored in the ring and copied out. */
struct record {
	uint64_t	pos;	/* its own position: a stamp readers check */
	uint32_t	size;	/* bytes it occupies, a multiple of RING_ALIGN */
	uint16_t	kind;
	uint16_t	len;	/* bytes of text that follow the fixed part */
	uint32_t	room;	/* room index, or RING_ALLROOMS */
	int32_t		target;	/* the only recipient's slot, or -1 */
	uint32_t	tgen;	/* and that slot's generation */
	int32_t		exclude;	/* a slot that must not receive it, or -1 */
	uint32_t	xgen;
	int32_t		sender;	/* the slot that wrote it, or -1 */
	int64_t		time;	/* seconds since the epoch */
	uint64_t	prev;	/* 1 + the previous record of its chain, or 0 */
	char		pad_[8];	/* to RING_ALIGN */
};

struct ring {
	struct ring_hdr	*hdr;
	unsigned char	*base;
	uint64_t	 size;	/* a power of two */
};

enum ring_result {
	RING_EMPTY,	/* nothing new */
	RING_OK,	/* a record was copied */
	RING_LAPPED	/* the reader fell a whole ring behind */
};

void		ring_init(struct ring *);
int		ring_check(const struct ring *);
uint64_t	ring_head(const struct ring *);
uint64_t	ring_next_pos(const struct ring *, size_t);
uint64_t	ring_tail(const struct ring *);
const struct record *ring_at(const struct ring *, uint64_t);
void		ring_append(struct ring *, const struct record *, const char *,
		    size_t);
enum ring_result ring_read(const struct ring *, uint64_t *,
		    struct record *, char *,
		    int (*)(const struct record *, void *), void *);

#endif
