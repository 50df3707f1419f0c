/* audit_check: the drift rules, one repository per case, exact findings. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "policy.h"

#define DEV RP_ENV_DEVELOPMENT
#define PROD RP_ENV_PRODUCTION

/* A row: tag, digest, flags "i" index, "r" revision label, "u" whether
 * there is one unknown (no image config to read), "x" expires, "m" an
 * entry missing; prune's act. */
struct r {
	const char *tag, *digest, *flags;
	enum prune_action act;
	long age;
};

/* The findings of rows in a repository of role, as "tag kind: message\n"
 * lines. */
static char *
check(int role, const struct r *rows, size_t n)
{
	static const char *const regs[2] = { "quay.io/jordigilh", "quay.io/kubernaut" };
	struct policy *pol = policy_default();
	struct audit_row w[32];
	struct audit_finding *f = NULL;
	size_t nf = 0, i;
	struct rp_err err;
	char *s = strdup(""), *t;

	cr_assert(n <= 32);
	memset(w, 0, sizeof(w));
	for (i = 0; i < n; i++) {
		w[i].tag = rows[i].tag;
		w[i].digest = rows[i].digest;
		w[i].is_index = strchr(rows[i].flags, 'i') != NULL;
		w[i].has_revision = strchr(rows[i].flags, 'u') != NULL ? -1 :
		    strchr(rows[i].flags, 'r') != NULL;
		w[i].expires = strchr(rows[i].flags, 'x') != NULL;
		w[i].missing = strchr(rows[i].flags, 'm') != NULL ? "sha256:gone" : NULL;
		w[i].unsigned_why = strchr(rows[i].flags, 's') != NULL ? "1 signature: 1 by another key" :
		    NULL;
		w[i].prune.act = rows[i].act;
		w[i].prune.age = rows[i].age;
	}
	cr_assert_eq(audit_check(pol, role, regs, w, n, &f, &nf, &err), RP_OK, "%s", err.msg);
	for (i = 0; i < nf; i++) {
		cr_assert(asprintf(&t, "%s%s %s%s: %s\n", s, w[f[i].row].tag, audit_kind_error(f[i].kind) ? "E " : "",
				   audit_kind_name(f[i].kind), f[i].message) > 0);
		free(s);
		s = t;
		free(f[i].message);
	}
	free(f);
	policy_free(pol);
	return s;
}

Test(audit_check, floating_lines)
{
	static const struct r rows[] = {
		{ "latest", "sha256:b", "r", PRUNE_KEEP, 0 },
		{ "v1", "sha256:b", "r", PRUNE_KEEP, 0 },      /* newest v1: v1.2.0 -> b */
		{ "v1.1", "sha256:a", "r", PRUNE_KEEP, 0 },    /* newest v1.1: v1.1.0_b.2 ~ v1.1.0, tie: a or c */
		{ "v1.1.0", "sha256:c", "r", PRUNE_KEEP, 0 },
		{ "v1.1.0_b.2", "sha256:a", "r", PRUNE_KEEP, 0 },
		{ "v1.2", "sha256:a", "r", PRUNE_KEEP, 0 },    /* behind v1.2.0 */
		{ "v1.2.0", "sha256:b", "r", PRUNE_KEEP, 0 },
		{ "v3", "sha256:b", "r", PRUNE_KEEP, 0 },      /* no v3.*.* */
		{ "staging-latest", "sha256:a", "", PRUNE_KEEP, 0 },
		{ "staging-v1.2.0-rc.1", "sha256:b", "", PRUNE_KEEP, 0 },
		{ "staging-v1.2.0-rc.2", "sha256:c", "", PRUNE_KEEP, 0 },
	};
	char *got = check(PROD, rows, sizeof(rows) / sizeof(rows[0]));

	cr_expect_str_eq(got,
		"v1.2 E floating-behind: v1.2 is not on the newest release of its line, v1.2.0 (v1.2 is on sha256:a, v1.2.0 on sha256:b)\n"
		"v3 E floating-behind: v3 names no release: no vX.Y.Z of its line in the repository\n"
		"staging-latest E floating-behind: staging-latest is not on the newest release of its line, staging-v1.2.0-rc.2 (staging-latest is on sha256:a, staging-v1.2.0-rc.2 on sha256:c)\n");
	free(got);
}

