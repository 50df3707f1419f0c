/* Workflow-command escaping and file-command outputs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ghactions.h"
#include "helpers.h"

static const struct { const char *in, *data, *prop; } esc_rows[] = {
	{ "plain", "plain", "plain" },
	{ "100%", "100%25", "100%25" },
	{ "%0A", "%250A", "%250A" },
	{ "a\nb", "a%0Ab", "a%0Ab" },
	{ "a\r\nb", "a%0D%0Ab", "a%0D%0Ab" },
	{ "k:v,w", "k:v,w", "k%3Av%2Cw" },
	{ "\n::set-output name=x::y", "%0A::set-output name=x::y", "%0A%3A%3Aset-output name=x%3A%3Ay" },
	{ "", "", "" },
};

Test(gha, escaping_table)
{
	size_t i;

	for (i = 0; i < sizeof(esc_rows) / sizeof(esc_rows[0]); i++) {
		char *d = gha_escape_data(esc_rows[i].in);
		char *p = gha_escape_prop(esc_rows[i].in);
		cr_expect_str_eq(d, esc_rows[i].data, "row %zu", i);
		cr_expect_str_eq(p, esc_rows[i].prop, "row %zu", i);
		free(d);
		free(p);
	}
}

Test(gha, command_line)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(gha_command(f, "error", "a:b,c", "line1\nline2 100%"), 0);
	cr_assert_eq(gha_command(f, "add-mask", NULL, "s3cr%t"), 0);
	fclose(f);
	cr_expect_str_eq(buf, "::error title=a%3Ab%2Cc::line1%0Aline2 100%25\n::add-mask::s3cr%25t\n");
	free(buf);
}

Test(gha, outputs_single_and_heredoc)
{
	char *dir = tmpdir_new(), *path, *got;
	struct gha_out *o = gha_out_new();
	struct rp_err err;
	int n;

	path = write_file(dir, "out", "existing=1\n");
	cr_assert_eq(gha_out_set(o, "one", "value"), 0);
	cr_assert_eq(gha_out_set(o, "multi", "a\nb"), 0);
	cr_assert_eq(gha_out_set(o, "cr", "x\ry"), 0);
	cr_assert_eq(gha_out_write(o, path, "GITHUB_OUTPUT", &err), RP_OK, "%s", err.msg);
	got = read_all(path);
	/* The delimiter differs per value and per run. */
	cr_expect_neq(strncmp(strstr(got, "multi<<") + 7, strstr(got, "cr<<") + 4, 45), 0);
	n = normalise_delimiters(got);
	cr_expect_eq(n, 4);
	cr_expect_str_eq(got, "existing=1\none=value\nmulti<<EOF\na\nb\nEOF\ncr<<EOF\nx\ry\nEOF\n");
	free(got);
	gha_out_free(o);
	free(path);
	rm_rf(dir);
	free(dir);
}

Test(gha, failed_write_leaves_no_partial_record)
{
	struct gha_out *o = gha_out_new();
	struct rp_err err;

	cr_assert_eq(gha_out_set(o, "a", "b"), 0);
	/* /dev/full accepts open and fails every write with ENOSPC. */
	cr_expect_eq(gha_out_write(o, "/dev/full", "GITHUB_OUTPUT", &err), RP_EREGISTRY);
	cr_expect_str_eq(err.msg, "cannot write GITHUB_OUTPUT /dev/full: No space left on device");
	cr_expect_eq(gha_out_write(o, "/nonexistent/dir/out", "GITHUB_OUTPUT", &err), RP_EREGISTRY);
	cr_expect_str_eq(err.msg, "cannot open GITHUB_OUTPUT /nonexistent/dir/out: No such file or directory");
	gha_out_free(o);
}

Test(gha, delimiter_form)
{
	char a[64], b[64];

	cr_assert_eq(gha_delimiter(a, sizeof(a)), 0);
	cr_assert_eq(gha_delimiter(b, sizeof(b)), 0);
	cr_expect_eq(strlen(a), 45);
	cr_expect_eq(strncmp(a, "ghadelimiter_", 13), 0);
	cr_expect_str_neq(a, b);
}
