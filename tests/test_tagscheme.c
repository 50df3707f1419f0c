/* tagscheme: tag names made and read back, from one table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgref.h"
#include "policy.h"
#include "prune.h"
#include "tagscheme.h"
#include "util.h"

/* A policy of sha-length n (the built-in one otherwise). */
static struct policy *
with_sha_length(int n)
{
	struct policy *pol = policy_default();
	char yaml[64];
	struct rp_err err;

	cr_assert_not_null(pol);
	snprintf(yaml, sizeof(yaml), "version: 1\nsha-length: %d\n", n);
	cr_assert_eq(policy_load_string(pol, "t.yaml", yaml, strlen(yaml), &err), RP_OK, "%s", err.msg);
	return pol;
}

Test(tagscheme, read)
{
	static const struct {
		const char *tag;
		int sha_length;
		enum tn_kind kind;
		unsigned long long major, minor, patch;
		const char *pre, *build;
	} rows[] = {
		{ "dev-0123abc", 7, TN_DEV, 0, 0, 0, NULL, NULL },
		{ "dev-0123ABC", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "dev-0123abcd", 7, TN_OTHER, 0, 0, 0, NULL, NULL },   /* sha-length is 7 */
		{ "dev-0123abcd", 8, TN_DEV, 0, 0, 0, NULL, NULL },
		{ "dev-0123abc", 8, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "dev-0123456789abcdef0123456789abcdef01234567", 50, TN_DEV, 0, 0, 0, NULL, NULL },
		{ "dev-", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "dev-xyzxyzx", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "dev-latest", 7, TN_DEV_LATEST, 0, 0, 0, NULL, NULL },
		{ "feature-login", 7, TN_FEATURE, 0, 0, 0, NULL, NULL },
		{ "feature-jira-123-new-thing", 7, TN_FEATURE, 0, 0, 0, NULL, NULL },
		{ "feature-Login", 7, TN_OTHER, 0, 0, 0, NULL, NULL },  /* never made: slugs are lowercase */
		{ "feature-a--b", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "feature-", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "test-pr-5", 7, TN_TEST, 0, 0, 0, NULL, NULL },
		{ "test-", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "test-.x", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "staging-v1.2.3-rc.1", 7, TN_CANDIDATE, 1, 2, 3, "rc.1", NULL },
		{ "staging-v1.2.3-rc.1_b.7", 7, TN_CANDIDATE, 1, 2, 3, "rc.1", "b.7" },
		{ "staging-v1.2.3", 7, TN_CANDIDATE, 1, 2, 3, NULL, NULL },  /* above every -PRE */
		{ "staging-v01.2.3-rc1", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "staging-latest", 7, TN_STAGING_LATEST, 0, 0, 0, NULL, NULL },
		{ "v1.2.3", 7, TN_RELEASE, 1, 2, 3, NULL, NULL },
		{ "v1.2.3_build.5", 7, TN_RELEASE, 1, 2, 3, NULL, "build.5" },
		{ "v1.2.3-rc.1", 7, TN_OTHER, 0, 0, 0, NULL, NULL },     /* candidates live under staging- */
		{ "v1.2.3+b.1", 7, TN_OTHER, 0, 0, 0, NULL, NULL },      /* no tag holds a '+' */
		{ "staging-v1.2.3-rc.1+b", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "v1.2", 7, TN_MINOR, 1, 2, 0, NULL, NULL },
		{ "v10", 7, TN_MAJOR, 10, 0, 0, NULL, NULL },
		{ "v01", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "v1.", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "v1.2.", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "v99999999999999999999", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "vnext", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "latest", 7, TN_LATEST, 0, 0, 0, NULL, NULL },
		{ "nightly", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
		{ "sha256-0123.sig", 7, TN_OTHER, 0, 0, 0, NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy *pol = with_sha_length(rows[i].sha_length);
		struct tn_name n;
		int k = tagscheme_read(pol, rows[i].tag, &n);

		cr_expect_eq(k, (int)rows[i].kind, "%s: kind %d, want %d", rows[i].tag, k, rows[i].kind);
		cr_expect_eq(n.kind, rows[i].kind, "%s", rows[i].tag);
		cr_expect_eq(n.v.major, rows[i].major, "%s: major", rows[i].tag);
		cr_expect_eq(n.v.minor, rows[i].minor, "%s: minor", rows[i].tag);
		cr_expect_eq(n.v.patch, rows[i].patch, "%s: patch", rows[i].tag);
		if (rows[i].pre == NULL)
			cr_expect_null(n.v.pre, "%s", rows[i].tag);
		else
			cr_expect_str_eq(n.v.pre, rows[i].pre, "%s", rows[i].tag);
		if (rows[i].build == NULL)
			cr_expect_null(n.v.build, "%s", rows[i].tag);
		else
			cr_expect_str_eq(n.v.build, rows[i].build, "%s", rows[i].tag);
		tagscheme_name_free(&n);
		policy_free(pol);
	}
}

/* What is made reads back as its own kind and version. */
Test(tagscheme, made_names_read_back)
{
	static const char *const versions[] = { "1.2.3", "1.2.3+build.5", "0.0.1-rc.1",
						"2.0.0-rc.1+exp.sha.5114f85", "10.20.30" };
	static const enum tn_kind kinds[] = { TN_CANDIDATE, TN_RELEASE, TN_MINOR, TN_MAJOR,
					      TN_LATEST, TN_STAGING_LATEST, TN_DEV_LATEST };
	struct policy *pol = with_sha_length(12);
	size_t i, j;
	char *t;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct semver v;
		cr_assert_eq(semver_parse(versions[i], 0, &v), SEMVER_OK);
		for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
			struct tn_name n;
			enum tn_kind want = kinds[j];
			if ((kinds[j] == TN_CANDIDATE) != (v.pre != NULL) &&
			    (kinds[j] == TN_CANDIDATE || kinds[j] == TN_RELEASE))
				continue;
			t = tagscheme_version(kinds[j], &v);
			cr_assert_not_null(t);
			cr_expect(imgref_tag_valid(t), "%s", t);
			cr_expect_eq(tagscheme_read(pol, t, &n), (int)want, "%s", t);
			if (want == TN_CANDIDATE || want == TN_RELEASE) {
				/* Equal precedence and the same build metadata. */
				cr_expect_eq(semver_cmp(&n.v, &v), 0, "%s", t);
				cr_expect_str_eq(n.v.build != NULL ? n.v.build : "",
						 v.build != NULL ? v.build : "", "%s", t);
			}
			tagscheme_name_free(&n);
			free(t);
		}
		semver_free(&v);
	}
	t = tagscheme_dev(pol, "0123456789ABCDEF0123456789abcdef01234567");
	cr_expect_str_eq(t, "dev-0123456789ab");
	cr_expect_eq(tagscheme_read(pol, t, NULL), TN_DEV);
	free(t);
	t = tagscheme_slug("Feature/JIRA-1 Login!");
	cr_expect_str_eq(t, "feature-jira-1-login");
	free(t);
	cr_expect_null(tagscheme_version(TN_DEV, NULL));
	/* A staging-vX.Y.Z without a prerelease is made back as read. */
	{
		struct tn_name n;
		cr_assert_eq(tagscheme_read(pol, "staging-v2.0.0", &n), TN_CANDIDATE);
		t = tagscheme_version(TN_CANDIDATE, &n.v);
		cr_expect_str_eq(t, "staging-v2.0.0");
		free(t);
		tagscheme_name_free(&n);
	}
	policy_free(pol);
}

