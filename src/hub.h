/* SPDX-License-Identifier: ISC */
/*
 * hub.c: the shared segment every chatd process of one instance maps:
 * a header, the user slot table, the room table and the message log.
 * It promises one lock for all of it, taken only through hub_lock(),
 * which repairs what a dead holder left; slots that name their owner by
 * pid and start time, so a dead owner is always found; and a segment
 * and run directory that belong to us alone.
 */
#ifndef CHATD_HUB_H
#define CHATD_HUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "config.h"
#include "defs.h"
#include "dialect.h"
#include "proc.h"
#include "ring.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_CLAIMED,	/* connected, choosing a name */
	SLOT_ACTIVE,	/* registered */
	SLOT_KICKED,	/* gone for everybody, its worker not yet */
	SLOT_LINK	/* the link process (link.c): in no list */
};

/*
 * One connection. state, room, gen and rpos are read without the lock
 * by senders deciding whom to wake, and relay is theirs to hand over
 * wake-ups; everything else is written under the lock. The fields a
 * sender reads come first, together.
 */
struct slot {
	_Atomic uint32_t	state;
	_Atomic uint32_t	wake;	/* a wake-up is pending: WAKE_* */
	_Atomic uint32_t	gen;	/* bumped at each claim */
	_Atomic uint32_t	room;
	_Atomic uint64_t	relay;	/* wake-ups to pass on, see notify.c */
	_Atomic int64_t		wake_at;	/* when wake was set, now_ms() */
	/* Stored by the owner alone: its log position after a drain. */
	_Atomic uint64_t	rpos;
	uint64_t		lastpost;	/* 1 + last record for it alone */
	pid_t			pid;
	uint64_t		pstart;	/* owner's start time, see proc_start() */
	uint64_t		regseq;	/* registration order */
	int64_t			conntime;
	uint64_t		nsent;
	_Atomic uint32_t	op;	/* an operator */
	/* Stored by the owner alone, read by chatctl(8). */
	_Atomic uint64_t	queued;	/* bytes its client has yet to read */
	_Atomic uint64_t	wakeups;	/* times its pipe woke it */
	_Atomic uint64_t	lines;	/* log records copied for its client */
	char			name[NAME_MAX_LEN + 1];
	char			key[NAME_MAX_LEN + 1];	/* name in lower case */
	char			addr[ADDR_MAX_LEN + 1];
	struct addr		ip;	/* addr parsed; family 0: "local" */
};

/*
 * A remembered room. Its history is hist_len + 1 entries in the history
 * area, used as a ring: nhist counts the lines ever added, and the last
 * min(nhist, hist_len) are shown, so the entry being written is never
 * one that a reader may replay.
 */
struct room {
	uint64_t	lastpost;	/* 1 + position of its last record */
	uint32_t	used;
	uint64_t	lastleft;	/* hdr->roomseq when last left */
	uint64_t	nhist;
	_Atomic uint32_t remotes;	/* remote users in it */
	char		name[ROOM_MAX_LEN + 1];
	char		key[ROOM_MAX_LEN + 1];
};

struct hist_entry {
	int64_t		time;
	uint32_t	len;
	uint32_t	kind;
	/* hdr->hist_size - sizeof(struct hist_entry) bytes of text follow */
};

/*
 * A ban of a range of addresses (ban.c). range of family 0 is "local",
 * the clients that have no numeric address. Written whole before used.
 */
struct ban {
	uint32_t	used;
	int64_t		expires;	/* time(); 0: never */
	struct cidr	range;
	char		addr[CIDR_STR_MAX];	/* the range as shown */
	char		name[NAME_MAX_LEN + 1];	/* empty: banned as a range */
	char		reason[BAN_REASON_MAX + 1];
};

/*
 * The search index of the ban table: the active bans' ranges, sorted,
 * and which prefix lengths occur, so that a connection is checked with
 * one binary search per length. Derived from the table: a writer marks
 * it stale (ok = 0) before it changes an entry, and the next search
 * rebuilds it, under the lock, so a dead writer leaves nothing to
 * repair.
 */
struct ban_key {
	uint8_t		b[16];		/* the range's address, host bits 0 */
	uint8_t		family;		/* 0, 4 or 6: as in struct addr */
	uint8_t		len;
	uint8_t		pad_[6];
	int64_t		expires;
};

struct ban_index {
	uint32_t	ok;		/* 0: stale */
	uint32_t	n;
	uint64_t	lens[3][3];	/* per family 0/4/6, bit per length */
	struct ban_key	keys[CHATD_MAX_BANS];
};

/*
 * A user of the rest of the IRC network, introduced by the link process
 * (remote.c). Its rooms are a bitmap of hdr->nrooms bits after it;
 * hdr->remote_size is the size of the whole entry.
 */
