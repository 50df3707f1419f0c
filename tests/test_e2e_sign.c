/* push signs (issue 20): what regpush writes is checked by cosign 2.5
 * (cosign verify --key, the claims with -a), in the real registry. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "testreg.h"

E2E_DIRS_FIXTURE

/* Runs a program; its status, and stdout/stderr in p. */
static void
prog(struct proc *p, const char *const *argv)
{
	const char *envp[] = { "PATH=/usr/bin:/bin", "HOME=/tmp", NULL };

	run_prog(argv[0], argv, envp, p);
}

/* regpush push --json of source to host (org-dev and org-prod under it) with the
 * key in REGPUSH_SIGNING_KEY (or none); flags after, and env (NULL or
 * NULL-terminated, at most 6) added to the environment. */
static void
push_env(struct proc *p, const char *host, const char *org, const char *source, const char *ref,
	 const char *key, const char *const *flags, const char *const *env)
{
	char tmpenv[600], devreg[300], prodreg[300], *keyenv = NULL;
	const char *argv[32] = { "regpush", "push", "--json", "--source", source, "--ref", ref,
				 "--sha", SHA40, "--service", "svc", "--dev-registry", devreg,
				 "--prod-registry", prodreg, "--insecure-registry", host };
	const char *envp[12] = { tmpenv, "HOME=/root", "SOURCE_DATE_EPOCH=1800000000",
				 "REGPUSH_RETRY_BASE_MS=20" };
	size_t a = 17, e = 4, i;

	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(devreg, sizeof(devreg), "%s/%s-dev", host, org);
	snprintf(prodreg, sizeof(prodreg), "%s/%s-prod", host, org);
	for (i = 0; flags != NULL && flags[i] != NULL; i++)
		argv[a++] = flags[i];
	argv[a] = NULL;
	if (key != NULL) {
		cr_assert(asprintf(&keyenv, "REGPUSH_SIGNING_KEY=%s", key) > 0);
		envp[e++] = keyenv;
	}
	for (i = 0; env != NULL && env[i] != NULL && e < 11; i++)
		envp[e++] = env[i];
	envp[e] = NULL;
	run_regpush(argv, envp, p);
	free(keyenv);
}

static void
push(struct proc *p, const char *host, const char *org, const char *source, const char *ref,
     const char *key, const char *const *flags)
{
	push_env(p, host, org, source, ref, key, flags, NULL);
}

/* The number of layers of the .sig manifest of digest in repo. */
static size_t
sig_layers(const char *repo, const char *digest, char sig_digest[80])
{
	return treg_attachment_layers(treg_plain(), repo, digest, "sig", sig_digest);
}

/* A release signed at push: cosign verifies it with the claims, the
 * output names the .sig manifest; a rerun adds no layer; another key adds
 * one and both verify; a wrong key or a claim that differs fails. */
Test(sign, release_push_is_signed, .init = setup, .fini = teardown, .timeout = 240)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, *key2, *pub2, ref[400], sd[80];
	const char *claims[] = { "org.opencontainers.image.revision=" SHA40,
				 "dev.regpush.ref=refs/tags/v1.2.3", "dev.regpush.environment=production",
				 NULL };
	const char *wrong[] = { "dev.regpush.ref=refs/tags/v9.9.9", NULL };
	const char *digest, *sig;
	struct proc p;
	json_t *j;

	test_keypair(dir, "k1", &key, &pub);
	test_keypair(dir, "k2", &key2, &pub2);
	push(&p, plain.host, "rel", one, "refs/tags/v1.2.3", key, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	digest = json_string_value(json_object_get(j, "digest"));
	sig = json_string_value(json_object_get(j, "signature"));
	cr_assert_not_null(sig, "%s", p.out);
	cr_expect(strncmp(json_string_value(json_object_get(j, "signed_by")), "sha256:", 7) == 0);
	snprintf(ref, sizeof(ref), "%s/rel-prod/svc@%s", plain.host, digest);
	cr_expect_eq(cosign_verify(pub, ref, claims), 0);
	cr_expect_neq(cosign_verify(pub, ref, wrong), 0, "another ref claimed");
	cr_expect_neq(cosign_verify(pub2, ref, NULL), 0, "another key");
	cr_expect_eq(sig_layers("rel-prod/svc", digest, sd), 1);
	cr_expect_str_eq(sd, sig);
	/* The key never reaches the output. */
	cr_expect(strstr(p.out, key + 40) == NULL && strstr(p.err, key + 40) == NULL);
	proc_free(&p);
	/* A rerun: unchanged, the same signature, no new layer. */
	push(&p, plain.host, "rel", one, "refs/tags/v1.2.3", key, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.out, sig) != NULL, "%s", p.out);
	cr_expect_eq(sig_layers("rel-prod/svc", digest, sd), 1);
	proc_free(&p);
	/* Another key: one more layer; both verify. */
	push(&p, plain.host, "rel", one, "refs/tags/v1.2.3", key2, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_expect_eq(sig_layers("rel-prod/svc", digest, sd), 2);
	cr_expect_eq(cosign_verify(pub, ref, claims), 0);
	cr_expect_eq(cosign_verify(pub2, ref, claims), 0);
	proc_free(&p);
	json_decref(j);
	free(one);
	free(key);
	free(pub);
	free(key2);
	free(pub2);
}

