/*
 * ghactions.h — talking to the Actions runner: workflow commands on
 * stdout (::error::, ::add-mask::, ::group::) with the runner's escaping,
 * and the file commands $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY, written
 * whole or not at all.
 */
#ifndef RP_GHACTIONS_H
#define RP_GHACTIONS_H

#include <stdio.h>

#include "util.h"

/* Message data escaping: % -> %25, CR -> %0D, LF -> %0A. Caller frees. */
char *gha_escape_data(const char *s);
/* Property escaping: as data, plus ':' -> %3A and ',' -> %2C. */
char *gha_escape_prop(const char *s);

/* Prints "::<cmd>[ title=<title>]::<msg>" with both escaped, then flushes.
 * cmd is one of error, warning, notice, add-mask, group, endgroup, debug.
 * Returns 0, or -1 when the write failed. */
int gha_command(FILE *f, const char *cmd, const char *title, const char *msg);
/* A message for the log: in Actions (actions set) the workflow command
 * cmd ("error", "warning", "notice") with title; else "regpush: MSG" on
 * stderr. */
void gha_say(int actions, const char *cmd, const char *title, const char *msg);

/* The same with file, line and col properties (an annotation on a file
 * of the repository; an absolute path under $GITHUB_WORKSPACE is made
 * relative to it). */
int gha_command_at(FILE *f, const char *cmd, const char *title, const char *file,
		   unsigned line, unsigned col, const char *msg);

/* Outputs accumulated in memory, then appended to a file in one write. */
struct gha_out;

/* Returns NULL when out of memory. */
struct gha_out *gha_out_new(void);
/* Adds name=value; a value with a newline (or one that could be read as
 * one) is written in heredoc form with a random delimiter that does not
 * occur in it. Returns 0 or -1 (out of memory or over 1 MiB). */
int gha_out_set(struct gha_out *o, const char *name, const char *value);
/* Adds raw text (for the step summary). */
int gha_out_raw(struct gha_out *o, const char *text);
/* Adds formatted text (at most about 2.5 KiB per call). */
int gha_out_printf(struct gha_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The records as one string (caller frees); NULL when a set failed. */
char *gha_out_take(struct gha_out *o);
/* Appends everything to path (`what` names it in messages). On failure
 * the file is truncated back to its size before the call, so no partial
 * record is left, and err holds status 1 (the run could not complete). */
rp_status gha_out_write(struct gha_out *o, const char *path, const char *what,
			struct rp_err *err);
void gha_out_free(struct gha_out *o);

/* Appends len bytes of buf to path in as few writes as it takes; on a
 * failure the file is cut back to its old length (no half record). Makes
 * no allocation, so it also serves when memory has run out. */
rp_status gha_append(const char *path, const char *buf, size_t len, const char *what,
		     struct rp_err *err);

/* Fills buf with "ghadelimiter_" and 32 random hex digits. */
int gha_delimiter(char *buf, size_t size);

#endif
