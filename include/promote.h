/*
 * promote.h — `regpush promote`: release without rebuilding. The exact
 * digest of a tested image (--from) is copied into the current ref's plan
 * and tagged there through the same safe tag-writing stage as push.
 */
#ifndef RP_PROMOTE_H
#define RP_PROMOTE_H

#include "ghctx.h"
#include "util.h"

rp_status promote_run(struct rp_opts *o, struct rp_err *err);

#endif
