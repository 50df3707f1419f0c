/*
 * registry.c — the OCI Distribution client.
 *
 * Every call goes through request(), which owns the protocol's common
 * rules: learning the scheme (https, or http for an --insecure-registry
 * host that does not speak TLS), authenticating (Basic, or a Bearer token
 * per scope set, fetched from the challenge's realm and cached until it
 * expires; a 401 with error="insufficient_scope" fetches a new one), and
 * retrying 429, 5xx and connection failures with capped exponential
 * backoff that honours Retry-After. Callers then turn the final status into
 * a result or into one line naming the registry, repository and reference.
 */
#include "registry.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "curlfn.h"
#include <jansson.h>
#include <openssl/evp.h>

#include "imgref.h"

const char *const reg_manifest_types[4] = {
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
};

#define ACCEPT_MANIFESTS \
	"Accept: application/vnd.oci.image.index.v1+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.docker.distribution.manifest.v2+json"

enum auth_scheme { AUTH_UNKNOWN = 0, AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
	char *scope;
	char *value;
	time_t expires;
};

struct reg_client {
	CURL *curl;
	CURLM *multi;          /* for concurrent HEADs and PUTs; lazily made */
	char *host;
	char *base;            /* "https://host" once known */
	int insecure;
	char *username, *password, *account;
	char *ca_file;         /* the CA bundle file */
	char *ca_blob;         /* bundle + cert dir PEM, when there are extras */
	size_t ca_len;
	enum auth_scheme auth;
	char *realm, *service;
	struct token *tokens;
	size_t ntokens;
	unsigned requests;
	long timeout_s;
	long retry_base_ms;
	int max_attempts;
};

struct resp {
	long status;
	struct sbuf body;
	int too_big;
	char ctype[256];
	char digest[80];
	char www[2048];
	char link[2048];
	char location[2048];
	char retry_after[128];
	char errbuf[CURL_ERROR_SIZE];
};

/* --- small parsers (exposed for tests) ----------------------------------- */

/* Copies a quoted-string or token value starting at *pp into out. */
static int
param_value(const char **pp, char *out, size_t size)
{
	const char *p = *pp;
	size_t o = 0;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (o + 1 < size)
				out[o++] = *p;
		}
		if (*p != '"')
			return -1;
		p++;
	} else {
		while (*p != '\0' && *p != ',' && !isspace((unsigned char)*p)) {
			if (o + 1 < size)
				out[o++] = *p;
			p++;
		}
	}
	out[o] = '\0';
	*pp = p;
	return 0;
}

/* Copies src into dst, cut to fit. */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
reg_parse_challenge(const char *h, struct reg_challenge *ch)
{
	const char *p = h;
	char key[64], val[1024];
	size_t n;

	memset(ch, 0, sizeof(*ch));
	while (isspace((unsigned char)*p))
		p++;
	for (n = 0; *p != '\0' && !isspace((unsigned char)*p); p++)
		if (n + 1 < sizeof(ch->scheme))
			ch->scheme[n++] = (char)tolower((unsigned char)*p);
	ch->scheme[n] = '\0';
	if (n == 0)
		return -1;
	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		for (n = 0; *p != '\0' && *p != '=' && !isspace((unsigned char)*p); p++)
			if (n + 1 < sizeof(key))
				key[n++] = (char)tolower((unsigned char)*p);
		key[n] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			return -1;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (param_value(&p, val, sizeof(val)) != 0)
			return -1;
		if (strcmp(key, "realm") == 0)
			copy_cut(ch->realm, sizeof(ch->realm), val);
		else if (strcmp(key, "service") == 0)
			copy_cut(ch->service, sizeof(ch->service), val);
		else if (strcmp(key, "scope") == 0)
			copy_cut(ch->scope, sizeof(ch->scope), val);
		else if (strcmp(key, "error") == 0)
			copy_cut(ch->error, sizeof(ch->error), val);
	}
}

char *
reg_link_next(const char *link)
{
	const char *p = link, *lt, *gt, *path;
	char *url;

	while (p != NULL && (lt = strchr(p, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL)
			return NULL;
		p = gt + 1;
		/* This link's parameters run to the next ',' outside <...>. */
		const char *end = strchr(p, ',');
		size_t plen = end != NULL ? (size_t)(end - p) : strlen(p);
		char params[256];
		snprintf(params, sizeof(params), "%.*s", (int)plen, p);
		for (char *c = params; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strstr(params, "rel=\"next\"") == NULL && strstr(params, "rel=next") == NULL) {
			p = end;
			continue;
		}
		if ((url = rp_strndup(lt + 1, (size_t)(gt - lt - 1))) == NULL)
			return NULL;
		path = url;
		if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
			/* Absolute (Quay): keep path and query only. */
			path = strchr(strstr(url, "://") + 3, '/');
			if (path == NULL) {
				free(url);
				return NULL;
			}
		}
		if (strncmp(path, "/v2/", 4) != 0) {
			free(url);
			return NULL;
		}
		if (path != url)
			memmove(url, path, strlen(path) + 1);
		return url;
	}
	return NULL;
}