static int
any_of_two(const struct semver *v, const void *ctx)
{
	(void)ctx;
	return v->major == 2;
}

Test(tagscheme, newest)
{
	char *tags[] = { "v1.9.0", "v2.0.0", "v2.1.0", "v2.1.0_b.1", "v3.0.0", "staging-v2.2.0-rc.1",
			 "v2.1", "latest", "v2.0.10", NULL };
	char *none[] = { "nightly", NULL };
	const char *best, *tie;

	cr_assert_eq(tagscheme_newest(tags, TN_RELEASE, NULL, NULL, &best, &tie), 0);
	cr_expect_str_eq(best, "v3.0.0");
	cr_expect_null(tie);
	cr_assert_eq(tagscheme_newest(tags, TN_RELEASE, any_of_two, NULL, &best, &tie), 0);
	cr_expect_str_eq(best, "v2.1.0");
	cr_expect_str_eq(tie, "v2.1.0_b.1");
	cr_assert_eq(tagscheme_newest(tags, TN_CANDIDATE, NULL, NULL, &best, NULL), 0);
	cr_expect_str_eq(best, "staging-v2.2.0-rc.1");
	cr_assert_eq(tagscheme_newest(none, TN_RELEASE, NULL, NULL, &best, &tie), 0);
	cr_expect_null(best);
	cr_expect_null(tie);
}

