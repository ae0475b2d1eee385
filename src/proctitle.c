/* SPDX-License-Identifier: ISC */
/*
 * The process title. Linux has no setproctitle(3): ps(1) and top -c
 * show /proc/PID/cmdline, which is the memory where the kernel laid out
 * the argument strings at exec, followed by the environment strings.
 * As sshd and PostgreSQL do there, proctitle_init() first copies those
 * strings to the heap and points argv[] and environ at the copies, so
 * that getopt, getenv and the second reading of the arguments on SIGHUP
 * never see a title; proctitle_set() then writes the title over the
 * old strings, never past the last of them, and clears the rest. A
 * title longer than that space is cut.
 *
 * The kernel's name for the process (/proc/PID/comm, which pgrep -x
 * and ps -C match) is not touched: it stays the executable's name.
 * Titles carry a user's name and address, which come from the network:
 * whatever a caller passes, only printable ASCII is written, anything
 * else becomes '?'.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proctitle.h"

/* Longest title built: "chatd: " and a 64-character instance fit. */
#define PROCTITLE_MAX	128

extern char	**environ;

static const char	*title_name;	/* "chatd" */
static char		*title_area;	/* where the strings were; NULL: none */
static size_t		 title_space;	/* its size, the last NUL included */
static size_t		 title_dirty;	/* bytes from title_area not yet NUL */

/* Where the strings laid out one after another from *v[0] end. */
static char *
strings_end(char *end, char **v, size_t n, size_t *counted)
{
	size_t	i;

	for (i = 0; i < n && v[i] == end; i++)
		end += strlen(v[i]) + 1;
	*counted = i;
	return end;
}

/* The size of the n strings of v, their NULs included. */
static size_t
strings_size(char *const *v, size_t n)
{
	size_t	i, total = 0;

	for (i = 0; i < n; i++)
		total += strlen(v[i]) + 1;
	return total;
}

/* Copies the n strings of v to dst, and points v at the copies. */
static void
strings_copy(char **v, size_t n, char *dst)
{
	size_t	i, len;

	for (i = 0; i < n; i++) {
		len = strlen(v[i]) + 1;
		memcpy(dst, v[i], len);
		v[i] = dst;
		dst += len;
	}
}

/*
 * Moves the environment to the heap: its array, then its strings, in
 * one block that environ points at. unsetenv() only moves pointers in
 * the array, so the block never loses its last reference (which
 * LeakSanitizer would report), even with every variable unset.
 */
static void
environ_move(void)
{
	char	**env;
	size_t	  n;

	for (n = 0; environ[n] != NULL; n++)
		;
	env = malloc((n + 1) * sizeof(*env) + strings_size(environ, n));
	if (env == NULL)
		fatal("proctitle");
	memcpy(env, environ, (n + 1) * sizeof(*env));
	strings_copy(env, n, (char *)(env + n + 1));
	environ = env;
}

/* Moves the arguments' strings to the heap; argv[] points at them. */
static void
argv_move(char **argv, size_t argc)
{
	char	*block;

	if ((block = malloc(strings_size(argv, argc))) == NULL)
		fatal("proctitle");
	strings_copy(argv, argc, block);
}

/*
 * glibc's program_invocation_name (what err(3) and getopt print, and
 * config.c's usage errors) points at the first argument's old string.
 */
static void
progname_move(const char *old, char *copy)
{
#ifdef __GLIBC__
	size_t	len = strlen(old);

	if (program_invocation_short_name >= old &&
	    program_invocation_short_name <= old + len)
		program_invocation_short_name = copy +
		    (program_invocation_short_name - old);
	if (program_invocation_name == old)
		program_invocation_name = copy;
#else
	(void)old;
	(void)copy;
#endif
}

/*
 * Takes over the memory of argv's strings for the title, with the
 * environment's if it follows them; to be called first thing in main.
 * name is what every title begins with.
 */
void
proctitle_init(const char *name, int argc, char **argv)
{
	char	*end, *old0;
	size_t	 n;

	if (argc < 1 || argv[0] == NULL)
		return;
	end = strings_end(argv[0], argv, (size_t)argc, &n);
	if (n == (size_t)argc)
		end = strings_end(end, environ, SIZE_MAX, &n);
	environ_move();
	old0 = argv[0];
	argv_move(argv, (size_t)argc);
	progname_move(old0, argv[0]);
	title_name = name;
	title_area = old0;
	title_space = (size_t)(end - old0);
	title_dirty = title_space;
}

/* Sets the title to the name, ": " and the text fmt makes. */
void
proctitle_set(const char *fmt, ...)
{
	char	 buf[PROCTITLE_MAX];
	va_list	 ap;
	size_t	 len, i;
	int	 n;

	if (title_area == NULL)
		return;
	n = snprintf(buf, sizeof(buf), "%s: ", title_name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fatalx("bug: process name too long");
	/* A title too long for buf is cut, as one too long for the space. */
	va_start(ap, fmt);
	(void)vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	len = strlen(buf);
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
	/* The last byte of the space stays a NUL. */
	if (len > title_space - 1)
		len = title_space - 1;
	memcpy(title_area, buf, len);
	if (title_dirty > len)
		memset(title_area + len, '\0', title_dirty - len);
	title_dirty = len;
}
