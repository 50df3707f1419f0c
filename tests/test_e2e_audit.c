/*
 * End to end: regpush audit against a real registry seeded with every
 * kind of drift; the exact findings, the exit codes, the outputs, and
 * the reads it makes (one listing per repository, one HEAD per tag, one
 * read per distinct manifest and config).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "helpers.h"
#include "testreg.h"

E2E_DIRS_FIXTURE

/* Deletes repo@digest (an index's entry, leaving the index dangling). */
static void
delete_digest(const char *repo, const char *digest)
{
	char ref[400];
	const char *argv[] = { "skopeo", "delete", "--tls-verify=false", ref, NULL };
	const char *envp[] = { "HOME=/root", NULL };
	struct proc p;

	snprintf(ref, sizeof(ref), "docker://%s/%s@%s", getenv("REGPUSH_TEST_PLAIN"), repo, digest);
	run_prog("skopeo", argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s: %s", ref, p.err);
	proc_free(&p);
}

/* "now + days" as RFC 3339. */
static void
days_from_now(int days, char *buf, size_t size)
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* regpush audit --json with the registries dev (development) and prod
 * (production) under the plain registry, service svc; extra flags after. */
static void
audit(struct proc *p, const char *host, const char *dev, const char *prod, const char *now,
      const char *const *extra, const char *const *env)
{
	char d[300], pr[300], tmpenv[600];
	const char *argv[32] = { "regpush", "audit", "--json", "--service", "svc", "--dev-registry", d,
				 "--prod-registry", pr, "--now", now, "--insecure-registry", host };
	const char *envp[16] = { tmpenv, "HOME=/root", "REGPUSH_RETRY_BASE_MS=20" };
	size_t n = 13, e = 3, i;

	snprintf(d, sizeof(d), "%s/%s", host, dev);
	snprintf(pr, sizeof(pr), "%s/%s", host, prod);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[n++] = extra[i];
	for (i = 0; env != NULL && env[i] != NULL; i++)
		envp[e++] = env[i];
	run_regpush(argv, envp, p);
}

/* Every finding of a --json report as "repo-tail tag severity kind: message",
 * one per line. */
static char *
findings(const char *out, size_t *errors, size_t *warnings)
{
	json_t *j = json_loads(out, 0, NULL), *f;
	size_t i;
	char *s = strdup(""), *n;

	cr_assert_not_null(j, "%s", out);
	*errors = (size_t)json_integer_value(json_object_get(j, "errors"));
	*warnings = (size_t)json_integer_value(json_object_get(j, "warnings"));
	json_array_foreach(json_object_get(j, "findings"), i, f) {
		const char *repo = json_string_value(json_object_get(f, "repository"));
		cr_assert_not_null(repo);
		cr_expect_str_eq(json_string_value(json_object_get(f, "service")), "svc");
		cr_assert(asprintf(&n, "%s%s %s %s %s: %s\n", s, strchr(repo, '/') + 1,
				   json_string_value(json_object_get(f, "tag")),
				   json_string_value(json_object_get(f, "severity")),
				   json_string_value(json_object_get(f, "kind")),
				   json_string_value(json_object_get(f, "message"))) > 0);
		free(s);
		s = n;
	}
	json_decref(j);
	return s;
}

/* The second entry of the index at repo:tag. */
static void
second_entry(const char *repo, const char *tag, char out[80])
{
	char *body = NULL, d[80];
	json_t *j;

	cr_assert_eq(treg_manifest(treg_plain(), repo, tag, &body, d), 200);
	j = json_loads(body, 0, NULL);
	snprintf(out, 80, "%s", json_string_value(json_object_get(
	    json_array_get(json_object_get(j, "manifests"), 1), "digest")));
	json_decref(j);
	free(body);
}

/*
 * Each kind of drift, seeded in a development and a production
 * repository, 40 days on: the exact findings, in repository, tag and kind
 * order, and exit 3. Nothing is written.
 */
Test(audit, every_drift_is_found, .init = setup, .fini = teardown, .timeout = 180)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *two = archive("two.tar"), *rev = archive("rev.tar");
	char *revexp = archive("revexp.tar"), *rc9 = archive("rc9.tar"), *multi = archive("multi.tar");
	char *revmulti = archive("revmulti.tar");
	char *dtwo = source_digest(two), *drev = source_digest(rev), *dexp = source_digest(revexp);
	char kid[80], now[40], *got, *want, *before, *after;
	size_t errors, warnings;
	struct proc p;

	treg_copy_in(one, "auddev/svc", "dev-1111111");
	treg_copy_in(two, "auddev/svc", "v9.9.9");
	treg_copy_in(multi, "auddev/svc", "test-multi");
	second_entry("auddev/svc", "test-multi", kid);
	delete_digest("auddev/svc", kid);
	treg_copy_in(one, "audprod/svc", "dev-1234567");
	treg_copy_in(rev, "audprod/svc", "v1.0.0");
	treg_copy_in(rc9, "audprod/svc", "v1.1.0");
	treg_copy_in(rc9, "audprod/svc", "staging-v1.1.0-rc.1");
	treg_copy_in(two, "audprod/svc", "v1.2.0");
	treg_copy_in(revmulti, "audprod/svc", "staging-v1.2.0-rc.1");
	treg_copy_in(revmulti, "audprod/svc", "staging-latest");
	treg_copy_in(rev, "audprod/svc", "v1.2");
	treg_copy_in(two, "audprod/svc", "v1");
	treg_copy_in(revexp, "audprod/svc", "v2.0.0");
	treg_copy_in(two, "audprod/svc", "latest");
	treg_copy_in(rev, "audprod/svc", "nightly");
	before = treg_tags(plain, "audprod/svc");
	days_from_now(40, now, sizeof(now));
	audit(&p, plain.host, "auddev", "audprod", now, NULL, NULL);
	cr_expect_eq(p.status, 3, "%s", p.err);
	cr_expect_str_eq(p.err, "regpush: the registry has drifted from the policy: 6 errors (see the findings)\n");
	got = findings(p.out, &errors, &warnings);
	cr_assert(asprintf(&want,
		"auddev/svc dev-1111111 warning expired: dev-1111111 is past development retention (40 days old): prune would delete its image\n"
		"auddev/svc test-multi warning expired: test-multi is past test retention (40 days old): prune would delete its image\n"
		"auddev/svc test-multi warning missing-child: test-multi is an index whose entry %s is gone: it cannot be pulled\n"
		"auddev/svc v9.9.9 error misplaced: v9.9.9 is a production tag in the development repository; production images go to %s/audprod\n"
		"audprod/svc dev-1234567 error misplaced: dev-1234567 is a development tag in the production repository; development images go to %s/auddev\n"
		"audprod/svc dev-1234567 warning expired: dev-1234567 is past development retention (40 days old): prune would delete its image\n"
		"audprod/svc latest error floating-behind: latest is not on the newest release of its line, v2.0.0 (latest is on %s, v2.0.0 on %s)\n"
		"audprod/svc nightly warning no-pattern: nightly matches no pattern of the policy (kept by prune)\n"
		"audprod/svc v1.2 error floating-behind: v1.2 is not on the newest release of its line, v1.2.0 (v1.2 is on %s, v1.2.0 on %s)\n"
		"audprod/svc v1.2.0 error no-revision: v1.2.0's image has no org.opencontainers.image.revision label: nothing says which commit it was built from\n"
		"audprod/svc v1.2.0 warning rebuilt: v1.2.0 is on none of the images of its 1 candidate (staging-v1.2.0-rc.1): it was rebuilt, not promoted\n"
		"audprod/svc v2.0.0 error expiring-release: v2.0.0's image carries quay.expires-after: Quay would delete a release kept forever\n",
		kid, plain.host, plain.host, dtwo, dexp, drev, dtwo) > 0);
	cr_expect_str_eq(got, want);
	cr_expect_eq(errors, 6);
	cr_expect_eq(warnings, 6);
	after = treg_tags(plain, "audprod/svc");
	cr_expect_str_eq(after, before, "audit wrote nothing");
	proc_free(&p);
	free(got);
	free(want);
	free(before);
	free(after);
	free(one);
	free(two);
	free(rev);
	free(revexp);
	free(rc9);
	free(multi);
	free(revmulti);
	free(dtwo);
	free(drev);
	free(dexp);
}

