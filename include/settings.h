/*
 * settings.h — the REGPUSH_* tunables, from one table (name, bounds,
 * default, what it is), read once from the environment by ghctx_resolve
 * and handed to the registry client, the engine layer and publish. A
 * value that is not a whole number within its bounds is refused (exit 2)
 * with a message naming the variable, the value and the bounds; unset or
 * empty is the default.
 */
#ifndef RP_SETTINGS_H
#define RP_SETTINGS_H

#include "util.h"

enum rp_setting {
	RS_HTTP_TIMEOUT = 0, /* seconds per HTTP request */
	RS_HTTP_ATTEMPTS,    /* tries of one HTTP request in all */
	RS_RETRY_BASE_MS,    /* first backoff, HTTP and engine retries */
	RS_TAGS_PAGE,        /* tags asked per page */
	RS_TAGS_TIMEOUT,     /* seconds for a whole tag listing */
	RS_ENGINE_TIMEOUT,   /* seconds per engine process */
	RS_ENGINE_ATTEMPTS,  /* runs of a failed upload in all */
	RS_SETTLE_MS,        /* least wait before the settling read */
	RS_COUNT
};

struct rp_settings {
	long v[RS_COUNT];
};

struct rp_setting_def {
	const char *name;    /* "REGPUSH_HTTP_TIMEOUT" */
	long min, max, def;
	const char *what;    /* "seconds per HTTP request" */
};

/* The table row of s. */
const struct rp_setting_def *settings_def(enum rp_setting s);

/* Every setting at its default. */
void settings_default(struct rp_settings *s);

/* Fills s from the environment; on a bad value RP_EINPUT with the
 * message, and s holds the defaults. */
rp_status settings_read(struct rp_settings *s, struct rp_err *err);

/* s's value of k, or the default when s is NULL (a caller that was given
 * no settings: tests, the fuzz targets). */
long settings_get(const struct rp_settings *s, enum rp_setting k);

#endif
