/* SPDX-License-Identifier: ISC */
/*
 * fault.c: crash points, for tests only. A build configured with
 * --enable-fault-injection (and tests/chatd-fault, which make check
 * always builds) compiles FAULT(point) into the critical sections; the
 * environment variable CHATD_CRASH=POINT[:N][@K] makes the worker of the
 * Kth connection (any worker without @K) kill itself with SIGKILL the
 * Nth time (default 1) it passes POINT, so a test can prove that a death
 * there leaves the hub consistent or repairable. CHATD_CRASH=list prints
 * the points. Without CHATD_FAULTS every FAULT() is nothing at all.
 */
#ifndef CHATD_FAULT_H
#define CHATD_FAULT_H

/*
 * Every point, with where it is. The bats suite (tests/faults.bats) has
 * a test for each, and fails for a point it lacks.
 *
 * hub.lock		the hub lock just taken (hub_lock)
 * slot.claim		a slot written, not yet claimed (hub_claim_locked)
 * slot.claimed		a slot published as claimed (hub_claim_locked)
 * slot.register	name and key written, slot not active (worker.c)
 * slot.registered	active, arrival not yet told (worker.c)
 * slot.leave		quit told, slot not yet freed (session.c)
 * slot.release		slot freed, its fields not cleared (slot.c)
 * ring.reserve		log bytes reserved, not yet written (ring.c)
 * ring.write		a record written, not yet published (ring.c)
 * hub.post		a record published, its chain not linked (hub.c)
 * room.history		a history entry written, not counted (room.c)
 * join.make		a room entry half rewritten (room_make_locked)
 * join.left		the old room told, the slot not moved (cmd.c)
 * join.moved		the slot moved, the new room not told (cmd.c)
 * nick.name		the new name written, the old key kept (cmd.c)
 * nick.key		renamed, the room not told (cmd.c)
 * history.replay	after the first replayed line (worker_replay)
 * ban.add		a ban entry half written (ban_add_locked)
 * kick.half		the target told, not yet out of its room (session.c)
 * state.journal	history appended, journal not unlocked (journal.c)
 * state.replace	NAME.tmp written, not renamed (statedir.c)
 * remote.add		a remote user written, not yet used (remote.c)
 * remote.del		a remote user out of its rooms, still used (remote.c)
 * link.join		a remote user in a room, the room not told (link.c)
 * link.split		half the remote users of a netsplit gone (link.c)
 */
#define FAULT_POINTS \
	X(HUB_LOCK,		"hub.lock") \
	X(SLOT_CLAIM,		"slot.claim") \
	X(SLOT_CLAIMED,		"slot.claimed") \
	X(SLOT_REGISTER,	"slot.register") \
	X(SLOT_REGISTERED,	"slot.registered") \
	X(SLOT_LEAVE,		"slot.leave") \
	X(SLOT_RELEASE,		"slot.release") \
	X(RING_RESERVE,		"ring.reserve") \
	X(RING_WRITE,		"ring.write") \
	X(HUB_POST,		"hub.post") \
	X(ROOM_HISTORY,		"room.history") \
	X(JOIN_MAKE,		"join.make") \
	X(JOIN_LEFT,		"join.left") \
	X(JOIN_MOVED,		"join.moved") \
	X(NICK_NAME,		"nick.name") \
	X(NICK_KEY,		"nick.key") \
	X(HISTORY_REPLAY,	"history.replay") \
	X(BAN_ADD,		"ban.add") \
	X(KICK_HALF,		"kick.half") \
	X(STATE_JOURNAL,	"state.journal") \
	X(STATE_REPLACE,	"state.replace") \
	X(WAKE_CLAIMED,		"wake.claimed") \
	X(REMOTE_ADD,		"remote.add") \
	X(REMOTE_DEL,		"remote.del") \
	X(LINK_JOIN,		"link.join") \
	X(LINK_SPLIT,		"link.split")

enum fault_point {
#define X(id, name)	FP_##id,
	FAULT_POINTS
#undef X
	FP_COUNT
};

#define FAULT_LINK	0xFFFFFFFFU	/* fault_worker(): the link process */

#ifdef CHATD_FAULTS
void	fault_init(void);
void	fault_worker(unsigned);
void	fault_link_spawned(void);
void	fault_pass(enum fault_point);
#define FAULT(p)	fault_pass(FP_##p)
#else
#define fault_init()	do { } while (0)
#define fault_worker(n)	do { (void)(n); } while (0)
#define fault_link_spawned()	do { } while (0)
#define FAULT(p)	do { } while (0)
#endif

#endif
