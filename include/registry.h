/*
 * registry.h — an OCI Distribution client over libcurl and jansson: ping,
 * tag listing, manifest HEAD/GET/PUT/DELETE, tag removal, blob HEAD,
 * upload and cross-repository mount; anonymous, Basic and Bearer-token
 * auth; retries with backoff for 429, 5xx and connection errors; every
 * body, every request and every tag listing bounded; every wait
 * interruptible by SIGINT/SIGTERM/SIGHUP (sig.h).
 *
 * One client talks to one registry host and keeps its connection, auth
 * scheme and tokens between requests.
 */
#ifndef RP_REGISTRY_H
#define RP_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "settings.h"
#include "util.h"

struct reg_client;

struct reg_config {
	const char *host;       /* "quay.io", "127.0.0.1:5000" */
	int insecure;           /* this host: plain HTTP or unverified TLS allowed */
	char *const *insecure_hosts; /* every --insecure-registry (a token realm
				 * on one of them may be plain HTTP); may be NULL */
	const char *cert_dir;   /* extra CAs (*.crt); NULL: certs.d/<host> */
	const char *username;   /* NULL: anonymous */
	const char *password;
	const char *account;    /* for messages: "dev account 'robot'" */
	/* Called with every secret the client learns (a token) before it is
	 * used, so the caller can mask it in its log; NULL: not called. */
	void (*on_secret)(void *ctx, const char *secret);
	void *secret_ctx;
	const struct rp_settings *settings; /* timeouts, attempts, paging;
				 * NULL: the defaults */
};

/* Size limits of response bodies. */
#define REG_MANIFEST_MAX (4 * 1024 * 1024)
#define REG_TAGS_PAGE_MAX (4 * 1024 * 1024)
#define REG_SMALL_MAX (64 * 1024)
#define REG_TAGS_MAX 100000 /* tags in one repository */
#define REG_WINDOW 256      /* requests of one batch alive at once (HEADs, DELETEs) */

/* Creates a client; copies what it needs from cfg. Never touches the
 * network. Returns NULL (err set) when out of memory. reg_free accepts
 * NULL and wipes the secrets it held. */
struct reg_client *reg_new(const struct reg_config *cfg, struct rp_err *err);
void reg_free(struct reg_client *c);

/* From now on the client gives up `seconds` from now (an earlier
 * deadline stays): for a last, best-effort read. */
void reg_limit(struct reg_client *c, double seconds);

/* Waits ms milliseconds; a signal (sig.h) ends the wait with an error. */
rp_status reg_pause(struct reg_client *c, long ms, struct rp_err *err);

/* libcurl's global cleanup, when a client was ever made (at exit). */
void reg_global_cleanup(void);

/* GET /v2/: checks the registry answers and learns its auth scheme. */
rp_status reg_ping(struct reg_client *c, struct rp_err *err);

/* All tags of repo, following Link pagination (relative or absolute),
 * each once. A repository the registry does not know has no tags (*out
 * empty). Cycles, runaway pagination (over 1000 pages) and a listing
 * slower than REGPUSH_TAGS_TIMEOUT (default 300 s) are errors. *out is a
 * NULL-terminated vector (rp_strv_free). */
rp_status reg_tags(struct reg_client *c, const char *repo, char ***out,
		   struct rp_err *err);

struct reg_manifest {
	char *bytes;      /* exact bytes (owned) */
	size_t len;
	char *media_type; /* one of the four manifest types (owned) */
	char digest[RP_DIGEST_MAX]; /* sha256 of bytes, checked against the header */
};

/* HEAD: *digest is "" when the tag or digest does not exist. */
rp_status reg_manifest_head(struct reg_client *c, const char *repo,
			    const char *ref, char digest[RP_DIGEST_MAX],
			    struct rp_err *err);

