/*
 * signer.c — the run's key and signing in a registry (see signer.h).
 *
 * The registry has no compare-and-swap for the `.sig` tag either: two
 * signers that read it at once both write, and the last write wins. So a
 * signer reads back after its write (after the settling pause, as
 * publish.c does for tags) and merges again when its layer is gone: a
 * layer is never lost silently, and a signer that cannot get its layer
 * to stay in three rounds fails the run before any tag is written.
 */
#include "signer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "creds.h"
#include "settings.h"

struct signer {
	struct sign_key *key;
	char fingerprint[RP_DIGEST_MAX];
};

/* Every line of a PEM text, masked: the runner masks line by line. */
static void
mask_lines(const char *text, int actions)
{
	const char *p = text, *nl;
	char line[256];
	size_t n;

	for (; p != NULL && *p != '\0'; p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		/* The armour lines say nothing secret; the body does. */
		if (n == 0 || n >= sizeof(line) || strncmp(p, "-----", 5) == 0)
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		creds_secret(line, actions);
		explicit_bzero(line, sizeof(line));
	}
}

rp_status
signer_load(const struct rp_opts *o, struct signer **out, struct rp_err *err)
{
	const char *key = o->container ? ghctx_input("signing-key") : rp_getenv("REGPUSH_SIGNING_KEY");
	const char *pass = o->container ? ghctx_input("signing-key-passphrase") :
	    rp_getenv("REGPUSH_SIGNING_KEY_PASSPHRASE");
	const char *what = o->container ? "input signing-key" : "REGPUSH_SIGNING_KEY";
	char *copy;
	struct signer *s;
	rp_status st;

	*out = NULL;
	if (key == NULL)
		return RP_OK;
	mask_lines(key, o->actions);
	creds_secret(pass, o->actions);
	if ((s = calloc(1, sizeof(*s))) == NULL || (copy = rp_strdup(key)) == NULL) {
		free(s);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	st = sign_key_load(copy, strlen(copy), pass, what, &s->key, err);
	explicit_bzero(copy, strlen(copy));
	free(copy);
	if (st == RP_OK && sign_fingerprint(s->key, s->fingerprint) != 0)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	if (st != RP_OK) {
		signer_free(s);
		return st;
	}
	*out = s;
	return RP_OK;
}

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	sign_key_free(s->key);
	free(s);
}

const char *
signer_fingerprint(const struct signer *s)
{
	return s->fingerprint;
}

/* Uploads bytes as a blob of host/path. */
static rp_status
put_blob(struct reg_client *reg, const char *path, const char *bytes, struct rp_err *err)
{
	char d[RP_DIGEST_MAX];

	return reg_blob_put(reg, path, bytes, strlen(bytes), d, err);
}

/* One round: reads tag; *done when it holds payload signed by s (sig: the
 * manifest's digest); else writes the merged image and *done stays 0. */
static rp_status
sign_round(const struct signer *s, struct reg_client *reg, const char *path, const char *tag,
	   const char *payload, int *done, char sig[RP_DIGEST_MAX], struct rp_err *err)
{
	struct reg_manifest have, mine;
	json_t *doc = NULL, *layers;
	char *config = NULL, *manifest = NULL;
	rp_status st;

	*done = 0;
	memset(&mine, 0, sizeof(mine));
	if ((st = reg_manifest_find(reg, path, tag, &have, err)) != RP_OK)
		return st;
	if (have.bytes != NULL && (doc = reg_json(tag, have.bytes, have.len, "manifest", err)) == NULL) {
		reg_manifest_free(&have);
		return err->status;
	}
	layers = json_object_get(doc, "layers");
	if (have.bytes != NULL && sign_has(layers, payload, strlen(payload), s->key)) {
		snprintf(sig, RP_DIGEST_MAX, "%s", have.digest);
		*done = 1;
		goto out;
	}
	if (layers == NULL) {
		json_decref(doc);
		if ((doc = json_object()) == NULL || json_object_set_new(doc, "layers", json_array()) != 0) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		layers = json_object_get(doc, "layers");
	}
	{
		char *b64 = sign_data(s->key, payload, strlen(payload), err);
		if (b64 == NULL) {
			st = err->status;
			goto out;
		}
		st = json_array_append_new(layers, sign_layer(payload, strlen(payload), b64)) == 0 ? RP_OK :
		    rp_fail(err, RP_ENOMEM, "out of memory");
		free(b64);
	}
	if (st != RP_OK || (st = sign_image(layers, &config, &manifest, err)) != RP_OK ||
	    (st = put_blob(reg, path, payload, err)) != RP_OK ||
	    (st = put_blob(reg, path, config, err)) != RP_OK)
		goto out;
	mine.bytes = manifest;
	mine.len = strlen(manifest);
	mine.media_type = (char *)"application/vnd.oci.image.manifest.v1+json";
	st = rp_sha256_digest(manifest, mine.len, mine.digest) == 0 ?
	    reg_manifest_put(reg, path, tag, &mine, err) : rp_fail(err, RP_ENOMEM, "out of memory");
out:
	free(config);
	free(manifest);
	json_decref(doc);
	reg_manifest_free(&have);
	return st;
}

