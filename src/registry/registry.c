/*
 * registry.c — the OCI Distribution client's API: manifests (HEAD, GET,
 * PUT, one at a time or concurrently), tags (listing, removal), blobs
 * (HEAD, small upload, cross-repository mount). Each call is a request
 * through reg_request.c; here it becomes a result, or one line naming the
 * registry, repository and reference.
 */
#include "reg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "imgref.h"

#define TAGS_PAGES_MAX 1000

/* bytes parsed as JSON; NULL with err set when they are not JSON (the
 * registry's fault) or memory ran out. */
json_t *
reg_json(const char *who, const char *bytes, size_t len, const char *what, struct rp_err *err)
{
	json_error_t e;
	json_t *j = json_loadb(bytes != NULL ? bytes : "", len, 0, &e);

	/* jansson 2.14 reports an allocation failing in its lexer as a
	 * syntax error: parse once more before blaming the registry. */
	if (j == NULL && e.text[0] != '\0' && json_error_code(&e) != json_error_out_of_memory)
		j = json_loadb(bytes != NULL ? bytes : "", len, 0, &e);
	if (j == NULL) {
		/* jansson sets no error at all when its first allocations fail. */
		if (json_error_code(&e) == json_error_out_of_memory || e.text[0] == '\0')
			rp_fail(err, RP_ENOMEM, "out of memory");
		else
			rp_fail(err, RP_EREGISTRY, "%s: its %s is not valid JSON (%d:%d: %s)",
				who, what, e.line, e.column, e.text);
	}
	return j;
}

rp_status
reg_ping(struct reg_client *c, struct rp_err *err)
{
	return reg_discover(c, err);
}

rp_status
reg_manifest_head(struct reg_client *c, const char *repo, const char *ref,
		  char digest[RP_DIGEST_MAX], struct rp_err *err)
{
	char *refs[1] = { (char *)ref };

	return reg_manifest_head_many(c, repo, refs, 1, (char (*)[RP_DIGEST_MAX])digest, err);
}

/* The media type to PUT the manifest with: the answer's Content-Type when
 * it is a manifest type, else the document's own mediaType; NULL when
 * neither is (an HTML error page, a missing header and an old schema). */
static const char *
manifest_type(const struct resp *r, json_t **doc)
{
	const char *mt;

	if (reg_is_manifest_type(r->ctype))
		return r->ctype;
	*doc = json_loadb(r->body.buf != NULL ? r->body.buf : "", r->body.len, 0, NULL);
	mt = json_string_value(json_object_get(*doc, "mediaType"));
	return reg_is_manifest_type(mt) ? mt : NULL;
}

/* Quay grants only pull, push and *; distribution needs delete. */
static int
is_quay(const struct reg_client *c)
{
	size_t n = strlen(c->host);

	return strcmp(c->host, "quay.io") == 0 || (n > 8 && strcmp(c->host + n - 8, ".quay.io") == 0);
}

/* The manifest in a 200 answer to GET ref: the digest checked against
 * the bytes (and against ref when it is one), the media type checked. */
rp_status
reg_manifest_from(struct reg_client *c, struct resp *r, const char *ref, const char *what,
	      struct reg_manifest *m, struct rp_err *err)
{
	char q[300], q2[100];
	const char *mt;
	json_t *doc = NULL;
	rp_status st = RP_OK;

	memset(m, 0, sizeof(*m));
	if (rp_sha256_digest(r->body.buf != NULL ? r->body.buf : "", r->body.len, m->digest) != 0)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((r->digest[0] != '\0' && strcmp(r->digest, m->digest) != 0) ||
	    /* A digest of any algorithm must be the sha256 of the bytes: a
	     * digest regpush cannot compute is never taken on trust. */
	    (strchr(ref, ':') != NULL && strcmp(ref, m->digest) != 0))
		return rp_fail(err, RP_EREGISTRY,
			       "registry %s (%s): the manifest's bytes hash to %s, not %s "
			       "(truncated or altered answer)", c->host, what, m->digest,
			       rp_quote(r->digest[0] != '\0' ? r->digest : ref, 80, q2, sizeof(q2)));
	if ((mt = manifest_type(r, &doc)) == NULL) {
		st = rp_fail(err, RP_EREGISTRY,
			     "registry %s (%s): the answer's Content-Type '%s' is not a manifest "
			     "media type, and the document names none", c->host, what,
			     rp_quote(r->ctype, 100, q, sizeof(q)));
	} else {
		m->len = r->body.len;
		if ((m->media_type = rp_strndup(mt, strcspn(mt, "; \t"))) == NULL ||
		    (m->bytes = sbuf_take(&r->body)) == NULL) {
			reg_manifest_free(m);
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		}
	}
	json_decref(doc);
	return st;
}

static rp_status
manifest_fetch(struct reg_client *c, const char *repo, const char *ref, int missing_ok,
	       struct reg_manifest *m, struct rp_err *err)
{
	struct resp r;
	char what[300];
	rp_status st;