/* A repository that matches the policy: exit 0; in Actions the outputs
 * errors=0, warnings=0, result=clean, and a summary; the text table's
 * last line. */
Test(audit, a_clean_registry, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *rev = archive("rev.tar"), *one = archive("one.tar"), now[40], *out, *sum, *outp, *sump;
	char e_out[600], e_sum[600];
	const char *env[] = { "GITHUB_ACTIONS=true", e_out, e_sum, NULL };
	const char *text[] = { NULL };
	struct proc p;
	size_t errors, warnings;
	char *got;

	treg_copy_in(one, "cleandev/svc", "dev-1111111");
	treg_copy_in(one, "cleandev/svc", "dev-latest");
	treg_copy_in(rev, "cleanprod/svc", "v1.0.0");
	treg_copy_in(rev, "cleanprod/svc", "v1.0");
	treg_copy_in(rev, "cleanprod/svc", "v1");
	treg_copy_in(rev, "cleanprod/svc", "latest");
	days_from_now(1, now, sizeof(now));
	outp = write_file(dir, "output", "");
	sump = write_file(dir, "summary", "");
	snprintf(e_out, sizeof(e_out), "GITHUB_OUTPUT=%s", outp);
	snprintf(e_sum, sizeof(e_sum), "GITHUB_STEP_SUMMARY=%s", sump);
	audit(&p, plain.host, "cleandev", "cleanprod", now, NULL, env);
	cr_expect_eq(p.status, 0, "%s", p.err);
	got = findings(p.out, &errors, &warnings);
	cr_expect_str_eq(got, "");
	cr_expect_eq(errors + warnings, 0);
	free(got);
	proc_free(&p);
	out = read_all(outp);
	sum = read_all(sump);
	cr_expect(strstr(out, "errors=0\nwarnings=0\n") != NULL, "%s", out);
	cr_expect(strstr(out, "json={\"errors\":0,\"warnings\":0,\"findings\":[]}\n") != NULL, "%s", out);
	cr_expect(strstr(out, "result=clean\n") != NULL, "%s", out);
	cr_expect_str_eq(sum, "### regpush audit: clean\n\n0 errors, 0 warnings in 2 repositories\n\n"
			 "#### svc\n\nNo drift.\n");
	free(out);
	free(sum);
	/* The text table: a header and the count. */
	{
		const char *argv[] = { "regpush", "audit", "--service", "svc", "--dev-registry", NULL,
				       "--prod-registry", NULL, "--insecure-registry", plain.host, NULL };
		char d[300], pr[300];
		const char *envp[] = { "HOME=/root", NULL };
		snprintf(d, sizeof(d), "%s/cleandev", plain.host);
		snprintf(pr, sizeof(pr), "%s/cleanprod", plain.host);
		argv[5] = d;
		argv[7] = pr;
		(void)text;
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, 0, "%s", p.err);
		cr_expect(strncmp(p.out, "SEVERITY KIND ", 14) == 0, "%s", p.out);
		cr_expect(strstr(p.out, "\n0 errors, 0 warnings in 2 repositories\n") != NULL, "%s", p.out);
		proc_free(&p);
	}
	free(outp);
	free(sump);
	free(rev);
	free(one);
}

