/*
 * prune_report.c — prune's table, JSON, outputs and step summary (see
 * prune_int.h), through report.c's printer and stage.
 */
#include "prune_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *
action_name(enum prune_action a)
{
	return a == PRUNE_KEEP ? "keep" : "delete";
}

/* A row's reason with its detail ("expired; kept by latest"), and the
 * failure when its delete failed. */
static void
row_reason(const struct row *w, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", w->d.reason, w->detail != NULL ? " " : "",
		 w->detail != NULL ? w->detail : "", w->error != NULL ? "; FAILED: " : "",
		 w->error != NULL ? w->error : "");
}

static json_t *
row_json(const char *repo, const struct row *w)
{
	return json_pack("{s:s,s:s,s:s?,s:o,s:s,s:s,s:s?,s:s?}", "repository", repo, "tag", w->tag,
			 "digest", w->digest[0] != '\0' ? w->digest : NULL,
			 "age_days", w->d.age >= 0 ? json_integer(w->d.age) : json_null(),
			 "action", action_name(w->d.act), "reason", w->d.reason, "detail", w->detail,
			 "error", w->error);
}

struct counts {
	size_t del, keep, fail;
};

/* The report object; with `cap`, only the rows that fit in about cap
 * bytes, then "omitted": how many did not. NULL when out of memory. */
