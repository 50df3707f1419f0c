/*
 * signer.h — the run's signing key, and signing an image in a registry
 * the way cosign does (sign.h gives the bytes): the `sha256-<hex>.sig`
 * image of the digest, and of each child of an index, read, merged and
 * written before any tag of the plan is.
 */
#ifndef RP_SIGNER_H
#define RP_SIGNER_H

#include "ghctx.h"
#include "registry.h"
#include "sign.h"

struct signer;

/*
 * The key of input signing-key (action mode) or REGPUSH_SIGNING_KEY, with
 * signing-key-passphrase / REGPUSH_SIGNING_KEY_PASSPHRASE: every line of
 * it and the passphrase masked (::add-mask:: in Actions, and scrubbed
 * from what children print), checked, and its decryption started (the
 * copy it keeps is wiped when freed). *out is NULL when no key is given.
 * A bad key is RP_EINPUT naming the input.
 */
rp_status signer_load(const struct rp_opts *o, struct signer **out, struct rp_err *err);

/*
 * Waits for the key: signer_load checks its text and starts decrypting it
 * on a thread (scrypt, for cosign's keys), so the upload goes on meanwhile.
 * A wrong passphrase is RP_EINPUT here. Call before the key is used;
 * asked again, gives the same answer.
 */
rp_status signer_ready(struct signer *s, struct rp_err *err);

void signer_free(struct signer *s);

/* attest: provenance — every signing from now on also writes the SLSA
 * provenance statement with predicate (owned now) about the top digest,
 * as a DSSE layer in its `sha256-<hex>.att`, in the same rounds as the
 * signatures (the same merging, the same read back). */
void signer_attest(struct signer *s, json_t *predicate);
/* The .att manifest's digest once written, else NULL. */
const char *signer_attestation(const struct signer *s);

/* The key's fingerprint, "sha256:<hex>" of its public half. */
const char *signer_fingerprint(const struct signer *s);

/*
 * Signs digest in host/path as cosign does, with the optional claims
 * (NULL-terminated key, value pairs; at most three pairs): the digest's
 * `.sig` image gets a layer of its payload unless one signed by this key
 * is there already; every other layer is kept. After the writes one
 * settling pause (REGPUSH_SETTLE_MS) serves every digest, then each
 * `.sig` is read again and merged once more when a concurrent signer
 * overwrote it (three writing rounds at most). An index's children (from
 * known, the digest's manifest, or when it is NULL read from the
 * registry: then call after the upload) are signed the same way, in the
 * same rounds. Waits for the key first (signer_ready). sig: the top
 * digest's `.sig` manifest digest. Registry failures are RP_EREGISTRY
 * naming the tag.
 */
rp_status signer_sign(struct signer *s, struct reg_client *reg, const char *host,
		      const char *path, const char *digest, const struct reg_manifest *known,
		      const char *const *claims, const struct rp_settings *settings,
		      char sig[RP_DIGEST_MAX], struct rp_err *err);

/*
 * signer_sign of one image that is not an index, on a thread of its own,
 * so the signature goes up while the image does (a tag that names a
 * digest is what must wait for its signature, not the image). reg is the
 * thread's alone (another client to the same repository), and reg, host,
 * path, digest, the claims' strings and settings must stay until
 * signer_join. RP_OK when the thread started; else nothing runs and the
 * caller signs afterwards. signer_join waits and gives the answer.
 */
rp_status signer_start(struct signer *s, struct reg_client *reg, const char *host,
		       const char *path, const char *digest, const char *const *claims,
		       const struct rp_settings *settings);
rp_status signer_join(struct signer *s, char sig[RP_DIGEST_MAX], struct rp_err *err);

/* The dry run's line: what signer_sign would write. */
void signer_describe(const struct signer *s, const char *host, const char *path,
		     const char *digest, struct sbuf *sb);

#endif
