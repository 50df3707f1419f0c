/*
 * prune.h — `regpush prune`: retention. Tags past the policy's retention
 * go; a manifest that a kept tag (or a kept index) still needs never does.
 */
#ifndef RP_PRUNE_H
#define RP_PRUNE_H

#include "ghctx.h"
#include "policy.h"
#include "util.h"

rp_status prune_run(struct rp_opts *o, struct rp_err *err);

/* The class of a tag as tagscheme reads it under pol: RP_ENV_DEVELOPMENT
 * (dev-<sha>, feature-<slug>), RP_ENV_TEST (test-<slug>), RP_ENV_STAGING
 * (staging-vX.Y.Z-PRE), RP_ENV_PRODUCTION for what is never pruned
 * (latest, dev-latest, staging-latest, vX.Y.Z, vX.Y, vX), PRUNE_CLS_NONE
 * (-1) for a tag that matches no pattern (kept), PRUNE_CLS_ATTACHMENT
 * (-3) for a signature, attestation or SBOM tag (kept), -2 when out of
 * memory. */
int prune_class(const struct policy *pol, const char *tag);

#endif
