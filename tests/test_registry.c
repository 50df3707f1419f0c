/*
 * The registry client: parsers (table-driven), auth-file lookup, and the
 * API against real registries started by tests/with-registries.sh — plain,
 * htpasswd over TLS, token auth — and through a fault-injecting proxy.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "creds.h"
#include "helpers.h"
#include "registry.h"
#include "reg_int.h"
#include "util.h"

/* --- parsers ------------------------------------------------------------- */

static const struct {
	const char *in;
	int rc;
	const char *scheme, *realm, *service, *scope, *error;
} ch_rows[] = {
	{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\"",
	  0, "bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:samalba/my-app:pull,push", "" },
	{ "bearer REALM=\"https://quay.io/v2/auth\", Service=\"quay.io\"", 0, "bearer", "https://quay.io/v2/auth", "quay.io", "", "" },
	{ "Bearer realm=https://r/t,service=svc,error=insufficient_scope,scope=\"repository:a:pull,push\"",
	  0, "bearer", "https://r/t", "svc", "repository:a:pull,push", "insufficient_scope" },
	{ "Basic realm=\"Registry Realm\"", 0, "basic", "Registry Realm", "", "", "" },
	{ "Bearer realm=\"a\\\"b\"", 0, "bearer", "a\"b", "", "", "" },
	{ "Bearer realm=\"unterminated", -1, NULL, NULL, NULL, NULL, NULL },
	{ "Bearer realm", -1, NULL, NULL, NULL, NULL, NULL },
	{ "", -1, NULL, NULL, NULL, NULL, NULL },
};

Test(registry, parse_challenge_table)
{
	size_t i;

	for (i = 0; i < sizeof(ch_rows) / sizeof(ch_rows[0]); i++) {
		struct reg_challenge ch;
		int rc = reg_parse_challenge(ch_rows[i].in, &ch);
		cr_expect_eq(rc, ch_rows[i].rc, "row %zu: %s", i, ch_rows[i].in);
		if (rc != 0 || ch_rows[i].rc != 0)
			continue;
		cr_expect_str_eq(ch.scheme, ch_rows[i].scheme, "row %zu", i);
		cr_expect_str_eq(ch.realm, ch_rows[i].realm, "row %zu", i);
		cr_expect_str_eq(ch.service, ch_rows[i].service, "row %zu", i);
		cr_expect_str_eq(ch.scope, ch_rows[i].scope, "row %zu", i);
		cr_expect_str_eq(ch.error, ch_rows[i].error, "row %zu", i);
	}
}

static const struct { const char *in, *want; } link_rows[] = {
	{ "</v2/test/tags/list?last=asj9e&n=2>; rel=\"next\"", "/v2/test/tags/list?last=asj9e&n=2" },
	{ "<https://quay.io/v2/ns/repo/tags/list?n=100&last=foo>; rel=\"next\"", "/v2/ns/repo/tags/list?n=100&last=foo" },
	{ "<http://127.0.0.1:5000/v2/a/tags/list?n=1&last=b>; REL=next", "/v2/a/tags/list?n=1&last=b" },
	{ "</v2/a/tags/list?n=1>; rel=\"prev\", </v2/a/tags/list?n=1&last=z>; rel=\"next\"", "/v2/a/tags/list?n=1&last=z" },
	{ "</v2/a/tags/list?n=1>; rel=\"prev\"", NULL },
	{ "<https://evil.example/steal>; rel=\"next\"", NULL },
	{ "garbage", NULL },
	{ "", NULL },
};

Test(registry, link_next_table)
{
	size_t i;

	for (i = 0; i < sizeof(link_rows) / sizeof(link_rows[0]); i++) {
		char *got = reg_link_next(link_rows[i].in);
		if (link_rows[i].want == NULL)
			cr_expect_null(got, "row %zu: %s", i, got);
		else
			cr_expect_str_eq(got != NULL ? got : "(null)", link_rows[i].want, "row %zu", i);
		free(got);
	}
}

Test(registry, retry_after)
{
	long now = 1784000000; /* 2026-07-14T03:33:20Z */

	cr_expect_eq(reg_retry_after("3", now), 3);
	cr_expect_eq(reg_retry_after("0", now), 0);
	cr_expect_eq(reg_retry_after("3600", now), 60, "capped");
	cr_expect_eq(reg_retry_after("Tue, 14 Jul 2026 03:33:30 GMT", now), 10);
	cr_expect_eq(reg_retry_after("Tue, 14 Jul 2026 03:00:00 GMT", now), 0, "in the past");
	cr_expect_eq(reg_retry_after("soon", now), -1);
	cr_expect_eq(reg_retry_after("", now), -1);
	cr_expect_eq(reg_retry_after(NULL, now), -1);
	cr_expect_eq(reg_retry_after("-5", now), -1);
}

/* --- auth files ------------------------------------------------------------ */

