/* prune_decide: retention and protection, one row per rule. */
#include <criterion/criterion.h>
#include <string.h>

#include "policy.h"
#include "prune_decide.h"

#define D 0
#define T 1
#define S 2
#define P 3 /* RP_ENV_PRODUCTION: never pruned */
#define NONE (-1)

/* Built-in retention: development 30 days, test 14, staging 90. */
Test(prune_decide, retention)
{
	static const struct {
		const char *digest;
		int cls;
		long age;
		int measured;
		enum prune_action act;
		const char *reason;
	} rows[] = {
		{ "sha256:a", D, 30, 1, PRUNE_KEEP, "within retention" },
		{ "sha256:a", D, 31, 1, PRUNE_DELETE, "expired" },
		{ "sha256:a", T, 14, 1, PRUNE_KEEP, "within retention" },
		{ "sha256:a", T, 15, 1, PRUNE_DELETE, "expired" },
		{ "sha256:a", S, 90, 1, PRUNE_KEEP, "within retention" },
		{ "sha256:a", S, 91, 1, PRUNE_DELETE, "expired" },
		{ "sha256:a", S, 0, 1, PRUNE_KEEP, "within retention" },
		{ "sha256:a", D, PRUNE_AGE_UNKNOWN, 1, PRUNE_KEEP, "age unknown (no created time, or before 2000)" },
		{ "sha256:a", D, PRUNE_AGE_PLACEHOLDER, 1, PRUNE_DELETE, "on the placeholder of an untag cut short" },
		{ "sha256:a", T, PRUNE_AGE_DANGLING, 1, PRUNE_DELETE, "dangling index (an entry is gone)" },
		{ "sha256:a", P, 9999, 0, PRUNE_KEEP, "never pruned" },
		{ "sha256:a", NONE, 9999, 0, PRUNE_KEEP, "matches no pattern" },
		{ "sha256:a", PRUNE_CLS_ATTACHMENT, 9999, 0, PRUNE_KEEP,
		  "a signature, attestation or SBOM: kept (not aged; it follows its image)" },
		{ "", D, 9999, 0, PRUNE_KEEP, "gone (deleted meanwhile)" },
		{ "", P, 0, 0, PRUNE_KEEP, "listed but not readable (404 twice): nothing here is deleted by digest" },
		{ "", NONE, 0, 0, PRUNE_KEEP, "listed but not readable (404 twice): nothing here is deleted by digest" },
	};
	struct policy *pol = policy_default();
	size_t i;

	cr_assert_not_null(pol);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct prune_row w = { "t", rows[i].digest, rows[i].cls, rows[i].age, PRUNE_KEEP, NULL, NULL, NULL };
		cr_expect_eq(prune_measured(pol, &w), rows[i].measured, "row %zu: measured", i);
		prune_retain(pol, &w, 1);
		cr_expect_eq(w.act, rows[i].act, "row %zu: act %d", i, w.act);
		cr_expect_str_eq(w.reason, rows[i].reason, "row %zu", i);
		cr_expect_null(w.by, "row %zu", i);
	}
	policy_free(pol);
}

/* A policy whose test retention is never: test tags become kept ones. */
Test(prune_decide, a_retention_of_never_keeps_the_class)
{
	static const char yaml[] = "version: 1\nretention:\n  test: never\n";
	struct policy *pol = policy_default();
	struct prune_row w = { "test-x", "", T, 0, PRUNE_KEEP, NULL, NULL, NULL };
	struct rp_err err;

	cr_assert_eq(policy_load_string(pol, "t.yaml", yaml, strlen(yaml), &err), RP_OK, "%s", err.msg);
	cr_expect(prune_kept_class(pol, T));
	cr_expect(!prune_kept_class(pol, D));
	prune_retain(pol, &w, 1);
	cr_expect_str_eq(w.reason, "listed but not readable (404 twice): nothing here is deleted by digest");
	w.digest = "sha256:a";
	w.age = 9999;
	cr_expect(!prune_measured(pol, &w));
	prune_retain(pol, &w, 1);
	cr_expect_eq(w.act, PRUNE_KEEP);
	cr_expect_str_eq(w.reason, "never pruned");
	policy_free(pol);
}

