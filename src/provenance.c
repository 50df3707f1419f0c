/*
 * provenance.c — the SLSA provenance v1 predicate (see provenance.h), in
 * the shape of GitHub's workflow build type
 * (https://actions.github.io/buildtypes/workflow/v1), keys in the order
 * the SLSA schema lists them.
 */
#include "provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1234" and the like: a run id or attempt. */
static int
digits(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

rp_status
provenance_predicate(const struct rp_opts *o, const struct plan *p, json_t **out,
		     struct rp_err *err)
{
	const char *server = rp_given(o->server_url) ? o->server_url : "https://github.com";
	const char *repo = o->repository, *wf = o->workflow_ref;
	const char *run = rp_getenv("GITHUB_RUN_ID"), *attempt = rp_getenv("GITHUB_RUN_ATTEMPT");
	const char *at, *event = rp_given(o->event) ? o->event : "";
	char path[600], wref[400], builder[1200], source[1200], invocation[1200], q[300];
	size_t rl;

	*out = NULL;
	if (!rp_given(repo) || strchr(repo, '/') == NULL || strlen(repo) > 200)
		return rp_fail(err, RP_EINPUT, "attest: provenance needs GITHUB_REPOSITORY (owner/repo, "
			       "as every Actions run has it)");
	rl = strlen(repo);
	/* owner/repo/.github/workflows/x.yml@refs/heads/main */
	if (!rp_given(wf) || strncmp(wf, repo, rl) != 0 || wf[rl] != '/' ||
	    (at = strchr(wf + rl + 1, '@')) == NULL || at == wf + rl + 1 || at[1] == '\0' ||
	    (size_t)(at - (wf + rl + 1)) >= sizeof(path) || strlen(at + 1) >= sizeof(wref))
		return rp_fail(err, RP_EINPUT, "attest: provenance needs GITHUB_WORKFLOW_REF "
			       "(%s/PATH@REF, as every Actions run has it), not '%s'", repo,
			       rp_quote(rp_given(wf) ? wf : "", 200, q, sizeof(q)));
	if (!digits(run))
		return rp_fail(err, RP_EINPUT, "attest: provenance needs GITHUB_RUN_ID (digits, as "
			       "every Actions run has it), not '%s'",
			       rp_quote(run != NULL ? run : "", 60, q, sizeof(q)));
	if (!digits(attempt))
		attempt = "1";
	snprintf(path, sizeof(path), "%.*s", (int)(at - (wf + rl + 1)), wf + rl + 1);
	snprintf(wref, sizeof(wref), "%s", at + 1);
	snprintf(builder, sizeof(builder), "%s/%s", server, wf);
	snprintf(source, sizeof(source), "git+%s/%s@%s", server, repo, p->ref);
	snprintf(invocation, sizeof(invocation), "%s/%s/actions/runs/%s/attempts/%s", server, repo,
		 run, attempt);
	{
		char repo_url[600];
		snprintf(repo_url, sizeof(repo_url), "%s/%s", server, repo);
		*out = json_pack("{s:{s:s,s:{s:{s:s,s:s,s:s}},s:{s:{s:s}},s:[{s:s,s:{s:s}}]},"
				 "s:{s:{s:s},s:{s:s}}}",
				 "buildDefinition", "buildType",
				 "https://actions.github.io/buildtypes/workflow/v1",
				 "externalParameters", "workflow", "ref", wref, "repository", repo_url,
				 "path", path, "internalParameters", "github", "event_name", event,
				 "resolvedDependencies", "uri", source, "digest", "gitCommit", p->sha,
				 "runDetails", "builder", "id", builder, "metadata", "invocationId",
				 invocation);
	}
	return *out != NULL ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
}
