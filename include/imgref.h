/*
 * imgref.h — container image references in the distribution grammar
 * (distribution/reference): [domain "/"] path [":" tag] ["@" digest],
 * plus registry locations "host[:port][/path]" and bare tags.
 */
#ifndef RP_IMGREF_H
#define RP_IMGREF_H

#define RP_TAG_MAX 128 /* characters in a tag (the distribution grammar) */

typedef enum imgref_err {
	IMGREF_OK = 0,
	IMGREF_EMPTY,
	IMGREF_DOMAIN,    /* invalid host[:port] */
	IMGREF_NO_DOMAIN, /* a registry must start with a host */
	IMGREF_PATH,      /* invalid repository path component */
	IMGREF_UPPERCASE, /* repository path with uppercase letters */
	IMGREF_TOO_LONG,  /* repository path over 255 characters */
	IMGREF_TAG,       /* invalid tag */
	IMGREF_DIGEST,    /* invalid digest */
	IMGREF_EXTRA,     /* a tag or digest where none is allowed */
	IMGREF_NOMEM,
} imgref_err;

struct imgref {
	char *domain; /* "quay.io", "127.0.0.1:5000", or NULL when absent */
	char *path;   /* "kubernaut/gateway"; NULL only for a bare registry host */
	char *tag;    /* or NULL */
	char *digest; /* "sha256:<64 hex>" or NULL */
};

/* Parses an image reference. The first component is a domain only if it
 * contains '.' or ':', is "localhost", or has an uppercase letter; no
 * default domain is filled in. *out owns its strings (imgref_free). */
imgref_err imgref_parse(const char *s, struct imgref *out);

/* Parses a registry location "host[:port][/path]": a domain is required,
 * no tag or digest is allowed, and a trailing '/' is not. */
imgref_err imgref_parse_registry(const char *s, struct imgref *out);

/* A sentence fragment describing err. */
const char *imgref_strerror(imgref_err err);

/* 1 if t is a valid tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
int imgref_tag_valid(const char *t);

/* 1 if d is "algorithm:hex" in the distribution digest grammar, with the
 * exact length for sha256 (64) and sha512 (128). */
int imgref_digest_valid(const char *d);

/* Frees what r owns and empties it; accepts NULL. */
void imgref_free(struct imgref *r);

#endif
