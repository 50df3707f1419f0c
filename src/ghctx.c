/*
 * ghctx.c — where every option's value comes from, and the event JSON.
 *
 * Resolution order per option: the CLI flag, then the action input
 * (INPUT_<NAME>, read with getenv because the runner keeps hyphens), then
 * the environment fallback of CONTRACT §2. Empty strings count as not
 * given. Every value is bounded by RP_VALUE_MAX so a 1 MiB variable is a
 * clear error, not a 1 MiB log line.
 */
#include "ghctx.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "imgref.h"

const char *
ghctx_input(const char *name)
{
	char var[96];
	size_t i, n = strlen(name);
	const char *v;

	if (n + 7 >= sizeof(var))
		return NULL;
	memcpy(var, "INPUT_", 6);
	for (i = 0; i < n; i++)
		var[6 + i] = name[i] == ' ' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	var[6 + n] = '\0';
	v = getenv(var);
	return rp_given(v) ? v : NULL;
}

#define OFF(f) offsetof(struct rp_opts, f)
#define NONE SIZE_MAX
const struct optdef ghctx_options[] = {
	{ "ref", 1, 1, OD_VALUE, OFF(ref), 0, NULL, "GITHUB_REF" },
	{ "sha", 1, 1, OD_VALUE, OFF(sha), 0, NULL, "GITHUB_SHA" },
	{ "event", 1, 1, OD_VALUE, OFF(event), 0, NULL, "GITHUB_EVENT_NAME" },
	{ "service", 1, 1, OD_OWN, OFF(service), 0, "service", NULL },
	{ "source", 1, 1, OD_VALUE, OFF(source), 0, "source", NULL },
	{ "engine", 1, 1, OD_VALUE, OFF(engine), 0, "engine", NULL },
	{ "policy", 1, 1, OD_VALUE, OFF(policy), 0, "policy", NULL },
	{ "dev-registry", 1, 1, OD_VALUE, OFF(dev_registry), 0, "dev-registry", NULL },
	{ "prod-registry", 1, 1, OD_VALUE, OFF(prod_registry), 0, "prod-registry", NULL },
	{ "insecure-registry", 1, 1, OD_OWN, NONE, 0, NULL, NULL },
	{ "test-name", 1, 1, OD_VALUE, OFF(test_name), 0, "test-name", NULL },
	{ "from", 1, 1, OD_VALUE, OFF(from), 0, "from", NULL },
	{ "dry-run", 1, 0, OD_SWITCH, OFF(dry_run_text), OFF(dry_run), "dry-run", NULL },
	{ "now", 1, 1, OD_VALUE, OFF(now), 0, NULL, NULL },
	{ "json", 1, 0, OD_SWITCH, NONE, OFF(json), NULL, NULL },
	{ "authfile", 1, 1, OD_VALUE, OFF(authfile), 0, "authfile", "REGISTRY_AUTH_FILE" },
	{ "cert-dir", 1, 1, OD_VALUE, OFF(cert_dir), 0, "cert-dir", NULL },
	{ "help", 1, 0, OD_OWN, NONE, 0, NULL, NULL },
	{ "allow-revision-mismatch", 1, 0, OD_SWITCH, OFF(allow_mismatch_text),
	  OFF(allow_revision_mismatch), "allow-revision-mismatch", NULL },
	{ "repository", 1, 1, OD_OWN, NONE, 0, NULL, NULL },
	{ "verify-key", 1, 1, OD_OWN, OFF(verify_keys_text), 0, "verify-keys", "REGPUSH_VERIFY_KEYS" },
	{ "attest", 1, 1, OD_VALUE, OFF(attest), 0, "attest", NULL },
	{ "allow-backwards", 1, 0, OD_SWITCH, OFF(allow_backwards_text), OFF(allow_backwards),
	  "allow-backwards", NULL },
	{ "mode", 0, 0, OD_VALUE, OFF(mode), 0, "mode", NULL },
	{ "services", 0, 0, OD_VALUE, OFF(services_text), 0, "services", NULL },
	{ NULL, 0, 0, OD_VALUE, OFF(event_path), 0, NULL, "GITHUB_EVENT_PATH" },
	{ NULL, 0, 0, OD_VALUE, OFF(repository), 0, NULL, "GITHUB_REPOSITORY" },
	{ NULL, 0, 0, OD_VALUE, OFF(server_url), 0, NULL, "GITHUB_SERVER_URL" },
	{ NULL, 0, 0, OD_VALUE, OFF(workflow_ref), 0, NULL, "GITHUB_WORKFLOW_REF" },
};
const size_t ghctx_noptions = sizeof(ghctx_options) / sizeof(ghctx_options[0]);

