/* SPDX-License-Identifier: ISC */
/*
 * link.c: the link process, chatd as a leaf server of an IRC network
 * (LINK.md). The listener starts it (and starts it again); under inetd
 * it runs alone, as chatd --link-only.
 */
#ifndef CHATD_LINK_H
#define CHATD_LINK_H

struct config;
struct hub;

void	link_main(struct hub *, struct config *) __attribute__((noreturn));

#endif
