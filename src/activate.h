/* SPDX-License-Identifier: ISC */
/*
 * activate.c: socket activation. activate_fds() takes the listening
 * sockets a service manager passed (systemd's Accept=no protocol) and
 * returns how many, or 0 when chatd was not started that way and must
 * bind its own.
 */
#ifndef CHATD_ACTIVATE_H
#define CHATD_ACTIVATE_H

struct config;

int	activate_fds(struct config *, int *, int);

#endif
