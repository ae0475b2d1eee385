/* SPDX-License-Identifier: ISC */
/*
 * The command line and the configuration file. Defaults come from
 * defs.h; then the file (-f), then the command line, which wins.
 *
 * A setter checks one value and returns 0, or -1 with the reason in the
 * parse state (struct cfparse); its caller names the option and where it
 * came from, and hands the message to a report function. A file is read
 * to its end, each bad line reported as "FILE:LINE: KEY: REASON"; the
 * command line stops at its first bad option, "--KEY: REASON". At start
 * chatd then exits, EX_CONFIG for a bad file and EX_USAGE for a bad
 * command line; on SIGHUP config_reload() logs each message instead and
 * keeps the old settings.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "text.h"

#define MSG_MAX		(PATH_MAX + 64 + CONFIG_WHY_MAX)	/* file, line, key, reason */

static const char usage_text[] =
"usage: chatd [-dhitVv] [-f file] [-l address] [-n instance] [-p port]\n"
"             [-u user] [options]\n"
"  -p, --port=PORT            TCP port (default " CHATD_STR(CHATD_PORT) "; 0 picks a free one)\n"
"  -l, --listen=ADDR          address to bind, repeatable (default: all)\n"
"  -i, --inetd                serve the connection on stdin/stdout\n"
"  -d, --daemon               detach, write the pid file, log to syslog\n"
"  -f, --config=FILE          read settings from FILE (/dev/null: none)\n"
"  -t, --check-config         check the settings and the file, then exit\n"
"  -n, --instance=NAME        shared segment and run directory name\n"
"  -u, --user=USER            after binding, run as USER and its group\n"
"      --pidfile=FILE         pid file (with -d by default /run/chatd.NAME.pid\n"
"                             as root, else RUNDIR/NAME.pid)\n"
"      --run-dir=DIR          where the wake-up pipes live\n"
"      --state-dir=DIR        keep room history and bans across restarts\n"
"      --motd=FILE            lines sent after the greeting\n"
"      --max-clients=N        connections at most (default " CHATD_STR(CHATD_MAX_CLIENTS) "; 0 = no limit)\n"
"      --max-per-address=N    connections from one address (default " CHATD_STR(CHATD_MAX_PER_ADDR) ")\n"
"      --ipv6-prefix=LEN      an IPv6 user's address for bans and the limit\n"
"                             above: its first LEN bits (default " CHATD_STR(CHATD_IPV6_PREFIX) ")\n"
"      --max-line=BYTES       longest accepted line (default " CHATD_STR(CHATD_MAX_LINE) ")\n"
"      --history=N            chat lines kept per room (default " CHATD_STR(CHATD_HISTORY) "; 0 = none)\n"
"      --max-rooms=N          rooms remembered at once (default " CHATD_STR(CHATD_MAX_ROOMS) ")\n"
"      --rate=LINES           lines a second per client (default " CHATD_STR(CHATD_RATE) "; 0 = no limit)\n"
"      --burst=LINES          token bucket size (default " CHATD_STR(CHATD_BURST) ")\n"
"      --flood-kick=SECONDS   disconnect after flooding this long (default " CHATD_STR(CHATD_FLOOD_KICK) "; 0 = never)\n"
"      --keepalive=SECONDS    close dead connections within this time (default " CHATD_STR(CHATD_KEEPALIVE) "; 0 = off)\n"
"      --oper-password-file=FILE  enables /oper; FILE holds a crypt(3) hash\n"
"      --oper-first-user=yes|no   whether the first user is operator (default yes)\n"
"      --proxy-from=ADDR[/LEN]    take the client's address from a PROXY header\n"
"                             sent from there (a TLS front end); repeatable\n"
"      --register-timeout=S   seconds to choose a name (default " CHATD_STR(CHATD_REG_TIMEOUT) "; 0 = none)\n"
"      --quiet-above=N        no join, leave and quit notices in rooms of\n"
"                             more than N users (default 0: always)\n"
"      --link=HOST:PORT       join an IRC network as a leaf of this hub\n"
"      --server-name=NAME     this server's name on the IRC network\n"
"      --link-password-file=FILE  line 1 sent to the hub, line 2 expected\n"
"      --link-only            run only the instance's link process\n"
"  -v, --verbose              log every connection and command\n"
"  -V, --version              print the version and exit\n"
"  -h, --help                 print this summary and exit\n";

enum {
	OPT_RUNDIR = 256,
	OPT_MAXCLIENTS,
	OPT_MAXPERADDR,
	OPT_MAXLINE,
	OPT_REGTIMEOUT,
	OPT_HISTORY,
	OPT_MAXROOMS,
	OPT_RATE,
	OPT_BURST,
	OPT_FLOODKICK,
	OPT_KEEPALIVE,
	OPT_OPERFILE,
	OPT_OPERFIRST,
	OPT_PIDFILE,
	OPT_STATEDIR,
	OPT_MOTD,
	OPT_QUIETABOVE,
	OPT_LINK,
	OPT_SERVERNAME,
	OPT_LINKPASS,
	OPT_LINKONLY,
	OPT_PROXYFROM,
	OPT_IPV6PREFIX
};

