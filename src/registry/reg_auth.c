/*
 * reg_auth.c — how the client authenticates: discovery of the scheme
 * (GET /v2/), Basic, and the Bearer token flow with a cache of tokens per
 * scope set.
 *
 * What a token service answers is not trusted: a token must be visible
 * ASCII (a CR/LF in it would add headers to every later request), its
 * lifetime is clamped to [60 s, 1 day], and a realm on plain HTTP or
 * without TLS verification is used only when the realm's own host is an
 * --insecure-registry — Basic credentials are never sent in clear to a
 * host the user did not name.
 */
#include "reg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>


#define TOKEN_MAX (16 * 1024)
#define TOKEN_LIFE_MIN 60
#define TOKEN_LIFE_MAX 86400

static char *
basic_header(const struct reg_client *c)
{
	return rp_asprintf("Authorization: Basic %s", c->secret_b64[0]);
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

int
reg_token_valid(const char *t)
{
	size_t n = 0;

	for (; *t != '\0'; t++, n++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7e || n >= TOKEN_MAX)
			return 0;
	return n > 0;
}

/*
 * May the realm be used, and with TLS verification? https on any host is
 * verified unless that host is insecure; http only on an insecure host.
 * Returns 0 and sets *verify, or -1 with err set.
 */
static rp_status
realm_check(const struct reg_client *c, int *verify, struct rp_err *err)
{
	char host[512], q[300];
	int https = c->realm != NULL && strncmp(c->realm, "https://", 8) == 0;
	int http = c->realm != NULL && strncmp(c->realm, "http://", 7) == 0;

	if ((!https && !http) || reg_url_host(c->realm, host, sizeof(host)) != 0)
		return rp_fail(err, RP_EREGISTRY, "registry %s: unusable token realm '%s'",
			       c->host, rp_quote(c->realm != NULL ? c->realm : "", 200, q, sizeof(q)));
	*verify = !reg_host_insecure(c, host);
	if (http && *verify)
		return rp_fail(err, RP_EREGISTRY,
			       "registry %s: token realm '%s' is not https (plain HTTP is used only "
			       "for a host given with %s, and only for a test registry)",
			       c->host, rp_quote(c->realm, 200, q, sizeof(q)), rp_flag("insecure-registry"));
	return RP_OK;
}

/* The token request's URL: realm?service=…&scope=…(one per scope)&account=…. */
static char *
token_url(struct reg_client *c, const char *scope)
{
	struct sbuf url;
	char *u, *copy, *save = NULL, *s;

	sbuf_init(&url, 16384);
	sbuf_printf(&url, "%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?");
	if (c->service != NULL) {
		if ((u = url_escape(c, c->service)) == NULL)
			url.failed = 1;
		sbuf_printf(&url, "service=%s", u != NULL ? u : "");
		free(u);
	}
	if ((copy = rp_strdup(scope)) == NULL)
		url.failed = 1;
	for (s = copy != NULL ? strtok_r(copy, " ", &save) : NULL; s != NULL;
	     s = strtok_r(NULL, " ", &save)) {
		if ((u = url_escape(c, s)) == NULL)
			url.failed = 1;
		sbuf_printf(&url, "&scope=%s", u != NULL ? u : "");
		free(u);
	}
	free(copy);
	if (c->username != NULL) {
		if ((u = url_escape(c, c->username)) == NULL)
			url.failed = 1;
		sbuf_printf(&url, "&account=%s", u != NULL ? u : "");
		free(u);
	}
	if (url.failed) {
		sbuf_free(&url);
		return NULL;
	}
	return sbuf_take(&url);
}

/* Stores value as the token of scope, valid for `life` seconds. */
static rp_status
token_store(struct reg_client *c, const char *scope, const char *value,
	    json_int_t life, struct rp_err *err)
{
	struct token *slot = token_find(c, scope);
	char *t;

	if (slot == NULL) {
		struct token *nt = realloc(c->tokens, (c->ntokens + 1) * sizeof(*nt));
		if (nt == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		c->tokens = nt;
		slot = &c->tokens[c->ntokens];
		memset(slot, 0, sizeof(*slot));
		if ((slot->scope = rp_strdup(scope)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		c->ntokens++;
	}
	if ((t = rp_strdup(value)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (slot->value != NULL)
		explicit_bzero(slot->value, strlen(slot->value));
	free(slot->value);
	slot->value = t;
	/* Missing or short lifetimes count as 60 s (the token spec); a huge
	 * one is clamped, so time arithmetic cannot overflow. */
	if (life < TOKEN_LIFE_MIN)
		life = TOKEN_LIFE_MIN;
	if (life > TOKEN_LIFE_MAX)
		life = TOKEN_LIFE_MAX;
	slot->expires = time(NULL) + (time_t)life - 5;
	return RP_OK;
}

/* Fetches a token for `scope` (space-separated scopes) from the realm. */
static rp_status
token_fetch(struct reg_client *c, const char *scope, struct rp_err *err)
{
	struct resp r;
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *basic = NULL, what[64] = "token request";
	json_t *j = NULL, *tok, *exp;
	const char *value;
	rp_status st;
	CURLcode cc;
	int verify, attempts;

	memset(&r, 0, sizeof(r));
	if ((st = realm_check(c, &verify, err)) != RP_OK)
		return st;
	if ((url = token_url(c, scope)) == NULL ||
	    (c->username != NULL && ((basic = basic_header(c)) == NULL ||
				     (hdrs = curl_slist_append(hdrs, basic)) == NULL))) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	cc = reg_exchange(c, "GET", url, hdrs, NULL, 0, REG_SMALL_MAX, verify, &r, &attempts);
	if (cc != CURLE_OK) {
		if (r.interrupted || r.past_deadline || r.too_big || cc == CURLE_OUT_OF_MEMORY)
			st = reg_fail_exchange(c, cc, &r, what, attempts, REG_SMALL_MAX, err);
		else
			st = rp_fail(err, RP_EREGISTRY,
				     "cannot reach the token service of registry %s: %s", c->host,
				     r.errbuf[0] ? r.errbuf : curl_easy_strerror(cc));
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
	value = json_string_value(tok);
	if (!reg_token_valid(value)) {
		st = rp_fail(err, RP_EREGISTRY,
			     "registry %s: the token service answered a token that is not visible "
			     "ASCII (or longer than %d bytes); it was not used", c->host, TOKEN_MAX);
		goto out;
	}
	exp = json_object_get(j, "expires_in");
	(void)rp_secret_add(value);
	if (c->on_secret != NULL)
		c->on_secret(c->secret_ctx, value);
	st = token_store(c, scope, value, json_is_integer(exp) ? json_integer_value(exp) : 0, err);
out:
	if (basic != NULL)
		explicit_bzero(basic, strlen(basic));
	free(basic);
	curl_slist_free_all(hdrs);
	if (j != NULL) {
		/* The token's copy in the JSON tree is freed, not wiped
		 * (jansson's allocator does not wipe); the body it came in is
		 * wiped here, and the cached copy by reg_free. */
		json_decref(j);
	}
	if (r.body.buf != NULL)
		explicit_bzero(r.body.buf, r.body.len);
	resp_free(&r);
	free(url);
	return st;
}

/* Records a Bearer challenge's realm and service. */
static rp_status
set_realm(struct reg_client *c, const struct reg_challenge *ch)
{
	char *realm = rp_strdup(ch->realm), *service = NULL;

	if (realm == NULL || (ch->service[0] != '\0' && (service = rp_strdup(ch->service)) == NULL)) {
		free(realm);
		return RP_ENOMEM;
	}
	free(c->realm);
	free(c->service);
	c->realm = realm;
	c->service = service;
	c->auth = AUTH_BEARER;
	return RP_OK;
}

rp_status
reg_discover(struct reg_client *c, struct rp_err *err)
{
	struct resp r;
	struct reg_challenge ch;
	char *url, q[100];
	CURLcode cc = CURLE_OK;
	int scheme, attempts = 0;
	rp_status st = RP_OK;

	memset(&r, 0, sizeof(r));
	for (scheme = 0; scheme < 2; scheme++) {
		if (scheme == 1 && !c->insecure)
			break;
		free(c->base);
		c->base = rp_asprintf("%s://%s", scheme == 0 ? "https" : "http", c->host);
		if (c->base == NULL || (url = rp_asprintf("%s/v2/", c->base)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		cc = reg_exchange(c, "GET", url, NULL, NULL, 0, REG_SMALL_MAX, !c->insecure, &r,
				  &attempts);
		free(url);
		if (cc == CURLE_OK || r.interrupted || r.past_deadline || cc == CURLE_OUT_OF_MEMORY)
			break;
		/* A connection that is refused outright will not speak http
		 * either; anything else (TLS handshake failed) may. */
		if (cc == CURLE_COULDNT_CONNECT)
			break;
	}
	if (cc != CURLE_OK) {
		if (r.interrupted || r.past_deadline || r.too_big || cc == CURLE_OUT_OF_MEMORY)
			st = reg_fail_exchange(c, cc, &r, "GET /v2/", attempts, REG_SMALL_MAX, err);
		else
			st = rp_fail(err, RP_EREGISTRY, "cannot reach registry %s: %s%s%s%s%s%s", c->host,
				     r.errbuf[0] ? r.errbuf : curl_easy_strerror(cc),
				     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ?
				     " (a registry that serves plain HTTP is used only with " : "",
				     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ?
				     rp_flag("insecure-registry") : "",
				     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ? " " : "",
				     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ? c->host : "",
				     cc == CURLE_SSL_CONNECT_ERROR && !c->insecure ? ")" : "");
		goto out;
	}
	if (r.status == 200) {
		c->auth = AUTH_NONE;
	} else if (r.status == 401 && reg_parse_challenge(r.www, &ch) == 0) {
		if (strcmp(ch.scheme, "bearer") == 0) {
			if (set_realm(c, &ch) != RP_OK)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
		} else if (strcmp(ch.scheme, "basic") == 0) {
			c->auth = AUTH_BASIC;
		} else {
			st = rp_fail(err, RP_EREGISTRY, "registry %s: unsupported auth scheme '%s'",
				     c->host, rp_quote(ch.scheme, 15, q, sizeof(q)));
		}
	} else {
		st = rp_fail(err, RP_EREGISTRY, "registry %s does not answer as an OCI registry "
			     "(GET /v2/: HTTP %ld)", c->host, r.status);
	}
out:
	resp_free(&r);
	return st;
}

void
reg_adopt_discovery(struct reg_client *dst, const struct reg_client *src)
{
	char *base, *realm = NULL, *service = NULL;

	if (dst->base != NULL || src->base == NULL || strcmp(dst->host, src->host) != 0 ||
	    dst->insecure != src->insecure || src->auth == AUTH_UNKNOWN)
		return;
	if ((base = rp_strdup(src->base)) == NULL ||
	    (src->realm != NULL && (realm = rp_strdup(src->realm)) == NULL) ||
	    (src->service != NULL && (service = rp_strdup(src->service)) == NULL)) {
		free(base);
		free(realm);
		return; /* out of memory: dst discovers for itself */
	}
	free(dst->realm);
	free(dst->service);
	dst->base = base;
	dst->realm = realm;
	dst->service = service;
	dst->auth = src->auth;
}

rp_status
reg_auth_header(struct reg_client *c, const char *scope, char **out,
		struct rp_err *err)
{
	struct token *t;
	rp_status st;

	*out = NULL;
	if (c->auth == AUTH_BASIC && c->username != NULL) {
		if ((*out = basic_header(c)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
	} else if (c->auth == AUTH_BEARER) {
		t = token_find(c, scope);
		if (t == NULL || t->value == NULL || t->expires <= time(NULL)) {
			if ((st = token_fetch(c, scope, err)) != RP_OK)
				return st;
			t = token_find(c, scope);
		}
		if ((*out = rp_asprintf("Authorization: Bearer %s", t->value)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	return RP_OK;
}

int
reg_auth_challenged(struct reg_client *c, const struct resp *r, const char *scope)
{
	struct reg_challenge ch;
	struct token *t;

	if (reg_parse_challenge(r->www, &ch) != 0)
		return 0;
	if (strcmp(ch.scheme, "bearer") == 0) {
		if ((c->auth != AUTH_BEARER || c->realm == NULL || strcmp(c->realm, ch.realm) != 0) &&
		    set_realm(c, &ch) != RP_OK)
			return -1;
		c->auth = AUTH_BEARER;
		/* insufficient_scope or an expired token: ask again. */
		if ((t = token_find(c, scope)) != NULL)
			t->expires = 0;
		return 1;
	}
	if (strcmp(ch.scheme, "basic") == 0 && c->username != NULL && c->auth != AUTH_BASIC) {
		c->auth = AUTH_BASIC;
		return 1;
	}
	return 0;
}

