/* SemVer 2.0.0: the grammar's valid and invalid forms, and precedence. */
#include <criterion/criterion.h>
#include <string.h>

#include "semver.h"

static const struct {
	const char *in;
	semver_err want;
	unsigned long long maj, min, pat;
	const char *pre, *build;
} parse_rows[] = {
	{ "1.2.3", SEMVER_OK, 1, 2, 3, NULL, NULL },
	{ "v1.2.3", SEMVER_OK, 1, 2, 3, NULL, NULL },
	{ "0.0.0", SEMVER_OK, 0, 0, 0, NULL, NULL },
	{ "10.20.30", SEMVER_OK, 10, 20, 30, NULL, NULL },
	{ "1.1.2-prerelease+meta", SEMVER_OK, 1, 1, 2, "prerelease", "meta" },
	{ "1.0.0-alpha", SEMVER_OK, 1, 0, 0, "alpha", NULL },
	{ "1.0.0-alpha.beta.1", SEMVER_OK, 1, 0, 0, "alpha.beta.1", NULL },
	{ "1.0.0-alpha0.valid", SEMVER_OK, 1, 0, 0, "alpha0.valid", NULL },
	{ "1.0.0-0A.is.legal", SEMVER_OK, 1, 0, 0, "0A.is.legal", NULL },
	{ "1.0.0-rc.1+build.1", SEMVER_OK, 1, 0, 0, "rc.1", "build.1" },
	{ "1.0.0+0.build.1-rc.10000aaa-kk-0.1", SEMVER_OK, 1, 0, 0, NULL, "0.build.1-rc.10000aaa-kk-0.1" },
	{ "1.0.0+21AF26D3----117B344092BD", SEMVER_OK, 1, 0, 0, NULL, "21AF26D3----117B344092BD" },
	{ "1.2.3----RC-SNAPSHOT.12.9.1--.12+788", SEMVER_OK, 1, 2, 3, "---RC-SNAPSHOT.12.9.1--.12", "788" },
	{ "1.0.0-x-y-z.--", SEMVER_OK, 1, 0, 0, "x-y-z.--", NULL },
	{ "1.0.0+001", SEMVER_OK, 1, 0, 0, NULL, "001" },
	{ "9223372036854775807.0.0", SEMVER_OK, 9223372036854775807ULL, 0, 0, NULL, NULL },
	{ "", SEMVER_EMPTY, 0, 0, 0, NULL, NULL },
	{ "V1.2.3", SEMVER_PREFIX, 0, 0, 0, NULL, NULL },
	{ "vv1.2.3", SEMVER_PREFIX, 0, 0, 0, NULL, NULL },
	{ "release-1.2.3", SEMVER_PREFIX, 0, 0, 0, NULL, NULL },
	{ "v", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "1", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "1.2", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "1.2.3.4", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "1.2.", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "1..3", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "1.2.3 ", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "1.2.x", SEMVER_CORE, 0, 0, 0, NULL, NULL },
	{ "01.1.1", SEMVER_LEADING_ZERO, 0, 0, 0, NULL, NULL },
	{ "1.01.1", SEMVER_LEADING_ZERO, 0, 0, 0, NULL, NULL },
	{ "1.1.01", SEMVER_LEADING_ZERO, 0, 0, 0, NULL, NULL },
	{ "9223372036854775808.0.0", SEMVER_TOO_LARGE, 0, 0, 0, NULL, NULL },
	{ "99999999999999999999999.0.0", SEMVER_TOO_LARGE, 0, 0, 0, NULL, NULL },
	{ "1.2.3-0123", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.2.3-0123.0123", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.0.0-alpha_beta", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.0.0-", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.0.0-alpha..", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.0.0-alpha..1", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.0.0-.alpha", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.2.3-rc\xc3\xa9", SEMVER_PRERELEASE, 0, 0, 0, NULL, NULL },
	{ "1.2.3+", SEMVER_BUILD, 0, 0, 0, NULL, NULL },
	{ "1.2.3+a..b", SEMVER_BUILD, 0, 0, 0, NULL, NULL },
	{ "1.2.3+a+b", SEMVER_BUILD, 0, 0, 0, NULL, NULL },
	{ "1.2.3-rc+", SEMVER_BUILD, 0, 0, 0, NULL, NULL },
	{ "+invalid", SEMVER_PREFIX, 0, 0, 0, NULL, NULL },
	{ "-1.2.3", SEMVER_PREFIX, 0, 0, 0, NULL, NULL },
};

Test(semver, parse_table)
{
	size_t i;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct semver v;
		semver_err e = semver_parse(parse_rows[i].in, 1, &v);
		cr_expect_eq(e, parse_rows[i].want, "%s: got %s, want %s",
			     parse_rows[i].in, semver_strerror(e),
			     semver_strerror(parse_rows[i].want));
		if (e == SEMVER_OK && parse_rows[i].want == SEMVER_OK) {
			cr_expect_eq(v.major, parse_rows[i].maj, "%s", parse_rows[i].in);
			cr_expect_eq(v.minor, parse_rows[i].min, "%s", parse_rows[i].in);
			cr_expect_eq(v.patch, parse_rows[i].pat, "%s", parse_rows[i].in);
			if (parse_rows[i].pre == NULL)
				cr_expect_null(v.pre, "%s", parse_rows[i].in);
			else
				cr_expect_str_eq(v.pre, parse_rows[i].pre);
			if (parse_rows[i].build == NULL)
				cr_expect_null(v.build, "%s", parse_rows[i].in);
			else
				cr_expect_str_eq(v.build, parse_rows[i].build);
		}
		semver_free(&v);
	}
}

