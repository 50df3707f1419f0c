/*
 * source.c — reading index.json from an OCI layout directory or an OCI
 * archive (a tar file, read with libarchive without unpacking it).
 */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "imgref.h"

#define INDEX_MAX (4 * 1024 * 1024)

static rp_status
read_archive_index(const char *path, char **out, size_t *len, struct rp_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct sbuf sb;
	char q[256], buf[8192];
	la_ssize_t n;
	rp_status st = RP_OK;
	int found = 0;

	*out = NULL;
	rp_quote(path, 200, q, sizeof(q));
	if (a == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		st = rp_fail(err, RP_EINPUT, "source %s: %s", q, archive_error_string(a));
		archive_read_free(a);
		return st;
	}
	sbuf_init(&sb, INDEX_MAX);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (name == NULL)
			continue;
		if (strncmp(name, "./", 2) == 0)
			name += 2;
		if (strcmp(name, "index.json") != 0)
			continue;
		found = 1;
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			if (sbuf_add(&sb, buf, (size_t)n) != 0)
				break;
		if (n < 0 || sb.failed)
			st = rp_fail(err, RP_EINPUT, "source %s: cannot read index.json", q);
		break;
	}
	archive_read_free(a);
	if (st == RP_OK && !found)
		st = rp_fail(err, RP_EINPUT, "source %s is not an OCI archive (no index.json)", q);
	if (st != RP_OK) {
		sbuf_free(&sb);
		return st;
	}
	*len = sb.len;
	if ((*out = sbuf_take(&sb)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	return RP_OK;
}

rp_status
source_inspect(const char *src, struct source_info *info, struct rp_err *err)
{
	const char *rest, *colon;
	char *path = NULL, *ref = NULL, *text = NULL;
	json_t *j = NULL, *mans, *m, *pick = NULL;
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
	if ((j = json_loadb(text, len, 0, NULL)) == NULL ||
	    !json_is_array(mans = json_object_get(j, "manifests")))
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
			info->is_index = mt != NULL &&
			    (strstr(mt, "index") != NULL || strstr(mt, "manifest.list") != NULL);
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
