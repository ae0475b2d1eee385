/* SPDX-License-Identifier: ISC */
/*
 * The listener. Signals reach its poll loop through a self-pipe, so
 * reaping and shutting down happen in one place, never in a handler.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "fault.h"
#include "hub.h"
#include "listener.h"
#include "log.h"
#include "session.h"
#include "notify.h"
#include "link.h"
#include "pidfile.h"
#include "proctitle.h"
#include "room.h"
#include "sdnotify.h"
#include "text.h"
#include "worker.h"

static int	sigpipe_fds[2] = { -1, -1 };
static int	op_handover = 1;	/* --oper-first-user */
static int	spare_fd = -1;		/* given up to refuse a client, out of fds */
static int64_t	paused_until;		/* no accepting before, in now_ms() */
static int64_t	watchdog_next;		/* the next "WATCHDOG=1", in now_ms() */

/*
 * Why new connections are being refused (NULL: they are not) and how
 * many were. Logged when it starts and when it ends, not once per
 * client, so that a flood of refused clients is no flood of log lines.
 */
static struct {
	const char	*what;
	unsigned long	 refused;
} trouble;

/* A worker of a listener that died: not ours to wait for. */
struct orphan {
	pid_t		pid;
	uint64_t	pstart;
};

/* The link process (link.c), if --link: started, and again if it dies. */
static struct {
	pid_t		pid;
	int64_t		started;	/* now_ms() */
	int64_t		again;		/* the next start, if pid is 0 */
	unsigned	delay;		/* ms between a death and the start */
} linkp = { 0, 0, 0, LINK_RESTART_MIN_MS };

struct children {
	pid_t		*pids;
	size_t		 n;
	size_t		 cap;
	unsigned	 accepted;	/* connections so far */
	struct orphan	*orphans;	/* adopted at start, still alive */
	size_t		 norphans;
	size_t		 next;		/* the next orphan to look at */
	int64_t		 looked;	/* when, in now_ms() */
};

static void
on_signal(int sig)
{
	unsigned char	c = (unsigned char)sig;
	int		saved = errno;

	(void)write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

/* Binds one address; returns the socket or -1 with errno set. */
static int
bind_one(const struct sockaddr *sa, socklen_t len)
{
	int	fd, one = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, sa, len) == -1 || listen(fd, SOMAXCONN) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* The port a bound socket got, for -p 0. */
static unsigned
bound_port(int fd)
{
	struct sockaddr_storage	ss = { .ss_family = AF_UNSPEC };
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		fatal("getsockname");
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	fatalx("bug: a listening socket of family %d", ss.ss_family);
}

/*
 * Binds every address getaddrinfo gives for host (NULL: the wildcard of
 * one family). Returns how many sockets it added, or -1 with the error
 * in *why.
 */
static int
bind_host(struct config *cf, const char *host, int family, int *fds, int n,
    const char **why)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[16];
	int		 fd, added = 0, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", cf->port);
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		*why = gai_strerror(r);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (n + added == CHATD_MAX_LISTEN * 2 ||
		    (fd = bind_one(ai->ai_addr, ai->ai_addrlen)) == -1) {
			*why = n + added == CHATD_MAX_LISTEN * 2 ?
			    "too many addresses" : strerror(errno);
			freeaddrinfo(res);
			return -1;
		}
		if (cf->port == 0)
			cf->port = bound_port(fd);
		fds[n + added++] = fd;
	}
	freeaddrinfo(res);
	return added;
}

/*
 * Binds the -l addresses, each of which must work, or by default IPv6
 * and IPv4, of which one is enough. Fills fds (room for
 * 2 * CHATD_MAX_LISTEN) and returns how many; exits with EX_UNAVAILABLE
 * when binding fails.
 */
