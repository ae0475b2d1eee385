/* SPDX-License-Identifier: ISC */
/*
 * stopper.c: processes stopped with SIGSTOP, continued on every way out
 * (bench/chatbench -z, tests/soak -z).
 */
#ifndef STOPPER_H
#define STOPPER_H

#include <sys/types.h>

#include <stdint.h>

#define STOPPER_MAX	64	/* processes stopped at once at most */

int	stopper_init(void);
int	stopper_stop(pid_t, int64_t);
int	stopper_has(pid_t);
unsigned stopper_count(void);
void	stopper_due(int64_t);
void	stopper_forget(pid_t);
void	stopper_cont_all(void);

#endif
