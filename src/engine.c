/*
 * engine.c — skopeo and buildah command lines, and their failures
 * (see engine.h). Secrets never appear in an argv: credentials reach
 * the engines only as the path of the private auth file.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ghactions.h"
#include "imgref.h"
#include "sig.h"

#define RETRIES "3"

void
av_add(struct argv *a, const char *s)
{
	if (!a->failed && rp_strv_push(&a->v, s) != 0)
		a->failed = 1;
}

void
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

int
engine_insecure(const struct engine *e, const char *host)
{
	return rp_strv_has(e->insecure, host);
}

static int
is_buildah(const struct engine *e)
{
	return e->engine != NULL && strcmp(e->engine, "buildah") == 0;
}

/* TLS flags for one side ("src-", "dest-" or "") of skopeo. */
static void
skopeo_access(struct argv *a, const struct engine *e, const char *side, const char *host)
{
	if (engine_insecure(e, host))
		av_addf(a, "--%stls-verify=false", side);
	else if (e->cert_dir != NULL)
		av_addf(a, "--%scert-dir=%s", side, e->cert_dir);
}

static void
skopeo_copy(struct argv *a, const struct engine *e)
{
	av_add(a, "skopeo");
	av_add(a, "copy");
	if (e->auth != NULL)
		av_addf(a, "--authfile=%s", e->auth);
	av_add(a, "--retry-times=" RETRIES);
	av_add(a, "--all");
}

static void
buildah_base(struct argv *a, const struct engine *e)
{
	av_add(a, "buildah");
	av_addf(a, "--root=%s/bstore", e->work);
	av_addf(a, "--runroot=%s/brun", e->work);
	av_add(a, "--storage-driver=vfs");
}

void
engine_stage_argv(struct argv *a, const struct engine *e, const char *src,
		const char *src_host, const char *layout, const char *dfile)
{
	skopeo_copy(a, e);
	/* Sources that are already OCI keep their digest exactly. */
	if (strncmp(src, "oci:", 4) == 0 || strncmp(src, "oci-archive:", 12) == 0)
		av_add(a, "--preserve-digests");
	if (src_host != NULL)
		skopeo_access(a, e, "src-", src_host);
	/* skopeo's docker-daemon: reads no DOCKER_HOST of its own. */
	if (strncmp(src, "docker-daemon:", 14) == 0 && rp_getenv("DOCKER_HOST") != NULL)
		av_addf(a, "--src-daemon-host=%s", rp_getenv("DOCKER_HOST"));
	av_addf(a, "--digestfile=%s", dfile);
	av_add(a, src);
	av_add(a, layout);
}

void
engine_upload_argv(struct argv *a, const struct engine *e, const char *layout,
		 const char *image_id, int is_index, const char *host,
		 const char *dest, const char *dfile)
{
	if (is_buildah(e)) {
		buildah_base(a, e);
		if (is_index) {
			av_add(a, "manifest");
			av_add(a, "push");
			av_add(a, "--all");
		} else {
			av_add(a, "push");
		}
		av_add(a, "--format=oci");
		/* buildah 1.28 has --retry for push, not for manifest push. */
		if (!is_index)
			av_add(a, "--retry=" RETRIES);
		if (e->auth != NULL)
			av_addf(a, "--authfile=%s", e->auth);
		if (engine_insecure(e, host))
			av_add(a, "--tls-verify=false");
		else if (e->cert_dir != NULL)
			av_addf(a, "--cert-dir=%s", e->cert_dir);
		av_addf(a, "--digestfile=%s", dfile);
		av_add(a, image_id != NULL ? image_id : "<image>");
	} else {
		skopeo_copy(a, e);
		av_add(a, "--preserve-digests");
		skopeo_access(a, e, "dest-", host);
		av_addf(a, "--digestfile=%s", dfile);
		av_add(a, layout);
	}
	av_addf(a, "docker://%s", dest);
}

void
engine_copy_argv(struct argv *a, const struct engine *e, const char *src_host, const char *src,
	       const char *dest_host, const char *dest, const char *dfile)
{
	skopeo_copy(a, e);
	av_add(a, "--preserve-digests");
	skopeo_access(a, e, "src-", src_host);
	skopeo_access(a, e, "dest-", dest_host);
	av_addf(a, "--digestfile=%s", dfile);
	av_addf(a, "docker://%s", src);
	av_addf(a, "docker://%s", dest);
}

