/* SPDX-License-Identifier: ISC */
/*
 * config.c: chatd's settings, the command line and the configuration
 * file that set them. Every value is checked here, before anything is
 * bound or created: a bad option ends chatd with EX_USAGE, a file with
 * bad lines (each named) with EX_CONFIG.
 */
#ifndef CHATD_CONFIG_H
#define CHATD_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "defs.h"
#include "dialect.h"

/*
 * The settings a running server can change (SIGHUP): the listener, or
 * under inetd each new instance, publishes them in the segment, and
 * every worker picks them up from there. Plain data: it is copied.
 */
struct live {
	uint32_t	max_clients;
	uint32_t	max_per_addr;
	uint32_t	ipv6_prefix;	/* bits of an IPv6 address bans and
					   max_per_addr cover */
	uint32_t	reg_timeout;
	uint32_t	rate;
	uint32_t	burst;
	uint32_t	flood_kick;
	uint32_t	keepalive;
	uint32_t	oper_first_user;
	uint32_t	verbose;
	uint32_t	quiet_above;	/* no join/quit notices above this */
	char		oper_hash[256];	/* crypt(3) hash; empty: no /oper */
	uint32_t	nproxy;		/* --proxy-from ranges */
	struct cidr	proxy_from[CHATD_MAX_PROXY];
	uint32_t	motd_len;
	char		motd[MOTD_MAX];	/* "* line\n" lines, cleaned */
};

/*
 * The command line chatd started with, and where: SIGHUP applies it
 * again, and relative paths in it or in the file are taken from cwd.
 */
struct cmdline {
	int		 argc;
	char		**argv;
	char		 cwd[PATH_MAX];	/* empty: not known yet */
};

/* The numbers (uint32_t) are set through config.c's table of them. */
struct config {
	unsigned	 port;		/* the port bound (-p 0: the one picked) */
	uint32_t	 port_opt;	/* the port asked for */
	char		 listen[CHATD_MAX_LISTEN][256];
	int		 nlisten;
	int		 listen_args;	/* the command line gave -l */
	int		 proxy_args;	/* and --proxy-from */
	int		 inetd;
	int		 daemon;		/* -d: detach, pid file, syslog */
	int		 check;			/* -t: check the settings, exit */
	char		 config_file[PATH_MAX];	/* -f, absolute; empty: none */
	char		 user[64];		/* -u: run as this user */
	char		 pidfile[PATH_MAX];	/* empty: the -d default */
	char		 statedir[PATH_MAX];	/* empty: nothing persists */
	char		 motd_file[PATH_MAX];	/* empty: no MOTD */
	char		 instance[INSTANCE_MAX_LEN + 1];
	char		 rundir[PATH_MAX];
	uint32_t	 max_line;
	uint32_t	 history;
	uint32_t	 max_rooms;
	char		 oper_file[PATH_MAX];	/* the operator password file */
	int		 oper_loose;	/* which others may read */
	int		 rundir_given;	/* --run-dir, not the default */
	char		 link_host[256];	/* --link; empty: no link */
	char		 link_port[8];
	char		 server_name[SERVER_NAME_MAX + 1];
	char		 link_pass_file[PATH_MAX];
	char		 link_send[LINK_PASSWORD_MAX + 1];	/* its line 1 */
	char		 link_expect[LINK_PASSWORD_MAX + 1];	/* line 2 */
	int		 link_loose;	/* others may read that file */
	int		 link_only;	/* --link-only */
	struct live	 live;
	uint32_t	 livegen;	/* the generation live was published as */
	struct cmdline	 cl;
};

#define CONFIG_WHY_MAX	1024	/* why a value was refused, bytes (cut if longer) */

/* Hears of each refused setting: "FILE:LINE: KEY: REASON", "--KEY: REASON". */
typedef void	config_report_fn(const char *, void *);

void	config_init(struct config *);
void	config_args(struct config *, int, char **, const char *);
int	config_reload(struct config *);
unsigned config_parse(struct config *, FILE *, const char *,
	    config_report_fn *, void *);
unsigned config_where(struct config *, const char *, int,
	    config_report_fn *, void *);
int	config_motd(struct live *, FILE *);
void	config_default_rundir(struct config *);
int	config_set_instance(struct config *, const char *, char *, size_t);
int	config_set_rundir(struct config *, const char *, char *, size_t);
unsigned config_slots(const struct config *);

#endif
