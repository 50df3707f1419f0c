/*
 * provenance.h — `attest: provenance`: the SLSA provenance v1 predicate of
 * a push, built from the GitHub context (GitHub's own workflow build
 * type): the workflow file at its ref as the builder, the repository and
 * commit as the source, the run (id and attempt) as the invocation.
 */
#ifndef RP_PROVENANCE_H
#define RP_PROVENANCE_H

#include <jansson.h>

#include "ghctx.h"
#include "plan.h"

#define PROVENANCE_TYPE "https://slsa.dev/provenance/v1"

/*
 * The predicate (new reference) for the plan's run. Needs
 * GITHUB_REPOSITORY, GITHUB_WORKFLOW_REF (owner/repo/PATH@REF) and
 * GITHUB_RUN_ID, as every Actions run has them: a missing or malformed one
 * is RP_EINPUT naming it. GITHUB_SERVER_URL (default https://github.com),
 * GITHUB_RUN_ATTEMPT (default 1) and GITHUB_EVENT_NAME complete it.
 */
rp_status provenance_predicate(const struct rp_opts *o, const struct plan *p, json_t **out,
			       struct rp_err *err);

#endif
