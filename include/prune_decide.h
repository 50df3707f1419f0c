/*
 * prune_decide.h — prune's retention and protection as pure functions
 * over rows, so every rule is one row of a table test (tests/
 * test_prune_decide.c). prune.c gathers what they read (tags, digests,
 * ages, the digests kept tags need) and carries out what they decide.
 */
#ifndef RP_PRUNE_DECIDE_H
#define RP_PRUNE_DECIDE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "policy.h"
#include "util.h"

enum prune_action {
	PRUNE_KEEP = 0,
	PRUNE_UNTAG,   /* the tag alone goes; its image stays for a kept tag */
	PRUNE_DELETE,  /* the image goes, and every (expired) tag on it */
	PRUNE_WITH,    /* goes with another row's PRUNE_DELETE */
	PRUNE_AFTER,   /* an attachment: deleted by digest once its image's
			* delete (row `by`) succeeded */
};

/* Ages, in days; besides these, 0 or more. */
#define PRUNE_AGE_UNKNOWN (-1L)     /* no created time, or before 2000 */
#define PRUNE_AGE_PLACEHOLDER (-2L) /* the image is reg_untag's own */
#define PRUNE_AGE_DANGLING (-3L)    /* an index whose first entry is gone */

/* prune_class's answers below 0 (kept, whatever the policy). */
#define PRUNE_CLS_NONE (-1)        /* matches no pattern */
#define PRUNE_CLS_ATTACHMENT (-3)  /* sha256-<hex>.sig, .att, .sbom */

struct prune_row {
	/* in */
	const char *tag;
	const char *digest;  /* "" when the tag could not be read */
	int cls;             /* prune_class of the tag */
	long age;            /* read only when prune_measured says so */
	/* out */
	enum prune_action act;
	const char *reason;  /* static text */
	const char *by;      /* the tag keeping or deleting the image, or the
			      * unreadable kept tag (borrowed), or NULL */
	const char *by_note; /* static text that follows by ("" mostly) */
	char subject[RP_DIGEST_MAX]; /* an attachment's image (prune_follow) */
};

/* The age in days of the image whose config (parsed; NULL: unreadable)
 * is c, against now: its `created`; PRUNE_AGE_UNKNOWN when missing,
 * unparsable or before 2000 (reproducible builds set 0), 0 when after
 * now, PRUNE_AGE_PLACEHOLDER for reg_untag's own config. */
long prune_config_age(const json_t *c, time_t now);

/* A tag of class cls never goes under pol: no pattern, never pruned, or
 * a retention of never. Such a tag that cannot be read is a blind spot:
 * its image may be any. */
int prune_kept_class(const struct policy *pol, int cls);

/* The row's image is a candidate whose age prune must measure: its tag
 * can expire and was read. */
int prune_measured(const struct policy *pol, const struct prune_row *w);

/* Retention: each row's act and reason from its class, digest and age.
 * An expired row is PRUNE_DELETE until prune_protect says otherwise. */
void prune_retain(const struct policy *pol, struct prune_row *rows, size_t n);

/*
 * Protection, after prune_retain: kept(ctx, digest) returns the kept tag
 * that needs digest (itself or as a child of a kept index), or NULL. A
 * PRUNE_DELETE row whose image is needed becomes PRUNE_UNTAG; the later
 * rows of a digest deleted by an earlier one become PRUNE_WITH. When
 * blind is a kept tag that could not be read, nothing is deleted by
 * digest: every PRUNE_DELETE and PRUNE_WITH becomes PRUNE_UNTAG.
 */
void prune_protect(struct prune_row *rows, size_t n,
		   const char *(*kept)(void *ctx, const char *digest), void *ctx,
		   const char *blind);

/*
 * Attachments (cosign's sha256-<hex>.sig, .att, .sbom: PRUNE_CLS_ATTACHMENT),
 * after prune_protect, following their image (subject: the digest the
 * tag names): kept while kept(ctx, subject) — a kept tag's digest or a
 * kept index's child; PRUNE_AFTER when goes(ctx, subject) names the row
 * deleting it in this run (its digest, or an index listing it: by is
 * that row's tag); else by state(ctx, subject): 0, the image is gone —
 * swept (PRUNE_DELETE, or PRUNE_UNTAG when a kept tag needs the
 * attachment's own manifest); 1, it is there untagged — kept; anything
 * else — kept, "subject state unknown". With blind (a kept tag not
 * readable) nothing is known: every one is kept so. by names the image
 * (the row's subject) for the table, unless a delete waits on a row.
 */
void prune_follow(struct prune_row *rows, size_t n,
		  const char *(*kept)(void *ctx, const char *digest),
		  const char *(*goes)(void *ctx, const char *digest),
		  int (*state)(void *ctx, const char *digest), void *ctx, const char *blind);

#endif