/* Where each tag belongs, and what a release image must carry. */
Test(audit_check, placement_and_labels)
{
	static const struct r dev[] = {
		{ "dev-0123abc", "sha256:a", "", PRUNE_KEEP, 0 },
		{ "dev-latest", "sha256:a", "", PRUNE_KEEP, 0 },
		{ "feature-login", "sha256:a", "x", PRUNE_KEEP, 0 },   /* expiring is fine in development */
		{ "test-pr-7", "sha256:a", "", PRUNE_KEEP, 0 },
		{ "v1.0.0", "sha256:a", "", PRUNE_KEEP, 0 },           /* no revision: not checked here */
		{ "latest", "sha256:a", "", PRUNE_KEEP, 0 },
		{ "staging-v1.0.0-rc.1", "sha256:a", "", PRUNE_KEEP, 0 },
	}, prod[] = {
		{ "dev-latest", "sha256:a", "", PRUNE_KEEP, 0 },
		{ "test-x", "sha256:a", "", PRUNE_KEEP, 0 },
		{ "v1.0.0", "sha256:a", "x", PRUNE_KEEP, 0 },
		{ "v1.0", "sha256:a", "rx", PRUNE_KEEP, 0 },
		{ "v2.0.0", "sha256:b", "r", PRUNE_KEEP, 0 },
		{ "staging-v2.0.0-rc.1", "sha256:c", "rx", PRUNE_KEEP, 0 }, /* staging may expire */
		{ "v3.0.0", "sha256:d", "iu", PRUNE_KEEP, 0 }, /* an index of indexes: unknown */
	};
	char *got = check(DEV, dev, sizeof(dev) / sizeof(dev[0]));

	cr_expect_str_eq(got,
		"v1.0.0 E misplaced: v1.0.0 is a production tag in the development repository; production images go to quay.io/kubernaut\n"
		"latest E misplaced: latest is a production tag in the development repository; production images go to quay.io/kubernaut\n"
		"staging-v1.0.0-rc.1 E misplaced: staging-v1.0.0-rc.1 is a staging tag in the development repository; staging images go to quay.io/kubernaut\n");
	free(got);
	got = check(PROD, prod, sizeof(prod) / sizeof(prod[0]));
	cr_expect_str_eq(got,
		"dev-latest E misplaced: dev-latest is a development tag in the production repository; development images go to quay.io/jordigilh\n"
		"test-x E misplaced: test-x is a test tag in the production repository; test images go to quay.io/jordigilh\n"
		"v1.0.0 E expiring-release: v1.0.0's image carries quay.expires-after: Quay would delete a release kept forever\n"
		"v1.0.0 E no-revision: v1.0.0's image has no org.opencontainers.image.revision label: nothing says which commit it was built from\n"
		"v1.0 E expiring-release: v1.0's image carries quay.expires-after: Quay would delete a release kept forever\n"
		"v2.0.0 rebuilt: v2.0.0 is on none of the images of its 1 candidate (staging-v2.0.0-rc.1): it was rebuilt, not promoted\n");
	free(got);
}

/* Hygiene: what prune would do, tags of no pattern, indexes missing an
 * entry, unreadable tags; a rebuilt release only when candidates exist. */
