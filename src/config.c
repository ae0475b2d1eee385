/* SPDX-License-Identifier: ISC */
/*
 * The command line and the configuration file. Defaults come from
 * defs.h; then the file (-f), then the command line, which wins. The
 * first bad value stops chatd naming the option (and the file and line),
 * with EX_USAGE for the command line and EX_CONFIG for the file. On
 * SIGHUP config_reload() reads both again; there a bad value leaves the
 * old settings in place instead, so every setter can simply give up with
 * usage_error(), which returns to config_reload() by longjmp.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "text.h"

static const char usage_text[] =
"usage: chatd [-dhitVv] [-f file] [-l address] [-n instance] [-p port]\n"
"             [-u user] [options]\n"
"  -p, --port=PORT            TCP port (default 9000; 0 picks a free one)\n"
"  -l, --listen=ADDR          address to bind, repeatable (default: all)\n"
"  -i, --inetd                serve the connection on stdin/stdout\n"
"  -d, --daemon               detach, write the pid file, log to syslog\n"
"  -f, --config=FILE          read settings from FILE\n"
"  -t, --check-config         check the settings and the file, then exit\n"
"  -n, --instance=NAME        shared segment and run directory name\n"
"  -u, --user=USER            after binding, run as USER and its group\n"
"      --pidfile=FILE         pid file (with -d by default /run/chatd.NAME.pid\n"
"                             as root, else RUNDIR/NAME.pid)\n"
"      --run-dir=DIR          where the wake-up pipes live\n"
"      --state-dir=DIR        keep room history and bans across restarts\n"
"      --motd=FILE            lines sent after the greeting\n"
"      --max-clients=N        connections at most (default 1024; 0 = no limit)\n"
"      --max-per-address=N    connections from one address (default 16)\n"
"      --max-line=BYTES       longest accepted line (default 1024)\n"
"      --history=N            chat lines kept per room (default 50; 0 = none)\n"
"      --max-rooms=N          rooms remembered at once (default 256)\n"
"      --rate=LINES           lines a second per client (default 2; 0 = no limit)\n"
"      --burst=LINES          token bucket size (default 10)\n"
"      --flood-kick=SECONDS   disconnect after flooding this long (default 10; 0 = never)\n"
"      --keepalive=SECONDS    close dead connections within this time (default 120; 0 = off)\n"
"      --oper-password-file=FILE  enables /oper; FILE holds a crypt(3) hash\n"
"      --oper-first-user=yes|no   whether the first user is operator (default yes)\n"
"      --register-timeout=S   seconds to choose a name (default 60; 0 = none)\n"
"      --quiet-above=N        no join, leave and quit notices in rooms of\n"
"                             more than N users (default 0: always)\n"
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
	OPT_QUIETABOVE
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
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 }
};

static int	 saved_argc;		/* the command line, for SIGHUP */
static char	**saved_argv;
static int	 from_args;		/* applying the command line */
static const char *cur_file;		/* the file being read, for messages */
static unsigned	 cur_line;
static FILE	*cur_fp;
static jmp_buf	*reload_jmp;		/* set while SIGHUP re-reads */
static int	 no_files;		/* config_parse(): open no file */
static char	 reload_err[1024];

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	char	msg[768], where[PATH_MAX + 32];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where[0] = '\0';
	if (cur_file != NULL && cur_line > 0)
		snprintf(where, sizeof(where), "%s:%u: ", cur_file, cur_line);
	else if (cur_file != NULL)
		snprintf(where, sizeof(where), "%s: ", cur_file);
	if (reload_jmp != NULL) {
		snprintf(reload_err, sizeof(reload_err), "%s%s", where, msg);
		longjmp(*reload_jmp, 1);
	}
	/* Named as invoked: chatctl(8) shares these checks. */
	fprintf(stderr, "%s: %s%s\n", program_invocation_short_name, where,
	    msg);
	exit(cur_file != NULL ? EX_CONFIG : EX_USAGE);
}

