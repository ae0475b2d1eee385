/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the token bucket and the flood detector, driven by a
 * clock the test sets. Prints each failed check; exits 1 if any.
 */
#include <stdio.h>

#include "../src/ratelimit.h"

static int	failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("unit_ratelimit.c:%d: %s\n", __LINE__, #cond);	\
		failures++;						\
	}								\
} while (0)

/* Takes n lines at time now; returns how many passed. */
static int
take(struct bucket *b, int n, int64_t now, unsigned floodkick)
{
	int	i, passed = 0;

	for (i = 0; i < n; i++)
		passed += bucket_take(b, now, floodkick) == BUCKET_PASS;
	return passed;
}

/* Takes n lines at time now; whether any of them ended in a flood. */
static int
floods(struct bucket *b, int n, int64_t now, unsigned floodkick)
{
	int	i, flood = 0;

	for (i = 0; i < n; i++)
		flood |= bucket_take(b, now, floodkick) == BUCKET_FLOOD;
	return flood;
}

static void
test_burst_and_refill(void)
{
	struct bucket	b;

	bucket_init(&b, 2, 10, 0);
	CHECK(take(&b, 15, 0, 0) == 10);
	/* Two tokens a second, continuously: one after half a second. */
	CHECK(take(&b, 5, 499, 0) == 0);
	CHECK(take(&b, 5, 500, 0) == 1);
	CHECK(take(&b, 5, 1500, 0) == 2);
	/* Never more than the burst, however long the pause. */
	CHECK(take(&b, 50, 100000, 0) == 10);
}

static void
test_no_limit(void)
{
	struct bucket	b;

	bucket_init(&b, 0, 10, 0);
	CHECK(take(&b, 1000, 0, 1) == 1000);
}

static void
test_warn_once_a_second(void)
{
	struct bucket	b;

	bucket_init(&b, 1, 1, 0);
	CHECK(bucket_take(&b, 0, 0) == BUCKET_PASS);
	CHECK(bucket_take(&b, 10, 0) == BUCKET_WARN);
	CHECK(bucket_take(&b, 20, 0) == BUCKET_DROP);
	CHECK(bucket_take(&b, 999, 0) == BUCKET_DROP);
	CHECK(bucket_take(&b, 1000, 0) == BUCKET_PASS);
	CHECK(bucket_take(&b, 1010, 0) == BUCKET_WARN);
}

static void
test_flood_kick(void)
{
	struct bucket	b;
	int64_t		t;
	int		kicked = 0;

	/* Drops in each of 3 consecutive seconds: the third disconnects. */
	bucket_init(&b, 1, 1, 0);
	for (t = 0; t < 3000 && !kicked; t += 100)
		kicked = bucket_take(&b, t, 3) == BUCKET_FLOOD;
	CHECK(kicked);
	CHECK(t > 2000);
	/* A second without drops starts the count again. */
	bucket_init(&b, 1, 1, 0);
	CHECK(!floods(&b, 5, 0, 3));
	CHECK(!floods(&b, 5, 1000, 3));
	/* Nothing at all during second 2. */
	CHECK(!floods(&b, 5, 3000, 3));
	CHECK(!floods(&b, 5, 4000, 3));
	CHECK(floods(&b, 5, 5000, 3));
	/* flood-kick 0: never. */
	bucket_init(&b, 1, 1, 0);
	for (t = 0, kicked = 0; t < 20000; t += 50)
		kicked |= bucket_take(&b, t, 0) == BUCKET_FLOOD;
	CHECK(!kicked);
}

int
main(void)
{
	test_burst_and_refill();
	test_no_limit();
	test_warn_once_a_second();
	test_flood_kick();
	if (failures != 0) {
		printf("unit_ratelimit: %d check(s) failed\n", failures);
		return 1;
	}
	return 0;
}
