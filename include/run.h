/*
 * run.h — the subcommands, each taking resolved options. main parses the
 * command line and calls exactly one of these.
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

rp_status run_plan(struct rp_opts *o, struct rp_err *err);
rp_status run_policy(struct rp_opts *o, struct rp_err *err);

/* Prints a plan and what happened (text, or JSON with --json), then the
 * action outputs and step summary in Actions. */
rp_status run_report(const struct rp_opts *o, const struct plan *plan,
		     const struct run_result *res, struct rp_err *err);

struct creds;
struct reg_client;

/* A registry client for host (repo: for the auth-file lookup), with
 * `account` when it has a username, else what the auth files hold for
 * host/repo; TLS and masking from the options. *out: reg_free. */
rp_status run_open_registry(const struct rp_opts *o, const char *host, const char *repo,
			    const struct creds *account, struct reg_client **out,
			    struct rp_err *err);

/* Writes s to stdout and checks that it got there. */
rp_status run_print(const char *s, struct rp_err *err);

/* Prose beside the report (a dry run's list of writes): stdout, or
 * stderr with --json, so that stdout is the JSON alone. */
rp_status run_print_note(const struct rp_opts *o, const char *s, struct rp_err *err);

/* A run that failed after its plan was made: in Actions the report
 * staged for the outputs and summary; with --json the
 * report on stdout, each tag's status and the "error"; and, when some tag
 * write had gone out (res->attempted), one stderr line per outcome
 * ("regpush: written: ...", "regpush: not written: ..."). Best effort:
 * nothing is returned. */
void run_report_failure(const struct rp_opts *o, const struct plan *plan,
			const struct run_result *res);

/* The annotation title of an error: "regpush: input" (exit 2),
 * "regpush: policy" (a policy file's, with its position), "regpush:
 * refused" (3), "regpush: registry" (1). */
const char *run_error_title(const struct rp_err *err);

/* Reports err on stderr, or as ::error:: when in Actions (a policy
 * file's error with file, line and col). */
void run_report_error(const struct rp_opts *o, const struct rp_err *err);

#endif
