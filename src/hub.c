/* SPDX-License-Identifier: ISC */
/*
 * The shared segment of one chatd instance.
 *
 * Layout: struct hub_hdr, then nslots struct slot, then the room table,
 * then the message log ring (see ring.h). It holds no pointers, only
 * indexes, since each process may map it at another address.
 *
 * Locking. One robust, process-shared mutex, hdr->lock, protects the slot
 * table, the room table, the registration counter and the ring's writer
 * side. Readers of the ring take no lock (ring.h says how they detect a
 * torn read). Senders deciding whom to wake read a slot's state, room and
 * gen as atomics without the lock: a user who registered before a record
 * was appended is visible to its sender, and a stale read costs at most
 * one spurious wake-up. Nothing that can block is done under the lock:
 * no socket or blocking pipe writes, no logging.
 *
 * Repair. Every critical section publishes last: a slot's fields are
 * written before its state (and hwm, where every scan stops, covers it
 * before that), a record before the head moves. A holder
 * that dies at any point therefore leaves either nothing visible or a
 * slot whose owner is dead, which hub_find_dead_locked() reports and
 * session_bury() ends as "connection lost". hub_lock() checks the ring on
 * EOWNERDEAD, counts the repair, marks the mutex consistent and logs
 * after unlocking.
 *
 * Ownership. The segment is /chatd.INSTANCE, created O_EXCL with mode
 * 0600 and checked on attach (a regular object, owner, mode, size,
 * magic, version). One whose processes are all gone is stale and
 * rebuilt. Creation, the stale check and removal are serialised by
 * flock() on the instance's run directory, so many inetd instances
 * starting at once build it once.
 * chatctl(8) attaches under the same lock but only to a live segment:
 * it never creates one nor removes a stale one, and root may manage an
 * instance that runs as another user.
 *
 * Who removes it. The standalone listener does, at shutdown
 * (hub_destroy). Without a live listener (inetd mode, or a listener that
 * died) the last process to leave does: once it has freed its slot
 * and seen its last wake-ups and history lines through,
 * hub_leave_begin() takes the directory lock and hub_leave_end()
 * removes everything if no slot is held by a live process. Two races
 * are closed. An instance that has attached but not yet claimed a
 * slot would be invisible to that check and left alone on an unlinked
 * segment, so under HUB_INETD hub_open() returns still holding the lock
 * and the worker releases it (hub_dir_unlock) only once its slot is
 * claimed. And between freeing its slot and taking the lock, a leaver
 * may let a new instance find the segment unused and build another
 * under the same name: so the leaver removes it only if the name still
 * names the segment it mapped (hub_named). A leaver that
 * finds the directory removed (st_nlink 0) knows its segment is gone
 * already. Dead slots need no burial first: if no live process is left,
 * nobody is there to hear "connection lost". A last process killed with
 * SIGKILL removes nothing; the next one finds the segment stale.
 *
 * A directory removed under a running server. Senders find pipes by
 * name, so a worker whose pipe vanished with its directory could no
 * longer be woken. The standalone listener checks its directory every
 * RUNDIR_CHECK_MS, makes it again and sends every worker SIGUSR1; each
 * makes its pipe anew there (hub_dir_refresh, worker_repipe), and a
 * sender whose pipe or directory is stale looks again (notify_slot).
 *
 * Lock order: the directory lock before the hub mutex, never the other
 * way round.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ban.h"
#include "config.h"
#include "fault.h"
#include "hub.h"
#include "log.h"

#define HUB_MAGIC	0x6368617464687562ULL	/* "chatdhub" */
#define HUB_VERSION	12

static int	hub_repaired;
static int	hub_depth;	/* 1 while this process holds the lock */
static const struct hub_hooks	*hub_hooks;

/*
 * The persistence layer above registers what it must hear of: the hub
 * never calls upwards (see ARCHITECTURE, "Layers").
 */
void
hub_set_hooks(const struct hub_hooks *hooks)
{
	hub_hooks = hooks;
}

