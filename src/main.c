/* SPDX-License-Identifier: ISC */
/*
 * chatd: a chat room for nc and telnet users, as a classic Unix server.
 * main() checks the options, then either serves the one connection on
 * stdin/stdout (-i, under inetd) or binds (or takes the sockets of a
 * service manager) and becomes the listener that forks a worker per
 * connection. Both roads end in worker_main(). Each process names its
 * role, in its title and its log lines, where it takes it up.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "activate.h"
#include "config.h"
#include "daemon.h"
#include "fault.h"
#include "hub.h"
#include "link.h"
#include "listener.h"
#include "log.h"
#include "pidfile.h"
#include "priv.h"
#include "proctitle.h"
#include "sdnotify.h"
#include "state.h"
#include "worker.h"

/*
 * Under inetd the instance is named after the local port of the socket
 * on stdin, so that every instance started for one service finds the
 * same segment; a client that is no socket uses the -p port.
 */
static void
inetd_instance(struct config *cf)
{
	struct sockaddr_storage	ss = { .ss_family = AF_UNSPEC };
	socklen_t		len = sizeof(ss);
	unsigned		port = cf->port;

	if (cf->instance[0] != '\0')
		return;
	if (getsockname(0, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	snprintf(cf->instance, sizeof(cf->instance), "%u", port);
}

/*
 * A listening socket on stdin means a service manager that does not
 * accept for us (systemd Accept=no, or systemd-socket-activate --inetd
 * without --accept): serving it as a client would only fail later.
 */
static void
inetd_check_stdin(void)
{
	int		on = 0;
	socklen_t	len = sizeof(on);

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
		fatal_status(EX_USAGE, "-i: standard input is a listening "
		    "socket, not a connection; with Accept=no run chatd "
		    "without -i");
}

/* Under inetd stderr may be the client's socket: log to syslog then. */
static int
stderr_is_socket(void)
{
	struct stat	st;

	return fstat(2, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* What the options deserve a warning for, once logging is set up. */
static void
warn_config(const struct config *cf)
{
	if (cf->oper_loose)
		log_warnx("%s may be read by others; keep it 0600",
		    cf->oper_file);
}

/* What a long-lived role does first: its name, its log, its checks. */
static void
role_begin(struct config *cf, const char *role)
{
	log_procinit(role);
	proctitle_set("%s", role);
	daemon_stdio();
	log_init(1, cf->live.verbose);
	if (cf->daemon)
		log_syslog(1);
	warn_config(cf);
	priv_init(cf);
}

/*
 * Then, with -d, the detach, the pid file, the privilege drop, and only
 * then the segment, so that it belongs to the -u user.
 */
static void
role_attach(struct config *cf, struct hub *h, enum hub_role role)
{
	if (cf->daemon)
		daemon_detach();
	pidfile_open(cf);
	priv_drop(cf);
	state_open(cf->statedir);
	hub_open(h, cf, role);
	cf->livegen = hub_publish(h, &cf->live);
	if (cf->daemon)
		daemon_ready();
}

/*
 * The standalone server's start, in the order that matters: sockets
 * first (bound, or passed by a service manager), then with -d the
 * detach, the pid file, the privilege drop, and only then the segment,
 * so that it belongs to the -u user and names the final listener.
 */
static void __attribute__((noreturn))
standalone(struct config *cf)
{
	struct hub	h;
	int		fds[2 * CHATD_MAX_LISTEN], nfds;

	role_begin(cf, "listener");
	/* Before -d forks: the starter's environment names the manager. */
	sdnotify_init();
	/*
	 * A SIGTERM between binding and the listener's handlers would kill
	 * us with the segment made: hold it until listener_main is ready.
	 */
	listener_hold_signals(SIG_BLOCK);
	if ((nfds = activate_fds(cf, fds, 2 * CHATD_MAX_LISTEN)) == 0)
		nfds = listener_bind(cf, fds);
	if (cf->instance[0] == '\0')
		snprintf(cf->instance, sizeof(cf->instance), "%u", cf->port);
	proctitle_set("listener %s", cf->instance);
	role_attach(cf, &h, HUB_LISTENER);
	listener_main(&h, cf, fds, nfds);
}

/*
 * --link-only: the instance's link process alone, for inetd setups,
 * which have no listener to start it. It attaches to the segment as an
 * inetd worker does (making it if need be) and keeps it while it runs.
 */
static void __attribute__((noreturn))
link_only(struct config *cf)
{
	struct hub	h;

	role_begin(cf, "link");
	if (cf->instance[0] == '\0')
		snprintf(cf->instance, sizeof(cf->instance), "%u", cf->port);
	role_attach(cf, &h, HUB_INETD);
	link_main(&h, cf);
}

int
main(int argc, char **argv)
{
	struct config	cf;
	struct hub	h;

	proctitle_init("chatd", argc, argv);
	fault_init();
	config_init(&cf);
	config_args(&cf, argc, argv, CHATD_CONFIG_FILE);
	if (cf.check) {
		printf("chatd: settings OK\n");
		exit(0);
	}
	signal(SIGPIPE, SIG_IGN);
	if (cf.inetd) {
		log_procinit("worker");
		proctitle_set("worker");
		log_init(!stderr_is_socket(), cf.live.verbose);
		warn_config(&cf);
		inetd_check_stdin();
		inetd_instance(&cf);
		worker_proxy(&cf, NULL);
		state_open(cf.statedir);
		hub_open(&h, &cf, HUB_INETD);
		cf.livegen = hub_publish(&h, &cf.live);
		fault_worker(0);
		worker_main(&h, &cf);
	}
	if (cf.link_only)
		link_only(&cf);
	standalone(&cf);
}