	memset(m, 0, sizeof(*m));
	memset(&r, 0, sizeof(r));
	reg_ref_what(what, sizeof(what), "GET", repo, ref);
	if ((st = reg_call(c, &(struct reg_req){ .method = "GET", .accept = REG_ACCEPT_MANIFESTS,
						 .max = REG_MANIFEST_MAX, .what = what },
			   repo, "pull", NULL, &r, err, "/v2/%s/manifests/%s", repo, ref)) == RP_OK)
		st = r.status == 200 ? reg_manifest_from(c, &r, ref, what, m, err) :
		    r.status == 404 && missing_ok ? RP_OK : reg_unexpected(c, &r, what, err);
	resp_free(&r);
	return st;
}

rp_status
reg_manifest_get(struct reg_client *c, const char *repo, const char *ref,
		 struct reg_manifest *m, struct rp_err *err)
{
	return manifest_fetch(c, repo, ref, 0, m, err);
}

rp_status
reg_manifest_find(struct reg_client *c, const char *repo, const char *ref,
		  struct reg_manifest *m, struct rp_err *err)
{
	return manifest_fetch(c, repo, ref, 1, m, err);
}

static int
get_ok(long status)
{
	return status == 200;
}

static int
get_or_gone(long status)
{
	return status == 200 || status == 404;
}

static rp_status
manifests_get(struct reg_client *c, const char *repo, char *const *refs, size_t n,
	      struct reg_manifest *ms, int gone_ok, struct rp_err *err);

rp_status
reg_manifest_get_many(struct reg_client *c, const char *repo, char *const *refs, size_t n,
		      struct reg_manifest *ms, struct rp_err *err)
{
	return manifests_get(c, repo, refs, n, ms, 0, err);
}

rp_status
reg_manifest_get_some(struct reg_client *c, const char *repo, char *const *refs, size_t n,
		      struct reg_manifest *ms, struct rp_err *err)
{
	return manifests_get(c, repo, refs, n, ms, 1, err);
}

