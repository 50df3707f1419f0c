/* The write decision, a pure function: one row per case. */
#include <criterion/criterion.h>
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
