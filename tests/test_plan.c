/* plan_make: every row and rule of CONTRACT §3 and §4, table-driven. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "policy.h"

#define SHA "0123456789ABCDEF0123456789abcdef01234567"
#define SHA64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct row {
	const char *name;
	const char *ref, *event;
	long pr;
	const char *test_name;
	const char *sha;
	/* expected */
	rp_status st;
	const char *env;       /* or the exact error message */
	const char *tags;      /* "tag(kind) tag(kind)", kinds: i f p */
	const char *repo;
	const char *version;
	const char *cred;
	const char *retention;
};

static const struct row rows[] = {
	{ "release", "refs/tags/v1.2.3", "push", 0, NULL, SHA, RP_OK, "production",
	  "v1.2.3(i) v1.2(f) v1(f) latest(f)", "quay.io/kubernaut/gateway", "1.2.3", "release", NULL },
	{ "release without v", "refs/tags/1.2.3", "push", 0, NULL, SHA, RP_OK, "production",
	  "v1.2.3(i) v1.2(f) v1(f) latest(f)", "quay.io/kubernaut/gateway", "1.2.3", "release", NULL },
	{ "release event", "refs/tags/v2.0.0", "release", 0, NULL, SHA, RP_OK, "production",
	  "v2.0.0(i) v2.0(f) v2(f) latest(f)", "quay.io/kubernaut/gateway", "2.0.0", "release", NULL },
	{ "release with build", "refs/tags/v1.2.3+build.7", "push", 0, NULL, SHA, RP_OK, "production",
	  "v1.2.3_build.7(i) v1.2(f) v1(f) latest(f)", "quay.io/kubernaut/gateway", "1.2.3+build.7", "release", NULL },
	{ "rc", "refs/tags/v1.2.3-rc1", "push", 0, NULL, SHA, RP_OK, "staging",
	  "staging-v1.2.3-rc1(i) staging-latest(f)", "quay.io/kubernaut/gateway", "1.2.3-rc1", "staging", "90d" },
	{ "rc dotted with build", "refs/tags/v1.0.0-rc.1+b.2", NULL, 0, NULL, SHA, RP_OK, "staging",
	  "staging-v1.0.0-rc.1_b.2(i) staging-latest(f)", "quay.io/kubernaut/gateway", "1.0.0-rc.1+b.2", "staging", "90d" },
	{ "develop", "refs/heads/develop", "push", 0, NULL, SHA, RP_OK, "development",
	  "dev-0123456(p) dev-latest(f)", "quay.io/jordigilh/gateway", NULL, "dev", "30d" },
	{ "feature", "refs/heads/feature/Auth-Flow", "push", 0, NULL, SHA, RP_OK, "development",
	  "dev-0123456(p) feature-auth-flow(f)", "quay.io/jordigilh/gateway", NULL, "dev", "30d" },
	{ "feature nested", "refs/heads/feature/JIRA-1/oauth", "push", 0, NULL, SHA, RP_OK, "development",
	  "dev-0123456(p) feature-jira-1-oauth(f)", "quay.io/jordigilh/gateway", NULL, "dev", "30d" },
	{ "other branch", "refs/heads/main", "push", 0, NULL, SHA, RP_OK, "development",
	  "dev-0123456(p)", "quay.io/jordigilh/gateway", NULL, "dev", "30d" },
	{ "bare feature prefix", "refs/heads/feature/", "push", 0, NULL, SHA, RP_OK, "development",
	  "dev-0123456(p)", "quay.io/jordigilh/gateway", NULL, "dev", "30d" },
	{ "sha256 repo", "refs/heads/main", "push", 0, NULL, SHA64, RP_OK, "development",
	  "dev-aaaaaaa(p)", "quay.io/jordigilh/gateway", NULL, "dev", "30d" },
	{ "pull request", "refs/pull/42/merge", "pull_request", 42, NULL, SHA, RP_OK, "test",
	  "test-pr-42(f)", "quay.io/jordigilh/gateway", NULL, "dev", "14d" },
	{ "pull_request_target", "refs/heads/main", "pull_request_target", 7, NULL, SHA, RP_OK, "test",
	  "test-pr-7(f)", "quay.io/jordigilh/gateway", NULL, "dev", "14d" },
	{ "PR number from ref", "refs/pull/9/merge", "pull_request", 0, NULL, SHA, RP_OK, "test",
	  "test-pr-9(f)", "quay.io/jordigilh/gateway", NULL, "dev", "14d" },
	{ "test name on branch", "refs/heads/develop", "push", 0, "Integration Suite", SHA, RP_OK, "test",
	  "test-integration-suite(f)", "quay.io/jordigilh/gateway", NULL, "dev", "14d" },
	{ "test name on PR", "refs/pull/5/merge", "pull_request", 5, "e2e", SHA, RP_OK, "test",
	  "test-e2e(f)", "quay.io/jordigilh/gateway", NULL, "dev", "14d" },

	{ "tag not semver", "refs/tags/release-1", "push", 0, NULL, SHA, RP_EINPUT,
	  "tag ref 'refs/tags/release-1' is not a SemVer 2.0.0 version: only a lowercase 'v' may precede the version (expected refs/tags/vX.Y.Z or refs/tags/vX.Y.Z-PRE)" },
	{ "tag uppercase V", "refs/tags/V1.2.3", "push", 0, NULL, SHA, RP_EINPUT,
	  "tag ref 'refs/tags/V1.2.3' is not a SemVer 2.0.0 version: only a lowercase 'v' may precede the version (expected refs/tags/vX.Y.Z or refs/tags/vX.Y.Z-PRE)" },
	{ "tag leading zero", "refs/tags/v1.02.3", "push", 0, NULL, SHA, RP_EINPUT,
	  "tag ref 'refs/tags/v1.02.3' is not a SemVer 2.0.0 version: leading zero in a number (expected refs/tags/vX.Y.Z or refs/tags/vX.Y.Z-PRE)" },
	{ "tag two parts", "refs/tags/v1.2", "push", 0, NULL, SHA, RP_EINPUT,
	  "tag ref 'refs/tags/v1.2' is not a SemVer 2.0.0 version: not of the form MAJOR.MINOR.PATCH (expected refs/tags/vX.Y.Z or refs/tags/vX.Y.Z-PRE)" },
	{ "empty ref", "", "push", 0, NULL, SHA, RP_EINPUT,
	  "no git ref: set --ref or GITHUB_REF (e.g. refs/heads/develop or refs/tags/v1.2.3)" },
	{ "remotes ref", "refs/remotes/origin/main", "push", 0, NULL, SHA, RP_EINPUT,
	  "unsupported git ref 'refs/remotes/origin/main': expected refs/heads/<branch>, refs/tags/vX.Y.Z[-PRE] or refs/pull/<n>/merge" },
	{ "notes ref", "refs/notes/commits", "push", 0, NULL, SHA, RP_EINPUT,
	  "unsupported git ref 'refs/notes/commits': expected refs/heads/<branch>, refs/tags/vX.Y.Z[-PRE] or refs/pull/<n>/merge" },
	{ "bare branch name", "develop", "push", 0, NULL, SHA, RP_EINPUT,
	  "unsupported git ref 'develop': expected refs/heads/<branch>, refs/tags/vX.Y.Z[-PRE] or refs/pull/<n>/merge" },
	{ "refs/heads/ alone", "refs/heads/", "push", 0, NULL, SHA, RP_EINPUT,
	  "unsupported git ref 'refs/heads/': expected refs/heads/<branch>, refs/tags/vX.Y.Z[-PRE] or refs/pull/<n>/merge" },
	{ "ref with newline", "refs/tags/v1.2.3\n::error::x", "push", 0, NULL, SHA, RP_EINPUT,
	  "tag ref 'refs/tags/v1.2.3\\x0a::error::x' is not a SemVer 2.0.0 version: not of the form MAJOR.MINOR.PATCH (expected refs/tags/vX.Y.Z or refs/tags/vX.Y.Z-PRE)" },
	{ "short sha", "refs/heads/main", "push", 0, NULL, "abc1234", RP_EINPUT,
	  "invalid commit SHA 'abc1234': expected 40 or 64 hexadecimal digits" },
	{ "non-hex sha", "refs/heads/main", "push", 0, NULL, "g123456789abcdef0123456789abcdef01234567", RP_EINPUT,
	  "invalid commit SHA 'g123456789abcdef0123456789abcdef01234567': expected 40 or 64 hexadecimal digits" },
	{ "all-zero sha (a deleted ref)", "refs/heads/main", "push", 0, NULL,
	  "0000000000000000000000000000000000000000", RP_EINPUT,
	  "invalid commit SHA '0000000000000000000000000000000000000000': the all-zero SHA names no commit (git uses it for a deleted ref)" },
	{ "missing sha", "refs/heads/main", "push", 0, NULL, NULL, RP_EINPUT,
	  "no commit SHA: set --sha or GITHUB_SHA (40 or 64 hex digits)" },
	{ "empty feature slug", "refs/heads/feature/!!!", "push", 0, NULL, SHA, RP_EINPUT,
	  "feature branch name '!!!' has no characters usable in a tag (letters, digits, '.', '_' or '-')" },
	{ "empty test slug", "refs/heads/main", "push", 0, "%%%", SHA, RP_EINPUT,
	  "test name '%%%' has no characters usable in a tag (letters, digits, '.', '_' or '-')" },
	{ "PR without number", "refs/heads/main", "pull_request", 0, NULL, SHA, RP_EINPUT,
	  "pull request number unknown: the event JSON (GITHUB_EVENT_PATH) has no pull_request.number and the ref 'refs/heads/main' is not refs/pull/<n>/merge" },

	{ "tag from pull_request", "refs/tags/v1.2.3", "pull_request", 3, NULL, SHA, RP_EREFUSED,
	  "refused: staging and production are never reached from a pull_request event (event 'pull_request', ref 'refs/tags/v1.2.3')" },
	{ "tag from pull_request_target", "refs/tags/v1.2.3-rc1", "pull_request_target", 3, NULL, SHA, RP_EREFUSED,
	  "refused: staging and production are never reached from a pull_request event (event 'pull_request_target', ref 'refs/tags/v1.2.3-rc1')" },
	{ "test name on tag", "refs/tags/v1.2.3", "push", 0, "smoke", SHA, RP_EREFUSED,
	  "refused: --test-name makes a test image, which is never pushed from a tag ref ('refs/tags/v1.2.3')" },
};

