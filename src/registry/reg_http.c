/*
 * reg_http.c — HTTP for the registry client: one exchange on a curl
 * handle, the one retry driver every request goes through, the
 * concurrent multi transfer, and the CA bundle.
 *
 * Every transfer can be stopped: libcurl's progress callback aborts it
 * when a signal has arrived (sig.h) or the client's deadline has passed,
 * and the backoff sleep wakes up for the same reasons, so SIGTERM ends a
 * run within about a second even in the middle of a slow answer.
 */
#include "reg_int.h"

#include <errno.h>
#include <glob.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sig.h"

static size_t
on_body(char *d, size_t sz, size_t n, void *u)
{
	struct resp *r = u;

	if (sbuf_add(&r->body, d, sz * n) != 0) {
		if (r->body.len + sz * n > r->body.max)
			r->too_big = 1;
		else
			r->nomem = 1;
		return 0; /* aborts the transfer */
	}
	return sz * n;
}

/* The value of a header line, trimmed; -1 when it does not fit. */
static int
header_value(char *dst, size_t size, const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= size)
		return -1;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

static size_t
on_header(char *d, size_t sz, size_t n, void *u)
{
	struct resp *r = u;
	size_t len = sz * n;
	static const struct { const char *name; size_t off, size; } hs[] = {
		{ "content-type:", offsetof(struct resp, ctype), sizeof(((struct resp *)0)->ctype) },
		{ "docker-content-digest:", offsetof(struct resp, digest), sizeof(((struct resp *)0)->digest) },
		{ "www-authenticate:", offsetof(struct resp, www), sizeof(((struct resp *)0)->www) },
		{ "link:", offsetof(struct resp, link), sizeof(((struct resp *)0)->link) },
		{ "retry-after:", offsetof(struct resp, retry_after), sizeof(((struct resp *)0)->retry_after) },
	};
	size_t i, hl;

	/* A new status line (after a redirect or 100) starts over. */
	if (len > 5 && strncmp(d, "HTTP/", 5) == 0) {
		r->ctype[0] = r->digest[0] = r->www[0] = r->link[0] = '\0';
		r->retry_after[0] = '\0';
		free(r->location);
		r->location = NULL;
		return len;
	}
	if (len > 9 && strncasecmp(d, "location:", 9) == 0) {
		char *v = malloc(REG_LOCATION_MAX);
		free(r->location);
		r->location = NULL;
		if (v == NULL) {
			r->nomem = 1;
			return 0;
		}
		if (header_value(v, REG_LOCATION_MAX, d + 9, len - 9) != 0) {
			free(v);
			r->long_header = "Location";
			return 0; /* aborts the transfer */
		}
		r->location = v;
		return len;
	}
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		hl = strlen(hs[i].name);
		if (len > hl && strncasecmp(d, hs[i].name, hl) == 0) {
			/* Cut, a value would mean something else: refused. */
			if (header_value((char *)r + hs[i].off, hs[i].size, d + hl, len - hl) != 0) {
				r->long_header = hs[i].name;
				return 0;
			}
			break;
		}
	}
	return len;
}

/* Called by libcurl at least once a second, also while it waits. */
static int
on_progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct resp *r = u;

	(void)dt; (void)dn; (void)ut; (void)un;
	if (sig_caught) {
		r->interrupted = 1;
		return 1;
	}
	return 0;
}

void
resp_reset(struct resp *r, size_t max)
{
	sbuf_free(&r->body);
	free(r->location);
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->body, max);
}

void
resp_free(struct resp *r)
{
	sbuf_free(&r->body);
	free(r->location);
	r->location = NULL;
}

/* Milliseconds a transfer may take: the per-request timeout, cut to what
 * is left before the client's deadline (at least 1). */
static long
timeout_ms(const struct reg_client *c)
{
	long ms = c->timeout_s * 1000;

	if (c->deadline > 0) {
		double left = (c->deadline - rp_mono_s()) * 1000;
		if (left < (double)ms)
			ms = left < 1 ? 1 : (long)left;
	}
	return ms;
}

/* Sets up handle h for one request whose answer goes to r. Returns the
 * first option libcurl refused: only copying a string can fail, so that
 * is CURLE_OUT_OF_MEMORY. */
