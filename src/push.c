/*
 * push.c — `regpush push`: the plan's tags written to the registry.
 *
 * Order of work, so that a refusal never leaves a half-written registry
 * and no engine ever writes a tag:
 *   1. plan (pure), credentials (masked first), a private work directory;
 *   2. the run's digest, before anything is written: read from index.json
 *      for oci: and oci-archive: sources (uploaded from there with
 *      --preserve-digests), or by staging any other source into a private
 *      OCI layout with skopeo (source.c);
 *   3. read the registry and decide (publish_decide): every tag's digest,
 *      whether the image is already there, the tag list for release
 *      floating tags; an immutable tag on another digest refuses the run
 *      (exit 3) before anything is written;
 *   4. upload, when the image is not in the repository yet: by digest
 *      with skopeo (stored untagged), or with buildah to a scratch tag of
 *      this run's that is removed again (engine.c);
 *   5. write the tags safely (publish_write): re-read, PUT every tag,
 *      re-read, repair, verify;
 *   6. report, and remove the work directory (also on errors and signals).
 * --dry-run stops after 3 and prints what 4 and 5 would do. Steps 3 to 6
 * are deliver_run's, with the upload as the transfer.
 */
#include "push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "creds.h"
#include "decide.h"
#include "deliver.h"
#include "engine.h"
#include "ghactions.h"
#include "imgref.h"
#include "plan.h"
#include "publish.h"
#include "registry.h"
#include "report.h"
#include "run.h"
#include "source.h"
#include "target.h"

struct push {
	struct rp_opts *o;        /* borrowed */
	struct plan *plan;
	struct creds creds;
	char *work;               /* private directory, or NULL */
	char *own_auth;           /* auth file we wrote (inside work) */
	char *layout;             /* the image as the engine reads it */
	char *host;               /* registry host[:port] */
	struct source_ref source; /* --source resolved */
	const char *repo;         /* repository path without the host */
	struct source_info src;
	struct reg_client *reg;
	struct engine e;
	enum tag_status *status;  /* per plan tag */
	char (*why)[RP_WHY_MAX];  /* per plan tag */
};

static int
is_buildah(const struct push *ps)
{
	return ps->o->engine != NULL && strcmp(ps->o->engine, "buildah") == 0;
}

