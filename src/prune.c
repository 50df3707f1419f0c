/*
 * prune.c — `regpush prune`.
 *
 * For each repository (the service's development and production ones, or
 * every --repository): list the tags, read each tag's digest, classify the
 * tag (prune_class, by tagscheme under the policy's sha-length), and measure the age of the candidates from their
 * image config's `created` (an index: its first platform's). A tag whose
 * age cannot be known (no `created`, unparsable, before 2000) is kept.
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
#include "prune_decide.h"

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
#include "report.h"
#include "run.h"
#include "tagscheme.h"
#include "target.h"

#define CONFIG_MAX (4 * 1024 * 1024)

struct row {
	struct prune_row d;       /* d.tag and d.digest point at the two below */
	char *tag;
	char digest[RP_DIGEST_MAX];
	signed char kind;         /* from the HEAD: 1 index, 0 image, -1 unknown */
	char *detail;             /* e.g. the kept tag sharing the image */
	char *error;              /* when the delete failed */
};

struct repo {
	struct target *t;         /* borrowed */
	struct row *rows;
	size_t n;
	json_t *kids;             /* candidate index digest -> its entries */
	char *blind;              /* a kept tag listed but not readable */
};

int
prune_class(const struct policy *pol, const char *tag)
{
	int k = tagscheme_read(pol, tag, NULL);
	const struct tn_info *t;

	if (k < 0)
		return -2;
	if (k == TN_OTHER)
		return -1;
	t = tagscheme_info((enum tn_kind)k);
	return t->forever ? RP_ENV_PRODUCTION : (int)t->env;
}

/* The manifests of `digests`, each as parsed JSON in out (a json object
 * keyed by digest; one that is gone is absent). Fetched concurrently. */
static rp_status
fetch_manifests(struct repo *r, const struct rp_strset *digests, json_t *out, struct rp_err *err)
{
	return reg_manifests_json(r->t->reg, r->t->path, digests->v, digests->n, out, err);
}

/* Candidates whose manifest by digest is gone while a tag still resolves
 * to it (go-containerregistry keeps tags on a digest delete: a delete cut
 * short, or another tool's): read through a tag instead, the bytes
 * checked against the digest, into mans. */
