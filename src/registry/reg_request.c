/*
 * reg_request.c — the registry client itself and its request loop.
 *
 * Every call goes through reg_request(), which owns the protocol's common
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

#include <jansson.h>


/* --- construction ----------------------------------------------------- */

static int curl_ready;

/* libcurl (and the TLS library under it) is set up when the first client
 * is made, so commands that never talk HTTP (plan, policy) do not pay
 * for it. */
static rp_status
reg_global_init(struct rp_err *err)
{
	if (curl_ready)
		return RP_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return rp_fail(err, RP_ENOMEM, "cannot initialise libcurl (out of memory?)");
	curl_ready = 1;
	return RP_OK;
}

void
reg_global_cleanup(void)
{
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = 0;
}

struct reg_client *
reg_new(const struct reg_config *cfg, struct rp_err *err)
{
	struct reg_client *c;
	char missing[600];
	size_t i;

	if (reg_global_init(err) != RP_OK)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto nomem;
	c->insecure = cfg->insecure;
	c->on_secret = cfg->on_secret;
	c->secret_ctx = cfg->secret_ctx;
	c->timeout_s = settings_get(cfg->settings, RS_HTTP_TIMEOUT);
	c->retry_base_ms = settings_get(cfg->settings, RS_RETRY_BASE_MS);
	c->max_attempts = (int)settings_get(cfg->settings, RS_HTTP_ATTEMPTS);
	c->tags_page = settings_get(cfg->settings, RS_TAGS_PAGE);
	c->tags_timeout_s = settings_get(cfg->settings, RS_TAGS_TIMEOUT);
	if ((c->host = rp_strdup(cfg->host)) == NULL ||
	    (c->account = rp_strdup(cfg->account != NULL ? cfg->account : "anonymous")) == NULL ||
	    (c->curl = curl_easy_init()) == NULL ||
	    reg_build_ca(c, cfg->cert_dir, missing, sizeof(missing)) != 0)
		goto nomem;
	/* A bundle named by SSL_CERT_FILE must exist; with none found at
	 * all, only a cert dir's own certificates can verify. */
	if (!c->insecure && missing[0] != '\0' &&
	    (c->ca_blob == NULL || strncmp(missing, "SSL_CERT_FILE=", 14) == 0)) {
		rp_fail(err, RP_EINPUT, "no CA certificates to verify registry %s: tried %s "
			"(set SSL_CERT_FILE to a PEM bundle, or give %s)", cfg->host, missing,
			rp_flag("cert-dir"));
		reg_free(c);
		return NULL;
	}
	if (rp_strv_push(&c->insecure_hosts, c->insecure ? c->host : "") != 0)
		goto nomem;
	for (i = 0; cfg->insecure_hosts != NULL && cfg->insecure_hosts[i] != NULL; i++)
		if (rp_strv_push(&c->insecure_hosts, cfg->insecure_hosts[i]) != 0)
			goto nomem;
	if (cfg->username != NULL && cfg->password != NULL) {
		if ((c->username = rp_strdup(cfg->username)) == NULL ||
		    (c->password = rp_strdup(cfg->password)) == NULL ||
		    (c->secret_b64[0] = rp_basic_auth(cfg->username, cfg->password)) == NULL ||
		    (c->secret_b64[1] = rp_base64(c->password, strlen(c->password))) == NULL)
			goto nomem;
	}
	return c;
nomem:
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

rp_status
reg_unexpected(struct reg_client *c, const struct resp *r, const char *what,
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
 * One request: scheme, auth, retries (see reg_int.h). q->scope is the
 * token scope set the request needs; q->what names it in messages.
 */
rp_status
reg_request(struct reg_client *c, const struct reg_req *q, const char *path, struct resp *r,
	    struct rp_err *err)
{
	const char *scope = q->scope, *what = q->what != NULL ? q->what : q->method;
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
		if ((hdrs = headers(authz, q->accept, q->ctype, &failed)) == NULL && failed) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		cc = reg_exchange(c, q->method, url, hdrs, q->body, q->len, q->max, !c->insecure, r,
				  &attempts);
		if (cc != CURLE_OK) {
			st = reg_fail_exchange(c, cc, r, what, attempts, q->max, err);
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
void
reg_ref_what(char *out, size_t size, const char *method, const char *repo, const char *ref)
{
	snprintf(out, size, "%s %s%s%s", method, repo, strncmp(ref, "sha256:", 7) == 0 ? "@" : ":", ref);
}

char *
reg_scope_for(const char *repo, const char *actions, const char *extra)
{
	return rp_asprintf("repository:%s:%s%s%s", repo, actions, extra != NULL ? " " : "",
			   extra != NULL ? extra : "");
}

/*
 * One request through reg_request(): the path is built from fmt, and the
 * token scope is "repository:<repo>:<actions>", plus `extra` (another
 * scope of the same token) when given. The caller zeroes *r beforehand
 * and frees it afterwards, whatever the result.
 */
rp_status
reg_call(struct reg_client *c, const struct reg_req *q, const char *repo, const char *actions,
	 const char *extra, struct resp *r, struct rp_err *err, const char *fmt, ...)
{
	struct reg_req one = *q;
	char *path = NULL, *scope;
	va_list ap;
	rp_status st;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		path = NULL;
	scope = reg_scope_for(repo, actions, extra);
	if (path == NULL || scope == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else {
		one.scope = scope;
		st = reg_request(c, &one, path, r, err);
	}
	free(path);
	free(scope);
	return st;
}

/* "GET lead" for the lead (i 0 when there is one), else "METHOD repo:ref". */
static void
batch_what(char *what, size_t size, const char *method, const char *lead, const char *repo,
	   char *const *refs, size_t i)
{
	if (lead != NULL && i == 0)
		snprintf(what, size, "GET %s", lead);
	else
		reg_ref_what(what, size, method, repo, refs[i - (lead != NULL)]);
}

/*
 * The same method on several references of one repository at once, and,
 * when lead is not NULL, a GET of the path lead among them (its answer in
 * rs[0], the references' in rs[1..n]); the first nget references are read
 * with GET instead of method. After GET /v2/ (when the client has not
 * made it yet) every request runs concurrently with one Authorization.
 * Any that does not come back `ok` (a connection error, a 401 from an
 * expiring token, a 429, a 5xx) is redone through reg_request(), which
 * owns retries and re-authentication.
 */
static rp_status
batch(struct reg_client *c, const struct reg_req *q, const char *lead, size_t nget,
      const char *repo, const char *kind, char *const *refs, size_t nrefs, struct resp *rs,
      struct rp_err *err)
{
	const char *method = q->method, *scope = q->scope;
	int (*ok)(long) = q->ok;
	struct curl_slist *hdrs = NULL;
	size_t n = nrefs + (lead != NULL), k = lead != NULL, i;
	char **paths = NULL, **urls = NULL, *authz = NULL, what[300];
	const char **methods = NULL;
	int failed;
	long wait;
	rp_status st = RP_OK;

	if ((paths = calloc(n + 1, sizeof(*paths))) == NULL ||
	    (urls = calloc(n + 1, sizeof(*urls))) == NULL ||
	    (methods = calloc(n + 1, sizeof(*methods))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		methods[i] = i < k + nget ? "GET" : method;
		paths[i] = i < k ? rp_strdup(lead) : rp_asprintf("/v2/%s/%s/%s", repo, kind, refs[i - k]);
		if (paths[i] == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* The scheme first (GET /v2/), then every request at once
	 * (reg_auth_header fetches the scope's token). */
	if (c->base == NULL && (st = reg_discover(c, err)) != RP_OK)
		goto out;
	if ((st = reg_auth_header(c, scope, &authz, err)) != RP_OK)
		goto out;
	if ((hdrs = headers(authz, q->accept, q->ctype, &failed)) == NULL && failed) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((urls[i] = rp_asprintf("%s%s", c->base, paths[i])) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	if ((st = reg_multi(c, method, methods, urls, n, hdrs, q->body, q->len, q->max, rs, err)) != RP_OK)
		goto out;
	/* Before any is asked again: the longest Retry-After (or first
	 * backoff) among the answers that call for one (a 429 or a 5xx). One
	 * that got no answer is redone at once: reg_request backs off if
	 * that fails too. */
	for (i = 0, wait = 0; i < n; i++)
		if (rs[i].status != 0 && !ok(rs[i].status) && reg_wait_ms(c, CURLE_OK, &rs[i], 0) > wait)
			wait = reg_wait_ms(c, CURLE_OK, &rs[i], 0);
	if (wait > 0 && (st = reg_pause(c, wait, err)) != RP_OK)
		goto out;
	for (i = 0; i < n && st == RP_OK; i++) {
		struct reg_req one = *q;
		if (rs[i].status != 0 && ok(rs[i].status) && !rs[i].too_big)
			continue;
		batch_what(what, sizeof(what), methods[i], lead, repo, refs, i);
		one.method = methods[i];
		one.what = what;
		st = reg_request(c, &one, paths[i], &rs[i], err);
	}
out:
	rp_strv_free(paths);
	rp_strv_free(urls);
	free(methods);
	curl_slist_free_all(hdrs);
	wipe_free(authz);
	return st;
}

rp_status
reg_batch(struct reg_client *c, const struct reg_req *q, const char *repo, const char *kind,
	  char *const *refs, size_t n, struct resp *rs, struct rp_err *err)
{
	return batch(c, q, NULL, 0, repo, kind, refs, n, rs, err);
}

rp_status
reg_batch_heads(struct reg_client *c, const char *lead, int get_first, const char *repo,
		char *const *refs, size_t n, const char *scope, size_t max, struct resp *rs,
		struct rp_err *err)
{
	return batch(c, &(struct reg_req){ .method = "HEAD", .scope = scope,
					   .accept = REG_ACCEPT_MANIFESTS, .max = max, .ok = reg_head_ok },
		     lead, get_first ? 1 : 0, repo, "manifests", refs, n, rs, err);
}

int
reg_head_ok(long status)
{
	return status == 200 || status == 404;
}

int
reg_put_ok(long status)
{
	return status == 201 || status == 200;
}