static const struct option longopts[] = {
	{ "port",		required_argument, NULL, 'p' },
	{ "listen",		required_argument, NULL, 'l' },
	{ "inetd",		no_argument,	   NULL, 'i' },
	{ "daemon",		no_argument,	   NULL, 'd' },
	{ "config",		required_argument, NULL, 'f' },
	{ "check-config",	no_argument,	   NULL, 't' },
	{ "instance",		required_argument, NULL, 'n' },
	{ "user",		required_argument, NULL, 'u' },
	{ "pidfile",		required_argument, NULL, OPT_PIDFILE },
	{ "state-dir",		required_argument, NULL, OPT_STATEDIR },
	{ "motd",		required_argument, NULL, OPT_MOTD },
	{ "quiet-above",	required_argument, NULL, OPT_QUIETABOVE },
	{ "run-dir",		required_argument, NULL, OPT_RUNDIR },
	{ "max-clients",	required_argument, NULL, OPT_MAXCLIENTS },
	{ "max-per-address",	required_argument, NULL, OPT_MAXPERADDR },
	{ "ipv6-prefix",	required_argument, NULL, OPT_IPV6PREFIX },
	{ "max-line",		required_argument, NULL, OPT_MAXLINE },
	{ "register-timeout",	required_argument, NULL, OPT_REGTIMEOUT },
	{ "history",		required_argument, NULL, OPT_HISTORY },
	{ "max-rooms",		required_argument, NULL, OPT_MAXROOMS },
	{ "rate",		required_argument, NULL, OPT_RATE },
	{ "burst",		required_argument, NULL, OPT_BURST },
	{ "flood-kick",		required_argument, NULL, OPT_FLOODKICK },
	{ "keepalive",		required_argument, NULL, OPT_KEEPALIVE },
	{ "oper-password-file",	required_argument, NULL, OPT_OPERFILE },
	{ "oper-first-user",	required_argument, NULL, OPT_OPERFIRST },
	{ "link",		required_argument, NULL, OPT_LINK },
	{ "server-name",	required_argument, NULL, OPT_SERVERNAME },
	{ "link-password-file",	required_argument, NULL, OPT_LINKPASS },
	{ "link-only",		no_argument,	   NULL, OPT_LINKONLY },
	{ "proxy-from",		required_argument, NULL, OPT_PROXYFROM },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 }
};

/*
 * The numeric options: each a whole decimal number in [min, max], kept in
 * a uint32_t of struct config (the _Generic refuses, when compiling, a
 * field of any other type).
 */
static const struct numopt {
	int		 ch;		/* its value in longopts */
	unsigned long	 min, max;
	size_t		 off;		/* the field it sets */
} numopts[] = {
#define NUM(ch, min, max, field) { ch, min, max,			\
	_Generic(((struct config *)0)->field,				\
	    uint32_t: offsetof(struct config, field)) }
	NUM('p', 0, CHATD_PORT_MAX, port_opt),
	NUM(OPT_MAXCLIENTS, 0, CHATD_MAX_SLOTS, live.max_clients),
	NUM(OPT_MAXPERADDR, 0, CHATD_MAX_SLOTS, live.max_per_addr),
	NUM(OPT_IPV6PREFIX, 1, 128, live.ipv6_prefix),
	NUM(OPT_MAXLINE, CHATD_MAX_LINE_MIN, CHATD_MAX_LINE_CAP, max_line),
	NUM(OPT_REGTIMEOUT, 0, CHATD_SECONDS_CAP, live.reg_timeout),
	NUM(OPT_HISTORY, 0, CHATD_HISTORY_CAP, history),
	NUM(OPT_MAXROOMS, CHATD_MAX_ROOMS_MIN, CHATD_MAX_ROOMS_CAP, max_rooms),
	NUM(OPT_RATE, 0, CHATD_RATE_CAP, live.rate),
	NUM(OPT_BURST, CHATD_BURST_MIN, CHATD_RATE_CAP, live.burst),
	NUM(OPT_FLOODKICK, 0, CHATD_SECONDS_CAP, live.flood_kick),
	NUM(OPT_KEEPALIVE, 0, CHATD_SECONDS_CAP, live.keepalive),
	NUM(OPT_QUIETABOVE, 0, CHATD_MAX_SLOTS, live.quiet_above),
#undef NUM
};

/* Where the settings being applied come from, and what was wrong. */
struct cfparse {
	struct config	 *cf;
	const char	 *file;		/* NULL: the command line */
	unsigned	  line;		/* the file's line; 0: none yet */
	int		  no_files;	/* open no file a setting names */
	int		  where_only;	/* apply instance, port, run-dir alone */
	unsigned	  errors;	/* refusals reported */
	config_report_fn *report;	/* told of each */
	void		 *arg;		/* its argument */
	char		  why[CONFIG_WHY_MAX];	/* the reason of the last refusal */
};

