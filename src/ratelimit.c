/* SPDX-License-Identifier: ISC */
/*
 * The token bucket: it holds up to burst tokens and gains rate tokens a
 * second, continuously; each line takes one. Counting in thousandths of
 * a token keeps the refill exact for any interval without floating
 * point.
 */
#include "ratelimit.h"

void
bucket_init(struct bucket *b, unsigned rate, unsigned burst, int64_t now)
{
	b->rate = rate;
	b->burst = burst;
	b->milli = (int64_t)burst * 1000;
	b->last = now;
	b->warned = INT64_MIN / 2;
	b->dropsec = INT64_MIN / 2;
	b->floodsecs = 0;
}

static void
bucket_refill(struct bucket *b, int64_t now)
{
	int64_t	cap = (int64_t)b->burst * 1000;

	if (now > b->last) {
		b->milli += (now - b->last) * b->rate;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last = now;
}

/*
 * New settings for a bucket in use: what was earned at the old rate is
 * kept, up to the new size.
 */
void
bucket_set(struct bucket *b, unsigned rate, unsigned burst, int64_t now)
{
	bucket_refill(b, now);
	b->rate = rate;
	b->burst = burst;
	if (b->milli > (int64_t)burst * 1000)
		b->milli = (int64_t)burst * 1000;
}

/* Counts the seconds in a row in which lines were dropped. */
static void
bucket_flood(struct bucket *b, int64_t now)
{
	int64_t	sec = now / 1000;

	if (sec == b->dropsec)
		return;
	b->floodsecs = sec == b->dropsec + 1 ? b->floodsecs + 1 : 1;
	b->dropsec = sec;
}

/*
 * Takes a token for one line at time now (milliseconds). floodkick is
 * the number of consecutive seconds of drops that ends the connection,
 * 0 for never.
 */
enum bucket_verdict
bucket_take(struct bucket *b, int64_t now, unsigned floodkick)
{
	if (b->rate == 0)
		return BUCKET_PASS;
	bucket_refill(b, now);
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return BUCKET_PASS;
	}
	bucket_flood(b, now);
	if (floodkick != 0 && b->floodsecs >= floodkick)
		return BUCKET_FLOOD;
	if (now - b->warned < 1000)
		return BUCKET_DROP;
	b->warned = now;
	return BUCKET_WARN;
}