/* In Actions a drift is result=drift with the counts, and the summary
 * lists the findings under the service. */
Test(audit, drift_in_actions, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *two = archive("two.tar"), now[40], *out, *sum, *outp, *sump, e_out[600], e_sum[600];
	const char *env[] = { "GITHUB_ACTIONS=true", e_out, e_sum, NULL };
	struct proc p;

	treg_copy_in(two, "drdev/svc", "v1.0.0");
	days_from_now(1, now, sizeof(now));
	outp = write_file(dir, "output", "");
	sump = write_file(dir, "summary", "");
	snprintf(e_out, sizeof(e_out), "GITHUB_OUTPUT=%s", outp);
	snprintf(e_sum, sizeof(e_sum), "GITHUB_STEP_SUMMARY=%s", sump);
	audit(&p, plain.host, "drdev", "drprod", now, NULL, env);
	cr_expect_eq(p.status, 3, "%s", p.err);
	proc_free(&p);
	out = read_all(outp);
	sum = read_all(sump);
	cr_expect(strstr(out, "errors=1\nwarnings=0\n") != NULL, "%s", out);
	cr_expect(strstr(out, "result=drift\n") != NULL, "%s", out);
	cr_expect(strstr(sum, "### regpush audit: drift\n\n") == sum, "%s", sum);
	cr_expect(strstr(sum, "1 error, 0 warnings in 2 repositories\n\n#### svc\n\n"
			 "| Severity | Kind | Repository | Tag | Message |\n|---|---|---|---|---|\n"
			 "| **error** | misplaced | `") != NULL, "%s", sum);
	free(out);
	free(sum);
	free(outp);
	free(sump);
	free(two);
}

