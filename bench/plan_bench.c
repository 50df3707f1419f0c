/*
 * plan_bench.c — plans 10,000 refs of mixed kinds in one process and
 * prints the mean time per plan. Linked with the library objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "plan.h"
#include "policy.h"

int
main(int argc, char **argv)
{
	static const char *const refs[] = {
		"refs/tags/v1.2.3", "refs/tags/v2.0.0-rc.1", "refs/heads/develop",
		"refs/heads/feature/Auth Flow", "refs/heads/main", "refs/pull/42/merge",
		"refs/tags/v10.20.30+build.7", "refs/heads/feature/JIRA-1/x",
	};
	long n = 10000;
	struct policy *pol = policy_default();
	struct timespec a, b;
	struct rp_err err;
	long i, ok = 0;
	double ns;

	if (argc > 1)
		n = strtol(argv[1], NULL, 10);
	if (pol == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		const char *ref = refs[i % (long)(sizeof(refs) / sizeof(refs[0]))];
		struct plan_input in = {
			.ref = ref, .sha = "0123456789abcdef0123456789abcdef01234567",
			.event = ref[5] == 'p' ? "pull_request" : "push",
			.service = "gateway", .repository = "acme/gateway", .now = 1800000000,
		};
		struct plan *p;
		if (plan_make(&in, pol, &p, &err) == RP_OK)
			ok++;
		plan_free(p);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	printf("plans: %ld (%ld ok), %.0f ns per plan, %.1f ms total\n", n, ok,
	       ns / (double)n, ns / 1e6);
	policy_free(pol);
	return ok == n ? 0 : 1;
}
