/*
 * publish.h — writing a plan's tags safely: the stage `push` runs after
 * its upload (and `promote` after its copy). The image is already in the
 * repository by digest, untagged; this stage alone writes tags.
 *
 *   1. read: every tag's digest, and the tag list when release floating
 *      tags are involved; decide (decide.h) — an immutable tag on another
 *      digest refuses (exit 3) with no tag written;
 *   2. write: the manifest's exact bytes (GET by digest, media type
 *      checked) PUT under every tag to write, concurrently, right after
 *      the read, so the window another run has to slip in is about one
 *      round trip;
 *   3. settle: re-read every tag and the tag list. An immutable tag that
 *      ended on another digest means another run wrote it first: the
 *      floating tags this run moved are put back on that run's image and
 *      the run fails (exit 1) naming both digests. A floating tag past
 *      which a newer release appeared meanwhile is put on that release
 *      and reported kept. Then every tag must be, at this last read, on
 *      the run's digest (or kept), else exit 1.
 */
#ifndef RP_PUBLISH_H
#define RP_PUBLISH_H

#include "decide.h"
#include "plan.h"
#include "registry.h"
#include "report.h"
#include "settings.h"

struct publish {
	struct reg_client *reg;   /* borrowed */
	const char *repo;         /* repository path without the host */
	const struct plan *plan;  /* borrowed */
	const char *digest;       /* the run's image */
	const struct reg_manifest *manifest; /* its bytes when known, or NULL */
	int actions;              /* notices as ::notice:: */
	int quiet;                /* no notices */
	enum tag_status *status;  /* per plan tag, filled by the stages */
	char (*why)[RP_WHY_MAX];  /* per plan tag: why kept or moved back, or
				   * NULL (then not recorded) */
	int backwards;            /* --allow-backwards: floating tags may move
				   * to an older release */
	double read_s;            /* how long the last read of the tags took */
	const struct rp_settings *settings; /* REGPUSH_SETTLE_MS; NULL: default */
	/* May be NULL: publish_write calls it after its re-read, right
	 * before the tag PUTs; a failure stops them (promote joins its
	 * carry's writes here). */
	rp_status (*before_tags)(void *ctx, struct rp_err *err);
	/* May be NULL: called once the tag PUTs were answered, before the
	 * settling pause (promote starts its carry's read back here). */
	rp_status (*after_tags)(void *ctx, struct rp_err *err);
	void *before_ctx;         /* both hooks' */
};

/* Step 1 alone: reads the registry and decides (d: decision_free). Also
 * reports whether the image is already in the repository (d->upload). */
rp_status publish_decide(struct publish *pb, struct decision *d,
			 struct rp_err *err);

/* --dry-run: appends to sb the tag writes decision d would make ("  PUT
 * host/repo:tag (digest)" per tag), or that there are none. */
void publish_print_writes(struct sbuf *sb, const struct plan *p,
			  const struct decision *d, const char *digest);

/* Steps 1–3. The image must be in the repository by digest. */
rp_status publish_write(struct publish *pb, struct rp_err *err);

/* After a failed run once the plan is made (pb->plan and pb->status set;
 * pb->reg may be NULL): each tag's status made true. Refused or invalid
 * (registry_failure 0): what was planned is not-written. A registry
 * failure: never attempted is not-written; written or attempted is read
 * once more (within 10 s) — on the run's image: pushed, else
 * not-written; when that read fails, a confirmed write stays pushed and
 * an unanswered one is unknown. Returns 1 when some write was attempted. */
int publish_true_statuses(struct publish *pb, int registry_failure);

#endif