/* Under the lock: a line entered a room's history. */
void
hub_note_history_locked(struct hub *h, uint32_t room, int64_t when, int kind,
    const char *text, size_t len)
{
	HUB_ASSERT_LOCKED();
	if (hub_hooks != NULL)
		hub_hooks->history(h, room, when, kind, text, len);
}

/* Under the lock: the ban table changed. */
void
hub_note_bans_locked(void)
{
	HUB_ASSERT_LOCKED();
	if (hub_hooks != NULL)
		hub_hooks->bans();
}

static size_t
align_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

struct layout {
	size_t	slots;
	size_t	rooms;
	size_t	hist;
	size_t	remotes;
	size_t	ring;
	size_t	total;
};

static void
layout(const struct hub_hdr *g, struct layout *l)
{
	/*
	 * The room table before the slots: every worker reads its room's
	 * entry, and next to the header it shares the header's 2 MiB of
	 * page table (one page less for every worker).
	 */
	l->rooms = align_up(sizeof(struct hub_hdr), 4096);
	l->slots = align_up(l->rooms + (size_t)g->nrooms * sizeof(struct room),
	    64);
	l->hist = align_up(l->slots + (size_t)g->nslots * sizeof(struct slot),
	    64);
	l->remotes = align_up(l->hist + (size_t)g->nrooms *
	    (g->hist_len + 1) * g->hist_size, 64);
	l->ring = align_up(l->remotes + (size_t)g->nremotes * g->remote_size,
	    4096);
	l->total = l->ring + RING_BYTES;
}

/* Points the handle's fields into a mapped segment. */
static void
hub_bind(struct hub *h, void *base, size_t size)
{
	struct layout	l;

	h->hdr = base;
	h->size = size;
	layout(h->hdr, &l);
	h->slots = (struct slot *)((char *)base + l.slots);
	h->rooms = (struct room *)((char *)base + l.rooms);
	h->hist = (unsigned char *)base + l.hist;
	h->remotes = (unsigned char *)base + l.remotes;
	h->ring.hdr = &h->hdr->ring;
	h->ring.base = (unsigned char *)base + l.ring;
	h->ring.size = RING_BYTES;
}

/*
 * Proves that a lock holder's death is reported as EOWNERDEAD before
 * chatd bets its consistency on it, as Samba's tdb does.
 */
static void
robust_selftest(void)
{
	pthread_mutexattr_t	 attr;
	pthread_mutex_t		*m;
	pid_t			 pid;
	int			 status, r;

	m = mmap(NULL, sizeof(pthread_mutex_t), PROT_READ | PROT_WRITE,
	    /* cppcheck-suppress invalidFunctionArg ; anonymous: fd -1 */
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		fatal("mmap");
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(m, &attr) != 0)
		fatal_status(EX_UNAVAILABLE, "robust mutexes are not supported");
	pthread_mutexattr_destroy(&attr);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		pthread_mutex_lock(m);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid");
	r = pthread_mutex_lock(m);
	if (r != EOWNERDEAD)
		fatal_status(EX_UNAVAILABLE, "robust mutexes do not work here "
		    "(a dead owner gave %d, not EOWNERDEAD)", r);
	pthread_mutex_consistent(m);
	pthread_mutex_unlock(m);
	pthread_mutex_destroy(m);
	munmap(m, sizeof(pthread_mutex_t));
}

#ifdef CHATD_LOCK_CHECKS
/* HUB_ASSERT_LOCKED() and HUB_ASSERT_UNLOCKED(), in hub.h. */
void
hub_assert_lock(const char *fn, int held)
{
	if (hub_depth != held)
		fatalx("bug: %s() called %s the hub lock", fn,
		    held ? "without" : "holding");
}
#endif

