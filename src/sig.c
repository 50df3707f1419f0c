/*
 * sig.c — the interrupt flag and signal names (see sig.h).
 */
#include "sig.h"

#include <string.h>
#include <time.h>

#include "util.h"

volatile sig_atomic_t sig_caught;

static void
on_signal(int sig)
{
	sig_caught = sig;
}

void
sig_init(void)
{
	/* A closed pipe is an EPIPE every write already reports, not a
	 * death before the credentials are removed; an inherited SIGCHLD
	 * ignore would make the kernel reap the engines (waitpid: ECHILD). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
}

void
sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll() and nanosleep() return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

const char *
sig_name(int sig)
{
	static const struct { int n; const char *name; } names[] = {
		{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
		{ SIGILL, "ILL" }, { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" },
		{ SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" },
		{ SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
		{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
		{ SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" },
		{ SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" },
		{ SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" }, { SIGSYS, "SYS" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].n == sig)
			return names[i].name;
	return "?";
}

void
sig_die(void)
{
	int sig = sig_caught;

	if (sig == 0)
		return;
	signal(sig, SIG_DFL);
	raise(sig);
}

int
sig_sleep_until(double until, double deadline)
{
	for (;;) {
		double left = until - rp_mono_s();
		struct timespec ts;
		if (sig_caught)
			return -1;
		if (deadline > 0 && rp_mono_s() >= deadline)
			return -2;
		if (left <= 0)
			return 0;
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

int
sig_sleep_ms(long ms)
{
	return sig_sleep_until(rp_mono_s() + (double)ms / 1000, 0) == 0 ? 0 : -1;
}
