/*
 * The slash commands. Every command is a row of the table below (its
 * name, its arguments, whether they are required, its handler and its
 * help), so /help, usage errors and unknown names come from one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "hub.h"
#include "log.h"
#include "worker.h"

struct cmd {
	const char	*name;
	const char	*args;	/* shown in usage and help */
	int		 needs_args;
	void		(*fn)(struct worker *, char *);
	const char	*help;
};

static void	cmd_help(struct worker *, char *);
static void	cmd_users(struct worker *, char *);
static void	cmd_stats(struct worker *, char *);
static void	cmd_quit(struct worker *, char *);

static const struct cmd cmds[] = {
	{ "help",	"",		0, cmd_help,	"list the commands" },
	{ "users",	"",		0, cmd_users,	"list everybody online" },
	{ "stats",	"",		0, cmd_stats,
	    "your message count, times and the server's counters" },
	{ "quit",	"[REASON]",	0, cmd_quit,	"leave the chat" },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* The noun for a count: "1 user", "2 users". Not reentrant. */
const char *
plural(unsigned long n, const char *one, const char *many)
{
	static char	buf[64];

	snprintf(buf, sizeof(buf), "%lu %s", n, n == 1 ? one : many);
	return buf;
}

static void
usage(struct worker *w, const struct cmd *c)
{
	worker_reply(w, "! usage: /%s%s%s", c->name, c->args[0] ? " " : "",
	    c->args);
}

static void
cmd_help(struct worker *w, char *args)
{
	size_t	i;

	(void)args;
	worker_reply(w, "* commands:");
	for (i = 0; i < NCMDS; i++)
		worker_reply(w, "* /%s%s%s - %s", cmds[i].name,
		    cmds[i].args[0] ? " " : "", cmds[i].args, cmds[i].help);
	worker_reply(w, "* a line not starting with / goes to everybody in "
	    "your room; start it with // to send a line beginning with /");
}

struct entry {
	uint64_t	regseq;
	char		name[NAME_MAX_LEN + 1];
	char		room[ROOM_MAX_LEN + 1];
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry	*x = a, *y = b;

	return x->regseq < y->regseq ? -1 : x->regseq > y->regseq;
}

/*
 * Copies the registered users (of one room, or all with RING_ALLROOMS)
 * under the lock, in registration order; the caller frees the list.
 */
static struct entry *
user_list(struct hub *h, uint32_t room, size_t *np)
{
	struct entry	*list;
	struct slot	*s;
	uint32_t	 i, r, hwm;
	size_t		 n = 0;

	hub_lock(h);
	hwm = atomic_load(&h->hdr->hwm);
	if ((list = calloc(hwm ? hwm : 1, sizeof(*list))) == NULL) {
		hub_unlock(h);
		fatal("calloc");
	}
	for (i = 0; i < hwm; i++) {
		s = &h->slots[i];
		r = atomic_load(&s->room);
		if (atomic_load(&s->state) != SLOT_ACTIVE ||
		    (room != RING_ALLROOMS && r != room))
			continue;
		list[n].regseq = s->regseq;
		memcpy(list[n].name, s->name, sizeof(list[n].name));
		memcpy(list[n].room, h->rooms[r].name, sizeof(list[n].room));
		n++;
	}
	hub_unlock(h);
	qsort(list, n, sizeof(*list), entry_cmp);
	*np = n;
	return list;
}

static void
cmd_users(struct worker *w, char *args)
{
	struct entry	*list;
	size_t		 i, n;

	(void)args;
	list = user_list(w->hub, RING_ALLROOMS, &n);
	worker_reply(w, "* %s online", plural(n, "user", "users"));
	for (i = 0; i < n; i++)
		worker_reply(w, "* %s (%s)", list[i].name, list[i].room);
	free(list);
}

/* "4s", "2m 5s", "1h 0m 3s", "2d 1h 0m 3s". */
static void
duration(char *buf, size_t len, time_t secs)
{
	long	d = (long)(secs / 86400), hr = (long)(secs / 3600 % 24),
		m = (long)(secs / 60 % 60), s = (long)(secs % 60);

	if (d > 0)
		snprintf(buf, len, "%ldd %ldh %ldm %lds", d, hr, m, s);
	else if (hr > 0)
		snprintf(buf, len, "%ldh %ldm %lds", hr, m, s);
	else if (m > 0)
		snprintf(buf, len, "%ldm %lds", m, s);
	else
		snprintf(buf, len, "%lds", s);
}

static void
cmd_stats(struct worker *w, char *args)
{
	struct hub_hdr	*hdr = w->hub->hdr;
	time_t		 now = time(NULL);
	char		 conn[64], up[64];

	(void)args;
	duration(conn, sizeof(conn), now - w->connected);
	duration(up, sizeof(up), now - (time_t)hdr->started);
	worker_reply(w, "* you have sent %s",
	    plural(w->nsent, "message", "messages"));
	worker_reply(w, "* connected for %s", conn);
	worker_reply(w, "* server up for %s", up);
	worker_reply(w, "* %s online",
	    plural(hub_count(w->hub, RING_ALLROOMS), "user", "users"));
	worker_reply(w, "* %s relayed",
	    plural(atomic_load(&hdr->relayed), "message", "messages"));
	worker_reply(w, "* %s received", plural(w->woken, "wake-up",
	    "wake-ups"));
}

static void
cmd_quit(struct worker *w, char *args)
{
	char	bye[64];

	snprintf(bye, sizeof(bye), "* Goodbye, %s.", w->name);
	worker_exit(w, args, bye);
}

/* Runs one command line, "/name args"; the line is NUL-terminated. */
void
cmd_run(struct worker *w, char *line, size_t len)
{
	const struct cmd	*c = NULL;
	char			*name = line + 1, *args;
	size_t			 i, n;

	(void)len;
	n = strcspn(name, " \t");
	args = name + n;
	args += strspn(args, " \t");
	for (i = 0; i < NCMDS; i++)
		if (strlen(cmds[i].name) == n &&
		    strncasecmp(cmds[i].name, name, n) == 0)
			c = &cmds[i];
	if (c == NULL) {
		worker_reply(w, "! unknown command: /%.*s (try /help)", (int)n,
		    name);
		return;
	}
	/* Trailing blanks are no argument. */
	for (n = strlen(args); n > 0 && (args[n - 1] == ' ' ||
	    args[n - 1] == '\t'); n--)
		args[n - 1] = '\0';
	if ((c->needs_args && args[0] == '\0') ||
	    (c->args[0] == '\0' && args[0] != '\0')) {
		usage(w, c);
		return;
	}
	log_debug("%s: /%s", w->name, c->name);
	c->fn(w, args);
}
