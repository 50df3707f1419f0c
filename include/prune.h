/*
 * prune.h — `regpush prune`: retention. Tags past the policy's retention
 * go; a manifest that a kept tag (or a kept index) still needs never does.
 */
#ifndef RP_PRUNE_H
#define RP_PRUNE_H

#include "ghctx.h"
#include "util.h"

rp_status prune_run(struct rp_opts *o, struct rp_err *err);

/* The class of a tag under the built-in patterns: RP_ENV_DEVELOPMENT
 * (dev-<hex>, feature-*), RP_ENV_TEST (test-*), RP_ENV_STAGING
 * (staging-v*), RP_ENV_PRODUCTION for what is never pruned (latest,
 * dev-latest, staging-latest, v* releases), or -1 for a tag that matches
 * no pattern (kept). */
int prune_class(const char *tag);

#endif
