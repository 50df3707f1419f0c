/*
 * floating.h — "floating release tags move only forward" (CONTRACT §3):
 * given the tags a repository already holds, may a plan's floating tag
 * move to the plan's version? A pure function.
 */
#ifndef RP_FLOATING_H
#define RP_FLOATING_H

#include "plan.h"

/*
 * Returns 1 when tag t of plan p may move: vX.Y only if no stable vX.Y.W
 * of higher precedence exists in `existing`; vX likewise within X;
 * latest over every stable release; staging-latest over every staging-v*.
 * Tags without a scope (dev-latest, feature-*, test-*) always move.
 * When it returns 0 and `blocker` is non-NULL, *blocker points at the
 * existing tag that stops it.
 */
int floating_moves(const struct plan *p, const struct plan_tag *t,
		   char *const *existing, const char **blocker);

/*
 * The release in `existing` with the highest precedence among those in
 * t's scope that are higher than the plan's version — where t belongs
 * instead when it may not move — or NULL when there is none. Out of
 * memory returns t's own name (it stays: never backwards by accident).
 */
const char *floating_newest(const struct plan *p, const struct plan_tag *t,
			    char *const *existing);

#endif
