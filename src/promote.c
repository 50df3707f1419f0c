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
 *   5. copy by digest: on the same registry host, a cross-repository
 *      mount of every blob (all at once) and a PUT of an index's
 *      children's exact bytes (no layer moves; the top manifest's bytes
 *      go up with the tags in step 6); when a mount is refused, or across hosts, skopeo
 *      copy --all --preserve-digests with an auth file holding both
 *      accounts; the destination digest must equal the source's;
 *   6. write the tags safely (publish_write), report with `source`.
 */
#include "promote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "creds.h"
#include "decide.h"
#include "deliver.h"
#include "engine.h"
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

#define CONFIG_MAX (4 * 1024 * 1024)

struct side {
	char *host;               /* registry host[:port] */
	char *repo;               /* repository path */
	struct creds creds;       /* the account used (may be empty) */
	struct reg_client *reg;
};

struct promote {
	struct rp_opts *o;
	struct policy *pol;
	struct plan *plan;
	struct side src, dst;
	char *ref;                /* the source tag or digest asked for */
	char digest[RP_DIGEST_MAX];
	char *source;             /* host/repo@digest */
	struct reg_manifest top;  /* the source's manifest */
	struct reg_manifest *kids;/* an index's children */
	size_t nkids;
	char (*platform)[64];     /* per child: "linux/arm64/v8", ... */
	unsigned char *attest;    /* per child: an attestation entry (buildx's
				   * provenance: unknown/unknown), no image */
	char *work, *own_auth;
	enum tag_status *status;
	char (*why)[RP_WHY_MAX];
};

/* host and path of a registry location "host[/org]" joined with service. */
static rp_status
locate(const char *registry, const char *service, char **host, char **repo,
       struct rp_err *err)
{
	struct imgref r;

	if (imgref_parse_registry(registry, &r) != IMGREF_OK)
		return rp_fail(err, RP_EINPUT, "invalid registry");
	*host = r.domain;
	*repo = r.path != NULL ? rp_asprintf("%s/%s", r.path, service) : rp_strdup(service);
	r.domain = NULL;
	imgref_free(&r);
	return *repo != NULL ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
}

/* Is "host/repo" under the registry location "host[/org]"? */
static int
under(const char *host, const char *repo, const char *registry)
{
	size_t h = strlen(host), n = strlen(registry);

	if (strncmp(registry, host, h) != 0 || (registry[h] != '\0' && registry[h] != '/'))
		return 0;
	if (registry[h] == '\0')
		return 1;
	n -= h + 1;
	return strncmp(repo, registry + h + 1, n) == 0 && repo[n] == '/';
}

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

	if ((st = reg_tags(pm->src.reg, pm->src.repo, &tags, err)) != RP_OK)
		return st;
	if (tagscheme_newest(tags, TN_CANDIDATE, same_release, &pm->plan->semver, &best, &tie) != 0) {
		rp_strv_free(tags);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	/* Two candidates of equal precedence on different images: which one
	 * was tested is not for regpush to guess. */
	if (best != NULL && tie != NULL &&
	    (st = reg_manifest_head(pm->src.reg, pm->src.repo, best, d1, err)) == RP_OK &&
	    (st = reg_manifest_head(pm->src.reg, pm->src.repo, tie, d2, err)) == RP_OK &&
	    strcmp(d1, d2) != 0)
		st = rp_fail(err, RP_EREFUSED, "refused: %s and %s in %s/%s have the same precedence "
			     "(they differ in build metadata only) but hold different images (%s, %s); "
			     "promote the tested one by reference (%s %s/%s:TAG). Nothing was written.",
			     best, tie, pm->src.host, pm->src.repo, d1, d2, rp_flag("from"),
			     pm->src.host, pm->src.repo);
	if (st != RP_OK) {
		rp_strv_free(tags);
		return st;
	}
	if (best != NULL) {
		pm->ref = rp_strdup(best);
		st = pm->ref != NULL ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
	} else {
		st = rp_fail(err, RP_EINPUT, "nothing to promote: no staging-v%s-* tag in %s/%s",
			     pm->plan->version, pm->src.host, pm->src.repo);
	}
	rp_strv_free(tags);
	return st;
}

