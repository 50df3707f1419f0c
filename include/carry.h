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
 * none twice (the config rebuilt as cosign builds it), read back after
 * the settling pause and merged again when another writer replaced it
 * (three writes at most). Registry failures are RP_EREGISTRY naming the
 * tag.
 */
rp_status carry_write(struct carry *c, const struct carry_side *from, const struct carry_side *to,
		      const struct rp_settings *settings, struct rp_err *err);

void carry_free(struct carry *c);

#endif
