/*
 * target.h — the repositories a command reads and writes, each named once:
 * host, path, the registry it is under (its role), the account that
 * reads it and the client opened for it. prune and audit take theirs from
 * the services (each service's development and production repositories)
 * or from every --repository.
 */
#ifndef RP_TARGET_H
#define RP_TARGET_H

#include "ghctx.h"
#include "policy.h"
#include "creds.h"
#include "registry.h"

/* At most 64 services (two repositories each) or 64 --repository. */
#define TARGET_MAX 128

struct target {
	char *host, *path;        /* owned: "quay.io", "kubernaut/gateway" */
	char *service;            /* owned: the service, or the path's last
				   * component for a --repository */
	int role;                 /* RP_ENV_DEVELOPMENT (under the development
				   * registry), RP_ENV_PRODUCTION, or -1 (under
				   * neither, or both) */
	const char *profile;      /* "dev", "release", or NULL: the auth files */
	struct reg_client *reg;   /* after target_open; owned */
};

/* The development (i 0) or production (1) registry, host[/org]: the
 * --dev-registry / --prod-registry override, else the policy's. */
const char *target_registry(const struct rp_opts *o, const struct policy *pol, int i);

/*
 * Fills ts (room for TARGET_MAX) and *n: every --repository, or each
 * service's development and production repository (the services of
 * --service repeated or input services, else the one service of the
 * context). Bad input is RP_EINPUT naming it. On failure what was filled
 * is still to be freed with target_free_all.
 */
rp_status target_select(const struct rp_opts *o, const struct policy *pol,
			struct target *ts, size_t *n, struct rp_err *err);

/* Opens t's client with its account (the profile's, else the auth
 * files'). */
rp_status target_open(const struct rp_opts *o, struct target *t, struct rp_err *err);

void target_free_all(struct target *ts, size_t n);

/* A registry client for host (repo: for the auth-file lookup), with
 * `account` when it has a username, else what the auth files hold for
 * host/repo; TLS and masking from the options. *out: reg_free. */
rp_status target_client(const struct rp_opts *o, const char *host, const char *repo,
			    const struct creds *account, struct reg_client **out,
			    struct rp_err *err);


#endif
