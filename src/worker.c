/* SPDX-License-Identifier: ISC */
/*
 * A worker serves one client from connect to goodbye. Its loop waits in
 * poll(2) on the socket and on its wake-up FIFO; each round it reads the
 * client's input, copies what the log holds for it, and writes what the
 * socket will take. It never blocks on the socket and never holds the
 * hub lock across a system call that could wait.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "audit.h"
#include "ban.h"
#include "config.h"
#include "fault.h"
#include "log.h"
#include "session.h"
#include "room.h"
#include "state.h"
#include "worker.h"

static volatile sig_atomic_t	stop_requested, repipe_requested;

/*
 * What a trusted front end's PROXY header said, read by worker_proxy()
 * before the worker is set up (under inetd before the segment is even
 * opened), and the client's bytes that came after it in the same read.
 */
struct early {
	int		 trusted;	/* the peer is a --proxy-from address */
	int		 proxied;	/* and its header gave the client's */
	int		 version;
	unsigned	 sport;		/* the client's port, for the log */
	char		 addr[ADDR_MAX_LEN + 1];	/* the client's address */
	size_t		 len;		/* bytes of rest */
	unsigned char	 rest[WORKER_READ];
};

/*
 * The worker and its buffers, in .bss: the listener never touches them,
 * so a worker's private pages are those its own lines reach, not the
 * sizes here, and it needs no heap unless its backlog outgrows
 * OUTBUF_FIRST. bufs is cut at run time into the line (--max-line
 * bytes), its cleaned copy, a reply and a record's text, in that order,
 * so that the starts, which every short line touches, share pages.
 */
#define OUTBUF_FIRST	4096
static struct {
	struct worker	w;
	struct early	early;
	char		out[OUTBUF_FIRST];
	unsigned char	bufs[CHATD_MAX_LINE_CAP +
			    TEXT_CLEAN_MAX(CHATD_MAX_LINE_CAP) + 1 +
			    2 * RECORD_TEXT_MAX];
} mem;

/*
 * A signal's news is read at the top of the main loop; a byte in our
 * own pipe makes sure that poll(2) returns for it, even when the signal
 * came just before poll was entered.
 */
static void
poke(void)
{
	int	saved = errno;

	if (worker_self_wake != -1)
		(void)write(worker_self_wake, "", 1);
	errno = saved;
}

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
	poke();
}

/* SIGUSR1: the listener made the run directory again; see hub.c. */
static void
on_repipe(int sig)
{
	(void)sig;
	repipe_requested = 1;
	poke();
}

static void
worker_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = on_repipe;
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGUSR2, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		fatal("sigaction");
	/* The listener holds SIGUSR1 back until we can take it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
}

/* The peer's numeric address; "local" for a client that is no socket. */
static void
peer_address(char *buf, size_t len)
{
	struct sockaddr_storage	 ss = { .ss_family = AF_UNSPEC };
	socklen_t		 sl = sizeof(ss);
	const char		*p;
	int			 one = 1;

	if (getpeername(IN_FD, (struct sockaddr *)&ss, &sl) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    getnameinfo((struct sockaddr *)&ss, sl, buf, len, NULL, 0,
	    NI_NUMERICHOST) != 0) {
		snprintf(buf, len, "local");
		return;
	}
	/* Small lines must not wait for the client's delayed ACK. */
	if (setsockopt(IN_FD, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1)
		log_warn("TCP_NODELAY");
	/* An IPv4 client of an IPv6 socket is shown, and banned, as IPv4. */
	if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, '.') != NULL) {
		p = buf + 7;
		memmove(buf, p, strlen(p) + 1);
	}
}

/*
 * Closes a connection whose peer vanished within about secs seconds:
 * keepalive probes find a silent dead peer (idle half the time, then
 * three probes), and TCP_USER_TIMEOUT one that stopped acknowledging
 * what we send, when no probes go out. A read or write then fails with
 * ETIMEDOUT: "ping timeout".
 */
