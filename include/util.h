/*
 * util.h — the small pieces every module shares: the exit-status enum, the
 * error record that carries one message up to main, a bounded growing
 * string buffer, and string helpers.
 *
 * Errors: a function that can fail returns an rp_status and, when it is not
 * RP_OK, has written a one-line message into the caller's struct rp_err.
 * The status is the process exit code (CONTRACT §6), so main turns an error
 * into text and an exit in exactly one place.
 */
#ifndef RP_UTIL_H
#define RP_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef enum rp_status {
	RP_OK = 0,
	RP_EREGISTRY = 1, /* a registry or engine failure */
	RP_EINPUT = 2,    /* invalid input, usage or policy file */
	RP_EREFUSED = 3,  /* refused by policy */
} rp_status;

/* Running out of memory is a failure to complete, not bad input. */
#define RP_ENOMEM RP_EREGISTRY

#define RP_ERRMAX 2048

struct rp_err {
	rp_status status;
	char msg[RP_ERRMAX];
	/* Where a policy-file error is (line 0: not a file error); rp_fail
	 * clears it, rp_fail_at sets it. */
	char file[256];
	unsigned line, col;
};

/* Records status and a printf-style message in err (err may be NULL);
 * returns status so callers can write `return rp_fail(err, ...)`. */
