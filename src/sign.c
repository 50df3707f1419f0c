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
#include <strings.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

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

/* Standard base64 to bytes (malloc'd, *n long): 0, -1 when s is not
 * base64, -2 when out of memory. */
static int
unbase64(const char *s, unsigned char **out, size_t *n)
{
	size_t bl = s != NULL ? strlen(s) : 0;
	int dl, pad;

	*out = NULL;
	if (bl == 0 || bl % 4 != 0 || bl > (1u << 20))
		return -1;
	if ((*out = malloc(bl)) == NULL)
		return -2;
	/* EVP_DecodeBlock counts the padding as zero bytes and accepts no
	 * stray characters: a bad base64 is -1. */
	dl = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)bl);
	pad = (s[bl - 1] == '=') + (s[bl - 2] == '=');
	if (dl < 0 || dl < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*n = (size_t)(dl - pad);
	return 0;
}

/* What sign_key_work needs, read and checked by sign_key_begin. */
struct sign_pending {
	char what[128];
	char *pem;		/* a PEM private key, or NULL for cosign's format */
	size_t pem_len;
	char *pass;		/* the passphrase, or NULL when none was given */
	/* cosign's format: scrypt's parameters, the secretbox and room for
	 * what it holds */
	uint64_t n;
	uint32_t r, p;
	unsigned char *salt, *nonce, *box, *plain;
	size_t salt_len, box_len;
	/* sign_key_work's answer */
	int done;
	EVP_PKEY *pkey;
	int failed;		/* 1: not a key or wrong passphrase; 2: decrypted but no
				 * key inside; 3: out of memory */
};

/* Memory scrypt may use: cosign's own parameters (N 2^16, r 8) need
 * 64 MiB; a key asking for more than this is refused, not obeyed. */
#define SCRYPT_MAXMEM ((uint64_t)256 << 20)

static void
pending_free(struct sign_pending *j)
{
	if (j == NULL)
		return;
	if (j->pem != NULL)
		OPENSSL_clear_free(j->pem, j->pem_len);
	if (j->pass != NULL)
		OPENSSL_clear_free(j->pass, strlen(j->pass));
	if (j->plain != NULL)
		OPENSSL_clear_free(j->plain, j->box_len);
	free(j->salt);
	free(j->nonce);
	free(j->box);
	EVP_PKEY_free(j->pkey);
	free(j);
}

/* cosign's own format: a PEM whose body is JSON naming scrypt's
 * parameters and salt and a NaCl secretbox (XSalsa20-Poly1305) holding
 * the PKCS#8 DER key. */