static rp_status
fetch_by_tag(struct repo *r, const struct rp_strset *cands, json_t *mans, struct rp_err *err)
{
	char **refs = calloc(cands->n + 1, sizeof(*refs));
	struct reg_manifest *ms = calloc(cands->n + 1, sizeof(*ms));
	const char **want = calloc(cands->n + 1, sizeof(*want));
	size_t i, k, n = 0;
	rp_status st = RP_OK;

	if (refs == NULL || ms == NULL || want == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < cands->n; i++) {
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
	if (n > 0)
		st = reg_manifest_get_some(r->t->reg, r->t->path, refs, n, ms, err);
	for (i = 0; i < n && st == RP_OK; i++) {
		json_t *j;
		if (ms[i].bytes == NULL || strcmp(ms[i].digest, want[i]) != 0)
			continue; /* gone, or moved meanwhile: age unknown */
		j = json_loadb(ms[i].bytes, ms[i].len, 0, NULL);
		if (json_object_set_new(mans, want[i], j != NULL ? j : json_object()) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; ms != NULL && i < n; i++)
		reg_manifest_free(&ms[i]);
out:
	free(refs);
	free(ms);
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
	    (st = reg_blob_get_many(r->t->reg, r->t->path, cfgset.v, cfgset.n, CONFIG_MAX, blobs, lens, err)) != RP_OK)
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
		if (w->d.act != PRUNE_KEEP || w->digest[0] == '\0' || json_object_get(kept, w->digest) != NULL)
			continue;
		if (json_object_set_new(kept, w->digest, json_string(w->tag)) != 0)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	}
	/* Only an index has children to protect: the kept digests whose HEAD
	 * said index, or could not tell, are read. */
	for (i = 0; i < r->n && st == RP_OK; i++) {
		const struct row *w = &r->rows[i];
		if (w->d.act == PRUNE_KEEP && w->digest[0] != '\0' && w->kind != 0 &&
		    rp_strset_add(&keep, w->digest) != 0)
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

/* The PRUNE_DELETE rows in `which` (indexes or not), at once; a failure
 * is recorded on its row and on the rows deleted with it. *failed_idx
 * collects the digests of indexes whose delete failed. Returns 1 when
 * any failed. */
static int
delete_rows(struct repo *r, int indexes, json_t *failed_idx)
{
	char **refs = calloc(r->n + 1, sizeof(*refs)), **errs = calloc(r->n + 1, sizeof(*errs));
	size_t *which = calloc(r->n + 1, sizeof(*which)), i, k, nd = 0;
	int failed = 0;

	if (refs == NULL || errs == NULL || which == NULL) {
		for (i = 0; i < r->n; i++)
			if (r->rows[i].d.act == PRUNE_DELETE && r->rows[i].error == NULL)
				r->rows[i].error = rp_strdup("out of memory");
		free(refs);
		free(errs);
		free(which);
		return 1;
	}
	for (i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];
		int is_index = json_object_get(r->kids, w->digest) != NULL;
		if (w->d.act != PRUNE_DELETE || w->error != NULL || is_index != indexes)
			continue;
		/* An entry of an index whose delete failed stays: deleting
		 * it would leave that index dangling. */
		if (!indexes && json_object_get(failed_idx, w->digest) != NULL) {
			static const char why[] = "not deleted: an index listing it could not be deleted";
			w->error = rp_strdup(why);
			for (k = 0; k < r->n; k++)
				if (r->rows[k].d.act == PRUNE_WITH && strcmp(r->rows[k].digest, w->digest) == 0)
					r->rows[k].error = rp_strdup(why);
			failed = 1;
			continue;
		}
		which[nd] = i;
		refs[nd++] = w->digest;
	}
	if (nd > 0 && reg_manifest_delete_many(r->t->reg, r->t->path, refs, nd, errs) > 0) {
		failed = 1;
		for (i = 0; i < nd; i++) {
			struct row *w = &r->rows[which[i]];
			json_t *e;
			if (errs[i] == NULL)
				continue;
			w->error = errs[i];
			for (k = 0; k < r->n; k++)
				if (r->rows[k].d.act == PRUNE_WITH && strcmp(r->rows[k].digest, w->digest) == 0)
					r->rows[k].error = rp_strdup(errs[i]);
			json_array_foreach(json_object_get(r->kids, w->digest), k, e)
				if (json_is_string(e))
					(void)json_object_set_new(failed_idx, json_string_value(e), json_true());
		}
	}
	free(refs);
	free(errs);
	free(which);
	return failed;
}

/* The rows whose act is one of acts (a mask of 1 << act) and that have
 * no error yet: their indexes into r->rows, and their tags. */
static size_t
pick_rows(struct repo *r, unsigned acts, size_t *which, char **tags)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		if ((acts & (1u << r->rows[i].d.act)) != 0 && r->rows[i].error == NULL) {
			which[n] = i;
			tags[n++] = r->rows[i].tag;
		}
	return n;
}

/* The digests the tags of which[0..n) resolve to now ("" when gone), or
 * NULL — a failed read is then the error of every row. */
static char (*reread(struct repo *r, const size_t *which, char **tags, size_t n))[RP_DIGEST_MAX]
{
	char (*now)[RP_DIGEST_MAX] = calloc(n + 1, sizeof(*now));
	struct rp_err e = { RP_OK, "" };
	size_t i;

	if (n > 0 && (now == NULL || reg_manifest_head_many(r->t->reg, r->t->path, tags, n, now, &e) != RP_OK)) {
		for (i = 0; i < n; i++)
			r->rows[which[i]].error = rp_strdup(now == NULL ? "out of memory" : e.msg);
		free(now);
		return NULL;
	}
	return now;
}

/* A row whose tag was found elsewhere than where this run left it. */
static void
moved(struct row *w, const char *now, const char *why)
{
	w->d.act = PRUNE_KEEP;
	w->d.reason = now[0] != '\0' ? why : "gone (deleted meanwhile)";
	free(w->detail);
	w->detail = NULL;
}

/* reg_untag of the tags in which[0..n); a failure is its row's error. */
static void
delete_tags(struct repo *r, const size_t *which, char **tags, size_t n)
{
	char **errs = n > 0 ? calloc(n, sizeof(*errs)) : NULL;
	size_t i;

	if (n == 0)
		return;
	if (errs != NULL)
		(void)reg_untag_many(r->t->reg, r->t->path, tags, n, errs);
	for (i = 0; i < n; i++) {
		struct row *w = &r->rows[which[i]];
		if (errs != NULL && errs[i] == NULL)
			continue;
		w->error = errs != NULL ? errs[i] : rp_strdup("out of memory");
	}
	free(errs);
}

