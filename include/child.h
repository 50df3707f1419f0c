/*
 * child.h — the child runner (skopeo, buildah, tar): posix_spawnp with an
 * argv, never a shell; stdout and stderr captured; a timeout per child;
 * the exit status or the killing signal reported by name; the output
 * shown as it comes through the caller's child_show (the engine layer,
 * engine.c, makes that a ::group:: in Actions).
 */
#ifndef RP_CHILD_H
#define RP_CHILD_H

#include <signal.h>

#include "util.h"

/* Default seconds a child may run; REGPUSH_ENGINE_TIMEOUT overrides. */
#define CHILD_TIMEOUT_DEFAULT 900 /* = REGPUSH_ENGINE_TIMEOUT's default */

/* Largest captured stdout or stderr of one child; the rest is dropped. */
#define CHILD_OUTPUT_MAX (4 * 1024 * 1024)

struct child {
	int exited;     /* 1: exited with `status`; 0: killed by `signal` */
	int status;
	int signal;
	int timed_out;  /* killed by us after the timeout */
	char *out;      /* captured stdout (owned) */
	char *err;      /* captured stderr (owned) */
};

/* How a child's output is shown while it runs (in Actions: in a group
 * with workflow commands stopped, engine.c). Between begin and end
 * the child's output goes to stdout as it comes, line by line, scrubbed
 * of the run's secrets. */
struct child_show {
	/* Before the child starts, with its command line: 0 to show its
	 * output, else it is only captured. */
	int (*begin)(void *ctx, const char *title);
	/* After its last output; ended_line: that output ended a line. */
	void (*end)(void *ctx, int ended_line);
	void *ctx;
};

struct child_log {
	int quiet;      /* print nothing unless the child fails */
	const struct child_show *show; /* NULL: "+ COMMAND" on stderr and,
			 * when it fails, its stderr */
};

/*
 * Runs argv[0] found on PATH with argv and the environment minus every
 * REGPUSH_*_PASSWORD / INPUT_*PASSWORD variable. Waits at most
 * `timeout` seconds (0: the default). Returns RP_OK when the child ran
 * (whatever its status — see *c), or RP_EREGISTRY when it could not be
 * started or we were interrupted, with err set. Free *c with child_free.
 */
rp_status child_run(char *const argv[], int timeout,
		     const struct child_log *log, struct child *c,
		     struct rp_err *err);

/* "exited with status 1", "was killed by signal SIGKILL (9)", "timed out
 * and was killed (SIGTERM)". Writes into buf and returns it. */
const char *child_describe(const struct child *c, char *buf, size_t size);

/* The last non-empty line of s, stripped of skopeo's time=... level=...
 * msg="..." wrapping, quoted for a log line. Writes into buf. */
const char *child_last_line(const char *s, char *buf, size_t size);

/* The engine's own error lines (logrus level=error/fatal, "Error: ..."),
 * up to three, cleaned as above and joined with "; "; else the last line.
 * Writes into buf. */
const char *child_error_lines(const char *s, char *buf, size_t size);

/* 1 when the child exited 0. */
int child_ok(const struct child *c);

void child_free(struct child *c);

#endif