Test(registry, auth_file_lookup)
{
	char *dir = tmpdir_new(), *f, *home, env[600];
	struct creds c;
	struct rp_err err;

	/* base64("host-user:host-pass"), ("ns-user:ns-pass"), ("repo-user:p:w") */
	f = write_file(dir, "auth.json",
		       "{\"auths\":{\"reg.example\":{\"auth\":\"aG9zdC11c2VyOmhvc3QtcGFzcw==\"},"
		       "\"reg.example/team\":{\"auth\":\"bnMtdXNlcjpucy1wYXNz\"},"
		       "\"reg.example/team/app\":{\"auth\":\"cmVwby11c2VyOnA6dw==\"}}}");
	memset(&c, 0, sizeof(c));
	cr_assert_eq(creds_from_authfiles(f, "reg.example", "team/app", &c, &err), RP_OK);
	cr_expect_str_eq(c.username, "repo-user");
	cr_expect_str_eq(c.password, "p:w", "split on the first ':'");
	creds_free(&c);
	cr_assert_eq(creds_from_authfiles(f, "reg.example", "team/other", &c, &err), RP_OK);
	cr_expect_str_eq(c.username, "ns-user");
	creds_free(&c);
	cr_assert_eq(creds_from_authfiles(f, "reg.example", "else/x", &c, &err), RP_OK);
	cr_expect_str_eq(c.username, "host-user");
	creds_free(&c);
	cr_assert_eq(creds_from_authfiles(f, "other.example", "x", &c, &err), RP_OK);
	cr_expect_null(c.username);
	free(f);

	/* No explicit file: ~/.docker/config.json with an https:// key. */
	cr_assert(asprintf(&home, "%s/home", dir) > 0);
	snprintf(env, sizeof(env), "mkdir -p %s/.docker", home);
	cr_assert_eq(system(env), 0);
	snprintf(env, sizeof(env), "%s/.docker", home);
	f = write_file(env, "config.json",
		       "{\"auths\":{\"https://reg.example/\":{\"auth\":\"aG9zdC11c2VyOmhvc3QtcGFzcw==\"}}}");
	setenv("HOME", home, 1);
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("DOCKER_CONFIG");
	cr_assert_eq(creds_from_authfiles(NULL, "reg.example", "a/b", &c, &err), RP_OK);
	cr_expect_str_eq(c.username, "host-user");
	creds_free(&c);
	/* A malformed file is skipped, not fatal. */
	free(f);
	f = write_file(env, "config.json", "{not json");
	cr_assert_eq(creds_from_authfiles(NULL, "reg.example", "a/b", &c, &err), RP_OK);
	cr_expect_null(c.username);
	free(f);
	free(home);
	rm_rf(dir);
	free(dir);
}

/* --- the API against real registries -------------------------------------- */

static struct reg_client *
client(const char *envvar, int insecure, int creds, int ca)
{
	struct reg_config cfg = { 0 };
	struct rp_err err;
	struct reg_client *c;

	static char *tokensrv[2];
	static struct rp_settings settings;

	cfg.host = getenv(envvar);
	cr_assert_not_null(cfg.host, "run through tests/with-registries.sh");
	cfg.insecure = insecure;
	/* The token registry's realm is a plain-HTTP server on another port:
	 * usable only when that host is insecure too. */
	tokensrv[0] = getenv("REGPUSH_TEST_TOKENSRV");
	if (insecure)
		cfg.insecure_hosts = tokensrv;
	cfg.cert_dir = ca ? getenv("REGPUSH_TEST_CA_DIR") : NULL;
	if (creds) {
		cfg.username = getenv("REGPUSH_TEST_USER");
		cfg.password = getenv("REGPUSH_TEST_PASS");
		cfg.account = "test account";
	}
	setenv("REGPUSH_RETRY_BASE_MS", "20", 1);
	cr_assert_eq(settings_read(&settings, &err), RP_OK, "%s", err.msg);
	cfg.settings = &settings;
	c = reg_new(&cfg, &err);
	cr_assert_not_null(c, "%s", err.msg);
	return c;
}

/* Copies a test image into repo:tag with skopeo. kind: 0 the plain
 * registry, 1 the TLS one (CA and credentials), 2 the token one
 * (credentials). `image` is a file in REGPUSH_TEST_IMAGES; --all keeps
 * every platform of an index. */
static void
seed_image(const char *host, const char *repo, const char *tag, int kind, const char *image)
{
	char src[700], dst[700], cert[700], creds[400];
	const char *argv[12];
	const char *envp[] = { "HOME=/root", NULL };
	struct proc p;
	int a = 0;

	snprintf(src, sizeof(src), "oci-archive:%s/%s", getenv("REGPUSH_TEST_IMAGES"), image);
	snprintf(dst, sizeof(dst), "docker://%s/%s:%s", host, repo, tag);
	snprintf(creds, sizeof(creds), "--dest-creds=%s:%s", getenv("REGPUSH_TEST_USER"),
		 getenv("REGPUSH_TEST_PASS"));
	argv[a++] = "skopeo";
	argv[a++] = "copy";
	argv[a++] = "-q";
	argv[a++] = "--all";
	if (kind == 1) {
		snprintf(cert, sizeof(cert), "--dest-cert-dir=%s", getenv("REGPUSH_TEST_CA_DIR"));
		argv[a++] = cert;
	} else {
		argv[a++] = "--dest-tls-verify=false";
	}
	if (kind != 0)
		argv[a++] = creds;
	argv[a++] = src;
	argv[a++] = dst;
	argv[a] = NULL;
	run_prog("skopeo", argv, envp, &p);
	cr_assert_eq(p.status, 0, "seeding %s: %s", dst, p.err);
	proc_free(&p);
}

static void
seed(const char *host, const char *repo, const char *tag, int tls)
{
	seed_image(host, repo, tag, tls, "one.tar");
}