/* An index: the index and each child carry a signature cosign verifies. */
Test(sign, an_index_and_its_children, .init = setup, .fini = teardown, .timeout = 240)
{
	struct treg plain = treg_plain();
	char *multi = archive("multi.tar"), *key, *pub, ref[400], *body, d[80];
	struct proc p;
	json_t *j, *idx, *e;
	size_t i;

	test_keypair(dir, "k", &key, &pub);
	push(&p, plain.host, "idx", multi, "refs/heads/develop", key, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j);
	snprintf(ref, sizeof(ref), "%s/idx-dev/svc@%s", plain.host,
		 json_string_value(json_object_get(j, "digest")));
	cr_expect_eq(cosign_verify(pub, ref, NULL), 0);
	cr_assert_eq(treg_manifest(plain, "idx-dev/svc", json_string_value(json_object_get(j, "digest")),
				   &body, d), 200);
	idx = json_loads(body, 0, NULL);
	cr_assert_gt(json_array_size(json_object_get(idx, "manifests")), 1);
	json_array_foreach(json_object_get(idx, "manifests"), i, e) {
		snprintf(ref, sizeof(ref), "%s/idx-dev/svc@%s", plain.host,
			 json_string_value(json_object_get(e, "digest")));
		cr_expect_eq(cosign_verify(pub, ref, NULL), 0, "child %zu", i);
	}
	json_decref(idx);
	free(body);
	json_decref(j);
	proc_free(&p);
	free(multi);
	free(key);
	free(pub);
}

/* A key that is no key: exit 2 before anything is read or written,
 * naming the variable, never quoting the key. A dry run says what it
 * would sign and writes nothing. */
Test(sign, bad_keys_and_dry_runs, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, *tags;
	const char *dry[] = { "--dry-run", NULL };
	struct proc p;

	push(&p, plain.host, "bad", one, "refs/heads/badkey", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqG\n"
	     "-----END PRIVATE KEY-----\n", NULL);
	cr_expect_eq(p.status, 2);
	cr_expect(strstr(p.err, "regpush: REGPUSH_SIGNING_KEY is not a PEM private key (PKCS#8, "
			 "encrypted PKCS#8, EC PRIVATE KEY or cosign's ENCRYPTED SIGSTORE PRIVATE "
			 "KEY)\n") != NULL, "%s", p.err);
	/* Read before anything else is: nothing was uploaded. */
	cr_expect(strstr(p.err, "skopeo") == NULL, "%s", p.err);
	cr_expect(strstr(p.err, "MIGHAgEAMBMGByqG") == NULL, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "bad-dev/svc");
	cr_expect(tags == NULL || strstr(tags, "dev-0123456") == NULL, "%s", tags);
	free(tags);
	test_keypair(dir, "k", &key, &pub);
	push(&p, plain.host, "dry", one, "refs/heads/drysign", key, dry);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(p.err, "  sign sha256:") != NULL, "%s", p.err);
	proc_free(&p);
	tags = treg_tags(plain, "dry-dev/svc");
	cr_expect(tags == NULL || strstr(tags, ".sig") == NULL, "%s", tags);
	free(tags);
	free(one);
	free(key);
	free(pub);
}

/* The registry refuses the signature: exit 1, and no tag of the plan was
 * written (the image may be there, untagged). */
Test(sign, a_refused_signature_writes_no_tag, .init = setup, .fini = teardown, .timeout = 240)
{
	const char *host = getenv("REGPUSH_TEST_FAULT");
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, *tags;
	struct proc p;

	cr_assert_not_null(host);
	test_keypair(dir, "k", &key, &pub);
	push(&p, host, "f-sigfail", one, "refs/tags/v3.0.0", key, NULL);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.err, "cannot write the signature") != NULL, "%s", p.err);
	tags = treg_tags(plain, "f-sigfail-prod/svc");
	cr_expect(tags == NULL || strstr(tags, "v3.0.0") == NULL, "no tag: %s", tags);
	free(tags);
	proc_free(&p);
	free(one);
	free(key);
	free(pub);
}

/* Another signer writes the .sig tag right after this run's write, with
 * only its own layer (it read the tag before): the read back after the
 * settling pause sees this run's layer gone and merges again. Both
 * layers end in the tag, and cosign verifies this run's signature. */
