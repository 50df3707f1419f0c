/*
 * End to end: regpush push against real registries (tests/with-registries.sh),
 * with skopeo and buildah, checked by reading the registry over HTTP.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "helpers.h"
#include "testreg.h"

static char *dir, *tmpd, *outp, *sump;

static void
setup(void)
{
	dir = tmpdir_new();
	outp = write_file(dir, "output", "");
	sump = write_file(dir, "summary", "");
	cr_assert(asprintf(&tmpd, "%s/tmp", dir) > 0);
	cr_assert_eq(mkdir(tmpd, 0700), 0);
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

static char *
img(const char *name)
{
	char *s;

	cr_assert(asprintf(&s, "%s/%s", getenv("REGPUSH_TEST_IMAGES"), name) > 0);
	return s;
}

/* Runs regpush push with flags (NULL-terminated list after `ref`) against
 * the plain registry; returns the process, environment given. */
static void
push(struct proc *p, const char *const *extra_env, const char *source,
     const char *ref, const char *service, const char *const *flags)
{
	const char *argv[40];
	const char *envp[40];
	char tmpenv[600], devreg[300], prodreg[300];
	size_t a = 0, e = 0, i;
	struct treg r = treg_plain();

	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(devreg, sizeof(devreg), "%s/dev", r.host);
	snprintf(prodreg, sizeof(prodreg), "%s/prod", r.host);
	argv[a++] = "regpush";
	argv[a++] = "push";
	argv[a++] = "--json";
	argv[a++] = "--source";
	argv[a++] = source;
	argv[a++] = "--ref";
	argv[a++] = ref;
	argv[a++] = "--sha";
	argv[a++] = SHA40;
	argv[a++] = "--service";
	argv[a++] = service;
	argv[a++] = "--dev-registry";
	argv[a++] = devreg;
	argv[a++] = "--prod-registry";
	argv[a++] = prodreg;
	argv[a++] = "--insecure-registry";
	argv[a++] = r.host;
	for (i = 0; flags != NULL && flags[i] != NULL; i++)
		argv[a++] = flags[i];
	argv[a] = NULL;
	envp[e++] = tmpenv;
	envp[e++] = "SOURCE_DATE_EPOCH=1800000000";
	envp[e++] = "HOME=/root";
	for (i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
		envp[e++] = extra_env[i];
	envp[e] = NULL;
	run_regpush(argv, envp, p);
}

/* Parses stdout JSON; checks digest equals `want` when given. */
static json_t *
result(struct proc *p, const char *want_digest)
{
	json_error_t je;
	json_t *j = json_loads(p->out, 0, &je);

	cr_assert_not_null(j, "stdout is not JSON (%s): %s\nstderr: %s", je.text, p->out, p->err);
	if (want_digest != NULL)
		cr_expect_str_eq(json_string_value(json_object_get(j, "digest")), want_digest);
	return j;
}

Test(push, each_transport_to_development, .init = setup, .fini = teardown, .timeout = 180)
{
	struct treg r = treg_plain();
	char *one = img("one.tar"), *layout = img("layout"), *dock = img("one-docker.tar");
	char *want = NULL, src[700], *tags;
	const char *storage = getenv("REGPUSH_TEST_STORAGE");
	struct { const char *svc; char src[700]; int same_digest; } rows[5];
	size_t i;

	snprintf(rows[0].src, sizeof(rows[0].src), "oci-archive:%s", one);
	snprintf(rows[1].src, sizeof(rows[1].src), "oci:%s:one", layout);
	snprintf(rows[2].src, sizeof(rows[2].src), "docker-archive:%s", dock);
	snprintf(rows[3].src, sizeof(rows[3].src), "containers-storage:[%s]localhost/regpush-test:one", storage);
	snprintf(rows[4].src, sizeof(rows[4].src), "docker://%s/sources/one:latest", r.host);
	rows[0].svc = "t-ociarchive"; rows[0].same_digest = 1;
	rows[1].svc = "t-oci"; rows[1].same_digest = 1;
	rows[2].svc = "t-dockerarchive"; rows[2].same_digest = 0;
	rows[3].svc = "t-storage"; rows[3].same_digest = 0;
	rows[4].svc = "t-docker"; rows[4].same_digest = 0;
	snprintf(src, sizeof(src), "oci-archive:%s", one);
	want = source_digest(src);
	for (i = 0; i < 5; i++) {
		struct proc p;
		json_t *j;
		char repo[200], d[80];
		const char *digest;

		push(&p, NULL, rows[i].src, "refs/heads/feature/Login", rows[i].svc, NULL);
		cr_assert_eq(p.status, 0, "%s: %s", rows[i].src, p.err);
		j = result(&p, rows[i].same_digest ? want : NULL);
		digest = json_string_value(json_object_get(j, "digest"));
		snprintf(repo, sizeof(repo), "dev/%s", rows[i].svc);
		tags = treg_tags(r, repo);
		cr_expect_str_eq(tags, "dev-0123456 feature-login", "%s", rows[i].src);
		free(tags);
		expect_tags_at(r, repo, "dev-0123456 feature-login", digest);
		cr_expect_eq(treg_manifest(r, repo, "dev-0123456", NULL, d), 200);
		cr_expect_str_eq(report_status(j, 0), "pushed");
		json_decref(j);
		proc_free(&p);
	}
	expect_dir_empty(tmpd);
	free(want);
	free(one);
	free(layout);
	free(dock);
}

Test(push, multi_arch_index_keeps_platforms_and_digest, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *multi = img("multi.tar"), src[700], *want, *body, d[80];
	struct proc p;
	json_t *m;

	snprintf(src, sizeof(src), "oci-archive:%s", multi);
	want = source_digest(src);
	push(&p, NULL, src, "refs/tags/v3.1.0", "t-multi", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	json_decref(result(&p, want));
	expect_tags_at(r, "prod/t-multi", "v3.1.0 v3.1 v3 latest", want);
	cr_assert_eq(treg_manifest(r, "prod/t-multi", "v3.1.0", &body, d), 200);
	m = json_loads(body, 0, NULL);
	cr_assert_not_null(m);
	cr_expect_str_eq(json_string_value(json_object_get(m, "mediaType")), "application/vnd.oci.image.index.v1+json");
	cr_expect_eq(json_array_size(json_object_get(m, "manifests")), 2);
	/* Each platform's manifest is in the repository too. */
	for (size_t i = 0; i < 2; i++) {
		const char *cd = json_string_value(json_object_get(json_array_get(json_object_get(m, "manifests"), i), "digest"));
		char cdd[80];
		cr_expect_eq(treg_manifest(r, "prod/t-multi", cd, NULL, cdd), 200, "%s", cd);
	}
	json_decref(m);
	free(body);
	proc_free(&p);
	free(want);
	free(multi);
}

static const struct {
	const char *ref, *event, *repo, *tags, *first_status;
} env_rows[] = {
	{ "refs/tags/v1.0.0", NULL, "prod/t-envs", "latest v1 v1.0 v1.0.0", "pushed" },
	{ "refs/tags/v1.1.0-rc1", NULL, "prod/t-envs", "latest staging-latest staging-v1.1.0-rc1 v1 v1.0 v1.0.0", "pushed" },
	{ "refs/heads/develop", NULL, "dev/t-envs", "dev-0123456 dev-latest", "pushed" },
	{ "refs/pull/12/merge", "pull_request", "dev/t-envs", "dev-0123456 dev-latest test-pr-12", "pushed" },
};

Test(push, every_environment, .init = setup, .fini = teardown, .timeout = 180)
{
	struct treg r = treg_plain();
	char *one = img("one.tar"), src[700], *want, *tags;
	size_t i;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	want = source_digest(src);
	for (i = 0; i < sizeof(env_rows) / sizeof(env_rows[0]); i++) {
		const char *flags[] = { "--event", env_rows[i].event, NULL };
		struct proc p;
		json_t *j;

		push(&p, NULL, src, env_rows[i].ref, "t-envs", env_rows[i].event ? flags : NULL);
		cr_assert_eq(p.status, 0, "%s: %s", env_rows[i].ref, p.err);
		j = result(&p, want);
		cr_expect_str_eq(report_status(j, 0), env_rows[i].first_status, "%s", env_rows[i].ref);
		tags = treg_tags(r, env_rows[i].repo);
		cr_expect_str_eq(tags, env_rows[i].tags, "%s", env_rows[i].ref);
		expect_tags_at(r, env_rows[i].repo, tags, want);
		free(tags);
		json_decref(j);
		proc_free(&p);
	}
	free(want);
	free(one);
}

Test(push, immutable_release_rerun_and_conflict, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *one = img("one.tar"), *two = img("two.tar"), s1[700], s2[700], *d1, *d2, *before, *after, *msg;
	struct proc p;
	json_t *j;
	size_t i;

	snprintf(s1, sizeof(s1), "oci-archive:%s", one);
	snprintf(s2, sizeof(s2), "oci-archive:%s", two);
	d1 = source_digest(s1);
	d2 = source_digest(s2);
	push(&p, NULL, s1, "refs/tags/v5.0.0", "t-immutable", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	json_decref(result(&p, d1));
	proc_free(&p);
	/* Same image again: a no-op that succeeds. */
	push(&p, NULL, s1, "refs/tags/v5.0.0", "t-immutable", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, d1);
	for (i = 0; i < 4; i++)
		cr_expect_str_eq(report_status(j, i), "unchanged");
	json_decref(j);
	proc_free(&p);
	/* Another image for the same release: refused, registry unchanged. */
	before = treg_tags(r, "prod/t-immutable");
	push(&p, NULL, s2, "refs/tags/v5.0.0", "t-immutable", NULL);
	cr_expect_eq(p.status, 3, "%s", p.err);
	cr_assert(asprintf(&msg, "regpush: refused: %s/prod/t-immutable:v5.0.0 is immutable and already points at %s; "
			   "this run's image is %s. Nothing was written.\n", r.host, d1, d2) > 0);
	cr_expect_str_eq(p.err, msg);
	cr_expect_str_eq(p.out, "");
	after = treg_tags(r, "prod/t-immutable");
	cr_expect_str_eq(before, after);
	expect_tags_at(r, "prod/t-immutable", "v5.0.0 v5.0 v5 latest", d1);
	expect_dir_empty(tmpd);
	free(msg);
	free(before);
	free(after);
	proc_free(&p);
	free(d1);
	free(d2);
	free(one);
	free(two);
}

Test(push, backport_moves_only_its_own_line, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *one = img("one.tar"), *two = img("two.tar"), s1[700], s2[700], *d1, *d2;
	struct proc p;
	json_t *j;

	snprintf(s1, sizeof(s1), "oci-archive:%s", one);
	snprintf(s2, sizeof(s2), "oci-archive:%s", two);
	d1 = source_digest(s1);
	d2 = source_digest(s2);
	push(&p, NULL, s1, "refs/tags/v2.0.0", "t-backport", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	push(&p, NULL, s2, "refs/tags/v1.9.1", "t-backport", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, d2);
	cr_expect_str_eq(report_status(j, 0), "pushed");
	cr_expect_str_eq(report_status(j, 1), "pushed");
	cr_expect_str_eq(report_status(j, 2), "pushed");
	cr_expect_str_eq(report_status(j, 3), "kept");
	cr_expect(strstr(p.err, "regpush: latest kept: v2.0.0 is a newer release\n") != NULL, "%s", p.err);
	json_decref(j);
	proc_free(&p);
	expect_tags_at(r, "prod/t-backport", "v2.0.0 v2.0 v2 latest", d1);
	expect_tags_at(r, "prod/t-backport", "v1.9.1 v1.9 v1", d2);
	proc_free(&p);
	/* An older patch on the 1.9 line moves nothing floating. */
	push(&p, NULL, s1, "refs/tags/v1.9.0", "t-backport", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, d1);
	cr_expect_str_eq(report_status(j, 0), "pushed");
	cr_expect_str_eq(report_status(j, 1), "kept");
	cr_expect_str_eq(report_status(j, 2), "kept");
	cr_expect_str_eq(report_status(j, 3), "kept");
	json_decref(j);
	expect_tags_at(r, "prod/t-backport", "v1.9 v1", d2);
	proc_free(&p);
	free(d1);
	free(d2);
	free(one);
	free(two);
}

Test(push, buildah_engine_single_and_multi_arch, .init = setup, .fini = teardown, .timeout = 240)
{
	struct treg r = treg_plain();
	char *one = img("one.tar"), *multi = img("multi.tar"), s1[700], s2[700], *d1, *d2;
	const char *flags[] = { "--engine", "buildah", NULL };
	struct proc p;

	snprintf(s1, sizeof(s1), "oci-archive:%s", one);
	snprintf(s2, sizeof(s2), "oci-archive:%s", multi);
	d1 = source_digest(s1);
	d2 = source_digest(s2);
	push(&p, NULL, s1, "refs/heads/develop", "t-buildah", flags);
	cr_assert_eq(p.status, 0, "%s", p.err);
	json_decref(result(&p, d1));
	proc_free(&p);
	expect_tags_at(r, "dev/t-buildah", "dev-0123456 dev-latest", d1);
	push(&p, NULL, s2, "refs/tags/v1.0.0-beta.2", "t-buildah", flags);
	cr_assert_eq(p.status, 0, "%s", p.err);
	json_decref(result(&p, d2));
	proc_free(&p);
	expect_tags_at(r, "prod/t-buildah", "staging-v1.0.0-beta.2 staging-latest", d2);
	/* buildah uploaded to a scratch tag of the run's own; it is gone. */
	{
		char *tags = treg_tags(r, "dev/t-buildah");
		cr_expect_str_eq(tags, "dev-0123456 dev-latest");
		free(tags);
		tags = treg_tags(r, "prod/t-buildah");
		cr_expect_str_eq(tags, "staging-latest staging-v1.0.0-beta.2");
		free(tags);
	}
	expect_dir_empty(tmpd);
	free(d1);
	free(d2);
	free(one);
	free(multi);
}

Test(push, dry_run_writes_nothing, .init = setup, .fini = teardown, .timeout = 60)
{
	struct treg r = treg_plain();
	char *one = img("one.tar"), src[700], *tags, want[2000];
	const char *flags[] = { "--dry-run", NULL };
	const char *env[] = { "REGPUSH_RELEASE_USERNAME=bot", "REGPUSH_RELEASE_PASSWORD=hunter2-secret", NULL };
	struct proc p;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	push(&p, env, src, "refs/tags/v9.9.9", "t-dryrun", flags);
	cr_assert_eq(p.status, 0, "%s", p.err);
	/* With --json, stdout is the JSON alone; the writes go to stderr. */
	cr_expect_eq(p.out[0], '{', "%s", p.out);
	snprintf(want, sizeof(want), "dry run: nothing is written to any registry; a real run would do:\n"
		 "  skopeo copy --authfile=");
	cr_expect_eq(strncmp(p.err, want, strlen(want)), 0, "%s", p.err);
	snprintf(want, sizeof(want), " --retry-times=3 --all --preserve-digests --dest-tls-verify=false "
		 "--digestfile=%s/regpush.", tmpd);
	cr_expect(strstr(p.err, want) != NULL, "%s", p.err);
	{
		char *d = source_digest(src);
		/* Upload by digest (no tag), then every tag a PUT by regpush. */
		snprintf(want, sizeof(want), "/pushed.digest %s docker://%s/prod/t-dryrun@%s\n"
			 "  PUT %s/prod/t-dryrun:v9.9.9 (%s)\n"
			 "  PUT %s/prod/t-dryrun:v9.9 (%s)\n"
			 "  PUT %s/prod/t-dryrun:v9 (%s)\n"
			 "  PUT %s/prod/t-dryrun:latest (%s)\n", src, r.host, d, r.host, d,
			 r.host, d, r.host, d, r.host, d);
		cr_expect(strstr(p.err, want) != NULL, "%s\n---\n%s", p.err, want);
		free(d);
	}
	cr_expect(strstr(p.out, "hunter2") == NULL && strstr(p.err, "hunter2") == NULL);
	cr_expect(strstr(p.out, "\"dry_run\": true") != NULL, "%s", p.out);
	tags = treg_tags(r, "prod/t-dryrun");
	cr_expect_str_eq(tags, "", "nothing in the registry");
	free(tags);
	expect_dir_empty(tmpd);
	proc_free(&p);
	free(one);
}

/* A spy skopeo placed first on PATH: records its argv, then does what
 * MODE says: run the real skopeo, exit 7, or kill itself. */
static char *
spy(const char *mode)
{
	char *d, *script, body[2048];

	cr_assert(asprintf(&d, "%s/spybin", dir) > 0);
	mkdir(d, 0755);
	snprintf(body, sizeof(body),
		 "#!/bin/sh\n"
		 "printf '%%s\\n' \"$*\" >> %s/argv.log\n"
		 "for a in \"$@\"; do case $a in --authfile=*) f=${a#--authfile=}; "
		 "[ -f \"$f\" ] && stat -c '%%a' \"$f\" >> %s/authmode.log && cat \"$f\" >> %s/authcontent.log;; esac; done\n"
		 "case \"%s:$1:$*\" in\n"
		 "  fail:copy:*docker://*) echo 'boom' >&2; exit 7;;\n"
		 "  kill:copy:*docker://*) kill -KILL $$;;\n"
		 "  hang:copy:*docker://*) exec sleep 60;;\n"
		 "esac\n"
		 "exec /usr/bin/skopeo \"$@\"\n", dir, dir, dir, mode);
	script = write_file(d, "skopeo", body);
	chmod(script, 0755);
	free(script);
	return d;
}

Test(push, secrets_never_in_argv_and_auth_file_removed, .init = setup, .fini = teardown, .timeout = 120)
{
	TREG_DISTRIBUTION_PEERS_ONLY();
	struct treg r = treg_tls();
	char *one = img("one.tar"), src[700], path[4096], pw[300], user[300], dev[300], cert[700], *log, *content;
	char *spydir = spy("pass");
	struct proc p;
	char *tags;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(path, sizeof(path), "PATH=%s:/usr/local/bin:/usr/bin:/bin", spydir);
	snprintf(user, sizeof(user), "REGPUSH_DEV_USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(pw, sizeof(pw), "REGPUSH_DEV_PASSWORD=%s", getenv("REGPUSH_TEST_PASS"));
	snprintf(dev, sizeof(dev), "%s/dev", r.host);
	snprintf(cert, sizeof(cert), "%s", getenv("REGPUSH_TEST_CA_DIR"));
	{
		const char *argv[] = { "regpush", "push", "--source", src, "--ref", "refs/heads/develop",
				       "--sha", SHA40, "--service", "t-secret", "--dev-registry", dev,
				       "--cert-dir", cert, NULL };
		char tmpenv[600];
		const char *envp[] = { path, user, pw, tmpenv, "HOME=/root", "GITHUB_ACTIONS=true", NULL };
		snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
		run_regpush(argv, envp, &p);
	}
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	/* The mask comes before anything else. */
	cr_expect_eq(strncmp(p.out, "::add-mask::", 12), 0, "%.200s", p.out);
	{
		/* The password appears only in add-mask lines. */
		char *s = p.out, *hit;
		while ((hit = strstr(s, getenv("REGPUSH_TEST_PASS"))) != NULL) {
			char *bol = hit;
			while (bol > p.out && bol[-1] != '\n')
				bol--;
			cr_expect_eq(strncmp(bol, "::add-mask::", 12), 0, "password outside add-mask: %.100s", bol);
			s = hit + 1;
		}
		cr_expect(strstr(p.err, getenv("REGPUSH_TEST_PASS")) == NULL);
	}
	snprintf(path, sizeof(path), "%s/argv.log", dir);
	log = read_all(path);
	cr_assert_not_null(log, "the spy ran");
	cr_expect(strstr(log, getenv("REGPUSH_TEST_PASS")) == NULL, "password in argv: %s", log);
	cr_expect(strstr(log, "--authfile=") != NULL, "%s", log);
	snprintf(path, sizeof(path), "%s/authmode.log", dir);
	content = read_all(path);
	cr_expect_eq(strncmp(content, "600\n", 4), 0, "auth file mode: %s", content);
	free(content);
	snprintf(path, sizeof(path), "%s/authcontent.log", dir);
	content = read_all(path);
	cr_expect(strstr(content, "\"auths\":{\"127.0.0.1:") != NULL, "%s", content);
	free(content);
	tags = treg_tags(r, "dev/t-secret");
	cr_expect_str_eq(tags, "dev-0123456 dev-latest");
	free(tags);
	expect_dir_empty(tmpd);
	free(log);
	free(spydir);
	free(one);
	proc_free(&p);
}

/* Pushes to the TLS registry with the given password and cert dir. */
static void
push_tls_env(struct proc *p, const char *password, int with_ca, int insecure_plain_http,
	     const char *extra_env)
{
	struct treg r = insecure_plain_http ? treg_plain() : treg_tls();
	char *one = img("one.tar"), src[700], dev[300], user[300], pw[300], tmpenv[600], cert[700];
	const char *argv[20];
	const char *envp[] = { user, pw, tmpenv, "HOME=/root", extra_env, NULL };
	size_t a = 0;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(dev, sizeof(dev), "%s/dev", r.host);
	snprintf(user, sizeof(user), "REGPUSH_DEV_USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(pw, sizeof(pw), "REGPUSH_DEV_PASSWORD=%s", password);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(cert, sizeof(cert), "%s", getenv("REGPUSH_TEST_CA_DIR"));
	argv[a++] = "regpush";
	argv[a++] = "push";
	argv[a++] = "--source";
	argv[a++] = src;
	argv[a++] = "--ref";
	argv[a++] = "refs/heads/main";
	argv[a++] = "--sha";
	argv[a++] = SHA40;
	argv[a++] = "--service";
	argv[a++] = "t-tls";
	argv[a++] = "--dev-registry";
	argv[a++] = dev;
	if (with_ca) {
		argv[a++] = "--cert-dir";
		argv[a++] = cert;
	}
	argv[a] = NULL;
	run_regpush(argv, envp, p);
	free(one);
}

static void
push_tls(struct proc *p, const char *password, int with_ca, int insecure_plain_http)
{
	push_tls_env(p, password, with_ca, insecure_plain_http, NULL);
}

Test(push, ssl_cert_file_is_trusted, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_tls();
	struct proc p;
	char env[700], *tags;

	snprintf(env, sizeof(env), "SSL_CERT_FILE=%s/ca.crt", getenv("REGPUSH_TEST_CA_DIR"));
	push_tls_env(&p, getenv("REGPUSH_TEST_PASS"), 0, 0, env);
	cr_expect_eq(p.status, 0, "SSL_CERT_FILE alone lets both regpush and skopeo verify: %s", p.err);
	proc_free(&p);
	tags = treg_tags(r, "dev/t-tls");
	cr_expect(strstr(tags, "dev-0123456") != NULL, "%s", tags);
	free(tags);
	expect_dir_empty(tmpd);
}

/* An SSL_CERT_FILE that does not exist is named, exit 2, before any
 * request or engine run; with --cert-dir the extra CA alone is not
 * enough either, since the bundle was asked for by name. */
Test(push, missing_ssl_cert_file_is_named, .init = setup, .fini = teardown, .timeout = 60)
{
	struct treg r = treg_tls();
	struct proc p;
	char *want;
	int with_ca;

	for (with_ca = 0; with_ca < 2; with_ca++) {
		push_tls_env(&p, getenv("REGPUSH_TEST_PASS"), with_ca, 0, "SSL_CERT_FILE=/nonexistent/ca.pem");
		cr_expect_eq(p.status, 2, "%s", p.err);
		cr_assert(asprintf(&want, "regpush: no CA certificates to verify registry %s: tried "
				   "SSL_CERT_FILE=/nonexistent/ca.pem (set SSL_CERT_FILE to a PEM bundle, "
				   "or give --cert-dir)\n", r.host) > 0);
		cr_expect_str_eq(p.err, want);
		free(want);
		proc_free(&p);
	}
	expect_dir_empty(tmpd);
}

Test(push, tls_htpasswd_right_and_wrong_password, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_tls();
	struct proc p;
	char *tags, *want, *d, *one = img("one.tar"), src[700];

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	free(one);

	push_tls(&p, "wrong-password-42", 1, 0);
	cr_expect_eq(p.status, 1, "%s", p.err);
	d = source_digest(src);
	/* The first read is the image's own HEAD (by digest). */
	cr_assert(asprintf(&want, "regpush: registry %s refused the credentials of the dev account '%s' "
			   "(HEAD dev/t-tls@%s): HTTP 401\n", r.host, getenv("REGPUSH_TEST_USER"), d) > 0);
	free(d);
	cr_expect_str_eq(p.err, want);
	cr_expect(strstr(p.err, "wrong-password-42") == NULL);
	cr_expect(strstr(p.out, "wrong-password-42") == NULL);
	free(want);
	proc_free(&p);
	expect_dir_empty(tmpd);

	push_tls(&p, getenv("REGPUSH_TEST_PASS"), 0, 0);
	cr_expect_eq(p.status, 1, "without the CA, verification fails: %s", p.err);
	cr_assert(asprintf(&want, "regpush: cannot reach registry %s: SSL certificate problem: "
			   "unable to get local issuer certificate\n", r.host) > 0);
	cr_expect_str_eq(p.err, want);
	free(want);
	proc_free(&p);

	push_tls(&p, getenv("REGPUSH_TEST_PASS"), 1, 0);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(r, "dev/t-tls");
	cr_expect_str_eq(tags, "dev-0123456");
	free(tags);
	expect_dir_empty(tmpd);
}

Test(push, plain_http_needs_insecure_registry, .init = setup, .fini = teardown, .timeout = 60)
{
	struct treg r = treg_plain();
	struct proc p;
	char *want, *tags;

	push_tls(&p, "x", 0, 1);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_assert(asprintf(&want, "regpush: cannot reach registry %s: OpenSSL/3.0.19: error:0A00010B:SSL routines::"
			   "wrong version number (a registry that serves plain HTTP is used only with "
			   "--insecure-registry %s)\n", r.host, r.host) > 0);
	/* The OpenSSL version in the middle varies: compare around it. */
	cr_expect(strstr(p.err, "wrong version number (a registry that serves plain HTTP is used only with --insecure-registry") != NULL, "%s", p.err);
	cr_expect_eq(strncmp(p.err, want, 40), 0, "%s", p.err);
	free(want);
	tags = treg_tags(r, "dev/t-tls");
	cr_expect_str_eq(tags, "", "no silent downgrade to HTTP");
	free(tags);
	expect_dir_empty(tmpd);
	proc_free(&p);
}

Test(push, dead_registry_is_exit_1_naming_it, .init = setup, .fini = teardown, .timeout = 120)
{
	char *one = img("one.tar"), src[700], tmpenv[600], *want;
	/* Port 9 (discard) on loopback: nothing listens. */
	const char *argv[] = { "regpush", "push", "--source", src, "--ref", "refs/heads/main",
			       "--sha", SHA40, "--service", "gw", "--dev-registry", "127.0.0.1:9/dev",
			       "--insecure-registry", "127.0.0.1:9", NULL };
	const char *envp[] = { tmpenv, "HOME=/root", "REGPUSH_DEV_USERNAME=u", "REGPUSH_DEV_PASSWORD=p",
			       "REGPUSH_RETRY_BASE_MS=20", NULL };
	struct proc p;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 1);
	want = "regpush: cannot reach registry 127.0.0.1:9: Failed to connect to 127.0.0.1 port 9 after ";
	cr_expect_eq(strncmp(p.err, want, strlen(want)), 0, "%s", p.err);
	cr_expect(strstr(p.err, "Couldn't connect to server\n") != NULL, "%s", p.err);
	expect_dir_empty(tmpd);
	proc_free(&p);
	free(one);
}

static void
push_with_spy(struct proc *p, const char *mode, const char *timeout)
{
	char *one = img("one.tar"), src[700], path[4096], tmpenv[600], to[64];
	char *spydir = spy(mode);
	struct treg r = treg_plain();
	char dev[300];
	const char *argv[] = { "regpush", "push", "--source", src, "--ref", "refs/heads/main",
			       "--sha", SHA40, "--service", mode, "--dev-registry", dev,
			       "--insecure-registry", r.host, NULL };
	const char *envp[] = { path, tmpenv, "HOME=/root", to, NULL };

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(dev, sizeof(dev), "%s/dev", r.host);
	snprintf(path, sizeof(path), "PATH=%s:/usr/local/bin:/usr/bin:/bin", spydir);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(to, sizeof(to), "REGPUSH_ENGINE_TIMEOUT=%s", timeout != NULL ? timeout : "120");
	run_regpush(argv, envp, p);
	free(spydir);
	free(one);
}

Test(push, engine_that_fails_or_is_killed, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	struct proc p;
	char *want, *tags, *one = img("one.tar"), src[700], *d;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	d = source_digest(src);
	free(one);

	push_with_spy(&p, "fail", NULL);
	cr_expect_eq(p.status, 1);
	cr_assert(asprintf(&want, "regpush: skopeo exited with status 7 while uploading %s/dev/fail@%s: boom\n", r.host, d) > 0);
	cr_expect(strstr(p.err, want) != NULL, "%s", p.err);
	free(want);
	expect_dir_empty(tmpd);
	proc_free(&p);

	push_with_spy(&p, "kill", NULL);
	cr_expect_eq(p.status, 1);
	cr_assert(asprintf(&want, "regpush: skopeo was killed by signal SIGKILL (9) while uploading %s/dev/kill@%s: \n", r.host, d) > 0);
	cr_expect(strstr(p.err, want) != NULL, "%s", p.err);
	free(want);
	expect_dir_empty(tmpd);
	proc_free(&p);

	push_with_spy(&p, "hang", "2");
	cr_expect_eq(p.status, 1);
	cr_assert(asprintf(&want, "regpush: skopeo timed out and was killed (SIGTERM) while uploading %s/dev/hang@%s: \n", r.host, d) > 0);
	cr_expect(strstr(p.err, want) != NULL, "%s", p.err);
	free(want);
	expect_dir_empty(tmpd);
	proc_free(&p);
	tags = treg_tags(r, "dev/hang");
	cr_expect_str_eq(tags, "");
	free(tags);
	free(d);
}

Test(push, sigterm_cleans_up, .init = setup, .fini = teardown, .timeout = 120)
{
	char *one = img("one.tar"), src[700], path[4096], tmpenv[600], *spydir = spy("hang");
	struct treg r = treg_plain();
	char dev[300], *argv[] = { "regpush", "push", "--source", src, "--ref", "refs/heads/main",
				   "--sha", SHA40, "--service", "sig", "--dev-registry", dev,
				   "--insecure-registry", (char *)r.host, NULL };
	char *envp[] = { path, tmpenv, "HOME=/root", "REGPUSH_DEV_USERNAME=u", "REGPUSH_DEV_PASSWORD=p", NULL };
	char logp[4200], *log = NULL;
	pid_t pid;
	int ws, i;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(dev, sizeof(dev), "%s/dev", r.host);
	snprintf(path, sizeof(path), "PATH=%s:/usr/local/bin:/usr/bin:/bin", spydir);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(logp, sizeof(logp), "%s/argv.log", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", 1);
		dup2(fd, 1);
		dup2(fd, 2);
		execve(getenv("REGPUSH_BIN"), argv, envp);
		_exit(127);
	}
	/* Wait until the push (the hanging copy to docker://) has started. */
	for (i = 0; i < 300; i++) {
		free(log);
		log = read_all(logp);
		if (log != NULL && strstr(log, "docker://") != NULL && strstr(log, "copy") != NULL &&
		    strstr(strstr(log, "copy") + 4, "docker://") != NULL)
			break;
		usleep(100000);
	}
	free(log);
	cr_assert_lt(i, 300, "the upload (the hanging engine) was reached before the signal");
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_expect(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM, "regpush dies of the signal after cleaning up");
	expect_dir_empty(tmpd);
	free(spydir);
	free(one);
}

Test(push, action_outputs_and_summary, .init = setup, .fini = teardown, .timeout = 120)
{
	char *one = img("one.tar"), src[700], *want, *out, *sum, e1[700], e2[700], e3[700];
	const char *env[] = { "GITHUB_ACTIONS=true", e1, e2, e3, NULL };
	struct treg r = treg_plain();
	struct proc p;
	char expect_out[4096], expect_sum[2048];

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(e1, sizeof(e1), "GITHUB_OUTPUT=%s", outp);
	snprintf(e2, sizeof(e2), "GITHUB_STEP_SUMMARY=%s", sump);
	snprintf(e3, sizeof(e3), "GITHUB_REPOSITORY=acme/gw");
	want = source_digest(src);
	push(&p, env, src, "refs/tags/v0.1.0-alpha", "t-action", NULL);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	/* Engine output is folded into groups with commands stopped. */
	cr_expect(strstr(p.out, "::group::skopeo copy") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "::stop-commands::ghadelimiter_") != NULL, "%s", p.out);
	out = read_all(outp);
	cr_expect_eq(normalise_delimiters(out), 8);
	snprintf(expect_out, sizeof(expect_out),
		 "environment=staging\nregistry=%s/prod\nrepository=%s/prod/t-action\n"
		 "tags<<EOF\n%s/prod/t-action:staging-v0.1.0-alpha\n%s/prod/t-action:staging-latest\nEOF\n"
		 "tag-names<<EOF\nstaging-v0.1.0-alpha\nstaging-latest\nEOF\n"
		 "digest=%s\nimage=%s/prod/t-action@%s\n"
		 "registry-paths=[\"%s/prod/t-action:staging-v0.1.0-alpha\",\"%s/prod/t-action:staging-latest\"]\n"
		 "version=0.1.0-alpha\n", r.host, r.host, r.host, r.host, want, r.host, want, r.host, r.host);
	cr_expect_eq(strncmp(out, expect_out, strlen(expect_out)), 0, "%s\n---\n%s", out, expect_out);
	cr_expect(strstr(out, "\"status\":\"pushed\"") != NULL);
	cr_expect(strstr(out, "\nresult=pushed\n") != NULL, "%s", out);
	cr_expect(strstr(out, "\nerror=") == NULL, "no error output on success: %s", out);
	sum = read_all(sump);
	snprintf(expect_sum, sizeof(expect_sum),
		 "### regpush push: pushed\n\n| Environment | Repository | Version | Digest |\n|---|---|---|---|\n"
		 "| staging | `%s/prod/t-action` | 0.1.0-alpha | `%s` |\n\n"
		 "Source `%s` (OCI archive)\n\n"
		 "| Tag | Kind | Result |\n|---|---|---|\n"
		 "| `staging-v0.1.0-alpha` | immutable | pushed |\n"
		 "| `staging-latest` | floating | pushed |\n\n"
		 "Pull by digest: `docker pull %s/prod/t-action@%s`\n", r.host, want, src, r.host, want);
	cr_expect_str_eq(sum, expect_sum);
	free(out);
	free(sum);
	free(want);
	free(one);
	proc_free(&p);
}

Test(push, bad_sources_are_exit_2, .init = setup, .fini = teardown, .timeout = 60)
{
	static const struct { const char *src, *msg; } rows[] = {
		{ "image.tar", "regpush: source 'image.tar': No such file or directory\n" },
		{ "dir:/tmp", "regpush: source 'dir:/tmp' is neither a transport reference (docker-daemon:, oci:, oci-archive:, docker-archive:, containers-storage:, docker://) nor a usable path (a path for --source cannot contain ':')\n" },
		{ "/tmp", "regpush: source '/tmp' is a directory but not an OCI layout (no index.json)\n" },
		{ "/etc/passwd", "regpush: source '/etc/passwd' is not an image: neither an OCI archive (a tar with index.json) nor a docker archive (a tar with manifest.json)\n" },
		{ "/dev/null", "regpush: source '/dev/null' is neither a file nor a directory\n" },
		{ "docker-daemon:", "regpush: source 'docker-daemon:' names no image after the transport\n" },
		{ "oci-archive:/nonexistent.tar", "regpush: source 'oci-archive:/nonexistent.tar': No such file or directory\n" },
		{ "docker://Bad/Name", "regpush: source 'docker://Bad/Name': repository name must be lowercase\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct proc p;
		push(&p, NULL, rows[i].src, "refs/heads/main", "t-bad", NULL);
		cr_expect_eq(p.status, 2, "%s", rows[i].src);
		cr_expect_str_eq(p.err, rows[i].msg);
		proc_free(&p);
	}
	expect_dir_empty(tmpd);
}

/* Lines of the fault proxy's log (a transparent proxy for ordinary names)
 * that mention `repo`, from line `from` on. */
static int
proxy_count(const char *repo, const char *what, size_t from)
{
	char *log = read_all(getenv("REGPUSH_TEST_FAULT_LOG")), *line, *save = NULL;
	size_t n = 0;
	int count = 0;

	for (line = strtok_r(log, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (n++ < from)
			continue;
		if (strstr(line, repo) != NULL && strstr(line, what) != NULL)
			count++;
	}
	free(log);
	return count;
}

static size_t
proxy_lines(void)
{
	char *log = read_all(getenv("REGPUSH_TEST_FAULT_LOG")), *p;
	size_t n = 0;

	for (p = log; p != NULL && *p != '\0'; p++)
		if (*p == '\n')
			n++;
	free(log);
	return n;
}

/* Pushes through the transparent proxy in front of the plain registry. */
static void
push_via_proxy(struct proc *p, const char *source, const char *ref, const char *service,
	       const char *spydir)
{
	struct treg r = { getenv("REGPUSH_TEST_FAULT"), 0 };
	char prod[300], tmpenv[600], path[4096];
	const char *argv[] = { "regpush", "push", "--json", "--source", source, "--ref", ref,
			       "--sha", SHA40, "--service", service, "--prod-registry", prod,
			       "--insecure-registry", r.host, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", path, NULL };

	snprintf(prod, sizeof(prod), "%s/one-upload", r.host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(path, sizeof(path), "PATH=%s%s/usr/local/bin:/usr/bin:/bin",
		 spydir != NULL ? spydir : "", spydir != NULL ? ":" : "");
	run_regpush(argv, envp, p);
}

/*
 * A tag PUT that fails for good (the proxy answers every PUT of `latest`
 * with 500): exit 1, and the run says which tags it wrote — on stderr,
 * one line per outcome, and in the --json report with the error — as
 * the registry really holds them.
 */
Test(push, a_failed_run_names_the_tags_written_and_not, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char *one = img("one.tar"), src[700], *d1, want[2000], d[80], prod[300];
	const char *h = getenv("REGPUSH_TEST_FAULT");
	const char *flags[] = { "--prod-registry", prod, "--insecure-registry", h, NULL };
	struct treg plain = treg_plain();
	struct proc p;
	json_t *j, *r;
	size_t i;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(prod, sizeof(prod), "%s/prod", h);
	d1 = source_digest(src);
	push(&p, NULL, src, "refs/tags/v1.0.0", "f-putlatest", flags);
	cr_assert_eq(p.status, 1, "%s", p.err);
	snprintf(want, sizeof(want),
		 "regpush: written: %s/prod/f-putlatest:v1.0.0, %s/prod/f-putlatest:v1.0, "
		 "%s/prod/f-putlatest:v1\n"
		 "regpush: not written: %s/prod/f-putlatest:latest\n"
		 "regpush: registry %s (PUT prod/f-putlatest:latest): HTTP 500 UNKNOWN: cannot write "
		 "latest (after 5 attempts)\n", h, h, h, h, h);
	cr_expect(strstr(p.err, want) != NULL, "%s\nwant the tail:\n%s", p.err, want);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	cr_expect_str_eq(json_string_value(json_object_get(j, "digest")), d1);
	cr_expect(strstr(json_string_value(json_object_get(j, "error")), "cannot write latest") != NULL);
	json_array_foreach(json_object_get(j, "results"), i, r)
		cr_expect_str_eq(json_string_value(json_object_get(r, "status")), i < 3 ? "pushed" : "not-written",
				 "%s", json_string_value(json_object_get(r, "tag")));
	json_decref(j);
	/* As the registry holds them. */
	expect_tags_at(plain, "prod/f-putlatest", "v1.0.0 v1.0 v1", d1);
	cr_expect_eq(treg_manifest(plain, "prod/f-putlatest", "latest", NULL, d), 404);
	proc_free(&p);
	free(one);
	free(d1);
	expect_dir_empty(tmpd);
}

/* skopeo gives up on a registry's 500 (it retries network errors only):
 * the upload, which writes no tag, is run again, announced. f-uploadonce
 * answers the engine's first manifest PUT (by digest) with 500. */
Test(push, an_upload_that_failed_is_run_again, .init = setup, .fini = teardown, .timeout = 120)
{
	char *one = img("one.tar"), src[700], *d1, prod[300];
	const char *h = getenv("REGPUSH_TEST_FAULT");
	const char *flags[] = { "--prod-registry", prod, "--insecure-registry", h, NULL };
	const char *env[] = { "REGPUSH_RETRY_BASE_MS=20", NULL };
	struct treg plain = treg_plain();
	struct proc p;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(prod, sizeof(prod), "%s/prod", h);
	d1 = source_digest(src);
	push(&p, env, src, "refs/tags/v1.0.0", "f-uploadonce", flags);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.err, "regpush: skopeo exited with status 1 while uploading ") != NULL, "%s", p.err);
	cr_expect(strstr(p.err, "; trying again in 20 ms (attempt 2 of 3)\n") != NULL, "%s", p.err);
	expect_tags_at(plain, "prod/f-uploadonce", "v1.0.0 v1.0 v1 latest", d1);
	proc_free(&p);
	free(one);
	free(d1);
	expect_dir_empty(tmpd);
}

/* SIGTERM while waiting to run a failed upload again: regpush dies of it
 * within 2 s, its private directory gone. f-uploadfail answers every
 * manifest PUT by digest (the end of the engine's upload) with 500, so the
 * wait (3 s here) is reached every time. */
Test(push, sigterm_during_the_upload_retry_wait, .init = setup, .fini = teardown, .timeout = 120)
{
	char *one = img("one.tar"), src[700], prod[300], tmpenv[600], needle[300];
	const char *h = getenv("REGPUSH_TEST_FAULT");
	const char *argv[] = { "regpush", "push", "--source", src, "--ref", "refs/tags/v1.0.0",
			       "--sha", SHA40, "--service", "f-uploadfail", "--prod-registry", prod,
			       "--insecure-registry", h, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", "REGPUSH_RETRY_BASE_MS=3000", NULL };
	struct bg b;
	struct proc p;
	double t0;
	int k;

	snprintf(src, sizeof(src), "oci-archive:%s", one);
	snprintf(prod, sizeof(prod), "%s/prod", h);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(needle, sizeof(needle), "PUT /v2/prod/f-uploadfail/manifests/sha256:");
	start_regpush(argv, envp, &b);
	for (k = 0; k < 200 && count_lines(getenv("REGPUSH_TEST_FAULT_LOG"), needle) == 0; k++)
		usleep(50000);
	cr_assert_lt(k, 200, "the failing upload was reached");
	usleep(700000); /* skopeo gives up; regpush announces the retry and waits */
	t0 = mono_now();
	kill(b.pid, SIGTERM);
	wait_bg(&b, &p);
	cr_expect_lt(mono_now() - t0, 2.0, "ended within 2 s of the signal");
	cr_expect_eq(p.status, 128 + SIGTERM, "died of the signal: %d %s", p.status, p.err);
	cr_expect(strstr(p.err, "; trying again in 3000 ms (attempt 2 of 3)\n") != NULL, "%s", p.err);
	cr_expect(strstr(p.err, "regpush: interrupted by SIGTERM while uploading ") != NULL, "%s", p.err);
	expect_dir_empty(tmpd);
	proc_free(&p);
	free(one);
}

Test(push, one_upload_then_server_side_retags, .init = setup, .fini = teardown, .timeout = 120)
{
	char *multi = img("multi.tar"), src[700], *spydir = spy("pass"), logp[4200], *log, *s;
	struct treg plain = treg_plain();
	struct proc p;
	size_t mark;
	int engine_copies = 0;
	json_t *j;

	snprintf(src, sizeof(src), "oci-archive:%s", multi);
	mark = proxy_lines();
	push_via_proxy(&p, src, "refs/tags/v4.0.0", "svc", spydir);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, NULL);
	expect_tags_at(plain, "one-upload/svc", "v4.0.0 v4.0 v4 latest",
		       json_string_value(json_object_get(j, "digest")));
	json_decref(j);
	proc_free(&p);
	/* The engine ran once, uploading by digest: it wrote no tag. */
	snprintf(logp, sizeof(logp), "%s/argv.log", dir);
	log = read_all(logp);
	for (s = log; s != NULL && (s = strstr(s, "docker://")) != NULL; s++)
		engine_copies++;
	cr_expect_eq(engine_copies, 1, "%s", log);
	cr_expect(strstr(log, "one-upload/svc@sha256:") != NULL, "%s", log);
	free(log);
	/* Each blob was uploaded once; the manifests went by digest (the
	 * index and its two children), and every tag is one PUT by regpush. */
	/* go-containerregistry's blobs are visible from every repository:
	 * the engine finds the ones earlier tests uploaded and skips them. */
	if (treg_ggcr())
		cr_expect_leq(proxy_count("/one-upload/svc/blobs/uploads/", "POST", mark), 4);
	else
		cr_expect_eq(proxy_count("/one-upload/svc/blobs/uploads/", "POST", mark), 4,
			     "two platforms: two configs and two layers");
	cr_expect_eq(proxy_count("/one-upload/svc/manifests/sha256:", "PUT", mark), 3);
	cr_expect_eq(proxy_count("/one-upload/svc/manifests/v4.0.0 ", "PUT", mark), 1);
	cr_expect_eq(proxy_count("/one-upload/svc/manifests/v4.0 ", "PUT", mark), 1);
	cr_expect_eq(proxy_count("/one-upload/svc/manifests/v4 ", "PUT", mark), 1);
	cr_expect_eq(proxy_count("/one-upload/svc/manifests/latest ", "PUT", mark), 1);
	/* A rerun with the same image writes nothing at all. */
	mark = proxy_lines();
	push_via_proxy(&p, src, "refs/tags/v4.0.0", "svc", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, NULL);
	for (size_t i = 0; i < 4; i++)
		cr_expect_str_eq(report_status(j, i), "unchanged");
	json_decref(j);
	proc_free(&p);
	cr_expect_eq(proxy_count("/one-upload/svc/", "PUT ", mark), 0);
	cr_expect_eq(proxy_count("/one-upload/svc/", "POST ", mark), 0);
	cr_expect_eq(proxy_count("/one-upload/svc/", "PATCH ", mark), 0);
	cr_expect_eq(proxy_count("/one-upload/svc/", "DELETE ", mark), 0);
	free(spydir);
	free(multi);
}

/* A push through the token-auth registry with the release robot account:
 * first push, rerun (no writes), and a refused different image. */
Test(push, token_auth_release_rerun_and_conflict, .init = setup, .fini = teardown, .timeout = 120)
{
	TREG_DISTRIBUTION_PEERS_ONLY();
	const char *host = getenv("REGPUSH_TEST_TOKENREG");
	char *one = img("one.tar"), *two = img("two.tar"), s1[700], s2[700], prod[300], tmpenv[600];
	char user[300], pw[300], *d1, *d2, want[900];
	const char *argv[] = { "regpush", "push", "--json", "--source", s1, "--ref", "refs/tags/v7.0.0",
			       "--sha", SHA40, "--service", "svc", "--prod-registry", prod,
			       "--insecure-registry", host, "--insecure-registry",
			       getenv("REGPUSH_TEST_TOKENSRV"), NULL };
	const char *envp[] = { tmpenv, "HOME=/root", user, pw, NULL };
	struct proc p;
	json_t *j;

	cr_assert_not_null(host);
	snprintf(s1, sizeof(s1), "oci-archive:%s", one);
	snprintf(s2, sizeof(s2), "oci-archive:%s", two);
	snprintf(prod, sizeof(prod), "%s/tok", host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(user, sizeof(user), "REGPUSH_RELEASE_USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(pw, sizeof(pw), "REGPUSH_RELEASE_PASSWORD=%s", getenv("REGPUSH_TEST_PASS"));
	d1 = source_digest(s1);
	d2 = source_digest(s2);
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, d1);
	cr_expect_str_eq(report_status(j, 3), "pushed");
	json_decref(j);
	proc_free(&p);
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, d1);
	cr_expect_str_eq(report_status(j, 0), "unchanged");
	json_decref(j);
	proc_free(&p);
	argv[4] = s2;
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 3, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: refused: %s/tok/svc:v7.0.0 is immutable and already points at %s; "
		 "this run's image is %s. Nothing was written.\n", host, d1, d2);
	cr_expect_str_eq(p.err, want);
	proc_free(&p);
	/* Without credentials, the token service grants pull only. */
	envp[2] = NULL;
	argv[4] = s1;
	argv[6] = "refs/tags/v7.0.1";
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.err, "requires credentials") != NULL || strstr(p.err, "unauthorized") != NULL ||
		  strstr(p.err, "denied") != NULL, "%s", p.err);
	proc_free(&p);
	expect_dir_empty(tmpd);
	free(d1);
	free(d2);
	free(one);
	free(two);
}

/* Exactly as the runner starts the container: no arguments, everything
 * from INPUT_* and GITHUB_* (mode defaults to push), credentials as
 * inputs with hyphens kept in the names. */
Test(push, as_the_runner_starts_the_action, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *host = getenv("REGPUSH_TEST_TOKENREG");
	char *one = img("one.tar"), src[700], reg[300], insecure[300], tmpenv[600], user[300], pw[300];
	char e_out[700], e_sum[700], *want, *out, *d;
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "GITHUB_REF=refs/tags/v8.1.0-rc.2",
			       "GITHUB_SHA=" SHA40, "GITHUB_EVENT_NAME=push",
			       "GITHUB_REPOSITORY=acme/Runner-Svc", src, reg, insecure, user, pw,
			       "INPUT_ENGINE=", "INPUT_DRY-RUN=false", tmpenv, "HOME=/root",
			       e_out, e_sum, NULL };
	struct proc p;

	cr_assert_not_null(host);
	snprintf(src, sizeof(src), "INPUT_SOURCE=oci-archive:%s", one);
	snprintf(reg, sizeof(reg), "INPUT_PROD-REGISTRY=%s/act", host);
	snprintf(insecure, sizeof(insecure), "INPUT_INSECURE-REGISTRIES=other.example, %s,%s", host,
		 getenv("REGPUSH_TEST_TOKENSRV"));
	snprintf(user, sizeof(user), "INPUT_STAGING-USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(pw, sizeof(pw), "INPUT_STAGING-PASSWORD=%s", getenv("REGPUSH_TEST_PASS"));
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(e_out, sizeof(e_out), "GITHUB_OUTPUT=%s", outp);
	snprintf(e_sum, sizeof(e_sum), "GITHUB_STEP_SUMMARY=%s", sump);
	d = source_digest(src + strlen("INPUT_SOURCE="));
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	/* The password is masked first, and never printed otherwise. */
	cr_expect_eq(strncmp(p.out, "::add-mask::", 12), 0, "%.100s", p.out);
	cr_assert(asprintf(&want, "::add-mask::%s\n", getenv("REGPUSH_TEST_PASS")) > 0);
	cr_expect(strstr(p.out, want) != NULL);
	free(want);
	out = read_all(outp);
	normalise_delimiters(out);
	cr_assert(asprintf(&want, "environment=staging\nregistry=%s/act\nrepository=%s/act/runner-svc\n"
			   "tags<<EOF\n%s/act/runner-svc:staging-v8.1.0-rc.2\n%s/act/runner-svc:staging-latest\nEOF\n"
			   "tag-names<<EOF\nstaging-v8.1.0-rc.2\nstaging-latest\nEOF\n"
			   "digest=%s\nimage=%s/act/runner-svc@%s\nregistry-paths=[\"%s/act/runner-svc:"
			   "staging-v8.1.0-rc.2\",\"%s/act/runner-svc:staging-latest\"]\n"
			   "version=8.1.0-rc.2\n", host, host, host, host, d, host, d, host, host) > 0);
	cr_expect_eq(strncmp(out, want, strlen(want)), 0, "%s\n---\n%s", out, want);
	free(want);
	free(out);
	proc_free(&p);
	expect_dir_empty(tmpd);
	free(d);
	free(one);
}

/*
 * Issue 18: exactly 2,000 tags listed 1,000 a page, a newer release on
 * the second page. go-containerregistry honours n and sends no Link: a
 * full page without a Link is followed with last=, and the page past the
 * end (that registry restarts the list) repeats what was seen, which ends
 * the listing. Seeing only the first page, a push of an older release
 * would move latest backwards. distribution ignores n: one page.
 */
Test(push, a_newer_release_on_the_second_page_holds_latest, .init = setup, .fini = teardown,
     .timeout = 120)
{
	struct treg r = treg_plain();
	char *two = archive("two.tar"), *one = archive("one.tar"), *d2 = source_digest(two), *tags;
	const char *put[] = { "python3", "tests/put-tags.py", r.host, "prod/pages", "v2.0.0", "a-", "1996", NULL };
	const char *envp0[] = { NULL };
	const char *env[] = { "REGPUSH_TAGS_PAGE=1000", NULL };
	struct proc p;
	json_t *j;
	size_t n = 0;
	char *s;

	push(&p, env, two, "refs/tags/v2.0.0", "pages", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	run_prog("python3", put, envp0, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(r, "prod/pages");
	for (s = tags; *s != '\0'; s++)
		n += *s == ' ';
	cr_assert_eq(n + 1, 2000, "2,000 tags, v2.0.0's four last in order: %zu", n + 1);
	free(tags);
	push(&p, env, one, "refs/tags/v1.0.0", "pages", NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = result(&p, NULL);
	json_decref(j);
	proc_free(&p);
	expect_tags_at(r, "prod/pages", "latest v2 v2.0 v2.0.0", d2);
	if (treg_ggcr())
		cr_expect_geq(count_lines(getenv("REGPUSH_TEST_PLAIN_LOG"),
					  "/v2/prod/pages/tags/list?n=1000&last=a-0000999"), 1,
			      "the second page asked for with last=");
	free(two);
	free(one);
	free(d2);
}
