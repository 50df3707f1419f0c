/*
 * End to end: what every run reports (CONTRACT §5) — the outputs and the
 * step summary of refused, failed and dry runs, kept and rolled-back
 * tags, the engine's progress as it comes, prune's summary at thousands
 * of rows and several services in one prune — against the test
 * registries (tests/with-registries.sh).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "testreg.h"

static char *dir, *tmpd, *outp, *sump, e_out[700], e_sum[700], e_tmp[700];

static void
setup(void)
{
	dir = tmpdir_new();
	outp = write_file(dir, "output", "");
	sump = write_file(dir, "summary", "");
	cr_assert(asprintf(&tmpd, "%s/tmp", dir) > 0);
	cr_assert_eq(mkdir(tmpd, 0700), 0);
	snprintf(e_out, sizeof(e_out), "GITHUB_OUTPUT=%s", outp);
	snprintf(e_sum, sizeof(e_sum), "GITHUB_STEP_SUMMARY=%s", sump);
	snprintf(e_tmp, sizeof(e_tmp), "TMPDIR=%s", tmpd);
}

static void
teardown(void)
{
	rm_rf(dir);
	free(dir);
	free(tmpd);
	free(outp);
	free(sump);
}

static void
reset_files(void)
{
	free(write_file(dir, "output", ""));
	free(write_file(dir, "summary", ""));
}

/* regpush push in a workflow's run: step (GITHUB_ACTIONS=true, flags)
 * against registry `host` (prod and dev under it). */
static void
push_gha(struct proc *p, const char *host, const char *archive_name, const char *ref,
	 const char *service, const char *const *flags)
{
	char src[700], dev[300], prod[300];
	const char *argv[30] = { "regpush", "push", "--source", src, "--ref", ref, "--sha", SHA40,
				 "--service", service, "--dev-registry", dev, "--prod-registry", prod,
				 "--insecure-registry", host };
	const char *envp[] = { "GITHUB_ACTIONS=true", e_out, e_sum, e_tmp, "HOME=/root",
			       "SOURCE_DATE_EPOCH=1800000000", NULL };
	size_t a = 16, i;
	char *img = archive(archive_name);

	snprintf(src, sizeof(src), "%s", img);
	snprintf(dev, sizeof(dev), "%s/dev", host);
	snprintf(prod, sizeof(prod), "%s/prod", host);
	for (i = 0; flags != NULL && flags[i] != NULL; i++)
		argv[a++] = flags[i];
	argv[a] = NULL;
	reset_files();
	run_regpush(argv, envp, p);
	free(img);
}

static char *
digest_of(const char *archive_name)
{
	char src[700], *img = archive(archive_name), *d;

	snprintf(src, sizeof(src), "%s", img);
	d = source_digest(src);
	free(img);
	return d;
}

static char *
outputs(void)
{
	char *out = read_all(outp);

	cr_assert_not_null(out);
	cr_expect_neq(normalise_delimiters(out), -1);
	return out;
}

/* A push that fails half-way (every PUT of `latest` answered 500): the
 * outputs say failed, with the error and the image; the summary shows
 * each tag written or not, as the registry holds them. */
Test(report, failed_push_shows_its_table, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *h = getenv("REGPUSH_TEST_FAULT");
	char *d = digest_of("one.tar"), *out, *sum, want[2000];
	struct proc p;

	push_gha(&p, h, "one.tar", "refs/tags/v1.0.0", "f-putlatest-rep", NULL);
	cr_assert_eq(p.status, 1, "%s%s", p.out, p.err);
	out = outputs();
	cr_expect(strstr(out, "\nresult=failed\n") != NULL, "%s", out);
	snprintf(want, sizeof(want), "\nerror=registry %s (PUT prod/f-putlatest-rep:latest): HTTP 500 "
		 "UNKNOWN: cannot write latest (after 5 attempts)\n", h);
	cr_expect(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof(want), "\nimage=%s/prod/f-putlatest-rep@%s\n", h, d);
	cr_expect(strstr(out, want) != NULL, "%s", out);
	sum = read_all(sump);
	snprintf(want, sizeof(want), "### regpush push: failed\n\n**Failed**: registry %s (PUT "
		 "prod/f-putlatest-rep:latest): HTTP 500 UNKNOWN: cannot write latest (after 5 attempts)\n\n", h);
	cr_expect_eq(strncmp(sum, want, strlen(want)), 0, "%s", sum);
	cr_expect(strstr(sum, "| `v1.0.0` | immutable | pushed |\n| `v1.0` | floating | pushed |\n"
			 "| `v1` | floating | pushed |\n| `latest` | floating | not-written |\n") != NULL,
		  "%s", sum);
	snprintf(want, sizeof(want), "Pull by digest: `docker pull %s/prod/f-putlatest-rep@%s`\n", h, d);
	cr_expect(strstr(sum, want) != NULL, "%s", sum);
	free(out);
	free(sum);
	free(d);
	proc_free(&p);
	expect_dir_empty(tmpd);
}

