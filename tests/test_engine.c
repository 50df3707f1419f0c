/* The engine's own error lines, as a failure message shows them. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine.h"

static const struct {
	const char *stderr_text, *want;
} rows[] = {
	/* buildah: the real error, then a line that explains nothing. */
	{ "STEP 1/2: FROM scratch\n"
	  "Error: creating build container: unshare: operation not permitted\n"
	  "(Unable to determine exit status)\n",
	  "Error: creating build container: unshare: operation not permitted" },
	/* skopeo (logrus), the same error twice (a retry), then fatal. */
	{ "time=\"x\" level=error msg=\"writing blob: connection reset\"\n"
	  "time=\"x\" level=error msg=\"writing blob: connection reset\"\n"
	  "time=\"x\" level=fatal msg=\"copying system image: \\\"refused\\\"\"\n",
	  "writing blob: connection reset; copying system image: \"refused\"" },
	/* No error-level line: the last line. */
	{ "Getting image source signatures\nboom\n", "boom" },
	{ "", "" },
	/* Control bytes never reach a log line. */
	{ "Error: bad\x1b[31m\n", "Error: bad\\x1b[31m" },
};

Test(engine, error_lines)
{
	char buf[800];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_str_eq(engine_error_lines(rows[i].stderr_text, buf, sizeof(buf)), rows[i].want,
				 "row %zu", i);
}
