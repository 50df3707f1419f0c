/*
 * decide.h — the write decision, a pure function: the plan, the run's
 * digest and what the registry holds (each tag's digest, whether the
 * image is already in the repository, the tag list) become one action
 * per tag and whether the image must be uploaded first. The real write
 * and --dry-run both carry out this one list, so they cannot disagree;
 * push decides once before its upload and again right before its PUTs.
 */
#ifndef RP_DECIDE_H
#define RP_DECIDE_H

#include "plan.h"
#include "util.h"

enum tag_action {
	ACT_WRITE = 0,  /* PUT the manifest under the tag */
	ACT_UNCHANGED,  /* already on the digest */
	ACT_KEEP,       /* a floating tag that may not move backwards */
};

struct decision {
	enum tag_action *act; /* per plan tag (owned) */
	char **blocker;       /* per plan tag: for ACT_KEEP, the newer release
			       * in `existing` that keeps it; for ACT_WRITE
			       * with `backwards`, the newer release it
			       * moves back from (owned copies), or NULL */
	int upload;           /* the image is not in the repository and some
			       * tag is to be written: upload it first */
	int present;          /* the image is in the repository already */
	size_t writes;        /* tags with ACT_WRITE */
	size_t ntags;         /* entries of act and blocker */
	/* When decide refuses: the immutable tag (plan index) that already
	 * holds another image, and that image's digest. */
	size_t refused_tag;
	char refused_held[RP_DIGEST_MAX];
};

/* What the registry holds, as read. */
struct reg_view {
	char (*current)[RP_DIGEST_MAX]; /* per plan tag: its digest, or "" */
	int present;          /* the run's digest is in the repository */
	char **existing;      /* every tag of the repository (NULL-terminated),
			       * or NULL when not read (no scoped tag) */
};

/*
 * Decides. With `backwards` (a deliberate rollback, --allow-backwards), a
 * floating tag that a newer release would keep is written instead (its
 * blocker says from what); immutable tags are unaffected. Returns RP_OK
 * and fills *d (decision_free); RP_EREFUSED when an immutable tag already
 * holds another digest — d->refused_tag and d->refused_held say which,
 * err is left alone and the caller words the message (it knows whether
 * anything was uploaded); or RP_ENOMEM (err set). Reads nothing but its
 * arguments and keeps no pointer into them.
 */
rp_status decide(const struct plan *p, const char *digest, const struct reg_view *v,
		 int backwards, struct decision *d, struct rp_err *err);

/* Frees what decide allocated; accepts a zeroed struct. */
void decision_free(struct decision *d);

/*
 * The settling rules, pure as well: after this run's PUTs, a fresh view
 * says what each tag still needs. An immutable tag another run holds is
 * a lost race and nothing else is decided. Otherwise a floating tag not
 * kept goes onto a newer release that appeared meanwhile (unless
 * `backwards`), and one another run moved while none appeared comes back
 * to this run's image.
 */
enum settle_action {
	SETTLE_NONE = 0,   /* nothing to do */
	SETTLE_ONTO_NEWER, /* kept from now on, put on `newer` */
	SETTLE_RECLAIM,    /* PUT back onto this run's digest */
};

struct settling {
	size_t lost;              /* an immutable tag (plan index) on another
				   * digest, or SIZE_MAX */
	enum settle_action *act;  /* per plan tag, when nothing was lost (owned) */
	const char **newer;       /* per plan tag, for SETTLE_ONTO_NEWER: the
				   * release tag, a pointer into v->existing */
};

/* kept: per plan tag, 1 when the tag is kept (it does not follow this
 * run). Returns RP_OK and fills *s (settling_free), or RP_ENOMEM. */
rp_status settle_decide(const struct plan *p, const char *digest, const struct reg_view *v,
			const unsigned char *kept, int backwards, struct settling *s,
			struct rp_err *err);

/* The first tag (plan index) neither kept nor on digest in v, the one a
 * final verification names; SIZE_MAX when every tag is where this run
 * says. */
size_t settle_check(const struct plan *p, const char *digest, const struct reg_view *v,
		    const unsigned char *kept);

void settling_free(struct settling *s);

#endif