/* Signs one digest: up to three rounds, the settling pause after each
 * write. */
static rp_status
sign_one(const struct signer *s, struct reg_client *reg, const char *host, const char *path,
	 const char *digest, const char *const *claims, const struct rp_settings *settings,
	 char sig[RP_DIGEST_MAX], struct rp_err *err)
{
	char tag[100], ref[600], *payload;
	int round, done = 0;
	rp_status st = RP_OK;

	if (sign_tag(digest, "sig", tag, sizeof(tag)) != 0)
		return rp_fail(err, RP_EREGISTRY, "cannot sign %s: only sha256 digests are signed", digest);
	snprintf(ref, sizeof(ref), "%s/%s", host, path);
	if ((payload = sign_payload(ref, digest, claims)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (round = 0; round < 4 && st == RP_OK && !done; round++) {
		if (round > 0 && (st = reg_pause(reg, settings_get(settings, RS_SETTLE_MS), err)) != RP_OK)
			break;
		st = sign_round(s, reg, path, tag, payload, &done, sig, err);
		/* The fourth round only reads: three writes and still not
		 * there means another signer keeps overwriting. */
		if (st == RP_OK && !done && round == 3)
			st = rp_fail(err, RP_EREGISTRY, "cannot keep this run's signature in %s/%s:%s: "
				     "another signer overwrote it three times; no tag was written", host,
				     path, tag);
	}
	free(payload);
	return st;
}

rp_status
signer_sign(const struct signer *s, struct reg_client *reg, const char *host, const char *path,
	    const char *digest, const char *const *claims, const struct rp_settings *settings,
	    char sig[RP_DIGEST_MAX], struct rp_err *err)
{
	struct reg_manifest m;
	json_t *doc = NULL, *e;
	char child_sig[RP_DIGEST_MAX];
	size_t i;
	rp_status st;

	if ((st = reg_manifest_get(reg, path, digest, &m, err)) != RP_OK)
		return st;
	if (reg_manifest_kind(m.media_type) == 1 &&
	    (doc = reg_json(digest, m.bytes, m.len, "index", err)) == NULL) {
		reg_manifest_free(&m);
		return err->status;
	}
	/* An index is signed by its own digest, and each child by its own,
	 * as cosign sign --recursive does. */
	json_array_foreach(json_object_get(doc, "manifests"), i, e) {
		const char *d = json_string_value(json_object_get(e, "digest"));
		if (d == NULL)
			continue;
		if ((st = sign_one(s, reg, host, path, d, claims, settings, child_sig, err)) != RP_OK)
			break;
	}
	if (st == RP_OK)
		st = sign_one(s, reg, host, path, digest, claims, settings, sig, err);
	json_decref(doc);
	reg_manifest_free(&m);
	return st;
}

void
signer_describe(const struct signer *s, const char *host, const char *path, const char *digest,
		struct sbuf *sb)
{
	char tag[100];

	if (sign_tag(digest, "sig", tag, sizeof(tag)) != 0)
		snprintf(tag, sizeof(tag), "(no sha256 digest)");
	sbuf_printf(sb, "  sign %s as %s/%s:%s (and an index's children), key %s\n", digest, host,
		    path, tag, s->fingerprint);
}