static void
keepalive(unsigned secs)
{
	int		on = 1, idle, intvl, cnt = 3;
	unsigned	ms = secs * 1000;

	idle = secs / 2 > 0 ? (int)(secs / 2) : 1;
	intvl = (int)(secs - (unsigned)idle) / cnt > 0 ?
	    (int)(secs - (unsigned)idle) / cnt : 1;
	if (setsockopt(IN_FD, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1)
		return;		/* not a TCP socket */
	if (setsockopt(IN_FD, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof(idle)) == -1 ||
	    setsockopt(IN_FD, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1 ||
	    setsockopt(IN_FD, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
	    sizeof(cnt)) == -1 ||
	    setsockopt(IN_FD, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
	    sizeof(ms)) == -1)
		log_warn("keepalive options");
}

static void
set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal("fcntl");
}

/* Whether addr (numeric, or "local") is one of the --proxy-from ranges. */
static int
proxy_trusted(const struct live *lv, const char *addr)
{
	struct addr	a;
	uint32_t	i;

	if (addr_parse(&a, addr) == -1)
		return 0;
	for (i = 0; i < lv->nproxy && i < CHATD_MAX_PROXY; i++)
		if (cidr_contains(&lv->proxy_from[i], &a))
			return 1;
	return 0;
}

/*
 * Reads the PROXY header into the early bytes until it is whole, bad, or
 * PROXY_TIMEOUT_MS have passed; NULL, or why there is none.
 */
static const char *
proxy_read(struct proxy_header *ph)
{
	struct pollfd	pfd = { .fd = IN_FD, .events = POLLIN };
	int64_t		end = now_ms() + PROXY_TIMEOUT_MS;
	ssize_t		n;
	int		r;

	mem.early.len = 0;
	while (proxy_parse(mem.early.rest, mem.early.len, ph) == PROXY_MORE) {
		if ((r = poll(&pfd, 1, ms_until(end))) == 0)
			return "no PROXY header within "
			    CHATD_STR(PROXY_TIMEOUT_MS) " ms";
		if (r == -1 && errno != EINTR)
			return "poll failed";
		if (r == -1)
			continue;
		/* Never full: a header is judged within PROXY_HEADER_MAX. */
		n = read(IN_FD, mem.early.rest + mem.early.len,
		    sizeof(mem.early.rest) - mem.early.len);
		if (n == 0)
			return "closed before its PROXY header";
		if (n == -1 && errno != EINTR && errno != EAGAIN)
			return "read failed before its PROXY header";
		if (n > 0)
			mem.early.len += (size_t)n;
	}
	return ph->why;
}

/*
 * A connection from a trusted front end (--proxy-from) begins with a
 * PROXY header, read before anything else: its source address becomes
 * the client's. Without a valid one within PROXY_TIMEOUT_MS the
 * connection is closed without a word, and the log says why. Called
 * before worker_main: under inetd before the segment is opened (h is
 * NULL), so that nobody waits on our directory lock meanwhile.
 */
void
worker_proxy(const struct config *cf, struct hub *h)
{
	struct proxy_header	 ph;
	char			 peer[ADDR_MAX_LEN + 1];
	const char		*why;

	peer_address(peer, sizeof(peer));
	if (!(mem.early.trusted = proxy_trusted(&cf->live, peer)))
		return;
	if ((why = proxy_read(&ph)) != NULL) {
		log_info("%s: %s; closed", peer, why);
		if (h != NULL) {
			hub_leave_begin(h);
			hub_leave_end(h);
		}
		_exit(0);
	}
	mem.early.len -= ph.len;
	memmove(mem.early.rest, mem.early.rest + ph.len, mem.early.len);
	mem.early.version = ph.version;
	if (ph.local)
		return;
	mem.early.proxied = 1;
	mem.early.sport = ph.sport;
	addr_format(&ph.src, mem.early.addr, sizeof(mem.early.addr));
}

WAKE_PATH static void
worker_deliver(struct worker *w)
{
	if (worker_drain(w, 0) == -1)
		worker_exit(w, "too slow", NULL);
	worker_check_kicked(w);
}

static void
worker_prompt(struct worker *w)
{
	worker_reply(w, "Enter your name:");
}

static void
worker_register(struct worker *w, const unsigned char *s, size_t n)
{
	struct hub	*h = w->hub;
	struct slot	*sl = &h->slots[w->slot];
	struct history	 hist;
	const char	*why;
	char		 key[NAME_MAX_LEN + 1], notice[NOTICE_MAX];
	int		 len, quiet, first = !w->named;

	w->named = 1;
	text_trim(&s, &n);
	if ((why = text_name_problem((const char *)s, n)) != NULL) {
		/* An IRC client's first line gets the hint, only that one. */
		if (first && text_irc_command((const char *)s, n))
			worker_reply(w, "! this is chatd, not IRC: type a name "
			    "to join, or use an IRC server linked to it");
		else
			worker_reply(w, "! invalid name: %s", why);
		worker_prompt(w);
		return;
	}
	(void)text_key(key, sizeof(key), (const char *)s, n);
	hub_lock(h);
	/* Banned (a range) while choosing a name: refused as at connect. */
	if (ban_match_locked(h, &sl->ip, time(NULL))) {
		hub_unlock(h);
		worker_exit(w, NULL, "! you are banned");
		return;
	}
	if (hub_find_locked(h, key) != -1 || remote_find_locked(h, key) != -1) {
		hub_unlock(h);
		worker_reply(w, "! name taken: %.*s", (int)n, (const char *)s);
		worker_prompt(w);
		return;
	}
	memcpy(sl->name, s, n);
	sl->name[n] = '\0';
	memcpy(sl->key, key, n + 1);
	FAULT(SLOT_REGISTER);
	sl->regseq = ++h->hdr->regseq;
	/* The first user to register is the operator (the seed's rule). */
	sl->op = w->cf->live.oper_first_user &&
	    hub_count(h, RING_ALLROOMS) == 0;
	memcpy(w->name, sl->name, n + 1);
	w->room = 0;
	w->pos = ring_head(&h->ring);
	atomic_store(&sl->state, SLOT_ACTIVE);
	FAULT(SLOT_REGISTERED);
	session_event_locked(h, 0, 'R', w->name, NULL);
	quiet = hub_quiet_locked(h, 0);
	if (!quiet) {
		len = snprintf(notice, sizeof(notice), "* %s joined lobby",
		    w->name);
		worker_post_locked(w, REC_NOTICE, 0, -1, notice, (size_t)len);
	}
	room_history_copy_locked(h, 0, &hist);
	hub_unlock(h);
	w->registered = 1;
	worker_title(w);
	if (!quiet)
		notify_room(&w->nt, 0, w->slot);
	else
		notify_link(&w->nt);
	log_debug("%s registered as %s", w->addr, w->name);
	worker_reply(w, "* Hello, %s! You are in lobby. Type /help for "
	    "commands.", w->name);
	if (sl->op)
		worker_reply(w, "* You are the operator.");
	worker_replay(w, &hist, "lobby");
}

static void
worker_chat(struct worker *w, const unsigned char *s, size_t n)
{
	size_t	len;

	if (n == 0)
		return;
	len = text_format(w->text, RECORD_TEXT_MAX, "<%s> %.*s", w->name,
	    (int)n, (const char *)s);
	worker_post(w, REC_CHAT, w->room, -1, w->text, len);
	w->nsent++;
}

/* One complete line from the client, still raw from the framer. */
static void
worker_line(struct worker *w, const unsigned char *raw, size_t rawlen)
{
	size_t	n = text_clean(raw, rawlen, w->clean);

	if (!w->registered) {
		worker_register(w, w->clean, n);
		return;
	}
	/* Kicked: the kick record is in the log already; read it and go. */
	if (atomic_load(&w->hub->slots[w->slot].state) != SLOT_ACTIVE) {
		worker_deliver(w);
		return;
	}
	switch (bucket_take(&w->bucket, now_ms(), w->cf->live.flood_kick)) {
	case BUCKET_PASS:
		break;
	case BUCKET_WARN:
		worker_reply(w, "! rate limit exceeded, slow down");
		return;
	case BUCKET_DROP:
		return;
	case BUCKET_FLOOD:
		log_info("%s from %s disconnected for flooding", w->name,
		    w->addr);
		worker_exit(w, "flooding", "! disconnected: flooding");
	}
	if (n > 0 && w->clean[0] == '/') {
		if (n > 1 && w->clean[1] == '/') {
			worker_chat(w, w->clean + 1, n - 1);
			return;
		}
		w->clean[n] = '\0';
		cmd_run(w, (char *)w->clean, n);
		return;
	}
	worker_chat(w, w->clean, n);
}

/*
 * Why a connection failed, for the room. A vanished peer is found by
 * keepalive probes (ETIMEDOUT) or, with lines in flight, by the user
 * timeout, which reports the last soft error: on a LAN whose host went
 * down that is "unreachable". Either way the peer stopped answering.
 */
static const char *
lost_reason(int err)
{
	if (err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH ||
	    err == EHOSTDOWN)
		return "ping timeout";
	return "connection lost";
}

/*
 * Answers a telnet request where it came in the stream: after the
 * replies to the lines before it, at once, not at the next LF (telnet
 * throws away all output from Ctrl-C until its TIMING-MARK is
 * answered). The answer to IAC DO TIMING-MARK is raw telnet bytes.
 */
static void
worker_telnet(struct worker *w, int request)
{
	static const unsigned char	will_tm[] = { 0xff, 0xfb, 0x06 };

	if (request == LB_REQ_AYT)
		worker_reply(w, "* yes, chatd is here");
	else if (request == LB_REQ_TM &&
	    outbuf_bytes(&w->out, will_tm, sizeof(will_tm)) == -1)
		worker_exit(w, "too slow", NULL);
}

/*
 * Handles the lines read from the client, in order, until none is left
 * or an answer holds the rest back (worker_hold).
 */
static void
worker_feed(struct worker *w)
{
	const unsigned char	*line;
	size_t			 used, len;

	while (w->inoff < w->inlen && w->held_until == 0) {
		switch (linebuf_feed(&w->lb, w->inbuf + w->inoff,
		    w->inlen - w->inoff, &used, &line, &len)) {
		case LB_LINE:
			w->inoff += used;
			worker_line(w, line, len);
			break;
		case LB_TOO_LONG:
			w->inoff += used;
			worker_reply(w, "! line too long (max %u bytes)",
			    w->cf->max_line);
			break;
		case LB_MORE:
		case LB_TELNET:
			w->inoff += used;
			break;
		}
		worker_telnet(w, w->lb.request);
	}
	notify_flush(&w->nt);
}

/* Hands the held first bytes to the line reader, before the inlen read. */
static void
worker_unsniff(struct worker *w)
{
	w->sniffing = 0;
	memmove(w->inbuf + w->nsniff, w->inbuf + w->inoff,
	    w->inlen - w->inoff);
	memcpy(w->inbuf, w->sniff, w->nsniff);
	w->inlen += w->nsniff - w->inoff;
	w->inoff = 0;
	w->nsniff = 0;
}

/*
 * The first bytes from a peer that is no trusted front end: a PROXY
 * header there is answered and the connection closed. Bytes that may
 * begin one ("PROX", or a CRLF that may begin v2's signature) are held
 * back until the next ones tell, or for PROXY_SNIFF_MS at most; returns
 * 1 while they are held.
 */
static int
worker_sniff(struct worker *w)
{
	size_t	take = w->inlen < sizeof(w->sniff) - w->nsniff ? w->inlen :
		    sizeof(w->sniff) - w->nsniff;
	size_t	held = w->nsniff;

	memcpy(w->sniff + held, w->inbuf, take);
	switch (proxy_sniff(w->sniff, held + take)) {
	case PROXY_SNIFF_YES:
		log_info("%s: PROXY header from an untrusted address; closed",
		    w->addr);
		worker_exit(w, NULL, "! PROXY header from an untrusted address");
	case PROXY_SNIFF_MAYBE:
		/* Less than a signature: all of the read is held. */
		w->nsniff += take;
		if (w->sniff_until == 0)
			w->sniff_until = now_ms() + PROXY_SNIFF_MS;
		return 1;
	case PROXY_SNIFF_NO:
		break;
	}
	worker_unsniff(w);
	return 0;
}

/* Bytes that looked like a PROXY header's start, and stayed alone. */
WAKE_PATH static void
worker_sniff_expired(struct worker *w)
{
	if (!w->sniffing || w->sniff_until == 0 || now_ms() < w->sniff_until)
		return;
	w->inoff = w->inlen = 0;
	worker_unsniff(w);
	worker_feed(w);
}

static void
worker_input(struct worker *w)
{
	ssize_t	n;

	/* Room for the held bytes in front while the first ones are read. */
	n = read(IN_FD, w->inbuf, sizeof(w->inbuf) -
	    (w->sniffing ? sizeof(w->sniff) : 0));
	if (n == 0)
		worker_exit(w, "connection closed", NULL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		worker_exit(w, lost_reason(errno), NULL);
	}
	w->inoff = 0;
	w->inlen = (size_t)n;
	if (w->sniffing && worker_sniff(w))
		return;
	worker_feed(w);
}

/* Answers and handles the held input once its time has come. */
WAKE_PATH static void
worker_unhold(struct worker *w)
{
	if (w->held_until == 0 || now_ms() < w->held_until)
		return;
	w->held_until = 0;
	worker_reply(w, "%s", w->held_reply);
	worker_feed(w);
}

/* Sends the MOTD, kept as "* " lines each ended by a newline. */
static void
worker_motd(struct worker *w)
{
	const char	*p = w->cf->live.motd, *end = p + w->cf->live.motd_len;
	const char	*nl;

	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
	    p = nl + 1)
		(void)outbuf_line(&w->out, p, (size_t)(nl - p));
}

