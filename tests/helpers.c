/* helpers.c — process and file helpers for the end-to-end tests. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *
slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	cr_assert(buf != NULL);
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert(buf != NULL);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

void
run_regpush(const char *const *argv, const char *const *envp, struct proc *p)
{
	const char *bin = getenv("REGPUSH_BIN");

	cr_assert(bin != NULL, "REGPUSH_BIN is not set");
	run_prog(bin, argv, envp, p);
}

void
run_prog(const char *bin, const char *const *argv, const char *const *envp,
	 struct proc *p)
{
	struct bg b;

	start_prog(bin, argv, envp, &b);
	wait_bg(&b, p);
}

void
start_regpush(const char *const *argv, const char *const *envp, struct bg *b)
{
	const char *bin = getenv("REGPUSH_BIN");

	cr_assert(bin != NULL, "REGPUSH_BIN is not set");
	start_prog(bin, argv, envp, b);
}

void
wait_bg(struct bg *b, struct proc *p)
{
	int ws;

	while (waitpid(b->pid, &ws, 0) < 0)
		cr_assert(errno == EINTR);
	p->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	p->out = slurp_fd(b->ofd);
	p->err = slurp_fd(b->efd);
	close(b->ofd);
	close(b->efd);
}

void
start_prog(const char *bin, const char *const *argv, const char *const *envp,
	   struct bg *b)
{
	posix_spawn_file_actions_t fa;
	char outp[] = "/tmp/rp-out-XXXXXX", errp[] = "/tmp/rp-err-XXXXXX";
	int ofd, efd, haspath = 0;
	size_t n, i;
	char **av, **ev;
	pid_t pid;

	ofd = mkstemp(outp);
	efd = mkstemp(errp);
	cr_assert(ofd >= 0 && efd >= 0);
	unlink(outp);
	unlink(errp);
	for (n = 0; argv[n] != NULL; n++)
		;
	av = calloc(n + 1, sizeof(*av));
	av[0] = (char *)argv[0];
	for (i = 1; i < n; i++)
		av[i] = (char *)argv[i];
	for (n = 0; envp[n] != NULL; n++)
		if (strncmp(envp[n], "PATH=", 5) == 0)
			haspath = 1;
	ev = calloc(n + 2, sizeof(*ev));
	for (i = 0; i < n; i++)
		ev[i] = (char *)envp[i];
	if (!haspath)
		ev[n++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	cr_assert(posix_spawnp(&pid, bin, &fa, NULL, av, ev) == 0,
		  "cannot spawn %s", bin);
	posix_spawn_file_actions_destroy(&fa);
	b->pid = pid;
	b->ofd = ofd;
	b->efd = efd;
	free(av);
	free(ev);
}

void
proc_free(struct proc *p)
{
	free(p->out);
	free(p->err);
	p->out = p->err = NULL;
}

char *
tmpdir_new(void)
{
	char tmpl[] = "/tmp/rp-test-XXXXXX";

	cr_assert(mkdtemp(tmpl) != NULL);
	return strdup(tmpl);
}

void
rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[4096];

	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

char *
write_file(const char *dir, const char *name, const char *content)
{
	char *path;
	FILE *f;

	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(content, f);
	cr_assert(fclose(f) == 0);
	return path;
}

char *
read_all(const char *path)
{
	int fd = open(path, O_RDONLY);
	char *s;

	if (fd < 0)
		return NULL;
	s = slurp_fd(fd);
	close(fd);
	return s;
}

int
normalise_delimiters(char *s)
{
	static const char pfx[] = "ghadelimiter_";
	char *p = s, *q;
	int n = 0, i;

	while ((q = strstr(p, pfx)) != NULL) {
		for (i = 0; i < 32; i++) {
			char c = q[13 + i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return -1;
		}
		memcpy(q, "EOF", 3);
		memmove(q + 3, q + 13 + 32, strlen(q + 13 + 32) + 1);
		p = q + 3;
		n++;
	}
	return n;
}

void
expect_dir_empty(const char *dir)
{
	struct proc p;
	const char *argv[] = { "ls", "-A", dir, NULL };
	const char *envp[] = { NULL };

	run_prog("ls", argv, envp, &p);
	cr_expect_str_eq(p.out, "", "leftovers in %s: %s", dir, p.out);
	proc_free(&p);
}

double
mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
count_lines(const char *path, const char *needle)
{
	char *s = read_all(path), *p;
	int n = 0;

	for (p = s; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(s);
	return n;
}

double
log_time(const char *path, const char *needle, int end)
{
	char *s = read_all(path), *p, *line, *t;
	double at = -1, d = 0;

	if (s != NULL && (p = strstr(s, needle)) != NULL) {
		for (line = p; line > s && line[-1] != '\n'; line--)
			;
		if ((t = strstr(line, " t=")) != NULL && t < strchr(line, '\n') &&
		    sscanf(t, " t=%lf d=%lf", &at, &d) >= 1 && end)
			at += d;
	}
	free(s);
	return at;
}

char *
archive(const char *name)
{
	char *s;

	cr_assert(asprintf(&s, "oci-archive:%s/%s", getenv("REGPUSH_TEST_IMAGES"), name) > 0);
	return s;
}

void
e2e_dirs_new(char **dir, char **tmpd)
{
	*dir = tmpdir_new();
	cr_assert(asprintf(tmpd, "%s/tmp", *dir) > 0);
	cr_assert_eq(mkdir(*tmpd, 0700), 0);
}

void
e2e_dirs_free(char **dir, char **tmpd)
{
	rm_rf(*dir);
	free(*dir);
	free(*tmpd);
	*dir = *tmpd = NULL;
}

/* Runs tests/forge.py; returns the digest it printed. */
char *
forge(const char *const *args)
{
	const char *argv[12] = { "python3", "tests/forge.py" };
	const char *envp[] = { NULL };
	struct proc p;
	char *d;
	size_t i;

	for (i = 0; args[i] != NULL && i < 9; i++)
		argv[2 + i] = args[i];
	argv[2 + i] = NULL;
	run_prog("python3", argv, envp, &p);
	cr_assert_eq(p.status, 0, "forge: %s", p.err);
	p.out[strcspn(p.out, "\n")] = '\0';
	d = strdup(p.out);
	proc_free(&p);
	return d;
}

