/* The write decision, a pure function: one row per case. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "plan.h"
#include "policy.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const struct {
	const char *name;
	const char *ref;
	const char *current;  /* per plan tag: A (this run's digest), B (another), - (absent) */
	int present;          /* the image is in the repository by digest */
	const char *existing; /* the registry's tags, space separated */
	rp_status st;
	const char *acts;     /* per plan tag: w write, u unchanged, k keep */
	int upload;
	const char *msg;      /* for a refusal: the immutable tag that holds DB */
	int backwards;        /* --allow-backwards */
	const char *moved;    /* with backwards: the tags moved back, space separated */
} rows[] = {
	{ "first release", "refs/tags/v1.2.3", "----", 0, "", RP_OK, "wwww", 1, NULL },
	{ "rerun: nothing to write, no upload", "refs/tags/v1.2.3", "AAAA", 1,
	  "v1.2.3 v1.2 v1 latest", RP_OK, "uuuu", 0, NULL },
	{ "interrupted run: image there, tags missing", "refs/tags/v1.2.3", "A---", 1,
	  "v1.2.3", RP_OK, "uwww", 0, NULL },
	{ "image there untagged (an earlier upload): no upload", "refs/tags/v1.2.3", "----", 1,
	  "", RP_OK, "wwww", 0, NULL },
	{ "floating tags on an older release move", "refs/tags/v1.2.3", "-BBB", 0,
	  "v1.2.2 v1.2 v1 latest", RP_OK, "wwww", 1, NULL },
	{ "backport: latest kept", "refs/tags/v1.9.1", "----", 0,
	  "v2.0.0 v2.0 v2 latest", RP_OK, "wwwk", 1, NULL },
	{ "kept even when already on the digest", "refs/tags/v1.2.3", "AAAA", 1,
	  "v1.2.3 v1.2.4", RP_OK, "ukkk", 0, NULL },
	{ "everything kept but the release", "refs/tags/v1.2.3", "-BBB", 0,
	  "v1.2.4", RP_OK, "wkkk", 1, NULL },
	{ "immutable on another digest: refused", "refs/tags/v1.2.3", "B---", 0,
	  "v1.2.3", RP_EREFUSED, NULL, 0,
	  "v1.2.3" },
	{ "staging: immutable rc, staging-latest moves", "refs/tags/v2.0.0-rc.2", "-B", 0,
	  "staging-v2.0.0-rc.1", RP_OK, "ww", 1, NULL },
	{ "staging: rc.10 keeps staging-latest from rc.2", "refs/tags/v2.0.0-rc.2", "--", 0,
	  "staging-v2.0.0-rc.10", RP_OK, "wk", 1, NULL },
	{ "staging rerun refused on another digest", "refs/tags/v2.0.0-rc.2", "BB", 1,
	  "", RP_EREFUSED, NULL, 0,
	  "staging-v2.0.0-rc.2" },
	{ "development: no immutable tag, all written", "refs/heads/develop", "BB", 0,
	  "", RP_OK, "ww", 1, NULL },
	{ "development rerun", "refs/heads/develop", "AB", 1, "", RP_OK, "uw", 0, NULL },
	{ "rollback: floating tags move back to v1.2.5", "refs/tags/v1.2.5", "ABBB", 1,
	  "v1.2.5 v1.3.0 v1.3 v1 latest", RP_OK, "uwww", 0, NULL, 1, "v1 latest" },
	{ "rollback on the newest release moves nothing back", "refs/tags/v1.3.0", "AAAA", 1,
	  "v1.3.0", RP_OK, "uuuu", 0, NULL, 1, "" },
	{ "rollback never touches an immutable tag", "refs/tags/v1.2.5", "BBBB", 1,
	  "v1.2.5 v1.3.0", RP_EREFUSED, NULL, 0,
	  "v1.2.5", 1, NULL },
	{ "rollback of staging-latest", "refs/tags/v2.0.0-rc.2", "AB", 1,
	  "staging-v2.0.0-rc.2 staging-v2.0.0-rc.3", RP_OK, "uw", 0, NULL, 1, "staging-latest" },
};

static char **
split(const char *s)
{
	char **v = calloc(64, sizeof(*v)), *copy = strdup(s), *save = NULL, *t;
	size_t n = 0;

	for (t = strtok_r(copy, " ", &save); t != NULL && n < 63; t = strtok_r(NULL, " ", &save))
		v[n++] = strdup(t);
	free(copy);
	return v;
}

