/*
 * End to end: build/regpush run as the runner runs it — environment only,
 * temp files for GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and the event — with
 * the files checked byte for byte.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static char *dir;
static char *outp, *sump, *evp;
static char env_out[600], env_sum[600], env_ev[600];

static void
setup(void)
{
	dir = tmpdir_new();
	outp = write_file(dir, "output", "");
	sump = write_file(dir, "summary", "");
	evp = write_file(dir, "event.json", "{\"ref\":\"refs/tags/v1.2.3\"}");
	snprintf(env_out, sizeof(env_out), "GITHUB_OUTPUT=%s", outp);
	snprintf(env_sum, sizeof(env_sum), "GITHUB_STEP_SUMMARY=%s", sump);
	snprintf(env_ev, sizeof(env_ev), "GITHUB_EVENT_PATH=%s", evp);
}

static void
teardown(void)
{
	rm_rf(dir);
	free(dir);
	free(outp);
	free(sump);
	free(evp);
}

Test(e2e_plan, release_json_from_flags, .init = setup, .fini = teardown)
{
	const char *argv[] = { "regpush", "plan", "--json", "--ref", "refs/tags/v1.2.3",
			       "--sha", SHA40, "--service", "gateway", "--now",
			       "2027-01-10T00:00:00Z", NULL };
	const char *envp[] = { NULL };
	struct proc p;
	json_error_t je;
	json_t *j;
	char *tags;

	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "stderr: %s", p.err);
	cr_expect_str_eq(p.err, "");
	j = json_loads(p.out, 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	cr_expect_str_eq(json_string_value(json_object_get(j, "environment")), "production");
	cr_expect_str_eq(json_string_value(json_object_get(j, "registry")), "quay.io/kubernaut");
	cr_expect_str_eq(json_string_value(json_object_get(j, "repository")), "quay.io/kubernaut/gateway");
	cr_expect_str_eq(json_string_value(json_object_get(j, "version")), "1.2.3");
	cr_expect_str_eq(json_string_value(json_object_get(j, "credentials")), "release");
	cr_expect(json_is_null(json_object_get(j, "retention")));
	tags = json_dumps(json_object_get(j, "tags"), JSON_COMPACT);
	cr_expect_str_eq(tags, "[\"v1.2.3\",\"v1.2\",\"v1\",\"latest\"]");
	free(tags);
	tags = json_dumps(json_object_get(j, "immutable"), JSON_COMPACT);
	cr_expect_str_eq(tags, "[\"v1.2.3\"]");
	free(tags);
	tags = json_dumps(json_object_get(j, "floating"), JSON_COMPACT);
	cr_expect_str_eq(tags, "[\"v1.2\",\"v1\",\"latest\"]");
	free(tags);
	tags = json_dumps(json_object_get(j, "images"), JSON_COMPACT);
	cr_expect_str_eq(tags, "[\"quay.io/kubernaut/gateway:v1.2.3\",\"quay.io/kubernaut/gateway:v1.2\","
			 "\"quay.io/kubernaut/gateway:v1\",\"quay.io/kubernaut/gateway:latest\"]");
	free(tags);
	tags = json_dumps(json_object_get(j, "labels"), JSON_COMPACT);
	cr_expect_str_eq(tags, "{\"org.opencontainers.image.revision\":\"" SHA40 "\","
			 "\"org.opencontainers.image.version\":\"1.2.3\","
			 "\"org.opencontainers.image.created\":\"2027-01-10T00:00:00Z\"}");
	free(tags);
	json_decref(j);
	proc_free(&p);
}

static const char want_output[] =
	"environment=development\n"
	"registry=quay.io/jordigilh\n"
	"repository=quay.io/jordigilh/gateway\n"
	"tags<<EOF\nquay.io/jordigilh/gateway:dev-0123456\nquay.io/jordigilh/gateway:feature-login-page\nEOF\n"
	"tag-names<<EOF\ndev-0123456\nfeature-login-page\nEOF\n"
	"digest=\n"
	"image=\n"
	"registry-paths=[\"quay.io/jordigilh/gateway:dev-0123456\",\"quay.io/jordigilh/gateway:feature-login-page\"]\n"
	"version=\n"
	"labels<<EOF\n"
	"org.opencontainers.image.revision=" SHA40 "\n"
	"org.opencontainers.image.source=https://github.com/acme/Gateway\n"
	"org.opencontainers.image.version=dev-0123456\n"
	"org.opencontainers.image.created=2027-01-15T08:00:00Z\nEOF\n"
	"annotations<<EOF\n"
	"org.opencontainers.image.revision=" SHA40 "\n"
	"org.opencontainers.image.source=https://github.com/acme/Gateway\n"
	"org.opencontainers.image.version=dev-0123456\n"
	"org.opencontainers.image.created=2027-01-15T08:00:00Z\nEOF\n"
	"json={\"command\":\"plan\",\"environment\":\"development\",\"registry\":\"quay.io/jordigilh\","
	"\"repository\":\"quay.io/jordigilh/gateway\",\"service\":\"gateway\",\"version\":null,"
	"\"ref\":\"refs/heads/feature/Login Page\",\"sha\":\"" SHA40 "\",\"event\":\"push\","
	"\"tags\":[\"dev-0123456\",\"feature-login-page\"],\"immutable\":[],\"floating\":[\"feature-login-page\"],"
	"\"images\":[\"quay.io/jordigilh/gateway:dev-0123456\",\"quay.io/jordigilh/gateway:feature-login-page\"],"
	"\"retention\":\"30d\",\"credentials\":\"dev\",\"labels\":{\"org.opencontainers.image.revision\":\"" SHA40 "\","
	"\"org.opencontainers.image.source\":\"https://github.com/acme/Gateway\","
	"\"org.opencontainers.image.version\":\"dev-0123456\",\"org.opencontainers.image.created\":\"2027-01-15T08:00:00Z\"},"
	"\"dry_run\":false,\"results\":[{\"tag\":\"dev-0123456\",\"image\":\"quay.io/jordigilh/gateway:dev-0123456\","
	"\"kind\":\"unique\",\"status\":\"planned\"},{\"tag\":\"feature-login-page\","
	"\"image\":\"quay.io/jordigilh/gateway:feature-login-page\",\"kind\":\"floating\",\"status\":\"planned\"}]}\n"
	"result=planned\n";

static const char want_summary[] =
	"### regpush plan: planned\n\n"
	"| Environment | Repository | Version | Digest |\n|---|---|---|---|\n"
	"| development | `quay.io/jordigilh/gateway` | - | - |\n\n"
	"| Tag | Kind | Result |\n|---|---|---|\n"
	"| `dev-0123456` | unique | planned |\n"
	"| `feature-login-page` | floating | planned |\n";

Test(e2e_plan, action_mode_files_byte_for_byte, .init = setup, .fini = teardown)
{
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=plan",
			       "GITHUB_REF=refs/heads/feature/Login Page",
			       "GITHUB_SHA=" SHA40, "GITHUB_EVENT_NAME=push",
			       "GITHUB_REPOSITORY=acme/Gateway", "SOURCE_DATE_EPOCH=1800000000",
			       "INPUT_DRY-RUN=", "INPUT_SERVICE=",
			       env_out, env_sum, env_ev, NULL };
	struct proc p;
	char *out, *sum;

	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "stdout: %s\nstderr: %s", p.out, p.err);
	out = read_all(outp);
	sum = read_all(sump);
	cr_expect_eq(normalise_delimiters(out), 8);
	cr_expect_str_eq(out, want_output);
	cr_expect_str_eq(sum, want_summary);
	free(out);
	free(sum);
	proc_free(&p);
}

Test(e2e_plan, pull_request_from_event, .init = setup, .fini = teardown)
{
	const char *argv[] = { "regpush", "plan", "--json", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true",
			       "GITHUB_REF=refs/pull/77/merge",
			       "GITHUB_SHA=" SHA40, "GITHUB_EVENT_NAME=pull_request",
			       "GITHUB_REPOSITORY=acme/gateway", "SOURCE_DATE_EPOCH=0",
			       env_out, env_ev, NULL };
	struct proc p;
	json_t *j;
	char *ev;

	ev = write_file(dir, "event.json",
			"{\"number\":77,\"pull_request\":{\"number\":77,\"head\":{\"sha\":"
			"\"fedcba9876543210fedcba9876543210fedcba98\",\"repo\":{\"full_name\":\"fork/gateway\"}}}}");
	free(ev);
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(j, "tags"), 0)), "test-pr-77");
	cr_expect_str_eq(json_string_value(json_object_get(j, "environment")), "test");
	cr_expect_str_eq(json_string_value(json_object_get(j, "sha")), "fedcba9876543210fedcba9876543210fedcba98");
	json_decref(j);
	proc_free(&p);
}

/* One bad-input case: the environment variable or flag, the value, and
 * the exact message on stderr (CLI) — exit 2, nothing written. */