/* A setter's refusal: keeps the reason for its caller, returns -1. */
static int __attribute__((format(printf, 2, 3)))
refuse(struct cfparse *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * What a report begins with: "FILE:LINE: KEY: ", "FILE:LINE: ",
 * "FILE: " (the file itself), "--KEY: " or nothing (the command line).
 * Returns its length.
 */
static size_t
locate(const struct cfparse *p, const char *key, char *buf, size_t size)
{
	int	n = 0;

	if (p->file == NULL && key != NULL)
		n = snprintf(buf, size, "--%s: ", key);
	else if (p->file == NULL)
		buf[0] = '\0';
	else if (p->line == 0)
		n = snprintf(buf, size, "%s: ", p->file);
	else if (key == NULL)
		n = snprintf(buf, size, "%s:%u: ", p->file, p->line);
	else
		n = snprintf(buf, size, "%s:%u: %s: ", p->file, p->line, key);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* Reports a refusal where it was, under the option key; returns -1. */
static int __attribute__((format(printf, 3, 4)))
complain(struct cfparse *p, const char *key, const char *fmt, ...)
{
	char	msg[MSG_MAX];
	size_t	n;
	va_list	ap;

	n = locate(p, key, msg, sizeof(msg));
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	p->errors++;
	p->report(msg, p->arg);
	return -1;
}

static const struct option *
option_named(const char *name)
{
	const struct option	*o;

	for (o = longopts; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* The long name of the option getopt_long returned as ch. */
static const char *
option_name(int ch)
{
	const struct option	*o;

	for (o = longopts; o->name != NULL; o++)
		if (o->val == ch)
			return o->name;
	fatalx("bug: option %d has no name", ch);
}

void
config_init(struct config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->port = cf->port_opt = CHATD_PORT;
	cf->live.max_clients = CHATD_MAX_CLIENTS;
	cf->live.max_per_addr = CHATD_MAX_PER_ADDR;
	cf->live.ipv6_prefix = CHATD_IPV6_PREFIX;
	cf->max_line = CHATD_MAX_LINE;
	cf->live.reg_timeout = CHATD_REG_TIMEOUT;
	cf->history = CHATD_HISTORY;
	cf->max_rooms = CHATD_MAX_ROOMS;
	cf->live.rate = CHATD_RATE;
	cf->live.burst = CHATD_BURST;
	cf->live.flood_kick = CHATD_FLOOD_KICK;
	cf->live.keepalive = CHATD_KEEPALIVE;
	cf->live.oper_first_user = 1;
}

/* Back to the defaults, keeping the command line and where it was given. */
static void
config_defaults(struct config *cf)
{
	struct cmdline	cl = cf->cl;

	config_init(cf);
	cf->cl = cl;
}

/* A numeric option: a whole decimal number within its limits. */
static int
set_number(struct cfparse *p, const struct numopt *o, const char *s)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return refuse(p, "'%s' is not a number", s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return refuse(p, "'%s' is not a number", s);
	if (errno == ERANGE || v < o->min || v > o->max)
		return refuse(p, "%s is out of range (%lu to %lu)", s, o->min,
		    o->max);
	*(uint32_t *)(void *)((char *)p->cf + o->off) = (uint32_t)v;
	return 0;
}

static const struct numopt *
numopt_find(int ch)
{
	size_t	i;

	for (i = 0; i < sizeof(numopts) / sizeof(numopts[0]); i++)
		if (numopts[i].ch == ch)
			return &numopts[i];
	return NULL;
}

/* A flag: on from the command line or "yes" in a file, off by "no". */
static int
set_flag(struct config *cf, int ch, int on)
{
	if (ch == 'd')
		cf->daemon = on;
	else if (ch == 'i')
		cf->inetd = on;
	else if (ch == 't')
		cf->check = on;
	else if (ch == 'v')
		cf->live.verbose = on != 0;
	else if (ch == OPT_LINKONLY)
		cf->link_only = on;
	return 0;
}

/* 1 for "yes", 0 for "no", else -1 and why. */
static int
yes_no(struct cfparse *p, const char *s)
{
	if (strcmp(s, "yes") == 0)
		return 1;
	if (strcmp(s, "no") == 0)
		return 0;
	return refuse(p, "'%s' is not yes or no", s);
}

static int
set_oper_first(struct cfparse *p, const char *s)
{
	int	on;

	if ((on = yes_no(p, s)) == -1)
		return -1;
	p->cf->live.oper_first_user = (uint32_t)on;
	return 0;
}

/* Instance names end up in file names: keep them plain. */
static int
set_instance(struct cfparse *p, const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > INSTANCE_MAX_LEN || s[0] == '.' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != n)
		return refuse(p, "'%s' must be 1 to %d letters, digits, '.', "
		    "'_' or '-', not starting with '.'", s, INSTANCE_MAX_LEN);
	memcpy(p->cf->instance, s, n + 1);
	return 0;
}

static int
set_rundir(struct cfparse *p, const char *s)
{
	struct config	*cf = p->cf;

	if (s[0] != '/')
		return refuse(p, "'%s' must be an absolute path", s);
	if (strlen(s) >= sizeof(cf->rundir) - INSTANCE_MAX_LEN - 16)
		return refuse(p, "path too long");
	snprintf(cf->rundir, sizeof(cf->rundir), "%s", s);
	cf->rundir_given = 1;
	return 0;
}

static int
set_user(struct cfparse *p, const char *s)
{
	if (*s == '\0' || strlen(s) >= sizeof(p->cf->user))
		return refuse(p, "'%s' is not a user name", s);
	snprintf(p->cf->user, sizeof(p->cf->user), "%s", s);
	return 0;
}

/* An address to bind; the command line's replace the file's. */
static int
set_listen(struct cfparse *p, const char *s)
{
	struct config	*cf = p->cf;

	if (p->file == NULL && !cf->listen_args) {
		cf->listen_args = 1;
		cf->nlisten = 0;
	}
	if (cf->nlisten == CHATD_MAX_LISTEN)
		return refuse(p, "at most %d addresses", CHATD_MAX_LISTEN);
	if (*s == '\0' || strlen(s) >= sizeof(cf->listen[0]))
		return refuse(p, "'%s' is not an address", s);
	snprintf(cf->listen[cf->nlisten], sizeof(cf->listen[0]), "%s", s);
	cf->nlisten++;
	return 0;
}

/*
 * A front end trusted to send a PROXY header: an address or a CIDR
 * range. As with -l, the command line's replace the file's.
 */
static int
set_proxy_from(struct cfparse *p, const char *s)
{
	struct live	*lv = &p->cf->live;
	struct cidr	 c;

	if (p->file == NULL && !p->cf->proxy_args) {
		p->cf->proxy_args = 1;
		lv->nproxy = 0;
	}
	if (cidr_parse(&c, s) == -1)
		return refuse(p, "'%s' is not an address or ADDR/LEN", s);
	if (lv->nproxy == CHATD_MAX_PROXY)
		return refuse(p, "at most %d addresses", CHATD_MAX_PROXY);
	lv->proxy_from[lv->nproxy++] = c;
	return 0;
}

/*
 * Stores a path made absolute against the directory chatd started in:
 * -d moves to /, and SIGHUP reads the paths again there.
 */
static int
set_path(struct cfparse *p, char *dst, size_t size, const char *arg)
{
	struct cmdline	*cl = &p->cf->cl;
	char		 path[PATH_MAX];
	int		 n;

	if (*arg == '\0')
		return refuse(p, "empty path");
	if (arg[0] != '/' && cl->cwd[0] == '\0' &&
	    getcwd(cl->cwd, sizeof(cl->cwd)) == NULL) {
		cl->cwd[0] = '\0';
		return refuse(p, "getcwd: %s", strerror(errno));
	}
	if (arg[0] == '/')
		n = snprintf(path, sizeof(path), "%s", arg);
	else
		n = snprintf(path, sizeof(path), "%s/%s", cl->cwd, arg);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(path))
		return refuse(p, "path too long");
	memcpy(dst, path, (size_t)n + 1);
	return 0;
}

/*
 * Opens a file of secrets, noting in *loose whether others may read it
 * (warned about once logging is set up: under inetd, not here). NULL,
 * refused, if it cannot be read.
 */
static FILE *
open_secret(struct cfparse *p, const char *path, int *loose)
{
	struct stat	 st;
	FILE		*fp;

	if (p->no_files) {
		(void)refuse(p, "%s: not read here", path);
		return NULL;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		(void)refuse(p, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*loose = fstat(fileno(fp), &st) == 0 && (st.st_mode & 077) != 0;
	return fp;
}

/*
 * Reads the operator password's crypt(3) hash: the first line of the
 * file, which must not be readable by others.
 */
static int
read_oper_hash(struct cfparse *p)
{
	struct config	*cf = p->cf;
	const char	*path = cf->oper_file;
	FILE		*fp;
	size_t		 n;

	if ((fp = open_secret(p, path, &cf->oper_loose)) == NULL)
		return -1;
	if (fgets(cf->live.oper_hash, sizeof(cf->live.oper_hash), fp) == NULL)
		cf->live.oper_hash[0] = '\0';
	fclose(fp);
	n = strcspn(cf->live.oper_hash, "\r\n");
	cf->live.oper_hash[n] = '\0';
	if (n == 0 || cf->live.oper_hash[0] == '#')
		return refuse(p, "%s: no crypt(3) hash on its first line",
		    path);
	return 0;
}

/*
 * Reads the MOTD: each line cleaned like a chat line (no terminal
 * escapes reach the users) and kept as a "* " notice. Returns 0, or -1
 * when it does not fit in MOTD_MAX bytes.
 */
int
config_motd(struct live *lv, FILE *fp)
{
	unsigned char	 raw[1024], clean[TEXT_CLEAN_MAX(sizeof(raw))];
	size_t		 n, c;

	lv->motd_len = 0;
	while (fgets((char *)raw, sizeof(raw), fp) != NULL) {
		n = strcspn((char *)raw, "\r\n");
		c = text_clean(raw, n, clean);
		if (lv->motd_len + c + 3 > sizeof(lv->motd))
			return -1;
		memcpy(lv->motd + lv->motd_len, "* ", 2);
		memcpy(lv->motd + lv->motd_len + 2, clean, c);
		lv->motd[lv->motd_len + 2 + c] = '\n';
		lv->motd_len += (uint32_t)c + 3;
	}
	return 0;
}

static int
read_motd(struct cfparse *p)
{
	const char	*path = p->cf->motd_file;
	FILE		*fp;
	int		 toolong;

	if (p->no_files)
		return refuse(p, "%s: not read here", path);
	if ((fp = fopen(path, "r")) == NULL)
		return refuse(p, "%s: %s", path, strerror(errno));
	toolong = config_motd(&p->cf->live, fp) == -1;
	fclose(fp);
	if (toolong)
		return refuse(p, "%s: longer than %d bytes", path, MOTD_MAX);
	return 0;
}

/* --link=HOST:PORT, or [ADDRESS]:PORT. */
static int
set_link(struct cfparse *p, const char *arg)
{
	struct config	*cf = p->cf;
	const char	*colon = strrchr(arg, ':'), *host = arg;
	size_t		 hostlen;
	char		*end;
	unsigned long	 port;

	if (colon == NULL)
		return refuse(p, "'%s' is not HOST:PORT", arg);
	hostlen = (size_t)(colon - arg);
	if (arg[0] == '[') {
		if (hostlen < 2 || colon[-1] != ']')
			return refuse(p, "'%s' is not [ADDRESS]:PORT", arg);
		host++;
		hostlen -= 2;
	}
	if (hostlen == 0 || hostlen >= sizeof(cf->link_host))
		return refuse(p, "'%s': bad host", arg);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port == 0 ||
	    port > CHATD_PORT_MAX || !isdigit((unsigned char)colon[1]))
		return refuse(p, "'%s': bad port", arg);
	memcpy(cf->link_host, host, hostlen);
	cf->link_host[hostlen] = '\0';
	snprintf(cf->link_port, sizeof(cf->link_port), "%lu", port);
	return 0;
}

/* A server name: 1 to 63 letters, digits, dots and '-', with a dot. */
static int
set_server_name(struct cfparse *p, const char *arg)
{
	size_t	n = strlen(arg), i;

	if (n == 0 || n > SERVER_NAME_MAX)
		return refuse(p, "'%s': 1 to %d characters", arg,
		    SERVER_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)arg[i]) && arg[i] != '.' &&
		    arg[i] != '-')
			return refuse(p, "'%s': only letters, digits, '.' and "
			    "'-'", arg);
	if (strchr(arg, '.') == NULL || arg[0] == '.' || arg[n - 1] == '.')
		return refuse(p, "'%s': a server name has a dot inside, as "
		    "in chat.example.org", arg);
	memcpy(p->cf->server_name, arg, n + 1);
	return 0;
}

/* One password line: no blank, no more than LINK_PASSWORD_MAX bytes. */
static int
password_line(FILE *fp, char *dst, size_t size)
{
	char	line[LINK_PASSWORD_MAX + 3];
	size_t	n;

	if (fgets(line, sizeof(line), fp) == NULL ||
	    (strchr(line, '\n') == NULL && !feof(fp)))
		return -1;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0 || n >= size || strpbrk(line, " \t:") != NULL)
		return -1;
	memcpy(dst, line, n + 1);
	return 0;
}

