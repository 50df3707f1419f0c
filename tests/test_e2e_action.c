/*
 * End to end: the action as the runner starts it (tests/run-action.py):
 * INPUT_* from action.yml with its defaults, the GITHUB_* context, the
 * /github directories, $GITHUB_OUTPUT read with the runner's heredoc rules.
 * By default the binary is run directly (REGPUSH_BIN); with
 * REGPUSH_ACTION_IMAGE set (make test-image: the released image, pulled
 * by digest), the image is run with a real Docker Engine as the runner
 * runs it (tests/with-docker.sh), so what ships is what is tested.
 * Tests that need the engine (docker-daemon:, docker save, the image's
 * contents) fail without it when REGPUSH_ACTION_IMAGE is set, and are
 * skipped in the direct runs, where no engine was started.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"
#include "testreg.h"

static char *dir, *ws;

static void
setup(void)
{
	dir = tmpdir_new();
	cr_assert(asprintf(&ws, "%s/workspace", dir) > 0);
	cr_assert_eq(mkdir(ws, 0755), 0);
}

static void
teardown(void)
{
	rm_rf(dir);
	free(dir);
	free(ws);
}

/* Runs the action with the given inputs ("name=value", NULL-terminated)
 * on ref; returns run-action.py's JSON report. */
static json_t *
runner(const char *ref, const char *const *inputs)
{
	const char *image = getenv("REGPUSH_ACTION_IMAGE"), *argv[64];
	char path[4200], sock[600];
	const char *envp[] = { path, "HOME=/root", sock, NULL };
	char script[600];
	struct proc p;
	json_t *j;
	size_t a = 0, i;

	snprintf(path, sizeof(path), "PATH=%s", getenv("PATH"));
	snprintf(sock, sizeof(sock), "REGPUSH_DOCKER_SOCK=%s",
		 getenv("REGPUSH_DOCKER_SOCK") != NULL ? getenv("REGPUSH_DOCKER_SOCK") : "");
	snprintf(script, sizeof(script), "%s/tests/run-action.py",
		 getenv("REGPUSH_SRC") != NULL ? getenv("REGPUSH_SRC") : ".");
	argv[a++] = "python3";
	argv[a++] = script;
	if (image != NULL && image[0] != '\0') {
		argv[a++] = "--image";
		argv[a++] = image;
	} else {
		argv[a++] = "--bin";
		argv[a++] = getenv("REGPUSH_BIN");
	}
	argv[a++] = "--workspace";
	argv[a++] = ws;
	argv[a++] = "--ref";
	argv[a++] = ref;
	argv[a++] = "--sha";
	argv[a++] = SHA40;
	for (i = 0; inputs[i] != NULL && a < 60; i++) {
		argv[a++] = "--with";
		argv[a++] = inputs[i];
	}
	argv[a] = NULL;
	run_prog("/usr/bin/python3", argv, envp, &p);
	cr_assert_eq(p.status, 0, "run-action.py: %s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "how")),
			 image != NULL && image[0] != '\0' ? "image" : "bin");
	if (image != NULL && image[0] != '\0')
		cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "command"), 0)),
				 "/usr/local/bin/regpush", "the image's ENTRYPOINT");
	proc_free(&p);
	return j;
}

static const char *
jget(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);
	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : "(missing)";
}

/* mode: plan on a release tag: the outputs a workflow reads. */
Test(action, plan_outputs_through_the_runner, .init = setup, .fini = teardown, .timeout = 120)
{
	const char *in[] = { "mode=plan", "service=gateway", NULL };
	json_t *j = runner("refs/tags/v1.2.3", in);

	cr_expect_eq(json_integer_value(json_object_get(j, "exit")), 0, "%s", jget(j, "stderr", NULL));
	cr_expect(json_is_null(json_object_get(j, "output_error")), "%s", jget(j, "output_error", NULL));
	cr_expect_str_eq(jget(j, "outputs", "environment"), "production");
	cr_expect_str_eq(jget(j, "outputs", "registry"), "quay.io/kubernaut");
	cr_expect_str_eq(jget(j, "outputs", "tags"),
			 "quay.io/kubernaut/gateway:v1.2.3\nquay.io/kubernaut/gateway:v1.2\n"
			 "quay.io/kubernaut/gateway:v1\nquay.io/kubernaut/gateway:latest");
	cr_expect_str_eq(jget(j, "outputs", "tag-names"), "v1.2.3\nv1.2\nv1\nlatest");
	cr_expect_str_eq(jget(j, "outputs", "version"), "1.2.3");
	json_decref(j);
}

