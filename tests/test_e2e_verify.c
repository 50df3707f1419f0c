/* promote verifies, then carries (issue 20): the gate (--verify-key,
 * REGPUSH_VERIFY_KEYS) against signatures regpush and cosign 2.5 wrote,
 * in the real registry; the signatures and attestations travelling with
 * the digest, checked by cosign verify and verify-attestation where the
 * image now is. The suite is "sign", so it runs on both registries. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "testreg.h"

E2E_DIRS_FIXTURE

/* regpush CMD --json with the context flags, org-dev and org-prod under
 * host, every account's credentials, extra flags and env (NULL or at
 * most 4). */
static void
rp(struct proc *p, const char *host, const char *org, const char *cmd, const char *ref,
   const char *const *flags, const char *const *env)
{
	char tmpenv[600], dev[300], prod[300];
	const char *argv[40] = { "regpush", cmd, "--json", "--ref", ref, "--sha", SHA40, "--service",
				 "svc", "--dev-registry", dev, "--prod-registry", prod,
				 "--insecure-registry", host };
	const char *envp[16] = { tmpenv, "HOME=/root", "SOURCE_DATE_EPOCH=1800000000",
				 "REGPUSH_RETRY_BASE_MS=20" };
	size_t a = 15, e = 4, i;

	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(dev, sizeof(dev), "%s/%s-dev", host, org);
	snprintf(prod, sizeof(prod), "%s/%s-prod", host, org);
	for (i = 0; flags != NULL && flags[i] != NULL && a < 38; i++)
		argv[a++] = flags[i];
	argv[a] = NULL;
	for (i = 0; env != NULL && env[i] != NULL && e < 15; i++)
		envp[e++] = env[i];
	envp[e] = NULL;
	run_regpush(argv, envp, p);
}

/* Pushes image (rev.tar: revision SHA40) to org-dev as dev-0123456,
 * signed with key when it is not NULL; its digest (caller frees). */
static char *
push_dev(const char *host, const char *org, const char *image, const char *key)
{
	char *src = archive(image), *keyenv = NULL, *d;
	const char *flags[] = { "--source", src, NULL };
	const char *env[] = { NULL, NULL };
	struct proc p;
	json_t *j;

	if (key != NULL) {
		cr_assert(asprintf(&keyenv, "REGPUSH_SIGNING_KEY=%s", key) > 0);
		env[0] = keyenv;
	}
	rp(&p, host, org, "push", "refs/heads/main", flags, env);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	d = strdup(json_string_value(json_object_get(j, "digest")));
	json_decref(j);
	proc_free(&p);
	free(keyenv);
	free(src);
	return d;
}

/* "sha256:<hex>" of a public key file's DER: the fingerprint regpush
 * names keys by. */
