/*
 * verify.c — promote's signature gate (see verify.h). The layers of the
 * `.sig` image are read as any registry serves them: each payload is
 * fetched by its digest and checked against it and the descriptor's size
 * before its signature counts, so a registry that serves other bytes, or
 * a layer copied from another image, verifies nothing.
 */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "imgref.h"

/* The layers of one .sig image looked at, at most: a tag stuffed with
 * more cannot make the gate read without end. */
#define VERIFY_LAYERS_MAX 256

struct verify_keys {
	struct sign_key **keys;
	char (*fp)[RP_DIGEST_MAX];
	size_t n;
};

/* Appends every PEM block of text (what: its name in messages). */
static rp_status
add_pems(struct verify_keys *vk, const char *text, const char *what, struct rp_err *err)
{
	const char *p = text, *b, *e;
	char name[400];
	size_t found = 0;
	rp_status st;

	while ((b = strstr(p, "-----BEGIN")) != NULL) {
		struct sign_key *k, **nk;
		char (*nf)[RP_DIGEST_MAX];
		if ((e = strstr(b, "-----END")) == NULL)
			return rp_fail(err, RP_EINPUT, "%s: a PEM block has no -----END line", what);
		e = strchr(e + 8, '\n') != NULL ? strchr(e + 8, '\n') + 1 : e + strlen(e);
		found++;
		snprintf(name, sizeof(name), "%s (key %zu)", what, found);
		if ((st = sign_pub_load(b, (size_t)(e - b), name, &k, err)) != RP_OK)
			return st;
		if ((nk = realloc(vk->keys, (vk->n + 1) * sizeof(*nk))) == NULL) {
			sign_key_free(k);
			return rp_fail(err, RP_ENOMEM, "out of memory");
		}
		vk->keys = nk;
		if ((nf = realloc(vk->fp, (vk->n + 1) * sizeof(*nf))) == NULL) {
			sign_key_free(k);
			return rp_fail(err, RP_ENOMEM, "out of memory");
		}
		vk->fp = nf;
		vk->keys[vk->n] = k;
		if (sign_fingerprint(k, vk->fp[vk->n++]) != 0)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		p = e;
	}
	if (found == 0)
		return rp_fail(err, RP_EINPUT, "%s holds no PEM public key (-----BEGIN PUBLIC "
			       "KEY-----, as cosign generate-key-pair writes cosign.pub)", what);
	return RP_OK;
}

rp_status
verify_keys_load(const struct rp_opts *o, struct verify_keys **out, struct rp_err *err)
{
	struct verify_keys *vk;
	char what[300], q[200], *text;
	size_t i;
	rp_status st = RP_OK;

	*out = NULL;
	if (o->verify_key_files == NULL && !rp_given(o->verify_keys_text))
		return RP_OK;
	if ((vk = calloc(1, sizeof(*vk))) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; st == RP_OK && o->verify_key_files != NULL && o->verify_key_files[i] != NULL;
	     i++) {
		snprintf(what, sizeof(what), "--verify-key %s",
			 rp_quote(o->verify_key_files[i], 150, q, sizeof(q)));
		if ((st = rp_read_file(o->verify_key_files[i], what, 1 << 20, &text, NULL, err)) ==
		    RP_OK) {
			st = add_pems(vk, text, what, err);
			free(text);
		}
	}
	if (st == RP_OK && rp_given(o->verify_keys_text))
		st = add_pems(vk, o->verify_keys_text,
			      o->container ? "input verify-keys" : "REGPUSH_VERIFY_KEYS", err);
	if (st != RP_OK) {
		verify_keys_free(vk);
		return st;
	}
	*out = vk;
	return RP_OK;
}

void
verify_keys_free(struct verify_keys *vk)
{
	size_t i;

	if (vk == NULL)
		return;
	for (i = 0; i < vk->n; i++)
		sign_key_free(vk->keys[i]);
	free(vk->keys);
	free(vk->fp);
	free(vk);
}

/* "sha256:ab…, sha256:cd…": the keys, for a refusal. */
static void
key_list(const struct verify_keys *vk, struct sbuf *sb)
{
	size_t i;

	for (i = 0; i < vk->n; i++)
		sbuf_printf(sb, "%s%s", i > 0 ? ", " : "", vk->fp[i]);
}

/* Why no layer counted: "2 signatures: 1 by another key, 1 names …". */
static void
reasons(const enum sign_verdict *v, char (*named)[300], size_t n, struct sbuf *sb)
{
	static const char *const what[] = {
		[SIGN_BAD_LAYER] = "not a simple-signing layer of its payload",
		[SIGN_BAD_KEY] = "by another key",
		[SIGN_BAD_PAYLOAD] = "not a cosign payload",
		[SIGN_OTHER_DIGEST] = "names another image,",
		[SIGN_OTHER_REPO] = "names the repository",
		[SIGN_OTHER_REVISION] = "claims the revision",
	};
	size_t i, j, count;
	int first = 1;

	sbuf_printf(sb, "%zu signature%s: ", n, n == 1 ? "" : "s");
	for (i = SIGN_BAD_LAYER; i <= SIGN_OTHER_REVISION; i++) {
		const char *example = NULL;
		for (j = 0, count = 0; j < n; j++)
			if (v[j] == (enum sign_verdict)i) {
				if (example == NULL)
					example = named[j];
				count++;
			}
		if (count == 0)
			continue;
		sbuf_printf(sb, "%s%zu %s", first ? "" : ", ", count, what[i]);
		if (example != NULL && example[0] != '\0')
			sbuf_printf(sb, " %s", example);
		first = 0;
	}
}

