/*
 * promote.c — `regpush promote`.
 *
 *   1. plan for the current ref (the destination), refusing pull_request*
 *      events; the destination's robot account;
 *   2. resolve --from: an image reference, `development` (dev-<sha7> of
 *      this commit in the development repository) or `staging` (on vX.Y.Z,
 *      the staging-vX.Y.Z-* with the highest precedence); then its digest,
 *      its manifests (an index and every child) and its configs;
 *   3. refuse (exit 3, nothing written) a source whose revision label is
 *      missing or names another commit, or that carries
 *      quay.expires-after on its way to production;
 *   4. decide on the destination (publish_decide), exactly as push does;
 *   5. copy by digest (transfer.c): cross-repository mounts on one
 *      registry host, else skopeo copy; the destination digest must equal
 *      the source's;
 *   6. write the tags safely (publish_write), report with `source`.
 * Steps 4 to 6 are deliver_run's, with the copy as the transfer.
 */
#include "promote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "creds.h"
#include "deliver.h"
#include "imgref.h"
#include "plan.h"
#include "policy.h"
#include "promote_check.h"
#include "publish.h"
#include "registry.h"
#include "report.h"
#include "run.h"
#include "tagscheme.h"
#include "target.h"
#include "transfer.h"
#include "verify.h"

struct promote {
	struct rp_opts *o;
	struct policy *pol;
	struct plan *plan;
	struct target src, dst;   /* from, to: path, account, client */
	char *ref;                /* the source tag or digest asked for */
	char digest[RP_DIGEST_MAX];
	char *source;             /* host/repo@digest */
	struct reg_manifest top;  /* the source's manifest */
	struct reg_manifest *kids;/* an index's children */
	size_t nkids;
	char (*platform)[64];     /* per child: "linux/arm64/v8", ... */
	unsigned char *attest;    /* per child: an attestation entry (buildx's
				   * provenance: unknown/unknown), no image */
	struct copy copy;         /* the transfer */
	struct verify_keys *vk;   /* --verify-key / verify-keys, or NULL */
	struct signer *signer;    /* signing-key: the counter-signature, or NULL */
	char verified_by[RP_DIGEST_MAX], verified_in[300];
	/* Read beside check_configs and the decision, each on a thread and a
	 * client of its own: the gate (with verify keys) and the carry's
	 * reads; joined by promote_ready before anything is written. */
	struct reg_client *gate_reg, *carry_src, *carry_dst;
	struct rp_thread gate;
	rp_status gate_st;
	struct rp_err gate_err;
	struct carry_ahead ahead;
	char **digests;           /* the top digest, then each child's */
	enum tag_status *status;
	char (*why)[RP_WHY_MAX];
};

/* A candidate of the plan's release: the same X.Y.Z, and a prerelease. */
static int
same_release(const struct semver *v, const void *ctx)
{
	const struct semver *mine = ctx;

	return v->pre != NULL && v->major == mine->major && v->minor == mine->minor && v->patch == mine->patch;
}

