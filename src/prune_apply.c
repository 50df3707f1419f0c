/*
 * prune_apply.c — carrying out prune's decisions for one repository (see
 * prune_int.h): untags, deletes by digest (indexes before their entries),
 * deletes by name where the registry keeps tags, and the read back that
 * says what really went.
 */
#include "prune_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

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

/* The attachments whose image's delete succeeded, deleted by digest at
 * once; one whose image's delete failed stays, kept. */
static void
delete_after(struct repo *r)
{
	char **refs = calloc(r->n + 1, sizeof(*refs)), **errs = calloc(r->n + 1, sizeof(*errs));
	size_t *which = calloc(r->n + 1, sizeof(*which)), i, k, nd = 0;

	for (i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];
		if (w->d.act != PRUNE_AFTER || w->error != NULL)
			continue;
		for (k = 0; k < r->n && strcmp(r->rows[k].tag, w->after) != 0; k++)
			;
		if (k < r->n && r->rows[k].error != NULL) {
			w->d.act = PRUNE_KEEP;
			w->d.reason = "kept: the delete of its image failed, with";
			continue;
		}
		if (refs == NULL || errs == NULL || which == NULL) {
			w->error = rp_strdup("out of memory");
			continue;
		}
		which[nd] = i;
		refs[nd++] = w->digest;
	}
	if (nd > 0 && reg_manifest_delete_many(r->t->reg, r->t->path, refs, nd, errs) > 0)
		for (i = 0; i < nd; i++)
			if (errs[i] != NULL)
				r->rows[which[i]].error = errs[i];
	free(refs);
	free(errs);
	free(which);
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
int
prune_execute(struct repo *r)
{
	json_t *failed_idx = json_object();
	size_t *which = calloc(r->n + 1, sizeof(*which)), *left = calloc(r->n + 1, sizeof(*left));
	char **tags = calloc(r->n + 1, sizeof(*tags)), **ltags = calloc(r->n + 1, sizeof(*ltags));
	char (*now)[RP_DIGEST_MAX] = NULL;
	const unsigned gone = 1u << PRUNE_UNTAG | 1u << PRUNE_DELETE | 1u << PRUNE_WITH |
			      1u << PRUNE_AFTER;
	const unsigned by_digest = 1u << PRUNE_DELETE | 1u << PRUNE_WITH | 1u << PRUNE_AFTER;
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
	/* Attachments after their images: never a signature gone while its
	 * image stays. */
	delete_after(r);
	/* A registry that deletes tags may keep them on a digest delete
	 * (go-containerregistry): their tags are deleted by name at once,
	 * without reading them first. The first asks whether it can. */
	n = pick_rows(r, by_digest, which, tags);
	if (n > 0 && reg_deletes_tags(r->t->reg) == 0) {
		struct rp_err e = { RP_OK, "" };
		int done = 0;
		if (reg_tag_delete(r->t->reg, r->t->path, tags[0], &done, &e) != RP_OK)
			r->rows[which[0]].error = rp_strdup(e.msg);
	}
	if (n > 0 && reg_deletes_tags(r->t->reg) > 0)
		delete_tags(r, which, tags, pick_rows(r, by_digest, which, tags));
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