rp_status rp_fail(struct rp_err *err, rp_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As rp_fail, and records the file position (1-based) of the error, so
 * that the runner's annotation points at it. */
rp_status rp_fail_at(struct rp_err *err, rp_status status, const char *file,
		     unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * How a message names an option: "--allow-backwards" on the command line,
 * "allow-backwards: true" (a boolean) or "input from" (a value) in action
 * mode, where the user writes inputs, not flags. rp_names_inputs(1) once
 * in main selects the second form. Each call returns one of a few static
 * buffers (at most four names per message).
 */
void rp_names_inputs(int on);
const char *rp_flag(const char *name);      /* a value option */
const char *rp_flag_on(const char *name);   /* a boolean option, set */

/*
 * The run's secrets (passwords and the forms they take in other programs'
 * output), kept so that every engine line is scrubbed before it is
 * printed. rp_secret_add copies s (ignoring an empty or known one);
 * rp_scrub replaces each occurrence in s, longest secret first, with
 * "***" (or as many '*' as a shorter secret has), in place, scanning
 * forward, so it ends whatever the secret is. rp_secrets_free wipes them.
 */
int rp_secret_add(const char *s);
void rp_scrub(char *s);
void rp_secrets_free(void);

/* A vector of distinct strings (a json object keeps them unique): v is
 * NULL-terminated whatever fails. rp_strset_add returns 0 (added or
 * already there) or -1 (out of memory: the set unchanged). */
struct rp_strset {
	void *seen; /* json_t */
	char **v;
	size_t n;
};
int rp_strset_add(struct rp_strset *s, const char *x);
void rp_strset_free(struct rp_strset *s);

/* Room for "sha256:" + 64 hex digits (or a longer algorithm's) + NUL. */
#define RP_DIGEST_MAX 80

/* Largest value accepted from any flag, input or environment variable. */
#define RP_VALUE_MAX 4096

/*
 * A growing byte buffer with a hard maximum. Appends past the maximum or
 * past available memory fail and leave the buffer as it was; the buffer
 * then remembers the failure (sb.failed) so a chain of appends can be
 * checked once at the end.
 */
struct sbuf {
	char *buf;   /* NUL-terminated, owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;  /* the content never exceeds this many bytes */
	int failed;  /* 1: out of memory; 2: over max */
};

void sbuf_init(struct sbuf *sb, size_t max);
int sbuf_add(struct sbuf *sb, const void *data, size_t len);
int sbuf_puts(struct sbuf *sb, const char *s);
int sbuf_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (who frees it) and empties the buffer.
 * Returns an empty allocated string for an empty buffer, NULL on failure. */
char *sbuf_take(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);

/* malloc-or-die wrappers are not used: every allocation failure is
 * reported. These return NULL on allocation failure. */
char *rp_strdup(const char *s);
char *rp_strndup(const char *s, size_t n);
char *rp_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Renders untrusted bytes for a log line or an error message: printable
 * ASCII is kept, everything else (newlines, control bytes, invalid or any
 * non-ASCII UTF-8) becomes \xNN, and the result is cut at about `max` bytes
 * with "..." appended. A value shown this way can never start a new log
 * line, so it cannot inject a workflow command. Writes into out (size
 * outsz, always NUL-terminated) and returns out.
 */
const char *rp_quote(const char *s, size_t max, char *out, size_t outsz);

/* Lowercase hex SHA-256 of data into out (65 bytes). Returns 0 or -1. */
int rp_sha256_hex(const void *data, size_t len, char out[65]);
/* The same as a digest, "sha256:<hex>". Returns 0, or -1 on failure. */
int rp_sha256_digest(const void *data, size_t len, char out[RP_DIGEST_MAX]);

/* Reads a whole regular file of at most max bytes. Returns 0 and an owned
 * NUL-terminated buffer in *out (length in *lenp), or fills err with
 * status RP_EINPUT and a message naming `what` and the path. */
rp_status rp_read_file(const char *path, const char *what, size_t max,
		       char **out, size_t *lenp, struct rp_err *err);

/* Parses a whole decimal string into [min, max]. Returns 0 or -1. */
int rp_parse_long(const char *s, long min, long max, long *out);


/* True for a string that is non-NULL and non-empty. */
static inline int rp_given(const char *s) { return s != NULL && s[0] != '\0'; }

/* json_dumps, checked: the text must parse back to an equal value.
 * jansson 2.14 can, when an allocation inside the dump fails, emit an
 * empty object key instead of failing; this turns that into NULL (out of
 * memory). j is a json_t *; caller frees the result. */
char *rp_json_dumps(const void *j, unsigned long flags);

/* getenv, with an empty value counted as unset (CONTRACT §1). */
static inline const char *
rp_getenv(const char *name)
{
	const char *v = getenv(name);

	return rp_given(v) ? v : NULL;
}

/* Writes all len bytes to fd, again after EINTR. Returns 0, or the errno
 * of the failure (EIO when write wrote nothing). */
int rp_write_all(int fd, const void *buf, size_t len);

/* base64 of n bytes (malloc'd, NUL-terminated), or NULL. */
char *rp_base64(const void *data, size_t n);
/* base64 of "user:password", the Basic credential (the plain text is
 * wiped); the caller wipes and frees it. NULL when out of memory. */
char *rp_basic_auth(const char *user, const char *password);

/* The wait before retry attempt+1: base, 2*base, 4*base, ... (attempt 0,
 * 1, 2, ...), at most 30 s. */
long rp_backoff_ms(long base, int attempt);

/* Seconds on the monotonic clock (for durations and deadlines). */
double rp_mono_s(void);

/* Starts fn(arg) on a thread (*t, to be joined) with a 1 MiB stack and
 * every signal blocked, so SIGINT/SIGTERM/SIGHUP always reach the main
 * thread and interrupt its waits (sig.h; a helper thread sees sig_caught
 * within 100 ms). 1: started, 0: not (the caller does the work itself). */
struct rp_thread { pthread_t id; int running; };
int rp_thread_start(struct rp_thread *t, void *(*fn)(void *), void *arg);
/* Joins a started thread; nothing when none runs. */
void rp_thread_join(struct rp_thread *t);

/* Frees every element of a NULL-terminated string vector, then the vector. */
void rp_strv_free(char **v);
/* Number of elements of a NULL-terminated vector (NULL counts as 0). */
size_t rp_strv_len(char *const *v);
/* 1 when s (not NULL) is an element of v (NULL-terminated, or NULL). */
int rp_strv_has(char *const *v, const char *s);
/* Appends an owned copy of s to *v (NULL-terminated). Returns 0 or -1. */
int rp_strv_push(char ***v, const char *s);

#endif