struct bad {
	const char *var;   /* "GITHUB_REF", or "--flag" */
	const char *value;
	int status;
	const char *msg;   /* exact stderr line (without "regpush: ") or NULL */
};

static const struct bad bad_rows[] = {
	{ "GITHUB_REF", "", 2, "no git ref: set --ref or GITHUB_REF (e.g. refs/heads/develop or refs/tags/v1.2.3)" },
	{ "GITHUB_REF", "garbage", 2, "unsupported git ref 'garbage': expected refs/heads/<branch>, refs/tags/vX.Y.Z[-PRE] or refs/pull/<n>/merge" },
	{ "GITHUB_REF", "refs/heads/\xff\xfe", 0, NULL },
	{ "GITHUB_REF", "refs/tags/v1.0.0\n::add-mask::x", 2, "tag ref 'refs/tags/v1.0.0\\x0a::add-mask::x' is not a SemVer 2.0.0 version: not of the form MAJOR.MINOR.PATCH (expected refs/tags/vX.Y.Z or refs/tags/vX.Y.Z-PRE)" },
	{ "GITHUB_SHA", "", 2, "no commit SHA: set --sha or GITHUB_SHA (40 or 64 hex digits)" },
	{ "GITHUB_SHA", "xyz\r\n::error::pwned", 2, "invalid commit SHA 'xyz\\x0d\\x0a::error::pwned': expected 40 or 64 hexadecimal digits" },
	{ "GITHUB_EVENT_NAME", "\n::stop-commands::t", 0, NULL },
	{ "GITHUB_REPOSITORY", "acme/\xc3(bad", 2, "invalid service '\\xc3(bad': invalid repository name (lowercase [a-z0-9] components separated by '/', '.', '_', '__' or '-')" },
	{ "GITHUB_REPOSITORY", "", 2, "no service: set --service or GITHUB_REPOSITORY" },
	{ "INPUT_SERVICE", "Gate\nway", 2, "invalid service 'Gate\\x0away': repository name must be lowercase" },
	{ "INPUT_TEST-NAME", "\n\n", 2, "test name '\\x0a\\x0a' has no characters usable in a tag (letters, digits, '.', '_' or '-')" },
	{ "INPUT_DEV-REGISTRY", "::error::x", 2, "invalid dev-registry '::error::x': invalid registry host (expected host[:port], e.g. quay.io or 127.0.0.1:5000)" },
	{ "INPUT_ENGINE", "docker", 2, "engine must be skopeo or buildah, not 'docker'" },
	{ "INPUT_DRY-RUN", "yes", 2, "input dry-run must be true or false, not 'yes'" },
	{ "INPUT_INSECURE-REGISTRIES", "ok.io, bad/host", 2, "insecure registry 'bad/host' is not a host[:port]" },
	{ "INPUT_POLICY", "/dev/zero", 2, "policy file /dev/zero is not a regular file" },
	{ "INPUT_POLICY", "/", 2, "policy file / is not a regular file" },
	{ "INPUT_POLICY", "/nonexistent", 2, "cannot open policy file /nonexistent: No such file or directory" },
	{ "GITHUB_EVENT_PATH", "/nonexistent.json", 2, "cannot open event file /nonexistent.json: No such file or directory" },
	{ "GITHUB_EVENT_PATH", "/dev/zero", 2, "event file /dev/zero is not a regular file" },
	{ "--now", "tomorrow", 2, "--now 'tomorrow' is not an RFC 3339 time (e.g. 2027-01-10T00:00:00Z)" },
	{ "SOURCE_DATE_EPOCH", "-5", 2, "SOURCE_DATE_EPOCH '-5' is not a number of seconds" },
};