/* The upload's destination: repo@digest, or buildah's scratch tag. */
static char *
upload_dest(const struct push *ps)
{
	unsigned char r[8];
	char hex[17];
	size_t i;

	if (!is_buildah(ps))
		return rp_asprintf("%s@%s", ps->plan->repository, ps->src.digest);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return NULL;
	for (i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return rp_asprintf("%s:regpush-upload-%s", ps->plan->repository, hex);
}

/*
 * Uploads the image into the repository without writing any tag of the
 * plan. buildah's scratch tag is removed afterwards whatever happened
 * (reg_untag never touches the image itself).
 */
static rp_status
upload(struct push *ps, struct rp_err *err)
{
	struct argv a = { 0 };
	char *dfile = NULL, *dest = NULL, *image_id = NULL, got[RP_DIGEST_MAX], doing[400];
	struct rp_err untag_err;
	rp_status st;

	if ((dfile = rp_asprintf("%s/pushed.digest", ps->work)) == NULL ||
	    (dest = upload_dest(ps)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (is_buildah(ps) && (st = engine_buildah_prepare(&ps->e, ps->layout, ps->src.is_index,
							 ps->host, &image_id, err)) != RP_OK)
		goto out;
	engine_upload_argv(&a, &ps->e, ps->layout, image_id, ps->src.is_index, ps->host, dest, dfile);
	snprintf(doing, sizeof(doing), "uploading %s", dest);
	st = engine_run_upload(&ps->e, &a, doing, ps->host, err);
	if (is_buildah(ps)) {
		const char *tag = strrchr(dest, ':') + 1;
		if (reg_untag(ps->reg, ps->repo, tag, &untag_err) != RP_OK && st == RP_OK)
			st = rp_fail(err, RP_EREGISTRY, "cannot remove the scratch tag %s: %s",
				     tag, untag_err.msg);
	}
	if (st == RP_OK && (st = engine_read_digest(dfile, got, err)) == RP_OK &&
	    strcmp(got, ps->src.digest) != 0)
		st = rp_fail(err, RP_EREGISTRY, "%s uploaded %s with digest %s, not the expected %s",
			     a.v[0], ps->plan->repository, got, ps->src.digest);
out:
	rp_strv_free(a.v);
	free(image_id);
	free(dest);
	free(dfile);
	return st;
}

/* The transfer (deliver.h): the upload, and in a dry run its command
 * line (secrets never appear in any argv, so nothing needs redacting). */
static rp_status
put_upload(void *ctx, struct rp_err *err)
{
	return upload(ctx, err);
}

static void
describe_upload(void *ctx, struct sbuf *sb)
{
	struct push *ps = ctx;
	struct argv a = { 0 };
	char q[1100], *dest = upload_dest(ps), *dfile = rp_asprintf("%s/pushed.digest", ps->work);
	size_t i;

	engine_upload_argv(&a, &ps->e, ps->layout, NULL, ps->src.is_index, ps->host,
			 dest != NULL ? dest : "?", dfile != NULL ? dfile : "pushed.digest");
	sbuf_puts(sb, " ");
	for (i = 0; a.v != NULL && a.v[i] != NULL; i++)
		sbuf_printf(sb, " %s", rp_quote(a.v[i], 1000, q, sizeof(q)));
	sbuf_puts(sb, "\n");
	if (a.failed || dest == NULL || dfile == NULL)
		sb->failed = 1;
	rp_strv_free(a.v);
	free(dest);
	free(dfile);
}

/* The last engine has run: the credentials go before any report. */
static void
drop_auth(void *ctx)
{
	struct push *ps = ctx;

	creds_remove_file(&ps->own_auth);
	ps->e.auth = ps->o->authfile;
}

/* Plan, source check, credentials, host and repository. */
static rp_status
prepare(struct push *ps, struct policy **pol, struct rp_err *err)
{
	struct rp_opts *o = ps->o;
	struct imgref r;
	rp_status st;

	if ((st = run_load_policy(o, pol, err)) != RP_OK ||
	    (st = run_make_plan(o, *pol, &ps->plan, err)) != RP_OK)
		return st;
	if ((ps->status = calloc(ps->plan->ntags + 1, sizeof(*ps->status))) == NULL ||
	    (ps->why = calloc(ps->plan->ntags + 1, sizeof(*ps->why))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((st = source_resolve(o->source, o->container, &ps->source, err)) != RP_OK ||
	    (st = creds_load(ps->plan->credentials, &ps->creds, err)) != RP_OK)
		return st;
	if (imgref_parse_registry(ps->plan->registry, &r) != IMGREF_OK)
		return rp_fail(err, RP_EINPUT, "invalid registry");
	ps->host = r.domain;
	r.domain = NULL;
	imgref_free(&r);
	ps->repo = ps->plan->repository + strlen(ps->host) + 1;
	ps->e.engine = o->engine != NULL ? o->engine : "skopeo";
	ps->e.auth = o->authfile;
	ps->e.cert_dir = o->cert_dir;
	ps->e.insecure = o->insecure;
	ps->e.creds = &ps->creds;
	ps->e.actions = o->actions;
	ps->e.settings = &o->settings;
	return RP_OK;
}

/* The private directory, the auth file, and the image's digest. */
static rp_status
stage(struct push *ps, struct rp_err *err)
{
	rp_status st;

	if ((ps->work = workdir_create(err)) == NULL)
		return err->status;
	ps->e.work = ps->work;
	if (ps->creds.username != NULL) {
		if ((st = creds_write_authfile(&ps->creds, ps->host, ps->work, &ps->own_auth,
					       err)) != RP_OK)
			return st;
		ps->e.auth = ps->own_auth;
	}
	if ((st = source_inspect(ps->source.ref, &ps->src, err)) != RP_OK)
		return st;
	if (!ps->src.known)
		return source_stage(&ps->e, ps->source.ref, ps->source.host, &ps->src, &ps->layout,
				    err);
	/* Uploaded straight from the source; its digest is in index.json. */
	if ((ps->layout = rp_strdup(ps->source.ref)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	return RP_OK;
}

rp_status
push_run(struct rp_opts *o, struct rp_err *err)
{
	struct push ps;
	struct policy *pol = NULL;
	struct publish pb;
	struct transfer t = { put_upload, describe_upload, drop_auth, &ps };
	struct run_result res;
	rp_status st;

	memset(&ps, 0, sizeof(ps));
	memset(&pb, 0, sizeof(pb));
	ps.o = o;
	/* Before anything else is printed. */
	creds_mask_all(o->actions);
	if ((st = prepare(&ps, &pol, err)) != RP_OK ||
	    (st = target_client(o, ps.host, ps.repo, &ps.creds, &ps.reg, err)) != RP_OK ||
	    (st = stage(&ps, err)) != RP_OK)
		goto out;
	pb = (struct publish){ .reg = ps.reg, .repo = ps.repo, .plan = ps.plan,
			       .digest = ps.src.digest, .actions = o->actions, .settings = &o->settings,
			       .status = ps.status, .why = ps.why, .backwards = o->allow_backwards };
	res = (struct run_result){ .command = "push",
				   .digest = ps.src.digest[0] != '\0' ? ps.src.digest : NULL,
				   .source_ref = ps.source.ref, .source_format = ps.source.format };
	st = deliver_run(o, &pb, &t, &res, err);
out:
	/* A registry or engine failure: what happened to each tag. */
	if (st != RP_OK) {
		pb = (struct publish){ .reg = ps.reg, .repo = ps.repo, .plan = ps.plan,
				       .digest = ps.src.digest, .status = ps.status, .why = ps.why };
		deliver_fail(o, &pb, "push", NULL, err);
	}
	if (ps.work != NULL)
		workdir_remove(ps.work);
	reg_free(ps.reg);
	free(ps.status);
	free(ps.why);
	creds_free(&ps.creds);
	free(ps.own_auth);
	free(ps.work);
	free(ps.layout);
	free(ps.host);
	source_ref_free(&ps.source);
	plan_free(ps.plan);
	policy_free(pol);
	return st;
}