Test(decide, table)
{
	struct policy *pol = policy_default();
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct plan_input in = { .ref = rows[i].ref, .sha = "0123456789abcdef0123456789abcdef01234567",
					 .service = "svc", .prod_registry = "reg.example/org",
					 .dev_registry = "reg.example/dev" };
		struct plan *p = NULL;
		struct rp_err err = { 0, "" };
		struct decision d;
		struct reg_view v = { 0 };
		char cur[8][RP_DIGEST_MAX];
		rp_status st;

		cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s: %s", rows[i].name, err.msg);
		cr_assert_eq(p->ntags, strlen(rows[i].current), "%s", rows[i].name);
		for (k = 0; k < p->ntags; k++)
			snprintf(cur[k], sizeof(cur[k]), "%s", rows[i].current[k] == 'A' ? DA :
				 rows[i].current[k] == 'B' ? DB : "");
		v.current = cur;
		v.present = rows[i].present;
		v.existing = split(rows[i].existing);
		st = decide(p, DA, &v, rows[i].backwards, &d, &err);
		cr_expect_eq(st, rows[i].st, "%s: %s", rows[i].name, err.msg);
		if (st == RP_OK) {
			for (k = 0; k < p->ntags; k++) {
				char got = d.act[k] == ACT_WRITE ? 'w' : d.act[k] == ACT_UNCHANGED ? 'u' : 'k';
				cr_expect_eq(got, rows[i].acts[k], "%s: tag %s", rows[i].name, p->tags[k].name);
				if (rows[i].backwards) {
					char want[80];
					snprintf(want, sizeof(want), " %s ", p->tags[k].name);
					char have[200];
					snprintf(have, sizeof(have), " %s ", rows[i].moved);
					cr_expect_eq(d.blocker[k] != NULL, strstr(have, want) != NULL,
						     "%s: tag %s moved back", rows[i].name, p->tags[k].name);
					continue;
				}
				cr_expect_eq(d.blocker[k] != NULL, got == 'k', "%s: a kept tag names its blocker",
					     rows[i].name);
			}
			cr_expect_eq(d.upload, rows[i].upload, "%s: upload", rows[i].name);
		} else if (rows[i].msg != NULL) {
			/* The refusal says which tag holds what; publish words it. */
			cr_expect_str_eq(p->tags[d.refused_tag].name, rows[i].msg, "%s", rows[i].name);
			cr_expect_str_eq(d.refused_held, DB, "%s", rows[i].name);
			cr_expect_str_eq(err.msg, "", "%s: decide writes no sentence", rows[i].name);
		}
		decision_free(&d);
		decision_free(&d); /* safe twice */
		for (k = 0; v.existing[k] != NULL; k++)
			free(v.existing[k]);
		free(v.existing);
		plan_free(p);
	}
	policy_free(pol);
}

/* The settling rules: a fresh view after this run's PUTs, one row per
 * case. current as above; kept: per plan tag, k when the tag is kept;
 * want: per plan tag, - nothing, n onto a newer release (named in
 * newer), r back onto this run's image; or lost: the immutable tag
 * another run holds; off: the tag a verification of the same view names,
 * or NULL when every tag is where this run says. */
static const struct {
	const char *name;
	const char *ref;
	const char *current;
	const char *kept;
	const char *existing;
	int backwards;
	const char *want;
	const char *newer;
	const char *lost;
	const char *off;
} settle_rows[] = {
	{ "all settled", "refs/tags/v1.2.3", "AAAA", "----", "v1.2.3 v1.2 v1 latest", 0,
	  "----", NULL, NULL, NULL },
	{ "another run took the release tag", "refs/tags/v1.2.3", "BAAA", "----", "v1.2.3", 0,
	  NULL, NULL, "v1.2.3", "v1.2.3" },
	{ "the release tag vanished: also lost", "refs/tags/v1.2.3", "-AAA", "----", "", 0,
	  NULL, NULL, "v1.2.3", "v1.2.3" },
	{ "v1.2.4 appeared: v1.2, v1, latest go onto it", "refs/tags/v1.2.3", "AAAA", "----",
	  "v1.2.3 v1.2.4", 0, "-nnn", "v1.2.4", NULL, NULL },
	{ "v1.3.0 appeared: v1.2 stays, v1 and latest go", "refs/tags/v1.2.3", "AABB", "----",
	  "v1.2.3 v1.3.0", 0, "--nn", "v1.3.0", NULL, "v1" },
	{ "a lower run moved latest back: reclaimed", "refs/tags/v1.2.3", "AAAB", "----",
	  "v1.2.2 v1.2.3", 0, "---r", NULL, NULL, "latest" },
	{ "kept tags are left alone", "refs/tags/v1.2.3", "AABB", "--kk", "v1.2.3 v1.3.0", 0,
	  "----", NULL, NULL, NULL },
	{ "a rollback reclaims past newer releases", "refs/tags/v1.2.5", "AABB", "----",
	  "v1.2.5 v1.3.0", 1, "--rr", NULL, NULL, "v1" },
	{ "staging-latest onto a newer candidate", "refs/tags/v2.0.0-rc.2", "AA", "--",
	  "staging-v2.0.0-rc.2 staging-v2.0.0-rc.3", 0, "-n", "staging-v2.0.0-rc.3", NULL, NULL },
	{ "development tags have no scope: never reclaimed here", "refs/heads/develop", "BB", "--",
	  "", 0, "--", NULL, NULL, "dev-0123456" },
};