const char *
test_cosign(void)
{
	const char *c = getenv("REGPUSH_TEST_COSIGN");

	cr_assert(c != NULL && c[0] != '\0', "run the tests through tests/with-registries.sh "
		  "(REGPUSH_TEST_COSIGN: scripts/cosign.sh)");
	return c;
}

/* Runs argv with a bare environment plus extra (NULL or at most 4). */
static void
tool(struct proc *p, const char *const *argv, const char *const *extra)
{
	const char *envp[8] = { "PATH=/usr/bin:/bin", "HOME=/tmp" };
	size_t n = 2, i;

	for (i = 0; extra != NULL && extra[i] != NULL && n < 7; i++)
		envp[n++] = extra[i];
	envp[n] = NULL;
	run_prog(argv[0], argv, envp, p);
}

void
test_keypair(const char *dir, const char *name, char **key, char **pub)
{
	char *k, *pk;
	struct proc p;

	cr_assert(asprintf(&k, "%s/%s.pem", dir, name) > 0);
	cr_assert(asprintf(&pk, "%s/%s.pub", dir, name) > 0);
	{
		const char *a[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
				    "ec_paramgen_curve:P-256", "-out", k, NULL };
		tool(&p, a, NULL);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	{
		const char *a[] = { "openssl", "pkey", "-in", k, "-pubout", "-out", pk, NULL };
		tool(&p, a, NULL);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	*key = read_all(k);
	*pub = pk;
	unlink(k);
	free(k);
}

void
cosign_keypair(const char *dir, const char *name, const char *password, char **key, char **pub)
{
	char *prefix, *kp, *pw;
	struct proc p;

	cr_assert(asprintf(&prefix, "%s/%s", dir, name) > 0);
	cr_assert(asprintf(&pw, "COSIGN_PASSWORD=%s", password) > 0);
	{
		const char *a[] = { test_cosign(), "generate-key-pair", "--output-key-prefix", prefix,
				    NULL };
		const char *env[] = { pw, NULL };
		tool(&p, a, env);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	cr_assert(asprintf(&kp, "%s.key", prefix) > 0);
	cr_assert(asprintf(pub, "%s.pub", prefix) > 0);
	*key = read_all(kp);
	cr_assert_not_null(*key, "%s", kp);
	free(kp);
	free(pw);
	free(prefix);
}

int
cosign_verify(const char *pub, const char *ref, const char *const *claims)
{
	const char *argv[24] = { test_cosign(), "verify", "--key", pub, "--insecure-ignore-tlog",
				 "--allow-insecure-registry", "--allow-http-registry" };
	struct proc p;
	size_t a = 7, i;
	int st;

	for (i = 0; claims != NULL && claims[i] != NULL && a < 20; i++) {
		argv[a++] = "-a";
		argv[a++] = claims[i];
	}
	argv[a++] = ref;
	argv[a] = NULL;
	tool(&p, argv, NULL);
	st = p.status;
	if (st != 0)
		cr_log_info("cosign verify %s: %s", ref, p.err);
	proc_free(&p);
	return st;
}

int
cosign_sign(const char *key, const char *password, const char *ref, const char *const *flags)
{
	const char *argv[24] = { test_cosign(), "sign", "--key", key, "--tlog-upload=false", "--yes",
				 "--allow-insecure-registry", "--allow-http-registry" };
	char *pw;
	struct proc p;
	size_t a = 8, i;
	int st;

	cr_assert(asprintf(&pw, "COSIGN_PASSWORD=%s", password) > 0);
	for (i = 0; flags != NULL && flags[i] != NULL && a < 22; i++)
		argv[a++] = flags[i];
	argv[a++] = ref;
	argv[a] = NULL;
	{
		const char *env[] = { pw, NULL };
		tool(&p, argv, env);
	}
	st = p.status;
	if (st != 0)
		cr_log_info("cosign sign %s: %s", ref, p.err);
	proc_free(&p);
	free(pw);
	return st;
}