static void
run_bad(const struct bad *b, const char *value, const char *expect_msg, int status)
{
	char *kv = NULL, *out, *line = NULL;
	const char *envp[16];
	const char *argv[8] = { "regpush", "plan", NULL };
	int e = 0;
	struct proc p;

	envp[e++] = "GITHUB_REF=refs/heads/develop";
	envp[e++] = "GITHUB_SHA=" SHA40;
	envp[e++] = "GITHUB_REPOSITORY=acme/gateway";
	envp[e++] = "GITHUB_EVENT_NAME=push";
	envp[e++] = env_out;
	if (b->var[0] == '-') {
		argv[2] = b->var;
		argv[3] = value;
		argv[4] = NULL;
	} else {
		cr_assert(asprintf(&kv, "%s=%s", b->var, value) > 0);
		/* Later entries win for getenv? No: the first does; put it first. */
		memmove(envp + 1, envp, (size_t)e * sizeof(*envp));
		envp[0] = kv;
		e++;
	}
	envp[e] = NULL;
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, status, "%s=%.40s: status %d, stderr %s", b->var, value, p.status, p.err);
	if (expect_msg != NULL) {
		cr_assert(asprintf(&line, "regpush: %s\n", expect_msg) > 0);
		cr_expect_str_eq(p.err, line, "%s: got %s", b->var, p.err);
	}
	/* Whatever happened, no line of output starts a workflow command. */
	cr_expect(strstr(p.out, "\n::") == NULL && strncmp(p.out, "::", 2) != 0, "%s", p.out);
	out = read_all(outp);
	cr_expect_str_eq(out, "", "%s: nothing written to GITHUB_OUTPUT", b->var);
	free(out);
	free(line);
	free(kv);
	proc_free(&p);
}

