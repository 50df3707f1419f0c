/*
 * creds.c — credentials live in memory, in one 0600 file inside a 0700
 * directory, and nowhere else: never in argv (there is no password flag,
 * and children get an auth file path), never in a log (masked first in
 * Actions), never left behind (the directory is removed on every exit
 * path, including SIGINT/SIGTERM, by the caller).
 */
#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ghactions.h"
#include "ghctx.h"

static const char *
env_given(const char *name)
{
	const char *v = getenv(name);

	return rp_given(v) ? v : NULL;
}

rp_status
creds_load(const char *profile, struct creds *c, struct rp_err *err)
{
	char in_user[64], in_pass[64], env_user[64], env_pass[64], up[16];
	const char *u, *p, *from_u, *from_p;
	size_t i;

	memset(c, 0, sizeof(*c));
	snprintf(c->profile, sizeof(c->profile), "%s", profile);
	for (i = 0; profile[i] != '\0' && i + 1 < sizeof(up); i++)
		up[i] = (char)(profile[i] >= 'a' && profile[i] <= 'z' ?
			       profile[i] - 32 : profile[i]);
	up[i] = '\0';
	snprintf(in_user, sizeof(in_user), "%s-username", profile);
	snprintf(in_pass, sizeof(in_pass), "%s-password", profile);
	snprintf(env_user, sizeof(env_user), "REGPUSH_%s_USERNAME", up);
	snprintf(env_pass, sizeof(env_pass), "REGPUSH_%s_PASSWORD", up);
	from_u = in_user;
	from_p = in_pass;
	if ((u = ghctx_input(in_user)) == NULL) {
		u = env_given(env_user);
		from_u = env_user;
	}
	if ((p = ghctx_input(in_pass)) == NULL) {
		p = env_given(env_pass);
		from_p = env_pass;
	}
	if (u == NULL && p == NULL)
		return RP_OK;
	if (u == NULL)
		return rp_fail(err, RP_EINPUT,
			       "%s is set but no username for the %s account (%s or %s)",
			       from_p, profile, in_user, env_user);
	if (p == NULL)
		return rp_fail(err, RP_EINPUT,
			       "%s is set but no password for the %s account (%s or %s)",
			       from_u, profile, in_pass, env_pass);
	if (strlen(u) > 1024 || strlen(p) > RP_VALUE_MAX || strchr(u, ':') != NULL)
		return rp_fail(err, RP_EINPUT,
			       "the %s account's username must be at most 1024 characters "
			       "without ':' and its password at most %d", profile,
			       RP_VALUE_MAX);
	if ((c->username = rp_strdup(u)) == NULL ||
	    (c->password = rp_strdup(p)) == NULL) {
		creds_free(c);
		return rp_fail(err, RP_EINPUT, "out of memory");
	}
	return RP_OK;
}

/* base64("user:pass"); caller wipes and frees. */
static char *
auth_b64(const struct creds *c)
{
	size_t n = strlen(c->username) + 1 + strlen(c->password);
	unsigned char *raw = malloc(n + 1);
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (raw == NULL || out == NULL) {
		free(raw);
		free(out);
		return NULL;
	}
	snprintf((char *)raw, n + 1, "%s:%s", c->username, c->password);
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	explicit_bzero(raw, n);
	free(raw);
	return out;
}

void
creds_mask(const struct creds *c)
{
	char *b;

	if (c->password == NULL)
		return;
	gha_command(stdout, "add-mask", NULL, c->password);
	if ((b = auth_b64(c)) != NULL) {
		gha_command(stdout, "add-mask", NULL, b);
		explicit_bzero(b, strlen(b));
		free(b);
	}
}

rp_status
creds_write_authfile(const struct creds *c, const char *host, const char *dir,
		     char **path, struct rp_err *err)
{
	json_t *root = NULL;
	char *b64 = NULL, *text = NULL;
	size_t len, off = 0;
	ssize_t n;
	int fd = -1;
	rp_status st = RP_OK;

	*path = rp_asprintf("%s/auth.json", dir);
	if (*path == NULL || (b64 = auth_b64(c)) == NULL ||
	    (root = json_pack("{s:{s:{s:s}}}", "auths", host, "auth", b64)) == NULL ||
	    (text = json_dumps(root, JSON_COMPACT)) == NULL) {
		st = rp_fail(err, RP_EREGISTRY, "out of memory writing the auth file");
		goto out;
	}
	if ((fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0600)) < 0) {
		st = rp_fail(err, RP_EREGISTRY, "cannot create the auth file: %s",
			     strerror(errno));
		goto out;
	}
	len = strlen(text);
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st = rp_fail(err, RP_EREGISTRY, "cannot write the auth file: %s",
				     strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0) {
		fd = -1;
		st = rp_fail(err, RP_EREGISTRY, "cannot write the auth file: %s",
			     strerror(errno));
		goto out;
	}
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (b64 != NULL) {
		explicit_bzero(b64, strlen(b64));
		free(b64);
	}
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	/* jansson holds a copy of the secret in the object; free it. */
	json_decref(root);
	if (st != RP_OK) {
		if (*path != NULL)
			unlink(*path);
		free(*path);
		*path = NULL;
	}
	return st;
}

void
creds_free(struct creds *c)
{
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->username);
	c->username = c->password = NULL;
}

char *
workdir_create(struct rp_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char *path;

	if (!rp_given(tmp))
		tmp = "/tmp";
	if ((path = rp_asprintf("%s/regpush.XXXXXX", tmp)) == NULL) {
		rp_fail(err, RP_EREGISTRY, "out of memory");
		return NULL;
	}
	/* mkdtemp creates the directory with mode 0700. */
	if (mkdtemp(path) == NULL) {
		char q[256];
		rp_fail(err, RP_EREGISTRY, "cannot create a private directory in %s: %s",
			rp_quote(tmp, 200, q, sizeof(q)), strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

void
workdir_remove(const char *path)
{
	if (path != NULL)
		nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}
