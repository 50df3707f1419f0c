/*
 * plan.h — the decision engine: GitHub context + policy -> plan.
 *
 * plan_make is a pure function: no environment, no files, no clock, no
 * network. Everything it needs is in struct plan_input, so it is tested
 * directly and push, promote and prune consume its result unchanged.
 */
#ifndef RP_PLAN_H
#define RP_PLAN_H

#include <stdint.h>
#include <time.h>

#include "policy.h"
#include "semver.h"
#include "util.h"

struct plan_input {
	const char *ref;          /* GITHUB_REF, e.g. refs/tags/v1.2.3 */
	const char *sha;          /* GITHUB_SHA (the PR head SHA for PRs) */
	const char *event;        /* GITHUB_EVENT_NAME or NULL */
	long pr_number;           /* from the event, 0 when none */
	const char *service;      /* already chosen (flag, input or repository) */
	const char *test_name;    /* --test-name or NULL */
	const char *workflow_ref; /* GITHUB_WORKFLOW_REF or NULL */
	const char *repository;   /* GITHUB_REPOSITORY (owner/name) or NULL */
	const char *server_url;   /* GITHUB_SERVER_URL or NULL (github.com) */
	const char *dev_registry; /* override of the policy's, or NULL */
	const char *prod_registry;
	time_t now;               /* for the created label */
};

enum tag_kind { TAG_PLAIN = 0, TAG_IMMUTABLE, TAG_FLOATING };

struct plan_tag {
	char *name;          /* bare tag */
	char *image;         /* <repository>:<name> */
	enum tag_kind kind;
	/* For floating release tags: which releases it ranges over, so push can
	 * check "moves only forward" against the registry. */
	enum { SCOPE_NONE = 0, SCOPE_MINOR, SCOPE_MAJOR, SCOPE_ALL_STABLE,
	       SCOPE_STAGING } scope;
};

struct plan {
	enum rp_env env;
	char *registry;        /* host[/org] */
	char *repository;      /* <registry>/<service> */
	char *host, *path;     /* repository split: "quay.io", "kubernaut/gateway" */
	char *service;
	char *version;         /* SemVer without v (with +build), or NULL */
	struct semver semver;  /* valid when version != NULL */
	struct plan_tag *tags; /* in push order */
	size_t ntags;
	char *retention;       /* "30d", or NULL when kept forever */
	const char *credentials; /* "dev", "staging", "release" (static) */
	char *ref, *sha, *event;
	long pr_number;
	char *label_revision, *label_source, *label_version, *label_created;
};

/*
 * Builds the plan. Returns RP_OK and a new plan in *out (plan_free), or
 * RP_EINPUT (invalid ref, SHA, service, test name...) / RP_EREFUSED (an
 * environment this context may not reach) with err set and *out NULL.
 */
rp_status plan_make(const struct plan_input *in, const struct policy *pol,
		    struct plan **out, struct rp_err *err);

void plan_free(struct plan *p);

/* Validates a commit SHA: 40 or 64 hex digits. */
int plan_sha_valid(const char *sha);

#endif