Test(registry, manifest_roundtrip_tags_and_pagination, .timeout = 60)
{
	struct reg_client *c;
	struct reg_manifest m, m2;
	struct rp_err err;
	char d[80], tag[16], **tags;
	int i;

	seed(getenv("REGPUSH_TEST_PLAIN"), "api/rt", "src", 0);
	setenv("REGPUSH_TAGS_PAGE", "3", 1);
	c = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_ping(c, &err), RP_OK, "%s", err.msg);
	cr_assert_eq(reg_manifest_get(c, "api/rt", "src", &m, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(m.media_type, "application/vnd.oci.image.manifest.v1+json");
	cr_expect_eq(strncmp(m.digest, "sha256:", 7), 0);
	/* Server-side retag: the identical bytes under 7 new tags. */
	for (i = 0; i < 7; i++) {
		snprintf(tag, sizeof(tag), "t%d", i);
		cr_assert_eq(reg_manifest_put(c, "api/rt", tag, &m, &err), RP_OK, "%s", err.msg);
		cr_assert_eq(reg_manifest_head(c, "api/rt", tag, d, &err), RP_OK, "%s", err.msg);
		cr_expect_str_eq(d, m.digest);
	}
	cr_assert_eq(reg_manifest_get(c, "api/rt", m.digest, &m2, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(m2.len, m.len);
	cr_expect_eq(memcmp(m2.bytes, m.bytes, m.len), 0, "exact bytes kept");
	reg_manifest_free(&m2);
	/* 8 tags over pages of 3, following distribution's relative Link. */
	cr_assert_eq(reg_tags(c, "api/rt", &tags, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(rp_strv_len(tags), 8);
	rp_strv_free(tags);
	cr_assert_eq(reg_manifest_head(c, "api/rt", "absent", d, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(d, "");
	cr_assert_eq(reg_tags(c, "api/never-created", &tags, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(rp_strv_len(tags), 0);
	rp_strv_free(tags);
	reg_manifest_free(&m);
	reg_free(c);
}

/* reg_view: the first tag page read together with the HEADs, later pages
 * after (distribution 2.8 ignores n, so the fault proxy's endless cycle
 * makes them); a second client for the same host adopts the first one's
 * discovery and makes no GET /v2/ of its own; reg_manifest_find. */
Test(registry, view_reads_list_and_heads_together, .timeout = 60)
{
	struct reg_client *c, *c2;
	struct reg_manifest m, none;
	struct rp_err err;
	char digests[3][RP_DIGEST_MAX], tag[16], **tags;
	char *refs[3] = { "one", "absent", NULL };
	int i;

	seed(getenv("REGPUSH_TEST_PLAIN"), "api/view", "one", 0);
	c = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_manifest_find(c, "api/view", "one", &m, &err), RP_OK, "%s", err.msg);
	cr_assert_not_null(m.bytes);
	cr_assert_eq(reg_manifest_find(c, "api/view", "absent", &none, &err), RP_OK, "%s", err.msg);
	cr_expect_null(none.bytes);
	cr_expect_str_eq(none.digest, "");
	cr_expect_eq(reg_manifest_get(c, "api/view", "absent", &none, &err), RP_EREGISTRY);
	for (i = 0; i < 4; i++) {
		snprintf(tag, sizeof(tag), "t%d", i);
		cr_assert_eq(reg_manifest_put(c, "api/view", tag, &m, &err), RP_OK, "%s", err.msg);
	}
	refs[2] = m.digest;
	c2 = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	reg_adopt_discovery(c2, c);
	cr_assert_eq(reg_view(c2, "api/view", refs, 3, digests, &tags, NULL, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(digests[0], m.digest);
	cr_expect_str_eq(digests[1], "");
	cr_expect_str_eq(digests[2], m.digest);
	cr_expect_eq(rp_strv_len(tags), 5);
	/* The page with the three HEADs, and no GET /v2/. */
	cr_expect_eq(c2->requests, 4, "%u requests", c2->requests);
	rp_strv_free(tags);
	/* Without a list, and for a repository that has none. */
	cr_assert_eq(reg_view(c2, "api/view-none", refs, 2, digests, &tags, NULL, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(rp_strv_len(tags), 0);
	cr_expect_str_eq(digests[0], "");
	rp_strv_free(tags);
	cr_assert_eq(reg_view(c2, "api/view", refs, 1, digests, NULL, NULL, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(digests[0], m.digest);
	/* The first read with a GET in the same batch: its exact bytes. */
	{
		struct reg_manifest got;
		char *byd[2] = { m.digest, "one" };
		unsigned before = c2->requests;
		cr_assert_eq(reg_view(c2, "api/view", byd, 2, digests, NULL, &got, &err), RP_OK, "%s", err.msg);
		cr_expect_eq(c2->requests - before, 2);
		cr_assert_not_null(got.bytes);
		cr_expect_eq(got.len, m.len);
		cr_expect(memcmp(got.bytes, m.bytes, m.len) == 0);
		cr_expect_str_eq(got.digest, m.digest);
		cr_expect_str_eq(digests[0], m.digest);
		cr_expect_str_eq(digests[1], m.digest);
		reg_manifest_free(&got);
		/* Not there: nothing in got, no error. */
		cr_assert_eq(reg_view(c2, "api/view", refs + 1, 1, digests, NULL, &got, &err), RP_OK, "%s", err.msg);
		cr_expect_null(got.bytes);
		cr_expect_str_eq(digests[0], "");
		reg_manifest_free(&got);
	}
	/* A fresh client: GET /v2/ (https tried first, then http: two
	 * requests), then the list and every HEAD at once. */
	reg_free(c2);
	c2 = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_view(c2, "api/view", refs, 3, digests, &tags, NULL, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(c2->requests, 6, "%u requests", c2->requests);
	cr_expect_eq(c2->multi_max, 4, "%u at once", c2->multi_max);
	rp_strv_free(tags);
	reg_manifest_free(&m);
	reg_free(c2);
	reg_free(c);
	/* A -> B -> A after a first page read with the HEADs: still a cycle. */
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_expect_eq(reg_view(c, "f-cycle/view", refs, 2, digests, &tags, NULL, &err), RP_EREGISTRY);
	cr_expect_null(tags);
	{
		char want[400];
		snprintf(want, sizeof(want), "registry %s (list tags of f-cycle/view): pagination loops "
			 "(page '/v2/f-cycle/view/tags/list?n=1000' was already read)",
			 getenv("REGPUSH_TEST_FAULT"));
		cr_expect_str_eq(err.msg, want);
	}
	cr_expect_eq(count_lines(getenv("REGPUSH_TEST_FAULT_LOG"), "GET /v2/f-cycle/view/tags/list"), 2);
	reg_free(c);
}

/* Several mounts at once; one the registry refuses makes *mounted 0. */
Test(registry, mount_many, .timeout = 60)
{
	struct reg_client *c;
	struct reg_manifest m;
	struct rp_err err;
	char *blobs[3];
	json_t *j;
	int mounted, exists;

	seed(getenv("REGPUSH_TEST_PLAIN"), "api/msrc", "one", 0);
	c = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_manifest_get(c, "api/msrc", "one", &m, &err), RP_OK, "%s", err.msg);
	j = json_loadb(m.bytes, m.len, 0, NULL);
	blobs[0] = (char *)json_string_value(json_object_get(json_object_get(j, "config"), "digest"));
	blobs[1] = (char *)json_string_value(json_object_get(json_array_get(json_object_get(j, "layers"), 0), "digest"));
	blobs[2] = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	cr_assert_eq(reg_blob_mount_many(c, "api/mdst", "api/msrc", blobs, 2, &mounted, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(mounted, 1);
	cr_assert_eq(reg_blob_head(c, "api/mdst", blobs[1], &exists, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(exists, 1);
	cr_assert_eq(reg_blob_mount_many(c, "api/mdst2", "api/msrc", blobs, 3, &mounted, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(mounted, 0, "the third blob is nowhere");
	json_decref(j);
	reg_manifest_free(&m);
	reg_free(c);
}

Test(registry, absolute_link_pagination_through_proxy, .timeout = 60)
{
	struct reg_client *c;
	struct rp_err err;
	char **tags;

	seed(getenv("REGPUSH_TEST_PLAIN"), "f-abslink/x", "a", 0);
	seed(getenv("REGPUSH_TEST_PLAIN"), "f-abslink/x", "b", 0);
	seed(getenv("REGPUSH_TEST_PLAIN"), "f-abslink/x", "c", 0);
	setenv("REGPUSH_TAGS_PAGE", "1", 1);
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_assert_eq(reg_tags(c, "f-abslink/x", &tags, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(rp_strv_len(tags), 3);
	rp_strv_free(tags);
	reg_free(c);
}

Test(registry, blobs_mount_and_delete, .timeout = 60)
{
	struct reg_client *c;
	struct reg_manifest m;
	struct rp_err err;
	char d[80];
	json_t *j;
	const char *layer;
	int exists, mounted;

	seed(getenv("REGPUSH_TEST_PLAIN"), "api/src", "one", 0);
	c = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_manifest_get(c, "api/src", "one", &m, &err), RP_OK, "%s", err.msg);
	j = json_loadb(m.bytes, m.len, 0, NULL);
	layer = json_string_value(json_object_get(json_array_get(json_object_get(j, "layers"), 0), "digest"));
	cr_assert_not_null(layer);
	cr_assert_eq(reg_blob_head(c, "api/src", layer, &exists, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(exists, 1);
	cr_assert_eq(reg_blob_head(c, "api/dst", layer, &exists, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(exists, 0);
	/* 201: mounted from a repository that has it. */
	cr_assert_eq(reg_blob_mount(c, "api/dst", "api/src", layer, &mounted, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(mounted, 1);
	cr_assert_eq(reg_blob_head(c, "api/dst", layer, &exists, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(exists, 1);
	/* 202: not mounted (the source repository lacks it); upload cancelled. */
	cr_assert_eq(reg_blob_mount(c, "api/dst2", "api/nothing-here", layer, &mounted, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(mounted, 0);
	/* distribution 2.8 deletes by digest only; a tag delete is refused. */
	cr_expect_eq(reg_manifest_delete(c, "api/src", "one", &err), RP_EREGISTRY);
	{
		char want[400];
		snprintf(want, sizeof(want), "registry %s does not support deleting a tag (DELETE api/src:one): "
			 "HTTP 400 DIGEST_INVALID: provided digest did not match uploaded content",
			 getenv("REGPUSH_TEST_PLAIN"));
		cr_expect_str_eq(err.msg, want);
	}
	/* DELETE by digest removes every tag on the manifest. */
	cr_assert_eq(reg_manifest_delete(c, "api/src", m.digest, &err), RP_OK, "%s", err.msg);
	cr_assert_eq(reg_manifest_head(c, "api/src", "one", d, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(d, "");
	json_decref(j);
	reg_manifest_free(&m);
	reg_free(c);
}

Test(registry, htpasswd_over_tls, .timeout = 60)
{
	struct reg_client *c;
	struct reg_config cfg = { 0 };
	struct rp_err err;
	char d[80], want[400];

	seed(getenv("REGPUSH_TEST_TLS"), "api/tls", "one", 1);
	c = client("REGPUSH_TEST_TLS", 0, 1, 1);
	cr_assert_eq(reg_manifest_head(c, "api/tls", "one", d, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(strncmp(d, "sha256:", 7), 0);
	reg_free(c);
	/* Wrong password: one line naming registry and account, not the secret. */
	cfg.host = getenv("REGPUSH_TEST_TLS");
	cfg.cert_dir = getenv("REGPUSH_TEST_CA_DIR");
	cfg.username = "robot+ci";
	cfg.password = "not-the-password-123";
	cfg.account = "dev account 'robot+ci'";
	c = reg_new(&cfg, &err);
	cr_expect_eq(reg_manifest_head(c, "api/tls", "one", d, &err), RP_EREGISTRY);
	snprintf(want, sizeof(want), "registry %s refused the credentials of the dev account 'robot+ci' "
		 "(HEAD api/tls:one): HTTP 401", cfg.host);
	cr_expect_str_eq(err.msg, want);
	reg_free(c);
	/* Anonymous. */
	c = client("REGPUSH_TEST_TLS", 0, 0, 1);
	cr_expect_eq(reg_manifest_head(c, "api/tls", "one", d, &err), RP_EREGISTRY);
	snprintf(want, sizeof(want), "registry %s requires credentials (HEAD api/tls:one): HTTP 401", cfg.host);
	cr_expect_str_eq(err.msg, want);
	reg_free(c);
}

Test(registry, bearer_tokens_cached_and_renewed_on_insufficient_scope, .timeout = 60)
{
	struct reg_client *c;
	struct reg_manifest m;
	struct rp_err err;
	char d[80], needle[200];
	const char *log = getenv("REGPUSH_TEST_TOKEN_LOG");
	int i;

	c = client("REGPUSH_TEST_TOKENREG", 1, 1, 0);
	/* Push a manifest with skopeo first (through the same token service). */
	seed_image(getenv("REGPUSH_TEST_TOKENREG"), "api/stingy", "one", 2, "one.tar");
	/* Four reads of one scope set: one token request. */
	for (i = 0; i < 4; i++)
		cr_assert_eq(reg_manifest_head(c, "api/stingy", "one", d, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(count_lines(log, "/token repository:api/stingy:pull auth 200"), 1);
	/* pull,push: the token service first grants only pull (stingy), the
	 * registry answers insufficient_scope, the client asks again. */
	cr_assert_eq(reg_manifest_get(c, "api/stingy", "one", &m, &err), RP_OK, "%s", err.msg);
	snprintf(needle, sizeof(needle), "/token repository:api/stingy:pull,push auth 200");
	i = count_lines(log, needle);
	cr_assert_eq(reg_manifest_put(c, "api/stingy", "two", &m, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(count_lines(log, needle) - i, 2, "renewed once after insufficient_scope");
	cr_assert_eq(reg_manifest_head(c, "api/stingy", "two", d, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(d, m.digest);
	reg_manifest_free(&m);
	reg_free(c);
	/* access_token + expires_in answers work too. */
	c = client("REGPUSH_TEST_TOKENREG", 1, 1, 0);
	cr_expect_eq(reg_manifest_head(c, "api/access-token", "x", d, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(d, "");
	reg_free(c);
	/* Anonymous: a pull token, and a write is refused. */
	c = client("REGPUSH_TEST_TOKENREG", 1, 0, 0);
	cr_assert_eq(reg_manifest_get(c, "api/stingy", "one", &m, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(reg_manifest_put(c, "api/stingy", "three", &m, &err), RP_EREGISTRY);
	cr_expect(strstr(err.msg, "requires credentials (PUT api/stingy:three): HTTP 401 UNAUTHORIZED") != NULL, "%s", err.msg);
	reg_manifest_free(&m);
	reg_free(c);
}

/* Fault cases through the proxy: one row per fault. */
struct fault_row {
	const char *repo;
	int op;            /* 0 HEAD manifest, 1 GET manifest, 2 tags */
	rp_status st;
	const char *msg;   /* substring of the message, or NULL */
};

static const struct fault_row fault_rows[] = {
	{ "f-429/x", 0, RP_OK, NULL },
	{ "f-500once/x", 2, RP_OK, NULL },
	{ "f-500x/x", 0, RP_EREGISTRY, "(HEAD f-500x/x:one): HTTP 500 (after 5 attempts)" },
	{ "f-500x/x", 2, RP_EREGISTRY, "(list tags of f-500x/x): HTTP 500 UNKNOWN: storage exploded (after 5 attempts)" },
	{ "f-401/x", 0, RP_EREGISTRY, "requires credentials (HEAD f-401/x:one): HTTP 401" },
	{ "f-403/x", 2, RP_EREGISTRY, "denied the anonymous (list tags of f-403/x): HTTP 403 DENIED: requested access to the resource is denied" },
	{ "f-trunc/x", 1, RP_EREGISTRY, "(GET f-trunc/x:one): " },
	{ "f-big/x", 2, RP_EREGISTRY, "the answer to list tags of f-big/x is larger than 4194304 bytes" },
	{ "nothing/here", 0, RP_OK, NULL },
};

Test(registry, faults_through_proxy, .timeout = 120)
{
	size_t i;

	seed(getenv("REGPUSH_TEST_PLAIN"), "f-429/x", "one", 0);
	seed(getenv("REGPUSH_TEST_PLAIN"), "f-500once/x", "one", 0);
	seed(getenv("REGPUSH_TEST_PLAIN"), "f-trunc/x", "one", 0);
	setenv("REGPUSH_HTTP_TIMEOUT", "3", 1);
	for (i = 0; i < sizeof(fault_rows) / sizeof(fault_rows[0]); i++) {
		const struct fault_row *r = &fault_rows[i];
		struct reg_client *c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
		struct rp_err err = { 0, "" };
		struct reg_manifest m = { 0 };
		char d[80], **tags = NULL;
		rp_status st;

		if (r->op == 0)
			st = reg_manifest_head(c, r->repo, "one", d, &err);
		else if (r->op == 1)
			st = reg_manifest_get(c, r->repo, "one", &m, &err);
		else
			st = reg_tags(c, r->repo, &tags, &err);
		cr_expect_eq(st, r->st, "%s op %d: %s", r->repo, r->op, err.msg);
		if (r->msg != NULL)
			cr_expect(strstr(err.msg, r->msg) != NULL, "%s: %s", r->repo, err.msg);
		if (st == RP_OK && r->op == 0 && strcmp(r->repo, "nothing/here") != 0)
			cr_expect_eq(strncmp(d, "sha256:", 7), 0, "%s: retried to success", r->repo);
		rp_strv_free(tags);
		reg_manifest_free(&m);
		reg_free(c);
	}
	/* The 429 was answered with Retry-After and then retried. */
	cr_expect(count_lines(getenv("REGPUSH_TEST_FAULT_LOG"), "HEAD /v2/f-429/x/manifests/one 429") == 1);
	cr_expect(count_lines(getenv("REGPUSH_TEST_FAULT_LOG"), "HEAD /v2/f-429/x/manifests/one 200") == 1);
	cr_expect(count_lines(getenv("REGPUSH_TEST_FAULT_LOG"), "GET /v2/f-500once/x/tags/list?n=1000 500") == 1);
	cr_expect(count_lines(getenv("REGPUSH_TEST_FAULT_LOG"), "GET /v2/f-500once/x/tags/list?n=1000 200") == 1);
}

Test(registry, retry_after_is_honoured, .timeout = 60)
{
	struct reg_client *c;
	struct rp_err err;
	struct timespec a, b;
	char d[80];

	seed(getenv("REGPUSH_TEST_PLAIN"), "f-429/y", "one", 0);
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(reg_manifest_head(c, "f-429/y", "one", d, &err), RP_OK, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* Retry-After: 1 beats the 20 ms backoff set for tests. This is a
	 * lower bound on behaviour, not a timing goal. */
	cr_expect_geq(b.tv_sec - a.tv_sec + (b.tv_nsec - a.tv_nsec) / 1e9, 0.95);
	reg_free(c);
}

/* A blob PUT that loses its connection half-way through the body
 * (f-halfput: half of it reached the registry, then the connection was
 * lost) leaves the upload session broken: the retried PUT is refused
 * with 404 and the blob is not there. reg_blob_put opens one new session
 * and the blob arrives whole, by its digest. */
Test(registry, broken_upload_session_gets_a_new_one, .timeout = 60)
{
	const char *log = getenv("REGPUSH_TEST_FAULT_LOG");
	struct reg_client *c;
	struct rp_err err;
	char d[RP_DIGEST_MAX], refused[120], *data;
	size_t i, len = 256 * 1024;
	int exists = 0;

	data = malloc(len);
	cr_assert_not_null(data);
	for (i = 0; i < len; i++)
		data[i] = (char)(i * 2654435761u >> 13);
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_assert_eq(reg_blob_put(c, "f-halfput/x", data, len, d, &err), RP_OK, "%s", err.msg);
	reg_free(c);
	c = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_blob_head(c, "f-halfput/x", d, &exists, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(exists, 1);
	reg_free(c);
	/* distribution refuses the retry (404); go-containerregistry's
	 * registry takes it in the same session. */
	snprintf(refused, sizeof(refused), "digest=%s 404 ", d);
	cr_expect_eq(count_lines(log, "POST /v2/f-halfput/x/blobs/uploads/ 202"),
		     1 + count_lines(log, refused), "a new session only after a refusal");
	cr_expect_eq(count_lines(log, "reset t="), 1, "the first PUT was cut");
	free(data);
}

Test(registry, slow_and_dead_registries, .timeout = 60)
{
	struct reg_client *c;
	struct reg_config cfg = { 0 };
	struct rp_err err;
	char d[80];

	setenv("REGPUSH_HTTP_TIMEOUT", "1", 1);
	setenv("REGPUSH_HTTP_ATTEMPTS", "2", 1);
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_expect_eq(reg_manifest_head(c, "f-slow/x", "one", d, &err), RP_EREGISTRY);
	cr_expect(strstr(err.msg, "cannot reach registry") != NULL && strstr(err.msg, "(HEAD f-slow/x:one): Operation timed out") != NULL &&
		  strstr(err.msg, "(after retries)") != NULL, "%s", err.msg);
	reg_free(c);
	cfg.host = "127.0.0.1:9";
	cfg.insecure = 1;
	c = reg_new(&cfg, &err);
	cr_expect_eq(reg_ping(c, &err), RP_EREGISTRY);
	cr_expect(strncmp(err.msg, "cannot reach registry 127.0.0.1:9: Failed to connect to 127.0.0.1 port 9", 72) == 0, "%s", err.msg);
	reg_free(c);
}

Test(registry, concurrent_heads_and_puts_with_token_auth, .timeout = 60)
{
	struct reg_client *c;
	struct reg_manifest m;
	struct rp_err err;
	char *refs[] = { "c1", "c2", "c3", "c4", "c5", NULL };
	char *heads[] = { "c1", "c2", "c3", "c4", "c5", "absent", NULL };
	char d[6][80];
	size_t i;

	seed_image(getenv("REGPUSH_TEST_TOKENREG"), "api/many", "src", 2, "multi.tar");
	c = client("REGPUSH_TEST_TOKENREG", 1, 1, 0);
	cr_assert_eq(reg_manifest_get(c, "api/many", "src", &m, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(m.media_type, "application/vnd.oci.image.index.v1+json");
	cr_assert_eq(reg_manifest_put_many(c, "api/many", refs, 5, &m, &err), RP_OK, "%s", err.msg);
	cr_assert_eq(reg_manifest_head_many(c, "api/many", heads, 6, d, &err), RP_OK, "%s", err.msg);
	for (i = 0; i < 5; i++)
		cr_expect_str_eq(d[i], m.digest, "%s", heads[i]);
	cr_expect_str_eq(d[5], "");
	reg_manifest_free(&m);
	reg_free(c);
}

/* --- hostile registries (issue 7) ---------------------------------------- */

Test(registry, pagination_cannot_keep_the_client, .timeout = 120)
{
	const char *log = getenv("REGPUSH_TEST_FAULT_LOG");
	struct reg_client *c;
	struct rp_err err;
	char **tags = NULL;
	double t0;

	/* A -> B -> A: the second visit of A is a cycle. */
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_expect_eq(reg_tags(c, "f-cycle/x", &tags, &err), RP_EREGISTRY);
	reg_free(c);
	{
		char want[400];
		snprintf(want, sizeof(want), "registry %s (list tags of f-cycle/x): pagination loops "
			 "(page '/v2/f-cycle/x/tags/list?n=1000' was already read)",
			 getenv("REGPUSH_TEST_FAULT"));
		cr_expect_str_eq(err.msg, want);
	}
	cr_expect_null(tags);
	cr_expect_eq(count_lines(log, "GET /v2/f-cycle/x/tags/list"), 2, "two pages, no more: %zu", count_lines(log, "GET /v2/f-cycle/x/tags/list"));
	/* Every page the same tags, each linking on (issue 17, finding 7):
	 * what lies past the repeats cannot be known, so the listing is an
	 * error, never taken as complete. */
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_expect_eq(reg_tags(c, "f-samepage/x", &tags, &err), RP_EREGISTRY);
	{
		char want[400];
		snprintf(want, sizeof(want), "registry %s (list tags of f-samepage/x): page 2 repeats tags "
			 "already listed but links to another page, so the listing cannot be known complete",
			 getenv("REGPUSH_TEST_FAULT"));
		cr_expect_str_eq(err.msg, want);
	}
	cr_expect_null(tags);
	cr_expect_eq(count_lines(log, "GET /v2/f-samepage/x/tags/list"), 2);
	reg_free(c);
	/* Endless pages of new tags: at most 1000 pages. */
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_expect_eq(reg_tags(c, "f-endless/x", &tags, &err), RP_EREGISTRY);
	{
		char want[300];
		snprintf(want, sizeof(want), "registry %s (list tags of f-endless/x): more than 1000 pages",
			 getenv("REGPUSH_TEST_FAULT"));
		cr_expect_str_eq(err.msg, want);
	}
	cr_expect_eq(count_lines(log, "GET /v2/f-endless/x/tags/list"), 1000);
	reg_free(c);
	/* Slow endless pages: the whole listing has a deadline. */
	setenv("REGPUSH_TAGS_TIMEOUT", "2", 1);
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	t0 = mono_now();
	cr_expect_eq(reg_tags(c, "f-pagesslow/x", &tags, &err), RP_EREGISTRY);
	cr_expect_lt(mono_now() - t0, 10.0, "bounded by the deadline, not by the pages");
	cr_expect(strstr(err.msg, "(list tags of f-pagesslow/x): gave up after 2 s and ") != NULL &&
		  strstr(err.msg, "pages (REGPUSH_TAGS_TIMEOUT)") != NULL, "%s", err.msg);
	reg_free(c);
}

Test(registry, secrets_scrubbed_from_registry_text, .timeout = 30)
{
	struct reg_config cfg = { 0 };
	struct rp_err err;
	struct reg_client *c;
	struct token tok = { "scope", "eyJhbGc.tok-EN.sig", 0 };
	/* "robot:pä\ss" in base64, and "pä\ss" alone */
	const char *in = "pw pä\\ss, basic cm9ib3Q6cMOkXHNz, alone cMOkXHNz, bearer eyJhbGc.tok-EN.sig!";
	char *out;

	cfg.host = "registry.example";
	cfg.username = "robot";
	cfg.password = "pä\\ss";
	c = reg_new(&cfg, &err);
	cr_assert_not_null(c);
	c->tokens = &tok;
	c->ntokens = 1;
	out = reg_scrub(c, in, strlen(in));
	cr_expect_str_eq(out, "pw ***, basic ***, alone ***, bearer ***!");
	free(out);
	c->tokens = NULL;
	c->ntokens = 0;
	reg_free(c);
}

Test(registry, reflected_password_never_printed, .timeout = 30)
{
	struct reg_config cfg = { 0 };
	struct rp_err err;
	struct reg_client *c;
	struct reg_manifest m;
	char want[600];

	cfg.host = getenv("REGPUSH_TEST_FAULT");
	cfg.insecure = 1;
	cfg.username = "robot";
	cfg.password = "p\xc3\xa4\\ss-S3cret";
	cfg.account = "dev account 'robot'";
	c = reg_new(&cfg, &err);
	cr_assert_not_null(c);
	cr_expect_eq(reg_manifest_get(c, "f-reflect/x", "one", &m, &err), RP_EREGISTRY);
	snprintf(want, sizeof(want), "registry %s denied the dev account 'robot' (GET f-reflect/x:one): "
		 "HTTP 403 DENIED: no access for robot with password *** (***, ***); you sent: Basic ***",
		 cfg.host);
	cr_expect_str_eq(err.msg, want);
	reg_free(c);
}

/* Text a registry sends never reaches a message raw. */
Test(registry, header_values_are_quoted, .timeout = 30)
{
	struct reg_client *c;
	struct reg_manifest m;
	struct rp_err err;
	char d[80];

	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_expect_eq(reg_manifest_head(c, "f-escrealm/x", "one", d, &err), RP_EREGISTRY);
	cr_expect(strstr(err.msg, "token realm 'http://127.0.0.1:9/\\x1b[31mtoken\\x0dX' is not https") != NULL,
		  "%s", err.msg);
	cr_expect(strchr(err.msg, '\x1b') == NULL && strchr(err.msg, '\r') == NULL);
	reg_free(c);
	seed(getenv("REGPUSH_TEST_PLAIN"), "f-escdigest/x", "one", 0);
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_assert_eq(reg_manifest_get(c, "f-escdigest/x", "one", &m, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(reg_manifest_put(c, "f-escdigest/x", "two", &m, &err), RP_EREGISTRY);
	cr_expect(strstr(err.msg, "(PUT f-escdigest/x:two): stored the manifest as sha256:\\x1b[2Jevil, not sha256:") != NULL,
		  "%s", err.msg);
	reg_manifest_free(&m);
	reg_free(c);
}

Test(registry, token_service_answers_are_checked, .timeout = 60)
{
	const char *log = getenv("REGPUSH_TEST_TOKEN_LOG");
	struct reg_client *c;
	struct reg_config cfg = { 0 };
	struct rp_err err;
	char d[80], want[400];
	int i;

	/* A token with CR LF in it would add a header to every request. */
	c = client("REGPUSH_TEST_TOKENREG", 1, 1, 0);
	cr_expect_eq(reg_manifest_head(c, "api/evil-token", "x", d, &err), RP_EREGISTRY);
	snprintf(want, sizeof(want), "registry %s: the token service answered a token that is not "
		 "visible ASCII (or longer than 16384 bytes); it was not used",
		 getenv("REGPUSH_TEST_TOKENREG"));
	cr_expect_str_eq(err.msg, want);
	reg_free(c);
	/* expires_in 2^63-1: clamped (no overflow, under UBSan too), and
	 * the token is still reused. */
	c = client("REGPUSH_TEST_TOKENREG", 1, 1, 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(reg_manifest_head(c, "api/huge-expiry", "x", d, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(count_lines(log, "/token repository:api/huge-expiry:pull auth 200"), 1);
	reg_free(c);
	/* The registry is insecure, its plain-HTTP realm's host is not:
	 * Basic credentials are not sent there. */
	cfg.host = getenv("REGPUSH_TEST_TOKENREG");
	cfg.insecure = 1;
	cfg.username = getenv("REGPUSH_TEST_USER");
	cfg.password = getenv("REGPUSH_TEST_PASS");
	c = reg_new(&cfg, &err);
	cr_expect_eq(reg_manifest_head(c, "api/realm", "x", d, &err), RP_EREGISTRY);
	snprintf(want, sizeof(want), "registry %s: token realm 'http://%s/token' is not https (plain HTTP "
		 "is used only for a host given with --insecure-registry, and only for a test registry)",
		 cfg.host, getenv("REGPUSH_TEST_TOKENSRV"));
	cr_expect_str_eq(err.msg, want);
	cr_expect_eq(count_lines(log, "api/realm"), 0, "the token service was never asked");
	reg_free(c);
}

Test(registry, untag_keeps_the_image_and_its_other_tags, .timeout = 60)
{
	struct reg_client *c;
	struct reg_manifest m;
	struct rp_err err;
	char d[80];
	char **tags;

	seed(getenv("REGPUSH_TEST_PLAIN"), "api/untag", "a", 0);
	c = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_manifest_get(c, "api/untag", "a", &m, &err), RP_OK, "%s", err.msg);
	cr_assert_eq(reg_manifest_put(c, "api/untag", "b", &m, &err), RP_OK, "%s", err.msg);
	/* distribution 2.8 refuses a tag DELETE: the fallback runs. */
	cr_assert_eq(reg_untag(c, "api/untag", "a", &err), RP_OK, "%s", err.msg);
	cr_assert_eq(reg_manifest_head(c, "api/untag", "a", d, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(d, "", "a is gone");
	cr_assert_eq(reg_manifest_head(c, "api/untag", "b", d, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(d, m.digest, "b still resolves");
	cr_assert_eq(reg_manifest_head(c, "api/untag", m.digest, d, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(d, m.digest, "the image itself is kept");
	cr_assert_eq(reg_tags(c, "api/untag", &tags, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(rp_strv_len(tags), 1);
	cr_expect_str_eq(tags[0], "b");
	rp_strv_free(tags);
	/* An absent tag is already untagged. */
	cr_expect_eq(reg_untag(c, "api/untag", "never", &err), RP_OK, "%s", err.msg);
	reg_manifest_free(&m);
	reg_free(c);
}

/* A manifest answered as text/html: the document's own mediaType is used;
 * when it names none, nothing can be written with it. */
Test(registry, manifest_media_type_is_checked, .timeout = 60)
{
	struct reg_client *c, *direct;
	struct reg_manifest m, bare;
	struct rp_err err;
	char cfgd[80], hex[65], want[600];
	const char *cfgblob = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";

	seed(getenv("REGPUSH_TEST_PLAIN"), "f-ctype/x", "one", 0);
	c = client("REGPUSH_TEST_FAULT", 1, 0, 0);
	cr_assert_eq(reg_manifest_get(c, "f-ctype/x", "one", &m, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(m.media_type, "application/vnd.oci.image.manifest.v1+json");
	reg_manifest_free(&m);
	/* An OCI manifest without mediaType (optional in the spec). */
	direct = client("REGPUSH_TEST_PLAIN", 1, 0, 0);
	cr_assert_eq(reg_blob_put(direct, "f-ctype/x", cfgblob, strlen(cfgblob), cfgd, &err), RP_OK, "%s", err.msg);
	memset(&bare, 0, sizeof(bare));
	cr_assert(asprintf(&bare.bytes, "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
			   "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
			   "\"layers\":[]}", cfgd, strlen(cfgblob)) > 0);
	bare.len = strlen(bare.bytes);
	bare.media_type = strdup("application/vnd.oci.image.manifest.v1+json");
	cr_assert_eq(rp_sha256_hex(bare.bytes, bare.len, hex), 0);
	snprintf(bare.digest, sizeof(bare.digest), "sha256:%s", hex);
	cr_assert_eq(reg_manifest_put(direct, "f-ctype/x", "bare", &bare, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(reg_manifest_get(c, "f-ctype/x", "bare", &m, &err), RP_EREGISTRY);
	snprintf(want, sizeof(want), "registry %s (GET f-ctype/x:bare): the answer's Content-Type "
		 "'text/html' is not a manifest media type, and the document names none",
		 getenv("REGPUSH_TEST_FAULT"));
	cr_expect_str_eq(err.msg, want);
	/* A PUT with anything but a manifest type is refused locally. */
	free(bare.media_type);
	bare.media_type = strdup("text/html");
	cr_expect_eq(reg_manifest_put(direct, "f-ctype/x", "html", &bare, &err), RP_EREGISTRY);
	cr_expect_str_eq(err.msg, "refusing to PUT a manifest of media type 'text/html'");
	reg_manifest_free(&bare);
	reg_free(c);
	reg_free(direct);
}

struct secrets_seen {
	int n;
	char last[256];
};

static void
record_secret(void *ctx, const char *secret)
{
	struct secrets_seen *s = ctx;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", secret);
}

/* Every token the client learns reaches on_secret (the Actions masker in
 * regpush) once, before it is used; a token refused as malformed never
 * does. The client itself prints nothing. */
Test(registry, tokens_reach_on_secret, .timeout = 60)
{
	struct secrets_seen seen = { 0 };
	struct reg_config cfg = { 0 };
	struct rp_err err;
	struct reg_client *c;
	char d[80];

	cfg.host = getenv("REGPUSH_TEST_TOKENREG");
	cr_assert_not_null(cfg.host, "run through tests/with-registries.sh");
	cfg.insecure = 1;
	cfg.insecure_hosts = (char *[]){ getenv("REGPUSH_TEST_TOKENSRV"), NULL };
	cfg.username = getenv("REGPUSH_TEST_USER");
	cfg.password = getenv("REGPUSH_TEST_PASS");
	cfg.on_secret = record_secret;
	cfg.secret_ctx = &seen;
	c = reg_new(&cfg, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_expect_eq(reg_manifest_head(c, "api/evil-token", "x", d, &err), RP_EREGISTRY);
	cr_expect_eq(seen.n, 0, "a refused token is not handed on");
	cr_assert_eq(reg_manifest_head(c, "api/huge-expiry", "x", d, &err), RP_OK, "%s", err.msg);
	cr_assert_eq(reg_manifest_head(c, "api/huge-expiry", "x", d, &err), RP_OK, "%s", err.msg);
	cr_expect_eq(seen.n, 1, "one token, handed on once (then reused)");
	cr_expect_neq(seen.last[0], '\0');
	reg_free(c);
}
