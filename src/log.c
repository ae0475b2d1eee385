/* SPDX-License-Identifier: ISC */
/*
 * Logging for every chatd process. The foreground goes to stderr, a
 * daemon to syslog (LOG_DAEMON); a daemon starting up goes to both, so
 * that whoever started it sees why it failed. fatal() appends
 * strerror(errno) and fatalx() does not; both exit with EX_SOFTWARE
 * unless a status is given through fatal_status(), which is how
 * start-up errors reach their exit codes. A daemon's waiting parent
 * learns that status through the hook set by log_on_exit().
 *
 * Every line names the process's role, as Postfix's do
 * ("postfix/smtpd[PID]"): each process calls log_procinit() where it
 * becomes a listener or a worker, and its lines then begin with
 * "chatd/listener[PID]: " or "chatd/worker[PID]: ", on stderr and in
 * syslog alike. chatctl logs as itself, with no role.
 *
 * When stderr is the journal (systemd's JOURNAL_STREAM names its device
 * and inode, as sd-daemon(3) says), each line written there begins with
 * the syslog priority, "<4>" for a warning, so that journald files it
 * as syslog would; journald strips the tag. chatd writes no timestamps
 * of its own, and keeps the role and pid: every process of a unit
 * shares the stream, which journald credits to the one that opened it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"

/* "chatd/worker": the program's name and the process's role. */
#define LOG_IDENT_MAX	32

static const char	*log_name = "chatd";	/* chatctl says its own */
static char	log_ident[LOG_IDENT_MAX] = "chatd";	/* what lines begin with */
static int	log_stderr = 1;
static int	log_syslog_on;
static int	log_verbose;
static int	log_journal = -1;	/* stderr is the journal; -1: not known yet */
static void	(*log_exit_hook)(int);

/* A decimal number up to sep (or the end, sep 0); -1 if it is not one. */
static int
log_number(const char **s, char sep, unsigned long long *v)
{
	char	*end;

	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	*v = strtoull(*s, &end, 10);
	if (errno != 0 || *end != sep)
		return -1;
	*s = end + (sep != '\0');
	return 0;
}

/*
 * Whether stderr is the stream JOURNAL_STREAM ("DEVICE:INODE") names:
 * a child whose stderr was sent elsewhere inherits the variable, but not
 * the stream.
 */
static int
log_stderr_is_journal(void)
{
	const char		*s = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;

	if (s == NULL || log_number(&s, ':', &dev) == -1 ||
	    log_number(&s, '\0', &ino) == -1)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int foreground, int verbose)
{
	log_verbose = verbose;
	log_journal = log_stderr_is_journal();
	if (foreground) {
		log_stderr = 1;
		log_syslog_on = 0;
	} else
		log_syslog(0);
}

/* The ident syslog is given; it keeps the pointer, not a copy. */
static void
log_setident(const char *role)
{
	int	n;

	if (role != NULL)
		n = snprintf(log_ident, sizeof(log_ident), "%s/%s", log_name,
		    role);
	else
		n = snprintf(log_ident, sizeof(log_ident), "%s", log_name);
	if (n < 0 || (size_t)n >= sizeof(log_ident))
		fatalx("bug: log ident too long");
	if (log_syslog_on)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setname(const char *name)
{
	log_name = name;
	log_setident(NULL);
}

/*
 * Names the role of this process ("listener", "worker") in its lines
 * from now on. A worker forked by the listener inherits its syslog
 * connection: openlog() only gives it the new ident, and opens nothing
 * (which, chrooted, it could not).
 */
void
log_procinit(const char *role)
{
	log_setident(role);
}

/*
 * Sends messages to syslog from now on, and to stderr too if
 * keep_stderr. The socket is opened at once (LOG_NDELAY), before any
 * chroot or privilege change could keep us from reaching it.
 */
void
log_syslog(int keep_stderr)
{
	if (!log_syslog_on)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog_on = 1;
	log_stderr = keep_stderr;
}

/* Calls fn with the exit status before a fatal error exits; NULL: none. */
void
log_on_exit(void (*fn)(int))
{
	log_exit_hook = fn;
}

static void __attribute__((noreturn))
log_exit(int status)
{
	if (log_exit_hook != NULL)
		log_exit_hook(status);
	exit(status);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

/*
 * What a line to stderr begins with at priority pri: "<N>" when stderr
 * is the journal, else nothing. Also for what is written to stderr
 * before log_init(), such as a bad option.
 */
const char *
log_pritag(int pri)
{
	static const char *const tags[] = { "<0>", "<1>", "<2>", "<3>", "<4>",
					    "<5>", "<6>", "<7>" };

	if (log_journal == -1)
		log_journal = log_stderr_is_journal();
	return log_journal ? tags[LOG_PRI(pri)] : "";
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *err)
{
	char	msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr) {
		if (err != NULL)
			fprintf(stderr, "%s%s[%ld]: %s: %s\n", log_pritag(pri),
			    log_ident, (long)getpid(), msg, err);
		else
			fprintf(stderr, "%s%s[%ld]: %s\n", log_pritag(pri),
			    log_ident, (long)getpid(), msg);
	}
	if (!log_syslog_on)
		return;
	if (err != NULL)
		syslog(pri, "%s: %s", msg, err);
	else
		syslog(pri, "%s", msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	log_exit(EX_SOFTWARE);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	log_exit(EX_SOFTWARE);
}

void
fatal_status(int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	log_exit(status);
}
