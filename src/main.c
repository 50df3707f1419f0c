/*
 * main.c — parses the command line and dispatches to one subcommand.
 *
 * Inside a GitHub container action (GITHUB_ACTIONS=true) with no
 * subcommand, the subcommand is the input `mode` (push by default) and
 * every option comes from its input.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ghctx.h"
#include "run.h"
#include "promote.h"
#include "prune.h"
#include "push.h"
#include "registry.h"
#include "report.h"
#include "sig.h"

#ifndef RP_VERSION
#define RP_VERSION "0.0.0-dev"
#endif

static const char usage_head[] =
"usage: regpush COMMAND [OPTIONS]\n"
"\n"
"Works out the registry and tags of an image from the GitHub context\n"
"(policy DD-REGISTRY-001) and pushes it with skopeo or buildah.\n"
"\n"
"commands:\n";

static const char usage_tail[] =
"\n"
"Run 'regpush COMMAND --help' for the options of a command.\n"
"Exit codes: 0 ok, 1 registry or engine failure, 2 invalid input,\n"
"3 refused by policy.\n";

static const char usage_context[] =
"context (each falls back to its GitHub variable):\n"
"  --ref REF              git ref (GITHUB_REF)\n"
"  --sha SHA              commit SHA, 40 or 64 hex (GITHUB_SHA)\n"
"  --event NAME           event name (GITHUB_EVENT_NAME)\n"
"  --service NAME         repository under the org (input service;\n"
"                         default: the GITHUB_REPOSITORY name, lowercased)\n"
"  --test-name NAME       make a test image test-<name>\n"
"  --policy FILE          YAML policy (default: built-in DD-REGISTRY-001)\n"
"  --dev-registry HOST[/ORG]   development and test registry\n"
"  --prod-registry HOST[/ORG]  staging and production registry\n"
"  --now TIME             RFC 3339 time for the created label and prune\n"
"  --json                 print JSON\n";

static const char usage_plan[] =
"usage: regpush plan [OPTIONS]\n"
"\n"
"Prints what a push would do: environment, repository, tags. Reads no\n"
"registry and writes nothing but outputs.\n\n";

static const char usage_push[] =
"usage: regpush push --source REF [OPTIONS]\n"
"\n"
"Pushes an image to every tag of the plan.\n"
"\n"
"  --source REF           image as a containers transport reference:\n"
"                         docker-daemon:, oci:, oci-archive:,\n"
"                         docker-archive:, containers-storage:, docker://\n"
"  --engine skopeo|buildah  (default skopeo)\n"
"  --authfile FILE        containers-auth.json (REGISTRY_AUTH_FILE)\n"
"  --cert-dir DIR         extra CA certificates (*.crt)\n"
"  --insecure-registry HOST[:PORT]  plain HTTP / no TLS verification for\n"
"                         this host only (repeatable)\n"
"  --dry-run              print the commands; write nothing\n"
"  --allow-backwards      a deliberate rollback: floating tags (vX.Y, vX,\n"
"                         latest, staging-latest) may move to this older\n"
"                         release; immutable tags never move\n"
"  --attest provenance    also write a signed SLSA provenance attestation\n"
"                         (needs REGPUSH_SIGNING_KEY and the GitHub context)\n"
"Credentials come from REGPUSH_{DEV,STAGING,RELEASE}_{USERNAME,PASSWORD}\n"
"or the matching action inputs; never from the command line. A signing key\n"
"comes from REGPUSH_SIGNING_KEY (and _PASSPHRASE) or input signing-key.\n\n";

static const char usage_promote[] =
"usage: regpush promote --from SOURCE [OPTIONS]\n"
"\n"
"Copies the exact digest of a tested image to every tag of the plan\n"
"(staging or production), without rebuilding it.\n"
"\n"
"  --from SOURCE          host/repo:tag or host/repo@sha256:..., or\n"
"                         development (dev-<sha7> of this commit) or\n"
"                         staging (on vX.Y.Z: the newest staging-vX.Y.Z-*)\n"
"                         or previous (development on vX.Y.Z-PRE, staging\n"
"                         on vX.Y.Z: one step for every version tag)\n"
"  --allow-revision-mismatch  accept a source whose revision label is\n"
"                         missing or names another commit\n"
"  --verify-key FILE      a PEM public key (repeatable; REGPUSH_VERIFY_KEYS:\n"
"                         keys concatenated): the source must carry a cosign\n"
"                         signature by one of them naming it, else exit 3\n"
"  --authfile FILE        containers-auth.json (REGISTRY_AUTH_FILE)\n"
"  --cert-dir DIR         extra CA certificates (*.crt)\n"
"  --insecure-registry HOST[:PORT]  plain HTTP / no TLS verification for\n"
"                         this host only (repeatable)\n"
"  --dry-run              read everything, print the writes; write nothing\n"
"  --allow-backwards      a deliberate rollback (see regpush push --help)\n"
"The source is read with the account of its environment (dev for the\n"
"development registry, staging for the production one), the destination\n"
"written with the plan's.\n\n";

static const char usage_audit[] =
"usage: regpush audit [OPTIONS]\n"
"\n"
"Reads the service's development and production repositories and reports\n"
"every drift from the policy: errors (a floating tag behind the newest\n"
"release of its line, a tag in the other environment's repository, a\n"
"release carrying quay.expires-after or lacking its revision label) and\n"
"warnings (tags of no pattern, expired tags awaiting prune, a release\n"
"rebuilt rather than promoted, an index whose entry is gone, a tag that\n"
"cannot be read). Writes nothing. Exit 3 on an error-level finding, 1 when\n"
"a registry cannot be read.\n"
"\n"
"  --service NAME         repeated: audit several services in one run\n"
"                         (input services, one per line)\n"
"  --repository HOST/PATH  audit this repository instead (repeatable); its\n"
"                         role comes from the registry it is under\n"
"  --now TIME             measure ages against this RFC 3339 time\n"
"  --verify-key FILE      a PEM public key (repeatable): staging and\n"
"                         production images without a valid signature by\n"
"                         one of them are errors\n"
"  --insecure-registry HOST[:PORT]  plain HTTP / no TLS verification\n"
"Accounts: dev for the development registry, release for the production\n"
"one, else the auth files.\n\n";

static const char usage_prune[] =
"usage: regpush prune [OPTIONS]\n"
"\n"
"Deletes the tags of the service's development and production\n"
"repositories that are past the policy's retention (dev-<hex> and\n"
"feature-* 30 days, test-* 14, staging-v* 90); never latest, dev-latest,\n"
"staging-latest, a v* release or a tag matching no pattern, and never an\n"
"image that a kept tag or a kept index still needs. cosign's signature,\n"
"attestation and SBOM tags follow their image: kept while it is, deleted\n"
"after it, swept when it is gone.\n"
"\n"
"  --service NAME         repeated: prune several services in one run\n"
"                         (input services, one per line)\n"
"  --repository HOST/PATH  prune this repository instead (repeatable)\n"
"  --now TIME             measure ages against this RFC 3339 time\n"
"  --dry-run              print the table; delete nothing\n"
"  --insecure-registry HOST[:PORT]  plain HTTP / no TLS verification\n"
"Accounts: dev for the development registry, release for the production\n"
"one, else the auth files.\n\n";

static rp_status cmd_version(struct rp_opts *o, struct rp_err *err);

/* Every command: its name, what runs it, its line in the usage and its
 * --help (NULL: a bare usage line; context: the context options follow). */
