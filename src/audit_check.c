/*
 * audit_check.c — the drift rules of `regpush audit` over the rows of one
 * repository (see audit.h). Pure: tag names are read with tagscheme,
 * prune's decision comes in with the row.
 *
 * A floating tag's line is where floating.c would put it: `latest` on the
 * newest vX.Y.Z, `vX` on the newest vX.*.*, `vX.Y` on the newest vX.Y.*,
 * `staging-latest` on the newest staging-v*; a tie in precedence (build
 * metadata only) is satisfied by either image.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "tagscheme.h"

static const char *const names[AK_COUNT] = {
	[AK_FLOATING] = "floating-behind",
	[AK_MISPLACED] = "misplaced",
	[AK_EXPIRING] = "expiring-release",
	[AK_NO_REVISION] = "no-revision",
	[AK_UNSIGNED] = "unsigned",
	[AK_NO_PATTERN] = "no-pattern",
	[AK_EXPIRED] = "expired",
	[AK_REBUILT] = "rebuilt",
	[AK_MISSING_CHILD] = "missing-child",
	[AK_UNREADABLE] = "unreadable",
};

const char *
audit_kind_name(enum audit_kind k)
{
	return (unsigned)k < AK_COUNT ? names[k] : "?";
}

int
audit_kind_error(enum audit_kind k)
{
	return k <= AK_UNSIGNED;
}

struct ctx {
	const struct audit_row *rows;
	size_t nrows;
	char **tags;                 /* the rows' tags, NULL-terminated */
	struct audit_finding **out;
	size_t *n;
};