void
hub_lock(struct hub *h)
{
	int	r;

	/* Not recursive: taking it twice would hang this process. */
	HUB_ASSERT_UNLOCKED();
	r = pthread_mutex_lock(&h->hdr->lock);
	if (r == EOWNERDEAD) {
		if (ring_check(&h->ring) == -1)
			hub_repaired = -1;
		else
			hub_repaired = 1;
		atomic_fetch_add(&h->hdr->repairs, 1);
		if (pthread_mutex_consistent(&h->hdr->lock) != 0)
			fatalx("bug: pthread_mutex_consistent failed");
	} else if (r != 0)
		fatalx("hub lock: %s", strerror(r));
	if (hub_repaired == -1)
		fatalx("hub: the message log is damaged beyond repair");
	hub_depth = 1;
	FAULT(HUB_LOCK);
}

void
hub_unlock(struct hub *h)
{
	int	r;

	HUB_ASSERT_LOCKED();
	hub_depth = 0;
	if ((r = pthread_mutex_unlock(&h->hdr->lock)) != 0)
		fatalx("hub unlock: %s", strerror(r));
	if (hub_repaired) {
		hub_repaired = 0;
		log_warnx("recovered the hub lock from a dead process");
	}
	if (hub_hooks != NULL)
		(void)hub_hooks->unlocked(h);
}

/*
 * Allocates every page of a new segment and sets its size. With
 * ftruncate() alone the object is sparse: tmpfs finds a page only when
 * it is first written, and once another program has filled /dev/shm
 * that write is a SIGBUS in whichever chatd process makes it, the
 * listener included. As PostgreSQL does on Linux, we take every page
 * at start, where a failure can be explained. On failure the segment
 * is removed first, so that nothing half made is left; we hold the
 * directory lock, so nobody has attached to it. glibc and musl keep
 * every POSIX shared memory object in /dev/shm.
 */
static void
hub_reserve(struct hub *h, int fd, size_t size)
{
	int	r;

	/* It returns the error number and leaves errno alone. */
	while ((r = posix_fallocate(fd, 0, (off_t)size)) == EINTR)
		;
	if (r == 0)
		return;
	if (shm_unlink(h->shmname) == -1)
		log_warn("shm_unlink %s", h->shmname);
	if (r == ENOSPC || r == EDQUOT)
		fatal_status(EX_UNAVAILABLE, "no room in /dev/shm for shared "
		    "memory %s: it needs %zu bytes (%.1f MiB); free space "
		    "there, lower --max-clients, --max-rooms, --history or "
		    "--max-line, or grow it (mount -o remount,size=SIZE "
		    "/dev/shm)", h->shmname, size, size / 1048576.0);
	fatal_status(EX_UNAVAILABLE, "cannot reserve %zu bytes (%.1f MiB) in "
	    "/dev/shm for shared memory %s: %s", size, size / 1048576.0,
	    h->shmname, strerror(r));
}

/*
 * Writes a new segment's header, tables and lock; the caller owns fd.
 * The geometry comes from the creator's settings and is in the header,
 * so every process that attaches uses the same.
 */
static void
hub_init(struct hub *h, int fd, const struct config *cf)
{
	pthread_mutexattr_t	 attr;
	struct hub_hdr		*g;
	struct layout		 l;
	void			*base;

	/* The ban index makes it 1.4 MiB: too much for a stack. */
	if ((g = calloc(1, sizeof(*g))) == NULL)
		fatal("calloc");
	g->nslots = config_slots(cf);
	g->nrooms = cf->max_rooms;
	g->hist_len = cf->history;
	g->hist_size = (uint32_t)align_up(sizeof(struct hist_entry) +
	    HIST_TEXT_MAX(cf->max_line), 8);
	/* Only an instance that links has the rest of the network in it. */
	g->nremotes = cf->link_host[0] != '\0' ? CHATD_MAX_REMOTES : 0;
	g->remote_size = remote_size(g->nrooms);
	layout(g, &l);
	hub_reserve(h, fd, l.total);
	base = mmap(NULL, l.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		fatal_status(EX_UNAVAILABLE, "mmap %s: %s", h->shmname,
		    strerror(errno));
	memcpy(base, g, sizeof(*g));
	free(g);
	hub_bind(h, base, l.total);
	h->hdr->version = HUB_VERSION;
	h->hdr->slot_size = sizeof(struct slot);
	h->hdr->ring_bytes = RING_BYTES;
	h->hdr->total = l.total;
	h->hdr->owner = geteuid();
	h->hdr->started = time(NULL);
	h->rooms[0].used = 1;
	strcpy(h->rooms[0].name, "lobby");
	strcpy(h->rooms[0].key, "lobby");
	atomic_store(&h->hdr->link.slot, -1);
	ring_init(&h->ring);
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&h->hdr->lock, &attr) != 0)
		fatal_status(EX_UNAVAILABLE, "cannot initialise the hub lock");
	pthread_mutexattr_destroy(&attr);
	/* Nobody else sees the segment before it is ready: ours alone. */
	hub_depth = 1;
	if (hub_hooks != NULL)
		hub_hooks->load(h, cf);
	hub_depth = 0;
	h->hdr->magic = HUB_MAGIC;
	atomic_store(&h->hdr->ready, 1);
}

