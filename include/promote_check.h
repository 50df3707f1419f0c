/*
 * promote_check.h — whether an image may be promoted, as pure functions
 * of what promote read (the event, an image's labels, a manifest's
 * annotations) and the plan, each refusal worded here (exit 3). Table
 * tested (tests/test_promote_check.c); promote.c gathers and calls them.
 */
#ifndef RP_PROMOTE_CHECK_H
#define RP_PROMOTE_CHECK_H

#include <jansson.h>

#include "plan.h"
#include "util.h"

/* A pull_request* event may not publish: RP_EREFUSED, or RP_OK (event
 * NULL: none). */
rp_status promote_check_event(const char *event, struct rp_err *err);

/* The labels (a config's config.Labels, may be NULL) of the image `what`
 * names: its revision must be the plan's commit (unless allow_mismatch),
 * and a production image may not carry quay.expires-after. */
rp_status promote_check_labels(const struct plan *p, int allow_mismatch, const char *what,
			       const json_t *labels, struct rp_err *err);

/* A manifest's (or index's) annotations (may be NULL): in production none
 * may be quay.expires-after, which Quay applies as a label. */
rp_status promote_check_annotations(const struct plan *p, const char *what,
				    const json_t *annotations, struct rp_err *err);

#endif