static rp_status
begin_sigstore(struct sign_pending *j, const char *pem, size_t len, struct rp_err *err)
{
	BIO *b;
	char *name = NULL, *header = NULL, *salt, *nonce, *box, *kdf, *cipher;
	unsigned char *data = NULL;
	long dlen = 0;
	json_t *doc = NULL;
	json_int_t n, r, p;
	size_t nonce_len = 0;
	int rc, ok;

	if (len > (size_t)INT32_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	ok = PEM_read_bio(b, &name, &header, &data, &dlen) == 1;
	BIO_free(b);
	ERR_clear_error();
	if (ok)
		doc = json_loadb((const char *)data, (size_t)dlen, 0, NULL);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	if (doc == NULL || json_unpack(doc, "{s:{s:s,s:{s:I,s:I,s:I},s:s},s:{s:s,s:s},s:s}", "kdf",
				       "name", &kdf, "params", "N", &n, "r", &r, "p", &p, "salt",
				       &salt, "cipher", "name", &cipher, "nonce", &nonce,
				       "ciphertext", &box) != 0) {
		json_decref(doc);
		return rp_fail(err, RP_EINPUT, "%s is not a cosign key: its body is not the JSON "
			       "cosign generate-key-pair writes (kdf, cipher, ciphertext)", j->what);
	}
	if (strcmp(kdf, "scrypt") != 0 || strcmp(cipher, "nacl/secretbox") != 0) {
		rp_fail(err, RP_EINPUT, "%s uses kdf %.40s and cipher %.40s; regpush reads cosign's "
			"scrypt and nacl/secretbox", j->what, kdf, cipher);
		json_decref(doc);
		return err->status;
	}
	/* N a power of two, r and p small: memory is bounded by
	 * SCRYPT_MAXMEM below, time by p. */
	if (n < 2 || n > (1 << 24) || (n & (n - 1)) != 0 || r < 1 || r > 32 || p < 1 || p > 16 ||
	    (uint64_t)128 * (uint64_t)r * (uint64_t)n > SCRYPT_MAXMEM / 2) {
		json_decref(doc);
		return rp_fail(err, RP_EINPUT, "%s asks for scrypt parameters regpush does not use "
			       "(N %lld, r %lld, p %lld: at most 128 MiB; cosign writes N 65536, r 8, p 1)", j->what,
			       (long long)n, (long long)r, (long long)p);
	}
	j->n = (uint64_t)n;
	j->r = (uint32_t)r;
	j->p = (uint32_t)p;
	if ((rc = unbase64(salt, &j->salt, &j->salt_len)) == 0 &&
	    (rc = unbase64(nonce, &j->nonce, &nonce_len)) == 0)
		rc = unbase64(box, &j->box, &j->box_len);
	json_decref(doc);
	if (rc == -2)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (rc != 0 || nonce_len != crypto_secretbox_NONCEBYTES ||
	    j->box_len <= crypto_secretbox_MACBYTES)
		return rp_fail(err, RP_EINPUT, "%s is not a cosign key: its salt, nonce or "
			       "ciphertext is not what cosign writes", j->what);
	if ((j->plain = malloc(j->box_len)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	return RP_OK;
}

rp_status
sign_key_begin(const char *pem, size_t len, const char *passphrase, const char *what,
	       struct sign_pending **out, struct rp_err *err)
{
	struct sign_pending *j;
	rp_status st = RP_OK;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	snprintf(j->what, sizeof(j->what), "%s", what);
	if (passphrase != NULL && (j->pass = rp_strdup(passphrase)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else if (memmem(pem, len, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", 46) != NULL ||
		 memmem(pem, len, "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----", 44) != NULL)
		st = begin_sigstore(j, pem, len, err);
	else if ((j->pem = malloc(len + 1)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else {
		memcpy(j->pem, pem, len);
		j->pem[len] = '\0';
		j->pem_len = len;
		/* Only a passphrase makes reading slow: any other key is read
		 * now, so a bad one fails before the run does anything. */
		if (memmem(pem, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37) == NULL) {
			struct sign_key *k = NULL;
			sign_key_work(j);
			if (j->failed != 0)
				return sign_key_end(j, &k, err);
		}
	}
	if (st != RP_OK) {
		pending_free(j);
		return st;
	}
	*out = j;
	return RP_OK;
}

/* cosign's format: scrypt of the passphrase (cosign's empty one when
 * none is given), the secretbox opened with it, the DER key read. */
static void
work_sigstore(struct sign_pending *j)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	const char *pass = j->pass != NULL ? j->pass : "";
	size_t plen = j->box_len - crypto_secretbox_MACBYTES;
	const unsigned char *p = j->plain;
	PKCS8_PRIV_KEY_INFO *p8;

	j->failed = 1;
	if (sodium_init() < 0 ||
	    EVP_PBE_scrypt(pass, strlen(pass), j->salt, j->salt_len, j->n, j->r, j->p,
			   SCRYPT_MAXMEM, key, sizeof(key)) != 1) {
		j->failed = 3;
		goto out;
	}
	if (crypto_secretbox_open_easy(j->plain, j->box, j->box_len, j->nonce, key) != 0)
		goto out;
	j->failed = 2;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)plen)) != NULL) {
		j->pkey = EVP_PKCS82PKEY(p8);
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	if (j->pkey != NULL)
		j->failed = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	ERR_clear_error();
}

void
sign_key_work(struct sign_pending *j)
{
	BIO *b;

	if (j->done)
		return;
	j->done = 1;
	if (j->pem == NULL) {
		work_sigstore(j);
		return;
	}
	j->failed = 1;
	if (j->pem_len <= (size_t)INT32_MAX && (b = BIO_new_mem_buf(j->pem, (int)j->pem_len)) != NULL) {
		j->pkey = PEM_read_bio_PrivateKey(b, NULL, passphrase_cb, j->pass);
		BIO_free(b);
	}
	if (j->pkey != NULL)
		j->failed = 0;
	ERR_clear_error();
}

rp_status
sign_key_end(struct sign_pending *j, struct sign_key **out, struct rp_err *err)
{
	EVP_PKEY *pkey = j->pkey;
	rp_status st;

	*out = NULL;
	if (j->failed == 0) {
		j->pkey = NULL;
		st = wrap(pkey, 1, j->what, out, err);
	} else if (j->failed == 3)
		st = rp_fail(err, RP_ENOMEM, "out of memory (decrypting %s)", j->what);
	else if (j->pem == NULL)
		st = j->failed == 2 ?
		    rp_fail(err, RP_EINPUT, "%s decrypts to something that is not a PKCS#8 private "
			    "key (is it damaged?)", j->what) :
		    rp_fail(err, RP_EINPUT, "%s could not be decrypted: %s", j->what,
			    j->pass == NULL ? "it is encrypted and no passphrase was given" :
			    "its passphrase is wrong, or the key is damaged");
	else
		st = rp_fail(err, RP_EINPUT, "%s is not a PEM private key%s (PKCS#8, encrypted "
			     "PKCS#8, EC PRIVATE KEY or cosign's ENCRYPTED SIGSTORE PRIVATE KEY)",
			     j->what, memmem(j->pem, j->pem_len, "ENCRYPTED", 9) != NULL ?
			     ", or its passphrase is wrong" : "");
	pending_free(j);
	return st;
}

rp_status
sign_key_load(const char *pem, size_t len, const char *passphrase, const char *what,
	      struct sign_key **out, struct rp_err *err)
{
	struct sign_pending *j;
	rp_status st;

	*out = NULL;
	if ((st = sign_key_begin(pem, len, passphrase, what, &j, err)) != RP_OK)
		return st;
	sign_key_work(j);
	return sign_key_end(j, out, err);
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
	unsigned char *der;
	size_t n;
	EVP_MD_CTX *ctx;
	int ok = -1, r;

	if (b64sig == NULL || strlen(b64sig) > 4096)
		return 0;
	if ((r = unbase64(b64sig, &der, &n)) != 0)
		return r == -2 ? -1 : 0;
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

	int r;

	if (rp_sha256_digest(payload, len, d) != 0)
		return -1;
	json_array_foreach(layers, i, l) {
		const char *ld = json_string_value(json_object_get(l, "digest"));
		const char *sig = json_string_value(json_object_get(json_object_get(l, "annotations"),
								    SIG_ANNOTATION));
		if (ld != NULL && strcmp(ld, d) == 0 && (r = sign_check(k, payload, len, sig)) != 0)
			return r;
	}
	return 0;
}

enum sign_verdict
sign_judge(const json_t *layer, const char *payload, size_t len, const struct sign_key *const *keys,
	   size_t nkeys, const char *digest, const char *const *repos, const char *revision,
	   size_t *key, char *named, size_t named_size)
{
	const char *mt = json_string_value(json_object_get(layer, "mediaType"));
	const char *ld = json_string_value(json_object_get(layer, "digest"));
	const char *sig = json_string_value(json_object_get(json_object_get(layer, "annotations"),
							    SIG_ANNOTATION));
	json_t *size = json_object_get(layer, "size"), *doc, *crit;
	json_error_t jerr;
	char d[RP_DIGEST_MAX];
	const char *type, *ref, *dig, *rev;
	enum sign_verdict v;
	size_t i;

	if (named_size > 0)
		named[0] = '\0';
	if (mt == NULL || strcmp(mt, SIG_LAYER_TYPE) != 0 || ld == NULL || !json_is_integer(size) ||
	    json_integer_value(size) != (json_int_t)len)
		return SIGN_BAD_LAYER;
	if (rp_sha256_digest(payload, len, d) != 0)
		return SIGN_ENOMEM;
	if (strcmp(d, ld) != 0)
		return SIGN_BAD_LAYER;
	for (i = 0; i < nkeys; i++) {
		int r = sign_check(keys[i], payload, len, sig);
		if (r < 0)
			return SIGN_ENOMEM;
		if (r > 0)
			break;
	}
	if (i == nkeys)
		return SIGN_BAD_KEY;
	*key = i;
	if ((doc = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return json_error_code(&jerr) == json_error_out_of_memory ? SIGN_ENOMEM :
		    SIGN_BAD_PAYLOAD;
	crit = json_object_get(doc, "critical");
	type = json_string_value(json_object_get(crit, "type"));
	ref = json_string_value(json_object_get(json_object_get(crit, "identity"), "docker-reference"));
	dig = json_string_value(json_object_get(json_object_get(crit, "image"),
						"docker-manifest-digest"));
	rev = json_string_value(json_object_get(json_object_get(doc, "optional"),
						"org.opencontainers.image.revision"));
	v = SIGN_OK;
	if (type == NULL || strcmp(type, "cosign container image signature") != 0 || ref == NULL ||
	    dig == NULL)
		v = SIGN_BAD_PAYLOAD;
	else if (strcmp(dig, digest) != 0)
		v = SIGN_OTHER_DIGEST;
	else {
		for (i = 0; repos[i] != NULL && strcmp(repos[i], ref) != 0; i++)
			;
		if (repos[i] == NULL)
			v = SIGN_OTHER_REPO;
		else if (revision != NULL && json_object_get(json_object_get(doc, "optional"),
							  "org.opencontainers.image.revision") != NULL &&
			 (rev == NULL || strcasecmp(rev, revision) != 0))
			v = SIGN_OTHER_REVISION;
	}
	/* What the payload names instead, for the message. */
	if (v == SIGN_OTHER_DIGEST || v == SIGN_OTHER_REPO || v == SIGN_OTHER_REVISION)
		rp_quote(v == SIGN_OTHER_DIGEST ? dig : v == SIGN_OTHER_REPO ? ref :
			 rev != NULL ? rev : "(not a string)", 200, named, named_size);
	json_decref(doc);
	return v;
}

#define ATT_LAYER_TYPE "application/vnd.dsse.envelope.v1+json"
#define INTOTO_TYPE "application/vnd.in-toto+json"

char *
sign_statement(const char *repo, const char *digest, const char *predicate_type,
	       const json_t *predicate)
{
	json_t *st;
	char *text, *out;

	if (strncmp(digest, "sha256:", 7) != 0)
		return NULL;
	st = json_pack("{s:s,s:s,s:[{s:s,s:{s:s}}],s:O}", "_type", "https://in-toto.io/Statement/v0.1",
		       "predicateType", predicate_type, "subject", "name", repo, "digest", "sha256",
		       digest + 7, "predicate", predicate);
	if (st == NULL)
		return NULL;
	text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(st);
	if (text == NULL)
		return NULL;
	out = go_escape(text);
	free(text);
	return out;
}

/* DSSE's pre-authentication encoding of an in-toto payload. */
static char *
pae(const char *payload, size_t len, size_t *n)
{
	struct sbuf sb;
	char *s;

	sbuf_init(&sb, 16 << 20);
	sbuf_printf(&sb, "DSSEv1 %zu %s %zu ", strlen(INTOTO_TYPE), INTOTO_TYPE, len);
	sbuf_add(&sb, payload, len);
	*n = sb.len;
	s = sbuf_take(&sb);
	return s;
}

char *
sign_dsse(const struct sign_key *k, const char *payload, size_t len, struct rp_err *err)
{
	size_t n = 0;
	char *msg = pae(payload, len, &n), *sig = NULL, *b64 = NULL, *out = NULL;
	json_t *env;

	if (msg == NULL || (b64 = rp_base64(payload, len)) == NULL) {
		free(msg);
		rp_fail(err, RP_ENOMEM, "out of memory");
		return NULL;
	}
	if ((sig = sign_data(k, msg, n, err)) != NULL) {
		env = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "payloadType", INTOTO_TYPE, "payload", b64,
				"signatures", "keyid", "", "sig", sig);
		if (env == NULL || (out = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
			rp_fail(err, RP_ENOMEM, "out of memory");
		json_decref(env);
	}
	free(msg);
	free(sig);
	free(b64);
	return out;
}

int
sign_dsse_check(const struct sign_key *k, const char *envelope, size_t len, const char *payload,
		size_t plen)
{
	json_t *env = json_loadb(envelope, len, 0, NULL), *s;
	const char *type = json_string_value(json_object_get(env, "payloadType"));
	const char *b64 = json_string_value(json_object_get(env, "payload"));
	unsigned char *body = NULL;
	size_t i, n = 0, mlen = 0;
	char *msg = NULL;
	int ok = 0;

	if (type == NULL || strcmp(type, INTOTO_TYPE) != 0 || b64 == NULL ||
	    unbase64(b64, &body, &n) != 0)
		goto out;
	if (payload != NULL && (n != plen || memcmp(body, payload, n) != 0))
		goto out;
	if ((msg = pae((const char *)body, n, &mlen)) == NULL)
		goto out;
	json_array_foreach(json_object_get(env, "signatures"), i, s)
		if (sign_check(k, msg, mlen, json_string_value(json_object_get(s, "sig"))) > 0) {
			ok = 1;
			break;
		}
out:
	free(msg);
	free(body);
	json_decref(env);
	return ok;
}

json_t *
sign_att_layer(const char *envelope, size_t len, const char *predicate_type)
{
	char d[RP_DIGEST_MAX];

	if (rp_sha256_digest(envelope, len, d) != 0)
		return NULL;
	return json_pack("{s:s,s:I,s:s,s:{s:s,s:s}}", "mediaType", ATT_LAYER_TYPE, "size",
			 (json_int_t)len, "digest", d, "annotations", SIG_ANNOTATION, "",
			 "predicateType", predicate_type);
}

int
sign_att_layer_is(const json_t *layer, const char *predicate_type)
{
	const char *mt = json_string_value(json_object_get(layer, "mediaType"));
	const char *pt = json_string_value(json_object_get(json_object_get(layer, "annotations"),
							   "predicateType"));

	return mt != NULL && strcmp(mt, ATT_LAYER_TYPE) == 0 && pt != NULL &&
	       strcmp(pt, predicate_type) == 0;
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