Test(audit_check, warnings)
{
	static const struct r rows[] = {
		{ "dev-1111111", "sha256:a", "", PRUNE_DELETE, 31 },
		{ "dev-2222222", "sha256:a", "", PRUNE_WITH, 31 },
		{ "feature-x", "sha256:k", "", PRUNE_UNTAG, 40 },
		{ "dev-latest", "sha256:k", "", PRUNE_KEEP, 0 },
		{ "nightly", "sha256:k", "", PRUNE_KEEP, 0 },
		{ "sha256-abc.sig", "sha256:s", "", PRUNE_KEEP, 0 },
		{ "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig", "sha256:s", "", PRUNE_KEEP, 0 }, /* cosign's: follows its image */
		{ "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.att", "sha256:s", "", PRUNE_KEEP, 0 },
		{ "test-multi", "sha256:i", "im", PRUNE_KEEP, 0 },
		{ "test-gone", "", "", PRUNE_KEEP, 0 },
	};
	char *got = check(DEV, rows, sizeof(rows) / sizeof(rows[0]));

	cr_expect_str_eq(got,
		"dev-1111111 expired: dev-1111111 is past development retention (31 days old): prune would delete its image\n"
		"dev-2222222 expired: dev-2222222 is past development retention (31 days old): prune would delete it with its image\n"
		"feature-x expired: feature-x is past development retention (40 days old): prune would untag it (its image stays)\n"
		"nightly no-pattern: nightly matches no pattern of the policy (kept by prune)\n"
		"sha256-abc.sig no-pattern: sha256-abc.sig matches no pattern of the policy (kept by prune)\n"
		"test-multi missing-child: test-multi is an index whose entry sha256:gone is gone: it cannot be pulled\n"
		"test-gone unreadable: test-gone is listed but its manifest cannot be read\n");
	free(got);
}

/* Nothing wrong: no finding. An unreadable floating tag is only
 * unreadable, not behind. */
Test(audit_check, clean)
{
	static const struct r rows[] = {
		{ "latest", "sha256:b", "r", PRUNE_KEEP, 0 },
		{ "v1", "sha256:b", "r", PRUNE_KEEP, 0 },
		{ "v1.0", "", "", PRUNE_KEEP, 0 },
		{ "v1.0.0", "sha256:b", "ir", PRUNE_KEEP, 0 },
		{ "staging-v1.0.0-rc.1", "sha256:b", "", PRUNE_KEEP, 0 },
		{ "staging-latest", "sha256:b", "", PRUNE_KEEP, 0 },
	};
	char *got = check(PROD, rows, sizeof(rows) / sizeof(rows[0]));

	cr_expect_str_eq(got, "v1.0 unreadable: v1.0 is listed but its manifest cannot be read\n");
	free(got);
	cr_expect(audit_kind_error(AK_NO_REVISION));
	cr_expect(audit_kind_error(AK_UNSIGNED));
	cr_expect(!audit_kind_error(AK_NO_PATTERN));
	cr_expect_str_eq(audit_kind_name(AK_COUNT), "?");
}

/* With verify keys (flag "s": what audit.c found its signatures lack): a
 * staging or production tag in the production repository is an error;
 * in development, or on a tag of no such class, nothing. */
Test(audit_check, unsigned_releases)
{
	static const struct r prod[] = {
		{ "v1.0.0", "sha256:a", "rs", PRUNE_KEEP, 0 },
		{ "latest", "sha256:a", "rs", PRUNE_KEEP, 0 },
		{ "staging-v1.0.0-rc.1", "sha256:a", "rs", PRUNE_KEEP, 0 },
		{ "nightly", "sha256:a", "s", PRUNE_KEEP, 0 },
	}, dev[] = {
		{ "dev-0123abc", "sha256:a", "s", PRUNE_KEEP, 0 },
	};
	char *got = check(PROD, prod, sizeof(prod) / sizeof(prod[0]));

	cr_expect_str_eq(got,
		"v1.0.0 E unsigned: v1.0.0's image sha256:a has no valid signature by the verify keys: 1 signature: 1 by another key\n"
		"latest E unsigned: latest's image sha256:a has no valid signature by the verify keys: 1 signature: 1 by another key\n"
		"staging-v1.0.0-rc.1 E unsigned: staging-v1.0.0-rc.1's image sha256:a has no valid signature by the verify keys: 1 signature: 1 by another key\n"
		"nightly no-pattern: nightly matches no pattern of the policy (kept by prune)\n");
	free(got);
	got = check(DEV, dev, 1);
	cr_expect_str_eq(got, "");
	free(got);
}