long
reg_retry_after(const char *v, long now)
{
	long n;
	time_t t;

	if (v == NULL || *v == '\0')
		return -1;
	if (rp_parse_long(v, 0, 86400 * 365, &n) == 0)
		return n > 60 ? 60 : n;
	if (curlfn_load(NULL) != RP_OK || (t = curl_getdate(v, NULL)) < 0)
		return -1;
	n = (long)t - now;
	if (n < 0)
		n = 0;
	return n > 60 ? 60 : n;
}

/* --- construction --------------------------------------------------------- */

static long
env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	long n;

	if (v != NULL && rp_parse_long(v, min, max, &n) == 0)
		return n;
	return def;
}

/* Appends one PEM file to the CA blob; a missing file is skipped. */
static void
add_pem(struct sbuf *sb, const char *path)
{
	char *text;
	size_t len;
	struct rp_err ignored;

	if (rp_read_file(path, "CA file", 16 << 20, &text, &len, &ignored) != RP_OK)
		return;
	sbuf_add(sb, text, len);
	sbuf_puts(sb, "\n");
	free(text);
}

/*
 * The trusted CAs, the containers way: SSL_CERT_FILE or libcurl's bundle,
 * plus *.crt from the cert dir (or /etc/containers/certs.d/<host>/). With
 * no extra certificate, libcurl is just pointed at the bundle file, so it
 * can cache the parsed store across connections; only when there are
 * extras is everything concatenated into one in-memory PEM blob.
 */
static int
build_ca(struct reg_client *c, const char *cert_dir)
{
	struct sbuf sb;
	const char *bundle = getenv("SSL_CERT_FILE");
	char *dir = NULL, *pattern = NULL, *def = NULL;
	glob_t g;
	size_t i;
	int rc = 0;

	if (!rp_given(bundle)) {
		/* libcurl's built-in default (7.84+), else Debian's bundle. */
		bundle = "/etc/ssl/certs/ca-certificates.crt";
		if (curl_easy_getinfo(c->curl, CURLINFO_CAINFO, &def) == CURLE_OK && def != NULL)
			bundle = def;
	}
	if ((c->ca_file = rp_strdup(bundle)) == NULL)
		return -1;
	dir = cert_dir != NULL ? rp_strdup(cert_dir) :
	    rp_asprintf("/etc/containers/certs.d/%s", c->host);
	if (dir == NULL || (pattern = rp_asprintf("%s/*.crt", dir)) == NULL) {
		rc = -1;
	} else if (glob(pattern, 0, NULL, &g) == 0) {
		sbuf_init(&sb, 64 << 20);
		add_pem(&sb, bundle);
		for (i = 0; i < g.gl_pathc; i++)
			add_pem(&sb, g.gl_pathv[i]);
		globfree(&g);
		c->ca_len = sb.len;
		if ((c->ca_blob = sbuf_take(&sb)) == NULL)
			rc = -1;
	}
	free(dir);
	free(pattern);
	return rc;
}

struct reg_client *
reg_new(const struct reg_config *cfg, struct rp_err *err)
{
	struct reg_client *c;

	if (curlfn_load(err) != RP_OK)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto nomem;
	c->insecure = cfg->insecure;
	c->timeout_s = env_long("REGPUSH_HTTP_TIMEOUT", 60, 1, 3600);
	c->retry_base_ms = env_long("REGPUSH_RETRY_BASE_MS", 1000, 1, 60000);
	c->max_attempts = (int)env_long("REGPUSH_HTTP_ATTEMPTS", 5, 1, 20);
	if ((c->host = rp_strdup(cfg->host)) == NULL ||
	    (cfg->username != NULL && (c->username = rp_strdup(cfg->username)) == NULL) ||
	    (cfg->password != NULL && (c->password = rp_strdup(cfg->password)) == NULL) ||
	    (c->account = rp_strdup(cfg->account != NULL ? cfg->account : "anonymous")) == NULL ||
	    (c->curl = curl_easy_init()) == NULL || build_ca(c, cfg->cert_dir) != 0)
		goto nomem;
	return c;
nomem:
	reg_free(c);
	rp_fail(err, RP_ENOMEM, "out of memory creating the registry client");
	return NULL;
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
		if (c->tokens[i].value != NULL)
			explicit_bzero(c->tokens[i].value, strlen(c->tokens[i].value));
		free(c->tokens[i].value);
	}
	free(c->tokens);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c->username);
	free(c->account);
	free(c->host);
	free(c->base);
	free(c->realm);
	free(c->service);
	free(c->ca_blob);
	free(c->ca_file);
	free(c);
}

