/*
 * promote_check.c — promote's refusals (see promote_check.h). Pure.
 */
#include "promote_check.h"

#include <string.h>
#include <strings.h>

#include "policy.h"

rp_status
promote_check_event(const char *event, struct rp_err *err)
{
	char q[80];

	if (event != NULL && strncmp(event, "pull_request", 12) == 0)
		return rp_fail(err, RP_EREFUSED, "refused: promote does not run on a %s event (a "
			       "pull request may not publish images); nothing was written",
			       rp_quote(event, 40, q, sizeof(q)));
	return RP_OK;
}

rp_status
promote_check_labels(const struct plan *p, int allow_mismatch, const char *what,
		     const json_t *labels, struct rp_err *err)
{
	const char *rev = json_string_value(json_object_get(labels, "org.opencontainers.image.revision"));
	char q[200];

	if (!allow_mismatch && rev == NULL)
		return rp_fail(err, RP_EREFUSED, "refused: %s has no org.opencontainers.image.revision "
			       "label, so it cannot be shown to be this release's commit %s (use "
			       "%s to promote it anyway). Nothing was written.",
			       what, p->sha, rp_flag_on("allow-revision-mismatch"));
	if (!allow_mismatch && strcasecmp(rev, p->sha) != 0)
		return rp_fail(err, RP_EREFUSED, "refused: %s was built from revision %s, not this "
			       "release's commit %s (use %s to promote it "
			       "anyway). Nothing was written.", what, rp_quote(rev, 80, q, sizeof(q)),
			       p->sha, rp_flag_on("allow-revision-mismatch"));
	if (p->env == RP_ENV_PRODUCTION && json_object_get(labels, "quay.expires-after") != NULL)
		return rp_fail(err, RP_EREFUSED,
			       "refused: %s carries the label quay.expires-after, so the release would "
			       "expire in production; rebuild it without that label. Nothing was written.",
			       what);
	return RP_OK;
}

rp_status
promote_check_annotations(const struct plan *p, const char *what, const json_t *annotations,
			  struct rp_err *err)
{
	if (p->env == RP_ENV_PRODUCTION && json_object_get(annotations, "quay.expires-after") != NULL)
		return rp_fail(err, RP_EREFUSED, "refused: %s carries the annotation "
			       "quay.expires-after, which Quay applies as a label, so the release "
			       "would expire in production; rebuild it without it. Nothing was written.",
			       what);
	return RP_OK;
}