Test(e2e_plan, bad_values_cli, .init = setup, .fini = teardown, .timeout = 60)
{
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++)
		run_bad(&bad_rows[i], bad_rows[i].value, bad_rows[i].msg, bad_rows[i].status);
}

Test(e2e_plan, huge_values_everywhere, .init = setup, .fini = teardown, .timeout = 60)
{
	static const char *const vars[] = {
		"GITHUB_REF", "GITHUB_SHA", "GITHUB_EVENT_NAME", "GITHUB_REPOSITORY",
		"GITHUB_WORKFLOW_REF", "GITHUB_SERVER_URL", "INPUT_SERVICE",
		"INPUT_TEST-NAME", "INPUT_DEV-REGISTRY", "INPUT_PROD-REGISTRY",
		"INPUT_POLICY", "INPUT_SOURCE", "INPUT_AUTHFILE", "INPUT_INSECURE-REGISTRIES",
		"--ref", "--sha", "--service", "--test-name", "--now",
	};
	/* Linux refuses to exec with one argument or variable over 128 KiB
	 * (MAX_ARG_STRLEN), so that is the largest a runner can pass; 1 MiB
	 * values arrive only through files (event JSON and policy tests). */
	size_t i, n = 128000;
	char *huge = malloc(n + 1), *msg;

	memset(huge, 'a', n);
	huge[n] = '\0';
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		struct bad b = { vars[i], NULL, 2, NULL };
		const char *name = vars[i];
		if (strncmp(name, "INPUT_", 6) == 0) {
			static char lower[64];
			size_t k;
			for (k = 0; name[6 + k]; k++)
				lower[k] = (char)(name[6 + k] >= 'A' && name[6 + k] <= 'Z' ? name[6 + k] + 32 : name[6 + k]);
			lower[k] = '\0';
			name = lower;
		}
		cr_assert(asprintf(&msg, "value of %s is too long (128000 bytes; at most 4096)", name) > 0);
		run_bad(&b, huge, msg, 2);
		free(msg);
	}
	free(huge);
}

