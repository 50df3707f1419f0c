/*
 * End to end: signals and children (issue 17, findings 3, 4 and 14) — a
 * closed stdout, an inherited SIGCHLD ignore, what an engine's children
 * do to the pipes, and the dispositions an engine starts with.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "testreg.h"

E2E_DIRS_FIXTURE

/* A skopeo first on PATH that runs `prelude` (sh) before the real one
 * when it is asked to copy to docker://; returns the PATH entry. */
static char *
spy(const char *prelude)
{
	char *d, *body, path[4200];

	cr_assert(asprintf(&d, "%s/spybin", dir) > 0);
	mkdir(d, 0755);
	cr_assert(asprintf(&body, "#!/bin/sh\ncase \"$1:$*\" in\n  copy:*docker://*) %s;;\nesac\n"
			   "exec /usr/bin/skopeo \"$@\"\n", prelude) > 0);
	free(write_file(d, "skopeo", body));
	snprintf(path, sizeof(path), "%s/skopeo", d);
	chmod(path, 0755);
	free(body);
	return d;
}

/* Starts regpush push of one.tar to the plain registry as `service`
 * (dev account set, so an auth file is written) with PATH starting at
 * spydir (or the system's); stdout to out_fd; started with SIGCHLD (1)
 * and/or SIGPIPE (2) ignored. Returns the pid. */
static const char *push_extra[3]; /* more environment for start_push */

static pid_t
start_push(const char *service, const char *spydir, int out_fd, int ignore_chld)
{
	struct treg r = treg_plain();
	char *img = archive("one.tar"), path[4300], tmpenv[600], dev[300];
	char *argv[] = { "regpush", "push", "--json", "--source", img, "--ref", "refs/heads/main",
			 "--sha", SHA40, "--service", (char *)service, "--dev-registry", dev,
			 "--insecure-registry", (char *)r.host, NULL };
	char *envp[] = { path, tmpenv, "HOME=/root", "REGPUSH_DEV_USERNAME=robot",
			 "REGPUSH_DEV_PASSWORD=pipe-secret", (char *)push_extra[0],
			 (char *)push_extra[1], NULL };
	pid_t pid;

	snprintf(path, sizeof(path), "PATH=%s%s/usr/local/bin:/usr/bin:/bin",
		 spydir != NULL ? spydir : "", spydir != NULL ? ":" : "");
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(dev, sizeof(dev), "%s/dev", r.host);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (ignore_chld & 1)
			signal(SIGCHLD, SIG_IGN);
		if (ignore_chld & 2)
			signal(SIGPIPE, SIG_IGN);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		dup2(null, 2);
		execve(getenv("REGPUSH_BIN"), argv, envp);
		_exit(127);
	}
	free(img);
	return pid;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How many processes run `sleep <secs>` (what a spy left behind). */
static int
sleepers(const char *secs)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], buf[200], want[64];
	int n = 0;

	snprintf(want, sizeof(want), "sleep%c%s", '\0', secs);
	while (d != NULL && (e = readdir(d)) != NULL) {
		FILE *f;
		size_t len;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (len >= strlen(secs) + 6 && memcmp(buf, want, strlen(secs) + 6) == 0)
			n++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/* Finding 3: `regpush push --json | head -c0` — the reader gone before
 * the report. regpush sees EPIPE (exit 1, said on stderr), is not killed
 * by SIGPIPE, and leaves no credentials behind. */
Test(signals, closed_stdout_is_epipe_not_death, .init = setup, .fini = teardown, .timeout = 120)
{
	int fds[2], ws;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	close(fds[0]);
	pid = start_push("sig-pipe", NULL, fds[1], 0);
	close(fds[1]);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 1,
		  "exit 1 (cannot write to standard output), not death by SIGPIPE: status %d", ws);
	expect_dir_empty(tmpd);
}

/* Finding 3: the engine starts with default dispositions, whatever
 * regpush ignores (SIGPIPE) or inherited. */