/* mode: push of an oci-archive in the workspace to the local registry:
 * the digest output is the registry's, every tag is on it. */
Test(action, push_from_the_workspace, .init = setup, .fini = teardown, .timeout = 300)
{
	struct treg plain = treg_plain();
	char *src = archive("one.tar"), *d = source_digest(src), dst[700], dev[300], ins[300], cmd[2000];
	const char *in[] = { "mode=push", "source=oci-archive:image.tar", "service=action-push", dev, ins,
			     NULL };
	json_t *j;

	snprintf(dst, sizeof(dst), "%s/image.tar", ws);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src + strlen("oci-archive:"), dst);
	cr_assert_eq(system(cmd), 0);
	snprintf(dev, sizeof(dev), "dev-registry=%s/dev", plain.host);
	snprintf(ins, sizeof(ins), "insecure-registries=%s", plain.host);
	j = runner("refs/heads/main", in);
	cr_expect_eq(json_integer_value(json_object_get(j, "exit")), 0, "%s", jget(j, "stderr", NULL));
	cr_expect(json_is_null(json_object_get(j, "output_error")), "%s", jget(j, "output_error", NULL));
	cr_expect_str_eq(jget(j, "outputs", "digest"), d);
	cr_expect_str_eq(jget(j, "outputs", "environment"), "development");
	expect_tags_at(plain, "dev/action-push", "dev-0123456", d);
	cr_expect(strstr(jget(j, "summary", NULL), "dev-0123456") != NULL, "%s", jget(j, "summary", NULL));
	json_decref(j);
	free(src);
	free(d);
}

static int
in_image(void)
{
	const char *i = getenv("REGPUSH_ACTION_IMAGE");

	return i != NULL && i[0] != '\0';
}

/* 1 when the Docker Engine runs (tests/with-docker.sh); with the image it
 * must, in the direct runs it is absent. */
static int
docker_ready(void)
{
	const char *s = getenv("REGPUSH_DOCKER_SOCK");

	if (s != NULL && s[0] != '\0')
		return 1;
	cr_assert(!in_image(), "REGPUSH_ACTION_IMAGE is set but no Docker Engine runs "
		  "(tests/with-docker.sh sets REGPUSH_DOCKER_SOCK)");
	return 0;
}

/* Runs the engine's own docker client; aborts the test when it fails.
 * Returns its whole stdout (caller frees). */
static char *
docker_all(const char *const *args)
{
	char path[4200];
	const char *envp[] = { path, NULL };
	struct proc p;
	char *out;

	snprintf(path, sizeof(path), "PATH=%s", getenv("PATH"));
	run_prog("docker", args, envp, &p);
	cr_assert_eq(p.status, 0, "docker %s: %s%s", args[1], p.out, p.err);
	out = p.out;
	p.out = NULL;
	proc_free(&p);
	return out;
}

