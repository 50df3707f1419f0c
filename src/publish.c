/*
 * publish.c — writing a plan's tags safely (see publish.h).
 *
 * The registry has no compare-and-swap for tags, so no client can make
 * "check, then write" atomic. What this stage does instead: it writes
 * nothing but tags, all at once, right after reading them, and it trusts
 * only what it reads back at the end. The remaining window — another run
 * writing the same immutable tag between this run's last read and its
 * PUT — is about one round trip; it is detected at the end (one of the
 * two runs fails, naming both digests), and only registry-side tag
 * immutability (Quay's immutable tags, ECR's IMMUTABLE repositories,
 * Harbor's immutability rules) closes it completely.
 */
#include "publish.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ghactions.h"
#include "sig.h"

struct view {
	struct reg_view v;
	char (*all)[RP_DIGEST_MAX]; /* the digest's own HEAD, then each tag's */
	char (*cur)[RP_DIGEST_MAX]; /* all + 1: per plan tag */
};

static void
view_free(struct view *w)
{
	free(w->all);
	rp_strv_free(w->v.existing);
	memset(w, 0, sizeof(*w));
}

/* Lists the tags when a release floating tag needs them, and HEADs the
 * digest itself and every tag (one concurrent batch). */
static rp_status
read_view(struct publish *pb, struct view *w, struct reg_manifest *m, struct rp_err *err)
{
	const struct plan *p = pb->plan;
	char **names;
	size_t i;
	int need_list = 0;
	rp_status st;

	memset(w, 0, sizeof(*w));
	w->all = calloc(p->ntags + 1, sizeof(*w->all));
	names = calloc(p->ntags + 2, sizeof(*names));
	if (w->all == NULL || names == NULL) {
		free(names);
		view_free(w);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	/* One concurrent batch, so every tag is read in the same instant,
	 * right before the PUTs: the tag list (when a release floating tag
	 * needs it), the digest itself and every tag. */
	names[0] = (char *)pb->digest;
	for (i = 0; i < p->ntags; i++) {
		names[i + 1] = p->tags[i].name;
		need_list |= p->tags[i].scope != SCOPE_NONE;
	}
	st = reg_view(pb->reg, pb->repo, names, p->ntags + 1, w->all,
		      need_list ? &w->v.existing : NULL, m, err);
	free(names);
	w->cur = w->all + 1;
	w->v.current = w->cur;
	w->v.present = st == RP_OK && strcmp(w->all[0], pb->digest) == 0;
	if (st != RP_OK)
		view_free(w);
	return st;
}

/* The wait before the settling read after an immutable tag was written:
 * three times the last read of the tags (a racing run's PUT follows its
 * own read by about one round trip), at least REGPUSH_SETTLE_MS (default
 * 100 ms, 0 … 60000), at most 10 s. */
static long
settle_ms(const struct publish *pb)
{
	long floor_ms = settings_get(pb->settings, RS_SETTLE_MS);
	long ms = (long)(pb->read_s * 3000);

	if (ms > 10000)
		ms = 10000;
	return ms > floor_ms ? ms : floor_ms;
}

static void
notice(const struct publish *pb, size_t i, const char *title, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Records why tag i was kept or moved back, and says so once: a reason
 * seen before (the decision is made twice) is not printed again. */
static void
notice(const struct publish *pb, size_t i, const char *title, const char *fmt, ...)
{
	char msg[RP_WHY_MAX + 200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pb->why != NULL) {
		if (strncmp(pb->why[i], msg, RP_WHY_MAX - 1) == 0)
			return;
		size_t n = strlen(msg) < RP_WHY_MAX ? strlen(msg) : RP_WHY_MAX - 1;
		memcpy(pb->why[i], msg, n);
		pb->why[i][n] = '\0';
	}
	if (pb->quiet)
		return;
	{
		char line[RP_WHY_MAX + 400];
		snprintf(line, sizeof(line), "%s %s%s", pb->plan->tags[i].name,
			 pb->status[i] == TS_KEPT ? "kept: " : "", msg);
		gha_say(pb->actions, "notice", title, line);
	}
}

/* Decides from a fresh view; statuses of unchanged and kept tags set.
 * With m, the image's manifest is read (GET) in the same batch. A refusal
 * is worded here: `uploaded` when the image may already have been put in
 * the repository (the second decision, right before the writes). */
static rp_status
decide_now(struct publish *pb, struct decision *d, struct reg_manifest *m, int uploaded,
	   struct rp_err *err)
{
	const struct plan *p = pb->plan;
	struct view w;
	size_t i;
	rp_status st;

	double t0 = rp_mono_s();

	if ((st = read_view(pb, &w, m, err)) != RP_OK)
		return st;
	pb->read_s = rp_mono_s() - t0;
	st = decide(p, pb->digest, &w.v, pb->backwards, d, err);
	if (st == RP_EREFUSED)
		rp_fail(err, RP_EREFUSED, "refused: %s is immutable and already points at %s; this "
			"run's image is %s. %s", p->tags[d->refused_tag].image, d->refused_held,
			pb->digest, !uploaded ? "Nothing was written." :
			"No tag was written (another run wrote it while this one uploaded; the image "
			"is in the repository untagged).");
	if (st == RP_OK) {
		for (i = 0; i < p->ntags; i++) {
			pb->status[i] = d->act[i] == ACT_UNCHANGED ? TS_UNCHANGED :
			    d->act[i] == ACT_KEEP ? TS_KEPT : TS_PLANNED;
			if (d->blocker[i] != NULL && d->act[i] == ACT_KEEP)
				notice(pb, i, "regpush: kept", "%s is a newer release", d->blocker[i]);
			else if (d->blocker[i] != NULL)
				notice(pb, i, "regpush: moved back", "moved back from %s, a newer "
				       "release (%s)", d->blocker[i], rp_flag_on("allow-backwards"));
		}
	}
	view_free(&w);
	return st;
}

rp_status
publish_decide(struct publish *pb, struct decision *d, struct rp_err *err)
{
	return decide_now(pb, d, NULL, 0, err);
}

void
publish_print_writes(struct sbuf *sb, const struct plan *p, const struct decision *d,
		     const char *digest)
{
	size_t i;

	for (i = 0; i < p->ntags; i++)
		if (d->act[i] == ACT_WRITE)
			sbuf_printf(sb, "  PUT %s (%s)\n", p->tags[i].image, digest);
	if (d->writes == 0)
		sbuf_puts(sb, "  nothing: every tag is unchanged or kept\n");
}

/* PUTs the manifest with the given digest under tag `name`. */
static rp_status
put_digest(struct publish *pb, const char *name, const char *digest,
	   struct rp_err *err)
{
	struct reg_manifest m;
	rp_status st;

	if ((st = reg_manifest_get(pb->reg, pb->repo, digest, &m, err)) == RP_OK)
		st = reg_manifest_put(pb->reg, pb->repo, name, &m, err);
	reg_manifest_free(&m);
	return st;
}

/* Another run holds the immutable tag i: the floating tags this run
 * moved onto its own image go onto that run's image, then fail. */
static rp_status
lost_race(struct publish *pb, const struct view *w, size_t lost, struct rp_err *err)
{
	const struct plan *p = pb->plan;
	const char *theirs = w->cur[lost];
	struct rp_err ignored;
	size_t i;
	int moved = 0;

	for (i = 0; theirs[0] != '\0' && i < p->ntags; i++)
		if (p->tags[i].scope != SCOPE_NONE && pb->status[i] == TS_PUSHED &&
		    strcmp(w->cur[i], pb->digest) == 0 &&
		    put_digest(pb, p->tags[i].name, theirs, &ignored) == RP_OK)
			moved++;
	return rp_fail(err, RP_EREGISTRY,
		       "another run wrote %s first: it points at %s, this run's image is %s%s",
		       p->tags[lost].image, theirs[0] != '\0' ? theirs : "nothing", pb->digest,
		       moved > 0 ? "; the floating tags this run had moved were put back on it" : "");
}

/* Per plan tag, 1 when it is kept (it does not follow this run). */
static unsigned char *
kept_tags(const struct publish *pb)
{
	unsigned char *kept = calloc(pb->plan->ntags + 1, 1);
	size_t i;

	for (i = 0; kept != NULL && i < pb->plan->ntags; i++)
		kept[i] = pb->status[i] == TS_KEPT;
	return kept;
}

/*
 * One settling round on a fresh view, as settle_decide rules: a floating
 * tag past which a newer release now exists goes onto that release
 * (kept); one that another run moved while no newer release exists
 * comes back to this run's image. *fixes counts the tags written.
 */
static rp_status
settle_round(struct publish *pb, const struct view *w, const struct settling *s, int *fixes,
	     struct rp_err *err)
{
	const struct plan *p = pb->plan;
	char d[RP_DIGEST_MAX];
	size_t i;
	rp_status st = RP_OK;

	*fixes = 0;
	for (i = 0; i < p->ntags && st == RP_OK; i++) {
		if (s->act[i] == SETTLE_ONTO_NEWER) {
			if ((st = reg_manifest_head(pb->reg, pb->repo, s->newer[i], d, err)) != RP_OK)
				break;
			pb->status[i] = TS_KEPT;
			notice(pb, i, "regpush: kept", "%s, a newer release, appeared during this "
			       "run; %s is on it", s->newer[i], p->tags[i].name);
			if (d[0] != '\0' && strcmp(w->cur[i], d) != 0) {
				st = put_digest(pb, p->tags[i].name, d, err);
				++*fixes;
			}
		} else if (s->act[i] == SETTLE_RECLAIM) {
			/* Another (lower) run moved it back meanwhile. */
			if ((st = put_digest(pb, p->tags[i].name, pb->digest, err)) == RP_OK)
				pb->status[i] = TS_PUSHED;
			++*fixes;
		}
	}
	return st;
}

/* Step 3: re-read, detect a lost race, repair floating tags (at most two
 * rounds), verify. */
static rp_status
settle(struct publish *pb, struct rp_err *err)
{
	const struct plan *p = pb->plan;
	struct view w;
	struct settling s;
	unsigned char *kept = NULL;
	size_t i, off;
	int round, fixes = 0;
	rp_status st;

	/* Another run that read the immutable tag as free before this run's
	 * PUT writes it about one round trip after its read, possibly after
	 * this run's PUT: wait (settle_ms) before the read that decides who
	 * won, so that such a write is seen here (this run then fails, naming
	 * both digests) instead of both runs reporting success. */
	for (i = 0; i < p->ntags; i++)
		if (p->tags[i].kind == TAG_IMMUTABLE && pb->status[i] == TS_PUSHED) {
			if ((st = reg_pause(pb->reg, settle_ms(pb), err)) != RP_OK)
				return st;
			break;
		}
	for (round = 0;; round++) {
		if ((st = read_view(pb, &w, NULL, err)) != RP_OK)
			return st;
		if ((kept = kept_tags(pb)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			break;
		}
		if ((st = settle_decide(p, pb->digest, &w.v, kept, pb->backwards, &s, err)) != RP_OK)
			break;
		if (s.lost != SIZE_MAX) {
			st = lost_race(pb, &w, s.lost, err);
			break;
		}
		if (round < 2)
			st = settle_round(pb, &w, &s, &fixes, err);
		settling_free(&s);
		if (round == 2 || st != RP_OK || fixes == 0)
			break;
		free(kept);
		kept = NULL;
		view_free(&w);
	}
	if (st == RP_OK) {
		/* The statuses as the last round left them. */
		free(kept);
		if ((kept = kept_tags(pb)) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if ((off = settle_check(p, pb->digest, &w.v, kept)) != SIZE_MAX)
			st = rp_fail(err, RP_EREGISTRY,
				     "verification failed: %s points at %s after the push, "
				     "expected %s (another run wrote it meanwhile?)",
				     p->tags[off].image, w.cur[off][0] != '\0' ? w.cur[off] : "nothing",
				     pb->digest);
	}
	free(kept);
	view_free(&w);
	return st;
}

rp_status
publish_write(struct publish *pb, struct rp_err *err)
{
	const struct plan *p = pb->plan;
	struct reg_manifest m;
	struct decision d;
	char **names = NULL;
	size_t i, n = 0;
	rp_status st;

	memset(&m, 0, sizeof(m));
	memset(&d, 0, sizeof(d));
	/* The exact bytes, unless the caller has them, come with the re-read
	 * (reading them is not a write). */
	if ((st = decide_now(pb, &d, pb->manifest == NULL ? &m : NULL, 1, err)) != RP_OK)
		goto out;
	if (pb->manifest == NULL && m.bytes == NULL) {
		st = rp_fail(err, RP_EREGISTRY, "%s is not in the repository %s after the upload (deleted meanwhile?); "
			     "no tag was written", pb->digest, pb->repo);
		goto out;
	}
	if (pb->before_tags != NULL && (st = pb->before_tags(pb->before_ctx, err)) != RP_OK)
		goto out;
	if ((names = calloc(p->ntags + 1, sizeof(*names))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < p->ntags; i++)
		if (d.act[i] == ACT_WRITE) {
			names[n++] = p->tags[i].name;
			pb->status[i] = TS_UNKNOWN; /* until its PUT is answered */
			if (!pb->quiet && !pb->actions)
				fprintf(stderr, "+ PUT %s (%s)\n", p->tags[i].image, pb->digest);
		}
	if ((st = reg_manifest_put_many(pb->reg, pb->repo, names, n,
					pb->manifest != NULL ? pb->manifest : &m, err)) != RP_OK)
		goto out;
	for (i = 0; i < p->ntags; i++)
		if (d.act[i] == ACT_WRITE)
			pb->status[i] = TS_PUSHED;
	if (pb->after_tags != NULL && (st = pb->after_tags(pb->before_ctx, err)) != RP_OK)
		goto out;
	st = settle(pb, err);
out:
	free(names);
	decision_free(&d);
	reg_manifest_free(&m);
	return st;
}

/* Each tag's status made true for the report (see publish_report_failure).
 * Returns 1 when some tag write had gone out, else 0. */
static int
publish_failed(struct publish *pb)
{
	const struct plan *p = pb->plan;
	char (*now)[RP_DIGEST_MAX] = NULL;
	char **names = NULL;
	struct rp_err ignored;
	size_t i, n = 0;

	for (i = 0; i < p->ntags; i++)
		if (pb->status[i] == TS_PLANNED)
			pb->status[i] = TS_NOT_WRITTEN;
		else if (pb->status[i] == TS_PUSHED || pb->status[i] == TS_UNKNOWN)
			n++;
	if (n == 0 || sig_caught || pb->reg == NULL)
		return n > 0;
	/* Where the tags this run wrote (or tried to) are now: one read,
	 * within 10 s, so the report says what the registry holds. */
	now = calloc(p->ntags, sizeof(*now));
	names = calloc(p->ntags + 1, sizeof(*names));
	for (i = 0; names != NULL && i < p->ntags; i++)
		names[i] = p->tags[i].name;
	reg_limit(pb->reg, 10);
	if (now != NULL && names != NULL &&
	    reg_manifest_head_many(pb->reg, pb->repo, names, p->ntags, now, &ignored) == RP_OK)
		for (i = 0; i < p->ntags; i++)
			if (pb->status[i] == TS_PUSHED || pb->status[i] == TS_UNKNOWN)
				pb->status[i] = strcmp(now[i], pb->digest) == 0 ?
				    TS_PUSHED : TS_NOT_WRITTEN;
	free(now);
	free(names);
	return 1;
}

int
publish_true_statuses(struct publish *pb, int registry_failure)
{
	size_t i;

	if (registry_failure)
		return publish_failed(pb);
	/* Refused or invalid: nothing was written by this run. */
	for (i = 0; i < pb->plan->ntags; i++)
		if (pb->status[i] == TS_PLANNED)
			pb->status[i] = TS_NOT_WRITTEN;
	return 0;
}