/* staging-vX.Y.Z-* of this release with the highest precedence. */
static rp_status
newest_candidate(struct promote *pm, struct rp_err *err)
{
	char **tags = NULL, d1[RP_DIGEST_MAX], d2[RP_DIGEST_MAX];
	const char *best = NULL, *tie = NULL;
	rp_status st;

	if ((st = reg_tags(pm->src.reg, pm->src.path, &tags, err)) != RP_OK)
		return st;
	if (tagscheme_newest(tags, TN_CANDIDATE, same_release, &pm->plan->semver, &best, &tie) != 0) {
		rp_strv_free(tags);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	/* Two candidates of equal precedence on different images: which one
	 * was tested is not for regpush to guess. */
	if (best != NULL && tie != NULL &&
	    (st = reg_manifest_head(pm->src.reg, pm->src.path, best, d1, err)) == RP_OK &&
	    (st = reg_manifest_head(pm->src.reg, pm->src.path, tie, d2, err)) == RP_OK &&
	    strcmp(d1, d2) != 0)
		st = rp_fail(err, RP_EREFUSED, "refused: %s and %s in %s/%s have the same precedence "
			     "(they differ in build metadata only) but hold different images (%s, %s); "
			     "promote the tested one by reference (%s %s/%s:TAG). Nothing was written.",
			     best, tie, pm->src.host, pm->src.path, d1, d2, rp_flag("from"),
			     pm->src.host, pm->src.path);
	if (st != RP_OK) {
		rp_strv_free(tags);
		return st;
	}
	if (best != NULL) {
		pm->ref = rp_strdup(best);
		st = pm->ref != NULL ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
	} else {
		st = rp_fail(err, RP_EINPUT, "nothing to promote: no staging-v%s-* tag in %s/%s",
			     pm->plan->version, pm->src.host, pm->src.path);
	}
	rp_strv_free(tags);
	return st;
}

/* --from, as a repository, a reference and the account that reads it. */
static rp_status
resolve_from(struct promote *pm, struct rp_err *err)
{
	struct rp_opts *o = pm->o;
	const char *devreg = target_registry(o, pm->pol, 0), *prodreg = target_registry(o, pm->pol, 1);
	const char *from = o->from;
	char q[300];
	rp_status st;

	if (!rp_given(from))
		return rp_fail(err, RP_EINPUT, "nothing to promote: set %s to an image "
			       "reference (host/repo:tag or host/repo@sha256:...), development, staging or previous",
			       rp_flag("from"));
	/* The stage before this ref's on DD-REGISTRY-001's path: a release
	 * candidate comes from development, a release from staging. */
	if (strcmp(from, "previous") == 0) {
		if (pm->plan->env == RP_ENV_STAGING)
			from = "development";
		else if (pm->plan->env == RP_ENV_PRODUCTION)
			from = "staging";
		else
			return rp_fail(err, RP_EINPUT, "%s previous promotes along development -> staging "
				       "-> production: it needs a tag ref refs/tags/vX.Y.Z[-PRE], not '%s'",
				       rp_flag("from"), rp_quote(pm->plan->ref, 150, q, sizeof(q)));
	}
	if (strcmp(from, "development") == 0) {
		if ((st = target_at(devreg, pm->plan->service, "dev", &pm->src, err)) != RP_OK)
			return st;
		if ((pm->ref = tagscheme_dev(pm->pol, pm->plan->sha)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
	} else if (strcmp(from, "staging") == 0) {
		if (pm->plan->env != RP_ENV_PRODUCTION)
			return rp_fail(err, RP_EINPUT, "%s staging promotes a release candidate to its "
				       "release: it needs a release ref refs/tags/vX.Y.Z, not '%s'",
				       rp_flag("from"), rp_quote(pm->plan->ref, 150, q, sizeof(q)));
		if ((st = target_at(prodreg, pm->plan->service, "staging", &pm->src, err)) != RP_OK)
			return st;
	} else {
		struct imgref r;
		imgref_err e = imgref_parse(from, &r);
		if (e != IMGREF_OK || r.domain == NULL || (r.tag == NULL && r.digest == NULL)) {
			imgref_free(&r);
			return rp_fail(err, RP_EINPUT, "%s '%s' is not development, staging, previous or an image "
				       "reference host/repo:tag or host/repo@sha256:... (%s)",
				       rp_flag("from"), rp_quote(from, 200, q, sizeof(q)),
				       e != IMGREF_OK ? imgref_strerror(e) : "a registry host, and a tag or digest, are needed");
		}
		/* Only a digest regpush can verify against the bytes served. */
		if (r.digest != NULL && (strncmp(r.digest, "sha256:", 7) != 0 || strlen(r.digest) != 71)) {
			imgref_free(&r);
			return rp_fail(err, RP_EINPUT, "%s '%s': regpush verifies sha256 digests only "
				       "(the bytes served are hashed and compared); give the image's "
				       "sha256 digest or a tag", rp_flag("from"),
				       rp_quote(from, 200, q, sizeof(q)));
		}
		pm->src.host = r.domain;
		pm->src.path = r.path;
		pm->ref = r.digest != NULL ? r.digest : r.tag;
		if (r.digest != NULL)
			free(r.tag);
		else
			free(r.digest);
		if (target_under(pm->src.host, pm->src.path, devreg))
			pm->src.profile = "dev";
		else if (target_under(pm->src.host, pm->src.path, prodreg))
			pm->src.profile = "staging";
	}
	if ((st = target_open(o, &pm->src, err)) != RP_OK)
		return st;
	if (strcmp(from, "staging") == 0 && (st = newest_candidate(pm, err)) != RP_OK)
		return st;
	return RP_OK;
}

/* The source's manifest (by the reference asked for: its digest is that of
 * the bytes read) and, for an index, every child's (concurrently). */
static rp_status
read_source(struct promote *pm, struct rp_err *err)
{
	json_t *j = NULL, *m;
	char **refs = NULL;
	size_t i, n;
	rp_status st;

	if ((st = reg_manifest_find(pm->src.reg, pm->src.path, pm->ref, &pm->top, err)) != RP_OK)
		return st;
	if (pm->top.bytes == NULL)
		return rp_fail(err, RP_EINPUT, "nothing to promote: %s/%s%s%s does not exist",
			       pm->src.host, pm->src.path, strncmp(pm->ref, "sha256:", 7) == 0 ? "@" : ":",
			       pm->ref);
	snprintf(pm->digest, sizeof(pm->digest), "%s", pm->top.digest);
	if ((pm->source = rp_asprintf("%s/%s@%s", pm->src.host, pm->src.path, pm->digest)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((j = reg_json(pm->source, pm->top.bytes, pm->top.len, "manifest", err)) == NULL)
		return err->status;
	if (json_is_array(json_object_get(j, "manifests"))) {
		n = json_array_size(json_object_get(j, "manifests"));
		if ((pm->kids = calloc(n + 1, sizeof(*pm->kids))) == NULL ||
		    (pm->platform = calloc(n + 1, sizeof(*pm->platform))) == NULL ||
		    (pm->attest = calloc(n + 1, sizeof(*pm->attest))) == NULL ||
		    (refs = calloc(n + 1, sizeof(*refs))) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		json_array_foreach(json_object_get(j, "manifests"), i, m) {
			const char *d = json_string_value(json_object_get(m, "digest"));
			json_t *pf = json_object_get(m, "platform");
			const char *os = json_string_value(json_object_get(pf, "os"));
			const char *arch = json_string_value(json_object_get(pf, "architecture"));
			const char *var = json_string_value(json_object_get(pf, "variant"));
			const char *rt = json_string_value(json_object_get(json_object_get(m, "annotations"),
									   "vnd.docker.reference.type"));
			char pq[3][20];
			snprintf(pm->platform[i], sizeof(pm->platform[i]), "%s/%s%s%s",
				 rp_quote(os != NULL ? os : "?", 16, pq[0], sizeof(pq[0])),
				 rp_quote(arch != NULL ? arch : "?", 16, pq[1], sizeof(pq[1])),
				 var != NULL ? "/" : "", var != NULL ? rp_quote(var, 16, pq[2], sizeof(pq[2])) : "");
			pm->attest[i] = (rt != NULL && strcmp(rt, "attestation-manifest") == 0) ||
					(os != NULL && arch != NULL && strcmp(os, "unknown") == 0 &&
					 strcmp(arch, "unknown") == 0);
			if (d == NULL || !imgref_digest_valid(d)) {
				st = rp_fail(err, RP_EREGISTRY, "%s: an index entry has no valid digest",
					     pm->source);
				goto out;
			}
			refs[i] = (char *)d;
		}
		if ((st = reg_manifest_get_many(pm->src.reg, pm->src.path, refs, n, pm->kids,
						err)) == RP_OK)
			pm->nkids = n;
	}
out:
	free(refs);
	json_decref(j);
	return st;
}

/* The image manifests: the top one, or an index's children. */
static const struct reg_manifest *
image_at(const struct promote *pm, size_t i)
{
	return pm->nkids == 0 ? &pm->top : &pm->kids[i];
}

static size_t
image_count(const struct promote *pm)
{
	return pm->nkids == 0 ? 1 : pm->nkids;
}

/* Refuses a config whose labels do not allow the promotion; `what`
 * names the image (the source, or an index entry of it). */
static rp_status
check_labels(struct promote *pm, const char *what, const char *text, size_t len,
	     struct rp_err *err)
{
	json_t *cfg = reg_json(pm->source, text, len, "image config", err), *labels;
	rp_status st;

	if (cfg == NULL)
		return err->status;

	labels = json_object_get(json_object_get(cfg, "config"), "Labels");
	st = promote_check_labels(pm->plan, pm->o->allow_revision_mismatch, what, labels, err);
	json_decref(cfg);
	return st;
}

/* The image i as a message names it: the source, or for an index's
 * entry "host/repo@index (entry sha256:..., linux/arm64)". */
static const char *
entry_name(const struct promote *pm, size_t i, char *buf, size_t size)
{
	if (pm->nkids == 0)
		snprintf(buf, size, "%s", pm->source);
	else
		snprintf(buf, size, "%s (entry %s, %s)", pm->source, pm->kids[i].digest,
			 pm->platform[i]);
	return buf;
}

/* A manifest whose annotations would make a release expire on Quay. */
static rp_status
check_expiry(const struct promote *pm, json_t *manifest, const char *what, struct rp_err *err)
{
	return promote_check_annotations(pm->plan, what, json_object_get(manifest, "annotations"), err);
}

/* Every image's config, read concurrently, and its labels checked. */
static rp_status
check_configs(struct promote *pm, struct rp_err *err)
{
	size_t n = image_count(pm), i, *lens = calloc(n + 1, sizeof(*lens));
	char **digests = calloc(n + 1, sizeof(*digests)), **texts = calloc(n + 1, sizeof(*texts));
	json_t **docs = calloc(n + 1, sizeof(*docs));
	char what[RP_DIGEST_MAX + 700];
	rp_status st = RP_OK;

	if (lens == NULL || digests == NULL || texts == NULL || docs == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n && st == RP_OK; i++) {
		const struct reg_manifest *m = image_at(pm, i);
		if ((docs[i] = reg_json(pm->source, m->bytes, m->len, "manifest", err)) == NULL) {
			st = err->status;
			break;
		}
		digests[i] = (char *)json_string_value(json_object_get(json_object_get(docs[i], "config"),
									 "digest"));
		if (digests[i] == NULL || !imgref_digest_valid(digests[i]))
			st = rp_fail(err, RP_EREGISTRY, "%s: a manifest without a config", pm->source);
	}
	if (st == RP_OK)
		st = reg_blob_get_many(pm->src.reg, pm->src.path, digests, n, REG_CONFIG_MAX, texts, lens,
				       err);
	/* Quay applies a manifest's annotations as labels too: none of the
	 * manifests promoted (the index and each entry) may expire. */
	for (i = 0; i < n && st == RP_OK; i++)
		st = check_expiry(pm, docs[i], entry_name(pm, i, what, sizeof(what)), err);
	if (st == RP_OK && pm->nkids > 0) {
		json_t *top = reg_json(pm->source, pm->top.bytes, pm->top.len, "manifest", err);
		st = top == NULL ? err->status : check_expiry(pm, top, pm->source, err);
		json_decref(top);
	}
	/* An attestation entry is no image: copied, its labels not checked. */
	for (i = 0; i < n && st == RP_OK; i++)
		if (pm->nkids == 0 || !pm->attest[i])
			st = check_labels(pm, entry_name(pm, i, what, sizeof(what)), texts[i], lens[i], err);
out:
	for (i = 0; i < n; i++) {
		if (texts != NULL)
			free(texts[i]);
		if (docs != NULL)
			json_decref(docs[i]);
	}
	free(lens);
	free(digests);
	free(texts);
	free(docs);
	return st;
}

/* With verify keys: a signature by one of them naming the source digest
 * and the service's development repository, where CI signs (for
 * development -> staging and staging -> production alike: the signature
 * travels with the digest), or the repository promoted from (a
 * counter-signature of an earlier promotion). */
static rp_status
check_signature(struct promote *pm, struct reg_client *reg, struct rp_err *err)
{
	struct target dev;
	char devrepo[600], from[600];
	const char *repos[3] = { devrepo, from, NULL };
	rp_status st;

	memset(&dev, 0, sizeof(dev));
	if ((st = target_at(target_registry(pm->o, pm->pol, 0), pm->plan->service, NULL, &dev,
			    err)) != RP_OK)
		return st;
	snprintf(devrepo, sizeof(devrepo), "%s/%s", dev.host, dev.path);
	snprintf(from, sizeof(from), "%s/%s", pm->src.host, pm->src.path);
	target_free(&dev);
	if (strcmp(devrepo, from) == 0)
		repos[1] = NULL;
	return verify_signed(pm->vk, reg, pm->src.host, pm->src.path, pm->digest, repos,
			     pm->o->allow_revision_mismatch ? NULL : pm->plan->sha, pm->verified_by,
			     pm->verified_in, err);
}

static void *
gate_thread(void *arg)
{
	struct promote *pm = arg;

	pm->gate_st = check_signature(pm, pm->gate_reg, &pm->gate_err);
	return NULL;
}

/* A client of the run's own to t's repository, for a thread. */
static rp_status
thread_client(struct promote *pm, const struct target *t, struct reg_client **out,
	      struct rp_err *err)
{
	rp_status st = target_client(pm->o, t->host, t->path, &t->account, out, err);

	if (st == RP_OK)
		reg_adopt_discovery(*out, pm->src.reg);
	return st;
}

/* Starts the gate and the carry's reads beside check_configs and the
 * decision (they only read). */
static rp_status
read_ahead(struct promote *pm, struct rp_err *err)
{
	size_t i;
	rp_status st;

	if ((pm->digests = calloc(pm->nkids + 2, sizeof(*pm->digests))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	pm->digests[0] = pm->digest;
	for (i = 0; i < pm->nkids; i++)
		pm->digests[i + 1] = pm->kids[i].digest;
	if ((st = thread_client(pm, &pm->src, &pm->carry_src, err)) != RP_OK ||
	    (st = thread_client(pm, &pm->dst, &pm->carry_dst, err)) != RP_OK ||
	    (pm->vk != NULL && (st = thread_client(pm, &pm->src, &pm->gate_reg, err)) != RP_OK))
		return st;
	pm->ahead = (struct carry_ahead){
		.from = { pm->carry_src, pm->src.host, pm->src.path },
		.to = { pm->carry_dst, pm->dst.host, pm->dst.path },
		.digests = pm->digests, .n = pm->nkids + 1 };
	pm->copy.ahead = &pm->ahead;
	carry_ahead_read(&pm->ahead);
	if (pm->vk != NULL && !rp_thread_start(&pm->gate, gate_thread, pm))
		(void)gate_thread(pm);
	return RP_OK;
}

/* The transfer's ready: the gate's verdict first (a refusal, exit 3),
 * then the carry's reads. */
static rp_status
promote_ready(void *ctx, struct rp_err *err)
{
	struct promote *pm = ctx;
	struct rp_err cerr;
	rp_status st = carry_ahead_wait(&pm->ahead, &cerr);

	rp_thread_join(&pm->gate);
	if (pm->vk != NULL && pm->gate_st != RP_OK) {
		*err = pm->gate_err;
		return pm->gate_st;
	}
	if (st != RP_OK)
		*err = cerr;
	return st;
}

rp_status
promote_run(struct rp_opts *o, struct rp_err *err)
{
	struct promote pm;
	struct publish pb;
	struct transfer t;
	struct run_result res;
	size_t i;
	rp_status st;

	memset(&pm, 0, sizeof(pm));
	pm.o = o;
	creds_mask_all(o->actions);
	/* Before anything else: a pull request's code may not publish. */
	if ((st = promote_check_event(o->event, err)) != RP_OK)
		goto out;
	if (rp_given(o->attest)) {
		st = rp_fail(err, RP_EINPUT, "%s is push's: promote carries the source's "
			     "attestations with its digest", rp_flag("attest"));
		goto out;
	}
	if ((st = run_load_policy(o, &pm.pol, err)) != RP_OK ||
	    (st = run_make_plan(o, pm.pol, &pm.plan, err)) != RP_OK ||
	    (st = verify_keys_load(o, &pm.vk, err)) != RP_OK ||
	    (st = signer_load(o, &pm.signer, err)) != RP_OK)
		goto out;
	if ((pm.status = calloc(pm.plan->ntags + 1, sizeof(*pm.status))) == NULL ||
	    (pm.why = calloc(pm.plan->ntags + 1, sizeof(*pm.why))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = target_plan(pm.plan, &pm.dst, err)) != RP_OK ||
	    (st = target_open(o, &pm.dst, err)) != RP_OK ||
	    (st = resolve_from(&pm, err)) != RP_OK || (st = read_source(&pm, err)) != RP_OK)
		goto out;
	if ((st = read_ahead(&pm, err)) != RP_OK || (st = check_configs(&pm, err)) != RP_OK)
		goto out;
	/* The same registry: the destination needs no GET /v2/ of its own. */
	reg_adopt_discovery(pm.dst.reg, pm.src.reg);
	pb = (struct publish){ .reg = pm.dst.reg, .repo = pm.dst.path, .plan = pm.plan,
			       .digest = pm.digest, .manifest = &pm.top, .actions = o->actions,
			       .settings = &o->settings, .status = pm.status, .why = pm.why,
			       .backwards = o->allow_backwards };
	res = (struct run_result){ .command = "promote", .digest = pm.digest, .source = pm.source,
				   .verified_by = pm.vk != NULL ? pm.verified_by : NULL,
				   .verified_in = pm.verified_in };
	pm.copy = (struct copy){ .o = o, .src = &pm.src, .dst = &pm.dst, .digest = pm.digest,
				 .source = pm.source, .top = &pm.top, .kids = pm.kids,
				 .nkids = pm.nkids, .ahead = &pm.ahead };
	t = transfer_copy(&pm.copy);
	t.ready = promote_ready;
	t.ready_ctx = &pm;
	/* A counter-signature naming the destination. */
	t.signer = pm.signer;
	st = deliver_run(o, &pb, &t, &res, err);
out:
	if (st != RP_OK) {
		pb = (struct publish){ .reg = pm.dst.reg, .repo = pm.dst.path, .plan = pm.plan,
				       .digest = pm.digest, .status = pm.status, .why = pm.why };
		deliver_fail(o, &pb, "promote", pm.source, err);
	}
	/* A run that stops early still waits for its threads. */
	rp_thread_join(&pm.gate);
	carry_ahead_free(&pm.ahead);
	reg_free(pm.gate_reg);
	reg_free(pm.carry_src);
	reg_free(pm.carry_dst);
	free(pm.digests);
	copy_cleanup(&pm.copy);
	verify_keys_free(pm.vk);
	signer_free(pm.signer);
	target_free(&pm.src);
	target_free(&pm.dst);
	reg_manifest_free(&pm.top);
	for (i = 0; i < pm.nkids; i++)
		reg_manifest_free(&pm.kids[i]);
	free(pm.kids);
	free(pm.platform);
	free(pm.attest);
	free(pm.ref);
	free(pm.source);
	free(pm.status);
	free(pm.why);
	plan_free(pm.plan);
	policy_free(pm.pol);
	return st;
}
