/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes the configuration file parser (config_parse in config.c, the
 * path config_file() takes, but returning where chatd would exit) and
 * the MOTD reader (config_motd), each on the input as a file read
 * through fmemopen(3). Neither opens a file: config_parse refuses the
 * settings that name one to read. Every setting that parses must lie in
 * its documented range, whatever the other lines hold, and each bad line
 * must be reported once, in order, saying where it was.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/config.h"
#include "fuzz.h"

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* What config.c promises of the settings it applied. */
static void
check_config(const struct config *cf)
{
	int	i;

	FUZZ_CHECK(cf->port_opt <= CHATD_PORT_MAX);
	FUZZ_CHECK(cf->nlisten >= 0 && cf->nlisten <= CHATD_MAX_LISTEN);
	for (i = 0; i < cf->nlisten; i++)
		FUZZ_CHECK(terminated(cf->listen[i], sizeof(cf->listen[i])) &&
		    cf->listen[i][0] != '\0');
	FUZZ_CHECK(cf->max_line >= CHATD_MAX_LINE_MIN &&
	    cf->max_line <= CHATD_MAX_LINE_CAP);
	FUZZ_CHECK(cf->history <= CHATD_HISTORY_CAP);
	FUZZ_CHECK(cf->max_rooms >= CHATD_MAX_ROOMS_MIN &&
	    cf->max_rooms <= CHATD_MAX_ROOMS_CAP);
	FUZZ_CHECK(cf->live.max_clients <= CHATD_MAX_SLOTS);
	FUZZ_CHECK(cf->live.max_per_addr <= CHATD_MAX_SLOTS);
	FUZZ_CHECK(cf->live.quiet_above <= CHATD_MAX_SLOTS);
	FUZZ_CHECK(cf->live.rate <= CHATD_RATE_CAP);
	FUZZ_CHECK(cf->live.burst >= CHATD_BURST_MIN &&
	    cf->live.burst <= CHATD_RATE_CAP);
	FUZZ_CHECK(cf->live.reg_timeout <= CHATD_SECONDS_CAP);
	FUZZ_CHECK(cf->live.flood_kick <= CHATD_SECONDS_CAP);
	FUZZ_CHECK(cf->live.keepalive <= CHATD_SECONDS_CAP);
	FUZZ_CHECK(cf->live.oper_first_user <= 1);
	FUZZ_CHECK(cf->live.verbose <= 1);
	FUZZ_CHECK(cf->live.nproxy <= CHATD_MAX_PROXY);
	for (i = 0; i < (int)cf->live.nproxy; i++)
		FUZZ_CHECK((cf->live.proxy_from[i].a.family == 4 &&
		    cf->live.proxy_from[i].len <= 32) ||
		    (cf->live.proxy_from[i].a.family == 6 &&
		    cf->live.proxy_from[i].len <= 128));
	FUZZ_CHECK(terminated(cf->user, sizeof(cf->user)));
	FUZZ_CHECK(terminated(cf->instance, sizeof(cf->instance)));
	FUZZ_CHECK(terminated(cf->rundir, sizeof(cf->rundir)));
	FUZZ_CHECK(cf->rundir[0] == '\0' || cf->rundir[0] == '/');
	FUZZ_CHECK(cf->pidfile[0] == '\0' || cf->pidfile[0] == '/');
	FUZZ_CHECK(cf->statedir[0] == '\0' || cf->statedir[0] == '/');
	FUZZ_CHECK(cf->config_file[0] == '\0');
	FUZZ_CHECK(cf->check == 0);
}

/* The bad lines config_parse reported so far. */
struct reports {
	unsigned	n;
	unsigned long	line;	/* the last one's */
};

/*
 * Each report says "fuzz.conf:LINE: " and why, LINE counted from 1 and
 * never going back: every bad line once, in the file's order.
 */
static void
check_report(const char *msg, void *arg)
{
	struct reports	*r = arg;
	char		*end;
	unsigned long	 line;

	FUZZ_CHECK(strncmp(msg, "fuzz.conf:", 10) == 0);
	FUZZ_CHECK(msg[10] >= '1' && msg[10] <= '9');
	line = strtoul(msg + 10, &end, 10);
	FUZZ_CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
	FUZZ_CHECK(line > r->line);
	r->line = line;
	r->n++;
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
	struct reports	 r = { 0, 0 };
	FILE		*fp;
	char		*buf;

	if (size == 0)
		return 0;
	/* fmemopen wants a writable buffer; the input is read-only. */
	buf = fuzz_strdup(data, size);
	if ((cf = malloc(sizeof(*cf))) == NULL)
		abort();

	config_init(cf);
	if ((fp = fmemopen(buf, size, "r")) == NULL)
		abort();
	FUZZ_CHECK(config_parse(cf, fp, "fuzz.conf", check_report, &r) ==
	    r.n);
	check_config(cf);
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
