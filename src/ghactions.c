/*
 * ghactions.c — workflow commands and file commands.
 *
 * Escaping follows the runner's ActionCommand.cs: '%' first, then CR and
 * LF; properties also escape ':' and ','. File commands are built in
 * memory and appended with a single write; if that write fails the file
 * is cut back to its old length, so a reader never sees half a record.
 */
#include "ghactions.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* The runner's limit on outputs per job; nothing we write comes close. */
#define GHA_OUT_MAX (1024 * 1024)

static char *
escape(const char *s, int prop)
{
	struct sbuf sb;

	sbuf_init(&sb, 8 * RP_VALUE_MAX + 4 * strlen(s));
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '%': sbuf_puts(&sb, "%25"); break;
		case '\r': sbuf_puts(&sb, "%0D"); break;
		case '\n': sbuf_puts(&sb, "%0A"); break;
		case ':':
			if (prop) {
				sbuf_puts(&sb, "%3A");
				break;
			}
			sbuf_add(&sb, s, 1);
			break;
		case ',':
			if (prop) {
				sbuf_puts(&sb, "%2C");
				break;
			}
			/* FALLTHROUGH */
		default:
			sbuf_add(&sb, s, 1);
		}
	}
	return sbuf_take(&sb);
}

char *
gha_escape_data(const char *s)
{
	return escape(s, 0);
}

char *
gha_escape_prop(const char *s)
{
	return escape(s, 1);
}

int
gha_command(FILE *f, const char *cmd, const char *title, const char *msg)
{
	char *m = gha_escape_data(msg != NULL ? msg : "");
	char *t = title != NULL ? gha_escape_prop(title) : NULL;
	int rc;

	if (m == NULL || (title != NULL && t == NULL)) {
		free(m);
		free(t);
		return -1;
	}
	if (t != NULL)
		rc = fprintf(f, "::%s title=%s::%s\n", cmd, t, m);
	else
		rc = fprintf(f, "::%s::%s\n", cmd, m);
	free(m);
	free(t);
	if (rc < 0 || fflush(f) != 0)
		return -1;
	return 0;
}

void
gha_say(int actions, const char *cmd, const char *title, const char *msg)
{
	if (actions) {
		fflush(stdout);
		gha_command(stdout, cmd, title, msg);
	} else {
		fprintf(stderr, "regpush: %s\n", msg);
	}
}

int
gha_command_at(FILE *f, const char *cmd, const char *title, const char *file,
	       unsigned line, unsigned col, const char *msg)
{
	const char *ws = getenv("GITHUB_WORKSPACE");
	size_t n = ws != NULL ? strlen(ws) : 0;
	char *m, *t, *p;
	int rc;

	if (n > 0 && strncmp(file, ws, n) == 0 && file[n] == '/')
		file += n + 1;
	m = gha_escape_data(msg != NULL ? msg : "");
	t = gha_escape_prop(title);
	p = gha_escape_prop(file);
	if (m == NULL || t == NULL || p == NULL) {
		free(m);
		free(t);
		free(p);
		return -1;
	}
	rc = fprintf(f, "::%s title=%s,file=%s,line=%u,col=%u::%s\n", cmd, t, p, line, col, m);
	free(m);
	free(t);
	free(p);
	if (rc < 0 || fflush(f) != 0)
		return -1;
	return 0;
}

struct gha_out {
	struct sbuf sb;
};

struct gha_out *
gha_out_new(void)
{
	struct gha_out *o = calloc(1, sizeof(*o));

	if (o != NULL)
		sbuf_init(&o->sb, GHA_OUT_MAX);
	return o;
}

int
gha_delimiter(char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	size_t i, got = 0;
	ssize_t n;

	if (size < 13 + 32 + 1)
		return -1;
	while (got < sizeof(rnd)) {
		n = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	memcpy(buf, "ghadelimiter_", 13);
	for (i = 0; i < sizeof(rnd); i++) {
		buf[13 + 2 * i] = hex[rnd[i] >> 4];
		buf[13 + 2 * i + 1] = hex[rnd[i] & 15];
	}
	buf[13 + 32] = '\0';
	return 0;
}

int
gha_out_set(struct gha_out *o, const char *name, const char *value)
{
	char delim[64];
	int tries;

	if (strpbrk(value, "\r\n") == NULL)
		return sbuf_printf(&o->sb, "%s=%s\n", name, value);
	for (tries = 0; tries < 8; tries++) {
		if (gha_delimiter(delim, sizeof(delim)) != 0)
			return -1;
		if (strstr(value, delim) == NULL)
			break;
	}
	if (tries == 8)
		return -1;
	return sbuf_printf(&o->sb, "%s<<%s\n%s\n%s\n", name, delim, value, delim);
}

int
gha_out_raw(struct gha_out *o, const char *text)
{
	return sbuf_puts(&o->sb, text);
}

int
gha_out_printf(struct gha_out *o, const char *fmt, ...)
{
	char buf[RP_ERRMAX + 512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return sbuf_puts(&o->sb, buf);
}

char *
gha_out_take(struct gha_out *o)
{
	return o->sb.failed ? NULL : sbuf_take(&o->sb);
}

rp_status
gha_append(const char *path, const char *buf, size_t len, const char *what,
	   struct rp_err *err)
{
	struct stat st;
	int fd, e;
	char q[256];

	rp_quote(path, 200, q, sizeof(q));
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return rp_fail(err, RP_EREGISTRY, "cannot open %s %s: %s", what, q,
			       strerror(errno));
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		return rp_fail(err, RP_EREGISTRY, "cannot stat %s %s: %s", what, q,
			       strerror(e));
	}
	if ((e = rp_write_all(fd, buf, len)) != 0) {
		/* Take back what was written: no half record. */
		if (S_ISREG(st.st_mode) && ftruncate(fd, st.st_size) != 0)
			e = errno;
		close(fd);
		return rp_fail(err, RP_EREGISTRY, "cannot write %s %s: %s", what, q, strerror(e));
	}
	if (close(fd) != 0)
		return rp_fail(err, RP_EREGISTRY, "cannot write %s %s: %s", what, q,
			       strerror(errno));
	return RP_OK;
}

rp_status
gha_out_write(struct gha_out *o, const char *path, const char *what,
	      struct rp_err *err)
{
	if (o->sb.failed == 2)
		return rp_fail(err, RP_EREGISTRY, "%s: more than %d bytes to write (GitHub's "
			       "limit)", what, GHA_OUT_MAX);
	if (o->sb.failed)
		return rp_fail(err, RP_ENOMEM, "%s: out of memory", what);
	return gha_append(path, o->sb.buf != NULL ? o->sb.buf : "", o->sb.len, what, err);
}

void
gha_out_free(struct gha_out *o)
{
	if (o == NULL)
		return;
	sbuf_free(&o->sb);
	free(o);
}
