/*
 * imgref.c — the distribution reference grammar, written as small
 * hand-rolled recognisers (there is no C library for it on Debian). Each
 * recogniser takes a span [s, s+n) and answers yes or no; parsing splits
 * the string on the grammar's separators and checks each span.
 */
#include "imgref.h"

#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 255

static int
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static int
is_lower_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* domain-component: [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static int
domain_component_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* host[:port], where host is dotted components or a bracketed IPv6. */
static int
domain_ok(const char *s, size_t n)
{
	size_t i, start, hostlen;
	const char *colon;

	if (n == 0)
		return 0;
	if (s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!is_hex(s[i]) && s[i] != ':')
				return 0;
		if (i >= n || i == 1)
			return 0;
		hostlen = i + 1;
	} else {
		colon = memchr(s, ':', n);
		hostlen = colon != NULL ? (size_t)(colon - s) : n;
		start = 0;
		for (i = 0; i <= hostlen; i++) {
			if (i == hostlen || s[i] == '.') {
				if (!domain_component_ok(s + start, i - start))
					return 0;
				start = i + 1;
			}
		}
	}
	if (hostlen == n)
		return 1;
	if (s[hostlen] != ':' || hostlen + 1 == n)
		return 0;
	for (i = hostlen + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n - hostlen - 1 <= 5;
}

/* path-component: [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)* */
static int
path_component_ok(const char *s, size_t n)
{
	size_t i = 0, seps;

	while (i < n) {
		if (!is_lower_alnum(s[i]))
			return 0;
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return 1;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			for (seps = 0; i < n && s[i] == '-'; i++)
				seps++;
		} else {
			return 0;
		}
		if (i == n)
			return 0; /* a separator must be followed by alnum */
	}
	return n > 0;
}

static imgref_err
path_ok(const char *s, size_t n)
{
	size_t i, start = 0;
	int upper = 0;

	if (n == 0)
		return IMGREF_PATH;
	if (n > PATH_MAX_LEN)
		return IMGREF_TOO_LONG;
	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			upper = 1;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!path_component_ok(s + start, i - start)) {
				/* Name the uppercase problem only when lowering
				 * would fix it. */
				return upper ? IMGREF_UPPERCASE : IMGREF_PATH;
			}
			start = i + 1;
		}
	}
	return upper ? IMGREF_UPPERCASE : IMGREF_OK;
}