/* prune's classes follow the policy's sha-length. */
Test(tagscheme, prune_classes)
{
	static const struct { const char *tag; int sha_length, cls; } rows[] = {
		{ "dev-0123abc", 7, RP_ENV_DEVELOPMENT }, { "dev-0123abc", 8, -1 },
		{ "dev-0123abcd", 8, RP_ENV_DEVELOPMENT }, { "dev-0123ABC", 7, -1 },
		{ "dev-latest", 7, RP_ENV_PRODUCTION }, { "dev-", 7, -1 }, { "dev-xyz", 7, -1 },
		{ "feature-login", 7, RP_ENV_DEVELOPMENT }, { "feature-Login", 7, -1 },
		{ "test-pr-5", 7, RP_ENV_TEST }, { "test-", 7, -1 },
		{ "staging-v1.2.3-rc.1", 7, RP_ENV_STAGING }, { "staging-latest", 7, RP_ENV_PRODUCTION },
		{ "latest", 7, RP_ENV_PRODUCTION }, { "v1.2.3", 7, RP_ENV_PRODUCTION },
		{ "v1.2", 7, RP_ENV_PRODUCTION }, { "v1", 7, RP_ENV_PRODUCTION }, { "vnext", 7, -1 },
		{ "nightly", 7, -1 }, { "stable", 7, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy *pol = with_sha_length(rows[i].sha_length);
		cr_expect_eq(prune_class(pol, rows[i].tag), rows[i].cls, "%s (sha-length %d)",
			     rows[i].tag, rows[i].sha_length);
		policy_free(pol);
	}
}

static const struct { const char *in, *want; } slug_rows[] = {
	{ "auth", "auth" },
	{ "Auth_Flow", "auth_flow" },
	{ "JIRA-123/new thing!", "jira-123-new-thing" },
	{ "--a--b--", "a-b" },
	{ "..x..", "x" },
	{ ".-.x.-.", "x" },
	{ "a///b", "a-b" },
	{ "a.-b", "a.-b" },
	{ "caf\xc3\xa9 au lait", "caf-au-lait" },
	{ "x\n::set-output name=a::b", "x-set-output-name-a-b" },
	{ "v1.2.3", "v1.2.3" },
	{ "___", "___" },
	{ "!!!", "" },
	{ "", "" },
	{ "-", "" },
	{ "...", "" },
};

Test(slug, table)
{
	size_t i;

	for (i = 0; i < sizeof(slug_rows) / sizeof(slug_rows[0]); i++) {
		char *s = tagscheme_slug(slug_rows[i].in);
		cr_assert_not_null(s);
		cr_expect_str_eq(s, slug_rows[i].want, "slug('%s')", slug_rows[i].in);
		free(s);
	}
}

Test(slug, fit_long_tags)
{
	char name[400], hex[65], want[140];
	char *a, *b;

	memset(name, 'a', 300);
	strcpy(name + 300, "");
	a = tagscheme_fit(name);
	cr_assert_not_null(a);
	cr_expect_eq(strlen(a), 128);
	cr_assert_eq(rp_sha256_hex(name, 300, hex), 0);
	snprintf(want, sizeof(want), "%.119s-%.8s", name, hex);
	cr_expect_str_eq(a, want);
	cr_expect(imgref_tag_valid(a));
	/* Same first 119 characters, different names: different tags. */
	name[299] = 'b';
	b = tagscheme_fit(name);
	cr_expect_str_neq(a, b);
	free(a);
	free(b);
	/* Exactly 128 is kept whole. */
	name[128] = '\0';
	a = tagscheme_fit(name);
	cr_expect_str_eq(a, name);
	free(a);
	/* A cut that ends in '-' drops it before the hash suffix. */
	memset(name, 'a', 300);
	name[118] = '-';
	name[300] = '\0';
	a = tagscheme_fit(name);
	cr_expect_eq(strlen(a), 127);
	cr_expect_eq(a[117], 'a');
	cr_expect_eq(a[118], '-');
	free(a);
}


/* cosign's attachment tags: sha256-<64 hex>.sig, .att, .sbom, nothing
 * else; the subject is the image's digest. */
Test(tagscheme, attachments)
{
	static const char hex[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const struct {
		const char *fmt;   /* %s: the 64 hex digits */
		int is;
	} rows[] = {
		{ "sha256-%s.sig", 1 }, { "sha256-%s.att", 1 }, { "sha256-%s.sbom", 1 },
		{ "sha256-%s", 0 }, { "sha256-%s.sig2", 0 }, { "sha256-%s.", 0 },
		{ "sha256-abc.sig", 0 }, { "sha256-%sa.sig", 0 }, { "sha512-%s.sig", 0 },
		{ "sha256-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.sig", 0 },
		{ "dev-0123456", 0 }, { "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char tag[200], subject[RP_DIGEST_MAX] = "", want[RP_DIGEST_MAX];
		const char *at = strstr(rows[i].fmt, "%s");
		/* The 64 hex digits in place of %s. */
		if (at != NULL)
			snprintf(tag, sizeof(tag), "%.*s%s%s", (int)(at - rows[i].fmt), rows[i].fmt, hex, at + 2);
		else
			snprintf(tag, sizeof(tag), "%s", rows[i].fmt);
		cr_expect_eq(tagscheme_attachment(tag, subject), rows[i].is, "%s", tag);
		snprintf(want, sizeof(want), "sha256:%s", hex);
		if (rows[i].is)
			cr_expect_str_eq(subject, want, "%s", tag);
	}
}
