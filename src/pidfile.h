/*
 * pidfile.c: the pid file, which holds the listener's pid under an
 * exclusive lock for as long as the listener runs. pidfile_open()
 * refuses to start (exit 69) while another chatd holds it;
 * pidfile_forget() is for workers, pidfile_remove() for a clean
 * shutdown.
 */
#ifndef CHATD_PIDFILE_H
#define CHATD_PIDFILE_H

struct config;

void	pidfile_open(struct config *);
void	pidfile_forget(void);
void	pidfile_remove(void);

#endif
