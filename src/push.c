/*
 * push.c — `regpush push`: the plan's tags written to the registry.
 *
 * Order of work, so that a refusal never leaves a half-written registry:
 *   1. plan (pure), credentials (masked first), a private work directory;
 *   2. the run's digest, before any tag is written: read from index.json
 *      for oci: and oci-archive: sources (pushed from there with
 *      --preserve-digests), or by staging any other source into a private
 *      OCI layout with skopeo;
 *   3. read the registry over HTTP (registry.c): every tag's digest (HEAD)
 *      and, for release floating tags, the tag list; an immutable tag on
 *      another digest refuses the run (exit 3) before anything is written;
 *   4. write: the engine uploads the image once, to the first tag that
 *      must change; every other tag is a PUT of the identical manifest
 *      bytes (a server-side retag: no blob is sent again);
 *   5. HEAD every written or unchanged tag and compare digests;
 *   6. report, and remove the work directory (also on error and signals).
 */
#include "push.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "curlfn.h"
#include <jansson.h>

#include "creds.h"
#include "engine.h"
#include "floating.h"
#include "ghactions.h"
#include "imgref.h"
#include "plan.h"
#include "registry.h"
#include "report.h"
#include "run.h"
#include "source.h"

#define RETRIES "3"

static const char *const transports[] = {
	"docker-daemon:", "oci:", "oci-archive:", "docker-archive:",
	"containers-storage:", "docker://",
};

struct push {
	struct rp_opts *o;
	struct plan *plan;
	struct creds creds;
	char *work;          /* private directory, or NULL */
	char *own_auth;      /* auth file we wrote (inside work) */
	const char *auth;    /* auth file handed to children, or NULL */
	char *layout;        /* "oci:<work>/layout:img" */
	char *host;          /* registry host[:port] */
	char *src_host;      /* docker:// source host, or NULL */
	char digest[80];
	int is_index;
	char *image_id;      /* buildah: the pulled image or list name */
	char **current;      /* per tag: digest in the registry, or NULL */
	const char **status; /* per tag */
	char **existing;     /* tag list, when needed */
	struct engine_log log;
	struct reg_client *reg;
	const char *repo;    /* repository path without the host */
	struct source_info src;
	struct sbuf dry;     /* --dry-run: the writes a real run would do */
};

/* --- argv building ------------------------------------------------------ */

struct argv {
	char **v;
	int failed;
};

static void
av_add(struct argv *a, const char *s)
{
	if (!a->failed && rp_strv_push(&a->v, s) != 0)
		a->failed = 1;
}

static void
av_addf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
av_addf(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->failed = 1;
		return;
	}
	av_add(a, s);
	free(s);
}

static int
host_insecure(const struct push *ps, const char *host)
{
	size_t i;

	for (i = 0; host != NULL && ps->o->insecure != NULL && ps->o->insecure[i]; i++)
		if (strcmp(ps->o->insecure[i], host) == 0)
			return 1;
	return 0;
}

/* TLS and auth flags for one side ("src-", "dest-" or "") of skopeo. */
static void
skopeo_access(struct argv *a, const struct push *ps, const char *side,
	      const char *host)
{
	if (host_insecure(ps, host))
		av_addf(a, "--%stls-verify=false", side);
	else if (ps->o->cert_dir != NULL)
		av_addf(a, "--%scert-dir=%s", side, ps->o->cert_dir);
}

static void
skopeo_base(struct argv *a, const struct push *ps, const char *cmd)
{
	av_add(a, "skopeo");
	av_add(a, cmd);
	if (ps->auth != NULL)
		av_addf(a, "--authfile=%s", ps->auth);
	av_add(a, "--retry-times=" RETRIES);
}

static void
buildah_base(struct argv *a, const struct push *ps)
{
	av_add(a, "buildah");
	av_addf(a, "--root=%s/bstore", ps->work);
	av_addf(a, "--runroot=%s/brun", ps->work);
	av_add(a, "--storage-driver=vfs");
}

