/*
 * report.h — what a run tells the world: the JSON object of CONTRACT §5,
 * the readable text plan, the action outputs and the step summary.
 */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include <jansson.h>

#include "plan.h"
#include "util.h"

/* What happened to one tag. */
enum tag_status {
	TS_PLANNED = 0, /* not written: a bare plan or a dry run */
	TS_PUSHED,      /* written by this run */
	TS_UNCHANGED,   /* already on the run's digest */
	TS_KEPT,        /* a floating tag that may not move backwards */
	TS_NOT_WRITTEN, /* a failed run: not on the run's image (not written) */
	TS_UNKNOWN,     /* a failed run: its PUT went out unanswered and the
			 * registry could not be read again */
};

/* "planned", "pushed", "unchanged", "kept", "not-written", "unknown". */
const char *tag_status_name(enum tag_status s);

/* What happened to each tag of a plan; NULL for a bare plan. */
struct run_result {
	const char *command;   /* "plan", "push", ... */
	const char *digest;    /* "sha256:..." or NULL */
	const char *source;    /* promote: the source, host/repo@digest; or NULL */
	const char *source_ref;    /* push: --source as the engines read it, or NULL */
	const char *source_format; /* push: its format ("oci-archive", ...), or NULL */
	const enum tag_status *status; /* per plan tag; NULL: all planned */
	int dry_run;
	const char *error;     /* a failed run: why (JSON "error"), else NULL */
	int attempted;         /* a failed run: some tag write went out */
};

/* The JSON object (new reference; NULL when out of memory). */
json_t *report_json(const struct plan *p, const struct run_result *r);

/* The readable plan, one "key  value" per line then the tags. Caller
 * frees; NULL when out of memory. */
char *report_text(const struct plan *p, const struct run_result *r);

/* Appends the action outputs to $GITHUB_OUTPUT and a Markdown table to
 * $GITHUB_STEP_SUMMARY, each when its variable is set. */
rp_status report_actions(const struct plan *p, const struct run_result *r,
			 struct rp_err *err);

#endif