/* A registry that cannot be read is exit 1 even with errors found in the
 * other repository (1 wins), and those are still reported. */
Test(audit, a_failed_read_wins, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *two = archive("two.tar"), d[300], pr[300], tmpenv[600], *got;
	const char *argv[] = { "regpush", "audit", "--json", "--service", "svc", "--dev-registry", d,
			       "--prod-registry", pr, "--insecure-registry", plain.host,
			       "--insecure-registry", "127.0.0.1:9", NULL };
	const char *envp[] = { tmpenv, "HOME=/root", "REGPUSH_HTTP_ATTEMPTS=1", NULL };
	size_t errors, warnings;
	struct proc p;

	treg_copy_in(two, "fdev/svc", "v1.0.0");
	snprintf(d, sizeof(d), "%s/fdev", plain.host);
	snprintf(pr, sizeof(pr), "127.0.0.1:9/fprod");
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.err, "regpush: 1 of 2 repositories could not be read (") != NULL, "%s", p.err);
	got = findings(p.out, &errors, &warnings);
	cr_expect(strstr(got, "fdev/svc v1.0.0 error misplaced: ") == got, "%s", got);
	cr_expect_eq(errors, 1);
	free(got);
	proc_free(&p);
	free(two);
}

/* A --repository takes its role from the registry it is under; under
 * neither is exit 2 naming both. */
Test(audit, a_repository_needs_a_role, .init = setup, .fini = teardown, .timeout = 60)
{
	struct treg plain = treg_plain();
	char r[300], d[300], pr[300], want[900];
	const char *argv[] = { "regpush", "audit", "--repository", r, "--dev-registry", d,
			       "--prod-registry", pr, "--insecure-registry", plain.host, NULL };
	const char *envp[] = { "HOME=/root", NULL };
	struct proc p;

	snprintf(r, sizeof(r), "%s/elsewhere/svc", plain.host);
	snprintf(d, sizeof(d), "%s/roledev", plain.host);
	snprintf(pr, sizeof(pr), "%s/roleprod", plain.host);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 2, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: repository %s/elsewhere/svc is under neither the development "
		 "registry (%s/roledev) nor the production one (%s/roleprod), or under both: audit needs its "
		 "role (set --dev-registry or --prod-registry)\n", plain.host, plain.host, plain.host);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
	/* Under the development one ("roledevx" is not under "roledev"). */
	snprintf(r, sizeof(r), "%s/roledevx/svc", plain.host);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 2, "%s", p.err);
	proc_free(&p);
	snprintf(r, sizeof(r), "%s/roledev/svc", plain.host);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.out, "\n0 errors, 0 warnings in 1 repository\n") != NULL, "%s", p.out);
	proc_free(&p);
}

