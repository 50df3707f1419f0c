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

#include "child.h"
#include "imgref.h"
#include "registry.h"

#define INDEX_MAX (4 * 1024 * 1024)

/*
 * One member of a tar file (the first of `names` found), extracted by tar
 * (GNU tar seeks past the blobs, so a 60 MB archive costs a few
 * milliseconds). tar is started like every other child, with an argv and
 * no shell; it is used instead of linking libarchive, whose dependencies
 * (libxml2, ICU) would cost every regpush start — plan included — about
 * 6 ms. *out is NULL (and RP_OK) when no such member is there or the file
 * is not a tar; the caller frees it.
 */
static rp_status
read_tar_member(const char *path, const char *const *names, char **out, size_t *len,
		struct rp_err *err)
{
	struct child_log log = { .quiet = 1, .show = NULL };
	struct child c;
	char *file;
	size_t i;
	rp_status st = RP_OK;

	*out = NULL;
	if ((file = rp_asprintf("--file=%s", path)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (i = 0; names[i] != NULL; i++) {
		char *argv[] = { "tar", "--extract", "--to-stdout", file,
				 (char *)names[i], NULL };
		if ((st = child_run(argv, 60, &log, &c, err)) != RP_OK)
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
	return st;
}

static const char *const index_names[] = { "index.json", "./index.json", NULL };
static const char *const docker_names[] = { "manifest.json", "./manifest.json", NULL };

/* index.json of an OCI archive. */
static rp_status
read_archive_index(const char *path, char **out, size_t *len, struct rp_err *err)
{
	char q[256];
	rp_status st = read_tar_member(path, index_names, out, len, err);

	if (st == RP_OK && *out == NULL)
		st = rp_fail(err, RP_EINPUT, "source %s is not an OCI archive (no index.json)",
			     rp_quote(path, 200, q, sizeof(q)));
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
			info->is_index = reg_manifest_kind(mt) == 1;
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

/* The transports --source takes, each with the format name it reports. */
static const struct {
	const char *prefix, *format, *name;
} transports[] = {
	{ "docker-daemon:", "docker-daemon", "Docker daemon" },
	{ "oci:", "oci", "OCI layout" },
	{ "oci-archive:", "oci-archive", "OCI archive" },
	{ "docker-archive:", "docker-archive", "docker archive" },
	{ "containers-storage:", "containers-storage", "containers-storage" },
	{ "docker://", "docker", "registry" },
};

/*
 * A path that does not exist. In the action container the usual cause is
 * a host path the runner did not translate: it maps a value into the
 * container only when the value *starts* with a host path, so
 * "oci-archive:${{ github.workspace }}/x.tar" arrives unchanged.
 */
static rp_status
missing_path(const char *src, const char *path, int container, struct rp_err *err)
{
	char q[300], qp[300];
	int e = errno;

	rp_quote(src, 200, q, sizeof(q));
	rp_quote(path, 200, qp, sizeof(qp));
	if (container && e == ENOENT && path[0] == '/' && strncmp(path, "/github/", 8) != 0)
		return rp_fail(err, RP_EINPUT,
			       "source '%s': %s does not exist in the action container. The runner "
			       "translates a host path only when an input's value starts with it: give "
			       "the path alone (source: ${{ github.workspace }}/image.tar) or relative "
			       "to the workspace (source: image.tar)", q, qp);
	if (container && e == ENOENT && path[0] != '/')
		return rp_fail(err, RP_EINPUT,
			       "source '%s': %s is not in the workspace (/github/workspace, where relative "
			       "paths start): %s", q, qp, strerror(e));
	return rp_fail(err, RP_EINPUT, "source '%s': %s", q, strerror(e));
}

/*
 * A plain path: an OCI layout directory (index.json), an OCI archive (a
 * tar with index.json; a `docker save` tar of Docker 25 or later also
 * has manifest.json and is read as OCI) or a docker archive (a tar with
 * manifest.json only).
 */
static rp_status
detect_path(const char *src, int container, struct source_ref *out, struct rp_err *err)
{
	struct stat sb;
	char q[300], *text = NULL, *ip;
	size_t len;
	rp_status st;

	rp_quote(src, 200, q, sizeof(q));
	if (strchr(src, ':') != NULL)
		return rp_fail(err, RP_EINPUT,
			       "source '%s' is neither a transport reference (docker-daemon:, oci:, "
			       "oci-archive:, docker-archive:, containers-storage:, docker://) nor a "
			       "usable path (a path for %s cannot contain ':')", q, rp_flag("source"));
	if (stat(src, &sb) != 0)
		return missing_path(src, src, container, err);
	if (S_ISDIR(sb.st_mode)) {
		if ((ip = rp_asprintf("%s/index.json", src)) == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
		st = stat(ip, &sb) == 0 && S_ISREG(sb.st_mode) ? RP_OK :
		    rp_fail(err, RP_EINPUT, "source '%s' is a directory but not an OCI layout "
			    "(no index.json)", q);
		free(ip);
		if (st != RP_OK)
			return st;
		out->format = "oci";
	} else if (S_ISREG(sb.st_mode)) {
		if ((st = read_tar_member(src, index_names, &text, &len, err)) != RP_OK)
			return st;
		if (text != NULL) {
			out->format = "oci-archive";
		} else {
			if ((st = read_tar_member(src, docker_names, &text, &len, err)) != RP_OK)
				return st;
			if (text == NULL)
				return rp_fail(err, RP_EINPUT,
					       "source '%s' is not an image: neither an OCI archive (a tar "
					       "with index.json) nor a docker archive (a tar with "
					       "manifest.json)", q);
			out->format = "docker-archive";
		}
		free(text);
	} else {
		return rp_fail(err, RP_EINPUT, "source '%s' is neither a file nor a directory", q);
	}
	out->detected = 1;
	if ((out->ref = rp_asprintf("%s:%s", out->format, src)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	return RP_OK;
}

rp_status
source_resolve(const char *src, int container, struct source_ref *out, struct rp_err *err)
{
	char q[300];
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	if (src == NULL)
		return rp_fail(err, RP_EINPUT,
			       "no image to push: set %s, e.g. "
			       "image.tar (an OCI or docker archive), an OCI layout directory, "
			       "docker-daemon:IMAGE or docker://host/repo:tag", rp_flag("source"));
	rp_quote(src, 200, q, sizeof(q));
	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		n = strlen(transports[i].prefix);
		if (strncmp(src, transports[i].prefix, n) == 0)
			break;
	}
	if (i == sizeof(transports) / sizeof(transports[0]))
		return detect_path(src, container, out, err);
	if (src[n] == '\0')
		return rp_fail(err, RP_EINPUT, "source '%s' names no image after the transport", q);
	out->format = transports[i].format;
	if (container && strcmp(out->format, "containers-storage") == 0)
		return rp_fail(err, RP_EINPUT,
			       "source '%s' cannot be read in the action container: the runner mounts "
			       "no container storage and gives the container no CAP_SYS_ADMIN. Use "
			       "docker-daemon:IMAGE (the runner's Docker, through its socket), or save "
			       "the image into the workspace (buildah push IMAGE oci-archive:image.tar) "
			       "and set source: image.tar", q);
	if ((out->ref = rp_strdup(src)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if (strcmp(out->format, "docker") == 0) {
		struct imgref r;
		imgref_err e = imgref_parse(src + 9, &r);
		if (e != IMGREF_OK)
			return rp_fail(err, RP_EINPUT, "source '%s': %s", q, imgref_strerror(e));
		out->host = rp_strdup(r.domain != NULL ? r.domain : "docker.io");
		imgref_free(&r);
		if (out->host == NULL)
			return rp_fail(err, RP_ENOMEM, "out of memory");
	} else if (strncmp(src, "oci:", 4) == 0 || strncmp(src, "oci-archive:", 12) == 0 ||
		   strncmp(src, "docker-archive:", 15) == 0) {
		/* The path ends at the first ':' (an optional :tag follows). */
		const char *p = src + n;
		char path[4097];
		struct stat st;
		size_t pn = strcspn(p, ":");
		if (pn >= sizeof(path))
			return rp_fail(err, RP_EINPUT, "source path too long");
		memcpy(path, p, pn);
		path[pn] = '\0';
		if (stat(path, &st) != 0)
			return missing_path(src, path, container, err);
	}
	return RP_OK;
}

const char *
source_format_name(const char *format)
{
	size_t i;

	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (strcmp(transports[i].format, format) == 0)
			return transports[i].name;
	return format;
}

void
source_ref_free(struct source_ref *s)
{
	free(s->ref);
	free(s->host);
	memset(s, 0, sizeof(*s));
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
	    reg_manifest_kind(json_string_value(json_object_get(j, "mediaType"))) == 1;
	json_decref(j);
	return RP_OK;
}

rp_status
source_stage(const struct engine *e, const char *src, const char *src_host,
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
	engine_stage_argv(&a, e, src, src_host, *layout, dfile);
	snprintf(doing, sizeof(doing), "reading the source '%s'", rp_quote(src, 200, q, sizeof(q)));
	st = engine_run(e, &a, 1, doing, src_host != NULL ? src_host : "(local)", err);
	rp_strv_free(a.v);
	if (st == RP_OK)
		st = engine_read_digest(dfile, info->digest, err);
	free(dfile);
	if (st == RP_OK && (st = staged_kind(e->work, info, err)) == RP_OK)
		info->known = 1;
	return st;
}
