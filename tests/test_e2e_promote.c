/*
 * End to end: regpush promote against the real registry, through the
 * fault proxy so that every request is counted. The source images carry
 * org.opencontainers.image.revision = SHA40 (tests/with-registries.sh).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "helpers.h"
#include "testreg.h"

E2E_DIRS_FIXTURE

/* regpush CMD with the context flags, the dev and prod registries on
 * `host`, and extra flags; credentials for every account. */
static void
run(struct proc *p, const char *host, const char *cmd, const char *ref, const char *svc,
    const char *const *extra)
{
	char dev[300], prod[300], tmpenv[600];
	const char *argv[40];
	const char *envp[] = { tmpenv, "HOME=/root", "SOURCE_DATE_EPOCH=1800000000",
			       "REGPUSH_DEV_USERNAME=robot+dev", "REGPUSH_DEV_PASSWORD=dev-secret",
			       "REGPUSH_STAGING_USERNAME=robot+staging", "REGPUSH_STAGING_PASSWORD=st-secret",
			       "REGPUSH_RELEASE_USERNAME=robot+release", "REGPUSH_RELEASE_PASSWORD=rel-secret",
			       NULL };
	size_t a = 0, i;

	snprintf(dev, sizeof(dev), "%s/dev", host);
	snprintf(prod, sizeof(prod), "%s/prod", host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	argv[a++] = "regpush";
	argv[a++] = cmd;
	argv[a++] = "--json";
	argv[a++] = "--ref";
	argv[a++] = ref;
	argv[a++] = "--sha";
	argv[a++] = SHA40;
	argv[a++] = "--service";
	argv[a++] = svc;
	argv[a++] = "--dev-registry";
	argv[a++] = dev;
	argv[a++] = "--prod-registry";
	argv[a++] = prod;
	argv[a++] = "--insecure-registry";
	argv[a++] = host;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[a++] = extra[i];
	argv[a] = NULL;
	run_regpush(argv, envp, p);
}

/* Pushes image (an archive in the test images) with regpush as `ref`. */
static void
push_source(const char *host, const char *image, const char *ref, const char *svc)
{
	char *src = archive(image);
	const char *extra[] = { "--source", src, NULL };
	struct proc p;

	run(&p, host, "push", ref, svc, extra);
	cr_assert_eq(p.status, 0, "seeding %s: %s", image, p.err);
	proc_free(&p);
	free(src);
}

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* --from development, single image and two-platform index: the digest is
 * kept, and no blob byte moves (mounts, then manifest PUTs). */
Test(promote, from_development_keeps_the_digest_and_moves_no_layer, .init = setup, .fini = teardown,
     .timeout = 180)
{
	static const struct { const char *image, *svc; } rows[] = {
		{ "rev.tar", "pr-single" }, { "revmulti.tar", "pr-multi" },
	};
	const char *host = getenv("REGPUSH_TEST_FAULT"), *log = getenv("REGPUSH_TEST_FAULT_LOG");
	struct treg plain = treg_plain();
	const char *from[] = { "--from", "development", NULL };
	size_t i, k;

	for (i = 0; i < 2; i++) {
		char *src = archive(rows[i].image), *d = source_digest(src), want[400], repo[100], needle[200];
		struct proc p;
		json_t *j;

		push_source(host, rows[i].image, "refs/heads/develop", rows[i].svc);
		run(&p, host, "promote", "refs/tags/v1.0.0", rows[i].svc, from);
		cr_assert_eq(p.status, 0, "%s: %s", rows[i].image, p.err);
		j = json_loads(p.out, 0, NULL);
		cr_assert_not_null(j, "%s", p.out);
		cr_expect_str_eq(jstr(j, "command"), "promote");
		cr_expect_str_eq(jstr(j, "digest"), d);
		snprintf(want, sizeof(want), "%s/dev/%s@%s", host, rows[i].svc, d);
		cr_expect_str_eq(jstr(j, "source"), want);
		for (k = 0; k < 4; k++)
			cr_expect_str_eq(report_status(j, k), "pushed");
		json_decref(j);
		snprintf(repo, sizeof(repo), "prod/%s", rows[i].svc);
		expect_tags_at(plain, repo, "v1.0.0 v1.0 v1 latest", d);
		snprintf(needle, sizeof(needle), "PATCH /v2/prod/%s/blobs/uploads/", rows[i].svc);
		cr_expect_eq(count_lines(log, needle), 0, "no blob bytes uploaded");
		snprintf(needle, sizeof(needle), "POST /v2/prod/%s/blobs/uploads/?mount=", rows[i].svc);
		cr_expect_geq(count_lines(log, needle), 2, "mounted instead");
		/* distribution mounts (201). go-containerregistry answers a
		 * mount with 202, an upload opened (its blobs are visible from
		 * every repository anyway): refused, so the copy (skopeo) runs,
		 * and finds every blob already there. */
		if (treg_ggcr())
			cr_expect(strstr(p.err, "skopeo copy") != NULL, "the fallback copy: %s", p.err);
		else
			cr_expect(strstr(p.err, "skopeo copy") == NULL, "mounted, no copy: %s", p.err);
		cr_expect_eq(count_lines(log, "POST /v2/prod/pr-"), count_lines(log, "POST /v2/prod/pr-single/blobs/uploads/?mount=") +
			     count_lines(log, "POST /v2/prod/pr-multi/blobs/uploads/?mount="), "every POST is a mount");
		/* A rerun changes nothing. */
		proc_free(&p);
		run(&p, host, "promote", "refs/tags/v1.0.0", rows[i].svc, from);
		cr_assert_eq(p.status, 0, "%s", p.err);
		j = json_loads(p.out, 0, NULL);
		cr_expect_str_eq(report_status(j, 0), "unchanged");
		json_decref(j);
		proc_free(&p);
		free(src);
		free(d);
	}
	expect_dir_empty(tmpd);
}

/* --from staging picks staging-v2.0.0-rc.10 over rc.9. */
Test(promote, from_staging_picks_the_newest_candidate, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	struct treg plain = treg_plain();
	const char *from[] = { "--from", "staging", NULL };
	char *src = archive("rev.tar"), *d = source_digest(src), want[400];
	struct proc p;
	json_t *j;

	push_source(host, "rev.tar", "refs/tags/v2.0.0-rc.10", "pr-stg");
	push_source(host, "rc9.tar", "refs/tags/v2.0.0-rc.9", "pr-stg");
	run(&p, host, "promote", "refs/tags/v2.0.0", "pr-stg", from);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	snprintf(want, sizeof(want), "%s/prod/pr-stg@%s", host, d);
	cr_expect_str_eq(jstr(j, "source"), want);
	json_decref(j);
	expect_tags_at(plain, "prod/pr-stg", "v2.0.0 v2.0 v2 latest staging-v2.0.0-rc.10", d);
	proc_free(&p);
	/* --from staging on a candidate is a usage error. */
	run(&p, host, "promote", "refs/tags/v2.0.1-rc.1", "pr-stg", from);
	cr_expect_eq(p.status, 2, "%s", p.err);
	cr_expect_str_eq(p.err, "regpush: --from staging promotes a release candidate to its release: "
			 "it needs a release ref refs/tags/vX.Y.Z, not 'refs/tags/v2.0.1-rc.1'\n");
	proc_free(&p);
	run(&p, host, "promote", "refs/tags/v2.1.0", "pr-stg", from);
	cr_expect_eq(p.status, 2, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: nothing to promote: no staging-v2.1.0-* tag in %s/prod/pr-stg\n", host);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
	free(src);
	free(d);
}

/* Every refusal leaves the destination unchanged. */
Test(promote, refusals_write_nothing, .init = setup, .fini = teardown, .timeout = 180)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	struct treg plain = treg_plain();
	const char *from_dev[] = { "--from", "development", NULL };
	const char *from_dev_pr[] = { "--from", "development", "--event", "pull_request", NULL };
	const char *allow[] = { "--from", "development", "--allow-revision-mismatch", NULL };
	char *other = archive("other.tar"), *exp = archive("revexp.tar");
	char *d_other = source_digest(other), *d_exp = source_digest(exp), want[800], *tags;
	struct proc p;

	/* Built from another commit. */
	push_source(host, "other.tar", "refs/heads/develop", "pr-other");
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-other", from_dev);
	cr_expect_eq(p.status, 3, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: refused: %s/dev/pr-other@%s was built from revision "
		 "89abcdef0123456789abcdef0123456789abcdef, not this release's commit " SHA40
		 " (use --allow-revision-mismatch to promote it anyway). Nothing was written.\n",
		 host, d_other);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
	tags = treg_tags(plain, "prod/pr-other");
	cr_expect_str_eq(tags, "");
	free(tags);
	/* ... unless asked to. */
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-other", allow);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	expect_tags_at(plain, "prod/pr-other", "v1.0.0 latest", d_other);
	/* A release that would expire. */
	push_source(host, "revexp.tar", "refs/heads/develop", "pr-exp");
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-exp", from_dev);
	cr_expect_eq(p.status, 3, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: refused: %s/dev/pr-exp@%s carries the label "
		 "quay.expires-after, so the release would expire in production; rebuild it without "
		 "that label. Nothing was written.\n", host, d_exp);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
	/* To staging, the label does no harm. */
	run(&p, host, "promote", "refs/tags/v1.0.0-rc.1", "pr-exp", from_dev);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "prod/pr-exp");
	cr_expect_str_eq(tags, "staging-latest staging-v1.0.0-rc.1");
	free(tags);
	/* Never from a pull request. */
	run(&p, host, "promote", "refs/heads/develop", "pr-exp", from_dev_pr);
	cr_expect_eq(p.status, 3, "%s", p.err);
	cr_expect_str_eq(p.err, "regpush: refused: promote does not run on a pull_request event (a pull "
			 "request may not publish images); nothing was written\n");
	proc_free(&p);
	/* Nothing there. */
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-none", from_dev);
	cr_expect_eq(p.status, 2, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: nothing to promote: %s/dev/pr-none:dev-0123456 does not exist\n", host);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
	expect_dir_empty(tmpd);
	free(other);
	free(exp);
	free(d_other);
	free(d_exp);
}

/* A registry that will not mount: the copy reads with the source's
 * account and writes with the destination's (skopeo, one auth file). */
Test(promote, refused_mount_falls_back_to_a_copy, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_FAULT");
	struct treg plain = treg_plain();
	const char *from[] = { "--from", "development", NULL };
	char *src = archive("revmulti.tar"), *d = source_digest(src);
	struct proc p;

	push_source(host, "revmulti.tar", "refs/heads/develop", "f-nomount");
	run(&p, host, "promote", "refs/tags/v1.0.0", "f-nomount", from);
	cr_assert_eq(p.status, 0, "%s", p.err);
	expect_tags_at(plain, "prod/f-nomount", "v1.0.0 v1.0 v1 latest", d);
	cr_expect(strstr(p.err, "skopeo copy") != NULL, "%s", p.err);
	proc_free(&p);
	expect_dir_empty(tmpd);
	free(src);
	free(d);
}

Test(promote, dry_run_writes_nothing, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	struct treg plain = treg_plain();
	const char *from[] = { "--from", "development", "--dry-run", NULL };
	char *src = archive("rev.tar"), *d = source_digest(src), want[1200], *tags;
	struct proc p;

	push_source(host, "rev.tar", "refs/heads/develop", "pr-dry");
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-dry", from);
	cr_assert_eq(p.status, 0, "%s", p.err);
	snprintf(want, sizeof(want), "dry run: nothing is written to any registry; a real run would do:\n"
		 "  copy %s/dev/pr-dry@%s to %s/prod/pr-dry@%s (cross-repository mounts, then the "
		 "manifests' exact bytes)\n  PUT %s/prod/pr-dry:v1.0.0 (%s)\n", host, d, host, d, host, d);
	cr_expect_eq(strncmp(p.err, want, strlen(want)), 0, "%s\n---\n%s", p.err, want);
	cr_expect_eq(p.out[0], '{', "with --json, stdout is the JSON alone: %s", p.out);
	tags = treg_tags(plain, "prod/pr-dry");
	cr_expect_str_eq(tags, "");
	free(tags);
	proc_free(&p);
	free(src);
	free(d);
}

/* mode: promote from inputs alone, as the runner starts the action: the
 * outputs gain `source`. */
Test(promote, as_the_runner_starts_the_action, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	char *src = archive("rev.tar"), *d = source_digest(src), *out, want[600];
	char dev[300], prod[300], ins[300], tmpenv[600], e_out[700], outp[600];
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=promote", "INPUT_FROM=development",
			       "INPUT_ALLOW-REVISION-MISMATCH=false", "GITHUB_REF=refs/tags/v4.0.0",
			       "GITHUB_SHA=" SHA40, "GITHUB_EVENT_NAME=push", "GITHUB_REPOSITORY=acme/pr-action",
			       dev, prod, ins, tmpenv, e_out, "HOME=/root",
			       "INPUT_DEV-USERNAME=robot+dev", "INPUT_DEV-PASSWORD=dev-secret",
			       "INPUT_RELEASE-USERNAME=robot+release", "INPUT_RELEASE-PASSWORD=rel-secret", NULL };
	struct proc p;

	push_source(host, "rev.tar", "refs/heads/develop", "pr-action");
	snprintf(dev, sizeof(dev), "INPUT_DEV-REGISTRY=%s/dev", host);
	snprintf(prod, sizeof(prod), "INPUT_PROD-REGISTRY=%s/prod", host);
	snprintf(ins, sizeof(ins), "INPUT_INSECURE-REGISTRIES=%s", host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(outp, sizeof(outp), "%s/output", dir);
	snprintf(e_out, sizeof(e_out), "GITHUB_OUTPUT=%s", outp);
	free(write_file(dir, "output", ""));
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	out = read_all(outp);
	snprintf(want, sizeof(want), "digest=%s\nimage=%s/prod/pr-action@%s\n", d, host, d);
	cr_expect(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof(want), "version=4.0.0\nsource=%s/dev/pr-action@%s\n", host, d);
	cr_expect(strstr(out, want) != NULL, "%s", out);
	cr_expect(strstr(out, "\nresult=pushed\n") != NULL, "%s", out);
	cr_expect(strstr(p.out, "::add-mask::rel-secret\n") != NULL);
	free(out);
	proc_free(&p);
	free(src);
	free(d);
}

/* Through the token-auth registry: the mount's token carries pull on the
 * source repository and push on the destination. */
Test(promote, with_token_auth, .init = setup, .fini = teardown, .timeout = 120)
{
	TREG_DISTRIBUTION_PEERS_ONLY();
	const char *host = getenv("REGPUSH_TEST_TOKENREG"), *srv = getenv("REGPUSH_TEST_TOKENSRV");
	char *src = archive("rev.tar"), *d = source_digest(src), dev[300], prod[300], tmpenv[600];
	char du[200], dp[200], ru[200], rp[200], want[400];
	const char *push_argv[] = { "regpush", "push", "--source", src, "--ref", "refs/heads/develop",
				    "--sha", SHA40, "--service", "pt", "--dev-registry", dev,
				    "--insecure-registry", host, "--insecure-registry", srv, NULL };
	const char *prom_argv[] = { "regpush", "promote", "--json", "--from", "development", "--ref",
				    "refs/tags/v6.0.0", "--sha", SHA40, "--service", "pt", "--dev-registry",
				    dev, "--prod-registry", prod, "--insecure-registry", host,
				    "--insecure-registry", srv, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", du, dp, ru, rp, NULL };
	struct proc p;
	json_t *j;

	snprintf(dev, sizeof(dev), "%s/tdev", host);
	snprintf(prod, sizeof(prod), "%s/tprod", host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(du, sizeof(du), "REGPUSH_DEV_USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(dp, sizeof(dp), "REGPUSH_DEV_PASSWORD=%s", getenv("REGPUSH_TEST_PASS"));
	snprintf(ru, sizeof(ru), "REGPUSH_RELEASE_USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(rp, sizeof(rp), "REGPUSH_RELEASE_PASSWORD=%s", getenv("REGPUSH_TEST_PASS"));
	run_regpush(push_argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	run_regpush(prom_argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	cr_expect_str_eq(jstr(j, "digest"), d);
	snprintf(want, sizeof(want), "%s/tdev/pt@%s", host, d);
	cr_expect_str_eq(jstr(j, "source"), want);
	cr_expect_str_eq(report_status(j, 3), "pushed");
	json_decref(j);
	cr_expect_gt(count_lines(getenv("REGPUSH_TEST_TOKEN_LOG"),
				 "repository:tprod/pt:pull,push,repository:tdev/pt:pull auth 200"), 0,
		     "one token for the mount: push here, pull there");
	proc_free(&p);
	expect_dir_empty(tmpd);
	free(src);
	free(d);
}

/* Between two registries (plain HTTP to TLS with htpasswd): skopeo copies
 * by digest with an auth file holding the destination's account; the
 * digest is kept. */
Test(promote, between_two_registries, .init = setup, .fini = teardown, .timeout = 120)
{
	TREG_DISTRIBUTION_PEERS_ONLY();
	const char *plain = getenv("REGPUSH_TEST_PLAIN");
	struct treg tls = treg_tls();
	char *src = archive("rev.tar"), *d = source_digest(src), from[400], prod[300], tmpenv[600];
	char ru[200], rp[200], cert[700];
	const char *argv[] = { "regpush", "promote", "--json", "--from", from, "--ref", "refs/tags/v7.1.0",
			       "--sha", SHA40, "--service", "pt2", "--prod-registry", prod,
			       "--insecure-registry", plain, "--cert-dir", cert, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", ru, rp, NULL };
	struct proc p;
	json_t *j;

	push_source(plain, "rev.tar", "refs/heads/develop", "pt2");
	snprintf(from, sizeof(from), "%s/dev/pt2:dev-0123456", plain);
	snprintf(prod, sizeof(prod), "%s/prod", tls.host);
	snprintf(cert, sizeof(cert), "%s", getenv("REGPUSH_TEST_CA_DIR"));
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(ru, sizeof(ru), "REGPUSH_RELEASE_USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(rp, sizeof(rp), "REGPUSH_RELEASE_PASSWORD=%s", getenv("REGPUSH_TEST_PASS"));
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	cr_expect_str_eq(jstr(j, "digest"), d);
	json_decref(j);
	cr_expect(strstr(p.err, "skopeo copy") != NULL, "%s", p.err);
	cr_expect(strstr(p.err, getenv("REGPUSH_TEST_PASS")) == NULL);
	expect_tags_at(tls, "prod/pt2", "v7.1.0 v7.1 v7 latest", d);
	proc_free(&p);
	expect_dir_empty(tmpd);
	free(src);
	free(d);
}

/* A rollback by promotion: v1.3.0 is out, the tested v1.2.5 candidate is
 * promoted again with --allow-backwards: v1 and latest move back to it,
 * v1.3.0 and v1.3 stay. from: previous on a release ref is staging. */
Test(promote, rollback_with_allow_backwards, .init = setup, .fini = teardown, .timeout = 180)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	const char *prev[] = { "--from", "previous", NULL };
	const char *back[] = { "--from", "previous", "--allow-backwards", NULL };
	char *a_rev = archive("rev.tar"), *a_one = archive("one.tar");
	char *d_rev = source_digest(a_rev), *d_one = source_digest(a_one);
	struct treg r = treg_plain();
	struct proc p;

	/* v1.3.0 by a plain push of another image; the candidate of v1.2.5. */
	push_source(host, "one.tar", "refs/tags/v1.3.0", "pr-rollback");
	push_source(host, "rev.tar", "refs/heads/develop", "pr-rollback");
	run(&p, host, "promote", "refs/tags/v1.2.5-rc.1", "pr-rollback", prev);
	cr_assert_eq(p.status, 0, "from previous on a candidate is development: %s", p.err);
	proc_free(&p);
	run(&p, host, "promote", "refs/tags/v1.2.5", "pr-rollback", prev);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.err, "latest kept: v1.3.0 is a newer release") != NULL, "%s", p.err);
	proc_free(&p);
	expect_tags_at(r, "prod/pr-rollback", "v1.3.0 v1.3 v1 latest", d_one);
	run(&p, host, "promote", "refs/tags/v1.2.5", "pr-rollback", back);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.err, "latest moved back from v1.3.0, a newer release (--allow-backwards)") != NULL,
		  "%s", p.err);
	proc_free(&p);
	expect_tags_at(r, "prod/pr-rollback", "v1.2.5 v1.2 v1 latest", d_rev);
	expect_tags_at(r, "prod/pr-rollback", "v1.3.0 v1.3", d_one);
	/* previous on a branch: nothing to promote from. */
	run(&p, host, "promote", "refs/heads/develop", "pr-rollback", prev);
	cr_expect_eq(p.status, 2);
	cr_expect(strstr(p.err, "regpush: --from previous promotes along development -> staging -> "
			 "production: it needs a tag ref refs/tags/vX.Y.Z[-PRE], not 'refs/heads/develop'\n") != NULL,
		  "%s", p.err);
	proc_free(&p);
	free(d_rev);
	free(d_one);
	free(a_rev);
	free(a_one);
}

/* Issue 17, finding 1: quay.expires-after as a manifest annotation (Quay
 * applies annotations as labels) refuses a production promotion, as the
 * label does. */
Test(promote, expiry_as_an_annotation_is_refused, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	const char *from_dev[] = { "--from", "development", NULL };
	const char *fargs[] = { "annotate", host, "dev/pr-annot", "seed", "dev-0123456",
				"quay.expires-after=30d", NULL };
	char want[900], *d, *tags;
	struct proc p;

	push_source(host, "rev.tar", "refs/heads/seed-annot", "pr-annot");
	{
		/* the seed push made dev-0123456; keep it under a second tag */
		const char *a2[] = { "annotate", host, "dev/pr-annot", "dev-0123456", "seed",
				     "org.example.note=seed", NULL };
		free(forge(a2));
	}
	d = forge(fargs);
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-annot", from_dev);
	cr_expect_eq(p.status, 3, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: refused: %s/dev/pr-annot@%s carries the annotation "
		 "quay.expires-after, which Quay applies as a label, so the release would expire in "
		 "production; rebuild it without it. Nothing was written.\n", host, d);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
	tags = treg_tags(treg_plain(), "prod/pr-annot");
	cr_expect_str_eq(tags, "");
	free(tags);
	free(d);
}

/* Issue 17, finding 10: a buildx index (the image and its provenance
 * attestation, platform unknown/unknown) promotes: the attestation entry
 * is copied, its labels are not checked; the index keeps its digest. */
Test(promote, buildx_attestation_entries, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	const char *from_dev[] = { "--from", "development", NULL };
	const char *fargs[] = { "buildx", host, "dev/pr-buildx", "seed", "dev-0123456", NULL };
	struct treg plain = treg_plain();
	char *d;
	struct proc p;

	push_source(host, "rev.tar", "refs/heads/develop", "pr-buildx");
	{
		const char *a2[] = { "annotate", host, "dev/pr-buildx", "dev-0123456", "seed",
				     "org.example.note=seed", NULL };
		free(forge(a2));
	}
	d = forge(fargs);
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-buildx", from_dev);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	expect_tags_at(plain, "prod/pr-buildx", "v1.0.0 v1.0 v1 latest", d);
	free(d);
}

/* Issue 17, finding 8: a digest regpush cannot verify is refused before
 * anything is read. */
Test(promote, only_verifiable_digests, .init = setup, .fini = teardown, .timeout = 60)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	char from[400], want[900];
	const char *args[] = { "--from", from, "--allow-revision-mismatch", NULL };
	struct proc p;

	snprintf(from, sizeof(from), "%s/dev/x@sha512:%0128d", host, 0);
	run(&p, host, "promote", "refs/tags/v1.0.0", "pr-sha512", args);
	cr_expect_eq(p.status, 2, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: --from '%s': regpush verifies sha256 digests only (the "
		 "bytes served are hashed and compared); give the image's sha256 digest or a tag\n", from);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
}

/* Issue 17, finding 9: two candidates of equal precedence (build metadata
 * differs) on different images: refused, naming both. */
Test(promote, tied_candidates_are_refused, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	const char *from_st[] = { "--from", "staging", NULL };
	char *rev = archive("rev.tar"), *rc9 = archive("rc9.tar"), dst[400], *tags;
	const char *cp[] = { "skopeo", "copy", "-q", "--dest-tls-verify=false", NULL, dst, NULL };
	const char *envp0[] = { "HOME=/root", NULL };
	struct proc p;

	cp[4] = rev;
	snprintf(dst, sizeof(dst), "docker://%s/prod/pr-tie:staging-v2.1.0-rc.1_build.1", host);
	run_prog("skopeo", cp, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	cp[4] = rc9;
	snprintf(dst, sizeof(dst), "docker://%s/prod/pr-tie:staging-v2.1.0-rc.1_build.2", host);
	run_prog("skopeo", cp, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	run(&p, host, "promote", "refs/tags/v2.1.0", "pr-tie", from_st);
	cr_expect_eq(p.status, 3, "%s", p.err);
	cr_expect(strstr(p.err, "staging-v2.1.0-rc.1_build.1") != NULL &&
		  strstr(p.err, "staging-v2.1.0-rc.1_build.2") != NULL &&
		  strstr(p.err, "have the same precedence") != NULL, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(treg_plain(), "prod/pr-tie");
	cr_expect_str_eq(tags, "staging-v2.1.0-rc.1_build.1 staging-v2.1.0-rc.1_build.2");
	free(tags);
	free(rev);
	free(rc9);
}

/* Issue 17, finding 13: across hosts, a source whose credentials are in
 * the user's --authfile (no source robot) while the destination has its
 * robot: skopeo gets both, so the copy works. */
Test(promote, cross_host_keeps_the_users_authfile, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *plain = getenv("REGPUSH_TEST_PLAIN");
	struct treg tls = treg_tls();
	char *src = archive("rev.tar"), *d = source_digest(src), from[400], prod[300], tmpenv[600];
	char cert[700], dst[500], creds[400], authp[700], auth[600], b64[400];
	const char *cp[] = { "skopeo", "copy", "-q", "--dest-cert-dir", cert, "--dest-creds", creds, src, dst, NULL };
	const char *envp0[] = { "HOME=/root", NULL };
	const char *argv[] = { "regpush", "promote", "--json", "--from", from, "--ref", "refs/tags/v7.2.0",
			       "--sha", SHA40, "--service", "pt3", "--prod-registry", prod,
			       "--insecure-registry", plain, "--cert-dir", cert, "--authfile", authp, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", "REGPUSH_RELEASE_USERNAME=robot+release",
			       "REGPUSH_RELEASE_PASSWORD=rel-secret", NULL };
	struct proc p;

	snprintf(cert, sizeof(cert), "%s", getenv("REGPUSH_TEST_CA_DIR"));
	snprintf(creds, sizeof(creds), "%s:%s", getenv("REGPUSH_TEST_USER"), getenv("REGPUSH_TEST_PASS"));
	snprintf(dst, sizeof(dst), "docker://%s/dev/pt3:dev-0123456", tls.host);
	run_prog("skopeo", cp, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)creds, (int)strlen(creds));
	snprintf(auth, sizeof(auth), "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}", tls.host, b64);
	free(write_file(dir, "auth.json", auth));
	snprintf(authp, sizeof(authp), "%s/auth.json", dir);
	snprintf(from, sizeof(from), "%s/dev/pt3:dev-0123456", tls.host);
	snprintf(prod, sizeof(prod), "%s/prod", plain);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.err, "skopeo copy") != NULL, "the copy ran: %s", p.err);
	proc_free(&p);
	expect_tags_at(treg_plain(), "prod/pt3", "v7.2.0 v7.2 v7 latest", d);
	expect_dir_empty(tmpd);
	/* Without the auth file the copy's 401 is the source's, and said so
	 * (not blamed on the destination's release account). */
	free(write_file(dir, "auth.json", "{\"auths\":{}}"));
	argv[6] = "refs/tags/v7.3.0";
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.err, "(the source) requires credentials") != NULL ||
		  strstr(p.err, "401") != NULL, "%s", p.err);
	cr_expect(strstr(p.err, "refused the credentials of the release account") == NULL, "%s", p.err);
	proc_free(&p);
	free(src);
	free(d);
}