/* The next item of a list separated by sep, blanks around it trimmed:
 * *item and *n, and *p moved past it. Returns 0 when the list is done. */
static int
next_item(const char **p, int sep, const char **item, size_t *n)
{
	const char *end;

	if (*p == NULL || **p == '\0')
		return 0;
	end = strchr(*p, sep);
	*item = *p;
	*n = end != NULL ? (size_t)(end - *p) : strlen(*p);
	*p = end != NULL ? end + 1 : NULL;
	while (*n > 0 && isspace((unsigned char)**item)) {
		++*item;
		--*n;
	}
	while (*n > 0 && isspace((unsigned char)(*item)[*n - 1]))
		--*n;
	return 1;
}

static rp_status
split_insecure(struct rp_opts *o, const char *list, struct rp_err *err)
{
	const char *rest = list, *p;
	char host[300], q[320];
	struct imgref r;
	size_t n;

	while (next_item(&rest, ',', &p, &n)) {
		if (n >= sizeof(host))
			return rp_fail(err, RP_EINPUT,
				       "insecure-registries: host name too long");
		memcpy(host, p, n);
		host[n] = '\0';
		if (n > 0) {
			if (imgref_parse_registry(host, &r) != IMGREF_OK ||
			    r.path != NULL) {
				imgref_free(&r);
				return rp_fail(err, RP_EINPUT,
					       "insecure registry '%s' is not a host[:port]",
					       rp_quote(host, 200, q, sizeof(q)));
			}
			imgref_free(&r);
			if (rp_strv_push(&o->insecure, host) != 0)
				return rp_fail(err, RP_ENOMEM, "out of memory");
		}
	}
	return RP_OK;
}

/* Input services: one service per line (blank lines and surrounding
 * blanks ignored), beside --service given more than once. */
