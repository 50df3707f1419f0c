/*
 * report.c — renders a plan (and, after a push, its results) as JSON,
 * text, action outputs and a step summary. Values in a plan are already
 * validated (tags, references, SemVer), so they are safe in Markdown and
 * on a log line; the JSON is built with jansson, never by hand.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ghactions.h"
#include "source.h"

static const char *
kind_name(enum tag_kind k)
{
	switch (k) {
	case TAG_IMMUTABLE: return "immutable";
	case TAG_FLOATING: return "floating";
	default: return "unique";
	}
}

const char *
tag_status_name(enum tag_status s)
{
	switch (s) {
	case TS_PUSHED: return "pushed";
	case TS_UNCHANGED: return "unchanged";
	case TS_KEPT: return "kept";
	case TS_NOT_WRITTEN: return "not-written";
	case TS_UNKNOWN: return "unknown";
	default: return "planned";
	}
}

static const char *
tag_status(const struct run_result *r, size_t i)
{
	if (r == NULL || r->status == NULL)
		return "planned";
	return tag_status_name(r->status[i]);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *
report_json(const struct plan *p, const struct run_result *r)
{
	json_t *o, *tags, *imm, *flo, *img, *labels, *res;
	size_t i;
	int bad = 0;

	o = json_object();
	tags = json_array();
	imm = json_array();
	flo = json_array();
	img = json_array();
	labels = json_object();
	res = json_array();
	if (o == NULL || tags == NULL || imm == NULL || flo == NULL ||
	    img == NULL || labels == NULL || res == NULL) {
		json_decref(o);
		json_decref(tags);
		json_decref(imm);
		json_decref(flo);
		json_decref(img);
		json_decref(labels);
		json_decref(res);
		return NULL;
	}
	for (i = 0; i < p->ntags; i++) {
		const struct plan_tag *t = &p->tags[i];
		bad |= json_array_append_new(tags, json_string(t->name));
		bad |= json_array_append_new(img, json_string(t->image));
		if (t->kind == TAG_IMMUTABLE)
			bad |= json_array_append_new(imm, json_string(t->name));
		if (t->kind == TAG_FLOATING)
			bad |= json_array_append_new(flo, json_string(t->name));
		bad |= json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s}",
			"tag", t->name, "image", t->image, "kind", kind_name(t->kind),
			"status", tag_status(r, i)));
	}
	bad |= json_object_set_new(labels, "org.opencontainers.image.revision",
				   json_string(p->label_revision));
	if (p->label_source != NULL)
		bad |= json_object_set_new(labels, "org.opencontainers.image.source",
					   json_string(p->label_source));
	bad |= json_object_set_new(labels, "org.opencontainers.image.version",
				   json_string(p->label_version));
	bad |= json_object_set_new(labels, "org.opencontainers.image.created",
				   json_string(p->label_created));

	bad |= json_object_set_new(o, "command",
				   json_string(r != NULL ? r->command : "plan"));
	bad |= json_object_set_new(o, "environment",
				   json_string(rp_env_name(p->env)));
	bad |= json_object_set_new(o, "registry", json_string(p->registry));
	bad |= json_object_set_new(o, "repository", json_string(p->repository));
	bad |= json_object_set_new(o, "service", json_string(p->service));
	bad |= json_object_set_new(o, "version", str_or_null(p->version));
	bad |= json_object_set_new(o, "ref", json_string(p->ref));
	bad |= json_object_set_new(o, "sha", json_string(p->sha));
	bad |= json_object_set_new(o, "event", str_or_null(p->event));
	bad |= json_object_set_new(o, "tags", tags);
	bad |= json_object_set_new(o, "immutable", imm);
	bad |= json_object_set_new(o, "floating", flo);
	bad |= json_object_set_new(o, "images", img);
	bad |= json_object_set_new(o, "retention", str_or_null(p->retention));
	bad |= json_object_set_new(o, "credentials", json_string(p->credentials));
	bad |= json_object_set_new(o, "labels", labels);
	if (r != NULL && r->digest != NULL)
		bad |= json_object_set_new(o, "digest", json_string(r->digest));
	if (r != NULL && r->source != NULL)
		bad |= json_object_set_new(o, "source", json_string(r->source));
	if (r != NULL && r->source_ref != NULL && r->source_format != NULL) {
		bad |= json_object_set_new(o, "source_reference", json_string(r->source_ref));
		bad |= json_object_set_new(o, "source_format", json_string(r->source_format));
	}
	bad |= json_object_set_new(o, "dry_run",
				   json_boolean(r != NULL && r->dry_run));
	bad |= json_object_set_new(o, "results", res);
	if (r != NULL && r->error != NULL)
		bad |= json_object_set_new(o, "error", json_string(r->error));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
report_text(const struct plan *p, const struct run_result *r)
{
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb, 1 << 20);
	sbuf_printf(&sb, "environment  %s\n", rp_env_name(p->env));
	sbuf_printf(&sb, "repository   %s\n", p->repository);
	sbuf_printf(&sb, "version      %s\n", p->version != NULL ? p->version : "-");
	sbuf_printf(&sb, "credentials  %s\n", p->credentials);
	sbuf_printf(&sb, "retention    %s\n",
		    p->retention != NULL ? p->retention : "never");
	if (r != NULL && r->source_ref != NULL && r->source_format != NULL) {
		char q[300];
		sbuf_printf(&sb, "source       %s (%s)\n", rp_quote(r->source_ref, 250, q, sizeof(q)),
			    source_format_name(r->source_format));
	}
	if (r != NULL && r->digest != NULL)
		sbuf_printf(&sb, "digest       %s\n", r->digest);
	sbuf_puts(&sb, "tags\n");
	for (i = 0; i < p->ntags; i++)
		sbuf_printf(&sb, "  %-9s  %-9s  %s\n", tag_status(r, i),
			    kind_name(p->tags[i].kind), p->tags[i].image);
	return sbuf_take(&sb);
}

static char *
joined(const struct plan *p, int images)
{
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb, 1 << 20);
	for (i = 0; i < p->ntags; i++) {
		sbuf_puts(&sb, i ? "\n" : "");
		sbuf_puts(&sb, images ? p->tags[i].image : p->tags[i].name);
	}
	return sbuf_take(&sb);
}

static char *
labels_text(const struct plan *p)
{
	struct sbuf sb;

	sbuf_init(&sb, 1 << 16);
	sbuf_printf(&sb, "org.opencontainers.image.revision=%s\n", p->label_revision);
	if (p->label_source != NULL)
		sbuf_printf(&sb, "org.opencontainers.image.source=%s\n",
			    p->label_source);
	sbuf_printf(&sb, "org.opencontainers.image.version=%s\n", p->label_version);
	sbuf_printf(&sb, "org.opencontainers.image.created=%s", p->label_created);
	return sbuf_take(&sb);
}

/* The outputs as one file-command record; NULL when out of memory. */
static struct gha_out *
build_outputs(const struct plan *p, const struct run_result *r)
{
	struct gha_out *o = gha_out_new();
	char *tags = joined(p, 1), *names = joined(p, 0), *labels = labels_text(p);
	json_t *j = report_json(p, r);
	char *js = j != NULL ? rp_json_dumps(j, JSON_COMPACT) : NULL;
	int bad;

	bad = o == NULL || tags == NULL || names == NULL || labels == NULL ||
	      js == NULL;
	if (!bad) {
		bad |= gha_out_set(o, "environment", rp_env_name(p->env));
		bad |= gha_out_set(o, "registry", p->registry);
		bad |= gha_out_set(o, "repository", p->repository);
		bad |= gha_out_set(o, "tags", tags);
		bad |= gha_out_set(o, "tag-names", names);
		bad |= gha_out_set(o, "digest",
				   r != NULL && r->digest != NULL ? r->digest : "");
		bad |= gha_out_set(o, "version", p->version != NULL ? p->version : "");
		if (r != NULL && r->source != NULL)
			bad |= gha_out_set(o, "source", r->source);
		bad |= gha_out_set(o, "labels", labels);
		bad |= gha_out_set(o, "json", js);
	}
	free(tags);
	free(names);
	free(labels);
	free(js);
	json_decref(j);
	if (bad) {
		gha_out_free(o);
		return NULL;
	}
	return o;
}