Test(decide, settling)
{
	struct policy *pol = policy_default();
	size_t i, k;

	for (i = 0; i < sizeof(settle_rows) / sizeof(settle_rows[0]); i++) {
		struct plan_input in = { .ref = settle_rows[i].ref,
					 .sha = "0123456789abcdef0123456789abcdef01234567",
					 .service = "svc", .prod_registry = "reg.example/org",
					 .dev_registry = "reg.example/dev" };
		struct plan *p = NULL;
		struct rp_err err = { 0, "" };
		struct settling s;
		struct reg_view v = { 0 };
		char cur[8][RP_DIGEST_MAX];
		unsigned char kept[8];
		size_t off;

		cr_assert_eq(plan_make(&in, pol, &p, &err), RP_OK, "%s: %s", settle_rows[i].name, err.msg);
		cr_assert_eq(p->ntags, strlen(settle_rows[i].current), "%s", settle_rows[i].name);
		for (k = 0; k < p->ntags; k++) {
			snprintf(cur[k], sizeof(cur[k]), "%s", settle_rows[i].current[k] == 'A' ? DA :
				 settle_rows[i].current[k] == 'B' ? DB : "");
			kept[k] = settle_rows[i].kept[k] == 'k';
		}
		v.current = cur;
		v.existing = split(settle_rows[i].existing);
		cr_assert_eq(settle_decide(p, DA, &v, kept, settle_rows[i].backwards, &s, &err), RP_OK,
			     "%s", settle_rows[i].name);
		if (settle_rows[i].lost != NULL) {
			cr_assert_neq(s.lost, SIZE_MAX, "%s: lost", settle_rows[i].name);
			cr_expect_str_eq(p->tags[s.lost].name, settle_rows[i].lost, "%s", settle_rows[i].name);
			cr_expect_null(s.act, "%s: nothing else decided", settle_rows[i].name);
		} else {
			cr_assert_eq(s.lost, SIZE_MAX, "%s: not lost", settle_rows[i].name);
			for (k = 0; k < p->ntags; k++) {
				char got = s.act[k] == SETTLE_ONTO_NEWER ? 'n' : s.act[k] == SETTLE_RECLAIM ? 'r' : '-';
				cr_expect_eq(got, settle_rows[i].want[k], "%s: tag %s", settle_rows[i].name,
					     p->tags[k].name);
				if (got == 'n')
					cr_expect_str_eq(s.newer[k], settle_rows[i].newer, "%s: tag %s",
							 settle_rows[i].name, p->tags[k].name);
			}
		}
		off = settle_check(p, DA, &v, kept);
		if (settle_rows[i].off == NULL)
			cr_expect_eq(off, SIZE_MAX, "%s: verified", settle_rows[i].name);
		else {
			cr_expect_neq(off, SIZE_MAX, "%s: verification fails", settle_rows[i].name);
			if (off != SIZE_MAX)
				cr_expect_str_eq(p->tags[off].name, settle_rows[i].off, "%s", settle_rows[i].name);
		}
		settling_free(&s);
		settling_free(&s); /* safe twice */
		for (k = 0; v.existing[k] != NULL; k++)
			free(v.existing[k]);
		free(v.existing);
		plan_free(p);
	}
	policy_free(pol);
}
