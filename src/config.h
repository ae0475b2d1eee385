/*
 * config.c: chatd's settings and the command line that sets them. Every
 * value is checked here, before anything is bound or created; a bad one
 * ends chatd with a message naming the option and EX_USAGE.
 */
#ifndef CHATD_CONFIG_H
#define CHATD_CONFIG_H

#include <limits.h>

#include "defs.h"

struct config {
	unsigned	 port;
	const char	*listen[CHATD_MAX_LISTEN];
	int		 nlisten;
	int		 inetd;
	char		 instance[INSTANCE_MAX_LEN + 1];
	char		 rundir[PATH_MAX];
	unsigned	 max_clients;
	unsigned	 max_per_addr;
	unsigned	 max_line;
	unsigned	 reg_timeout;
	unsigned	 history;
	unsigned	 max_rooms;
	unsigned	 rate;
	unsigned	 burst;
	unsigned	 flood_kick;
	unsigned	 keepalive;
	int		 oper_first_user;
	char		 oper_hash[256];	/* crypt(3) hash; empty: no /oper */
	const char	*oper_loose;	/* a password file others may read */
	int		 verbose;
};

void	config_init(struct config *);
void	config_args(struct config *, int, char **);
void	config_default_rundir(struct config *);
unsigned config_slots(const struct config *);

#endif