/* kept: "sha256:k" by latest, "sha256:kid" (a kept index's child) by v1. */
static const char *
kept(void *ctx, const char *digest)
{
	(void)ctx;
	if (strcmp(digest, "sha256:k") == 0)
		return "latest";
	if (strcmp(digest, "sha256:kid") == 0)
		return "v1";
	return NULL;
}

Test(prune_decide, protection)
{
	static const struct {
		const char *tag, *digest;
		enum prune_action in, act;
		const char *reason, *by;
	} rows[] = {
		{ "dev-1", "sha256:k", PRUNE_DELETE, PRUNE_UNTAG, "expired; the image stays, kept by", "latest" },
		{ "dev-2", "sha256:kid", PRUNE_DELETE, PRUNE_UNTAG, "expired; the image stays, kept by", "v1" },
		{ "dev-3", "sha256:x", PRUNE_DELETE, PRUNE_DELETE, "expired", NULL },
		{ "dev-4", "sha256:x", PRUNE_DELETE, PRUNE_WITH, "expired; deleted with the image of", "dev-3" },
		{ "dev-5", "sha256:x", PRUNE_DELETE, PRUNE_WITH, "expired; deleted with the image of", "dev-3" },
		{ "latest", "sha256:k", PRUNE_KEEP, PRUNE_KEEP, "never pruned", NULL },
		{ "dev-6", "sha256:y", PRUNE_KEEP, PRUNE_KEEP, "within retention", NULL },
	};
	struct prune_row w[7];
	size_t i, n = sizeof(rows) / sizeof(rows[0]);

	for (i = 0; i < n; i++) {
		struct prune_row r = { rows[i].tag, rows[i].digest, D, 40, rows[i].in,
				       rows[i].in == PRUNE_KEEP ? rows[i].reason : "expired", NULL, "" };
		w[i] = r;
	}
	prune_protect(w, n, kept, NULL, NULL);
	for (i = 0; i < n; i++) {
		cr_expect_eq(w[i].act, rows[i].act, "%s: act %d", rows[i].tag, w[i].act);
		cr_expect_str_eq(w[i].reason, rows[i].reason, "%s", rows[i].tag);
		if (rows[i].by == NULL)
			cr_expect_null(w[i].by, "%s", rows[i].tag);
		else
			cr_expect_str_eq(w[i].by, rows[i].by, "%s", rows[i].tag);
	}
	/* A kept tag that could not be read: nothing goes by digest. */
	for (i = 0; i < n; i++) {
		struct prune_row r = { rows[i].tag, rows[i].digest, D, 40, rows[i].in,
				       rows[i].in == PRUNE_KEEP ? rows[i].reason : "expired", NULL, "" };
		w[i] = r;
	}
	prune_protect(w, n, kept, NULL, "stable");
	for (i = 0; i < n; i++) {
		enum prune_action want = rows[i].act == PRUNE_KEEP ? PRUNE_KEEP : PRUNE_UNTAG;
		cr_expect_eq(w[i].act, want, "%s (blind): act %d", rows[i].tag, w[i].act);
		if (rows[i].act == PRUNE_DELETE || rows[i].act == PRUNE_WITH) {
			cr_expect_str_eq(w[i].reason, "expired; only untagged: the kept tag", "%s", rows[i].tag);
			cr_expect_str_eq(w[i].by, "stable", "%s", rows[i].tag);
			cr_expect_str_eq(w[i].by_note, " could not be read (its image may be this one)");
		}
	}
}

