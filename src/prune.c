/*
 * prune.c — `regpush prune`.
 *
 * For each repository (the service's development and production ones, or
 * every --repository): list the tags, read each tag's digest, classify the
 * tag (prune_class), and measure the age of the candidates from their
 * image config's `created` (an index: its first platform's). A tag whose
 * age cannot be known (no `created`, unparsable, before 2000) is kept.
 *
 * What goes is the tag, never an image another tag needs. Every digest
 * that a kept tag points at, and every child of a kept index, is
 * protected: an expired tag on such a digest is only untagged
 * (reg_untag). A digest whose tags all expire, and that no kept index
 * lists, is deleted by digest, once, which removes those tags together.
 * --dry-run prints the same table and deletes nothing; a failure on one
 * row is reported and the rest go on (exit 1 at the end).
 */
#include "prune.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "creds.h"
#include "floating.h"
#include "ghactions.h"
#include "imgref.h"
#include "policy.h"
#include "registry.h"
#include "run.h"

#define CONFIG_MAX (4 * 1024 * 1024)
#define Y2000 946684800L

enum prune_action {
	KEEP = 0,
	UNTAG,          /* the tag alone goes; its image stays for a kept tag */
	DELETE_DIGEST,  /* the image goes, and every (expired) tag on it */
	WITH_DIGEST,    /* goes with another row's DELETE_DIGEST */
};

struct row {
	char *tag;
	char digest[RP_DIGEST_MAX];
	long age;                 /* days; -1 unknown or not measured */
	enum prune_action act;
	const char *reason;       /* static */
	char *detail;             /* e.g. the kept tag sharing the image */
	char *error;              /* when the delete failed */
};

struct repo {
	char *host, *path;
	struct reg_client *reg;
	struct row *rows;
	size_t n;
};

int
prune_class(const char *tag)
{
	size_t i;

	if (strcmp(tag, "latest") == 0 || strcmp(tag, "dev-latest") == 0 ||
	    strcmp(tag, "staging-latest") == 0)
		return RP_ENV_PRODUCTION;
	if (tag[0] == 'v' && isdigit((unsigned char)tag[1]))
		return RP_ENV_PRODUCTION;
	if (strncmp(tag, "staging-v", 9) == 0)
		return RP_ENV_STAGING;
	if (strncmp(tag, "test-", 5) == 0 && tag[5] != '\0')
		return RP_ENV_TEST;
	if (strncmp(tag, "feature-", 8) == 0 && tag[8] != '\0')
		return RP_ENV_DEVELOPMENT;
	if (strncmp(tag, "dev-", 4) == 0 && tag[4] != '\0') {
		for (i = 4; tag[i] != '\0'; i++)
			if (!isxdigit((unsigned char)tag[i]) || isupper((unsigned char)tag[i]))
				return -1;
		return RP_ENV_DEVELOPMENT;
	}
	return -1;
}

/* The config digest of an image manifest, or of an index's first
 * platform (fetched). *out is owned by the caller. */
