/*
 * semver.h — strict Semantic Versioning 2.0.0: parse, validate, compare by
 * precedence (spec §11). Build metadata is kept but never affects
 * precedence.
 */
#ifndef RP_SEMVER_H
#define RP_SEMVER_H

#include <stdint.h>

typedef enum semver_err {
	SEMVER_OK = 0,
	SEMVER_EMPTY,        /* nothing to parse */
	SEMVER_PREFIX,       /* a prefix other than a lowercase v */
	SEMVER_CORE,         /* not MAJOR.MINOR.PATCH */
	SEMVER_LEADING_ZERO, /* 01 in the core or a numeric prerelease id */
	SEMVER_TOO_LARGE,    /* a core number above 2^63-1 */
	SEMVER_PRERELEASE,   /* empty or invalid prerelease identifier */
	SEMVER_BUILD,        /* empty or invalid build identifier */
	SEMVER_NOMEM,
} semver_err;

struct semver {
	uint64_t major, minor, patch;
	char *pre;   /* "rc.1" without the '-', or NULL; owned */
	char *build; /* "build.5" without the '+', or NULL; owned */
};

/* Parses s. A single leading lowercase 'v' is accepted when allow_v is
 * set. On success *out owns its strings (free with semver_free); on error
 * *out is left empty. */
semver_err semver_parse(const char *s, int allow_v, struct semver *out);

/* A sentence-fragment describing err, e.g. "leading zero in a number". */
const char *semver_strerror(semver_err err);

/* <0, 0, >0 as a has lower, equal or higher precedence than b. */
int semver_cmp(const struct semver *a, const struct semver *b);

/* Frees what v owns and empties it; accepts NULL. */
void semver_free(struct semver *v);

#endif
