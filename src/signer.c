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
#include "provenance.h"
#include "settings.h"

/* Signing on a thread of its own, while the image uploads. */
struct signing {
	struct rp_thread thread;
	struct reg_client *reg;		/* the thread's own client */
	const char *host, *path, *digest;
	const char *claims[8];
	const struct rp_settings *settings;
	rp_status st;
	struct rp_err err;
	char sig[RP_DIGEST_MAX];
};

struct signer {
	struct signing bg;
	struct sign_pending *job;	/* until signer_ready */
	struct rp_thread thread;
	struct rp_err failed;	/* signer_ready's error, given again */
	json_t *predicate;	/* attest: provenance, or NULL */
	char attestation[RP_DIGEST_MAX]; /* the top digest's .att, once written */
	struct sign_key *key;
	char fingerprint[RP_DIGEST_MAX];
};

static void *
work(void *job)
{
	sign_key_work(job);
	return NULL;
}

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
	struct signer *s;
	rp_status st;

	*out = NULL;
	if (key == NULL)
		return RP_OK;
	mask_lines(key, o->actions);
	creds_secret(pass, o->actions);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((st = sign_key_begin(key, strlen(key), pass, what, &s->job, err)) != RP_OK) {
		free(s);
		return st;
	}
	/* The decryption goes on while the image is uploaded; signer_ready
	 * waits for it. A thread that cannot start: it runs there. */
	rp_thread_start(&s->thread, work, s->job);
	*out = s;
	return RP_OK;
}

rp_status
signer_ready(struct signer *s, struct rp_err *err)
{
	struct sign_pending *job = s->job;
	rp_status st;

	if (job == NULL) {
		if (s->key == NULL)
			*err = s->failed;
		return s->key != NULL ? RP_OK : err->status;
	}
	if (s->thread.running)
		rp_thread_join(&s->thread);
	else
		sign_key_work(job);
	s->job = NULL;
	if ((st = sign_key_end(job, &s->key, err)) == RP_OK &&
	    sign_fingerprint(s->key, s->fingerprint) != 0)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	if (st != RP_OK) {
		sign_key_free(s->key);
		s->key = NULL;
		s->failed = *err;
	}
	return st;
}

void
signer_free(struct signer *s)
{
	struct rp_err ignored;

	if (s == NULL)
		return;
	/* A run that stops early still waits for the threads. */
	if (s->bg.thread.running) {
		char sig[RP_DIGEST_MAX];
		(void)signer_join(s, sig, &ignored);
	}
	if (s->job != NULL)
		(void)signer_ready(s, &ignored);
	sign_key_free(s->key);
	json_decref(s->predicate);
	free(s);
}

void
signer_attest(struct signer *s, json_t *predicate)
{
	json_decref(s->predicate);
	s->predicate = predicate;
}

