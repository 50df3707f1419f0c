/*
 * plan.c — classification of a GitHub context into an environment and
 * tags (CONTRACT §3), and the rules a plan alone can enforce (§4): staging
 * and production only from refs/tags/... and never from pull_request*
 * events, --test-name never on a release, and the policy's allowed
 * workflows.
 *
 * Every message quotes the offending value with rp_quote, so nothing a
 * user controls can break a log line.
 */
#include "plan.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgref.h"
#include "tagscheme.h"

int
plan_sha_valid(const char *sha)
{
	size_t i, n;

	if (sha == NULL)
		return 0;
	n = strlen(sha);
	if (n != 40 && n != 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = sha[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *
credentials_for(enum rp_env env)
{
	switch (env) {
	case RP_ENV_STAGING: return "staging";
	case RP_ENV_PRODUCTION: return "release";
	default: return "dev";
	}
}

/* Appends a tag (fitted to 128 characters) to the plan. */
static rp_status
add_tag(struct plan *p, const char *name, enum tag_kind kind, int scope,
	struct rp_err *err)
{
	struct plan_tag *nt;
	char *fit, q[160];

	if ((fit = tagscheme_fit(name)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (!imgref_tag_valid(fit)) {
		rp_fail(err, RP_EINPUT, "computed tag '%s' is not a valid tag",
			rp_quote(fit, 140, q, sizeof(q)));
		free(fit);
		return RP_EINPUT;
	}
	if ((nt = realloc(p->tags, (p->ntags + 1) * sizeof(*nt))) == NULL) {
		free(fit);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	p->tags = nt;
	nt = &p->tags[p->ntags];
	memset(nt, 0, sizeof(*nt));
	nt->name = fit;
	nt->kind = kind;
	nt->scope = scope;
	if ((nt->image = rp_asprintf("%s:%s", p->repository, fit)) == NULL) {
		free(fit);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	p->ntags++;
	return RP_OK;
}

/* A slug of user text for a tag; empty slugs are an input error. */
static rp_status
slug_tag(struct plan *p, const char *prefix, const char *text,
	 const char *what, struct rp_err *err)
{
	char *slug, *tag, q[160];
	rp_status st;

	if ((slug = tagscheme_slug(text)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (*slug == '\0') {
		free(slug);
		return rp_fail(err, RP_EINPUT,
			       "%s '%s' has no characters usable in a tag "
			       "(letters, digits, '.', '_' or '-')",
			       what, rp_quote(text, 80, q, sizeof(q)));
	}
	tag = rp_asprintf("%s%s", prefix, slug);
	free(slug);
	if (tag == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = add_tag(p, tag, TAG_FLOATING, SCOPE_NONE, err);
	free(tag);
	return st;
}

/* Checks the policy's allowed workflows for a staging or production run. */
static rp_status
check_workflow(const struct plan_input *in, const struct policy *pol,
	       enum rp_env env, struct rp_err *err)
{
	char *const *globs = pol->workflows[env];
	char q[200], list[512];
	size_t i;

	if (globs == NULL || globs[0] == NULL)
		return RP_OK;
	for (i = 0; rp_given(in->workflow_ref) && globs[i] != NULL; i++)
		if (fnmatch(globs[i], in->workflow_ref, 0) == 0)
			return RP_OK;
	list[0] = '\0';
	for (i = 0; globs[i] != NULL; i++) {
		char g[160];
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "",
			 rp_quote(globs[i], 100, g, sizeof(g)));
	}
	if (!rp_given(in->workflow_ref))
		return rp_fail(err, RP_EREFUSED,
			       "refused: the policy lets only named workflows push to %s (%s), "
			       "and GITHUB_WORKFLOW_REF is not set",
			       rp_env_name(env), list);
	return rp_fail(err, RP_EREFUSED,
		       "refused: workflow '%s' may not push to %s; the policy allows only: %s",
		       rp_quote(in->workflow_ref, 160, q, sizeof(q)),
		       rp_env_name(env), list);
}

/* Classifies refs/tags/<name>: staging or production, after the rules. */
static rp_status
classify_release(struct plan *p, const struct plan_input *in,
		 const struct policy *pol, const char *name, struct rp_err *err)
{
	char q[200];
	semver_err se;

	if (strncmp(in->event != NULL ? in->event : "", "pull_request", 12) == 0)
		return rp_fail(err, RP_EREFUSED,
			       "refused: staging and production are never reached from a "
			       "pull_request event (event '%s', ref '%s')",
			       rp_quote(in->event, 40, q, sizeof(q)),
			       rp_quote(in->ref, 100, q + 60, sizeof(q) - 60));
	if (rp_given(in->test_name))
		return rp_fail(err, RP_EREFUSED,
			       "refused: %s makes a test image, which is never "
			       "pushed from a tag ref ('%s')", rp_flag("test-name"),
			       rp_quote(in->ref, 150, q, sizeof(q)));
	if ((se = semver_parse(name, 1, &p->semver)) == SEMVER_NOMEM)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (se != SEMVER_OK)
		return rp_fail(err, RP_EINPUT,
			       "tag ref '%s' is not a SemVer 2.0.0 version: %s "
			       "(expected refs/tags/vX.Y.Z or refs/tags/vX.Y.Z-PRE)",
			       rp_quote(in->ref, 150, q, sizeof(q)),
			       semver_strerror(se));
	if ((p->version = rp_strdup(name[0] == 'v' ? name + 1 : name)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	p->env = p->semver.pre != NULL ? RP_ENV_STAGING : RP_ENV_PRODUCTION;
	return check_workflow(in, pol, p->env, err);
}

/* Release tags: vX.Y.Z, vX.Y, vX, latest; or the staging pair. Build
 * metadata is kept with '+' written as '_'. */
static rp_status
release_tags(struct plan *p, struct rp_err *err)
{
	static const struct { enum tn_kind name; enum tag_kind kind; int scope; } prod[] = {
		{ TN_RELEASE, TAG_IMMUTABLE, SCOPE_NONE }, { TN_MINOR, TAG_FLOATING, SCOPE_MINOR },
		{ TN_MAJOR, TAG_FLOATING, SCOPE_MAJOR }, { TN_LATEST, TAG_FLOATING, SCOPE_ALL_STABLE },
	}, staging[] = {
		{ TN_CANDIDATE, TAG_IMMUTABLE, SCOPE_NONE },
		{ TN_STAGING_LATEST, TAG_FLOATING, SCOPE_STAGING },
	};
	int stg = p->env == RP_ENV_STAGING;
	size_t i, n = stg ? sizeof(staging) / sizeof(staging[0]) : sizeof(prod) / sizeof(prod[0]);
	rp_status st = RP_OK;

	for (i = 0; i < n && st == RP_OK; i++) {
		char *tag = tagscheme_version(stg ? staging[i].name : prod[i].name, &p->semver);
		if (tag == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		st = add_tag(p, tag, stg ? staging[i].kind : prod[i].kind,
			     stg ? staging[i].scope : prod[i].scope, err);
		free(tag);
	}
	return st;
}

/* The PR number from refs/pull/<n>/merge or refs/pull/<n>/head. */
static long
pr_from_ref(const char *ref)
{
	char num[24];
	const char *p = ref + strlen("refs/pull/"), *slash = strchr(p, '/');
	long n;

	if (slash == NULL || (size_t)(slash - p) >= sizeof(num) ||
	    (strcmp(slash, "/merge") != 0 && strcmp(slash, "/head") != 0))
		return 0;
	memcpy(num, p, (size_t)(slash - p));
	num[slash - p] = '\0';
	if (num[0] == '0' || rp_parse_long(num, 1, 2147483647L, &n) != 0)
		return 0;
	return n;
}

/* Development tags: dev-<sha>, dev-latest, feature-<slug>. */
static rp_status
branch_tags(struct plan *p, const struct policy *pol, const char *branch,
	    struct rp_err *err)
{
	char *tag;
	size_t i;
	int moves_latest = 0;
	rp_status st;

	if ((tag = tagscheme_dev(pol, p->sha)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = add_tag(p, tag, TAG_PLAIN, SCOPE_NONE, err);
	free(tag);
	if (st != RP_OK)
		return st;
	for (i = 0; pol->dev_latest != NULL && pol->dev_latest[i] != NULL; i++)
		if (strcmp(pol->dev_latest[i], branch) == 0)
			moves_latest = 1;
	if (moves_latest &&
	    (st = add_tag(p, tagscheme_info(TN_DEV_LATEST)->prefix, TAG_FLOATING, SCOPE_NONE,
			  err)) != RP_OK)
		return st;
	if (starts_with(branch, pol->feature_prefix) &&
	    branch[strlen(pol->feature_prefix)] != '\0')
		return slug_tag(p, tagscheme_info(TN_FEATURE)->prefix, branch + strlen(pol->feature_prefix),
				"feature branch name", err);
	return RP_OK;
}

static rp_status
plan_labels(struct plan *p, const struct plan_input *in, struct rp_err *err)
{
	struct tm tm;
	char when[32];
	time_t now = in->now;
	const char *server = rp_given(in->server_url) ? in->server_url :
	    "https://github.com";
	size_t i;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return rp_fail(err, RP_EINPUT, "cannot format the creation time");
	if ((p->label_revision = rp_strdup(p->sha)) == NULL ||
	    (p->label_created = rp_strdup(when)) == NULL ||
	    (p->label_version = rp_strdup(p->version != NULL ? p->version :
					   p->tags[0].name)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; p->label_revision[i] != '\0'; i++)
		if (p->label_revision[i] >= 'A' && p->label_revision[i] <= 'F')
			p->label_revision[i] = (char)(p->label_revision[i] + 32);
	if (rp_given(in->repository) &&
	    (p->label_source = rp_asprintf("%s/%s", server, in->repository)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	return RP_OK;
}

/* Chooses the registry and checks that registry/service is a repository. */
static rp_status
plan_repository(struct plan *p, const struct plan_input *in,
		const struct policy *pol, struct rp_err *err)
{
	int prod = p->env == RP_ENV_STAGING || p->env == RP_ENV_PRODUCTION;
	const char *reg = prod ? (rp_given(in->prod_registry) ? in->prod_registry :
				  pol->registry[1]) :
	    (rp_given(in->dev_registry) ? in->dev_registry : pol->registry[0]);
	const char *flag = prod ? "prod-registry" : "dev-registry";
	struct imgref r;
	imgref_err e;
	char q[200];

	if ((e = imgref_parse_registry(reg, &r)) == IMGREF_NOMEM)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (e != IMGREF_OK)
		return rp_fail(err, RP_EINPUT, "invalid %s '%s': %s", flag,
			       rp_quote(reg, 150, q, sizeof(q)),
			       imgref_strerror(e));
	imgref_free(&r);
	if ((p->registry = rp_strdup(reg)) == NULL ||
	    (p->repository = rp_asprintf("%s/%s", reg, p->service)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((e = imgref_parse(p->repository, &r)) != IMGREF_OK || r.tag != NULL ||
	    r.digest != NULL || r.domain == NULL) {
		if (e == IMGREF_OK)
			e = IMGREF_PATH;
		imgref_free(&r);
		if (e == IMGREF_NOMEM)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		return rp_fail(err, RP_EINPUT, "invalid service '%s': %s",
			       rp_quote(p->service, 150, q, sizeof(q)),
			       imgref_strerror(e));
	}
	/* The repository as a client addresses it: host, and path below it. */
	p->host = r.domain;
	p->path = r.path;
	r.domain = r.path = NULL;
	imgref_free(&r);
	return RP_OK;
}

rp_status
plan_make(const struct plan_input *in, const struct policy *pol,
	  struct plan **out, struct rp_err *err)
{
	struct plan *p;
	const char *ref = in->ref;
	char q[200];
	int is_pr;
	rp_status st;

	*out = NULL;
	if (!rp_given(ref))
		return rp_fail(err, RP_EINPUT,
			       "no git ref: set --ref or GITHUB_REF "
			       "(e.g. refs/heads/develop or refs/tags/v1.2.3)");
	if (!rp_given(in->sha))
		return rp_fail(err, RP_EINPUT,
			       "no commit SHA: set --sha or GITHUB_SHA (40 or 64 hex digits)");
	if (!plan_sha_valid(in->sha))
		return rp_fail(err, RP_EINPUT,
			       "invalid commit SHA '%s': expected 40 or 64 hexadecimal digits",
			       rp_quote(in->sha, 80, q, sizeof(q)));
	if (strspn(in->sha, "0") == strlen(in->sha))
		return rp_fail(err, RP_EINPUT,
			       "invalid commit SHA '%s': the all-zero SHA names no commit "
			       "(git uses it for a deleted ref)", rp_quote(in->sha, 80, q, sizeof(q)));
	if (!rp_given(in->service))
		return rp_fail(err, RP_EINPUT,
			       "no service: set %s or GITHUB_REPOSITORY", rp_flag("service"));
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((p->ref = rp_strdup(ref)) == NULL ||
	    (p->sha = rp_strdup(in->sha)) == NULL ||
	    (in->event != NULL && (p->event = rp_strdup(in->event)) == NULL) ||
	    (p->service = rp_strdup(in->service)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto fail;
	}

	/* First the environment, then the repository, then the tags. */
	is_pr = in->event != NULL && strncmp(in->event, "pull_request", 12) == 0;
	if (starts_with(ref, "refs/tags/") && ref[10] != '\0') {
		st = classify_release(p, in, pol, ref + 10, err);
	} else if (is_pr || starts_with(ref, "refs/pull/")) {
		p->env = RP_ENV_TEST;
		p->pr_number = in->pr_number > 0 ? in->pr_number :
		    starts_with(ref, "refs/pull/") ? pr_from_ref(ref) : 0;
		st = RP_OK;
		if (p->pr_number <= 0 && !rp_given(in->test_name))
			st = rp_fail(err, RP_EINPUT,
				     "pull request number unknown: the event JSON "
				     "(GITHUB_EVENT_PATH) has no pull_request.number and "
				     "the ref '%s' is not refs/pull/<n>/merge",
				     rp_quote(ref, 120, q, sizeof(q)));
	} else if (starts_with(ref, "refs/heads/") && ref[11] != '\0') {
		p->env = rp_given(in->test_name) ? RP_ENV_TEST : RP_ENV_DEVELOPMENT;
		st = RP_OK;
	} else {
		st = rp_fail(err, RP_EINPUT,
			     "unsupported git ref '%s': expected refs/heads/<branch>, "
			     "refs/tags/vX.Y.Z[-PRE] or refs/pull/<n>/merge",
			     rp_quote(ref, 150, q, sizeof(q)));
	}
	if (st != RP_OK || (st = plan_repository(p, in, pol, err)) != RP_OK)
		goto fail;

	if (p->env == RP_ENV_STAGING || p->env == RP_ENV_PRODUCTION) {
		st = release_tags(p, err);
	} else if (rp_given(in->test_name)) {
		st = slug_tag(p, tagscheme_info(TN_TEST)->prefix, in->test_name, "test name", err);
	} else if (p->env == RP_ENV_TEST) {
		char *tag = rp_asprintf("%spr-%ld", tagscheme_info(TN_TEST)->prefix, p->pr_number);
		st = tag != NULL ? add_tag(p, tag, TAG_FLOATING, SCOPE_NONE, err) :
		    rp_fail(err, RP_ENOMEM, "out of memory");
		free(tag);
	} else {
		st = branch_tags(p, pol, ref + 11, err);
	}
	if (st != RP_OK || (st = plan_labels(p, in, err)) != RP_OK)
		goto fail;
	p->credentials = credentials_for(p->env);
	if (pol->retention[p->env] >= 0 && pol->retention_text[p->env] != NULL &&
	    (p->retention = rp_strdup(pol->retention_text[p->env])) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto fail;
	}
	*out = p;
	return RP_OK;
fail:
	plan_free(p);
	return st;
}

void
plan_free(struct plan *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ntags; i++) {
		free(p->tags[i].name);
		free(p->tags[i].image);
	}
	free(p->tags);
	free(p->registry);
	free(p->repository);
	free(p->host);
	free(p->path);
	free(p->service);
	free(p->version);
	semver_free(&p->semver);
	free(p->retention);
	free(p->ref);
	free(p->sha);
	free(p->event);
	free(p->label_revision);
	free(p->label_source);
	free(p->label_version);
	free(p->label_created);
	free(p);
}
