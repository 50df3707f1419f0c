/*
 * floating.c — forward-only floating tags. The registry's tags are the
 * only record of which releases exist, so every tag that reads as a
 * release written by regpush ("v1.2.3", "v1.2.3_build.5",
 * "staging-v1.2.3-rc.1") takes part; anything else is ignored.
 */
#include "floating.h"

#include <stdlib.h>
#include <string.h>

int
floating_parse_tag(const char *tag, int staging, struct semver *v)
{
	char buf[160], *u;
	const char *s = tag;

	if (staging) {
		if (strncmp(s, "staging-", 8) != 0)
			return -1;
		s += 8;
	}
	if (s[0] != 'v' || strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	/* Build metadata is the only place a '_' can come from. */
	if ((u = strchr(buf, '_')) != NULL)
		*u = '+';
	if (semver_parse(buf, 1, v) != SEMVER_OK)
		return -1;
	if (!staging && v->pre != NULL) {
		semver_free(v);
		return -1;
	}
	return 0;
}

const char *
floating_newest(const struct plan *p, const struct plan_tag *t,
		char *const *existing)
{
	const struct semver *mine = &p->semver;
	struct semver best;
	const char *found = NULL;
	size_t i;

	if (t->scope == SCOPE_NONE || p->version == NULL)
		return NULL;
	for (i = 0; existing != NULL && existing[i] != NULL; i++) {
		struct semver v;
		int in_scope;

		if (floating_parse_tag(existing[i], t->scope == SCOPE_STAGING, &v) != 0)
			continue;
		switch (t->scope) {
		case SCOPE_MINOR:
			in_scope = v.major == mine->major && v.minor == mine->minor;
			break;
		case SCOPE_MAJOR:
			in_scope = v.major == mine->major;
			break;
		default:
			in_scope = 1;
		}
		if (in_scope && semver_cmp(&v, mine) > 0 &&
		    (found == NULL || semver_cmp(&v, &best) > 0)) {
			if (found != NULL)
				semver_free(&best);
			best = v;
			found = existing[i];
		} else {
			semver_free(&v);
		}
	}
	if (found != NULL)
		semver_free(&best);
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