/* --- running and explaining failures -------------------------------------- */

static rp_status
run_child(struct push *ps, struct argv *a, int quiet, struct child *c,
	  struct rp_err *err)
{
	struct engine_log log = ps->log;

	if (a->failed)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	log.quiet = quiet;
	return engine_run(a->v, 0, &log, c, err);
}

/* Turns a failed child into one message naming the registry. */
static rp_status
child_failure(const struct push *ps, const char *doing, const char *host,
	      const struct child *c, struct rp_err *err)
{
	char how[128], last[700];
	const char *e = c->err != NULL ? c->err : "";

	engine_describe(c, how, sizeof(how));
	engine_last_line(e, last, sizeof(last));
	if (strstr(e, "unauthorized") != NULL ||
	    strstr(e, "authentication required") != NULL ||
	    strstr(e, "401 Unauthorized") != NULL) {
		if (ps->creds.username != NULL) {
			char u[200];
			return rp_fail(err, RP_EREGISTRY,
				       "registry %s refused the credentials of the %s account '%s' "
				       "while %s: %s",
				       host, ps->creds.profile,
				       rp_quote(ps->creds.username, 150, u, sizeof(u)),
				       doing, last);
		}
		return rp_fail(err, RP_EREGISTRY,
			       "registry %s requires credentials (none given for the %s account) "
			       "while %s: %s", host, ps->creds.profile, doing, last);
	}
	if (strstr(e, "connection refused") != NULL ||
	    strstr(e, "no such host") != NULL ||
	    strstr(e, "i/o timeout") != NULL ||
	    strstr(e, "server gave HTTP response to HTTPS client") != NULL ||
	    strstr(e, "certificate") != NULL)
		return rp_fail(err, RP_EREGISTRY, "cannot reach registry %s while %s: %s",
			       host, doing, last);
	return rp_fail(err, RP_EREGISTRY, "the engine %s while %s: %s", how, doing, last);
}

/* --- stage ---------------------------------------------------------------- */

