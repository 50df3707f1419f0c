/*
 * decide.c — the write decision (see decide.h). Forward-only comes
 * first: a floating tag that may not move is kept even when it already
 * happens to hold this digest, so the report says why it stays.
 */
#include "decide.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "floating.h"

rp_status
decide(const struct plan *p, const char *digest, const struct reg_view *v, int backwards,
       struct decision *d, struct rp_err *err)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < p->ntags; i++)
		if (p->tags[i].kind == TAG_IMMUTABLE && v->current[i][0] != '\0' &&
		    strcmp(v->current[i], digest) != 0) {
			d->refused_tag = i;
			memcpy(d->refused_held, v->current[i], sizeof(d->refused_held));
			return RP_EREFUSED;
		}
	d->act = calloc(p->ntags + 1, sizeof(*d->act));
	d->blocker = calloc(p->ntags + 1, sizeof(*d->blocker));
	d->ntags = p->ntags;
	if (d->act == NULL || d->blocker == NULL) {
		decision_free(d);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < p->ntags; i++) {
		const char *blocker = NULL;
		if (!floating_moves(p, &p->tags[i], v->existing, &blocker) && !backwards)
			d->act[i] = ACT_KEEP;
		else if (strcmp(v->current[i], digest) == 0)
			d->act[i] = ACT_UNCHANGED;
		else {
			d->act[i] = ACT_WRITE;
			d->writes++;
		}
		if (blocker != NULL && (d->blocker[i] = rp_strdup(blocker)) == NULL) {
			decision_free(d);
			return rp_fail(err, RP_ENOMEM, "out of memory");
		}
	}
	d->upload = d->writes > 0 && !v->present;
	d->present = v->present;
	return RP_OK;
}

void
decision_free(struct decision *d)
{
	if (d == NULL)
		return;
	size_t i;

	free(d->act);
	for (i = 0; d->blocker != NULL && i < d->ntags; i++)
		free(d->blocker[i]);
	free(d->blocker);
	d->ntags = 0;
	d->act = NULL;
	d->blocker = NULL;
}

rp_status
settle_decide(const struct plan *p, const char *digest, const struct reg_view *v,
	      const unsigned char *kept, int backwards, struct settling *s, struct rp_err *err)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->lost = SIZE_MAX;
	for (i = 0; i < p->ntags; i++)
		if (p->tags[i].kind == TAG_IMMUTABLE && strcmp(v->current[i], digest) != 0) {
			s->lost = i;
			return RP_OK;
		}
	s->act = calloc(p->ntags + 1, sizeof(*s->act));
	s->newer = calloc(p->ntags + 1, sizeof(*s->newer));
	if (s->act == NULL || s->newer == NULL) {
		settling_free(s);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < p->ntags; i++) {
		if (p->tags[i].scope == SCOPE_NONE || kept[i])
			continue;
		/* A rollback puts the tag on this run's image, newer releases
		 * or not. */
		s->newer[i] = backwards ? NULL : floating_newest(p, &p->tags[i], v->existing);
		if (s->newer[i] != NULL)
			s->act[i] = SETTLE_ONTO_NEWER;
		else if (strcmp(v->current[i], digest) != 0)
			s->act[i] = SETTLE_RECLAIM;
	}
	return RP_OK;
}

size_t
settle_check(const struct plan *p, const char *digest, const struct reg_view *v,
	     const unsigned char *kept)
{
	size_t i;

	for (i = 0; i < p->ntags; i++)
		if (!kept[i] && strcmp(v->current[i], digest) != 0)
			return i;
	return SIZE_MAX;
}

void
settling_free(struct settling *s)
{
	free(s->act);
	free(s->newer);
	s->act = NULL;
	s->newer = NULL;
}