/* Whether any process still uses the segment: its listener or a worker. */
static int
hub_in_use(const struct hub *h)
{
	uint32_t	i, hwm = atomic_load(&h->hdr->hwm);

	if (proc_alive(h->hdr->listener, h->hdr->lstart))
		return 1;
	/* Slots in use are below hwm, unless the header is damaged. */
	if (hwm > h->hdr->nslots)
		hwm = h->hdr->nslots;
	for (i = 0; i < hwm; i++)
		if (atomic_load(&h->slots[i].state) != SLOT_FREE &&
		    proc_alive(h->slots[i].pid, h->slots[i].pstart))
			return 1;
	return 0;
}

/* Checks that an existing segment is a chatd hub this build can use. */
static int
hub_valid(const struct hub_hdr *hdr, size_t size)
{
	struct layout	l;

	if (size < sizeof(*hdr) || hdr->magic != HUB_MAGIC ||
	    hdr->version != HUB_VERSION ||
	    hdr->slot_size != sizeof(struct slot) ||
	    hdr->ring_bytes != RING_BYTES || hdr->nslots == 0 ||
	    hdr->nslots > CHATD_MAX_SLOTS || hdr->nrooms == 0 ||
	    hdr->nrooms > CHATD_MAX_ROOMS_CAP ||
	    hdr->hist_len > CHATD_HISTORY_CAP ||
	    hdr->hist_size < sizeof(struct hist_entry) ||
	    hdr->hist_size > sizeof(struct hist_entry) +
	    HIST_TEXT_MAX(CHATD_MAX_LINE_CAP) + 8 ||
	    hdr->nremotes > CHATD_MAX_REMOTES ||
	    hdr->remote_size != remote_size(hdr->nrooms))
		return 0;
	layout(hdr, &l);
	return l.total == size && hdr->total == size;
}

/* Why a name taken in /dev/shm cannot be opened as our segment. */
static const char *
shm_problem(int err)
{
	if (err == ELOOP)
		return "it is a symbolic link";
	/* glibc's shm_open() turns EISDIR into EINVAL. */
	if (err == EINVAL || err == EISDIR)
		return "it is not a shared memory object";
	return strerror(err);
}

/*
 * Maps an existing segment if it is live; one that is stale or unusable
 * is removed, leaving h->hdr NULL, so the caller creates a new one.
 */