/* Attachments follow their images: sha256-<k>.sig is kept with its kept
 * image (by "latest"); .att of the child of a kept index too; .sig of a
 * digest this run deletes goes after it (by the deleting tag); .sbom of
 * an image that is gone is swept; .sig of an image there but untagged is
 * kept; of one whose state is unknown, kept. With a blind spot, all are
 * kept. Two swept tags on one manifest: the first deletes it. */
#define H64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	       c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define KD "sha256:" H64("1")
#define KID "sha256:" H64("2")
#define XD "sha256:" H64("3")
#define GD "sha256:" H64("4")
#define UD "sha256:" H64("5")
#define QD "sha256:" H64("6")

static const char *
kept_att(void *ctx, const char *digest)
{
	(void)ctx;
	return strcmp(digest, KD) == 0 ? "latest" : strcmp(digest, KID) == 0 ? "v1" : NULL;
}

static const char *
goes_att(void *ctx, const char *digest)
{
	(void)ctx;
	return strcmp(digest, XD) == 0 ? "dev-3" : NULL;
}

static int
state_att(void *ctx, const char *digest)
{
	(void)ctx;
	return strcmp(digest, GD) == 0 ? 0 : strcmp(digest, UD) == 0 ? 1 : -1;
}

Test(prune_decide, attachments_follow_their_images)
{
	static const struct {
		const char *tag, *digest;
		enum prune_action act;
		const char *reason, *by, *note;
	} rows[] = {
		{ "sha256-" H64("1") ".sig", "sha256:s1", PRUNE_KEEP, "a signature, attestation or SBOM of",
		  KD, ": kept with its image" },
		{ "sha256-" H64("2") ".att", "sha256:s2", PRUNE_KEEP, "a signature, attestation or SBOM of",
		  KID, ": kept with its image" },
		{ "sha256-" H64("3") ".sig", "sha256:s3", PRUNE_AFTER, "deleted after its image, deleted with",
		  "dev-3", "" },
		{ "sha256-" H64("4") ".sbom", "sha256:s4", PRUNE_DELETE, "a signature, attestation or SBOM of",
		  GD, ": swept, its image is gone" },
		{ "sha256-" H64("4") ".sig", "sha256:s4", PRUNE_UNTAG, "a signature, attestation or SBOM of",
		  GD, ": swept, its image is gone" },
		{ "sha256-" H64("5") ".sig", "sha256:s5", PRUNE_KEEP, "a signature, attestation or SBOM of",
		  UD, ": kept, its image is in the repository (untagged)" },
		{ "sha256-" H64("6") ".sig", "sha256:s6", PRUNE_KEEP, "a signature, attestation or SBOM of",
		  QD, ": kept, subject state unknown" },
	};
	struct prune_row w[7];
	size_t i, n = sizeof(rows) / sizeof(rows[0]);

	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].tag = rows[i].tag;
		w[i].digest = rows[i].digest;
		w[i].cls = PRUNE_CLS_ATTACHMENT;
		w[i].reason = "a signature, attestation or SBOM: kept (not aged; it follows its image)";
	}
	prune_follow(w, n, kept_att, goes_att, state_att, NULL, NULL);
	for (i = 0; i < n; i++) {
		cr_expect_eq(w[i].act, rows[i].act, "%s: act %d", rows[i].tag, w[i].act);
		cr_expect_str_eq(w[i].reason, rows[i].reason, "%s", rows[i].tag);
		cr_expect_str_eq(w[i].by, rows[i].by, "%s", rows[i].tag);
		cr_expect_str_eq(w[i].by_note, rows[i].note, "%s", rows[i].tag);
	}
	for (i = 0; i < n; i++)
		w[i].act = PRUNE_KEEP;
	prune_follow(w, n, kept_att, goes_att, state_att, NULL, "stable");
	for (i = 0; i < n; i++) {
		cr_expect_eq(w[i].act, PRUNE_KEEP, "%s (blind)", rows[i].tag);
		if (i >= 2)
			cr_expect_str_eq(w[i].by_note, ": kept, subject state unknown (a kept tag could not "
					 "be read)", "%s", rows[i].tag);
	}
}
