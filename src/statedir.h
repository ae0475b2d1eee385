/* SPDX-License-Identifier: ISC */
/*
 * statedir.c: the state directory and its files, for journal.c and
 * state.c.
 */
#ifndef CHATD_STATEDIR_H
#define CHATD_STATEDIR_H

#include <stdio.h>

#include "hub.h"
#include "stfmt.h"

/* A state file being read line by line. */
struct reader {
	FILE		*fp;
	const char	*name;
	char		*buf;
	size_t		 lineno;
	int		 bad;
};

void	statedir_open(const char *);
int	state_dir(const struct hub *);
const char *state_path(void);
int	state_quiet(void);
int	state_open_read(int, const char *);
int	replace_file(int, const char *, const struct sbuf *, int);
int	lock_take(int);
int	reader_open(struct reader *, int, const char *);
int	reader_next(struct reader *, size_t *);
void	reader_warn(struct reader *, const char *);
void	reader_close(struct reader *);
void	bans_load(struct hub *, int);
int	bans_save(struct hub *);

#endif
