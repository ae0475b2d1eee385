/* SPDX-License-Identifier: ISC */
/*
 * The audit trail: who kicked, banned, unbanned, sent a wall, shut the
 * server down or became an operator (or failed to), from where, and
 * why, one line each in the server's log. A user's worker logs what its
 * operator does at once (audit_log). chatctl is no server process: its
 * standard error is the administrator's terminal, and its own syslog
 * lines would not be the unit's in the journal. So it queues its line
 * in the segment (audit_post) and wakes the listener, or under -i the
 * workers, and the first of them to look logs it (audit_drain).
 *
 * Every field is written with its control characters as \xHH and its
 * backslashes doubled, whoever cleaned it before, so that no name,
 * reason or text can end the line and forge the next one.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "audit.h"
#include "log.h"

static const char *const audit_names[] = {
	[AUDIT_KICK] = "kick",
	[AUDIT_BAN] = "ban",
	[AUDIT_UNBAN] = "unban",
	[AUDIT_WALL] = "wall",
	[AUDIT_SHUTDOWN] = "shutdown",
	[AUDIT_OPER] = "oper",
	[AUDIT_OPER_FAILED] = "oper-failed"
};

/* What a cut line ends with. */
#define AUDIT_CUT	"..."

struct audit_buf {
	char	*buf;
	size_t	 size;
	size_t	 len;
	int	 cut;	/* out of room: the rest is dropped */
};

/* Appends n bytes, or marks the line cut if they do not fit. */
static void
audit_put(struct audit_buf *b, const char *s, size_t n)
{
	if (b->cut || b->len + n + sizeof(AUDIT_CUT) > b->size) {
		b->cut = 1;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

/*
 * Appends a field, escaped: control characters as \xHH, \ as \\. Cut
 * inside a character, it drops that character's first bytes too.
 */
static void
audit_field(struct audit_buf *b, const char *s)
{
	const unsigned char	*p;
	char			 esc[5];

	if (b->cut)
		return;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			audit_put(b, esc, 4);
		} else if (*p == '\\')
			audit_put(b, "\\\\", 2);
		else
			audit_put(b, (const char *)p, 1);
		if (b->cut)
			break;
	}
	if (b->cut && (*p & 0xc0) == 0x80) {
		while (b->len > 0 &&
		    ((unsigned char)b->buf[b->len - 1] & 0xc0) == 0x80)
			b->len--;
		if (b->len > 0)
			b->len--;
	}
}

/* " until 2025-06-01T14:00:00Z": a ban's end, in UTC. */
static void
audit_until(struct audit_buf *b, int64_t until)
{
	struct tm	tm;
	time_t		t = (time_t)until;
	char		when[32];
	size_t		n;

	if (gmtime_r(&t, &tm) == NULL ||
	    (n = strftime(when, sizeof(when), " until %Y-%m-%dT%H:%M:%SZ",
	    &tm)) == 0)
		n = (size_t)snprintf(when, sizeof(when), " until %lld",
		    (long long)until);
	audit_put(b, when, n);
}

/*
 * Writes the line for an action into buf (size bytes, at least
 * sizeof(AUDIT_CUT) + 1); one that does not fit ends in "...". Returns
 * its length. Pure: the tests and a fuzzer may call it alone.
 */
size_t
audit_format(char *buf, size_t size, const struct audit *a)
{
	struct audit_buf	b = { buf, size, 0, 0 };
	const char		*name = audit_names[a->action];

	audit_put(&b, "audit: ", 7);
	audit_put(&b, name, strlen(name));
	if (a->target != NULL) {
		audit_put(&b, " ", 1);
		audit_field(&b, a->target);
		if (a->target_addr != NULL) {
			audit_put(&b, " (", 2);
			audit_field(&b, a->target_addr);
			audit_put(&b, ")", 1);
		}
	}
	if (a->range != NULL) {
		audit_put(&b, " in ", 4);
		audit_field(&b, a->range);
	}
	if (a->until != 0)
		audit_until(&b, a->until);
	audit_put(&b, " by ", 4);
	audit_field(&b, a->by);
	if (a->from != NULL) {
		audit_put(&b, " (", 2);
		audit_field(&b, a->from);
		audit_put(&b, ")", 1);
	}
	if (a->reason != NULL) {
		audit_put(&b, ": ", 2);
		audit_field(&b, a->reason);
	}
	if (b.cut) {
		memcpy(buf + b.len, AUDIT_CUT, sizeof(AUDIT_CUT) - 1);
		b.len += sizeof(AUDIT_CUT) - 1;
	}
	buf[b.len] = '\0';
	return b.len;
}

static int
audit_pri(const struct audit *a)
{
	return a->action == AUDIT_OPER_FAILED ? LOG_WARNING : LOG_NOTICE;
}

static void
audit_emit(int pri, const char *line)
{
	if (pri == LOG_WARNING)
		log_warnx("%s", line);
	else
		log_notice("%s", line);
}

/* Logs an action now, from this process. */
void
audit_log(const struct audit *a)
{
	char	line[AUDIT_LINE_MAX];

	(void)audit_format(line, sizeof(line), a);
	audit_emit(audit_pri(a), line);
}

/*
 * Queues an action for a server process to log (chatctl): the caller
 * then wakes one. A full queue loses its oldest line, which the next
 * audit_drain reports.
 */
void
audit_post(struct hub *h, const struct audit *a)
{
	struct audit_queue	*q = &h->hdr->audit;
	struct audit_entry	*e;
	uint64_t		 n;

	HUB_ASSERT_UNLOCKED();
	hub_lock(h);
	n = atomic_load(&q->posted);
	e = &q->entry[n % AUDIT_QUEUE_LEN];
	e->pri = audit_pri(a);
	(void)audit_format(e->line, sizeof(e->line), a);
	/* Published last: a poster dying before this leaves nothing. */
	atomic_store(&q->posted, n + 1);
	hub_unlock(h);
}

/*
 * Logs what chatctl queued, if anything: taken under the lock (so each
 * line is logged once, by whoever comes first), logged after it.
 */
void
audit_drain(struct hub *h)
{
	struct audit_queue	*q = &h->hdr->audit;
	struct audit_entry	 e[AUDIT_QUEUE_LEN];
	uint64_t		 to, n, lost = 0;
	size_t			 i, count;

	HUB_ASSERT_UNLOCKED();
	if (atomic_load(&q->posted) == atomic_load(&q->logged))
		return;
	hub_lock(h);
	to = atomic_load(&q->posted);
	n = to - atomic_load(&q->logged);
	if (n > AUDIT_QUEUE_LEN) {
		lost = n - AUDIT_QUEUE_LEN;
		n = AUDIT_QUEUE_LEN;
	}
	count = (size_t)n;
	for (i = 0; i < count; i++)
		e[i] = q->entry[(to - count + i) % AUDIT_QUEUE_LEN];
	atomic_store(&q->logged, to);
	hub_unlock(h);
	if (lost > 0)
		log_warnx("audit: %llu lines of chatctl lost: no server "
		    "process logged them in time", (unsigned long long)lost);
	for (i = 0; i < count; i++) {
		e[i].line[AUDIT_LINE_MAX - 1] = '\0';
		audit_emit(e[i].pri, e[i].line);
	}
}
