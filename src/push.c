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
 *      this run's that is removed again (transfer.c);
 *   5. write the tags safely (publish_write): re-read, PUT every tag,
 *      re-read, repair, verify;
 *   6. report, and remove the work directory (also on errors and signals).
 * --dry-run stops after 3 and prints what 4 and 5 would do. Steps 3 to 6
 * are deliver_run's, with the upload as the transfer.
 */
#include "push.h"

#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "deliver.h"
#include "engine.h"
#include "plan.h"
#include "provenance.h"
#include "publish.h"
#include "report.h"
#include "run.h"
#include "source.h"
#include "target.h"
#include "transfer.h"

struct push {
	struct rp_opts *o;        /* borrowed */
	struct plan *plan;
	struct target dst;        /* the plan's repository and account */
	struct signer *signer;    /* the signing key, or NULL */
	struct reg_client *sign_reg; /* the signing thread's client, or NULL */
	char *work;               /* private directory, or NULL */
	char *own_auth;           /* auth file we wrote (inside work) */
	char *layout;             /* the image as the engine reads it */
	struct source_ref source; /* --source resolved */
	struct source_info src;
	struct engine e;
	enum tag_status *status;  /* per plan tag */
	char (*why)[RP_WHY_MAX];  /* per plan tag */
};

/* Plan, source check, the repository opened with its account. */
static rp_status
prepare(struct push *ps, struct policy **pol, struct rp_err *err)
{
	struct rp_opts *o = ps->o;
	rp_status st;

	if ((st = run_load_policy(o, pol, err)) != RP_OK ||
	    (st = run_make_plan(o, *pol, &ps->plan, err)) != RP_OK)
		return st;
	if ((ps->status = calloc(ps->plan->ntags + 1, sizeof(*ps->status))) == NULL ||
	    (ps->why = calloc(ps->plan->ntags + 1, sizeof(*ps->why))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((st = source_resolve(o->source, o->container, &ps->source, err)) != RP_OK ||
	    (st = target_plan(ps->plan, &ps->dst, err)) != RP_OK ||
	    (st = target_open(o, &ps->dst, err)) != RP_OK)
		return st;
	ps->e.engine = o->engine != NULL ? o->engine : "skopeo";
	ps->e.auth = o->authfile;
	ps->e.cert_dir = o->cert_dir;
	ps->e.insecure = o->insecure;
	ps->e.creds = &ps->dst.account;
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
	if (ps->dst.account.username != NULL) {
		if ((st = creds_write_authfile(&ps->dst.account, ps->dst.host, ps->work, &ps->own_auth,
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

/* attest: provenance — checked before anything is read: the kind, the
 * key, and the GitHub context the statement is made of. */
static rp_status
attest(struct push *ps, struct rp_err *err)
{
	const struct rp_opts *o = ps->o;
	char q[100];
	json_t *pred;
	rp_status st;

	if (!rp_given(o->attest))
		return RP_OK;
	if (strcmp(o->attest, "provenance") != 0)
		return rp_fail(err, RP_EINPUT, "%s '%s': the one kind regpush writes is provenance",
			       rp_flag("attest"), rp_quote(o->attest, 60, q, sizeof(q)));
	if (ps->signer == NULL)
		return rp_fail(err, RP_EINPUT, "%s provenance needs a signing key (%s), which signs "
			       "the attestation", rp_flag("attest"),
			       o->container ? "input signing-key" : "REGPUSH_SIGNING_KEY");
	if ((st = provenance_predicate(o, ps->plan, &pred, err)) != RP_OK)
		return st;
	signer_attest(ps->signer, pred);
	return RP_OK;
}

rp_status
push_run(struct rp_opts *o, struct rp_err *err)
{
	struct push ps;
	struct policy *pol = NULL;
	struct publish pb;
	struct upload up;
	struct transfer t;
	struct run_result res;
	rp_status st;

	memset(&ps, 0, sizeof(ps));
	memset(&pb, 0, sizeof(pb));
	ps.o = o;
	/* Before anything else is printed. */
	creds_mask_all(o->actions);
	if ((st = signer_load(o, &ps.signer, err)) != RP_OK ||
	    (st = prepare(&ps, &pol, err)) != RP_OK || (st = attest(&ps, err)) != RP_OK ||
	    (st = stage(&ps, err)) != RP_OK)
		goto out;
	pb = (struct publish){ .reg = ps.dst.reg, .repo = ps.dst.path, .plan = ps.plan,
			       .digest = ps.src.digest, .actions = o->actions, .settings = &o->settings,
			       .status = ps.status, .why = ps.why, .backwards = o->allow_backwards };
	up = (struct upload){ .e = &ps.e, .dst = &ps.dst, .layout = ps.layout,
			      .digest = ps.src.digest, .is_index = ps.src.is_index,
			      .own_auth = &ps.own_auth, .authfile = o->authfile };
	t = transfer_upload(&up);
	t.signer = ps.signer;
	/* An image that is no index is signed while it uploads, on a client
	 * of its own; an index's children are read from the registry after. */
	if (ps.signer != NULL && !ps.src.is_index && ps.src.digest[0] != '\0') {
		if ((st = target_client(o, ps.dst.host, ps.dst.path, &ps.dst.account, &ps.sign_reg,
					err)) != RP_OK)
			goto out;
		reg_adopt_discovery(ps.sign_reg, ps.dst.reg);
		t.sign_reg = ps.sign_reg;
	}
	res = (struct run_result){ .command = "push",
				   .digest = ps.src.digest[0] != '\0' ? ps.src.digest : NULL,
				   .source_ref = ps.source.ref, .source_format = ps.source.format };
	st = deliver_run(o, &pb, &t, &res, err);
out:
	/* A registry or engine failure: what happened to each tag. */
	if (st != RP_OK) {
		pb = (struct publish){ .reg = ps.dst.reg, .repo = ps.dst.path, .plan = ps.plan,
				       .digest = ps.src.digest, .status = ps.status, .why = ps.why };
		deliver_fail(o, &pb, "push", NULL, err);
	}
	if (ps.work != NULL)
		workdir_remove(ps.work);
	signer_free(ps.signer);
	reg_free(ps.sign_reg);
	target_free(&ps.dst);
	free(ps.status);
	free(ps.why);
	free(ps.own_auth);
	free(ps.work);
	free(ps.layout);
	source_ref_free(&ps.source);
	plan_free(ps.plan);
	policy_free(pol);
	return st;
}
