/* SPDX-License-Identifier: ISC */
/*
 * pidfile.c: the pid file, which holds the listener's pid under an
 * exclusive lock for as long as the listener runs. pidfile_open()
 * refuses to start (exit 69) while another chatd holds it, and arranges
 * for pidfile_remove() to run when the listener exits; pidfile_forget()
 * is for workers.
 */
#ifndef CHATD_PIDFILE_H
#define CHATD_PIDFILE_H

struct config;

void	pidfile_open(struct config *);
void	pidfile_forget(void);
void	pidfile_remove(void);

#endif
