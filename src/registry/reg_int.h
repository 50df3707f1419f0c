/*
 * reg_int.h — what the files of the registry client share, and nothing a
 * caller of registry.h needs:
 *   reg_parse.c  header parsers (challenge, Link, Retry-After)
 *   reg_http.c   one HTTP exchange, the one retry driver, the concurrent
 *                batch, the CA bundle
 *   reg_auth.c   discovery, Basic and Bearer auth, the token cache
 *   reg_request.c new/free, scrubbing, the request loop, batches
 *   registry.c   the API
 * Tests include this header to reach the parsers (curl's UNITTEST idea:
 * helpers stay out of the public API but not out of reach).
 */
#ifndef RP_REG_INT_H
#define RP_REG_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <time.h>

#include "imgref.h"
#include "registry.h"

enum auth_scheme { AUTH_UNKNOWN = 0, AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
	char *scope;   /* space-separated scope set (owned) */
	char *value;   /* visible ASCII only (owned, wiped on free) */
	time_t expires;
};

struct reg_client {
	CURL *curl;
	CURLM *multi;          /* for concurrent HEADs and PUTs; lazily made */
	char *host;
	char *base;            /* "https://host" once known */
	int insecure;          /* this host is an --insecure-registry */
	char **insecure_hosts; /* every --insecure-registry (owned vector) */
	char *username, *password, *account;
	char *secret_b64[2];   /* base64 of "user:pass" and of the password */
	void (*on_secret)(void *ctx, const char *secret); /* reg_config's */
	void *secret_ctx;
	char *ca_file;         /* the CA bundle file */
	char *ca_blob;         /* bundle + cert dir PEM, when there are extras */
	size_t ca_len;
	enum auth_scheme auth;
	char *realm, *service;
	struct token *tokens;
	size_t ntokens;
	unsigned requests;
	unsigned multi_max;    /* the most requests one reg_multi ran at once */
	long timeout_s;
	long retry_base_ms;
	int max_attempts;
	long tags_page;        /* n of a tag listing's first page */
	long tags_timeout_s;   /* for a whole tag listing */
	double deadline;       /* CLOCK_MONOTONIC seconds; 0: none */
	int tag_delete;        /* DELETE of a tag: 1 works, -1 refused, 0 unknown */
};

struct resp {
	long status;
	struct sbuf body;
	int too_big;           /* the body passed its maximum */
	int nomem;             /* no memory to keep the body */
	int interrupted;       /* a signal arrived (sig.h) */
	int past_deadline;     /* the client's deadline passed */
	char ctype[256];
	char digest[80];
	char www[2048];
	char link[2048];
	char *location;        /* Location (heap, up to REG_LOCATION_MAX: a
				* presigned blob URL is long), or NULL */
	char retry_after[128];
	const char *long_header; /* a header too long to keep (its name):
				  * the answer is refused, never cut */
	char errbuf[CURL_ERROR_SIZE];
};

#define REG_LOCATION_MAX 16384

/* The four manifest media types, for Accept and for checking answers. */
extern const char *const reg_manifest_types[4];
#define REG_ACCEPT_MANIFESTS \
	"Accept: application/vnd.oci.image.index.v1+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.docker.distribution.manifest.v2+json"

/* --- reg_parse.c ------------------------------------------------------- */

struct reg_challenge {
	char scheme[16];
	char realm[1024];
	char service[256];
	char scope[1024];
	char error[64];
};

/* WWW-Authenticate: fills scheme ("bearer", "basic", lowercased), realm,
 * service, scope, error (each "" if absent). Returns 0, or -1 for a
 * header it cannot read. */
int reg_parse_challenge(const char *header, struct reg_challenge *ch);

/* The next-page path from a Link header, relative or absolute (only the
 * path and query are kept, so a link never leads to another host); NULL
 * when there is none or it is not under /v2/. Caller frees. */
char *reg_link_next(const char *link);
/* The path (and query) of an absolute http(s) URL, or the URL itself when
 * it is already a path; NULL when an absolute URL has no path. */
