/*
 * prune.c — `regpush prune`.
 *
 * For each repository (the service's development and production ones, or
 * every --repository): list the tags, read each tag's digest, classify the
 * tag (prune_class, by tagscheme under the policy's sha-length), and
 * measure the age of the candidates from their image config's `created`
 * (an index: its first platform's). A tag whose age cannot be known (no
 * `created`, unparsable, before 2000) is kept. This file gathers and
 * decides (prune_retain, prune_protect); prune_apply.c carries out,
 * prune_report.c prints.
 *
 * What goes is the tag, never an image another tag needs. Every digest
 * that a kept tag points at, and every child of a kept index, is
 * protected: an expired tag on such a digest is only untagged
 * (reg_untag). A digest whose tags all expire, and that no kept index
 * lists, is deleted by digest, once, which removes those tags together
 * on distribution; a registry that keeps them (go-containerregistry) has
 * them deleted by name after. Every tag said to go is read back.
 * --dry-run prints the same table and deletes nothing; a failure on one
 * row is reported and the rest go on (exit 1 at the end).
 */
#include "prune.h"
#include "prune_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "imgref.h"
#include "policy.h"
#include "registry.h"
#include "tagscheme.h"
#include "target.h"

int
prune_class(const struct policy *pol, const char *tag)
{
	int k = tagscheme_read(pol, tag, NULL);
	const struct tn_info *t;

	if (k < 0)
		return -2;
	if (k == TN_OTHER)
		return tagscheme_attachment(tag, NULL) ? PRUNE_CLS_ATTACHMENT : PRUNE_CLS_NONE;
	t = tagscheme_info((enum tn_kind)k);
	return t->forever ? RP_ENV_PRODUCTION : (int)t->env;
}

/* The manifests of `digests`, each as parsed JSON in out (a json object
 * keyed by digest; one that is gone is absent). Fetched concurrently. */
static rp_status
fetch_manifests(struct repo *r, const struct rp_strset *digests, json_t *out, struct rp_err *err)
{
	return reg_manifests_json(r->t->reg, r->t->path, digests->v, NULL, digests->n, out, err);
}

/* Candidates whose manifest by digest is gone while a tag still resolves
 * to it (go-containerregistry keeps tags on a digest delete: a delete cut
 * short, or another tool's): read through a tag instead, the bytes
 * checked against the digest, into mans. */
static rp_status
fetch_by_tag(struct repo *r, const struct rp_strset *cands, json_t *mans, struct rp_err *err)
{
	char **refs = calloc(cands->n + 1, sizeof(*refs));
	char **want = calloc(cands->n + 1, sizeof(*want));
	size_t i, k, n = 0;
	rp_status st = RP_OK;

	if (refs == NULL || want == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; st == RP_OK && i < cands->n; i++) {
		if (json_object_get(mans, cands->v[i]) != NULL)
			continue;
		for (k = 0; k < r->n; k++)
			if (strcmp(r->rows[k].digest, cands->v[i]) == 0)
				break;
		if (k < r->n) {
			want[n] = cands->v[i];
			refs[n++] = r->rows[k].tag;
		}
	}
	/* Gone, or moved meanwhile: its age stays unknown. */
	if (st == RP_OK)
		st = reg_manifests_json(r->t->reg, r->t->path, refs, want, n, mans, err);
	free(refs);
	free(want);
	return st;
}

/*
 * The age in days of each image in `cands` (json object digest -> age,
 * -1 when it cannot be known): its config's created; an index's first
 * platform's. Three concurrent rounds whatever the number of images:
 * the manifests, the first children of indexes, the configs.
 */
static rp_status
measure_ages(struct repo *r, const struct rp_strset *cands, time_t now, json_t *ages,
	     struct rp_err *err)
{
	json_t *mans = json_object(), *kids = json_object(), *created = json_object();
	struct rp_strset kidset = { 0 }, cfgset = { 0 };
	char **blobs = NULL;
	size_t *lens = NULL, i;
	rp_status st;