struct remote {
	uint32_t	used;
	uint32_t	server;		/* index in hdr->servers */
	uint32_t	nrooms;		/* rooms it is in */
	uint32_t	pad_;
	uint64_t	seq;		/* in hdr->regseq's order */
	int64_t		since;
	char		name[NICK_MAX_LEN + 1];
	char		key[NICK_MAX_LEN + 1];
	uint64_t	rooms[];
};

/* A server of the network; servers[0] is the hub we link to. */
struct net_server {
	uint32_t	used;
	uint32_t	via;		/* the server it is behind */
	char		name[SERVER_NAME_MAX + 1];
};

/*
 * chatctl's audit lines, waiting for a server process to log them
 * (audit.c): a ring of AUDIT_QUEUE_LEN, written and taken under the
 * lock. posted and logged count lines, and may be read without it.
 */
struct audit_entry {
	int32_t		pri;	/* the syslog priority */
	char		line[AUDIT_LINE_MAX];
};

struct audit_queue {
	_Atomic uint64_t	posted;	/* lines ever queued */
	_Atomic uint64_t	logged;	/* lines ever taken to be logged */
	struct audit_entry	entry[AUDIT_QUEUE_LEN];
};

enum link_state {
	LINK_NONE,	/* no --link */
	LINK_CONNECTING,
	LINK_UP,
	LINK_DOWN
};

/* What the link process says of itself, for chatctl status. */
struct link_info {
	_Atomic uint32_t	state;
	_Atomic int32_t		slot;	/* its slot, or -1 */
	int64_t			since;	/* in this state since, time() */
	int64_t			retry;	/* down: next try, time() */
	_Atomic uint32_t	remotes;	/* remote users in a room */
	char			hub[SERVER_NAME_MAX + 1];
	char			error[LINK_ERROR_MAX + 1];
};

struct hub_hdr {
	uint64_t		magic;
	uint32_t		version;
	uint32_t		nslots;
	uint32_t		nrooms;
	uint32_t		slot_size;
	uint32_t		hist_len;	/* lines of history per room */
	uint32_t		hist_size;	/* bytes of one history entry */
	uint64_t		ring_bytes;
	uint64_t		total;
	_Atomic uint32_t	ready;	/* set last by the creator */
	uid_t			owner;
	pid_t			listener;	/* the standalone listener, or 0 */
	uint64_t		lstart;
	int64_t			started;
	uint64_t		regseq;
	uint64_t		roomseq;
	_Atomic uint32_t	hwm;	/* slots in use are below this */
	_Atomic uint32_t	shutdown;
	_Atomic uint64_t	relayed;	/* chat, /me and direct messages */
	_Atomic uint64_t	repairs;	/* locks recovered from dead owners */
	_Atomic uint64_t	wakeups;	/* the slots' counts, once freed */
	_Atomic uint64_t	late;	/* wake-ups a sender's backstop made */
	_Atomic uint64_t	lines;
	uint64_t		lastall;	/* 1 + last record for every room */
	_Atomic uint32_t	livegen;	/* bumped when live changes */
	struct live		live;	/* settings SIGHUP can change */
	char			statedir[PATH_MAX];	/* --state-dir; empty: none */
	uint64_t		histseq;	/* last history line's number */
	_Atomic uint64_t	journalkept;	/* its size when last compacted */
	uint32_t		bans_frozen;	/* the bans file could not be read */
	uint32_t		nremotes;	/* remote table entries */
	uint32_t		remote_size;	/* bytes of one */
	struct link_info	link;
	struct net_server	servers[NET_SERVERS_MAX];
	pthread_mutex_t		lock;
	struct ring_hdr		ring;
	struct ban_index	banidx;
	struct ban		bans[CHATD_MAX_BANS];
	struct audit_queue	audit;
};

struct hub {
	struct hub_hdr	*hdr;
	struct slot	*slots;
	struct room	*rooms;
	unsigned char	*hist;
	unsigned char	*remotes;	/* hdr->nremotes entries */
	struct ring	 ring;
	size_t		 size;
	int		 dirfd;	/* the instance's directory of pipes */
	int		 dirlocked;	/* we hold its flock */
	char		 shmname[INSTANCE_MAX_LEN + 16];
	dev_t		 shmdev;	/* the object shmname gave us */
	ino_t		 shmino;
	char		 dirpath[PATH_MAX];
};

enum hub_role {
	HUB_LISTENER,	/* standalone: refuse a second listener */
	HUB_INETD	/* one of many instances: create or attach, and
			   keep the directory lock until hub_dir_unlock */
};

/* Why a slot could not be claimed. */
enum hub_refusal {
	HUB_OK,
	HUB_FULL,
	HUB_PERADDR,
	HUB_BANNED
};

/*
 * What the persistence layer must hear of (state.c registers it): a new
 * segment to fill before it is ready, history lines and ban changes
 * under the lock, and each unlock, after which it writes them out.
 */