const char *reg_url_path(const char *url);

/* Retry-After in seconds (delta or HTTP date, relative to now), capped at
 * 60; -1 when absent or unreadable. */
long reg_retry_after(const char *value, long now);

/* The host[:port] of an http(s) URL into out; -1 when it has none. */
int reg_url_host(const char *url, char *out, size_t size);

/* 1 when mt (parameters after ';' ignored) is one of the four manifest
 * media types. */
int reg_is_manifest_type(const char *mt);

/* --- reg_http.c -------------------------------------------------------- */

void resp_reset(struct resp *r, size_t max);
void resp_free(struct resp *r);
int reg_build_ca(struct reg_client *c, const char *cert_dir, char *missing,
		 size_t size);
int reg_host_insecure(const struct reg_client *c, const char *hostport);

/*
 * The one retry driver: performs method on url (headers hdrs, body) into
 * r, retrying connection failures, 429 and 5xx with capped exponential
 * backoff that honours Retry-After, at most c->max_attempts times. Stops
 * at once when a signal arrives (r->interrupted) or the client's deadline
 * passes (r->past_deadline). Returns the last curl code; *attempts gets
 * the number of attempts made.
 */
CURLcode reg_exchange(struct reg_client *c, const char *method, const char *url,
		      struct curl_slist *hdrs, const void *body, size_t len,
		      size_t max, int verify, struct resp *r, int *attempts);

/* How long to wait before asking again after answer r (or curl code cc)
 * on attempt number `attempt` (0 first): its Retry-After, else the capped
 * exponential backoff, for a 429, a 5xx or a transient connection error;
 * -1 for anything else (not to be asked again). */
long reg_wait_ms(const struct reg_client *c, CURLcode cc, const struct resp *r, int attempt);

/* One line for a failed exchange: interrupted, past the deadline, a body
 * too large, or the connection error. */
rp_status reg_fail_exchange(const struct reg_client *c, CURLcode cc,
			    const struct resp *r, const char *what, int attempts,
			    size_t max, struct rp_err *err);

/*
 * Performs method (or methods[i], when methods is not NULL) on every url
 * at once (at most 8 connections to the host), with the same headers and
 * body; rs[i] gets each answer, status 0
 * when its transfer failed (the caller redoes those one by one). Returns
 * an error only when interrupted or out of memory.
 */
rp_status reg_multi(struct reg_client *c, const char *method,
		    const char *const *methods, char *const *urls, size_t n,
		    struct curl_slist *hdrs, const void *body, size_t len,
		    size_t max, struct resp *rs, struct rp_err *err);

/* --- reg_auth.c -------------------------------------------------------- */

/* GET /v2/: learns the scheme (https, or http for an insecure host) and
 * the auth scheme. */
rp_status reg_discover(struct reg_client *c, struct rp_err *err);

/* "Authorization: ..." for a request needing `scope` (fetching a token
 * when there is none or it expired), or NULL in *out for none. Caller
 * wipes and frees *out. */
rp_status reg_auth_header(struct reg_client *c, const char *scope, char **out,
			  struct rp_err *err);

/* A 401 answer's challenge: updates the auth scheme and realm and drops
 * the token of `scope`. Returns 1 when the request should be retried, 0
 * when not, -1 when out of memory. */
int reg_auth_challenged(struct reg_client *c, const struct resp *r,
			const char *scope);


/* Token values accepted from a token service: visible ASCII, no spaces,
 * at most 16 KiB (anything else could split a request's headers). */
int reg_token_valid(const char *t);

/* base64 of n bytes (caller wipes and frees); NULL when out of memory. */

/* --- registry.c (readers, here for the tests and fuzz targets) -------- */

/* The manifest in a 200 answer r to GET ref: the digest checked against
 * the bytes (and against ref when it is one), the media type checked. */
rp_status reg_manifest_from(struct reg_client *c, struct resp *r, const char *ref,
			    const char *what, struct reg_manifest *m, struct rp_err *err);

