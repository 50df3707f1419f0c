/*
 * deliver.c — the skeleton push and promote share (see deliver.h).
 */
#include "deliver.h"

#include <stdlib.h>
#include <string.h>

#include "run.h"

rp_status
deliver_run(const struct rp_opts *o, struct publish *pb, const struct transfer *t,
	    struct run_result *res, struct rp_err *err)
{
	struct decision d;
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