Test(sign, a_concurrent_signer_loses_nothing, .init = setup, .fini = teardown, .timeout = 240)
{
	const char *host = getenv("REGPUSH_TEST_FAULT");
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, ref[400], tag[100], *body, d[80];
	struct proc p;
	json_t *j, *m;
	const char *digest;
	size_t i;
	int foreign = 0;

	cr_assert_not_null(host);
	test_keypair(dir, "k", &key, &pub);
	push(&p, host, "f-sigrace", one, "refs/heads/develop", key, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	digest = json_string_value(json_object_get(j, "digest"));
	snprintf(tag, sizeof(tag), "sha256-%s.sig", digest + 7);
	cr_assert_eq(treg_manifest(plain, "f-sigrace-dev/svc", tag, &body, d), 200);
	m = json_loads(body, 0, NULL);
	cr_expect_eq(json_array_size(json_object_get(m, "layers")), 2, "%s", body);
	for (i = 0; i < json_array_size(json_object_get(m, "layers")); i++)
		foreign += strcmp(json_string_value(json_object_get(json_object_get(json_array_get(
		    json_object_get(m, "layers"), i), "annotations"), "dev.cosignproject.cosign/signature")),
				  "Zm9yZWlnbg==") == 0;
	cr_expect_eq(foreign, 1, "the other signer's layer is kept: %s", body);
	cr_expect_str_eq(json_string_value(json_object_get(j, "signature")), d);
	snprintf(ref, sizeof(ref), "%s/f-sigrace-dev/svc@%s", plain.host, digest);
	cr_expect_eq(cosign_verify(pub, ref, NULL), 0);
	json_decref(m);
	json_decref(j);
	free(body);
	proc_free(&p);
	free(one);
	free(key);
	free(pub);
}

/* skopeo copy of archive to host's repo@digest or repo:tag. */
static void
seed(const char *host, const char *src, const char *repo, const char *ref)
{
	char dst[500];
	const char *argv[] = { "skopeo", "copy", "-q", "--all", "--preserve-digests",
			       "--dest-tls-verify=false", src, dst, NULL };
	struct proc p;

	snprintf(dst, sizeof(dst), "docker://%s/%s%s%s", host, repo, ref[0] == 's' ? "@" : ":", ref);
	prog(&p, argv);
	cr_assert_eq(p.status, 0, "%s: %s", dst, p.err);
	proc_free(&p);
}

/* The prune table's row of tag in JSON j, or NULL. */
static json_t *
row_of(json_t *j, const char *tag)
{
	json_t *row;
	size_t i;

	json_array_foreach(json_object_get(j, "tags"), i, row)
		if (strcmp(json_string_value(json_object_get(row, "tag")), tag) == 0)
			return row;
	return NULL;
}

static void
expect_row(json_t *j, const char *tag, const char *action, const char *reason, const char *detail)
{
	json_t *row = row_of(j, tag);

	cr_assert_not_null(row, "no row %s", tag);
	cr_expect_str_eq(json_string_value(json_object_get(row, "action")), action, "%s", tag);
	cr_expect_str_eq(json_string_value(json_object_get(row, "reason")), reason, "%s: %s", tag,
			 json_string_value(json_object_get(row, "reason")));
	cr_expect_str_eq(json_string_value(json_object_get(row, "detail")), detail, "%s: %s", tag,
			 json_string_value(json_object_get(row, "detail")));
}

/* Prune keeps signatures with their images (issue 20): in one repository,
 * an index kept by dev-latest (its .sig and its children's kept), an
 * expired image signed (other.tar: one.tar is a child of the index) (deleted, then its .sig), an image there but
 * untagged (its .sig kept), and an orphan (its image deleted: swept).
 * The dry run says so and deletes nothing; the real run does it, and
 * audit finds nothing to say about attachment tags. Where the image's
 * delete fails (f-delfail), its signature stays. */
Test(sign, prune_follows_the_images, .init = setup, .fini = teardown, .timeout = 300)
{
	struct treg plain = treg_plain();
	const char *fault = getenv("REGPUSH_TEST_FAULT");
	char *key, *pub, *kp, repo[300], ref[400], *one = archive("other.tar"), *two = archive("two.tar"),
	     *rev = archive("rev.tar"), *multi = archive("multi.tar"), *a, *u, *g, *idx, tag[120],
	     want[300], tmpenv[600];
	const char *envp[] = { tmpenv, "HOME=/root", NULL };
	const char *rec[] = { "--recursive", NULL };
	struct proc p;
	json_t *j, *m;
	size_t i;
	char *body, d[80];

	cosign_keypair(dir, "ck", "pw", &key, &pub);
	cr_assert(asprintf(&kp, "%s/ck.key", dir) > 0);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	a = source_digest(one);
	u = source_digest(two);
	g = source_digest(rev);
	idx = source_digest(multi);
	seed(plain.host, multi, "pf-dev/svc", "dev-latest");
	seed(plain.host, one, "pf-dev/svc", "dev-1111111");
	seed(plain.host, two, "pf-dev/svc", u);
	/* By digest: go-containerregistry keeps a tag whose image is
	 * deleted by digest. */
	seed(plain.host, rev, "pf-dev/svc", g);
	snprintf(ref, sizeof(ref), "%s/pf-dev/svc@%s", plain.host, idx);
	cr_assert_eq(cosign_sign(kp, "pw", ref, rec), 0);
	snprintf(ref, sizeof(ref), "%s/pf-dev/svc@%s", plain.host, a);
	cr_assert_eq(cosign_sign(kp, "pw", ref, NULL), 0);
	snprintf(ref, sizeof(ref), "%s/pf-dev/svc@%s", plain.host, u);
	cr_assert_eq(cosign_sign(kp, "pw", ref, NULL), 0);
	snprintf(ref, sizeof(ref), "%s/pf-dev/svc@%s", plain.host, g);
	cr_assert_eq(cosign_sign(kp, "pw", ref, NULL), 0);
	{
		/* The orphan: rev's image deleted under its signature. */
		char del[400];
		const char *argv[] = { "skopeo", "delete", "--tls-verify=false", del, NULL };
		snprintf(del, sizeof(del), "docker://%s/pf-dev/svc@%s", plain.host, g);
		prog(&p, argv);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	snprintf(repo, sizeof(repo), "%s/pf-dev/svc", plain.host);
	for (i = 0; i < 2; i++) {
		const char *argv[] = { "regpush", "prune", "--json", "--repository", repo, "--now",
				       "2035-01-01T00:00:00Z", "--insecure-registry", plain.host,
				       i == 0 ? "--dry-run" : NULL, NULL };
		run_regpush(argv, envp, &p);
		cr_assert_eq(p.status, 0, "%s", p.err);
		j = json_loads(p.out, 0, NULL);
		cr_assert_not_null(j, "%s", p.out);
		snprintf(tag, sizeof(tag), "sha256-%s.sig", idx + 7);
		snprintf(want, sizeof(want), "%s: kept with its image", idx);
		expect_row(j, tag, "keep", "a signature, attestation or SBOM of", want);
		snprintf(tag, sizeof(tag), "sha256-%s.sig", a + 7);
		expect_row(j, tag, "delete", "deleted after its image, deleted with", "dev-1111111");
		snprintf(tag, sizeof(tag), "sha256-%s.sig", u + 7);
		snprintf(want, sizeof(want), "%s: kept, its image is in the repository (untagged)", u);
		expect_row(j, tag, "keep", "a signature, attestation or SBOM of", want);
		snprintf(tag, sizeof(tag), "sha256-%s.sig", g + 7);
		snprintf(want, sizeof(want), "%s: swept, its image is gone", g);
		expect_row(j, tag, "delete", "a signature, attestation or SBOM of", want);
		json_decref(j);
		proc_free(&p);
	}
	/* What stayed: the index's signatures (its own, each child's), the
	 * untagged image's; what went: the expired image, its signature, the
	 * orphan. */
	snprintf(tag, sizeof(tag), "sha256-%s.sig", idx + 7);
	cr_expect_eq(treg_manifest(plain, "pf-dev/svc", tag, &body, d), 200);
	free(body);
	cr_assert_eq(treg_manifest(plain, "pf-dev/svc", idx, &body, d), 200);
	m = json_loads(body, 0, NULL);
	free(body);
	{
		json_t *e;
		json_array_foreach(json_object_get(m, "manifests"), i, e) {
			snprintf(tag, sizeof(tag), "sha256-%s.sig",
				 json_string_value(json_object_get(e, "digest")) + 7);
			cr_expect_eq(treg_manifest(plain, "pf-dev/svc", tag, &body, d), 200, "child %zu", i);
			free(body);
		}
	}
	json_decref(m);
	snprintf(tag, sizeof(tag), "sha256-%s.sig", u + 7);
	cr_expect_eq(treg_manifest(plain, "pf-dev/svc", tag, &body, d), 200);
	free(body);
	snprintf(tag, sizeof(tag), "sha256-%s.sig", a + 7);
	cr_expect_eq(treg_manifest(plain, "pf-dev/svc", tag, &body, d), 404);
	free(body);
	cr_expect_eq(treg_manifest(plain, "pf-dev/svc", a, &body, d), 404);
	free(body);
	snprintf(tag, sizeof(tag), "sha256-%s.sig", g + 7);
	cr_expect_eq(treg_manifest(plain, "pf-dev/svc", tag, &body, d), 404);
	free(body);
	/* audit: attachment tags need no pattern. */
	{
		char devreg[300], prodreg[300];
		const char *argv[] = { "regpush", "audit", "--json", "--service", "svc", "--dev-registry",
				       devreg, "--prod-registry", prodreg, "--insecure-registry",
				       plain.host, NULL };
		snprintf(devreg, sizeof(devreg), "%s/pf-dev", plain.host);
		snprintf(prodreg, sizeof(prodreg), "%s/pf-prod", plain.host);
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, 0, "%s", p.err);
		cr_expect(strstr(p.out, "sha256-") == NULL, "%s", p.out);
		proc_free(&p);
	}
	/* The image's delete fails: its signature stays, kept. */
	cr_assert_not_null(fault);
	seed(plain.host, one, "f-delfail-pf/svc", "dev-1111111");
	snprintf(ref, sizeof(ref), "%s/f-delfail-pf/svc@%s", plain.host, a);
	cr_assert_eq(cosign_sign(kp, "pw", ref, NULL), 0);
	snprintf(repo, sizeof(repo), "%s/f-delfail-pf/svc", fault);
	{
		const char *argv[] = { "regpush", "prune", "--json", "--repository", repo, "--now",
				       "2035-01-01T00:00:00Z", "--insecure-registry", fault, NULL };
		run_regpush(argv, envp, &p);
	}
	cr_expect_eq(p.status, 1, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	snprintf(tag, sizeof(tag), "sha256-%s.sig", a + 7);
	expect_row(j, tag, "keep", "kept: the delete of its image failed, with", "dev-1111111");
	json_decref(j);
	proc_free(&p);
	cr_expect_eq(treg_manifest(plain, "f-delfail-pf/svc", tag, &body, d), 200);
	free(body);
	free(one);
	free(two);
	free(rev);
	free(multi);
	free(a);
	free(u);
	free(g);
	free(idx);
	free(key);
	free(pub);
	free(kp);
}

/* In Actions every line of the key's body is masked before anything
 * else is printed, and $GITHUB_OUTPUT gets signature=. */
Test(sign, the_key_is_masked_in_actions, .init = setup, .fini = teardown, .timeout = 240)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, *outp, *out, e_out[600], *line, *copy, *save = NULL;
	const char *env[] = { "GITHUB_ACTIONS=true", e_out, NULL };
	struct proc p;
	size_t masked = 0;

	test_keypair(dir, "k", &key, &pub);
	outp = write_file(dir, "output", "");
	snprintf(e_out, sizeof(e_out), "GITHUB_OUTPUT=%s", outp);
	push_env(&p, plain.host, "mask", one, "refs/heads/develop", key, NULL, env);
	cr_assert_eq(p.status, 0, "%s", p.err);
	copy = strdup(key);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char want[300];
		if (strncmp(line, "-----", 5) == 0)
			continue;
		snprintf(want, sizeof(want), "::add-mask::%s\n", line);
		cr_expect(strstr(p.out, want) != NULL, "%s not masked", line);
		masked++;
	}
	cr_expect_gt(masked, 1);
	/* The masks come first: nothing but masks before them. */
	cr_expect(strncmp(p.out, "::add-mask::", 12) == 0, "%.200s", p.out);
	out = read_all(outp);
	cr_expect(strstr(out, "\nsignature=sha256:") != NULL, "%s", out);
	free(out);
	free(copy);
	free(outp);
	proc_free(&p);
	free(one);
	free(key);
	free(pub);
}