int
listener_bind(struct config *cf, int *fds)
{
	const char	*why = NULL, *why4 = NULL;
	int		 i, n = 0, r;

	for (i = 0; i < cf->nlisten; i++) {
		if ((r = bind_host(cf, cf->listen[i], AF_UNSPEC, fds, n,
		    &why)) == -1)
			fatal_status(EX_UNAVAILABLE, "cannot listen on %s port "
			    "%u: %s", cf->listen[i], cf->port, why);
		n += r;
	}
	if (cf->nlisten == 0) {
		if ((r = bind_host(cf, "::", AF_INET6, fds, n, &why)) > 0)
			n += r;
		if ((r = bind_host(cf, "0.0.0.0", AF_INET, fds, n, &why4)) > 0)
			n += r;
		if (n == 0)
			fatal_status(EX_UNAVAILABLE, "cannot listen on port %u: "
			    "%s (IPv6), %s (IPv4)", cf->port, why, why4);
	}
	for (i = 0; i < cf->nlisten; i++)
		log_info("listening on %s port %u", cf->listen[i], cf->port);
	if (cf->nlisten == 0)
		log_info("listening on all addresses port %u", cf->port);
	return n;
}

/*
 * Blocks (SIG_BLOCK) or releases (SIG_UNBLOCK) the signals that stop or
 * reload the listener: main() holds them from binding on, so that none
 * arrives before listener_main can handle it.
 */
void
listener_hold_signals(int how)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(how, &set, NULL) == -1)
		fatal("sigprocmask");
}

