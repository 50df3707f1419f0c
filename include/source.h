/*
 * source.h — what an OCI source already says about itself. For oci: and
 * oci-archive: sources the digest is in index.json, so it is known before
 * anything is copied and the image can be pushed straight from the source
 * with --preserve-digests.
 */
#ifndef RP_SOURCE_H
#define RP_SOURCE_H

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

#endif