/* The same, its first line only. */
static char *
docker(const char *const *args)
{
	char *out = docker_all(args);

	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* `docker build` of a one-file image named tag (the classic builder, FROM
 * scratch: nothing to pull); returns its image ID, the config digest. */
static char *
docker_build_app(const char *tag)
{
	char *ctx = tmpdir_new(), *df, *hf, *id;
	const char *args[] = { "docker", "build", "-q", "-t", tag, ctx, NULL };

	df = write_file(ctx, "Dockerfile", "FROM scratch\nCOPY hello.txt /hello.txt\n"
			"LABEL org.opencontainers.image.revision=" SHA40 "\n");
	hf = write_file(ctx, "hello.txt", tag);
	id = docker(args);
	cr_assert(strncmp(id, "sha256:", 7) == 0, "docker build -q printed '%s'", id);
	rm_rf(ctx);
	free(ctx);
	free(df);
	free(hf);
	return id;
}

/* The config digest of repo:tag in the registry. */
static char *
registry_config(struct treg r, const char *repo, const char *tag)
{
	char *body = NULL, d[80], *c;
	json_t *m;

	cr_assert_eq(treg_manifest(r, repo, tag, &body, d), 200, "%s:%s", repo, tag);
	m = json_loads(body, 0, NULL);
	cr_assert_not_null(m, "%s", body);
	c = strdup(json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
	json_decref(m);
	free(body);
	return c;
}

/*
 * The image's layers (rootfs.diff_ids) of repo:tag in the registry, as
 * compact JSON, with its revision label appended. skopeo converts
 * docker-daemon's config into OCI form (its digest changes); the layers
 * and labels are what must arrive.
 */
static char *
registry_layers(struct treg r, const char *repo, const char *tag)
{
	char *digest = registry_config(r, repo, tag), *cfg = NULL, *ids, *out;
	json_t *c;

	cr_assert_eq(treg_blob(r, repo, digest, &cfg), 200, "config of %s:%s", repo, tag);
	c = json_loads(cfg, 0, NULL);
	cr_assert_not_null(c, "%s", cfg);
	ids = json_dumps(json_object_get(json_object_get(c, "rootfs"), "diff_ids"), JSON_COMPACT);
	cr_assert(asprintf(&out, "%s %s", ids, json_string_value(json_object_get(json_object_get(
		json_object_get(c, "config"), "Labels"), "org.opencontainers.image.revision"))) > 0);
	json_decref(c);
	free(ids);
	free(cfg);
	free(digest);
	return out;
}

/* The same read from the engine: docker image inspect. */
static char *
docker_layers(const char *tag)
{
	const char *args[] = { "docker", "image", "inspect", "--format",
			       "{{json .RootFS.Layers}} {{index .Config.Labels \"org.opencontainers.image.revision\"}}",
			       tag, NULL };

	return docker(args);
}

static void
copy_into_ws(const char *from, const char *name)
{
	char cmd[2000];

	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s/%s'", from, ws, name);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* A plain path as source: the format is read from the content and named
 * in the output; relative paths start in the workspace, and an absolute
 * host path works because the runner translates a value that starts with
 * the workspace path. */
Test(action, plain_paths_are_detected, .init = setup, .fini = teardown, .timeout = 600)
{
	static const struct {
		const char *file, *name, *source, *format, *text, *service;
	} rows[] = {
		{ "one.tar", "image.tar", "image.tar", "oci-archive", "(OCI archive)", "path-archive" },
		{ "one.tar", "abs.tar", "@WS@/abs.tar", "oci-archive", "(OCI archive)", "path-abs" },
		{ "layout", "layout", "layout", "oci", "(OCI layout)", "path-layout" },
		{ "one-docker.tar", "docker.tar", "./docker.tar", "docker-archive", "(docker archive)",
		  "path-docker" },
		/* Not a path: a registry source, which the container reaches too. */
		{ NULL, NULL, "docker://@REG@/sources/one:latest", "docker", "(registry)", "src-registry" },
	};
	struct treg plain = treg_plain();
	char dev[300], ins[300], src[700], from[700], repo[200];
	size_t i;

	snprintf(dev, sizeof(dev), "dev-registry=%s/dev", plain.host);
	snprintf(ins, sizeof(ins), "insecure-registries=%s", plain.host);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char svc[100], srcin[800];
		const char *in[] = { "mode=push", srcin, svc, dev, ins, NULL };
		json_t *j, *js;

		if (rows[i].file != NULL) {
			snprintf(from, sizeof(from), "%s/%s", getenv("REGPUSH_TEST_IMAGES"), rows[i].file);
			copy_into_ws(from, rows[i].name);
		}
		if (strncmp(rows[i].source, "@WS@", 4) == 0)
			snprintf(src, sizeof(src), "%s%s", ws, rows[i].source + 4);
		else if (strncmp(rows[i].source, "docker://@REG@", 14) == 0)
			snprintf(src, sizeof(src), "docker://%s%s", plain.host, rows[i].source + 14);
		else
			snprintf(src, sizeof(src), "%s", rows[i].source);
		snprintf(srcin, sizeof(srcin), "source=%s", src);
		snprintf(svc, sizeof(svc), "service=%s", rows[i].service);
		j = runner("refs/heads/main", in);
		cr_expect_eq(json_integer_value(json_object_get(j, "exit")), 0, "%s: %s%s", src,
			     jget(j, "stdout", NULL), jget(j, "stderr", NULL));
		js = json_loads(jget(j, "outputs", "json"), 0, NULL);
		cr_expect_str_eq(json_string_value(json_object_get(js, "source_format")), rows[i].format,
				 "%s", src);
		cr_expect(strstr(jget(j, "stdout", NULL), rows[i].text) != NULL, "%s: %s", src,
			  jget(j, "stdout", NULL));
		snprintf(repo, sizeof(repo), "dev/%s", rows[i].service);
		expect_tags_at(plain, repo, "dev-0123456", jget(j, "outputs", "digest"));
		if (rows[i].file != NULL && strcmp(rows[i].format, "docker-archive") != 0) {
			/* OCI sources keep their digest exactly. */
			char *want, ref[900];
			snprintf(ref, sizeof(ref), "%s:%s/%s", rows[i].format, ws, rows[i].name);
			want = source_digest(ref);
			cr_expect_str_eq(jget(j, "outputs", "digest"), want, "%s", src);
			free(want);
		}
		json_decref(js);
		json_decref(j);
	}
}

/* What cannot work in the action container is refused before anything
 * runs (exit 2), with the form that works. */
Test(action, unreachable_sources_are_exit_2, .init = setup, .fini = teardown, .timeout = 300)
{
	static const struct { const char *source, *engine, *msg; } rows[] = {
		{ "oci-archive:/home/runner/work/gateway/gateway/image.tar", NULL,
		  "source 'oci-archive:/home/runner/work/gateway/gateway/image.tar': "
		  "/home/runner/work/gateway/gateway/image.tar does not exist in the action container. "
		  "The runner translates a host path only when an input's value starts with it: give "
		  "the path alone (source: ${{ github.workspace }}/image.tar) or relative to the "
		  "workspace (source: image.tar)" },
		{ "/home/runner/work/gateway/gateway/image.tar", NULL,
		  "source '/home/runner/work/gateway/gateway/image.tar': "
		  "/home/runner/work/gateway/gateway/image.tar does not exist in the action container." },
		{ "missing.tar", NULL,
		  "source 'missing.tar': missing.tar is not in the workspace (/github/workspace, where "
		  "relative paths start): No such file or directory" },
		{ "containers-storage:localhost/app:1", NULL,
		  "source 'containers-storage:localhost/app:1' cannot be read in the action container: "
		  "the runner mounts no container storage and gives the container no CAP_SYS_ADMIN. "
		  "Use docker-daemon:IMAGE (the runner's Docker, through its socket), or save the image "
		  "into the workspace (buildah push IMAGE oci-archive:image.tar) and set source: "
		  "image.tar" },
		{ "image.tar", "buildah",
		  "engine buildah cannot run in the action container (Docker's default capabilities "
		  "allow no user namespace): leave engine unset (skopeo pushes every source form), or "
		  "run regpush push --engine buildah on the runner itself" },
	};
	struct treg plain = treg_plain();
	char dev[300], ins[300], from[700];
	size_t i;

	snprintf(dev, sizeof(dev), "dev-registry=%s/dev", plain.host);
	snprintf(ins, sizeof(ins), "insecure-registries=%s", plain.host);
	snprintf(from, sizeof(from), "%s/one.tar", getenv("REGPUSH_TEST_IMAGES"));
	copy_into_ws(from, "image.tar");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char srcin[300], eng[100];
		const char *in[] = { "mode=push", srcin, "service=unreachable", dev, ins,
				     rows[i].engine != NULL ? eng : NULL, NULL };
		json_t *j;

		snprintf(srcin, sizeof(srcin), "source=%s", rows[i].source);
		snprintf(eng, sizeof(eng), "engine=%s", rows[i].engine != NULL ? rows[i].engine : "");
		j = runner("refs/heads/main", in);
		cr_expect_eq(json_integer_value(json_object_get(j, "exit")), 2, "%s", rows[i].source);
		cr_expect(strstr(jget(j, "stdout", NULL), rows[i].msg) != NULL, "%s:\n%s\n---\n%s",
			  rows[i].source, jget(j, "stdout", NULL), rows[i].msg);
		json_decref(j);
	}
	cr_expect_str_eq(treg_tags(plain, "dev/unreachable"), "");
}

/* docker-daemon: through the mounted socket: an image that `docker build`
 * just made is pushed, and the registry holds its config (the image ID). */
Test(action, docker_daemon_through_the_socket, .init = setup, .fini = teardown, .timeout = 600)
{
	struct treg plain = treg_plain();
	char dev[300], ins[300];
	const char *in[] = { "mode=push", "source=docker-daemon:regpush-test-app:1",
			     "service=action-daemon", dev, ins, NULL };
	char *id, *cfg, *want;
	json_t *j;

	if (!docker_ready())
		cr_skip_test("no Docker Engine in this run (make test-image starts one)");
	if (!in_image())
		cr_skip_test("the action's docker-daemon: runs in the image (make test-image)");
	snprintf(dev, sizeof(dev), "dev-registry=%s/dev", plain.host);
	snprintf(ins, sizeof(ins), "insecure-registries=%s", plain.host);
	id = docker_build_app("regpush-test-app:1");
	j = runner("refs/heads/main", in);
	cr_assert_eq(json_integer_value(json_object_get(j, "exit")), 0, "%s%s",
		     jget(j, "stdout", NULL), jget(j, "stderr", NULL));
	expect_tags_at(plain, "dev/action-daemon", "dev-0123456", jget(j, "outputs", "digest"));
	cfg = registry_layers(plain, "dev/action-daemon", "dev-0123456");
	want = docker_layers("regpush-test-app:1");
	cr_expect_str_eq(cfg, want, "the pushed image's layers and label are the ones docker built");
	free(want);
	cr_expect(strstr(jget(j, "stdout", NULL), "(Docker daemon)") != NULL, "%s",
		  jget(j, "stdout", NULL));
	json_decref(j);
	free(cfg);
	free(id);
}

/* A `docker save` tar of Docker 25 or later holds index.json and
 * manifest.json: read as OCI, so its digest is kept. */
Test(action, docker_save_is_read_as_oci, .init = setup, .fini = teardown, .timeout = 600)
{
	struct treg plain = treg_plain();
	char dev[300], ins[300], out[700];
	const char *in[] = { "mode=push", "source=saved.tar", "service=action-saved", dev, ins,
			     NULL };
	const char *save[] = { "docker", "save", "-o", out, "regpush-test-saved:1", NULL };
	char *id, *cfg, *s;
	json_t *j, *js;

	if (!docker_ready())
		cr_skip_test("no Docker Engine in this run (make test-image starts one)");
	snprintf(dev, sizeof(dev), "dev-registry=%s/dev", plain.host);
	snprintf(ins, sizeof(ins), "insecure-registries=%s", plain.host);
	snprintf(out, sizeof(out), "%s/saved.tar", ws);
	id = docker_build_app("regpush-test-saved:1");
	free(docker(save));
	j = runner("refs/heads/main", in);
	cr_assert_eq(json_integer_value(json_object_get(j, "exit")), 0, "%s%s",
		     jget(j, "stdout", NULL), jget(j, "stderr", NULL));
	js = json_loads(jget(j, "outputs", "json"), 0, NULL);
	cr_expect_str_eq(json_string_value(json_object_get(js, "source_format")), "oci-archive");
	expect_tags_at(plain, "dev/action-saved", "dev-0123456", jget(j, "outputs", "digest"));
	cfg = registry_config(plain, "dev/action-saved", "dev-0123456");
	cr_expect_str_eq(cfg, id);
	s = strstr(jget(j, "stdout", NULL), "(OCI archive)");
	cr_expect(s != NULL, "%s", jget(j, "stdout", NULL));
	json_decref(js);
	json_decref(j);
	free(cfg);
	free(id);
}

/* On the runner host (the CLI), docker-daemon: is as good as the host's
 * skopeo: bookworm's 1.9.3 asks for API 1.22, which Docker 25 and later
 * refuse; the message names both versions and what works instead. */
Test(action, cli_docker_daemon_names_the_api_versions, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct treg plain = treg_plain();
	char path[4200], dh[700], dev[300];
	const char *envp[] = { path, dh, NULL };
	const char *argv[] = { "regpush", "push", "--ref", "refs/heads/main", "--sha", SHA40,
			       "--service", "cli-daemon", "--source", "docker-daemon:regpush-test-cli:1",
			       "--dev-registry", dev, "--insecure-registry", plain.host, NULL };
	const char *ver[] = { "skopeo", "--version", NULL };
	const char *venv[] = { NULL };
	struct proc p, v;
	char *id;

	if (!docker_ready())
		cr_skip_test("no Docker Engine in this run (make test-image starts one)");
	snprintf(path, sizeof(path), "PATH=%s", getenv("PATH"));
	snprintf(dh, sizeof(dh), "DOCKER_HOST=unix://%s", getenv("REGPUSH_DOCKER_SOCK"));
	snprintf(dev, sizeof(dev), "%s/dev", plain.host);
	id = docker_build_app("regpush-test-cli:1");
	run_prog("skopeo", ver, venv, &v);
	run_regpush(argv, envp, &p);
	if (strstr(v.out, "version 1.9.") != NULL) {
		cr_expect_eq(p.status, 1, "%s", p.err);
		cr_expect(strstr(p.err, "regpush: the Docker daemon refuses Docker API 1.22, which "
				 "this skopeo asks for (it needs at least 1.24) while reading the source "
				 "'docker-daemon:regpush-test-cli:1': use skopeo 1.13 or later") != NULL,
			  "%s", p.err);
		cr_expect_str_eq(treg_tags(plain, "dev/cli-daemon"), "");
	} else {
		/* A skopeo that negotiates the version pushes it. */
		cr_expect_eq(p.status, 0, "%s: %s", v.out, p.err);
	}
	proc_free(&p);
	proc_free(&v);
	free(id);
}

/* The image itself: the binary make test-static tested, trixie's skopeo,
 * no buildah, no apt lists, versions recorded, at most 60 MB compressed. */
Test(action, image_contents, .init = setup, .fini = teardown, .timeout = 300)
{
	const char *img = getenv("REGPUSH_ACTION_IMAGE");
	char label[200];
	const char *sum[] = { "docker", "run", "--rm", "--entrypoint", "sha256sum", img,
			      "/usr/local/bin/regpush", NULL };
	const char *facts[] = { "docker", "run", "--rm", "--entrypoint", "sh", img, "-c",
				"skopeo --version; grep '^skopeo=' /VERSIONS; "
				"command -v buildah || echo no-buildah; ls -A /var/lib/apt/lists | wc -l; "
				"ls -A /usr/lib/cni 2>/dev/null | wc -l", NULL };
	const char *lab[] = { "docker", "image", "inspect", "--format", label, img, NULL };
	const char *host_sum[] = { "sha256sum", getenv("REGPUSH_BIN"), NULL };
	const char *venv[] = { NULL };
	char *got, *f, *l, want_line[200], *repo, *dig;
	struct proc hs;
	struct treg r;
	char *body = NULL, d[80];
	json_t *m, *layer;
	size_t i;
	long total = 0;

	if (!in_image())
		cr_skip_test("checks the image (make test-image)");
	cr_assert(docker_ready());
	got = docker(sum);
	run_prog("sha256sum", host_sum, venv, &hs);
	cr_assert_eq(hs.status, 0);
	cr_expect_eq(strncmp(got, hs.out, 64), 0, "the image's regpush is %s, build/static/regpush %s",
		     got, hs.out);
	snprintf(label, sizeof(label), "{{index .Config.Labels \"dev.regpush.skopeo.version\"}}");
	l = docker(lab);
	cr_expect(strncmp(l, "1.18", 4) == 0, "label %s", l);
	f = docker_all(facts);
	snprintf(want_line, sizeof(want_line), "skopeo version 1.18.0\nskopeo=%s\nno-buildah\n0\n0\n", l);
	cr_expect_str_eq(f, want_line);
	/* The compressed size: the layers of the manifest in the registry
	 * (img is host/repo@digest). */
	repo = strdup(img);
	dig = strchr(repo, '@');
	cr_assert(dig != NULL && strchr(repo, '/') != NULL, "%s", img);
	*dig++ = '\0';
	*strchr(repo, '/') = '\0';
	r = (struct treg){ .host = repo };
	cr_assert_eq(treg_manifest(r, repo + strlen(repo) + 1, dig, &body, d), 200, "%s", img);
	m = json_loads(body, 0, NULL);
	json_array_foreach(json_object_get(m, "layers"), i, layer)
		total += (long)json_integer_value(json_object_get(layer, "size"));
	cr_expect(total > 0 && total <= 60L * 1000 * 1000, "compressed size %ld bytes", total);
	cr_log_info("image: %ld bytes compressed", total);
	json_decref(m);
	free(body);
	free(repo);
	free(got);
	free(l);
	free(f);
	proc_free(&hs);
}