/*
 * Reads the link's passwords: line 1 sent to the hub, line 2 expected
 * from it. The file should be readable by nobody else.
 */
static int
read_link_passwords(struct cfparse *p)
{
	struct config	*cf = p->cf;
	const char	*path = cf->link_pass_file;
	FILE		*fp;
	int		 bad;

	if ((fp = open_secret(p, path, &cf->link_loose)) == NULL)
		return -1;
	bad = password_line(fp, cf->link_send, sizeof(cf->link_send)) == -1 ||
	    password_line(fp, cf->link_expect, sizeof(cf->link_expect)) == -1;
	fclose(fp);
	if (bad)
		return refuse(p, "%s: needs two lines, the password sent and "
		    "the one expected (1 to %d bytes, no blanks or ':')", path,
		    LINK_PASSWORD_MAX);
	return 0;
}

/* Sets the option getopt_long returned as ch: 0, or -1 and why. */
static int
set_option(struct cfparse *p, int ch, const char *arg)
{
	struct config		*cf = p->cf;
	const struct numopt	*o;

	if ((o = numopt_find(ch)) != NULL)
		return set_number(p, o, arg);
	switch (ch) {
	case 'd':
	case 'i':
	case 't':
	case 'v':
		return set_flag(cf, ch, 1);
	case 'f':
		return set_path(p, cf->config_file, sizeof(cf->config_file), arg);
	case 'l':
		return set_listen(p, arg);
	case 'n':
		return set_instance(p, arg);
	case 'u':
		return set_user(p, arg);
	case OPT_PIDFILE:
		return set_path(p, cf->pidfile, sizeof(cf->pidfile), arg);
	case OPT_RUNDIR:
		return set_rundir(p, arg);
	case OPT_STATEDIR:
		return set_path(p, cf->statedir, sizeof(cf->statedir), arg);
	case OPT_MOTD:
		if (set_path(p, cf->motd_file, sizeof(cf->motd_file), arg) == -1)
			return -1;
		return read_motd(p);
	case OPT_OPERFILE:
		if (set_path(p, cf->oper_file, sizeof(cf->oper_file), arg) == -1)
			return -1;
		return read_oper_hash(p);
	case OPT_OPERFIRST:
		return set_oper_first(p, arg);
	case OPT_LINK:
		return set_link(p, arg);
	case OPT_SERVERNAME:
		return set_server_name(p, arg);
	case OPT_LINKPASS:
		if (set_path(p, cf->link_pass_file, sizeof(cf->link_pass_file),
		    arg) == -1)
			return -1;
		return read_link_passwords(p);
	case OPT_LINKONLY:
		return set_flag(cf, ch, 1);
	case OPT_PROXYFROM:
		return set_proxy_from(p, arg);
	default:
		fatalx("bug: option %d has no setter", ch);
	}
}

