/* SPDX-License-Identifier: ISC */
/*
 * The notices nobody can forge. A /me line reads "* SENDER TEXT", as
 * the server's notices about a user do ("* bob quit", "* bob is now
 * known as alice"), so a TEXT that would make it read as one of them is
 * refused: people and bots must be able to trust a "* " line about a
 * user. This file knows the forms the server writes about a user, local
 * or remote (session.c, cmd.c, client.c, worker.c and link.c write
 * them), and compares a text with them as a reader would see it.
 *
 * The text is taken apart into words at blanks, which are ASCII space
 * and TAB and every Unicode space separator, since they all look like a
 * space; invisible format characters (Unicode's default ignorable code
 * points: zero-width spaces and joiners, soft hyphens, direction marks,
 * variation selectors) are dropped, since "qu<ZWSP>it" looks like
 * "quit". Words are compared ignoring ASCII case. Letters of other
 * scripts that look like Latin ones are not caught: that is what a
 * reader's font decides, not the text.
 */
#include <stdint.h>

#include "notice.h"

#define NOTICE_WORDS	6	/* words a form is told by, at most */

struct span {
	const unsigned char	*p;
	size_t			 n;
};

/* The text in words: the first NOTICE_WORDS of them, and how many. */
struct words {
	struct span	w[NOTICE_WORDS];
	size_t		count;
	uint32_t	last;	/* the last visible character, 0 if none */
};

/* Default_Ignorable_Code_Point (Unicode 15), as ranges. */
static const uint32_t invisible[][2] = {
	{ 0x00ad, 0x00ad }, { 0x034f, 0x034f }, { 0x061c, 0x061c },
	{ 0x115f, 0x1160 }, { 0x17b4, 0x17b5 }, { 0x180b, 0x180f },
	{ 0x200b, 0x200f }, { 0x202a, 0x202e }, { 0x2060, 0x206f },
	{ 0x3164, 0x3164 }, { 0xfe00, 0xfe0f }, { 0xfeff, 0xfeff },
	{ 0xffa0, 0xffa0 }, { 0xfff0, 0xfff8 }, { 0x1bca0, 0x1bca3 },
	{ 0x1d173, 0x1d17a }, { 0xe0000, 0xe0fff },
};

/* White_Space characters that show as a space (Unicode's Zs and TAB). */
static const uint32_t blank[][2] = {
	{ 0x0009, 0x0009 }, { 0x0020, 0x0020 }, { 0x00a0, 0x00a0 },
	{ 0x1680, 0x1680 }, { 0x2000, 0x200a }, { 0x2028, 0x2029 },
	{ 0x202f, 0x202f }, { 0x205f, 0x205f }, { 0x3000, 0x3000 },
};

static int
in_table(uint32_t cp, const uint32_t (*t)[2], size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (cp >= t[i][0] && cp <= t[i][1])
			return 1;
	return 0;
}

#define IS_INVISIBLE(cp) \
	in_table((cp), invisible, sizeof(invisible) / sizeof(invisible[0]))
#define IS_BLANK(cp)	in_table((cp), blank, sizeof(blank) / sizeof(blank[0]))

/*
 * One character of s[0..n), n > 0: its length, and its code point in
 * *cp. Text hygiene has made the text valid UTF-8; any other byte is
 * taken alone, as U+FFFD, so that any bytes at all can be given.
 */
static size_t
next_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		len, i;
	uint32_t	c;

	*cp = 0xfffdU;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1fU;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0fU;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07U;
	} else
		return 1;
	if (len > n)
		return 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0U) != 0x80U)
			return 1;
		c = (c << 6) | (s[i] & 0x3fU);
	}
	*cp = c;
	return len;
}

/* Takes text[0..n) apart into words (see the top of the file). */
static void
split(const unsigned char *s, size_t n, struct words *w)
{
	size_t		i, k;
	uint32_t	cp;
	int		inword = 0;

	w->count = 0;
	w->last = 0;
	for (i = 0; i < n; i += k) {
		k = next_char(s + i, n - i, &cp);
		if (IS_INVISIBLE(cp))
			continue;
		if (IS_BLANK(cp)) {
			inword = 0;
			continue;
		}
		if (!inword) {
			inword = 1;
			if (w->count < NOTICE_WORDS)
				w->w[w->count].p = s + i;
			w->count++;
		}
		if (w->count <= NOTICE_WORDS)
			w->w[w->count - 1].n = (size_t)(s + i + k -
			    w->w[w->count - 1].p);
		w->last = cp;
	}
}

/* Whether word i is lit (lower case ASCII), ignoring case. */
static int
word_is(const struct words *w, size_t i, const char *lit)
{
	const struct span	*sp;
	size_t			 j, k;
	uint32_t		 cp;

	if (i >= w->count || i >= NOTICE_WORDS)
		return 0;
	sp = &w->w[i];
	for (j = 0; j < sp->n; j += k) {
		k = next_char(sp->p + j, sp->n - j, &cp);
		if (IS_INVISIBLE(cp))
			continue;
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if (*lit == '\0' || cp != (unsigned char)*lit)
			return 0;
		lit++;
	}
	return *lit == '\0';
}

/* Whether the text from word i on is "(ANYTHING)". */
static int
parens_from(const struct words *w, size_t i)
{
	return i < w->count && i < NOTICE_WORDS && w->w[i].p[0] == '(' &&
	    w->last == ')';
}

/*
 * "was kicked by WORD" and "was banned by WORD", alone or followed by
 * " (ANYTHING)"; chatctl's kicks and bans are "by the administrator".
 */
static int
kicked_form(const struct words *w)
{
	size_t	end;

	if (!word_is(w, 0, "was") || !(word_is(w, 1, "kicked") ||
	    word_is(w, 1, "banned")) || !word_is(w, 2, "by") || w->count < 4)
		return 0;
	end = word_is(w, 3, "the") && word_is(w, 4, "administrator") ? 5 : 4;
	return w->count == end || parens_from(w, end);
}

int
notice_forged(const char *text, size_t n)
{
	struct words	w;

	split((const unsigned char *)text, n, &w);
	/* "joined WORD", "left WORD". */
	if (word_is(&w, 0, "joined") || word_is(&w, 0, "left"))
		return w.count == 2;
	/* "quit", "quit (ANYTHING)". */
	if (word_is(&w, 0, "quit"))
		return w.count == 1 || parens_from(&w, 1);
	/* "is now known as WORD", "is now the operator", "... an ...". */
	if (word_is(&w, 0, "is") && word_is(&w, 1, "now"))
		return (w.count == 5 && word_is(&w, 2, "known") &&
		    word_is(&w, 3, "as")) || (w.count == 4 &&
		    (word_is(&w, 2, "the") || word_is(&w, 2, "an")) &&
		    word_is(&w, 3, "operator"));
	return kicked_form(&w);
}