rp_status
reg_manifests_json(struct reg_client *c, const char *repo, char *const *refs,
		   char *const *keys, size_t n, json_t *out, struct rp_err *err)
{
	struct reg_manifest *ms;
	size_t i;
	rp_status st;

	if (n == 0)
		return RP_OK;
	if ((ms = calloc(n, sizeof(*ms))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = reg_manifest_get_some(c, repo, refs, n, ms, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		json_t *j;
		if (ms[i].bytes == NULL || (keys != NULL && strcmp(ms[i].digest, keys[i]) != 0))
			continue; /* gone, or the tag moved meanwhile: absent */
		j = json_loadb(ms[i].bytes, ms[i].len, 0, NULL);
		if (json_object_set_new(out, keys != NULL ? keys[i] : refs[i],
					j != NULL ? j : json_object()) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		reg_manifest_free(&ms[i]);
	free(ms);
	return st;
}

static rp_status
manifests_get(struct reg_client *c, const char *repo, char *const *refs, size_t n,
	      struct reg_manifest *ms, int gone_ok, struct rp_err *err)
{
	struct resp *rs;
	char *scope = reg_scope_for(repo, "pull", NULL), what[300];
	size_t i;
	rp_status st;

	memset(ms, 0, n * sizeof(*ms));
	if (n == 0 || scope == NULL || (rs = calloc(n, sizeof(*rs))) == NULL) {
		free(scope);
		return n == 0 ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
	}
	st = reg_batch(c, &(struct reg_req){ .method = "GET", .scope = scope,
					     .accept = REG_ACCEPT_MANIFESTS, .max = REG_MANIFEST_MAX,
					     .ok = gone_ok ? get_or_gone : get_ok },
		       repo, "manifests", refs, n, rs, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		reg_ref_what(what, sizeof(what), "GET", repo, refs[i]);
		if (gone_ok && rs[i].status == 404)
			continue; /* gone: ms[i] stays empty */
		st = rs[i].status == 200 ? reg_manifest_from(c, &rs[i], refs[i], what, &ms[i], err) :
		    reg_unexpected(c, &rs[i], what, err);
	}
	for (i = 0; i < n; i++) {
		resp_free(&rs[i]);
		if (st != RP_OK)
			reg_manifest_free(&ms[i]);
	}
	free(rs);
	free(scope);
	return st;
}

rp_status
reg_blob_get_many(struct reg_client *c, const char *repo, char *const *digests, size_t n,
		  size_t max, char **out, size_t *lens, struct rp_err *err)
{
	struct resp *rs;
	char *scope = reg_scope_for(repo, "pull", NULL), hex[65];
	size_t i;
	rp_status st;

	memset(out, 0, n * sizeof(*out));
	if (n == 0 || scope == NULL || (rs = calloc(n, sizeof(*rs))) == NULL) {
		free(scope);
		return n == 0 ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
	}
	/* A redirect is not "ok": it is redone by reg_blob_get below. */
	st = reg_batch(c, &(struct reg_req){ .method = "GET", .scope = scope, .max = max, .ok = get_ok },
		       repo, "blobs", digests, n, rs, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		if (rs[i].status != 200 || rp_sha256_hex(rs[i].body.buf != NULL ? rs[i].body.buf : "",
							  rs[i].body.len, hex) != 0 ||
		    strncmp(digests[i], "sha256:", 7) != 0 || strcmp(digests[i] + 7, hex) != 0) {
			st = reg_blob_get(c, repo, digests[i], max, &out[i], &lens[i], err);
			continue;
		}
		lens[i] = rs[i].body.len;
		if ((out[i] = sbuf_take(&rs[i].body)) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		resp_free(&rs[i]);
		if (st != RP_OK) {
			free(out[i]);
			out[i] = NULL;
		}
	}
	free(rs);
	free(scope);
	return st;
}

static int
delete_ok(long status)
{
	return status == 200 || status == 202 || status == 204 || status == 404;
}

size_t
reg_manifest_delete_many(struct reg_client *c, const char *repo, char *const *refs, size_t n,
			 char **errors)
{
	struct resp *rs;
	struct rp_err e = { RP_OK, "" };
	char *scope = reg_scope_for(repo, is_quay(c) ? "*" : "delete", NULL);
	size_t i, failed = 0;
	rp_status st = RP_EREGISTRY;

	memset(errors, 0, n * sizeof(*errors));
	if (n == 0) {
		free(scope);
		return 0;
	}
	if (scope != NULL && (rs = calloc(REG_WINDOW, sizeof(*rs))) != NULL) {
		size_t off, w;
		st = RP_OK;
		for (off = 0; off < n && st == RP_OK; off += w) {
			w = n - off < REG_WINDOW ? n - off : REG_WINDOW;
			st = reg_batch(c, &(struct reg_req){ .method = "DELETE", .scope = scope,
							     .max = REG_SMALL_MAX, .ok = delete_ok },
				       repo, "manifests", refs + off, w, rs, &e);
			for (i = 0; i < w; i++) {
				if (st == RP_OK && !delete_ok(rs[i].status))
					st = RP_EREGISTRY;
				resp_free(&rs[i]);
			}
		}
		free(rs);
	}
	free(scope);
	/* Anything not clearly done is done one by one, so one failure
	 * costs only its own row (a digest already gone counts as done). */
	for (i = 0; st != RP_OK && i < n; i++) {
		char d[RP_DIGEST_MAX];
		if (reg_manifest_head(c, repo, refs[i], d, &e) == RP_OK && d[0] == '\0')
			continue;
		if (reg_manifest_delete(c, repo, refs[i], &e) != RP_OK) {
			errors[i] = rp_strdup(e.msg[0] != '\0' ? e.msg : "out of memory");
			failed++;
		}
	}
	return failed;
}

rp_status
reg_manifest_put(struct reg_client *c, const char *repo, const char *ref,
		 const struct reg_manifest *m, struct rp_err *err)
{
	char *refs[1] = { (char *)ref };

	return reg_manifest_put_many(c, repo, refs, 1, m, err);
}


/* DELETE /manifests/<ref>; *status gets the registry's answer. The answer
 * to a tag's DELETE says whether this registry deletes tags. */
static rp_status
delete_ref(struct reg_client *c, const char *repo, const char *ref, long *status,
	   struct resp *r, struct rp_err *err)
{
	char what[300];
	rp_status st;

	snprintf(what, sizeof(what), "DELETE %s:%s", repo, ref);
	st = reg_call(c, &(struct reg_req){ .method = "DELETE", .max = REG_SMALL_MAX, .what = what },
		      repo, is_quay(c) ? "*" : "delete", NULL, r, err, "/v2/%s/manifests/%s", repo, ref);
	*status = r->status;
	if (st == RP_OK && !imgref_digest_valid(ref))
		reg_learn_tag_delete(c, r->status);
	return st;
}

void
reg_learn_tag_delete(struct reg_client *c, long status)
{
	if (status == 200 || status == 202 || status == 204)
		c->tag_delete = 1;
	else if (status == 400 || status == 405)
		c->tag_delete = -1; /* distribution 2.x: DIGEST_INVALID; Quay < 3.13 */
}

int
reg_deletes_tags(const struct reg_client *c)
{
	return c->tag_delete;
}

rp_status
reg_tag_delete(struct reg_client *c, const char *repo, const char *tag, int *done,
	       struct rp_err *err)
{
	struct resp r;
	long status = 0;
	rp_status st;

	*done = 0;
	memset(&r, 0, sizeof(r));
	st = delete_ref(c, repo, tag, &status, &r, err);
	if (st == RP_OK && (status == 202 || status == 200 || status == 204 || status == 404))
		*done = 1;
	else if (st == RP_OK && status != 400 && status != 405)
		st = reg_unexpected(c, &r, "DELETE of a tag", err);
	resp_free(&r);
	return st;
}

rp_status
reg_manifest_delete(struct reg_client *c, const char *repo, const char *ref,
		    struct rp_err *err)
{
	struct resp r;
	char what[300], line[600];
	long status = 0;
	rp_status st;

	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "DELETE %s:%s", repo, ref);
	st = delete_ref(c, repo, ref, &status, &r, err);
	if (st == RP_OK && (status == 400 || status == 405) && !imgref_digest_valid(ref)) {
		reg_error_line(c, &r, line, sizeof(line));
		/* distribution 2.x and Quay before 3.13 delete only by digest. */
		st = rp_fail(err, RP_EREGISTRY,
			     "registry %s does not support deleting a tag (%s): %s", c->host, what, line);
	} else if (st == RP_OK && status != 202 && status != 200 && status != 204) {
		st = reg_unexpected(c, &r, what, err);
	}
	resp_free(&r);
	return st;
}

rp_status
reg_blob_head(struct reg_client *c, const char *repo, const char *digest,
	      int *exists, struct rp_err *err)
{
	struct resp r;
	char what[300];
	rp_status st;

	*exists = 0;
	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "HEAD %s blob %s", repo, digest);
	st = reg_call(c, &(struct reg_req){ .method = "HEAD", .max = REG_SMALL_MAX, .what = what },
		      repo, "pull", NULL, &r, err, "/v2/%s/blobs/%s", repo, digest);
	if (st == RP_OK && r.status == 200)
		*exists = 1;
	else if (st == RP_OK && r.status != 404)
		st = reg_unexpected(c, &r, what, err);
	resp_free(&r);
	return st;
}

/*
 * A small blob (an image config), its bytes checked against the digest.
 * Registries that keep blobs elsewhere (Quay, S3-backed distribution)
 * answer with a redirect: it is followed once, without credentials, and
 * only to https (or to an --insecure-registry host).
 */
rp_status
reg_blob_get(struct reg_client *c, const char *repo, const char *digest, size_t max,
	     char **out, size_t *len, struct rp_err *err)
{
	struct resp r;
	char what[300], hex[65], host[512], q[300];
	int attempts;
	CURLcode cc;
	rp_status st;

	*out = NULL;
	*len = 0;
	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "GET %s blob %s", repo, digest);
	if ((st = reg_call(c, &(struct reg_req){ .method = "GET", .max = max, .what = what },
			   repo, "pull", NULL, &r, err, "/v2/%s/blobs/%s", repo, digest)) != RP_OK)
		goto out;
	if (r.status >= 300 && r.status < 400) {
		char *loc;
		if (r.location == NULL) {
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): a redirect (HTTP %ld) "
				     "without a Location", c->host, what, r.status);
			goto out;
		}
		if ((loc = rp_strdup(r.location)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		if (reg_url_host(loc, host, sizeof(host)) != 0 ||
		    !(strncmp(loc, "https://", 8) == 0 ||
		      (strncmp(loc, "http://", 7) == 0 && reg_host_insecure(c, host)))) {
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): redirect to '%s' not followed",
				     c->host, what, rp_quote(loc, 150, q, sizeof(q)));
			free(loc);
			goto out;
		}
		cc = reg_exchange(c, "GET", loc, NULL, NULL, 0, max, !reg_host_insecure(c, host), &r,
				  &attempts);
		free(loc);
		if (cc != CURLE_OK) {
			st = reg_fail_exchange(c, cc, &r, what, attempts, max, err);
			goto out;
		}
	}
	if (r.status != 200) {
		st = reg_unexpected(c, &r, what, err);
		goto out;
	}
	if (rp_sha256_hex(r.body.buf != NULL ? r.body.buf : "", r.body.len, hex) != 0) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (strncmp(digest, "sha256:", 7) != 0 || strcmp(digest + 7, hex) != 0) {
		st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): the bytes hash to sha256:%s",
			     c->host, what, hex);
		goto out;
	}
	*len = r.body.len;
	if ((*out = sbuf_take(&r.body)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
out:
	resp_free(&r);
	return st;
}

/* The path of an upload Location (absolute on some registries), with
 * the query separator that comes next. NULL when it is unusable. */
static const char *
location_path(const char *loc)
{
	const char *p = loc != NULL ? reg_url_path(loc) : NULL;

	return p != NULL && strncmp(p, "/v2/", 4) == 0 ? p : NULL;
}

static int
mount_ok(long status)
{
	return status == 201 || status == 202;
}

rp_status
reg_blob_mount_many(struct reg_client *c, const char *repo, const char *from,
		    char *const *digests, size_t n, int *mounted, struct rp_err *err)
{
	struct resp *rs = NULL, r;
	char **refs = NULL, *from_scope = reg_scope_for(from, "pull", NULL), *scope = NULL;
	const char *p;
	size_t i;
	rp_status st = RP_OK;

	*mounted = 1;
	memset(&r, 0, sizeof(r));
	if (n == 0) {
		free(from_scope);
		return RP_OK;
	}
	if (from_scope == NULL || (scope = reg_scope_for(repo, "pull,push", from_scope)) == NULL ||
	    (rs = calloc(n, sizeof(*rs))) == NULL || (refs = calloc(n + 1, sizeof(*refs))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((refs[i] = rp_asprintf("?mount=%s&from=%s", digests[i], from)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	if ((st = reg_batch(c, &(struct reg_req){ .method = "POST", .scope = scope,
						  .max = REG_SMALL_MAX, .ok = mount_ok },
			    repo, "blobs/uploads", refs, n, rs, err)) != RP_OK)
		goto out;
	for (i = 0; i < n && st == RP_OK; i++) {
		char what[300];
		if (rs[i].status == 201)
			continue;
		if (rs[i].status != 202) {
			snprintf(what, sizeof(what), "mount %s from %s into %s", digests[i], from, repo);
			st = reg_unexpected(c, &rs[i], what, err);
			break;
		}
		/* Not mounted: the registry opened an upload session; cancel it. */
		*mounted = 0;
		if ((p = location_path(rs[i].location)) != NULL)
			st = reg_call(c, &(struct reg_req){ .method = "DELETE", .max = REG_SMALL_MAX,
							    .what = "cancel upload" },
				      repo, "pull,push", NULL, &r, err, "%s", p);
	}
out:
	if (st != RP_OK)
		*mounted = 0;
	for (i = 0; rs != NULL && i < n; i++)
		resp_free(&rs[i]);
	resp_free(&r);
	free(rs);
	rp_strv_free(refs);
	free(scope);
	free(from_scope);
	return st;
}

rp_status
reg_blob_mount(struct reg_client *c, const char *repo, const char *from,
	       const char *digest, int *mounted, struct rp_err *err)
{
	char *one[1] = { (char *)digest };

	return reg_blob_mount_many(c, repo, from, one, 1, mounted, err);
}

rp_status
reg_blob_put(struct reg_client *c, const char *repo, const void *data, size_t len,
	     char digest[RP_DIGEST_MAX], struct rp_err *err)
{
	struct resp r;
	char what[300], *loc = NULL;
	const char *p;
	int session = 0;
	rp_status st;

	memset(&r, 0, sizeof(r));
	if (rp_sha256_digest(data, len, digest) != 0)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	snprintf(what, sizeof(what), "upload a blob to %s", repo);
again:
	st = reg_call(c, &(struct reg_req){ .method = "POST", .max = REG_SMALL_MAX, .what = what },
		      repo, "pull,push", NULL, &r, err, "/v2/%s/blobs/uploads/", repo);
	if (st == RP_OK && r.status != 202)
		st = reg_unexpected(c, &r, what, err);
	if (st != RP_OK)
		goto out;
	if ((p = location_path(r.location)) == NULL) {
		st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): no usable upload location",
			     c->host, what);
		goto out;
	}
	if ((loc = rp_strdup(p)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	st = reg_call(c, &(struct reg_req){ .method = "PUT",
					    .ctype = "Content-Type: application/octet-stream",
					    .body = data, .len = len, .max = REG_SMALL_MAX, .what = what },
		      repo, "pull,push", NULL, &r, err, "%s%sdigest=%s", loc,
		      strchr(loc, '?') != NULL ? "&" : "?", digest);
	/* A retried PUT finds the session closed (404) when the registry
	 * took the first attempt that this client gave up on: the blob is
	 * then there, by its digest. */
	if (st == RP_OK && r.status == 404) {
		struct rp_err ignored;
		int exists = 0;
		if (reg_blob_head(c, repo, digest, &exists, &ignored) == RP_OK && exists)
			goto out;
		/* Not there: the first attempt broke the session (part of a
		 * body sent, then the connection lost; distribution answers
		 * BLOB_UPLOAD_INVALID). A new session, once. */
		if (session++ == 0) {
			free(loc);
			loc = NULL;
			resp_free(&r);
			memset(&r, 0, sizeof(r));
			goto again;
		}
	}
	if (st == RP_OK && r.status != 201)
		st = reg_unexpected(c, &r, what, err);
out:
	free(loc);
	resp_free(&r);
	return st;
}

/*
 * Removes one tag and nothing else. A registry that deletes tags (Quay,
 * distribution 3) is asked to. One that deletes only by digest
 * (distribution 2.x) would drop every tag of the image that way, so the
 * tag is first moved onto a manifest of its own — a config blob naming
 * the tag and 16 random bytes, no layers — and that manifest is deleted
 * by its digest.
 */
rp_status
reg_untag(struct reg_client *c, const char *repo, const char *tag, struct rp_err *err)
{
	struct reg_manifest m;
	unsigned char nonce[16];
	char hexn[33], cfgd[RP_DIGEST_MAX], *cfg = NULL;
	int done = 0;
	size_t i;
	rp_status st;

	memset(&m, 0, sizeof(m));
	if (c->tag_delete >= 0) {
		if ((st = reg_tag_delete(c, repo, tag, &done, err)) != RP_OK || done)
			return st;
	}
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return rp_fail(err, RP_EREGISTRY, "no random bytes for untagging %s", tag);
	for (i = 0; i < sizeof(nonce); i++)
		snprintf(hexn + 2 * i, 3, "%02x", nonce[i]);
	if ((cfg = rp_asprintf("{\"regpush.untag\":\"%s\",\"nonce\":\"%s\"}", tag, hexn)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((st = reg_blob_put(c, repo, cfg, strlen(cfg), cfgd, err)) != RP_OK)
		goto out;
	m.bytes = rp_asprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
			      "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","
			      "\"size\":%zu},\"layers\":[]}", reg_manifest_types[1], cfgd, strlen(cfg));
	m.media_type = rp_strdup(reg_manifest_types[1]);
	if (m.bytes == NULL || m.media_type == NULL ||
	    rp_sha256_digest(m.bytes, strlen(m.bytes), m.digest) != 0) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	m.len = strlen(m.bytes);
	if ((st = reg_manifest_put(c, repo, tag, &m, err)) == RP_OK)
		st = reg_manifest_delete(c, repo, m.digest, err);
out:
	reg_manifest_free(&m);
	free(cfg);
	return st;
}

size_t
reg_untag_many(struct reg_client *c, const char *repo, char *const *tags, size_t n, char **errors)
{
	struct rp_err e = { RP_OK, "" };
	size_t i = 0, failed = 0;

	memset(errors, 0, n * sizeof(*errors));
	/* The first answer says whether this registry deletes tags. */
	for (; i < n && c->tag_delete == 0; i++)
		if (reg_untag(c, repo, tags[i], &e) != RP_OK) {
			errors[i] = rp_strdup(e.msg[0] != '\0' ? e.msg : "out of memory");
			failed++;
		}
	if (i < n && c->tag_delete > 0)
		return failed + reg_manifest_delete_many(c, repo, tags + i, n - i, errors + i);
	/* One at a time: each moves its tag to a placeholder of its own. */
	for (; i < n; i++)
		if (reg_untag(c, repo, tags[i], &e) != RP_OK) {
			errors[i] = rp_strdup(e.msg[0] != '\0' ? e.msg : "out of memory");
			failed++;
		}
	return failed;
}

/* Appends the tags of one page that are new; *added counts them. */
rp_status
reg_page_tags(struct reg_client *c, const struct resp *r, json_t *seen, char ***out,
	  size_t *n, size_t *cap, struct reg_page *pg, const char *what, struct rp_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(r->body.buf != NULL ? r->body.buf : "", r->body.len, 0, &je);
	json_t *t = json_object_get(j, "tags");
	size_t i;
	rp_status st = RP_OK;

	memset(pg, 0, sizeof(*pg));
	if (j == NULL && json_error_code(&je) == json_error_out_of_memory)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (j == NULL || !(json_is_array(t) || json_is_null(t))) {
		json_decref(j);
		return rp_fail(err, RP_EREGISTRY, "registry %s (%s): unreadable tag list", c->host, what);
	}
	for (i = 0; i < json_array_size(t) && st == RP_OK; i++) {
		const char *s = json_string_value(json_array_get(t, i));
		pg->listed++;
		if (s == NULL || !imgref_tag_valid(s))
			continue;
		snprintf(pg->last, sizeof(pg->last), "%s", s);
		if (json_object_get(seen, s) != NULL)
			continue;
		if (*n >= REG_TAGS_MAX) {
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): more than %d tags",
				     c->host, what, REG_TAGS_MAX);
			break;
		}
		if (*n + 1 >= *cap) {
			size_t nc = *cap < 64 ? 64 : *cap * 2;
			char **nv = realloc(*out, nc * sizeof(*nv));
			if (nv == NULL) {
				st = rp_fail(err, RP_ENOMEM, "out of memory");
				break;
			}
			*out = nv;
			*cap = nc;
		}
		if (((*out)[*n] = rp_strdup(s)) == NULL ||
		    json_object_set_new(seen, s, json_true()) != 0) {
			free((*out)[*n]);
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		(*out)[++*n] = NULL;
		pg->added++;
	}
	json_decref(j);
	return st;
}

static char *
tags_first_page(const struct reg_client *c, const char *repo)
{
	/* Quay sends at most 100 a page and links; distribution 2.8 ignores
	 * n; go-containerregistry honours n and never links. */
	return rp_asprintf("/v2/%s/tags/list?n=%ld", repo, c->tags_page);
}

/*
 * Every tag, following Link pagination, and `last=` after a full page
 * that has no Link. A registry cannot keep us here: a page already read
 * ends the listing with an error (a cycle), so does a page that adds no
 * new tag but links on (incomplete); one that adds none and does not link
 * ends it, at most TAGS_PAGES_MAX pages are read, and the whole listing
 * has a deadline (REGPUSH_TAGS_TIMEOUT).
 * The listing from its first page's path; *first, when not NULL, is the
 * answer to that page already read (taken over and emptied).
 */
static rp_status
tags_list(struct reg_client *c, const char *repo, const char *first_path, struct resp *first,
	  char ***out, struct rp_err *err)
{
	struct resp r;
	char *path = rp_strdup(first_path), *next;
	char *scope = reg_scope_for(repo, "pull", NULL), what[300], q[200];
	json_t *seen = json_object(), *visited = json_object();
	struct reg_page pg;
	size_t pages = 0, n = 0, cap = 0;
	long limit = c->tags_timeout_s;
	long page_n = c->tags_page;
	double saved = c->deadline;
	rp_status st = RP_OK;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "list tags of %s", repo);
	if (path == NULL || scope == NULL || seen == NULL || visited == NULL ||
	    (*out = calloc(1, sizeof(**out))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	cap = 1;
	if (c->deadline == 0 || c->deadline > rp_mono_s() + (double)limit)
		c->deadline = rp_mono_s() + (double)limit;
	while (path != NULL) {
		if (++pages > TAGS_PAGES_MAX) {
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): more than %d pages",
				     c->host, what, TAGS_PAGES_MAX);
			break;
		}
		if (json_object_get(visited, path) != NULL) {
			st = rp_fail(err, RP_EREGISTRY,
				     "registry %s (%s): pagination loops (page '%s' was already read)",
				     c->host, what, rp_quote(path, 150, q, sizeof(q)));
			break;
		}
		if (json_object_set_new(visited, path, json_true()) != 0) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		if (pages == 1 && first != NULL) {
			resp_free(&r);
			r = *first;
			memset(first, 0, sizeof(*first));
		} else if ((st = reg_request(c, &(struct reg_req){ .method = "GET", .scope = scope,
								   .max = REG_TAGS_PAGE_MAX, .what = what },
					     path, &r, err)) != RP_OK) {
			if (r.past_deadline)
				st = rp_fail(err, RP_EREGISTRY,
					     "registry %s (%s): gave up after %ld s and %zu pages "
					     "(REGPUSH_TAGS_TIMEOUT)", c->host, what, limit, pages);
			break;
		}
		if (r.status == 404)
			break; /* NAME_UNKNOWN: a repository without tags */
		if (r.status != 200) {
			st = reg_unexpected(c, &r, what, err);
			break;
		}
		if ((st = reg_page_tags(c, &r, seen, out, &n, &cap, &pg, what, err)) != RP_OK)
			break;
		next = r.link[0] != '\0' ? reg_link_next(r.link) : NULL;
		/* A full page (as many tags as asked for) without a Link: the
		 * registry pages with n but does not link (go-containerregistry),
		 * so ask for what follows its last tag. Such a registry past
		 * the end restarts the list: a page of repeats, which ends it
		 * below. */
		if (next == NULL && pg.added > 0 && pg.listed >= (size_t)page_n && pg.last[0] != '\0' &&
		    (next = rp_asprintf("/v2/%s/tags/list?n=%ld&last=%s", repo, page_n, pg.last)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		free(path);
		path = NULL;
		/* A page of tags already seen that still links on: what comes
		 * after it cannot be known, so the listing is not complete (a
		 * release past it would be missed: latest moved backwards, or
		 * its image pruned). A page of repeats without a link ends it
		 * (a registry that restarts the list past its end). */
		if (pg.added == 0 && next != NULL && r.link[0] != '\0') {
			free(next);
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): page %zu repeats tags already "
				     "listed but links to another page, so the listing cannot be known "
				     "complete", c->host, what, pages);
			break;
		}
		if (pg.added == 0) {
			free(next);
			next = NULL;
		}
		path = next;
	}
out:
	c->deadline = saved;
	if (st != RP_OK) {
		rp_strv_free(*out);
		*out = NULL;
	}
	json_decref(seen);
	json_decref(visited);
	resp_free(&r);
	free(path);
	free(scope);
	return st;
}

rp_status
reg_tags(struct reg_client *c, const char *repo, char ***out, struct rp_err *err)
{
	char *first = tags_first_page(c, repo);
	rp_status st;

	if (first == NULL) {
		*out = NULL;
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	st = tags_list(c, repo, first, NULL, out, err);
	free(first);
	return st;
}

/* The digests from the answers to HEADs of refs (404: ""). */
static rp_status
head_digests(struct reg_client *c, const char *repo, char *const *refs, size_t n,
	     const struct resp *rs, char (*digests)[RP_DIGEST_MAX], signed char *kinds,
	     struct rp_err *err)
{
	char what[300];
	size_t i;
	rp_status st = RP_OK;

	for (i = 0; i < n && st == RP_OK; i++) {
		digests[i][0] = '\0';
		if (kinds != NULL)
			kinds[i] = (signed char)reg_manifest_kind(rs[i].ctype);
		reg_ref_what(what, sizeof(what), "HEAD", repo, refs[i]);
		if (rs[i].status == 404)
			continue;
		if (rs[i].status != 200)
			st = reg_unexpected(c, &rs[i], what, err);
		else if (imgref_digest_valid(rs[i].digest))
			snprintf(digests[i], RP_DIGEST_MAX, "%s", rs[i].digest);
		else {
			/* Older registries omit the header: GET and hash. */
			struct reg_manifest m;
			if ((st = reg_manifest_get(c, repo, refs[i], &m, err)) == RP_OK)
				snprintf(digests[i], RP_DIGEST_MAX, "%s", m.digest);
			reg_manifest_free(&m);
		}
	}
	return st;
}

/*
 * HEADs in windows of REG_WINDOW: the answers (about 5 KB each, with
 * their header buffers) and the transfer handles of one window are alive
 * at a time, and reused, so a 20,000-tag repository costs what 256 tags
 * do. The requests within a window go at once (the connections are
 * bounded by reg_multi).
 */
rp_status
reg_manifest_head_kinds(struct reg_client *c, const char *repo, char *const *refs, size_t n,
			char (*digests)[RP_DIGEST_MAX], signed char *kinds, struct rp_err *err)
{
	struct resp *rs;
	char *scope;
	size_t off, i, w;
	rp_status st = RP_OK;

	if (n == 0)
		return RP_OK;
	if ((scope = reg_scope_for(repo, "pull", NULL)) == NULL ||
	    (rs = calloc(REG_WINDOW, sizeof(*rs))) == NULL) {
		free(scope);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (off = 0; off < n && st == RP_OK; off += w) {
		w = n - off < REG_WINDOW ? n - off : REG_WINDOW;
		st = reg_batch_heads(c, NULL, 0, repo, refs + off, w, scope, REG_TAGS_PAGE_MAX, rs, err);
		if (st == RP_OK)
			st = head_digests(c, repo, refs + off, w, rs, digests + off,
					  kinds != NULL ? kinds + off : NULL, err);
		for (i = 0; i < w; i++)
			resp_free(&rs[i]);
	}
	free(rs);
	free(scope);
	return st;
}

rp_status
reg_manifest_head_many(struct reg_client *c, const char *repo,
		       char *const *refs, size_t n, char (*digests)[RP_DIGEST_MAX],
		       struct rp_err *err)
{
	return reg_manifest_head_kinds(c, repo, refs, n, digests, NULL, err);
}

rp_status
reg_view(struct reg_client *c, const char *repo, char *const *refs, size_t n,
	 char (*digests)[RP_DIGEST_MAX], char ***tags, struct reg_manifest *first,
	 struct rp_err *err)
{
	struct resp *rs;
	char *scope = reg_scope_for(repo, "pull", NULL), *lead = NULL;
	size_t i, k = tags != NULL;
	rp_status st;

	if (tags != NULL)
		*tags = NULL;
	if (n == 0 && tags == NULL) {
		free(scope);
		return RP_OK;
	}
	if ((rs = calloc(n + k, sizeof(*rs))) == NULL || scope == NULL ||
	    (k && (lead = tags_first_page(c, repo)) == NULL)) {
		free(rs);
		free(scope);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (first != NULL)
		memset(first, 0, sizeof(*first));
	st = reg_batch_heads(c, lead, first != NULL && n > 0, repo, refs, n, scope,
			     REG_TAGS_PAGE_MAX, rs, err);
	if (st == RP_OK && k)
		st = tags_list(c, repo, lead, &rs[0], tags, err);
	if (st == RP_OK && first != NULL && n > 0 && rs[k].status == 200) {
		char what[300];
		reg_ref_what(what, sizeof(what), "GET", repo, refs[0]);
		st = reg_manifest_from(c, &rs[k], refs[0], what, first, err);
	}
	if (st == RP_OK)
		st = head_digests(c, repo, refs, n, rs + k, digests, NULL, err);
	if (st != RP_OK && tags != NULL) {
		rp_strv_free(*tags);
		*tags = NULL;
	}
	for (i = 0; i < n + k; i++)
		resp_free(&rs[i]);
	free(rs);
	free(scope);
	free(lead);
	return st;
}

rp_status
reg_manifest_put_many(struct reg_client *c, const char *repo,
		      char *const *refs, size_t n, const struct reg_manifest *m,
		      struct rp_err *err)
{
	struct resp *rs = NULL;
	char *scope = reg_scope_for(repo, "pull,push", NULL), what[300], q[100];
	char *ctype = rp_asprintf("Content-Type: %s", m->media_type);
	size_t i;
	rp_status st;

	if (n == 0 || !reg_is_manifest_type(m->media_type)) {
		st = n == 0 ? RP_OK :
		    rp_fail(err, RP_EREGISTRY, "refusing to PUT a manifest of media type '%s'",
			    rp_quote(m->media_type != NULL ? m->media_type : "", 80, q, sizeof(q)));
		goto out;
	}
	if ((rs = calloc(n, sizeof(*rs))) == NULL || scope == NULL || ctype == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	st = reg_batch(c, &(struct reg_req){ .method = "PUT", .scope = scope, .ctype = ctype,
					     .body = m->bytes, .len = m->len, .max = REG_SMALL_MAX,
					     .ok = reg_put_ok },
		       repo, "manifests", refs, n, rs, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		reg_ref_what(what, sizeof(what), "PUT", repo, refs[i]);
		if (!reg_put_ok(rs[i].status))
			st = reg_unexpected(c, &rs[i], what, err);
		else if (rs[i].digest[0] != '\0' && strcmp(rs[i].digest, m->digest) != 0)
			st = rp_fail(err, RP_EREGISTRY,
				     "registry %s (%s): stored the manifest as %s, not %s",
				     c->host, what, rp_quote(rs[i].digest, 80, q, sizeof(q)), m->digest);
	}
out:
	for (i = 0; rs != NULL && i < n; i++)
		resp_free(&rs[i]);
	free(rs);
	free(scope);
	free(ctype);
	return st;
}
