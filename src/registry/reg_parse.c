/*
 * reg_parse.c — the registry's headers, read without trusting them:
 * WWW-Authenticate challenges, Link pagination, Retry-After; and the URL
 * and media-type checks the client makes before it acts on an answer.
 */
#include "reg_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const reg_manifest_types[4] = {
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
};

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

/* The path (and query) of an absolute http(s) URL, or the URL itself
 * when it is already a path; NULL when an absolute URL has no path. */
const char *
reg_url_path(const char *url)
{
	if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
		return strchr(strstr(url, "://") + 3, '/');
	return url;
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
		/* Absolute (Quay): keep path and query only. */
		if ((path = reg_url_path(url)) == NULL || strncmp(path, "/v2/", 4) != 0) {
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
	if ((t = curl_getdate(v, NULL)) < 0)
		return -1;
	n = (long)t - now;
	if (n < 0)
		n = 0;
	return n > 60 ? 60 : n;
}

int
reg_url_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://");
	size_t n;

	if (h == NULL)
		return -1;
	h += 3;
	n = strcspn(h, "/?#");
	/* userinfo@host is not a registry's realm */
	if (n == 0 || n >= size || memchr(h, '@', n) != NULL)
		return -1;
	memcpy(out, h, n);
	out[n] = '\0';
	return 0;
}

/* Which of reg_manifest_types mt is (parameters and case ignored), or -1. */
static int
manifest_type_index(const char *mt)
{
	size_t i, n;

	if (mt == NULL)
		return -1;
	n = strcspn(mt, ";");
	while (n > 0 && (mt[n - 1] == ' ' || mt[n - 1] == '\t'))
		n--;
	for (i = 0; i < 4; i++)
		if (strlen(reg_manifest_types[i]) == n &&
		    strncasecmp(mt, reg_manifest_types[i], n) == 0)
			return (int)i;
	return -1;
}

int
reg_is_manifest_type(const char *mt)
{
	return manifest_type_index(mt) >= 0;
}

int
reg_manifest_kind(const char *mt)
{
	int i = manifest_type_index(mt);

	return i < 0 ? -1 : i == 0 || i == 2;
}