static const struct command {
	const char *name;
	rp_status (*run)(struct rp_opts *o, struct rp_err *err);
	const char *summary;
	const char *usage;
	int context;
} commands[] = {
	{ "plan", run_plan, "print the environment, repository and tags; write nothing", usage_plan, 1 },
	{ "push", push_run, "push --source to every tag of the plan", usage_push, 1 },
	{ "promote", promote_run, "copy a tested image (--from) to the plan's tags, by digest",
	  usage_promote, 1 },
	{ "prune", prune_run, "delete tags past the policy's retention, never a needed image",
	  usage_prune, 1 },
	{ "audit", audit_run, "report where the registry has drifted from the policy", usage_audit, 1 },
	{ "policy", run_policy, "print the effective policy as YAML", NULL, 1 },
	{ "version", cmd_version, "print the version", NULL, 0 },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
flushed(void)
{
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

static void
print_usage(FILE *f)
{
	size_t i;

	fputs(usage_head, f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs(usage_tail, f);
}

static rp_status
cmd_version(struct rp_opts *o, struct rp_err *err)
{
	(void)o;
	printf("regpush %s\n", RP_VERSION);
	return flushed() == 0 ? RP_OK : rp_fail(err, RP_EREGISTRY, "cannot write to stdout");
}

/* getopt's long options, from ghctx_options: option i answers 256 + i. */
#define OPT_BASE 256
static struct option longopts[64];

static void
make_longopts(void)
{
	size_t i, k = 0;

	for (i = 0; i < ghctx_noptions && k + 1 < sizeof(longopts) / sizeof(longopts[0]); i++)
		if (ghctx_options[i].flag)
			longopts[k++] = (struct option){ ghctx_options[i].name,
							 ghctx_options[i].has_arg ? required_argument :
							 no_argument, NULL, OPT_BASE + (int)i };
	longopts[k] = (struct option){ NULL, 0, NULL, 0 };
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "regpush: %s\nTry 'regpush --help'.\n", msg);
	return RP_EINPUT;
}

static int
print_help(const struct command *cmd)
{
	if (cmd == NULL)
		print_usage(stdout);
	else if (cmd->usage != NULL)
		printf("%s%s", cmd->usage, cmd->context ? usage_context : "");
	else
		printf("usage: regpush %s [OPTIONS]\n\n%s", cmd->name, cmd->context ? usage_context : "");
	return flushed();
}

/* Appends a repeated flag's value to *v, at most 64. Returns -1 to go
 * on, or an exit code. */
static int
push_repeated(char ***v, const char *value, const char *flag)
{
	if (rp_strv_len(*v) >= 64) {
		fprintf(stderr, "regpush: at most 64 --%s\n", flag);
		return RP_EINPUT;
	}
	if (rp_strv_push(v, value) != 0) {
		fprintf(stderr, "regpush: out of memory\n");
		return RP_EREGISTRY;
	}
	return -1;
}

/* Parses flags into o. Returns -1 to go on, or an exit code. */
static int
parse_flags(int argc, char **argv, const struct command *cmd, struct rp_opts *o,
	    struct rp_err *err)
{
	int c, rc;

	opterr = 0;
	optind = 1;
	make_longopts();
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		const struct optdef *d = c >= OPT_BASE && (size_t)(c - OPT_BASE) < ghctx_noptions ?
		    &ghctx_options[c - OPT_BASE] : NULL;
		if (d != NULL && d->kind == OD_VALUE) {
			*(const char **)((char *)o + d->off) = optarg;
			continue;
		}
		if (d != NULL && d->kind == OD_SWITCH) {
			*(int *)((char *)o + d->flag_off) = 1;
			continue;
		}
		if (d != NULL && strcmp(d->name, "service") == 0) {
			/* Repeated: several services (prune, audit). */
			if (o->service != NULL && o->services == NULL &&
			    (rc = push_repeated(&o->services, o->service, "service")) >= 0)
				return rc;
			if (o->services != NULL &&
			    (rc = push_repeated(&o->services, optarg, "service")) >= 0)
				return rc;
			o->service = optarg;
			continue;
		}
		if (d != NULL && strcmp(d->name, "insecure-registry") == 0) {
			if (ghctx_add_insecure(o, optarg, err) != RP_OK) {
				fprintf(stderr, "regpush: %s\n", err->msg);
				return RP_EINPUT;
			}
			continue;
		}
		if (d != NULL && strcmp(d->name, "verify-key") == 0) {
			if ((rc = push_repeated(&o->verify_key_files, optarg, "verify-key")) >= 0)
				return rc;
			continue;
		}
		if (d != NULL && strcmp(d->name, "repository") == 0) {
			if ((rc = push_repeated(&o->repositories, optarg, "repository")) >= 0)
				return rc;
			continue;
		}
		if (d != NULL && strcmp(d->name, "help") == 0)
			return print_help(cmd);
		switch (c) {
		case ':': {
			char m[200], q[100];
			snprintf(m, sizeof(m), "option '%s' needs a value",
				 rp_quote(argv[optind - 1], 60, q, sizeof(q)));
			return usage_error(m);
		}
		default: {
			char m[200], q[100];
			snprintf(m, sizeof(m), "unknown option '%s'",
				 rp_quote(argv[optind - 1], 60, q, sizeof(q)));
			return usage_error(m);
		}
		}
	}
	if (optind < argc) {
		char m[200], q[100];
		snprintf(m, sizeof(m), "unexpected argument '%s'",
			 rp_quote(argv[optind], 60, q, sizeof(q)));
		return usage_error(m);
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct rp_opts o;
	struct rp_err err = { RP_OK, "" };
	const char *name = NULL, *ga = getenv("GITHUB_ACTIONS");
	const struct command *cmd;
	int rc, action_mode = 0;
	rp_status st;

	sig_init();
	memset(&o, 0, sizeof(o));
	o.dry_run = -1;
	o.allow_revision_mismatch = -1;
	o.allow_backwards = -1;
	if (argc > 1 && argv[1][0] != '-') {
		name = argv[1];
		argc--;
		argv++;
	} else if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		return print_help(NULL);
	} else if (ga != NULL && strcmp(ga, "true") == 0) {
		action_mode = 1;
		name = ghctx_input("mode");
		if (name == NULL)
			name = "push";
	} else {
		print_usage(stderr);
		return RP_EINPUT;
	}
	if ((cmd = find_command(name)) != NULL && cmd->run == cmd_version)
		return (int)cmd_version(&o, &err);
	if (cmd == NULL) {
		char m[300], q[100], list[120] = "";
		size_t i;
		for (i = 0; i < NCOMMANDS; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i == 0 ? "" : i + 1 == NCOMMANDS ? " or " : ", ", commands[i].name);
		snprintf(m, sizeof(m), "unknown %s '%s' (expected %s)", action_mode ? "mode" : "command",
			 rp_quote(name, 60, q, sizeof(q)), list);
		if (action_mode) {
			o.actions = 1;
			rp_fail(&err, RP_EINPUT, "%s", m);
			report_error(&o, &err);
			return (int)report_finish(1, "regpush", RP_EINPUT, &err);
		}
		return usage_error(m);
	}
	o.container = action_mode;
	rp_names_inputs(action_mode);
	if ((rc = parse_flags(argc, argv, cmd, &o, &err)) >= 0) {
		ghctx_opts_free(&o);
		return rc;
	}
	if ((st = ghctx_resolve(&o, &err)) != RP_OK)
		goto out;
	if (o.services != NULL && cmd->run != prune_run && cmd->run != audit_run) {
		st = rp_fail(&err, RP_EINPUT, "several services are for prune and audit; %s takes one %s",
			     cmd->name, rp_flag("service"));
		goto out;
	}
	sig_install();
	st = cmd->run(&o, &err);
out:
	if (st != RP_OK && sig_caught && err.msg[0] == '\0')
		rp_fail(&err, RP_EREGISTRY, "interrupted by SIG%s", sig_name(sig_caught));
	if (st != RP_OK)
		report_error(&o, &err);
	/* Every run's outputs and summary, refused and failed ones too. */
	if ((rc = report_finish(o.actions, cmd->name, st, &err)) != RP_OK && st == RP_OK) {
		report_error(&o, &err);
		st = (rp_status)rc;
	}
	ghctx_opts_free(&o);
	rp_secrets_free();
	reg_global_cleanup();
	/* After cleaning up (the private directory is gone): die of the
	 * signal, so the parent sees how the run ended. */
	sig_die();
	return (int)st;
}
