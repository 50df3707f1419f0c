/* helpers.h — running build/regpush as the runner would, and temp files. */
#ifndef RP_TEST_HELPERS_H
#define RP_TEST_HELPERS_H

#include <stddef.h>

struct proc {
	int status;   /* exit code, or 128+signal */
	char *out;    /* stdout, NUL-terminated */
	char *err;    /* stderr */
};

/* Runs the binary named by REGPUSH_BIN with argv (argv[0] ignored) and
 * exactly the environment envp (NULL-terminated "K=V"). PATH is added
 * when envp has none. Aborts the test on a spawn failure. */
void run_regpush(const char *const *argv, const char *const *envp,
		 struct proc *p);
/* Runs any program (found on PATH) the same way; argv[0] is kept. */
void run_prog(const char *bin, const char *const *argv, const char *const *envp,
	      struct proc *p);
void proc_free(struct proc *p);

/* The same, started in the background: wait_bg collects it. */
struct bg {
	int pid;
	int ofd, efd;
};
void start_regpush(const char *const *argv, const char *const *envp, struct bg *b);
void start_prog(const char *bin, const char *const *argv, const char *const *envp,
		struct bg *b);
void wait_bg(struct bg *b, struct proc *p);

/* A fresh private temp directory for the test; removed by rm_rf. */
char *tmpdir_new(void);
void rm_rf(const char *path);

/* An end-to-end test's private directory and, inside it, the TMPDIR it
 * hands regpush (mode 0700); e2e_dirs_free removes both and frees the
 * paths. */
void e2e_dirs_new(char **dir, char **tmpd);
void e2e_dirs_free(char **dir, char **tmpd);

/* An end-to-end file's private directories, dir and tmpd (TMPDIR for the
 * binary): made by setup and removed by teardown, Criterion's .init and
 * .fini of its tests. */
#define E2E_DIRS_FIXTURE \
	static char *dir, *tmpd; \
	static void setup(void) { e2e_dirs_new(&dir, &tmpd); } \
	static void teardown(void) { e2e_dirs_free(&dir, &tmpd); }

/* Runs tests/forge.py with args (NULL-terminated, at most 9); returns
 * the digest it printed (caller frees). */
char *forge(const char *const *args);

/* Writes a file; returns its path "dir/name" (caller frees). */
char *write_file(const char *dir, const char *name, const char *content);
/* Reads a file whole (caller frees); NULL if it does not exist. */
char *read_all(const char *path);

/* Replaces every "ghadelimiter_<32 hex>" in s with "EOF" (in place):
 * the delimiters are random; tests compare the rest byte for byte and
 * check the delimiter's form here. Returns how many were replaced, or -1
 * when one is malformed. */
int normalise_delimiters(char *s);

/* Checks (cr_expect) that directory dir is empty: nothing left behind. */
void expect_dir_empty(const char *dir);

/* How many times needle occurs in the file at path (0 if it is absent). */
int count_lines(const char *path, const char *needle);
/* In a proxy log (tests/fakes.py: "METHOD PATH STATUS t=ARRIVAL
 * d=SECONDS ..."), the first line holding needle: its arrival (end 0)
 * or when its answer went out (end 1), Unix time; -1 when none. */
double log_time(const char *path, const char *needle, int end);

/* "oci-archive:<REGPUSH_TEST_IMAGES>/<name>" (caller frees). */
char *archive(const char *name);

/* Signing (issue 20), with Debian trixie's cosign 2.5 as the oracle. */
const char *test_cosign(void); /* REGPUSH_TEST_COSIGN, asserted set */
/* An openssl P-256 key pair: *key the PKCS#8 PEM text, *pub the public
 * key's path in dir (both freed by the caller). */
void test_keypair(const char *dir, const char *name, char **key, char **pub);
/* cosign generate-key-pair: *key the text of dir/name.key (cosign's own
 * encrypted format, with password), *pub the path of dir/name.pub. */
void cosign_keypair(const char *dir, const char *name, const char *password, char **key,
		    char **pub);
/* cosign verify --key pub of ref with -a claims (NULL or at most 6): its
 * exit status (the reason is logged). */
int cosign_verify(const char *pub, const char *ref, const char *const *claims);
/* cosign sign --key key (a path) of ref, with extra flags: its status. */
int cosign_sign(const char *key, const char *password, const char *ref, const char *const *flags);

/* CLOCK_MONOTONIC in seconds. */
double mono_now(void);

#define SHA40 "0123456789abcdef0123456789abcdef01234567"

#endif
