/*
 * End to end: regpush prune against the real registry, with --now in the
 * future so the test images (built minutes ago) are old enough.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "prune.h"
#include "policy.h"
#include "testreg.h"

E2E_DIRS_FIXTURE

static void
prune(struct proc *p, const char *repo, const char *now, int dry)
{
	char r[400], tmpenv[600];
	const char *argv[] = { "regpush", "prune", "--json", "--repository", r, "--now", now,
			       "--insecure-registry", getenv("REGPUSH_TEST_PLAIN"), dry ? "--dry-run" : NULL, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", NULL };

	snprintf(r, sizeof(r), "%s/%s", getenv("REGPUSH_TEST_PLAIN"), repo);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	run_regpush(argv, envp, p);
}

/* "tag:action" for every row, sorted by the registry's order. */
static char *
actions(const char *out)
{
	json_t *j = json_loads(out, 0, NULL), *t;
	size_t i;
	char *s = strdup(""), *n;

	cr_assert_not_null(j, "%s", out);
	json_array_foreach(json_object_get(j, "tags"), i, t) {
		cr_assert(asprintf(&n, "%s%s%s:%s", s, *s ? " " : "",
				   json_string_value(json_object_get(t, "tag")),
				   json_string_value(json_object_get(t, "action"))) > 0);
		free(s);
		s = n;
	}
	json_decref(j);
	return s;
}

/*
 * A development repository: an expired dev tag whose image a tag of no
 * pattern still uses (untagged only), an expired feature tag sharing
 * dev-latest's image (untagged only), an expired test tag alone on its
 * image (deleted with the image), and an image built with created = 0
 * (age unknown, kept). The dry run shows exactly what the real run does.
 */
Test(prune, development_repository, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *two = archive("two.tar"), *ep = archive("epoch.tar");
	char *multi = archive("multi.tar");
	char *d1 = source_digest(one), *d2 = source_digest(two), *dm = source_digest(multi);
	char *dry, *real, *tags, d[80];
	const char *want = "dev-1111111:delete dev-2222222:delete dev-latest:keep feature-x:delete "
			   "test-epoch:keep test-multi:delete weird:keep";
	struct proc p;

	treg_copy_in(one, "pr/dev", "dev-1111111");
	treg_copy_in(one, "pr/dev", "weird");
	treg_copy_in(two, "pr/dev", "feature-x");
	treg_copy_in(two, "pr/dev", "dev-latest");
	treg_copy_in(multi, "pr/dev", "test-multi");
	treg_copy_in(multi, "pr/dev", "dev-2222222");
	treg_copy_in(ep, "pr/dev", "test-epoch");
	/* Within retention (or created after --now: age 0), nothing goes. */
	prune(&p, "pr/dev", "2026-12-01T00:00:00Z", 0);
	cr_assert_eq(p.status, 0, "%s", p.err);
	dry = actions(p.out);
	cr_expect_str_eq(dry, "dev-1111111:keep dev-2222222:keep dev-latest:keep feature-x:keep "
			 "test-epoch:keep test-multi:keep weird:keep");
	free(dry);
	proc_free(&p);
	prune(&p, "pr/dev", "2035-01-01T00:00:00Z", 1);
	cr_assert_eq(p.status, 0, "%s", p.err);
	dry = actions(p.out);
	cr_expect_str_eq(dry, want);
	proc_free(&p);
	tags = treg_tags(plain, "pr/dev");
	cr_expect_str_eq(tags, "dev-1111111 dev-2222222 dev-latest feature-x test-epoch test-multi weird",
			 "the dry run deleted nothing");
	free(tags);
	prune(&p, "pr/dev", "2035-01-01T00:00:00Z", 0);
	cr_assert_eq(p.status, 0, "%s", p.err);
	real = actions(p.out);
	cr_expect_str_eq(real, dry, "the real run does what the dry run showed");
	proc_free(&p);
	tags = treg_tags(plain, "pr/dev");
	cr_expect_str_eq(tags, "dev-latest test-epoch weird");
	free(tags);
	expect_tags_at(plain, "pr/dev", "weird", d1);
	expect_tags_at(plain, "pr/dev", "dev-latest", d2);
	/* The index whose tags all expired is gone, children and all. */
	cr_expect_eq(treg_manifest(plain, "pr/dev", dm, NULL, d), 404);
	/* A rerun finds nothing more to do. */
	prune(&p, "pr/dev", "2035-01-01T00:00:00Z", 0);
	cr_assert_eq(p.status, 0, "%s", p.err);
	real = (free(real), actions(p.out));
	cr_expect_str_eq(real, "dev-latest:keep test-epoch:keep weird:keep");
	proc_free(&p);
	free(dry);
	free(real);
	free(one);
	free(two);
	free(ep);
	free(multi);
	free(d1);
	free(d2);
	free(dm);
	expect_dir_empty(tmpd);
}

