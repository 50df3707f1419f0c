/*
 * util.c — shared helpers: error records, the bounded buffer, quoting of
 * untrusted values for logs, SHA-256 (OpenSSL's EVP), whole-file reads.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

/* err's message and place (file NULL: none). */
static rp_status vfail(struct rp_err *err, rp_status status, const char *file, unsigned line,
		       unsigned col, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static rp_status
vfail(struct rp_err *err, rp_status status, const char *file, unsigned line, unsigned col,
      const char *fmt, va_list ap)
{
	if (err != NULL) {
		err->status = status;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		snprintf(err->file, sizeof(err->file), "%s", file != NULL ? file : "");
		err->line = line;
		err->col = col;
	}
	return status;
}

rp_status
rp_fail(struct rp_err *err, rp_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, status, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return status;
}

rp_status
rp_fail_at(struct rp_err *err, rp_status status, const char *file, unsigned line,
	   unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, status, file, line, col, fmt, ap);
	va_end(ap);
	return status;
}

static int names_inputs;

void
rp_names_inputs(int on)
{
	names_inputs = on;
}

static const char *
name_form(const char *name, int boolean)
{
	static char bufs[4][96];
	static unsigned next;
	char *b = bufs[next++ % 4];

	/* The one option whose input is named otherwise. */
	if (names_inputs && strcmp(name, "insecure-registry") == 0)
		name = "insecure-registries";
	if (!names_inputs)
		snprintf(b, sizeof(bufs[0]), "--%s", name);
	else if (boolean)
		snprintf(b, sizeof(bufs[0]), "%s: true", name);
	else
		snprintf(b, sizeof(bufs[0]), "input %s", name);
	return b;
}

const char *
rp_flag(const char *name)
{
	return name_form(name, 0);
}

const char *
rp_flag_on(const char *name)
{
	return name_form(name, 1);
}

void
sbuf_init(struct sbuf *sb, size_t max)
{
	memset(sb, 0, sizeof(*sb));
	sb->max = max;
}

int
sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	size_t need, ncap;
	char *nb;

	if (sb->failed)
		return -1;
	if (len > sb->max || sb->len > sb->max - len) {
		sb->failed = 2; /* over the cap, not out of memory */
		return -1;
	}
	need = sb->len + len + 1;
	if (need > sb->cap) {
		ncap = sb->cap ? sb->cap : 64;
		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(sb->buf, ncap)) == NULL) {
			sb->failed = 1;
			return -1;
		}
		sb->buf = nb;
		sb->cap = ncap;
	}
	if (len > 0)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
sbuf_puts(struct sbuf *sb, const char *s)
{
	return sbuf_add(sb, s, strlen(s));
}

int
sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char small[512], *big;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = 1;
		return -1;
	}
	if ((size_t)n < sizeof(small))
		return sbuf_add(sb, small, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL) {
		sb->failed = 1;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	n = sbuf_add(sb, big, (size_t)n);
	free(big);
	return n;
}

char *
sbuf_take(struct sbuf *sb)
{
	char *s;

	if (sb->failed) {
		sbuf_free(sb);
		return NULL;
	}
	s = sb->buf != NULL ? sb->buf : rp_strdup("");
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
sbuf_free(struct sbuf *sb)
{
	if (sb == NULL)
		return;
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

char *
rp_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

char *
rp_strndup(const char *s, size_t n)
{
	return strndup(s, n);
}

char *
rp_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

const char *
rp_quote(const char *s, size_t max, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t o = 0, shown = 0;

	if (outsz == 0)
		return out;
	if (s == NULL)
		s = "(null)";
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		/* Leave room for a 4-byte escape, "..." and the NUL. */
		if (shown >= max || o + 8 > outsz) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
		shown++;
	}
	out[o] = '\0';
	return out;
}

int
rp_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

int
rp_sha256_digest(const void *data, size_t len, char out[RP_DIGEST_MAX])
{
	char hex[65];

	if (rp_sha256_hex(data, len, hex) != 0)
		return -1;
	snprintf(out, RP_DIGEST_MAX, "sha256:%s", hex);
	return 0;
}

rp_status
rp_read_file(const char *path, const char *what, size_t max, char **out,
	     size_t *lenp, struct rp_err *err)
{
	char q[256];
	struct stat st;
	struct sbuf sb;
	char chunk[8192];
	ssize_t n;
	int fd;

	*out = NULL;
	rp_quote(path, 200, q, sizeof(q));
	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return rp_fail(err, RP_EINPUT, "cannot open %s %s: %s", what,
			       q, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return rp_fail(err, RP_EINPUT,
			       "%s %s is not a regular file", what, q);
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		return rp_fail(err, RP_EINPUT,
			       "%s %s is too large (%jd bytes; at most %zu)",
			       what, q, (intmax_t)st.st_size, max);
	}
	sbuf_init(&sb, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			sbuf_free(&sb);
			return rp_fail(err, RP_EINPUT, "cannot read %s %s: %s",
				       what, q, strerror(e));
		}
		if (n == 0)
			break;
		if (sbuf_add(&sb, chunk, (size_t)n) != 0) {
			int big = sb.len + (size_t)n > max;
			close(fd);
			sbuf_free(&sb);
			if (!big)
				return rp_fail(err, RP_ENOMEM, "out of memory reading %s", q);
			return rp_fail(err, RP_EINPUT,
				       "%s %s is too large (at most %zu bytes)",
				       what, q, max);
		}
	}
	close(fd);
	if (lenp != NULL)
		*lenp = sb.len;
	if ((*out = sbuf_take(&sb)) == NULL)
		return rp_fail(err, RP_ENOMEM, "out of memory reading %s", q);
	return RP_OK;
}

