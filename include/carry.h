/*
 * carry.h — promote's attachments: cosign's `sha256-<hex>.sig`, `.att`
 * and `.sbom` images of the promoted digest and of each child of an
 * index, brought from the source repository to the destination with the
 * digest, so `cosign verify` and `cosign verify-attestation` work where
 * the image now is.
 */
#ifndef RP_CARRY_H
#define RP_CARRY_H

#include "registry.h"
#include "settings.h"
#include "util.h"

struct carry_side {
	struct reg_client *reg;
	const char *host, *path;
};

/* What the source holds and the destination lacks, read from both. */
struct carry {
	size_t n;              /* attachment tags looked at */
	char (*tags)[100];     /* sha256-<hex>.sig|.att|.sbom */
	struct reg_manifest *src, *dst; /* per tag; bytes NULL: none */
	size_t todo;           /* tags whose destination needs a write */
	int writes;            /* rounds of writes made (carry_put, carry_settle) */
	double written_at;     /* when the last round ended (rp_mono_s) */
};

/*
 * Reads the attachment tags of digests (n; the top digest and an index's
 * children) on both sides, concurrently. Nothing is written.
 */
rp_status carry_read(const struct carry_side *from, const struct carry_side *to,
		     char *const *digests, size_t n, struct carry *c, struct rp_err *err);

/* The dry run's lines: "  carry FROM:TAG to TO (new | merged)\n". */
void carry_describe(const struct carry *c, const struct carry_side *from,
		    const struct carry_side *to, struct sbuf *sb);

/*
 * Writes what carry_read found missing: the blobs mounted from the source
 * repository on one registry host, else copied through regpush's clients
 * (each at most 4 MiB); a tag the destination lacks gets the source's
 * exact bytes; one it has with other layers gets every layer of both,
 * none twice (the config rebuilt as cosign builds it). Registry failures
 * are RP_EREGISTRY naming the tag. No pause, no read back: carry_settle.
 */
rp_status carry_put(struct carry *c, const struct carry_side *from, const struct carry_side *to,
		    struct rp_err *err);

/*
 * After carry_put: once a settling pause (REGPUSH_SETTLE_MS) has passed
 * since the writes — counting time already spent, such as the tags' own
 * settling pause — each tag written is read back and merged again when
 * another writer replaced it (three writes in all). tags_written: the
 * message says whether the tags were written before this ran.
 */
rp_status carry_settle(struct carry *c, const struct carry_side *from,
		       const struct carry_side *to, const struct rp_settings *settings,
		       int tags_written, struct rp_err *err);

/* carry_put, then carry_settle before any tag. */
rp_status carry_write(struct carry *c, const struct carry_side *from, const struct carry_side *to,
		      const struct rp_settings *settings, struct rp_err *err);

void carry_free(struct carry *c);

/*
 * The carry on a thread of its own, beside the run's other work, with
 * clients of its own (from.reg, to.reg; the caller's, freed by it):
 * carry_ahead_read starts carry_read of digests (n), carry_ahead_put
 * carry_put, carry_ahead_settle carry_settle; carry_ahead_wait joins any
 * and gives its status. A
 * thread that cannot start: the work is done there and then. c is the
 * read's result once have is set; carry_settle then runs on the caller's
 * thread with to.reg (the thread has ended).
 */
struct carry_ahead {
	struct carry_side from, to;
	char *const *digests;
	size_t n;
	struct carry c;
	int have;              /* c read */
	const struct rp_settings *settings; /* carry_ahead_settle's */
	struct rp_thread thread;
	rp_status st;
	struct rp_err err;
};

void carry_ahead_read(struct carry_ahead *a);
void carry_ahead_put(struct carry_ahead *a);
/* carry_settle (the tags written) on the thread, beside the tags' own
 * settling read. */
void carry_ahead_settle(struct carry_ahead *a, const struct rp_settings *settings);
rp_status carry_ahead_wait(struct carry_ahead *a, struct rp_err *err);
/* Joins a thread still running, frees c. */
void carry_ahead_free(struct carry_ahead *a);

#endif
