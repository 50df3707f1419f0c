/*
 * sign.h — cosign-compatible image signatures, natively (OpenSSL and
 * jansson): keys, the simple-signing payload, ECDSA P-256 signatures over
 * SHA-256, and the bytes of a `sha256-<hex>.sig` manifest and its config
 * (../shared/reference/signing.md). Pure: no registry, no files, no
 * environment; what a command signs and where it writes it is the
 * caller's.
 */
#ifndef RP_SIGN_H
#define RP_SIGN_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

struct sign_key; /* an ECDSA P-256 key: private (signs) or public */

/*
 * A private key from PEM text: PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8
 * ("ENCRYPTED PRIVATE KEY", with passphrase), SEC 1 ("EC PRIVATE KEY")
 * or cosign's own encrypted format ("ENCRYPTED SIGSTORE PRIVATE KEY",
 * or the older "ENCRYPTED COSIGN PRIVATE KEY": scrypt and a NaCl
 * secretbox; no passphrase means cosign's empty one). The key must be
 * ECDSA P-256, the curve cosign signs with. Bad input, a wrong
 * passphrase, another key type: RP_EINPUT naming `what` (the key's name
 * in messages: an input, a flag or a variable; never its bytes).
 */
rp_status sign_key_load(const char *pem, size_t len, const char *passphrase, const char *what,
			struct sign_key **out, struct rp_err *err);

/*
 * sign_key_load in three steps, so that the slow one (scrypt: about
 * 100 ms for cosign's keys) runs on another thread while the run goes on:
 * begin reads and checks the text and copies what it needs (the caller
 * may wipe its own copy then), and reads a key without a passphrase
 * whole, so a bad one fails at once; work decrypts, allocating nothing
 * but through OpenSSL and touching nothing but the job, so any thread
 * may run it; end gives the key or the error and frees the job, wiping
 * it.
 */
struct sign_pending;
rp_status sign_key_begin(const char *pem, size_t len, const char *passphrase, const char *what,
			 struct sign_pending **out, struct rp_err *err);
void sign_key_work(struct sign_pending *j);
rp_status sign_key_end(struct sign_pending *j, struct sign_key **out, struct rp_err *err);

/* A public key ("PUBLIC KEY", SubjectPublicKeyInfo), ECDSA P-256. */
rp_status sign_pub_load(const char *pem, size_t len, const char *what, struct sign_key **out,
			struct rp_err *err);

void sign_key_free(struct sign_key *k);

/* "sha256:<hex>" of the public key's DER SubjectPublicKeyInfo: what the
 * summary names a key by. Returns 0, or -1 when out of memory. */
int sign_fingerprint(const struct sign_key *k, char out[RP_DIGEST_MAX]);

/*
 * cosign's simple-signing payload for the image `digest` signed in the
 * repository docker_ref (host/path), byte for byte as cosign writes it:
 * compact JSON, keys sorted, <, > and & escaped as Go does. claims: NULL,
 * or NULL-terminated key, value pairs for "optional" (sorted on output).
 * NULL when out of memory.
 */
char *sign_payload(const char *docker_ref, const char *digest, const char *const *claims);

/* The standard base64 of the ASN.1 DER ECDSA signature over SHA-256 of
 * data, with a private key. NULL with err set on failure. */
char *sign_data(const struct sign_key *k, const void *data, size_t len, struct rp_err *err);

/* 1 when b64sig (standard base64 of a DER ECDSA signature) verifies data
 * under k; 0 for anything else (a bad signature, bad base64, empty); -1
 * when out of memory (no verdict). */
int sign_check(const struct sign_key *k, const void *data, size_t len, const char *b64sig);

/* The descriptor of a new signature layer: the payload's media type,
 * size and digest, and the signature as its annotation. NULL when out of
 * memory. */
json_t *sign_layer(const char *payload, size_t len, const char *b64sig);

/* 1 when layers (a .sig manifest's "layers") already hold payload signed
 * by k: a layer of the payload's digest whose signature verifies under k
 * (ECDSA signatures differ from run to run, so bytes cannot tell); 0
 * when not; -1 when out of memory. */
int sign_has(const json_t *layers, const char *payload, size_t len, const struct sign_key *k);

/*
 * Attestations (`sha256-<hex>.att`, as cosign attest writes them): the
 * in-toto statement (type v0.1, as cosign 2.5 writes it) about digest in
 * repo (host/path) with predicate (keys in their order); the DSSE
 * envelope signing it (over DSSE's pre-authentication encoding); its
 * layer descriptor (media type application/vnd.dsse.envelope.v1+json,
 * annotations predicateType and an empty cosign signature).
 * sign_dsse_check: 1 when envelope holds payload (NULL: any) signed by k.
 * sign_att_layer_is: 1 when layer is a DSSE layer of predicate_type.
 */
char *sign_statement(const char *repo, const char *digest, const char *predicate_type,
		     const json_t *predicate);
char *sign_dsse(const struct sign_key *k, const char *payload, size_t len, struct rp_err *err);
int sign_dsse_check(const struct sign_key *k, const char *envelope, size_t len, const char *payload,
		    size_t plen);
json_t *sign_att_layer(const char *envelope, size_t len, const char *predicate_type);
int sign_att_layer_is(const json_t *layer, const char *predicate_type);

/* What sign_judge finds of one layer of a `.sig` image. */
enum sign_verdict {
	SIGN_OK,
	SIGN_BAD_LAYER,      /* not a simple-signing layer, or its size or
			      * digest is not its payload's */
	SIGN_BAD_KEY,        /* no key verifies its signature */
	SIGN_BAD_PAYLOAD,    /* signed, but not a cosign payload */
	SIGN_OTHER_DIGEST,   /* signed, naming another image */
	SIGN_OTHER_REPO,     /* signed, naming a repository not in repos */
	SIGN_OTHER_REVISION, /* signed, claiming another revision */
	SIGN_ENOMEM,         /* out of memory: no verdict */
};

/*
 * Judges one layer descriptor of a `.sig` image and its payload (the
 * blob it names): SIGN_OK when it is a simple-signing layer of exactly
 * these bytes, its signature verifies under one of keys (*key: which),
 * and the payload names digest and one of repos (NULL-terminated
 * "host/path"), with no org.opencontainers.image.revision claim or one
 * equal to revision (NULL: not checked). For the three OTHER verdicts,
 * named gets what the payload names instead, quoted for a message.
 */
enum sign_verdict sign_judge(const json_t *layer, const char *payload, size_t len,
			     const struct sign_key *const *keys, size_t nkeys, const char *digest,
			     const char *const *repos, const char *revision, size_t *key,
			     char *named, size_t size);

/*
 * The .sig image of layers (descriptors, in order): its config and its
 * manifest, byte for byte as cosign writes them (the descriptors' known
 * fields in go-containerregistry's order, annotations sorted, one history
 * entry per layer). *config and *manifest are owned by the caller; RP_OK
 * or RP_ENOMEM, or RP_EREGISTRY for a descriptor without a digest.
 */
rp_status sign_image(const json_t *layers, char **config, char **manifest, struct rp_err *err);

/* The tag cosign keeps the signatures of digest under:
 * "sha256-<hex>.sig" (suffix "sig", "att" or "sbom"). -1 when digest is
 * not a sha256 digest. */
int sign_tag(const char *digest, const char *suffix, char *out, size_t size);

#endif