Test(signals, engine_starts_with_default_dispositions, .init = setup, .fini = teardown, .timeout = 120)
{
	char prelude[1200], *spyd, *got, logp[600];
	unsigned long long ign = ~0ULL;
	int ws;
	pid_t pid;

	snprintf(logp, sizeof(logp), "%s/sigign", dir);
	snprintf(prelude, sizeof(prelude), "sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status > %s", logp);
	spyd = spy(prelude);
	/* Started with SIGPIPE ignored, as a parent may leave it. */
	pid = start_push("sig-dispositions", spyd, -1, 2);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "status %d", ws);
	got = read_all(logp);
	cr_assert_not_null(got, "the spy ran");
	ign = strtoull(got, NULL, 16);
	cr_expect_eq(ign & (1ULL << (SIGPIPE - 1)), 0, "SIGPIPE is not ignored in the engine: SigIgn %s", got);
	free(got);
	free(spyd);
}

/* Finding 4: started with SIGCHLD ignored (as some CI wrappers do), a
 * push still works: the kernel does not reap the engine behind
 * regpush's back. */
Test(signals, inherited_sigchld_ignore, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *tags;
	int ws;
	pid_t pid;

	pid = start_push("sig-chld", NULL, -1, 1);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "status %d", ws);
	tags = treg_tags(r, "dev/sig-chld");
	cr_expect_str_eq(tags, "dev-0123456");
	free(tags);
	expect_dir_empty(tmpd);
}

/* Finding 14: an engine whose own child keeps the pipes open. SIGTERM to
 * regpush ends the run within seconds (the engine's process group is
 * stopped), and nothing the engine started is left running. */
Test(signals, sigterm_stops_the_engines_children, .init = setup, .fini = teardown, .timeout = 120)
{
	char *spyd = spy("sleep 37 & exec sleep 38"), logp[600], *log = NULL;
	double t0;
	int ws, i;
	pid_t pid;

	(void)logp;
	pid = start_push("sig-group", spyd, -1, 0);
	for (i = 0; i < 300 && sleepers("38") == 0; i++)
		usleep(100000);
	cr_assert_lt(i, 300, "the engine started");
	t0 = now_s();
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_expect_lt(now_s() - t0, 8.0, "regpush ended within seconds of SIGTERM (%.1f s)", now_s() - t0);
	cr_expect(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM, "status %d", ws);
	usleep(200000);
	cr_expect_eq(sleepers("37"), 0, "the engine's child was stopped with it");
	cr_expect_eq(sleepers("38"), 0);
	expect_dir_empty(tmpd);
	free(log);
	free(spyd);
}

/* SIGTERM during a signed push whose signing runs on threads (cosign's
 * key decrypting, the signature going up beside the upload): regpush
 * still dies of SIGTERM within seconds, its engine stopped, its private
 * directory removed, and no tag written. */
Test(signals, sigterm_during_a_signed_upload, .init = setup, .fini = teardown, .timeout = 120)
{
	char *spyd = spy("exec sleep 39"), *prefix, *kp, *key, *keyenv, *tags;
	double t0;
	int ws, i;
	pid_t pid;
	struct proc p;

	cr_assert(asprintf(&prefix, "%s/ck", dir) > 0);
	{
		const char *c = getenv("REGPUSH_TEST_COSIGN");
		const char *a[] = { c, "generate-key-pair", "--output-key-prefix", prefix, NULL };
		const char *envp[] = { "PATH=/usr/bin:/bin", "HOME=/tmp", "COSIGN_PASSWORD=pw", NULL };
		cr_assert(c != NULL, "run through tests/with-registries.sh");
		run_prog(c, a, envp, &p);
		cr_assert_eq(p.status, 0, "%s", p.err);
		proc_free(&p);
	}
	cr_assert(asprintf(&kp, "%s.key", prefix) > 0);
	key = read_all(kp);
	cr_assert(asprintf(&keyenv, "REGPUSH_SIGNING_KEY=%s", key) > 0);
	push_extra[0] = keyenv;
	push_extra[1] = "REGPUSH_SIGNING_KEY_PASSPHRASE=pw";
	pid = start_push("sig-signed", spyd, -1, 0);
	push_extra[0] = push_extra[1] = NULL;
	for (i = 0; i < 300 && sleepers("39") == 0; i++)
		usleep(100000);
	cr_assert_lt(i, 300, "the engine started");
	t0 = now_s();
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_expect_lt(now_s() - t0, 8.0, "regpush ended within seconds of SIGTERM (%.1f s)", now_s() - t0);
	cr_expect(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM, "status %d", ws);
	usleep(200000);
	cr_expect_eq(sleepers("39"), 0, "the engine was stopped");
	expect_dir_empty(tmpd);
	tags = treg_tags(treg_plain(), "dev/sig-signed");
	cr_expect(tags == NULL || strstr(tags, "dev-") == NULL, "no tag: %s", tags);
	free(tags);
	free(keyenv);
	free(key);
	free(kp);
	free(prefix);
	free(spyd);
}

