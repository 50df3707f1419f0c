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
#include "plan.h"
#include "policy.h"
#include "creds.h"
#include "registry.h"

#include <time.h>

/* At most 64 services (two repositories each) or 64 --repository. */
#define TARGET_MAX 128

struct target {
	char *host, *path;        /* owned: "quay.io", "kubernaut/gateway" */
	char *service;            /* owned: the service, or the path's last
				   * component for a --repository */
	int role;                 /* RP_ENV_DEVELOPMENT (under the development
				   * registry), RP_ENV_PRODUCTION, or -1 (under
				   * neither, or both) */
	const char *profile;      /* "dev", "staging", "release", or NULL: the
				   * auth files */
	struct creds account;     /* after target_open: the profile's robot
				   * (empty without one) */
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

/* t: the repository of service under registry (host[/org]), checked as
 * the plan checks it, to be read with profile's account (or NULL). */
rp_status target_at(const char *registry, const char *service, const char *profile,
		    struct target *t, struct rp_err *err);

/* t: the plan's repository, with the plan's account. */
rp_status target_plan(const struct plan *p, struct target *t, struct rp_err *err);

/* host/path is the registry location host[/org] or below it, component by
 * component. */
int target_under(const char *host, const char *path, const char *registry);

/* What prune and audit begin with: every robot's password masked, the
 * policy (*pol: policy_free), the clock (run_now) and the repositories
 * (target_select; target_free_all them whatever it returns). */
rp_status target_start(const struct rp_opts *o, struct policy **pol, time_t *now,
		       struct target *ts, size_t *n, struct rp_err *err);

/* Opens t's client with its account (the profile's, else the auth
 * files'). */
rp_status target_open(const struct rp_opts *o, struct target *t, struct rp_err *err);

void target_free(struct target *t);
void target_free_all(struct target *ts, size_t n);

/* A registry client for host (repo: for the auth-file lookup), with
 * `account` when it has a username, else what the auth files hold for
 * host/repo; TLS and masking from the options. *out: reg_free. */
rp_status target_client(const struct rp_opts *o, const char *host, const char *repo,
			    const struct creds *account, struct reg_client **out,
			    struct rp_err *err);


#endif