/* --from, as a repository, a reference and the account that reads it. */
static rp_status
resolve_from(struct promote *pm, struct rp_err *err)
{
	struct rp_opts *o = pm->o;
	const char *devreg = o->dev_registry != NULL ? o->dev_registry : pm->pol->registry[0];
	const char *prodreg = o->prod_registry != NULL ? o->prod_registry : pm->pol->registry[1];
	const char *profile = NULL, *from = o->from;
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
		if ((st = locate(devreg, pm->plan->service, &pm->src.host, &pm->src.repo, err)) != RP_OK)
			return st;
		if ((pm->ref = tagscheme_dev(pm->pol, pm->plan->sha)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		profile = "dev";
	} else if (strcmp(from, "staging") == 0) {
		if (pm->plan->env != RP_ENV_PRODUCTION)
			return rp_fail(err, RP_EINPUT, "%s staging promotes a release candidate to its "
				       "release: it needs a release ref refs/tags/vX.Y.Z, not '%s'",
				       rp_flag("from"), rp_quote(pm->plan->ref, 150, q, sizeof(q)));
		if ((st = locate(prodreg, pm->plan->service, &pm->src.host, &pm->src.repo, err)) != RP_OK)
			return st;
		profile = "staging";
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
		pm->src.repo = r.path;
		pm->ref = r.digest != NULL ? r.digest : r.tag;
		if (r.digest != NULL)
			free(r.tag);
		else
			free(r.digest);
		if (under(pm->src.host, pm->src.repo, devreg))
			profile = "dev";
		else if (under(pm->src.host, pm->src.repo, prodreg))
			profile = "staging";
	}
	if (profile != NULL && (st = creds_load(profile, &pm->src.creds, err)) != RP_OK)
		return st;
	if ((st = target_client(o, pm->src.host, pm->src.repo, &pm->src.creds, &pm->src.reg, err)) != RP_OK)
		return st;
	if (strcmp(from, "staging") == 0 && (st = newest_candidate(pm, err)) != RP_OK)
		return st;
	return RP_OK;
}

/* bytes parsed as JSON; NULL with err set when they are not JSON (the
 * registry's fault) or memory ran out. */
static json_t *
load_json(const struct promote *pm, const char *bytes, size_t len, const char *what,
	  struct rp_err *err)
{
	json_error_t e;
	json_t *j = json_loadb(bytes != NULL ? bytes : "", len, 0, &e);

	/* jansson 2.14 reports an allocation failing in its lexer as a
	 * syntax error: parse once more before blaming the registry. */
	if (j == NULL && e.text[0] != '\0' && json_error_code(&e) != json_error_out_of_memory)
		j = json_loadb(bytes != NULL ? bytes : "", len, 0, &e);
	if (j == NULL) {
		/* jansson sets no error at all when its first allocations fail. */
		if (json_error_code(&e) == json_error_out_of_memory || e.text[0] == '\0')
			rp_fail(err, RP_ENOMEM, "out of memory");
		else
			rp_fail(err, RP_EREGISTRY, "%s: its %s is not valid JSON (%d:%d: %s)",
				pm->source, what, e.line, e.column, e.text);
	}
	return j;
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

	if ((st = reg_manifest_find(pm->src.reg, pm->src.repo, pm->ref, &pm->top, err)) != RP_OK)
		return st;
	if (pm->top.bytes == NULL)
		return rp_fail(err, RP_EINPUT, "nothing to promote: %s/%s%s%s does not exist",
			       pm->src.host, pm->src.repo, strncmp(pm->ref, "sha256:", 7) == 0 ? "@" : ":",
			       pm->ref);
	snprintf(pm->digest, sizeof(pm->digest), "%s", pm->top.digest);
	if ((pm->source = rp_asprintf("%s/%s@%s", pm->src.host, pm->src.repo, pm->digest)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((j = load_json(pm, pm->top.bytes, pm->top.len, "manifest", err)) == NULL)
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
		if ((st = reg_manifest_get_many(pm->src.reg, pm->src.repo, refs, n, pm->kids,
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
	json_t *cfg = load_json(pm, text, len, "image config", err), *labels;
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
		if ((docs[i] = load_json(pm, m->bytes, m->len, "manifest", err)) == NULL) {
			st = err->status;
			break;
		}
		digests[i] = (char *)json_string_value(json_object_get(json_object_get(docs[i], "config"),
									 "digest"));
		if (digests[i] == NULL || !imgref_digest_valid(digests[i]))
			st = rp_fail(err, RP_EREGISTRY, "%s: a manifest without a config", pm->source);
	}
	if (st == RP_OK)
		st = reg_blob_get_many(pm->src.reg, pm->src.repo, digests, n, CONFIG_MAX, texts, lens,
				       err);
	/* Quay applies a manifest's annotations as labels too: none of the
	 * manifests promoted (the index and each entry) may expire. */
	for (i = 0; i < n && st == RP_OK; i++)
		st = check_expiry(pm, docs[i], entry_name(pm, i, what, sizeof(what)), err);
	if (st == RP_OK && pm->nkids > 0) {
		json_t *top = load_json(pm, pm->top.bytes, pm->top.len, "manifest", err);
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

/* Every blob of every image, mounted from the source repository at once.
 * *mounted is 0 when the registry would not mount one. */
static rp_status
mount_blobs(struct promote *pm, int *mounted, struct rp_err *err)
{
	size_t n = image_count(pm), i, k, nb = 0, cap = 0;
	json_t **docs = calloc(n + 1, sizeof(*docs)), *l;
	char **blobs = NULL;
	rp_status st = RP_OK;

	*mounted = 0;
	if (docs == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((docs[i] = load_json(pm, image_at(pm, i)->bytes, image_at(pm, i)->len, "manifest",
					 err)) == NULL) {
			st = err->status;
			goto out;
		}
		cap += 1 + json_array_size(json_object_get(docs[i], "layers"));
	}
	if ((blobs = calloc(cap + 1, sizeof(*blobs))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *cd = json_string_value(json_object_get(json_object_get(docs[i], "config"),
								    "digest"));
		if (cd != NULL)
			blobs[nb++] = (char *)cd;
		json_array_foreach(json_object_get(docs[i], "layers"), k, l)
			if (json_string_value(json_object_get(l, "digest")) != NULL)
				blobs[nb++] = (char *)json_string_value(json_object_get(l, "digest"));
	}
	st = reg_blob_mount_many(pm->dst.reg, pm->dst.repo, pm->src.repo, blobs, nb, mounted, err);
out:
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
	free(blobs);
	return st;
}

/* The copy by skopeo: both sides' accounts in one auth file — the robot
 * of a side, or what the user's auth files hold for it (a side without a
 * robot must not lose them because the other side has one). */
static rp_status
skopeo_copy(struct promote *pm, struct rp_err *err)
{
	struct creds files[2];
	const struct creds *cs[2] = { &pm->src.creds, &pm->dst.creds };
	char *keys[2] = { NULL, NULL }, *dfile = NULL, *dest = NULL, got[RP_DIGEST_MAX], doing[600];
	struct engine e = { .engine = "skopeo", .settings = &pm->o->settings, .cert_dir = pm->o->cert_dir,
			  .insecure = pm->o->insecure,
			  .creds = &pm->dst.creds, .src_creds = &pm->src.creds, .src_host = pm->src.host,
			  .actions = pm->o->actions };
	struct argv a = { 0 };
	size_t k;
	rp_status st;

	memset(files, 0, sizeof(files));
	if ((pm->work = workdir_create(err)) == NULL)
		return err->status;
	e.work = pm->work;
	e.auth = pm->o->authfile;
	if ((keys[0] = rp_asprintf("%s/%s", pm->src.host, pm->src.repo)) == NULL ||
	    (keys[1] = rp_asprintf("%s/%s", pm->dst.host, pm->dst.repo)) == NULL ||
	    (dfile = rp_asprintf("%s/copied.digest", pm->work)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (pm->src.creds.username != NULL || pm->dst.creds.username != NULL) {
		for (k = 0; k < 2; k++) {
			struct side *sd = k == 0 ? &pm->src : &pm->dst;
			if (sd->creds.username != NULL)
				continue;
			if ((st = creds_from_authfiles(pm->o->authfile, sd->host, sd->repo, &files[k],
						       err)) != RP_OK)
				goto out;
			if (files[k].username != NULL)
				cs[k] = &files[k];
		}
		if ((st = creds_write_authfile_n(cs, (const char *const *)keys, 2, pm->work,
						 &pm->own_auth, err)) != RP_OK)
			goto out;
	}
	if (pm->own_auth != NULL)
		e.auth = pm->own_auth;
	if ((dest = rp_asprintf("%s/%s@%s", pm->dst.host, pm->dst.repo, pm->digest)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	engine_copy_argv(&a, &e, pm->src.host, pm->source, pm->dst.host, dest, dfile);
	snprintf(doing, sizeof(doing), "copying %s to %s/%s", pm->source, pm->dst.host, pm->dst.repo);
	st = engine_run_upload(&e, &a, doing, pm->dst.host, err);
	/* The last engine has run: the credentials go before any report. */
	creds_remove_file(&pm->own_auth);
	if (st == RP_OK && (st = engine_read_digest(dfile, got, err)) == RP_OK &&
	    strcmp(got, pm->digest) != 0)
		st = rp_fail(err, RP_EREGISTRY, "skopeo copied %s as %s, not as the same digest",
			     pm->source, got);
out:
	creds_free(&files[0]);
	creds_free(&files[1]);
	rp_strv_free(a.v);
	free(dest);
	free(keys[0]);
	free(keys[1]);
	free(dfile);
	return st;
}

/* Copies the image by digest into the destination repository. */
static rp_status
copy_image(struct promote *pm, struct rp_err *err)
{
	size_t i;
	int mounted = 0;
	char d[RP_DIGEST_MAX];
	rp_status st = RP_OK;

	if (strcmp(pm->src.host, pm->dst.host) == 0) {
		st = mount_blobs(pm, &mounted, err);
		/* A token without pull on the source is refused like this too:
		 * fall back to the copy, which reports what really fails. */
		if (st == RP_EREGISTRY) {
			mounted = 0;
			st = RP_OK;
		}
		/* An index's children go up by digest; the top manifest itself
		 * needs no PUT of its own: publish_write PUTs its exact bytes
		 * under every tag, which stores it (one round trip less). */
		if (mounted) {
			for (i = 0; i < pm->nkids && st == RP_OK; i++)
				st = reg_manifest_put(pm->dst.reg, pm->dst.repo, pm->kids[i].digest,
						      &pm->kids[i], err);
			if (st == RP_OK)
				return RP_OK;
		}
		if (st != RP_OK)
			return st;
	}
	if ((st = skopeo_copy(pm, err)) != RP_OK)
		return st;
	if ((st = reg_manifest_head(pm->dst.reg, pm->dst.repo, pm->digest, d, err)) == RP_OK &&
	    strcmp(d, pm->digest) != 0)
		st = rp_fail(err, RP_EREGISTRY, "%s/%s does not hold %s after the copy", pm->dst.host,
			     pm->dst.repo, pm->digest);
	return st;
}

/* The transfer (deliver.h): mounts or a copy, and in a dry run which. */
static rp_status
put_copy(void *ctx, struct rp_err *err)
{
	return copy_image(ctx, err);
}

static void
describe_copy(void *ctx, struct sbuf *sb)
{
	struct promote *pm = ctx;

	sbuf_printf(sb, "  copy %s to %s/%s@%s (%s)\n", pm->source, pm->dst.host, pm->dst.repo,
		    pm->digest, strcmp(pm->src.host, pm->dst.host) == 0 ?
		    "cross-repository mounts, then the manifests' exact bytes" :
		    "skopeo copy --all --preserve-digests");
}

static void
side_free(struct side *s)
{
	reg_free(s->reg);
	creds_free(&s->creds);
	free(s->host);
	free(s->repo);
}

rp_status
promote_run(struct rp_opts *o, struct rp_err *err)
{
	struct promote pm;
	struct publish pb;
	struct transfer t = { put_copy, describe_copy, NULL, &pm };
	struct run_result res;
	size_t i;
	rp_status st;

	memset(&pm, 0, sizeof(pm));
	pm.o = o;
	creds_mask_all(o->actions);
	/* Before anything else: a pull request's code may not publish. */
	if ((st = promote_check_event(o->event, err)) != RP_OK)
		goto out;
	if ((st = run_load_policy(o, &pm.pol, err)) != RP_OK ||
	    (st = run_make_plan(o, pm.pol, &pm.plan, err)) != RP_OK)
		goto out;
	if ((pm.status = calloc(pm.plan->ntags + 1, sizeof(*pm.status))) == NULL ||
	    (pm.why = calloc(pm.plan->ntags + 1, sizeof(*pm.why))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = locate(pm.plan->registry, pm.plan->service, &pm.dst.host, &pm.dst.repo, err)) != RP_OK ||
	    (st = creds_load(pm.plan->credentials, &pm.dst.creds, err)) != RP_OK ||
	    (st = target_client(o, pm.dst.host, pm.dst.repo, &pm.dst.creds, &pm.dst.reg, err)) != RP_OK ||
	    (st = resolve_from(&pm, err)) != RP_OK || (st = read_source(&pm, err)) != RP_OK)
		goto out;
	if ((st = check_configs(&pm, err)) != RP_OK)
		goto out;
	/* The same registry: the destination needs no GET /v2/ of its own. */
	reg_adopt_discovery(pm.dst.reg, pm.src.reg);
	pb = (struct publish){ .reg = pm.dst.reg, .repo = pm.dst.repo, .plan = pm.plan,
			       .digest = pm.digest, .manifest = &pm.top, .actions = o->actions,
			       .settings = &o->settings, .status = pm.status, .why = pm.why,
			       .backwards = o->allow_backwards };
	res = (struct run_result){ .command = "promote", .digest = pm.digest, .source = pm.source };
	st = deliver_run(o, &pb, &t, &res, err);
out:
	if (st != RP_OK) {
		pb = (struct publish){ .reg = pm.dst.reg, .repo = pm.dst.repo, .plan = pm.plan,
				       .digest = pm.digest, .status = pm.status, .why = pm.why };
		deliver_fail(o, &pb, "promote", pm.source, err);
	}
	if (pm.work != NULL)
		workdir_remove(pm.work);
	side_free(&pm.src);
	side_free(&pm.dst);
	reg_manifest_free(&pm.top);
	for (i = 0; i < pm.nkids; i++)
		reg_manifest_free(&pm.kids[i]);
	free(pm.kids);
	free(pm.platform);
	free(pm.attest);
	free(pm.ref);
	free(pm.source);
	free(pm.own_auth);
	free(pm.work);
	free(pm.status);
	free(pm.why);
	plan_free(pm.plan);
	policy_free(pm.pol);
	return st;
}
