/*
 * audit.c — `regpush audit` (see audit.h): for each repository, gather
 * what the drift rules read, in four concurrent rounds whatever the
 * number of tags: the tag listing; a HEAD per tag; the manifest of each
 * distinct digest (then each index entry not already read); the config of
 * each distinct image. Then prune's decision for every tag (so "expired"
 * says what prune would do), audit_check's findings, and one report: a
 * table or --json on stdout, the outputs `errors`, `warnings` and `json`,
 * and the step summary (counts, then the findings by service).
 *
 * A repository that cannot be read is reported and the others are still
 * audited; the exit is then 1 whatever was found.
 */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "creds.h"
#include "ghactions.h"
#include "imgref.h"
#include "prune.h"
#include "registry.h"
#include "report.h"
#include "run.h"
#include "tagscheme.h"
#include "target.h"
#include "verify.h"

/* One repository's facts and findings. */
struct repo {
	struct target *t;          /* borrowed */
	char **tags;               /* sorted; owned */
	size_t n;
	char (*digest)[RP_DIGEST_MAX];
	signed char *kind;
	json_t *mans;              /* digest -> manifest (tagged or entries) */
	json_t *configs;           /* config digest -> config */
	struct audit_row *rows;
	struct audit_finding *found;
	size_t nfound;
	char *failure;             /* the registry error, when it failed */
	json_t *unsigned_why;      /* digest -> what its signatures lack */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The manifests of digests into r->mans (a 404 leaves it absent). */
static rp_status
read_manifests(struct repo *r, const struct rp_strset *digests, struct rp_err *err)
{
	return reg_manifests_json(r->t->reg, r->t->path, digests->v, NULL, digests->n, r->mans, err);
}

static const char *
entry_digest(const json_t *index, size_t i)
{
	const char *d = json_string_value(json_object_get(
	    json_array_get(json_object_get(index, "manifests"), i), "digest"));

	return d != NULL && imgref_digest_valid(d) ? d : NULL;
}

/* The image manifest that holds digest d's config: d's own, or its first
 * entry's for an index; NULL when gone. */
static json_t *
image_of(const struct repo *r, const char *d)
{
	json_t *m = json_object_get(r->mans, d);
	const char *first;

	if (!json_is_array(json_object_get(m, "manifests")))
		return m;
	first = entry_digest(m, 0);
	return first != NULL ? json_object_get(r->mans, first) : NULL;
}

static rp_status
gather(struct repo *r, struct rp_err *err)
{
	struct rp_strset tagged = { 0 }, entries = { 0 }, cfgs = { 0 };
	char **blobs = NULL;
	size_t *lens = NULL, i, k;
	rp_status st;

	if ((r->mans = json_object()) == NULL || (r->configs = json_object()) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((st = reg_tags(r->t->reg, r->t->path, &r->tags, err)) != RP_OK)
		return st;
	r->n = rp_strv_len(r->tags);
	qsort(r->tags, r->n, sizeof(*r->tags), cmp_str);
	if ((r->digest = calloc(r->n + 1, sizeof(*r->digest))) == NULL ||
	    (r->kind = calloc(r->n + 1, sizeof(*r->kind))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (r->n > 0 &&
	    (st = reg_manifest_head_kinds(r->t->reg, r->t->path, r->tags, r->n, r->digest, r->kind, err)) != RP_OK)
		return st;
	for (i = 0; i < r->n && st == RP_OK; i++)
		if (r->digest[i][0] != '\0' && rp_strset_add(&tagged, r->digest[i]) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	if (st != RP_OK || (st = read_manifests(r, &tagged, err)) != RP_OK)
		goto out;
	/* Every entry of every index not read already: one round. */
	for (i = 0; i < tagged.n && st == RP_OK; i++) {
		json_t *m = json_object_get(r->mans, tagged.v[i]);
		const char *d;
		for (k = 0; k < json_array_size(json_object_get(m, "manifests")); k++)
			if ((d = entry_digest(m, k)) != NULL && json_object_get(r->mans, d) == NULL &&
			    rp_strset_add(&entries, d) != 0)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (st != RP_OK || (st = read_manifests(r, &entries, err)) != RP_OK)
		goto out;
	for (i = 0; i < tagged.n && st == RP_OK; i++) {
		const char *cd = json_string_value(json_object_get(
		    json_object_get(image_of(r, tagged.v[i]), "config"), "digest"));
		if (cd != NULL && imgref_digest_valid(cd) && rp_strset_add(&cfgs, cd) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (st != RP_OK || cfgs.n == 0)
		goto out;
	if ((blobs = calloc(cfgs.n, sizeof(*blobs))) == NULL || (lens = calloc(cfgs.n, sizeof(*lens))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = reg_blob_get_many(r->t->reg, r->t->path, cfgs.v, cfgs.n, REG_CONFIG_MAX, blobs, lens, err)) != RP_OK)
		goto out;
	for (i = 0; i < cfgs.n && st == RP_OK; i++) {
		json_t *c = json_loadb(blobs[i], lens[i], 0, NULL);
		if (json_object_set_new(r->configs, cfgs.v[i], c != NULL ? c : json_object()) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
out:
	for (i = 0; blobs != NULL && i < cfgs.n; i++)
		free(blobs[i]);
	free(blobs);
	free(lens);
	rp_strset_free(&tagged);
	rp_strset_free(&entries);
	rp_strset_free(&cfgs);
	return st;
}

/* With verify keys, in a production repository: each distinct image of
 * a staging or production tag checked as promote's gate checks it (a
 * signature naming the service's development repository or this one;
 * no revision to compare), one after the other. */
static rp_status
check_signatures(struct repo *r, const struct policy *pol, const struct verify_keys *vk,
		 const char *devreg, struct rp_err *err)
{
	struct target dev;
	char devrepo[600], here[600], by[RP_DIGEST_MAX], in[300], *why;
	const char *repos[3] = { devrepo, here, NULL };
	size_t i;
	rp_status st;

	if (vk == NULL || r->t->role != RP_ENV_PRODUCTION)
		return RP_OK;
	if ((r->unsigned_why = json_object()) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	memset(&dev, 0, sizeof(dev));
	if ((st = target_at(devreg, r->t->service, NULL, &dev, err)) != RP_OK)
		return st;
	snprintf(devrepo, sizeof(devrepo), "%s/%s", dev.host, dev.path);
	target_free(&dev);
	snprintf(here, sizeof(here), "%s/%s", r->t->host, r->t->path);
	for (i = 0; i < r->n && st == RP_OK; i++) {
		int k = tagscheme_read(pol, r->tags[i], NULL);
		const struct tn_info *t;
		if (k < 0)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		t = tagscheme_info((enum tn_kind)k);
		if (k == TN_OTHER || (t->env != RP_ENV_STAGING && t->env != RP_ENV_PRODUCTION) ||
		    r->digest[i][0] == '\0' || json_object_get(r->unsigned_why, r->digest[i]) != NULL)
			continue;
		if ((st = verify_find(vk, r->t->reg, r->t->host, r->t->path, r->digest[i], repos, NULL,
				      by, in, &why, err)) != RP_OK)
			break;
		if (json_object_set_new(r->unsigned_why, r->digest[i],
					why != NULL ? json_string(why) : json_null()) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		free(why);
	}
	return st;
}

static const char *
kept_by(void *ctx, const char *digest)
{
	return json_string_value(json_object_get(ctx, digest));
}

/* The rows audit_check reads, prune's decision included. */
static rp_status
make_rows(struct repo *r, const struct policy *pol, time_t now, struct rp_err *err)
{
	json_t *kept = json_object();
	struct prune_row *pr;
	const char *blind = NULL;
	size_t i, k;
	rp_status st = RP_OK;

	if ((r->rows = calloc(r->n + 1, sizeof(*r->rows))) == NULL ||
	    (pr = calloc(r->n + 1, sizeof(*pr))) == NULL) {
		json_decref(kept);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < r->n && st == RP_OK; i++) {
		struct audit_row *w = &r->rows[i];
		json_t *m = json_object_get(r->mans, r->digest[i]), *img = image_of(r, r->digest[i]);
		json_t *labels = json_object_get(json_object_get(json_object_get(r->configs,
		    json_string_value(json_object_get(json_object_get(img, "config"), "digest"))), "config"), "Labels");
		const char *d, *rev = json_string_value(json_object_get(labels, "org.opencontainers.image.revision"));
		w->tag = r->tags[i];
		w->digest = m != NULL ? r->digest[i] : "";
		w->unsigned_why = json_string_value(json_object_get(r->unsigned_why, r->digest[i]));
		w->is_index = json_is_array(json_object_get(m, "manifests"));
		for (k = 0; w->is_index && w->missing == NULL && k < json_array_size(json_object_get(m, "manifests")); k++)
			if ((d = entry_digest(m, k)) != NULL && json_object_get(r->mans, d) == NULL)
				w->missing = d;
		/* Only an image's config says: an index of indexes, or an
		 * entry gone, leaves it unknown. */
		w->has_revision = img == NULL || json_is_array(json_object_get(img, "manifests")) ? -1 :
		    rev != NULL && rev[0] != '\0';
		w->expires = json_object_get(labels, "quay.expires-after") != NULL ||
			     json_object_get(json_object_get(m, "annotations"), "quay.expires-after") != NULL ||
			     json_object_get(json_object_get(img, "annotations"), "quay.expires-after") != NULL;
		pr[i].tag = w->tag;
		pr[i].digest = w->digest;
		if ((pr[i].cls = prune_class(pol, w->tag)) == -2) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		pr[i].age = PRUNE_AGE_UNKNOWN;
		if (prune_measured(pol, &pr[i]))
			pr[i].age = w->is_index && entry_digest(m, 0) != NULL && img == NULL ?
			    PRUNE_AGE_DANGLING : prune_config_age(json_object_get(r->configs,
				json_string_value(json_object_get(json_object_get(img, "config"), "digest"))), now);
		if (w->digest[0] == '\0' && prune_kept_class(pol, pr[i].cls) && blind == NULL)
			blind = w->tag;
	}
	if (st == RP_OK)
		prune_retain(pol, pr, r->n);
	/* What the kept tags need: their images and their indexes' entries. */
	for (i = 0; st == RP_OK && i < r->n; i++) {
		json_t *m;
		const char *d;
		if (pr[i].act != PRUNE_KEEP || pr[i].digest[0] == '\0')
			continue;
		if (kept == NULL || json_object_set_new(kept, pr[i].digest, json_string(pr[i].tag)) != 0) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		m = json_object_get(r->mans, pr[i].digest);
		for (k = 0; k < json_array_size(json_object_get(m, "manifests")); k++)
			if ((d = entry_digest(m, k)) != NULL && json_object_get(kept, d) == NULL &&
			    json_object_set_new(kept, d, json_string(pr[i].tag)) != 0)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (st == RP_OK)
		prune_protect(pr, r->n, kept_by, kept, blind);
	for (i = 0; i < r->n; i++) {
		r->rows[i].prune = pr[i];
		r->rows[i].prune.by = NULL; /* pointed into kept */
	}
	free(pr);
	json_decref(kept);
	return st;
}

/* --- the report ---------------------------------------------------------- */

struct counts {
	size_t errors, warnings, failed;
};

static json_t *
findings_json(struct repo *rs, size_t nr, const struct counts *c, size_t cap, size_t *omitted)
{
	json_t *arr = json_array(), *root;
	size_t i, k, used = 0;
	char repo[600];
	int bad = arr == NULL;

	*omitted = 0;
	for (k = 0; !bad && k < nr; k++) {
		snprintf(repo, sizeof(repo), "%s/%s", rs[k].t->host, rs[k].t->path);
		for (i = 0; !bad && i < rs[k].nfound; i++) {
			const struct audit_finding *f = &rs[k].found[i];
			const struct audit_row *w = &rs[k].rows[f->row];
			bad |= report_capped_add(arr, json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s,s:s}",
			    "service", rs[k].t->service, "repository", repo, "tag", w->tag, "digest",
			    w->digest[0] != '\0' ? w->digest : NULL, "severity",
			    audit_kind_error(f->kind) ? "error" : "warning", "kind",
			    audit_kind_name(f->kind), "message", f->message), cap, &used, omitted) != 0;
		}
	}
	root = bad ? NULL : json_pack("{s:I,s:I,s:O}", "errors", (json_int_t)c->errors, "warnings",
				      (json_int_t)c->warnings, "findings", arr);
	json_decref(arr);
	if (root != NULL && *omitted > 0 &&
	    json_object_set_new(root, "omitted", json_integer((json_int_t)*omitted)) != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static char *
summary_body(struct repo *rs, size_t nr, const struct counts *c)
{
	struct report_md t = { .more = 0 };
	size_t i, k, j;
	char cell[1200], line[2600];

	sbuf_init(&t.sb, REPORT_SUMMARY_MAX);
	sbuf_printf(&t.sb, "%zu error%s, %zu warning%s in %zu repositor%s%s\n", c->errors,
		    c->errors == 1 ? "" : "s", c->warnings, c->warnings == 1 ? "" : "s", nr,
		    nr == 1 ? "y" : "ies", c->failed > 0 ? " (some could not be read)" : "");
	for (k = 0; k < nr; k++) {
		/* A service's repositories are next to each other. */
		if (k == 0 || strcmp(rs[k].t->service, rs[k - 1].t->service) != 0) {
			size_t nf = 0;
			for (j = k; j < nr && strcmp(rs[j].t->service, rs[k].t->service) == 0; j++)
				nf += rs[j].nfound + (rs[j].failure != NULL);
			sbuf_printf(&t.sb, "\n#### %s\n\n", report_md_cell(rs[k].t->service, 200, cell, sizeof(cell)));
			if (nf == 0) {
				sbuf_puts(&t.sb, "No drift.\n");
				continue;
			}
			sbuf_puts(&t.sb, "| Severity | Kind | Repository | Tag | Message |\n|---|---|---|---|---|\n");
		}
		if (rs[k].failure != NULL)
			sbuf_printf(&t.sb, "| **failed** | - | `%s/%s` | - | %s |\n", rs[k].t->host, rs[k].t->path,
				    report_md_cell(rs[k].failure, 800, cell, sizeof(cell)));
		for (i = 0; i < rs[k].nfound; i++) {
			const struct audit_finding *f = &rs[k].found[i];
			snprintf(line, sizeof(line), "| %s | %s | `%s/%s` | `%s` | %s |\n",
				 audit_kind_error(f->kind) ? "**error**" : "warning", audit_kind_name(f->kind),
				 rs[k].t->host, rs[k].t->path, rs[k].rows[f->row].tag,
				 report_md_cell(f->message, 1000, cell, sizeof(cell)));
			report_md_row(&t, line);
		}
	}
	report_md_end(&t);
	return sbuf_take(&t.sb);
}

static rp_status
stage(struct repo *rs, size_t nr, const struct counts *c, struct rp_err *err)
{
	static const char *const names[] = { "errors", "warnings" };
	size_t omitted;
	json_t *j = findings_json(rs, nr, c, REPORT_JSON_MAX, &omitted);
	char num[2][32];
	const char *values[] = { num[0], num[1] };
	rp_status st;

	snprintf(num[0], sizeof(num[0]), "%zu", c->errors);
	snprintf(num[1], sizeof(num[1]), "%zu", c->warnings);
	st = report_stage_counts(names, values, 2, j, summary_body(rs, nr, c), "clean", err);
	json_decref(j);
	return st;
}

static rp_status
report(const struct rp_opts *o, struct repo *rs, size_t nr, const struct counts *c, struct rp_err *err)
{
	struct sbuf sb;
	char *text;
	size_t i, k, omitted;
	rp_status st;

	if (o->actions && (st = stage(rs, nr, c, err)) != RP_OK)
		return st;
	if (o->json) {
		json_t *root = findings_json(rs, nr, c, 0, &omitted);
		text = root != NULL ? rp_json_dumps(root, JSON_INDENT(2)) : NULL;
		json_decref(root);
		if (text == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		if ((st = report_print(text, err)) == RP_OK)
			st = report_print("\n", err);
		free(text);
		return st;
	}
	sbuf_init(&sb, 64 << 20);
	sbuf_printf(&sb, "%-8s %-16s %-40s %-30s %-19s %s\n", "SEVERITY", "KIND", "REPOSITORY", "TAG",
		    "DIGEST", "MESSAGE");
	for (k = 0; k < nr; k++) {
		char repo[600];
		snprintf(repo, sizeof(repo), "%s/%s", rs[k].t->host, rs[k].t->path);
		for (i = 0; i < rs[k].nfound; i++) {
			const struct audit_finding *f = &rs[k].found[i];
			const struct audit_row *w = &rs[k].rows[f->row];
			sbuf_printf(&sb, "%-8s %-16s %-40s %-30s %-19.19s %s\n",
				    audit_kind_error(f->kind) ? "error" : "warning", audit_kind_name(f->kind),
				    repo, w->tag, w->digest[0] != '\0' ? w->digest : "-", f->message);
		}
	}
	sbuf_printf(&sb, "%zu error%s, %zu warning%s in %zu repositor%s\n", c->errors, c->errors == 1 ? "" : "s",
		    c->warnings, c->warnings == 1 ? "" : "s", nr, nr == 1 ? "y" : "ies");
	if ((text = sbuf_take(&sb)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = report_print(text, err);
	free(text);
	return st;
}

rp_status
audit_run(struct rp_opts *o, struct rp_err *err)
{
	struct policy *pol = NULL;
	struct target ts[TARGET_MAX];
	struct repo rs[TARGET_MAX];
	struct counts c = { 0, 0, 0 };
	struct verify_keys *vk = NULL;
	const char *regs[2];
	size_t nr = 0, i, k;
	time_t now;
	char first[RP_ERRMAX] = "";
	rp_status st;

	memset(rs, 0, sizeof(rs));
	if ((st = target_start(o, &pol, &now, ts, &nr, err)) != RP_OK ||
	    (st = verify_keys_load(o, &vk, err)) != RP_OK)
		goto out;
	regs[0] = target_registry(o, pol, 0);
	regs[1] = target_registry(o, pol, 1);
	for (i = 0; i < nr; i++) {
		if (ts[i].role < 0) {
			st = rp_fail(err, RP_EINPUT, "repository %s/%s is under neither the development "
				     "registry (%s) nor the production one (%s), or under both: audit "
				     "needs its role (set %s or %s)", ts[i].host, ts[i].path, regs[0],
				     regs[1], rp_flag("dev-registry"), rp_flag("prod-registry"));
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		struct rp_err e = { RP_OK, "" };
		rs[i].t = &ts[i];
		if ((st = target_open(o, &ts[i], &e)) == RP_OK && (st = gather(&rs[i], &e)) == RP_OK &&
		    (st = check_signatures(&rs[i], pol, vk, regs[0], &e)) == RP_OK &&
		    (st = make_rows(&rs[i], pol, now, &e)) == RP_OK)
			st = audit_check(pol, ts[i].role, regs, rs[i].rows, rs[i].n, &rs[i].found,
					 &rs[i].nfound, &e);
		if (st == RP_EINPUT) {
			*err = e;
			goto out;
		}
		if (st != RP_OK) {
			/* This repository cannot be read (or memory ran out,
			 * RP_ENOMEM being RP_EREGISTRY): the others still are. */
			if ((rs[i].failure = rp_strdup(e.msg)) == NULL) {
				st = rp_fail(err, RP_ENOMEM, "out of memory");
				goto out;
			}
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "%s", e.msg);
			c.failed++;
			fprintf(stderr, "regpush: %s\n", e.msg);
			for (k = 0; k < rs[i].nfound; k++)
				free(rs[i].found[k].message);
			rs[i].nfound = 0;
			continue;
		}
		for (k = 0; k < rs[i].nfound; k++) {
			if (audit_kind_error(rs[i].found[k].kind))
				c.errors++;
			else
				c.warnings++;
		}
	}
	if ((st = report(o, rs, nr, &c, err)) != RP_OK)
		goto out;
	if (c.failed > 0)
		st = rp_fail(err, RP_EREGISTRY, "%zu of %zu repositories could not be read (%s)", c.failed,
			     nr, first);
	else if (c.errors > 0)
		st = rp_fail(err, RP_EREFUSED, "the registry has drifted from the policy: %zu error%s "
			     "(see the findings)", c.errors, c.errors == 1 ? "" : "s");
out:
	for (i = 0; i < TARGET_MAX; i++) {
		for (k = 0; k < rs[i].nfound; k++)
			free(rs[i].found[k].message);
		free(rs[i].found);
		free(rs[i].rows);
		rp_strv_free(rs[i].tags);
		free(rs[i].digest);
		free(rs[i].kind);
		json_decref(rs[i].mans);
		json_decref(rs[i].configs);
		json_decref(rs[i].unsigned_why);
		free(rs[i].failure);
	}
	verify_keys_free(vk);
	target_free_all(ts, nr);
	policy_free(pol);
	return st;
}