static rp_status
check_source(struct push *ps, struct rp_err *err)
{
	const char *src = ps->o->source;
	char q[300];
	size_t i, n;

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
		ps->src_host = rp_strdup(r.domain != NULL ? r.domain : "docker.io");
		imgref_free(&r);
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

/* Reads the digest skopeo wrote with --digestfile. */
static rp_status
read_digest(const char *path, char *out, size_t size, struct rp_err *err)
{
	char *text;
	size_t len;
	rp_status st;

	/* A missing digest file is the engine's failure, not bad input. */
	if ((st = rp_read_file(path, "digest file", 256, &text, &len, err)) != RP_OK)
		return err->status = RP_EREGISTRY;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (!imgref_digest_valid(text) || len >= size) {
		free(text);
		return rp_fail(err, RP_EREGISTRY, "the engine wrote an invalid digest");
	}
	memcpy(out, text, len + 1);
	free(text);
	return RP_OK;
}

/* Is the staged manifest an index (or Docker manifest list)? */
static rp_status
staged_kind(struct push *ps, struct rp_err *err)
{
	char *path, *text;
	json_t *j;
	const char *mt;
	rp_status st;

	path = rp_asprintf("%s/layout/blobs/sha256/%s", ps->work, ps->digest + 7);
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
	mt = json_string_value(json_object_get(j, "mediaType"));
	ps->is_index = json_is_array(json_object_get(j, "manifests")) ||
	    (mt != NULL && (strstr(mt, "index") != NULL || strstr(mt, "list") != NULL));
	json_decref(j);
	return RP_OK;
}

static rp_status
stage(struct push *ps, struct rp_err *err)
{
	struct argv a = { 0 };
	struct child c;
	char *dfile;
	const char *src = ps->o->source;
	rp_status st;

	if ((ps->layout = rp_asprintf("oci:%s/layout:img", ps->work)) == NULL ||
	    (dfile = rp_asprintf("%s/staged.digest", ps->work)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	skopeo_base(&a, ps, "copy");
	av_add(&a, "--all");
	/* Sources that are already OCI keep their digest exactly. */
	if (strncmp(src, "oci:", 4) == 0 || strncmp(src, "oci-archive:", 12) == 0)
		av_add(&a, "--preserve-digests");
	if (ps->src_host != NULL)
		skopeo_access(&a, ps, "src-", ps->src_host);
	av_addf(&a, "--digestfile=%s", dfile);
	av_add(&a, src);
	av_add(&a, ps->layout);
	st = run_child(ps, &a, 1, &c, err);
	rp_strv_free(a.v);
	if (st == RP_OK && !child_ok(&c)) {
		char how[128], last[700], q[300];
		st = rp_fail(err, RP_EREGISTRY, "cannot read the source '%s': skopeo %s: %s",
			     rp_quote(src, 200, q, sizeof(q)), engine_describe(&c, how, sizeof(how)),
			     engine_last_line(c.err, last, sizeof(last)));
		if (ps->src_host != NULL && strstr(c.err, "connection refused") != NULL)
			st = rp_fail(err, RP_EREGISTRY, "cannot reach registry %s while reading the source: %s",
				     ps->src_host, last);
	}
	child_free(&c);
	if (st == RP_OK)
		st = read_digest(dfile, ps->digest, sizeof(ps->digest), err);
	free(dfile);
	if (st == RP_OK)
		st = staged_kind(ps, err);
	return st;
}

/* --- reading the registry ------------------------------------------------- */

static rp_status
list_tags(struct push *ps, struct rp_err *err)
{
	return reg_tags(ps->reg, ps->repo, &ps->existing, err);
}

/* Decides every tag's fate before anything is written. */
static rp_status
decide(struct push *ps, struct rp_err *err)
{
	struct plan *p = ps->plan;
	size_t i;
	int need_list = 0;
	rp_status st;

	char (*d)[80] = calloc(p->ntags, sizeof(*d));
	char **names = calloc(p->ntags + 1, sizeof(*names));

	if (d == NULL || names == NULL) {
		free(d);
		free(names);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	for (i = 0; i < p->ntags; i++)
		names[i] = p->tags[i].name;
	st = reg_manifest_head_many(ps->reg, ps->repo, names, p->ntags, d, err);
	for (i = 0; i < p->ntags && st == RP_OK; i++)
		if (d[i][0] != '\0' && (ps->current[i] = rp_strdup(d[i])) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
	free(d);
	free(names);
	if (st != RP_OK)
		return st;
	for (i = 0; i < p->ntags; i++) {
		if (p->tags[i].kind == TAG_IMMUTABLE && ps->current[i] != NULL &&
		    strcmp(ps->current[i], ps->digest) != 0)
			return rp_fail(err, RP_EREFUSED,
				       "refused: %s is immutable and already points at %s; "
				       "this run's image is %s. Nothing was written.",
				       p->tags[i].image, ps->current[i], ps->digest);
		if (p->tags[i].scope != SCOPE_NONE)
			need_list = 1;
	}
	if (need_list && (st = list_tags(ps, err)) != RP_OK)
		return st;
	for (i = 0; i < p->ntags; i++) {
		const char *blocker = NULL;
		/* Forward-only first: a tag that may not move is "kept" even
		 * when it happens to hold this digest already. */
		if (!floating_moves(p, &p->tags[i], ps->existing, &blocker))
			ps->status[i] = "kept";
		else if (ps->current[i] != NULL && strcmp(ps->current[i], ps->digest) == 0)
			ps->status[i] = "unchanged";
		else
			ps->status[i] = "pushed"; /* to be written */
		if (blocker != NULL && !ps->log.quiet) {
			char msg[400];
			snprintf(msg, sizeof(msg), "%s kept: %s is a newer release",
				 p->tags[i].name, blocker);
			if (ps->log.actions)
				gha_command(stdout, "notice", "regpush", msg);
			else
				fprintf(stderr, "regpush: %s\n", msg);
		}
	}
	return RP_OK;
}

/* --- writing -------------------------------------------------------------- */

/*
 * buildah pushes from its own storage: a private vfs store in the work
 * directory. A single image is copied there by skopeo under a fixed name
 * (buildah's own pull would name it after the layout's path, which fails
 * on any uppercase letter in $TMPDIR); an index becomes a buildah
 * manifest list with every instance.
 */
static rp_status
buildah_prepare(struct push *ps, struct rp_err *err)
{
	struct argv a = { 0 };
	struct child c;
	rp_status st;
	int step;

	for (step = 0; step < 2; step++) {
		a.v = NULL;
		a.failed = 0;
		if (!ps->is_index && step == 1)
			break;
		if (!ps->is_index) {
			av_add(&a, "skopeo");
			av_add(&a, "copy");
			av_add(&a, "--preserve-digests");
			av_add(&a, ps->layout);
			av_addf(&a, "containers-storage:[vfs@%s/bstore+%s/brun]localhost/regpush-staged:img",
				ps->work, ps->work);
		} else {
			buildah_base(&a, ps);
			av_add(&a, "manifest");
			if (step == 0) {
				av_add(&a, "create");
				av_add(&a, "regpush-list");
			} else {
				av_add(&a, "add");
				av_add(&a, "--all");
				av_add(&a, "regpush-list");
				av_add(&a, ps->layout);
			}
		}
		st = run_child(ps, &a, 1, &c, err);
		rp_strv_free(a.v);
		if (st == RP_OK && !child_ok(&c))
			st = child_failure(ps, "preparing the image for buildah", ps->host, &c, err);
		child_free(&c);
		if (st != RP_OK)
			return st;
	}
	ps->image_id = rp_strdup(ps->is_index ? "regpush-list" : "localhost/regpush-staged:img");
	if (ps->image_id == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	return RP_OK;
}

static void
write_argv(struct argv *a, const struct push *ps, const char *image,
	   const char *dfile)
{
	const char *engine = ps->o->engine != NULL ? ps->o->engine : "skopeo";

	if (strcmp(engine, "buildah") == 0) {
		buildah_base(a, ps);
		if (ps->is_index) {
			av_add(a, "manifest");
			av_add(a, "push");
			av_add(a, "--all");
		} else {
			av_add(a, "push");
		}
		av_add(a, "--format=oci");
		/* buildah 1.28 has --retry for push, not for manifest push. */
		if (!ps->is_index)
			av_add(a, "--retry=" RETRIES);
		if (ps->auth != NULL)
			av_addf(a, "--authfile=%s", ps->auth);
		if (host_insecure(ps, ps->host))
			av_add(a, "--tls-verify=false");
		else if (ps->o->cert_dir != NULL)
			av_addf(a, "--cert-dir=%s", ps->o->cert_dir);
		av_addf(a, "--digestfile=%s", dfile);
		av_add(a, ps->image_id != NULL ? ps->image_id : "<image>");
	} else {
		skopeo_base(a, ps, "copy");
		av_add(a, "--all");
		av_add(a, "--preserve-digests");
		skopeo_access(a, ps, "dest-", ps->host);
		av_addf(a, "--digestfile=%s", dfile);
		av_add(a, ps->layout);
	}
	av_addf(a, "docker://%s", image);
}

/* Uploads the image with the engine to the tag at index i. */
static rp_status
engine_write(struct push *ps, size_t i, struct rp_err *err)
{
	const char *engine = ps->o->engine != NULL ? ps->o->engine : "skopeo";
	struct plan *p = ps->plan;
	struct argv a = { 0 };
	struct child c;
	char *dfile, got[80], doing[300];
	rp_status st;

	if (strcmp(engine, "buildah") == 0 && (st = buildah_prepare(ps, err)) != RP_OK)
		return st;
	if ((dfile = rp_asprintf("%s/pushed.digest", ps->work)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	write_argv(&a, ps, p->tags[i].image, dfile);
	st = run_child(ps, &a, 0, &c, err);
	rp_strv_free(a.v);
	snprintf(doing, sizeof(doing), "pushing %s with %s", p->tags[i].image, engine);
	if (st == RP_OK && !child_ok(&c))
		st = child_failure(ps, doing, ps->host, &c, err);
	child_free(&c);
	if (st == RP_OK && (st = read_digest(dfile, got, sizeof(got), err)) == RP_OK &&
	    strcmp(got, ps->digest) != 0)
		st = rp_fail(err, RP_EREGISTRY,
			     "%s was written with digest %s, not the expected %s",
			     p->tags[i].image, got, ps->digest);
	free(dfile);
	return st;
}

/*
 * One upload, then server-side retags: the engine pushes the first tag
 * that must change; the manifest's exact bytes are then read back by
 * digest and PUT under every other tag that must change.
 */
static rp_status
write_tags(struct push *ps, struct rp_err *err)
{
	struct plan *p = ps->plan;
	struct reg_manifest m;
	char **names = calloc(p->ntags + 1, sizeof(*names));
	size_t i, n = 0;
	int present = 0;
	rp_status st = RP_OK;

	memset(&m, 0, sizeof(m));
	if (names == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	/* A tag already on this digest means the blobs are in the
	 * repository: every write can be a retag, with no upload. */
	for (i = 0; i < p->ntags; i++)
		if (strcmp(ps->status[i], "unchanged") == 0)
			present = 1;
	for (i = 0; i < p->ntags && st == RP_OK; i++) {
		if (strcmp(ps->status[i], "pushed") != 0)
			continue;
		if (!present) {
			st = engine_write(ps, i, err);
			present = 1;
			continue;
		}
		names[n++] = p->tags[i].name;
		if (!ps->log.quiet && !ps->log.actions)
			fprintf(stderr, "+ PUT %s (server-side retag of %s)\n", p->tags[i].image,
				ps->digest);
	}
	if (st == RP_OK && n > 0 &&
	    (st = reg_manifest_get(ps->reg, ps->repo, ps->digest, &m, err)) == RP_OK)
		st = reg_manifest_put_many(ps->reg, ps->repo, names, n, &m, err);
	reg_manifest_free(&m);
	free(names);
	return st;
}

static rp_status
verify(struct push *ps, struct rp_err *err)
{
	struct plan *p = ps->plan;
	char (*d)[80] = calloc(p->ntags, sizeof(*d));
	char **names = calloc(p->ntags + 1, sizeof(*names));
	size_t *which = calloc(p->ntags, sizeof(*which));
	size_t i, n = 0;
	rp_status st;

	if (d == NULL || names == NULL || which == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < p->ntags; i++) {
		if (strcmp(ps->status[i], "kept") == 0)
			continue;
		which[n] = i;
		names[n++] = p->tags[i].name;
	}
	if ((st = reg_manifest_head_many(ps->reg, ps->repo, names, n, d, err)) != RP_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (strcmp(d[i], ps->digest) != 0) {
			st = rp_fail(err, RP_EREGISTRY,
				     "verification failed: %s points at %s after the push, expected %s",
				     p->tags[which[i]].image, d[i][0] != '\0' ? d[i] : "nothing",
				     ps->digest);
			break;
		}
	}
out:
	free(d);
	free(names);
	free(which);
	return st;
}

/* --- dry run ---------------------------------------------------------------- */

/*
 * --dry-run does everything a real run does up to the writes (it reads the
 * source and the registry, so statuses and refusals are the real ones),
 * then prints the writes instead of doing them. Secrets never appear in
 * any argv, so nothing needs redacting.
 */
static rp_status
dry_run(struct push *ps, struct rp_err *err)
{
	struct plan *p = ps->plan;
	struct sbuf sb;
	size_t i, j;
	int first = 1, present = 0;
	char q[1100];
	char *text;
	rp_status st;

	sbuf_init(&sb, 1 << 20);
	sbuf_puts(&sb, "dry run: nothing is written to any registry; a real run would do:\n");
	for (i = 0; i < p->ntags; i++)
		if (strcmp(ps->status[i], "unchanged") == 0)
			present = 1;
	for (i = 0; i < p->ntags; i++) {
		if (strcmp(ps->status[i], "pushed") != 0)
			continue;
		ps->status[i] = "planned";
		if (first && !present) {
			struct argv a = { 0 };
			char *dfile = rp_asprintf("%s/pushed.digest", ps->work);
			write_argv(&a, ps, p->tags[i].image, dfile != NULL ? dfile : "pushed.digest");
			free(dfile);
			sbuf_puts(&sb, " ");
			for (j = 0; a.v != NULL && a.v[j] != NULL; j++)
				sbuf_printf(&sb, " %s", rp_quote(a.v[j], 1000, q, sizeof(q)));
			sbuf_puts(&sb, "\n");
			rp_strv_free(a.v);
		} else {
			sbuf_printf(&sb, "  PUT %s (server-side retag of %s)\n",
				    p->tags[i].image, ps->digest);
		}
		first = 0;
	}
	if (first)
		sbuf_puts(&sb, "  nothing: every tag is unchanged or kept\n");
	if ((text = sbuf_take(&sb)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	st = run_print(text, err);
	free(text);
	return st;
}

/* --- the command -------------------------------------------------------- */

static void
mask_all_secrets(const struct rp_opts *o)
{
	static const char *const profiles[] = { "dev", "staging", "release" };
	size_t i;

	if (!o->actions)
		return;
	for (i = 0; i < 3; i++) {
		struct creds c;
		struct rp_err ignored;
		if (creds_load(profiles[i], &c, &ignored) == RP_OK)
			creds_mask(&c);
		creds_free(&c);
	}
}

static rp_status
report(struct push *ps, struct rp_err *err)
{
	struct run_result res = {
		.command = "push", .digest = ps->digest[0] != '\0' ? ps->digest : NULL,
		.status = ps->status, .dry_run = ps->o->dry_run,
	};
	json_t *j = NULL;
	char *text = NULL;
	rp_status st;

	if (ps->o->json) {
		if ((j = report_json(ps->plan, &res)) == NULL ||
		    (text = rp_json_dumps(j, JSON_INDENT(2))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if ((st = run_print(text, err)) == RP_OK)
			st = run_print("\n", err);
	} else if ((text = report_text(ps->plan, &res)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	} else {
		st = run_print(text, err);
	}
	if (st == RP_OK && ps->o->actions)
		st = report_actions(ps->plan, &res, err);
	free(text);
	json_decref(j);
	return st;
}

/* The registry client for the destination, with the environment's robot
 * account, else what the auth files hold for this repository. */
static rp_status
open_registry(struct push *ps, struct rp_err *err)
{
	struct reg_config cfg;
	struct creds fromfile;
	char account[300], q[200];
	rp_status st;

	memset(&cfg, 0, sizeof(cfg));
	memset(&fromfile, 0, sizeof(fromfile));
	cfg.host = ps->host;
	cfg.insecure = host_insecure(ps, ps->host);
	cfg.cert_dir = ps->o->cert_dir;
	if (ps->creds.username != NULL) {
		cfg.username = ps->creds.username;
		cfg.password = ps->creds.password;
		snprintf(account, sizeof(account), "%s account '%s'", ps->creds.profile,
			 rp_quote(ps->creds.username, 150, q, sizeof(q)));
	} else {
		if ((st = creds_from_authfiles(ps->o->authfile, ps->host, ps->repo, &fromfile,
					       err)) != RP_OK)
			return st;
		cfg.username = fromfile.username;
		cfg.password = fromfile.password;
		snprintf(account, sizeof(account), "account '%s' from the auth file",
			 rp_quote(fromfile.username != NULL ? fromfile.username : "", 150, q, sizeof(q)));
	}
	cfg.account = account;
	ps->reg = reg_new(&cfg, err);
	creds_free(&fromfile);
	return ps->reg != NULL ? RP_OK : RP_EREGISTRY;
}

rp_status
push_run(struct rp_opts *o, struct rp_err *err)
{
	struct push ps;
	struct policy *pol = NULL;
	struct imgref r;
	size_t i;
	rp_status st;

	memset(&ps, 0, sizeof(ps));
	ps.o = o;
	ps.log.actions = o->actions;
	/* Before anything else is printed. */
	mask_all_secrets(o);
	engine_install_signals();
	if ((st = run_load_policy(o, &pol, err)) != RP_OK ||
	    (st = run_make_plan(o, pol, &ps.plan, err)) != RP_OK ||
	    (st = check_source(&ps, err)) != RP_OK ||
	    (st = creds_load(ps.plan->credentials, &ps.creds, err)) != RP_OK)
		goto out;
	if (imgref_parse_registry(ps.plan->registry, &r) != IMGREF_OK) {
		st = rp_fail(err, RP_EINPUT, "invalid registry");
		goto out;
	}
	ps.host = r.domain;
	r.domain = NULL;
	imgref_free(&r);
	ps.current = calloc(ps.plan->ntags, sizeof(*ps.current));
	ps.status = calloc(ps.plan->ntags, sizeof(*ps.status));
	if (ps.current == NULL || ps.status == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	ps.auth = o->authfile;
	ps.repo = ps.plan->repository + strlen(ps.host) + 1;
	if ((st = open_registry(&ps, err)) != RP_OK)
		goto out;
	if ((ps.work = workdir_create(err)) == NULL) {
		st = RP_EREGISTRY;
		goto out;
	}
	if (ps.creds.username != NULL) {
		if ((st = creds_write_authfile(&ps.creds, ps.host, ps.work, &ps.own_auth,
					       err)) != RP_OK)
			goto out;
		ps.auth = ps.own_auth;
	}
	if ((st = source_inspect(o->source, &ps.src, err)) != RP_OK)
		goto out;
	if (ps.src.known) {
		/* Pushed straight from the source; its digest is in index.json. */
		memcpy(ps.digest, ps.src.digest, sizeof(ps.digest));
		ps.is_index = ps.src.is_index;
		if ((ps.layout = rp_strdup(o->source)) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	} else if ((st = stage(&ps, err)) != RP_OK) {
		goto out;
	}
	if ((st = decide(&ps, err)) != RP_OK)
		goto out;
	if (o->dry_run)
		st = dry_run(&ps, err);
	else if ((st = write_tags(&ps, err)) == RP_OK)
		st = verify(&ps, err);
	if (st != RP_OK)
		goto out;
	st = report(&ps, err);
out:
	if (ps.work != NULL)
		workdir_remove(ps.work);
	reg_free(ps.reg);
	curlfn_unload();
	if (engine_interrupted && st != RP_OK && err->msg[0] == '\0')
		rp_fail(err, RP_EREGISTRY, "interrupted");
	for (i = 0; ps.current != NULL && i < ps.plan->ntags; i++)
		free(ps.current[i]);
	free(ps.current);
	free(ps.status);
	rp_strv_free(ps.existing);
	creds_free(&ps.creds);
	free(ps.own_auth);
	free(ps.work);
	free(ps.layout);
	free(ps.host);
	free(ps.src_host);
	free(ps.image_id);
	plan_free(ps.plan);
	policy_free(pol);
	if (engine_interrupted) {
		int sig = engine_interrupted;
		run_report_error(o, err);
		ghctx_opts_free(o);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return st;
}