int
rp_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void
rp_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

size_t
rp_strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

int
rp_write_all(int fd, const void *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, (const char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		off += (size_t)n;
	}
	return 0;
}

char *
rp_base64(const void *data, size_t n)
{
	char *b64 = malloc(4 * ((n + 2) / 3) + 1);

	if (b64 != NULL)
		EVP_EncodeBlock((unsigned char *)b64, data, (int)n);
	return b64;
}

char *
rp_basic_auth(const char *user, const char *password)
{
	char *raw = rp_asprintf("%s:%s", user, password), *b64;

	if (raw == NULL)
		return NULL;
	b64 = rp_base64(raw, strlen(raw));
	explicit_bzero(raw, strlen(raw));
	free(raw);
	return b64;
}

long
rp_backoff_ms(long base, int attempt)
{
	long ms = base;

	while (attempt-- > 0 && ms < 30000)
		ms *= 2;
	return ms > 30000 ? 30000 : ms;
}

double
rp_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
rp_thread_start(struct rp_thread *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;

	t->running = 0;
	if (pthread_attr_init(&attr) != 0)
		return 0;
	sigfillset(&all);
	if (pthread_attr_setstacksize(&attr, (size_t)1 << 20) == 0 &&
	    pthread_sigmask(SIG_SETMASK, &all, &old) == 0) {
		t->running = pthread_create(&t->id, &attr, fn, arg) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	return t->running;
}

void
rp_thread_join(struct rp_thread *t)
{
	if (t->running)
		pthread_join(t->id, NULL);
	t->running = 0;
}

int
rp_strv_has(char *const *v, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int
rp_strv_push(char ***v, const char *s)
{
	size_t n = rp_strv_len(*v);
	char **nv, *c;

	if ((c = rp_strdup(s)) == NULL)
		return -1;
	if ((nv = realloc(*v, (n + 2) * sizeof(*nv))) == NULL) {
		free(c);
		return -1;
	}
	nv[n] = c;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

char *
rp_json_dumps(const void *j, unsigned long flags)
{
	char *text = json_dumps(j, flags);
	json_t *back;
	int same;

	if (text == NULL)
		return NULL;
	back = json_loads(text, 0, NULL);
	same = back != NULL && json_equal((json_t *)j, back);
	json_decref(back);
	if (!same) {
		explicit_bzero(text, strlen(text));
		free(text);
		return NULL;
	}
	return text;
}

/* The run's secrets. The signing thread's registry client adds the
 * tokens it learns while the main thread scrubs a child's output: the
 * list is locked. */
static char **secrets;
static size_t nsecrets;
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;

static int
secret_add_locked(const char *s)
{
	char **nv, *c;
	size_t i, k;

	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], s) == 0)
			return 0;
	if ((nv = realloc(secrets, (nsecrets + 2) * sizeof(*nv))) == NULL)
		return -1;
	secrets = nv;
	if ((c = strdup(s)) == NULL)
		return -1;
	/* Longest first, so a secret inside a longer form goes with it. */
	for (k = nsecrets; k > 0 && strlen(secrets[k - 1]) < strlen(c); k--)
		secrets[k] = secrets[k - 1];
	secrets[k] = c;
	secrets[++nsecrets] = NULL;
	return 0;
}

int
rp_secret_add(const char *s)
{
	int rc;

	if (s == NULL || *s == '\0')
		return 0;
	pthread_mutex_lock(&secrets_lock);
	rc = secret_add_locked(s);
	pthread_mutex_unlock(&secrets_lock);
	return rc;
}

void
rp_scrub(char *s)
{
	size_t i, n, k;
	char *p, *hit;

	pthread_mutex_lock(&secrets_lock);
	for (i = 0; s != NULL && i < nsecrets; i++) {
		n = strlen(secrets[i]);
		k = n < 3 ? n : 3;
		for (p = s; (hit = strstr(p, secrets[i])) != NULL; p = hit + k) {
			memset(hit, '*', k);
			memmove(hit + k, hit + n, strlen(hit + n) + 1);
		}
	}
	pthread_mutex_unlock(&secrets_lock);
}

void
rp_secrets_free(void)
{
	size_t i;

	for (i = 0; i < nsecrets; i++) {
		explicit_bzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

int
rp_strset_add(struct rp_strset *s, const char *x)
{
	char **nv;

	if (s->seen == NULL && (s->seen = json_object()) == NULL)
		return -1;
	if (json_object_get(s->seen, x) != NULL)
		return 0;
	if ((nv = realloc(s->v, (s->n + 2) * sizeof(*nv))) == NULL)
		return -1;
	s->v = nv;
	s->v[s->n] = NULL; /* terminated whatever fails next */
	if ((s->v[s->n] = rp_strdup(x)) == NULL)
		return -1;
	if (json_object_set_new(s->seen, x, json_true()) != 0) {
		free(s->v[s->n]);
		s->v[s->n] = NULL;
		return -1;
	}
	s->v[++s->n] = NULL;
	return 0;
}

void
rp_strset_free(struct rp_strset *s)
{
	rp_strv_free(s->v);
	json_decref(s->seen);
	memset(s, 0, sizeof(*s));
}