/* The engine never sees the key: skopeo (a spy first on PATH that writes
 * its environment down, then runs the real one) gets neither the
 * variable nor any line of the key. */
Test(sign, the_engine_never_sees_the_key, .init = setup, .fini = teardown, .timeout = 240)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, *spydir, *script, body[1024], *envlog, *copy, *line;
	char *save = NULL, logp[600];
	struct proc p;

	test_keypair(dir, "k", &key, &pub);
	cr_assert(asprintf(&spydir, "%s/spybin", dir) > 0);
	mkdir(spydir, 0755);
	snprintf(logp, sizeof(logp), "%s/env.log", dir);
	snprintf(body, sizeof(body), "#!/bin/sh\nenv >> %s\nexec /usr/bin/skopeo \"$@\"\n", logp);
	script = write_file(spydir, "skopeo", body);
	chmod(script, 0755);
	{
		char path[700];
		const char *env[] = { path, "REGPUSH_SIGNING_KEY_PASSPHRASE=unused-pass", NULL };
		snprintf(path, sizeof(path), "PATH=%s:/usr/bin:/bin", spydir);
		push_env(&p, plain.host, "spy", one, "refs/heads/develop", key, NULL, env);
	}
	cr_assert_eq(p.status, 0, "%s", p.err);
	envlog = read_all(logp);
	cr_assert_not_null(envlog, "the spy skopeo ran");
	cr_expect(strstr(envlog, "PATH=") != NULL, "%s", envlog);
	cr_expect(strstr(envlog, "REGPUSH_SIGNING_KEY") == NULL, "%s", envlog);
	cr_expect(strstr(envlog, "unused-pass") == NULL, "%s", envlog);
	copy = strdup(key);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "-----", 5) != 0)
			cr_expect(strstr(envlog, line) == NULL, "%s in the engine's environment", line);
	free(copy);
	free(envlog);
	proc_free(&p);
	free(script);
	free(spydir);
	free(one);
	free(key);
	free(pub);
}

