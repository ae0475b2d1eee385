/* SPDX-License-Identifier: ISC */
/*
 * journal.c: the history journal, for state.c.
 */
#ifndef CHATD_JOURNAL_H
#define CHATD_JOURNAL_H

#include <stddef.h>

#include "hub.h"

void	hist_load(struct hub *, int);
int	journal_append(struct hub *, const char *, size_t);
int	journal_waiting(void);
void	journal_retry(struct hub *);
void	journal_forget(void);

#endif