/* Carries out one repository's decisions, a failure on one row never
 * stopping the others: first the untags (each tag read again right
 * before: one pushed again meanwhile is left alone), then the indexes to
 * delete, then the other images — an index's entries only once the index
 * is gone. Where the registry deletes tags (go-containerregistry keeps
 * them on a digest delete), the deleted images' tags are then deleted by
 * name. Last, every tag said to go is read again: gone means gone. One
 * still on its image is deleted by name where that may work and checked
 * once more; one still there is a failed row. Returns 1 when anything
 * failed. */
static int
execute(struct repo *r)
{
	json_t *failed_idx = json_object();
	size_t *which = calloc(r->n + 1, sizeof(*which)), *left = calloc(r->n + 1, sizeof(*left));
	char **tags = calloc(r->n + 1, sizeof(*tags)), **ltags = calloc(r->n + 1, sizeof(*ltags));
	char (*now)[RP_DIGEST_MAX] = NULL;
	const unsigned gone = 1u << PRUNE_UNTAG | 1u << PRUNE_DELETE | 1u << PRUNE_WITH;
	size_t i, n, nl = 0;
	int failed = 0, round;

	if (failed_idx == NULL || which == NULL || left == NULL || tags == NULL || ltags == NULL) {
		for (i = 0; i < r->n; i++)
			if (r->rows[i].d.act != PRUNE_KEEP && r->rows[i].error == NULL)
				r->rows[i].error = rp_strdup("out of memory");
		failed = 1;
		goto out;
	}
	n = pick_rows(r, 1u << PRUNE_UNTAG, which, tags);
	if ((now = reread(r, which, tags, n)) != NULL)
		for (i = 0; i < n; i++)
			if (strcmp(now[i], r->rows[which[i]].digest) != 0)
				moved(&r->rows[which[i]], now[i], "kept: moved meanwhile");
	free(now);
	n = pick_rows(r, 1u << PRUNE_UNTAG, which, tags);
	delete_tags(r, which, tags, n);
	(void)delete_rows(r, 1, failed_idx);
	(void)delete_rows(r, 0, failed_idx);
	/* A registry that deletes tags may keep them on a digest delete
	 * (go-containerregistry): their tags are deleted by name at once,
	 * without reading them first. The first asks whether it can. */
	n = pick_rows(r, 1u << PRUNE_DELETE | 1u << PRUNE_WITH, which, tags);
	if (n > 0 && reg_deletes_tags(r->t->reg) == 0) {
		struct rp_err e = { RP_OK, "" };
		int done = 0;
		if (reg_tag_delete(r->t->reg, r->t->path, tags[0], &done, &e) != RP_OK)
			r->rows[which[0]].error = rp_strdup(e.msg);
	}
	if (n > 0 && reg_deletes_tags(r->t->reg) > 0)
		delete_tags(r, which, tags, pick_rows(r, 1u << PRUNE_DELETE | 1u << PRUNE_WITH, which, tags));
	/* Gone means gone: twice, the second time after deleting by name
	 * what a digest delete left. */
	for (round = 0; round < 2; round++) {
		n = round == 0 ? pick_rows(r, gone, which, tags) : nl;
		if (round == 1) {
			memcpy(which, left, nl * sizeof(*which));
			memcpy(tags, ltags, nl * sizeof(*tags));
		}
		if (n == 0 || (now = reread(r, which, tags, n)) == NULL)
			break;
		for (i = 0, nl = 0; i < n; i++) {
			struct row *w = &r->rows[which[i]];
			if (now[i][0] == '\0' || w->error != NULL)
				continue;
			if (strcmp(now[i], w->digest) != 0)
				moved(w, now[i], "kept: pushed again meanwhile");
			else if (round == 0 && w->d.act != PRUNE_UNTAG && reg_deletes_tags(r->t->reg) >= 0) {
				left[nl] = which[i];
				ltags[nl++] = w->tag;
			} else
				w->error = rp_strdup("still there after its delete (the registry kept the tag)");
		}
		free(now);
		now = NULL;
		if (round == 0)
			delete_tags(r, left, ltags, nl);
	}
	for (i = 0; i < r->n; i++)
		if (r->rows[i].error != NULL)
			failed = 1;
out:
	json_decref(failed_idx);
	free(which);
	free(left);
	free(tags);
	free(ltags);
	return failed;
}

