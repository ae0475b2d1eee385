/* SPDX-License-Identifier: ISC */
/*
 * The message log ring; see ring.h for the protocol between the writer
 * and the lock-free readers.
 */
#include <string.h>

#include "defs.h"
#include "fault.h"
#include "ring.h"

_Static_assert(sizeof(struct record) == RING_ALIGN, "record header size");
_Static_assert(RECORD_TEXT_MAX < UINT16_MAX, "record length field");

static uint64_t
rec_size(size_t len)
{
	return (sizeof(struct record) + len + RING_ALIGN - 1) &
	    ~(uint64_t)(RING_ALIGN - 1);
}

void
ring_init(struct ring *r)
{
	atomic_store(&r->hdr->head, 0);
	atomic_store(&r->hdr->alloc, 0);
}

/*
 * Checks what a dead writer may have left. Alloc may be ahead of head;
 * anything else is damage no writer can cause.
 */
int
ring_check(const struct ring *r)
{
	uint64_t	head = atomic_load(&r->hdr->head);
	uint64_t	alloc = atomic_load(&r->hdr->alloc);

	if (head % RING_ALIGN != 0 || alloc < head)
		return -1;
	return 0;
}

uint64_t
ring_head(const struct ring *r)
{
	return atomic_load_explicit(&r->hdr->head, memory_order_acquire);
}

/*
 * Where a record of len bytes of text will go: at the head, or past the
 * pad that fills the ring's tail. The caller holds the hub lock.
 */
uint64_t
ring_next_pos(const struct ring *r, size_t len)
{
	uint64_t	head = atomic_load_explicit(&r->hdr->head,
			    memory_order_relaxed);
	uint64_t	room = r->size - head % r->size;

	if (len > RECORD_TEXT_MAX)
		len = RECORD_TEXT_MAX;
	return room < rec_size(len) ? head + room : head;
}

/*
 * The oldest position whose bytes are intact; with the hub lock held
 * (no writer running) everything from here to the head can be read.
 */
uint64_t
ring_tail(const struct ring *r)
{
	uint64_t	alloc = atomic_load(&r->hdr->alloc);

	return alloc > r->size ? alloc - r->size : 0;
}

/* The record at pos, for a caller holding the hub lock. */
const struct record *
ring_at(const struct ring *r, uint64_t pos)
{
	return (const struct record *)(r->base + pos % r->size);
}

/* Reserves [from, to) before the writer touches it. */
static void
ring_reserve(struct ring *r, uint64_t to)
{
	if (atomic_load_explicit(&r->hdr->alloc, memory_order_relaxed) < to)
		atomic_store_explicit(&r->hdr->alloc, to,
		    memory_order_relaxed);
	/* Orders the reservation before the stores that follow. */
	atomic_thread_fence(memory_order_release);
}

static void
ring_put(struct ring *r, uint64_t pos, uint64_t size,
    const struct record *tmpl, uint16_t kind, const char *text, size_t len)
{
	struct record	*rec = (struct record *)(r->base + pos % r->size);

	ring_reserve(r, pos + size);
	FAULT(RING_RESERVE);
	*rec = *tmpl;
	rec->pos = pos;
	rec->size = (uint32_t)size;
	rec->kind = kind;
	rec->len = (uint16_t)len;
	if (len > 0)
		memcpy(rec + 1, text, len);
	FAULT(RING_WRITE);
	atomic_store_explicit(&r->hdr->head, pos + size, memory_order_release);
}

/*
 * Appends one record; the caller holds the hub lock. Text longer than a
 * record can hold is cut (the callers never send that much).
 */
void
ring_append(struct ring *r, const struct record *tmpl, const char *text,
    size_t len)
{
	uint64_t	head = atomic_load_explicit(&r->hdr->head,
			    memory_order_relaxed);
	uint64_t	room;
	struct record	pad = { .room = RING_ALLROOMS, .target = -1,
			    .exclude = -1, .sender = -1 };

	if (len > RECORD_TEXT_MAX)
		len = RECORD_TEXT_MAX;
	room = r->size - head % r->size;
	if (room < rec_size(len)) {
		/* A pad has no text; its size covers the tail. */
		ring_put(r, head, room, &pad, REC_PAD, NULL, 0);
		head += room;
	}
	ring_put(r, head, rec_size(len), tmpl, tmpl->kind, text, len);
}

/* Whether bytes from pos on may have been overwritten since they were read. */
static int
ring_lapped(const struct ring *r, uint64_t pos)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&r->hdr->alloc, memory_order_relaxed) >
	    pos + r->size;
}

/*
 * Copies the next record at *pos that want() accepts into rec and text
 * (RECORD_TEXT_MAX bytes), skipping the rest. Returns RING_EMPTY when
 * the reader has caught up, RING_LAPPED when it fell too far behind.
 */
WAKE_PATH enum ring_result
ring_read(const struct ring *r, uint64_t *pos, struct record *rec, char *text,
    int (*want)(const struct record *, void *), void *arg)
{
	const unsigned char	*p;
	uint64_t		 off;

	while (*pos < ring_head(r)) {
		if (ring_lapped(r, *pos))
			return RING_LAPPED;
		off = *pos % r->size;
		p = r->base + off;
		memcpy(rec, p, sizeof(*rec));
		if (ring_lapped(r, *pos))
			return RING_LAPPED;
		/* A good copy of a bad record is damage, not lapping. */
		if (rec->pos != *pos || rec->size < sizeof(*rec) ||
		    rec->size % RING_ALIGN != 0 || rec->size > r->size - off ||
		    rec->len > rec->size - sizeof(*rec) ||
		    rec->len > RECORD_TEXT_MAX)
			return RING_LAPPED;
		*pos += rec->size;
		if (rec->kind == REC_PAD || !want(rec, arg))
			continue;
		memcpy(text, p + sizeof(*rec), rec->len);
		if (ring_lapped(r, *pos - rec->size))
			return RING_LAPPED;
		return RING_OK;
	}
	return RING_EMPTY;
}