Test(semver, v_prefix_only_when_allowed)
{
	struct semver v;

	cr_expect_eq(semver_parse("v1.2.3", 0, &v), SEMVER_PREFIX);
	cr_expect_eq(semver_parse("1.2.3", 0, &v), SEMVER_OK);
	semver_free(&v);
}

/* Spec §11: each is lower than the next. */
static const char *const chain[] = {
	"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
	"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1",
	"1.1.0-0", "1.1.0", "2.0.0", "2.1.0", "2.1.1", "10.0.0",
};

Test(semver, precedence_chain)
{
	size_t n = sizeof(chain) / sizeof(chain[0]), i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			struct semver a, b;
			cr_assert_eq(semver_parse(chain[i], 0, &a), SEMVER_OK);
			cr_assert_eq(semver_parse(chain[j], 0, &b), SEMVER_OK);
			int c = semver_cmp(&a, &b);
			if (i < j)
				cr_expect_lt(c, 0, "%s < %s", chain[i], chain[j]);
			else if (i > j)
				cr_expect_gt(c, 0, "%s > %s", chain[i], chain[j]);
			else
				cr_expect_eq(c, 0, "%s == %s", chain[i], chain[j]);
			semver_free(&a);
			semver_free(&b);
		}
	}
}

static const struct { const char *a, *b; int want; } cmp_rows[] = {
	{ "1.0.0+build.1", "1.0.0+build.2", 0 },     /* build ignored */
	{ "1.0.0-rc.1+x", "1.0.0-rc.1", 0 },
	{ "1.0.0-2", "1.0.0-10", -1 },               /* numeric, not lexical */
	{ "1.0.0-99999999999999999999", "1.0.0-100000000000000000000", -1 },
	{ "1.0.0-1", "1.0.0-a", -1 },                /* numeric < alphanumeric */
	{ "1.0.0-A", "1.0.0-a", -1 },                /* ASCII order */
	{ "1.0.0-a.b", "1.0.0-a", 1 },               /* more fields higher */
	{ "1.0.0-a-b", "1.0.0-a", 1 },
	{ "1.9.1", "2.0.0", -1 },
	{ "1.10.0", "1.9.9", 1 },
};

Test(semver, compare_table)
{
	size_t i;

	for (i = 0; i < sizeof(cmp_rows) / sizeof(cmp_rows[0]); i++) {
		struct semver a, b;
		cr_assert_eq(semver_parse(cmp_rows[i].a, 0, &a), SEMVER_OK, "%s", cmp_rows[i].a);
		cr_assert_eq(semver_parse(cmp_rows[i].b, 0, &b), SEMVER_OK, "%s", cmp_rows[i].b);
		int c = semver_cmp(&a, &b);
		c = (c > 0) - (c < 0);
		cr_expect_eq(c, cmp_rows[i].want, "%s vs %s: %d", cmp_rows[i].a, cmp_rows[i].b, c);
		cr_expect_eq(-((semver_cmp(&b, &a) > 0) - (semver_cmp(&b, &a) < 0)), cmp_rows[i].want);
		semver_free(&a);
		semver_free(&b);
	}
}
