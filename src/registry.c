/*
 * registry.c — the OCI Distribution client's API.
 *
 * Every call goes through request(), which owns the protocol's common
 * rules: learning the scheme (reg_auth.c), authenticating (a Basic
 * header, or a Bearer token per scope set; a 401 challenge renews it),
 * and retrying through the one retry driver (reg_http.c). Callers then
 * turn the final status into a result or into one line naming the
 * registry, repository and reference.
 *
 * Registry text (error bodies) reaches a message only scrubbed of every
 * secret the client holds — the password, its base64 forms, the tokens —
 * and then quoted and cut, in that order, so a registry that reflects a
 * secret cannot get it past ::add-mask:: by having it escaped or cut.
 */
#include "reg_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "imgref.h"
#include "sig.h"

#define TAGS_PAGES_MAX 1000

static long
env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	long n;

	if (v != NULL && rp_parse_long(v, min, max, &n) == 0)
		return n;
	return def;
}

/* --- construction ----------------------------------------------------- */

struct reg_client *
reg_new(const struct reg_config *cfg, struct rp_err *err)
{
	struct reg_client *c;
	char *raw = NULL;
	size_t i;

	if (curlfn_load(err) != RP_OK)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto nomem;
	c->insecure = cfg->insecure;
	c->mask = cfg->mask_secrets;
	c->timeout_s = env_long("REGPUSH_HTTP_TIMEOUT", 60, 1, 3600);
	c->retry_base_ms = env_long("REGPUSH_RETRY_BASE_MS", 1000, 1, 60000);
	c->max_attempts = (int)env_long("REGPUSH_HTTP_ATTEMPTS", 5, 1, 20);
	if ((c->host = rp_strdup(cfg->host)) == NULL ||
	    (c->account = rp_strdup(cfg->account != NULL ? cfg->account : "anonymous")) == NULL ||
	    (c->curl = curl_easy_init()) == NULL || reg_build_ca(c, cfg->cert_dir) != 0)
		goto nomem;
	if (rp_strv_push(&c->insecure_hosts, c->insecure ? c->host : "") != 0)
		goto nomem;
	for (i = 0; cfg->insecure_hosts != NULL && cfg->insecure_hosts[i] != NULL; i++)
		if (rp_strv_push(&c->insecure_hosts, cfg->insecure_hosts[i]) != 0)
			goto nomem;
	if (cfg->username != NULL && cfg->password != NULL) {
		if ((c->username = rp_strdup(cfg->username)) == NULL ||
		    (c->password = rp_strdup(cfg->password)) == NULL ||
		    (raw = rp_asprintf("%s:%s", cfg->username, cfg->password)) == NULL ||
		    (c->secret_b64[0] = reg_base64(raw, strlen(raw))) == NULL ||
		    (c->secret_b64[1] = reg_base64(c->password, strlen(c->password))) == NULL)
			goto nomem;
		explicit_bzero(raw, strlen(raw));
		free(raw);
	}
	return c;
nomem:
	if (raw != NULL)
		explicit_bzero(raw, strlen(raw));
	free(raw);
	reg_free(c);
	rp_fail(err, RP_ENOMEM, "out of memory creating the registry client");
	return NULL;
}

static void
wipe_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

void
reg_free(struct reg_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	for (i = 0; i < c->ntokens; i++) {
		free(c->tokens[i].scope);
		wipe_free(c->tokens[i].value);
	}
	free(c->tokens);
	wipe_free(c->password);
	wipe_free(c->secret_b64[0]);
	wipe_free(c->secret_b64[1]);
	free(c->username);
	free(c->account);
	free(c->host);
	free(c->base);
	free(c->realm);
	free(c->service);
	free(c->ca_blob);
	free(c->ca_file);
	rp_strv_free(c->insecure_hosts);
	free(c);
}

