/* The engine's own error lines, as a failure message shows them. */
#include <criterion/criterion.h>
#include <string.h>

#include "child.h"
#include "util.h"

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

Test(child, error_lines)
{
	char buf[800];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_str_eq(child_error_lines(rows[i].stderr_text, buf, sizeof(buf)), rows[i].want,
				 "row %zu", i);
}

/* rp_scrub: every form registered goes, longest first, and it ends for a
 * password of stars (the replacement contains the password). */
Test(child, scrub, .timeout = 5)
{
	char s1[] = "login as robot with pa\\\\ss\\\"w0rd failed: cGFcc3Mi (pa\\ss\"w0rd)";
	char s2[] = "* ** *** ****";
	char s3[] = "x";

	cr_assert_eq(rp_secret_add("pa\\ss\"w0rd"), 0);
	cr_assert_eq(rp_secret_add("pa\\\\ss\\\"w0rd"), 0);
	cr_assert_eq(rp_secret_add("cGFcc3Mi"), 0);
	cr_assert_eq(rp_secret_add("pa\\ss\"w0rd"), 0, "a second add is a no-op");
	rp_scrub(s1);
	cr_expect_str_eq(s1, "login as robot with *** failed: *** (***)");
	rp_secrets_free();
	cr_assert_eq(rp_secret_add("*"), 0);
	cr_assert_eq(rp_secret_add("**"), 0);
	cr_assert_eq(rp_secret_add("***"), 0);
	rp_scrub(s2);
	cr_expect_str_eq(s2, "* ** *** ****", "stars for stars: it ends");
	rp_scrub(s3);
	cr_expect_str_eq(s3, "x");
	rp_secrets_free();
}
