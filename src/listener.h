/* SPDX-License-Identifier: ISC */
/*
 * listener.c: the standalone server's parent process. It binds, accepts,
 * forks one worker per connection (the socket becomes the worker's fds 0
 * and 1, exactly as under inetd), reaps workers and buries the slots of
 * those that died without a word, and on SIGTERM or SIGINT brings
 * everybody down and removes the segment and the pipes.
 */
#ifndef CHATD_LISTENER_H
#define CHATD_LISTENER_H

#include "defs.h"

struct config;
struct hub;

int	listener_bind(struct config *, int *);
void	listener_hold_signals(int);
void	listener_main(struct hub *, struct config *, int *, int)
	    __attribute__((noreturn));

#endif
