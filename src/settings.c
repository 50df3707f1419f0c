/*
 * settings.c — the REGPUSH_* tunables (see settings.h). The one place
 * their names, bounds and defaults are written; docs/internals.md lists
 * the same table.
 */
#include "settings.h"

#include <stdlib.h>

static const struct rp_setting_def table[RS_COUNT] = {
	[RS_HTTP_TIMEOUT] = { "REGPUSH_HTTP_TIMEOUT", 1, 3600, 60, "seconds per HTTP request" },
	[RS_HTTP_ATTEMPTS] = { "REGPUSH_HTTP_ATTEMPTS", 1, 20, 5, "tries of one HTTP request in all" },
	[RS_RETRY_BASE_MS] = { "REGPUSH_RETRY_BASE_MS", 1, 60000, 1000,
			       "milliseconds of the first backoff (HTTP and engine retries)" },
	[RS_TAGS_PAGE] = { "REGPUSH_TAGS_PAGE", 1, 10000, 1000, "tags asked per page" },
	[RS_TAGS_TIMEOUT] = { "REGPUSH_TAGS_TIMEOUT", 1, 86400, 300, "seconds for a whole tag listing" },
	[RS_ENGINE_TIMEOUT] = { "REGPUSH_ENGINE_TIMEOUT", 1, 86400, 900, "seconds per engine process" },
	[RS_ENGINE_ATTEMPTS] = { "REGPUSH_ENGINE_ATTEMPTS", 1, 10, 3, "runs of a failed upload in all" },
	[RS_SETTLE_MS] = { "REGPUSH_SETTLE_MS", 0, 60000, 100,
			   "least milliseconds before the settling read" },
};

const struct rp_setting_def *
settings_def(enum rp_setting s)
{
	return &table[s];
}

void
settings_default(struct rp_settings *s)
{
	size_t i;

	for (i = 0; i < RS_COUNT; i++)
		s->v[i] = table[i].def;
}

rp_status
settings_read(struct rp_settings *s, struct rp_err *err)
{
	size_t i;
	char q[64];

	settings_default(s);
	for (i = 0; i < RS_COUNT; i++) {
		const char *v = getenv(table[i].name);
		long n;
		if (v == NULL || *v == '\0')
			continue;
		if (rp_parse_long(v, table[i].min, table[i].max, &n) != 0) {
			settings_default(s);
			return rp_fail(err, RP_EINPUT, "%s='%s' is not a whole number from %ld to %ld (%s; "
				       "default %ld): fix or unset it", table[i].name,
				       rp_quote(v, 40, q, sizeof(q)), table[i].min, table[i].max,
				       table[i].what, table[i].def);
		}
		s->v[i] = n;
	}
	return RP_OK;
}

long
settings_get(const struct rp_settings *s, enum rp_setting k)
{
	return s != NULL ? s->v[k] : table[k].def;
}