rp_status
verify_find(const struct verify_keys *vk, struct reg_client *reg, const char *host,
	    const char *path, const char *digest, const char *const *repos, const char *revision,
	    char by[RP_DIGEST_MAX], char in[300], char **why, struct rp_err *err)
{
	struct reg_manifest m;
	char tag[100], **digests = NULL, **texts = NULL, (*named)[300] = NULL;
	size_t i, n = 0, k = 0, *lens = NULL, key = 0, *at = NULL;
	enum sign_verdict *v = NULL;
	json_t *doc = NULL, *layers;
	struct sbuf sb;
	rp_status st;

	*why = NULL;
	if (sign_tag(digest, "sig", tag, sizeof(tag)) != 0) {
		*why = rp_strdup("only sha256 digests are signed");
		return *why != NULL ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
	}
	if ((st = reg_manifest_find(reg, path, tag, &m, err)) != RP_OK)
		return st;
	sbuf_init(&sb, 1 << 16);
	if (m.bytes != NULL && (doc = reg_json(tag, m.bytes, m.len, "manifest", err)) == NULL) {
		st = err->status;
		goto out;
	}
	layers = json_object_get(doc, "layers");
	n = json_array_size(layers) < VERIFY_LAYERS_MAX ? json_array_size(layers) : VERIFY_LAYERS_MAX;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL || (named = calloc(n + 1, sizeof(*named))) == NULL ||
	    (digests = calloc(n + 1, sizeof(*digests))) == NULL ||
	    (texts = calloc(n + 1, sizeof(*texts))) == NULL ||
	    (lens = calloc(n + 1, sizeof(*lens))) == NULL || (at = calloc(n + 1, sizeof(*at))) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	/* Only payloads that could count are read: a small blob of the
	 * simple-signing type, named by a valid digest. */
	for (i = 0; i < n; i++) {
		json_t *l = json_array_get(layers, i);
		const char *d = json_string_value(json_object_get(l, "digest"));
		json_int_t size = json_integer_value(json_object_get(l, "size"));
		v[i] = SIGN_BAD_LAYER;
		if (d != NULL && imgref_digest_valid(d) && size > 0 && size <= REG_SMALL_MAX) {
			at[k] = i;
			digests[k++] = (char *)d;
		}
	}
	if (k > 0 && (st = reg_blob_get_many(reg, path, digests, k, REG_SMALL_MAX, texts, lens,
					     err)) != RP_OK)
		goto out;
	for (i = 0; i < k; i++) {
		size_t li = at[i];
		v[li] = sign_judge(json_array_get(layers, li), texts[i], lens[i],
				   (const struct sign_key *const *)vk->keys, vk->n, digest, repos,
				   revision, &key, named[li], sizeof(named[li]));
		if (v[li] == SIGN_ENOMEM) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		if (v[li] == SIGN_OK) {
			json_t *p = json_loadb(texts[i], lens[i], 0, NULL);
			const char *ref = json_string_value(json_object_get(json_object_get(
			    json_object_get(p, "critical"), "identity"), "docker-reference"));
			snprintf(by, RP_DIGEST_MAX, "%s", vk->fp[key]);
			snprintf(in, 300, "%s", ref != NULL ? ref : "");
			json_decref(p);
			goto out;
		}
	}
	if (m.bytes == NULL)
		sbuf_printf(&sb, "there is no %s in %s/%s", tag, host, path);
	else if (n == 0)
		sbuf_printf(&sb, "%s holds no signature", tag);
	else
		reasons(v, named, n, &sb);
	if ((*why = sbuf_take(&sb)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
out:
	sbuf_free(&sb);
	for (i = 0; texts != NULL && i < k; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	free(digests);
	free(named);
	free(at);
	free(v);
	json_decref(doc);
	reg_manifest_free(&m);
	return st;
}

rp_status
verify_signed(const struct verify_keys *vk, struct reg_client *reg, const char *host,
	      const char *path, const char *digest, const char *const *repos,
	      const char *revision, char by[RP_DIGEST_MAX], char in[300], struct rp_err *err)
{
	struct sbuf sb;
	char *why = NULL, *msg;
	size_t i;
	rp_status st;

	if ((st = verify_find(vk, reg, host, path, digest, repos, revision, by, in, &why, err)) !=
		RP_OK || why == NULL)
		return st;
	sbuf_init(&sb, 1 << 16);
	sbuf_printf(&sb, "refused: %s/%s@%s has no signature by the verify key%s (", host, path,
		    digest, vk->n == 1 ? "" : "s");
	key_list(vk, &sb);
	sbuf_printf(&sb, ") that names it and a repository it may have been signed in (");
	for (i = 0; repos[i] != NULL; i++)
		sbuf_printf(&sb, "%s%s", i > 0 ? " or " : "", repos[i]);
	sbuf_printf(&sb, "): %s", why);
	if (revision != NULL)
		sbuf_printf(&sb, " (the release commit is %s)", revision);
	sbuf_puts(&sb, ". Sign it (regpush push with signing-key, or cosign sign --key) "
		  "or give the key that did. Nothing was written.");
	free(why);
	if ((msg = sbuf_take(&sb)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = rp_fail(err, RP_EREFUSED, "%s", msg);
	free(msg);
	return st;
}
