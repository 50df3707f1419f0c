/*
 * tagscheme.c — tag names both ways (see tagscheme.h). The table is the
 * one place a prefix is spelled; reading checks a name is exactly what the
 * making side would write, so a hand-made "feature-Login" or "dev-XYZ" is
 * not taken for one of ours (and is kept by prune as matching no pattern).
 */
#include "tagscheme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TAG_MAX 128 /* the distribution spec's limit */

char *
tagscheme_slug(const char *s)
{
	size_t i, o = 0, n = strlen(s);
	char *out, c;
	int pending_dash = 0;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_') {
			if (pending_dash && o > 0)
				out[o++] = '-';
			pending_dash = 0;
			out[o++] = c;
		} else {
			/* '-' and every other character: one '-' per run. */
			pending_dash = 1;
		}
	}
	out[o] = '\0';
	/* Leading '-' never gets written; trim leading '.', and trailing
	 * '.' and '-' (a trailing dash is still pending, so only dots). */
	while (o > 0 && (out[o - 1] == '.' || out[o - 1] == '-'))
		out[--o] = '\0';
	i = strspn(out, ".-");
	if (i > 0)
		memmove(out, out + i, o - i + 1);
	return out;
}

char *
tagscheme_fit(const char *tag)
{
	char hex[65];
	size_t keep, n = strlen(tag);

	if (n <= TAG_MAX)
		return rp_strdup(tag);
	if (rp_sha256_hex(tag, n, hex) != 0)
		return NULL;
	keep = TAG_MAX - 9;
	while (keep > 1 && (tag[keep - 1] == '-' || tag[keep - 1] == '.'))
		keep--;
	return rp_asprintf("%.*s-%.8s", (int)keep, tag, hex);
}


static const struct tn_info table[TN_KIND_COUNT] = {
	[TN_OTHER] = { "other", "", RP_ENV_DEVELOPMENT, 0, 1 },
	[TN_DEV] = { "dev-<sha>", "dev-", RP_ENV_DEVELOPMENT, 0, 0 },
	[TN_DEV_LATEST] = { "dev-latest", "dev-latest", RP_ENV_DEVELOPMENT, 1, 1 },
	[TN_FEATURE] = { "feature-<branch>", "feature-", RP_ENV_DEVELOPMENT, 1, 0 },
	[TN_TEST] = { "test-<name>", "test-", RP_ENV_TEST, 1, 0 },
	[TN_CANDIDATE] = { "staging-vX.Y.Z-<pre>", "staging-v", RP_ENV_STAGING, 0, 0 },
	[TN_STAGING_LATEST] = { "staging-latest", "staging-latest", RP_ENV_STAGING, 1, 1 },
	[TN_RELEASE] = { "vX.Y.Z", "v", RP_ENV_PRODUCTION, 0, 1 },
	[TN_MINOR] = { "vX.Y", "v", RP_ENV_PRODUCTION, 1, 1 },
	[TN_MAJOR] = { "vX", "v", RP_ENV_PRODUCTION, 1, 1 },
	[TN_LATEST] = { "latest", "latest", RP_ENV_PRODUCTION, 1, 1 },
};

const struct tn_info *
tagscheme_info(enum tn_kind k)
{
	return &table[(unsigned)k < TN_KIND_COUNT ? k : TN_OTHER];
}

static int
has_prefix(const char *s, enum tn_kind k)
{
	return strncmp(s, table[k].prefix, strlen(table[k].prefix)) == 0;
}

/* A number as a SemVer core writes it: digits, no leading zero, at most
 * 2^63-1; *end is set past it. Returns 0 or -1. */
static int
core_number(const char *s, uint64_t *v, const char **end)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > (UINT64_MAX / 2 - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || (i > 1 && s[0] == '0'))
		return -1;
	*v = n;
	*end = s + i;
	return 0;
}

