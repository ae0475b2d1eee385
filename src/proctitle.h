/* SPDX-License-Identifier: ISC */
/*
 * proctitle.c: the process title that ps(1) and top(1) show, as
 * setproctitle(3) sets it on the BSDs: "chatd: listener 9000",
 * "chatd: worker 192.0.2.7", "chatd: alice@192.0.2.7". A process that
 * never called proctitle_init() (chatctl, the fuzz harnesses) keeps
 * its own title, and proctitle_set() does nothing there.
 */
#ifndef CHATD_PROCTITLE_H
#define CHATD_PROCTITLE_H

void	proctitle_init(const char *name, int argc, char **argv);
void	proctitle_set(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
