/* promote_check: promote's refusals, one row per case, exact text. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "plan.h"
#include "policy.h"
#include "promote_check.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"

static struct plan *
plan_for(const char *ref)
{
	struct policy *pol = policy_default();
	struct plan_input in = { .ref = ref, .sha = SHA, .service = "svc" };
	struct plan *p = NULL;
	struct rp_err err;

	cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s", err.msg);
	policy_free(pol);
	return p;
}

Test(promote_check, labels)
{
	static const struct {
		const char *ref, *labels;
		int allow;
		rp_status st;
		const char *msg;
	} rows[] = {
		{ "refs/tags/v1.0.0", "{\"org.opencontainers.image.revision\":\"" SHA "\"}", 0, RP_OK, "" },
		{ "refs/tags/v1.0.0", "{\"org.opencontainers.image.revision\":\"0123456789ABCDEF0123456789ABCDEF01234567\"}",
		  0, RP_OK, "" }, /* hex case does not matter */
		{ "refs/tags/v1.0.0", "{}", 0, RP_EREFUSED,
		  "refused: IMG has no org.opencontainers.image.revision label, so it cannot be shown to be this "
		  "release's commit " SHA " (use --allow-revision-mismatch to promote it anyway). Nothing was written." },
		{ "refs/tags/v1.0.0", "null", 0, RP_EREFUSED,
		  "refused: IMG has no org.opencontainers.image.revision label, so it cannot be shown to be this "
		  "release's commit " SHA " (use --allow-revision-mismatch to promote it anyway). Nothing was written." },
		{ "refs/tags/v1.0.0", "{}", 1, RP_OK, "" },
		{ "refs/tags/v1.0.0", "{\"org.opencontainers.image.revision\":\"89ab\\nx\"}", 0, RP_EREFUSED,
		  "refused: IMG was built from revision 89ab\\x0ax, not this release's commit " SHA
		  " (use --allow-revision-mismatch to promote it anyway). Nothing was written." },
		{ "refs/tags/v1.0.0", "{\"org.opencontainers.image.revision\":\"89ab\"}", 1, RP_OK, "" },
		{ "refs/tags/v1.0.0", "{\"org.opencontainers.image.revision\":\"" SHA "\",\"quay.expires-after\":\"30d\"}",
		  0, RP_EREFUSED,
		  "refused: IMG carries the label quay.expires-after, so the release would expire in production; "
		  "rebuild it without that label. Nothing was written." },
		{ "refs/tags/v1.0.0", "{\"quay.expires-after\":\"30d\"}", 1, RP_EREFUSED,
		  "refused: IMG carries the label quay.expires-after, so the release would expire in production; "
		  "rebuild it without that label. Nothing was written." },
		/* Staging may expire. */
		{ "refs/tags/v1.0.0-rc.1", "{\"org.opencontainers.image.revision\":\"" SHA "\",\"quay.expires-after\":\"30d\"}",
		  0, RP_OK, "" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct plan *p = plan_for(rows[i].ref);
		json_t *labels = json_loads(rows[i].labels, JSON_DECODE_ANY, NULL);
		struct rp_err err = { RP_OK, "" };
		rp_status st = promote_check_labels(p, rows[i].allow, "IMG", labels, &err);

		cr_expect_eq(st, rows[i].st, "row %zu: %s", i, err.msg);
		cr_expect_str_eq(err.msg, rows[i].msg, "row %zu", i);
		json_decref(labels);
		plan_free(p);
	}
}

Test(promote_check, annotations_and_event)
{
	struct plan *prod = plan_for("refs/tags/v1.0.0"), *stg = plan_for("refs/tags/v1.0.0-rc.1");
	json_t *exp = json_pack("{s:s}", "quay.expires-after", "1w"), *other = json_pack("{s:s}", "a", "b");
	struct rp_err err = { RP_OK, "" };

	cr_expect_eq(promote_check_annotations(prod, "IDX", exp, &err), RP_EREFUSED);
	cr_expect_str_eq(err.msg, "refused: IDX carries the annotation quay.expires-after, which Quay applies "
			 "as a label, so the release would expire in production; rebuild it without it. "
			 "Nothing was written.");
	cr_expect_eq(promote_check_annotations(prod, "IDX", other, &err), RP_OK);
	cr_expect_eq(promote_check_annotations(prod, "IDX", NULL, &err), RP_OK);
	cr_expect_eq(promote_check_annotations(stg, "IDX", exp, &err), RP_OK);
	cr_expect_eq(promote_check_event("pull_request_target", &err), RP_EREFUSED);
	cr_expect_str_eq(err.msg, "refused: promote does not run on a pull_request_target event (a pull request "
			 "may not publish images); nothing was written");
	cr_expect_eq(promote_check_event("push", &err), RP_OK);
	cr_expect_eq(promote_check_event(NULL, &err), RP_OK);
	json_decref(exp);
	json_decref(other);
	plan_free(prod);
	plan_free(stg);
}