/*
 * Claims a slot or tells the client why not and closes. Under inetd we
 * still hold the directory lock from hub_open, so that the last instance
 * leaving cannot remove the segment before our slot is taken.
 */
static void
worker_admit(struct worker *w)
{
	struct hub		*h = w->hub;
	enum hub_refusal	 why;
	const char		*msg;
	size_t			 online;

	if (w->cf->inetd)
		session_bury(h, &w->nt, 0, w->cf->live.oper_first_user);
	hub_lock(h);
	w->slot = hub_claim_locked(h, w->addr, w->cf->live.max_clients,
	    w->cf->live.max_per_addr, w->cf->live.ipv6_prefix, &why);
	if (w->slot != -1)
		w->gen = atomic_load(&h->slots[w->slot].gen);
	online = hub_users(h, RING_ALLROOMS);
	hub_unlock(h);
	if (w->slot == -1) {
		msg = why == HUB_BANNED ? "! you are banned" :
		    why == HUB_FULL ? "! server full" :
		    "! too many connections from your address";
		log_debug("%s refused: %s", w->addr, msg + 2);
		hub_leave_begin(h);
		hub_leave_end(h);
		(void)outbuf_line(&w->out, msg, strlen(msg));
		worker_linger(w);
		_exit(0);
	}
	hub_dir_unlock(h);
	if ((w->rfd = notify_open(h, w->slot, &w->wfd)) == -1) {
		log_warn("wake-up pipe for slot %d", w->slot);
		w->rfd = w->wfd = -1;
		worker_exit(w, NULL, "! server error, try again later");
	}
	worker_self_wake = w->wfd;
	worker_reply(w, "* Welcome to chatd! %zu %s online.", online,
	    plural(online, "user", "users"));
	worker_motd(w);
	worker_prompt(w);
}

