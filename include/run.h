/*
 * run.h — the plan and policy subcommands, and loading the policy and
 * making the plan, which every subcommand does first.
 */
#ifndef RP_RUN_H
#define RP_RUN_H

#include "ghctx.h"
#include "report.h"
#include "util.h"

/* Loads the effective policy (built-in, overlaid by --policy). */
rp_status run_load_policy(const struct rp_opts *o, struct policy **out,
			  struct rp_err *err);

/* Builds the plan from options, event and policy. */
rp_status run_make_plan(const struct rp_opts *o, const struct policy *pol,
			struct plan **out, struct rp_err *err);

/* The moment ages are measured against: --now (RFC 3339), else the clock.
 * A malformed --now is RP_EINPUT naming it. */
rp_status run_now(const struct rp_opts *o, time_t *now, struct rp_err *err);

rp_status run_plan(struct rp_opts *o, struct rp_err *err);
rp_status run_policy(struct rp_opts *o, struct rp_err *err);

#endif
