/*
 * The examples as written: tests/example-chain.py runs dev-build.yml,
 * release.yml and prune.yml step by step against the test registries and
 * checks that the release's digest is the feature build's.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "helpers.h"

Test(examples, the_chain_as_written, .timeout = 600)
{
	static const char *const pass[] = { "REGPUSH_BIN", "REGPUSH_TEST_TLS", "REGPUSH_TEST_USER",
					     "REGPUSH_TEST_PASS", "REGPUSH_TEST_CA_DIR", "REGPUSH_TEST_COSIGN",
					     "HOME", "TMPDIR" };
	const char *argv[] = { "python3", "tests/example-chain.py", NULL };
	char vars[8][4200];
	const char *envp[9];
	size_t i, n = 0;
	struct proc p;

	for (i = 0; i < 8; i++)
		if (getenv(pass[i]) != NULL) {
			snprintf(vars[n], sizeof(vars[n]), "%s=%s", pass[i], getenv(pass[i]));
			envp[n] = vars[n];
			n++;
		}
	envp[n] = NULL;
	run_prog("python3", argv, envp, &p);
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	proc_free(&p);
}
