/*
 * policy.h — the registry policy: registries, tag rules, retention and the
 * workflows allowed to reach staging and production. The built-in policy
 * is DD-REGISTRY-001, written as policy/default.yaml and embedded in the
 * binary; a user file (--policy) has the same schema and overlays it.
 */
#ifndef RP_POLICY_H
#define RP_POLICY_H

#include <stdint.h>

#include "util.h"

enum rp_env {
	RP_ENV_DEVELOPMENT = 0,
	RP_ENV_TEST,
	RP_ENV_STAGING,
	RP_ENV_PRODUCTION,
	RP_ENV_COUNT
};

/* "development", "test", "staging", "production". */
const char *rp_env_name(enum rp_env env);

/* Largest policy file accepted. */
#define POLICY_FILE_MAX (1024 * 1024)

struct policy {
	char *registry[2];        /* [0] development+test, [1] staging+production */
	int sha_length;           /* 7..64 */
	char **dev_latest;        /* branches that move dev-latest */
	char *feature_prefix;     /* "feature/" */
	int64_t retention[RP_ENV_COUNT]; /* seconds; -1 = never */
	char *retention_text[RP_ENV_COUNT]; /* "30d", "never" */
	char **workflows[RP_ENV_COUNT];  /* globs; empty = any (test/dev unused) */
};

/* Allocates a policy holding the built-in default. Returns NULL when out
 * of memory. Free with policy_free. */
struct policy *policy_default(void);

/* Overlays the YAML in `text` (len bytes; `name` is used in messages) on
 * pol. On error nothing in pol changes and err holds RP_EINPUT and
 * "name:line:column: message". */
rp_status policy_load_string(struct policy *pol, const char *name,
			     const char *text, size_t len, struct rp_err *err);

/* Reads `path` (a regular file of at most POLICY_FILE_MAX bytes) and
 * overlays it as policy_load_string does. */
rp_status policy_load_file(struct policy *pol, const char *path,
			   struct rp_err *err);

/* The effective policy as YAML in the file schema; caller frees. */
char *policy_dump(const struct policy *pol);

/* Parses "30d", "12h", "2w" or "never" into seconds (-1 for never).
 * Returns 0, or -1 for a malformed value. */
int policy_parse_duration(const char *s, int64_t *out);

/* The embedded default policy text. */
extern const char rp_default_policy[];

void policy_free(struct policy *pol);

#endif