/* GET: the exact bytes and their media type — the Content-Type when it
 * is a manifest type, else the document's mediaType, else an error (so a
 * later PUT can never send text/html). RP_EREGISTRY when absent. Free
 * with reg_manifest_free (accepts an emptied struct). */
rp_status reg_manifest_get(struct reg_client *c, const char *repo,
			   const char *ref, struct reg_manifest *m,
			   struct rp_err *err);

/* GET several manifests at once (8 connections), each checked as
 * reg_manifest_get checks it; ms[i] for refs[i]. On error none is kept. */
rp_status reg_manifest_get_many(struct reg_client *c, const char *repo,
				char *const *refs, size_t n, struct reg_manifest *ms,
				struct rp_err *err);
/* The same, where a 404 is an answer: that ms[i] stays empty (bytes
 * NULL) — a manifest deleted meanwhile, or an index's missing entry. */
rp_status reg_manifest_get_some(struct reg_client *c, const char *repo,
				char *const *refs, size_t n, struct reg_manifest *ms,
				struct rp_err *err);

/* reg_manifest_get_some, each manifest parsed into out (a JSON object)
 * under its ref: one that is gone (404) is absent, bytes that are no JSON
 * an empty object. With keys (refs are tags read for keys[i], a digest),
 * under keys[i], and only when the bytes served have that digest. */
rp_status reg_manifests_json(struct reg_client *c, const char *repo, char *const *refs,
			     char *const *keys, size_t n, json_t *out, struct rp_err *err);

/* 1: an index (OCI index, Docker manifest list); 0: an image manifest;
 * -1: not a manifest type (a missing or odd Content-Type). */
int reg_manifest_kind(const char *mt);

/* bytes read from `who` (a manifest or config: `what`) parsed as JSON;
 * NULL with err set when they are not JSON (RP_EREGISTRY, naming who and
 * the position) or memory ran out (RP_ENOMEM). */
json_t *reg_json(const char *who, const char *bytes, size_t len, const char *what,
		 struct rp_err *err);

/* The largest image config regpush reads (reg_blob_get_many's max). */
#define REG_CONFIG_MAX (4 * 1024 * 1024)

/* GET several small blobs at once, each checked against its digest;
 * out[i] (caller frees) and lens[i] for digests[i]. */
rp_status reg_blob_get_many(struct reg_client *c, const char *repo,
			    char *const *digests, size_t n, size_t max, char **out,
			    size_t *lens, struct rp_err *err);

/* reg_manifest_head_many, also saying from each answer's Content-Type
 * whether it is an index (kinds[i]: 1), an image manifest (0) or cannot
 * be told (-1). HEADs go in windows of REG_WINDOW. */
rp_status reg_manifest_head_kinds(struct reg_client *c, const char *repo, char *const *refs,
				  size_t n, char (*digests)[RP_DIGEST_MAX], signed char *kinds,
				  struct rp_err *err);

/* DELETE several manifests at once; a reference already gone counts as
 * deleted. Returns how many failed; errors[i] (caller frees) says why. */
size_t reg_manifest_delete_many(struct reg_client *c, const char *repo,
				char *const *refs, size_t n, char **errors);

/* PUT the bytes under ref with Content-Type media_type. The digest the
 * registry reports must equal m->digest. */
rp_status reg_manifest_put(struct reg_client *c, const char *repo,
			   const char *ref, const struct reg_manifest *m,
			   struct rp_err *err);

/* HEAD (or PUT the same manifest under) several references at once:
 * concurrently after the first, so n tags cost about one round trip.
 * digests[i] is "" for an absent reference. */
rp_status reg_manifest_head_many(struct reg_client *c, const char *repo,
				 char *const *refs, size_t n,
				 char (*digests)[RP_DIGEST_MAX], struct rp_err *err);
rp_status reg_manifest_put_many(struct reg_client *c, const char *repo,
				char *const *refs, size_t n,
				const struct reg_manifest *m, struct rp_err *err);