static rp_status
config_of(struct repo *r, const char *digest, char **out, struct rp_err *err)
{
	struct reg_manifest m, child;
	json_t *j, *first;
	const char *cd;
	rp_status st;

	*out = NULL;
	memset(&child, 0, sizeof(child));
	if ((st = reg_manifest_get(r->reg, r->path, digest, &m, err)) != RP_OK)
		return st;
	j = json_loadb(m.bytes, m.len, 0, NULL);
	first = json_array_get(json_object_get(j, "manifests"), 0);
	if (first != NULL) {
		char d[RP_DIGEST_MAX];
		snprintf(d, sizeof(d), "%s", json_string_value(json_object_get(first, "digest")) != NULL ?
			 json_string_value(json_object_get(first, "digest")) : "");
		json_decref(j);
		j = NULL;
		if (imgref_digest_valid(d) &&
		    (st = reg_manifest_get(r->reg, r->path, d, &child, err)) == RP_OK)
			j = json_loadb(child.bytes, child.len, 0, NULL);
	}
	cd = json_string_value(json_object_get(json_object_get(j, "config"), "digest"));
	if (st == RP_OK && cd != NULL && imgref_digest_valid(cd) && (*out = rp_strdup(cd)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	json_decref(j);
	reg_manifest_free(&m);
	reg_manifest_free(&child);
	return st;
}

/* Age in days of the image at digest, or -1 when it cannot be known. */
static rp_status
age_of(struct repo *r, const char *digest, time_t now, long *age, struct rp_err *err)
{
	char *cd = NULL, *text = NULL;
	size_t len;
	json_t *j = NULL;
	const char *created;
	time_t t;
	rp_status st;

	*age = -1;
	if ((st = config_of(r, digest, &cd, err)) != RP_OK || cd == NULL)
		goto out;
	if ((st = reg_blob_get(r->reg, r->path, cd, CONFIG_MAX, &text, &len, err)) != RP_OK)
		goto out;
	j = json_loadb(text, len, 0, NULL);
	created = json_string_value(json_object_get(j, "created"));
	if (created != NULL && ghctx_parse_time(created, &t) == 0 && (long)t >= Y2000)
		*age = t >= now ? 0 : (long)((now - t) / 86400);
out:
	json_decref(j);
	free(text);
	free(cd);
	return st;
}

/* The children of every kept index are protected too. */
static rp_status
protect_children(struct repo *r, json_t *kept, struct rp_err *err)
{
	json_t *seen = json_object(), *m;
	struct reg_manifest man;
	size_t i, k;
	rp_status st = RP_OK;

	if (seen == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; i < r->n && st == RP_OK; i++) {
		json_t *j;
		if (r->rows[i].act != KEEP || r->rows[i].digest[0] == '\0' ||
		    json_object_get(seen, r->rows[i].digest) != NULL)
			continue;
		json_object_set_new(seen, r->rows[i].digest, json_true());
		if ((st = reg_manifest_get(r->reg, r->path, r->rows[i].digest, &man, err)) != RP_OK)
			break;
		j = json_loadb(man.bytes, man.len, 0, NULL);
		json_array_foreach(json_object_get(j, "manifests"), k, m) {
			const char *d = json_string_value(json_object_get(m, "digest"));
			if (d != NULL && json_object_set_new(kept, d, json_string(r->rows[i].tag)) != 0)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
		}
		json_decref(j);
		reg_manifest_free(&man);
	}
	json_decref(seen);
	return st;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Classifies, measures and decides every tag of one repository. */
static rp_status
decide_repo(struct repo *r, const struct policy *pol, time_t now, struct rp_err *err)
{
	char **tags = NULL, **names = NULL;
	char (*d)[RP_DIGEST_MAX] = NULL;
	json_t *kept = json_object(), *ages = json_object();
	size_t i, k, n;
	rp_status st;

	if (kept == NULL || ages == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = reg_tags(r->reg, r->path, &tags, err)) != RP_OK)
		goto out;
	n = rp_strv_len(tags);
	/* The table in tag order, whatever order the registry lists. */
	qsort(tags, n, sizeof(*tags), cmp_str);
	if ((r->rows = calloc(n + 1, sizeof(*r->rows))) == NULL || (d = calloc(n + 1, sizeof(*d))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	names = tags;
	if (n > 0 && (st = reg_manifest_head_many(r->reg, r->path, names, n, d, err)) != RP_OK)
		goto out;
	for (i = 0; i < n; i++) {
		struct row *w = &r->rows[r->n++];
		int cls = prune_class(tags[i]);
		w->tag = tags[i];
		tags[i] = NULL;
		memcpy(w->digest, d[i], sizeof(w->digest));
		w->age = -1;
		if (w->digest[0] == '\0') {
			w->reason = "gone (deleted meanwhile)";
			continue;
		}
		if (cls < 0) {
			w->reason = "matches no pattern";
			continue;
		}
		if (cls == RP_ENV_PRODUCTION || pol->retention[cls] < 0) {
			w->reason = "never pruned";
			continue;
		}
		/* One measurement per image. */
		json_t *a = json_object_get(ages, w->digest);
		if (a != NULL) {
			w->age = (long)json_integer_value(a);
		} else {
			if ((st = age_of(r, w->digest, now, &w->age, err)) != RP_OK)
				goto out;
			if (json_object_set_new(ages, w->digest, json_integer(w->age)) != 0) {
				st = rp_fail(err, RP_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (w->age < 0)
			w->reason = "age unknown (no created time, or before 2000)";
		else if ((int64_t)w->age * 86400 <= pol->retention[cls])
			w->reason = "within retention";
		else {
			w->act = DELETE_DIGEST;
			w->reason = "expired";
		}
	}
	/* What the kept tags need. */
	for (i = 0; i < r->n; i++)
		if (r->rows[i].act == KEEP && r->rows[i].digest[0] != '\0' &&
		    json_object_get(kept, r->rows[i].digest) == NULL &&
		    json_object_set_new(kept, r->rows[i].digest, json_string(r->rows[i].tag)) != 0) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	if ((st = protect_children(r, kept, err)) != RP_OK)
		goto out;
	for (i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];
		const char *by;
		if (w->act != DELETE_DIGEST)
			continue;
		if ((by = json_string_value(json_object_get(kept, w->digest))) != NULL) {
			w->act = UNTAG;
			w->reason = "expired; the image stays, kept by";
			if ((w->detail = rp_strdup(by)) == NULL) {
				st = rp_fail(err, RP_ENOMEM, "out of memory");
				goto out;
			}
			continue;
		}
		/* The first row of a digest deletes it; the others ride along. */
		for (k = 0; k < i; k++)
			if (r->rows[k].act == DELETE_DIGEST && strcmp(r->rows[k].digest, w->digest) == 0)
				break;
		if (k < i) {
			w->act = WITH_DIGEST;
			w->reason = "expired; deleted with the image of";
			if ((w->detail = rp_strdup(r->rows[k].tag)) == NULL) {
				st = rp_fail(err, RP_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
out:
	rp_strv_free(tags);
	free(d);
	json_decref(kept);
	json_decref(ages);
	return st;
}

/* Carries out one repository's deletions; a failure is recorded on its
 * row (and on the rows deleted with it) and the rest go on. */
static int
execute(struct repo *r)
{
	size_t i, k;
	int failed = 0;

	for (i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];
		struct rp_err e = { RP_OK, "" };
		rp_status st;
		if (w->act == UNTAG)
			st = reg_untag(r->reg, r->path, w->tag, &e);
		else if (w->act == DELETE_DIGEST)
			st = reg_manifest_delete(r->reg, r->path, w->digest, &e);
		else
			continue;
		if (st == RP_OK)
			continue;
		failed = 1;
		w->error = rp_strdup(e.msg);
		for (k = i + 1; w->act == DELETE_DIGEST && k < r->n; k++)
			if (r->rows[k].act == WITH_DIGEST && strcmp(r->rows[k].digest, w->digest) == 0)
				r->rows[k].error = rp_strdup(e.msg);
	}
	return failed;
}

static const char *
action_name(enum prune_action a)
{
	return a == KEEP ? "keep" : "delete";
}

/* The table: text, or JSON with --json; and the step summary. */
static rp_status
report(const struct rp_opts *o, struct repo *rs, size_t nr, struct rp_err *err)
{
	struct sbuf sb, md;
	json_t *arr = json_array(), *root = NULL;
	char *text = NULL, *sum = NULL, age[32];
	size_t i, k, ndel = 0, nkeep = 0, nfail = 0;
	rp_status st = RP_OK;
	int bad = arr == NULL;

	sbuf_init(&sb, 64 << 20);
	sbuf_init(&md, 16 << 20);
	if (o->dry_run)
		sbuf_puts(&sb, "dry run: nothing is deleted; a real run would do:\n");
	sbuf_printf(&sb, "%-40s %-40s %-19s %5s %-6s %s\n", "REPOSITORY", "TAG", "DIGEST", "AGE",
		    "ACTION", "REASON");
	sbuf_puts(&md, "| Repository | Tag | Age | Action | Reason |\n|---|---|---|---|---|\n");
	for (k = 0; k < nr; k++) {
		for (i = 0; i < rs[k].n; i++) {
			const struct row *w = &rs[k].rows[i];
			char repo[600], reason[400];
			snprintf(repo, sizeof(repo), "%s/%s", rs[k].host, rs[k].path);
			if (w->age >= 0)
				snprintf(age, sizeof(age), "%ldd", w->age);
			else
				snprintf(age, sizeof(age), "-");
			snprintf(reason, sizeof(reason), "%s%s%s%s%s", w->reason,
				 w->detail != NULL ? " " : "", w->detail != NULL ? w->detail : "",
				 w->error != NULL ? "; FAILED: " : "", w->error != NULL ? w->error : "");
			sbuf_printf(&sb, "%-40s %-40s %-19.19s %5s %-6s %s\n", repo, w->tag,
				    w->digest[0] != '\0' ? w->digest : "-", age, action_name(w->act), reason);
			if (w->act != KEEP) {
				ndel++;
				sbuf_printf(&md, "| `%s` | `%s` | %s | %s | %s |\n", repo, w->tag, age,
					    w->error != NULL ? "**failed**" : o->dry_run ? "delete (dry run)" : "deleted",
					    w->reason);
			} else {
				nkeep++;
			}
			nfail += w->error != NULL;
			bad |= json_array_append_new(arr, json_pack("{s:s,s:s,s:s?,s:o,s:s,s:s,s:s?,s:s?}",
				"repository", repo, "tag", w->tag,
				"digest", w->digest[0] != '\0' ? w->digest : NULL,
				"age_days", w->age >= 0 ? json_integer(w->age) : json_null(),
				"action", action_name(w->act), "reason", w->reason,
				"detail", w->detail, "error", w->error));
		}
	}
	sbuf_printf(&sb, "%zu to delete, %zu kept%s\n", ndel, nkeep, nfail > 0 ? "" : "");
	if (o->json) {
		if (bad || (root = json_pack("{s:s,s:b,s:O,s:i,s:i,s:i}", "command", "prune",
					     "dry_run", o->dry_run, "tags", arr, "deleted",
					     (json_int_t)(o->dry_run ? 0 : ndel - nfail), "kept",
					     (json_int_t)nkeep, "failed", (json_int_t)nfail)) == NULL ||
		    (text = rp_json_dumps(root, JSON_INDENT(2))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if ((st = run_print(text, err)) == RP_OK)
			st = run_print("\n", err);
	} else if ((text = sbuf_take(&sb)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	} else {
		st = run_print(text, err);
	}
	if (st == RP_OK && o->actions && rp_given(getenv("GITHUB_STEP_SUMMARY"))) {
		struct gha_out *g = gha_out_new();
		char head[300];
		snprintf(head, sizeof(head), "### regpush prune%s\n\n%zu tags %s, %zu kept, %zu failed\n\n",
			 o->dry_run ? " (dry run)" : "", ndel - nfail, o->dry_run ? "to delete" : "deleted",
			 nkeep, nfail);
		if ((sum = sbuf_take(&md)) == NULL || g == NULL || gha_out_raw(g, head) != 0 ||
		    gha_out_raw(g, sum) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else
			st = gha_out_write(g, getenv("GITHUB_STEP_SUMMARY"), "GITHUB_STEP_SUMMARY", err);
		gha_out_free(g);
	}
	sbuf_free(&sb);
	sbuf_free(&md);
	free(text);
	free(sum);
	json_decref(arr);
	json_decref(root);
	return st;
}

/* The account for a repository: dev for the development registry,
 * release for the production one, else the auth files. */
static rp_status
open_repo(const struct rp_opts *o, struct repo *r, const char *profile, struct rp_err *err)
{
	struct reg_config cfg;
	struct creds c;
	char account[300], q[200];
	size_t i;
	rp_status st;

	memset(&cfg, 0, sizeof(cfg));
	memset(&c, 0, sizeof(c));
	if (profile != NULL && (st = creds_load(profile, &c, err)) != RP_OK)
		return st;
	if (c.username == NULL && (st = creds_from_authfiles(o->authfile, r->host, r->path, &c, err)) != RP_OK)
		return st;
	cfg.host = r->host;
	for (i = 0; o->insecure != NULL && o->insecure[i] != NULL; i++)
		if (strcmp(o->insecure[i], r->host) == 0)
			cfg.insecure = 1;
	cfg.insecure_hosts = o->insecure;
	cfg.cert_dir = o->cert_dir;
	cfg.mask_secrets = o->actions;
	cfg.username = c.username;
	cfg.password = c.password;
	snprintf(account, sizeof(account), "%s account '%s'", profile != NULL ? profile : "auth file",
		 rp_quote(c.username != NULL ? c.username : "", 150, q, sizeof(q)));
	cfg.account = account;
	r->reg = reg_new(&cfg, err);
	creds_free(&c);
	return r->reg != NULL ? RP_OK : RP_ENOMEM;
}

/* "host[:port]/path" into host and path. */
static rp_status
split_repo(const char *s, struct repo *r, struct rp_err *err)
{
	struct imgref ir;
	char q[300];

	if (imgref_parse_registry(s, &ir) != IMGREF_OK || ir.path == NULL) {
		imgref_free(&ir);
		return rp_fail(err, RP_EINPUT, "repository '%s' is not host/path (e.g. quay.io/kubernaut/gateway)",
			       rp_quote(s, 200, q, sizeof(q)));
	}
	r->host = ir.domain;
	r->path = ir.path;
	return RP_OK;
}

rp_status
prune_run(struct rp_opts *o, struct rp_err *err)
{
	struct policy *pol = NULL;
	struct ghctx_event ev;
	struct plan_input in;
	struct repo rs[64];
	const char *profiles[64];
	size_t nr = 0, i, k;
	time_t now = time(NULL);
	char q[100];
	int failed = 0;
	rp_status st;

	memset(rs, 0, sizeof(rs));
	memset(&ev, 0, sizeof(ev));
	creds_mask_all(o->actions);
	if ((st = run_load_policy(o, &pol, err)) != RP_OK)
		goto out;
	if (o->now != NULL && ghctx_parse_time(o->now, &now) != 0) {
		st = rp_fail(err, RP_EINPUT, "--now '%s' is not an RFC 3339 time (e.g. 2027-01-10T00:00:00Z)",
			     rp_quote(o->now, 60, q, sizeof(q)));
		goto out;
	}
	if (o->repositories != NULL) {
		for (i = 0; o->repositories[i] != NULL && nr < 64; i++, nr++) {
			if ((st = split_repo(o->repositories[i], &rs[nr], err)) != RP_OK)
				goto out;
			profiles[nr] = NULL;
		}
	} else {
		const char *regs[2] = { o->dev_registry != NULL ? o->dev_registry : pol->registry[0],
					o->prod_registry != NULL ? o->prod_registry : pol->registry[1] };
		if ((st = ghctx_read_event(o->event_path, &ev, err)) != RP_OK ||
		    (st = ghctx_plan_input(o, &ev, &in, err)) != RP_OK)
			goto out;
		if (!rp_given(in.service)) {
			st = rp_fail(err, RP_EINPUT, "no service: set --service (input service), "
				     "GITHUB_REPOSITORY or --repository");
			goto out;
		}
		for (k = 0; k < 2; k++, nr++) {
			char *full = rp_asprintf("%s/%s", regs[k], in.service);
			st = full == NULL ? rp_fail(err, RP_ENOMEM, "out of memory") :
			    split_repo(full, &rs[nr], err);
			free(full);
			if (st != RP_OK)
				goto out;
			profiles[nr] = k == 0 ? "dev" : "release";
		}
	}
	for (i = 0; i < nr; i++) {
		if ((st = open_repo(o, &rs[i], profiles[i], err)) != RP_OK ||
		    (st = decide_repo(&rs[i], pol, now, err)) != RP_OK)
			goto out;
	}
	for (i = 0; !o->dry_run && i < nr; i++)
		failed |= execute(&rs[i]);
	st = report(o, rs, nr, err);
	if (st == RP_OK && failed)
		st = rp_fail(err, RP_EREGISTRY, "some deletes failed (see the table); a rerun "
			     "deletes what is left");
out:
	for (i = 0; i < 64; i++) {
		for (k = 0; k < rs[i].n; k++) {
			free(rs[i].rows[k].tag);
			free(rs[i].rows[k].detail);
			free(rs[i].rows[k].error);
		}
		free(rs[i].rows);
		reg_free(rs[i].reg);
		free(rs[i].host);
		free(rs[i].path);
	}
	ghctx_event_free(&ev);
	policy_free(pol);
	return st;
}