/* The registry stores the signature's first blob but its answer is lost
 * (f-blobtaken): the retried PUT finds the upload session closed (404),
 * regpush finds the blob by its digest and goes on, and cosign verifies
 * the result. */
Test(sign, a_blob_taken_but_unanswered, .init = setup, .fini = teardown, .timeout = 240)
{
	const char *host = getenv("REGPUSH_TEST_FAULT");
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, ref[400];
	struct proc p;
	json_t *j;

	cr_assert_not_null(host);
	test_keypair(dir, "k", &key, &pub);
	/* The engine's uploads pass; the signature's payload is the first
	 * blob PUT of regpush's own client. */
	push(&p, host, "f-blobtaken", one, "refs/heads/develop", key, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	snprintf(ref, sizeof(ref), "%s/f-blobtaken-dev/svc@%s", plain.host,
		 json_string_value(json_object_get(j, "digest")));
	cr_expect_eq(cosign_verify(pub, ref, NULL), 0);
	json_decref(j);
	proc_free(&p);
	free(one);
	free(key);
	free(pub);
}

/* cosign generate-key-pair's own key (scrypt and a secretbox), with its
 * passphrase in REGPUSH_SIGNING_KEY_PASSPHRASE: cosign verifies what it
 * signed with cosign.pub, and the summary names the key by cosign.pub's
 * fingerprint. A wrong passphrase is found after the upload (the
 * decryption overlaps it): exit 2 naming the variable, and neither a tag
 * nor a signature is written. */
Test(sign, cosigns_own_key, .init = setup, .fini = teardown, .timeout = 240)
{
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *prefix, *kpath, *pub, *key, *tags, ref[400];
	const char *good[] = { "REGPUSH_SIGNING_KEY_PASSPHRASE=correct horse", NULL };
	const char *bad[] = { "REGPUSH_SIGNING_KEY_PASSPHRASE=battery staple", NULL };
	struct proc p;
	json_t *j;

	cr_assert(asprintf(&prefix, "%s/ck", dir) > 0);
	cr_assert(asprintf(&kpath, "%s.key", prefix) > 0);
	cr_assert(asprintf(&pub, "%s.pub", prefix) > 0);
	{
		const char *a[] = { test_cosign(), "generate-key-pair", "--output-key-prefix", prefix, NULL };
		const char *envp[] = { "PATH=/usr/bin:/bin", "HOME=/tmp",
				       "COSIGN_PASSWORD=correct horse", NULL };
		run_prog(a[0], a, envp, &p);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	key = read_all(kpath);
	cr_assert(key != NULL && strstr(key, "ENCRYPTED SIGSTORE PRIVATE KEY") != NULL);

	push_env(&p, plain.host, "ck", one, "refs/tags/v4.0.0", key, NULL, bad);
	cr_expect_eq(p.status, 2, "%s", p.err);
	cr_expect(strstr(p.err, "regpush: REGPUSH_SIGNING_KEY could not be decrypted: its "
			 "passphrase is wrong, or the key is damaged\n") != NULL, "%s", p.err);
	cr_expect(strstr(p.err, "battery") == NULL, "%s", p.err);
	tags = treg_tags(plain, "ck-prod/svc");
	cr_expect(tags == NULL || (strstr(tags, "v4.0.0") == NULL && strstr(tags, ".sig") == NULL),
		  "%s", tags);
	free(tags);
	proc_free(&p);

	push_env(&p, plain.host, "ck", one, "refs/tags/v4.0.0", key, NULL, good);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	snprintf(ref, sizeof(ref), "%s/ck-prod/svc@%s", plain.host,
		 json_string_value(json_object_get(j, "digest")));
	cr_expect_eq(cosign_verify(pub, ref, NULL), 0);
	{
		/* The fingerprint: sha256 of cosign.pub's DER. */
		const char *a[] = { "sh", "-c", "openssl pkey -pubin -in \"$0\" -outform DER | sha256sum",
				    pub, NULL };
		struct proc q;
		char want[80];
		prog(&q, a);
		cr_assert_eq(q.status, 0, "%s", q.err);
		snprintf(want, sizeof(want), "sha256:%.64s", q.out);
		cr_expect_str_eq(json_string_value(json_object_get(j, "signed_by")), want);
		proc_free(&q);
	}
	json_decref(j);
	proc_free(&p);
	free(one);
	free(prefix);
	free(kpath);
	free(pub);
	free(key);
}

/* The signature goes up while the image does, on a client of its own:
 * when every PUT of a manifest by digest fails (f-uploadfail), the upload
 * fails (exit 1, no tag of the plan) and the signature is there all the
 * same — which a signer that waited for the upload never writes. (prune
 * sweeps such a signature as an orphan.) */
Test(sign, the_signature_goes_up_with_the_image, .init = setup, .fini = teardown, .timeout = 240)
{
	const char *host = getenv("REGPUSH_TEST_FAULT");
	struct treg plain = treg_plain();
	char *one = archive("one.tar"), *key, *pub, *tags, sd[80];
	struct proc p;

	cr_assert_not_null(host);
	test_keypair(dir, "k", &key, &pub);
	push(&p, host, "f-uploadfail", one, "refs/tags/v5.0.0", key, NULL);
	cr_expect_eq(p.status, 1, "%s", p.err);
	tags = treg_tags(plain, "f-uploadfail-prod/svc");
	cr_assert_not_null(tags);
	cr_expect(strstr(tags, "v5.0.0") == NULL && strstr(tags, "latest") == NULL, "%s", tags);
	free(tags);
	{
		/* The digest regpush named: the source's. */
		const char *d = strstr(p.err, "sha256:");
		char digest[80];
		cr_assert_not_null(d, "%s", p.err);
		snprintf(digest, sizeof(digest), "%.71s", d);
		cr_expect_eq(sig_layers("f-uploadfail-prod/svc", digest, sd), 1, "%s", p.err);
	}
	proc_free(&p);
	free(one);
	free(key);
	free(pub);
}

/* attest: provenance — a DSSE envelope in sha256-<hex>.att that cosign
 * verify-attestation --type slsaprovenance1 accepts, its statement about
 * the digest pushed, made of the GitHub context (the workflow at its ref
 * as the builder, the commit as the source, the run and attempt as the
 * invocation); a rerun of the same attempt adds nothing; promote carries
 * it to production, where cosign verifies it again. Without a key, with
 * another kind, or without the run's context: exit 2 before anything is
 * written. */
Test(sign, provenance_is_attested_and_travels, .init = setup, .fini = teardown, .timeout = 300)
{
	struct treg plain = treg_plain();
	char *rev = archive("rev.tar"), *key, *pub, ref[400], *tags;
	const char *gh[] = { "GITHUB_REPOSITORY=kubernaut/gateway",
			     "GITHUB_WORKFLOW_REF=kubernaut/gateway/.github/workflows/build.yml@refs/heads/main",
			     "GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=2", "GITHUB_EVENT_NAME=push", NULL };
	const char *att[] = { "--attest", "provenance", NULL };
	const char *digest;
	struct proc p;
	json_t *j;

	test_keypair(dir, "k", &key, &pub);
	push_env(&p, plain.host, "pv", rev, "refs/heads/main", key, att, gh);
	cr_assert_eq(p.status, 0, "%s", p.err);
	j = json_loads(p.out, 0, NULL);
	cr_assert_not_null(j, "%s", p.out);
	digest = json_string_value(json_object_get(j, "digest"));
	cr_expect(json_string_value(json_object_get(j, "attestation")) != NULL, "%s", p.out);
	snprintf(ref, sizeof(ref), "%s/pv-dev/svc@%s", plain.host, digest);
	{
		const char *a[] = { test_cosign(), "verify-attestation", "--key", pub, "--type",
				    "slsaprovenance1", "--insecure-ignore-tlog", "--allow-insecure-registry",
				    "--allow-http-registry", ref, NULL };
		struct proc q;
		json_t *env, *st;
		char *stmt;
		size_t n;
		prog(&q, a);
		cr_assert_eq(q.status, 0, "%s", q.err);
		env = json_loads(q.out, JSON_DISABLE_EOF_CHECK, NULL);
		cr_assert_not_null(env, "%s", q.out);
		{
			const char *b64 = json_string_value(json_object_get(env, "payload"));
			BIO *b = BIO_push(BIO_new(BIO_f_base64()), BIO_new_mem_buf(b64, -1));
			stmt = calloc(1, 65536);
			BIO_set_flags(b, BIO_FLAGS_BASE64_NO_NL);
			n = (size_t)BIO_read(b, stmt, 65535);
			BIO_free_all(b);
		}
		st = json_loadb(stmt, n, 0, NULL);
		cr_assert_not_null(st, "%s", stmt);
		cr_expect_str_eq(json_string_value(json_object_get(st, "predicateType")),
				 "https://slsa.dev/provenance/v1");
		cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(
				 json_object_get(st, "subject"), 0), "digest"), "sha256")), digest + 7);
		{
			json_t *pr = json_object_get(st, "predicate");
			json_t *bd = json_object_get(pr, "buildDefinition");
			json_t *rd = json_object_get(pr, "runDetails");
			cr_expect_str_eq(json_string_value(json_object_get(json_object_get(rd, "builder"), "id")),
					 "https://github.com/kubernaut/gateway/.github/workflows/build.yml@refs/heads/main");
			cr_expect_str_eq(json_string_value(json_object_get(json_object_get(rd, "metadata"),
									   "invocationId")),
					 "https://github.com/kubernaut/gateway/actions/runs/4242/attempts/2");
			cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(
					 json_object_get(bd, "resolvedDependencies"), 0), "digest"), "gitCommit")),
					 SHA40);
			cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
					 json_object_get(bd, "resolvedDependencies"), 0), "uri")),
					 "git+https://github.com/kubernaut/gateway@refs/heads/main");
		}
		json_decref(st);
		json_decref(env);
		free(stmt);
		proc_free(&q);
	}
	json_decref(j);
	proc_free(&p);
	/* The same attempt again: nothing added. */
	push_env(&p, plain.host, "pv", rev, "refs/heads/main", key, att, gh);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_free(&p);
	{
		char tag[120], *body, d[80];
		json_t *m;
		snprintf(tag, sizeof(tag), "sha256-%s.att", ref + strlen(ref) - 64);
		cr_assert_eq(treg_manifest(plain, "pv-dev/svc", tag, &body, d), 200);
		m = json_loads(body, 0, NULL);
		cr_expect_eq(json_array_size(json_object_get(m, "layers")), 1, "%s", body);
		json_decref(m);
		free(body);
	}
	/* Promoted: the attestation is in production, and verifies there. */
	{
		char devreg[300], prodreg[300], tmpenv[600], pref[400];
		const char *argv[] = { "regpush", "promote", "--from", "development", "--ref",
				       "refs/tags/v6.0.0-rc.1", "--sha", SHA40, "--service", "svc",
				       "--dev-registry", devreg, "--prod-registry", prodreg,
				       "--insecure-registry", plain.host, "--verify-key", pub, NULL };
		const char *envp[] = { tmpenv, "HOME=/root", NULL };
		snprintf(devreg, sizeof(devreg), "%s/pv-dev", plain.host);
		snprintf(prodreg, sizeof(prodreg), "%s/pv-prod", plain.host);
		snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
		run_regpush(argv, envp, &p);
		cr_expect_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
		snprintf(pref, sizeof(pref), "%s/pv-prod/svc@sha256:%s", plain.host,
			 ref + strlen(ref) - 64);
		{
			const char *a[] = { test_cosign(), "verify-attestation", "--key", pub, "--type",
					    "slsaprovenance1", "--insecure-ignore-tlog",
					    "--allow-insecure-registry", "--allow-http-registry", pref, NULL };
			prog(&p, a);
			cr_expect_eq(p.status, 0, "%s", p.err);
			proc_free(&p);
		}
	}
	/* Refusals, before anything is written. */
	{
		const char *other[] = { "--attest", "sbom", NULL };
		const char *norun[] = { "GITHUB_REPOSITORY=kubernaut/gateway",
					"GITHUB_WORKFLOW_REF=kubernaut/gateway/.github/workflows/b.yml@refs/heads/x",
					NULL };
		push_env(&p, plain.host, "pvx", rev, "refs/heads/main", NULL, att, gh);
		cr_expect_eq(p.status, 2, "%s", p.err);
		cr_expect(strstr(p.err, "regpush: --attest provenance needs a signing key "
				 "(REGPUSH_SIGNING_KEY), which signs the attestation\n") != NULL, "%s", p.err);
		proc_free(&p);
		push_env(&p, plain.host, "pvx", rev, "refs/heads/main", key, other, gh);
		cr_expect_eq(p.status, 2, "%s", p.err);
		cr_expect(strstr(p.err, "regpush: --attest 'sbom': the one kind regpush writes is "
				 "provenance\n") != NULL, "%s", p.err);
		proc_free(&p);
		push_env(&p, plain.host, "pvx", rev, "refs/heads/main", key, att, norun);
		cr_expect_eq(p.status, 2, "%s", p.err);
		cr_expect(strstr(p.err, "regpush: attest: provenance needs GITHUB_RUN_ID (digits, as "
				 "every Actions run has it), not ''\n") != NULL, "%s", p.err);
		proc_free(&p);
		tags = treg_tags(plain, "pvx-dev/svc");
		cr_expect(tags == NULL || strstr(tags, "dev-") == NULL, "%s", tags);
		free(tags);
	}
	free(rev);
	free(key);
	free(pub);
}
