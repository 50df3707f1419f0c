/* Forward-only floating tags: which may move, given the registry's tags. */
#include <criterion/criterion.h>
#include <string.h>

#include "floating.h"
#include "plan.h"
#include "policy.h"

static const struct {
	const char *ref;       /* the release being pushed */
	const char *existing;  /* tags in the registry, space separated */
	const char *moves;     /* per plan tag: m = moves, k = kept */
	const char *blocker;   /* the first blocker reported, or NULL */
} rows[] = {
	{ "refs/tags/v1.2.3", "", "mmmm", NULL },
	{ "refs/tags/v1.2.3", "v1.2.2 v1.2 v1 latest", "mmmm", NULL },
	{ "refs/tags/v1.2.3", "v1.2.3 v1.2 v1 latest", "mmmm", NULL },            /* rerun */
	{ "refs/tags/v1.9.1", "v2.0.0 v2.0 v2 latest v1.9.0", "mmmk", "v2.0.0" },  /* backport */
	{ "refs/tags/v1.9.0", "v1.9.1 v2.0.0", "mkkk", "v1.9.1" },
	{ "refs/tags/v1.2.3", "v1.3.0", "mmkk", "v1.3.0" },
	{ "refs/tags/v1.2.3", "v1.2.4-rc1 staging-v1.2.4-rc1", "mmmm", NULL },   /* prereleases don't count */
	{ "refs/tags/v1.2.3", "v1.2.3_build.9", "mmmm", NULL },                  /* equal precedence */
	{ "refs/tags/v1.2.3", "v1.2.10", "mkkk", "v1.2.10" },                    /* numeric, not lexical */
	{ "refs/tags/v1.2.3", "latest-v9.0.0 v9 v9.0 dev-latest v01.0.0 V9.0.0", "mmmm", NULL },
	{ "refs/tags/v1.2.3+b.1", "v1.2.4_b.0", "mkkk", "v1.2.4_b.0" },
	{ "refs/tags/v2.0.0-rc.2", "staging-v2.0.0-rc.1 staging-latest", "mm", NULL },
	{ "refs/tags/v2.0.0-rc.2", "staging-v2.0.0-rc.10", "mk", "staging-v2.0.0-rc.10" },
	{ "refs/tags/v2.0.0-rc.2", "staging-v2.0.0", "mk", "staging-v2.0.0" },
	{ "refs/tags/v2.0.0-rc.2", "v3.0.0 staging-vx", "mm", NULL },             /* releases don't block staging */
	{ "refs/heads/develop", "dev-latest v9.9.9", "mm", NULL },                /* dev-latest always moves */
};

Test(floating, table)
{
	struct policy *pol = policy_default();
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct plan_input in = { .ref = rows[i].ref, .sha = "0123456789abcdef0123456789abcdef01234567",
					 .service = "svc" };
		struct rp_err err;
		struct plan *p;
		char *copy = strdup(rows[i].existing), *save = NULL, *t;
		char *ex[32];
		size_t n = 0;
		const char *first = NULL;

		for (t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
			ex[n++] = t;
		ex[n] = NULL;
		cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
		cr_assert_eq(p->ntags, strlen(rows[i].moves), "%s", rows[i].ref);
		for (k = 0; k < p->ntags; k++) {
			const char *b = NULL;
			int m = floating_moves(p, &p->tags[k], ex, &b);
			cr_expect_eq(m ? 'm' : 'k', rows[i].moves[k], "%s over [%s]: tag %s",
				     rows[i].ref, rows[i].existing, p->tags[k].name);
			if (!m && first == NULL)
				first = b;
		}
		if (rows[i].blocker == NULL)
			cr_expect_null(first, "row %zu", i);
		else
			cr_expect_str_eq(first, rows[i].blocker, "row %zu", i);
		plan_free(p);
		free(copy);
	}
	policy_free(pol);
}