void
reg_manifest_free(struct reg_manifest *m)
{
	if (m == NULL)
		return;
	free(m->bytes);
	free(m->media_type);
	m->bytes = m->media_type = NULL;
	m->len = 0;
}

/* --- what the registry says, made safe to print ----------------------- */

char *
reg_scrub(const struct reg_client *c, const char *s, size_t len)
{
	const char *secrets[64];
	size_t ns = 0, i, k;
	struct sbuf sb;

	secrets[ns++] = c->password;
	secrets[ns++] = c->secret_b64[0];
	secrets[ns++] = c->secret_b64[1];
	for (i = 0; i < c->ntokens && ns < sizeof(secrets) / sizeof(secrets[0]); i++)
		secrets[ns++] = c->tokens[i].value;
	sbuf_init(&sb, len + 1);
	for (i = 0; i < len;) {
		for (k = 0; k < ns; k++) {
			size_t n = secrets[k] != NULL ? strlen(secrets[k]) : 0;
			if (n > 0 && n <= len - i && memcmp(s + i, secrets[k], n) == 0)
				break;
		}
		if (k < ns) {
			sbuf_puts(&sb, "***");
			i += strlen(secrets[k]);
		} else {
			sbuf_add(&sb, s + i, 1);
			i++;
		}
	}
	return sbuf_take(&sb);
}

void
reg_error_line(const struct reg_client *c, const struct resp *r, char *out,
	       size_t size)
{
	json_t *j, *e;
	const char *code, *msg;
	char *sc = NULL, *sm = NULL, q[300];

	if (r->body.len == 0) {
		snprintf(out, size, "HTTP %ld", r->status);
		return;
	}
	j = json_loadb(r->body.buf, r->body.len, 0, NULL);
	e = json_array_get(json_object_get(j, "errors"), 0);
	code = json_string_value(json_object_get(e, "code"));
	msg = json_string_value(json_object_get(e, "message"));
	if (code != NULL || msg != NULL) {
		/* Decoded first (a secret may be \u-escaped in the JSON). */
		code = code != NULL ? code : "ERROR";
		msg = msg != NULL ? msg : "";
		sc = reg_scrub(c, code, strlen(code));
		sm = reg_scrub(c, msg, strlen(msg));
		snprintf(out, size, "HTTP %ld %s: %s", r->status,
			 rp_quote(sc != NULL ? sc : "?", 60, q, 80),
			 rp_quote(sm != NULL ? sm : "?", 200, q + 80, sizeof(q) - 80));
	} else {
		sm = reg_scrub(c, r->body.buf, r->body.len);
		snprintf(out, size, "HTTP %ld: %s", r->status,
			 rp_quote(sm != NULL ? sm : "?", 200, q, sizeof(q)));
	}
	free(sc);
	free(sm);
	json_decref(j);
}

static rp_status
unexpected(struct reg_client *c, const struct resp *r, const char *what,
	   struct rp_err *err)
{
	char line[600];

	reg_error_line(c, r, line, sizeof(line));
	return rp_fail(err, RP_EREGISTRY, "registry %s (%s): %s", c->host, what, line);
}

/* --- the request loop ----------------------------------------------- */

static struct curl_slist *
headers(const char *authz, const char *accept, const char *ctype, int *failed)
{
	struct curl_slist *h = NULL, *n;
	const char *v[3] = { authz, accept, ctype };
	size_t i;

	*failed = 0;
	for (i = 0; i < 3; i++) {
		if (v[i] == NULL)
			continue;
		if ((n = curl_slist_append(h, v[i])) == NULL) {
			curl_slist_free_all(h);
			*failed = 1;
			return NULL;
		}
		h = n;
	}
	return h;
}

/*
 * One request: scheme, auth, retries. `scope` is the token scope set the
 * request needs; `what` names it in messages ("HEAD repo:tag"). Returns
 * RP_OK with the final response in *r (any status but 401, 403, 429 and
 * 5xx), or an error when the registry could not be reached, refused the
 * account, or kept failing.
 */