rp_status
engine_buildah_prepare(const struct engine *e, const char *layout, int is_index,
		     const char *host, char **image_id, struct rp_err *err)
{
	struct argv a;
	rp_status st;
	int step;

	*image_id = NULL;
	for (step = 0; step < (is_index ? 2 : 1); step++) {
		memset(&a, 0, sizeof(a));
		if (!is_index) {
			/* buildah's own pull would name the image after the
			 * layout's path, which fails on any uppercase letter. */
			av_add(&a, "skopeo");
			av_add(&a, "copy");
			av_add(&a, "--preserve-digests");
			av_add(&a, layout);
			av_addf(&a, "containers-storage:[vfs@%s/bstore+%s/brun]localhost/regpush-staged:img",
				e->work, e->work);
		} else {
			buildah_base(&a, e);
			av_add(&a, "manifest");
			if (step == 0) {
				av_add(&a, "create");
				av_add(&a, "regpush-list");
			} else {
				av_add(&a, "add");
				av_add(&a, "--all");
				av_add(&a, "regpush-list");
				av_add(&a, layout);
			}
		}
		st = engine_run(e, &a, 1, "preparing the image for buildah", host, err);
		rp_strv_free(a.v);
		if (st != RP_OK)
			return st;
	}
	*image_id = rp_strdup(is_index ? "regpush-list" : "localhost/regpush-staged:img");
	return *image_id != NULL ? RP_OK : rp_fail(err, RP_ENOMEM, "out of memory");
}

/*
 * The number after `key` in t (digits and dots, at most 15), into out;
 * "?" when absent.
 */
static void
version_after(const char *t, const char *key, char out[16])
{
	const char *p = strstr(t, key);
	size_t n = 0;

	if (p != NULL) {
		p += strlen(key);
		n = strspn(p, "0123456789.");
		if (n > 15)
			n = 15;
		memcpy(out, p, n);
	}
	if (n == 0)
		memcpy(out, "?", 2);
	else
		out[n] = '\0';
}

/* Does an engine's failure t name the source side of a copy? */
static int
src_named(const char *t, const char *src_host, const char *dst_host)
{
	const char *s = strstr(t, "initializing source");
	char key[300];

	if (s != NULL)
		return 1;
	if (strstr(t, "initializing destination") != NULL)
		return 0;
	/* Another host named, and not the destination's. */
	if (strcmp(src_host, dst_host) == 0)
		return 0;
	snprintf(key, sizeof(key), "docker://%s/", src_host);
	if (strstr(t, key) == NULL)
		return 0;
	snprintf(key, sizeof(key), "docker://%s/", dst_host);
	return strstr(t, key) == NULL;
}

/* Turns a failed child into one message naming the engine and registry. */
static rp_status
child_failure(const struct engine *e, const char *name, const char *doing,
	      const char *host, struct child *c, struct rp_err *err)
{
	char how[128], last[700], u[200];
	const char *t;

	rp_scrub(c->err);
	t = c->err != NULL ? c->err : "";
	child_describe(c, how, sizeof(how));
	child_error_lines(t, last, sizeof(last));
	if (strstr(t, "unauthorized") != NULL || strstr(t, "authentication required") != NULL ||
	    strstr(t, "401 Unauthorized") != NULL) {
		/* A copy: the side the engine's message names (skopeo says
		 * "initializing source docker://HOST/..." or "reading manifest
		 * ... in HOST/..."). */
		if (e->src_host != NULL && src_named(t, e->src_host, host)) {
			const struct creds *sc = e->src_creds;
			if (sc != NULL && sc->username != NULL)
				return rp_fail(err, RP_EREGISTRY,
					       "registry %s (the source) refused the credentials of the %s "
					       "account '%s' while %s: %s", e->src_host, sc->profile,
					       rp_quote(sc->username, 150, u, sizeof(u)), doing, last);
			return rp_fail(err, RP_EREGISTRY,
				       "registry %s (the source) requires credentials (no %s account, "
				       "and none in the auth files) while %s: %s", e->src_host,
				       sc != NULL ? sc->profile : "source", doing, last);
		}
		if (e->creds != NULL && e->creds->username != NULL)
			return rp_fail(err, RP_EREGISTRY,
				       "registry %s refused the credentials of the %s account '%s' "
				       "while %s: %s", host, e->creds->profile,
				       rp_quote(e->creds->username, 150, u, sizeof(u)), doing, last);
		return rp_fail(err, RP_EREGISTRY,
			       "registry %s requires credentials (none given for the %s account) "
			       "while %s: %s", host, e->creds != NULL ? e->creds->profile : "",
			       doing, last);
	}
	if (strstr(t, "connection refused") != NULL || strstr(t, "no such host") != NULL ||
	    strstr(t, "i/o timeout") != NULL ||
	    strstr(t, "server gave HTTP response to HTTPS client") != NULL ||
	    strstr(t, "certificate") != NULL)
		return rp_fail(err, RP_EREGISTRY, "cannot reach registry %s while %s: %s",
			       host, doing, last);
	/* A Docker daemon (≥ 25 refuses below 1.24, 29 below 1.44) and a
	 * skopeo that asks for a fixed old API (1.9.3 asks for 1.22). */
	if (strstr(t, "is too old. Minimum supported API version is") != NULL) {
		char have[16], need[16];
		version_after(t, "client version ", have);
		version_after(t, "Minimum supported API version is ", need);
		return rp_fail(err, RP_EREGISTRY,
			       "the Docker daemon refuses Docker API %s, which this %s asks for (it "
			       "needs at least %s) while %s: use skopeo 1.13 or later, which "
			       "negotiates the version (the regpush action image has 1.18), or push "
			       "a saved archive (docker save -o image.tar IMAGE; source: image.tar)",
			       have, name, need, doing);
	}
	return rp_fail(err, RP_EREGISTRY, "%s %s while %s: %s", name, how, doing, last);
}

