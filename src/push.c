/*
 * push.c — `regpush push` (placeholder until the engine lands).
 */
#include "push.h"

rp_status
push_run(struct rp_opts *o, struct rp_err *err)
{
	(void)o;
	return rp_fail(err, RP_EINPUT, "regpush push is not available in this version");
}