unsigned
reg_requests(const struct reg_client *c)
{
	return c->requests;
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

/* --- one HTTP exchange ----------------------------------------------------- */

static size_t
on_body(char *d, size_t sz, size_t n, void *u)
{
	struct resp *r = u;

	if (sbuf_add(&r->body, d, sz * n) != 0) {
		r->too_big = 1;
		return 0; /* aborts the transfer */
	}
	return sz * n;
}

static void
header_value(char *dst, size_t size, const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static size_t
on_header(char *d, size_t sz, size_t n, void *u)
{
	struct resp *r = u;
	size_t len = sz * n;
	static const struct { const char *name; size_t off, size; } hs[] = {
		{ "content-type:", offsetof(struct resp, ctype), sizeof(((struct resp *)0)->ctype) },
		{ "docker-content-digest:", offsetof(struct resp, digest), sizeof(((struct resp *)0)->digest) },
		{ "www-authenticate:", offsetof(struct resp, www), sizeof(((struct resp *)0)->www) },
		{ "link:", offsetof(struct resp, link), sizeof(((struct resp *)0)->link) },
		{ "location:", offsetof(struct resp, location), sizeof(((struct resp *)0)->location) },
		{ "retry-after:", offsetof(struct resp, retry_after), sizeof(((struct resp *)0)->retry_after) },
	};
	size_t i, hl;

	/* A new status line (after a redirect or 100) starts over. */
	if (len > 5 && strncmp(d, "HTTP/", 5) == 0) {
		r->ctype[0] = r->digest[0] = r->www[0] = r->link[0] = '\0';
		r->location[0] = r->retry_after[0] = '\0';
		return len;
	}
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		hl = strlen(hs[i].name);
		if (len > hl && strncasecmp(d, hs[i].name, hl) == 0) {
			header_value((char *)r + hs[i].off, hs[i].size, d + hl, len - hl);
			break;
		}
	}
	return len;
}

static void
resp_reset(struct resp *r, size_t max)
{
	sbuf_free(&r->body);
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->body, max);
}

static void
resp_free(struct resp *r)
{
	sbuf_free(&r->body);
}

/* Sets up handle h for one request whose answer goes to r. */
static void
setup_handle(struct reg_client *c, CURL *h, const char *method, const char *url,
	     struct curl_slist *hdrs, const void *body, size_t len, struct resp *r,
	     int verify)
{
	/* setopt copies the struct; the PEM stays owned by the client. */
	struct curl_blob ca = { c->ca_blob, c->ca_len, CURL_BLOB_NOCOPY };

	c->requests++;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s < 10 ? c->timeout_s : 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "regpush/" RP_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	/* Manifests, tag lists and tokens are answered directly; a redirect
	 * is not followed (it could lead to plain HTTP or another host). */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->ca_blob != NULL && c->ca_len > 0)
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
	else if (c->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (!verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
	}
}

/* Performs one request on the client's handle; returns the curl code. */
static CURLcode
perform(struct reg_client *c, const char *method, const char *url,
	struct curl_slist *hdrs, const void *body, size_t len, struct resp *r,
	int verify)
{
	CURLcode cc;

	curl_easy_reset(c->curl);
	setup_handle(c, c->curl, method, url, hdrs, body, len, r, verify);
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	return cc;
}

static int
retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Capped exponential backoff: base, 2*base, ... at most 30 s. */
static long
backoff_ms(const struct reg_client *c, int attempt)
{
	long ms = c->retry_base_ms;

	while (attempt-- > 0 && ms < 30000)
		ms *= 2;
	return ms > 30000 ? 30000 : ms;
}

/* --- auth ------------------------------------------------------------------- */

static char *
basic_header(const struct reg_client *c)
{
	size_t n = strlen(c->username) + 1 + strlen(c->password);
	char *raw = rp_asprintf("%s:%s", c->username, c->password);
	char *b64 = malloc(4 * ((n + 2) / 3) + 1), *h = NULL;

	if (raw != NULL && b64 != NULL) {
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)raw, (int)n);
		h = rp_asprintf("Authorization: Basic %s", b64);
		explicit_bzero(b64, strlen(b64));
	}
	if (raw != NULL)
		explicit_bzero(raw, n);
	free(raw);
	free(b64);
	return h;
}

static struct token *
token_find(struct reg_client *c, const char *scope)
{
	size_t i;

	for (i = 0; i < c->ntokens; i++)
		if (strcmp(c->tokens[i].scope, scope) == 0)
			return &c->tokens[i];
	return NULL;
}

static void
token_drop(struct reg_client *c, const char *scope)
{
	struct token *t = token_find(c, scope);

	if (t != NULL)
		t->expires = 0;
}

static char *
url_escape(struct reg_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0), *o;

	if (e == NULL)
		return NULL;
	o = rp_strdup(e);
	curl_free(e);
	return o;
}

/* TLS of the token realm is verified, unless it is on this registry's
 * own host and that host is --insecure-registry. */
static int
realm_verify(const struct reg_client *c)
{
	const char *h = strstr(c->realm, "://");
	size_t n;

	if (!c->insecure || h == NULL)
		return 1;
	h += 3;
	n = strcspn(h, "/?");
	return !(n == strlen(c->host) && strncmp(h, c->host, n) == 0);
}