static rp_status
request(struct reg_client *c, const char *method, const char *path,
	const char *scope, const char *accept, const char *ctype,
	const void *body, size_t len, size_t max, struct resp *r,
	const char *what, struct rp_err *err)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *authz = NULL, line[600];
	int reauth = 0, attempts = 0, failed, again;
	rp_status st = RP_OK;
	CURLcode cc;

	if (c->base == NULL && (st = reg_discover(c, err)) != RP_OK)
		return st;
	if ((url = rp_asprintf("%s%s", c->base, path)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (;;) {
		curl_slist_free_all(hdrs);
		wipe_free(authz);
		hdrs = NULL;
		if ((st = reg_auth_header(c, scope, &authz, err)) != RP_OK)
			break;
		if ((hdrs = headers(authz, accept, ctype, &failed)) == NULL && failed) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		cc = reg_exchange(c, method, url, hdrs, body, len, max, !c->insecure, r, &attempts);
		if (cc != CURLE_OK) {
			st = reg_fail_exchange(c, cc, r, what, attempts, max, err);
			break;
		}
		if (r->status == 401 && reauth < 2 && (again = reg_auth_challenged(c, r, scope)) != 0) {
			if (again < 0) {
				st = rp_fail(err, RP_ENOMEM, "out of memory");
				break;
			}
			reauth++;
			continue;
		}
		if (r->status == 401) {
			reg_error_line(c, r, line, sizeof(line));
			st = c->username != NULL ?
			    rp_fail(err, RP_EREGISTRY,
				    "registry %s refused the credentials of the %s (%s): %s",
				    c->host, c->account, what, line) :
			    rp_fail(err, RP_EREGISTRY,
				    "registry %s requires credentials (%s): %s", c->host, what, line);
		} else if (r->status == 403) {
			reg_error_line(c, r, line, sizeof(line));
			st = rp_fail(err, RP_EREGISTRY, "registry %s denied the %s (%s): %s",
				     c->host, c->account, what, line);
		} else if (r->status == 429 || r->status >= 500) {
			reg_error_line(c, r, line, sizeof(line));
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): %s (after %d attempts)",
				     c->host, what, line, attempts);
		}
		break;
	}
	curl_slist_free_all(hdrs);
	wipe_free(authz);
	free(url);
	return st;
}

/* "HEAD repo:tag" or "HEAD repo@sha256:…", for messages. */
static void
ref_what(char *out, size_t size, const char *method, const char *repo, const char *ref)
{
	snprintf(out, size, "%s %s%s%s", method, repo, strncmp(ref, "sha256:", 7) == 0 ? "@" : ":", ref);
}

static char *
scope_for(const char *repo, const char *actions, const char *extra)
{
	return rp_asprintf("repository:%s:%s%s%s", repo, actions, extra != NULL ? " " : "",
			   extra != NULL ? extra : "");
}

/*
 * One request through request(): the path is built from fmt, and the
 * token scope is "repository:<repo>:<actions>", plus `extra` (another
 * scope of the same token) when given. The caller zeroes *r beforehand
 * and frees it afterwards, whatever the result.
 */
static rp_status
call(struct reg_client *c, const char *method, const char *repo,
     const char *actions, const char *extra, const char *accept, const char *ctype,
     const void *body, size_t len, size_t max, struct resp *r, const char *what,
     struct rp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 14, 15)));