static CURLcode
setup_handle(struct reg_client *c, CURL *h, const char *method, const char *url,
	     struct curl_slist *hdrs, const void *body, size_t len, struct resp *r,
	     int verify)
{
	/* setopt copies the struct; the PEM stays owned by the client. */
	struct curl_blob ca = { c->ca_blob, c->ca_len, CURL_BLOB_NOCOPY };
	long ms = timeout_ms(c);
	CURLcode cc = CURLE_OK, e;

#define SET(opt, val) do { if ((e = curl_easy_setopt(h, opt, val)) != CURLE_OK && cc == CURLE_OK) cc = e; } while (0)
	c->requests++;
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_CONNECTTIMEOUT_MS, ms < 10000 ? ms : 10000L);
	SET(CURLOPT_TIMEOUT_MS, ms);
	/* HTTP/1.1 with every registry, in every build: the static curl has no
	 * HTTP/2, so the tested (dynamic) build must not speak it either. */
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_USERAGENT, "regpush/" RP_VERSION);
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, r);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, r);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_HTTPHEADER, hdrs);
	/* Manifests, tag lists and tokens are answered directly; a redirect
	 * is not followed (it could lead to plain HTTP or another host). */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	if (c->ca_blob != NULL && c->ca_len > 0)
		SET(CURLOPT_CAINFO_BLOB, &ca);
	else if (c->ca_file != NULL)
		SET(CURLOPT_CAINFO, c->ca_file);
	if (!verify) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		SET(CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
			SET(CURLOPT_POSTFIELDS, body != NULL ? body : "");
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
	}
#undef SET
	return cc;
}

static int
retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

/* Sleeps ms, waking early for a signal or the deadline. Returns 0, or -1
 * when it woke for one of those. */
static int
sleep_ms(const struct reg_client *c, long ms, struct resp *r)
{
	int woke = sig_sleep_until(rp_mono_s() + (double)ms / 1000, c->deadline);

	if (woke == -1)
		r->interrupted = 1;
	if (woke == -2)
		r->past_deadline = 1;
	return woke == 0 ? 0 : -1;
}

void
reg_limit(struct reg_client *c, double seconds)
{
	double t = rp_mono_s() + seconds;

	if (c->deadline == 0 || c->deadline > t)
		c->deadline = t;
}

rp_status
reg_pause(struct reg_client *c, long ms, struct rp_err *err)
{
	struct resp r;

	memset(&r, 0, sizeof(r));
	if (sleep_ms(c, ms, &r) == 0)
		return RP_OK;
	if (r.interrupted)
		return rp_fail(err, RP_EREGISTRY, "interrupted by SIG%s (waiting on registry %s)",
			       sig_name(sig_caught), c->host);
	return rp_fail(err, RP_EREGISTRY, "registry %s: past the deadline", c->host);
}

long
reg_wait_ms(const struct reg_client *c, CURLcode cc, const struct resp *r, int attempt)
{
	long ra;

	if (cc != CURLE_OK ? !retryable(cc) : !(r->status == 429 || r->status >= 500))
		return -1;
	ra = cc == CURLE_OK ? reg_retry_after(r->retry_after, (long)time(NULL)) : -1;
	return ra >= 0 ? ra * 1000 : rp_backoff_ms(c->retry_base_ms, attempt);
}

