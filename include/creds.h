/*
 * creds.h — the robot account of one environment, the private work
 * directory, and the containers-auth.json handed to the engines.
 */
#ifndef RP_CREDS_H
#define RP_CREDS_H

#include "util.h"

struct creds {
	char *username; /* NULL when no credentials were given */
	char *password;
	char profile[16]; /* "dev", "staging" or "release" */
};

/* Reads the account of `profile` (dev, staging, release) from inputs
 * <profile>-username/-password, else REGPUSH_<PROFILE>_USERNAME/PASSWORD.
 * Both or neither must be given (else RP_EINPUT). */
rp_status creds_load(const char *profile, struct creds *c, struct rp_err *err);

/* Registers every form the password can take in another program's
 * output (as given, Go-escaped, as a log line shows each, base64 of
 * user:password and of the password) for rp_scrub, and in Actions
 * prints ::add-mask:: for each. */
void creds_mask(const struct creds *c, int actions);

/* Writes dir/auth.json (mode 0600, created exclusively) holding the
 * account for `host`. *path is owned by the caller. */
rp_status creds_write_authfile(const struct creds *c, const char *host,
			       const char *dir, char **path, struct rp_err *err);

/* The same with several accounts, each under its key ("host" or
 * "host/namespace": containers-auth.json picks the most specific); an
 * entry without a username is left out. */
rp_status creds_write_authfile_n(const struct creds *const *cs,
				 const char *const *keys, size_t n, const char *dir,
				 char **path, struct rp_err *err);

/* One form of a secret: registered for scrubbing (rp_secret_add) and, in
 * Actions, masked with ::add-mask::; an empty s is nothing. */
void creds_secret(const char *s, int actions);

/* Prints ::add-mask:: for every account's password (dev, staging,
 * release) that is set; does nothing outside Actions. */
void creds_mask_all(int actions);

/*
 * Credentials for host/repo from containers-auth.json files, the way the
 * engines find them: only `explicit` when given (--authfile or
 * REGISTRY_AUTH_FILE); else ${XDG_RUNTIME_DIR}/containers/auth.json,
 * ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,
 * ${DOCKER_CONFIG:-~/.docker}/config.json, ~/.dockercfg. The most
 * specific key wins (host/ns/repo, ..., host). Leaves c empty when none
 * matches; an unreadable or malformed file is skipped. credHelpers are
 * not run.
 */
rp_status creds_from_authfiles(const char *explicit_path, const char *host,
			       const char *repo, struct creds *c,
			       struct rp_err *err);

/* Wipes and frees the strings; accepts an empty struct. */
void creds_free(struct creds *c);

/* A private directory (0700) under $TMPDIR or /tmp; NULL on failure with
 * err set. workdir_remove deletes it and everything in it. */
char *workdir_create(struct rp_err *err);
void workdir_remove(const char *path);

/* Removes an auth file this run wrote and forgets its name (*path NULL
 * afterwards; NULL accepted). */
void creds_remove_file(char **path);

#endif
