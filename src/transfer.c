/*
 * transfer.c — push's upload and promote's mounts or copy (see
 * transfer.h). Secrets never appear in an engine's argv (the accounts go
 * in a private auth file), so a dry run prints the command lines as they
 * would run.
 */
#include "transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "carry.h"
#include "creds.h"



/* The image manifests: the top one, or an index's children. */
static const struct reg_manifest *
image_at(const struct copy *c, size_t i)
{
	return c->nkids == 0 ? c->top : &c->kids[i];
}

static size_t
image_count(const struct copy *c)
{
	return c->nkids == 0 ? 1 : c->nkids;
}

static int
is_buildah(const struct upload *u)
{
	return strcmp(u->e->engine, "buildah") == 0;
}

/* The upload's destination: repo@digest, or buildah's scratch tag. */
static char *
upload_dest(const struct upload *u)
{
	unsigned char r[8];
	char hex[17];
	size_t i;

	if (!is_buildah(u))
		return rp_asprintf("%s/%s@%s", u->dst->host, u->dst->path, u->digest);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return NULL;
	for (i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return rp_asprintf("%s/%s:regpush-upload-%s", u->dst->host, u->dst->path, hex);
}

/*
 * Uploads the image into the repository without writing any tag of the
 * plan. buildah's scratch tag is removed afterwards whatever happened
 * (reg_untag never touches the image itself).
 */
static rp_status
upload(struct upload *u, struct rp_err *err)
{
	struct argv a = { 0 };
	char *dfile = NULL, *dest = NULL, *image_id = NULL, got[RP_DIGEST_MAX], doing[400];
	struct rp_err untag_err;
	rp_status st;

	if ((dfile = rp_asprintf("%s/pushed.digest", u->e->work)) == NULL ||
	    (dest = upload_dest(u)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (is_buildah(u) && (st = engine_buildah_prepare(u->e, u->layout, u->is_index,
							 u->dst->host, &image_id, err)) != RP_OK)
		goto out;
	engine_upload_argv(&a, u->e, u->layout, image_id, u->is_index, u->dst->host, dest,
			   dfile);
	snprintf(doing, sizeof(doing), "uploading %s", dest);
	st = engine_run_upload(u->e, &a, doing, u->dst->host, err);
	if (is_buildah(u)) {
		const char *tag = strrchr(dest, ':') + 1;
		if (reg_untag(u->dst->reg, u->dst->path, tag, &untag_err) != RP_OK && st == RP_OK)
			st = rp_fail(err, RP_EREGISTRY, "cannot remove the scratch tag %s: %s",
				     tag, untag_err.msg);
	}
	if (st == RP_OK && (st = engine_read_digest(dfile, got, err)) == RP_OK &&
	    strcmp(got, u->digest) != 0)
		st = rp_fail(err, RP_EREGISTRY, "%s uploaded %s/%s with digest %s, not the expected %s",
			     a.v[0], u->dst->host, u->dst->path, got, u->digest);
out:
	rp_strv_free(a.v);
	free(image_id);
	free(dest);
	free(dfile);
	return st;
}

/* The transfer (deliver.h): the upload, and in a dry run its command
 * line (secrets never appear in any argv, so nothing needs redacting). */
static rp_status
put_upload(void *ctx, struct rp_err *err)
{
	return upload(ctx, err);
}

static void
describe_upload(void *ctx, struct sbuf *sb)
{
	struct upload *u = ctx;
	struct argv a = { 0 };
	char q[1100], *dest = upload_dest(u), *dfile = rp_asprintf("%s/pushed.digest", u->e->work);
	size_t i;

	engine_upload_argv(&a, u->e, u->layout, NULL, u->is_index, u->dst->host,
			 dest != NULL ? dest : "?", dfile != NULL ? dfile : "pushed.digest");
	sbuf_puts(sb, " ");
	for (i = 0; a.v != NULL && a.v[i] != NULL; i++)
		sbuf_printf(sb, " %s", rp_quote(a.v[i], 1000, q, sizeof(q)));
	sbuf_puts(sb, "\n");
	if (a.failed || dest == NULL || dfile == NULL)
		sb->failed = 1;
	rp_strv_free(a.v);
	free(dest);
	free(dfile);
}

/* The last engine has run: the credentials go before any report. */
static void
drop_auth(void *ctx)
{
	struct upload *u = ctx;

	if (u->own_auth != NULL)
		creds_remove_file(u->own_auth);
	u->e->auth = u->authfile;
}

struct transfer
transfer_upload(struct upload *u)
{
	return (struct transfer){ .put = put_upload, .describe = describe_upload,
				  .after = drop_auth, .ctx = u };
}

/* Every blob of every image, mounted from the source repository at once.
 * *mounted is 0 when the registry would not mount one. */
static rp_status
mount_blobs(struct copy *c, int *mounted, struct rp_err *err)
{
	size_t n = image_count(c), i, k, nb = 0, cap = 0;
	json_t **docs = calloc(n + 1, sizeof(*docs)), *l;
	char **blobs = NULL;
	rp_status st = RP_OK;

	*mounted = 0;
	if (docs == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((docs[i] = reg_json(c->source, image_at(c, i)->bytes, image_at(c, i)->len, "manifest",
					 err)) == NULL) {
			st = err->status;
			goto out;
		}
		cap += 1 + json_array_size(json_object_get(docs[i], "layers"));
	}
	if ((blobs = calloc(cap + 1, sizeof(*blobs))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *cd = json_string_value(json_object_get(json_object_get(docs[i], "config"),
								    "digest"));
		if (cd != NULL)
			blobs[nb++] = (char *)cd;
		json_array_foreach(json_object_get(docs[i], "layers"), k, l)
			if (json_string_value(json_object_get(l, "digest")) != NULL)
				blobs[nb++] = (char *)json_string_value(json_object_get(l, "digest"));
	}
	st = reg_blob_mount_many(c->dst->reg, c->dst->path, c->src->path, blobs, nb, mounted, err);
out:
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
	free(blobs);
	return st;
}

/* The copy by skopeo: both sides' accounts in one auth file — the robot
 * of a side, or what the user's auth files hold for it (a side without a
 * robot must not lose them because the other side has one). */
static rp_status
skopeo_copy(struct copy *c, struct rp_err *err)
{
	struct creds files[2];
	const struct creds *cs[2] = { &c->src->account, &c->dst->account };
	char *keys[2] = { NULL, NULL }, *dfile = NULL, *dest = NULL, got[RP_DIGEST_MAX], doing[600];
	struct engine e = { .engine = "skopeo", .settings = &c->o->settings, .cert_dir = c->o->cert_dir,
			  .insecure = c->o->insecure,
			  .creds = &c->dst->account, .src_creds = &c->src->account, .src_host = c->src->host,
			  .actions = c->o->actions };
	struct argv a = { 0 };
	size_t k;
	rp_status st;

	memset(files, 0, sizeof(files));
	if ((c->work = workdir_create(err)) == NULL)
		return err->status;
	e.work = c->work;
	e.auth = c->o->authfile;
	if ((keys[0] = rp_asprintf("%s/%s", c->src->host, c->src->path)) == NULL ||
	    (keys[1] = rp_asprintf("%s/%s", c->dst->host, c->dst->path)) == NULL ||
	    (dfile = rp_asprintf("%s/copied.digest", c->work)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (c->src->account.username != NULL || c->dst->account.username != NULL) {
		for (k = 0; k < 2; k++) {
			const struct target *sd = k == 0 ? c->src : c->dst;
			if (sd->account.username != NULL)
				continue;
			if ((st = creds_from_authfiles(c->o->authfile, sd->host, sd->path, &files[k],
						       err)) != RP_OK)
				goto out;
			if (files[k].username != NULL)
				cs[k] = &files[k];
		}
		if ((st = creds_write_authfile_n(cs, (const char *const *)keys, 2, c->work,
						 &c->own_auth, err)) != RP_OK)
			goto out;
	}
	if (c->own_auth != NULL)
		e.auth = c->own_auth;
	if ((dest = rp_asprintf("%s/%s@%s", c->dst->host, c->dst->path, c->digest)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	engine_copy_argv(&a, &e, c->src->host, c->source, c->dst->host, dest, dfile);
	snprintf(doing, sizeof(doing), "copying %s to %s/%s", c->source, c->dst->host, c->dst->path);
	st = engine_run_upload(&e, &a, doing, c->dst->host, err);
	/* The last engine has run: the credentials go before any report. */
	creds_remove_file(&c->own_auth);
	if (st == RP_OK && (st = engine_read_digest(dfile, got, err)) == RP_OK &&
	    strcmp(got, c->digest) != 0)
		st = rp_fail(err, RP_EREGISTRY, "skopeo copied %s as %s, not as the same digest",
			     c->source, got);
out:
	creds_free(&files[0]);
	creds_free(&files[1]);
	rp_strv_free(a.v);
	free(dest);
	free(keys[0]);
	free(keys[1]);
	free(dfile);
	return st;
}

/* Copies the image by digest into the destination repository. */
static rp_status
copy_image(struct copy *c, struct rp_err *err)
{
	size_t i;
	int mounted = 0;
	char d[RP_DIGEST_MAX];
	rp_status st = RP_OK;

	if (strcmp(c->src->host, c->dst->host) == 0) {
		st = mount_blobs(c, &mounted, err);
		/* A token without pull on the source is refused like this too:
		 * fall back to the copy, which reports what really fails. */
		if (st == RP_EREGISTRY) {
			mounted = 0;
			st = RP_OK;
		}
		/* An index's children go up by digest; the top manifest itself
		 * needs no PUT of its own: publish_write PUTs its exact bytes
		 * under every tag, which stores it (one round trip less). */
		if (mounted) {
			for (i = 0; i < c->nkids && st == RP_OK; i++)
				st = reg_manifest_put(c->dst->reg, c->dst->path, c->kids[i].digest,
						      &c->kids[i], err);
			if (st == RP_OK)
				return RP_OK;
		}
		if (st != RP_OK)
			return st;
	}
	if ((st = skopeo_copy(c, err)) != RP_OK)
		return st;
	if ((st = reg_manifest_head(c->dst->reg, c->dst->path, c->digest, d, err)) == RP_OK &&
	    strcmp(d, c->digest) != 0)
		st = rp_fail(err, RP_EREGISTRY, "%s/%s does not hold %s after the copy", c->dst->host,
			     c->dst->path, c->digest);
	return st;
}

/* The transfer (deliver.h): mounts or a copy, and in a dry run which. */
static rp_status
put_copy(void *ctx, struct rp_err *err)
{
	return copy_image(ctx, err);
}

static void
describe_copy(void *ctx, struct sbuf *sb)
{
	struct copy *c = ctx;

	sbuf_printf(sb, "  copy %s to %s/%s@%s (%s)\n", c->source, c->dst->host, c->dst->path,
		    c->digest, strcmp(c->src->host, c->dst->host) == 0 ?
		    "cross-repository mounts, then the manifests' exact bytes" :
		    "skopeo copy --all --preserve-digests");
}

/* The source's attachments, of the digest and of each child, read
 * beside the decision (promote's carry_ahead): described, or their writes
 * started beside the copy. */
static rp_status
carry_copy(void *ctx, struct sbuf *sb, struct rp_err *err)
{
	struct carry_ahead *a = ((struct copy *)ctx)->ahead;

	(void)err;
	if (sb != NULL)
		carry_describe(&a->c, &a->from, &a->to, sb);
	else
		carry_ahead_put(a);
	return RP_OK;
}

static rp_status
carry_join_copy(void *ctx, struct rp_err *err)
{
	return carry_ahead_wait(((struct copy *)ctx)->ahead, err);
}

static rp_status
carry_settle_copy(void *ctx, int tags_written, struct rp_err *err)
{
	struct copy *c = ctx;
	struct carry_ahead *a = c->ahead;

	return carry_settle(&a->c, &a->from, &a->to, &c->o->settings, tags_written, err);
}

/* Right after the tag PUTs: the read back on the carry's thread, beside
 * the tags' settling read (carry_join_copy joins it). */
static rp_status
carry_after_tags_copy(void *ctx, struct rp_err *err)
{
	struct copy *c = ctx;

	(void)err;
	carry_ahead_settle(c->ahead, &c->o->settings);
	return RP_OK;
}

struct transfer
transfer_copy(struct copy *c)
{
	struct transfer t = { .put = put_copy, .describe = describe_copy, .ctx = c };

	if (c->ahead != NULL) {
		t.carry = carry_copy;
		t.carry_join = carry_join_copy;
		t.carry_settle = carry_settle_copy;
		t.carry_after_tags = carry_after_tags_copy;
	}
	return t;
}

void
copy_cleanup(struct copy *c)
{
	if (c->work != NULL)
		workdir_remove(c->work);
	free(c->own_auth);
	free(c->work);
	c->own_auth = c->work = NULL;
}