static const struct { const char *json, *msg; } bad_events[] = {
	{ "", "invalid event JSON: '[' or '{' expected near end of file" },
	{ "{", "invalid event JSON: string or '}' expected near end of file" },
	{ "[1]", "invalid event JSON: expected an object" },
	{ "{\"a\":1,\"a\":2}", "invalid event JSON: duplicate object key near '\"a\"'" },
	{ "{\"pull_request\":{\"number\":\"7\"}}", "event JSON: pull_request.number is not a positive integer" },
	{ "{\"pull_request\":{\"number\":-7}}", "event JSON: pull_request.number is not a positive integer" },
	{ "{\"pull_request\":{\"head\":{\"sha\":5}}}", "event JSON: pull_request.head.sha is not a string" },
	{ "{\"x\":\"\xff\"}", "invalid event JSON: unable to decode byte 0xff near '\"'" },
};

Test(e2e_plan, malformed_event_json, .init = setup, .fini = teardown)
{
	size_t i;

	for (i = 0; i < sizeof(bad_events) / sizeof(bad_events[0]); i++) {
		const char *argv[] = { "regpush", "plan", NULL };
		const char *envp[] = { "GITHUB_REF=refs/pull/1/merge", "GITHUB_SHA=" SHA40,
				       "GITHUB_EVENT_NAME=pull_request", "GITHUB_REPOSITORY=a/b",
				       env_ev, NULL };
		struct proc p;
		char *path = write_file(dir, "event.json", bad_events[i].json);
		cr_assert(path != NULL);
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, 2, "%s", bad_events[i].json);
		cr_expect(strstr(p.err, bad_events[i].msg) != NULL, "row %zu: %s", i, p.err);
		cr_expect_eq(strncmp(p.err, "regpush: ", 9), 0);
		cr_expect_eq(strchr(p.err, '\n'), p.err + strlen(p.err) - 1, "one line: %s", p.err);
		free(path);
		proc_free(&p);
	}
}

Test(e2e_plan, one_mib_event_files, .init = setup, .fini = teardown)
{
	const char *argv[] = { "regpush", "plan", NULL };
	const char *envp[] = { "GITHUB_REF=refs/heads/main", "GITHUB_SHA=" SHA40,
			       "GITHUB_REPOSITORY=a/b", env_ev, NULL };
	size_t n = 1 << 20;
	char *big = malloc(n + 16), *path;
	struct proc p;

	/* 1 MiB of garbage. */
	memset(big, 'z', n);
	big[n] = '\0';
	path = write_file(dir, "event.json", big);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 2);
	cr_expect(strstr(p.err, "event.json:1:1048576: invalid event JSON: '[' or '{' expected\n") != NULL, "%.200s", p.err);
	cr_expect_lt(strlen(p.err), 400, "the message stays one short line");
	proc_free(&p);
	free(path);
	/* 1 MiB of valid JSON is an ordinary event. */
	memcpy(big, "{\"x\":\"", 6);
	memcpy(big + n - 2, "\"}", 3);
	path = write_file(dir, "event.json", big);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	free(path);
	free(big);
}

