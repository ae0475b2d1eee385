/* SPDX-License-Identifier: ISC */
/*
 * The pid file. It is written with -d, or wherever --pidfile says, and
 * holds the listener's pid under an exclusive fcntl() lock kept for the
 * listener's whole life: the lock, not the file's existence, says that
 * chatd runs, so a file left by a crash is simply taken over. fcntl()
 * locks belong to a process and are not inherited across fork(), unlike
 * flock() ones: no worker holds the lock, and workers left over from a
 * crashed listener cannot keep a new one from starting. Workers close
 * the descriptor all the same, which does not release the listener's
 * lock.
 *
 * The default is /run/chatd.NAME.pid for root. Other users cannot write
 * in /run, so theirs is in their own run directory: RUNDIR/NAME.pid.
 * After -u the listener may no longer unlink a file in /run: at shutdown
 * it empties the file, so that a stale pid file never names a process.
 * The listener removes it whenever it exits, at a clean shutdown or a
 * start-up that failed after writing it, through atexit(); workers,
 * having forgotten the file, do nothing then.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "hub.h"
#include "log.h"
#include "pidfile.h"

static int	pid_fd = -1;
static char	pid_path[PATH_MAX];

static void
pidfile_default(struct config *cf)
{
	int	n;

	if (geteuid() == 0)
		n = snprintf(cf->pidfile, sizeof(cf->pidfile),
		    "/run/chatd.%s.pid", cf->instance);
	else {
		/* A non-root user's: checked as the hub will check it. */
		close(hub_rundir_open(AT_FDCWD, cf->rundir, cf->rundir));
		n = snprintf(cf->pidfile, sizeof(cf->pidfile), "%s/%s.pid",
		    cf->rundir, cf->instance);
	}
	if (n < 0 || (size_t)n >= sizeof(cf->pidfile))
		fatal_status(EX_UNAVAILABLE, "pid file path too long");
}

/* The pid of whoever holds the lock on fd, or 0 if unknown. */
static long
pidfile_holder(int fd)
{
	struct flock	fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1 || fl.l_type == F_UNLCK)
		return 0;
	return (long)fl.l_pid;
}

/*
 * Opens and locks path; returns the descriptor, or -1 when the file was
 * replaced between open and lock (by a chatd that was shutting down) and
 * must be opened again.
 */
static int
pidfile_lock(const char *path, const char *instance)
{
	struct flock	fl;
	struct stat	fst, pst;
	int		fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		fatal_status(EX_UNAVAILABLE, "cannot open pid file %s: %s",
		    path, strerror(errno));
	/* A second link could be one planted to make us truncate another. */
	if (fstat(fd, &fst) == -1 || !S_ISREG(fst.st_mode) ||
	    fst.st_nlink != 1)
		fatal_status(EX_UNAVAILABLE, "pid file %s is not a regular "
		    "file with one link", path);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		if (errno == EACCES || errno == EAGAIN)
			fatal_status(EX_UNAVAILABLE, "instance %s is already "
			    "running (pid %ld; %s is locked)", instance,
			    pidfile_holder(fd), path);
		fatal_status(EX_UNAVAILABLE, "cannot lock pid file %s: %s",
		    path, strerror(errno));
	}
	if (stat(path, &pst) == -1 || pst.st_dev != fst.st_dev ||
	    pst.st_ino != fst.st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

void
pidfile_open(struct config *cf)
{
	char	buf[32];
	int	fd, n, tries;

	if (cf->pidfile[0] == '\0' && !cf->daemon)
		return;
	if (cf->pidfile[0] == '\0')
		pidfile_default(cf);
	for (tries = 0; (fd = pidfile_lock(cf->pidfile, cf->instance)) == -1;
	    tries++)
		if (tries == 3)
			fatal_status(EX_UNAVAILABLE, "pid file %s keeps being "
			    "replaced", cf->pidfile);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		fatal_status(EX_UNAVAILABLE, "cannot write pid file %s: %s",
		    cf->pidfile, strerror(errno));
	pid_fd = fd;
	memcpy(pid_path, cf->pidfile, sizeof(pid_path));
	if (atexit(pidfile_remove) != 0)
		fatalx("atexit");
}

/* In a worker: let go of the file without touching the lock. */
void
pidfile_forget(void)
{
	if (pid_fd != -1)
		close(pid_fd);
	pid_fd = -1;
}

/*
 * When the listener exits: empties the file, then removes it if we
 * still may; closing it releases the lock.
 */
void
pidfile_remove(void)
{
	if (pid_fd == -1)
		return;
	if (ftruncate(pid_fd, 0) == -1)
		log_warn("truncate %s", pid_path);
	if (unlink(pid_path) == -1 && errno != ENOENT) {
		if (errno == EACCES || errno == EPERM)
			log_debug("left %s behind, empty: %s", pid_path,
			    strerror(errno));
		else
			log_warn("unlink %s", pid_path);
	}
	close(pid_fd);
	pid_fd = -1;
}
