/* SPDX-License-Identifier: ISC */
/*
 * priv.c: -u USER. priv_init() looks the user up before anything is
 * bound (an unknown user is a bad option: exit 64); priv_drop(), after
 * binding and before the segment is made or a client read, hands the
 * run directory to the user and becomes it for good.
 */
#ifndef CHATD_PRIV_H
#define CHATD_PRIV_H

struct config;

void	priv_init(const struct config *);
void	priv_drop(const struct config *);

#endif
