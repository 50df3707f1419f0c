/*
 * target.c — which repositories a command works on, and opening them (see
 * target.h). A --repository's role is read from which registry it is
 * under, component by component ("quay.io/kub" is not under
 * "quay.io/kubernaut").
 */
#include "target.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "creds.h"
#include "ghactions.h"
#include "imgref.h"
#include "run.h"

const char *
target_registry(const struct rp_opts *o, const struct policy *pol, int i)
{
	const char *over = i == 0 ? o->dev_registry : o->prod_registry;

	return over != NULL ? over : pol->registry[i != 0];
}

int
target_under(const char *host, const char *path, const char *registry)
{
	size_t h = strlen(host), n;

	if (strncmp(registry, host, h) != 0 || (registry[h] != '\0' && registry[h] != '/'))
		return 0;
	if (registry[h] == '\0')
		return 1;
	n = strlen(registry + h + 1);
	return strncmp(path, registry + h + 1, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* "host[:port]/path" into t's host and path. */
static rp_status
split_repo(const char *s, struct target *t, struct rp_err *err)
{
	struct imgref ir;
	char q[300];

	if (imgref_parse_registry(s, &ir) != IMGREF_OK || ir.path == NULL) {
		imgref_free(&ir);
		return rp_fail(err, RP_EINPUT, "repository '%s' is not host/path (e.g. quay.io/kubernaut/gateway)",
			       rp_quote(s, 200, q, sizeof(q)));
	}
	t->host = ir.domain;
	t->path = ir.path;
	return RP_OK;
}

rp_status
target_at(const char *reg, const char *svc, const char *profile, struct target *t,
	  struct rp_err *err)
{
	char *full = rp_asprintf("%s/%s", reg, svc), q[200];
	struct imgref ir;
	imgref_err e;
	rp_status st;

	if (full == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	e = imgref_parse(full, &ir);
	if (e == IMGREF_NOMEM)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else if (e != IMGREF_OK || ir.tag != NULL || ir.digest != NULL || ir.domain == NULL)
		st = rp_fail(err, RP_EINPUT, "invalid service '%s': %s", rp_quote(svc, 150, q, sizeof(q)),
			     e != IMGREF_OK ? imgref_strerror(e) : "a repository name, without tag or digest");
	else
		st = split_repo(full, t, err);
	imgref_free(&ir);
	free(full);
	t->profile = profile;
	if (st == RP_OK && (t->service = rp_strdup(svc)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	return st;
}

rp_status
target_plan(const struct plan *p, struct target *t, struct rp_err *err)
{
	memset(t, 0, sizeof(*t));
	t->role = p->env == RP_ENV_STAGING || p->env == RP_ENV_PRODUCTION ? RP_ENV_PRODUCTION :
	    RP_ENV_DEVELOPMENT;
	t->profile = p->credentials;
	if ((t->host = rp_strdup(p->host)) == NULL || (t->path = rp_strdup(p->path)) == NULL ||
	    (t->service = rp_strdup(p->service)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	return RP_OK;
}

rp_status
target_select(const struct rp_opts *o, const struct policy *pol, struct target *ts, size_t *n,
	      struct rp_err *err)
{
	const char *regs[2] = { target_registry(o, pol, 0), target_registry(o, pol, 1) };
	struct ghctx_event ev;
	struct plan_input in;
	const char *one[2] = { NULL, NULL };
	char *const *svc = o->services;
	size_t i, k;
	rp_status st = RP_OK;

	*n = 0;
	memset(ts, 0, TARGET_MAX * sizeof(*ts));
	if (o->repositories != NULL) {
		for (i = 0; o->repositories[i] != NULL && *n < TARGET_MAX; i++) {
			struct target *t = &ts[(*n)++];
			const char *last;
			int d, p;
			if ((st = split_repo(o->repositories[i], t, err)) != RP_OK)
				return st;
			d = target_under(t->host, t->path, regs[0]);
			p = target_under(t->host, t->path, regs[1]);
			t->role = d == p ? -1 : d ? RP_ENV_DEVELOPMENT : RP_ENV_PRODUCTION;
			last = strrchr(t->path, '/');
			if ((t->service = rp_strdup(last != NULL ? last + 1 : t->path)) == NULL)
				return rp_fail(err, RP_ENOMEM, "out of memory");
		}
		return RP_OK;
	}
	memset(&ev, 0, sizeof(ev));
	if (svc == NULL) {
		if ((st = ghctx_read_event(o->event_path, &ev, err)) != RP_OK ||
		    (st = ghctx_plan_input(o, &ev, &in, err)) != RP_OK)
			goto out;
		if (!rp_given(in.service)) {
			st = rp_fail(err, RP_EINPUT, "no service: set %s, GITHUB_REPOSITORY or --repository",
				     rp_flag("service"));
			goto out;
		}
		one[0] = in.service;
		svc = (char *const *)one;
	}
	for (i = 0; svc[i] != NULL && *n + 2 <= TARGET_MAX; i++) {
		for (k = 0; k < 2; k++) {
			struct target *t = &ts[(*n)++];
			t->role = k == 0 ? RP_ENV_DEVELOPMENT : RP_ENV_PRODUCTION;
			if ((st = target_at(regs[k], svc[i], k == 0 ? "dev" : "release", t,
					    err)) != RP_OK)
				goto out;
		}
	}
out:
	ghctx_event_free(&ev);
	return st;
}

rp_status
target_start(const struct rp_opts *o, struct policy **pol, time_t *now, struct target *ts,
	     size_t *n, struct rp_err *err)
{
	rp_status st;

	*n = 0;
	memset(ts, 0, TARGET_MAX * sizeof(*ts));
	creds_mask_all(o->actions);
	if ((st = run_load_policy(o, pol, err)) != RP_OK || (st = run_now(o, now, err)) != RP_OK)
		return st;
	return target_select(o, *pol, ts, n, err);
}

rp_status
target_open(const struct rp_opts *o, struct target *t, struct rp_err *err)
{
	rp_status st = RP_OK;

	if (t->profile == NULL || (st = creds_load(t->profile, &t->account, err)) == RP_OK)
		st = target_client(o, t->host, t->path, &t->account, &t->reg, err);
	return st;
}

void
target_free(struct target *t)
{
	reg_free(t->reg);
	creds_free(&t->account);
	free(t->host);
	free(t->path);
	free(t->service);
	memset(t, 0, sizeof(*t));
}

void
target_free_all(struct target *ts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		target_free(&ts[i]);
}

/* A token the registry client learnt, masked in the Actions log. */
static void
mask_in_log(void *ctx, const char *secret)
{
	(void)ctx;
	gha_command(stdout, "add-mask", NULL, secret);
}

rp_status
target_client(const struct rp_opts *o, const char *host, const char *repo,
		  const struct creds *account, struct reg_client **out, struct rp_err *err)
{
	struct reg_config cfg;
	struct creds fromfile;
	char who[300], q[200];
	rp_status st;

	*out = NULL;
	memset(&cfg, 0, sizeof(cfg));
	memset(&fromfile, 0, sizeof(fromfile));
	cfg.host = host;
	cfg.insecure = ghctx_insecure(o, host);
	cfg.insecure_hosts = o->insecure;
	cfg.cert_dir = o->cert_dir;
	cfg.on_secret = o->actions ? mask_in_log : NULL;
	cfg.settings = &o->settings;
	if (account != NULL && account->username != NULL) {
		cfg.username = account->username;
		cfg.password = account->password;
		snprintf(who, sizeof(who), "%s account '%s'", account->profile,
			 rp_quote(account->username, 150, q, sizeof(q)));
	} else {
		if ((st = creds_from_authfiles(o->authfile, host, repo, &fromfile, err)) != RP_OK)
			return st;
		cfg.username = fromfile.username;
		cfg.password = fromfile.password;
		snprintf(who, sizeof(who), "account '%s' from the auth file",
			 rp_quote(fromfile.username != NULL ? fromfile.username : "", 150, q, sizeof(q)));
	}
	cfg.account = who;
	*out = reg_new(&cfg, err);
	creds_free(&fromfile);
	return *out != NULL ? RP_OK : err->status != RP_OK ? err->status : RP_ENOMEM;
}
