/*
 * sign.c — cosign-compatible signatures (see sign.h). The payload is the
 * one place whose bytes must equal cosign's: the same payload signed by
 * the same key twice gives two different ECDSA signatures, so a signer
 * that adds to an existing `.sig` finds its own payload by its bytes.
 */
#include "sign.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "imgref.h"

struct sign_key {
	EVP_PKEY *pkey;
	int private;
};

/* The passphrase for PEM_read_bio_PrivateKey: none given reads an
 * unencrypted key and fails an encrypted one. */
static int
passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t n;

	(void)rwflag;
	if (pass == NULL || size <= 0)
		return -1;
	n = strlen(pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

/* 1 when pkey is an ECDSA key on P-256. */
static int
is_p256(EVP_PKEY *pkey)
{
	char curve[64];
	size_t n = 0;

	return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
	       EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof(curve), &n) == 1 &&
	       (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0);
}

static rp_status
wrap(EVP_PKEY *pkey, int private, const char *what, struct sign_key **out, struct rp_err *err)
{
	if (!is_p256(pkey)) {
		EVP_PKEY_free(pkey);
		return rp_fail(err, RP_EINPUT, "%s is not an ECDSA P-256 key (the curve cosign signs "
			       "with; make one with cosign generate-key-pair)", what);
	}
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		EVP_PKEY_free(pkey);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	(*out)->pkey = pkey;
	(*out)->private = private;
	return RP_OK;
}

rp_status
sign_key_load(const char *pem, size_t len, const char *passphrase, const char *what,
	      struct sign_key **out, struct rp_err *err)
{
	BIO *b;
	EVP_PKEY *pkey;

	*out = NULL;
	if (memmem(pem, len, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", 46) != NULL ||
	    memmem(pem, len, "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----", 44) != NULL)
		return rp_fail(err, RP_EINPUT, "%s is in cosign's own encrypted format, which this "
			       "build cannot read yet: convert it to PKCS#8 (cosign import-key-pair "
			       "reads PKCS#8; openssl pkcs8 writes it)", what);
	if (len > (size_t)INT32_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	pkey = PEM_read_bio_PrivateKey(b, NULL, passphrase_cb, (void *)passphrase);
	BIO_free(b);
	ERR_clear_error();
	if (pkey == NULL)
		return rp_fail(err, RP_EINPUT, "%s is not a PEM private key%s (PKCS#8, encrypted "
			       "PKCS#8 or EC PRIVATE KEY)", what,
			       memmem(pem, len, "ENCRYPTED", 9) != NULL ?
			       ", or its passphrase is wrong" : "");
	return wrap(pkey, 1, what, out, err);
}

rp_status
sign_pub_load(const char *pem, size_t len, const char *what, struct sign_key **out,
	      struct rp_err *err)
{
	BIO *b;
	EVP_PKEY *pkey;

	*out = NULL;
	if (len > (size_t)INT32_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	pkey = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (pkey == NULL)
		return rp_fail(err, RP_EINPUT, "%s is not a PEM public key (-----BEGIN PUBLIC "
			       "KEY-----, as cosign generate-key-pair writes cosign.pub)", what);
	return wrap(pkey, 0, what, out, err);
}

void
sign_key_free(struct sign_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int
sign_fingerprint(const struct sign_key *k, char out[RP_DIGEST_MAX])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k->pkey, &der), rc;

	if (n <= 0)
		return -1;
	rc = rp_sha256_digest(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

/* s with Go's HTML-safe escapes (encoding/json escapes <, > and &, and
 * U+2028 and U+2029, in every string; they appear nowhere else). */
static char *
go_escape(const char *s)
{
	struct sbuf sb;

	sbuf_init(&sb, 1 << 20);
	for (; *s != '\0'; s++) {
		if (*s == '<')
			sbuf_puts(&sb, "\\u003c");
		else if (*s == '>')
			sbuf_puts(&sb, "\\u003e");
		else if (*s == '&')
			sbuf_puts(&sb, "\\u0026");
		else if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 &&
			 ((unsigned char)s[2] == 0xa8 || (unsigned char)s[2] == 0xa9)) {
			sbuf_puts(&sb, (unsigned char)s[2] == 0xa8 ? "\\u2028" : "\\u2029");
			s += 2;
		} else
			sbuf_add(&sb, s, 1);
	}
	return sbuf_take(&sb);
}

char *
sign_payload(const char *docker_ref, const char *digest, const char *const *claims)
{
	json_t *opt = claims != NULL ? json_object() : json_null(), *root;
	char *text, *out;
	size_t i;
	int bad = opt == NULL;

	for (i = 0; !bad && claims != NULL && claims[i] != NULL && claims[i + 1] != NULL; i += 2)
		bad = json_object_set_new(opt, claims[i], json_string(claims[i + 1])) != 0;
	if (bad) {
		json_decref(opt);
		return NULL;
	}
	root = json_pack("{s:{s:{s:s},s:{s:s},s:s},s:o}", "critical", "identity", "docker-reference",
			 docker_ref, "image", "docker-manifest-digest", digest, "type",
			 "cosign container image signature", "optional", opt);
	if (root == NULL)
		return NULL;
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL)
		return NULL;
	out = go_escape(text);
	free(text);
	return out;
}

char *
sign_data(const struct sign_key *k, const void *data, size_t len, struct rp_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t n = 0;
	char *b64 = NULL;

	if (!k->private) {
		EVP_MD_CTX_free(ctx);
		rp_fail(err, RP_EINPUT, "a public key cannot sign");
		return NULL;
	}
	if (ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	    EVP_DigestSign(ctx, NULL, &n, data, len) == 1 && (sig = OPENSSL_malloc(n)) != NULL &&
	    EVP_DigestSign(ctx, sig, &n, data, len) == 1)
		b64 = rp_base64(sig, n);
	if (b64 == NULL)
		rp_fail(err, RP_ENOMEM, "cannot sign: out of memory or OpenSSL refused");
	OPENSSL_free(sig);
	EVP_MD_CTX_free(ctx);
	return b64;
}

int
sign_check(const struct sign_key *k, const void *data, size_t len, const char *b64sig)
{
	size_t bl = b64sig != NULL ? strlen(b64sig) : 0, n;
	unsigned char *der;
	EVP_MD_CTX *ctx;
	int ok = 0, dl, pad = 0;

	if (bl == 0 || bl % 4 != 0 || bl > 4096 || (der = malloc(bl)) == NULL)
		return 0;
	/* EVP_DecodeBlock counts the padding as zero bytes and accepts no
	 * stray characters: a bad base64 is -1. */
	dl = EVP_DecodeBlock(der, (const unsigned char *)b64sig, (int)bl);
	pad = (b64sig[bl - 1] == '=') + (b64sig[bl - 2] == '=');
	if (dl < 0 || dl < pad) {
		free(der);
		return 0;
	}
	n = (size_t)(dl - pad);
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1)
		ok = EVP_DigestVerify(ctx, der, n, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	free(der);
	ERR_clear_error();
	return ok;
}

int
sign_tag(const char *digest, const char *suffix, char *out, size_t size)
{
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 || !imgref_digest_valid(digest))
		return -1;
	snprintf(out, size, "sha256-%s.%s", digest + 7, suffix);
	return 0;
}

#define SIG_LAYER_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define SIG_ANNOTATION "dev.cosignproject.cosign/signature"

json_t *
sign_layer(const char *payload, size_t len, const char *b64sig)
{
	char d[RP_DIGEST_MAX];

	if (rp_sha256_digest(payload, len, d) != 0)
		return NULL;
	return json_pack("{s:s,s:I,s:s,s:{s:s}}", "mediaType", SIG_LAYER_TYPE, "size", (json_int_t)len,
			 "digest", d, "annotations", SIG_ANNOTATION, b64sig);
}

int
sign_has(const json_t *layers, const char *payload, size_t len, const struct sign_key *k)
{
	char d[RP_DIGEST_MAX];
	size_t i;
	json_t *l;

	if (rp_sha256_digest(payload, len, d) != 0)
		return 0;
	json_array_foreach(layers, i, l) {
		const char *ld = json_string_value(json_object_get(l, "digest"));
		const char *sig = json_string_value(json_object_get(json_object_get(l, "annotations"),
								    SIG_ANNOTATION));
		if (ld != NULL && strcmp(ld, d) == 0 && sign_check(k, payload, len, sig))
			return 1;
	}
	return 0;
}

/* v as Go's encoding/json writes it: compact, map keys sorted, HTML-safe
 * escapes. Appended to sb. */
static void
put_json(struct sbuf *sb, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY), *esc;

