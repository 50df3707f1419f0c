/*
 * report.c — renders a plan (and, after a push, its results) as JSON,
 * text, action outputs and a step summary. Values in a plan are already
 * validated (tags, references, SemVer), so they are safe in Markdown and
 * on a log line; the JSON is built with jansson, never by hand.
 */
#include "report.h"

#include <stdio.h>
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
	if (r != NULL && r->signature != NULL) {
		bad |= json_object_set_new(o, "signature", json_string(r->signature));
		bad |= json_object_set_new(o, "signed_by", json_string(r->signed_by));
	}
	if (r != NULL && r->attestation != NULL)
		bad |= json_object_set_new(o, "attestation", json_string(r->attestation));
	if (r != NULL && r->verified_by != NULL) {
		bad |= json_object_set_new(o, "verified_by", json_string(r->verified_by));
		bad |= json_object_set_new(o, "verified_in", json_string(r->verified_in));
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
	if (r != NULL && r->signature != NULL)
		sbuf_printf(&sb, "signature    %s (key %s)\n", r->signature, r->signed_by);
	if (r != NULL && r->attestation != NULL)
		sbuf_printf(&sb, "attestation  %s (SLSA provenance v1)\n", r->attestation);
	if (r != NULL && r->verified_by != NULL)
		sbuf_printf(&sb, "verified     signed by key %s in %s\n", r->verified_by,
			    r->verified_in);
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

const char *
report_md_cell(const char *s, size_t max, char *buf, size_t size)
{
	size_t i = 0;

	for (; *s != '\0' && i + 4 < size && i < max; s++) {
		if (*s == '|') {
			buf[i++] = '\\';
			buf[i++] = '|';
		} else if (*s == '`' || *s == '\r' || *s == '\n') {
			buf[i++] = *s == '`' ? '\'' : ' ';
		} else {
			buf[i++] = *s;
		}
	}
	if (*s != '\0' && i + 4 < size) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* The JSON array of the plan's full references. */
static char *
paths_json(const struct plan *p)
{
	json_t *a = json_array();
	char *s = NULL;
	size_t i;
	int bad = a == NULL;

	for (i = 0; !bad && i < p->ntags; i++)
		bad |= json_array_append_new(a, json_string(p->tags[i].image));
	if (!bad)
		s = rp_json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static int
any_status(const struct run_result *r, size_t n, enum tag_status s)
{
	size_t i;

	for (i = 0; r != NULL && r->status != NULL && i < n; i++)
		if (r->status[i] == s)
			return 1;
	return 0;
}

/* The outputs as file-command records (without result and error); NULL
 * when out of memory. */
static char *
build_outputs(const struct plan *p, const struct run_result *r)
{
	struct gha_out *o = gha_out_new();
	char *tags = joined(p, 1), *names = joined(p, 0), *labels = labels_text(p);
	char *paths = paths_json(p), *image = NULL, *js = NULL, *text = NULL;
	json_t *j = report_json(p, r);
	const char *digest = r != NULL && r->digest != NULL ? r->digest : "";
	int bad;

	if (digest[0] != '\0')
		image = rp_asprintf("%s@%s", p->repository, digest);
	if (j != NULL)
		js = rp_json_dumps(j, JSON_COMPACT);
	bad = o == NULL || tags == NULL || names == NULL || labels == NULL ||
	      js == NULL || paths == NULL || (digest[0] != '\0' && image == NULL);
	if (!bad) {
		bad |= gha_out_set(o, "environment", rp_env_name(p->env));
		bad |= gha_out_set(o, "registry", p->registry);
		bad |= gha_out_set(o, "repository", p->repository);
		bad |= gha_out_set(o, "tags", tags);
		bad |= gha_out_set(o, "tag-names", names);
		bad |= gha_out_set(o, "digest", digest);
		bad |= gha_out_set(o, "image", image != NULL ? image : "");
		bad |= gha_out_set(o, "registry-paths", paths);
		bad |= gha_out_set(o, "version", p->version != NULL ? p->version : "");
		if (r != NULL && r->source != NULL)
			bad |= gha_out_set(o, "source", r->source);
		if (r != NULL && r->signature != NULL)
			bad |= gha_out_set(o, "signature", r->signature);
		bad |= gha_out_set(o, "labels", labels);
		bad |= gha_out_set(o, "annotations", labels);
		bad |= gha_out_set(o, "json", js);
	}
	if (!bad)
		text = gha_out_take(o);
	gha_out_free(o);
	free(tags);
	free(names);
	free(labels);
	free(paths);
	free(image);
	free(js);
	json_decref(j);
	return text;
}

/* The step summary's body (Markdown); NULL when out of memory. */
static char *
build_summary(const struct plan *p, const struct run_result *r)
{
	struct sbuf sb;
	char cell[RP_WHY_MAX + 40], q[600];
	const char *digest = r != NULL ? r->digest : NULL;
	size_t i;

	sbuf_init(&sb, REPORT_SUMMARY_MAX);
	sbuf_puts(&sb, "| Environment | Repository | Version | Digest |\n"
		  "|---|---|---|---|\n");
	sbuf_printf(&sb, "| %s | `%s` | %s | %s%s%s |\n\n", rp_env_name(p->env),
		    p->repository, p->version != NULL ? p->version : "-",
		    digest != NULL ? "`" : "", digest != NULL ? digest : "-",
		    digest != NULL ? "`" : "");
	if (r != NULL && r->source != NULL)
		sbuf_printf(&sb, "Promoted from `%s`\n\n", r->source);
	else if (r != NULL && r->source_ref != NULL && r->source_format != NULL)
		sbuf_printf(&sb, "Source `%s` (%s)\n\n",
			    report_md_cell(rp_quote(r->source_ref, 250, q, sizeof(q)), 300,
					   cell, sizeof(cell)),
			    source_format_name(r->source_format));
	if (r != NULL && r->signature != NULL)
		sbuf_printf(&sb, "Signed with key `%s` (signature `%s`)\n\n", r->signed_by, r->signature);
	if (r != NULL && r->attestation != NULL)
		sbuf_printf(&sb, "Provenance attested (SLSA v1, `%s`)\n\n", r->attestation);
	if (r != NULL && r->verified_by != NULL)
		sbuf_printf(&sb, "Verified: signed by key `%s` in `%s`\n\n", r->verified_by,
			    r->verified_in);
	sbuf_puts(&sb, "| Tag | Kind | Result |\n|---|---|---|\n");
	for (i = 0; i < p->ntags; i++) {
		const char *why = r != NULL && r->why != NULL ? r->why[i] : "";
		sbuf_printf(&sb, "| `%s` | %s | %s%s%s |\n", p->tags[i].name,
			    kind_name(p->tags[i].kind), tag_status(r, i), why[0] != '\0' ? ": " : "",
			    report_md_cell(why, RP_WHY_MAX, cell, sizeof(cell)));
	}
	if (digest != NULL)
		sbuf_printf(&sb, "\nPull by digest: `docker pull %s@%s`\n", p->repository, digest);
	return sbuf_take(&sb);
}

/* The result word of a run that exits 0. */
static const char *
ok_result(const struct run_result *r, size_t ntags)
{
	if (r == NULL || r->dry_run || strcmp(r->command, "plan") == 0)
		return "planned";
	return any_status(r, ntags, TS_PUSHED) ? "pushed" : "unchanged";
}

/* What the run will report (see report.h). */
static struct {
	char *outputs;
	char *summary;
	const char *ok_result; /* static */
} stage;

void
report_stage_text(char *outputs, char *summary, const char *okr)
{
	free(stage.outputs);
	free(stage.summary);
	stage.outputs = outputs;
	stage.summary = summary;
	stage.ok_result = okr;
}

rp_status
report_stage(const struct plan *p, const struct run_result *r)
{
	char *o = build_outputs(p, r), *m = build_summary(p, r);

	if (o == NULL || m == NULL) {
		free(o);
		free(m);
		report_stage_text(NULL, NULL, NULL);
		return RP_ENOMEM;
	}
	report_stage_text(o, m, ok_result(r, p->ntags));
	return RP_OK;
}

static const char *
result_word(const char *command, rp_status st)
{
	int audit = strcmp(command, "audit") == 0;

	switch (st) {
	case RP_OK:
		if (stage.ok_result != NULL)
			return stage.ok_result;
		return audit ? "clean" : strcmp(command, "prune") == 0 ? "unchanged" : "planned";
	case RP_EINPUT: return "invalid";
	case RP_EREFUSED: return audit ? "drift" : "refused";
	default: return "failed";
	}
}

/* The error as one line for an output value. */
static void
one_line(const char *msg, char *buf, size_t size)
{
	size_t i;

	snprintf(buf, size, "%s", msg);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '\r' || buf[i] == '\n')
			buf[i] = ' ';
}

/* Memory ran out: a short record, made on the stack. */
static rp_status
finish_small(const char *out, const char *sum, const char *command, const char *result,
	     const char *msg, struct rp_err *err)
{
	char buf[RP_ERRMAX + 200], line[RP_ERRMAX];
	struct stat before;
	int n, had = 0;
	rp_status st = RP_OK;

	one_line(msg, line, sizeof(line));
	if (rp_given(out)) {
		n = snprintf(buf, sizeof(buf), "result=%s\nerror=%s\n", result, line);
		had = stat(out, &before) == 0;
		if ((st = gha_append(out, buf, (size_t)n, "GITHUB_OUTPUT", err)) != RP_OK)
			return st;
	}
	if (rp_given(sum)) {
		n = snprintf(buf, sizeof(buf), "### regpush %s: %s\n\n%s\n", command, result, line);
		if ((st = gha_append(sum, buf, (size_t)n, "GITHUB_STEP_SUMMARY", err)) != RP_OK &&
		    rp_given(out))
			(void)truncate(out, had ? before.st_size : 0);
	}
	return st;
}

rp_status
report_finish(int actions, const char *command, rp_status st, struct rp_err *err)
{
	const char *out = getenv("GITHUB_OUTPUT"), *sum = getenv("GITHUB_STEP_SUMMARY");
	const char *result = result_word(command, st);
	char line[RP_ERRMAX], cell[RP_ERRMAX + 64];
	struct gha_out *o = NULL, *m = NULL;
	struct stat before;
	struct rp_err werr = { RP_OK, "", "", 0, 0 };
	int had = 0, bad = 0;
	rp_status wst = RP_OK;

	if (!actions || (!rp_given(out) && !rp_given(sum)))
		goto done;
	one_line(st != RP_OK ? err->msg : "", line, sizeof(line));
	if (rp_given(out)) {
		bad |= (o = gha_out_new()) == NULL;
		bad = bad || (stage.outputs != NULL && gha_out_raw(o, stage.outputs) != 0) ||
		      gha_out_set(o, "result", result) != 0 ||
		      (st != RP_OK && gha_out_set(o, "error", line) != 0);
	}
	if (!bad && rp_given(sum)) {
		bad |= (m = gha_out_new()) == NULL;
		bad = bad || gha_out_printf(m, "### regpush %s: %s\n\n", command, result) != 0 ||
		      (st != RP_OK && gha_out_printf(m, "**%s**: %s\n\n",
						     st == RP_EREFUSED ? "Refused" :
						     st == RP_EINPUT ? "Invalid input" : "Failed",
						     report_md_cell(line, RP_ERRMAX, cell, sizeof(cell))) != 0) ||
		      (stage.summary != NULL && gha_out_raw(m, stage.summary) != 0);
	}
	if (bad) {
		wst = finish_small(out, sum, command, st == RP_OK ? "failed" : result,
				   st == RP_OK ? "out of memory writing the outputs" : err->msg, &werr);
		if (st == RP_OK && wst == RP_OK)
			wst = rp_fail(&werr, RP_ENOMEM, "out of memory writing the outputs");
		goto done;
	}
	if (o != NULL) {
		had = stat(out, &before) == 0;
		wst = gha_out_write(o, out, "GITHUB_OUTPUT", &werr);
	}
	if (wst == RP_OK && m != NULL &&
	    (wst = gha_out_write(m, sum, "GITHUB_STEP_SUMMARY", &werr)) != RP_OK && o != NULL)
		(void)truncate(out, had ? before.st_size : 0);
done:
	gha_out_free(o);
	gha_out_free(m);
	report_stage_text(NULL, NULL, NULL);
	if (wst != RP_OK && st != RP_OK)
		fprintf(stderr, "regpush: %s\n", werr.msg);
	if (wst != RP_OK && st == RP_OK) {
		*err = werr;
		return wst;
	}
	return st;
}

/* --- printing a run's results (the one printer) ------------------------ */

rp_status
report_print(const char *s, struct rp_err *err)
{
	if (fputs(s, stdout) == EOF || fflush(stdout) != 0 || ferror(stdout))
		return rp_fail(err, RP_EREGISTRY, "cannot write to standard output");
	return RP_OK;
}

const char *
report_error_title(const struct rp_err *err)
{
	if (err->line > 0)
		return "regpush: policy";
	switch (err->status) {
	case RP_EINPUT: return "regpush: input";
	case RP_EREFUSED: return "regpush: refused";
	default: return "regpush: registry";
	}
}

rp_status
report_note(const struct rp_opts *o, const char *s, struct rp_err *err)
{
	if (!o->json)
		return report_print(s, err);
	fputs(s, stderr);
	return RP_OK;
}

void
report_error(const struct rp_opts *o, const struct rp_err *err)
{
	if (o != NULL && o->actions && err->line > 0) {
		fflush(stdout);
		gha_command_at(stdout, "error", report_error_title(err), err->file, err->line, err->col,
			       err->msg);
	} else {
		gha_say(o != NULL && o->actions, "error", report_error_title(err), err->msg);
	}
}

rp_status
report_run(const struct rp_opts *o, const struct plan *plan,
	   const struct run_result *res, struct rp_err *err)
{
	json_t *j = NULL;
	char *text = NULL;
	rp_status st;

	if (o->json) {
		if ((j = report_json(plan, res)) == NULL ||
		    (text = rp_json_dumps(j, JSON_INDENT(2))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if ((st = report_print(text, err)) == RP_OK)
			st = report_print("\n", err);
	} else if ((text = report_text(plan, res)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	} else {
		st = report_print(text, err);
	}
	if (st == RP_OK && o->actions && report_stage(plan, res) != RP_OK)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	free(text);
	json_decref(j);
	return st;
}

/* One stderr line per outcome: "regpush: not written: v1, latest". */
static void
failure_lines(const struct plan *plan, const struct run_result *res)
{
	static const enum tag_status order[] = {
		TS_PUSHED, TS_UNCHANGED, TS_KEPT, TS_NOT_WRITTEN, TS_UNKNOWN,
	};
	static const char *const label[] = {
		"written", "already there (unchanged)", "kept", "not written",
		"unknown (the write went out unanswered; the registry could not be read again)",
	};
	size_t k, i, n;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (i = n = 0; i < plan->ntags; i++) {
			if (res->status[i] != order[k])
				continue;
			if (n++ == 0)
				fprintf(stderr, "regpush: %s: %s", label[k], plan->tags[i].image);
			else
				fprintf(stderr, ", %s", plan->tags[i].image);
		}
		if (n > 0)
			fputc('\n', stderr);
	}
}

void
report_failure(const struct rp_opts *o, const struct plan *plan,
		   const struct run_result *res)
{
	json_t *j;
	char *text;

	if (plan == NULL || res->status == NULL)
		return;
	if (o->actions)
		(void)report_stage(plan, res);
	if (res->attempted)
		failure_lines(plan, res);
	if (o->json && res->failure == RP_EREGISTRY && !res->dry_run &&
	    (j = report_json(plan, res)) != NULL) {
		if ((text = rp_json_dumps(j, JSON_INDENT(2))) != NULL) {
			fputs(text, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		free(text);
		json_decref(j);
	}
}

int
report_capped_add(json_t *arr, json_t *row, size_t cap, size_t *used, size_t *omitted)
{
	if (row == NULL)
		return -1;
	if (cap > 0 && *omitted == 0) {
		char *t = rp_json_dumps(row, JSON_COMPACT);
		if (t == NULL) {
			json_decref(row);
			return -1;
		}
		*used += strlen(t) + 1;
		free(t);
	}
	if (cap > 0 && (*omitted > 0 || *used > cap)) {
		(*omitted)++;
		json_decref(row);
		return 0;
	}
	return json_array_append_new(arr, row) != 0 ? -1 : 0;
}

void
report_md_row(struct report_md *t, const char *line)
{
	if (t->more > 0 || t->sb.len + strlen(line) + 200 > REPORT_SUMMARY_MAX) {
		t->more++;
		return;
	}
	sbuf_puts(&t->sb, line);
}

void
report_md_end(struct report_md *t)
{
	if (t->more > 0)
		sbuf_printf(&t->sb, "\nand %zu more, see the log\n", t->more);
}

rp_status
report_stage_counts(const char *const *names, const char *const *values, size_t n,
		    const json_t *j, char *summary, const char *ok_result, struct rp_err *err)
{
	struct gha_out *g = gha_out_new();
	char *js = j != NULL ? rp_json_dumps(j, JSON_COMPACT) : NULL, *outs = NULL;
	int bad = g == NULL || js == NULL || summary == NULL;
	size_t i;

	for (i = 0; i < n && !bad; i++)
		bad = gha_out_set(g, names[i], values[i]) != 0;
	if (!bad)
		bad = gha_out_set(g, "json", js) != 0 || (outs = gha_out_take(g)) == NULL;
	gha_out_free(g);
	free(js);
	if (bad) {
		free(outs);
		free(summary);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	report_stage_text(outs, summary, ok_result);
	return RP_OK;
}
