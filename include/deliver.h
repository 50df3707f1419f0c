/*
 * deliver.h — the path push and promote share, written once: decide on a
 * fresh read of the registry; in a dry run print what the transfer and
 * the writes would be; else put the image in the repository when it is
 * not there yet (the transfer: push uploads with an engine, promote
 * mounts or copies) and write the tags (publish_write); then report. A
 * failure is reported with each tag's true status (deliver_fail).
 * This is the command layer: publish.c below it writes and prints
 * nothing of the run's report.
 */
#ifndef RP_DELIVER_H
#define RP_DELIVER_H

#include "ghctx.h"
#include "publish.h"
#include "report.h"
#include "signer.h"

/* How the image gets into the repository by digest. */
struct transfer {
	/* Puts it there; called only when a tag needs writing and the
	 * registry lacks the image. */
	rp_status (*put)(void *ctx, struct rp_err *err);
	/* Dry run: appends what put would do ("  ...\n") to sb. */
	void (*describe)(void *ctx, struct sbuf *sb);
	/* After put, or where it would have run, before any write: may be
	 * NULL (push removes its credentials file here). */
	void (*after)(void *ctx);
	void *ctx;
	/* With a key, the image (and an index's children) is signed in the
	 * repository after put and before any tag is written (signer.h);
	 * NULL: unsigned. */
	struct signer *signer;
	/* May be NULL. After the decision's read and before anything is
	 * written, also in a dry run: what was read beside the decision is
	 * joined and its verdict given (promote's gate and the carry's
	 * reads). Its failure is the one reported. */
	rp_status (*ready)(void *ctx, struct rp_err *err);
	void *ready_ctx;
	/* May be NULL. Where the image is there or is put there: promote
	 * brings the source's attachments (carry.h). In a dry run (sb not
	 * NULL) it appends what it would write. Else it starts the writes
	 * beside put; carry_join waits for them — before any signature or
	 * tag is written — and carry_settle reads them back after the tags
	 * (tags_written), sharing their settling pause. */
	rp_status (*carry)(void *ctx, struct sbuf *sb, struct rp_err *err);
	rp_status (*carry_join)(void *ctx, struct rp_err *err);
	rp_status (*carry_settle)(void *ctx, int tags_written, struct rp_err *err);
	/* Right after the tag PUTs were answered: starts carry_settle's
	 * work on the carry's thread, which carry_join then joins. */
	rp_status (*carry_after_tags)(void *ctx, struct rp_err *err);
	/* Not NULL: the image is no index, and this second client to the
	 * repository signs it on the signer's thread while put uploads. */
	struct reg_client *sign_reg;
};

/* Decides, then prints (dry run) or transfers and writes, then reports
 * res (its status and why are pb's). */
rp_status deliver_run(const struct rp_opts *o, struct publish *pb, const struct transfer *t,
		      struct run_result *res, struct rp_err *err);

/* After a failure once the plan is made (pb->plan and pb->status set;
 * pb->reg may be NULL): each tag's status made true
 * (publish_true_statuses), then the failure reported. */
void deliver_fail(const struct rp_opts *o, struct publish *pb, const char *command,
		  const char *source, const struct rp_err *err);

#endif
