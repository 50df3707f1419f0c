/* Policy loading: the default, overlays, and every error path. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "policy.h"

Test(policy, default_is_dd_registry_001)
{
	struct policy *p = policy_default();

	cr_assert_not_null(p);
	cr_expect_str_eq(p->registry[0], "quay.io/jordigilh");
	cr_expect_str_eq(p->registry[1], "quay.io/kubernaut");
	cr_expect_eq(p->sha_length, 7);
	cr_expect_str_eq(p->dev_latest[0], "develop");
	cr_expect_null(p->dev_latest[1]);
	cr_expect_str_eq(p->feature_prefix, "feature/");
	cr_expect_eq(p->retention[RP_ENV_DEVELOPMENT], 30 * 86400);
	cr_expect_eq(p->retention[RP_ENV_TEST], 14 * 86400);
	cr_expect_eq(p->retention[RP_ENV_STAGING], 90 * 86400);
	cr_expect_eq(p->retention[RP_ENV_PRODUCTION], -1);
	cr_expect_null(p->workflows[RP_ENV_PRODUCTION][0]);
	policy_free(p);
}

Test(policy, dump_round_trips)
{
	struct policy *p = policy_default(), *q = policy_default();
	static const char yaml[] = "version: 1\nworkflows:\n  staging: [\"a\\\"b\", 'c']\n"
		"branches:\n  feature-prefix: 'f\"x/'\n";
	struct rp_err err;
	char *d1, *d2;

	cr_assert_eq(policy_load_string(p, "x", yaml, strlen(yaml), &err), RP_OK, "%s", err.msg);
	d1 = policy_dump(p);
	cr_assert_eq(policy_load_string(q, "dump", d1, strlen(d1), &err), RP_OK, "%s\n%s", err.msg, d1);
	d2 = policy_dump(q);
	cr_expect_str_eq(d1, d2);
	cr_expect_str_eq(q->workflows[RP_ENV_STAGING][0], "a\"b");
	cr_expect_str_eq(q->feature_prefix, "f\"x/");
	free(d1);
	free(d2);
	policy_free(p);
	policy_free(q);
}

static const struct { const char *yaml, *msg; } bad_rows[] = {
	{ "", "p.yaml:1:1: empty policy (expected a mapping with version: 1)" },
	{ "# only a comment\n", "p.yaml:2:1: empty policy (expected a mapping with version: 1)" },
	{ "- a\n", "p.yaml:1:1: the policy: expected a mapping, found a list" },
	{ "version: 2\n", "p.yaml:1:10: version: '2' is not supported (expected 1)" },
	{ "versio: 1\n", "p.yaml:1:1: unknown key 'versio' in the policy (expected one of: version, registries, sha-length, branches, retention, workflows)" },
	{ "version: 1\nversion: 1\n", "p.yaml:2:1: key 'version' repeated in the policy" },
	{ "registries:\n  dev: quay.io/x\n", "p.yaml:2:3: unknown key 'dev' in registries (expected one of: development, production)" },
	{ "registries:\n  development: [a]\n", "p.yaml:2:16: registries.development: expected a string, found a list" },
	{ "registries: quay.io\n", "p.yaml:1:13: registries: expected a mapping, found a scalar" },
	{ "registries:\n  production: Quay.io/Kubernaut\n", "p.yaml:2:15: registries.production: 'Quay.io/Kubernaut': repository name must be lowercase" },
	{ "registries:\n  production: kubernaut\n", "p.yaml:2:15: registries.production: 'kubernaut': a registry must start with a host name containing '.' or ':', or localhost" },
	{ "sha-length: 6\n", "p.yaml:1:13: sha-length: '6' is not a whole number from 7 to 64" },
	{ "sha-length: seven\n", "p.yaml:1:13: sha-length: 'seven' is not a whole number from 7 to 64" },
	{ "sha-length: {a: 1}\n", "p.yaml:1:13: sha-length: expected a string, found a mapping" },
	{ "branches:\n  dev-latest: develop\n", "p.yaml:2:15: branches.dev-latest: expected a list of strings, found a scalar" },
	{ "branches:\n  dev-latest: [[x]]\n", "p.yaml:2:16: branches.dev-latest: expected a string, found a list" },
	{ "branches:\n  dev-latest: ['']\n", "p.yaml:2:16: branches.dev-latest: '' must be 1 to 1024 characters" },
	{ "branches:\n  feature-prefix: ''\n", "p.yaml:2:19: branches.feature-prefix: '' must be a branch-name prefix of 1 to 255 characters without '*'" },
	{ "retention:\n  development: 30 days\n", "p.yaml:2:16: retention.development: '30 days' is not a duration (expected <n>h, <n>d or <n>w with n from 1 to 100000, or never)" },
	{ "retention:\n  test: -1d\n", "p.yaml:2:9: retention.test: '-1d' is not a duration (expected <n>h, <n>d or <n>w with n from 1 to 100000, or never)" },
	{ "retention:\n  test: 0d\n", "p.yaml:2:9: retention.test: '0d' is not a duration (expected <n>h, <n>d or <n>w with n from 1 to 100000, or never)" },
	{ "retention:\n  production: 30d\n", "p.yaml:2:15: retention.production: production images are kept forever; only 'never' is allowed" },
	{ "retention:\n  prod: never\n", "p.yaml:2:3: unknown key 'prod' in retention (expected one of: development, test, staging, production)" },
	{ "workflows:\n  development: []\n", "p.yaml:2:3: unknown key 'development' in workflows (expected one of: staging, production)" },
	{ "workflows:\n  production: ~\n", "p.yaml:2:15: workflows.production: expected a list of strings, found a scalar" },
	{ "version: &x 1\n", "p.yaml:1:10: anchors are not allowed in a policy" },
	{ "version: 1\nbranches:\n  dev-latest: &l [a]\n", "p.yaml:3:15: anchors are not allowed in a policy" },
	{ "version: *x\n", "p.yaml:1:10: aliases are not allowed in a policy" },
	{ "version: 1\n---\nversion: 1\n", "p.yaml:2:1: a policy file holds one YAML document" },
	{ "version: 1\nbranches:\n  dev-latest: [a\n", "p.yaml:4:1: did not find expected ',' or ']'" },
	{ "version: \"1\n", "p.yaml:2:1: found unexpected end of stream" },
	{ "\tversion: 1\n", "p.yaml:1:1: found character that cannot start any token" },
	{ "version: \xff\n", "p.yaml:1:1: invalid leading UTF-8 octet" },
	{ "version: \"a\\0b\"\n", "p.yaml:1:10: version: NUL byte in value" },
};

Test(policy, errors_with_location)
{
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct policy *p = policy_default();
		struct rp_err err = { 0, "" };
		char *before = policy_dump(p), *after;
		rp_status st = policy_load_string(p, "p.yaml", bad_rows[i].yaml,
						  strlen(bad_rows[i].yaml), &err);
		cr_expect_eq(st, RP_EINPUT, "row %zu: %s", i, bad_rows[i].yaml);
		cr_expect_str_eq(err.msg, bad_rows[i].msg, "row %zu", i);
		/* A bad file changes nothing. */
		after = policy_dump(p);
		cr_expect_str_eq(before, after, "row %zu", i);
		free(before);
		free(after);
		policy_free(p);
	}
}