const char *
signer_attestation(const struct signer *s)
{
	return s->attestation[0] != '\0' ? s->attestation : NULL;
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

/* One digest's signature, as sign_all works on it. */
struct sig_job {
	const char *digest;
	int attest;		/* 0: the .sig; 1: the provenance in the .att */
	char tag[100];
	char *payload;		/* the simple-signing payload, or the statement */
	int done;
	char sig[RP_DIGEST_MAX];	/* the tag's manifest digest, once done */
};

/* 1 when layers already hold job's payload signed by s: for a signature,
 * its layer; for an attestation, a DSSE layer of the type whose envelope
 * (read) holds the statement. */
static rp_status
holds(const struct signer *s, struct reg_client *reg, const char *path, const struct sig_job *job,
      json_t *layers, int *yes, struct rp_err *err)
{
	char **digests = NULL, **texts;
	size_t i, n = 0, *lens;
	json_t *l;
	rp_status st;

	*yes = 0;
	if (!job->attest) {
		*yes = sign_has(layers, job->payload, strlen(job->payload), s->key);
		return *yes >= 0 ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
	}
	json_array_foreach(layers, i, l)
		if (sign_att_layer_is(l, PROVENANCE_TYPE) && n < 256 &&
		    json_integer_value(json_object_get(l, "size")) <= REG_SMALL_MAX &&
		    rp_strv_push(&digests, json_string_value(json_object_get(l, "digest"))) == 0)
			n++;
	if (n == 0)
		return RP_OK;
	texts = calloc(n, sizeof(*texts));
	lens = calloc(n, sizeof(*lens));
	if (texts == NULL || lens == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else
		st = reg_blob_get_many(reg, path, digests, n, REG_SMALL_MAX, texts, lens, err);
	for (i = 0; st == RP_OK && i < n && !*yes; i++)
		*yes = sign_dsse_check(s->key, texts[i], lens[i], job->payload, strlen(job->payload));
	for (i = 0; texts != NULL && i < n; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	rp_strv_free(digests);
	return st;
}

/* The layer job adds, and the blob it names (caller frees both). */
static rp_status
new_layer(const struct signer *s, const struct sig_job *job, json_t **layer, char **blob,
	  struct rp_err *err)
{
	char *sig;

	*layer = NULL;
	if (job->attest) {
		if ((*blob = sign_dsse(s->key, job->payload, strlen(job->payload), err)) == NULL)
			return err->status;
		*layer = sign_att_layer(*blob, strlen(*blob), PROVENANCE_TYPE);
	} else {
		if ((sig = sign_data(s->key, job->payload, strlen(job->payload), err)) == NULL)
			return err->status;
		*layer = sign_layer(job->payload, strlen(job->payload), sig);
		free(sig);
		*blob = rp_strdup(job->payload);
	}
	if (*layer == NULL || *blob == NULL) {
		json_decref(*layer);
		free(*blob);
		*layer = NULL;
		*blob = NULL;
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	return RP_OK;
}

/* One round of job: reads its tag; done when it holds the payload signed
 * by s; else, when may_write, writes the merged image. */
static rp_status
sign_round(const struct signer *s, struct reg_client *reg, const char *path, struct sig_job *job,
	   int may_write, int *wrote, struct rp_err *err)
{
	struct reg_manifest have, mine;
	json_t *doc = NULL, *layers, *layer;
	char *config = NULL, *manifest = NULL, *blob = NULL;
	int yes = 0;
	rp_status st;

	memset(&mine, 0, sizeof(mine));
	if ((st = reg_manifest_find(reg, path, job->tag, &have, err)) != RP_OK)
		return st;
	if (have.bytes != NULL &&
	    (doc = reg_json(job->tag, have.bytes, have.len, "manifest", err)) == NULL) {
		reg_manifest_free(&have);
		return err->status;
	}
	layers = json_object_get(doc, "layers");
	if (have.bytes != NULL && (st = holds(s, reg, path, job, layers, &yes, err)) != RP_OK)
		goto out;
	if (yes) {
		snprintf(job->sig, sizeof(job->sig), "%s", have.digest);
		job->done = 1;
		goto out;
	}
	if (!may_write)
		goto out;
	if (layers == NULL) {
		json_decref(doc);
		if ((doc = json_object()) == NULL || json_object_set_new(doc, "layers", json_array()) != 0) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		layers = json_object_get(doc, "layers");
	}
	if ((st = new_layer(s, job, &layer, &blob, err)) != RP_OK)
		goto out;
	if (json_array_append_new(layers, layer) != 0)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	if (st != RP_OK || (st = sign_image(layers, &config, &manifest, err)) != RP_OK ||
	    (st = put_blob(reg, path, blob, err)) != RP_OK ||
	    (st = put_blob(reg, path, config, err)) != RP_OK)
		goto out;
	mine.bytes = manifest;
	mine.len = strlen(manifest);
	mine.media_type = (char *)"application/vnd.oci.image.manifest.v1+json";
	st = rp_sha256_digest(manifest, mine.len, mine.digest) == 0 ?
	    reg_manifest_put(reg, path, job->tag, &mine, err) : rp_fail(err, RP_ENOMEM, "out of memory");
	if (st == RP_OK)
		*wrote = 1;
out:
	free(blob);
	free(config);
	free(manifest);
	json_decref(doc);
	reg_manifest_free(&have);
	return st;
}

/* Signs every job: each round reads (and writes) every job not done yet,
 * then one settling pause serves them all before the next round reads
 * back. Three writing rounds, then a reading one. */
static rp_status
sign_all(const struct signer *s, struct reg_client *reg, const char *host, const char *path,
	 struct sig_job *jobs, size_t n, const char *const *claims,
	 const struct rp_settings *settings, struct rp_err *err)
{
	char ref[600];
	size_t i;
	int round, wrote = 1, left = 1;
	rp_status st = RP_OK;

	snprintf(ref, sizeof(ref), "%s/%s", host, path);
	for (i = 0; i < n; i++) {
		if (sign_tag(jobs[i].digest, jobs[i].attest ? "att" : "sig", jobs[i].tag,
			     sizeof(jobs[i].tag)) != 0)
			return rp_fail(err, RP_EREGISTRY, "cannot sign %s: only sha256 digests are "
				       "signed", jobs[i].digest);
		jobs[i].payload = jobs[i].attest ?
		    sign_statement(ref, jobs[i].digest, PROVENANCE_TYPE, s->predicate) :
		    sign_payload(ref, jobs[i].digest, claims);
		if (jobs[i].payload == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (round = 0; round < 4 && st == RP_OK && left && wrote; round++) {
		if (round > 0 && (st = reg_pause(reg, settings_get(settings, RS_SETTLE_MS), err)) != RP_OK)
			break;
		wrote = 0;
		left = 0;
		for (i = 0; i < n && st == RP_OK; i++)
			if (!jobs[i].done) {
				st = sign_round(s, reg, path, &jobs[i], round < 3, &wrote, err);
				left |= st == RP_OK && !jobs[i].done;
			}
	}
	for (i = 0; st == RP_OK && i < n; i++)
		if (!jobs[i].done)
			/* Three writes and still not there: another signer
			 * keeps overwriting. */
			st = rp_fail(err, RP_EREGISTRY, "cannot keep this run's %s in %s:%s: "
				     "another signer overwrote it three times; no tag was written",
				     jobs[i].attest ? "attestation" : "signature", ref, jobs[i].tag);
	return st;
}

/* The jobs' answers: the top digest's .sig (and .att) manifest digests. */
static void
answers(struct signer *s, const struct sig_job *jobs, size_t n, char sig[RP_DIGEST_MAX])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (jobs[i].attest)
			snprintf(s->attestation, sizeof(s->attestation), "%s", jobs[i].sig);
		else
			snprintf(sig, RP_DIGEST_MAX, "%s", jobs[i].sig);
}

static void
jobs_free(struct sig_job *jobs, size_t n)
{
	size_t i;

	for (i = 0; jobs != NULL && i < n; i++)
		free(jobs[i].payload);
	free(jobs);
}

rp_status
signer_sign(struct signer *s, struct reg_client *reg, const char *host, const char *path,
	    const char *digest, const struct reg_manifest *known, const char *const *claims,
	    const struct rp_settings *settings, char sig[RP_DIGEST_MAX], struct rp_err *err)
{
	struct reg_manifest m;
	const struct reg_manifest *top = known;
	struct sig_job *jobs = NULL;
	json_t *doc = NULL, *e;
	size_t i, n = 0;
	rp_status st;

	memset(&m, 0, sizeof(m));
	if ((st = signer_ready(s, err)) != RP_OK ||
	    (known == NULL && (st = reg_manifest_get(reg, path, digest, &m, err)) != RP_OK))
		return st;
	if (known == NULL)
		top = &m;
	if (reg_manifest_kind(top->media_type) == 1 &&
	    (doc = reg_json(digest, top->bytes, top->len, "index", err)) == NULL) {
		reg_manifest_free(&m);
		return err->status;
	}
	/* An index is signed by its own digest, and each child by its own,
	 * as cosign sign --recursive does: the children first. */
	if ((jobs = calloc(json_array_size(json_object_get(doc, "manifests")) + 2,
			   sizeof(*jobs))) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	json_array_foreach(json_object_get(doc, "manifests"), i, e) {
		const char *d = json_string_value(json_object_get(e, "digest"));
		if (jobs != NULL && d != NULL)
			jobs[n++].digest = d;
	}
	if (st == RP_OK) {
		jobs[n++].digest = digest;
		/* The provenance is the top digest's (the index's). */
		if (s->predicate != NULL) {
			jobs[n].digest = digest;
			jobs[n++].attest = 1;
		}
		if ((st = sign_all(s, reg, host, path, jobs, n, claims, settings, err)) == RP_OK)
			answers(s, jobs, n, sig);
	}
	jobs_free(jobs, n);
	json_decref(doc);
	reg_manifest_free(&m);
	return st;
}

/* The signing thread's work: the key, then the one digest. */
static void *
sign_thread(void *arg)
{
	struct signer *s = arg;
	struct sig_job jobs[2];
	struct signing *g = &s->bg;
	size_t n = s->predicate != NULL ? 2 : 1;

	memset(jobs, 0, sizeof(jobs));
	jobs[0].digest = jobs[1].digest = g->digest;
	jobs[1].attest = 1;
	if ((g->st = signer_ready(s, &g->err)) == RP_OK &&
	    (g->st = sign_all(s, g->reg, g->host, g->path, jobs, n, g->claims, g->settings,
			      &g->err)) == RP_OK)
		answers(s, jobs, n, g->sig);
	free(jobs[0].payload);
	free(jobs[1].payload);
	return NULL;
}

rp_status
signer_start(struct signer *s, struct reg_client *reg, const char *host, const char *path,
	     const char *digest, const char *const *claims, const struct rp_settings *settings)
{
	struct signing *g = &s->bg;
	size_t i;

	*g = (struct signing){ .reg = reg, .host = host, .path = path, .digest = digest,
			       .settings = settings };
	for (i = 0; claims != NULL && claims[i] != NULL && i + 1 < sizeof(g->claims) / sizeof(g->claims[0]);
	     i++)
		g->claims[i] = claims[i];
	return rp_thread_start(&g->thread, sign_thread, s) ? RP_OK : RP_EREGISTRY;
}

rp_status
signer_join(struct signer *s, char sig[RP_DIGEST_MAX], struct rp_err *err)
{
	struct signing *g = &s->bg;

	if (!g->thread.running)
		return rp_fail(err, RP_EREGISTRY, "no signing was started");
	rp_thread_join(&g->thread);
	if (g->st != RP_OK) {
		*err = g->err;
		return g->st;
	}
	snprintf(sig, RP_DIGEST_MAX, "%s", g->sig);
	return RP_OK;
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
	if (s->predicate != NULL && sign_tag(digest, "att", tag, sizeof(tag)) == 0)
		sbuf_printf(sb, "  attest the provenance of %s as %s/%s:%s (SLSA v1, DSSE), key %s\n",
			    digest, host, path, tag, s->fingerprint);
}