	if (text == NULL || (esc = go_escape(text)) == NULL) {
		sb->failed = 1;
		free(text);
		return;
	}
	sbuf_puts(sb, esc);
	free(esc);
	free(text);
}

/* A descriptor's fields in go-containerregistry's v1.Descriptor order;
 * the ones it does not know are left out, as Go leaves them. */
static void
put_descriptor(struct sbuf *sb, const json_t *d)
{
	static const char *const order[] = { "mediaType", "size", "digest", "data", "urls",
					     "annotations", "platform", "artifactType" };
	size_t i;
	int first = 1;

	sbuf_puts(sb, "{");
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const json_t *v = json_object_get(d, order[i]);
		if (v == NULL)
			continue;
		sbuf_printf(sb, "%s\"%s\":", first ? "" : ",", order[i]);
		put_json(sb, v);
		first = 0;
	}
	sbuf_puts(sb, "}");
}

rp_status
sign_image(const json_t *layers, char **config, char **manifest, struct rp_err *err)
{
	struct sbuf c, m;
	char hex[65];
	size_t i, n = json_array_size(layers);
	json_t *l;

	*config = *manifest = NULL;
	json_array_foreach(layers, i, l)
		if (!json_is_string(json_object_get(l, "digest")))
			return rp_fail(err, RP_EREGISTRY, "a signature layer has no digest");
	sbuf_init(&c, 16 << 20);
	sbuf_puts(&c, "{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"history\":[");
	for (i = 0; i < n; i++)
		sbuf_printf(&c, "%s{\"created\":\"0001-01-01T00:00:00Z\"}", i > 0 ? "," : "");
	sbuf_puts(&c, "],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
	json_array_foreach(layers, i, l) {
		if (i > 0)
			sbuf_puts(&c, ",");
		put_json(&c, json_object_get(l, "digest"));
	}
	sbuf_puts(&c, "]},\"config\":{}}");
	if ((*config = sbuf_take(&c)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	rp_sha256_hex(*config, strlen(*config), hex);
	sbuf_init(&m, 16 << 20);
	sbuf_printf(&m, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":%zu,"
		    "\"digest\":\"sha256:%s\"},\"layers\":[", strlen(*config), hex);
	json_array_foreach(layers, i, l) {
		if (i > 0)
			sbuf_puts(&m, ",");
		put_descriptor(&m, l);
	}
	sbuf_puts(&m, "]}");
	if ((*manifest = sbuf_take(&m)) == NULL) {
		free(*config);
		*config = NULL;
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	return RP_OK;
}
