/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes the command parser (cmd_parse and cmd_split_word in cmd.c, and
 * the name checks the commands apply) on a line as a client sends it:
 * once as raw bytes after a slash, and once the way worker_line() hands
 * it over, text-cleaned and run only when it starts with one slash.
 */
#include <string.h>

#include "../src/room.h"
#include "../src/text.h"
#include "../src/worker.h"
#include "fuzz.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses one NUL-ended command line of n bytes in buf (buf[0] is '/'). */
static void
parse(char *buf, size_t n)
{
	struct cmd_call	 call;
	char		*rest, *word;
	size_t		 len;

	if (cmd_parse(buf, &call) == -1) {
		FUZZ_CHECK(call.cmd == NULL && call.name == buf + 1);
		FUZZ_CHECK(call.namelen == strcspn(buf + 1, " \t"));
		return;
	}
	FUZZ_CHECK(call.cmd != NULL && call.namelen > 0);
	FUZZ_CHECK(call.args >= buf + 1 + call.namelen && call.args <= buf + n);
	len = strlen(call.args);
	FUZZ_CHECK(len == 0 || (!blank(call.args[0]) &&
	    !blank(call.args[len - 1])));
	if (!call.args_ok)
		return;
	/* /nick and /join check the argument; /dm, /kick, /ban split it. */
	(void)text_name_problem(call.args, len);
	(void)text_room_problem(call.args, len);
	word = call.args;
	rest = cmd_split_word(word);
	FUZZ_CHECK(strcspn(word, " \t") == strlen(word));
	FUZZ_CHECK(rest == NULL || (rest[0] != '\0' && !blank(rest[0]) &&
	    rest > word && rest <= call.args + len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*clean;
	char		*raw;
	size_t		 n;

	/* As typed: a slash, then the bytes (a NUL ends the line early). */
	if ((raw = malloc(size + 2)) == NULL)
		abort();
	raw[0] = '/';
	memcpy(raw + 1, data, size);
	raw[size + 1] = '\0';
	parse(raw, strlen(raw));
	free(raw);

	/* As worker_line() sees it: cleaned, one slash, no NUL inside. */
	if ((clean = malloc(TEXT_CLEAN_MAX(size) + 1)) == NULL)
		abort();
	n = text_clean(data, size, clean);
	clean[n] = '\0';
	if (n > 0 && clean[0] == '/' && (n == 1 || clean[1] != '/')) {
		FUZZ_CHECK(strlen((char *)clean) == n);
		parse((char *)clean, n);
	}
	free(clean);
	return 0;
}
