/*
 * The listener. Signals reach its poll loop through a self-pipe, so
 * reaping and shutting down happen in one place, never in a handler.
 */
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

#include "config.h"
#include "hub.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "pidfile.h"
#include "worker.h"

static int	sigpipe_fds[2] = { -1, -1 };
static int	op_handover = 1;	/* --oper-first-user */

struct children {
	pid_t	*pids;
	size_t	 n;
	size_t	 cap;
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
	if (sigprocmask(how, &set, NULL) == -1)
		fatal("sigprocmask");
}

static void
listener_signals(void)
{
	struct sigaction	sa;
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
	    sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	/* main() held these back until now. */
	listener_hold_signals(SIG_UNBLOCK);
}

static void
children_add(struct children *c, pid_t pid)
{
	pid_t	*p;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if ((p = realloc(c->pids, c->cap * sizeof(*p))) == NULL)
			fatal("realloc");
		c->pids = p;
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

/* A reaped worker: bury it if it left its slot taken. */
static void
listener_exited(struct hub *h, struct notifier *nt, struct children *c,
    pid_t pid, int status)
{
	children_remove(c, pid);
	if (WIFSIGNALED(status))
		log_warnx("worker %ld killed by signal %d", (long)pid,
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		log_warnx("worker %ld exited with status %d", (long)pid,
		    WEXITSTATUS(status));
	worker_bury(h, nt, pid, op_handover);
}

static void
listener_reap(struct hub *h, struct notifier *nt, struct children *c)
{
	pid_t	pid;
	int	status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		listener_exited(h, nt, c, pid, status);
}

/* The child's side of a fork: become the worker for socket s. */
static void __attribute__((noreturn))
listener_child(struct hub *h, struct config *cf, struct notifier *nt,
    int s, int *fds, int nfds)
{
	int	i;

	notify_forget(nt);
	pidfile_forget();
	hub_dir_reopen(h);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	if (dup2(s, 0) == -1 || dup2(s, 1) == -1)
		fatal("dup2");
	if (s > 1)
		close(s);
	worker_main(h, cf);
}

static void
listener_accept(struct hub *h, struct config *cf, struct notifier *nt,
    int fd, int *fds, int nfds, struct children *c)
{
	pid_t	pid;
	int	s;

	while ((s = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		if ((pid = fork()) == -1) {
			log_warn("fork");
			close(s);
			continue;
		}
		if (pid == 0)
			listener_child(h, cf, nt, s, fds, nfds);
		children_add(c, pid);
		close(s);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("accept");
}

/*
 * Asks every worker to say goodbye, gives them SHUTDOWN_GRACE_MS, kills
 * the rest, then removes the segment and the pipes.
 */
static void __attribute__((noreturn))
listener_shutdown(struct hub *h, struct notifier *nt, struct children *c)
{
	struct timespec	ts = { 0, 10L * 1000 * 1000 };
	size_t		i;
	pid_t		pid;
	int		waited, status;

	log_info("shutting down");
	atomic_store(&h->hdr->shutdown, 1);
	for (i = 0; i < c->n; i++)
		kill(c->pids[i], SIGTERM);
	notify_all(nt);
	for (waited = 0; c->n > 0 && waited < SHUTDOWN_GRACE_MS; waited += 10) {
		listener_reap(h, nt, c);
		if (c->n > 0)
			nanosleep(&ts, NULL);
	}
	if (c->n > 0)
		log_warnx("killing %zu workers that did not exit", c->n);
	for (i = 0; i < c->n; i++)
		kill(c->pids[i], SIGKILL);
	while (c->n > 0 && (pid = waitpid(-1, &status, 0)) > 0)
		listener_exited(h, nt, c, pid, status);
	hub_destroy(h);
	/* exit() also removes the pid file: see pidfile_open(). */
	exit(0);
}

/* SIGHUP: new live settings for every worker, new and old. */
static void
listener_reload(struct hub *h, struct config *cf)
{
	if (config_reload(cf) == -1)
		return;
	log_setverbose(cf->live.verbose);
	op_handover = cf->live.oper_first_user;
	cf->livegen = hub_publish(h, &cf->live);
	log_info("SIGHUP: settings re-read");
}

void
listener_main(struct hub *h, struct config *cf, int *fds, int nfds)
{
	struct pollfd		 pfd[2 * CHATD_MAX_LISTEN + 1];
	struct children		 c = { NULL, 0, 0 };
	struct notifier		 nt;
	unsigned char		 sig;
	int			 i;

	listener_signals();
	notify_init(&nt, h);
	op_handover = cf->live.oper_first_user;
	for (i = 0; i < nfds; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	pfd[nfds].fd = sigpipe_fds[0];
	pfd[nfds].events = POLLIN;
	for (;;) {
		if (poll(pfd, (nfds_t)nfds + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		while (read(sigpipe_fds[0], &sig, 1) == 1) {
			if (sig == SIGTERM || sig == SIGINT)
				listener_shutdown(h, &nt, &c);
			if (sig == SIGCHLD)
				listener_reap(h, &nt, &c);
			if (sig == SIGHUP)
				listener_reload(h, cf);
		}
		for (i = 0; i < nfds; i++)
			if (pfd[i].revents & POLLIN)
				listener_accept(h, cf, &nt, fds[i], fds, nfds,
				    &c);
	}
}
