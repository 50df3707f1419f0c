/*
 * push.h — `regpush push`: the plan's tags written to the registry.
 */
#ifndef RP_PUSH_H
#define RP_PUSH_H

#include "ghctx.h"
#include "util.h"

rp_status push_run(struct rp_opts *o, struct rp_err *err);

#endif
