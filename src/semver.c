/*
 * semver.c — Semantic Versioning 2.0.0, strictly: no leading zeros,
 * no empty identifiers, identifiers only [0-9A-Za-z-], only a lowercase
 * 'v' prefix (and only when the caller allows one). Numbers in the core are
 * held as uint64; numeric prerelease identifiers are compared as strings
 * (length first), so they may be of any size.
 */
#include "semver.h"

#include <stdlib.h>
#include <string.h>

static int
is_ident_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/* Parses one core number ending at a byte in `stops` (or NUL). */
static semver_err
parse_num(const char **pp, const char *stops, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return SEMVER_CORE;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return SEMVER_LEADING_ZERO;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(*p - '0')) / 10)
			return SEMVER_TOO_LARGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' && strchr(stops, *p) == NULL)
		return SEMVER_CORE;
	*out = v;
	*pp = p;
	return SEMVER_OK;
}

/* Validates dot-separated identifiers in s[0..n). */
static int
valid_idents(const char *s, size_t n, int prerelease)
{
	size_t i = 0, start;

	if (n == 0)
		return 0;
	while (i <= n) {
		start = i;
		while (i < n && s[i] != '.') {
			if (!is_ident_char(s[i]))
				return 0;
			i++;
		}
		if (i == start)
			return 0; /* empty identifier */
		if (prerelease && i - start > 1 && s[start] == '0' &&
		    all_digits(s + start, i - start))
			return 0; /* leading zero in a numeric identifier */
		i++;
	}
	return 1;
}

semver_err
semver_parse(const char *s, int allow_v, struct semver *out)
{
	const char *p, *plus, *dash_end;
	semver_err e;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return SEMVER_EMPTY;
	p = s;
	if (*p == 'v' && allow_v)
		p++;
	if (*p < '0' || *p > '9')
		return (*p == '\0') ? SEMVER_CORE : SEMVER_PREFIX;
	if ((e = parse_num(&p, ".", &out->major)) != SEMVER_OK)
		return e;
	if (*p++ != '.')
		return SEMVER_CORE;
	if ((e = parse_num(&p, ".", &out->minor)) != SEMVER_OK)
		return e;
	if (*p++ != '.')
		return SEMVER_CORE;
	if ((e = parse_num(&p, "-+", &out->patch)) != SEMVER_OK)
		return e;

	plus = strchr(p, '+');
	dash_end = plus != NULL ? plus : p + strlen(p);
	if (*p == '-') {
		size_t n = (size_t)(dash_end - (p + 1));
		if (!valid_idents(p + 1, n, 1))
			return SEMVER_PRERELEASE;
		if ((out->pre = strndup(p + 1, n)) == NULL)
			return SEMVER_NOMEM;
	}
	if (plus != NULL) {
		if (!valid_idents(plus + 1, strlen(plus + 1), 0)) {
			semver_free(out);
			return SEMVER_BUILD;
		}
		if ((out->build = strdup(plus + 1)) == NULL) {
			semver_free(out);
			return SEMVER_NOMEM;
		}
	}
	return SEMVER_OK;
}

const char *
semver_strerror(semver_err err)
{
	switch (err) {
	case SEMVER_OK: return "no error";
	case SEMVER_EMPTY: return "empty version";
	case SEMVER_PREFIX: return "only a lowercase 'v' may precede the version";
	case SEMVER_CORE: return "not of the form MAJOR.MINOR.PATCH";
	case SEMVER_LEADING_ZERO: return "leading zero in a number";
	case SEMVER_TOO_LARGE: return "number too large";
	case SEMVER_PRERELEASE: return "invalid prerelease (identifiers are non-empty [0-9A-Za-z-], numbers without leading zeros)";
	case SEMVER_BUILD: return "invalid build metadata (identifiers are non-empty [0-9A-Za-z-])";
	case SEMVER_NOMEM: return "out of memory";
	}
	return "unknown error";
}

static int
cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/* Compares one prerelease identifier of length an with one of length bn. */
static int
cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
	int anum = all_digits(a, an), bnum = all_digits(b, bn);
	int c;

	if (anum && bnum) {
		/* No leading zeros, so the longer number is the larger. */
		if (an != bn)
			return an < bn ? -1 : 1;
		c = memcmp(a, b, an);
		return (c > 0) - (c < 0);
	}
	if (anum != bnum)
		return anum ? -1 : 1; /* numeric < alphanumeric */
	c = memcmp(a, b, an < bn ? an : bn);
	if (c != 0)
		return (c > 0) - (c < 0);
	return (an > bn) - (an < bn);
}

int
semver_cmp(const struct semver *a, const struct semver *b)
{
	const char *pa, *pb;
	size_t na, nb;
	int c;

	if ((c = cmp_u64(a->major, b->major)) != 0 ||
	    (c = cmp_u64(a->minor, b->minor)) != 0 ||
	    (c = cmp_u64(a->patch, b->patch)) != 0)
		return c;
	if (a->pre == NULL || b->pre == NULL)
		return (a->pre == NULL) - (b->pre == NULL);
	pa = a->pre;
	pb = b->pre;
	for (;;) {
		na = strcspn(pa, ".");
		nb = strcspn(pb, ".");
		if ((c = cmp_ident(pa, na, pb, nb)) != 0)
			return c;
		pa += na;
		pb += nb;
		if (*pa == '\0' || *pb == '\0')
			return (*pa != '\0') - (*pb != '\0');
		pa++;
		pb++;
	}
}

void
semver_free(struct semver *v)
{
	if (v == NULL)
		return;
	free(v->pre);
	free(v->build);
	v->pre = v->build = NULL;
}