Test(e2e_plan, refused_in_action_mode_is_an_error_annotation, .init = setup, .fini = teardown)
{
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=plan",
			       "GITHUB_REF=refs/tags/v1.0.0", "GITHUB_SHA=" SHA40,
			       "GITHUB_EVENT_NAME=pull_request_target",
			       "GITHUB_REPOSITORY=acme/gateway", env_out, env_sum, NULL };
	struct proc p;
	char *out;

	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 3);
	/* The runner unescapes %3A in a property: the title reads "regpush: refused". */
	cr_expect_str_eq(p.out, "::error title=regpush%3A refused::refused: staging and production are never "
			 "reached from a pull_request event (event 'pull_request_target', ref 'refs/tags/v1.0.0')\n");
	/* A refused run writes its outputs and summary too. */
	out = read_all(outp);
	cr_expect_str_eq(out, "result=refused\nerror=refused: staging and production are never "
			 "reached from a pull_request event (event 'pull_request_target', ref 'refs/tags/v1.0.0')\n");
	free(out);
	out = read_all(sump);
	cr_expect_str_eq(out, "### regpush plan: refused\n\n**Refused**: refused: staging and production are "
			 "never reached from a pull_request event (event 'pull_request_target', ref "
			 "'refs/tags/v1.0.0')\n\n");
	free(out);
	proc_free(&p);
}

/* Invalid input and a policy file's error: result invalid, the kind in the
 * annotation's title, the policy error at its file, line and column. */
Test(e2e_plan, invalid_and_policy_errors_in_action_mode, .init = setup, .fini = teardown)
{
	char *pol = write_file(dir, "bad.yaml", "version: 1\nsha-length: 99\n");
	char env_pol[600];
	const char *argv[] = { "regpush", NULL };
	const char *envp[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=plan",
			       "GITHUB_REF=refs/heads/main", "GITHUB_SHA=" SHA40,
			       "GITHUB_REPOSITORY=acme/gateway", env_out, env_sum, env_pol, NULL };
	const char *envp2[] = { "GITHUB_ACTIONS=true", "INPUT_MODE=frobnicate",
				env_out, env_sum, NULL };
	struct proc p;
	char *out;

	snprintf(env_pol, sizeof(env_pol), "INPUT_POLICY=%s", pol);
	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 2, "%s", p.out);
	cr_expect(strncmp(p.out, "::error title=regpush%3A policy,file=", 37) == 0, "%s", p.out);
	cr_expect(strstr(p.out, "bad.yaml,line=2,col=13::") != NULL, "%s", p.out);
	out = read_all(outp);
	cr_expect(strncmp(out, "result=invalid\nerror=", 21) == 0, "%s", out);
	cr_expect(strstr(out, "bad.yaml:2:13: ") != NULL, "%s", out);
	free(out);
	proc_free(&p);
	free(write_file(dir, "output", ""));
	free(write_file(dir, "summary", ""));
	run_regpush(argv, envp2, &p);
	cr_expect_eq(p.status, 2);
	cr_expect_str_eq(p.out, "::error title=regpush%3A input::unknown mode 'frobnicate' (expected plan, "
			 "push, promote, prune, audit, policy or version)\n");
	out = read_all(outp);
	cr_expect_str_eq(out, "result=invalid\nerror=unknown mode 'frobnicate' (expected plan, push, "
			 "promote, prune, audit, policy or version)\n");
	free(out);
	out = read_all(sump);
	cr_expect(strncmp(out, "### regpush regpush: invalid\n\n**Invalid input**: unknown mode", 61) == 0,
		  "%s", out);
	free(out);
	proc_free(&p);
	free(pol);
}