void
config_init(struct config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->port = cf->port_opt = CHATD_PORT;
	cf->live.max_clients = CHATD_MAX_CLIENTS;
	cf->live.max_per_addr = CHATD_MAX_PER_ADDR;
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

/* Parses a whole decimal number in [min, max] for the option name. */
static unsigned
number(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	if (*s < '0' || *s > '9')
		usage_error("--%s: '%s' is not a number", opt, s);
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		usage_error("--%s: '%s' is not a number", opt, s);
	if (errno == ERANGE || v < min || v > max)
		usage_error("--%s: %s is out of range (%lu to %lu)", opt, s,
		    min, max);
	return (unsigned)v;
}

/* Instance names end up in file names: keep them plain. */
static void
set_instance(struct config *cf, const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > INSTANCE_MAX_LEN || s[0] == '.' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != n)
		usage_error("--instance: '%s' must be 1 to %d letters, digits, "
		    "'.', '_' or '-', not starting with '.'", s,
		    INSTANCE_MAX_LEN);
	memcpy(cf->instance, s, n + 1);
}

static void
set_rundir(struct config *cf, const char *s)
{
	if (s[0] != '/')
		usage_error("--run-dir: '%s' must be an absolute path", s);
	if (strlen(s) >= sizeof(cf->rundir) - INSTANCE_MAX_LEN - 16)
		usage_error("--run-dir: path too long");
	snprintf(cf->rundir, sizeof(cf->rundir), "%s", s);
	cf->rundir_given = 1;
}

/*
 * Reads the operator password's crypt(3) hash: the first line of the
 * file, which must not be readable by others.
 */
static void
read_oper_hash(struct config *cf, const char *path)
{
	struct stat	 st;
	FILE		*fp;
	size_t		 n;

	if (no_files)
		usage_error("--oper-password-file: %s: not read here", path);
	if ((fp = fopen(path, "r")) == NULL)
		usage_error("--oper-password-file: %s: %s", path,
		    strerror(errno));
	/* Warned about once logging is set up (under inetd, not here). */
	cf->oper_loose = fstat(fileno(fp), &st) == 0 &&
	    (st.st_mode & 077) != 0;
	if (fgets(cf->live.oper_hash, sizeof(cf->live.oper_hash), fp) == NULL)
		cf->live.oper_hash[0] = '\0';
	fclose(fp);
	n = strcspn(cf->live.oper_hash, "\r\n");
	cf->live.oper_hash[n] = '\0';
	if (n == 0 || cf->live.oper_hash[0] == '#')
		usage_error("--oper-password-file: %s: no crypt(3) hash on "
		    "its first line", path);
}

/*
 * Stores an option's path made absolute against the directory chatd
 * started in: -d moves to /, and SIGHUP reads the paths again there.
 */
