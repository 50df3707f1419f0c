/*
 * transfer.h — the two ways an image gets into the destination
 * repository by digest before its tags are written (deliver.h's struct
 * transfer): push uploads it with an engine, promote mounts its blobs
 * from the source repository or copies it with skopeo. Neither writes a
 * tag of the plan, and both check that the digest stored is the one
 * expected.
 */
#ifndef RP_TRANSFER_H
#define RP_TRANSFER_H

#include "carry.h"
#include "deliver.h"
#include "engine.h"
#include "registry.h"
#include "target.h"

/* push: the image at `layout` (an OCI layout or archive the engine
 * reads) into dst, by digest with skopeo (stored untagged), or with
 * buildah through a scratch tag of this run's that is removed again. */
struct upload {
	struct engine *e;         /* its work directory and auth file */
	const struct target *dst; /* opened */
	const char *layout;
	const char *digest;       /* what the upload must store */
	int is_index;
	char **own_auth;          /* the credentials file, removed after the
				   * upload (e->auth falls back to
				   * `authfile`) */
	const char *authfile;     /* --authfile, or NULL */
};

/* promote: every blob of the image mounted from src into dst when both
 * are on one host (an index's children PUT by their exact bytes; the top
 * manifest goes up with the tags), else — or when a mount is refused —
 * skopeo copy --all --preserve-digests with one auth file holding both
 * accounts. */
struct copy {
	const struct rp_opts *o;
	const struct target *src, *dst; /* opened */
	const char *digest;       /* the image's */
	const char *source;       /* host/path@digest, for messages */
	const struct reg_manifest *top, *kids; /* the image's manifests */
	size_t nkids;             /* 0: top is an image, else an index */
	char *work, *own_auth;    /* the copy's private directory (owned) */
	struct carry_ahead *ahead; /* the attachments, read beside the decision
				   * (carry.h), or NULL: none carried */
};

struct transfer transfer_upload(struct upload *u);
struct transfer transfer_copy(struct copy *c);

/* Removes what the copy left (its work directory). */
void copy_cleanup(struct copy *c);

#endif
