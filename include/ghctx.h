/*
 * ghctx.h — the GitHub context: options resolved from CLI flags, action
 * inputs (INPUT_<NAME>, hyphens kept) and environment fallbacks, in that
 * order (CONTRACT §2), and the event JSON (GITHUB_EVENT_PATH).
 */
#ifndef RP_GHCTX_H
#define RP_GHCTX_H

#include "plan.h"
#include "settings.h"
#include "util.h"

/* Largest event JSON accepted (GitHub caps webhook payloads at 25 MB). */
#define EVENT_FILE_MAX (25 * 1024 * 1024)

struct rp_opts {
	/* Set by flags (NULL = not given); ghctx_resolve fills the rest.
	 * None of these strings is owned: they point into argv or environ. */
	const char *ref, *sha, *event, *service, *source, *engine, *policy;
	const char *dev_registry, *prod_registry, *test_name, *from, *now;
	const char *authfile, *cert_dir, *mode, *dry_run_text, *allow_mismatch_text;
	const char *allow_backwards_text, *services_text;
	const char *verify_keys_text; /* input verify-keys / REGPUSH_VERIFY_KEYS */
	const char *attest;       /* push: "provenance", or NULL */
	/* Environment only. */
	const char *event_path, *repository, *server_url, *workflow_ref;
	char **insecure;  /* owned vector of hosts; NULL when none */
	char **repositories; /* prune --repository (owned vector); NULL when none */
	char **verify_key_files; /* promote --verify-key (owned vector); NULL when none */
	int dry_run;      /* -1 until resolved */
	int allow_revision_mismatch; /* promote; -1 until resolved */
	int allow_backwards; /* push, promote: rollback; -1 until resolved */
	char **services;  /* prune: --service given twice or more, or input
			   * services (owned vector); NULL otherwise */
	int json;
	int actions;      /* GITHUB_ACTIONS=true */
	int container;    /* action mode: regpush is the container action's
			   * entrypoint (no subcommand), inside the runner's
			   * container: no CAP_SYS_ADMIN, only /github/ mounted */
	int sha_flag;     /* --sha was given (it then beats the PR head SHA) */
	struct rp_settings settings; /* REGPUSH_* tunables, read by ghctx_resolve */
};

/*
 * Every option, once: its name, how the command line takes it, where its
 * value is kept, its action input and its environment fallback. main.c
 * builds getopt's table from it and ghctx_resolve fills what no flag gave.
 * A new option is a row here, a field of rp_opts and a line of usage.
 */
struct optdef {
	const char *name;   /* "dev-registry": the flag without "--", or the
			     * input's name; NULL for an environment-only value */
	int flag;           /* 1: the command line takes --name */
	int has_arg;        /* the flag takes a value */
	enum {
		OD_VALUE,   /* the flag's value is stored at off */
		OD_SWITCH,  /* the flag sets the int at flag_off to 1; off holds
			     * the input's text (true/false) */
		OD_OWN,     /* main.c handles the flag (repeated, or --help) */
	} kind;
	size_t off;         /* the string in rp_opts the flag, input and
			     * environment fill; SIZE_MAX: none */
	size_t flag_off;    /* OD_SWITCH: the int */
	const char *input;  /* action input, or NULL */
	const char *env;    /* fallback variable, or NULL */
};

extern const struct optdef ghctx_options[];
extern const size_t ghctx_noptions;

/* Appends a host given with --insecure-registry, after checking that it
 * is a host[:port]. */
rp_status ghctx_add_insecure(struct rp_opts *o, const char *host,
			     struct rp_err *err);

/* 1 when host (host[:port]) was given as an insecure registry. */
int ghctx_insecure(const struct rp_opts *o, const char *host);

/* Fills every option not given as a flag from its input, then from its
 * environment fallback, and checks sizes and booleans. Flags given as an
 * empty string count as not given, like empty inputs. */
rp_status ghctx_resolve(struct rp_opts *o, struct rp_err *err);

/* Reads INPUT_<NAME> for an input name such as "dev-registry"; NULL when
 * unset or empty. */
const char *ghctx_input(const char *name);

/* What the event JSON tells; strings owned, free with ghctx_event_free. */
struct ghctx_event {
	long pr_number;     /* 0 when none */
	char *head_sha;     /* pull_request.head.sha or NULL */
	char *head_repo;    /* pull_request.head.repo.full_name or NULL */
	char *service;      /* derived default service, or NULL */
};

/* Reads the event JSON at `path` (NULL: nothing to read). */
rp_status ghctx_read_event(const char *path, struct ghctx_event *ev,
			   struct rp_err *err);

/* Builds the plan input from resolved options and the event: the PR head
 * SHA replaces GITHUB_SHA on pull requests, the service defaults to the
 * lowercased repository name. `now` is --now, SOURCE_DATE_EPOCH or the
 * clock. Strings in *in point into o and ev. */
rp_status ghctx_plan_input(const struct rp_opts *o, struct ghctx_event *ev,
			   struct plan_input *in, struct rp_err *err);

/* Parses an RFC 3339 UTC time "2027-01-10T00:00:00Z" (also with a
 * +hh:mm offset or fractional seconds). Returns 0 or -1. */
int ghctx_parse_time(const char *s, time_t *out);

void ghctx_event_free(struct ghctx_event *ev);
void ghctx_opts_free(struct rp_opts *o);

#endif