/* The reads, counted at the fault proxy (no fault for these names): one
 * tag listing per repository, one HEAD per tag, and no manifest or blob
 * read twice. */
Test(audit, reads_each_thing_once, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *fault = getenv("REGPUSH_TEST_FAULT"), *log = getenv("REGPUSH_TEST_FAULT_LOG");
	char *one = archive("one.tar"), *rev = archive("rev.tar"), *multi = archive("revmulti.tar");
	char now[40], line[2048];
	const char *tags[] = { "v1.0.0", "v1.0", "v1", "latest", "staging-v1.0.0-rc.1", "staging-latest",
			       "v2.0.0", "nightly", NULL };
	json_t *seen = json_object();
	size_t i, lists = 0, heads = 0, dup = 0;
	struct proc p;
	FILE *f;

	for (i = 0; tags[i] != NULL; i++)
		treg_copy_in(i < 4 ? rev : i < 6 ? multi : one, "rdprod/svc", tags[i]);
	treg_copy_in(one, "rddev/svc", "dev-1111111");
	days_from_now(1, now, sizeof(now));
	audit(&p, fault, "rddev", "rdprod", now, NULL, NULL);
	cr_expect_eq(p.status, 3, "%s", p.err); /* latest is behind v2.0.0 */
	proc_free(&p);
	cr_assert_not_null(f = fopen(log, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		char method[16], path[1500];
		if (sscanf(line, "%15s %1499s", method, path) != 2 || strncmp(path, "/v2/rd", 6) != 0)
			continue;
		if (strstr(path, "/tags/list") != NULL)
			lists++;
		else if (strcmp(method, "HEAD") == 0)
			heads++;
		else if (strcmp(method, "GET") == 0) {
			if (json_object_get(seen, path) != NULL)
				dup++;
			json_object_set_new(seen, path, json_true());
		}
	}
	fclose(f);
	cr_expect_eq(lists, 2);
	cr_expect_eq(heads, 9);
	cr_expect_eq(dup, 0, "a manifest or blob read twice");
	/* Development: one manifest and its config. Production: rev,
	 * revmulti, its arm64 entry and one (rev is revmulti's first entry,
	 * read once), and the configs of rev and one (revmulti's is its first
	 * entry's): 8 reads in all. */
	cr_expect_eq(json_object_size(seen), 8, "%zu reads", json_object_size(seen));
	json_decref(seen);
	free(one);
	free(rev);
	free(multi);
}

/* An index of indexes (a release whose one entry is itself a multi-arch
 * index) has no config of its own to read a revision from: audit cannot
 * tell, and says nothing (it said no-revision, an error, before). */
Test(audit, an_index_of_indexes_is_not_a_missing_revision, .init = setup, .fini = teardown,
     .timeout = 120)
{
	struct treg plain = treg_plain();
	char *revmulti = archive("revmulti.tar"), *one = archive("one.tar"), now[40], *got, *nested;
	const char *args[] = { "nest", plain.host, "nestprod/svc", "v1.0.0", "v1.0.0", "v1.0", "v1",
			       "latest", NULL };
	struct proc p;
	size_t errors, warnings;

	treg_copy_in(one, "nestdev/svc", "dev-1111111");
	treg_copy_in(revmulti, "nestprod/svc", "v1.0.0");
	nested = forge(args);
	days_from_now(1, now, sizeof(now));
	audit(&p, plain.host, "nestdev", "nestprod", now, NULL, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	got = findings(p.out, &errors, &warnings);
	cr_expect_str_eq(got, "");
	cr_expect_eq(errors + warnings, 0);
	free(got);
	/* The tags really are on the index of indexes. */
	{
		char d[80];
		const char *tags[] = { "v1.0.0", "v1.0", "v1", "latest" };
		size_t i;
		for (i = 0; i < 4; i++) {
			cr_assert_eq(treg_manifest(plain, "nestprod/svc", tags[i], NULL, d), 200);
			cr_expect_str_eq(d, nested, "%s", tags[i]);
		}
	}
	proc_free(&p);
	free(nested);
	free(revmulti);
	free(one);
}