Test(e2e_plan, usage_and_help)
{
	const char *envp[] = { NULL };
	const char *a1[] = { "regpush", NULL };
	const char *a2[] = { "regpush", "--help", NULL };
	const char *a3[] = { "regpush", "plan", "--bogus", NULL };
	const char *a4[] = { "regpush", "frobnicate", NULL };
	const char *a5[] = { "regpush", "plan", "--help", NULL };
	const char *a6[] = { "regpush", "push", "--password", "x", NULL };
	const char *a7[] = { "regpush", "plan", "--ref", NULL };
	struct proc p;

	run_regpush(a1, envp, &p);
	cr_expect_eq(p.status, 2);
	cr_expect(strstr(p.err, "usage: regpush COMMAND") != NULL);
	proc_free(&p);
	run_regpush(a2, envp, &p);
	cr_expect_eq(p.status, 0);
	cr_expect(strstr(p.out, "usage: regpush COMMAND") != NULL);
	proc_free(&p);
	run_regpush(a3, envp, &p);
	cr_expect_eq(p.status, 2);
	cr_expect_str_eq(p.err, "regpush: unknown option '--bogus'\nTry 'regpush --help'.\n");
	proc_free(&p);
	run_regpush(a4, envp, &p);
	cr_expect_eq(p.status, 2);
	cr_expect_str_eq(p.err, "regpush: unknown command 'frobnicate' (expected plan, push, promote, prune, audit, policy or version)\nTry 'regpush --help'.\n");
	proc_free(&p);
	run_regpush(a5, envp, &p);
	cr_expect_eq(p.status, 0);
	cr_expect(strstr(p.out, "usage: regpush plan") != NULL);
	proc_free(&p);
	run_regpush(a6, envp, &p);
	cr_expect_eq(p.status, 2, "no --password flag exists");
	cr_expect_str_eq(p.err, "regpush: unknown option '--password'\nTry 'regpush --help'.\n");
	proc_free(&p);
	run_regpush(a7, envp, &p);
	cr_expect_eq(p.status, 2);
	cr_expect_str_eq(p.err, "regpush: option '--ref' needs a value\nTry 'regpush --help'.\n");
	proc_free(&p);
}

Test(e2e_plan, policy_command_prints_effective_policy, .init = setup, .fini = teardown)
{
	char *pol = write_file(dir, "p.yaml", "version: 1\nsha-length: 10\n");
	const char *argv[] = { "regpush", "policy", "--policy", pol, NULL };
	const char *envp[] = { NULL };
	struct proc p;

	run_regpush(argv, envp, &p);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.out, "sha-length: 10\n") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "  production: quay.io/kubernaut\n") != NULL, "%s", p.out);
	proc_free(&p);
	free(pol);
}

/* A REGPUSH_* tunable that is not a number within its bounds is refused
 * (exit 2) naming the variable, its bounds and its default; before, it
 * was silently replaced by the default. Empty counts as unset. */
Test(e2e_plan, bad_settings_are_refused, .init = setup, .fini = teardown, .timeout = 60)
{
	static const struct { const char *env, *err; } rows[] = {
		{ "REGPUSH_HTTP_TIMEOUT=abc", "regpush: REGPUSH_HTTP_TIMEOUT='abc' is not a whole number from 1 "
		  "to 3600 (seconds per HTTP request; default 60): fix or unset it\n" },
		{ "REGPUSH_HTTP_ATTEMPTS=0", "regpush: REGPUSH_HTTP_ATTEMPTS='0' is not a whole number from 1 "
		  "to 20 (tries of one HTTP request in all; default 5): fix or unset it\n" },
		{ "REGPUSH_TAGS_PAGE=10001", "regpush: REGPUSH_TAGS_PAGE='10001' is not a whole number from 1 "
		  "to 10000 (tags asked per page; default 1000): fix or unset it\n" },
		{ "REGPUSH_SETTLE_MS=-1", "regpush: REGPUSH_SETTLE_MS='-1' is not a whole number from 0 to "
		  "60000 (least milliseconds before the settling read; default 100): fix or unset it\n" },
		{ "REGPUSH_ENGINE_TIMEOUT=9e9", "regpush: REGPUSH_ENGINE_TIMEOUT='9e9' is not a whole number "
		  "from 1 to 86400 (seconds per engine process; default 900): fix or unset it\n" },
		{ "REGPUSH_RETRY_BASE_MS=", "" },
		{ "REGPUSH_SETTLE_MS=0", "" },
	};
	const char *argv[] = { "regpush", "plan", "--ref", "refs/heads/main", "--sha", SHA40,
			       "--service", "gateway", NULL };
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *envp[] = { rows[i].env, NULL };
		struct proc p;
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, rows[i].err[0] != '\0' ? 2 : 0, "%s: %d %s", rows[i].env, p.status, p.err);
		cr_expect_str_eq(p.err, rows[i].err, "%s", rows[i].env);
		proc_free(&p);
	}
}
