/*
 * End to end: the action as the runner starts it (tests/run-action.py):
 * INPUT_* from action.yml with its defaults, the GITHUB_* context, the
 * /github directories, $GITHUB_OUTPUT read with the runner's heredoc rules.
 * By default the binary is run directly (REGPUSH_BIN); with
 * REGPUSH_ACTION_IMAGE set (make test-image), the built image is run
 * through buildah, so the Dockerfile's product is what is tested.
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
	const char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/root", NULL };
	char script[600], mode[700];
	struct proc p;
	json_t *j;
	size_t a = 0, i;

	snprintf(script, sizeof(script), "%s/tests/run-action.py",
		 getenv("REGPUSH_SRC") != NULL ? getenv("REGPUSH_SRC") : ".");
	argv[a++] = "python3";
	argv[a++] = script;
	if (image != NULL && image[0] != '\0') {
		argv[a++] = "--image";
		argv[a++] = image;
		snprintf(mode, sizeof(mode), "--storage=%s", getenv("REGPUSH_ACTION_STORAGE") ?
			 getenv("REGPUSH_ACTION_STORAGE") : "--storage-driver vfs");
		argv[a++] = mode;
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
