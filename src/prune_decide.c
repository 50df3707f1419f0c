/*
 * prune_decide.c — what prune keeps, untags and deletes (see
 * prune_decide.h). Pure: rows in, acts and reasons out.
 */
#include "prune_decide.h"

#include <stdint.h>
#include <string.h>

#include "ghctx.h"
#include "tagscheme.h"

#define Y2000 946684800L

long
prune_config_age(const json_t *c, time_t now)
{
	const char *t = json_string_value(json_object_get(c, "created"));
	time_t when;
	long age = PRUNE_AGE_UNKNOWN;

	if (t != NULL && ghctx_parse_time(t, &when) == 0 && (long)when >= Y2000)
		age = when >= now ? 0 : (long)((now - when) / 86400);
	/* reg_untag's own manifest, left by an untag cut short. */
	if (json_is_string(json_object_get(c, "regpush.untag")))
		age = PRUNE_AGE_PLACEHOLDER;
	return age;
}

int
prune_kept_class(const struct policy *pol, int cls)
{
	return cls < 0 || cls >= RP_ENV_PRODUCTION || pol->retention[cls] < 0;
}

int
prune_measured(const struct policy *pol, const struct prune_row *w)
{
	return w->digest[0] != '\0' && !prune_kept_class(pol, w->cls);
}

void
prune_retain(const struct policy *pol, struct prune_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct prune_row *w = &rows[i];
		w->act = PRUNE_KEEP;
		w->by = NULL;
		w->by_note = "";
		if (w->digest[0] == '\0' && prune_kept_class(pol, w->cls))
			w->reason = "listed but not readable (404 twice): nothing here is deleted by digest";
		else if (w->digest[0] == '\0')
			w->reason = "gone (deleted meanwhile)";
		else if (w->cls == PRUNE_CLS_ATTACHMENT)
			w->reason = "a signature, attestation or SBOM: kept (not aged; it follows its image)";
		else if (w->cls < 0)
			w->reason = "matches no pattern";
		else if (prune_kept_class(pol, w->cls))
			w->reason = "never pruned";
		else if (w->age == PRUNE_AGE_PLACEHOLDER) {
			/* The tag was being untagged when a run stopped: finish. */
			w->act = PRUNE_DELETE;
			w->reason = "on the placeholder of an untag cut short";
		} else if (w->age == PRUNE_AGE_DANGLING) {
			/* An index whose entry is gone (a delete cut short):
			 * unpullable, and its tag's class expires — it goes. */
			w->act = PRUNE_DELETE;
			w->reason = "dangling index (an entry is gone)";
		} else if (w->age < 0)
			w->reason = "age unknown (no created time, or before 2000)";
		else if ((int64_t)w->age * 86400 <= pol->retention[w->cls])
			w->reason = "within retention";
		else {
			w->act = PRUNE_DELETE;
			w->reason = "expired";
		}
	}
}

void
prune_protect(struct prune_row *rows, size_t n,
	      const char *(*kept)(void *ctx, const char *digest), void *ctx,
	      const char *blind)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		struct prune_row *w = &rows[i];
		const char *by;
		if (w->act != PRUNE_DELETE)
			continue;
		if ((by = kept(ctx, w->digest)) != NULL) {
			w->act = PRUNE_UNTAG;
			w->reason = "expired; the image stays, kept by";
			w->by = by;
			continue;
		}
		/* The first row of a digest deletes it; the others go with it. */
		for (k = 0; k < i; k++)
			if (rows[k].act == PRUNE_DELETE && strcmp(rows[k].digest, w->digest) == 0)
				break;
		if (k < i) {
			w->act = PRUNE_WITH;
			w->reason = "expired; deleted with the image of";
			w->by = rows[k].tag;
		}
	}
	/* A kept tag could not be read: its image may be any of these, so
	 * none is deleted by digest; the expired tags are only untagged. */
	for (i = 0; blind != NULL && i < n; i++) {
		struct prune_row *w = &rows[i];
		if (w->act != PRUNE_DELETE && w->act != PRUNE_WITH)
			continue;
		w->act = PRUNE_UNTAG;
		w->reason = "expired; only untagged: the kept tag";
		w->by = blind;
		w->by_note = " could not be read (its image may be this one)";
	}
}

void
prune_follow(struct prune_row *rows, size_t n, const char *(*kept)(void *ctx, const char *digest),
	     const char *(*goes)(void *ctx, const char *digest),
	     int (*state)(void *ctx, const char *digest), void *ctx, const char *blind)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		struct prune_row *w = &rows[i];
		const char *by;
		if (w->cls != PRUNE_CLS_ATTACHMENT || w->digest[0] == '\0' ||
		    !tagscheme_attachment(w->tag, w->subject))
			continue;
		w->act = PRUNE_KEEP;
		w->reason = "a signature, attestation or SBOM of";
		w->by = w->subject;
		if (kept(ctx, w->subject) != NULL) {
			w->by_note = ": kept with its image";
		} else if (blind != NULL) {
			w->by_note = ": kept, subject state unknown (a kept tag could not be read)";
		} else if ((by = goes(ctx, w->subject)) != NULL) {
			w->act = PRUNE_AFTER;
			w->reason = "deleted after its image, deleted with";
			w->by = by;
			w->by_note = "";
		} else if (state(ctx, w->subject) == 0) {
			w->act = kept(ctx, w->digest) != NULL ? PRUNE_UNTAG : PRUNE_DELETE;
			w->by_note = ": swept, its image is gone";
		} else if (state(ctx, w->subject) == 1) {
			w->by_note = ": kept, its image is in the repository (untagged)";
		} else {
			w->by_note = ": kept, subject state unknown";
		}
	}
	/* Two swept tags on one manifest: the first deletes it. */
	for (i = 0; i < n; i++) {
		if (rows[i].cls != PRUNE_CLS_ATTACHMENT || rows[i].act != PRUNE_DELETE)
			continue;
		for (k = 0; k < i; k++)
			if ((rows[k].act == PRUNE_DELETE || rows[k].act == PRUNE_AFTER) &&
			    strcmp(rows[k].digest, rows[i].digest) == 0) {
				rows[i].act = PRUNE_UNTAG;
				break;
			}
	}
}
