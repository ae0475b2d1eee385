/* SPDX-License-Identifier: ISC */
/*
 * Line framing and text hygiene for bytes received from clients.  The
 * linebuf functions cut a raw byte stream into LF-terminated lines, strip
 * telnet negotiation (reporting the two requests chatd answers) and
 * refuse overlong lines; text_clean then turns a
 * line into valid UTF-8 without control characters.  Nothing here does I/O
 * or keeps global state, so every function can be fed arbitrary bytes.
 */

#ifndef TEXT_H
#define TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum lb_event {
	LB_MORE,	/* all input consumed, no complete line yet */
	LB_LINE,	/* a complete line is in *line and *linelen (telnet-stripped, LF and not yet hygiene-cleaned) */
	LB_TOO_LONG,	/* the current line passed max raw bytes; its rest will be discarded */
	LB_TELNET	/* a telnet request to answer ended here: see lb->request */
};

/* The telnet requests chatd answers (PROTOCOL.md, Transport). */
enum lb_request {
	LB_REQ_NONE,
	LB_REQ_TM,	/* IAC DO TIMING-MARK: answer IAC WILL TIMING-MARK */
	LB_REQ_AYT	/* IAC AYT (Are You There): answer with a line */
};

struct linebuf {
	unsigned char	*buf;	/* max bytes, from linebuf_init */
	size_t		 max;	/* longest accepted line, raw bytes before LF */
	size_t		 raw;	/* raw bytes of the current line so far */
	size_t		 len;	/* bytes kept in buf after telnet stripping */
	int		 tstate;	/* telnet parser state */
	int		 discard;	/* skipping the rest of an overlong line */
	int		 request;	/* enum lb_request, set by the last linebuf_feed */
};

void		 linebuf_init_buf(struct linebuf *, unsigned char *, size_t);
int		 linebuf_init(struct linebuf *, size_t max);	/* 0, or -1 with errno (ENOMEM, or EINVAL when max is 0) */
void		 linebuf_free(struct linebuf *);
/*
 * Consumes bytes from in[0..n) until a line completes or a too-long event
 * happens, or the input runs out.  *used receives how many bytes were
 * consumed (at least one whenever n is not 0); call again with in + *used,
 * n - *used for the rest.  For LB_LINE, *line points into lb->buf and stays
 * valid until the next call; the LF is not included (the CR, if any, is
 * still there; text_clean removes it).  For the other events *line is NULL
 * and *linelen is 0.
 *
 * A telnet request (IAC DO TIMING-MARK, IAC AYT) ends the call at its last
 * byte with LB_TELNET, even in the middle of a line or of an overlong
 * line's discarded rest, so that the caller answers it in stream order,
 * without waiting for an LF.  lb->request then says which request it was;
 * it is LB_REQ_NONE after every other call, except that the byte which
 * makes a line too long may end a request too: then LB_TOO_LONG comes
 * with lb->request set, and the caller answers both, in that order.
 */
enum lb_event	 linebuf_feed(struct linebuf *, const unsigned char *in, size_t n, size_t *used,
		    const unsigned char **line, size_t *linelen);

/*
 * Repairs UTF-8 (U+FFFD per maximal invalid subpart) and removes control
 * characters as described.  out must have room for 3 * n bytes
 * (TEXT_CLEAN_MAX(n)); returns the cleaned length.  Never writes past 3 * n.
 */
#define TEXT_CLEAN_MAX(n)	(3 * (n))
size_t		 text_clean(const unsigned char *in, size_t n, unsigned char *out);

/* Trims leading and trailing spaces and tabs in place (returns the new start and length through pointers). */
void		 text_trim(const unsigned char **s, size_t *n);

/* snprintf that returns the stored length, cut at a character boundary. */
size_t		 text_format(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
size_t		 text_vformat(char *, size_t, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

const char	*plural(uint64_t, const char *, const char *);
int		 text_key(char *, size_t, const char *, size_t);
const char	*text_name_problem(const char *, size_t);
const char	*text_room_problem(const char *, size_t);
int		 text_irc_command(const char *, size_t);
int		 text_same_secret(const char *, const char *);

#endif /* TEXT_H */