/* v<SemVer> with '_' for '+'; a prerelease only when pre is set. Returns
 * 1 (filled), 0 (not one), -1 (out of memory). */
static int
read_version(const char *s, int pre, struct semver *v)
{
	char buf[160], *u;
	semver_err e;

	/* '+' is no tag character: build metadata is written '_'. */
	if (s[0] != 'v' || strlen(s) >= sizeof(buf) || strchr(s, '+') != NULL)
		return 0;
	memcpy(buf, s, strlen(s) + 1);
	/* Build metadata is the only place a '_' can come from. */
	if ((u = strchr(buf, '_')) != NULL)
		*u = '+';
	if ((e = semver_parse(buf, 1, v)) == SEMVER_NOMEM)
		return -1;
	if (e != SEMVER_OK)
		return 0;
	if (v->pre != NULL && !pre) {
		semver_free(v);
		return 0;
	}
	return 1;
}

/* text is exactly what tagscheme_slug makes of it, and not empty. */
static int
is_slug(const char *text)
{
	char *s;
	int same;

	if (*text == '\0' || (s = tagscheme_slug(text)) == NULL)
		return *text == '\0' ? 0 : -1;
	same = strcmp(s, text) == 0;
	free(s);
	return same;
}

static int
is_dev_sha(const struct policy *pol, const char *hex)
{
	size_t i, n = strlen(hex);

	for (i = 0; i < n; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	if (pol == NULL)
		return n >= 7 && n <= 64;
	/* A SHA-1 commit has 40 digits, whatever more the policy asks. */
	return n == (size_t)pol->sha_length || (n == 40 && pol->sha_length > 40);
}

int
tagscheme_read(const struct policy *pol, const char *tag, struct tn_name *out)
{
	struct tn_name n;
	const char *p;
	int r;

	memset(&n, 0, sizeof(n));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (strcmp(tag, table[TN_DEV_LATEST].prefix) == 0)
		n.kind = TN_DEV_LATEST;
	else if (strcmp(tag, table[TN_STAGING_LATEST].prefix) == 0)
		n.kind = TN_STAGING_LATEST;
	else if (strcmp(tag, table[TN_LATEST].prefix) == 0)
		n.kind = TN_LATEST;
	else if (has_prefix(tag, TN_DEV))
		n.kind = is_dev_sha(pol, tag + strlen(table[TN_DEV].prefix)) ? TN_DEV : TN_OTHER;
	else if (has_prefix(tag, TN_FEATURE) || has_prefix(tag, TN_TEST)) {
		enum tn_kind k = has_prefix(tag, TN_FEATURE) ? TN_FEATURE : TN_TEST;
		if ((r = is_slug(tag + strlen(table[k].prefix))) < 0)
			return -1;
		n.kind = r ? k : TN_OTHER;
	} else if (has_prefix(tag, TN_CANDIDATE)) {
		if ((r = read_version(tag + strlen("staging-"), 1, &n.v)) < 0)
			return -1;
		n.kind = r ? TN_CANDIDATE : TN_OTHER;
	} else if (tag[0] == 'v') {
		if ((r = read_version(tag, 0, &n.v)) < 0)
			return -1;
		if (r)
			n.kind = TN_RELEASE;
		else if (core_number(tag + 1, &n.v.major, &p) == 0 && *p == '\0')
			n.kind = TN_MAJOR;
		else if (core_number(tag + 1, &n.v.major, &p) == 0 && *p == '.' &&
			 core_number(p + 1, &n.v.minor, &p) == 0 && *p == '\0')
			n.kind = TN_MINOR;
	}
	if (n.kind == TN_OTHER || n.kind == TN_MAJOR) {
		uint64_t major = n.kind == TN_MAJOR ? n.v.major : 0;
		semver_free(&n.v);
		memset(&n.v, 0, sizeof(n.v));
		n.v.major = major;
	}
	if (out != NULL)
		*out = n;
	else
		semver_free(&n.v);
	return (int)n.kind;
}

void
tagscheme_name_free(struct tn_name *n)
{
	if (n == NULL)
		return;
	semver_free(&n->v);
	n->kind = TN_OTHER;
}

char *
tagscheme_dev(const struct policy *pol, const char *sha)
{
	size_t i, n = strlen(sha);
	char *tag;

	if (n > (size_t)pol->sha_length)
		n = (size_t)pol->sha_length;
	if ((tag = rp_asprintf("%s%.*s", table[TN_DEV].prefix, (int)n, sha)) == NULL)
		return NULL;
	for (i = strlen(table[TN_DEV].prefix); tag[i] != '\0'; i++)
		if (tag[i] >= 'A' && tag[i] <= 'F')
			tag[i] = (char)(tag[i] - 'A' + 'a');
	return tag;
}

char *
tagscheme_version(enum tn_kind k, const struct semver *v)
{
	const char *us = v != NULL && v->build != NULL ? "_" : "";
	const char *b = v != NULL && v->build != NULL ? v->build : "";

	switch (k) {
	case TN_DEV_LATEST:
	case TN_STAGING_LATEST:
	case TN_LATEST:
		return rp_strdup(table[k].prefix);
	case TN_CANDIDATE:
		return rp_asprintf("%s%ju.%ju.%ju%s%s%s%s", table[k].prefix, (uintmax_t)v->major,
				   (uintmax_t)v->minor, (uintmax_t)v->patch, v->pre != NULL ? "-" : "",
				   v->pre != NULL ? v->pre : "", us, b);
	case TN_RELEASE:
		return rp_asprintf("v%ju.%ju.%ju%s%s", (uintmax_t)v->major, (uintmax_t)v->minor,
				   (uintmax_t)v->patch, us, b);
	case TN_MINOR:
		return rp_asprintf("v%ju.%ju", (uintmax_t)v->major, (uintmax_t)v->minor);
	case TN_MAJOR:
		return rp_asprintf("v%ju", (uintmax_t)v->major);
	default:
		return NULL;
	}
}

int
tagscheme_newest(char *const *tags, enum tn_kind k,
		 int (*accept)(const struct semver *v, const void *ctx),
		 const void *ctx, const char **best, const char **tie)
{
	struct tn_name top = { 0 }, n;
	size_t i;
	int c;

	*best = NULL;
	if (tie != NULL)
		*tie = NULL;
	for (i = 0; tags != NULL && tags[i] != NULL; i++) {
		int r = tagscheme_read(NULL, tags[i], &n);
		if (r < 0) {
			tagscheme_name_free(&top);
			*best = NULL;
			return -1;
		}
		if (r != (int)k || (accept != NULL && !accept(&n.v, ctx))) {
			tagscheme_name_free(&n);
			continue;
		}
		c = *best == NULL ? 1 : semver_cmp(&n.v, &top.v);
		if (c > 0) {
			tagscheme_name_free(&top);
			top = n;
			*best = tags[i];
			if (tie != NULL)
				*tie = NULL;
			continue;
		}
		if (c == 0 && tie != NULL)
			*tie = tags[i];
		tagscheme_name_free(&n);
	}
	tagscheme_name_free(&top);
	return 0;
}

int
tagscheme_attachment(const char *tag, char subject[RP_DIGEST_MAX])
{
	static const char *const suffixes[] = { ".sig", ".att", ".sbom" };
	size_t i;

	if (strncmp(tag, "sha256-", 7) != 0)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((tag[7 + i] >= '0' && tag[7 + i] <= '9') || (tag[7 + i] >= 'a' && tag[7 + i] <= 'f')))
			return 0;
	for (i = 0; i < 3; i++)
		if (strcmp(tag + 71, suffixes[i]) == 0)
			break;
	if (i == 3)
		return 0;
	if (subject != NULL)
		snprintf(subject, RP_DIGEST_MAX, "sha256:%.64s", tag + 7);
	return 1;
}
