/*
 * deliver.c — the skeleton push and promote share (see deliver.h).
 */
#include "deliver.h"

#include <stdlib.h>
#include <string.h>

#include "run.h"

/* The signature's claims, which cosign verify -a checks: the commit, the
 * ref and the environment. */
static rp_status
sign_image_now(const struct rp_opts *o, const struct publish *pb, const struct signer *s,
	       char sig[RP_DIGEST_MAX], struct rp_err *err)
{
	const struct plan *p = pb->plan;
	const char *claims[] = { "org.opencontainers.image.revision", p->label_revision,
				 "dev.regpush.ref", p->ref, "dev.regpush.environment",
				 rp_env_name(p->env), NULL };

	return signer_sign(s, pb->reg, p->host, pb->repo, pb->digest, claims, &o->settings, sig, err);
}

rp_status
deliver_run(const struct rp_opts *o, struct publish *pb, const struct transfer *t,
	    struct run_result *res, struct rp_err *err)
{
	struct decision d;
	char sig[RP_DIGEST_MAX] = "";
	rp_status st;

	memset(&d, 0, sizeof(d));
	if ((st = publish_decide(pb, &d, err)) != RP_OK)
		goto out;
	if (o->dry_run) {
		struct sbuf sb;
		char *text;
		sbuf_init(&sb, 1 << 20);
		sbuf_puts(&sb, "dry run: nothing is written to any registry; a real run would do:\n");
		if (d.upload)
			t->describe(t->ctx, &sb);
		if (t->signer != NULL && (d.writes > 0 || d.present))
			signer_describe(t->signer, pb->plan->host, pb->repo, pb->digest, &sb);
		publish_print_writes(&sb, pb->plan, &d, pb->digest);
		if ((text = sbuf_take(&sb)) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else
			st = report_note(o, text, err);
		free(text);
	} else if (d.writes > 0 && d.upload) {
		st = t->put(t->ctx, err);
	}
	if (t->after != NULL)
		t->after(t->ctx);
	/* The signature before any tag: a tag never names an image whose
	 * signature is not there yet. */
	if (st == RP_OK && !o->dry_run && t->signer != NULL && (d.writes > 0 || d.present) &&
	    (st = sign_image_now(o, pb, t->signer, sig, err)) == RP_OK) {
		res->signature = sig;
		res->signed_by = signer_fingerprint(t->signer);
	}
	if (st == RP_OK && !o->dry_run && d.writes > 0)
		st = publish_write(pb, err);
	if (st == RP_OK) {
		res->status = pb->status;
		res->why = (const char (*)[RP_WHY_MAX])pb->why;
		res->dry_run = o->dry_run;
		st = report_run(o, pb->plan, res, err);
	}
out:
	decision_free(&d);
	return st;
}

void
deliver_fail(const struct rp_opts *o, struct publish *pb, const char *command,
	     const char *source, const struct rp_err *err)
{
	struct run_result res = {
		.command = command, .source = source, .status = pb->status, .error = err->msg,
		.digest = pb->digest != NULL && pb->digest[0] != '\0' ? pb->digest : NULL,
		.why = (const char (*)[RP_WHY_MAX])pb->why, .dry_run = o->dry_run,
		.failure = err->status,
	};

	if (pb->plan == NULL || pb->status == NULL)
		return;
	res.attempted = publish_true_statuses(pb, err->status == RP_EREGISTRY && !o->dry_run);
	report_failure(o, pb->plan, &res);
}
