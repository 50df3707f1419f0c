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
 * from what children print), loaded, and the copy read wiped. *out is
 * NULL when no key is given. A bad key is RP_EINPUT naming the input.
 */
rp_status signer_load(const struct rp_opts *o, struct signer **out, struct rp_err *err);

void signer_free(struct signer *s);

/* The key's fingerprint, "sha256:<hex>" of its public half. */
const char *signer_fingerprint(const struct signer *s);

/*
 * Signs digest in host/path as cosign does, with the optional claims
 * (NULL-terminated key, value pairs): the digest's `.sig` image gets a
 * layer of its payload unless one signed by this key is there already;
 * every other layer is kept. After a write it waits the settling pause
 * (REGPUSH_SETTLE_MS) and reads the `.sig` again, merging once more when
 * a concurrent signer overwrote it (three rounds at most). An index's
 * children are signed the same way. sig: the top digest's `.sig` manifest
 * digest. Registry failures are RP_EREGISTRY naming the tag.
 */
rp_status signer_sign(const struct signer *s, struct reg_client *reg, const char *host,
		      const char *path, const char *digest, const char *const *claims,
		      const struct rp_settings *settings, char sig[RP_DIGEST_MAX],
		      struct rp_err *err);

/* The dry run's line: what signer_sign would write. */
void signer_describe(const struct signer *s, const char *host, const char *path,
		     const char *digest, struct sbuf *sb);

#endif
