/* SPDX-License-Identifier: ISC */
/*
 * Runs a fuzz harness once on each file named, without libFuzzer: how
 * make check replays the seed corpora with any compiler (and under
 * ASan and UBSan with --enable-sanitizers). A harness that finds a
 * broken invariant aborts; a file that cannot be read is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Reads a whole file into a buffer of exactly its size; NULL if not. */
static uint8_t *
slurp(const char *path, size_t *n)
{
	FILE	*fp;
	uint8_t	*buf = NULL, *p;
	size_t	 len = 0, got;
	uint8_t	 chunk[4096];

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((p = realloc(buf, len + got)) == NULL) {
			free(buf);
			fclose(fp);
			return NULL;
		}
		buf = p;
		memcpy(buf + len, chunk, got);
		len += got;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	/* An empty file: a buffer of one byte, of which none is input. */
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return NULL;
	*n = len;
	return buf;
}

int
main(int argc, char **argv)
{
	uint8_t	*data;
	size_t	 n;
	int	 i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if ((data = slurp(argv[i], &n)) == NULL) {
			fprintf(stderr, "%s: %s: %s\n", argv[0], argv[i],
			    strerror(errno));
			return 1;
		}
		LLVMFuzzerTestOneInput(data, n);
		free(data);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
