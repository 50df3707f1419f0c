/*
 * audit.h — `regpush audit`: how far a registry has drifted from the
 * policy. audit_run gathers (one tag listing per repository, one HEAD per
 * tag, one manifest and one config read per distinct digest), audit_check
 * decides (pure: rows in, findings out; a table test), and the findings
 * are printed, staged as outputs and summed up in the exit status: 3 when
 * any is an error, 1 when a registry could not be read (1 wins), else 0.
 * It writes nothing.
 */
#ifndef RP_AUDIT_H
#define RP_AUDIT_H

#include <stddef.h>

#include "ghctx.h"
#include "policy.h"
#include "prune_decide.h"
#include "util.h"

rp_status audit_run(struct rp_opts *o, struct rp_err *err);

enum audit_kind {
	/* errors: a promise broken */
	AK_FLOATING = 0,   /* a floating tag not on the newest release of its line */
	AK_MISPLACED,      /* a tag in the other environment's repository */
	AK_EXPIRING,       /* a production image carrying quay.expires-after */
	AK_NO_REVISION,    /* a release image without its revision label */
	AK_UNSIGNED,       /* with verify keys: a staging or production
			    * image without a valid signature */
	/* warnings: hygiene */
	AK_NO_PATTERN,     /* a tag that matches no pattern */
	AK_EXPIRED,        /* past retention: prune would remove it */
	AK_REBUILT,        /* a release on none of its candidates' images */
	AK_MISSING_CHILD,  /* an index whose entry is gone */
	AK_UNREADABLE,     /* listed, but its manifest cannot be read */
	AK_COUNT
};

/* "floating-behind", "misplaced", ...: the JSON `kind`. */
const char *audit_kind_name(enum audit_kind k);

/* 1 for the kinds that are errors. */
int audit_kind_error(enum audit_kind k);

/* What audit_check reads of one tag (all borrowed). */
struct audit_row {
	const char *tag;
	const char *digest;     /* "" when its HEAD could not resolve it */
	int is_index;
	const char *missing;    /* an index's first entry that does not
				 * resolve, or NULL */
	int has_revision;       /* org.opencontainers.image.revision (an
				 * index: its first entry's config): 1 there,
				 * 0 not there, -1 unknown (no image config to
				 * read: an index of indexes, an entry gone) */
	int expires;            /* quay.expires-after, label or annotation */
	struct prune_row prune; /* prune's decision for the tag (act, by) */
	const char *unsigned_why; /* with verify keys, a staging or
				 * production tag whose image has no valid
				 * signature: what its signatures lack; NULL
				 * otherwise */
};

struct audit_finding {
	size_t row;             /* index into the rows */
	enum audit_kind kind;
	char *message;          /* owned */
};

/*
 * The findings of one repository whose role is RP_ENV_DEVELOPMENT or
 * RP_ENV_PRODUCTION, in row order then kind order, appended to *out
 * (*n of them; grown with realloc; free each message and the array).
 * `registries` are the development and production registries, for
 * messages. Returns RP_OK or RP_ENOMEM (what was appended stays valid).
 */
rp_status audit_check(const struct policy *pol, int role, const char *const registries[2],
		      const struct audit_row *rows, size_t nrows,
		      struct audit_finding **out, size_t *n, struct rp_err *err);

#endif
