/*
 * engine.h — what regpush asks of skopeo and buildah: the command
 * lines (staging a source into a private OCI layout, uploading an image
 * by digest, buildah's private store), running them, and one message for
 * a failure that names the engine, the registry and what it was doing.
 * Engines never write a tag regpush reports: skopeo uploads to
 * repo@digest (stored untagged); buildah, which cannot push to a digest,
 * uploads to a scratch tag of the run's own that is removed afterwards.
 */
#ifndef RP_ENGINE_H
#define RP_ENGINE_H

#include "creds.h"
#include "child.h"
#include "settings.h"
#include "util.h"

struct engine {
	const char *engine;      /* "skopeo" (default) or "buildah" */
	const char *work;        /* the private directory */
	const char *auth;        /* auth file handed to children, or NULL */
	const char *cert_dir;    /* --cert-dir or NULL */
	char *const *insecure;   /* --insecure-registry hosts, or NULL */
	const struct creds *creds; /* the account in use (for messages) */
	const struct creds *src_creds; /* a copy: the source's account, or NULL */
	const char *src_host;    /* a copy: the source's host, or NULL */
	int actions;             /* fold output into ::group:: */
	const struct rp_settings *settings; /* timeout, attempts, backoff;
				  * NULL: the defaults */
};

/* A NULL-terminated argv being built; `failed` remembers an allocation
 * failure so a chain of adds is checked once. */
struct argv {
	char **v;
	int failed;
};

void av_add(struct argv *a, const char *s);
void av_addf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when host (host[:port]) is an --insecure-registry. */
int engine_insecure(const struct engine *e, const char *host);

/* skopeo copy of src into the OCI layout `layout` ("oci:DIR:REF"),
 * digest to dfile; --preserve-digests for OCI sources; src_host is the
 * docker:// source's registry or NULL. */
void engine_stage_argv(struct argv *a, const struct engine *e, const char *src,
		     const char *src_host, const char *layout, const char *dfile);

/* The upload: skopeo copy --all --preserve-digests LAYOUT docker://DEST,
 * or buildah (manifest) push of image_id to docker://DEST. dest is
 * "host/repo@sha256:…" for skopeo, "host/repo:scratch" for buildah. */
void engine_upload_argv(struct argv *a, const struct engine *e, const char *layout,
		      const char *image_id, int is_index, const char *host,
		      const char *dest, const char *dfile);

/* skopeo copy --all --preserve-digests from docker://SRC to
 * docker://DEST (registry to registry), with each side's TLS flags; the
 * digest to dfile. src_host and dest_host name the two registries. */
void engine_copy_argv(struct argv *a, const struct engine *e, const char *src_host,
		    const char *src, const char *dest_host, const char *dest,
		    const char *dfile);

/* buildah pushes from its own store: copies the layout into a private
 * vfs store in the work directory (an index as a manifest list). Sets
 * *image_id (caller frees). */
rp_status engine_buildah_prepare(const struct engine *e, const char *layout,
			       int is_index, const char *host, char **image_id,
			       struct rp_err *err);

/* Runs a.v (quiet: output only on failure). A child that does not exit
 * 0 becomes one message: "skopeo exited with status 7 while <doing>:
 * <its last line>", or a refused login / unreachable registry named as
 * such; the account's password is scrubbed from the engine's text. */
rp_status engine_run(const struct engine *e, struct argv *a, int quiet,
		   const char *doing, const char *host, struct rp_err *err);

/* An upload by digest (it writes no tag, so running it again is safe):
 * engine_run, again after a failure — skopeo itself retries network errors
 * but not a registry's 5xx — up to REGPUSH_ENGINE_ATTEMPTS times (default
 * 3), waiting REGPUSH_RETRY_BASE_MS (default 1000) and then twice as long
 * each time, each retry announced with the failure. Not retried: a child
 * killed or timed out, refused credentials, or a signal to regpush. */
rp_status engine_run_upload(const struct engine *e, struct argv *a, const char *doing,
			  const char *host, struct rp_err *err);

/* Reads the digest an engine wrote with --digestfile. */
rp_status engine_read_digest(const char *path, char out[RP_DIGEST_MAX],
			   struct rp_err *err);

#endif
