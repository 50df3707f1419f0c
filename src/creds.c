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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ghactions.h"
#include "ghctx.h"

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
		u = rp_getenv(env_user);
		from_u = env_user;
	}
	if ((p = ghctx_input(in_pass)) == NULL) {
		p = rp_getenv(env_pass);
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
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	return RP_OK;
}

/* s with Go's %q escaping of backslash and quote (how skopeo and
 * buildah quote a value in an error); NULL when out of memory. */
static char *
go_escaped(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

void
creds_secret(const char *s, int actions)
{
	if (s == NULL || *s == '\0')
		return;
	(void)rp_secret_add(s);
	if (actions)
		gha_command(stdout, "add-mask", NULL, s);
}

void
creds_mask(const struct creds *c, int actions)
{
	char *forms[3] = { NULL, NULL, NULL }, q[3][1200];
	size_t i;

	if (c->password == NULL)
		return;
	/* The password as given, as Go quotes it, and both as a log line
	 * shows them (\x5c for a backslash); base64 of user:password (an
	 * auth header) and of the password alone. */
	forms[0] = go_escaped(c->password);
	forms[1] = rp_basic_auth(c->username, c->password);
	forms[2] = rp_base64(c->password, strlen(c->password));
	creds_secret(c->password, actions);
	creds_secret(rp_quote(c->password, 1100, q[0], sizeof(q[0])), actions);
	if (forms[0] != NULL) {
		creds_secret(forms[0], actions);
		creds_secret(rp_quote(forms[0], 1100, q[1], sizeof(q[1])), actions);
	}
	creds_secret(forms[1], actions);
	creds_secret(forms[2], actions);
	for (i = 0; i < 3; i++) {
		if (forms[i] != NULL)
			explicit_bzero(forms[i], strlen(forms[i]));
		free(forms[i]);
	}
	explicit_bzero(q, sizeof(q));
}

void
creds_mask_all(int actions)
{
	static const char *const profiles[] = { "dev", "staging", "release" };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct creds c;
		struct rp_err ignored;
		if (creds_load(profiles[i], &c, &ignored) == RP_OK)
			creds_mask(&c, actions);
		creds_free(&c);
	}
}

rp_status
creds_write_authfile(const struct creds *c, const char *host, const char *dir,
		     char **path, struct rp_err *err)
{
	const struct creds *cs[1] = { c };
	const char *keys[1] = { host };

	return creds_write_authfile_n(cs, keys, 1, dir, path, err);
}