static json_t *
report_object(const struct rp_opts *o, struct repo *rs, size_t nr, const struct counts *c,
	      size_t cap)
{
	json_t *arr = json_array(), *root;
	size_t i, k, used = 0, omitted = 0;
	int bad = arr == NULL;
	char repo[600];

	for (k = 0; !bad && k < nr; k++) {
		snprintf(repo, sizeof(repo), "%s/%s", rs[k].t->host, rs[k].t->path);
		for (i = 0; !bad && i < rs[k].n; i++)
			bad |= report_capped_add(arr, row_json(repo, &rs[k].rows[i]), cap, &used, &omitted) != 0;
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	root = json_pack("{s:s,s:b,s:o,s:I,s:I,s:I}", "command", "prune", "dry_run", o->dry_run,
			 "tags", arr, "deleted", (json_int_t)(o->dry_run ? 0 : c->del - c->fail),
			 "kept", (json_int_t)c->keep, "failed", (json_int_t)c->fail);
	if (root != NULL && omitted > 0 &&
	    json_object_set_new(root, "omitted", json_integer((json_int_t)omitted)) != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The step summary's body: the rows that fit under GitHub's 1 MiB, then
 * how many more the log has. NULL when out of memory. */
static char *
summary_body(const struct rp_opts *o, struct repo *rs, size_t nr, const struct counts *c)
{
	struct report_md t = { .more = 0 };
	size_t i, k;
	char age[32], reason[900], cell[1000], line[2600];

	sbuf_init(&t.sb, REPORT_SUMMARY_MAX);
	sbuf_printf(&t.sb, "%zu tags %s, %zu kept, %zu failed\n\n", c->del - c->fail,
		    o->dry_run ? "to delete" : "deleted", c->keep, c->fail);
	sbuf_puts(&t.sb, "| Repository | Tag | Age | Action | Reason |\n|---|---|---|---|---|\n");
	for (k = 0; k < nr; k++) {
		for (i = 0; i < rs[k].n; i++) {
			const struct row *w = &rs[k].rows[i];
			if (w->d.act == PRUNE_KEEP)
				continue;
			if (w->d.age >= 0)
				snprintf(age, sizeof(age), "%ldd", w->d.age);
			else
				snprintf(age, sizeof(age), "-");
			row_reason(w, reason, sizeof(reason));
			snprintf(line, sizeof(line), "| `%s/%s` | `%s` | %s | %s | %s |\n",
				 rs[k].t->host, rs[k].t->path, w->tag, age,
				 w->error != NULL ? "**failed**" :
				 o->dry_run ? "delete (dry run)" : "deleted",
				 report_md_cell(reason, 800, cell, sizeof(cell)));
			report_md_row(&t, line);
		}
	}
	report_md_end(&t);
	return sbuf_take(&t.sb);
}

/* Stages the outputs and summary (report_finish writes them). */
static rp_status
stage_report(const struct rp_opts *o, struct repo *rs, size_t nr, const struct counts *c,
	     struct rp_err *err)
{
	static const char *const names[] = { "deleted", "kept", "failed" };
	json_t *j = report_object(o, rs, nr, c, REPORT_JSON_MAX);
	char num[3][32];
	const char *values[] = { num[0], num[1], num[2] };
	rp_status st;

	snprintf(num[0], sizeof(num[0]), "%zu", o->dry_run ? 0 : c->del - c->fail);
	snprintf(num[1], sizeof(num[1]), "%zu", c->keep);
	snprintf(num[2], sizeof(num[2]), "%zu", c->fail);
	st = report_stage_counts(names, values, 3, j, summary_body(o, rs, nr, c),
				 o->dry_run ? "planned" : c->del - c->fail > 0 ? "pruned" : "unchanged", err);
	json_decref(j);
	return st;
}

/* The table: text, or JSON with --json; and, in Actions, the outputs and
 * step summary staged. */
rp_status
prune_report(const struct rp_opts *o, struct repo *rs, size_t nr, struct rp_err *err)
{
	struct sbuf sb;
	json_t *root = NULL;
	char *text = NULL, age[32], reason[900];
	struct counts c = { 0, 0, 0 };
	size_t i, k;
	rp_status st = RP_OK;

	for (k = 0; k < nr; k++)
		for (i = 0; i < rs[k].n; i++) {
			c.del += rs[k].rows[i].d.act != PRUNE_KEEP;
			c.keep += rs[k].rows[i].d.act == PRUNE_KEEP;
			c.fail += rs[k].rows[i].error != NULL;
		}
	if (o->actions && (st = stage_report(o, rs, nr, &c, err)) != RP_OK)
		return st;
	if (o->json) {
		if ((root = report_object(o, rs, nr, &c, 0)) == NULL ||
		    (text = rp_json_dumps(root, JSON_INDENT(2))) == NULL)
			st = rp_fail(err, RP_ENOMEM, "out of memory");
		else if ((st = report_print(text, err)) == RP_OK)
			st = report_print("\n", err);
		free(text);
		json_decref(root);
		return st;
	}
	sbuf_init(&sb, 64 << 20);
	if (o->dry_run)
		sbuf_puts(&sb, "dry run: nothing is deleted; a real run would do:\n");
	sbuf_printf(&sb, "%-40s %-40s %-19s %5s %-6s %s\n", "REPOSITORY", "TAG", "DIGEST", "AGE",
		    "ACTION", "REASON");
	for (k = 0; k < nr; k++) {
		for (i = 0; i < rs[k].n; i++) {
			const struct row *w = &rs[k].rows[i];
			char repo[600];
			snprintf(repo, sizeof(repo), "%s/%s", rs[k].t->host, rs[k].t->path);
			if (w->d.age >= 0)
				snprintf(age, sizeof(age), "%ldd", w->d.age);
			else
				snprintf(age, sizeof(age), "-");
			row_reason(w, reason, sizeof(reason));
			sbuf_printf(&sb, "%-40s %-40s %-19.19s %5s %-6s %s\n", repo, w->tag,
				    w->digest[0] != '\0' ? w->digest : "-", age, action_name(w->d.act), reason);
		}
	}
	sbuf_printf(&sb, "%zu to delete, %zu kept\n", c.del, c.keep);
	if ((text = sbuf_take(&sb)) == NULL)
		st = rp_fail(err, RP_ENOMEM, "out of memory");
	else
		st = report_print(text, err);
	free(text);
	return st;
}