CURLcode
reg_exchange(struct reg_client *c, const char *method, const char *url,
	     struct curl_slist *hdrs, const void *body, size_t len, size_t max,
	     int verify, struct resp *r, int *attempts)
{
	CURLcode cc;
	long wait;
	int attempt;

	for (attempt = 1;; attempt++) {
		resp_reset(r, max);
		*attempts = attempt;
		if (sig_caught) {
			r->interrupted = 1;
			return CURLE_ABORTED_BY_CALLBACK;
		}
		if (c->deadline > 0 && rp_mono_s() >= c->deadline) {
			r->past_deadline = 1;
			return CURLE_OPERATION_TIMEDOUT;
		}
		curl_easy_reset(c->curl);
		if ((cc = setup_handle(c, c->curl, method, url, hdrs, body, len, r, verify)) != CURLE_OK)
			return cc;
		cc = curl_easy_perform(c->curl);
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->interrupted || r->too_big || r->nomem || r->long_header != NULL)
			return r->nomem ? CURLE_OUT_OF_MEMORY : cc;
		if (c->deadline > 0 && cc == CURLE_OPERATION_TIMEDOUT && rp_mono_s() >= c->deadline) {
			r->past_deadline = 1;
			return cc;
		}
		if (attempt >= c->max_attempts)
			return cc;
		if ((wait = reg_wait_ms(c, cc, r, attempt - 1)) < 0)
			return cc;
		if (sleep_ms(c, wait, r) != 0)
			return r->interrupted ? CURLE_ABORTED_BY_CALLBACK : CURLE_OPERATION_TIMEDOUT;
	}
}

rp_status
reg_fail_exchange(const struct reg_client *c, CURLcode cc, const struct resp *r,
		  const char *what, int attempts, size_t max, struct rp_err *err)
{
	if (r->interrupted)
		return rp_fail(err, RP_EREGISTRY, "interrupted by SIG%s (%s on registry %s)",
			       sig_name(sig_caught), what, c->host);
	if (r->past_deadline)
		return rp_fail(err, RP_EREGISTRY,
			       "registry %s (%s): gave up, the registry answered too slowly "
			       "(time limit reached)", c->host, what);
	if (r->too_big)
		return rp_fail(err, RP_EREGISTRY,
			       "registry %s: the answer to %s is larger than %zu bytes",
			       c->host, what, max);
	if (r->long_header != NULL)
		return rp_fail(err, RP_EREGISTRY, "registry %s: the %.*s header of the answer to %s "
			       "is too long to keep (an answer is refused, never cut)", c->host,
			       (int)strcspn(r->long_header, ":"), r->long_header, what);
	if (cc == CURLE_OUT_OF_MEMORY)
		return rp_fail(err, RP_ENOMEM, "out of memory (%s on registry %s)", what, c->host);
	return rp_fail(err, RP_EREGISTRY, "cannot reach registry %s (%s): %s%s", c->host, what,
		       r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc),
		       attempts > 1 ? " (after retries)" : "");
}

rp_status
reg_multi(struct reg_client *c, const char *method, const char *const *methods,
	  char *const *urls, size_t n, struct curl_slist *hdrs, const void *body, size_t len, size_t max,
	  struct resp *rs, struct rp_err *err)
{
	CURL **hs;
	CURLMsg *msg;
	size_t i;
	int running = 0;
	rp_status st = RP_OK;