/* One tag-list page as read: how many tags it added (not in seen), how
 * many it listed, and its last tag (for a `last=` continuation). */
struct reg_page {
	size_t added, listed;
	char last[RP_TAG_MAX + 1];
};

/* Appends the tags of one tag-list page r that are not in seen to *out
 * (*n of *cap used); *pg says what the page held. */
rp_status reg_page_tags(struct reg_client *c, const struct resp *r, json_t *seen,
			char ***out, size_t *n, size_t *cap, struct reg_page *pg,
			const char *what, struct rp_err *err);

/* --- reg_request.c ----------------------------------------------------- */

/*
 * What a request is, apart from where it goes, written at each call as a
 * compound literal with designated fields (so an Accept value and a
 * Content-Type header cannot trade places unseen). Fields left out are
 * NULL or 0.
 */
struct reg_req {
	const char *method;
	const char *scope;     /* the token scope set it needs (reg_call makes
				* it from repo and actions) */
	const char *accept;    /* Accept value, or NULL */
	const char *ctype;     /* a whole "Content-Type: ..." header, or NULL */
	const void *body;
	size_t len;
	size_t max;            /* the largest response body kept */
	const char *what;      /* names it in messages ("HEAD repo:tag");
				* batches name each reference themselves */
	int (*ok)(long status); /* batches: the answers that need no redo */
};

/*
 * One request to path: scheme, auth, retries. Returns RP_OK with the final
 * response in *r (any status but 401, 403, 429 and 5xx), or an error when
 * the registry could not be reached, refused the account, or kept failing.
 */
rp_status reg_request(struct reg_client *c, const struct reg_req *q, const char *path,
		      struct resp *r, struct rp_err *err);

/* reg_request with the path built from fmt and the scope
 * "repository:<repo>:<actions>" (plus `extra`, another scope of the same
 * token). The caller zeroes *r beforehand and frees it afterwards. */
rp_status reg_call(struct reg_client *c, const struct reg_req *q, const char *repo,
		   const char *actions, const char *extra, struct resp *r, struct rp_err *err,
		   const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* q on n references of repo at once, /v2/<repo>/<kind>/<ref> with kind
 * "manifests", "blobs" or "blobs/uploads" (see reg_request.c); rs[i]
 * gets each final answer; q->ok says which need no redo. */
rp_status reg_batch(struct reg_client *c, const struct reg_req *q, const char *repo,
		    const char *kind, char *const *refs, size_t n, struct resp *rs,
		    struct rp_err *err);
/* HEADs of n manifests of repo (the first a GET when get_first) and,
 * with them, a GET of the path lead (the first page of a tag list): its
 * answer in rs[0], the others' in rs[1..n]; 404 counts as an answer.
 * max bounds every body. */
rp_status reg_batch_heads(struct reg_client *c, const char *lead, int get_first,
			  const char *repo, char *const *refs, size_t n, const char *scope,
			  size_t max, struct resp *rs, struct rp_err *err);
int reg_head_ok(long status);
int reg_put_ok(long status);

/* An answer the caller did not expect, as one line naming the registry. */
rp_status reg_unexpected(struct reg_client *c, const struct resp *r,
			 const char *what, struct rp_err *err);

/* "HEAD repo:tag" or "HEAD repo@sha256:…", for messages. */
void reg_ref_what(char *out, size_t size, const char *method, const char *repo,
		  const char *ref);

/* "repository:<repo>:<actions>[ <extra>]" (caller frees; NULL: no memory). */
char *reg_scope_for(const char *repo, const char *actions, const char *extra);

/* s with the client's secrets (password, its base64 forms, tokens)
 * replaced by "***". Caller frees; NULL when out of memory. */
char *reg_scrub(const struct reg_client *c, const char *s, size_t len);

/* One line from an OCI error body: "HTTP 403 DENIED: message", scrubbed
 * of secrets, then quoted and cut. */
void reg_error_line(const struct reg_client *c, const struct resp *r,
		    char *out, size_t size);

#endif
