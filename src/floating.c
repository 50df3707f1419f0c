/*
 * floating.c — forward-only floating tags. The registry's tags are the
 * only record of which releases exist, so every tag that reads as a
 * release written by regpush ("v1.2.3", "v1.2.3_build.5",
 * "staging-v1.2.3-rc.1", as tagscheme reads them) takes part; anything
 * else is ignored.
 */
#include "floating.h"

#include "tagscheme.h"

struct scope {
	const struct semver *mine;
	int scope;
};

/* In the floating tag's range, and higher than the plan's version. */
static int
above_mine(const struct semver *v, const void *ctx)
{
	const struct scope *s = ctx;

	switch (s->scope) {
	case SCOPE_MINOR:
		if (v->major != s->mine->major || v->minor != s->mine->minor)
			return 0;
		break;
	case SCOPE_MAJOR:
		if (v->major != s->mine->major)
			return 0;
		break;
	default:
		break;
	}
	return semver_cmp(v, s->mine) > 0;
}

const char *
floating_newest(const struct plan *p, const struct plan_tag *t,
		char *const *existing)
{
	struct scope s = { &p->semver, t->scope };
	const char *found;

	if (t->scope == SCOPE_NONE || p->version == NULL)
		return NULL;
	/* A release that could not be read (out of memory) may be the newer
	 * one: the tag stays where it is rather than risk going backwards. */
	if (tagscheme_newest(existing, t->scope == SCOPE_STAGING ? TN_CANDIDATE : TN_RELEASE,
			     above_mine, &s, &found, NULL) != 0)
		return t->name;
	return found;
}

int
floating_moves(const struct plan *p, const struct plan_tag *t,
	       char *const *existing, const char **blocker)
{
	const char *newest = floating_newest(p, t, existing);

	if (newest != NULL && blocker != NULL)
		*blocker = newest;
	return newest == NULL;
}
