/*
 * report.h — what a run tells the world: the JSON object of CONTRACT §5,
 * the readable text plan, the action outputs and the step summary.
 */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include <jansson.h>

#include "ghctx.h"
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

/* Room for why a tag was kept or moved back ("kept: v1.3.0 is a newer
 * release"). */
#define RP_WHY_MAX 200

/* What happened to each tag of a plan; NULL for a bare plan. */
struct run_result {
	const char *command;   /* "plan", "push", ... */
	const char *digest;    /* "sha256:..." or NULL */
	const char *source;    /* promote: the source, host/repo@digest; or NULL */
	const char *source_ref;    /* push: --source as the engines read it, or NULL */
	const char *source_format; /* push: its format ("oci-archive", ...), or NULL */
	const char *signature; /* signed: the .sig manifest's digest, or NULL */
	const char *signed_by; /* signed: the key's fingerprint */
	const char *attestation; /* attested: the .att manifest's digest, or NULL */
	const char *verified_by; /* promote with verify keys: the key whose
				  * signature let the source through, or NULL */
	const char *verified_in; /* the repository that signature names */
	const enum tag_status *status; /* per plan tag; NULL: all planned */
	const char (*why)[RP_WHY_MAX]; /* per plan tag: why kept or moved
				* back ("" for none); or NULL */
	int dry_run;
	const char *error;     /* a failed run: why (JSON "error"), else NULL */
	int attempted;         /* a failed run: some tag write went out */
	rp_status failure;     /* a failed run: how it failed */
};

/* The JSON object (new reference; NULL when out of memory). */
json_t *report_json(const struct plan *p, const struct run_result *r);

/* The readable plan, one "key  value" per line then the tags. Caller
 * frees; NULL when out of memory. */
char *report_text(const struct plan *p, const struct run_result *r);

/*
 * The action outputs and the step summary (CONTRACT §5) are written once
 * per run, at its very end, whatever the exit: report_finish adds
 * `result` and `error` to what the command staged. A command stages as
 * soon as it knows something worth reading (its plan; each tag's status
 * on a failure), and again when it knows more; the last stage wins.
 * There is one run per process, so the stage is the process's.
 */

/* Stages the outputs and summary of a plan and what happened to it
 * (push, promote, plan). Returns RP_OK or RP_ENOMEM (nothing staged). */
rp_status report_stage(const struct plan *p, const struct run_result *r);

/* Stages prepared text: `outputs` (file-command records, without result
 * and error), `summary` (Markdown, after the heading) and the result a
 * successful run reports. Takes ownership of both strings. */
void report_stage_text(char *outputs, char *summary, const char *ok_result);

/*
 * In Actions: appends the staged outputs plus `result` (from the command
 * and the exit status, CONTRACT §5) and `error` (when st is not RP_OK) to
 * $GITHUB_OUTPUT, and the summary under a "### regpush CMD: RESULT"
 * heading (with the error) to $GITHUB_STEP_SUMMARY. Both are whole or
 * absent: when memory runs out, a short record (result, error) made
 * without allocating is written instead; when the summary cannot be
 * written, the outputs are taken back. Returns st, or the failure to
 * write (err set) when st was RP_OK.
 */
rp_status report_finish(int actions, const char *command, rp_status st,
			struct rp_err *err);

/* The step summary is cut to fit GitHub's 1 MiB (the rows that fit, then
 * a count), the `json` output at REPORT_JSON_MAX bytes. */
#define REPORT_SUMMARY_MAX (1000 * 1024)
#define REPORT_JSON_MAX (256 * 1024)

/*
 * For the reports of many rows (prune, audit). A JSON array capped at cap
 * bytes (0: none): report_capped_add appends row (taking it), or counts it
 * in *omitted once the rows so far pass cap. Returns 0, or -1 when out of
 * memory (row freed).
 */
int report_capped_add(json_t *arr, json_t *row, size_t cap, size_t *used, size_t *omitted);

/* A Markdown table that stays under REPORT_SUMMARY_MAX: report_md_row
 * appends line, or counts it once the next would not fit (with room for
 * the count); report_md_end appends "and N more, see the log". */
struct report_md {
	struct sbuf sb;
	size_t more;
};
void report_md_row(struct report_md *t, const char *line);
void report_md_end(struct report_md *t);

/* Stages outputs names[i]=values[i] (n of them) plus `json` (the
 * compact dump of j), and summary (taken), with ok_result for a run that
 * succeeds. RP_OK, or RP_ENOMEM (nothing staged). */
rp_status report_stage_counts(const char *const *names, const char *const *values, size_t n,
			      const json_t *j, char *summary, const char *ok_result,
			      struct rp_err *err);

/* Escapes Markdown table-cell text: `|` and backquotes, and cuts it at
 * `max` bytes. Writes into buf and returns it. */
const char *report_md_cell(const char *s, size_t max, char *buf, size_t size);

/* --- printing a run's results: every command prints through these ----- */

/* Prints a plan and what happened (text, or JSON with --json), then the
 * action outputs and step summary in Actions. */
rp_status report_run(const struct rp_opts *o, const struct plan *plan,
		     const struct run_result *res, struct rp_err *err);

/* Writes s to stdout and checks that it got there. */
rp_status report_print(const char *s, struct rp_err *err);

/* Prose beside the report (a dry run's list of writes): stdout, or
 * stderr with --json, so that stdout is the JSON alone. */
rp_status report_note(const struct rp_opts *o, const char *s, struct rp_err *err);

/* A run that failed after its plan was made: in Actions the report
 * staged for the outputs and summary; with --json the
 * report on stdout, each tag's status and the "error"; and, when some tag
 * write had gone out (res->attempted), one stderr line per outcome
 * ("regpush: written: ...", "regpush: not written: ..."). Best effort:
 * nothing is returned. */
void report_failure(const struct rp_opts *o, const struct plan *plan,
			const struct run_result *res);

/* The annotation title of an error: "regpush: input" (exit 2),
 * "regpush: policy" (a policy file's, with its position), "regpush:
 * refused" (3), "regpush: registry" (1). */
const char *report_error_title(const struct rp_err *err);

/* Reports err on stderr, or as ::error:: when in Actions (a policy
 * file's error with file, line and col). */
void report_error(const struct rp_opts *o, const struct rp_err *err);

#endif
