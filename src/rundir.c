/* SPDX-License-Identifier: ISC */
/*
 * The run directory and an instance's directory in it, which holds the
 * workers' pipes and whose flock() serialises creating, checking and
 * removing the segment (hub.c, "Ownership" and "Who removes it").
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "hub.h"
#include "log.h"

/*
 * Creates (if create) or checks a run directory or an instance's
 * directory in it: ours, mode 0700, never reached through a symlink.
 * Returns its descriptor, or -1 with the reason in why.
 */
static int
rundir_try(int at, const char *path, const char *shown, int create,
    char *why, size_t len)
{
	struct stat	st;
	int		fd, saved;

	if (create && mkdirat(at, path, 0700) == -1 && errno != EEXIST) {
		saved = errno;
		snprintf(why, len, "cannot create %s: %s", shown,
		    strerror(errno));
		errno = saved;
		return -1;
	}
	fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		snprintf(why, len, "cannot open %s: %s", shown,
		    errno == ENOTDIR || errno == ELOOP ?
		    "not a directory (or a symlink)" : strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, len, "fstat %s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		snprintf(why, len, "%s is not chatd's own (owner uid %ld, "
		    "mode %03o; it must be ours and 0700)", shown,
		    (long)st.st_uid, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	return fd;
}

/* rundir_try() at start-up, where any failure is fatal. */
int
hub_rundir_open(int at, const char *path, const char *shown)
{
	char	why[PATH_MSG_MAX];
	int	fd;

	if ((fd = rundir_try(at, path, shown, 1, why, sizeof(why))) == -1)
		fatal_status(EX_UNAVAILABLE, "%s", why);
	return fd;
}

/* Takes the instance directory's lock, which hub_dir_unlock releases. */
void
hub_dir_flock(struct hub *h)
{
	while (flock(h->dirfd, LOCK_EX) == -1)
		if (errno != EINTR)
			fatal_status(EX_UNAVAILABLE, "flock %s: %s", h->dirpath,
			    strerror(errno));
	h->dirlocked = 1;
}

/*
 * A forked worker's own descriptor of the instance directory. flock()
 * locks belong to the open file, which fork shares: on the listener's
 * descriptor two leaving workers (or a worker and the listener) would
 * both "hold" the lock at once, and one's unlock would free the other's.
 * Returns 0, or -1 (logged) when the directory is gone or was replaced.
 */
int
hub_dir_reopen(struct hub *h)
{
	struct stat	old, cur;
	int		fd;

	fd = open(h->dirpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		log_warn("%s", h->dirpath);
		return -1;
	}
	if (fstat(h->dirfd, &old) == -1 || fstat(fd, &cur) == -1)
		fatal("fstat %s", h->dirpath);
	if (old.st_dev != cur.st_dev || old.st_ino != cur.st_ino) {
		log_warnx("%s was replaced", h->dirpath);
		close(fd);
		return -1;
	}
	close(h->dirfd);
	h->dirfd = fd;
	return 0;
}

/*
 * Somebody may have removed (or moved) the instance's directory under a
 * running server: then our descriptor names a directory that the path
 * no longer reaches, and nobody can find our pipes. Opens the path
 * afresh (making it, and the run directory, if create: the listener's
 * job) and, if it is another directory, uses it from now on. Returns 0
 * when ours is still the one, 1 when we moved to a new one, -1 with the
 * reason in why when there is none we may use. Never while we hold the
 * directory lock: that is on the old one.
 */
int
hub_dir_refresh(struct hub *h, int create, char *why, size_t len)
{
	struct stat	 old, cur;
	char		 top[sizeof(h->dirpath)], *inst;
	int		 tfd, fd = -1, saved;

	if (h->dirlocked)
		return 0;
	memcpy(top, h->dirpath, sizeof(top));
	if ((inst = strrchr(top, '/')) == NULL || inst == top)
		fatalx("bug: run directory path %s", h->dirpath);
	*inst++ = '\0';
	if ((tfd = rundir_try(AT_FDCWD, top, top, create, why, len)) != -1) {
		fd = rundir_try(tfd, inst, h->dirpath, create, why, len);
		saved = errno;
		close(tfd);
		errno = saved;
	}
	/* Out of descriptors we cannot tell: take ours to be the one. */
	if (tfd == -1 || fd == -1)
		return errno == EMFILE || errno == ENFILE ? 0 : -1;
	if (fstat(h->dirfd, &old) == -1 || fstat(fd, &cur) == -1)
		fatal("fstat %s", h->dirpath);
	if (old.st_dev == cur.st_dev && old.st_ino == cur.st_ino &&
	    old.st_nlink > 0) {
		close(fd);
		return 0;
	}
	close(h->dirfd);
	h->dirfd = fd;
	return 1;
}

void
hub_dir_unlock(struct hub *h)
{
	if (!h->dirlocked)
		return;
	if (flock(h->dirfd, LOCK_UN) == -1)
		fatal("flock %s", h->dirpath);
	h->dirlocked = 0;
}

/* Opens the instance directory and locks it; retries if it was removed. */
void
hub_dir_lock(struct hub *h, const struct config *cf)
{
	struct stat	st;
	int		top;

	top = hub_rundir_open(AT_FDCWD, cf->rundir, cf->rundir);
	if (snprintf(h->dirpath, sizeof(h->dirpath), "%s/%s", cf->rundir,
	    cf->instance) >= (int)sizeof(h->dirpath))
		fatal_status(EX_UNAVAILABLE, "run directory path too long");
	for (;;) {
		h->dirfd = hub_rundir_open(top, cf->instance, h->dirpath);
		hub_dir_flock(h);
		if (fstat(h->dirfd, &st) == 0 && st.st_nlink > 0)
			break;
		/* Removed by a server shutting down: make it again. */
		close(h->dirfd);
		h->dirlocked = 0;
	}
	close(top);
}

/* An object of an instance run by us, or by anybody for root; 0700. */
int
hub_admin_may_use(const struct stat *st)
{
	return (st->st_uid == geteuid() || geteuid() == 0) &&
	    (st->st_mode & 077) == 0;
}

/*
 * Opens the instance's directory without creating anything and locks
 * it, so that no chatd is between creating and readying, or removing,
 * the segment. Returns 0, 1 when there is no such directory, or -1.
 */
int
hub_dir_lock_admin(struct hub *h, const struct config *cf, char *why,
    size_t len)
{
	struct stat	st;
	int		top, saved, flags = O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC;

	if ((top = open(cf->rundir, flags)) != -1) {
		h->dirfd = openat(top, cf->instance, flags);
		saved = errno;
		close(top);
		errno = saved;
	}
	if (top == -1 || h->dirfd == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, len, "cannot open %s: %s", h->dirpath,
		    errno == ENOTDIR || errno == ELOOP ?
		    "not a directory (or a symlink)" : strerror(errno));
		return -1;
	}
	if (fstat(h->dirfd, &st) == -1 || !hub_admin_may_use(&st)) {
		snprintf(why, len, "%s is not chatd's own", h->dirpath);
		return -1;
	}
	while (flock(h->dirfd, LOCK_EX) == -1)
		if (errno != EINTR)
			fatal("flock %s", h->dirpath);
	/* Removed by a server that shut down meanwhile. */
	if (fstat(h->dirfd, &st) == -1 || st.st_nlink == 0)
		return 1;
	return 0;
}
