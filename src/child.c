/*
 * child.c — the child-process runner.
 *
 * Children get an argv built by the caller and never a shell. Output is
 * read through pipes with poll() so that a child that fills its pipe never
 * deadlocks and a timeout can be enforced; on timeout or interruption the
 * child gets SIGTERM, then SIGKILL two seconds later. Secrets never reach a
 * child: the password variables are removed from its environment, and the
 * callers pass credentials only through a private auth file.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sig.h"

extern char **environ;

static int
is_secret_var(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t n = eq != NULL ? (size_t)(eq - kv) : strlen(kv);

	if (strncmp(kv, "REGPUSH_", 8) != 0 && strncmp(kv, "INPUT_", 6) != 0)
		return 0;
	/* Passwords, passphrases and the signing key. */
	return (n >= 8 && strncmp(kv + n - 8, "PASSWORD", 8) == 0) ||
	       (n >= 10 && strncmp(kv + n - 10, "PASSPHRASE", 10) == 0) ||
	       (n == 19 && strncmp(kv, "REGPUSH_SIGNING_KEY", 19) == 0) ||
	       (n == 17 && strncmp(kv, "INPUT_SIGNING-KEY", 17) == 0);
}

static char **
child_env(void)
{
	size_t n = 0, i, o = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (!is_secret_var(environ[i]))
			env[o++] = environ[i];
	env[o] = NULL;
	return env;
}

/* The command line for logs: argv joined by spaces, each word quoted. */
static char *
cmdline(char *const argv[])
{
	struct sbuf sb;
	char q[1200];
	size_t i;

	sbuf_init(&sb, 64 * 1024);
	for (i = 0; argv[i] != NULL; i++) {
		sbuf_puts(&sb, i ? " " : "");
		sbuf_puts(&sb, rp_quote(argv[i], 1000, q, sizeof(q)));
	}
	return sbuf_take(&sb);
}

/* On the command line, a failed child's stderr (in Actions its output
 * was shown as it came). */
static void
print_failed(const struct child *c)
{
	rp_scrub(c->err);
	fputs(c->err, stderr);
}

/* Prints the complete lines of pend (scrubbed of the run's secrets) and
 * keeps the rest; with `all`, the rest too. A line over 64 KiB is printed
 * in pieces. Returns 1 when the last byte printed ended a line. */
static int
stream_lines(struct sbuf *pend, int all, int nl)
{
	char *start, *end;
	size_t n;

	if (pend->buf == NULL)
		return nl;
	start = pend->buf;
	while ((end = memchr(start, '\n', pend->len - (size_t)(start - pend->buf))) != NULL ||
	       (all && start < pend->buf + pend->len) ||
	       pend->len - (size_t)(start - pend->buf) > 65536) {
		char saved;
		n = end != NULL ? (size_t)(end - start) + 1 : pend->len - (size_t)(start - pend->buf);
		if (end == NULL && n > 65536)
			n = 65536;
		saved = start[n];
		start[n] = '\0';
		rp_scrub(start);
		fputs(start, stdout);
		if (start[0] != '\0')
			nl = start[strlen(start) - 1] == '\n';
		start[n] = saved;
		start += n;
	}
	n = pend->len - (size_t)(start - pend->buf);
	memmove(pend->buf, start, n);
	pend->len = n;
	pend->buf[n] = '\0';
	fflush(stdout);
	return nl;
}

