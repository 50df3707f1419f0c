/*
 * carry.c — promote's attachments (see carry.h). A layer is the same
 * layer when its descriptor is the same JSON (digest and annotations:
 * the same payload signed twice has two signatures, and both are kept,
 * as cosign keeps them).
 */
#include "carry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sign.h"

static const char *const suffixes[] = { "sig", "att", "sbom" };
#define NSUFFIX (sizeof(suffixes) / sizeof(suffixes[0]))

/* The largest attachment blob copied between registry hosts. */
#define CARRY_BLOB_MAX (4 * 1024 * 1024)

void
carry_free(struct carry *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->src != NULL)
			reg_manifest_free(&c->src[i]);
		if (c->dst != NULL)
			reg_manifest_free(&c->dst[i]);
	}
	free(c->tags);
	free(c->src);
	free(c->dst);
	memset(c, 0, sizeof(*c));
}

rp_status
carry_read(const struct carry_side *from, const struct carry_side *to, char *const *digests,
	   size_t n, struct carry *c, struct rp_err *err)
{
	char **refs;
	size_t i, k;
	rp_status st;

	memset(c, 0, sizeof(*c));
	c->n = n * NSUFFIX;
	if ((c->tags = calloc(c->n + 1, sizeof(*c->tags))) == NULL ||
	    (c->src = calloc(c->n + 1, sizeof(*c->src))) == NULL ||
	    (c->dst = calloc(c->n + 1, sizeof(*c->dst))) == NULL ||
	    (refs = calloc(c->n + 1, sizeof(*refs))) == NULL) {
		carry_free(c);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < NSUFFIX; k++) {
			size_t t = i * NSUFFIX + k;
			if (sign_tag(digests[i], suffixes[k], c->tags[t], sizeof(c->tags[t])) != 0)
				snprintf(c->tags[t], sizeof(c->tags[t]), "none");
			refs[t] = c->tags[t];
		}
	/* The destination is read only for what the source has: an unsigned
	 * promote pays one round trip here. */
	if ((st = reg_manifest_get_some(from->reg, from->path, refs, c->n, c->src, err)) == RP_OK) {
		struct reg_manifest *got;
		size_t m = 0;
		for (i = 0; i < c->n; i++)
			if (c->src[i].bytes != NULL)
				refs[m++] = c->tags[i];
		if ((got = calloc(m + 1, sizeof(*got))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if (m > 0 && (st = reg_manifest_get_some(to->reg, to->path, refs, m, got, err)) == RP_OK)
			for (i = 0, k = 0; i < c->n; i++)
				if (c->src[i].bytes != NULL)
					c->dst[i] = got[k++];
		free(got);
	}
	free(refs);
	for (i = 0; st == RP_OK && i < c->n; i++)
		c->todo += c->src[i].bytes != NULL &&
			   (c->dst[i].bytes == NULL || strcmp(c->src[i].digest, c->dst[i].digest) != 0);
	if (st != RP_OK)
		carry_free(c);
	return st;
}

void
carry_describe(const struct carry *c, const struct carry_side *from, const struct carry_side *to,
	       struct sbuf *sb)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->src[i].bytes != NULL &&
		    (c->dst[i].bytes == NULL || strcmp(c->src[i].digest, c->dst[i].digest) != 0))
			sbuf_printf(sb, "  carry %s/%s:%s to %s/%s (%s)\n", from->host, from->path,
				    c->tags[i], to->host, to->path,
				    c->dst[i].bytes == NULL ? "new" : "merged with the one there");
}

/* The blobs a manifest names: its config and its layers (borrowed from
 * doc), appended to v. */
static int
blobs_of(json_t *doc, char ***v)
{
	json_t *l;
	size_t i;
	const char *cd = json_string_value(json_object_get(json_object_get(doc, "config"), "digest"));

	if (cd != NULL && rp_strv_push(v, cd) != 0)
		return -1;
	json_array_foreach(json_object_get(doc, "layers"), i, l) {
		const char *d = json_string_value(json_object_get(l, "digest"));
		if (d != NULL && rp_strv_push(v, d) != 0)
			return -1;
	}
	return 0;
}

/* Brings blobs to the destination: mounted on one host; else (or when the
 * registry will not mount) each one it lacks read and uploaded. */
static rp_status
move_blobs(const struct carry_side *from, const struct carry_side *to, char **blobs,
	   struct rp_err *err)
{
	size_t i, n = rp_strv_len(blobs);
	int mounted = 0, have;
	rp_status st = RP_OK;

