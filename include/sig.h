/*
 * sig.h — SIGINT, SIGTERM and SIGHUP: the handler only records the signal;
 * every loop that can wait (a child, an HTTP transfer, a retry's sleep,
 * tag-list pagination) looks at sig_caught and gives up, the caller
 * cleans up (the private directory first), and main then dies of the
 * same signal in one place (sig_die).
 */
#ifndef RP_SIG_H
#define RP_SIG_H

#include <signal.h>

/* The signal number received, or 0. */
extern volatile sig_atomic_t sig_caught;

/* First thing in main: SIGPIPE ignored (writes report EPIPE), SIGCHLD
 * back to its default (an inherited ignore breaks waitpid). Children get
 * default dispositions again (child.c). */
void sig_init(void);
/* Installs the handlers (no SA_RESTART, so a wait returns EINTR). */
void sig_install(void);

/* "TERM", "INT", "KILL", ...; "?" for a number it does not know.
 * (sigabbrev_np is glibc-only.) */
const char *sig_name(int sig);

/* When a signal was caught: restores its default action and raises it,
 * so the process ends as "killed by" that signal. Returns otherwise. */
void sig_die(void);

/* Sleeps ms milliseconds in steps of at most 100 ms; -1 (early) when a
 * signal was caught, else 0. */
int sig_sleep_ms(long ms);

/* Sleeps until `until` on the monotonic clock (rp_mono_s), in steps of at
 * most 100 ms. Returns 0 when the time came, -1 at a caught signal, -2
 * at `deadline` when it is > 0 (before `until`). */
int sig_sleep_until(double until, double deadline);

#endif
