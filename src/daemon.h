/* SPDX-License-Identifier: ISC */
/*
 * daemon.c: becoming a daemon (-d). daemon_detach() leaves the terminal
 * and the session, and leaves its starter waiting; daemon_ready() tells
 * the starter that the server is up, which then exits 0. A fatal error
 * in between makes the starter exit with the same status, the reason
 * having gone to its stderr.
 */
#ifndef CHATD_DAEMON_H
#define CHATD_DAEMON_H

void	daemon_stdio(void);
void	daemon_detach(void);
void	daemon_ready(void);

#endif
