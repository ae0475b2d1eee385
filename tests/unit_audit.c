/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the audit trail's line (audit_format): its fields in
 * order, control characters and backslashes escaped whatever the caller
 * passed, and a long line cut at a character boundary. Prints each
 * failed check; exits 1 if any.
 */
#include <stdio.h>
#include <string.h>

#include "../src/audit.h"

static int	failures;

#define CHECK_LINE(a, want) check_line(__LINE__, (a), (want))

static void
check_line(int line, const struct audit *a, const char *want)
{
	char	buf[AUDIT_LINE_MAX];
	size_t	n = audit_format(buf, sizeof(buf), a);

	if (strcmp(buf, want) != 0 || n != strlen(want)) {
		printf("unit_audit.c:%d: got \"%s\" (%zu bytes), want \"%s\"\n",
		    line, buf, n, want);
		failures++;
	}
}

static void
test_fields(void)
{
	CHECK_LINE(&((struct audit){ .action = AUDIT_KICK, .target = "bob",
	    .target_addr = "192.0.2.7", .by = "alice", .from = "192.0.2.1",
	    .reason = "too loud" }),
	    "audit: kick bob (192.0.2.7) by alice (192.0.2.1): too loud");
	CHECK_LINE(&((struct audit){ .action = AUDIT_BAN, .target = "bob",
	    .target_addr = "2001:db8::7", .by = "chatctl",
	    .from = "root, uid 0, pid 42" }),
	    "audit: ban bob (2001:db8::7) by chatctl (root, uid 0, pid 42)");
	CHECK_LINE(&((struct audit){ .action = AUDIT_BAN, .target = "bob",
	    .target_addr = "2001:db8::7", .range = "2001:db8::/64",
	    .until = 1748786400, .by = "alice", .from = "192.0.2.1",
	    .reason = "spam" }),
	    "audit: ban bob (2001:db8::7) in 2001:db8::/64 until "
	    "2025-06-01T14:00:00Z by alice (192.0.2.1): spam");
	CHECK_LINE(&((struct audit){ .action = AUDIT_BAN,
	    .target = "198.51.100.0/24", .until = 1, .by = "alice",
	    .from = "192.0.2.1" }),
	    "audit: ban 198.51.100.0/24 until 1970-01-01T00:00:01Z by alice "
	    "(192.0.2.1)");
	CHECK_LINE(&((struct audit){ .action = AUDIT_UNBAN,
	    .target = "192.0.2.7", .by = "alice", .from = "192.0.2.1" }),
	    "audit: unban 192.0.2.7 by alice (192.0.2.1)");
	CHECK_LINE(&((struct audit){ .action = AUDIT_WALL, .by = "chatctl",
	    .from = "uid 7, pid 9", .reason = "back at noon" }),
	    "audit: wall by chatctl (uid 7, pid 9): back at noon");
	CHECK_LINE(&((struct audit){ .action = AUDIT_SHUTDOWN,
	    .by = "chatctl", .from = "uid 7, pid 9" }),
	    "audit: shutdown by chatctl (uid 7, pid 9)");
	CHECK_LINE(&((struct audit){ .action = AUDIT_OPER, .by = "alice",
	    .from = "::1" }), "audit: oper by alice (::1)");
	CHECK_LINE(&((struct audit){ .action = AUDIT_OPER_FAILED,
	    .by = "bob", .from = "::1", .reason = "wrong password" }),
	    "audit: oper-failed by bob (::1): wrong password");
}

/* No byte of a field can end the line or pass for an escape. */
static void
test_escapes(void)
{
	CHECK_LINE(&((struct audit){ .action = AUDIT_KICK, .target = "b\nob",
	    .by = "al\rice", .from = "x\x1b[0m", .reason =
	    "a\nchatd/listener[1]: audit: shutdown by chatctl\x7f\\x0a" }),
	    "audit: kick b\\x0aob by al\\x0dice (x\\x1b[0m): "
	    "a\\x0achatd/listener[1]: audit: shutdown by chatctl\\x7f\\\\x0a");
	CHECK_LINE(&((struct audit){ .action = AUDIT_WALL, .by = "chatctl",
	    .reason = "caf\xc3\xa9 \t" }),
	    "audit: wall by chatctl: caf\xc3\xa9 \\x09");
}

/* A line too long ends in "...", never inside a character. */
static void
test_cut(void)
{
	char		reason[2 * AUDIT_LINE_MAX], buf[AUDIT_LINE_MAX];
	const char	*head = "audit: wall by chatctl: ";
	size_t		i, n, len;

	/* "é" (2 bytes) after an odd prefix, so some cut falls inside one. */
	for (len = 0; len < 4; len++) {
		memset(reason, 'x', len);
		for (i = len; i + 2 < sizeof(reason); i += 2)
			memcpy(reason + i, "\xc3\xa9", 2);
		reason[i] = '\0';
		n = audit_format(buf, sizeof(buf), &(struct audit){
		    .action = AUDIT_WALL, .by = "chatctl", .reason = reason });
		if (n >= sizeof(buf) || n != strlen(buf) || n < 3 ||
		    strcmp(buf + n - 3, "...") != 0 ||
		    strncmp(buf, head, strlen(head)) != 0 ||
		    n + 3 + 1 + 2 < sizeof(buf) ||
		    (n - 3 - strlen(head) - len) % 2 != 0) {
			printf("unit_audit.c:%d: cut badly (%zu bytes): %s\n",
			    __LINE__, n, buf);
			failures++;
		}
	}
	/* A field that would not fit at all is dropped, whole. */
	memset(reason, 'y', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	n = audit_format(buf, sizeof(buf), &(struct audit){
	    .action = AUDIT_KICK, .target = reason, .target_addr = "::1",
	    .by = "chatctl", .reason = "why" });
	if (strstr(buf, " by ") != NULL || strcmp(buf + n - 3, "...") != 0) {
		printf("unit_audit.c:%d: %s\n", __LINE__, buf);
		failures++;
	}
}

int
main(void)
{
	test_fields();
	test_escapes();
	test_cut();
	return failures > 0;
}
