/*
 * run.c — the plan and policy subcommands, and what every subcommand
 * shares before it acts: loading the policy and making the plan. What
 * they print goes through report.c.
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ghactions.h"
#include "report.h"

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
run_now(const struct rp_opts *o, time_t *now, struct rp_err *err)
{
	char q[100];

	*now = time(NULL);
	if (o->now != NULL && ghctx_parse_time(o->now, now) != 0)
		return rp_fail(err, RP_EINPUT, "--now '%s' is not an RFC 3339 time (e.g. 2027-01-10T00:00:00Z)",
			       rp_quote(o->now, 60, q, sizeof(q)));
	return RP_OK;
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
		st = report_run(o, plan, &res, err);
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
		st = report_print(text, err);
	free(text);
	policy_free(pol);
	return st;
}

