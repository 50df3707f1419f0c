/*
 * deliver.c — the skeleton push and promote share (see deliver.h).
 */
#include "deliver.h"

#include <stdlib.h>
#include <string.h>

#include "run.h"

/* The signature's claims, which cosign verify -a checks: the commit, the
 * ref and the environment. */
static void
claims_of(const struct plan *p, const char *claims[7])
{
	claims[0] = "org.opencontainers.image.revision";
	claims[1] = p->label_revision;
	claims[2] = "dev.regpush.ref";
	claims[3] = p->ref;
	claims[4] = "dev.regpush.environment";
	claims[5] = rp_env_name(p->env);
	claims[6] = NULL;
}

rp_status
deliver_run(const struct rp_opts *o, struct publish *pb, const struct transfer *t,
	    struct run_result *res, struct rp_err *err)
{
	struct decision d;
	const char *claims[7];
	char sig[RP_DIGEST_MAX] = "";
	int sign = 0, signing = 0, carry, carrying = 0;
	rp_status st;

	memset(&d, 0, sizeof(d));
	claims_of(pb->plan, claims);
	st = publish_decide(pb, &d, err);
	if (t->ready != NULL) {
		struct rp_err rerr;
		rp_status rst = t->ready(t->ready_ctx, &rerr);
		if (rst != RP_OK) {
			*err = rerr;
			st = rst;
		}
	}
	if (st != RP_OK)
		goto out;
	carry = t->carry != NULL && (d.writes > 0 || d.present);
	/* Signed whenever the image is there or is put there. */
	sign = t->signer != NULL && (d.writes > 0 || d.present);
	/* A dry run names the key; a real one waits for it after the upload,
	 * which the decryption overlaps. */
	if (o->dry_run && t->signer != NULL && (st = signer_ready(t->signer, err)) != RP_OK)
		goto out;
	if (o->dry_run) {
		struct sbuf sb;
		char *text;
		sbuf_init(&sb, 1 << 20);
		sbuf_puts(&sb, "dry run: nothing is written to any registry; a real run would do:\n");
		if (d.upload)
			t->describe(t->ctx, &sb);
		if (carry)
			st = t->carry(t->ctx, &sb, err);
		if (sign)
			signer_describe(t->signer, pb->plan->host, pb->repo, pb->digest, &sb);
		publish_print_writes(&sb, pb->plan, &d, pb->digest);
		if ((text = sbuf_take(&sb)) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if (st == RP_OK)
			st = report_note(o, text, err);
		free(text);
	} else {
		/* The attachments go up beside the image, the signature too:
		 * a tag, not the image, is what must not come before them. */
		if (carry && (st = t->carry(t->ctx, NULL, err)) == RP_OK)
			carrying = 1;
		if (st == RP_OK && d.writes > 0 && d.upload) {
			signing = sign && t->sign_reg != NULL &&
			    signer_start(t->signer, t->sign_reg, pb->plan->host, pb->repo, pb->digest,
					 claims, &o->settings) == RP_OK;
			st = t->put(t->ctx, err);
		}
	}
	if (t->after != NULL)
		t->after(t->ctx);
	/* A counter-signature merges into the carried .sig: after it. With
	 * tags to write, the carry's writes are joined right before them
	 * (beside publish_write's re-read). */
	if (carrying && (st != RP_OK || t->signer != NULL || d.writes == 0)) {
		struct rp_err cerr;
		rp_status cst = t->carry_join(t->ctx, &cerr);
		carrying = 0;
		if (st == RP_OK && cst != RP_OK) {
			*err = cerr;
			st = cst;
		}
	}
	if (carrying) {
		pb->before_tags = t->carry_join;
		pb->after_tags = t->carry_after_tags;
		pb->before_ctx = t->ctx;
	}
	if (signing) {
		struct rp_err serr;
		rp_status sst = signer_join(t->signer, sig, &serr);
		/* The upload's failure is the one reported. */
		if (st == RP_OK && sst != RP_OK) {
			*err = serr;
			st = sst;
		}
	} else if (st == RP_OK && t->signer != NULL && !o->dry_run) {
		/* Promote's tags bring the manifest: its bytes are known. */
		st = sign ? signer_sign(t->signer, pb->reg, pb->plan->host, pb->repo, pb->digest,
					pb->manifest, claims, &o->settings, sig, err) :
			    signer_ready(t->signer, err);
	}
	/* The signature before any tag: a tag never names an image whose
	 * signature is not there yet. */
	if (st == RP_OK && sign && !o->dry_run) {
		res->signature = sig;
		res->signed_by = signer_fingerprint(t->signer);
		res->attestation = signer_attestation(t->signer);
	}
	if (st == RP_OK && !o->dry_run && d.writes > 0)
		st = publish_write(pb, err);
	/* The carried attachments are read back once a settling pause has
	 * passed since they were written: beside the tags' settling read
	 * (started by after_tags, joined here), or now when no tag was
	 * written. */
	if (carrying) {
		struct rp_err cerr;
		rp_status cst = t->carry_join(t->ctx, &cerr);
		if (st == RP_OK && cst != RP_OK) {
			*err = cerr;
			st = cst;
		}
	} else if (st == RP_OK && carry && !o->dry_run)
		st = t->carry_settle(t->ctx, d.writes > 0, err);
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
