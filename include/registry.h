/*
 * registry.h — an OCI Distribution client over libcurl and jansson: ping,
 * tag listing, manifest HEAD/GET/PUT/DELETE, tag DELETE, blob HEAD and
 * cross-repository mount; anonymous, Basic and Bearer-token auth; retries
 * with backoff for 429, 5xx and connection errors; every body and every
 * request bounded.
 *
 * One client talks to one registry host and keeps its connection, auth
 * scheme and tokens between requests.
 */
#ifndef RP_REGISTRY_H
#define RP_REGISTRY_H

#include <stddef.h>

#include "util.h"

struct reg_client;

struct reg_config {
	const char *host;       /* "quay.io", "127.0.0.1:5000" */
	int insecure;           /* plain HTTP or unverified TLS allowed */
	const char *cert_dir;   /* extra CAs (*.crt); NULL: certs.d/<host> */
	const char *username;   /* NULL: anonymous */
	const char *password;
	const char *account;    /* for messages: "dev account 'robot'" */
};

/* Size limits of response bodies. */
#define REG_MANIFEST_MAX (4 * 1024 * 1024)
#define REG_TAGS_PAGE_MAX (4 * 1024 * 1024)
#define REG_SMALL_MAX (64 * 1024)
#define REG_TAGS_MAX 100000 /* tags in one repository */

/* The four manifest media types, for Accept. */
extern const char *const reg_manifest_types[4];

/* Creates a client; copies what it needs from cfg. Never touches the
 * network. Returns NULL (err set) when out of memory. */
struct reg_client *reg_new(const struct reg_config *cfg, struct rp_err *err);
void reg_free(struct reg_client *c);

/* GET /v2/: checks the registry answers and learns its auth scheme. */
rp_status reg_ping(struct reg_client *c, struct rp_err *err);

/* All tags of repo, following Link pagination (relative or absolute).
 * A repository the registry does not know has no tags (*out = empty).
 * *out is a NULL-terminated vector (rp_strv_free). */
rp_status reg_tags(struct reg_client *c, const char *repo, char ***out,
		   struct rp_err *err);

struct reg_manifest {
	char *bytes;      /* exact bytes (owned) */
	size_t len;
	char *media_type; /* Content-Type (owned) */
	char digest[80];  /* sha256 of bytes, checked against the header */
};

/* HEAD: *digest is "" when the tag or digest does not exist. */
rp_status reg_manifest_head(struct reg_client *c, const char *repo,
			    const char *ref, char digest[80], struct rp_err *err);

/* GET: the exact bytes and media type; RP_EREGISTRY when absent. */
rp_status reg_manifest_get(struct reg_client *c, const char *repo,
			   const char *ref, struct reg_manifest *m,
			   struct rp_err *err);

/* PUT the bytes under ref with Content-Type media_type. The digest the
 * registry reports must equal m->digest. */
rp_status reg_manifest_put(struct reg_client *c, const char *repo,
			   const char *ref, const struct reg_manifest *m,
			   struct rp_err *err);

/* HEAD (or PUT the same manifest under) several references at once:
 * concurrently after the first, so n tags cost about one round trip.
 * digests[i] is "" for an absent reference. */
rp_status reg_manifest_head_many(struct reg_client *c, const char *repo,
				 char *const *refs, size_t n, char (*digests)[80],
				 struct rp_err *err);
rp_status reg_manifest_put_many(struct reg_client *c, const char *repo,
				char *const *refs, size_t n,
				const struct reg_manifest *m, struct rp_err *err);

/* DELETE /manifests/<digest> (every tag on it goes) or /manifests/<tag>
 * (that tag only, where the registry supports it). */
rp_status reg_manifest_delete(struct reg_client *c, const char *repo,
			      const char *ref, struct rp_err *err);

/* HEAD a blob: *exists is 0 or 1. */
rp_status reg_blob_head(struct reg_client *c, const char *repo,
			const char *digest, int *exists, struct rp_err *err);

/* POST ?mount=<digest>&from=<from>: *mounted is 1 on 201; on 202 the
 * upload session the registry opened is cancelled and *mounted is 0. */
rp_status reg_blob_mount(struct reg_client *c, const char *repo,
			 const char *from, const char *digest, int *mounted,
			 struct rp_err *err);

void reg_manifest_free(struct reg_manifest *m);

/* HTTP requests made so far (including token requests and retries). */
unsigned reg_requests(const struct reg_client *c);

/* Exposed for tests: WWW-Authenticate parsing. Fills scheme ("bearer",
 * "basic", lowercased), realm, service, scope, error (each "" if absent).
 * Returns 0, or -1 for a header it cannot read. */
struct reg_challenge {
	char scheme[16];
	char realm[1024];
	char service[256];
	char scope[1024];
	char error[64];
};
int reg_parse_challenge(const char *header, struct reg_challenge *ch);

/* Exposed for tests: the next-page path from a Link header, relative
 * ("</v2/x/tags/list?n=2&last=b>; rel=\"next\"") or absolute; NULL when
 * there is none. Caller frees. */
char *reg_link_next(const char *link);

/* Exposed for tests: Retry-After in seconds (delta or HTTP date, relative
 * to now), capped at 60; -1 when absent or unreadable. */
long reg_retry_after(const char *value, long now);

#endif