static struct policy *pol;

static void setup(void) { pol = policy_default(); cr_assert_not_null(pol); }
static void teardown(void) { policy_free(pol); }

static void
describe(const struct plan *p, char *buf, size_t n)
{
	size_t i;
	static const char k[] = { 'p', 'i', 'f' };

	buf[0] = '\0';
	for (i = 0; i < p->ntags; i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s(%c)", i ? " " : "",
			 p->tags[i].name, k[p->tags[i].kind]);
}

Test(plan, contract_table, .init = setup, .fini = teardown)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct plan_input in = {
			.ref = r->ref, .sha = r->sha, .event = r->event,
			.pr_number = r->pr, .test_name = r->test_name,
			.service = "gateway", .repository = "acme/Gateway",
			.now = 1800000000,
		};
		struct rp_err err = { 0, "" };
		struct plan *p = NULL;
		rp_status st = plan_make(&in, pol, &p, &err);
		char got[1024];

		cr_expect_eq(st, r->st, "%s: status %d (%s)", r->name, st, err.msg);
		if (st != RP_OK || r->st != RP_OK) {
			if (st != RP_OK)
				cr_expect_str_eq(err.msg, r->env, "%s", r->name);
			cr_expect_null(p, "%s", r->name);
			plan_free(p);
			continue;
		}
		describe(p, got, sizeof(got));
		cr_expect_str_eq(rp_env_name(p->env), r->env, "%s", r->name);
		cr_expect_str_eq(got, r->tags, "%s", r->name);
		cr_expect_str_eq(p->repository, r->repo, "%s", r->name);
		if (r->version == NULL)
			cr_expect_null(p->version, "%s", r->name);
		else
			cr_expect_str_eq(p->version, r->version, "%s", r->name);
		cr_expect_str_eq(p->credentials, r->cred, "%s", r->name);
		if (r->retention == NULL)
			cr_expect_null(p->retention, "%s", r->name);
		else
			cr_expect_str_eq(p->retention, r->retention, "%s", r->name);
		plan_free(p);
	}
}

