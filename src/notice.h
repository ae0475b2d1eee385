/* SPDX-License-Identifier: ISC */
/*
 * notice.c: the notices the server writes about a user, which nobody's
 * /me may imitate (chatd(7), "Notices cannot be forged"). A pure
 * function of the text, so the unit tests and the text fuzzer drive it.
 */
#ifndef CHATD_NOTICE_H
#define CHATD_NOTICE_H

#include <stddef.h>

/*
 * Whether "* SENDER TEXT", for text[0..n) as /me or an IRC ACTION gives
 * it, would read as a notice the server writes about SENDER, compared
 * ignoring ASCII case, blanks at either end and repeated blanks (any
 * Unicode space counts as a blank) and invisible format characters.
 */
int	notice_forged(const char *text, size_t n);

#endif