static rp_status
add(struct ctx *c, size_t row, enum audit_kind k, char *msg, struct rp_err *err)
{
	struct audit_finding *f;

	if (msg == NULL || (f = realloc(*c->out, (*c->n + 1) * sizeof(*f))) == NULL) {
		free(msg);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	*c->out = f;
	f[*c->n].row = row;
	f[*c->n].kind = k;
	f[*c->n].message = msg;
	(*c->n)++;
	return RP_OK;
}

static const char *
digest_of(const struct ctx *c, const char *tag)
{
	size_t i;

	for (i = 0; i < c->nrows; i++)
		if (strcmp(c->rows[i].tag, tag) == 0)
			return c->rows[i].digest;
	return "";
}

/* The line of a floating tag: which releases it ranges over. */
struct line {
	enum tn_kind kind;     /* of the floating tag */
	const struct semver *v;
};

static int
in_line(const struct semver *v, const void *ctx)
{
	const struct line *l = ctx;

	switch (l->kind) {
	case TN_MINOR:
		return v->major == l->v->major && v->minor == l->v->minor;
	case TN_MAJOR:
		return v->major == l->v->major;
	default:
		return 1;
	}
}

/* A floating release tag (TN_MINOR, TN_MAJOR, TN_LATEST, TN_STAGING_LATEST)
 * not on the newest release of its line. */
static rp_status
check_floating(struct ctx *c, size_t i, const struct tn_name *n, struct rp_err *err)
{
	const struct audit_row *w = &c->rows[i];
	struct line l = { n->kind, &n->v };
	enum tn_kind of = n->kind == TN_STAGING_LATEST ? TN_CANDIDATE : TN_RELEASE;
	const char *best, *tie, *bd;

	if (tagscheme_newest(c->tags, of, in_line, &l, &best, &tie) != 0)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (best == NULL)
		return add(c, i, AK_FLOATING,
			   rp_asprintf("%s names no release: no %s of its line in the repository",
				       w->tag, tagscheme_info(of)->name), err);
	bd = digest_of(c, best);
	if (bd[0] == '\0' || strcmp(bd, w->digest) == 0 ||
	    (tie != NULL && strcmp(digest_of(c, tie), w->digest) == 0))
		return RP_OK;
	return add(c, i, AK_FLOATING,
		   rp_asprintf("%s is not on the newest release of its line, %s (%s is on %s, %s on %s)",
			       w->tag, best, w->tag, w->digest, best, bd), err);
}

/* A release vX.Y.Z on none of the images of its staging-vX.Y.Z-*
 * candidates, while there are some: rebuilt rather than promoted. */
static rp_status
check_rebuilt(struct ctx *c, size_t i, const struct tn_name *n, struct rp_err *err)
{
	const struct audit_row *w = &c->rows[i];
	size_t k, cands = 0;
	struct tn_name m;
	const char *one = NULL;

	for (k = 0; k < c->nrows; k++) {
		int r = tagscheme_read(NULL, c->rows[k].tag, &m);
		if (r < 0)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		if (r == TN_CANDIDATE && m.v.pre != NULL && m.v.major == n->v.major &&
		    m.v.minor == n->v.minor && m.v.patch == n->v.patch) {
			cands++;
			one = c->rows[k].tag;
			if (strcmp(c->rows[k].digest, w->digest) == 0) {
				tagscheme_name_free(&m);
				return RP_OK;
			}
		}
		tagscheme_name_free(&m);
	}
	if (cands == 0)
		return RP_OK;
	return add(c, i, AK_REBUILT,
		   rp_asprintf("%s is on none of the images of its %zu candidate%s (%s%s): it was "
			       "rebuilt, not promoted", w->tag, cands, cands == 1 ? "" : "s", one,
			       cands > 1 ? ", ..." : ""), err);
}

static rp_status
check_row(struct ctx *c, const struct policy *pol, int role, const char *const registries[2],
	  size_t i, struct rp_err *err)
{
	const struct audit_row *w = &c->rows[i];
	struct tn_name n;
	const struct tn_info *t;
	int k = tagscheme_read(pol, w->tag, &n);
	int prod_tag;
	rp_status st = RP_OK;

	if (k < 0)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	t = tagscheme_info((enum tn_kind)k);
	prod_tag = k != TN_OTHER && (t->env == RP_ENV_STAGING || t->env == RP_ENV_PRODUCTION);
	/* Errors. */
	if (k != TN_OTHER && w->digest[0] != '\0' && role == RP_ENV_PRODUCTION && t->floating &&
	    prod_tag)
		st = check_floating(c, i, &n, err);
	if (st == RP_OK && k != TN_OTHER && role == RP_ENV_DEVELOPMENT && prod_tag)
		st = add(c, i, AK_MISPLACED,
			 rp_asprintf("%s is a %s tag in the development repository; %s images go to %s",
				     w->tag, rp_env_name(t->env), rp_env_name(t->env), registries[1]), err);
	if (st == RP_OK && k != TN_OTHER && role == RP_ENV_PRODUCTION && !prod_tag)
		st = add(c, i, AK_MISPLACED,
			 rp_asprintf("%s is a %s tag in the production repository; %s images go to %s",
				     w->tag, rp_env_name(t->env), rp_env_name(t->env), registries[0]), err);
	if (st == RP_OK && w->digest[0] != '\0' && role == RP_ENV_PRODUCTION && k != TN_OTHER &&
	    t->env == RP_ENV_PRODUCTION && w->expires)
		st = add(c, i, AK_EXPIRING,
			 rp_asprintf("%s's image carries quay.expires-after: Quay would delete a release "
				     "kept forever", w->tag), err);
	if (st == RP_OK && w->digest[0] != '\0' && role == RP_ENV_PRODUCTION && k == TN_RELEASE &&
	    w->has_revision == 0)
		st = add(c, i, AK_NO_REVISION,
			 rp_asprintf("%s's image has no org.opencontainers.image.revision label: nothing "
				     "says which commit it was built from", w->tag), err);
	if (st == RP_OK && w->digest[0] != '\0' && role == RP_ENV_PRODUCTION && prod_tag &&
	    w->unsigned_why != NULL)
		st = add(c, i, AK_UNSIGNED,
			 rp_asprintf("%s's image %s has no valid signature by the verify keys: %s",
				     w->tag, w->digest, w->unsigned_why), err);
	/* Warnings. */
	/* cosign's attachment tags follow their images: no pattern needed. */
	if (st == RP_OK && k == TN_OTHER && !tagscheme_attachment(w->tag, NULL))
		st = add(c, i, AK_NO_PATTERN,
			 rp_asprintf("%s matches no pattern of the policy (kept by prune)", w->tag), err);
	if (st == RP_OK && w->prune.act != PRUNE_KEEP)
		st = add(c, i, AK_EXPIRED,
			 rp_asprintf("%s is past %s retention (%ld days old): prune would %s", w->tag,
				     rp_env_name(t->env), w->prune.age,
				     w->prune.act == PRUNE_UNTAG ? "untag it (its image stays)" :
				     w->prune.act == PRUNE_WITH ? "delete it with its image" :
				     "delete its image"), err);
	if (st == RP_OK && w->digest[0] != '\0' && role == RP_ENV_PRODUCTION && k == TN_RELEASE)
		st = check_rebuilt(c, i, &n, err);
	if (st == RP_OK && w->digest[0] != '\0' && w->is_index && w->missing != NULL)
		st = add(c, i, AK_MISSING_CHILD,
			 rp_asprintf("%s is an index whose entry %s is gone: it cannot be pulled", w->tag,
				     w->missing), err);
	if (st == RP_OK && w->digest[0] == '\0')
		st = add(c, i, AK_UNREADABLE,
			 rp_asprintf("%s is listed but its manifest cannot be read", w->tag), err);
	tagscheme_name_free(&n);
	return st;
}

rp_status
audit_check(const struct policy *pol, int role, const char *const registries[2],
	    const struct audit_row *rows, size_t nrows,
	    struct audit_finding **out, size_t *n, struct rp_err *err)
{
	struct ctx c = { rows, nrows, NULL, out, n };
	size_t i;
	rp_status st = RP_OK;

	if ((c.tags = calloc(nrows + 1, sizeof(*c.tags))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	/* tagscheme_newest reads names only; the rows' strings stay theirs. */
	for (i = 0; i < nrows; i++)
		c.tags[i] = (char *)rows[i].tag;
	for (i = 0; i < nrows && st == RP_OK; i++)
		st = check_row(&c, pol, role, registries, i, err);
	free(c.tags);
	return st;
}
