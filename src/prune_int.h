/*
 * prune_int.h — what prune's three files share, private to them:
 * prune.c gathers each repository's rows and decides them,
 * prune_apply.c carries the decisions out, prune_report.c prints the
 * table, the JSON and the step summary.
 */
#ifndef RP_PRUNE_INT_H
#define RP_PRUNE_INT_H

#include <jansson.h>

#include "ghctx.h"
#include "prune_decide.h"
#include "target.h"

struct row {
	struct prune_row d;       /* d.tag and d.digest point at the two below */
	char *tag;
	char digest[RP_DIGEST_MAX];
	signed char kind;         /* from the HEAD: 1 index, 0 image, -1 unknown */
	char *detail;             /* e.g. the kept tag sharing the image */
	char *error;              /* when the delete failed */
	char *after;              /* PRUNE_AFTER: the tag whose row deletes
				   * this attachment's image */
};

struct repo {
	struct target *t;         /* borrowed */
	struct row *rows;
	size_t n;
	json_t *kids;             /* candidate index digest -> its entries */
	char *blind;              /* a kept tag listed but not readable */
};

/* Carries out one repository's decisions (prune_apply.c); a failure on a
 * row is recorded on it and the others go on. Returns 1 when anything
 * failed. */
int prune_execute(struct repo *r);

/* The table: text, or JSON with --json; and, in Actions, the outputs and
 * step summary staged (prune_report.c). */
rp_status prune_report(const struct rp_opts *o, struct repo *rs, size_t nr, struct rp_err *err);

#endif
