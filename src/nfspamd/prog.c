/*
 * prog: see prog.h.
 */
#include "config.h"

#include <err.h>

#include "prog.h"
#include "util.h"

long
prog_number(const char *flag, const char *s, long min, long max)
{
	long v;

	if (util_parse_long(s, min, max, &v) == -1)
		errx(1, "%s %s: want a whole number from %ld to %ld", flag, s,
		    min, max);
	return v;
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void
prog_loop_close(uv_loop_t *loop)
{
	uv_walk(loop, close_walk, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}
