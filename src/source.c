/*
 * source.c — the image to push: checking the --source reference, reading
 * index.json from an OCI layout directory or an OCI archive (a tar file,
 * read by tar without unpacking the rest), and staging any other source
 * into a private OCI layout so its digest is known before anything is
 * written.
 */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "engine.h"
#include "imgref.h"

#define INDEX_MAX (4 * 1024 * 1024)

/*
 * index.json of an OCI archive, extracted by tar (GNU tar seeks past the
 * blobs, so a 60 MB archive costs a few milliseconds). tar is started
 * like every other child, with an argv and no shell; it is used instead
 * of linking libarchive, whose dependencies (libxml2, ICU) would cost
 * every regpush start — plan included — about 6 ms.
 */
static rp_status
read_archive_index(const char *path, char **out, size_t *len, struct rp_err *err)
{
	static const char *const names[] = { "index.json", "./index.json" };
	struct engine_log log = { .actions = 0, .quiet = 1 };
	struct child c;
	char *file, q[256];
	size_t i;
	rp_status st;

	*out = NULL;
	rp_quote(path, 200, q, sizeof(q));
	if ((file = rp_asprintf("--file=%s", path)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; i < 2; i++) {
		char *argv[] = { "tar", "--extract", "--to-stdout", file,
				 (char *)names[i], NULL };
		if ((st = engine_run(argv, 60, &log, &c, err)) != RP_OK)
			break;
		if (child_ok(&c) && strlen(c.out) <= INDEX_MAX) {
			*len = strlen(c.out);
			*out = c.out;
			c.out = NULL;
			child_free(&c);
			break;
		}
		child_free(&c);
	}
	free(file);
	if (st == RP_OK && *out == NULL)
		st = rp_fail(err, RP_EINPUT, "source %s is not an OCI archive (no index.json)", q);
	return st;
}

rp_status
source_inspect(const char *src, struct source_info *info, struct rp_err *err)
{
	const char *rest, *colon;
	char *path = NULL, *ref = NULL, *text = NULL;
	json_t *j = NULL, *mans, *m, *pick = NULL;
	json_error_t je;
	size_t len, i;
	int archive;
	rp_status st = RP_OK;

	memset(info, 0, sizeof(*info));
	if (strncmp(src, "oci:", 4) == 0) {
		archive = 0;
		rest = src + 4;
	} else if (strncmp(src, "oci-archive:", 12) == 0) {
		archive = 1;
		rest = src + 12;
	} else {
		return RP_OK;
	}
	/* containers/image splits at the first ':' (path, then image ref). */
	colon = strchr(rest, ':');
	path = colon != NULL ? rp_strndup(rest, (size_t)(colon - rest)) : rp_strdup(rest);
	if (colon != NULL && colon[1] != '\0')
		ref = rp_strdup(colon + 1);
	if (path == NULL || (colon != NULL && colon[1] != '\0' && ref == NULL)) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (archive) {
		st = read_archive_index(path, &text, &len, err);
	} else {
		char *ip = rp_asprintf("%s/index.json", path);
		st = ip == NULL ? rp_fail(err, RP_ENOMEM, "out of memory") :
		    rp_read_file(ip, "OCI layout index", INDEX_MAX, &text, &len, err);
		free(ip);
	}
	if (st != RP_OK)
		goto out;
	if ((j = json_loadb(text, len, 0, &je)) == NULL &&
	    json_error_code(&je) == json_error_out_of_memory) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (j == NULL || !json_is_array(mans = json_object_get(j, "manifests")))
		goto out; /* let skopeo explain */
	json_array_foreach(mans, i, m) {
		const char *name = json_string_value(json_object_get(
		    json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
		if (ref != NULL ? (name != NULL && strcmp(name, ref) == 0) :
				  json_array_size(mans) == 1) {
			if (pick != NULL) {
				pick = NULL; /* ambiguous */
				break;
			}
			pick = m;
		}
	}
	if (pick != NULL) {
		const char *d = json_string_value(json_object_get(pick, "digest"));
		const char *mt = json_string_value(json_object_get(pick, "mediaType"));
		if (d != NULL && imgref_digest_valid(d) && strncmp(d, "sha256:", 7) == 0 &&
		    strlen(d) < sizeof(info->digest)) {
			memcpy(info->digest, d, strlen(d) + 1);
			info->is_index = source_is_index_type(mt);
			info->known = 1;
		}
	}
out:
	json_decref(j);
	free(text);
	free(path);
	free(ref);
	return st;
}

int
source_is_index_type(const char *mt)
{
	return mt != NULL && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
			      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static const char *const transports[] = {
	"docker-daemon:", "oci:", "oci-archive:", "docker-archive:",
	"containers-storage:", "docker://",
};

rp_status
source_check(const char *src, char **src_host, struct rp_err *err)
{
	char q[300];
	size_t i, n;

	*src_host = NULL;
	if (src == NULL)
		return rp_fail(err, RP_EINPUT,
			       "no image to push: set --source (input source), e.g. "
			       "oci-archive:image.tar or docker://host/repo:tag");
	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		n = strlen(transports[i]);
		if (strncmp(src, transports[i], n) == 0 && src[n] != '\0')
			break;
	}
	if (i == sizeof(transports) / sizeof(transports[0]))
		return rp_fail(err, RP_EINPUT,
			       "source '%s' is not a supported transport reference (expected "
			       "docker-daemon:, oci:, oci-archive:, docker-archive:, "
			       "containers-storage: or docker://)",
			       rp_quote(src, 200, q, sizeof(q)));
	if (strncmp(src, "docker://", 9) == 0) {
		struct imgref r;
		imgref_err e = imgref_parse(src + 9, &r);
		if (e != IMGREF_OK)
			return rp_fail(err, RP_EINPUT, "source '%s': %s",
				       rp_quote(src, 200, q, sizeof(q)), imgref_strerror(e));
		*src_host = rp_strdup(r.domain != NULL ? r.domain : "docker.io");
		imgref_free(&r);
		if (*src_host == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
	} else if (strncmp(src, "oci:", 4) == 0 || strncmp(src, "oci-archive:", 12) == 0 ||
		   strncmp(src, "docker-archive:", 15) == 0) {
		/* The path ends at the first ':' (an optional :tag follows). */
		const char *p = strchr(src, ':') + 1;
		char path[4097];
		struct stat st;
		n = strcspn(p, ":");
		if (n >= sizeof(path))
			return rp_fail(err, RP_EINPUT, "source path too long");
		memcpy(path, p, n);
		path[n] = '\0';
		if (stat(path, &st) != 0)
			return rp_fail(err, RP_EINPUT, "source '%s': %s",
				       rp_quote(src, 200, q, sizeof(q)), strerror(errno));
	}
	return RP_OK;
}

/* Is the staged manifest an index (or Docker manifest list)? */
static rp_status
staged_kind(const char *work, struct source_info *info, struct rp_err *err)
{
	char *path, *text;
	json_t *j;
	rp_status st;

	path = rp_asprintf("%s/layout/blobs/sha256/%s", work, info->digest + 7);
	if (path == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = rp_read_file(path, "staged manifest", 4 << 20, &text, NULL, err);
	free(path);
	if (st != RP_OK)
		return err->status = RP_EREGISTRY;
	j = json_loads(text, 0, NULL);
	free(text);
	if (j == NULL)
		return rp_fail(err, RP_EREGISTRY, "the staged manifest is not JSON");
	info->is_index = json_is_array(json_object_get(j, "manifests")) ||
	    source_is_index_type(json_string_value(json_object_get(j, "mediaType")));
	json_decref(j);
	return RP_OK;
}

rp_status
source_stage(const struct ecmd *e, const char *src, const char *src_host,
	     struct source_info *info, char **layout, struct rp_err *err)
{
	struct argv a = { 0 };
	char *dfile = NULL, doing[400], q[300];
	rp_status st;

	memset(info, 0, sizeof(*info));
	if ((*layout = rp_asprintf("oci:%s/layout:img", e->work)) == NULL ||
	    (dfile = rp_asprintf("%s/staged.digest", e->work)) == NULL) {
		free(dfile);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	ecmd_stage_argv(&a, e, src, src_host, *layout, dfile);
	snprintf(doing, sizeof(doing), "reading the source '%s'", rp_quote(src, 200, q, sizeof(q)));
	st = ecmd_run(e, &a, 1, doing, src_host != NULL ? src_host : "(local)", err);
	rp_strv_free(a.v);
	if (st == RP_OK)
		st = ecmd_read_digest(dfile, info->digest, err);
	free(dfile);
	if (st == RP_OK && (st = staged_kind(e->work, info, err)) == RP_OK)
		info->known = 1;
	return st;
}