	if (n > c->multi_max)
		c->multi_max = (unsigned)n;
	if ((hs = calloc(n, sizeof(*hs))) == NULL ||
	    (c->multi == NULL && (c->multi = curl_multi_init()) == NULL)) {
		free(hs);
		return rp_fail(err, RP_ENOMEM, "out of memory");
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	for (i = 0; i < n; i++) {
		resp_reset(&rs[i], max);
		if ((hs[i] = curl_easy_init()) == NULL) {
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
		if (setup_handle(c, hs[i], methods != NULL ? methods[i] : method, urls[i], hdrs, body, len, &rs[i], !c->insecure) != CURLE_OK ||
		    curl_easy_setopt(hs[i], CURLOPT_PRIVATE, (void *)(uintptr_t)i) != CURLE_OK ||
		    curl_multi_add_handle(c->multi, hs[i]) != CURLM_OK) {
			curl_easy_cleanup(hs[i]);
			hs[i] = NULL;
			st = rp_fail(err, RP_ENOMEM, "out of memory");
			goto out;
		}
	}
	do {
		if (sig_caught) {
			st = rp_fail(err, RP_EREGISTRY, "interrupted by SIG%s (%s on registry %s)",
				     sig_name(sig_caught), method, c->host);
			goto out;
		}
		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(c->multi, NULL, 0, 200, NULL);
	} while (running > 0);
	while ((msg = curl_multi_info_read(c->multi, &running)) != NULL) {
		void *priv = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		i = (size_t)(uintptr_t)priv;
		if (i < n && msg->data.result == CURLE_OK)
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &rs[i].status);
	}
out:
	for (i = 0; i < n; i++) {
		if (hs[i] != NULL) {
			curl_multi_remove_handle(c->multi, hs[i]);
			curl_easy_cleanup(hs[i]);
		}
	}
	free(hs);
	return st;
}

int
reg_host_insecure(const struct reg_client *c, const char *hostport)
{
	return rp_strv_has(c->insecure_hosts, hostport);
}

/* Appends one PEM file to the CA blob; a missing file is skipped. */
static void
add_pem(struct sbuf *sb, const char *path)
{
	char *text;
	size_t len;
	struct rp_err ignored;

	if (rp_read_file(path, "CA file", 16 << 20, &text, &len, &ignored) != RP_OK)
		return;
	sbuf_add(sb, text, len);
	sbuf_puts(sb, "\n");
	free(text);
}

/* Where CA bundles live on the usual distributions (Debian/Ubuntu/Alpine,
 * Fedora/RHEL, openSUSE, the RHEL extracted store, BSD-style). */
static const char *const ca_paths[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
};

/*
 * The trusted CAs, the containers way: SSL_CERT_FILE, else libcurl's
 * built-in bundle or the first of ca_paths that exists, plus *.crt from
 * the cert dir (or /etc/containers/certs.d/<host>/). The binary finds
 * them itself: a static build has no distribution's idea of where they
 * are. With no extra certificate, libcurl is just pointed at the bundle
 * file, so it can cache the parsed store across connections; only when
 * there are extras is everything concatenated into one in-memory PEM
 * blob. Neither a bundle nor an extra: *missing says which files were
 * tried (the caller fails only when TLS must be verified).
 */
int
reg_build_ca(struct reg_client *c, const char *cert_dir, char *missing, size_t size)
{
	struct sbuf sb;
	const char *bundle = getenv("SSL_CERT_FILE");
	char *dir = NULL, *pattern = NULL, *def = NULL;
	glob_t g;
	size_t i;
	int rc = 0;

	missing[0] = '\0';
	if (rp_given(bundle)) {
		if (access(bundle, R_OK) != 0)
			snprintf(missing, size, "SSL_CERT_FILE=%s", bundle);
	} else {
		bundle = NULL;
		if (curl_easy_getinfo(c->curl, CURLINFO_CAINFO, &def) == CURLE_OK && def != NULL &&
		    access(def, R_OK) == 0)
			bundle = def;
		for (i = 0; bundle == NULL && i < sizeof(ca_paths) / sizeof(ca_paths[0]); i++)
			if (access(ca_paths[i], R_OK) == 0)
				bundle = ca_paths[i];
		if (bundle == NULL) {
			struct sbuf tried;
			char *t;
			sbuf_init(&tried, 4096);
			sbuf_puts(&tried, "SSL_CERT_FILE (not set)");
			for (i = 0; i < sizeof(ca_paths) / sizeof(ca_paths[0]); i++)
				sbuf_printf(&tried, ", %s", ca_paths[i]);
			if ((t = sbuf_take(&tried)) != NULL)
				snprintf(missing, size, "%s", t);
			free(t);
		}
	}
	if (bundle != NULL && missing[0] == '\0' && (c->ca_file = rp_strdup(bundle)) == NULL)
		return -1;
	dir = cert_dir != NULL ? rp_strdup(cert_dir) :
	    rp_asprintf("/etc/containers/certs.d/%s", c->host);
	if (dir == NULL || (pattern = rp_asprintf("%s/*.crt", dir)) == NULL) {
		rc = -1;
	} else if (glob(pattern, 0, NULL, &g) == 0) {
		sbuf_init(&sb, 64 << 20);
		if (c->ca_file != NULL)
			add_pem(&sb, c->ca_file);
		for (i = 0; i < g.gl_pathc; i++)
			add_pem(&sb, g.gl_pathv[i]);
		globfree(&g);
		c->ca_len = sb.len;
		if ((c->ca_blob = sbuf_take(&sb)) == NULL)
			rc = -1;
	}
	free(dir);
	free(pattern);
	return rc;
}