struct hub_hooks {
	void	(*load)(struct hub *, const struct config *);
	void	(*history)(struct hub *, uint32_t, int64_t, int,
		    const char *, size_t);
	void	(*bans)(void);
	int	(*unlocked)(struct hub *);
};

/*
 * Lock discipline. A function that must be called with the hub lock
 * held ends in _locked and starts with HUB_ASSERT_LOCKED(); one that
 * takes the lock, or must not be called under it (it writes a pipe or
 * a file), starts with HUB_ASSERT_UNLOCKED(), since the lock is not
 * recursive and nothing that can block is done under it. Built with
 * --enable-lock-checks (the test builds), a breach is fatal and names
 * the function; otherwise the checks are not compiled in.
 */
#ifdef CHATD_LOCK_CHECKS
#define HUB_ASSERT_LOCKED()	hub_assert_lock(__func__, 1)
#define HUB_ASSERT_UNLOCKED()	hub_assert_lock(__func__, 0)
void	hub_assert_lock(const char *, int);
#else
#define HUB_ASSERT_LOCKED()	((void)0)
#define HUB_ASSERT_UNLOCKED()	((void)0)
#endif

/* hub.c: the segment, its lock and the log. */
void	hub_set_hooks(const struct hub_hooks *);
void	hub_note_history_locked(struct hub *, uint32_t, int64_t, int,
	    const char *, size_t);
void	hub_note_bans_locked(void);
void	hub_open(struct hub *, const struct config *, enum hub_role);
int	hub_open_running(struct hub *, const struct config *, char *, size_t);
void	hub_destroy(struct hub *);
void	hub_leave_begin(struct hub *);
void	hub_leave_end(struct hub *);
void	hub_lock(struct hub *);
void	hub_unlock(struct hub *);
void	hub_set_listener(struct hub *);
uint32_t hub_publish(struct hub *, const struct live *);
int	hub_fetch(struct hub *, struct live *, uint32_t *);
void	hub_post_locked(struct hub *, const struct record *, const char *,
	    size_t);
int	hub_resync_locked(const struct hub *, uint32_t, int, uint64_t *);

/* The size of a remote table entry, with its bitmap of nrooms rooms. */
static inline uint32_t
remote_size(uint32_t nrooms)
{
	return (uint32_t)(sizeof(struct remote) +
	    (size_t)((nrooms + 63U) / 64U) * 8U);
}

static inline struct remote *
remote_at(const struct hub *h, uint32_t i)
{
	return (struct remote *)(void *)(h->remotes +
	    (size_t)i * h->hdr->remote_size);
}

/* rundir.c: the run directory and the instance's directory lock. */
struct stat;
int	hub_rundir_open(int, const char *, const char *);
void	hub_dir_flock(struct hub *);
void	hub_dir_lock(struct hub *, const struct config *);
int	hub_dir_lock_admin(struct hub *, const struct config *, char *,
	    size_t);
int	hub_admin_may_use(const struct stat *);
void	hub_dir_unlock(struct hub *);
int	hub_dir_reopen(struct hub *);
int	hub_dir_refresh(struct hub *, int, char *, size_t);

/* slot.c: the slot table. hub_count reads atomics alone. */
int	hub_claim_locked(struct hub *, const char *, unsigned, unsigned,
	    unsigned, enum hub_refusal *);
void	hub_release_locked(struct hub *, int);
int	hub_find_locked(const struct hub *, const char *);
size_t	hub_count(const struct hub *, uint32_t);
int	hub_quiet_locked(const struct hub *, uint32_t);
int	hub_find_dead_locked(const struct hub *, pid_t);
int	hub_held_locked(const struct hub *, pid_t, uint64_t);
int	hub_op_heir_locked(const struct hub *);
size_t	hub_users(const struct hub *, uint32_t);
int	hub_link_slot(const struct hub *);

/*
 * remote.c: the users and servers of the rest of the network, as the
 * link process sees them. Keys are folded by the link's dialect.
 */
#define REMOTE_NONE	UINT32_MAX	/* a server behind nothing */
int	remote_find_locked(const struct hub *, const char *);
int	remote_add_locked(struct hub *, const char *, const char *, uint32_t);
void	remote_del_locked(struct hub *, int);
int	remote_in(const struct hub *, int, uint32_t);
int	remote_join_locked(struct hub *, int, uint32_t);
int	remote_part_locked(struct hub *, int, uint32_t);
int	remote_server_locked(struct hub *, const char *, uint32_t);
int	remote_server_find_locked(const struct hub *, const char *);
int	remote_behind_locked(const struct hub *, uint32_t, uint32_t);
void	remote_server_del_locked(struct hub *, uint32_t);
void	remote_reset_locked(struct hub *);


#endif