	if (n == 0)
		return RP_OK;
	if (strcmp(from->host, to->host) == 0 &&
	    (st = reg_blob_mount_many(to->reg, to->path, from->path, blobs, n, &mounted, err)) !=
		RP_OK)
		return st;
	for (i = 0; !mounted && i < n && st == RP_OK; i++) {
		char *data = NULL, d[RP_DIGEST_MAX];
		size_t len = 0;
		if ((st = reg_blob_head(to->reg, to->path, blobs[i], &have, err)) != RP_OK || have)
			continue;
		if ((st = reg_blob_get(from->reg, from->path, blobs[i], CARRY_BLOB_MAX, &data, &len,
				       err)) == RP_OK)
			st = reg_blob_put(to->reg, to->path, data, len, d, err);
		free(data);
	}
	return st;
}

/* 1 when layer is among have's. */
static int
has_layer(const json_t *have, const json_t *layer)
{
	size_t i;
	json_t *h;

	json_array_foreach(have, i, h)
		if (json_equal(layer, h))
			return 1;
	return 0;
}

/* 1 when every layer of want is among have's. */
static int
holds_all(const json_t *have, const json_t *want)
{
	size_t i;
	json_t *w;

	json_array_foreach(want, i, w)
		if (!has_layer(have, w))
			return 0;
	return 1;
}

/* Writes tag i merged: the destination's layers, then the source's it
 * lacks. */