Test(plan, labels_and_images, .init = setup, .fini = teardown)
{
	struct plan_input in = {
		.ref = "refs/tags/v1.2.3", .sha = SHA, .event = "push",
		.service = "gateway", .repository = "acme/Gateway",
		.server_url = "https://ghe.example.com", .now = 1800000000,
	};
	struct rp_err err;
	struct plan *p;

	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(p->label_revision, "0123456789abcdef0123456789abcdef01234567");
	cr_expect_str_eq(p->label_source, "https://ghe.example.com/acme/Gateway");
	cr_expect_str_eq(p->label_version, "1.2.3");
	cr_expect_str_eq(p->label_created, "2027-01-15T08:00:00Z");
	cr_expect_str_eq(p->tags[3].image, "quay.io/kubernaut/gateway:latest");
	cr_expect_eq(p->tags[1].scope, SCOPE_MINOR);
	cr_expect_eq(p->tags[2].scope, SCOPE_MAJOR);
	cr_expect_eq(p->tags[3].scope, SCOPE_ALL_STABLE);
	plan_free(p);
}

Test(plan, registries_and_service, .init = setup, .fini = teardown)
{
	struct plan_input in = {
		.ref = "refs/heads/develop", .sha = SHA, .service = "gateway",
		.dev_registry = "127.0.0.1:5000/dev", .prod_registry = "127.0.0.1:5000/prod",
	};
	struct rp_err err;
	struct plan *p;

	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(p->repository, "127.0.0.1:5000/dev/gateway");
	cr_expect_str_eq(p->label_version, "dev-0123456");
	cr_expect_null(p->label_source);
	plan_free(p);
	in.ref = "refs/tags/v3.0.0";
	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(p->repository, "127.0.0.1:5000/prod/gateway");
	plan_free(p);

	in.dev_registry = "not a registry";
	in.ref = "refs/heads/develop";
	cr_expect_eq(plan_make(&in, pol, &p, &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "invalid dev-registry 'not a registry': invalid registry host (expected host[:port], e.g. quay.io or 127.0.0.1:5000)");
	in.dev_registry = NULL;
	in.service = "Bad_Service";
	cr_expect_eq(plan_make(&in, pol, &p, &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "invalid service 'Bad_Service': repository name must be lowercase");
	in.service = NULL;
	cr_expect_eq(plan_make(&in, pol, &p, &err), RP_EINPUT);
	cr_expect_str_eq(err.msg, "no service: set --service or GITHUB_REPOSITORY");
}

Test(plan, long_names_are_cut_with_hash, .init = setup, .fini = teardown)
{
	char ref[400], name[300];
	struct plan_input in = { .ref = ref, .sha = SHA, .service = "gateway" };
	struct rp_err err;
	struct plan *p;

	memset(name, 'x', 200);
	name[200] = '\0';
	snprintf(ref, sizeof(ref), "refs/heads/feature/%s", name);
	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	cr_assert_eq(p->ntags, 2);
	cr_expect_eq(strlen(p->tags[1].name), 128);
	cr_expect_eq(strncmp(p->tags[1].name, "feature-xxx", 11), 0);
	cr_expect_eq(p->tags[1].name[119], '-');
	plan_free(p);
}

Test(plan, allowed_workflows, .init = setup, .fini = teardown)
{
	static const char yaml[] =
		"version: 1\nworkflows:\n  production: ['*/.github/workflows/release.yml@*']\n";
	struct plan_input in = {
		.ref = "refs/tags/v1.0.0", .sha = SHA, .service = "gateway",
		.workflow_ref = "acme/gw/.github/workflows/release.yml@refs/tags/v1.0.0",
	};
	struct rp_err err;
	struct plan *p;

	cr_assert_eq(policy_load_string(pol, "p.yaml", yaml, strlen(yaml), &err), RP_OK, "%s", err.msg);
	cr_expect_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	plan_free(p);
	in.workflow_ref = "acme/gw/.github/workflows/dev.yml@refs/tags/v1.0.0";
	cr_expect_eq(plan_make(&in, pol, &p, &err), RP_EREFUSED);
	cr_expect_str_eq(err.msg, "refused: workflow 'acme/gw/.github/workflows/dev.yml@refs/tags/v1.0.0' may not push to production; the policy allows only: */.github/workflows/release.yml@*");
	in.workflow_ref = NULL;
	cr_expect_eq(plan_make(&in, pol, &p, &err), RP_EREFUSED);
	cr_expect_str_eq(err.msg, "refused: the policy lets only named workflows push to production (*/.github/workflows/release.yml@*), and GITHUB_WORKFLOW_REF is not set");
	/* Staging is not restricted by this policy. */
	in.ref = "refs/tags/v1.0.0-rc.1";
	cr_expect_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	plan_free(p);
}

Test(plan, policy_changes_rules, .init = setup, .fini = teardown)
{
	static const char yaml[] =
		"version: 1\nsha-length: 12\nbranches:\n  dev-latest: [main, develop]\n"
		"  feature-prefix: feat/\nretention:\n  development: 2w\n";
	struct plan_input in = { .ref = "refs/heads/main", .sha = SHA, .service = "svc" };
	struct rp_err err;
	struct plan *p;

	cr_assert_eq(policy_load_string(pol, "p.yaml", yaml, strlen(yaml), &err), RP_OK, "%s", err.msg);
	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(p->tags[0].name, "dev-0123456789ab");
	cr_expect_str_eq(p->tags[1].name, "dev-latest");
	cr_expect_str_eq(p->retention, "2w");
	plan_free(p);
	in.ref = "refs/heads/feat/x";
	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(p->tags[1].name, "feature-x");
	plan_free(p);
	in.ref = "refs/heads/feature/x";
	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(p->ntags, 1);
	plan_free(p);
}