/* The step summary (Markdown); NULL when out of memory. */
static struct gha_out *
build_summary(const struct plan *p, const struct run_result *r)
{
	struct gha_out *o = gha_out_new();
	struct sbuf sb;
	char *md;
	size_t i;

	sbuf_init(&sb, 1 << 20);
	sbuf_printf(&sb, "### regpush %s: %s%s\n\n",
		    r != NULL ? r->command : "plan", rp_env_name(p->env),
		    r != NULL && r->dry_run ? " (dry run)" : "");
	sbuf_puts(&sb, "| Environment | Repository | Version | Digest |\n"
		  "|---|---|---|---|\n");
	sbuf_printf(&sb, "| %s | `%s` | %s | %s%s%s |\n\n", rp_env_name(p->env),
		    p->repository, p->version != NULL ? p->version : "-",
		    r != NULL && r->digest != NULL ? "`" : "",
		    r != NULL && r->digest != NULL ? r->digest : "-",
		    r != NULL && r->digest != NULL ? "`" : "");
	sbuf_puts(&sb, "| Tag | Kind | Result |\n|---|---|---|\n");
	for (i = 0; i < p->ntags; i++)
		sbuf_printf(&sb, "| `%s` | %s | %s |\n", p->tags[i].name,
			    kind_name(p->tags[i].kind), tag_status(r, i));
	md = sbuf_take(&sb);
	if (o == NULL || md == NULL || gha_out_raw(o, md) != 0) {
		gha_out_free(o);
		o = NULL;
	}
	free(md);
	return o;
}

rp_status
report_actions(const struct plan *p, const struct run_result *r,
	       struct rp_err *err)
{
	const char *out = getenv("GITHUB_OUTPUT");
	const char *sum = getenv("GITHUB_STEP_SUMMARY");
	struct gha_out *o = NULL, *m = NULL;
	struct stat before;
	int had = 0;
	rp_status st = RP_OK;

	/* Everything is built before anything is written, and the outputs
	 * are taken back if the summary then cannot be written: a failed
	 * run leaves neither file changed. */
	if ((rp_given(out) && (o = build_outputs(p, r)) == NULL) ||
	    (rp_given(sum) && (m = build_summary(p, r)) == NULL)) {
		st = rp_fail(err, RP_ENOMEM, "out of memory building the outputs");
		goto out;
	}
	if (o != NULL) {
		had = stat(out, &before) == 0;
		if ((st = gha_out_write(o, out, "GITHUB_OUTPUT", err)) != RP_OK)
			goto out;
	}
	if (m != NULL && (st = gha_out_write(m, sum, "GITHUB_STEP_SUMMARY", err)) != RP_OK &&
	    o != NULL)
		(void)truncate(out, had ? before.st_size : 0);
out:
	gha_out_free(o);
	gha_out_free(m);
	return st;
}