Test(policy, alias_bomb_is_refused_early)
{
	struct sbuf sb;
	struct policy *p = policy_default();
	struct rp_err err;
	char *y;
	int i;

	sbuf_init(&sb, 1 << 20);
	sbuf_puts(&sb, "a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 30; i++)
		sbuf_printf(&sb, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
			    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	y = sbuf_take(&sb);
	/* The classic bomb stops at its first key, long before any expansion. */
	cr_expect_eq(policy_load_string(p, "bomb.yaml", y, strlen(y), &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "bomb.yaml:1:1: unknown key 'a0' in the policy (expected one of: version, registries, sha-length, branches, retention, workflows)");
	free(y);
	/* Under keys the schema accepts, the anchor itself is refused. */
	sbuf_init(&sb, 1 << 20);
	sbuf_puts(&sb, "version: 1\nworkflows:\n  staging: &a0 [x, x, x, x, x, x, x, x]\n  production: [");
	for (i = 0; i < 1000; i++)
		sbuf_puts(&sb, i ? ", *a0" : "*a0");
	sbuf_puts(&sb, "]\n");
	y = sbuf_take(&sb);
	cr_expect_eq(policy_load_string(p, "bomb.yaml", y, strlen(y), &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "bomb.yaml:3:12: anchors are not allowed in a policy");
	free(y);
	policy_free(p);
}

Test(policy, deep_nesting_is_refused)
{
	struct policy *p = policy_default();
	struct rp_err err;
	size_t n = 100000;
	char *y = malloc(2 * n + 20);

	strcpy(y, "version: ");
	memset(y + 9, '[', n);
	memset(y + 9 + n, ']', n);
	y[9 + 2 * n] = '\0';
	cr_expect_eq(policy_load_string(p, "deep.yaml", y, strlen(y), &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "deep.yaml:1:10: version: expected a string, found a list");
	free(y);
	policy_free(p);
}

Test(policy, files_that_are_not_policies)
{
	struct policy *p = policy_default();
	struct rp_err err;
	char *dir = tmpdir_new(), *path, *big;

	cr_expect_eq(policy_load_file(p, dir, &err), RP_EINPUT);
	cr_expect(strstr(err.msg, "is not a regular file") != NULL, "%s", err.msg);
	cr_expect_eq(policy_load_file(p, "/dev/zero", &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "policy file /dev/zero is not a regular file");
	cr_expect_eq(policy_load_file(p, "/nonexistent/p.yaml", &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "cannot open policy file /nonexistent/p.yaml: No such file or directory");
	big = malloc(POLICY_FILE_MAX + 2);
	memset(big, '#', POLICY_FILE_MAX + 1);
	big[POLICY_FILE_MAX + 1] = '\0';
	path = write_file(dir, "big.yaml", big);
	cr_expect_eq(policy_load_file(p, path, &err), RP_EINPUT);
	cr_expect(strstr(err.msg, "is too large (1048577 bytes; at most 1048576)") != NULL, "%s", err.msg);
	free(path);
	path = write_file(dir, "ok.yaml", "version: 1\nsha-length: 9\n");
	cr_expect_eq(policy_load_file(p, path, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(p->sha_length, 9);
	free(path);
	free(big);
	rm_rf(dir);
	free(dir);
	policy_free(p);
}

Test(policy, durations)
{
	int64_t s;

	cr_expect_eq(policy_parse_duration("12h", &s), 0);
	cr_expect_eq(s, 12 * 3600);
	cr_expect_eq(policy_parse_duration("2w", &s), 0);
	cr_expect_eq(s, 14 * 86400);
	cr_expect_eq(policy_parse_duration("never", &s), 0);
	cr_expect_eq(s, -1);
	cr_expect_eq(policy_parse_duration("d", &s), -1);
	cr_expect_eq(policy_parse_duration("1y", &s), -1);
	cr_expect_eq(policy_parse_duration("+1d", &s), -1);
	cr_expect_eq(policy_parse_duration("100001d", &s), -1);
}