static struct worker *
worker_init(struct hub *h, struct config *cf)
{
	struct worker	*w = &mem.w;
	unsigned char	*clean = mem.bufs + cf->max_line;
	char		*reply = (char *)clean +
			    TEXT_CLEAN_MAX((size_t)cf->max_line) + 1;

	memset(w, 0, sizeof(*w));
	w->hub = h;
	w->cf = cf;
	w->slot = -1;
	w->rfd = w->wfd = -1;
	w->connected = time(NULL);
	w->connected_ms = now_ms();
	notify_init(&w->nt, h);
	outbuf_init(&w->out, OUTBUF_MAX, mem.out, sizeof(mem.out));
	linebuf_init_buf(&w->lb, mem.bufs, cf->max_line);
	w->clean = clean;
	w->reply = reply;
	w->text = reply + RECORD_TEXT_MAX;
	w->livegen = cf->livegen;
	(void)hub_fetch(h, &cf->live, &w->livegen);
	log_setverbose(cf->live.verbose);
	bucket_init(&w->bucket, cf->live.rate, cf->live.burst, now_ms());
	peer_address(w->addr, sizeof(w->addr));
	if (mem.early.proxied) {
		log_debug("connection from %s port %u via %s (PROXY v%d)",
		    mem.early.addr, mem.early.sport, w->addr, mem.early.version);
		memcpy(w->addr, mem.early.addr, sizeof(w->addr));
	} else
		log_debug("connection from %s", w->addr);
	/* What came after the header is the client's first input. */
	memcpy(w->inbuf, mem.early.rest, mem.early.len);
	w->inlen = mem.early.len;
	w->sniffing = !mem.early.trusted;
	worker_title(w);
	if (cf->live.keepalive > 0)
		keepalive(cf->live.keepalive);
	set_nonblock(IN_FD);
	set_nonblock(OUT_FD);
	return w;
}