rp_status
creds_write_authfile_n(const struct creds *const *cs, const char *const *keys, size_t nc,
		       const char *dir, char **path, struct rp_err *err)
{
	json_t *root = NULL, *auths = NULL;
	char *b64 = NULL, *text = NULL;
	size_t i;
	int fd = -1, bad = 0, e;
	rp_status st = RP_OK;

	*path = rp_asprintf("%s/auth.json", dir);
	bad = *path == NULL || (root = json_object()) == NULL || (auths = json_object()) == NULL ||
	    json_object_set(root, "auths", auths) != 0;
	for (i = 0; i < nc && !bad; i++) {
		if (cs[i] == NULL || cs[i]->username == NULL)
			continue;
		bad = (b64 = rp_basic_auth(cs[i]->username, cs[i]->password)) == NULL ||
		    json_object_set_new(auths, keys[i], json_pack("{s:s}", "auth", b64)) != 0;
		if (b64 != NULL)
			explicit_bzero(b64, strlen(b64));
		free(b64);
		b64 = NULL;
	}
	if (bad || (text = rp_json_dumps(root, JSON_COMPACT)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory writing the auth file");
		goto out;
	}
	if ((fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0600)) < 0) {
		st = rp_fail(err, RP_EREGISTRY, "cannot create the auth file: %s",
			     strerror(errno));
		goto out;
	}
	if ((e = rp_write_all(fd, text, strlen(text))) != 0) {
		st = rp_fail(err, RP_EREGISTRY, "cannot write the auth file: %s", strerror(e));
		goto out;
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
	json_decref(auths);
	json_decref(root);
	if (st != RP_OK) {
		if (*path != NULL)
			unlink(*path);
		free(*path);
		*path = NULL;
	}
	return st;
}

/* Looks host/repo up in one auth file; 1 when found. */
static int
lookup_file(const char *path, int legacy, const char *host, const char *repo,
	    struct creds *c)
{
	struct rp_err ignored;
	char *text = NULL, *key = NULL, *raw = NULL, *colon;
	size_t len;
	json_t *j = NULL, *auths, *entry = NULL;
	const char *k, *b64;
	json_t *v;
	int found = 0, n;

	if (rp_read_file(path, "auth file", 1 << 20, &text, &len, &ignored) != RP_OK)
		return 0;
	if ((j = json_loadb(text, len, 0, NULL)) == NULL)
		goto out;
	auths = legacy ? j : json_object_get(j, "auths");
	if (!json_is_object(auths))
		goto out;
	/* host/ns/repo, host/ns, host: the longest matching key wins. */
	if ((key = rp_asprintf("%s/%s", host, repo)) == NULL)
		goto out;
	for (;;) {
		json_object_foreach(auths, k, v) {
			const char *kk = k;
			size_t kl;
			if (strncmp(kk, "https://", 8) == 0)
				kk += 8;
			else if (strncmp(kk, "http://", 7) == 0)
				kk += 7;
			kl = strlen(kk);
			while (kl > 0 && kk[kl - 1] == '/')
				kl--;
			/* Legacy keys like "https://index.docker.io/v1/". */
			if (kl > 3 && strncmp(kk + kl - 3, "/v1", 3) == 0 && strchr(kk, '/') == kk + kl - 3)
				kl -= 3;
			if (kl == strlen(key) && strncmp(kk, key, kl) == 0) {
				entry = v;
				break;
			}
		}
		if (entry != NULL || strchr(key, '/') == NULL)
			break;
		*strrchr(key, '/') = '\0';
	}
	b64 = json_string_value(json_object_get(entry, "auth"));
	if (b64 == NULL || *b64 == '\0')
		goto out;
	if ((raw = calloc(1, strlen(b64) + 4)) == NULL)
		goto out;
	n = EVP_DecodeBlock((unsigned char *)raw, (const unsigned char *)b64, (int)strlen(b64));
	if (n <= 0)
		goto out;
	raw[n] = '\0';
	if ((colon = strchr(raw, ':')) == NULL)
		goto out;
	*colon = '\0';
	c->username = rp_strdup(raw);
	c->password = rp_strdup(colon + 1);
	found = c->username != NULL && c->password != NULL;
	if (!found)
		creds_free(c);
out:
	if (raw != NULL) {
		explicit_bzero(raw, strlen(b64 != NULL ? b64 : "") + 1);
		free(raw);
	}
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	free(key);
	json_decref(j);
	return found;
}

rp_status
creds_from_authfiles(const char *explicit_path, const char *host,
		     const char *repo, struct creds *c, struct rp_err *err)
{
	const char *home = getenv("HOME"), *x;
	char *paths[6] = { 0 };
	int legacy[6] = { 0 };
	size_t i, n = 0;

	(void)err;
	if (rp_given(explicit_path)) {
		paths[n++] = rp_strdup(explicit_path);
	} else {
		if (rp_given(x = getenv("XDG_RUNTIME_DIR")))
			paths[n++] = rp_asprintf("%s/containers/auth.json", x);
		else
			paths[n++] = rp_asprintf("/run/containers/%u/auth.json", (unsigned)getuid());
		if (rp_given(x = getenv("XDG_CONFIG_HOME")))
			paths[n++] = rp_asprintf("%s/containers/auth.json", x);
		else if (rp_given(home))
			paths[n++] = rp_asprintf("%s/.config/containers/auth.json", home);
		if (rp_given(x = getenv("DOCKER_CONFIG")))
			paths[n++] = rp_asprintf("%s/config.json", x);
		else if (rp_given(home))
			paths[n++] = rp_asprintf("%s/.docker/config.json", home);
		if (rp_given(home)) {
			legacy[n] = 1;
			paths[n++] = rp_asprintf("%s/.dockercfg", home);
		}
	}
	for (i = 0; i < n; i++) {
		if (paths[i] != NULL && c->username == NULL)
			lookup_file(paths[i], legacy[i], host, repo, c);
		free(paths[i]);
	}
	return RP_OK;
}

void
creds_free(struct creds *c)
{
	if (c == NULL)
		return;
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
		rp_fail(err, RP_ENOMEM, "out of memory");
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

/* getdents64's record (the kernel's layout; glibc declares no type). */
struct dirent64_rec {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/*
 * Removes parent/name and, for a directory, everything in it. Allocates
 * nothing (getdents64 into a stack buffer, *at() calls), so the private
 * directory — auth.json included — goes away even when memory is
 * exhausted, which nftw() and opendir() cannot promise. Entries removed
 * while a directory is being read can shift the read offset, so each
 * directory is read again until a pass finds nothing.
 */
static void
rm_at(int parent, const char *name, int depth)
{
	char buf[2048];
	int fd, pass, found;
	long n, off;

	if (unlinkat(parent, name, 0) == 0 || (errno != EISDIR && errno != EPERM) || depth > 256)
		return;
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	for (pass = 0, found = 1; found && pass < 64; pass++) {
		found = 0;
		lseek(fd, 0, SEEK_SET);
		while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
			for (off = 0; off < n;) {
				struct dirent64_rec *d = (struct dirent64_rec *)(void *)(buf + off);
				off += d->reclen;
				if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)
					continue;
				found = 1;
				rm_at(fd, d->name, depth + 1);
			}
		}
	}
	close(fd);
	unlinkat(parent, name, AT_REMOVEDIR);
}

void
workdir_remove(const char *path)
{
	int fd;

	if (path == NULL)
		return;
	/* The secret first, whatever happens to the rest. */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		unlinkat(fd, "auth.json", 0);
		close(fd);
	}
	rm_at(AT_FDCWD, path, 0);
}

void
creds_remove_file(char **path)
{
	if (path == NULL || *path == NULL)
		return;
	(void)unlink(*path);
	free(*path);
	*path = NULL;
}
