/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.c: a token bucket per connection, and the flood detector
 * that watches it. Pure functions of the time they are given, in
 * milliseconds, so tests can drive them without a clock.
 */
#ifndef CHATD_RATELIMIT_H
#define CHATD_RATELIMIT_H

#include <stdint.h>

struct bucket {
	int64_t		milli;	/* tokens, in thousandths */
	int64_t		last;	/* time of the last refill */
	unsigned	rate;	/* tokens per second; 0: no limit */
	unsigned	burst;	/* bucket size */
	int64_t		warned;	/* when the sender was last told */
	int64_t		dropsec;	/* the last second with a dropped line */
	unsigned	floodsecs;	/* consecutive seconds with drops */
};

enum bucket_verdict {
	BUCKET_PASS,	/* the line goes through */
	BUCKET_DROP,	/* dropped silently: told less than a second ago */
	BUCKET_WARN,	/* dropped: tell the sender */
	BUCKET_FLOOD	/* dropped in each of flood-kick seconds: disconnect */
};

void			bucket_init(struct bucket *, unsigned, unsigned,
			    int64_t);
void			bucket_set(struct bucket *, unsigned, unsigned,
			    int64_t);
enum bucket_verdict	bucket_take(struct bucket *, int64_t, unsigned);

#endif