static rp_status
split_services(struct rp_opts *o, struct rp_err *err)
{
	const char *rest = o->services_text, *p;
	char name[256], q[300];
	size_t n;

	if (rest == NULL)
		return RP_OK;
	if (o->services != NULL || o->service != NULL)
		return rp_fail(err, RP_EINPUT, "give either input service or input services, not both");
	while (next_item(&rest, '\n', &p, &n)) {
		if (n >= sizeof(name)) {
			memcpy(name, p, 60);
			name[60] = '\0';
			return rp_fail(err, RP_EINPUT, "services: '%s...' is too long for a service name",
				       rp_quote(name, 60, q, sizeof(q)));
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (n > 0) {
			if (rp_strv_len(o->services) >= 64)
				return rp_fail(err, RP_EINPUT, "services: at most 64 services in one run");
			if (rp_strv_push(&o->services, name) != 0)
				return rp_fail(err, RP_ENOMEM, "out of memory");
		}
	}
	return RP_OK;
}

/* A boolean input: *v stays 1 when its flag was given (-1 means not
 * given); else "true" or "false" (or absent: false). */
static rp_status
boolean_input(int *v, const char *text, const char *name, struct rp_err *err)
{
	char q[80];

	if (*v >= 0)
		return RP_OK;
	*v = 0;
	if (text == NULL)
		return RP_OK;
	if (strcmp(text, "true") == 0)
		*v = 1;
	else if (strcmp(text, "false") != 0)
		return rp_fail(err, RP_EINPUT, "input %s must be true or false, not '%s'", name,
			       rp_quote(text, 40, q, sizeof(q)));
	return RP_OK;
}

rp_status
ghctx_resolve(struct rp_opts *o, struct rp_err *err)
{
	const char *v, *t;
	size_t i, len;
	rp_status st;

	t = getenv("GITHUB_ACTIONS");
	o->actions = t != NULL && strcmp(t, "true") == 0;
	if ((st = settings_read(&o->settings, err)) != RP_OK)
		return st;
	o->sha_flag = rp_given(o->sha);
	for (i = 0; i < ghctx_noptions; i++) {
		const struct optdef *d = &ghctx_options[i];
		const char **slot = (const char **)((char *)o + d->off);
		const char *from = d->name;
		char flag[64];

		if (d->off == NONE)
			continue;
		if (d->flag) {
			snprintf(flag, sizeof(flag), "--%s", d->name);
			from = flag;
		}

		if (!rp_given(*slot))
			*slot = NULL;
		if (*slot == NULL && d->input != NULL &&
		    (*slot = ghctx_input(d->input)) != NULL)
			from = d->input;
		if (*slot == NULL && d->env != NULL &&
		    (*slot = rp_getenv(d->env)) != NULL)
			from = d->env;
		if (*slot != NULL && (len = strlen(*slot)) > RP_VALUE_MAX)
			return rp_fail(err, RP_EINPUT,
				       "value of %s is too long (%zu bytes; at most %d)",
				       from != NULL ? from : d->env, len,
				       RP_VALUE_MAX);
	}
	if ((v = ghctx_input("insecure-registries")) != NULL) {
		if ((len = strlen(v)) > RP_VALUE_MAX)
			return rp_fail(err, RP_EINPUT,
				       "value of insecure-registries is too long (%zu bytes; at most %d)",
				       len, RP_VALUE_MAX);
		if ((st = split_insecure(o, v, err)) != RP_OK)
			return st;
	}
	if ((st = boolean_input(&o->dry_run, o->dry_run_text, "dry-run", err)) != RP_OK ||
	    (st = boolean_input(&o->allow_revision_mismatch, o->allow_mismatch_text,
				"allow-revision-mismatch", err)) != RP_OK ||
	    (st = boolean_input(&o->allow_backwards, o->allow_backwards_text,
				"allow-backwards", err)) != RP_OK ||
	    (st = split_services(o, err)) != RP_OK)
		return st;
	if (o->engine != NULL && strcmp(o->engine, "skopeo") != 0 &&
	    strcmp(o->engine, "buildah") != 0) {
		char q[80];
		return rp_fail(err, RP_EINPUT,
			       "engine must be skopeo or buildah, not '%s'",
			       rp_quote(o->engine, 40, q, sizeof(q)));
	}
	/* buildah needs a user namespace (or CAP_SYS_ADMIN) for everything,
	 * which Docker's default profile refuses; the image has no buildah. */
	if (o->container && o->engine != NULL && strcmp(o->engine, "buildah") == 0)
		return rp_fail(err, RP_EINPUT,
			       "engine buildah cannot run in the action container (Docker's default "
			       "capabilities allow no user namespace): leave engine unset (skopeo "
			       "pushes every source form), or run regpush push --engine buildah on "
			       "the runner itself");
	return RP_OK;
}

int
ghctx_insecure(const struct rp_opts *o, const char *host)
{
	return rp_strv_has(o->insecure, host);
}

rp_status
ghctx_add_insecure(struct rp_opts *o, const char *host, struct rp_err *err)
{
	if (strchr(host, ',') != NULL) {
		char q[80];
		return rp_fail(err, RP_EINPUT,
			       "insecure registry '%s' is not a host[:port]",
			       rp_quote(host, 60, q, sizeof(q)));
	}
	return split_insecure(o, host, err);
}

/* Reads an optional string member at a path of object keys. */
static rp_status
json_str_at(json_t *root, const char *const *path, const char *what,
	    const char **out, struct rp_err *err)
{
	json_t *cur = root;
	size_t i;

	*out = NULL;
	for (i = 0; path[i] != NULL; i++) {
		if (!json_is_object(cur))
			return RP_OK;
		if ((cur = json_object_get(cur, path[i])) == NULL ||
		    json_is_null(cur))
			return RP_OK;
	}
	if (!json_is_string(cur))
		return rp_fail(err, RP_EINPUT,
			       "event JSON: %s is not a string", what);
	*out = json_string_value(cur);
	if (strlen(*out) > RP_VALUE_MAX)
		return rp_fail(err, RP_EINPUT, "event JSON: %s is too long", what);
	return RP_OK;
}

rp_status
ghctx_read_event(const char *path, struct ghctx_event *ev, struct rp_err *err)
{
	static const char *const sha_path[] = { "pull_request", "head", "sha", NULL };
	static const char *const repo_path[] = {
		"pull_request", "head", "repo", "full_name", NULL,
	};
	json_error_t jerr;
	json_t *root = NULL, *num;
	char *text = NULL, q[256];
	const char *s;
	size_t len;
	rp_status st;

	memset(ev, 0, sizeof(*ev));
	if (path == NULL)
		return RP_OK;
	if ((st = rp_read_file(path, "event file", EVENT_FILE_MAX, &text, &len,
			       err)) != RP_OK)
		return st;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	rp_quote(path, 200, q, sizeof(q));
	/* jansson sets no message when its own set-up allocation fails. */
	if (root == NULL && (json_error_code(&jerr) == json_error_out_of_memory ||
			     jerr.text[0] == '\0'))
		return rp_fail(err, RP_ENOMEM, "out of memory reading %s", q);
	if (root == NULL)
		return rp_fail(err, RP_EINPUT, "%s:%d:%d: invalid event JSON: %s",
			       q, jerr.line, jerr.column, jerr.text);
	st = RP_OK;
	if (!json_is_object(root)) {
		st = rp_fail(err, RP_EINPUT,
			     "%s: invalid event JSON: expected an object", q);
		goto out;
	}
	num = json_object_get(json_object_get(root, "pull_request"), "number");
	if (num == NULL)
		num = json_object_get(root, "number");
	if (num != NULL && !json_is_null(num)) {
		if (!json_is_integer(num) || json_integer_value(num) < 1 ||
		    json_integer_value(num) > 2147483647) {
			st = rp_fail(err, RP_EINPUT,
				     "%s: event JSON: pull_request.number is not a positive integer",
				     q);
			goto out;
		}
		ev->pr_number = (long)json_integer_value(num);
	}
	if ((st = json_str_at(root, sha_path, "pull_request.head.sha", &s,
			      err)) != RP_OK)
		goto out;
	if (s != NULL && (ev->head_sha = rp_strdup(s)) == NULL)
		goto nomem;
	if ((st = json_str_at(root, repo_path, "pull_request.head.repo.full_name",
			      &s, err)) != RP_OK)
		goto out;
	if (s != NULL && (ev->head_repo = rp_strdup(s)) == NULL)
		goto nomem;
out:
	json_decref(root);
	if (st != RP_OK)
		ghctx_event_free(ev);
	return st;
nomem:
	st = rp_fail(err, RP_ENOMEM, "out of memory");
	goto out;
}

int
ghctx_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) < 20 ||
	    (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
		   isdigit((unsigned char)p[2]) && p[3] == ':' &&
		   isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L +
		      ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
		if (*p == '+')
			off = -off;
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	tm.tm_isdst = 0;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t + off;
	return 0;
}

