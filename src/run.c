/*
 * run.c — the plan and policy subcommands, and what every subcommand
 * shares: loading the policy, making the plan, printing with checked
 * writes, reporting an error in the runner's format.
 */
#include "run.h"

#include "creds.h"
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ghactions.h"
#include "report.h"

rp_status
run_print(const char *s, struct rp_err *err)
{
	if (fputs(s, stdout) == EOF || fflush(stdout) != 0 || ferror(stdout))
		return rp_fail(err, RP_EREGISTRY, "cannot write to standard output");
	return RP_OK;
}

const char *
run_error_title(const struct rp_err *err)
{
	if (err->line > 0)
		return "regpush: policy";
	switch (err->status) {
	case RP_EINPUT: return "regpush: input";
	case RP_EREFUSED: return "regpush: refused";
	default: return "regpush: registry";
	}
}

rp_status
run_print_note(const struct rp_opts *o, const char *s, struct rp_err *err)
{
	if (!o->json)
		return run_print(s, err);
	fputs(s, stderr);
	return RP_OK;
}

void
run_report_error(const struct rp_opts *o, const struct rp_err *err)
{
	if (o != NULL && o->actions && err->line > 0) {
		fflush(stdout);
		gha_command_at(stdout, "error", run_error_title(err), err->file, err->line, err->col,
			       err->msg);
	} else {
		gha_say(o != NULL && o->actions, "error", run_error_title(err), err->msg);
	}
}

rp_status
run_load_policy(const struct rp_opts *o, struct policy **out,
		struct rp_err *err)
{
	struct policy *pol;
	rp_status st;

	*out = NULL;
	if ((pol = policy_default()) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory loading the policy");
	if (o->policy != NULL &&
	    (st = policy_load_file(pol, o->policy, err)) != RP_OK) {
		policy_free(pol);
		return st;
	}
	*out = pol;
	return RP_OK;
}

rp_status
run_make_plan(const struct rp_opts *o, const struct policy *pol,
	      struct plan **out, struct rp_err *err)
{
	struct ghctx_event ev;
	struct plan_input in;
	rp_status st;

	*out = NULL;
	if ((st = ghctx_read_event(o->event_path, &ev, err)) != RP_OK)
		return st;
	if ((st = ghctx_plan_input(o, &ev, &in, err)) == RP_OK)
		st = plan_make(&in, pol, out, err);
	ghctx_event_free(&ev);
	return st;
}

rp_status
run_report(const struct rp_opts *o, const struct plan *plan,
	   const struct run_result *res, struct rp_err *err)
{
	json_t *j = NULL;
	char *text = NULL;
	rp_status st;

	if (o->json) {
		if ((j = report_json(plan, res)) == NULL ||
		    (text = rp_json_dumps(j, JSON_INDENT(2))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if ((st = run_print(text, err)) == RP_OK)
			st = run_print("\n", err);
	} else if ((text = report_text(plan, res)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	} else {
		st = run_print(text, err);
	}
	if (st == RP_OK && o->actions && report_stage(plan, res) != RP_OK)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	free(text);
	json_decref(j);
	return st;
}

/* One stderr line per outcome: "regpush: not written: v1, latest". */
static void
failure_lines(const struct plan *plan, const struct run_result *res)
{
	static const enum tag_status order[] = {
		TS_PUSHED, TS_UNCHANGED, TS_KEPT, TS_NOT_WRITTEN, TS_UNKNOWN,
	};
	static const char *const label[] = {
		"written", "already there (unchanged)", "kept", "not written",
		"unknown (the write went out unanswered; the registry could not be read again)",
	};
	size_t k, i, n;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (i = n = 0; i < plan->ntags; i++) {
			if (res->status[i] != order[k])
				continue;
			if (n++ == 0)
				fprintf(stderr, "regpush: %s: %s", label[k], plan->tags[i].image);
			else
				fprintf(stderr, ", %s", plan->tags[i].image);
		}
		if (n > 0)
			fputc('\n', stderr);
	}
}

void
run_report_failure(const struct rp_opts *o, const struct plan *plan,
		   const struct run_result *res)
{
	json_t *j;
	char *text;

	if (plan == NULL || res->status == NULL)
		return;
	if (o->actions)
		(void)report_stage(plan, res);
	if (res->attempted)
		failure_lines(plan, res);
	if (o->json && res->failure == RP_EREGISTRY && !res->dry_run &&
	    (j = report_json(plan, res)) != NULL) {
		if ((text = rp_json_dumps(j, JSON_INDENT(2))) != NULL) {
			fputs(text, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		free(text);
		json_decref(j);
	}
}

rp_status
run_plan(struct rp_opts *o, struct rp_err *err)
{
	struct policy *pol = NULL;
	struct plan *plan = NULL;
	struct run_result res = { .command = "plan" };
	rp_status st;

	if ((st = run_load_policy(o, &pol, err)) == RP_OK &&
	    (st = run_make_plan(o, pol, &plan, err)) == RP_OK)
		st = run_report(o, plan, &res, err);
	plan_free(plan);
	policy_free(pol);
	return st;
}

rp_status
run_policy(struct rp_opts *o, struct rp_err *err)
{
	struct policy *pol;
	char *text;
	rp_status st;

	if ((st = run_load_policy(o, &pol, err)) != RP_OK)
		return st;
	if ((text = policy_dump(pol)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else
		st = run_print(text, err);
	free(text);
	policy_free(pol);
	return st;
}

/* A token the registry client learnt, masked in the Actions log. */
static void
mask_in_log(void *ctx, const char *secret)
{
	(void)ctx;
	gha_command(stdout, "add-mask", NULL, secret);
}

rp_status
run_open_registry(const struct rp_opts *o, const char *host, const char *repo,
		  const struct creds *account, struct reg_client **out, struct rp_err *err)
{
	struct reg_config cfg;
	struct creds fromfile;
	char who[300], q[200];
	rp_status st;

	*out = NULL;
	memset(&cfg, 0, sizeof(cfg));
	memset(&fromfile, 0, sizeof(fromfile));
	cfg.host = host;
	cfg.insecure = ghctx_insecure(o, host);
	cfg.insecure_hosts = o->insecure;
	cfg.cert_dir = o->cert_dir;
	cfg.on_secret = o->actions ? mask_in_log : NULL;
	cfg.settings = &o->settings;
	if (account != NULL && account->username != NULL) {
		cfg.username = account->username;
		cfg.password = account->password;
		snprintf(who, sizeof(who), "%s account '%s'", account->profile,
			 rp_quote(account->username, 150, q, sizeof(q)));
	} else {
		if ((st = creds_from_authfiles(o->authfile, host, repo, &fromfile, err)) != RP_OK)
			return st;
		cfg.username = fromfile.username;
		cfg.password = fromfile.password;
		snprintf(who, sizeof(who), "account '%s' from the auth file",
			 rp_quote(fromfile.username != NULL ? fromfile.username : "", 150, q, sizeof(q)));
	}
	cfg.account = who;
	*out = reg_new(&cfg, err);
	creds_free(&fromfile);
	return *out != NULL ? RP_OK : err->status != RP_OK ? err->status : RP_ENOMEM;
}