/* The earlier of two timeouts in poll's terms (-1: none). */
WAKE_PATH static int
sooner(int a, int b)
{
	if (a == -1)
		return b;
	if (b == -1)
		return a;
	return a < b ? a : b;
}

/*
 * Milliseconds poll may wait: until the registration deadline, the
 * backstop of the wake-ups we handed to relays, the answer we hold
 * back, or the next try at a journal being compacted, if any.
 */
WAKE_PATH static int
worker_timeout(const struct worker *w)
{
	int	reg = -1;

	if (!w->registered && w->cf->live.reg_timeout > 0)
		reg = ms_until(w->connected_ms +
		    (int64_t)w->cf->live.reg_timeout * 1000);
	return sooner(sooner(sooner(reg, notify_timeout(&w->nt)),
	    w->sniffing ? ms_until(w->sniff_until) : -1),
	    sooner(ms_until(w->held_until), state_waiting() ?
	    STATE_RETRY_MS : -1));
}

/* Takes up settings a SIGHUP (or a newer inetd instance) published. */
WAKE_PATH static void
worker_refresh(struct worker *w)
{
	struct live	*lv = &w->cf->live;
	unsigned	 ka = lv->keepalive;

	if (!hub_fetch(w->hub, lv, &w->livegen))
		return;
	log_setverbose(lv->verbose);
	bucket_set(&w->bucket, lv->rate, lv->burst, now_ms());
	if (lv->keepalive != ka && lv->keepalive > 0)
		keepalive(lv->keepalive);
}