static void
hub_attach(struct hub *h, int fd, enum hub_role role)
{
	struct stat	 st;
	void		*base;

	if (fstat(fd, &st) == -1)
		fatal_status(EX_UNAVAILABLE, "fstat %s: %s", h->shmname,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		fatal_status(EX_UNAVAILABLE, "shared memory %s cannot be used: "
		    "%s; remove it or use another instance", h->shmname,
		    shm_problem(EINVAL));
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		fatal_status(EX_UNAVAILABLE, "shared memory %s is not chatd's "
		    "own (owner uid %ld, mode %03o); remove it or use another "
		    "instance", h->shmname, (long)st.st_uid,
		    (unsigned)(st.st_mode & 0777));
	if ((size_t)st.st_size < sizeof(struct hub_hdr))
		goto stale;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		fatal_status(EX_UNAVAILABLE, "mmap %s: %s", h->shmname,
		    strerror(errno));
	if (!atomic_load(&((struct hub_hdr *)base)->ready) ||
	    !hub_valid(base, (size_t)st.st_size)) {
		munmap(base, (size_t)st.st_size);
		goto stale;
	}
	hub_bind(h, base, (size_t)st.st_size);
	if (role == HUB_LISTENER &&
	    proc_alive(h->hdr->listener, h->hdr->lstart))
		fatal_status(EX_UNAVAILABLE, "instance %s is already running "
		    "(pid %ld)", h->shmname + 7, (long)h->hdr->listener);
	if (hub_in_use(h))
		return;
	munmap(base, h->size);
	h->hdr = NULL;
 stale:
	log_warnx("removing stale shared memory %s", h->shmname);
	if (shm_unlink(h->shmname) == -1 && errno != ENOENT)
		fatal_status(EX_UNAVAILABLE, "shm_unlink %s: %s", h->shmname,
		    strerror(errno));
}

/* Notes which object the name gave us (see hub_named), and closes fd. */
static void
hub_remember(struct hub *h, int fd)
{
	struct stat	st;

	if (h->hdr != NULL) {
		if (fstat(fd, &st) == -1)
			fatal("fstat %s", h->shmname);
		h->shmdev = st.st_dev;
		h->shmino = st.st_ino;
	}
	close(fd);
}

/*
 * Whether the segment's name still names the object we mapped: a
 * leaver frees its slot before it takes the directory lock, and a new
 * instance may meanwhile have found the segment unused and built
 * another under the same name, which is not the leaver's to remove.
 */
static int
hub_named(const struct hub *h)
{
	struct stat	st;
	int		fd, same;

	if ((fd = shm_open(h->shmname, O_RDONLY, 0)) == -1)
		return 0;
	same = fstat(fd, &st) == 0 && st.st_dev == h->shmdev &&
	    st.st_ino == h->shmino;
	close(fd);
	return same;
}

/*
 * Creates the instance's segment, or attaches to a live one. Holding the
 * directory lock, nobody else is between shm_open and a ready segment.
 * An inetd instance keeps the lock until its worker has claimed a slot
 * (see "Who removes it" above).
 */
void
hub_open(struct hub *h, const struct config *cf, enum hub_role role)
{
	int	fd, tries;

	memset(h, 0, sizeof(*h));
	snprintf(h->shmname, sizeof(h->shmname), "/chatd.%s", cf->instance);
	hub_dir_lock(h, cf);
	for (tries = 0; h->hdr == NULL && tries < 3; tries++) {
		fd = shm_open(h->shmname, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd != -1) {
			robust_selftest();
			hub_init(h, fd, cf);
			log_debug("created shared memory %s", h->shmname);
		} else if (errno != EEXIST)
			/* NOLINTNEXTLINE(bugprone-branch-clone): two errors. */
			fatal_status(EX_UNAVAILABLE, "shm_open %s: %s",
			    h->shmname, strerror(errno));
		else if ((fd = shm_open(h->shmname, O_RDWR, 0)) != -1)
			hub_attach(h, fd, role);
		else if (errno != ENOENT)
			fatal_status(EX_UNAVAILABLE, "shared memory %s cannot "
			    "be used: %s; remove it or use another instance",
			    h->shmname, shm_problem(errno));
		if (fd != -1)
			hub_remember(h, fd);
	}
	if (h->hdr == NULL)
		fatal_status(EX_UNAVAILABLE, "cannot create %s", h->shmname);
	if (role == HUB_LISTENER) {
		hub_set_listener(h);
		hub_dir_unlock(h);
	}
}

/*
 * Maps the segment for hub_open_running(), holding the directory lock.
 * Returns 0, 1 when it is missing or stale, or -1.
 */
static int
admin_map(struct hub *h, char *why, size_t len)
{
	struct stat	 st;
	void		*base;
	int		 fd, r = -1;

	if ((fd = shm_open(h->shmname, O_RDWR, 0)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, len, "shm_open %s: %s", h->shmname,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !hub_admin_may_use(&st))
		snprintf(why, len, "shared memory %s is not chatd's own",
		    h->shmname);
	else if ((size_t)st.st_size < sizeof(struct hub_hdr))
		r = 1;		/* being made, or left half made */
	else if ((base = mmap(NULL, (size_t)st.st_size, PROT_READ |
	    PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
		snprintf(why, len, "mmap %s: %s", h->shmname, strerror(errno));
	else if (!atomic_load(&((struct hub_hdr *)base)->ready) ||
	    !hub_valid(base, (size_t)st.st_size)) {
		munmap(base, (size_t)st.st_size);
		snprintf(why, len, "shared memory %s is not a segment this "
		    "version of chatd can use", h->shmname);
	} else {
		hub_bind(h, base, (size_t)st.st_size);
		r = 0;
	}
	close(fd);
	return r;
}

/*
 * Attaches to the segment of a running instance, for chatctl(8). A
 * missing or stale segment is "not running" and left alone: removing
 * or rebuilding it is chatd's business. Returns 0, or -1 with the
 * reason in why.
 */
int
hub_open_running(struct hub *h, const struct config *cf, char *why,
    size_t len)
{
	int	r;

	memset(h, 0, sizeof(*h));
	h->dirfd = -1;
	snprintf(h->shmname, sizeof(h->shmname), "/chatd.%s", cf->instance);
	if (snprintf(h->dirpath, sizeof(h->dirpath), "%s/%s", cf->rundir,
	    cf->instance) >= (int)sizeof(h->dirpath)) {
		snprintf(why, len, "run directory path too long");
		return -1;
	}
	if ((r = hub_dir_lock_admin(h, cf, why, len)) == 0 &&
	    (r = admin_map(h, why, len)) == 0 && !hub_in_use(h)) {
		munmap(h->hdr, h->size);
		h->hdr = NULL;
		r = 1;
	}
	if (h->dirfd != -1 && flock(h->dirfd, LOCK_UN) == -1)
		fatal("flock");
	if (r == 1)
		snprintf(why, len, "instance %s is not running", cf->instance);
	if (r != 0 && h->dirfd != -1) {
		close(h->dirfd);
		h->dirfd = -1;
	}
	return r == 0 ? 0 : -1;
}

void
hub_set_listener(struct hub *h)
{
	hub_lock(h);
	h->hdr->listener = getpid();
	h->hdr->lstart = proc_start(getpid());
	hub_unlock(h);
}

/*
 * Makes live the settings of every worker: they compare hdr->livegen
 * with theirs and copy hdr->live under the lock when it moved. Returns
 * the new generation: a worker forked with these settings starts at it
 * and copies nothing (a page less of its own).
 */
uint32_t
hub_publish(struct hub *h, const struct live *lv)
{
	uint32_t	gen;

	hub_lock(h);
	memcpy(&h->hdr->live, lv, sizeof(*lv));
	gen = atomic_fetch_add(&h->hdr->livegen, 1) + 1;
	hub_unlock(h);
	return gen;
}

/* Copies the published settings if they changed since *gen: 1 if so. */
WAKE_PATH int
hub_fetch(struct hub *h, struct live *lv, uint32_t *gen)
{
	if (atomic_load(&h->hdr->livegen) == *gen)
		return 0;
	hub_lock(h);
	memcpy(lv, &h->hdr->live, sizeof(*lv));
	*gen = atomic_load(&h->hdr->livegen);
	hub_unlock(h);
	return 1;
}

/*
 * Removes the segment and the instance's directory after a clean
 * shutdown, holding the directory lock so that a chatd starting now
 * waits and then builds everything anew.
 */
void
hub_destroy(struct hub *h)
{
	DIR		*d;
	struct dirent	*de;

	hub_dir_flock(h);
	if (shm_unlink(h->shmname) == -1 && errno != ENOENT)
		log_warn("shm_unlink %s", h->shmname);
	/*
	 * The directory stream takes over our descriptor, and closing it
	 * releases the lock: no new descriptor is needed, so a server out
	 * of them still cleans up.
	 */
	if ((d = fdopendir(h->dirfd)) == NULL)
		fatal("%s", h->dirpath);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == 'w' &&
		    unlinkat(dirfd(d), de->d_name, 0) == -1)
			log_warn("unlink %s/%s", h->dirpath, de->d_name);
	}
	if (rmdir(h->dirpath) == -1)
		log_warn("rmdir %s", h->dirpath);
	closedir(d);
	h->dirfd = -1;
	h->dirlocked = 0;
	munmap(h->hdr, h->size);
	h->hdr = NULL;
}

/*
 * Called by a process about to free its slot, or refused one. Without a
 * live listener it may be the last to leave: it takes the directory lock
 * for hub_leave_end(), unless it holds it already.
 */
void
hub_leave_begin(struct hub *h)
{
	if (h->dirlocked || proc_alive(h->hdr->listener, h->hdr->lstart))
		return;
	hub_dir_flock(h);
}

/*
 * After the slot is freed: if no live process holds a slot and no
 * listener runs, removes the segment, the pipes and the directory, as
 * the listener does at shutdown; the lock makes a starting instance wait
 * and build them anew. A directory already removed means that somebody
 * else removed the segment too.
 */
void
hub_leave_end(struct hub *h)
{
	struct stat	st;

	if (!h->dirlocked)
		return;
	if (fstat(h->dirfd, &st) == -1)
		fatal("fstat %s", h->dirpath);
	if (st.st_nlink > 0 && hub_named(h) && !hub_in_use(h)) {
		log_debug("last one out: removing shared memory %s",
		    h->shmname);
		hub_destroy(h);
		return;
	}
	hub_dir_unlock(h);
}

/* The chain a record belongs to: its one recipient, its room, or all. */
static uint64_t *
hub_chain(struct hub *h, const struct record *rec)
{
	if (rec->target >= 0 && (uint32_t)rec->target < h->hdr->nslots)
		return &h->slots[rec->target].lastpost;
	if (rec->room < h->hdr->nrooms)
		return &h->rooms[rec->room].lastpost;
	return &h->hdr->lastall;
}

/*
 * Appends a record to the log; the caller holds the lock. Each record
 * also links back to the previous one of its chain (same recipient, same
 * room, or every room), so that a lapped reader can find out whether it
 * lost anything: see hub_resync_locked().
 */
void
hub_post_locked(struct hub *h, const struct record *rec, const char *text,
    size_t len)
{
	struct record	 r = *rec;
	uint64_t	*chain = hub_chain(h, rec);
	uint64_t	 at = ring_next_pos(&h->ring, len);

	HUB_ASSERT_LOCKED();
	r.prev = *chain;
	ring_append(&h->ring, &r, text, len);
	FAULT(HUB_POST);
	*chain = at + 1;
}

/*
 * Under the lock: a reader in room, at slot, was lapped at *pos. Walks
 * each chain that can hold records for it back from the newest: if
 * every such record from *pos on is still intact, the reader resumes at
 * the oldest of them (or at the head: it lost nothing) and 0 is
 * returned. If one was overwritten, the reader lost a message: -1. So
 * an idle user in a quiet room is never "too slow", however busy the
 * other rooms are.
 */
int
hub_resync_locked(const struct hub *h, uint32_t room, int slot, uint64_t *pos)
{
	const struct record	*rec;
	const uint64_t		*chains[3];
	uint64_t		 tail = ring_tail(&h->ring), cur, p;
	uint64_t		 resume = ring_head(&h->ring);
	size_t			 i;

	HUB_ASSERT_LOCKED();
	chains[0] = &h->rooms[room].lastpost;
	chains[1] = &h->slots[slot].lastpost;
	chains[2] = &h->hdr->lastall;
	for (i = 0; i < 3; i++) {
		for (cur = *chains[i]; cur > *pos; cur = rec->prev) {
			p = cur - 1;
			rec = ring_at(&h->ring, p);
			if (p < tail || rec->pos != p || rec->prev >= cur)
				return -1;
			if (p < resume)
				resume = p;
		}
	}
	*pos = resume;
	return 0;
}
