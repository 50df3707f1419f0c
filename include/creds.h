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

/* Prints ::add-mask:: for the password (and its base64 form). */
void creds_mask(const struct creds *c);

/* Writes dir/auth.json (mode 0600, created exclusively) holding the
 * account for `host`. *path is owned by the caller. */
rp_status creds_write_authfile(const struct creds *c, const char *host,
			       const char *dir, char **path, struct rp_err *err);

/* Wipes and frees the strings; accepts an empty struct. */
void creds_free(struct creds *c);

/* A private directory (0700) under $TMPDIR or /tmp; NULL on failure with
 * err set. workdir_remove deletes it and everything in it. */
char *workdir_create(struct rp_err *err);
void workdir_remove(const char *path);

#endif
