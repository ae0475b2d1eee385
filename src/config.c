/*
 * The command line. Defaults come from defs.h; config_args() applies the
 * options in order and stops chatd with EX_USAGE, naming the option, at
 * the first bad one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static const char usage_text[] =
"usage: chatd [-dhiVv] [-f file] [-l address] [-n instance] [-p port]\n"
"             [-u user] [options]\n"
"  -p, --port=PORT            TCP port (default 9000; 0 picks a free one)\n"
"  -l, --listen=ADDR          address to bind, repeatable (default: all)\n"
"  -i, --inetd                serve the connection on stdin/stdout\n"
"  -d, --daemon               detach, write the pid file, log to syslog\n"
"  -f, --config=FILE          read settings from FILE\n"
"  -n, --instance=NAME        shared segment and run directory name\n"
"  -u, --user=USER            after binding, run as USER and its group\n"
"      --pidfile=FILE         pid file (default with -d: /run/chatd.NAME.pid)\n"
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
	OPT_MOTD
};

static const struct option longopts[] = {
	{ "port",		required_argument, NULL, 'p' },
	{ "listen",		required_argument, NULL, 'l' },
	{ "inetd",		no_argument,	   NULL, 'i' },
	{ "daemon",		no_argument,	   NULL, 'd' },
	{ "config",		required_argument, NULL, 'f' },
	{ "instance",		required_argument, NULL, 'n' },
	{ "user",		required_argument, NULL, 'u' },
	{ "pidfile",		required_argument, NULL, OPT_PIDFILE },
	{ "state-dir",		required_argument, NULL, OPT_STATEDIR },
	{ "motd",		required_argument, NULL, OPT_MOTD },
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

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "chatd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EX_USAGE);
}

void
config_init(struct config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->port = CHATD_PORT;
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
	strcpy(cf->rundir, s);
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

	if ((fp = fopen(path, "r")) == NULL)
		usage_error("--oper-password-file: %s: %s", path,
		    strerror(errno));
	/* Warned about once logging is set up (under inetd, not here). */
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077) != 0)
		cf->oper_loose = path;
	if (fgets(cf->live.oper_hash, sizeof(cf->live.oper_hash), fp) == NULL)
		cf->live.oper_hash[0] = '\0';
	fclose(fp);
	n = strcspn(cf->live.oper_hash, "\r\n");
	cf->live.oper_hash[n] = '\0';
	if (n == 0 || cf->live.oper_hash[0] == '#')
		usage_error("--oper-password-file: %s: no crypt(3) hash on "
		    "its first line", path);
}

/* Stores an option's path made absolute, since -d moves to /. */
static void
set_path(char *dst, size_t size, const char *opt, const char *arg)
{
	char	cwd[PATH_MAX];
	int	n;

	if (*arg == '\0')
		usage_error("--%s: empty path", opt);
	if (arg[0] == '/')
		n = snprintf(dst, size, "%s", arg);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		usage_error("--%s: getcwd: %s", opt, strerror(errno));
	else
		n = snprintf(dst, size, "%s/%s", cwd, arg);
	if (n < 0 || (size_t)n >= size)
		usage_error("--%s: path too long", opt);
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
	case 'u':
		if (*arg == '\0' || strlen(arg) >= sizeof(cf->user))
			usage_error("--user: '%s' is not a user name", arg);
		strcpy(cf->user, arg);
		break;
	case OPT_PIDFILE:
		set_path(cf->pidfile, sizeof(cf->pidfile), "pidfile", arg);
		break;
	case OPT_STATEDIR:
		set_path(cf->statedir, sizeof(cf->statedir), "state-dir", arg);
		break;
	case OPT_MOTD:
		set_path(cf->motd_file, sizeof(cf->motd_file), "motd", arg);
		break;
	case 'p':
		cf->port = number("port", arg, 0, 65535);
		break;
	case 'l':
		if (cf->nlisten == CHATD_MAX_LISTEN)
			usage_error("--listen: at most %d addresses",
			    CHATD_MAX_LISTEN);
		if (*arg == '\0')
			usage_error("--listen: empty address");
		cf->listen[cf->nlisten++] = arg;
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
	case OPT_KEEPALIVE:
		cf->live.keepalive = number("keepalive", arg, 0, 86400);
		break;
	case OPT_OPERFILE:
		read_oper_hash(cf, arg);
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

void
config_args(struct config *cf, int argc, char **argv)
{
	int	ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":df:hil:n:p:u:Vv", longopts,
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
	if (cf->rundir[0] == '\0')
		config_default_rundir(cf);
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