rp_status
child_run(char *const argv[], int timeout, const struct child_log *log,
	   struct child *c, struct rp_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t all, none;
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, ws, rc, killed = 0, stream = 0, nl = 1;
	int exited = 0;
	double drain_until = 0;
	struct sbuf out, errb, pend;
	char **env = NULL, *title = NULL, q[200];
	double deadline, kill_at = 0;
	struct pollfd pfd[2];
	pid_t pid = -1;
	rp_status st = RP_OK;

	memset(c, 0, sizeof(*c));
	sbuf_init(&out, CHILD_OUTPUT_MAX);
	sbuf_init(&errb, CHILD_OUTPUT_MAX);
	sbuf_init(&pend, 1 << 20);
	title = cmdline(argv);
	if (title == NULL || (env = child_env()) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (!log->quiet && log->show == NULL)
		fprintf(stderr, "+ %s\n", title);
	/* Shown as it happens (in Actions: the engine's progress). */
	if (!log->quiet && log->show != NULL) {
		fflush(stdout);
		stream = log->show->begin(log->show->ctx, title) == 0;
		fflush(stdout);
	}
	if (pipe2(op, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
		st = rp_fail(err, RP_EREGISTRY, "pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	/* The engine starts with every signal at its default action and none
	 * blocked (an inherited SIGPIPE ignore, or ours, is not its), in a
	 * process group of its own, so that a stop reaches whatever it
	 * started too. */
	posix_spawnattr_init(&sa);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&sa, &all);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(&pid, argv[0], &fa, &sa, argv, env);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	if (rc != 0) {
		pid = -1;
		st = rp_fail(err, RP_EREGISTRY, "cannot run %s: %s (is it on PATH?)",
			     rp_quote(argv[0], 100, q, sizeof(q)), strerror(rc));
		goto out;
	}
	deadline = rp_mono_s() + (timeout > 0 ? timeout : CHILD_TIMEOUT_DEFAULT);
	while (op[0] >= 0 || ep[0] >= 0) {
		double now = rp_mono_s();
		int wait_ms, i;
		siginfo_t si;

		/* Exited (not reaped yet: its pid, and so its group's id,
		 * cannot be reused while it is a zombie)? Then what it started
		 * may still hold the pipes: read for a grace period, no more. */
		if (!exited) {
			int wr;
			memset(&si, 0, sizeof(si));
			wr = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
			if (wr == 0 && si.si_pid == pid) {
				exited = 1;
				drain_until = now + 2;
			} else if (wr < 0 && errno == ECHILD) {
				/* Reaped by someone else: never signal that pid. */
				st = rp_fail(err, RP_EREGISTRY, "waitpid: %s", strerror(errno));
				pid = -1;
				break;
			}
		}
		if (exited && now >= drain_until)
			break;
		if (!exited && !killed && (sig_caught || now >= deadline)) {
			c->timed_out = !sig_caught;
			kill(-pid, SIGTERM);
			killed = 1;
			kill_at = now + 2;
		}
		if (!exited && killed == 1 && now >= kill_at) {
			kill(-pid, SIGKILL);
			killed = 2;
		}
		wait_ms = killed || exited ? 100 : (int)((deadline - now) * 1000) + 1;
		if (wait_ms > 200)
			wait_ms = 200;
		pfd[0].fd = op[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = ep[0];
		pfd[1].events = POLLIN;
		rc = poll(pfd, 2, wait_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			st = rp_fail(err, RP_EREGISTRY, "poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
			break;
		}
		for (i = 0; i < 2; i++) {
			char buf[16384];
			ssize_t n;
			int *fd = i == 0 ? &op[0] : &ep[0];
			struct sbuf *sb = i == 0 ? &out : &errb;

			if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				continue;
			}
			/* Shown line by line, each scrubbed of the secrets. */
			if (stream && sbuf_add(&pend, buf, (size_t)n) == 0)
				nl = stream_lines(&pend, 0, nl);
			/* Past the cap, keep draining but stop storing. */
			if (!sb->failed)
				sbuf_add(sb, buf, (size_t)n);
		}
	}
	if (stream) {
		nl = stream_lines(&pend, 1, nl);
		log->show->end(log->show->ctx, nl);
		fflush(stdout);
		stream = 0;
	}
	if (pid < 0)
		goto out;
	/* Stopped reading with the pipes still open: what the engine left
	 * behind goes with its group (the leader is not reaped yet). */
	if (op[0] >= 0 || ep[0] >= 0)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			st = rp_fail(err, RP_EREGISTRY, "waitpid: %s", strerror(errno));
			pid = -1;
			goto out;
		}
	}
	pid = -1;
	c->exited = WIFEXITED(ws);
	c->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 0;
	c->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
	out.failed = errb.failed = 0; /* a truncated log is still a log */
	if ((c->out = sbuf_take(&out)) == NULL || (c->err = sbuf_take(&errb)) == NULL) {
		st = rp_fail(err, RP_ENOMEM, "out of memory");
		goto out;
	}
	if (st == RP_OK && sig_caught)
		st = rp_fail(err, RP_EREGISTRY, "interrupted by SIG%s; %s was stopped",
			     sig_name(sig_caught),
			     rp_quote(argv[0], 60, q, sizeof(q)));
	/* Quiet children (reads) are explained by the caller's message. */
	if (st == RP_OK && !log->quiet && log->show == NULL && !child_ok(c))
		print_failed(c);
out:
	if (stream) {
		nl = stream_lines(&pend, 1, nl);
		log->show->end(log->show->ctx, nl);
		fflush(stdout);
	}
	/* Still ours (not reaped): its group goes, then it is reaped. */
	if (pid > 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	sbuf_free(&out);
	sbuf_free(&errb);
	sbuf_free(&pend);
	free(env);
	free(title);
	if (st != RP_OK)
		child_free(c);
	return st;
}

int
child_ok(const struct child *c)
{
	return c->exited && c->status == 0 && !c->timed_out;
}

const char *
child_describe(const struct child *c, char *buf, size_t size)
{
	const char *abbr = sig_name(c->signal);

	if (c->timed_out)
		snprintf(buf, size, "timed out and was killed (SIG%s)",
			 abbr);
	else if (c->exited)
		snprintf(buf, size, "exited with status %d", c->status);
	else
		snprintf(buf, size, "was killed by signal SIG%s (%d)",
			 abbr, c->signal);
	return buf;
}

/* One line of engine output made readable: skopeo's and buildah's
 * logrus wrapping (time="..." level=fatal msg="text") undone. */
static void
clean_line(const char *start, size_t n, char *line, size_t size)
{
	const char *msg;

	if (n >= size)
		n = size - 1;
	memcpy(line, start, n);
	line[n] = '\0';
	if ((msg = strstr(line, "msg=\"")) != NULL) {
		char *close;
		msg += 5;
		memmove(line, msg, strlen(msg) + 1);
		if ((close = strrchr(line, '"')) != NULL)
			*close = '\0';
		/* Undo logrus quoting: \" is a quote, \n separates lines. */
		for (char *p = line; *p; p++) {
			if (p[0] == '\\' && p[1] == '"') {
				memmove(p, p + 1, strlen(p));
			} else if (p[0] == '\\' && p[1] == 'n') {
				p[0] = ';';
				p[1] = ' ';
			}
		}
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == ';'))
			line[--n] = '\0';
	}
}

const char *
child_last_line(const char *s, char *buf, size_t size)
{
	const char *end, *start;
	char line[2048];

	buf[0] = '\0';
	if (s == NULL)
		return buf;
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	clean_line(start, (size_t)(end - start), line, sizeof(line));
	return rp_quote(line, 600, buf, size);
}

/* An error-level line: logrus' level=error / level=fatal, or the
 * "Error: " that buildah and skopeo's cobra front end print. */
static int
is_error_line(const char *s, size_t n)
{
	return (n >= 7 && strncmp(s, "Error: ", 7) == 0) || (n >= 6 && strncmp(s, "error ", 6) == 0) ||
	       memmem(s, n, "level=error", 11) != NULL || memmem(s, n, "level=fatal", 11) != NULL;
}

const char *
child_error_lines(const char *s, char *buf, size_t size)
{
	const char *p, *nl;
	char line[2048], q[700], joined[1400];
	size_t used = 0, n;
	int found = 0;

	joined[0] = '\0';
	for (p = s != NULL ? s : ""; *p != '\0' && found < 3; p = nl + (*nl != '\0')) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		n = (size_t)(nl - p);
		if (!is_error_line(p, n))
			continue;
		clean_line(p, n, line, sizeof(line));
		rp_quote(line, 400, q, sizeof(q));
		/* The same error said twice (skopeo's retries) once. */
		if (q[0] == '\0' || strstr(joined, q) != NULL)
			continue;
		n = (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%s", found ? "; " : "", q);
		if (n >= sizeof(joined) - used)
			break;
		used += n;
		found++;
	}
	if (found == 0)
		return child_last_line(s, buf, size);
	snprintf(buf, size, "%s", joined);
	return buf;
}

void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}