rp_status
ghctx_plan_input(const struct rp_opts *o, struct ghctx_event *ev,
		 struct plan_input *in, struct rp_err *err)
{
	const char *sde, *slash;
	char q[128];
	long n;
	size_t i;

	memset(in, 0, sizeof(*in));
	in->ref = o->ref;
	in->sha = o->sha;
	in->event = o->event;
	in->pr_number = ev->pr_number;
	in->test_name = o->test_name;
	in->workflow_ref = o->workflow_ref;
	in->repository = o->repository;
	in->server_url = o->server_url;
	in->dev_registry = o->dev_registry;
	in->prod_registry = o->prod_registry;
	/* On a pull request GITHUB_SHA is a merge commit nobody reviewed;
	 * the image is built from, and labelled with, the PR head. */
	if (o->event != NULL && strncmp(o->event, "pull_request", 12) == 0 &&
	    ev->head_sha != NULL && !o->sha_flag)
		in->sha = ev->head_sha;
	in->service = o->service;
	if (in->service == NULL && rp_given(o->repository)) {
		slash = strrchr(o->repository, '/');
		free(ev->service);
		if ((ev->service = rp_strdup(slash != NULL ? slash + 1 :
					     o->repository)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		for (i = 0; ev->service[i] != '\0'; i++)
			ev->service[i] = (char)tolower((unsigned char)ev->service[i]);
		in->service = ev->service;
	}
	if (o->now != NULL) {
		if (ghctx_parse_time(o->now, &in->now) != 0)
			return rp_fail(err, RP_EINPUT,
				       "--now '%s' is not an RFC 3339 time (e.g. 2027-01-10T00:00:00Z)",
				       rp_quote(o->now, 60, q, sizeof(q)));
	} else if ((sde = rp_getenv("SOURCE_DATE_EPOCH")) != NULL) {
		if (rp_parse_long(sde, 0, 253402300799L, &n) != 0)
			return rp_fail(err, RP_EINPUT,
				       "SOURCE_DATE_EPOCH '%s' is not a number of seconds",
				       rp_quote(sde, 60, q, sizeof(q)));
		in->now = (time_t)n;
	} else {
		in->now = time(NULL);
	}
	return RP_OK;
}

void
ghctx_event_free(struct ghctx_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->head_sha);
	free(ev->head_repo);
	free(ev->service);
	memset(ev, 0, sizeof(*ev));
}

void
ghctx_opts_free(struct rp_opts *o)
{
	if (o == NULL)
		return;
	rp_strv_free(o->insecure);
	rp_strv_free(o->repositories);
	rp_strv_free(o->services);
	rp_strv_free(o->verify_key_files);
	o->verify_key_files = NULL;
	o->services = NULL;
	o->insecure = NULL;
	o->repositories = NULL;
}
