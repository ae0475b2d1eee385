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
 * Every point: its name in CHATD_CRASH and where it is. The bats suite
 * (tests/faults.bats) has a test for each, and fails for one it lacks.
 */
#define FAULT_POINTS \
	X(HUB_LOCK,		"hub.lock")	/* the hub lock just taken */ \
	X(SLOT_CLAIM,		"slot.claim")	/* slot written, not published */ \
	X(SLOT_CLAIMED,		"slot.claimed")	/* slot published as claimed */ \
	X(SLOT_REGISTER,	"slot.register")	/* name written, not active */ \
	X(SLOT_REGISTERED,	"slot.registered")	/* active, not announced */ \
	X(SLOT_LEAVE,		"slot.leave")	/* quit told, slot not freed */ \
	X(SLOT_RELEASE,		"slot.release")	/* freed, fields not cleared */ \
	X(RING_RESERVE,		"ring.reserve")	/* bytes reserved, not written */ \
	X(RING_WRITE,		"ring.write")	/* record written, not published */ \
	X(HUB_POST,		"hub.post")	/* published, chain not linked */ \
	X(ROOM_HISTORY,		"room.history")	/* history entry, not counted */ \
	X(JOIN_MAKE,		"join.make")	/* a room entry half rewritten */ \
	X(JOIN_LEFT,		"join.left")	/* old room told, not moved */ \
	X(JOIN_MOVED,		"join.moved")	/* moved, new room not told */ \
	X(NICK_NAME,		"nick.name")	/* new name, old key */ \
	X(NICK_KEY,		"nick.key")	/* renamed, room not told */ \
	X(HISTORY_REPLAY,	"history.replay")	/* between replayed lines */ \
	X(BAN_ADD,		"ban.add")	/* a ban entry half written */ \
	X(KICK_HALF,		"kick.half")	/* target told or gone, not both */ \
	X(STATE_JOURNAL,	"state.journal")	/* history appended, unlocked */ \
	X(STATE_REPLACE,	"state.replace")	/* NAME.tmp written, not renamed */

enum fault_point {
#define X(id, name)	FP_##id,
	FAULT_POINTS
#undef X
	FP_COUNT
};

#ifdef CHATD_FAULTS
void	fault_init(void);
void	fault_worker(unsigned);
void	fault_pass(enum fault_point);
#define FAULT(p)	fault_pass(FP_##p)
#else
#define fault_init()	do { } while (0)
#define fault_worker(n)	do { (void)(n); } while (0)
#define FAULT(p)	do { } while (0)
#endif

#endif
