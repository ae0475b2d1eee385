/* SPDX-License-Identifier: ISC */
/*
 * Dropping privileges for -u USER, in OpenSMTPD's order: supplementary
 * groups, then the group, then the user, real, effective and saved
 * alike, and then a check that root cannot be had back. It happens after
 * the sockets are bound and the pid file is locked, and before the
 * shared segment and the wake-up pipes are made, so that those belong to
 * USER, whom the workers are too.
 *
 * What USER needs and cannot make itself is made first, as root: the run
 * directory, which chatd requires to be its own. A missing one is made
 * for USER; an existing one is handed over only when it is root's, empty
 * and 0700, what chatd as root would have made: a typo in --run-dir must
 * not give USER a system directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "priv.h"

static uid_t	priv_uid;
static gid_t	priv_gid;

void
priv_init(const struct config *cf)
{
	struct passwd	*pw;

	if (cf->user[0] == '\0')
		return;
	errno = 0;
	if ((pw = getpwnam(cf->user)) == NULL) {
		fprintf(stderr, "%schatd: --user: no such user '%s'%s%s\n",
		    log_pritag(LOG_ERR), cf->user, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
		exit(EX_USAGE);
	}
	if (geteuid() != 0 && pw->pw_uid != geteuid()) {
		fprintf(stderr, "%schatd: --user: only root can become %s\n",
		    log_pritag(LOG_ERR), cf->user);
		exit(EX_USAGE);
	}
	priv_uid = pw->pw_uid;
	priv_gid = pw->pw_gid;
}

/* Whether the open directory fd holds nothing but . and .. */
static int
dir_empty(int fd)
{
	struct dirent	*de;
	DIR		*d;
	int		 dfd, empty = 1;

	if ((dfd = dup(fd)) == -1 || (d = fdopendir(dfd)) == NULL)
		fatal("fdopendir");
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* Makes the run directory USER's, or leaves it if it already is. */
static void
priv_rundir(const char *dir, const char *user)
{
	struct stat	st;
	int		fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fatal_status(EX_UNAVAILABLE, "cannot create %s: %s", dir,
		    strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1)
		fatal_status(EX_UNAVAILABLE, "cannot open %s: %s", dir,
		    errno == ENOTDIR || errno == ELOOP ?
		    "not a directory (or a symlink)" : strerror(errno));
	if (st.st_uid == priv_uid) {
		close(fd);
		return;
	}
	if (st.st_uid != 0 || (st.st_mode & 07777) != 0700 ||
	    !dir_empty(fd))
		fatal_status(EX_UNAVAILABLE, "cannot give %s to %s: it is not "
		    "an empty directory of root's with mode 0700 (owner uid "
		    "%ld, mode %03o)", dir, user, (long)st.st_uid,
		    (unsigned)(st.st_mode & 0777));
	if (fchown(fd, priv_uid, priv_gid) == -1 || fchmod(fd, 0700) == -1)
		fatal_status(EX_UNAVAILABLE, "cannot give %s to %s: %s", dir,
		    user, strerror(errno));
	close(fd);
}

/* Fails unless we are USER through and through, for good. */
static void
priv_verify(void)
{
	uid_t	ru, eu, su;
	gid_t	rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("getresuid");
	if (ru != priv_uid || eu != priv_uid || su != priv_uid ||
	    rg != priv_gid || eg != priv_gid || sg != priv_gid)
		fatalx("bug: still not uid %ld gid %ld after dropping "
		    "privileges", (long)priv_uid, (long)priv_gid);
	if (priv_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("bug: root could be regained after dropping privileges");
}

void
priv_drop(const struct config *cf)
{
	/* Not root: priv_init() made sure we already are the user. */
	if (cf->user[0] == '\0' || geteuid() != 0)
		return;
	priv_rundir(cf->rundir, cf->user);
	if (initgroups(cf->user, priv_gid) == -1)
		fatal("initgroups %s", cf->user);
	if (setresgid(priv_gid, priv_gid, priv_gid) == -1)
		fatal("setresgid %ld", (long)priv_gid);
	if (setresuid(priv_uid, priv_uid, priv_uid) == -1)
		fatal("setresuid %ld", (long)priv_uid);
	priv_verify();
	log_info("running as %s (uid %ld, gid %ld)", cf->user,
	    (long)priv_uid, (long)priv_gid);
}
