/* SPDX-License-Identifier: ISC */
/*
 * log.c: diagnostics in the OpenBSD daemons' style. Messages go to stderr
 * in the foreground and to syslog as a daemon (to both while a daemon
 * starts); every line carries the process's role and id
 * ("chatd/worker[PID]: "), since a worker is a process. Text that came
 * from the network is logged only once text_clean() made it valid UTF-8
 * without control characters, or once its form was checked (a name, a
 * numeric address).
 */
#ifndef CHATD_LOG_H
#define CHATD_LOG_H

#include <stddef.h>

void	log_init(int foreground, int verbose);
void	log_setname(const char *);
void	log_procinit(const char *);
void	log_syslog(int keep_stderr);
void	log_on_exit(void (*)(int));
void	log_setverbose(int);
const char *log_pritag(int);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatal_status(int, const char *, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