/* Options that act rather than set: not for a file. */
static int
file_forbidden(int ch)
{
	return ch == 'f' || ch == 't' || ch == 'h' || ch == 'V';
}

/* Cuts a "#" comment: at the start or after a blank, not inside a word. */
static void
strip_comment(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p == '#' && (p == s || *(p - 1) == ' ' ||
		    *(p - 1) == '\t')) {
			*p = '\0';
			return;
		}
}

static char *
trim(char *s)
{
	char	*end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* A file's value: an option's argument, or yes or no for a flag. */
static int
file_value(struct cfparse *p, const struct option *o, const char *value)
{
	int	on;

	if (o->has_arg == required_argument)
		return set_option(p, o->val, value);
	if ((on = yes_no(p, value)) == -1)
		return -1;
	return set_flag(p->cf, o->val, on);
}

/* The settings that say where an instance is, which chatctl reads. */
static int
where_setting(int ch)
{
	return ch == 'n' || ch == 'p' || ch == OPT_RUNDIR;
}

/* Applies "name = value" from a file, or reports why not. */
static void
file_setting(struct cfparse *p, const char *name, const char *value)
{
	const struct option	*o;

	o = option_named(name);
	/* The rest is chatd's to check (chatd -t), not chatctl's. */
	if (p->where_only && (o == NULL || !where_setting(o->val)))
		return;
	if (o == NULL)
		complain(p, NULL, "unknown setting '%s'", name);
	else if (file_forbidden(o->val))
		complain(p, NULL, "'%s' cannot be set in a configuration file",
		    name);
	else if (*value == '\0')
		complain(p, name, "no value");
	else if (file_value(p, o, value) == -1)
		complain(p, name, "%s", p->why);
}

/* One line of a configuration file: blank, a comment or a setting. */
static void
file_line(struct cfparse *p, char *line)
{
	char	*name, *eq;

	strip_comment(line);
	name = trim(line);
	if (*name == '\0')
		return;
	if ((eq = strchr(name, '=')) == NULL) {
		complain(p, NULL, "expected 'name = value', not '%s'", name);
		return;
	}
	*eq = '\0';
	file_setting(p, trim(name), trim(eq + 1));
}

/*
 * Reads a line, its newline included, into buf and terminates it; returns
 * its length, 0 at the end of the file. fgets() would hide a NUL byte in
 * the line: its length would seem to end there.
 */
static size_t
read_line(FILE *fp, char *buf, size_t size)
{
	size_t	n = 0;
	int	c;

	while (n < size - 1 && (c = getc(fp)) != EOF) {
		buf[n++] = (char)c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

/* Reads past the rest of a line too long to read: it is one bad line. */
static void
skip_line(FILE *fp)
{
	int	c;

	while ((c = getc(fp)) != EOF && c != '\n')
		;
}

/* Applies the lines of an open configuration file, reporting each bad one. */
static void
config_lines(struct cfparse *p, FILE *fp)
{
	char	buf[CONFIG_LINE_MAX + 2];	/* the newline, the NUL */
	size_t	n;

	while ((n = read_line(fp, buf, sizeof(buf))) > 0) {
		p->line++;
		if (n == sizeof(buf) - 1 && buf[n - 1] != '\n') {
			complain(p, NULL, "line too long");
			skip_line(fp);
		} else if (memchr(buf, '\0', n) != NULL)
			complain(p, NULL, "a NUL byte");
		else
			file_line(p, buf);
	}
	if (ferror(fp))
		complain(p, NULL, "read error: %s", strerror(errno));
}

/* Applies a configuration file, naming it (and the line) in each report. */
static void
config_file(struct cfparse *p, const char *path)
{
	FILE	*fp;

	p->file = path;
	p->line = 0;
	if ((fp = fopen(path, "r")) == NULL)
		complain(p, NULL, "cannot read it: %s", strerror(errno));
	else {
		config_lines(p, fp);
		fclose(fp);
	}
	p->file = NULL;
}

/*
 * Applies the lines of fp to cf as config_file() does, handing report
 * (not NULL) each bad line as "NAME:LINE: ..."; returns how many there
 * were. The files that motd and oper-password-file name are not opened
 * (a bad line), so that the fuzzer drives the parser without touching
 * the file system.
 */
unsigned
config_parse(struct config *cf, FILE *fp, const char *name,
    config_report_fn *report, void *arg)
{
	struct cfparse	p = { .cf = cf, .file = name, .no_files = 1,
			      .report = report, .arg = arg };

	config_lines(&p, fp);
	return p.errors;
}

/*
 * For chatctl(8): the settings of a configuration file that say where
 * the instance is (instance, port, run-dir), into cf; the others are
 * chatd's to check. A file that does not exist is no error if it is
 * optional (chatctl's default). Returns how many bad lines were
 * reported.
 */
unsigned
config_where(struct config *cf, const char *path, int optional,
    config_report_fn *report, void *arg)
{
	struct cfparse	p = { .cf = cf, .where_only = 1, .report = report,
			      .arg = arg };
	struct stat	st;

	if (optional && lstat(path, &st) == -1 && errno == ENOENT)
		return 0;
	config_file(&p, path);
	return p.errors;
}

/* The file chatd reads with no -f, for -h; NULL: none. */
static const char	*default_file;

/* -V and -h: they answer and end chatd. */
static void __attribute__((noreturn))
act(int ch)
{
	if (ch == 'V')
		printf("chatd %s\n", PACKAGE_VERSION);
	else {
		fputs(usage_text, stdout);
		if (default_file != NULL)
			printf("With no -f, settings are read from %s if it "
			    "exists.\n", default_file);
	}
	exit(0);
}

/* Applies the command line up to its first bad option: 0, or -1. */
static int
parse_args(struct cfparse *p)
{
	int	  argc = p->cf->cl.argc, ch;
	char	**argv = p->cf->cl.argv;

	opterr = 0;
	optind = 0;	/* GNU getopt: start again from the top */
	while ((ch = getopt_long(argc, argv, ":df:hil:n:p:tu:Vv", longopts,
	    NULL)) != -1) {
		if (ch == '?' && optopt != 0)
			return complain(p, NULL, "unknown option -%c", optopt);
		if (ch == '?')
			return complain(p, NULL, "unknown option %s",
			    argv[optind - 1]);
		if (ch == ':')
			return complain(p, NULL, "option %s needs a value",
			    argv[optind - 1]);
		if (ch == 'V' || ch == 'h')
			act(ch);
		if (set_option(p, ch, optarg) == -1)
			return complain(p, option_name(ch), "%s", p->why);
	}
	if (optind < argc)
		return complain(p, NULL, "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

/* What depends on the settings together: 0, or EX_USAGE. */
static int
config_finish(struct cfparse *p)
{
	struct config	*cf = p->cf;

	cf->port = cf->port_opt;
	if (cf->rundir[0] == '\0')
		config_default_rundir(cf);
	if (cf->daemon && cf->inetd) {
		complain(p, NULL, "--daemon and --inetd exclude each other");
		return EX_USAGE;
	}
	if (cf->link_host[0] != '\0' && (cf->server_name[0] == '\0' ||
	    cf->link_pass_file[0] == '\0')) {
		complain(p, NULL, "--link needs --server-name and "
		    "--link-password-file");
		return EX_USAGE;
	}
	if (cf->link_only && (cf->link_host[0] == '\0' || cf->inetd)) {
		complain(p, NULL, cf->inetd ? "--link-only and --inetd "
		    "exclude each other" : "--link-only needs --link");
		return EX_USAGE;
	}
	return 0;
}

/*
 * Defaults, then the file (if any), then the command line, handing each
 * refusal to report: 0, or the exit status they call for.
 */
static int
config_build(struct config *cf, const char *file, config_report_fn *report)
{
	struct cfparse	p = { .cf = cf, .report = report };
	int		status;

	config_defaults(cf);
	if (file != NULL)
		config_file(&p, file);
	status = p.errors > 0 ? EX_CONFIG : 0;
	if (parse_args(&p) == -1 && status == 0)
		status = EX_USAGE;
	return status != 0 ? status : config_finish(&p);
}

/* At start: on stderr, named as invoked (tests/chatd-fault is chatd too). */
static void
report_stderr(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s%s: %s\n", log_pritag(LOG_ERR),
	    program_invocation_short_name, msg);
}

static void
report_reload(const char *msg, void *arg)
{
	(void)arg;
	log_warnx("SIGHUP: %s; keeping the old settings", msg);
}

/*
 * The file chatd reads with no -f: deffile (absolute) if there is
 * anything at that path, even a file it cannot read, which is then an
 * error like any bad -f; else none.
 */
static int
config_default_file(struct config *cf, const char *deffile)
{
	struct stat	st;
	int		n;

	if (deffile == NULL || deffile[0] != '/' ||
	    (lstat(deffile, &st) == -1 && errno == ENOENT))
		return 0;
	n = snprintf(cf->config_file, sizeof(cf->config_file), "%s", deffile);
	if (n < 0 || (size_t)n >= sizeof(cf->config_file))
		fatalx("bug: default configuration file path too long");
	return 1;
}

/*
 * The command line alone first, which names the file and must be right
 * whatever the file says; then the file and the command line again.
 * With no -f, deffile (chatd(8), FILES) if it exists; it is kept as
 * the file SIGHUP reads again.
 */
void
config_args(struct config *cf, int argc, char **argv, const char *deffile)
{
	char	file[PATH_MAX];
	int	status;

	cf->cl.argc = argc;
	cf->cl.argv = argv;
	default_file = deffile;
	if (getcwd(cf->cl.cwd, sizeof(cf->cl.cwd)) == NULL)
		cf->cl.cwd[0] = '\0';	/* asked again for a relative path */
	if ((status = config_build(cf, NULL, report_stderr)) != 0)
		exit(status);
	if (cf->config_file[0] == '\0' &&
	    !config_default_file(cf, deffile))
		return;
	snprintf(file, sizeof(file), "%s", cf->config_file);
	if ((status = config_build(cf, file, report_stderr)) != 0)
		exit(status);
	memcpy(cf->config_file, file, sizeof(cf->config_file));
}

/* Names the settings that differ and only a restart would apply. */
static void
restart_only(const struct config *o, const struct config *n)
{
	static const struct {
		const char	*name;
		size_t		 off, len;
		int		 filled;	/* 1: main() fills in a default;
					   2: the default is the euid's */
	} f[] = {
#define F(name, field, filled) { name, offsetof(struct config, field), \
	sizeof(((struct config *)0)->field), filled }
		F("port", port_opt, 0), F("listen", listen, 0),
		F("inetd", inetd, 0), F("daemon", daemon, 0),
		F("instance", instance, 1), F("user", user, 0),
		F("pidfile", pidfile, 1), F("run-dir", rundir, 2),
		F("state-dir", statedir, 0), F("max-line", max_line, 0),
		F("history", history, 0), F("max-rooms", max_rooms, 0),
		F("link", link_host, 0), F("link", link_port, 0),
		F("server-name", server_name, 0),
		F("link-password-file", link_send, 0),
		F("link-password-file", link_expect, 0),
#undef F
	};
	const char	*ov, *nv;
	size_t		 i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		ov = (const char *)o + f[i].off;
		nv = (const char *)n + f[i].off;
		if (f[i].filled == 1 && *nv == '\0')
			continue;
		/* After -u the default run directory would be the user's. */
		if (f[i].filled == 2 && !o->rundir_given && !n->rundir_given)
			continue;
		if (memcmp(ov, nv, f[i].len) != 0)
			log_warnx("SIGHUP: %s changed; it takes a restart",
			    f[i].name);
	}
}


/*
 * SIGHUP: reads the file and the command line again. What can change
 * live goes into cf->live (the caller publishes it); what needs a
 * restart is logged and kept. A bad file changes nothing: -1, and each
 * bad line is logged.
 */
int
config_reload(struct config *cf)
{
	struct config	*n;

	if ((n = malloc(sizeof(*n))) == NULL) {
		log_warn("SIGHUP");
		return -1;
	}
	n->cl = cf->cl;
	if (config_build(n, cf->config_file[0] != '\0' ? cf->config_file :
	    NULL, report_reload) != 0) {
		free(n);
		return -1;
	}
	restart_only(cf, n);
	if (config_slots(n) > config_slots(cf))
		log_warnx("SIGHUP: max-clients above %u takes a restart",
		    config_slots(cf));
	cf->live = n->live;
	cf->oper_loose = n->oper_loose;
	memcpy(cf->oper_file, n->oper_file, sizeof(cf->oper_file));
	free(n);
	return 0;
}

/* /run/chatd for root, else the user's runtime directory or /tmp. */
void
config_default_rundir(struct config *cf)
{
	const char	*xdg = getenv("XDG_RUNTIME_DIR");
	int		 n;

	if (geteuid() == 0)
		n = snprintf(cf->rundir, sizeof(cf->rundir), "/run/chatd");
	else if (xdg != NULL && xdg[0] == '/' && strlen(xdg) < 1024)
		n = snprintf(cf->rundir, sizeof(cf->rundir), "%s/chatd", xdg);
	else
		n = snprintf(cf->rundir, sizeof(cf->rundir), "/tmp/chatd-%ld",
		    (long)geteuid());
	if (n < 0 || (size_t)n >= sizeof(cf->rundir))
		fatalx("run directory path too long");
}

/* The size of the slot table a new segment gets. */
unsigned
config_slots(const struct config *cf)
{
	return cf->live.max_clients == 0 ? CHATD_MAX_SLOTS : cf->live.max_clients;
}

/* One option for chatctl(8): 0, or -1 and why in the buffer. */
static int
config_set(struct config *cf, int ch, const char *s, char *why, size_t len)
{
	struct cfparse	p = { .cf = cf };

	if (set_option(&p, ch, s) == 0)
		return 0;
	snprintf(why, len, "%s", p.why);
	return -1;
}

/* -n and --run-dir for chatctl(8), which finds instances as chatd does. */
int
config_set_instance(struct config *cf, const char *s, char *why, size_t len)
{
	return config_set(cf, 'n', s, why, len);
}

int
config_set_rundir(struct config *cf, const char *s, char *why, size_t len)
{
	return config_set(cf, OPT_RUNDIR, s, why, len);
}
