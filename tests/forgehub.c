/* SPDX-License-Identifier: ISC */
/*
 * forgehub - writes a header field of a running instance's segment, as a
 * process of the segment's owner could, to test what trusts the header.
 *
 *	forgehub SHMNAME owner UID	the header's owner uid
 *	forgehub SHMNAME listener PID	the listener's pid (start time 0:
 *					any process with that pid)
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"

/* What failed, with errno's reason; or, with status 64, a usage error. */
static void __attribute__((noreturn))
fail(int status, const char *what)
{
	if (status == 64)
		fprintf(stderr, "forgehub: %s\n", what);
	else
		perror(what);
	exit(status);
}

int
main(int argc, char **argv)
{
	struct hub_hdr	*hdr;
	struct stat	 st;
	long		 v;
	char		*end;
	int		 fd;

	if (argc != 4)
		fail(64, "usage: forgehub SHMNAME owner|listener NUMBER");
	v = strtol(argv[3], &end, 10);
	if (*argv[3] == '\0' || *end != '\0' || v < 0)
		fail(64, "not a number");
	if ((fd = shm_open(argv[1], O_RDWR, 0)) == -1)
		fail(1, argv[1]);
	if (fstat(fd, &st) == -1)
		fail(1, "fstat");
	if ((size_t)st.st_size < sizeof(*hdr))
		fail(64, "the segment is too small");
	hdr = mmap(NULL, sizeof(*hdr), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (hdr == MAP_FAILED)
		fail(1, "mmap");
	if (strcmp(argv[2], "owner") == 0)
		hdr->owner = (uid_t)v;
	else if (strcmp(argv[2], "listener") == 0) {
		hdr->listener = (pid_t)v;
		hdr->lstart = 0;
	} else
		fail(64, "the field is owner or listener");
	if (munmap(hdr, sizeof(*hdr)) == -1 || close(fd) == -1)
		fail(1, "munmap");
	return 0;
}
