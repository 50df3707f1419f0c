/* sign.c: keys, the payload and signatures, with Debian trixie's cosign
 * 2.5 as the oracle (REGPUSH_TEST_COSIGN, scripts/cosign.sh) and openssl
 * making the keys of each format. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "sign.h"
#include "testreg.h"

#define DIG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG2 "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define SHA_REV "0123456789abcdef0123456789abcdef01234567"

static char *dir;

static void
setup(void)
{
	dir = tmpdir_new();
}

static void
teardown(void)
{
	rm_rf(dir);
	free(dir);
}

static const char *
cosign(void)
{
	const char *c = getenv("REGPUSH_TEST_COSIGN");

	cr_assert(c != NULL && c[0] != '\0', "run the tests through tests/with-registries.sh "
		  "(REGPUSH_TEST_COSIGN: scripts/cosign.sh)");
	return c;
}

/* Runs argv (envp: COSIGN_PASSWORD and the like) in dir; its stdout. */
static char *
run_in(const char *const *argv, const char *const *extra_env)
{
	const char *envp[8] = { "PATH=/usr/bin:/bin", "HOME=/tmp" };
	struct proc p;
	char *out;
	size_t i, n = 2;

	for (i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
		envp[n++] = extra_env[i];
	envp[n] = NULL;
	run_prog(argv[0], argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s: %s", argv[0], p.err);
	out = strdup(p.out);
	proc_free(&p);
	return out;
}

static char *
path(const char *name)
{
	char *s;

	cr_assert(asprintf(&s, "%s/%s", dir, name) > 0);
	return s;
}

/* openssl makes a P-256 key as PKCS#8 (key.pem), encrypted PKCS#8
 * (enc.pem, passphrase "s3cret"), SEC 1 (sec1.pem), its public key
 * (pub.pem); and an RSA key (rsa.pem). */
static void
make_keys(void)
{
	char *k = path("key.pem"), *e = path("enc.pem"), *s = path("sec1.pem"), *pub = path("pub.pem"),
	     *r = path("rsa.pem");
	const char *a1[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
			     "-out", k, NULL };
	const char *a2[] = { "openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", k, "-out", e,
			     "-passout", "pass:s3cret", NULL };
	const char *a3[] = { "openssl", "ec", "-in", k, "-out", s, NULL };
	const char *a4[] = { "openssl", "pkey", "-in", k, "-pubout", "-out", pub, NULL };
	const char *a5[] = { "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
			     "-out", r, NULL };
	const char *const *all[] = { a1, a2, a3, a4, a5 };
	size_t i;

	for (i = 0; i < 5; i++)
		free(run_in(all[i], NULL));
	free(k);
	free(e);
	free(s);
	free(pub);
	free(r);
}

/* cosign generate-key-pair: dir/cosign.key (passphrase "pw") and
 * dir/cosign.pub. */
static void
cosign_keys(void)
{
	const char *argv[] = { cosign(), "generate-key-pair", "--output-key-prefix", NULL, NULL };
	const char *env[] = { "COSIGN_PASSWORD=pw", NULL };
	char *g = path("cosign");

	argv[3] = g;
	free(run_in(argv, env));
	free(g);
}

static struct sign_key *
load(const char *name, const char *pass, int public, rp_status want, const char *msg)
{
	char *p = path(name), *text = read_all(p);
	struct sign_key *k = NULL;
	struct rp_err err = { RP_OK, "" };
	rp_status st;

	cr_assert_not_null(text, "%s", p);
	st = public ? sign_pub_load(text, strlen(text), "input verify-keys", &k, &err) :
	    sign_key_load(text, strlen(text), pass, "input signing-key", &k, &err);
	cr_expect_eq(st, want, "%s: %s", name, err.msg);
	if (msg != NULL)
		cr_expect_str_eq(err.msg, msg, "%s", name);
	/* The key's bytes never reach a message: no piece of its body. */
	{
		const char *body = strchr(text, '\n');
		char piece[17] = "";
		if (body != NULL && strlen(body + 1) >= 16)
			memcpy(piece, body + 1, 16);
		cr_expect(piece[0] == '\0' || strstr(err.msg, piece) == NULL, "%s", err.msg);
	}
	free(text);
	free(p);
	return k;
}

/* Every format openssl writes is read; the wrong passphrase, garbage, an
 * RSA key and cosign's own format are refused with a message naming the
 * key by its input, never by its bytes. */
Test(sign, key_formats, .init = setup, .fini = teardown)
{
	struct sign_key *k;

	make_keys();
	sign_key_free(load("key.pem", NULL, 0, RP_OK, NULL));
	sign_key_free(load("enc.pem", "s3cret", 0, RP_OK, NULL));
	sign_key_free(load("sec1.pem", NULL, 0, RP_OK, NULL));
	sign_key_free(load("pub.pem", NULL, 1, RP_OK, NULL));
	k = load("enc.pem", "wrong", 0, RP_EINPUT,
		 "input signing-key is not a PEM private key, or its passphrase is wrong "
		 "(PKCS#8, encrypted PKCS#8, EC PRIVATE KEY or cosign's ENCRYPTED SIGSTORE PRIVATE "
		 "KEY)");
	cr_expect_null(k);
	load("enc.pem", NULL, 0, RP_EINPUT, NULL);
	load("rsa.pem", NULL, 0, RP_EINPUT,
	     "input signing-key is not an ECDSA P-256 key (the curve cosign signs with; make one "
	     "with cosign generate-key-pair)");
	load("key.pem", NULL, 1, RP_EINPUT,
	     "input verify-keys is not a PEM public key (-----BEGIN PUBLIC KEY-----, as cosign "
	     "generate-key-pair writes cosign.pub)");
	free(write_file(dir, "garbage.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
	free(write_file(dir, "empty.pem", ""));
	load("empty.pem", NULL, 0, RP_EINPUT, NULL);
	load("garbage.pem", NULL, 0, RP_EINPUT,
	     "input signing-key is not a PEM private key (PKCS#8, encrypted PKCS#8, EC PRIVATE KEY "
	     "or cosign's ENCRYPTED SIGSTORE PRIVATE KEY)");
}

/* fmt with @S, @N and @B replaced by s, n and b. */
static char *
fill(const char *fmt, const char *s, const char *n, const char *b)
{
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	for (; *fmt != '\0'; fmt++) {
		if (fmt[0] == '@' && (fmt[1] == 'S' || fmt[1] == 'N' || fmt[1] == 'B')) {
			fputs(fmt[1] == 'S' ? s : fmt[1] == 'N' ? n : b, f);
			fmt++;
		} else
			fputc(*fmt, f);
	}
	fclose(f);
	return out;
}

/* A key in cosign's format made here: scrypt(pass, salt, n, r, p) seals
 * plain (len bytes) in a secretbox; json_fmt names the kdf's parameters
 * itself and has @S, @N and @B for the salt, nonce and box in base64. */
static char *
forge_cosign(const char *header, const char *pass, uint64_t n, uint32_t r, uint32_t p,
	     const unsigned char *plain, size_t len, const char *json_fmt)
{
	unsigned char salt[32], nonce[crypto_secretbox_NONCEBYTES], key[32], *box;
	char *json, *pem, *s64, *n64, *b64, *body;

	cr_assert(sodium_init() >= 0);
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	cr_assert_eq(EVP_PBE_scrypt(pass, strlen(pass), salt, sizeof(salt), n, r, p, 0, key, 32), 1);
	box = malloc(len + crypto_secretbox_MACBYTES);
	cr_assert_eq(crypto_secretbox_easy(box, plain, len, nonce, key), 0);
	s64 = rp_base64(salt, sizeof(salt));
	n64 = rp_base64(nonce, sizeof(nonce));
	b64 = rp_base64(box, len + crypto_secretbox_MACBYTES);
	json = fill(json_fmt, s64, n64, b64);
	body = rp_base64(json, strlen(json));
	cr_assert(asprintf(&pem, "-----BEGIN %s-----\n%s\n-----END %s-----\n", header, body, header) > 0);
	free(box);
	free(s64);
	free(n64);
	free(b64);
	free(json);
	free(body);
	return pem;
}

#define COSIGN_JSON(n, r, p)                                                                     \
	"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":" #n ",\"r\":" #r ",\"p\":" #p "},"    \
	"\"salt\":\"@S\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"@N\"},"           \
	"\"ciphertext\":\"@B\"}"

/* The DER PKCS#8 of key.pem (make_keys), what cosign seals. */
static unsigned char *
pkcs8_der(size_t *len)
{
	char *p = path("key.pem"), *text = read_all(p);
	BIO *b = BIO_new_mem_buf(text, -1);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pk);
	unsigned char *der = NULL;
	int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);

	cr_assert_gt(n, 0);
	*len = (size_t)n;
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(pk);
	BIO_free(b);
	free(text);
	free(p);
	return der;
}

static void
expect_same_key(struct sign_key *a, struct sign_key *b)
{
	char fa[RP_DIGEST_MAX], fb[RP_DIGEST_MAX];

	cr_assert(a != NULL && b != NULL);
	cr_assert_eq(sign_fingerprint(a, fa), 0);
	cr_assert_eq(sign_fingerprint(b, fb), 0);
	cr_expect_str_eq(fa, fb);
}

/* cosign's own encrypted format: what cosign generate-key-pair writes
 * (with and without a passphrase) is read, and is the key of its
 * cosign.pub; the older COSIGN header; the wrong passphrase, none, a
 * damaged box and every malformed envelope are refused by name. */
Test(sign, cosign_format, .init = setup, .fini = teardown)
{
	unsigned char *der, junk[40] = "not a key at all, just forty bytes long!";
	size_t dlen;
	char *pem;
	struct sign_key *k, *pub;

	cosign_keys();
	k = load("cosign.key", "pw", 0, RP_OK, NULL);
	pub = load("cosign.pub", NULL, 1, RP_OK, NULL);
	expect_same_key(k, pub);
	/* What it signs, cosign verifies with cosign.pub. */
	{
		struct rp_err err = { RP_OK, "" };
		char *payload = sign_payload("quay.io/kubernaut/gateway", DIG, NULL);
		char *sig = sign_data(k, payload, strlen(payload), &err);
		char *pp = write_file(dir, "payload", payload), *sp, *kp = path("cosign.pub");
		const char *argv[] = { cosign(), "verify-blob", "--key", kp, "--signature", NULL,
				       "--insecure-ignore-tlog", pp, NULL };
		cr_assert_not_null(sig, "%s", err.msg);
		sp = write_file(dir, "sig", sig);
		argv[5] = sp;
		free(run_in(argv, NULL));
		free(payload);
		free(sig);
		free(pp);
		free(sp);
		free(kp);
	}
	sign_key_free(k);
	sign_key_free(pub);
	load("cosign.key", "wrong", 0, RP_EINPUT,
	     "input signing-key could not be decrypted: its passphrase is wrong, or the key is damaged");
	load("cosign.key", NULL, 0, RP_EINPUT,
	     "input signing-key could not be decrypted: it is encrypted and no passphrase was given");
	/* cosign's empty passphrase: no passphrase given reads it. */
	{
		const char *argv[] = { cosign(), "generate-key-pair", "--output-key-prefix", NULL, NULL };
		const char *env[] = { "COSIGN_PASSWORD=", NULL };
		char *g = path("nopass");
		argv[3] = g;
		free(run_in(argv, env));
		free(g);
		k = load("nopass.key", NULL, 0, RP_OK, NULL);
		pub = load("nopass.pub", NULL, 1, RP_OK, NULL);
		expect_same_key(k, pub);
		sign_key_free(k);
		sign_key_free(pub);
	}

	make_keys();
	der = pkcs8_der(&dlen);
	pub = load("pub.pem", NULL, 1, RP_OK, NULL);
	/* Made here: the older header, other parameters (read, not assumed). */
	pem = forge_cosign("ENCRYPTED COSIGN PRIVATE KEY", "pw", 1024, 4, 2, der, dlen,
			   COSIGN_JSON(1024, 4, 2));
	free(write_file(dir, "old.key", pem));
	free(pem);
	k = load("old.key", "pw", 0, RP_OK, NULL);
	expect_same_key(k, pub);
	sign_key_free(k);
	/* The parameters the box was sealed with, not others. */
	pem = forge_cosign("ENCRYPTED SIGSTORE PRIVATE KEY", "pw", 1024, 4, 2, der, dlen,
			   COSIGN_JSON(2048, 4, 2));
	free(write_file(dir, "params.key", pem));
	free(pem);
	load("params.key", "pw", 0, RP_EINPUT,
	     "input signing-key could not be decrypted: its passphrase is wrong, or the key is damaged");
	/* A box that opens but holds no key. */
	pem = forge_cosign("ENCRYPTED SIGSTORE PRIVATE KEY", "pw", 1024, 8, 1, junk, sizeof(junk),
			   COSIGN_JSON(1024, 8, 1));
	free(write_file(dir, "junk.key", pem));
	free(pem);
	load("junk.key", "pw", 0, RP_EINPUT,
	     "input signing-key decrypts to something that is not a PKCS#8 private key (is it damaged?)");
	/* Parameters that would take gigabytes, or make no sense. */
	pem = forge_cosign("ENCRYPTED SIGSTORE PRIVATE KEY", "pw", 1024, 8, 1, der, dlen,
			   COSIGN_JSON(4194304, 8, 1));
	free(write_file(dir, "huge.key", pem));
	free(pem);
	load("huge.key", "pw", 0, RP_EINPUT,
	     "input signing-key asks for scrypt parameters regpush does not use (N 4194304, r 8, "
	     "p 1: at most 128 MiB; cosign writes N 65536, r 8, p 1)");
	pem = forge_cosign("ENCRYPTED SIGSTORE PRIVATE KEY", "pw", 1024, 8, 1, der, dlen,
			   COSIGN_JSON(1000, 8, 1));
	free(write_file(dir, "odd.key", pem));
	free(pem);
	load("odd.key", "pw", 0, RP_EINPUT, NULL);
	pem = forge_cosign("ENCRYPTED SIGSTORE PRIVATE KEY", "pw", 1024, 8, 1, der, dlen,
			   "{\"kdf\":{\"name\":\"argon2\",\"params\":{\"N\":1,\"r\":1,\"p\":1},"
			   "\"salt\":\"@S\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"@N\"},"
			   "\"ciphertext\":\"@B\"}");
	free(write_file(dir, "argon.key", pem));
	free(pem);
	load("argon.key", "pw", 0, RP_EINPUT,
	     "input signing-key uses kdf argon2 and cipher nacl/secretbox; regpush reads cosign's "
	     "scrypt and nacl/secretbox");
	/* The nonce where the salt belongs: 32 bytes of nonce. */
	pem = forge_cosign("ENCRYPTED SIGSTORE PRIVATE KEY", "pw", 1024, 8, 1, der, dlen,
			   "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":1024,\"r\":8,\"p\":1},"
			   "\"salt\":\"@S\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"@S\"},"
			   "\"ciphertext\":\"@B\"}");
	free(write_file(dir, "nonce.key", pem));
	free(pem);
	load("nonce.key", "pw", 0, RP_EINPUT,
	     "input signing-key is not a cosign key: its salt, nonce or ciphertext is not what cosign "
	     "writes");
	free(write_file(dir, "json.key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
					 "eyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
	load("json.key", "pw", 0, RP_EINPUT,
	     "input signing-key is not a cosign key: its body is not the JSON cosign "
	     "generate-key-pair writes (kdf, cipher, ciphertext)");
	free(write_file(dir, "armour.key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
	load("armour.key", "pw", 0, RP_EINPUT,
	     "input signing-key is not a cosign key: its body is not the JSON cosign "
	     "generate-key-pair writes (kdf, cipher, ciphertext)");
	sign_key_free(pub);
	OPENSSL_free(der);
}

/* The payload's bytes equal what cosign generate prints, with and without
 * claims, and with the characters Go escapes. */
Test(sign, payload_equals_cosigns)
{
	static const struct {
		const char *ref;
		const char *claims[7];
	} rows[] = {
		{ "quay.io/kubernaut/gateway", { NULL } },
		{ "127.0.0.1:5000/dev/svc", { "org.opencontainers.image.revision",
					      "0123456789abcdef0123456789abcdef01234567",
					      "dev.regpush.ref", "refs/tags/v1.2.3",
					      "dev.regpush.environment", "production", NULL } },
		{ "quay.io/kubernaut/gateway", { "dev.regpush.ref", "refs/heads/a<b>&c\xe2\x80\xa8\\",
						 NULL } },
	};
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *argv[16] = { cosign(), "generate" };
		char *want, *got, *image, *claim[3] = { NULL, NULL, NULL };
		size_t n = 2;
		for (k = 0; rows[i].claims[k] != NULL; k += 2) {
			cr_assert(asprintf(&claim[k / 2], "%s=%s", rows[i].claims[k], rows[i].claims[k + 1]) > 0);
			argv[n++] = "-a";
			argv[n++] = claim[k / 2];
		}
		cr_assert(asprintf(&image, "%s@%s", rows[i].ref, DIG) > 0);
		argv[n++] = image;
		argv[n] = NULL;
		want = run_in(argv, NULL);
		want[strcspn(want, "\n")] = '\0';
		got = sign_payload(rows[i].ref, DIG, rows[i].claims[0] != NULL ? rows[i].claims : NULL);
		cr_expect_str_eq(got, want, "row %zu", i);
		free(got);
		free(want);
		free(image);
		for (k = 0; k < 3; k++)
			free(claim[k]);
	}
}

/* Signatures regpush makes verify with cosign verify-blob; cosign's
 * verify with sign_check; every tamper fails. */
Test(sign, both_ways_with_cosign, .init = setup, .fini = teardown)
{
	struct sign_key *k, *pub, *other;
	struct rp_err err = { RP_OK, "" };
	char *payload = sign_payload("quay.io/kubernaut/gateway", DIG, NULL), *sig, *pp, *sp, *kp,
	     *csig, *fp, fp2[RP_DIGEST_MAX], fpa[RP_DIGEST_MAX];

	make_keys();
	k = load("key.pem", NULL, 0, RP_OK, NULL);
	pub = load("pub.pem", NULL, 1, RP_OK, NULL);
	cr_assert_not_null(payload);
	sig = sign_data(k, payload, strlen(payload), &err);
	cr_assert_not_null(sig, "%s", err.msg);
	cr_expect(sign_check(pub, payload, strlen(payload), sig));
	cr_expect(sign_check(k, payload, strlen(payload), sig), "a private key verifies too");
	/* cosign accepts it. */
	pp = write_file(dir, "payload", payload);
	sp = write_file(dir, "sig", sig);
	kp = path("pub.pem");
	{
		const char *argv[] = { cosign(), "verify-blob", "--key", kp, "--signature", sp,
				       "--insecure-ignore-tlog", pp, NULL };
		free(run_in(argv, NULL));
	}
	/* cosign's signature (its own key), checked here with its public key. */
	cosign_keys();
	{
		char *key = path("cosign.key");
		const char *argv[] = { cosign(), "sign-blob", "--key", key, "--tlog-upload=false", "--yes",
				       pp, NULL };
		const char *env[] = { "COSIGN_PASSWORD=pw", NULL };
		struct sign_key *cpub = load("cosign.pub", NULL, 1, RP_OK, NULL);
		csig = run_in(argv, env);
		csig[strcspn(csig, "\n")] = '\0';
		cr_expect(sign_check(cpub, payload, strlen(payload), csig), "cosign's: %s", csig);
		cr_expect(!sign_check(pub, payload, strlen(payload), csig), "not under another key");
		sign_key_free(cpub);
		free(key);
	}
	/* Tampering. */
	payload[10] ^= 1;
	cr_expect(!sign_check(pub, payload, strlen(payload), sig), "another payload");
	payload[10] ^= 1;
	cr_expect(!sign_check(pub, payload, strlen(payload), ""), "empty");
	cr_expect(!sign_check(pub, payload, strlen(payload), NULL), "none");
	cr_expect(!sign_check(pub, payload, strlen(payload), "not base64!"), "not base64");
	cr_expect(!sign_check(pub, payload, strlen(payload), "AAAA"), "not DER");
	sig[5] = sig[5] == 'A' ? 'B' : 'A';
	cr_expect(!sign_check(pub, payload, strlen(payload), sig), "a changed signature");
	{
		const char *argv[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
				       "ec_paramgen_curve:P-256", "-out", NULL, NULL };
		char *o = path("other.pem");
		argv[7] = o;
		free(run_in(argv, NULL));
		other = load("other.pem", NULL, 0, RP_OK, NULL);
		cr_expect(!sign_check(other, payload, strlen(payload), csig), "another key");
		free(o);
	}
	cr_expect_null(sign_data(pub, payload, strlen(payload), &err), "a public key does not sign");
	/* The fingerprint is the public key's, the same from either half. */
	cr_assert_eq(sign_fingerprint(k, fp2), 0);
	cr_assert_eq(sign_fingerprint(pub, fpa), 0);
	cr_expect_str_eq(fp2, fpa);
	{
		char *pd = path("pub.der");
		const char *argv[] = { "openssl", "pkey", "-pubin", "-in", kp, "-outform", "DER", "-out", pd, NULL };
		const char *argv2[] = { "sha256sum", pd, NULL };
		char want[80];
		free(run_in(argv, NULL));
		fp = run_in(argv2, NULL);
		snprintf(want, sizeof(want), "sha256:%.64s", fp);
		cr_expect_str_eq(fp2, want);
		free(fp);
		free(pd);
	}
	sign_key_free(k);
	sign_key_free(pub);
	sign_key_free(other);
	free(sig);
	free(csig);
	free(payload);
	free(pp);
	free(sp);
	free(kp);
}

Test(sign, tags)
{
	char t[100];

	cr_assert_eq(sign_tag(DIG, "sig", t, sizeof(t)), 0);
	cr_expect_str_eq(t, "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig");
	cr_expect_eq(sign_tag("sha512:00", "sig", t, sizeof(t)), -1);
	cr_expect_eq(sign_tag("sha256:xyz", "att", t, sizeof(t)), -1);
	cr_expect_eq(sign_tag(NULL, "att", t, sizeof(t)), -1);
}

/* cosign sign twice (two payloads) on an image in the plain registry:
 * the .sig manifest and config it wrote are what sign_image makes of its
 * layers, byte for byte; after the first signature, what sign_payload,
 * sign_layer and sign_image make from scratch; sign_has finds each
 * payload under cosign's key and not under another. */
Test(sign, sig_image_equals_cosigns, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), d[80], sd[80], tag[100], ref[300], *m1, *m2, *body, *cfg, *man;
	json_t *doc, *layers;
	struct sign_key *cpub, *other;
	struct rp_err err = { RP_OK, "" };
	const char *claims_x[] = { "dev.regpush.ref", "x", NULL };

	treg_copy_in(one, "sigtest/svc", "v1");
	cr_assert_eq(treg_manifest(plain, "sigtest/svc", "v1", NULL, d), 200);
	snprintf(ref, sizeof(ref), "%s/sigtest/svc@%s", plain.host, d);
	cr_assert_eq(sign_tag(d, "sig", tag, sizeof(tag)), 0);
	cosign_keys();
	make_keys();
	cpub = load("cosign.pub", NULL, 1, RP_OK, NULL);
	other = load("pub.pem", NULL, 1, RP_OK, NULL);
	{
		char *key = path("cosign.key");
		const char *a1[] = { cosign(), "sign", "--key", key, "--tlog-upload=false", "--yes",
				     "--allow-insecure-registry", "-a", "dev.regpush.ref=x", ref, NULL };
		const char *a2[] = { cosign(), "sign", "--key", key, "--tlog-upload=false", "--yes",
				     "--allow-insecure-registry", "-a", "dev.regpush.ref=y", ref, NULL };
		const char *env[] = { "COSIGN_PASSWORD=pw", NULL };
		free(run_in(a1, env));
		cr_assert_eq(treg_manifest(plain, "sigtest/svc", tag, &m1, sd), 200);
		free(run_in(a2, env));
		cr_assert_eq(treg_manifest(plain, "sigtest/svc", tag, &m2, sd), 200);
		free(key);
	}
	/* From scratch, after one signature. */
	{
		char r[300], *payload, *p2, *lb;
		json_t *arr = json_array(), *first;
		snprintf(r, sizeof(r), "%s/sigtest/svc", plain.host);
		payload = sign_payload(r, d, claims_x);
		doc = json_loads(m1, 0, NULL);
		cr_assert_not_null(doc, "%s", m1);
		first = json_array_get(json_object_get(doc, "layers"), 0);
		cr_assert_eq(treg_blob(plain, "sigtest/svc", json_string_value(json_object_get(first, "digest")),
				       &lb), 200);
		cr_expect_str_eq(lb, payload, "cosign's payload layer");
		json_array_append_new(arr, sign_layer(payload, strlen(payload), json_string_value(
		    json_object_get(json_object_get(first, "annotations"), "dev.cosignproject.cosign/signature"))));
		cr_assert_eq(sign_image(arr, &cfg, &man, &err), RP_OK, "%s", err.msg);
		cr_expect_str_eq(man, m1);
		cr_assert_eq(treg_blob(plain, "sigtest/svc", json_string_value(json_object_get(json_object_get(doc,
				       "config"), "digest")), &body), 200);
		cr_expect_str_eq(cfg, body);
		cr_expect(sign_has(json_object_get(doc, "layers"), payload, strlen(payload), cpub));
		cr_expect(!sign_has(json_object_get(doc, "layers"), payload, strlen(payload), other));
		p2 = strdup(payload);
		p2[strlen(p2) - 3] = 'z'; /* "x" -> "z": another payload */
		cr_expect(!sign_has(json_object_get(doc, "layers"), p2, strlen(p2), cpub));
		free(p2);
		free(body);
		free(cfg);
		free(man);
		free(lb);
		free(payload);
		json_decref(arr);
		json_decref(doc);
	}
	/* Rebuilt from cosign's two layers. */
	doc = json_loads(m2, 0, NULL);
	cr_assert_not_null(doc);
	layers = json_object_get(doc, "layers");
	cr_assert_eq(json_array_size(layers), 2);
	cr_assert_eq(sign_image(layers, &cfg, &man, &err), RP_OK, "%s", err.msg);
	cr_expect_str_eq(man, m2);
	cr_assert_eq(treg_blob(plain, "sigtest/svc", json_string_value(json_object_get(json_object_get(doc,
			       "config"), "digest")), &body), 200);
	cr_expect_str_eq(cfg, body);
	free(body);
	free(cfg);
	free(man);
	json_decref(doc);
	sign_key_free(cpub);
	sign_key_free(other);
	free(m1);
	free(m2);
	free(one);
}

/* sign_judge, every tamper case: a layer counts only when it is the
 * simple-signing layer of exactly its payload, its signature verifies
 * under one of the keys (which one is said), and the payload names the
 * digest, an allowed repository and no other revision. */
Test(sign, judge_every_tamper, .init = setup, .fini = teardown)
{
	struct sign_key *k, *pub, *other;
	struct rp_err err = { RP_OK, "" };
	const char *repos[] = { "quay.io/jordigilh/gw", "quay.io/kubernaut/gw", NULL };
	const char *rev[] = { "org.opencontainers.image.revision", SHA_REV, NULL };
	const char *badrev[] = { "org.opencontainers.image.revision", "feedface", NULL };
	const struct sign_key *keys[2];
	char named[300];
	size_t which = 9;
	struct {
		const char *ref, *digest;
		const char *const *claims;
		const char *revision;
		enum sign_verdict want;
		const char *named;
	} rows[] = {
		{ "quay.io/jordigilh/gw", DIG, rev, SHA_REV, SIGN_OK, "" },
		{ "quay.io/kubernaut/gw", DIG, NULL, SHA_REV, SIGN_OK, "" },
		{ "quay.io/kubernaut/gw", DIG, badrev, NULL, SIGN_OK, "" },
		{ "quay.io/jordigilh/gw", DIG, rev, "0123456789ABCDEF0123456789ABCDEF01234567", SIGN_OK, "" },
		{ "quay.io/jordigilh/gw", DIG, badrev, SHA_REV, SIGN_OTHER_REVISION, "feedface" },
		{ "quay.io/jordigilh/other", DIG, rev, SHA_REV, SIGN_OTHER_REPO, "quay.io/jordigilh/other" },
		{ "quay.io/jordigilh/gw", DIG2, rev, SHA_REV, SIGN_OTHER_DIGEST, DIG2 },
	};
	size_t i;

	make_keys();
	k = load("key.pem", NULL, 0, RP_OK, NULL);
	pub = load("pub.pem", NULL, 1, RP_OK, NULL);
	{
		char *o = path("o.pem");
		const char *a[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
				    "ec_paramgen_curve:P-256", "-out", o, NULL };
		free(run_in(a, NULL));
		free(o);
	}
	other = load("o.pem", NULL, 0, RP_OK, NULL);
	keys[0] = other;
	keys[1] = pub;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *payload = sign_payload(rows[i].ref, rows[i].digest, rows[i].claims);
		char *sig = sign_data(k, payload, strlen(payload), &err);
		json_t *layer = sign_layer(payload, strlen(payload), sig);
		enum sign_verdict v = sign_judge(layer, payload, strlen(payload), keys, 2, DIG, repos,
						 rows[i].revision, &which, named, sizeof(named));
		cr_expect_eq(v, rows[i].want, "row %zu", i);
		cr_expect_str_eq(named, rows[i].named, "row %zu", i);
		if (v == SIGN_OK)
			cr_expect_eq(which, 1, "the second key verified (row %zu)", i);
		json_decref(layer);
		free(sig);
		free(payload);
	}
	/* The layer and its bytes. */
	{
		char *payload = sign_payload("quay.io/jordigilh/gw", DIG, NULL);
		size_t n = strlen(payload);
		char *sig = sign_data(k, payload, n, &err);
		json_t *good = sign_layer(payload, n, sig), *l;
		const struct sign_key *only_other[] = { other };
#define JUDGE(layer, bytes, len) \
	sign_judge((layer), (bytes), (len), keys, 2, DIG, repos, NULL, &which, named, sizeof(named))
		cr_expect_eq(JUDGE(good, payload, n), SIGN_OK);
		cr_expect_eq(sign_judge(good, payload, n, only_other, 1, DIG, repos, NULL, &which, named,
					sizeof(named)), SIGN_BAD_KEY, "another key");
		payload[5] ^= 1; /* other bytes than the layer's digest */
		cr_expect_eq(JUDGE(good, payload, n), SIGN_BAD_LAYER);
		payload[5] ^= 1;
		cr_expect_eq(JUDGE(good, payload, n - 1), SIGN_BAD_LAYER, "another size");
		l = json_deep_copy(good);
		json_object_set_new(l, "mediaType", json_string("application/vnd.oci.image.layer.v1.tar"));
		cr_expect_eq(JUDGE(l, payload, n), SIGN_BAD_LAYER, "a wrong layer type");
		json_decref(l);
		l = json_deep_copy(good);
		json_object_set_new(l, "size", json_integer((json_int_t)n + 1));
		cr_expect_eq(JUDGE(l, payload, n), SIGN_BAD_LAYER, "a descriptor size that lies");
		json_decref(l);
		l = json_deep_copy(good);
		json_object_set_new(json_object_get(l, "annotations"), "dev.cosignproject.cosign/signature",
				    json_string(""));
		cr_expect_eq(JUDGE(l, payload, n), SIGN_BAD_KEY, "an empty signature");
		json_object_set_new(json_object_get(l, "annotations"), "dev.cosignproject.cosign/signature",
				    json_string("not base64!"));
		cr_expect_eq(JUDGE(l, payload, n), SIGN_BAD_KEY, "not base64");
		json_object_del(l, "annotations");
		cr_expect_eq(JUDGE(l, payload, n), SIGN_BAD_KEY, "no signature at all");
		json_decref(l);
		json_decref(good);
		free(sig);
		free(payload);
		/* Signed bytes that are no cosign payload. */
		sig = sign_data(k, "{\"critical\":{}}", 15, &err);
		good = sign_layer("{\"critical\":{}}", 15, sig);
		cr_expect_eq(JUDGE(good, "{\"critical\":{}}", 15), SIGN_BAD_PAYLOAD);
		json_decref(good);
		free(sig);
		sig = sign_data(k, "not json", 8, &err);
		good = sign_layer("not json", 8, sig);
		cr_expect_eq(JUDGE(good, "not json", 8), SIGN_BAD_PAYLOAD);
		json_decref(good);
		free(sig);
#undef JUDGE
	}
	sign_key_free(k);
	sign_key_free(pub);
	sign_key_free(other);
}

/* DSSE attestations both ways with cosign 2.5: regpush's envelope of an
 * in-toto statement passes cosign verify-blob-attestation --type
 * slsaprovenance1; cosign attest-blob's envelope passes sign_dsse_check;
 * another payload, another key, a flipped byte do not. */
Test(sign, dsse_both_ways_with_cosign, .init = setup, .fini = teardown)
{
	struct rp_err err = { RP_OK, "" };
	struct sign_key *k, *pub, *cpub;
	json_t *pred = json_pack("{s:{s:s,s:{}},s:{s:{s:s}}}", "buildDefinition", "buildType",
				 "https://actions.github.io/buildtypes/workflow/v1", "externalParameters",
				 "runDetails", "builder", "id", "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main");
	char *blob = write_file(dir, "blob", "the artifact\n"), digest[RP_DIGEST_MAX], *stmt, *env, *ep,
	     *kp = path("pub.pem");

	make_keys();
	k = load("key.pem", NULL, 0, RP_OK, NULL);
	pub = load("pub.pem", NULL, 1, RP_OK, NULL);
	cr_assert_eq(rp_sha256_digest("the artifact\n", 13, digest), 0);
	stmt = sign_statement("blob", digest, "https://slsa.dev/provenance/v1", pred);
	cr_assert_not_null(stmt);
	env = sign_dsse(k, stmt, strlen(stmt), &err);
	cr_assert_not_null(env, "%s", err.msg);
	cr_expect(sign_dsse_check(pub, env, strlen(env), stmt, strlen(stmt)));
	cr_expect(sign_dsse_check(pub, env, strlen(env), NULL, 0), "any payload");
	cr_expect(!sign_dsse_check(pub, env, strlen(env), "{}", 2), "another payload");
	ep = write_file(dir, "env.json", env);
	{
		const char *a[] = { cosign(), "verify-blob-attestation", "--key", kp, "--signature", ep,
				    "--type", "slsaprovenance1", "--insecure-ignore-tlog", blob, NULL };
		free(run_in(a, NULL));
	}
	/* A flipped byte of the signed statement. */
	{
		char *bad = strdup(env), *p = strstr(bad, "\"payload\":\"") + 11;
		*p = *p == 'e' ? 'f' : 'e';
		cr_expect(!sign_dsse_check(pub, bad, strlen(bad), NULL, 0));
		free(bad);
	}
	/* cosign's, under its key and not under ours. */
	cosign_keys();
	{
		char *ck = path("cosign.key"), *pp = write_file(dir, "pred.json",
			"{\"buildDefinition\":{\"buildType\":\"https://example.com/t\",\"externalParameters\":{}},"
			"\"runDetails\":{\"builder\":{\"id\":\"https://example.com/b\"}}}"),
		     *out = path("cosign-env.json"), *text;
		const char *a[] = { cosign(), "attest-blob", "--key", ck, "--predicate", pp, "--type",
				    "slsaprovenance1", "--tlog-upload=false", "--yes",
				    "--output-signature", out, blob, NULL };
		const char *e[] = { "COSIGN_PASSWORD=pw", NULL };
		free(run_in(a, e));
		text = read_all(out);
		cr_assert_not_null(text);
		cpub = load("cosign.pub", NULL, 1, RP_OK, NULL);
		cr_expect(sign_dsse_check(cpub, text, strlen(text), NULL, 0), "cosign's: %s", text);
		cr_expect(!sign_dsse_check(pub, text, strlen(text), NULL, 0), "not under another key");
		sign_key_free(cpub);
		free(text);
		free(out);
		free(pp);
		free(ck);
	}
	json_decref(pred);
	sign_key_free(k);
	sign_key_free(pub);
	free(stmt);
	free(env);
	free(ep);
	free(blob);
	free(kp);
}
