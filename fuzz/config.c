/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes the configuration file parser (config_parse in config.c, the
 * path config_file() takes, but returning where chatd would exit) and
 * the MOTD reader (config_motd), each on the input as a file read
 * through fmemopen(3). Neither opens a file: config_parse refuses the
 * settings that name one to read. Every setting that parses must lie in
 * its documented range, and a bad one must say where it was.
 */
#include <string.h>

#include "../src/config.h"
#include "fuzz.h"

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* What config.c promises of a configuration it accepted. */
static void
check_config(const struct config *cf)
{
	int	i;

	FUZZ_CHECK(cf->port_opt <= 65535);
	FUZZ_CHECK(cf->nlisten >= 0 && cf->nlisten <= CHATD_MAX_LISTEN);
	for (i = 0; i < cf->nlisten; i++)
		FUZZ_CHECK(terminated(cf->listen[i], sizeof(cf->listen[i])) &&
		    cf->listen[i][0] != '\0');
	FUZZ_CHECK(cf->max_line >= 16 && cf->max_line <= CHATD_MAX_LINE_CAP);
	FUZZ_CHECK(cf->history <= CHATD_HISTORY_CAP);
	FUZZ_CHECK(cf->max_rooms >= 1 && cf->max_rooms <= CHATD_MAX_ROOMS_CAP);
	FUZZ_CHECK(cf->live.max_clients <= CHATD_MAX_SLOTS);
	FUZZ_CHECK(cf->live.burst >= 1);
	FUZZ_CHECK(cf->live.oper_first_user <= 1);
	FUZZ_CHECK(terminated(cf->user, sizeof(cf->user)));
	FUZZ_CHECK(terminated(cf->instance, sizeof(cf->instance)));
	FUZZ_CHECK(terminated(cf->rundir, sizeof(cf->rundir)));
	FUZZ_CHECK(cf->rundir[0] == '\0' || cf->rundir[0] == '/');
	FUZZ_CHECK(cf->pidfile[0] == '\0' || cf->pidfile[0] == '/');
	FUZZ_CHECK(cf->statedir[0] == '\0' || cf->statedir[0] == '/');
	FUZZ_CHECK(cf->config_file[0] == '\0');
	FUZZ_CHECK(cf->check == 0);
}

/* The MOTD: "* " lines ending in LF, clean UTF-8, within MOTD_MAX. */
static void
check_motd(const struct live *lv)
{
	const char	*p = lv->motd, *end = lv->motd + lv->motd_len, *nl;

	FUZZ_CHECK(lv->motd_len <= MOTD_MAX);
	while (p < end) {
		FUZZ_CHECK(end - p >= 3 && p[0] == '*' && p[1] == ' ');
		nl = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(nl != NULL);
		FUZZ_CHECK(fuzz_clean_utf8((const unsigned char *)p + 2,
		    (size_t)(nl - p - 2)));
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*cf;
	FILE		*fp;
	char		*buf, err[1024];

	if (size == 0)
		return 0;
	/* fmemopen wants a writable buffer; the input is read-only. */
	buf = fuzz_strdup(data, size);
	if ((cf = malloc(sizeof(*cf))) == NULL)
		abort();

	config_init(cf);
	if ((fp = fmemopen(buf, size, "r")) == NULL)
		abort();
	err[0] = '\0';
	if (config_parse(cf, fp, "fuzz.conf", err, sizeof(err)) == 0)
		check_config(cf);
	else
		FUZZ_CHECK(strncmp(err, "fuzz.conf", 9) == 0);
	fclose(fp);

	config_init(cf);
	if ((fp = fmemopen(buf, size, "r")) == NULL)
		abort();
	if (config_motd(&cf->live, fp) == 0)
		check_motd(&cf->live);
	fclose(fp);

	free(cf);
	free(buf);
	return 0;
}