static const char *
action_name(enum prune_action a)
{
	return a == PRUNE_KEEP ? "keep" : "delete";
}

/* A row's reason with its detail ("expired; kept by latest"), and the
 * failure when its delete failed. */
static void
row_reason(const struct row *w, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", w->d.reason, w->detail != NULL ? " " : "",
		 w->detail != NULL ? w->detail : "", w->error != NULL ? "; FAILED: " : "",
		 w->error != NULL ? w->error : "");
}

static json_t *
row_json(const char *repo, const struct row *w)
{
	return json_pack("{s:s,s:s,s:s?,s:o,s:s,s:s,s:s?,s:s?}", "repository", repo, "tag", w->tag,
			 "digest", w->digest[0] != '\0' ? w->digest : NULL,
			 "age_days", w->d.age >= 0 ? json_integer(w->d.age) : json_null(),
			 "action", action_name(w->d.act), "reason", w->d.reason, "detail", w->detail,
			 "error", w->error);
}

struct counts {
	size_t del, keep, fail;
};

/* The report object; with `cap`, only the rows that fit in about cap
 * bytes, then "omitted": how many did not. NULL when out of memory. */
static json_t *
report_object(const struct rp_opts *o, struct repo *rs, size_t nr, const struct counts *c,
	      size_t cap)
{
	json_t *arr = json_array(), *root;
	size_t i, k, used = 0, omitted = 0;
	int bad = arr == NULL;
	char repo[600];

	for (k = 0; !bad && k < nr; k++) {
		snprintf(repo, sizeof(repo), "%s/%s", rs[k].t->host, rs[k].t->path);
		for (i = 0; !bad && i < rs[k].n; i++)
			bad |= report_capped_add(arr, row_json(repo, &rs[k].rows[i]), cap, &used, &omitted) != 0;
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	root = json_pack("{s:s,s:b,s:o,s:I,s:I,s:I}", "command", "prune", "dry_run", o->dry_run,
			 "tags", arr, "deleted", (json_int_t)(o->dry_run ? 0 : c->del - c->fail),
			 "kept", (json_int_t)c->keep, "failed", (json_int_t)c->fail);
	if (root != NULL && omitted > 0 &&
	    json_object_set_new(root, "omitted", json_integer((json_int_t)omitted)) != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The step summary's body: the rows that fit under GitHub's 1 MiB, then
 * how many more the log has. NULL when out of memory. */
static char *
summary_body(const struct rp_opts *o, struct repo *rs, size_t nr, const struct counts *c)
{
	struct report_md t = { .more = 0 };
	size_t i, k;
	char age[32], reason[900], cell[1000], line[2600];

	sbuf_init(&t.sb, REPORT_SUMMARY_MAX);
	sbuf_printf(&t.sb, "%zu tags %s, %zu kept, %zu failed\n\n", c->del - c->fail,
		    o->dry_run ? "to delete" : "deleted", c->keep, c->fail);
	sbuf_puts(&t.sb, "| Repository | Tag | Age | Action | Reason |\n|---|---|---|---|---|\n");
	for (k = 0; k < nr; k++) {
		for (i = 0; i < rs[k].n; i++) {
			const struct row *w = &rs[k].rows[i];
			if (w->d.act == PRUNE_KEEP)
				continue;
			if (w->d.age >= 0)
				snprintf(age, sizeof(age), "%ldd", w->d.age);
			else
				snprintf(age, sizeof(age), "-");
			row_reason(w, reason, sizeof(reason));
			snprintf(line, sizeof(line), "| `%s/%s` | `%s` | %s | %s | %s |\n",
				 rs[k].t->host, rs[k].t->path, w->tag, age,
				 w->error != NULL ? "**failed**" :
				 o->dry_run ? "delete (dry run)" : "deleted",
				 report_md_cell(reason, 800, cell, sizeof(cell)));
			report_md_row(&t, line);
		}
	}
	report_md_end(&t);
	return sbuf_take(&t.sb);
}

/* Stages the outputs and summary (report_finish writes them). */
static rp_status
stage_report(const struct rp_opts *o, struct repo *rs, size_t nr, const struct counts *c,
	     struct rp_err *err)
{
	static const char *const names[] = { "deleted", "kept", "failed" };
	json_t *j = report_object(o, rs, nr, c, REPORT_JSON_MAX);
	char num[3][32];
	const char *values[] = { num[0], num[1], num[2] };
	rp_status st;

	snprintf(num[0], sizeof(num[0]), "%zu", o->dry_run ? 0 : c->del - c->fail);
	snprintf(num[1], sizeof(num[1]), "%zu", c->keep);
	snprintf(num[2], sizeof(num[2]), "%zu", c->fail);
	st = report_stage_counts(names, values, 3, j, summary_body(o, rs, nr, c),
				 o->dry_run ? "planned" : c->del - c->fail > 0 ? "pruned" : "unchanged", err);
	json_decref(j);
	return st;
}

/* The table: text, or JSON with --json; and, in Actions, the outputs and
 * step summary staged. */
static rp_status
report(const struct rp_opts *o, struct repo *rs, size_t nr, struct rp_err *err)
{
	struct sbuf sb;
	json_t *root = NULL;
	char *text = NULL, age[32], reason[900];
	struct counts c = { 0, 0, 0 };
	size_t i, k;
	rp_status st = RP_OK;

	for (k = 0; k < nr; k++)
		for (i = 0; i < rs[k].n; i++) {
			c.del += rs[k].rows[i].d.act != PRUNE_KEEP;
			c.keep += rs[k].rows[i].d.act == PRUNE_KEEP;
			c.fail += rs[k].rows[i].error != NULL;
		}
	if (o->actions && (st = stage_report(o, rs, nr, &c, err)) != RP_OK)
		return st;
	if (o->json) {
		if ((root = report_object(o, rs, nr, &c, 0)) == NULL ||
		    (text = rp_json_dumps(root, JSON_INDENT(2))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if ((st = report_print(text, err)) == RP_OK)
			st = report_print("\n", err);
		free(text);
		json_decref(root);
		return st;
	}
	sbuf_init(&sb, 64 << 20);
	if (o->dry_run)
		sbuf_puts(&sb, "dry run: nothing is deleted; a real run would do:\n");
	sbuf_printf(&sb, "%-40s %-40s %-19s %5s %-6s %s\n", "REPOSITORY", "TAG", "DIGEST", "AGE",
		    "ACTION", "REASON");
	for (k = 0; k < nr; k++) {
		for (i = 0; i < rs[k].n; i++) {
			const struct row *w = &rs[k].rows[i];
			char repo[600];
			snprintf(repo, sizeof(repo), "%s/%s", rs[k].t->host, rs[k].t->path);
			if (w->d.age >= 0)
				snprintf(age, sizeof(age), "%ldd", w->d.age);
			else
				snprintf(age, sizeof(age), "-");
			row_reason(w, reason, sizeof(reason));
			sbuf_printf(&sb, "%-40s %-40s %-19.19s %5s %-6s %s\n", repo, w->tag,
				    w->digest[0] != '\0' ? w->digest : "-", age, action_name(w->d.act), reason);
		}
	}
	sbuf_printf(&sb, "%zu to delete, %zu kept\n", c.del, c.keep);
	if ((text = sbuf_take(&sb)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else
		st = report_print(text, err);
	free(text);
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
	memset(ts, 0, sizeof(ts));
	creds_mask_all(o->actions);
	if ((st = run_load_policy(o, &pol, err)) != RP_OK)
		goto out;
	if ((st = run_now(o, &now, err)) != RP_OK)
		goto out;
	if ((st = target_select(o, pol, ts, &nr, err)) != RP_OK)
		goto out;
	for (i = 0; i < nr; i++) {
		rs[i].t = &ts[i];
		if ((st = target_open(o, &ts[i], err)) != RP_OK ||
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
	for (i = 0; i < TARGET_MAX; i++) {
		for (k = 0; k < rs[i].n; k++) {
			free(rs[i].rows[k].tag);
			free(rs[i].rows[k].detail);
			free(rs[i].rows[k].error);
		}
		free(rs[i].rows);
		json_decref(rs[i].kids);
		free(rs[i].blind);
	}
	target_free_all(ts, nr);
	policy_free(pol);
	return st;
}