/* Finding 14: an engine that exits 0 but leaves a child holding the
 * pipes: regpush reads on for a grace period, not until that child ends. */
Test(signals, an_engine_that_leaves_a_child_behind, .init = setup, .fini = teardown, .timeout = 120)
{
	struct treg r = treg_plain();
	char *spyd = spy("(sleep 39 &)"), *tags;
	double t0 = now_s();
	int ws;
	pid_t pid;

	pid = start_push("sig-leftover", spyd, -1, 0);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "status %d", ws);
	cr_expect_lt(now_s() - t0, 25.0, "done in %.1f s, not after the 39 s child", now_s() - t0);
	tags = treg_tags(r, "dev/sig-leftover");
	cr_expect_str_eq(tags, "dev-0123456");
	free(tags);
	cr_expect_eq(sleepers("39"), 0, "the child left behind was stopped");
	free(spyd);
}

/* Finding 12: HTTP/1.1 with every registry, in every build (the static
 * curl has no HTTP/2): a TLS server offering h2 and http/1.1 sees only
 * http/1.1 negotiated. */
Test(signals, http_1_1_in_every_build, .init = setup, .fini = teardown, .timeout = 120)
{
	char *root = strdup(getenv("REGPUSH_TEST_CA_DIR")), cert[700], key[700], portf[700], logp[700];
	char dev[300], cafile[700], tmpenv[700], *port = NULL, *log;
	const char *srv[] = { "python3", "tests/alpn-server.py", cert, key, portf, logp, NULL };
	const char *envp0[] = { NULL };
	char *img = archive("one.tar");
	const char *argv[] = { "regpush", "push", "--dry-run", "--source", img, "--ref", "refs/heads/main",
			       "--sha", SHA40, "--service", "alpn", "--dev-registry", dev, NULL };
	const char *envp[] = { cafile, tmpenv, "HOME=/root", NULL };
	struct bg b;
	struct proc p;
	int i;

	*strrchr(root, '/') = '\0';
	snprintf(cert, sizeof(cert), "%s/certs/server.crt", root);
	snprintf(key, sizeof(key), "%s/certs/server.key", root);
	snprintf(portf, sizeof(portf), "%s/port", dir);
	snprintf(logp, sizeof(logp), "%s/alpn.log", dir);
	snprintf(cafile, sizeof(cafile), "SSL_CERT_FILE=%s/ca/ca.crt", root);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	start_prog("python3", srv, envp0, &b);
	for (i = 0; i < 100 && (port = read_all(portf)) == NULL; i++)
		usleep(100000);
	cr_assert_not_null(port, "the TLS server started");
	snprintf(dev, sizeof(dev), "127.0.0.1:%s/x", port);
	run_regpush(argv, envp, &p);
	cr_expect_neq(p.status, 0, "the server answers 404 to everything");
	proc_free(&p);
	kill(b.pid, SIGTERM);
	wait_bg(&b, &p);
	proc_free(&p);
	log = read_all(logp);
	cr_assert_not_null(log, "regpush connected");
	cr_expect(strstr(log, "http/1.1\n") != NULL && strstr(log, "h2") == NULL, "negotiated: %s", log);
	free(log);
	free(port);
	free(img);
	free(root);
}

