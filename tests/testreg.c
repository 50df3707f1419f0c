/* testreg.c — the tests' own registry reader. */
#include "testreg.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "helpers.h"
#include "util.h"

struct treg
treg_plain(void)
{
	struct treg r = { getenv("REGPUSH_TEST_PLAIN"), 0 };

	cr_assert(r.host != NULL, "run the tests through tests/with-registries.sh");
	return r;
}

int
treg_ggcr(void)
{
	const char *k = getenv("REGPUSH_TEST_REGISTRY");

	return k != NULL && strcmp(k, "ggcr") == 0;
}

struct treg
treg_tls(void)
{
	struct treg r = { getenv("REGPUSH_TEST_TLS"), 1 };

	cr_assert(r.host != NULL, "run the tests through tests/with-registries.sh");
	return r;
}

static size_t
on_body(char *d, size_t sz, size_t n, void *u)
{
	sbuf_add(u, d, sz * n);
	return sz * n;
}

static size_t
on_header(char *d, size_t sz, size_t n, void *u)
{
	char *digest = u;
	size_t len = sz * n;

	if (len > 22 && strncasecmp(d, "Docker-Content-Digest:", 22) == 0) {
		const char *v = d + 22;
		while (*v == ' ')
			v++;
		snprintf(digest, 80, "%.*s", (int)strcspn(v, "\r\n"), v);
	}
	return len;
}

static long
get(struct treg r, const char *path, int manifest, char **body, char digest[80])
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct sbuf sb;
	char url[1024], ca[600], up[400];
	long code = 0;

	sbuf_init(&sb, 16 << 20);
	snprintf(url, sizeof(url), "%s://%s%s", r.tls ? "https" : "http", r.host, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sb);
	if (digest != NULL) {
		digest[0] = '\0';
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, digest);
	}
	if (manifest) {
		h = curl_slist_append(h, "Accept: application/vnd.oci.image.index.v1+json, "
				      "application/vnd.oci.image.manifest.v1+json, "
				      "application/vnd.docker.distribution.manifest.list.v2+json, "
				      "application/vnd.docker.distribution.manifest.v2+json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	if (r.tls) {
		snprintf(ca, sizeof(ca), "%s/ca.crt", getenv("REGPUSH_TEST_CA_DIR"));
		snprintf(up, sizeof(up), "%s:%s", getenv("REGPUSH_TEST_USER"),
			 getenv("REGPUSH_TEST_PASS"));
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
		curl_easy_setopt(c, CURLOPT_USERPWD, up);
	}
	cr_assert_eq(curl_easy_perform(c), CURLE_OK, "GET %s", url);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	*body = sbuf_take(&sb);
	return code;
}

long
treg_manifest(struct treg r, const char *repo, const char *ref, char **body,
	     char digest[80])
{
	char path[600], *b = NULL, hex[65], want[80];
	long code;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, ref);
	code = get(r, path, 1, &b, digest);
	if (code == 200) {
		cr_assert_eq(rp_sha256_hex(b, strlen(b), hex), 0);
		snprintf(want, sizeof(want), "sha256:%s", hex);
		cr_expect_str_eq(digest, want, "the registry's digest header matches its bytes");
	}
	if (body != NULL)
		*body = b;
	else
		free(b);
	return code;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
treg_tags(struct treg r, const char *repo)
{
	char path[600], *b = NULL;
	const char **tags = NULL;
	json_t *j, *t;
	size_t i, n = 0;
	struct sbuf sb;
	long code;

	/* One page of every tag: distribution ignores n, go-containerregistry
	 * honours it (and sends no Link). */
	snprintf(path, sizeof(path), "/v2/%s/tags/list?n=100000", repo);
	code = get(r, path, 0, &b, NULL);
	sbuf_init(&sb, 16 << 20);
	if (code == 200) {
		j = json_loads(b, 0, NULL);
		cr_assert_not_null(j, "%s", b);
		tags = calloc(json_array_size(json_object_get(j, "tags")) + 1, sizeof(*tags));
		cr_assert_not_null(tags);
		json_array_foreach(json_object_get(j, "tags"), i, t)
			tags[n++] = json_string_value(t);
		qsort(tags, n, sizeof(*tags), cmp);
		for (i = 0; i < n; i++) {
			sbuf_puts(&sb, i ? " " : "");
			sbuf_puts(&sb, tags[i]);
		}
		free(tags);
		json_decref(j);
	} else {
		cr_assert_eq(code, 404, "tags of %s: HTTP %ld", repo, code);
	}
	free(b);
	return sbuf_take(&sb);
}

char *
source_digest(const char *ref)
{
	const char *argv[] = { "skopeo", "inspect", "--raw", ref, NULL };
	const char *envp[] = { NULL };
	struct proc p;
	char hex[65], *d;

	run_prog("skopeo", argv, envp, &p);
	cr_assert_eq(p.status, 0, "skopeo inspect %s: %s", ref, p.err);
	cr_assert_eq(rp_sha256_hex(p.out, strlen(p.out), hex), 0);
	cr_assert(asprintf(&d, "sha256:%s", hex) > 0);
	proc_free(&p);
	return d;
}

void
expect_tags_at(struct treg r, const char *repo, const char *tags, const char *digest)
{
	char *copy = strdup(tags), *save = NULL, *t, d[80];

	for (t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		cr_expect_eq(treg_manifest(r, repo, t, NULL, d), 200, "%s:%s", repo, t);
		cr_expect_str_eq(d, digest, "%s:%s", repo, t);
	}
	free(copy);
}

const char *
report_status(void *json, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(json, "results"), i),
						 "status"));
}

long
treg_blob(struct treg r, const char *repo, const char *digest, char **body)
{
	char path[600];

	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, digest);
	return get(r, path, 0, body, NULL);
}

void
treg_copy_in(const char *src, const char *repo, const char *tag)
{
	char dst[400];
	const char *argv[] = { "skopeo", "copy", "-q", "--all", "--preserve-digests",
			       "--src-tls-verify=false", "--dest-tls-verify=false", src, dst, NULL };
	const char *envp[] = { "HOME=/root", NULL };
	struct proc p;

	snprintf(dst, sizeof(dst), "docker://%s/%s:%s", getenv("REGPUSH_TEST_PLAIN"), repo, tag);
	run_prog("skopeo", argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s: %s", dst, p.err);
	proc_free(&p);
}

size_t
treg_attachment_layers(struct treg r, const char *repo, const char *digest, const char *suffix,
		       char att_digest[80])
{
	char tag[120], *body, d[80];
	json_t *j;
	size_t n;

	snprintf(tag, sizeof(tag), "sha256-%s.%s", digest + 7, suffix);
	if (treg_manifest(r, repo, tag, &body, att_digest != NULL ? att_digest : d) != 200) {
		free(body); /* the error's body */
		return 0;
	}
	j = json_loads(body, 0, NULL);
	n = json_array_size(json_object_get(j, "layers"));
	json_decref(j);
	free(body);
	return n;
}