static rp_status
call(struct reg_client *c, const char *method, const char *repo,
     const char *actions, const char *extra, const char *accept, const char *ctype,
     const void *body, size_t len, size_t max, struct resp *r, const char *what,
     struct rp_err *err, const char *fmt, ...)
{
	char *path = NULL, *scope;
	va_list ap;
	rp_status st;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		path = NULL;
	scope = scope_for(repo, actions, extra);
	if (path == NULL || scope == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else
		st = request(c, method, path, scope, accept, ctype, body, len, max, r, what, err);
	free(path);
	free(scope);
	return st;
}

/*
 * The same method on several references of one repository at once. Unless
 * the client already knows the scheme and holds the auth for this scope,
 * the first goes through request() alone, which settles them (and fetches
 * the token); the rest then run concurrently with that same
 * Authorization. Any of those that does not come back `ok` (a
 * connection error, a 401 from an expiring token, a 429, a 5xx) is redone
 * through request(), which owns retries and re-authentication.
 */
static rp_status
batch(struct reg_client *c, const char *method, const char *repo,
      char *const *refs, size_t n, const char *scope, const char *accept,
      const char *ctype, const void *body, size_t len, size_t max,
      struct resp *rs, int (*ok)(long), struct rp_err *err)
{
	struct curl_slist *hdrs = NULL;
	char **paths = NULL, **urls = NULL, *authz = NULL, what[300];
	size_t i, first;
	int failed;
	rp_status st = RP_OK;

