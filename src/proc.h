/* SPDX-License-Identifier: ISC */
/*
 * proc.c: process liveness, by pid and start time.
 */
#ifndef CHATD_PROC_H
#define CHATD_PROC_H

#include <stdint.h>
#include <sys/types.h>

uint64_t proc_start(pid_t);
int	proc_alive(pid_t, uint64_t);

#endif