	if (mans == NULL || kids == NULL || created == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = fetch_manifests(r, cands, mans, err)) != RP_OK ||
	    (st = fetch_by_tag(r, cands, mans, err)) != RP_OK)
		goto out;
	for (i = 0; i < cands->n && st == RP_OK; i++) {
		json_t *m = json_object_get(mans, cands->v[i]), *list = json_array(), *e;
		const char *k = json_string_value(json_object_get(
		    json_array_get(json_object_get(m, "manifests"), 0), "digest"));
		size_t j;
		if (k != NULL && imgref_digest_valid(k) && rp_strset_add(&kidset, k) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		/* An index's entries, for deleting it before them. */
		json_array_foreach(json_object_get(m, "manifests"), j, e) {
			const char *d = json_string_value(json_object_get(e, "digest"));
			if (d != NULL && list != NULL && json_array_append_new(list, json_string(d)) != 0)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
		}
		if (list == NULL || (json_is_array(json_object_get(m, "manifests")) &&
				     json_object_set(r->kids, cands->v[i], list) != 0))
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		json_decref(list);
	}
	if (st != RP_OK || (st = fetch_manifests(r, &kidset, kids, err)) != RP_OK)
		goto out;
	/* The config of each candidate (through its first child). */
	for (i = 0; i < cands->n && st == RP_OK; i++) {
		json_t *m = json_object_get(mans, cands->v[i]);
		const char *k = json_string_value(json_object_get(
		    json_array_get(json_object_get(m, "manifests"), 0), "digest"));
		const char *cd;
		if (k != NULL && json_object_get(kids, k) == NULL) {
			/* Its first entry is gone: a dangling index. */
			if (json_object_set_new(ages, cands->v[i], json_string("dangling")) != 0)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
			continue;
		}
		if (k != NULL)
			m = json_object_get(kids, k);
		cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
		if (cd != NULL && imgref_digest_valid(cd) && rp_strset_add(&cfgset, cd) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		if (json_object_set_new(ages, cands->v[i], json_string(cd != NULL ? cd : "")) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (st != RP_OK)
		goto out;
	if (cfgset.n > 0 && ((blobs = calloc(cfgset.n, sizeof(*blobs))) == NULL ||
			     (lens = calloc(cfgset.n, sizeof(*lens))) == NULL)) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (cfgset.n > 0 &&
	    (st = reg_blob_get_many(r->t->reg, r->t->path, cfgset.v, cfgset.n, REG_CONFIG_MAX, blobs, lens, err)) != RP_OK)
		goto out;
	for (i = 0; i < cfgset.n; i++) {
		json_t *c = json_loadb(blobs[i], lens[i], 0, NULL);
		json_object_set_new(created, cfgset.v[i], json_integer(prune_config_age(c, now)));
		json_decref(c);
	}
	/* ages: digest -> config digest, now -> age. */
	for (i = 0; i < cands->n; i++) {
		const char *cd = json_string_value(json_object_get(ages, cands->v[i]));
		json_t *a = json_object_get(created, cd != NULL ? cd : "");
		json_object_set_new(ages, cands->v[i], json_integer(
		    cd != NULL && strcmp(cd, "dangling") == 0 ? PRUNE_AGE_DANGLING :
		    a != NULL ? json_integer_value(a) : -1));
	}
out:
	for (i = 0; blobs != NULL && i < cfgset.n; i++)
		free(blobs[i]);
	free(blobs);
	free(lens);
	rp_strset_free(&kidset);
	rp_strset_free(&cfgset);
	json_decref(mans);
	json_decref(kids);
	json_decref(created);
	return st;
}

/* Every digest a kept tag needs: its own, and its children when it is an
 * index (kept: digest -> the kept tag's name). */
static rp_status
protect(struct repo *r, json_t *kept, struct rp_err *err)
{
	struct rp_strset keep = { 0 };
	json_t *mans = json_object(), *m;
	size_t i, k;
	rp_status st = RP_OK;

	if (mans == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; i < r->n && st == RP_OK; i++) {
		const struct row *w = &r->rows[i];
		/* An attachment needs no image: it follows one (prune_follow). */
		if (w->d.act != PRUNE_KEEP || w->digest[0] == '\0' || w->d.cls == PRUNE_CLS_ATTACHMENT ||
		    json_object_get(kept, w->digest) != NULL)
			continue;
		if (json_object_set_new(kept, w->digest, json_string(w->tag)) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	/* Only an index has children to protect: the kept digests whose HEAD
	 * said index, or could not tell, are read. */
	for (i = 0; i < r->n && st == RP_OK; i++) {
		const struct row *w = &r->rows[i];
		if (w->d.act == PRUNE_KEEP && w->digest[0] != '\0' && w->kind != 0 &&
		    w->d.cls != PRUNE_CLS_ATTACHMENT && rp_strset_add(&keep, w->digest) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (st == RP_OK)
		st = fetch_manifests(r, &keep, mans, err);
	for (i = 0; i < keep.n && st == RP_OK; i++) {
		const char *by = json_string_value(json_object_get(kept, keep.v[i]));
		json_array_foreach(json_object_get(json_object_get(mans, keep.v[i]), "manifests"), k, m) {
			const char *d = json_string_value(json_object_get(m, "digest"));
			if (d != NULL && json_object_get(kept, d) == NULL &&
			    json_object_set_new(kept, d, json_string(by)) != 0)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
		}
	}
	rp_strset_free(&keep);
	json_decref(mans);
	return st;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *
kept_by(void *ctx, const char *digest)
{
	return json_string_value(json_object_get(ctx, digest));
}

/* What prune_follow asks about an attachment's image. */
struct subjects {
	json_t *kept;   /* digest -> the kept tag needing it */
	json_t *goes;   /* digest -> the tag of the row deleting it */
	json_t *state;  /* digest -> 1 there, 0 gone (a HEAD); absent: unknown */
};

static const char *
subject_kept(void *ctx, const char *digest)
{
	return kept_by(((struct subjects *)ctx)->kept, digest);
}

static const char *
subject_goes(void *ctx, const char *digest)
{
	return json_string_value(json_object_get(((struct subjects *)ctx)->goes, digest));
}

static int
subject_state(void *ctx, const char *digest)
{
	json_t *v = json_object_get(((struct subjects *)ctx)->state, digest);

	return v != NULL ? (int)json_integer_value(v) : -1;
}

/* The attachments' images: which this run deletes (a row's digest, or an
 * index's entries), and of the others, neither kept nor deleted, whether
 * they are still in the repository (one HEAD each, at once). A failed
 * read leaves them unknown: kept. Then prune_follow decides. */
static rp_status
follow(struct repo *r, struct prune_row *dr, json_t *kept, struct rp_err *err)
{
	struct subjects sj = { kept, json_object(), json_object() };
	struct rp_strset ask = { 0 };
	char (*d)[RP_DIGEST_MAX] = NULL, subject[RP_DIGEST_MAX];
	size_t i, k;
	json_t *e;
	rp_status st = RP_OK;

	if (sj.goes == NULL || sj.state == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r->n && st == RP_OK; i++) {
		if ((dr[i].act != PRUNE_DELETE && dr[i].act != PRUNE_WITH) ||
		    dr[i].cls == PRUNE_CLS_ATTACHMENT)
			continue;
		if (json_object_get(sj.goes, dr[i].digest) == NULL &&
		    json_object_set_new(sj.goes, dr[i].digest, json_string(dr[i].tag)) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		json_array_foreach(json_object_get(r->kids, dr[i].digest), k, e)
			if (json_is_string(e) && json_object_get(kept, json_string_value(e)) == NULL &&
			    json_object_get(sj.goes, json_string_value(e)) == NULL &&
			    json_object_set_new(sj.goes, json_string_value(e), json_string(dr[i].tag)) != 0)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < r->n && st == RP_OK; i++)
		if (dr[i].cls == PRUNE_CLS_ATTACHMENT && dr[i].digest[0] != '\0' &&
		    tagscheme_attachment(dr[i].tag, subject) && json_object_get(kept, subject) == NULL &&
		    json_object_get(sj.goes, subject) == NULL && rp_strset_add(&ask, subject) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	if (st == RP_OK && ask.n > 0 && r->blind == NULL) {
		struct rp_err ignored;
		if ((d = calloc(ask.n, sizeof(*d))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if (reg_manifest_head_many(r->t->reg, r->t->path, ask.v, ask.n, d, &ignored) == RP_OK)
			for (i = 0; i < ask.n && st == RP_OK; i++)
				if (json_object_set_new(sj.state, ask.v[i], json_integer(d[i][0] != '\0')) != 0)
					st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if (st == RP_OK)
		prune_follow(dr, r->n, subject_kept, subject_goes, subject_state, &sj, r->blind);
	/* by pointed into goes, freed below: the row keeps its own copy. */
	for (i = 0; st == RP_OK && i < r->n; i++)
		if (dr[i].act == PRUNE_AFTER) {
			if ((r->rows[i].after = rp_strdup(dr[i].by)) == NULL)
				st = rp_fail(err, RP_ENOMEM, "out of memory");
			dr[i].by = r->rows[i].after;
		}
out:
	free(d);
	rp_strset_free(&ask);
	json_decref(sj.goes);
	json_decref(sj.state);
	return st;
}

/* Gathers every tag of one repository (digest, class, age, the digests
 * kept tags need) and decides it (prune_retain, prune_protect). */
static rp_status
decide_repo(struct repo *r, const struct policy *pol, time_t now, struct rp_err *err)
{
	char **tags = NULL;
	char (*d)[RP_DIGEST_MAX] = NULL;
	json_t *kept = json_object(), *ages = json_object();
	struct rp_strset cands = { 0 };
	struct prune_row *dr = NULL;
	size_t i, n;
	signed char *kinds = NULL;
	rp_status st;

	if (kept == NULL || ages == NULL || (r->kids = json_object()) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = reg_tags(r->t->reg, r->t->path, &tags, err)) != RP_OK)
		goto out;
	n = rp_strv_len(tags);
	/* The table in tag order, whatever order the registry lists. */
	qsort(tags, n, sizeof(*tags), cmp_str);
	if ((r->rows = calloc(n + 1, sizeof(*r->rows))) == NULL ||
	    (d = calloc(n + 1, sizeof(*d))) == NULL || (kinds = calloc(n + 1, sizeof(*kinds))) == NULL ||
	    (dr = calloc(n + 1, sizeof(*dr))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (n > 0 && (st = reg_manifest_head_kinds(r->t->reg, r->t->path, tags, n, d, kinds, err)) != RP_OK)
		goto out;
	for (i = 0; i < n; i++) {
		struct row *w = &r->rows[r->n++];
		w->tag = tags[i];
		tags[i] = NULL;
		memcpy(w->digest, d[i], sizeof(w->digest));
		w->kind = kinds[i];
		w->d.tag = w->tag;
		w->d.digest = w->digest;
		w->d.age = PRUNE_AGE_UNKNOWN;
		if ((w->d.cls = prune_class(pol, w->tag)) == -2) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		/* A kept tag (or one of no pattern) listed but not readable: a
		 * replica lagging, a cache. Read once more; if it still cannot
		 * be resolved, its image is unknown, so no image of this
		 * repository is deleted by digest (prune_protect's blind). */
		if (w->digest[0] == '\0' && prune_kept_class(pol, w->d.cls)) {
			struct rp_err again;
			if (reg_manifest_head(r->t->reg, r->t->path, w->tag, w->digest, &again) != RP_OK)
				w->digest[0] = '\0';
			if (w->digest[0] == '\0' && r->blind == NULL && (r->blind = rp_strdup(w->tag)) == NULL) {
				st = rp_fail(err, RP_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (prune_measured(pol, &w->d) && rp_strset_add(&cands, w->digest) != 0) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((st = measure_ages(r, &cands, now, ages, err)) != RP_OK)
		goto out;
	for (i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];
		if (prune_measured(pol, &w->d))
			w->d.age = (long)json_integer_value(json_object_get(ages, w->digest));
		dr[i] = w->d;
	}
	prune_retain(pol, dr, r->n);
	for (i = 0; i < r->n; i++)
		r->rows[i].d = dr[i];
	if ((st = protect(r, kept, err)) != RP_OK)
		goto out;
	prune_protect(dr, r->n, kept_by, kept, r->blind);
	if ((st = follow(r, dr, kept, err)) != RP_OK)
		goto out;
	for (i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];
		w->d = dr[i];
		/* Only days are shown: a placeholder or a dangling index has
		 * no age of its own. */
		if (w->d.age < 0)
			w->d.age = PRUNE_AGE_UNKNOWN;
		if (w->d.by != NULL &&
		    (w->detail = rp_asprintf("%s%s", w->d.by, w->d.by_note)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		/* by pointed into the rows or the kept set: no longer needed. */
		w->d.by = NULL;
	}
out:
	rp_strv_free(tags);
	rp_strset_free(&cands);
	free(d);
	free(kinds);
	free(dr);
	json_decref(kept);
	json_decref(ages);
	return st;
}

rp_status
prune_run(struct rp_opts *o, struct rp_err *err)
{
	struct policy *pol = NULL;
	struct target ts[TARGET_MAX];
	struct repo rs[TARGET_MAX];
	size_t nr = 0, i, k;
	time_t now;
	int failed = 0;
	rp_status st;

	memset(rs, 0, sizeof(rs));
	if ((st = target_start(o, &pol, &now, ts, &nr, err)) != RP_OK)
		goto out;
	for (i = 0; i < nr; i++) {
		rs[i].t = &ts[i];
		if ((st = target_open(o, &ts[i], err)) != RP_OK ||
		    (st = decide_repo(&rs[i], pol, now, err)) != RP_OK)
			goto out;
	}
	for (i = 0; !o->dry_run && i < nr; i++)
		failed |= prune_execute(&rs[i]);
	st = prune_report(o, rs, nr, err);
	if (st == RP_OK && failed)
		st = rp_fail(err, RP_EREGISTRY, "some deletes failed (see the table); a rerun "
			     "deletes what is left");
out:
	for (i = 0; i < TARGET_MAX; i++) {
		for (k = 0; k < rs[i].n; k++) {
			free(rs[i].rows[k].tag);
			free(rs[i].rows[k].detail);
			free(rs[i].rows[k].error);
			free(rs[i].rows[k].after);
		}
		free(rs[i].rows);
		json_decref(rs[i].kids);
		free(rs[i].blind);
	}
	target_free_all(ts, nr);
	policy_free(pol);
	return st;
}