/* The JSON row of tag `tag`: "action|reason". */
static char *
row_of(const char *out, const char *tag)
{
	json_t *j = json_loads(out, 0, NULL), *t;
	size_t i;
	char *s = NULL;

	cr_assert_not_null(j, "%s", out);
	json_array_foreach(json_object_get(j, "tags"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "tag")), tag) == 0)
			cr_assert(asprintf(&s, "%s|%s", json_string_value(json_object_get(t, "action")),
					   json_string_value(json_object_get(t, "reason"))) > 0);
	json_decref(j);
	cr_assert_not_null(s, "no row for %s in %s", tag, out);
	return s;
}

/*
 * Prune reads dev-<sha> with the policy's sha-length, as push writes it: a
 * dev- tag of another length is no tag of regpush's and stays. Without
 * the fix, dev-22222222 went under sha-length 7 (any hex length was
 * taken for a development tag).
 */
Test(prune, follows_the_policys_sha_length, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *two = archive("two.tar"), *tags, *row, pol[600], r[400],
	     tmpenv[600];
	const char *argv[] = { "regpush", "prune", "--json", "--repository", r, "--now",
			       "2035-01-01T00:00:00Z", "--insecure-registry", getenv("REGPUSH_TEST_PLAIN"),
			       "--policy", pol, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", NULL };
	struct proc p;
	FILE *f;

	treg_copy_in(one, "pr/shalen", "dev-1111111");
	treg_copy_in(two, "pr/shalen", "dev-22222222");
	/* The built-in sha-length, 7. */
	prune(&p, "pr/shalen", "2035-01-01T00:00:00Z", 1);
	cr_assert_eq(p.status, 0, "%s", p.err);
	row = row_of(p.out, "dev-22222222");
	cr_expect_str_eq(row, "keep|matches no pattern");
	free(row);
	row = row_of(p.out, "dev-1111111");
	cr_expect_str_eq(row, "delete|expired");
	free(row);
	proc_free(&p);
	/* sha-length 8: the other way round, for real. */
	snprintf(pol, sizeof(pol), "%s/policy.yaml", dir);
	cr_assert_not_null(f = fopen(pol, "w"));
	fputs("version: 1\nsha-length: 8\n", f);
	cr_assert_eq(fclose(f), 0);
	snprintf(r, sizeof(r), "%s/pr/shalen", getenv("REGPUSH_TEST_PLAIN"));
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	row = row_of(p.out, "dev-1111111");
	cr_expect_str_eq(row, "keep|matches no pattern");
	free(row);
	row = row_of(p.out, "dev-22222222");
	cr_expect_str_eq(row, "delete|expired");
	free(row);
	proc_free(&p);
	tags = treg_tags(plain, "pr/shalen");
	cr_expect_str_eq(tags, "dev-1111111");
	free(tags);
	free(one);
	free(two);
	expect_dir_empty(tmpd);
}

/*
 * A production repository after 120 days: the candidate that became the
 * release goes, the release on the same image stays and resolves; a
 * candidate tagged on a child of a kept release index goes without
 * touching the child.
 */
Test(prune, production_repository_keeps_releases_and_index_children, .init = setup, .fini = teardown,
     .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *multi = archive("multi.tar");
	char *d1 = source_digest(one), *dm = source_digest(multi), *body, d[80], child[200], *tags;
	json_t *idx;
	struct proc p;

	treg_copy_in(one, "pr/prod", "staging-v1.1.0-rc.1");
	treg_copy_in(one, "pr/prod", "v1.1.0");
	treg_copy_in(multi, "pr/prod", "v2.0.0");
	cr_assert_eq(treg_manifest(plain, "pr/prod", "v2.0.0", &body, d), 200);
	idx = json_loads(body, 0, NULL);
	snprintf(child, sizeof(child), "docker://%s/pr/prod@%s", plain.host,
		 json_string_value(json_object_get(json_array_get(json_object_get(idx, "manifests"), 0), "digest")));
	treg_copy_in(child, "pr/prod", "staging-v2.0.0-rc.1");
	prune(&p, "pr/prod", "2035-01-01T00:00:00Z", 0);
	cr_assert_eq(p.status, 0, "%s", p.err);
	tags = actions(p.out);
	cr_expect_str_eq(tags, "staging-v1.1.0-rc.1:delete staging-v2.0.0-rc.1:delete v1.1.0:keep v2.0.0:keep");
	free(tags);
	proc_free(&p);
	tags = treg_tags(plain, "pr/prod");
	cr_expect_str_eq(tags, "v1.1.0 v2.0.0");
	free(tags);
	expect_tags_at(plain, "pr/prod", "v1.1.0", d1);
	expect_tags_at(plain, "pr/prod", "v2.0.0", dm);
	/* The release index still has every child. */
	json_t *m;
	size_t i;
	json_array_foreach(json_object_get(idx, "manifests"), i, m) {
		cr_expect_eq(treg_manifest(plain, "pr/prod", json_string_value(json_object_get(m, "digest")),
					   NULL, d), 200, "child %zu", i);
	}
	json_decref(idx);
	free(body);
	free(one);
	free(multi);
	free(d1);
	free(dm);
}

static void
prune_via(struct proc *p, const char *host, const char *repo, const char *extra_env)
{
	char r[400], tmpenv[600];
	const char *argv[] = { "regpush", "prune", "--json", "--repository", r, "--now",
			       "2035-01-01T00:00:00Z", "--insecure-registry", host, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", "REGPUSH_RETRY_BASE_MS=20", extra_env, NULL };

	snprintf(r, sizeof(r), "%s/%s", host, repo);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	run_regpush(argv, envp, p);
}

/* A registry that fails some deletes: those rows say so, the rest are
 * done, exit 1; a rerun against a healthy registry converges. */
Test(prune, failed_deletes_are_reported_and_the_rest_done, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	const char *imgs[] = { "one.tar", "two.tar", "rev.tar", "other.tar", "rc9.tar", NULL };
	char *tags, doomed[RP_DIGEST_MAX] = "";
	size_t i, nfail = 0, nok = 0;
	struct proc p;
	json_t *j, *t;

	for (i = 0; imgs[i] != NULL; i++) {
		char *a = archive(imgs[i]), tag[32];
		snprintf(tag, sizeof(tag), "dev-%07zx", i + 1);
		treg_copy_in(a, "f-delfail/x", tag);
		free(a);
	}
	{
		char *a = archive("epoch.tar");
		treg_copy_in(a, "f-delfail/x", "dev-latest");
		free(a);
	}
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-delfail/x", NULL);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.err, "regpush: some deletes failed (see the table); a rerun deletes what is left\n") != NULL,
		  "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	/* The proxy fails every DELETE of the first digest it is asked to
	 * delete: exactly that digest's rows carry an error. */
	json_array_foreach(json_object_get(j, "tags"), i, t) {
		const char *d = json_string_value(json_object_get(t, "digest"));
		int failed = json_object_get(t, "error") != NULL && !json_is_null(json_object_get(t, "error"));
		if (failed && doomed[0] == '\0')
			snprintf(doomed, sizeof(doomed), "%s", d);
		if (strcmp(json_string_value(json_object_get(t, "action")), "delete") == 0)
			failed ? nfail++ : nok++;
		else
			cr_expect(!failed, "%s", json_string_value(json_object_get(t, "tag")));
	}
	json_array_foreach(json_object_get(j, "tags"), i, t)
		cr_expect_eq(json_object_get(t, "error") != NULL && !json_is_null(json_object_get(t, "error")),
			     strcmp(json_string_value(json_object_get(t, "digest")), doomed) == 0,
			     "%s", json_string_value(json_object_get(t, "tag")));
	cr_expect_eq(nfail, 1);
	cr_expect_eq(nok, 4);
	json_decref(j);
	proc_free(&p);
	/* The rerun, straight to the registry. */
	prune_via(&p, getenv("REGPUSH_TEST_PLAIN"), "f-delfail/x", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "f-delfail/x");
	cr_expect_str_eq(tags, "dev-latest");
	free(tags);
	expect_dir_empty(tmpd);
}

/*
 * An untag cut short: the expired tag was moved onto regpush's placeholder
 * manifest, then the placeholder's DELETE failed (f-delfail fails every
 * DELETE of the first digest it sees, here the placeholder's). The rerun
 * recognises its own placeholder (config "regpush.untag") and finishes
 * the job instead of keeping the tag as "age unknown"; the kept tag's
 * image is untouched throughout.
 */
Test(prune, an_untag_cut_short_is_finished_by_the_rerun, .init = setup, .fini = teardown,
     .timeout = 120)
{
	struct treg plain = treg_plain();
	char *two = archive("two.tar"), *d2 = source_digest(two), *tags, d[80], *s;
	struct proc p;

	treg_copy_in(two, "f-delfail/untag", "dev-latest");
	treg_copy_in(two, "f-delfail/untag", "dev-3333333");
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-delfail/untag", NULL);
	if (treg_ggcr()) {
		/* This registry deletes tags: the untag is one DELETE of the
		 * tag, no placeholder, and no digest is deleted to fail. */
		cr_expect_eq(p.status, 0, "%s", p.err);
		cr_expect_eq(count_lines(getenv("REGPUSH_TEST_FAULT_LOG"),
					 "DELETE /v2/f-delfail/untag/manifests/dev-3333333 202"), 1);
		cr_expect_eq(count_lines(getenv("REGPUSH_TEST_FAULT_LOG"),
					 "PUT /v2/f-delfail/untag/manifests/dev-3333333 "), 0);
		proc_free(&p);
		expect_tags_at(plain, "f-delfail/untag", "dev-latest", d2);
		tags = treg_tags(plain, "f-delfail/untag");
		cr_expect_str_eq(tags, "dev-latest");
		free(tags);
		free(two);
		free(d2);
		return;
	}
	cr_expect_eq(p.status, 1, "%s", p.err);
	proc_free(&p);
	/* Half-way: the tag is on the placeholder, dev-latest on its image. */
	cr_assert_eq(treg_manifest(plain, "f-delfail/untag", "dev-3333333", NULL, d), 200);
	cr_expect_str_neq(d, d2);
	expect_tags_at(plain, "f-delfail/untag", "dev-latest", d2);
	prune_via(&p, getenv("REGPUSH_TEST_PLAIN"), "f-delfail/untag", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	s = actions(p.out);
	cr_expect_str_eq(s, "dev-3333333:delete dev-latest:keep");
	cr_expect(strstr(p.out, "on the placeholder of an untag cut short") != NULL, "%s", p.out);
	free(s);
	proc_free(&p);
	tags = treg_tags(plain, "f-delfail/untag");
	cr_expect_str_eq(tags, "dev-latest");
	expect_tags_at(plain, "f-delfail/untag", "dev-latest", d2);
	free(tags);
	free(two);
	free(d2);
	expect_dir_empty(tmpd);
}

/* SIGTERM while the deletes are under way: regpush dies of it within
 * 2 s; a rerun converges on the same end state. */
Test(prune, stopped_half_way_then_rerun_converges, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	const char *host = getenv("REGPUSH_TEST_FAULT"), *log = getenv("REGPUSH_TEST_FAULT_LOG");
	const char *imgs[] = { "one.tar", "two.tar", "rev.tar", NULL };
	char r[400], tmpenv[600], *tags;
	const char *argv[] = { "regpush", "prune", "--repository", r, "--now", "2035-01-01T00:00:00Z",
			       "--insecure-registry", host, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", NULL };
	struct bg b;
	struct proc p;
	double t0;
	size_t i;
	int k;

	for (i = 0; imgs[i] != NULL; i++) {
		char *a = archive(imgs[i]), tag[32];
		snprintf(tag, sizeof(tag), "test-%zu", i);
		treg_copy_in(a, "f-delslow/x", tag);
		free(a);
	}
	snprintf(r, sizeof(r), "%s/f-delslow/x", host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	start_regpush(argv, envp, &b);
	for (k = 0; k < 200 && count_lines(log, "BEGIN DELETE /v2/f-delslow/x/") == 0; k++)
		usleep(50000);
	cr_assert_lt(k, 200, "the deletes were reached");
	t0 = mono_now();
	kill(b.pid, SIGTERM);
	wait_bg(&b, &p);
	cr_expect_lt(mono_now() - t0, 2.0);
	cr_expect_eq(p.status, 128 + SIGTERM, "%d %s", p.status, p.err);
	proc_free(&p);
	expect_dir_empty(tmpd);
	sleep(4); /* the proxy finishes what it had started */
	prune_via(&p, getenv("REGPUSH_TEST_PLAIN"), "f-delslow/x", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "f-delslow/x");
	cr_expect_str_eq(tags, "");
	free(tags);
}

/* mode: prune from inputs alone: the service from GITHUB_REPOSITORY, its
 * development and production repositories; the summary has the counts. */
Test(prune, as_the_runner_starts_the_action, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	char *one = archive("one.tar"), *two = archive("two.tar"), dev[300], prod[300], ins[300];
	char tmpenv[600], e_sum[700], sump[600], *sum, *tags;
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=prune", "GITHUB_REPOSITORY=acme/PR-Act",
			       dev, prod, ins, tmpenv, e_sum, "HOME=/root", NULL };
	struct proc p;

	treg_copy_in(one, "pa/dev/pr-act", "dev-1234567");
	treg_copy_in(two, "pa/prod/pr-act", "staging-v1.0.0-rc.1");
	treg_copy_in(two, "pa/prod/pr-act", "v1.0.0");
	snprintf(dev, sizeof(dev), "INPUT_DEV-REGISTRY=%s/pa/dev", host);
	snprintf(prod, sizeof(prod), "INPUT_PROD-REGISTRY=%s/pa/prod", host);
	snprintf(ins, sizeof(ins), "INPUT_INSECURE-REGISTRIES=%s", host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(sump, sizeof(sump), "%s/summary", dir);
	snprintf(e_sum, sizeof(e_sum), "GITHUB_STEP_SUMMARY=%s", sump);
	free(write_file(dir, "summary", ""));
	/* Without --now, the clock: the images are minutes old, nothing goes. */
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	sum = read_all(sump);
	cr_expect(strstr(sum, "### regpush prune: unchanged\n\n0 tags deleted, 3 kept, 0 failed\n") != NULL, "%s", sum);
	free(sum);
	proc_free(&p);
	tags = treg_tags(plain, "pa/dev/pr-act");
	cr_expect_str_eq(tags, "dev-1234567");
	free(tags);
	free(one);
	free(two);
}

/* The digest of an index's first entry (the index read from plain). */
static void
first_entry(const char *repo, const char *tag, char out[RP_DIGEST_MAX])
{
	char *body = NULL, d[80];
	json_t *j;

	cr_assert_eq(treg_manifest(treg_plain(), repo, tag, &body, d), 200);
	j = json_loads(body, 0, NULL);
	cr_assert_not_null(j);
	snprintf(out, RP_DIGEST_MAX, "%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(j, "manifests"), 0), "digest")));
	json_decref(j);
	free(body);
}

/* The line numbers (from 1) in log of the lines containing needle, at
 * most max of them; returns how many. */
static size_t
lines_with(const char *path, const char *needle, size_t *at, size_t max)
{
	char *log = read_all(path), *line, *save = NULL;
	size_t n = 0, k = 0;

	for (line = log != NULL ? strtok_r(log, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		k++;
		if (strstr(line, needle) != NULL && n < max)
			at[n++] = k;
	}
	free(log);
	return n;
}

/* Issue 18: where the registry deletes tags, the untags go concurrently
 * (the first alone: its answer says whether tag DELETE works). f-delslow
 * holds every DELETE 3 s: all the later DELETEs arrive before the second
 * is answered. On distribution each untag is a placeholder PUT and a
 * DELETE by digest, one tag at a time. */
Test(prune, untags_go_concurrently_where_tags_can_be_deleted, .init = setup, .fini = teardown,
     .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *d1 = source_digest(one), *tags;
	const char *put[] = { "python3", "tests/put-tags.py", getenv("REGPUSH_TEST_PLAIN"), "f-delslow/untags",
			      "dev-latest", "dev-", "6", NULL };
	const char *envp0[] = { NULL };
	size_t begin[16], done[16], nb, nd;
	struct proc p;

	if (!treg_ggcr()) {
		free(one);
		free(d1);
		return; /* distribution 2.8 refuses DELETE of a tag: see above */
	}
	treg_copy_in(one, "f-delslow/untags", "dev-latest");
	run_prog("python3", put, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-delslow/untags", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	nb = lines_with(getenv("REGPUSH_TEST_FAULT_LOG"), "BEGIN DELETE /v2/f-delslow/untags/manifests/dev-0", begin, 16);
	nd = lines_with(getenv("REGPUSH_TEST_FAULT_LOG"), "DELETE /v2/f-delslow/untags/manifests/dev-0", done, 16);
	cr_assert_eq(nb, 6);
	cr_assert_eq(nd, 12); /* each BEGIN line, and each answer */
	/* done[] mixes BEGIN and answer lines: the answers are those not in begin[]. */
	{
		size_t i, k, answers = 0, second = 0;
		for (i = 0; i < nd && second == 0; i++) {
			for (k = 0; k < nb && begin[k] != done[i]; k++)
				;
			if (k == nb && ++answers == 2)
				second = done[i];
		}
		cr_expect_gt(second, begin[5], "the last five DELETEs were sent before the second was answered");
	}
	expect_tags_at(plain, "f-delslow/untags", "dev-latest", d1);
	tags = treg_tags(plain, "f-delslow/untags");
	cr_expect_str_eq(tags, "dev-latest");
	free(tags);
	free(one);
	free(d1);
}

static void
http_delete(const char *repo, const char *digest)
{
	char url[600];
	const char *argv[] = { "curl", "-sf", "-X", "DELETE", url, NULL };
	const char *envp[] = { NULL };
	struct proc p;

	snprintf(url, sizeof(url), "http://%s/v2/%s/manifests/%s", getenv("REGPUSH_TEST_PLAIN"), repo, digest);
	run_prog("curl", argv, envp, &p);
	cr_assert_eq(p.status, 0, "DELETE %s", url);
	proc_free(&p);
}

/* Issue 17, finding 2: an index whose first entry is gone (a delete cut
 * short) is a "dangling index" row that goes, not a failed run; the rest
 * of the repository is pruned too. */
Test(prune, a_dangling_index_blocks_nothing, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *multi = archive("multi.tar"), *one = archive("one.tar"), kid[RP_DIGEST_MAX], d[80], *tags;
	struct proc p;

	treg_copy_in(multi, "pr-dangle/x", "test-multi");
	treg_copy_in(one, "pr-dangle/x", "dev-1111111");
	first_entry("pr-dangle/x", "test-multi", kid);
	http_delete("pr-dangle/x", kid);
	prune_via(&p, getenv("REGPUSH_TEST_PLAIN"), "pr-dangle/x", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.out, "\"reason\": \"dangling index (an entry is gone)\"") != NULL, "%s", p.out);
	proc_free(&p);
	tags = treg_tags(plain, "pr-dangle/x");
	cr_expect_str_eq(tags, "");
	free(tags);
	cr_expect_eq(treg_manifest(plain, "pr-dangle/x", "test-multi", NULL, d), 404);
	free(multi);
	free(one);
}

/* Issue 17, finding 2: an index is deleted before its entries, and an
 * entry only once its index is gone. f-delfail fails every DELETE of the
 * first digest asked (now always the index): the tagged entry stays, so
 * no index is left dangling; exit 1, and the rerun converges. */
Test(prune, an_index_goes_before_its_entries, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *multi = archive("multi.tar"), kid[RP_DIGEST_MAX], d[80], *tags;
	const char *put[] = { "python3", "tests/put-tags.py", getenv("REGPUSH_TEST_PLAIN"), "f-delfail/order",
			      kid, "dev-", "1", NULL };
	const char *envp0[] = { NULL };
	struct proc p;

	treg_copy_in(multi, "f-delfail/order", "test-multi");
	first_entry("f-delfail/order", "test-multi", kid);
	/* The entry tagged on its own as well: dev-0000000. */
	run_prog("python3", put, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-delfail/order", NULL);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.out, "not deleted: an index listing it could not be deleted") != NULL, "%s", p.out);
	proc_free(&p);
	cr_expect_eq(treg_manifest(plain, "f-delfail/order", "test-multi", NULL, d), 200, "the index stays");
	cr_expect_eq(treg_manifest(plain, "f-delfail/order", kid, NULL, d), 200, "and so does its entry");
	/* The rerun, straight to the registry. */
	prune_via(&p, getenv("REGPUSH_TEST_PLAIN"), "f-delfail/order", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "f-delfail/order");
	cr_expect_str_eq(tags, "");
	free(tags);
	free(multi);
}

/* Issue 17, finding 5: `latest` listed but answering 404 (a lagging
 * replica): it is read again, and while it cannot be resolved nothing in
 * the repository is deleted by digest — the expired tag is only
 * untagged, its image stays (it may be latest's). */
Test(prune, an_unreadable_kept_tag_protects_everything, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *d1, d[80], *tags;
	struct proc p;

	d1 = source_digest(one);
	treg_copy_in(one, "f-lag/x", "dev-1111111");
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-lag/x", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.out, "listed but not readable") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "latest could not be read (its image may be this one)") != NULL, "%s", p.out);
	proc_free(&p);
	tags = treg_tags(plain, "f-lag/x");
	cr_expect_str_eq(tags, "");
	free(tags);
	cr_expect_eq(treg_manifest(plain, "f-lag/x", d1, NULL, d), 200, "the image stays");
	free(d1);
	free(one);
}

/* Issue 17, finding 6: a tag pushed again while prune decides is read
 * again right before its untag and left alone (kept: moved meanwhile). */
Test(prune, a_tag_pushed_meanwhile_is_not_untagged, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *two = archive("two.tar"), *d2;
	struct proc p;

	d2 = source_digest(two);
	treg_copy_in(one, "f-repush/x", "feature-x");
	treg_copy_in(one, "f-repush/x", "dev-latest");
	treg_copy_in(two, "f-repush/x", "seed");
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-repush/x", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.out, "\"reason\": \"kept: moved meanwhile\"") != NULL, "%s", p.out);
	proc_free(&p);
	expect_tags_at(plain, "f-repush/x", "feature-x seed", d2);
	free(d2);
	free(one);
	free(two);
}

/* Issue 17 (from reading the code): a blob redirect through a long
 * Location (a presigned CDN URL; 5,000 bytes here) is followed whole; one
 * too long to keep (20,000) is an error naming the header, never a cut
 * URL followed. */
Test(prune, a_long_redirect_works_and_a_huge_one_is_refused, .init = setup, .fini = teardown,
     .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *tags;
	struct proc p;

	treg_copy_in(one, "f-longloc/x", "dev-1111111");
	treg_copy_in(one, "f-longloc-huge/x", "dev-1111111");
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-longloc/x", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "f-longloc/x");
	cr_expect_str_eq(tags, "", "the config was read through the redirect, the tag expired");
	free(tags);
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "f-longloc-huge/x", NULL);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.err, "the Location header of the answer to GET f-longloc-huge/x") != NULL &&
		  strstr(p.err, "is too long to keep (an answer is refused, never cut)") != NULL, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "f-longloc-huge/x");
	cr_expect_str_eq(tags, "dev-1111111", "nothing deleted");
	free(tags);
	free(one);
}

/* Issue 18: only a kept index has children to protect, so only kept
 * digests whose HEAD says index (or cannot tell) are read: a kept image
 * manifest costs its HEAD and nothing more. The kept index is read (its
 * children stay), the expired image goes. */
Test(prune, only_kept_indexes_are_read, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	const char *log = getenv("REGPUSH_TEST_FAULT_LOG");
	char *one = archive("one.tar"), *two = archive("two.tar"), *multi = archive("multi.tar");
	char *d1 = source_digest(one), *dm = source_digest(multi), needle[300], *tags;
	struct proc p;

	treg_copy_in(one, "pr-kinds/x", "dev-latest");
	treg_copy_in(multi, "pr-kinds/x", "staging-latest");
	treg_copy_in(two, "pr-kinds/x", "dev-2222222");
	prune_via(&p, getenv("REGPUSH_TEST_FAULT"), "pr-kinds/x", NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	snprintf(needle, sizeof(needle), "GET /v2/pr-kinds/x/manifests/%s ", d1);
	cr_expect_eq(count_lines(log, needle), 0, "the kept image manifest is not read");
	snprintf(needle, sizeof(needle), "GET /v2/pr-kinds/x/manifests/%s ", dm);
	cr_expect_geq(count_lines(log, needle), 1, "the kept index is read");
	tags = treg_tags(plain, "pr-kinds/x");
	cr_expect_str_eq(tags, "dev-latest staging-latest");
	free(tags);
	expect_tags_at(plain, "pr-kinds/x", "dev-latest", d1);
	expect_tags_at(plain, "pr-kinds/x", "staging-latest", dm);
	free(one);
	free(two);
	free(multi);
	free(d1);
	free(dm);
}
