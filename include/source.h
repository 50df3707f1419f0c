/*
 * source.h — what an OCI source already says about itself. For oci: and
 * oci-archive: sources the digest is in index.json, so it is known before
 * anything is copied and the image can be pushed straight from the source
 * with --preserve-digests.
 */
#ifndef RP_SOURCE_H
#define RP_SOURCE_H

#include "engine.h"
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

/* A --source resolved into what the engines read. */
struct source_ref {
	char *ref;          /* transport reference ("oci-archive:image.tar"), owned */
	char *host;         /* a docker:// source's registry host, or NULL; owned */
	const char *format; /* static: "oci-archive", "oci", "docker-archive",
			     * "docker-daemon", "containers-storage", "docker" */
	int detected;       /* 1: a plain path, its format read from the content */
};

/*
 * Checks a --source before anything runs and resolves it. A transport
 * reference (docker-daemon:, oci:, oci-archive:, docker-archive:,
 * containers-storage:, docker://) is kept as it is, after checking that a
 * docker:// reference parses and that a file transport's path exists. Any
 * other value is a path, relative to the working directory: a directory
 * with index.json is an OCI layout, a tar with index.json an OCI archive
 * (a `docker save` tar with both index.json and manifest.json too), a tar
 * with manifest.json only a docker archive. With `container` (action
 * mode: regpush is the container action's entrypoint), containers-storage:
 * is refused and a missing path outside /github/ gets a message on the
 * runner's path translation. RP_EINPUT
 * otherwise, with a message naming the source. Free *out with
 * source_ref_free, also after a failure.
 */
rp_status source_resolve(const char *src, int container, struct source_ref *out,
			 struct rp_err *err);
void source_ref_free(struct source_ref *s);

/* "OCI archive", "docker archive", ... for a source_ref format. */
const char *source_format_name(const char *format);

/*
 * Copies any source with skopeo into the private OCI layout
 * "oci:<work>/layout:img" (*layout, caller frees) and fills info from its
 * OCI form: the digest (the engine's --digestfile) and whether it is an
 * index. Indexes keep every platform.
 */
rp_status source_stage(const struct engine *e, const char *src, const char *src_host,
		       struct source_info *info, char **layout, struct rp_err *err);


#endif
