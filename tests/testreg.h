/* testreg.h — reading a test registry directly over HTTP (libcurl), so the
 * tests check the registry itself, never only what regpush says. */
#ifndef RP_TEST_TREG_H
#define RP_TEST_TREG_H

#include <stddef.h>

struct treg {
	const char *host;     /* 127.0.0.1:port */
	int tls;              /* https with the test CA and basic auth */
};

/* The plain and TLS test registries from the environment. */
struct treg treg_plain(void);
struct treg treg_tls(void);

/* 1 when "plain" is go-containerregistry's registry (tests/on-registry.sh
 * ggcr), 0 for distribution 2.8: for the behaviours the two
 * implementations legitimately differ in (tag DELETE, tags kept on a
 * digest delete, blobs visible from every repository, n honoured). */
int treg_ggcr(void);

/* For tests whose registries are the TLS, htpasswd and token peers
 * (distribution 2.8, one set for the whole run): the ggcr pass would
 * find the distribution pass's writes there, so it skips them. */
#define TREG_DISTRIBUTION_PEERS_ONLY()                                                   \
	do {                                                                             \
		if (treg_ggcr())                                                         \
			cr_skip_test("writes to the distribution-only TLS/token peers"); \
	} while (0)

/* GET /v2/<repo>/manifests/<ref> with the four manifest media types.
 * Returns the HTTP status; on 200 fills *body (caller frees, may be NULL)
 * and digest (the Docker-Content-Digest header, checked against the
 * sha256 of the body). */
long treg_manifest(struct treg r, const char *repo, const char *ref,
		  char **body, char digest[80]);

/* GET /v2/<repo>/blobs/<digest>: the HTTP status, the body in *body
 * (caller frees). */
long treg_blob(struct treg r, const char *repo, const char *digest, char **body);

/* The repository's tags, sorted, joined by spaces ("" when none or 404). */
char *treg_tags(struct treg r, const char *repo);

/* The number of layers of repo's cosign attachment sha256-<hex>.<suffix>
 * ("sig", "att", "sbom") of digest, 0 when there is none; its manifest
 * digest in att_digest (may be NULL). */
size_t treg_attachment_layers(struct treg r, const char *repo, const char *digest,
			      const char *suffix, char att_digest[80]);

/* Copies the image src (a transport reference) to repo:tag in the plain
 * registry with skopeo (--all, digests preserved); asserts it worked. */
void treg_copy_in(const char *src, const char *repo, const char *tag);

/* sha256 digest of a source image's manifest, read with skopeo inspect
 * --raw (for an index: the index itself). */
char *source_digest(const char *transport_ref);

/* Every tag in `tags` (space separated) of repo points at digest
 * (cr_expect per tag). */
void expect_tags_at(struct treg r, const char *repo, const char *tags,
		    const char *digest);

/* The status ("pushed", "kept", ...) of plan tag i in a --json report
 * (a json_t *); NULL when absent. */
const char *report_status(void *json, size_t i);

#endif