/* Issue 17, finding 11: an engine (standing in for a registry that
 * reflects credentials into skopeo's error) prints the password as given,
 * Go-escaped, and base64 of user:password and of the password. None of
 * them reaches regpush's output, on the command line or in Actions (there
 * only inside ::add-mask:: lines). */
Test(signals, engine_output_is_scrubbed, .init = setup, .fini = teardown, .timeout = 120)
{
	static const char pw[] = "pa\\ss\"w0rd";
	static const char *const forms[] = {
		"pa\\ss\"w0rd", "pa\\\\ss\\\"w0rd", "cm9ib3Q6cGFcc3MidzByZA==", "cGFcc3MidzByZA==",
	};
	struct treg r = treg_plain();
	char *spyd, *img = archive("one.tar"), path[4300], tmpenv[600], dev[300], pwenv[100];
	char *argv[] = { "regpush", "push", "--source", img, "--ref", "refs/heads/main", "--sha", SHA40,
			 "--service", "sig-scrub", "--dev-registry", dev, "--insecure-registry",
			 (char *)r.host, NULL };
	const char *envp[] = { path, tmpenv, "HOME=/root", "REGPUSH_DEV_USERNAME=robot", pwenv, NULL, NULL };
	struct proc p;
	size_t i, k;

	{
		/* The reflection, in a file of its own (no quoting through sh). */
		char prelude[900], *py;
		py = write_file(dir, "reflect.py",
				"import base64, json, sys\n"
				"a = [x for x in sys.argv[1:] if x.startswith('--authfile=')][0][11:]\n"
				"au = list(json.load(open(a))['auths'].values())[0]['auth']\n"
				"u, p = base64.b64decode(au).decode().split(':', 1)\n"
				"q = p.replace('\\\\', '\\\\\\\\').replace('\"', '\\\\\"')\n"
				"print('Copying blob for', p, file=sys.stderr)\n"
				"print('time=\"x\" level=fatal msg=\"denied: ' + q + ' ' + au + ' ' +\n"
				"      base64.b64encode(p.encode()).decode() + '\"', file=sys.stderr)\n"
				"sys.exit(1)\n");
		snprintf(prelude, sizeof(prelude), "python3 %s \"$@\"; exit 1", py);
		spyd = spy(prelude);
		free(py);
	}
	snprintf(path, sizeof(path), "PATH=%s:/usr/local/bin:/usr/bin:/bin", spyd);
	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s", tmpd);
	snprintf(dev, sizeof(dev), "%s/dev", r.host);
	snprintf(pwenv, sizeof(pwenv), "REGPUSH_DEV_PASSWORD=%s", pw);
	for (k = 0; k < 2; k++) {
		envp[5] = k == 1 ? "GITHUB_ACTIONS=true" : NULL;
		run_regpush((const char *const *)argv, envp, &p);
		cr_expect_eq(p.status, 1, "%s%s", p.out, p.err);
		cr_expect(strstr(p.err, "Copying blob") != NULL || strstr(p.out, "Copying blob") != NULL,
			  "the spy's lines were printed: %s%s", p.out, p.err);
		for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
			char *line;
			cr_expect(strstr(p.err, forms[i]) == NULL, "form %zu on stderr: %s", i, p.err);
			for (line = p.out; line != NULL && *line != '\0'; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
				size_t n = strcspn(line, "\n");
				char save = line[n];
				line[n] = '\0';
				if (strncmp(line, "::add-mask::", 12) != 0)
					cr_expect(strstr(line, forms[i]) == NULL, "form %zu on stdout: %s", i, line);
				line[n] = save;
			}
		}
		proc_free(&p);
	}
	expect_dir_empty(tmpd);
	free(spyd);
	free(img);
}
