/* reg.h — reading a test registry directly over HTTP (libcurl), so the
 * tests check the registry itself, never only what regpush says. */
#ifndef RP_TEST_REG_H
#define RP_TEST_REG_H

struct reg {
	const char *host;     /* 127.0.0.1:port */
	int tls;              /* https with the test CA and basic auth */
};

/* The plain and TLS test registries from the environment. */
struct reg reg_plain(void);
struct reg reg_tls(void);

/* GET /v2/<repo>/manifests/<ref> with the four manifest media types.
 * Returns the HTTP status; on 200 fills *body (caller frees, may be NULL)
 * and digest (the Docker-Content-Digest header, checked against the
 * sha256 of the body). */
long reg_manifest(struct reg r, const char *repo, const char *ref,
		  char **body, char digest[80]);

/* The repository's tags, sorted, joined by spaces ("" when none or 404). */
char *reg_tags(struct reg r, const char *repo);

/* sha256 digest of a source image's manifest, read with skopeo inspect
 * --raw (for an index: the index itself). */
char *source_digest(const char *transport_ref);

#endif
