/* SPDX-License-Identifier: ISC */
/*
 * Durations (duration.h). A duration is one or more NUMBER UNIT pairs,
 * the units s, m, h, d and w (seconds to weeks), each at most once and
 * the largest first, so "1h30m" is 90 minutes and "30m1h" a mistake.
 */
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct unit {
	char		c;
	uint64_t	secs;
} units[] = {
	{ 'w', 7ULL * 86400 },
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

#define NUNITS	(sizeof(units) / sizeof(units[0]))

/*
 * Parses s into *secs, at least 1 and at most max seconds. Returns NULL,
 * or why s is no duration, for a message.
 */
const char *
duration_parse(const char *s, uint64_t max, uint64_t *secs)
{
	uint64_t	total = 0, n;
	size_t		u, next = 0;
	int		digits;

	if (*s == '\0')
		return "empty";
	while (*s != '\0') {
		for (n = 0, digits = 0; *s >= '0' && *s <= '9'; s++, digits++)
			if ((n = n * 10 + (uint64_t)(*s - '0')) > max)
				return "too long";
		if (digits == 0)
			return "a number must come first";
		if (*s == '\0')
			return "a unit (s, m, h, d or w) must follow each number";
		for (u = 0; u < NUNITS && units[u].c != *s; u++)
			;
		if (u == NUNITS)
			return "the units are s, m, h, d and w";
		if (u < next)
			return "each unit once, the largest first";
		next = u + 1;
		s++;
		if (n > max / units[u].secs || (total += n *
		    units[u].secs) > max)
			return "too long";
	}
	if (total == 0)
		return "zero";
	*secs = total;
	return NULL;
}

/*
 * Formats secs (at least 1) as a duration of at most two units, the
 * rest dropped: 5400 is "1h30m", 90061 "1d1h". What it prints parses.
 */
void
duration_format(uint64_t secs, char *buf, size_t len)
{
	uint64_t	n;
	size_t		u, shown = 0;
	int		w = 0, r;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (u = 0; u < NUNITS && shown < 2; u++) {
		n = secs / units[u].secs;
		if (n == 0 && shown == 0)
			continue;
		secs -= n * units[u].secs;
		shown++;
		if (n == 0)
			break;
		r = snprintf(buf + w, len - (size_t)w, "%llu%c",
		    (unsigned long long)n, units[u].c);
		if (r < 0 || (size_t)r >= len - (size_t)w)
			return;
		w += r;
	}
	if (w == 0)
		(void)snprintf(buf, len, "0s");
}
