/*
 * tagscheme.h — DD-REGISTRY-001's tag names both ways, from one table:
 * made for a plan (tagscheme_dev, tagscheme_version, tagscheme_prefix) and
 * read back into a kind, an environment and a version (tagscheme_read).
 * plan makes the names, floating and promote read releases back, prune
 * classifies by them (and audit will), so a name changes in one place.
 *
 * Only the names regpush itself writes are recognised: dev-<hex> with
 * exactly the policy's sha-length digits, feature-/test- followed by a
 * slug as tagscheme_slug makes it, staging-vX.Y.Z-PRE (a staging-vX.Y.Z
 * without one reads as a candidate too, of higher precedence than every
 * -PRE of X.Y.Z) and vX.Y.Z, with build metadata's '+' written '_', vX.Y, vX and the three `latest`s. Anything
 * else is TN_OTHER ("matches no pattern"). Pure: no I/O.
 */
#ifndef RP_TAGSCHEME_H
#define RP_TAGSCHEME_H

#include "policy.h"
#include "semver.h"

enum tn_kind {
	TN_OTHER = 0,       /* matches no pattern */
	TN_DEV,             /* dev-<sha>             development */
	TN_DEV_LATEST,      /* dev-latest            development, floating */
	TN_FEATURE,         /* feature-<slug>        development, floating */
	TN_TEST,            /* test-<slug>           test, floating */
	TN_CANDIDATE,       /* staging-vX.Y.Z-PRE    staging */
	TN_STAGING_LATEST,  /* staging-latest        staging, floating */
	TN_RELEASE,         /* vX.Y.Z[_BUILD]        production */
	TN_MINOR,           /* vX.Y                  production, floating */
	TN_MAJOR,           /* vX                    production, floating */
	TN_LATEST,          /* latest                production, floating */
	TN_KIND_COUNT
};

struct tn_info {
	const char *name;     /* "dev-<sha>", for messages and JSON */
	const char *prefix;   /* what the tag starts with (the whole tag for
			       * the three latests) */
	enum rp_env env;      /* the environment whose images carry it */
	int floating;         /* moved from image to image */
	int forever;          /* never pruned, whatever the retention */
};

/* The table row of kind k (TN_OTHER included: name "other"). */
const struct tn_info *tagscheme_info(enum tn_kind k);

struct tn_name {
	enum tn_kind kind;
	/* TN_CANDIDATE, TN_RELEASE: the version (pre and build owned);
	 * TN_MINOR: major and minor; TN_MAJOR: major. Zero otherwise. */
	struct semver v;
};

/*
 * The kind of `tag` under pol's sha-length (pol NULL: dev-<hex> of 7 to 64
 * digits), or -1 when out of memory. When out is non-NULL it is filled
 * (free it with tagscheme_name_free); on -1 it is left empty.
 */
int tagscheme_read(const struct policy *pol, const char *tag, struct tn_name *out);

void tagscheme_name_free(struct tn_name *n);

/*
 * The slug of feature and test names: lowercase; each run of characters outside
 * [a-z0-9._-] becomes one '-'; runs of '-' collapse; leading and trailing
 * '-' and '.' are removed. Returns a new string (possibly empty) or NULL
 * when out of memory.
 */
char *tagscheme_slug(const char *s);

/*
 * Fits a tag into 128 characters: a longer one is cut to 119 characters
 * (trailing '-' and '.' removed) followed by '-' and the first 8 hex digits
 * of the SHA-256 of the whole tag. Returns a new string or NULL.
 */
char *tagscheme_fit(const char *tag);

/* dev-<first sha-length hex digits of sha, lowercased>; caller frees;
 * NULL when out of memory. */
char *tagscheme_dev(const struct policy *pol, const char *sha);

/* The tag of kind k (TN_CANDIDATE, TN_RELEASE, TN_MINOR, TN_MAJOR) for
 * version v, or the fixed name of TN_DEV_LATEST, TN_STAGING_LATEST and
 * TN_LATEST; caller frees; NULL when out of memory or k has no such form. */
char *tagscheme_version(enum tn_kind k, const struct semver *v);

/*
 * Sets *best to the tag among `tags` (NULL-terminated) of kind k
 * (TN_CANDIDATE or TN_RELEASE) with the highest precedence for which
 * accept(v, ctx) is non-zero (accept NULL: any), or to NULL when there is
 * none. When tie is non-NULL it is set to another accepted tag of the same
 * precedence (they differ in build metadata only), or NULL. The pointers
 * point into `tags`. Returns 0, or -1 when out of memory (a release it
 * could not read must not be taken for absent).
 */
int tagscheme_newest(char *const *tags, enum tn_kind k,
		     int (*accept)(const struct semver *v, const void *ctx),
		     const void *ctx, const char **best, const char **tie);

/* 1 when tag is cosign's attachment tag of an image, sha256-<64 hex>
 * followed by .sig, .att or .sbom (subject, when not NULL: the image's
 * digest, "sha256:<hex>"); else 0. No policy setting changes these. */
int tagscheme_attachment(const char *tag, char subject[RP_DIGEST_MAX]);

#endif
