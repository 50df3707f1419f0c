/*
 * verify.h — promote's signature gate: the verify keys (--verify-key FILE,
 * repeatable; input verify-keys or REGPUSH_VERIFY_KEYS, PEM public keys
 * concatenated, for rotation), and the check that a source digest carries
 * a cosign signature by one of them naming it and a repository it may
 * have been signed in (sign.h judges each layer).
 */
#ifndef RP_VERIFY_H
#define RP_VERIFY_H

#include "ghctx.h"
#include "registry.h"
#include "sign.h"

struct verify_keys;

/* Every key given, read; *out NULL when none is. A file that cannot be
 * read or text that is no P-256 public key is RP_EINPUT naming it. */
rp_status verify_keys_load(const struct rp_opts *o, struct verify_keys **out, struct rp_err *err);
void verify_keys_free(struct verify_keys *vk);

/*
 * Reads host/path:sha256-<hex>.sig of digest and accepts when a layer
 * verifies under one of the keys naming digest and one of repos
 * (NULL-terminated "host/path"), its revision claim, when it has one,
 * equal to revision (NULL: not checked). by: the fingerprint of the key
 * that verified, in: the repository the payload names. No signature that
 * counts: RP_EREFUSED, saying what each layer lacked ("1 by another key,
 * 1 names host/x"). A registry failure is RP_EREGISTRY.
 */
rp_status verify_signed(const struct verify_keys *vk, struct reg_client *reg, const char *host,
			const char *path, const char *digest, const char *const *repos,
			const char *revision, char by[RP_DIGEST_MAX], char in[300],
			struct rp_err *err);

/* verify_signed's finding without the refusal: RP_OK with *why NULL when
 * a signature counts (by, in set), else with *why (malloc'd) saying what
 * each layer lacked ("there is no sha256-….sig in host/path", "2
 * signatures: 1 by another key, …"); RP_EREGISTRY when the registry
 * cannot be read. */
rp_status verify_find(const struct verify_keys *vk, struct reg_client *reg, const char *host,
		      const char *path, const char *digest, const char *const *repos,
		      const char *revision, char by[RP_DIGEST_MAX], char in[300], char **why,
		      struct rp_err *err);

#endif