static void
set_path(char *dst, size_t size, const char *opt, const char *arg)
{
	static char	cwd[PATH_MAX];
	int		n;

	if (*arg == '\0')
		usage_error("--%s: empty path", opt);
	if (arg[0] != '/' && cwd[0] == '\0' &&
	    getcwd(cwd, sizeof(cwd)) == NULL)
		usage_error("--%s: getcwd: %s", opt, strerror(errno));
	if (arg[0] == '/')
		n = snprintf(dst, size, "%s", arg);
	else
		n = snprintf(dst, size, "%s/%s", cwd, arg);
	if (n < 0 || (size_t)n >= size)
		usage_error("--%s: path too long", opt);
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

static void
read_motd(struct config *cf, const char *path)
{
	FILE	*fp;
	int	 toolong;

	if (no_files)
		usage_error("--motd: %s: not read here", path);
	if ((fp = fopen(path, "r")) == NULL)
		usage_error("--motd: %s: %s", path, strerror(errno));
	toolong = config_motd(&cf->live, fp) == -1;
	fclose(fp);
	if (toolong)
		usage_error("--motd: %s: longer than %d bytes", path, MOTD_MAX);
}

static void
set_option(struct config *cf, int ch, const char *arg)
{
	switch (ch) {
	case 'd':
		cf->daemon = 1;
		break;
	case 'f':
		set_path(cf->config_file, sizeof(cf->config_file), "config",
		    arg);
		break;
	case 't':
		cf->check = 1;
		break;
	case 'u':
		if (*arg == '\0' || strlen(arg) >= sizeof(cf->user))
			usage_error("--user: '%s' is not a user name", arg);
		snprintf(cf->user, sizeof(cf->user), "%s", arg);
		break;
	case OPT_PIDFILE:
		set_path(cf->pidfile, sizeof(cf->pidfile), "pidfile", arg);
		break;
	case OPT_STATEDIR:
		set_path(cf->statedir, sizeof(cf->statedir), "state-dir", arg);
		break;
	case OPT_MOTD:
		set_path(cf->motd_file, sizeof(cf->motd_file), "motd", arg);
		read_motd(cf, cf->motd_file);
		break;
	case 'p':
		cf->port = cf->port_opt = number("port", arg, 0, 65535);
		break;
	case 'l':
		/* The command line's addresses replace the file's. */
		if (from_args && !cf->listen_args) {
			cf->listen_args = 1;
			cf->nlisten = 0;
		}
		if (cf->nlisten == CHATD_MAX_LISTEN)
			usage_error("--listen: at most %d addresses",
			    CHATD_MAX_LISTEN);
		if (*arg == '\0' || strlen(arg) >= sizeof(cf->listen[0]))
			usage_error("--listen: '%s' is not an address", arg);
		snprintf(cf->listen[cf->nlisten], sizeof(cf->listen[0]), "%s",
		    arg);
		cf->nlisten++;
		break;
	case 'i':
		cf->inetd = 1;
		break;
	case 'n':
		set_instance(cf, arg);
		break;
	case OPT_RUNDIR:
		set_rundir(cf, arg);
		break;
	case OPT_MAXCLIENTS:
		cf->live.max_clients = number("max-clients", arg, 0,
		    CHATD_MAX_SLOTS);
		break;
	case OPT_MAXPERADDR:
		cf->live.max_per_addr = number("max-per-address", arg, 0,
		    CHATD_MAX_SLOTS);
		break;
	case OPT_MAXLINE:
		cf->max_line = number("max-line", arg, 16, CHATD_MAX_LINE_CAP);
		break;
	case OPT_REGTIMEOUT:
		cf->live.reg_timeout = number("register-timeout", arg, 0, 86400);
		break;
	case OPT_HISTORY:
		cf->history = number("history", arg, 0, CHATD_HISTORY_CAP);
		break;
	case OPT_MAXROOMS:
		cf->max_rooms = number("max-rooms", arg, 1, CHATD_MAX_ROOMS_CAP);
		break;
	case OPT_RATE:
		cf->live.rate = number("rate", arg, 0, 1000000);
		break;
	case OPT_BURST:
		cf->live.burst = number("burst", arg, 1, 1000000);
		break;
	case OPT_FLOODKICK:
		cf->live.flood_kick = number("flood-kick", arg, 0, 86400);
		break;
	case OPT_QUIETABOVE:
		cf->live.quiet_above = number("quiet-above", arg, 0,
		    CHATD_MAX_SLOTS);
		break;
	case OPT_KEEPALIVE:
		cf->live.keepalive = number("keepalive", arg, 0, 86400);
		break;
	case OPT_OPERFILE:
		set_path(cf->oper_file, sizeof(cf->oper_file),
		    "oper-password-file", arg);
		read_oper_hash(cf, cf->oper_file);
		break;
	case OPT_OPERFIRST:
		if (strcmp(arg, "yes") == 0)
			cf->live.oper_first_user = 1;
		else if (strcmp(arg, "no") == 0)
			cf->live.oper_first_user = 0;
		else
			usage_error("--oper-first-user: '%s' is not yes or no",
			    arg);
		break;
	case 'v':
		cf->live.verbose = 1;
		break;
	case 'V':
		printf("chatd %s\n", PACKAGE_VERSION);
		exit(0);
	case 'h':
		fputs(usage_text, stdout);
		exit(0);
	default:
		fputs(usage_text, stderr);
		exit(EX_USAGE);
	}
}

/* A flag set to "no" in a file: the opposite of set_option(). */
static void
clear_flag(struct config *cf, int ch)
{
	if (ch == 'd')
		cf->daemon = 0;
	else if (ch == 'i')
		cf->inetd = 0;
	else if (ch == 'v')
		cf->live.verbose = 0;
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

/* One "name = value" line of a configuration file. */
static void
file_line(struct config *cf, char *line)
{
	const struct option	*o;
	char			*name, *value, *eq;

	strip_comment(line);
	name = trim(line);
	if (*name == '\0')
		return;
	if ((eq = strchr(name, '=')) == NULL)
		usage_error("expected 'name = value', not '%s'", name);
	*eq = '\0';
	name = trim(name);
	value = trim(eq + 1);
	for (o = longopts; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			break;
	if (o->name == NULL)
		usage_error("unknown setting '%s'", name);
	if (file_forbidden(o->val))
		usage_error("'%s' cannot be set in a configuration file", name);
	if (*value == '\0')
		usage_error("%s: no value", name);
	/* A flag ignores its argument: "yes" rather than NULL. */
	if (o->has_arg == required_argument || strcmp(value, "yes") == 0)
		set_option(cf, o->val, value);
	else if (strcmp(value, "no") == 0)
		clear_flag(cf, o->val);
	else
		usage_error("%s: '%s' is not yes or no", name, value);
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

/* Applies the lines of an open configuration file. */
static void
config_lines(struct config *cf, FILE *fp)
{
	char	buf[8192];
	size_t	n;

	while ((n = read_line(fp, buf, sizeof(buf))) > 0) {
		cur_line++;
		if (n == sizeof(buf) - 1 && buf[n - 1] != '\n')
			usage_error("line too long");
		if (memchr(buf, '\0', n) != NULL)
			usage_error("a NUL byte");
		file_line(cf, buf);
	}
	if (ferror(fp))
		usage_error("read error: %s", strerror(errno));
}

/* Applies a configuration file, naming it and the line in any error. */
static void
config_file(struct config *cf, const char *path)
{
	cur_file = path;
	cur_line = 0;
	if ((cur_fp = fopen(path, "r")) == NULL)
		usage_error("cannot read it: %s", strerror(errno));
	config_lines(cf, cur_fp);
	fclose(cur_fp);
	cur_fp = NULL;
	cur_file = NULL;
}

/*
 * Applies the lines of fp to cf as config_file() would, but returns
 * instead of exiting: 0, or -1 with "NAME:LINE: why" in err. The files
 * that motd and oper-password-file name are not opened (an error), so
 * that the fuzzer drives the parser without touching the file system.
 */
int
config_parse(struct config *cf, FILE *fp, const char *name, char *err,
    size_t errlen)
{
	jmp_buf	jb;

	reload_jmp = &jb;
	no_files = 1;
	cur_file = name;
	cur_line = 0;
	if (setjmp(jb) != 0) {
		reload_jmp = NULL;
		no_files = 0;
		cur_file = NULL;
		snprintf(err, errlen, "%s", reload_err);
		return -1;
	}
	config_lines(cf, fp);
	reload_jmp = NULL;
	no_files = 0;
	cur_file = NULL;
	return 0;
}

/* Applies the command line; -V and -h end chatd here. */
static void
parse_args(struct config *cf, int argc, char **argv)
{
	int	ch;

	from_args = 1;
	opterr = 0;
	optind = 0;	/* GNU getopt: start again from the top */
	while ((ch = getopt_long(argc, argv, ":df:hil:n:p:tu:Vv", longopts,
	    NULL)) != -1) {
		if (ch == '?') {
			if (optopt != 0)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
		if (ch == ':')
			usage_error("option %s needs a value",
			    argv[optind - 1]);
		set_option(cf, ch, optarg);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	from_args = 0;
}

/* Defaults, then the file the command line names, then the command line. */
static void
config_build(struct config *cf, int argc, char **argv, const char *file)
{
	config_init(cf);
	if (file != NULL)
		config_file(cf, file);
	parse_args(cf, argc, argv);
	if (cf->rundir[0] == '\0')
		config_default_rundir(cf);
	if (cf->daemon && cf->inetd)
		usage_error("--daemon and --inetd exclude each other");
}

void
config_args(struct config *cf, int argc, char **argv)
{
	char	file[PATH_MAX];

	saved_argc = argc;
	saved_argv = argv;
	config_build(cf, argc, argv, NULL);
	if (cf->config_file[0] != '\0') {
		snprintf(file, sizeof(file), "%s", cf->config_file);
		config_build(cf, argc, argv, file);
	}
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
 * restart is logged and kept. A bad file changes nothing: -1, and the
 * reason is logged.
 */
int
config_reload(struct config *cf)
{
	struct config	*n;
	jmp_buf		 jb;

	if ((n = malloc(sizeof(*n))) == NULL) {
		log_warn("SIGHUP");
		return -1;
	}
	reload_jmp = &jb;
	if (setjmp(jb) != 0) {
		reload_jmp = NULL;
		cur_file = NULL;
		from_args = 0;
		if (cur_fp != NULL)
			fclose(cur_fp);
		cur_fp = NULL;
		free(n);
		log_warnx("SIGHUP: %s; keeping the old settings", reload_err);
		return -1;
	}
	config_build(n, saved_argc, saved_argv,
	    cf->config_file[0] != '\0' ? cf->config_file : NULL);
	reload_jmp = NULL;
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

/* -n and --run-dir for chatctl(8), which finds instances as chatd does. */
void
config_set_instance(struct config *cf, const char *s)
{
	set_instance(cf, s);
}

void
config_set_rundir(struct config *cf, const char *s)
{
	set_rundir(cf, s);
}