int
imgref_tag_valid(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > RP_TAG_MAX || !(is_alnum(t[0]) || t[0] == '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alnum(t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return 0;
	return 1;
}

int
imgref_digest_valid(const char *d)
{
	const char *colon = strchr(d, ':');
	size_t i, alen, hlen;

	if (colon == NULL)
		return 0;
	alen = (size_t)(colon - d);
	/* algorithm: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* */
	if (alen == 0 || !((d[0] | 0x20) >= 'a' && (d[0] | 0x20) <= 'z'))
		return 0;
	for (i = 1; i < alen; i++) {
		if (is_alnum(d[i]))
			continue;
		if (strchr("-_+.", d[i]) == NULL || i + 1 >= alen ||
		    !((d[i + 1] | 0x20) >= 'a' && (d[i + 1] | 0x20) <= 'z'))
			return 0;
	}
	hlen = strlen(colon + 1);
	for (i = 0; i < hlen; i++)
		if (!is_hex(colon[1 + i]))
			return 0;
	if (alen == 6 && strncmp(d, "sha256", 6) == 0)
		return hlen == 64;
	if (alen == 6 && strncmp(d, "sha512", 6) == 0)
		return hlen == 128;
	return hlen >= 32;
}

/* Splits off a leading domain when the first component looks like one. */
static size_t
domain_len(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n, i;

	if (slash == NULL)
		return 0;
	n = (size_t)(slash - s);
	if (n == 9 && strncmp(s, "localhost", 9) == 0)
		return n;
	for (i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == ':' || (s[i] >= 'A' && s[i] <= 'Z') ||
		    s[i] == '[')
			return n;
	return 0;
}

imgref_err
imgref_parse(const char *s, struct imgref *out)
{
	const char *at, *name, *colon, *slash;
	size_t dlen, nlen;
	imgref_err e;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return IMGREF_EMPTY;
	dlen = domain_len(s);
	if (dlen > 0 && !domain_ok(s, dlen))
		return IMGREF_DOMAIN;
	name = dlen > 0 ? s + dlen + 1 : s;
	at = strchr(name, '@');
	nlen = at != NULL ? (size_t)(at - name) : strlen(name);
	/* A tag is after the last ':' that follows the last '/'. */
	slash = memrchr(name, '/', nlen);
	colon = memrchr(slash != NULL ? slash : name, ':',
			nlen - (size_t)((slash != NULL ? slash : name) - name));
	if (colon != NULL) {
		size_t tlen = nlen - (size_t)(colon + 1 - name);
		if ((out->tag = strndup(colon + 1, tlen)) == NULL)
			return IMGREF_NOMEM;
		if (!imgref_tag_valid(out->tag)) {
			imgref_free(out);
			return IMGREF_TAG;
		}
		nlen = (size_t)(colon - name);
	}
	if ((e = path_ok(name, nlen)) != IMGREF_OK) {
		imgref_free(out);
		return e;
	}
	if (at != NULL && !imgref_digest_valid(at + 1)) {
		imgref_free(out);
		return IMGREF_DIGEST;
	}
	if ((dlen > 0 && (out->domain = strndup(s, dlen)) == NULL) ||
	    (out->path = strndup(name, nlen)) == NULL ||
	    (at != NULL && (out->digest = strdup(at + 1)) == NULL)) {
		imgref_free(out);
		return IMGREF_NOMEM;
	}
	return IMGREF_OK;
}

imgref_err
imgref_parse_registry(const char *s, struct imgref *out)
{
	const char *slash;
	size_t dlen;
	imgref_err e;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return IMGREF_EMPTY;
	slash = strchr(s, '/');
	dlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (!domain_ok(s, dlen))
		return IMGREF_DOMAIN;
	if (slash == NULL && memchr(s, '.', dlen) == NULL &&
	    memchr(s, ':', dlen) == NULL && strcmp(s, "localhost") != 0)
		return IMGREF_NO_DOMAIN;
	if (slash != NULL) {
		if (strpbrk(slash, "@") != NULL ||
		    strchr(slash, ':') != NULL)
			return IMGREF_EXTRA;
		if ((e = path_ok(slash + 1, strlen(slash + 1))) != IMGREF_OK)
			return e;
	}
	if ((out->domain = strndup(s, dlen)) == NULL ||
	    (slash != NULL && (out->path = strdup(slash + 1)) == NULL)) {
		imgref_free(out);
		return IMGREF_NOMEM;
	}
	return IMGREF_OK;
}

const char *
imgref_strerror(imgref_err err)
{
	switch (err) {
	case IMGREF_OK: return "no error";
	case IMGREF_EMPTY: return "empty reference";
	case IMGREF_DOMAIN: return "invalid registry host (expected host[:port], e.g. quay.io or 127.0.0.1:5000)";
	case IMGREF_NO_DOMAIN: return "a registry must start with a host name containing '.' or ':', or localhost";
	case IMGREF_PATH: return "invalid repository name (lowercase [a-z0-9] components separated by '/', '.', '_', '__' or '-')";
	case IMGREF_UPPERCASE: return "repository name must be lowercase";
	case IMGREF_TOO_LONG: return "repository name longer than 255 characters";
	case IMGREF_TAG: return "invalid tag (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
	case IMGREF_DIGEST: return "invalid digest (expected sha256:<64 hex digits>)";
	case IMGREF_EXTRA: return "a registry takes no tag or digest";
	case IMGREF_NOMEM: return "out of memory";
	}
	return "unknown error";
}

void
imgref_free(struct imgref *r)
{
	if (r == NULL)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}