/* DELETE /manifests/<digest> (every tag on it goes) or /manifests/<tag>
 * (that tag only, where the registry supports it). */
rp_status reg_manifest_delete(struct reg_client *c, const char *repo,
			      const char *ref, struct rp_err *err);

/* DELETE of a tag by name. *done is 1 when the tag is gone (or was),
 * 0 when this registry does not delete tags (400/405: distribution 2.x);
 * the answer is remembered (reg_deletes_tags: 1 yes, -1 no, 0 unknown). */
rp_status reg_tag_delete(struct reg_client *c, const char *repo, const char *tag, int *done,
			 struct rp_err *err);
int reg_deletes_tags(const struct reg_client *c);
void reg_learn_tag_delete(struct reg_client *c, long status);

/* reg_untag of each tag: concurrently where the registry deletes tags
 * (the first answer says), else one by one. Returns how many failed;
 * errors[i] (caller frees) says why. */
size_t reg_untag_many(struct reg_client *c, const char *repo, char *const *tags, size_t n,
		      char **errors);

/* Removes tag and nothing else: DELETE of the tag where the registry
 * supports it; else the tag is moved onto a tiny manifest of its own,
 * which is then deleted by digest. An absent tag is RP_OK. */
rp_status reg_untag(struct reg_client *c, const char *repo, const char *tag,
		    struct rp_err *err);

/* HEAD a blob: *exists is 0 or 1. */
rp_status reg_blob_head(struct reg_client *c, const char *repo,
			const char *digest, int *exists, struct rp_err *err);

/* GET a blob of at most max bytes (an image config), checked against its
 * digest; one redirect is followed, without credentials. *out is owned
 * by the caller. */
rp_status reg_blob_get(struct reg_client *c, const char *repo, const char *digest,
		       size_t max, char **out, size_t *len, struct rp_err *err);

/* Uploads a small blob (POST, then PUT with the digest); its digest goes
 * to *digest. */
rp_status reg_blob_put(struct reg_client *c, const char *repo, const void *data,
		       size_t len, char digest[RP_DIGEST_MAX], struct rp_err *err);

/* POST ?mount=<digest>&from=<from>: *mounted is 1 on 201; on 202 the
 * upload session the registry opened is cancelled and *mounted is 0. */
rp_status reg_blob_mount(struct reg_client *c, const char *repo,
			 const char *from, const char *digest, int *mounted,
			 struct rp_err *err);

/* reg_blob_mount for several blobs at once (8 connections); *mounted is 0
 * when any one was not mounted (its upload session cancelled). */
rp_status reg_blob_mount_many(struct reg_client *c, const char *repo,
			      const char *from, char *const *digests, size_t n,
			      int *mounted, struct rp_err *err);

/* reg_manifest_get, except that a manifest that is not there (404) is no
 * error: m is left empty (m->bytes NULL). */
rp_status reg_manifest_find(struct reg_client *c, const char *repo,
			    const char *ref, struct reg_manifest *m,
			    struct rp_err *err);

/* Lets dst, a client for the same host as src, skip its own GET /v2/:
 * it takes src's scheme and auth challenge (never its tokens). Nothing
 * happens when the hosts or their insecure settings differ, or when src
 * has not talked to its registry yet. */
void reg_adopt_discovery(struct reg_client *dst, const struct reg_client *src);

/* reg_manifest_head_many and, when tags is not NULL, reg_tags, all at
 * once: the tag list's first page is read together with the HEADs. When
 * first is not NULL, refs[0] is read with a GET instead, its manifest
 * (checked as reg_manifest_get does) left in *first — empty when refs[0]
 * is not there (reg_manifest_free it either way). */
rp_status reg_view(struct reg_client *c, const char *repo, char *const *refs,
		   size_t n, char (*digests)[RP_DIGEST_MAX], char ***tags,
		   struct reg_manifest *first, struct rp_err *err);

void reg_manifest_free(struct reg_manifest *m);

#endif
