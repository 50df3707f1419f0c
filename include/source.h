/*
 * source.h — what an OCI source already says about itself. For oci: and
 * oci-archive: sources the digest is in index.json, so it is known before
 * anything is copied and the image can be pushed straight from the source
 * with --preserve-digests.
 */
#ifndef RP_SOURCE_H
#define RP_SOURCE_H

#include "enginecmd.h"
#include "util.h"

struct source_info {
	int known;        /* 1: digest and kind were read from the source */
	char digest[80];
	int is_index;     /* an OCI index or Docker manifest list */
};

/*
 * For "oci:DIR[:REF]" and "oci-archive:FILE[:REF]": reads index.json and
 * picks the manifest named REF (annotation org.opencontainers.image.ref.name)
 * or, without REF, the only one. Leaves info->known 0 for other transports
 * or when the choice is not clear (the caller then stages the image, and
 * skopeo reports any problem). A source that cannot be read is an error.
 */
rp_status source_inspect(const char *src, struct source_info *info,
			 struct rp_err *err);

/*
 * Checks a --source before anything runs: a supported transport
 * (docker-daemon:, oci:, oci-archive:, docker-archive:,
 * containers-storage:, docker://), a docker:// reference that parses
 * (its registry host goes to *src_host, caller frees; NULL for other
 * transports), an existing path for the file transports. RP_EINPUT
 * otherwise, with a message naming the source.
 */
rp_status source_check(const char *src, char **src_host, struct rp_err *err);

/*
 * Copies any source with skopeo into the private OCI layout
 * "oci:<work>/layout:img" (*layout, caller frees) and fills info from its
 * OCI form: the digest (the engine's --digestfile) and whether it is an
 * index. Indexes keep every platform.
 */
rp_status source_stage(const struct ecmd *e, const char *src, const char *src_host,
		       struct source_info *info, char **layout, struct rp_err *err);

/* 1 for an OCI index or Docker manifest list media type. */
int source_is_index_type(const char *media_type);

#endif