/* Whether the client had its time to choose a name. */
WAKE_PATH static int
worker_reg_expired(const struct worker *w)
{
	return !w->registered && w->cf->live.reg_timeout > 0 &&
	    now_ms() - w->connected_ms >=
	    (int64_t)w->cf->live.reg_timeout * 1000;
}

WAKE_PATH static void
worker_round(struct worker *w)
{
	struct pollfd	pfd[2];
	int		timeout = worker_timeout(w);

	if (worker_reg_expired(w))
		worker_exit(w, NULL, "! registration timeout");
	/* Input held back is not read: the kernel keeps it meanwhile. */
	pfd[0].fd = IN_FD;
	pfd[0].events = w->held_until == 0 ? POLLIN : 0;
	if (outbuf_pending(&w->out) > 0)
		pfd[0].events |= POLLOUT;
	if (pfd[0].events == 0)
		pfd[0].fd = -1;
	pfd[1].fd = w->rfd;
	pfd[1].events = POLLIN;
	if (poll(pfd, 2, timeout) == -1) {
		if (errno == EINTR)
			return;
		fatal("poll");
	}
	if (pfd[1].revents & POLLIN) {
		notify_drain(w->rfd);
		w->woken++;
	}
	worker_refresh(w);
	worker_sniff_expired(w);
	worker_unhold(w);
	if (w->held_until == 0 && pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		worker_input(w);
}

/*
 * SIGUSR1: somebody removed the run directory and the listener made it
 * again. If senders no longer find our pipe there, make it anew; those
 * that hold the old one find it closed and look again (notify_slot).
 * Whatever they posted meanwhile is read by the round that follows.
 */
static void
worker_repipe(struct worker *w)
{
	char	why[PATH_MSG_MAX];

	repipe_requested = 0;
	if (hub_dir_refresh(w->hub, 0, why, sizeof(why)) == -1) {
		log_warnx("%s", why);
		return;
	}
	if (notify_reachable(w->hub, w->slot, w->rfd))
		return;
	notify_forget(&w->nt);
	worker_self_wake = -1;
	close(w->rfd);
	close(w->wfd);
	if ((w->rfd = notify_open(w->hub, w->slot, &w->wfd)) == -1) {
		log_warn("wake-up pipe for slot %d", w->slot);
		w->rfd = w->wfd = -1;
		worker_exit(w, "connection lost",
		    "! server error, try again later");
	}
	worker_self_wake = w->wfd;
	log_debug("made the wake-up pipe of slot %d again", w->slot);
}

WAKE_PATH void
worker_main(struct hub *h, struct config *cf)
{
	struct worker	*w;
	int		 inetd = cf->inetd;

	worker_signals();
	/* Under inetd main() called it, before opening the segment. */
	if (!cf->inetd)
		worker_proxy(cf, h);
	w = worker_init(h, cf);
	worker_admit(w);
	/* The client's bytes that came with a PROXY header. */
	worker_feed(w);
	for (;;) {
		/*
		 * No listener to log chatctl's actions: the first awake does.
		 * (inetd is a copy: cf is in our parent's frame, a page of
		 * stack that a wake-up need not touch.)
		 */
		if (inetd)
			audit_drain(h);
		/* A worker stopped alone is, to its room, a lost connection. */
		if (stop_requested || atomic_load(&h->hdr->shutdown))
			worker_exit(w, "connection lost",
			    "* server shutting down");
		if (repipe_requested)
			worker_repipe(w);
		if (outbuf_flush(&w->out, OUT_FD) == -1)
			worker_exit(w, lost_reason(errno), NULL);
		atomic_store_explicit(&h->slots[w->slot].queued,
		    outbuf_pending(&w->out), memory_order_relaxed);
		worker_round(w);
		worker_deliver(w);
		notify_backstop(&w->nt);
		if (state_waiting())
			(void)state_flush(h);
		if (w->nt.dead) {
			w->nt.dead = 0;
			session_bury(h, &w->nt, 0, cf->live.oper_first_user);
		}
	}
}
