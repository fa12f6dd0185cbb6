/*
 * test_virt_console.c - console_text(): what a console chunk may hold
 * (valid UTF-8 without NUL, at most max bytes) whatever the guest printed.
 */
#include <string.h>

#include "common/strbuf.h"
#include "rpc/methods.h"
#include "../../virt/console.h"
#include "testhelp.h"

#define FFFD "\xef\xbf\xbd"

struct tcase {
	const char *desc;
	const char *in;
	size_t len;
	size_t max;
	const char *out;
	size_t taken;
};

#define T(desc, in, max, out, taken) { desc, in, sizeof(in) - 1, max, out, taken }

static const struct tcase cases[] = {
	T("ASCII as is", "hello\r\n", 100, "hello\r\n", 7),
	T("control bytes as is (JSON escapes them)", "\x1b[0m\t", 100, "\x1b[0m\t", 5),
	T("NUL becomes U+FFFD", "a\0b", 100, "a" FFFD "b", 3),
	T("two- three- four-byte characters", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 100,
	  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
	T("a stray continuation byte", "a\x80z", 100, "a" FFFD "z", 3),
	T("overlong forms", "\xc0\xaf\xe0\x80\xaf", 100, FFFD FFFD FFFD FFFD FFFD, 5),
	T("a surrogate", "\xed\xa0\x80", 100, FFFD FFFD FFFD, 3),
	T("past U+10FFFF", "\xf4\x90\x80\x80", 100, FFFD FFFD FFFD FFFD, 4),
	T("bytes that never lead", "\xf5\xff", 100, FFFD FFFD, 2),
	T("a lead byte cut short by ASCII", "\xe2\x82z", 100, FFFD FFFD "z", 3),
	T("a sequence cut by the end of the read waits", "ab\xe2\x82", 100, "ab", 2),
	T("a lone lead byte at the end waits", "ab\xf0", 100, "ab", 2),
	T("max stops before a character", "abc\xe2\x82\xac", 5, "abc", 3),
	T("max counts replacements as three bytes", "a\x80\x80", 6, "a" FFFD, 2),
	T("max of exactly the output", "\xe2\x82\xac", 3, "\xe2\x82\xac", 3),
};

int main(void)
{
	struct strbuf out = STRBUF_INIT;
	static char big[RPC_MAX_CONSOLE_CHUNK];
	size_t i, taken;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];

		strbuf_reset(&out);
		taken = console_text(c->in, c->len, &out, c->max);
		CHECK_MSG(taken == c->taken && out.len == strlen(c->out) &&
			  memcmp(out.buf, c->out, out.len) == 0,
			  "%s (took %zu, want %zu)", c->desc, taken, c->taken);
	}

	/* A whole chunk of invalid bytes: a third of it fits. */
	memset(big, 0xff, sizeof(big));
	strbuf_reset(&out);
	taken = console_text(big, sizeof(big), &out, RPC_MAX_CONSOLE_CHUNK);
	CHECK_INT(taken, RPC_MAX_CONSOLE_CHUNK / 3);
	CHECK_MSG(out.len <= RPC_MAX_CONSOLE_CHUNK, "never more than a chunk");
	strbuf_release(&out);
	return test_done();
}