static void
fingerprint(const char *pub, char out[80])
{
	const char *a[] = { "openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER", "-out", NULL,
			    NULL };
	char der[700], *text;
	struct proc p;

	snprintf(der, sizeof(der), "%s.der", pub);
	a[8] = der;
	run_prog("openssl", a, (const char *const[]){ "PATH=/usr/bin:/bin", NULL }, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	{
		const char *s[] = { "sha256sum", der, NULL };
		run_prog("sha256sum", s, (const char *const[]){ "PATH=/usr/bin:/bin", NULL }, &p);
		cr_assert_eq(p.status, 0, "%s", p.err);
		text = p.out;
		snprintf(out, 80, "sha256:%.64s", text);
		proc_free(&p);
	}
}

static const char *
jstr(json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

/* CI signs at push; the release candidate is promoted with the gate, then
 * the release from staging: each step names the key that let it through,
 * the signature travels with the digest (cosign verify accepts it in
 * production, with the claims of the build), and a cosign attestation
 * made in development travels too (cosign verify-attestation in
 * production). */
Test(sign, verified_promotion_carries_the_signature, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct treg plain = treg_plain();
	char *key, *pub, fp[80], *d, ref[400], want[400], *pred, *ck, *cpub, *ckpath;
	const char *vflags[] = { "--from", "development", "--verify-key", NULL, NULL };
	const char *claims[] = { "org.opencontainers.image.revision=" SHA40,
				 "dev.regpush.environment=development", NULL };
	struct proc p;
	json_t *j;

	test_keypair(dir, "ci", &key, &pub);
	fingerprint(pub, fp);
	d = push_dev(plain.host, "vp", "rev.tar", key);
	/* An attestation made in development by cosign, with its own key. */
	cosign_keypair(dir, "att", "pw", &ck, &cpub);
	cr_assert(asprintf(&ckpath, "%s/att.key", dir) > 0);
	pred = write_file(dir, "pred.json", "{\"buildDefinition\":{\"buildType\":\"https://example.com/t\","
			   "\"externalParameters\":{}},\"runDetails\":{\"builder\":{\"id\":"
			   "\"https://example.com/b\"}}}");
	snprintf(ref, sizeof(ref), "%s/vp-dev/svc@%s", plain.host, d);
	{
		const char *a[] = { test_cosign(), "attest", "--key", ckpath, "--predicate", pred,
				    "--type", "slsaprovenance1", "--tlog-upload=false", "--yes",
				    "--allow-insecure-registry", "--allow-http-registry", ref, NULL };
		run_prog(a[0], a, (const char *const[]){ "PATH=/usr/bin:/bin", "HOME=/tmp",
							 "COSIGN_PASSWORD=pw", NULL }, &p);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}

	vflags[3] = pub;
	rp(&p, plain.host, "vp", "promote", "refs/tags/v1.0.0-rc.1", vflags, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	cr_expect_str_eq(jstr(j, "verified_by"), fp);
	snprintf(want, sizeof(want), "%s/vp-dev/svc", plain.host);
	cr_expect_str_eq(jstr(j, "verified_in"), want);
	json_decref(j);
	proc_free(&p);
	cr_expect_eq(treg_attachment_layers(plain, "vp-prod/svc", d, "sig", NULL), 1);
	cr_expect_eq(treg_attachment_layers(plain, "vp-prod/svc", d, "att", NULL), 1);

	/* staging -> production: the signature is found where staging is. */
	vflags[1] = "staging";
	rp(&p, plain.host, "vp", "promote", "refs/tags/v1.0.0", vflags, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_expect_str_eq(jstr(j, "verified_by"), fp);
	cr_expect_str_eq(jstr(j, "verified_in"), want);
	json_decref(j);
	proc_free(&p);
	expect_tags_at(plain, "vp-prod/svc", "v1.0.0 v1.0 v1 latest staging-v1.0.0-rc.1", d);
	snprintf(ref, sizeof(ref), "%s/vp-prod/svc@%s", plain.host, d);
	cr_expect_eq(cosign_verify(pub, ref, claims), 0);
	{
		const char *a[] = { test_cosign(), "verify-attestation", "--key", cpub, "--type",
				    "slsaprovenance1", "--insecure-ignore-tlog", "--allow-insecure-registry",
				    "--allow-http-registry", ref, NULL };
		run_prog(a[0], a, (const char *const[]){ "PATH=/usr/bin:/bin", "HOME=/tmp", NULL }, &p);
		cr_expect_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	/* A rerun carries nothing twice. */
	rp(&p, plain.host, "vp", "promote", "refs/tags/v1.0.0", vflags, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	cr_expect_eq(treg_attachment_layers(plain, "vp-prod/svc", d, "sig", NULL), 1);
	cr_expect_eq(treg_attachment_layers(plain, "vp-prod/svc", d, "att", NULL), 1);
	free(key);
	free(pub);
	free(d);
	free(pred);
	free(ck);
	free(cpub);
	free(ckpath);
}

/* No signature, another key's, cosign's naming another repository or
 * claiming another revision: exit 3 naming the digest, the keys, the
 * repositories and what each layer lacked; in a dry run too; and the
 * destination unchanged. cosign sign's own signature, by a verify key,
 * passes. */
Test(sign, the_gate_refuses_what_ci_did_not_sign, .init = setup, .fini = teardown, .timeout = 300)
{
	struct treg plain = treg_plain();
	char *key, *pub, *other, *opub, fp[80], *d, msg[2000], ref[400], *ck, *cpub, *ckpath;
	const char *vflags[] = { "--from", "development", "--verify-key", NULL, NULL, NULL };
	char *tags;
	struct proc p;

	test_keypair(dir, "ci", &key, &pub);
	test_keypair(dir, "other", &other, &opub);
	fingerprint(pub, fp);
	vflags[3] = pub;

	/* Unsigned. */
	d = push_dev(plain.host, "vr", "rev.tar", NULL);
	rp(&p, plain.host, "vr", "promote", "refs/tags/v2.0.0-rc.1", vflags, NULL);
	cr_expect_eq(p.status, 3, "%s", p.err);
	snprintf(msg, sizeof(msg), "regpush: refused: %s/vr-dev/svc@%s has no signature by the verify "
		 "key (%s) that names it and a repository it may have been signed in (%s/vr-dev/svc): "
		 "there is no sha256-%s.sig in %s/vr-dev/svc (the release commit is " SHA40 "). "
		 "Sign it (regpush push with signing-key, or cosign sign --key) or give the key that "
		 "did. Nothing was written.\n", plain.host, d, fp, plain.host, d + 7, plain.host);
	cr_expect(strstr(p.err, msg) != NULL, "%s\nwant %s", p.err, msg);
	proc_free(&p);
	vflags[4] = "--dry-run";
	rp(&p, plain.host, "vr", "promote", "refs/tags/v2.0.0-rc.1", vflags, NULL);
	cr_expect_eq(p.status, 3, "%s", p.err);
	proc_free(&p);
	vflags[4] = NULL;
	tags = treg_tags(plain, "vr-prod/svc");
	cr_expect(tags == NULL || strstr(tags, "staging") == NULL, "%s", tags);
	free(tags);

	/* Signed by another key. */
	free(d);
	d = push_dev(plain.host, "vr", "rev.tar", other);
	rp(&p, plain.host, "vr", "promote", "refs/tags/v2.0.0-rc.1", vflags, NULL);
	cr_expect_eq(p.status, 3, "%s", p.err);
	cr_expect(strstr(p.err, "): 1 signature: 1 by another key (the release commit is ") != NULL,
		  "%s", p.err);
	proc_free(&p);

	/* cosign's signature under a verify key passes; the others stay. */
	cosign_keypair(dir, "cs", "pw", &ck, &cpub);
	cr_assert(asprintf(&ckpath, "%s/cs.key", dir) > 0);
	snprintf(ref, sizeof(ref), "%s/vr-dev/svc@%s", plain.host, d);
	{
		/* Another repository named, another revision claimed. */
		char ident[300];
		const char *f1[] = { "--sign-container-identity", ident, NULL };
		const char *f2[] = { "-a", "org.opencontainers.image.revision=feedfacefeedfacefeedfacefeedfacefeedface",
				     NULL };
		snprintf(ident, sizeof(ident), "%s/elsewhere/svc", plain.host);
		cr_assert_eq(cosign_sign(ckpath, "pw", ref, f1), 0);
		cr_assert_eq(cosign_sign(ckpath, "pw", ref, f2), 0);
	}
	vflags[3] = cpub;
	rp(&p, plain.host, "vr", "promote", "refs/tags/v2.0.0-rc.1", vflags, NULL);
	cr_expect_eq(p.status, 3, "%s", p.err);
	snprintf(msg, sizeof(msg), "): 3 signatures: 1 by another key, 1 names the repository "
		 "%s/elsewhere/svc, 1 claims the revision feedfacefeedfacefeedfacefeedfacefeedface "
		 "(the release commit is " SHA40 ").", plain.host);
	cr_expect(strstr(p.err, msg) != NULL, "%s\nwant %s", p.err, msg);
	proc_free(&p);
	tags = treg_tags(plain, "vr-prod/svc");
	cr_expect(tags == NULL || strstr(tags, "staging") == NULL, "%s", tags);
	free(tags);
	cr_assert_eq(cosign_sign(ckpath, "pw", ref, NULL), 0);
	rp(&p, plain.host, "vr", "promote", "refs/tags/v2.0.0-rc.1", vflags, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	cr_expect_eq(treg_attachment_layers(plain, "vr-prod/svc", d, "sig", NULL), 4);
	free(key);
	free(pub);
	free(other);
	free(opub);
	free(d);
	free(ck);
	free(cpub);
	free(ckpath);
}

/* Key rotation and counter-signatures: REGPUSH_VERIFY_KEYS holds two keys
 * (the old one first); a source signed with the new one passes and is
 * named by it. With a signing key, promote counter-signs in the
 * destination (a second layer, naming production, with the release's
 * claims), and the next promotion accepts that counter-signature alone.
 * A verify key that is no key: exit 2. */
Test(sign, rotation_and_counter_signatures, .init = setup, .fini = teardown, .timeout = 300)
{
	struct treg plain = treg_plain();
	char *old, *opub, *new, *npub, *rel, *rpub, fpn[80], fpr[80], *d, *keys, *oldt, *newt, *relenv,
	     *keysenv, ref[400];
	const char *claims[] = { "dev.regpush.environment=staging",
				 "dev.regpush.ref=refs/tags/v3.0.0-rc.1", NULL };
	const char *from[] = { "--from", "development", NULL };
	struct proc p;
	json_t *j;

	test_keypair(dir, "old", &old, &opub);
	test_keypair(dir, "new", &new, &npub);
	test_keypair(dir, "rel", &rel, &rpub);
	fingerprint(npub, fpn);
	fingerprint(rpub, fpr);
	oldt = read_all(opub);
	newt = read_all(npub);
	cr_assert(asprintf(&keys, "%s%s", oldt, newt) > 0);
	cr_assert(asprintf(&keysenv, "REGPUSH_VERIFY_KEYS=%s", keys) > 0);
	cr_assert(asprintf(&relenv, "REGPUSH_SIGNING_KEY=%s", rel) > 0);
	d = push_dev(plain.host, "vk", "rev.tar", new);
	{
		const char *env[] = { keysenv, relenv, NULL };
		rp(&p, plain.host, "vk", "promote", "refs/tags/v3.0.0-rc.1", from, env);
	}
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_expect_str_eq(jstr(j, "verified_by"), fpn);
	cr_expect_str_eq(jstr(j, "signed_by"), fpr);
	json_decref(j);
	proc_free(&p);
	cr_expect_eq(treg_attachment_layers(plain, "vk-prod/svc", d, "sig", NULL), 2);
	snprintf(ref, sizeof(ref), "%s/vk-prod/svc@%s", plain.host, d);
	cr_expect_eq(cosign_verify(rpub, ref, claims), 0);
	cr_expect_eq(cosign_verify(npub, ref, NULL), 0);
	/* Production trusts the release key only: the counter-signature
	 * (naming the repository promoted from) lets it through. */
	{
		const char *f[] = { "--from", "staging", "--verify-key", rpub, NULL };
		rp(&p, plain.host, "vk", "promote", "refs/tags/v3.0.0", f, NULL);
	}
	cr_expect_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_expect_str_eq(jstr(j, "verified_by"), fpr);
	{
		char want[400];
		snprintf(want, sizeof(want), "%s/vk-prod/svc", plain.host);
		cr_expect_str_eq(jstr(j, "verified_in"), want);
	}
	json_decref(j);
	proc_free(&p);
	/* Not a key. */
	{
		char *bad = write_file(dir, "bad.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
		const char *f[] = { "--from", "staging", "--verify-key", bad, NULL };
		char want[900];
		rp(&p, plain.host, "vk", "promote", "refs/tags/v3.0.0", f, NULL);
		cr_expect_eq(p.status, 2, "%s", p.err);
		snprintf(want, sizeof(want), "regpush: --verify-key %s (key 1) is not a PEM public key "
			 "(-----BEGIN PUBLIC KEY-----, as cosign generate-key-pair writes cosign.pub)\n",
			 bad);
		cr_expect(strstr(p.err, want) != NULL, "%s", p.err);
		proc_free(&p);
		free(bad);
	}
	free(old);
	free(opub);
	free(new);
	free(npub);
	free(rel);
	free(rpub);
	free(oldt);
	free(newt);
	free(keys);
	free(keysenv);
	free(relenv);
	free(d);
}

/* Another signer replaces the carried .sig right after promote's write
 * (f-sigrace, at the destination; at push the same happened in
 * development): the read back after the settling pause (after the tags,
 * sharing their pause) sees the carried layers gone and merges again, so
 * production holds both, none twice, and cosign verifies CI's signature
 * there; the carried .sig was answered before any tag PUT. A dry run lists what it
 * would carry and writes nothing. */
Test(sign, a_carried_signature_survives_a_concurrent_writer, .init = setup, .fini = teardown,
     .timeout = 300)
{
	const char *fault = getenv("REGPUSH_TEST_FAULT");
	struct treg plain = treg_plain();
	char *key, *pub, *d, ref[400], want[600];
	const char *flags[] = { "--from", "development", "--verify-key", NULL, NULL, NULL };
	struct proc p;

	cr_assert_not_null(fault);
	test_keypair(dir, "ci", &key, &pub);
	flags[3] = pub;
	d = push_dev(fault, "f-sigrace-carry", "rev.tar", key);
	cr_expect_eq(treg_attachment_layers(plain, "f-sigrace-carry-dev/svc", d, "sig", NULL), 2);
	flags[4] = "--dry-run";
	rp(&p, fault, "f-sigrace-carry", "promote", "refs/tags/v4.0.0-rc.1", flags, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	snprintf(want, sizeof(want), "  carry %s/f-sigrace-carry-dev/svc:sha256-%s.sig to %s/f-sigrace-carry-prod/svc "
		 "(new)\n", fault, d + 7, fault);
	cr_expect(strstr(p.err, want) != NULL, "%s\nwant %s", p.err, want);
	proc_free(&p);
	cr_expect_eq(treg_attachment_layers(plain, "f-sigrace-carry-prod/svc", d, "sig", NULL), 0, "the dry run wrote nothing");
	flags[4] = NULL;
	rp(&p, fault, "f-sigrace-carry", "promote", "refs/tags/v4.0.0-rc.1", flags, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	cr_expect_eq(treg_attachment_layers(plain, "f-sigrace-carry-prod/svc", d, "sig", NULL), 2);
	/* The carry runs beside the tags' re-read, but its write was
	 * answered before the first tag PUT arrived. */
	{
		const char *log = getenv("REGPUSH_TEST_FAULT_LOG");
		char sig[300];
		double sig_done, tag_at;
		snprintf(sig, sizeof(sig), "PUT /v2/f-sigrace-carry-prod/svc/manifests/sha256-%s.sig 201", d + 7);
		sig_done = log_time(log, sig, 1);
		tag_at = log_time(log, "PUT /v2/f-sigrace-carry-prod/svc/manifests/staging-", 0);
		cr_expect(sig_done > 0 && tag_at > 0, "%f %f", sig_done, tag_at);
		cr_expect_geq(tag_at, sig_done, "a tag PUT came %.3f s before the carried signature was answered",
			      sig_done - tag_at);
	}
	snprintf(ref, sizeof(ref), "%s/f-sigrace-carry-prod/svc@%s", plain.host, d);
	cr_expect_eq(cosign_verify(pub, ref, NULL), 0);
	free(key);
	free(pub);
	free(d);
}

/* Another signer overwrites the carried .sig after every write
 * (f-sigalways, at the destination only): after three writes the run
 * fails, exit 1, saying the tags were written (the carry's read back
 * shares their settling pause, after them) and how to finish; the tags
 * are on the image. */
Test(sign, a_carry_that_cannot_be_kept_fails_after_three_writes, .init = setup, .fini = teardown,
     .timeout = 300)
{
	const char *fault = getenv("REGPUSH_TEST_FAULT");
	const char *log = getenv("REGPUSH_TEST_FAULT_LOG");
	struct treg plain = treg_plain();
	char *key, *pub, *d, want[600], put[300];
	const char *flags[] = { "--from", "development", "--verify-key", NULL, NULL };
	struct proc p;

	cr_assert_not_null(fault);
	test_keypair(dir, "ci", &key, &pub);
	flags[3] = pub;
	d = push_dev(fault, "f-sigalways", "rev.tar", key);
	rp(&p, fault, "f-sigalways", "promote", "refs/tags/v4.1.0-rc.1", flags, NULL);
	cr_expect_eq(p.status, 1, "%s", p.err);
	snprintf(want, sizeof(want), "regpush: cannot keep the carried sha256-%s.sig in "
		 "%s/f-sigalways-prod/svc: another writer replaced it three times; the tags were "
		 "written (run promote again to carry it)\n", d + 7, fault);
	cr_expect(strstr(p.err, want) != NULL, "%s\nwant %s", p.err, want);
	proc_free(&p);
	snprintf(put, sizeof(put), "PUT /v2/f-sigalways-prod/svc/manifests/sha256-%s.sig 201", d + 7);
	cr_expect_eq(count_lines(log, put), 3, "three writes");
	expect_tags_at(plain, "f-sigalways-prod/svc", "staging-v4.1.0-rc.1 staging-latest", d);
	free(key);
	free(pub);
	free(d);
}

/* Across registry hosts (development on the plain registry, production
 * on the TLS one with its staging robot): the index is copied by skopeo,
 * and the signatures of the index and of each child by regpush's own
 * clients, blob by blob; cosign verifies each in production. */
Test(sign, signatures_cross_registry_hosts, .init = setup, .fini = teardown, .timeout = 300)
{
	struct treg plain = treg_plain(), tls = treg_tls();
	char *key, *pub, *d, dev[300], prod[300], tmpenv[600], cert[600], user[300], pass[300],
	     *body, dg[80];
	const char *argv[] = { "regpush", "promote", "--json", "--from", "development", "--ref",
			       "refs/tags/v5.0.0-rc.1", "--sha", SHA40, "--service", "svc",
			       "--dev-registry", dev, "--prod-registry", prod, "--insecure-registry",
			       plain.host, "--cert-dir", cert, "--verify-key", NULL, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", user, pass, NULL };
	const char *org;
	char devrepo[100], prodrepo[100];
	struct proc p;
	json_t *idx, *e;
	size_t i;

	test_keypair(dir, "ci", &key, &pub);
	argv[20] = pub;
	/* The TLS registry serves both passes: an organisation of each's. */
	org = treg_ggcr() ? "vxg" : "vx";
	snprintf(devrepo, sizeof(devrepo), "%s-dev/svc", org);
	snprintf(prodrepo, sizeof(prodrepo), "%s-prod/svc", org);
	d = push_dev(plain.host, org, "revmulti.tar", key);
	snprintf(dev, sizeof(dev), "%s/%s-dev", plain.host, org);
	snprintf(prod, sizeof(prod), "%s/%s-prod", tls.host, org);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(cert, sizeof(cert), "%s", getenv("REGPUSH_TEST_CA_DIR"));
	snprintf(user, sizeof(user), "REGPUSH_STAGING_USERNAME=%s", getenv("REGPUSH_TEST_USER"));
	snprintf(pass, sizeof(pass), "REGPUSH_STAGING_PASSWORD=%s", getenv("REGPUSH_TEST_PASS"));
	run_regpush(argv, envp, &p);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.err, "skopeo copy") != NULL, "%s", p.err);
	proc_free(&p);
	cr_expect_eq(treg_attachment_layers(tls, prodrepo, d, "sig", NULL), 1);
	cr_assert_eq(treg_manifest(tls, prodrepo, d, &body, dg), 200);
	idx = json_loads(body, 0, NULL);
	cr_assert_gt(json_array_size(json_object_get(idx, "manifests")), 1);
	json_array_foreach(json_object_get(idx, "manifests"), i, e)
		cr_expect_eq(treg_attachment_layers(tls, prodrepo,
						    json_string_value(json_object_get(e, "digest")), "sig",
						    NULL), 1, "child %zu", i);
	json_decref(idx);
	free(body);
	/* The exact bytes: the same .sig manifest on both hosts. */
	{
		char tag[120], d1[80], d2[80], *b1, *b2;
		snprintf(tag, sizeof(tag), "sha256-%s.sig", d + 7);
		cr_assert_eq(treg_manifest(plain, devrepo, tag, &b1, d1), 200);
		cr_assert_eq(treg_manifest(tls, prodrepo, tag, &b2, d2), 200);
		cr_expect_str_eq(d1, d2);
		free(b1);
		free(b2);
	}
	free(key);
	free(pub);
	free(d);
}

/* audit with verify keys: a release promoted with its signature is clean;
 * a staging candidate nobody signed, and a release signed by another key
 * only, are errors naming what their signatures lack (exit 3); the
 * development repository is not asked. */
Test(sign, audit_finds_unsigned_releases, .init = setup, .fini = teardown, .timeout = 300)
{
	struct treg plain = treg_plain();
	char *key, *pub, *other, *opub, *d, *two = archive("two.tar"), *u, want[900], devreg[300],
	     prodreg[300], tmpenv[600];
	const char *vflags[] = { "--from", "development", "--verify-key", NULL, NULL };
	const char *envp[] = { tmpenv, "HOME=/root", NULL };
	struct proc p;

	test_keypair(dir, "ci", &key, &pub);
	test_keypair(dir, "other", &other, &opub);
	vflags[3] = pub;
	d = push_dev(plain.host, "va", "rev.tar", key);
	rp(&p, plain.host, "va", "promote", "refs/tags/v1.0.0-rc.1", vflags, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	vflags[1] = "staging";
	rp(&p, plain.host, "va", "promote", "refs/tags/v1.0.0", vflags, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	snprintf(devreg, sizeof(devreg), "%s/va-dev", plain.host);
	snprintf(prodreg, sizeof(prodreg), "%s/va-prod", plain.host);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	{
		const char *argv[] = { "regpush", "audit", "--json", "--service", "svc", "--dev-registry",
				       devreg, "--prod-registry", prodreg, "--insecure-registry",
				       plain.host, "--verify-key", pub, NULL };
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, 0, "%s\n%s", p.err, p.out);
		cr_expect(strstr(p.out, "\"findings\": []") != NULL, "%s", p.out);
		proc_free(&p);
		/* An unsigned candidate beside it. */
		treg_copy_in(two, "va-prod/svc", "staging-v2.0.0-rc.1");
		u = source_digest(two);
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, 3, "%s", p.err);
		snprintf(want, sizeof(want), "staging-v2.0.0-rc.1's image %s has no valid signature by "
			 "the verify keys: there is no sha256-%s.sig in %s/va-prod/svc", u, u + 7,
			 plain.host);
		cr_expect(strstr(p.out, want) != NULL, "%s\nwant %s", p.out, want);
		cr_expect(strstr(p.out, "\"kind\": \"unsigned\"") != NULL, "%s", p.out);
		cr_expect(strstr(p.out, "v1.0.0's image") == NULL, "%s", p.out);
		proc_free(&p);
		/* Only the other key trusted: the release's signature is not
		 * by it. */
		argv[12] = opub;
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, 3, "%s", p.err);
		snprintf(want, sizeof(want), "v1.0.0's image %s has no valid signature by the verify "
			 "keys: 1 signature: 1 by another key", d);
		cr_expect(strstr(p.out, want) != NULL, "%s\nwant %s", p.out, want);
		proc_free(&p);
	}
	free(key);
	free(pub);
	free(other);
	free(opub);
	free(d);
	free(u);
	free(two);
}