/* In Actions the engine's progress shows as it happens, in a group, with
 * workflow commands stopped (a token of our own) so its lines cannot
 * issue any. */
struct actions_show {
	char tok[64];
};

static int
show_begin(void *ctx, const char *title)
{
	struct actions_show *as = ctx;

	if (gha_delimiter(as->tok, sizeof(as->tok)) != 0)
		return -1;
	gha_command(stdout, "group", NULL, title);
	printf("::stop-commands::%s\n", as->tok);
	return 0;
}

static void
show_end(void *ctx, int ended_line)
{
	struct actions_show *as = ctx;

	printf("%s::%s::\n", ended_line ? "" : "\n", as->tok);
	gha_command(stdout, "endgroup", NULL, "");
}

rp_status
engine_run(const struct engine *e, struct argv *a, int quiet, const char *doing,
	 const char *host, struct rp_err *err)
{
	struct actions_show as;
	struct child_show show = { show_begin, show_end, &as };
	struct child_log log = { .quiet = quiet, .show = e->actions ? &show : NULL };
	struct child c;
	rp_status st;

	if (a->failed || a->v == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	if ((st = child_run(a->v, (int)settings_get(e->settings, RS_ENGINE_TIMEOUT), &log, &c,
			     err)) == RP_OK && !child_ok(&c))
		st = child_failure(e, a->v[0], doing, host, &c, err);
	child_free(&c);
	return st;
}

rp_status
engine_run_upload(const struct engine *e, struct argv *a, const char *doing,
		const char *host, struct rp_err *err)
{
	long attempts = settings_get(e->settings, RS_ENGINE_ATTEMPTS);
	long base_ms = settings_get(e->settings, RS_RETRY_BASE_MS), wait_ms, k;
	struct actions_show as;
	struct child_show show = { show_begin, show_end, &as };
	struct child_log log = { .show = e->actions ? &show : NULL };
	struct child c;
	char how[128], last[300], msg[700];
	rp_status st;

	if (a->failed || a->v == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory");
	for (k = 1;; k++) {
		memset(&c, 0, sizeof(c));
		if ((st = child_run(a->v, (int)settings_get(e->settings, RS_ENGINE_TIMEOUT), &log, &c,
				     err)) != RP_OK || child_ok(&c))
			break;
		st = child_failure(e, a->v[0], doing, host, &c, err);
		/* Killed, timed out, interrupted, refused credentials: final. */
		if (k >= attempts || !c.exited || c.timed_out || sig_caught ||
		    strstr(err->msg, "credentials") != NULL)
			break;
		wait_ms = rp_backoff_ms(base_ms, (int)k - 1);
		child_describe(&c, how, sizeof(how));
		child_error_lines(c.err != NULL ? c.err : "", last, sizeof(last));
		snprintf(msg, sizeof(msg), "%s %s while %s (%s); trying again in %ld ms "
			 "(attempt %ld of %ld)", a->v[0], how, doing, last, wait_ms, k + 1, attempts);
		gha_say(e->actions, "warning", "regpush: registry", msg);
		child_free(&c);
		if (sig_sleep_ms(wait_ms) != 0) {
			st = rp_fail(err, RP_EREGISTRY, "interrupted by SIG%s while %s",
				     sig_name(sig_caught), doing);
			return st;
		}
	}
	child_free(&c);
	return st;
}

rp_status
engine_read_digest(const char *path, char out[RP_DIGEST_MAX], struct rp_err *err)
{
	char *text;
	size_t len;

	/* A missing digest file is the engine's failure, not bad input. */
	if (rp_read_file(path, "digest file", 256, &text, &len, err) != RP_OK)
		return err->status = RP_EREGISTRY;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (!imgref_digest_valid(text) || len >= RP_DIGEST_MAX) {
		free(text);
		return rp_fail(err, RP_EREGISTRY, "the engine wrote an invalid digest");
	}
	memcpy(out, text, len + 1);
	free(text);
	return RP_OK;
}
