/* SPDX-License-Identifier: ISC */
/*
 * Crash points (see fault.h). The specification is read once, at start,
 * by every chatd process; only a worker arms it, so the listener and
 * chatctl(8) never crash on purpose. The crash is logged first, so a
 * test can tell that its scenario reached the point it meant.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fault.h"
#include "log.h"

static const char *const fault_names[FP_COUNT] = {
#define X(id, name)	name,
	FAULT_POINTS
#undef X
};

static enum fault_point	fault_point = FP_COUNT;	/* FP_COUNT: none */
static unsigned long	fault_nth = 1;		/* crash at this pass */
static unsigned long	fault_conn;		/* only here; 0: any */
static int		fault_link_restarted;	/* see fault_link_spawned */
static unsigned long	fault_passes;
static int		fault_armed;

/* A number of at least 1 after a separator, up to end or stop. */
static unsigned long
fault_number(const char *s, int stop)
{
	unsigned long	 v;
	char		*end;

	if (*s < '1' || *s > '9')
		fatal_status(EX_USAGE, "CHATD_CRASH: '%s' is not a "
		    "positive number", s);
	v = strtoul(s, &end, 10);
	if (*end != '\0' && *end != stop)
		fatal_status(EX_USAGE, "CHATD_CRASH: '%s' is not a "
		    "positive number", s);
	return v;
}

/*
 * Reads CHATD_CRASH: POINT[:N][@K], POINT[:N]@link (the link process
 * alone), or "list" to print the points and
 * exit. An unknown point is fatal, so a misspelt test fails loudly
 * instead of never crashing.
 */
void
fault_init(void)
{
	const char	*spec = getenv("CHATD_CRASH"), *at, *colon;
	size_t		 len;
	int		 i;

	if (spec == NULL || *spec == '\0')
		return;
	if (strcmp(spec, "list") == 0) {
		for (i = 0; i < FP_COUNT; i++)
			printf("%s\n", fault_names[i]);
		exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
	}
	at = strchr(spec, '@');
	colon = strchr(spec, ':');
	if (colon != NULL && at != NULL && colon > at)
		colon = NULL;
	len = colon != NULL ? (size_t)(colon - spec) :
	    at != NULL ? (size_t)(at - spec) : strlen(spec);
	for (i = 0; i < FP_COUNT; i++)
		if (strlen(fault_names[i]) == len &&
		    strncmp(fault_names[i], spec, len) == 0)
			fault_point = (enum fault_point)i;
	if (fault_point == FP_COUNT)
		fatal_status(EX_USAGE, "CHATD_CRASH: no crash point '%.*s' "
		    "(try CHATD_CRASH=list)", (int)len, spec);
	if (colon != NULL)
		fault_nth = fault_number(colon + 1, '@');
	if (at != NULL && strcmp(at + 1, "link") == 0)
		fault_conn = FAULT_LINK;
	else if (at != NULL)
		fault_conn = fault_number(at + 1, '\0');
}

/*
 * This process is now the worker of connection conn (counted from 1 by
 * the listener; 0 under inetd, where each process is one connection),
 * or the link process (FAULT_LINK), which only @link or no @ arms.
 */
void
fault_worker(unsigned conn)
{
	fault_armed = fault_point != FP_COUNT && (fault_conn == 0 ||
	    conn == fault_conn || (conn == 0 && fault_conn != FAULT_LINK));
	if (conn == FAULT_LINK && fault_link_restarted)
		fault_armed = 0;
}

/*
 * The listener forked its first link process: the ones it starts
 * again are not armed, so that a test sees the link recover.
 */
void
fault_link_spawned(void)
{
	fault_link_restarted = 1;
}

void
fault_pass(enum fault_point p)
{
	if (!fault_armed || p != fault_point || ++fault_passes < fault_nth)
		return;
	log_warnx("crash point %s, pass %lu: killing myself", fault_names[p],
	    fault_passes);
	raise(SIGKILL);
}