/* Refused (a release that exists with another digest): exit 3, result
 * refused, every tag not written, the refusal in the summary. */
Test(report, refused_push_writes_outputs, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *d1 = digest_of("one.tar"), *out, *sum;
	struct proc p;

	push_gha(&p, r.host, "one.tar", "refs/tags/v3.0.0", "rep-refused", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	out = outputs();
	cr_expect(strstr(out, "\nresult=pushed\n") != NULL, "%s", out);
	free(out);
	proc_free(&p);
	/* The same again: nothing to write. */
	push_gha(&p, r.host, "one.tar", "refs/tags/v3.0.0", "rep-refused", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	out = outputs();
	cr_expect(strstr(out, "\nresult=unchanged\n") != NULL, "%s", out);
	free(out);
	proc_free(&p);
	push_gha(&p, r.host, "two.tar", "refs/tags/v3.0.0", "rep-refused", NULL);
	cr_assert_eq(p.status, 3, "%s%s", p.out, p.err);
	out = outputs();
	cr_expect(strstr(out, "\nresult=refused\nerror=refused: ") != NULL, "%s", out);
	cr_expect(strstr(out, "is immutable and already points at") != NULL, "%s", out);
	cr_expect(strstr(out, "\"status\":\"not-written\"") != NULL, "%s", out);
	free(out);
	sum = read_all(sump);
	cr_expect_eq(strncmp(sum, "### regpush push: refused\n\n**Refused**: refused: ", 48), 0, "%s", sum);
	cr_expect(strstr(sum, "| `v3.0.0` | immutable | not-written |\n| `v3.0` | floating | not-written |\n") != NULL,
		  "%s", sum);
	free(sum);
	proc_free(&p);
	expect_tags_at(r, "prod/rep-refused", "v3.0.0 v3.0 v3 latest", d1);
	free(d1);
}

Test(report, dry_run_is_planned, .init = setup, .fini = teardown, .timeout = 60)
{
	struct treg r = treg_plain();
	const char *flags[] = { "--dry-run", NULL };
	char *out, *sum, *tags;
	struct proc p;

	push_gha(&p, r.host, "one.tar", "refs/tags/v3.1.0", "rep-dry", flags);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	out = outputs();
	cr_expect(strstr(out, "\nresult=planned\n") != NULL, "%s", out);
	free(out);
	sum = read_all(sump);
	cr_expect_eq(strncmp(sum, "### regpush push: planned\n\n", 27), 0, "%s", sum);
	cr_expect(strstr(sum, "| `latest` | floating | planned |\n") != NULL, "%s", sum);
	free(sum);
	proc_free(&p);
	tags = treg_tags(r, "prod/rep-dry");
	cr_expect_str_eq(tags, "");
	free(tags);
}

/* A backport keeps latest: the summary row says why, and the notice is
 * printed once (the decision is made twice, before the upload and right
 * before the writes), titled by its kind. */
Test(report, kept_says_why_once, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *sum;
	const char *needle = "::notice title=regpush%3A kept::latest kept: v2.0.0 is a newer release\n";
	struct proc p;

	push_gha(&p, r.host, "two.tar", "refs/tags/v2.0.0", "rep-kept", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	proc_free(&p);
	push_gha(&p, r.host, "one.tar", "refs/tags/v1.9.1", "rep-kept", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, needle) != NULL, "%s", p.out);
	cr_expect(strstr(p.out, needle) == NULL || strstr(strstr(p.out, needle) + 1, needle) == NULL,
		  "the notice is printed once: %s", p.out);
	sum = read_all(sump);
	cr_expect(strstr(sum, "| `latest` | floating | kept: v2.0.0 is a newer release |\n") != NULL, "%s", sum);
	free(sum);
	proc_free(&p);
}

/* A deliberate rollback: after v1.3.0, v1.2.5 again with
 * --allow-backwards puts v1 and latest back on it, saying so per tag;
 * without it they stay; v1.3.0 itself never moves. */
Test(report, rollback_moves_floating_tags_back, .init = setup, .fini = teardown, .timeout = 180)
{
	struct treg r = treg_plain();
	const char *back[] = { "--allow-backwards", NULL };
	char *d1 = digest_of("one.tar"), *d2 = digest_of("two.tar"), *sum;
	struct proc p;

	push_gha(&p, r.host, "one.tar", "refs/tags/v1.2.5", "rep-rollback", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	proc_free(&p);
	push_gha(&p, r.host, "two.tar", "refs/tags/v1.3.0", "rep-rollback", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	proc_free(&p);
	/* Without the flag nothing moves back. */
	push_gha(&p, r.host, "one.tar", "refs/tags/v1.2.5", "rep-rollback", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	proc_free(&p);
	expect_tags_at(r, "prod/rep-rollback", "v1 latest v1.3 v1.3.0", d2);
	push_gha(&p, r.host, "one.tar", "refs/tags/v1.2.5", "rep-rollback", back);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "::notice title=regpush%3A moved back::v1 moved back from v1.3.0, a newer "
			 "release (--allow-backwards)\n") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "::notice title=regpush%3A moved back::latest moved back from v1.3.0, a "
			 "newer release (--allow-backwards)\n") != NULL, "%s", p.out);
	expect_tags_at(r, "prod/rep-rollback", "v1.2.5 v1.2 v1 latest", d1);
	expect_tags_at(r, "prod/rep-rollback", "v1.3.0 v1.3", d2);
	sum = read_all(sump);
	cr_expect(strstr(sum, "| `latest` | floating | pushed: moved back from v1.3.0, a newer release "
			 "(--allow-backwards) |\n") != NULL, "%s", sum);
	free(sum);
	proc_free(&p);
	/* An immutable tag never moves, rollback or not. */
	push_gha(&p, r.host, "one.tar", "refs/tags/v1.3.0", "rep-rollback", back);
	cr_expect_eq(p.status, 3, "%s%s", p.out, p.err);
	proc_free(&p);
	expect_tags_at(r, "prod/rep-rollback", "v1.3.0", d2);
	free(d1);
	free(d2);
}

/* The engine's progress shows as it comes: an engine that prints a line
 * and then hangs has its line in the log, inside the group and with
 * commands stopped, before regpush is killed (a capture printed at the
 * end would show nothing). */
Test(report, engine_progress_as_it_comes, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *img = archive("one.tar"), src[700], path[4096], dev[300], *spyd, *script, *log = NULL;
	char logp[700];
	const char *argv[] = { "regpush", "push", "--source", src, "--ref", "refs/heads/main",
			       "--sha", SHA40, "--service", "rep-progress", "--dev-registry", dev,
			       "--insecure-registry", r.host, NULL };
	const char *envp[] = { path, e_tmp, "HOME=/root", "GITHUB_ACTIONS=true", NULL };
	int fd, ws, i;
	pid_t pid;

	snprintf(src, sizeof(src), "%s", img);
	snprintf(dev, sizeof(dev), "%s/dev", r.host);
	cr_assert(asprintf(&spyd, "%s/spybin", dir) > 0);
	mkdir(spyd, 0755);
	cr_assert(asprintf(&script, "#!/bin/sh\ncase \"$1:$*\" in\n"
			   "  copy:*docker://*) echo 'Copying blob 1 of 3 ::error::not a command'; exec sleep 60;;\n"
			   "esac\nexec /usr/bin/skopeo \"$@\"\n") > 0);
	free(write_file(spyd, "skopeo", script));
	snprintf(path, sizeof(path), "%s/skopeo", spyd);
	chmod(path, 0755);
	snprintf(path, sizeof(path), "PATH=%s:/usr/local/bin:/usr/bin:/bin", spyd);
	snprintf(logp, sizeof(logp), "%s/stdout", dir);
	pid = fork();
	if (pid == 0) {
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		execve(getenv("REGPUSH_BIN"), (char **)argv, (char **)envp);
		_exit(127);
	}
	for (i = 0; i < 300; i++) {
		free(log);
		log = read_all(logp);
		if (log != NULL && strstr(log, "Copying blob 1 of 3") != NULL)
			break;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_assert_lt(i, 300, "the engine's line reached the log while it ran: %s", log != NULL ? log : "");
	cr_expect(strstr(log, "::group::skopeo copy") != NULL, "%s", log);
	cr_expect(strstr(log, "::stop-commands::ghadelimiter_") != NULL &&
		  strstr(log, "::stop-commands::ghadelimiter_") < strstr(log, "Copying blob"),
		  "commands are stopped before the engine's lines: %s", log);
	free(log);
	free(script);
	free(spyd);
	free(img);
	rm_rf(tmpd);
	mkdir(tmpd, 0700);
}

/* A prune of thousands of rows: the summary stays under GitHub's 1 MiB
 * (the rows that fit, then how many more), the json output under its
 * cap with the count left out, and the counts are right. */
Test(report, prune_of_thousands_of_rows, .init = setup, .fini = teardown, .timeout = 300)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	char *one = archive("one.tar"), dst[400], r[400], *sum, *out, *tags, *p1, count[64];
	const char *cp[] = { "skopeo", "copy", "-q", "--dest-tls-verify=false", NULL, dst, NULL };
	const char *envp0[] = { "HOME=/root", NULL };
	const char *put[] = { "python3", "tests/put-tags.py", host, "rep/big", "dev-0000001",
			      "feature-", "5000", "128", NULL };
	const char *argv[] = { "regpush", "prune", "--repository", r, "--now", "2035-01-01T00:00:00Z",
			       "--insecure-registry", host, NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", e_out, e_sum, e_tmp, "HOME=/root", NULL };
	char src[700];
	struct proc p;
	struct stat st;

	snprintf(src, sizeof(src), "%s", one);
	cp[4] = src;
	snprintf(dst, sizeof(dst), "docker://%s/rep/big:dev-0000001", host);
	run_prog("skopeo", cp, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	run_prog("python3", put, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	snprintf(r, sizeof(r), "%s/rep/big", host);
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%.2000s", p.err);
	cr_expect(strstr(p.out, "5001 to delete, 0 kept\n") != NULL, "%.300s", p.out + strlen(p.out) - 200);
	cr_assert_eq(stat(sump, &st), 0);
	cr_expect_lt(st.st_size, 1024 * 1024, "the summary fits GitHub's 1 MiB");
	cr_expect_gt(st.st_size, 900 * 1024, "and holds as many rows as fit");
	sum = read_all(sump);
	cr_expect_eq(strncmp(sum, "### regpush prune: pruned\n\n5001 tags deleted, 0 kept, 0 failed\n", 62), 0,
		     "%.200s", sum);
	cr_expect(strstr(sum, " more, see the log\n") != NULL, "%s", sum + strlen(sum) - 200);
	/* Each row names the tag it refers to. */
	cr_expect(strstr(sum, "expired; deleted with the image of ") != NULL &&
		  strstr(sum, "expired; deleted with the image of |") == NULL, "%.1000s", sum);
	out = outputs();
	cr_expect_eq(strncmp(out, "deleted=5001\nkept=0\nfailed=0\n", 29), 0, "%.300s", out);
	cr_expect(strstr(out, "\nresult=pruned\n") != NULL);
	p1 = strstr(out, "\njson=");
	cr_assert_not_null(p1);
	cr_expect_lt(strchr(p1 + 1, '\n') - p1, 256 * 1024 + 200, "the json output is capped");
	cr_expect(strstr(p1, "\"omitted\":") != NULL, "and says how many rows it left out");
	snprintf(count, sizeof(count), "\"deleted\":5001");
	cr_expect(strstr(p1, count) != NULL);
	free(out);
	free(sum);
	proc_free(&p);
	tags = treg_tags(treg_plain(), "rep/big");
	cr_expect_str_eq(tags, "");
	free(tags);
	free(one);
}

/* Several services in one prune: input services (one per line) in action
 * mode, and --service repeated on the command line. */
Test(report, prune_of_several_services, .init = setup, .fini = teardown, .timeout = 180)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	char *one = archive("one.tar"), src[700], dst[400], dev[300], prod[300], ins[300], *tags, *out;
	const char *cp[] = { "skopeo", "copy", "-q", "--dest-tls-verify=false", src, dst, NULL };
	const char *envp0[] = { "HOME=/root", NULL };
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=prune",
			       "INPUT_SERVICES=svc-a\n  svc-b  \n\nsvc-c\n", dev, prod, ins, e_out, e_sum,
			       e_tmp, "HOME=/root", "GITHUB_REPOSITORY=acme/not-this-one", NULL };
	const char *cli[] = { "regpush", "prune", "--service", "svc-d", "--service", "svc-e",
			      "--dev-registry", dev + strlen("INPUT_DEV-REGISTRY="),
			      "--prod-registry", prod + strlen("INPUT_PROD-REGISTRY="),
			      "--insecure-registry", host, "--now", "2035-01-01T00:00:00Z", NULL };
	const char *bad[] = { "regpush", "push", "--service", "a", "--service", "b", NULL };
	const char *svcs[] = { "svc-a", "svc-b", "svc-c", "svc-d", "svc-e" };
	struct proc p;
	size_t i;

	snprintf(src, sizeof(src), "%s", one);
	snprintf(dev, sizeof(dev), "INPUT_DEV-REGISTRY=%s/multi/dev", host);
	snprintf(prod, sizeof(prod), "INPUT_PROD-REGISTRY=%s/multi/prod", host);
	snprintf(ins, sizeof(ins), "INPUT_INSECURE-REGISTRIES=%s", host);
	for (i = 0; i < 5; i++) {
		snprintf(dst, sizeof(dst), "docker://%s/multi/dev/%s:dev-1234567", host, svcs[i]);
		run_prog("skopeo", cp, envp0, &p);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
		snprintf(dst, sizeof(dst), "docker://%s/multi/dev/%s:dev-latest", host, svcs[i]);
		run_prog("skopeo", cp, envp0, &p);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	/* The images are minutes old: nothing goes, but all three services
	 * (six repositories) are read. */
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	for (i = 0; i < 3; i++) {
		char want[300];
		snprintf(want, sizeof(want), "%s/multi/dev/%s", host, svcs[i]);
		cr_expect(strstr(p.out, want) != NULL, "%s in %s", want, p.out);
	}
	cr_expect(strstr(p.out, "not-this-one") == NULL, "%s", p.out);
	out = outputs();
	cr_expect_eq(strncmp(out, "deleted=0\nkept=6\nfailed=0\n", 26), 0, "%s", out);
	free(out);
	proc_free(&p);
	/* On the command line, at a time they have expired: dev-1234567 goes
	 * for svc-d and svc-e (kept by dev-latest, so untagged), and nowhere
	 * else. */
	run_regpush(cli, envp0, &p);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	proc_free(&p);
	for (i = 0; i < 5; i++) {
		char repo[200];
		snprintf(repo, sizeof(repo), "multi/dev/%s", svcs[i]);
		tags = treg_tags(treg_plain(), repo);
		cr_expect_str_eq(tags, i < 3 ? "dev-1234567 dev-latest" : "dev-latest", "%s", svcs[i]);
		free(tags);
	}
	run_regpush(bad, envp0, &p);
	cr_expect_eq(p.status, 2);
	cr_expect_str_eq(p.err, "regpush: several services are for prune and audit; push takes one --service\n");
	proc_free(&p);
	free(one);
}

/* In action mode a message names the input to set, not a flag. */
Test(report, action_mode_names_inputs, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_PLAIN");
	char *one = archive("one.tar"), src[700], dst[400], dev[300], prod[300], ins[300], *out;
	const char *cp[] = { "skopeo", "copy", "-q", "--dest-tls-verify=false", src, dst, NULL };
	const char *envp0[] = { "HOME=/root", NULL };
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=promote", "INPUT_FROM=development",
			       "GITHUB_REF=refs/tags/v1.0.0", "GITHUB_SHA=" SHA40, "GITHUB_EVENT_NAME=push",
			       "GITHUB_REPOSITORY=acme/rep-names", dev, prod, ins, e_out, e_sum, e_tmp,
			       "HOME=/root", NULL };
	struct proc p;

	snprintf(src, sizeof(src), "%s", one);
	snprintf(dst, sizeof(dst), "docker://%s/names/dev/rep-names:dev-0123456", host);
	snprintf(dev, sizeof(dev), "INPUT_DEV-REGISTRY=%s/names/dev", host);
	snprintf(prod, sizeof(prod), "INPUT_PROD-REGISTRY=%s/names/prod", host);
	snprintf(ins, sizeof(ins), "INPUT_INSECURE-REGISTRIES=%s", host);
	run_prog("skopeo", cp, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 3, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "::error title=regpush%3A refused::refused: ") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "(use allow-revision-mismatch: true to promote it anyway)") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "--allow-revision-mismatch") == NULL, "%s", p.out);
	out = outputs();
	cr_expect(strstr(out, "\nresult=refused\n") != NULL, "%s", out);
	free(out);
	proc_free(&p);
	/* A push without a source: the input to set. */
	envp[1] = "INPUT_MODE=push";
	envp[2] = "INPUT_SERVICE=rep-names";
	reset_files();
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 2, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "::error title=regpush%3A input::no image to push: set input source, e.g. ") != NULL,
		  "%s", p.out);
	out = outputs();
	cr_expect(strstr(out, "\nresult=invalid\nerror=no image to push: set input source, e.g. ") != NULL, "%s", out);
	free(out);
	proc_free(&p);
	free(one);
}