/* Fetches a token for `scope` (space-separated scopes) from the realm. */
static rp_status
token_fetch(struct reg_client *c, const char *scope, struct rp_err *err)
{
	struct sbuf url;
	struct resp r;
	struct curl_slist *hdrs = NULL;
	char *basic = NULL, *u, *copy, *save = NULL, *s, *t;
	json_t *j = NULL, *tok, *exp;
	struct token *slot;
	rp_status st = RP_OK;
	CURLcode cc;
	int attempt;

	if (c->realm == NULL || (strncmp(c->realm, "https://", 8) != 0 &&
				 !(strncmp(c->realm, "http://", 7) == 0 && c->insecure)))
		return rp_fail(err, RP_EREGISTRY,
			       "registry %s: token realm '%s' is not https (use --insecure-registry "
			       "%s only for a test registry)", c->host,
			       c->realm != NULL ? c->realm : "", c->host);
	sbuf_init(&url, 16384);
	sbuf_printf(&url, "%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?");
	if (c->service != NULL && (u = url_escape(c, c->service)) != NULL) {
		sbuf_printf(&url, "service=%s", u);
		free(u);
	}
	if ((copy = rp_strdup(scope)) != NULL) {
		for (s = strtok_r(copy, " ", &save); s != NULL; s = strtok_r(NULL, " ", &save))
			if ((u = url_escape(c, s)) != NULL) {
				sbuf_printf(&url, "&scope=%s", u);
				free(u);
			}
		free(copy);
	}
	if (c->username != NULL && (u = url_escape(c, c->username)) != NULL) {
		sbuf_printf(&url, "&account=%s", u);
		free(u);
	}
	if (url.failed) {
		sbuf_free(&url);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (c->username != NULL) {
		if ((basic = basic_header(c)) == NULL ||
		    (hdrs = curl_slist_append(hdrs, basic)) == NULL) {
			free(basic);
			sbuf_free(&url);
			return rp_fail(err, RP_ENOMEM, "out of memory");
		}
	}
	memset(&r, 0, sizeof(r));
	for (attempt = 0;; attempt++) {
		resp_reset(&r, REG_SMALL_MAX);
		cc = perform(c, "GET", url.buf, hdrs, NULL, 0, &r, realm_verify(c));
		if ((cc != CURLE_OK && retryable(cc)) || (cc == CURLE_OK &&
		    (r.status == 429 || r.status >= 500))) {
			if (attempt + 1 < c->max_attempts) {
				long ra = reg_retry_after(r.retry_after, (long)time(NULL));
				sleep_ms(ra >= 0 ? ra * 1000 : backoff_ms(c, attempt));
				continue;
			}
		}
		break;
	}
	if (basic != NULL)
		explicit_bzero(basic, strlen(basic));
	free(basic);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		st = rp_fail(err, RP_EREGISTRY, "cannot reach the token service of registry %s: %s",
			     c->host, r.errbuf[0] ? r.errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (r.status == 401 || r.status == 403) {
		st = rp_fail(err, RP_EREGISTRY,
			     "registry %s refused the credentials of the %s (token service: HTTP %ld)",
			     c->host, c->account, r.status);
		goto out;
	}
	if (r.status != 200) {
		st = rp_fail(err, RP_EREGISTRY, "registry %s: token service answered HTTP %ld for scope %s",
			     c->host, r.status, scope);
		goto out;
	}
	j = json_loadb(r.body.buf != NULL ? r.body.buf : "", r.body.len, 0, NULL);
	tok = json_object_get(j, "token");
	if (!json_is_string(tok) || *json_string_value(tok) == '\0')
		tok = json_object_get(j, "access_token");
	if (!json_is_string(tok) || *json_string_value(tok) == '\0') {
		st = rp_fail(err, RP_EREGISTRY, "registry %s: the token service's answer has no token",
			     c->host);
		goto out;
	}
	if ((slot = token_find(c, scope)) == NULL) {
		struct token *nt = realloc(c->tokens, (c->ntokens + 1) * sizeof(*nt));
		if (nt == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		c->tokens = nt;
		slot = &c->tokens[c->ntokens];
		memset(slot, 0, sizeof(*slot));
		if ((slot->scope = rp_strdup(scope)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		c->ntokens++;
	}
	if ((t = rp_strdup(json_string_value(tok))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	free(slot->value);
	slot->value = t;
	exp = json_object_get(j, "expires_in");
	/* Missing or short lifetimes count as 60 s (the token spec). */
	slot->expires = time(NULL) + (json_is_integer(exp) && json_integer_value(exp) > 60 ?
				      (time_t)json_integer_value(exp) : 60) - 5;
out:
	json_decref(j);
	resp_free(&r);
	sbuf_free(&url);
	return st;
}

/* Learns how to reach the registry: https (verified, or unverified for an
 * insecure host), else http for an insecure host; and its auth scheme. */
static rp_status
discover(struct reg_client *c, struct rp_err *err)
{
	struct resp r;
	struct reg_challenge ch;
	char *url;
	CURLcode cc = CURLE_OK;
	int scheme, attempt;
	rp_status st = RP_OK;

	memset(&r, 0, sizeof(r));
	for (scheme = 0; scheme < 2; scheme++) {
		if (scheme == 1 && !c->insecure)
			break;
		free(c->base);
		c->base = rp_asprintf("%s://%s", scheme == 0 ? "https" : "http", c->host);
		if (c->base == NULL || (url = rp_asprintf("%s/v2/", c->base)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		for (attempt = 0;; attempt++) {
			resp_reset(&r, REG_SMALL_MAX);
			cc = perform(c, "GET", url, NULL, NULL, 0, &r, !c->insecure);
			if (((cc != CURLE_OK && retryable(cc)) ||
			     (cc == CURLE_OK && (r.status == 429 || r.status >= 500))) &&
			    attempt + 1 < c->max_attempts) {
				long ra = reg_retry_after(r.retry_after, (long)time(NULL));
				sleep_ms(ra >= 0 ? ra * 1000 : backoff_ms(c, attempt));
				continue;
			}
			break;
		}
		free(url);
		if (cc == CURLE_OK)
			break;
		/* A connection that is refused outright will not speak http
		 * either; anything else (TLS handshake failed) may. */
		if (cc == CURLE_COULDNT_CONNECT)
			break;
	}
	if (cc != CURLE_OK) {
		st = rp_fail(err, RP_EREGISTRY, "cannot reach registry %s: %s%s%s%s", c->host,
			     r.errbuf[0] ? r.errbuf : curl_easy_strerror(cc),
			     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ?
			     " (a registry that serves plain HTTP is used only with --insecure-registry " : "",
			     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ? c->host : "",
			     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ? ")" : "");
		goto out;
	}
	if (r.status == 200) {
		c->auth = AUTH_NONE;
	} else if (r.status == 401 && reg_parse_challenge(r.www, &ch) == 0) {
		if (strcmp(ch.scheme, "bearer") == 0) {
			c->auth = AUTH_BEARER;
			free(c->realm);
			free(c->service);
			c->realm = rp_strdup(ch.realm);
			c->service = ch.service[0] ? rp_strdup(ch.service) : NULL;
		} else if (strcmp(ch.scheme, "basic") == 0) {
			c->auth = AUTH_BASIC;
		} else {
			st = rp_fail(err, RP_EREGISTRY, "registry %s: unsupported auth scheme '%s'",
				     c->host, ch.scheme);
		}
	} else {
		st = rp_fail(err, RP_EREGISTRY, "registry %s does not answer as an OCI registry "
			     "(GET /v2/: HTTP %ld)", c->host, r.status);
	}
out:
	resp_free(&r);
	return st;
}

rp_status
reg_ping(struct reg_client *c, struct rp_err *err)
{
	return discover(c, err);
}

/* One line from an OCI error body: "CODE: message", or the body's start. */
static void
error_line(const struct resp *r, char *out, size_t size)
{
	json_t *j, *e;
	const char *code, *msg;
	char q[300];

	out[0] = '\0';
	if (r->body.len == 0) {
		snprintf(out, size, "HTTP %ld", r->status);
		return;
	}
	j = json_loadb(r->body.buf, r->body.len, 0, NULL);
	e = json_array_get(json_object_get(j, "errors"), 0);
	code = json_string_value(json_object_get(e, "code"));
	msg = json_string_value(json_object_get(e, "message"));
	if (code != NULL || msg != NULL)
		snprintf(out, size, "HTTP %ld %s: %s", r->status,
			 rp_quote(code != NULL ? code : "ERROR", 60, q, 80),
			 rp_quote(msg != NULL ? msg : "", 200, q + 80, sizeof(q) - 80));
	else
		snprintf(out, size, "HTTP %ld: %s", r->status,
			 rp_quote(r->body.buf, 200, q, sizeof(q)));
	json_decref(j);
}

/*
 * The request loop: scheme, auth, retries. `scope` is the token scope set
 * the request needs; `what` names it in messages ("HEAD repo:tag").
 * Returns RP_OK with the final response in *r (any HTTP status), or an
 * error when the registry could not be reached or authenticated.
 */
static rp_status
request(struct reg_client *c, const char *method, const char *path,
	const char *scope, const char *accept, const char *ctype,
	const void *body, size_t len, size_t max, struct resp *r,
	const char *what, struct rp_err *err)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *authz = NULL, line[600];
	struct reg_challenge ch;
	struct token *t;
	int attempt = 0, reauth = 0;
	rp_status st = RP_OK;
	CURLcode cc;

	if (c->base == NULL && (st = discover(c, err)) != RP_OK)
		return st;
	if ((url = rp_asprintf("%s%s", c->base, path)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (;;) {
		curl_slist_free_all(hdrs);
		hdrs = NULL;
		if (authz != NULL)
			explicit_bzero(authz, strlen(authz));
		free(authz);
		authz = NULL;
		if (c->auth == AUTH_BASIC && c->username != NULL) {
			authz = basic_header(c);
		} else if (c->auth == AUTH_BEARER) {
			t = token_find(c, scope);
			if (t == NULL || t->expires <= time(NULL)) {
				if ((st = token_fetch(c, scope, err)) != RP_OK)
					break;
				t = token_find(c, scope);
			}
			authz = rp_asprintf("Authorization: Bearer %s", t->value);
		}
		if ((authz != NULL && (hdrs = curl_slist_append(hdrs, authz)) == NULL) ||
		    (accept != NULL && (hdrs = curl_slist_append(hdrs, accept)) == NULL) ||
		    (ctype != NULL && (hdrs = curl_slist_append(hdrs, ctype)) == NULL)) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		resp_reset(r, max);
		cc = perform(c, method, url, hdrs, body, len, r, !c->insecure);
		if (cc != CURLE_OK) {
			if (r->too_big) {
				st = rp_fail(err, RP_EREGISTRY,
					     "registry %s: the answer to %s is larger than %zu bytes",
					     c->host, what, max);
				break;
			}
			if (retryable(cc) && ++attempt < c->max_attempts) {
				sleep_ms(backoff_ms(c, attempt - 1));
				continue;
			}
			st = rp_fail(err, RP_EREGISTRY, "cannot reach registry %s (%s): %s%s",
				     c->host, what, r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc),
				     attempt > 1 ? " (after retries)" : "");
			break;
		}
		if (r->status == 401 && reauth < 2 && reg_parse_challenge(r->www, &ch) == 0) {
			reauth++;
			if (strcmp(ch.scheme, "bearer") == 0) {
				if (c->auth != AUTH_BEARER || c->realm == NULL ||
				    strcmp(c->realm, ch.realm) != 0) {
					free(c->realm);
					free(c->service);
					c->realm = rp_strdup(ch.realm);
					c->service = ch.service[0] ? rp_strdup(ch.service) : NULL;
				}
				c->auth = AUTH_BEARER;
				/* insufficient_scope or an expired token: ask again. */
				token_drop(c, scope);
				continue;
			}
			if (strcmp(ch.scheme, "basic") == 0 && c->username != NULL &&
			    c->auth != AUTH_BASIC) {
				c->auth = AUTH_BASIC;
				continue;
			}
		}
		if ((r->status == 429 || r->status >= 500) && ++attempt < c->max_attempts) {
			long ra = reg_retry_after(r->retry_after, (long)time(NULL));
			sleep_ms(ra >= 0 ? ra * 1000 : backoff_ms(c, attempt - 1));
			continue;
		}
		if (r->status == 401) {
			error_line(r, line, sizeof(line));
			st = c->username != NULL ?
			    rp_fail(err, RP_EREGISTRY,
				    "registry %s refused the credentials of the %s (%s): %s",
				    c->host, c->account, what, line) :
			    rp_fail(err, RP_EREGISTRY,
				    "registry %s requires credentials (%s): %s", c->host, what, line);
			break;
		}
		if (r->status == 403) {
			error_line(r, line, sizeof(line));
			st = rp_fail(err, RP_EREGISTRY, "registry %s denied the %s (%s): %s",
				     c->host, c->account, what, line);
			break;
		}
		if (r->status == 429 || r->status >= 500) {
			error_line(r, line, sizeof(line));
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): %s (after %d attempts)",
				     c->host, what, line, attempt);
			break;
		}
		break;
	}
	curl_slist_free_all(hdrs);
	if (authz != NULL)
		explicit_bzero(authz, strlen(authz));
	free(authz);
	free(url);
	return st;
}

/*
 * Runs the same method on several references of one repository at once.
 * The first goes through request() alone, which settles the scheme and
 * the auth (and fetches the token); the rest then run concurrently on a
 * multi handle with that same Authorization. Any of those that does not
 * come back as `ok` (a connection error, a 401 from an expiring token, a
 * 429, a 5xx) is simply redone through request(), which owns retries and
 * re-authentication. rs[i] gets each final answer.
 */
static rp_status
batch(struct reg_client *c, const char *method, const char *repo,
      char *const *refs, size_t n, const char *scope, const char *accept,
      const char *ctype, const void *body, size_t len, size_t max,
      struct resp *rs, int (*ok)(long), struct rp_err *err)
{
	struct curl_slist *hdrs = NULL;
	CURL **hs = NULL;
	char **paths = NULL, *authz = NULL, *url, what[300];
	size_t i;
	int running = 0;
	CURLMsg *msg;
	rp_status st = RP_OK;

	if ((paths = calloc(n, sizeof(*paths))) == NULL ||
	    (hs = calloc(n, sizeof(*hs))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((paths[i] = rp_asprintf("/v2/%s/manifests/%s", repo, refs[i])) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	snprintf(what, sizeof(what), "%s %s:%s", method, repo, refs[0]);
	if ((st = request(c, method, paths[0], scope, accept, ctype, body, len, max,
			  &rs[0], what, err)) != RP_OK || n == 1)
		goto out;
	if (c->auth == AUTH_BASIC && c->username != NULL) {
		authz = basic_header(c);
	} else if (c->auth == AUTH_BEARER) {
		struct token *t = token_find(c, scope);
		if (t != NULL && t->value != NULL)
			authz = rp_asprintf("Authorization: Bearer %s", t->value);
	}
	if ((authz != NULL && (hdrs = curl_slist_append(hdrs, authz)) == NULL) ||
	    (accept != NULL && (hdrs = curl_slist_append(hdrs, accept)) == NULL) ||
	    (ctype != NULL && (hdrs = curl_slist_append(hdrs, ctype)) == NULL) ||
	    (c->multi == NULL && (c->multi = curl_multi_init()) == NULL)) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	for (i = 1; i < n; i++) {
		rs[i].status = 0;
		if ((hs[i] = curl_easy_init()) == NULL ||
		    (url = rp_asprintf("%s%s", c->base, paths[i])) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		resp_reset(&rs[i], max);
		setup_handle(c, hs[i], method, url, hdrs, body, len, &rs[i], !c->insecure);
		/* libcurl copies the URL string. */
		free(url);
		curl_easy_setopt(hs[i], CURLOPT_PRIVATE, (void *)(uintptr_t)i);
		curl_multi_add_handle(c->multi, hs[i]);
	}
	do {
		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
	} while (running > 0);
	while ((msg = curl_multi_info_read(c->multi, &running)) != NULL) {
		void *priv = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		i = (size_t)(uintptr_t)priv;
		if (i < n && msg->data.result == CURLE_OK)
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &rs[i].status);
	}
	for (i = 1; i < n && st == RP_OK; i++) {
		curl_multi_remove_handle(c->multi, hs[i]);
		if (rs[i].status != 0 && ok(rs[i].status) && !rs[i].too_big)
			continue;
		snprintf(what, sizeof(what), "%s %s:%s", method, repo, refs[i]);
		st = request(c, method, paths[i], scope, accept, ctype, body, len, max,
			     &rs[i], what, err);
	}
out:
	for (i = 0; hs != NULL && i < n; i++) {
		if (hs[i] != NULL) {
			if (c->multi != NULL)
				curl_multi_remove_handle(c->multi, hs[i]);
			curl_easy_cleanup(hs[i]);
		}
	}
	for (i = 0; paths != NULL && i < n; i++)
		free(paths[i]);
	free(paths);
	free(hs);
	curl_slist_free_all(hdrs);
	if (authz != NULL)
		explicit_bzero(authz, strlen(authz));
	free(authz);
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

static rp_status
unexpected(struct reg_client *c, const struct resp *r, const char *what,
	   struct rp_err *err)
{
	char line[600];

	error_line(r, line, sizeof(line));
	return rp_fail(err, RP_EREGISTRY, "registry %s (%s): %s", c->host, what, line);
}

static char *
scope_for(const struct reg_client *c, const char *repo, const char *actions)
{
	(void)c;
	return rp_asprintf("repository:%s:%s", repo, actions);
}

/* --- the API ------------------------------------------------------------- */

/*
 * One request through request(): the path is built from fmt, and the
 * token scope is "repository:<repo>:<actions>", plus `extra` (another
 * scope of the same token) when given. The caller zeroes *r beforehand
 * and frees it afterwards, whatever the result.
 */
static rp_status
call(struct reg_client *c, const char *method, const char *repo,
     const char *actions, const char *extra, const char *accept, size_t max,
     struct resp *r, const char *what, struct rp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 11, 12)));

static rp_status
call(struct reg_client *c, const char *method, const char *repo,
     const char *actions, const char *extra, const char *accept, size_t max,
     struct resp *r, const char *what, struct rp_err *err, const char *fmt, ...)
{
	char *path = NULL, *scope;
	va_list ap;
	rp_status st;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	scope = rp_asprintf("repository:%s:%s%s%s", repo, actions, extra != NULL ? " " : "",
			    extra != NULL ? extra : "");
	if (n < 0 || scope == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else
		st = request(c, method, path, scope, accept, NULL, NULL, 0, max, r, what, err);
	if (n < 0)
		path = NULL;
	free(path);
	free(scope);
	return st;
}



rp_status
reg_manifest_head(struct reg_client *c, const char *repo, const char *ref,
		  char digest[80], struct rp_err *err)
{
	char *refs[1] = { (char *)ref };

	return reg_manifest_head_many(c, repo, refs, 1, (char (*)[80])digest, err);
}

rp_status
reg_manifest_get(struct reg_client *c, const char *repo, const char *ref,
		 struct reg_manifest *m, struct rp_err *err)
{
	struct resp r;
	char what[300], hex[65];
	rp_status st;

	memset(m, 0, sizeof(*m));
	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "GET %s:%s", repo, ref);
	if ((st = call(c, "GET", repo, "pull", NULL, ACCEPT_MANIFESTS, REG_MANIFEST_MAX, &r,
		       what, err, "/v2/%s/manifests/%s", repo, ref)) != RP_OK)
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
			     r.digest[0] != '\0' ? r.digest : ref);
		goto out;
	}
	m->len = r.body.len;
	if ((m->media_type = rp_strdup(r.ctype)) == NULL ||
	    (m->bytes = sbuf_take(&r.body)) == NULL) {
		reg_manifest_free(m);
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
out:
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

rp_status
reg_manifest_delete(struct reg_client *c, const char *repo, const char *ref,
		    struct rp_err *err)
{
	struct resp r;
	/* Quay grants only pull, push and *; distribution needs delete. */
	int quay = strcmp(c->host, "quay.io") == 0 ||
	    (strlen(c->host) > 8 && strcmp(c->host + strlen(c->host) - 8, ".quay.io") == 0);
	char what[300];
	rp_status st;

	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "DELETE %s:%s", repo, ref);
	st = call(c, "DELETE", repo, quay ? "*" : "delete", NULL, NULL, REG_SMALL_MAX, &r,
		  what, err, "/v2/%s/manifests/%s", repo, ref);
	if (st == RP_OK && (r.status == 400 || r.status == 405) && !imgref_digest_valid(ref)) {
		char line[600];
		error_line(&r, line, sizeof(line));
		/* distribution 2.x and Quay before 3.13 delete only by digest. */
		st = rp_fail(err, RP_EREGISTRY,
			     "registry %s does not support deleting a tag (%s): %s", c->host, what, line);
	} else if (st == RP_OK && r.status != 202 && r.status != 200 && r.status != 204) {
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
	st = call(c, "HEAD", repo, "pull", NULL, NULL, REG_SMALL_MAX, &r, what, err,
		  "/v2/%s/blobs/%s", repo, digest);
	if (st == RP_OK && r.status == 200)
		*exists = 1;
	else if (st == RP_OK && r.status != 404)
		st = unexpected(c, &r, what, err);
	resp_free(&r);
	return st;
}

rp_status
reg_blob_mount(struct reg_client *c, const char *repo, const char *from,
	       const char *digest, int *mounted, struct rp_err *err)
{
	struct resp r;
	char what[300], *from_scope = rp_asprintf("repository:%s:pull", from);
	const char *p;
	rp_status st;

	*mounted = 0;
	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "mount %s from %s into %s", digest, from, repo);
	if (from_scope == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = call(c, "POST", repo, "pull,push", from_scope, NULL, REG_SMALL_MAX, &r, what, err,
		  "/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from);
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
	p = r.location;
	if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)
		p = strchr(strstr(p, "://") + 3, '/');
	if (p != NULL && *p == '/') {
		char *loc = rp_strdup(p);
		if (loc == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		st = call(c, "DELETE", repo, "pull,push", NULL, NULL, REG_SMALL_MAX, &r,
			  "cancel upload", err, "%s", loc);
		free(loc);
	}
out:
	resp_free(&r);
	return st;
}

rp_status
reg_tags(struct reg_client *c, const char *repo, char ***out, struct rp_err *err)
{
	struct resp r;
	/* Quay sends at most 100 a page; distribution honours n. */
	char *path = rp_asprintf("/v2/%s/tags/list?n=%ld", repo,
				 env_long("REGPUSH_TAGS_PAGE", 1000, 1, 10000)), *next;
	char *scope = scope_for(c, repo, "pull");
	char what[300];
	json_t *j, *t;
	size_t i, pages = 0, n = 0;
	rp_status st = RP_OK;

	*out = calloc(1, sizeof(**out));
	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "list tags of %s", repo);
	if (*out == NULL || path == NULL || scope == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	while (path != NULL) {
		if (++pages > 10000) {
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): too many pages", c->host, what);
			break;
		}
		if ((st = request(c, "GET", path, scope, NULL, NULL, NULL, 0, REG_TAGS_PAGE_MAX,
				  &r, what, err)) != RP_OK)
			break;
		if (r.status == 404)
			break; /* NAME_UNKNOWN: a repository without tags */
		if (r.status != 200) {
			st = unexpected(c, &r, what, err);
			break;
		}
		j = json_loadb(r.body.buf != NULL ? r.body.buf : "", r.body.len, 0, NULL);
		t = json_object_get(j, "tags");
		if (j == NULL || !(json_is_array(t) || json_is_null(t))) {
			json_decref(j);
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): unreadable tag list",
				     c->host, what);
			break;
		}
		for (i = 0; i < json_array_size(t); i++) {
			const char *s = json_string_value(json_array_get(t, i));
			if (s == NULL || !imgref_tag_valid(s))
				continue;
			if (++n > REG_TAGS_MAX || rp_strv_push(out, s) != 0) {
				st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): more than %d tags",
					     c->host, what, REG_TAGS_MAX);
				break;
			}
		}
		json_decref(j);
		if (st != RP_OK)
			break;
		next = r.link[0] != '\0' ? reg_link_next(r.link) : NULL;
		if (next != NULL && strcmp(next, path) == 0) {
			free(next);
			st = rp_fail(err, RP_EREGISTRY, "registry %s (%s): pagination loops",
				     c->host, what);
			break;
		}
		free(path);
		path = next;
	}
out:
	if (st != RP_OK) {
		rp_strv_free(*out);
		*out = NULL;
	}
	resp_free(&r);
	free(path);
	free(scope);
	return st;
}

rp_status
reg_manifest_head_many(struct reg_client *c, const char *repo,
		       char *const *refs, size_t n, char (*digests)[80],
		       struct rp_err *err)
{
	struct resp *rs;
	char *scope = scope_for(c, repo, "pull"), what[300];
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
	st = batch(c, "HEAD", repo, refs, n, scope, ACCEPT_MANIFESTS, NULL, NULL, 0,
		   REG_SMALL_MAX, rs, head_ok, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		digests[i][0] = '\0';
		snprintf(what, sizeof(what), "HEAD %s:%s", repo, refs[i]);
		if (rs[i].status == 404)
			continue;
		if (rs[i].status != 200)
			st = unexpected(c, &rs[i], what, err);
		else if (imgref_digest_valid(rs[i].digest))
			snprintf(digests[i], 80, "%s", rs[i].digest);
		else {
			/* Older registries omit the header: GET and hash. */
			struct reg_manifest m;
			if ((st = reg_manifest_get(c, repo, refs[i], &m, err)) == RP_OK)
				snprintf(digests[i], 80, "%s", m.digest);
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
	struct resp *rs;
	char *scope = scope_for(c, repo, "pull,push"), what[300];
	char *ctype = rp_asprintf("Content-Type: %s", m->media_type);
	size_t i;
	rp_status st;

	if (n == 0) {
		free(scope);
		free(ctype);
		return RP_OK;
	}
	if ((rs = calloc(n, sizeof(*rs))) == NULL || scope == NULL || ctype == NULL) {
		free(rs);
		free(scope);
		free(ctype);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	st = batch(c, "PUT", repo, refs, n, scope, NULL, ctype, m->bytes, m->len,
		   REG_SMALL_MAX, rs, put_ok, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		snprintf(what, sizeof(what), "PUT %s:%s", repo, refs[i]);
		if (!put_ok(rs[i].status))
			st = unexpected(c, &rs[i], what, err);
		else if (rs[i].digest[0] != '\0' && strcmp(rs[i].digest, m->digest) != 0)
			st = rp_fail(err, RP_EREGISTRY,
				     "registry %s (%s): stored the manifest as %s, not %s",
				     c->host, what, rs[i].digest, m->digest);
	}
	for (i = 0; i < n; i++)
		resp_free(&rs[i]);
	free(rs);
	free(scope);
	free(ctype);
	return st;
}