	if ((paths = calloc(n + 1, sizeof(*paths))) == NULL ||
	    (urls = calloc(n + 1, sizeof(*urls))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((paths[i] = rp_asprintf("/v2/%s/manifests/%s", repo, refs[i])) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	/* Until the scheme and the auth are settled (and a token for this
	 * scope is in hand), the first request goes alone. */
	first = reg_auth_settled(c, scope) ? 0 : 1;
	if (first) {
		ref_what(what, sizeof(what), method, repo, refs[0]);
		if ((st = request(c, method, paths[0], scope, accept, ctype, body, len, max,
				  &rs[0], what, err)) != RP_OK || n == 1)
			goto out;
	}
	if ((st = reg_auth_header(c, scope, &authz, err)) != RP_OK)
		goto out;
	if ((hdrs = headers(authz, accept, ctype, &failed)) == NULL && failed) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = first; i < n; i++)
		if ((urls[i - first] = rp_asprintf("%s%s", c->base, paths[i])) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	if ((st = reg_multi(c, method, urls, n - first, hdrs, body, len, max, rs + first,
			    err)) != RP_OK)
		goto out;
	for (i = first; i < n && st == RP_OK; i++) {
		if (rs[i].status != 0 && ok(rs[i].status) && !rs[i].too_big)
			continue;
		ref_what(what, sizeof(what), method, repo, refs[i]);
		st = request(c, method, paths[i], scope, accept, ctype, body, len, max,
			     &rs[i], what, err);
	}
out:
	rp_strv_free(paths);
	rp_strv_free(urls);
	curl_slist_free_all(hdrs);
	wipe_free(authz);
	return st;
}

static int
head_ok(long status)
{
	return status == 200 || status == 404;
}

static int
put_ok(long status)
{
	return status == 201 || status == 200;
}

/* --- the API --------------------------------------------------------- */

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

rp_status
reg_manifest_get(struct reg_client *c, const char *repo, const char *ref,
		 struct reg_manifest *m, struct rp_err *err)
{
	struct resp r;
	char what[300], hex[65], q[300], q2[100];
	const char *mt;
	json_t *doc = NULL;
	rp_status st;

	memset(m, 0, sizeof(*m));
	memset(&r, 0, sizeof(r));
	ref_what(what, sizeof(what), "GET", repo, ref);
	if ((st = call(c, "GET", repo, "pull", NULL, REG_ACCEPT_MANIFESTS, NULL, NULL, 0,
		       REG_MANIFEST_MAX, &r, what, err, "/v2/%s/manifests/%s", repo, ref)) != RP_OK)
		goto out;
	if (r.status != 200) {
		st = unexpected(c, &r, what, err);
		goto out;
	}
	if (rp_sha256_hex(r.body.buf != NULL ? r.body.buf : "", r.body.len, hex) != 0) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(m->digest, sizeof(m->digest), "sha256:%s", hex);
	if ((r.digest[0] != '\0' && strcmp(r.digest, m->digest) != 0) ||
	    (strncmp(ref, "sha256:", 7) == 0 && strcmp(ref, m->digest) != 0)) {
		st = rp_fail(err, RP_EREGISTRY,
			     "registry %s (%s): the manifest's bytes hash to %s, not %s "
			     "(truncated or altered answer)", c->host, what, m->digest,
			     rp_quote(r.digest[0] != '\0' ? r.digest : ref, 80, q2, sizeof(q2)));
		goto out;
	}
	if ((mt = manifest_type(&r, &doc)) == NULL) {
		st = rp_fail(err, RP_EREGISTRY,
			     "registry %s (%s): the answer's Content-Type '%s' is not a manifest "
			     "media type, and the document names none", c->host, what,
			     rp_quote(r.ctype, 100, q, sizeof(q)));
		goto out;
	}
	m->len = r.body.len;
	if ((m->media_type = rp_strndup(mt, strcspn(mt, "; \t"))) == NULL ||
	    (m->bytes = sbuf_take(&r.body)) == NULL) {
		reg_manifest_free(m);
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
out:
	json_decref(doc);
	resp_free(&r);
	return st;
}

rp_status
reg_manifest_put(struct reg_client *c, const char *repo, const char *ref,
		 const struct reg_manifest *m, struct rp_err *err)
{
	char *refs[1] = { (char *)ref };

	return reg_manifest_put_many(c, repo, refs, 1, m, err);
}

/* Quay grants only pull, push and *; distribution needs delete. */
static int
is_quay(const struct reg_client *c)
{
	size_t n = strlen(c->host);

	return strcmp(c->host, "quay.io") == 0 || (n > 8 && strcmp(c->host + n - 8, ".quay.io") == 0);
}

/* DELETE /manifests/<ref>; *status gets the registry's answer. */
static rp_status
delete_ref(struct reg_client *c, const char *repo, const char *ref, long *status,
	   struct resp *r, struct rp_err *err)
{
	char what[300];
	rp_status st;

	snprintf(what, sizeof(what), "DELETE %s:%s", repo, ref);
	st = call(c, "DELETE", repo, is_quay(c) ? "*" : "delete", NULL, NULL, NULL, NULL, 0,
		  REG_SMALL_MAX, r, what, err, "/v2/%s/manifests/%s", repo, ref);
	*status = r->status;
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
		st = unexpected(c, &r, what, err);
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
	st = call(c, "HEAD", repo, "pull", NULL, NULL, NULL, NULL, 0, REG_SMALL_MAX, &r, what, err,
		  "/v2/%s/blobs/%s", repo, digest);
	if (st == RP_OK && r.status == 200)
		*exists = 1;
	else if (st == RP_OK && r.status != 404)
		st = unexpected(c, &r, what, err);
	resp_free(&r);
	return st;
}

/* The path of an upload Location (absolute on some registries), with
 * the query separator that comes next. NULL when it is unusable. */
static const char *
location_path(const char *loc)
{
	const char *p = loc;

	if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)
		p = strchr(strstr(p, "://") + 3, '/');
	return p != NULL && strncmp(p, "/v2/", 4) == 0 ? p : NULL;
}

rp_status
reg_blob_mount(struct reg_client *c, const char *repo, const char *from,
	       const char *digest, int *mounted, struct rp_err *err)
{
	struct resp r;
	char what[300], *from_scope = scope_for(from, "pull", NULL), *loc = NULL;
	const char *p;
	rp_status st;

	*mounted = 0;
	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "mount %s from %s into %s", digest, from, repo);
	if (from_scope == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = call(c, "POST", repo, "pull,push", from_scope, NULL, NULL, NULL, 0, REG_SMALL_MAX, &r,
		  what, err, "/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from);
	free(from_scope);
	if (st != RP_OK || r.status == 201) {
		*mounted = st == RP_OK;
		goto out;
	}
	if (r.status != 202) {
		st = unexpected(c, &r, what, err);
		goto out;
	}
	/* Not mounted: the registry opened an upload session; cancel it. */
	if ((p = location_path(r.location)) != NULL) {
		if ((loc = rp_strdup(p)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		st = call(c, "DELETE", repo, "pull,push", NULL, NULL, NULL, NULL, 0, REG_SMALL_MAX,
			  &r, "cancel upload", err, "%s", loc);
	}
out:
	free(loc);
	resp_free(&r);
	return st;
}

rp_status
reg_blob_put(struct reg_client *c, const char *repo, const void *data, size_t len,
	     char digest[RP_DIGEST_MAX], struct rp_err *err)
{
	struct resp r;
	char what[300], hex[65], *loc = NULL;
	const char *p;
	rp_status st;

	memset(&r, 0, sizeof(r));
	if (rp_sha256_hex(data, len, hex) != 0)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	snprintf(digest, RP_DIGEST_MAX, "sha256:%s", hex);
	snprintf(what, sizeof(what), "upload a blob to %s", repo);
	st = call(c, "POST", repo, "pull,push", NULL, NULL, NULL, NULL, 0, REG_SMALL_MAX, &r,
		  what, err, "/v2/%s/blobs/uploads/", repo);
	if (st == RP_OK && r.status != 202)
		st = unexpected(c, &r, what, err);
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
	st = call(c, "PUT", repo, "pull,push", NULL, NULL, "Content-Type: application/octet-stream",
		  data, len, REG_SMALL_MAX, &r, what, err, "%s%sdigest=%s", loc,
		  strchr(loc, '?') != NULL ? "&" : "?", digest);
	if (st == RP_OK && r.status != 201)
		st = unexpected(c, &r, what, err);
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
	struct resp r;
	struct reg_manifest m;
	unsigned char nonce[16];
	char hexn[33], cfgd[RP_DIGEST_MAX], *cfg = NULL, hex[65];
	long status = 0;
	size_t i;
	rp_status st;

	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	st = delete_ref(c, repo, tag, &status, &r, err);
	resp_free(&r);
	if (st != RP_OK || status == 202 || status == 200 || status == 204 || status == 404)
		return st;
	if (status != 400 && status != 405)
		return rp_fail(err, RP_EREGISTRY, "registry %s (DELETE %s:%s): HTTP %ld", c->host,
			       repo, tag, status);
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
	if (m.bytes == NULL || m.media_type == NULL || rp_sha256_hex(m.bytes, strlen(m.bytes), hex) != 0) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	m.len = strlen(m.bytes);
	snprintf(m.digest, sizeof(m.digest), "sha256:%s", hex);
	if ((st = reg_manifest_put(c, repo, tag, &m, err)) == RP_OK)
		st = reg_manifest_delete(c, repo, m.digest, err);
out:
	reg_manifest_free(&m);
	free(cfg);
	return st;
}

/* Appends the tags of one page that are new; *added counts them. */
static rp_status
page_tags(struct reg_client *c, const struct resp *r, json_t *seen, char ***out,
	  size_t *n, size_t *cap, size_t *added, const char *what, struct rp_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(r->body.buf != NULL ? r->body.buf : "", r->body.len, 0, &je);
	json_t *t = json_object_get(j, "tags");
	size_t i;
	rp_status st = RP_OK;

	*added = 0;
	if (j == NULL && json_error_code(&je) == json_error_out_of_memory)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (j == NULL || !(json_is_array(t) || json_is_null(t))) {
		json_decref(j);
		return rp_fail(err, RP_EREGISTRY, "registry %s (%s): unreadable tag list", c->host, what);
	}
	for (i = 0; i < json_array_size(t) && st == RP_OK; i++) {
		const char *s = json_string_value(json_array_get(t, i));
		if (s == NULL || !imgref_tag_valid(s) || json_object_get(seen, s) != NULL)
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
		++*added;
	}
	json_decref(j);
	return st;
}

/*
 * Every tag, following Link pagination. A registry cannot keep us here:
 * a page already read ends the listing with an error (a cycle), a page
 * that adds no new tag ends it quietly, at most TAGS_PAGES_MAX pages are
 * read, and the whole listing has a deadline (REGPUSH_TAGS_TIMEOUT).
 */
rp_status
reg_tags(struct reg_client *c, const char *repo, char ***out, struct rp_err *err)
{
	struct resp r;
	/* Quay sends at most 100 a page; distribution honours n. */
	char *path = rp_asprintf("/v2/%s/tags/list?n=%ld", repo,
				 env_long("REGPUSH_TAGS_PAGE", 1000, 1, 10000)), *next;
	char *scope = scope_for(repo, "pull", NULL), what[300], q[200];
	json_t *seen = json_object(), *visited = json_object();
	size_t pages = 0, n = 0, cap = 0, added;
	long limit = env_long("REGPUSH_TAGS_TIMEOUT", 300, 1, 86400);
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
	if (c->deadline == 0 || c->deadline > reg_now() + (double)limit)
		c->deadline = reg_now() + (double)limit;
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
		if ((st = request(c, "GET", path, scope, NULL, NULL, NULL, 0, REG_TAGS_PAGE_MAX,
				  &r, what, err)) != RP_OK) {
			if (r.past_deadline)
				st = rp_fail(err, RP_EREGISTRY,
					     "registry %s (%s): gave up after %ld s and %zu pages "
					     "(REGPUSH_TAGS_TIMEOUT)", c->host, what, limit, pages);
			break;
		}
		if (r.status == 404)
			break; /* NAME_UNKNOWN: a repository without tags */
		if (r.status != 200) {
			st = unexpected(c, &r, what, err);
			break;
		}
		if ((st = page_tags(c, &r, seen, out, &n, &cap, &added, what, err)) != RP_OK)
			break;
		next = r.link[0] != '\0' ? reg_link_next(r.link) : NULL;
		free(path);
		path = added > 0 ? next : NULL;
		if (added == 0)
			free(next);
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
reg_manifest_head_many(struct reg_client *c, const char *repo,
		       char *const *refs, size_t n, char (*digests)[RP_DIGEST_MAX],
		       struct rp_err *err)
{
	struct resp *rs;
	char *scope = scope_for(repo, "pull", NULL), what[300];
	size_t i;
	rp_status st;

	if (n == 0) {
		free(scope);
		return RP_OK;
	}
	if ((rs = calloc(n, sizeof(*rs))) == NULL || scope == NULL) {
		free(rs);
		free(scope);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	st = batch(c, "HEAD", repo, refs, n, scope, REG_ACCEPT_MANIFESTS, NULL, NULL, 0,
		   REG_SMALL_MAX, rs, head_ok, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		digests[i][0] = '\0';
		ref_what(what, sizeof(what), "HEAD", repo, refs[i]);
		if (rs[i].status == 404)
			continue;
		if (rs[i].status != 200)
			st = unexpected(c, &rs[i], what, err);
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
	for (i = 0; i < n; i++)
		resp_free(&rs[i]);
	free(rs);
	free(scope);
	return st;
}

rp_status
reg_manifest_put_many(struct reg_client *c, const char *repo,
		      char *const *refs, size_t n, const struct reg_manifest *m,
		      struct rp_err *err)
{
	struct resp *rs = NULL;
	char *scope = scope_for(repo, "pull,push", NULL), what[300], q[100];
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
	st = batch(c, "PUT", repo, refs, n, scope, NULL, ctype, m->bytes, m->len,
		   REG_SMALL_MAX, rs, put_ok, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		ref_what(what, sizeof(what), "PUT", repo, refs[i]);
		if (!put_ok(rs[i].status))
			st = unexpected(c, &rs[i], what, err);
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