static rp_status
merge_once(const struct carry_side *from, const struct carry_side *to, const char *tag,
	   json_t *src_layers, const struct reg_manifest *have, struct rp_err *err)
{
	json_t *doc = NULL, *layers, *l;
	struct reg_manifest mine;
	char *config = NULL, *manifest = NULL, **blobs = NULL, d[RP_DIGEST_MAX];
	size_t i;
	rp_status st = RP_OK;

	memset(&mine, 0, sizeof(mine));
	if ((doc = reg_json(tag, have->bytes, have->len, "manifest", err)) == NULL)
		return err->status;
	if (!json_is_array(layers = json_object_get(doc, "layers")) &&
	    json_object_set_new(doc, "layers", layers = json_array()) != 0) {
		json_decref(doc);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	json_array_foreach(src_layers, i, l)
		if (!has_layer(layers, l) && (json_array_append(layers, l) != 0 ||
					      rp_strv_push(&blobs, json_string_value(json_object_get(
									l, "digest"))) != 0))
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	if (st == RP_OK && (st = move_blobs(from, to, blobs, err)) == RP_OK &&
	    (st = sign_image(layers, &config, &manifest, err)) == RP_OK &&
	    (st = reg_blob_put(to->reg, to->path, config, strlen(config), d, err)) == RP_OK) {
		mine.bytes = manifest;
		mine.len = strlen(manifest);
		mine.media_type = (char *)"application/vnd.oci.image.manifest.v1+json";
		st = rp_sha256_digest(manifest, mine.len, mine.digest) == 0 ?
		    reg_manifest_put(to->reg, to->path, tag, &mine, err) :
		    rp_fail(err, RP_ENOMEM, "out of memory");
	}
	rp_strv_free(blobs);
	free(config);
	free(manifest);
	json_decref(doc);
	return st;
}

/* Writes tag i: new (the source's exact bytes, its blobs first) or
 * merged into what the destination holds. */
static rp_status
write_one(struct carry *c, size_t i, json_t *src, const struct carry_side *from,
	  const struct carry_side *to, struct rp_err *err)
{
	char **blobs = NULL;
	rp_status st;

	if (c->dst[i].bytes != NULL)
		return merge_once(from, to, c->tags[i], json_object_get(src, "layers"), &c->dst[i], err);
	if (blobs_of(src, &blobs) != 0)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else if ((st = move_blobs(from, to, blobs, err)) == RP_OK)
		st = reg_manifest_put(to->reg, to->path, c->tags[i], &c->src[i], err);
	rp_strv_free(blobs);
	return st;
}

/* Tag i's destination holds every layer of the source's (src: parsed). */
static int
carried(const struct carry *c, size_t i, json_t *src)
{
	json_t *got;
	int ok;

	if (c->dst[i].bytes == NULL)
		return 0;
	if (strcmp(c->dst[i].digest, c->src[i].digest) == 0)
		return 1;
	if ((got = json_loadb(c->dst[i].bytes, c->dst[i].len, 0, NULL)) == NULL)
		return 0;
	ok = holds_all(json_object_get(got, "layers"), json_object_get(src, "layers"));
	json_decref(got);
	return ok;
}

static void sources_free(const struct carry *c, json_t **src);

/* The source's attachment manifests, parsed (NULL where it has none). */
static json_t **
sources(const struct carry *c, struct rp_err *err)
{
	json_t **src = calloc(c->n + 1, sizeof(*src));
	size_t i;

	if (src == NULL) {
		rp_fail(err, RP_ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < c->n; i++)
		if (c->src[i].bytes != NULL &&
		    (src[i] = reg_json(c->tags[i], c->src[i].bytes, c->src[i].len, "manifest", err)) ==
			NULL) {
			sources_free(c, src);
			return NULL;
		}
	return src;
}

static void
sources_free(const struct carry *c, json_t **src)
{
	size_t i;

	for (i = 0; src != NULL && i < c->n; i++)
		json_decref(src[i]);
	free(src);
}

/* Writes every tag not carried yet; the time of the writes is kept for
 * the settling pause. */
static rp_status
write_missing(struct carry *c, json_t **src, const struct carry_side *from,
	      const struct carry_side *to, struct rp_err *err)
{
	size_t i;
	rp_status st = RP_OK;

	for (i = 0; i < c->n && st == RP_OK; i++)
		if (src[i] != NULL && !carried(c, i, src[i]))
			st = write_one(c, i, src[i], from, to, err);
	c->written_at = rp_mono_s();
	c->writes++;
	return st;
}

rp_status
carry_put(struct carry *c, const struct carry_side *from, const struct carry_side *to,
	  struct rp_err *err)
{
	json_t **src;
	rp_status st;

	if (c->todo == 0)
		return RP_OK;
	if ((src = sources(c, err)) == NULL)
		return err->status;
	st = write_missing(c, src, from, to, err);
	sources_free(c, src);
	return st;
}

rp_status
carry_settle(struct carry *c, const struct carry_side *from, const struct carry_side *to,
	     const struct rp_settings *settings, int tags_written, struct rp_err *err)
{
	json_t **src;
	size_t i, left;
	rp_status st = RP_OK;

	if (c->writes == 0)
		return RP_OK;
	if ((src = sources(c, err)) == NULL)
		return err->status;
	/* Each round: the rest of one settling pause since the last writes
	 * (the tags' own pause may have covered it), every tag not seen
	 * carried read back, and written again; three writes at most. */
	for (;;) {
		double waited = rp_mono_s() - c->written_at;
		long ms = settings_get(settings, RS_SETTLE_MS) - (long)(waited * 1000);
		if (ms > 0 && (st = reg_pause(to->reg, ms, err)) != RP_OK)
			break;
		for (i = 0, left = 0; i < c->n && st == RP_OK; i++)
			if (src[i] != NULL && !carried(c, i, src[i])) {
				reg_manifest_free(&c->dst[i]);
				if ((st = reg_manifest_find(to->reg, to->path, c->tags[i], &c->dst[i],
							    err)) == RP_OK && !carried(c, i, src[i]))
					left++;
			}
		if (st != RP_OK || left == 0)
			break;
		if (c->writes == 3) {
			for (i = 0; i < c->n && (src[i] == NULL || carried(c, i, src[i])); i++)
				;
			st = rp_fail(err, RP_EREGISTRY, "cannot keep the carried %s in %s/%s: another "
				     "writer replaced it three times; %s", c->tags[i], to->host, to->path,
				     tags_written ? "the tags were written (run promote again to carry it)" :
				     "no tag was written");
			break;
		}
		if ((st = write_missing(c, src, from, to, err)) != RP_OK)
			break;
	}
	sources_free(c, src);
	return st;
}

rp_status
carry_write(struct carry *c, const struct carry_side *from, const struct carry_side *to,
	    const struct rp_settings *settings, struct rp_err *err)
{
	rp_status st = carry_put(c, from, to, err);

	return st == RP_OK ? carry_settle(c, from, to, settings, 0, err) : st;
}

/* The thread's work: the reads, or the writes. */
static void *
ahead_read(void *arg)
{
	struct carry_ahead *a = arg;

	a->st = carry_read(&a->from, &a->to, a->digests, a->n, &a->c, &a->err);
	a->have = a->st == RP_OK;
	return NULL;
}

static void *
ahead_put(void *arg)
{
	struct carry_ahead *a = arg;

	a->st = carry_put(&a->c, &a->from, &a->to, &a->err);
	return NULL;
}

static void *
ahead_settle(void *arg)
{
	struct carry_ahead *a = arg;

	a->st = carry_settle(&a->c, &a->from, &a->to, a->settings, 1, &a->err);
	return NULL;
}

/* fn(a) on the carry's thread; where none starts, here and now. */
static void
ahead_start(struct carry_ahead *a, void *(*fn)(void *))
{
	a->st = RP_OK;
	if (!rp_thread_start(&a->thread, fn, a))
		(void)fn(a);
}

void
carry_ahead_settle(struct carry_ahead *a, const struct rp_settings *settings)
{
	a->settings = settings;
	ahead_start(a, ahead_settle);
}

void
carry_ahead_read(struct carry_ahead *a)
{
	ahead_start(a, ahead_read);
}

rp_status
carry_ahead_wait(struct carry_ahead *a, struct rp_err *err)
{
	rp_thread_join(&a->thread);
	if (a->st != RP_OK)
		*err = a->err;
	return a->st;
}

void
carry_ahead_put(struct carry_ahead *a)
{
	ahead_start(a, ahead_put);
}

void
carry_ahead_free(struct carry_ahead *a)
{
	rp_thread_join(&a->thread);
	if (a->have)
		carry_free(&a->c);
	a->have = 0;
}