static void
listener_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;
	int			i;

	if (pipe(sigpipe_fds) == -1)
		fatal("pipe");
	for (i = 0; i < 2; i++)
		if (fcntl(sigpipe_fds[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(sigpipe_fds[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("fcntl");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGUSR2, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	/*
	 * SIGUSR1 is for workers (see listener_check_dir): held here, and
	 * so in a new worker until it can take it.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	/* main() held these back until now. */
	listener_hold_signals(SIG_UNBLOCK);
}

/*
 * The table of pids is written at every fork. In memory a worker
 * inherits, each such write would break copy-on-write after the fork
 * and leave the worker last forked the old page as its own: a page per
 * worker, for a table it never reads. So it lives in pages of its own
 * that fork leaves out (MADV_DONTFORK).
 */
static void
children_add(struct children *c, pid_t pid)
{
	size_t	 cap;
	pid_t	*p;

	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 4096 / sizeof(*p);
		p = mmap(NULL, cap * sizeof(*p), PROT_READ | PROT_WRITE,
		    /* cppcheck-suppress invalidFunctionArg ; anonymous: fd -1 */
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED ||
		    madvise(p, cap * sizeof(*p), MADV_DONTFORK) == -1)
			fatal("children table");
		if (c->n > 0)
			memcpy(p, c->pids, c->n * sizeof(*p));
		if (c->pids != NULL && munmap(c->pids,
		    c->cap * sizeof(*p)) == -1)
			fatal("munmap");
		c->pids = p;
		c->cap = cap;
	}
	c->pids[c->n++] = pid;
}

static void
children_remove(struct children *c, pid_t pid)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		if (c->pids[i] == pid) {
			c->pids[i] = c->pids[--c->n];
			return;
		}
}

/*
 * The link process ended: it is started again after a delay that
 * doubles with each death, back to the shortest once it ran that long.
 */
static void
link_ended(void)
{
	int64_t	now = now_ms();

	if (now - linkp.started >= LINK_RESTART_MAX_MS)
		linkp.delay = LINK_RESTART_MIN_MS;
	linkp.pid = 0;
	linkp.again = now + linkp.delay;
	log_warnx("starting the link process again in %u ms", linkp.delay);
	linkp.delay = linkp.delay * 2 > LINK_RESTART_MAX_MS ?
	    LINK_RESTART_MAX_MS : linkp.delay * 2;
}

/* A reaped worker: bury it if it left its slot taken. */
static void
listener_exited(struct hub *h, struct notifier *nt, struct children *c,
    pid_t pid, int status)
{
	const char	*who = pid == linkp.pid ? "link process" : "worker";

	children_remove(c, pid);
	if (WIFSIGNALED(status))
		log_warnx("%s %ld killed by signal %d", who, (long)pid,
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		log_warnx("%s %ld exited with status %d", who, (long)pid,
		    WEXITSTATUS(status));
	session_bury(h, nt, pid, op_handover);
	if (pid == linkp.pid && !atomic_load(&h->hdr->shutdown))
		link_ended();
}

static void
listener_reap(struct hub *h, struct notifier *nt, struct children *c)
{
	pid_t	pid;
	int	status, reaped = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		listener_exited(h, nt, c, pid, status);
		reaped = 1;
	}
	if (reaped)
		notify_prune(nt);
}

/* Tells a client we cannot serve it and closes it; never blocks. */
static void
refuse(int s)
{
	static const char	msg[] = "! server error, try again later\r\n";

	(void)send(s, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(s);
	trouble.refused++;
}

static void
trouble_begin(const char *what, int err)
{
	if (trouble.what != what)
		log_warnx("%s: %s; refusing new connections", what,
		    strerror(err));
	trouble.what = what;
}

static void
trouble_end(void)
{
	if (trouble.what == NULL)
		return;
	log_warnx("accepting new connections again (%lu refused)",
	    trouble.refused);
	trouble.what = NULL;
	trouble.refused = 0;
}

/*
 * A descriptor kept in reserve, so that a listener out of them can
 * still take a client off the queue and refuse it. Left waiting there,
 * the client would make poll(2) return at once, for ever.
 */
static void
spare_open(void)
{
	if (spare_fd == -1)
		spare_fd = fcntl(sigpipe_fds[0], F_DUPFD_CLOEXEC, 0);
}

/*
 * Out of descriptors (err): refuses one client with the spare. Returns
 * 1 when it did, 0 when nobody was waiting (accept(2) reports EMFILE
 * before it looks at the queue), -1 when it could not.
 */
static int
refuse_spare(int fd, int err)
{
	int	s, saved;

	if (spare_fd == -1)
		return -1;
	trouble_begin("out of file descriptors", err);
	close(spare_fd);
	spare_fd = -1;
	s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	saved = errno;
	if (s != -1)
		refuse(s);
	spare_open();
	errno = saved;
	if (s != -1)
		return 1;
	return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

/* Forgets the orphans that have exited; returns how many did. */
static size_t
orphans_prune(struct children *c)
{
	size_t	i, gone = 0;

	for (i = 0; i < c->norphans; ) {
		if (proc_alive(c->orphans[i].pid, c->orphans[i].pstart)) {
			i++;
			continue;
		}
		c->orphans[i] = c->orphans[--c->norphans];
		gone++;
	}
	return gone;
}

/*
 * At start, on a segment a listener that died left in use: its workers
 * serve on, but they are not our children, so no SIGCHLD will say when
 * one dies. The dead are buried now; the living are remembered, watched
 * (orphans_check) and stopped with ours at shutdown.
 */
static void
orphans_adopt(struct hub *h, struct notifier *nt, struct children *c)
{
	struct slot	*s;
	uint32_t	 i, hwm;

	if (atomic_load(&h->hdr->hwm) == 0)
		return;		/* a new segment */
	session_bury(h, nt, 0, op_handover);
	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	if ((c->orphans = calloc(hwm, sizeof(*c->orphans))) == NULL)
		fatal("calloc");
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		if (atomic_load(&s->state) != SLOT_FREE) {
			c->orphans[c->norphans].pid = s->pid;
			c->orphans[c->norphans++].pstart = s->pstart;
		}
	}
	hub_unlock(h);
	(void)orphans_prune(c);
	if (c->norphans > 0)
		log_info("adopted %zu workers of a listener that died",
		    c->norphans);
}

/*
 * Every ORPHAN_CHECK_MS, looks at up to ORPHAN_CHECK_BATCH orphans,
 * round robin, so that many thousands cost a bounded time however busy
 * the listener. One that died still holding its slot is buried, as
 * reaping does for ours; one that left cleanly is just forgotten.
 */
static void
orphans_check(struct hub *h, struct notifier *nt, struct children *c)
{
	struct orphan	o;
	size_t		n;
	int		bury = 0;

	if (c->norphans == 0 || now_ms() - c->looked < ORPHAN_CHECK_MS)
		return;
	c->looked = now_ms();
	for (n = 0; n < ORPHAN_CHECK_BATCH && c->norphans > 0; n++) {
		if (c->next >= c->norphans)
			c->next = 0;
		o = c->orphans[c->next];
		if (proc_alive(o.pid, o.pstart)) {
			c->next++;
			continue;
		}
		c->orphans[c->next] = c->orphans[--c->norphans];
		hub_lock(h);
		bury |= hub_held_locked(h, o.pid, o.pstart);
		hub_unlock(h);
	}
	if (bury)
		session_bury(h, nt, 0, op_handover);
}

/*
 * Sends sig to every orphan still alive. Its start time is checked just
 * before, so a recycled pid is not hit (short of a reuse in between).
 */
static void
orphans_kill(struct children *c, int sig)
{
	size_t	i;

	(void)orphans_prune(c);
	for (i = 0; i < c->norphans; i++)
		if (kill(c->orphans[i].pid, sig) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)c->orphans[i].pid);
}

/* A new child lets go of what is the listener's alone. */
static void
child_forget(struct notifier *nt, int *fds, int nfds)
{
	int	i;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	if (spare_fd != -1)
		close(spare_fd);
	notify_forget(nt);
	pidfile_forget();
}

/* The child's side of a fork: become the worker for socket s. */
static void __attribute__((noreturn))
listener_child(struct hub *h, struct config *cf, struct notifier *nt,
    int s, int *fds, int nfds, unsigned conn)
{
	log_procinit("worker");
	proctitle_set("worker");
	fault_worker(conn);
	/* Ours first: a listener short of descriptors passes it on. */
	child_forget(nt, fds, nfds);
	if (hub_dir_reopen(h) == -1) {
		refuse(s);
		_exit(1);
	}
	if (dup2(s, 0) == -1 || dup2(s, 1) == -1)
		fatal("dup2");
	if (s > 1)
		close(s);
	worker_main(h, cf);
}

/* Starts the link process, if it is due. */
static void
link_start(struct hub *h, struct config *cf, struct notifier *nt, int *fds,
    int nfds, struct children *c)
{
	pid_t	pid;

	if (cf->link_host[0] == '\0' || linkp.pid != 0 ||
	    now_ms() < linkp.again || atomic_load(&h->hdr->shutdown))
		return;
	if ((pid = fork()) == -1) {
		log_warn("cannot fork the link process");
		linkp.again = now_ms() + linkp.delay;
		return;
	}
	if (pid == 0) {
		log_procinit("link");
		proctitle_set("link");
		child_forget(nt, fds, nfds);
		if (hub_dir_reopen(h) == -1)
			_exit(1);
		link_main(h, cf);
	}
	children_add(c, pid);
	fault_link_spawned();
	linkp.pid = pid;
	linkp.started = now_ms();
}

/*
 * After accept4 on fd failed with errno: 1 to accept again, 0 to stop.
 * Out of descriptors, the spare one lets us refuse the client waiting
 * (refuse_spare leaves its own accept's error in errno if that fails);
 * an error that would only repeat pauses accepting for ACCEPT_PAUSE_MS
 * instead of spinning.
 */
static int
listener_accept_failed(int fd)
{
	int	r;

	if (errno == EINTR || errno == ECONNABORTED)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if ((errno == EMFILE || errno == ENFILE) &&
	    (r = refuse_spare(fd, errno)) != -1)
		return r;
	trouble_begin("cannot accept", errno);
	paused_until = now_ms() + ACCEPT_PAUSE_MS;
	return 0;
}

/*
 * Accepts and forks until the queue is empty. A client that cannot get
 * a worker (no process or no descriptor to spare) is told so and
 * closed at once.
 */
static void
listener_accept(struct hub *h, struct config *cf, struct notifier *nt,
    int fd, int *fds, int nfds, struct children *c)
{
	pid_t	pid;
	int	s;

	for (;;) {
		if ((s = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (listener_accept_failed(fd))
				continue;
			return;
		}
		c->accepted++;
		if ((pid = fork()) == -1) {
			trouble_begin("cannot fork a worker", errno);
			refuse(s);
			continue;
		}
		if (pid == 0)
			listener_child(h, cf, nt, s, fds, nfds, c->accepted);
		trouble_end();
		children_add(c, pid);
		close(s);
	}
}

/*
 * Somebody removed (or moved) the instance's directory: make it again
 * and have every worker make its pipe anew there, or no sender could
 * wake it (see hub.c). A failure is logged once, until it passes.
 */
static void
listener_check_dir(struct hub *h, struct notifier *nt, struct children *c)
{
	static int	failing;
	static int64_t	next;
	char		why[PATH_MSG_MAX];
	size_t		i;

	if (now_ms() < next)
		return;
	next = now_ms() + RUNDIR_CHECK_MS;
	switch (hub_dir_refresh(h, 1, why, sizeof(why))) {
	case 0:
		failing = 0;
		return;
	case -1:
		if (!failing)
			log_warnx("run directory lost: %s; new users cannot "
			    "join until it is back", why);
		failing = 1;
		return;
	}
	failing = 0;
	log_warnx("%s was removed under us: made it again", h->dirpath);
	notify_forget(nt);
	for (i = 0; i < c->n; i++)
		kill(c->pids[i], SIGUSR1);
}

/*
 * Asks every worker to say goodbye, gives them SHUTDOWN_GRACE_MS, kills
 * the rest, then removes the segment and the pipes. Orphans (see
 * orphans_adopt) are asked and killed alike; they cannot be waited for,
 * so they are watched until they are gone, lest one outlive the segment.
 */
static void __attribute__((noreturn))
listener_shutdown(struct hub *h, struct notifier *nt, struct children *c)
{
	struct timespec	ts = { 0, 10L * 1000 * 1000 };
	size_t		i;
	pid_t		pid;
	int		waited, status;

	audit_drain(h);
	log_info("shutting down");
	sdnotify("STOPPING=1\nSTATUS=shutting down");
	/* One more descriptor for the wake-ups below. */
	if (spare_fd != -1)
		close(spare_fd);
	spare_fd = -1;
	atomic_store(&h->hdr->shutdown, 1);
	for (i = 0; i < c->n; i++)
		kill(c->pids[i], SIGTERM);
	orphans_kill(c, SIGTERM);
	notify_all(nt);
	for (waited = 0; (c->n > 0 || c->norphans > 0) &&
	    waited < SHUTDOWN_GRACE_MS; waited += 10) {
		listener_reap(h, nt, c);
		(void)orphans_prune(c);
		if (c->n > 0 || c->norphans > 0)
			nanosleep(&ts, NULL);
	}
	if (c->n + c->norphans > 0)
		log_warnx("killing %zu workers that did not exit",
		    c->n + c->norphans);
	for (i = 0; i < c->n; i++)
		kill(c->pids[i], SIGKILL);
	orphans_kill(c, SIGKILL);
	while (c->n > 0 && (pid = waitpid(-1, &status, 0)) > 0)
		listener_exited(h, nt, c, pid, status);
	/* SIGKILL cannot be refused, but may take a moment to land. */
	for (waited = 0; waited < SHUTDOWN_GRACE_MS; waited += 10) {
		(void)orphans_prune(c);
		if (c->norphans == 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (c->norphans > 0)
		log_warnx("%zu workers outlive the shutdown", c->norphans);
	hub_destroy(h);
	/* exit() also removes the pid file: see pidfile_open(). */
	exit(0);
}

/*
 * What the service manager shows of us (systemctl status): the users
 * and rooms, at most every STATUS_EVERY_MS and only when they changed,
 * since the rooms are counted under the lock; now if force. Nothing
 * at all when no service manager listens.
 */
static void
listener_status(struct hub *h, int force)
{
	static size_t	users = SIZE_MAX, rooms = SIZE_MAX;
	static int64_t	next;
	size_t		u, r;

	/* Nobody to tell: no lock taken, no rooms counted. */
	if (!sdnotify_enabled() || (!force && now_ms() < next))
		return;
	next = now_ms() + STATUS_EVERY_MS;
	u = hub_users(h, RING_ALLROOMS);
	hub_lock(h);
	r = room_count_locked(h);
	hub_unlock(h);
	if (!force && u == users && r == rooms)
		return;
	users = u;
	rooms = r;
	sdnotify("STATUS=%zu %s, %zu %s", u, plural(u, "user", "users"), r,
	    plural(r, "room", "rooms"));
}

/* "WATCHDOG=1" every half of the service manager's interval. */
static void
listener_watchdog(void)
{
	int64_t	every = sdnotify_watchdog_ms();

	if (every == 0 || now_ms() < watchdog_next)
		return;
	sdnotify("WATCHDOG=1");
	watchdog_next = now_ms() + every;
}

/*
 * SIGHUP: new live settings for every worker, new and old. The service
 * manager hears that we reload (systemctl reload waits for the READY=1
 * after it), whether the file was good or not.
 */
static void
listener_reload(struct hub *h, struct config *cf)
{
	sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)sdnotify_monotonic_usec());
	if (config_reload(cf) == 0) {
		log_setverbose(cf->live.verbose);
		op_handover = cf->live.oper_first_user;
		cf->livegen = hub_publish(h, &cf->live);
		log_info("SIGHUP: settings re-read");
	}
	sdnotify("READY=1");
	listener_status(h, 1);
}

/*
 * How long poll may wait: until the next look at the run directory, the
 * next start of the link process or watchdog ping, or the end of a pause
 * in accepting, during which the listening sockets are not watched.
 */
static int
listener_timeout(struct pollfd *pfd, int nfds)
{
	int64_t	left = paused_until - now_ms(), link, dog;
	int	i;

	for (i = 0; i < nfds; i++)
		pfd[i].events = left > 0 ? 0 : POLLIN;
	if (linkp.again != 0 && linkp.pid == 0) {
		link = linkp.again - now_ms();
		if (left <= 0 || link < left)
			left = link < 1 ? 1 : link;
	}
	if (sdnotify_watchdog_ms() > 0) {
		dog = watchdog_next - now_ms();
		if (left <= 0 || dog < left)
			left = dog < 1 ? 1 : dog;
	}
	return left > 0 && left < RUNDIR_CHECK_MS ? (int)left :
	    RUNDIR_CHECK_MS;
}

/* Acts on the signals the handler wrote to the self-pipe. */
static void
listener_signalled(struct hub *h, struct config *cf, struct notifier *nt,
    struct children *c)
{
	unsigned char	sig;

	while (read(sigpipe_fds[0], &sig, 1) == 1) {
		if (sig == SIGTERM || sig == SIGINT)
			listener_shutdown(h, nt, c);
		if (sig == SIGCHLD)
			listener_reap(h, nt, c);
		if (sig == SIGHUP)
			listener_reload(h, cf);
	}
}

void
listener_main(struct hub *h, struct config *cf, int *fds, int nfds)
{
	struct pollfd		 pfd[2 * CHATD_MAX_LISTEN + 1];
	struct children		 c;
	struct notifier		 nt;
	int			 i, timeout;

	memset(&c, 0, sizeof(c));
	listener_signals();
	notify_init(&nt, h);
	op_handover = cf->live.oper_first_user;
	orphans_adopt(h, &nt, &c);
	for (i = 0; i < nfds; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	pfd[nfds].fd = sigpipe_fds[0];
	pfd[nfds].events = POLLIN;
	link_start(h, cf, &nt, fds, nfds, &c);
	spare_open();
	/* The sockets listen and the segment is made: we serve. */
	sdnotify("READY=1");
	listener_status(h, 1);
	listener_watchdog();
	for (;;) {
		timeout = listener_timeout(pfd, nfds);
		/* Orphans send no SIGCHLD: look at them now and then. */
		if (c.norphans > 0 && timeout > ORPHAN_CHECK_MS)
			timeout = ORPHAN_CHECK_MS;
		if (poll(pfd, (nfds_t)nfds + 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		listener_watchdog();
		listener_check_dir(h, &nt, &c);
		orphans_check(h, &nt, &c);
		/* chatctl's lines, at its SIGUSR2 or left by a dead listener. */
		audit_drain(h);
		listener_signalled(h, cf, &nt, &c);
		link_start(h, cf, &nt, fds, nfds, &c);
		for (i = 0; i < nfds; i++)
			if (pfd[i].revents & POLLIN)
				listener_accept(h, cf, &nt, fds[i], fds, nfds,
				    &c);
		listener_status(h, 0);
	}
}
