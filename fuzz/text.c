/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes text hygiene and UTF-8 repair (text_clean, text_trim and
 * text_format in text.c) on a line as the framer hands it over. The
 * cleaned text must fit in 3 * n bytes, be valid UTF-8 free of control
 * characters (checked by fuzz.h's own decoder), come out unchanged when
 * cleaned again, and equal the input when that was clean already.
 * Trimming and cutting it to any buffer size must keep it so. Whether a
 * /me of it would forge a notice (notice_forged in notice.c) must not
 * change with case, doubled blanks, blanks at the ends or an invisible
 * character in front.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/notice.h"
#include "../src/text.h"
#include "fuzz.h"

/*
 * Repair only drops characters or replaces them with U+FFFD: every
 * other character of the output is, in order, one of the input's.
 */
static void
check_kept(const unsigned char *in, size_t n, const unsigned char *out,
    size_t m)
{
	const unsigned char	*at = in, *end = in + n, *p;
	size_t			 i = 0, k;

	while (i < m) {
		k = out[i] < 0x80 ? 1 : out[i] < 0xe0 ? 2 : out[i] < 0xf0 ? 3 : 4;
		FUZZ_CHECK(i + k <= m);
		if (!(k == 3 && memcmp(out + i, "\xef\xbf\xbd", 3) == 0)) {
			p = memmem(at, (size_t)(end - at), out + i, k);
			FUZZ_CHECK(p != NULL);
			at = p + k;
		}
		i += k;
	}
}

/* text_format into buffers of several sizes: a clean prefix, NUL-ended. */
static void
check_format(const unsigned char *s, size_t n)
{
	static const size_t	 sizes[] = { 1, 2, 3, 4, 5, 7, 64 };
	char			*buf;
	size_t			 i, size, len;

	for (i = 0; i <= sizeof(sizes) / sizeof(sizes[0]); i++) {
		size = i < sizeof(sizes) / sizeof(sizes[0]) ? sizes[i] :
		    n + 1;
		if ((buf = malloc(size)) == NULL)
			abort();
		len = text_format(buf, size, "%.*s", (int)n, (const char *)s);
		FUZZ_CHECK(len < size && buf[len] == '\0');
		FUZZ_CHECK(len <= n && memcmp(buf, s, len) == 0);
		FUZZ_CHECK(fuzz_clean_utf8((unsigned char *)buf, len));
		/* Only a partial character at the end may be cut. */
		FUZZ_CHECK(len == n || len + 3 >= size - 1);
		free(buf);
	}
}

/* The verdict on s[0..n) and on a variant a reader cannot tell from it. */
static void
check_notice(const unsigned char *s, size_t n)
{
	unsigned char	*v;
	size_t		 i, m = 0;

	if ((v = malloc(2 * n + 8)) == NULL)
		abort();
	memcpy(v, "\xe2\x80\x8b \t", 5);	/* ZERO WIDTH SPACE, blanks */
	m = 5;
	for (i = 0; i < n; i++) {
		v[m++] = s[i] >= 'a' && s[i] <= 'z' ?
		    (unsigned char)(s[i] - 'a' + 'A') : s[i];
		if (s[i] == ' ' || s[i] == '\t')
			v[m++] = ' ';
	}
	v[m++] = '\t';
	FUZZ_CHECK(notice_forged((const char *)s, n) ==
	    notice_forged((const char *)v, m));
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		*out, *again;
	const unsigned char	*t;
	size_t			 n, m, tn, cap;

	/* Exactly 3 * size bytes: ASan sees any write past the promise. */
	cap = size > 0 ? TEXT_CLEAN_MAX(size) : 1;
	if ((out = malloc(cap)) == NULL || (again = malloc(cap)) == NULL)
		abort();
	n = text_clean(data, size, out);
	FUZZ_CHECK(n <= TEXT_CLEAN_MAX(size));
	FUZZ_CHECK(fuzz_clean_utf8(out, n));
	check_kept(data, size, out, n);
	m = text_clean(out, n, again);
	FUZZ_CHECK(m == n && memcmp(out, again, n) == 0);
	if (fuzz_clean_utf8(data, size))
		FUZZ_CHECK(n == size && memcmp(out, data, size) == 0);

	t = out;
	tn = n;
	text_trim(&t, &tn);
	FUZZ_CHECK(t >= out && t + tn <= out + n);
	FUZZ_CHECK(tn == 0 || (t[0] != ' ' && t[0] != '\t' &&
	    t[tn - 1] != ' ' && t[tn - 1] != '\t'));
	FUZZ_CHECK(fuzz_clean_utf8(t, tn));

	check_format(out, n);
	check_notice(out, n);
	(void)notice_forged((const char *)data, size);
	free(out);
	free(again);
	return 0;
}
