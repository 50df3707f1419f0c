/*
 * libFuzzer targets for regpush's parsers, one per build: compile with
 * -DFUZZ_<NAME> (see the Makefile's fuzz targets). Each target feeds the
 * input, as a NUL-terminated string or as bytes, to one parser and frees
 * what it returns; ASan/UBSan and libFuzzer catch the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ghctx.h"
#include "imgref.h"
#include "plan.h"
#include "policy.h"
#include "reg_int.h"
#include "semver.h"
#include "source.h"
#include "tagscheme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if defined(FUZZ_INDEX)
/* The OCI layout directory the index target writes into. */
static char dir[64], file[96];

static void
remove_dir(void)
{
	unlink(file);
	rmdir(dir);
}
#endif

/* The input as a C string (inputs with a NUL end there). */
static char *
cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = cstr(data, size);

	if (s == NULL)
		return 0;
#if defined(FUZZ_SEMVER)
	{
		struct semver a, b;
		if (semver_parse(s, 1, &a) == SEMVER_OK) {
			if (semver_parse(s, 1, &b) == SEMVER_OK) {
				if (semver_cmp(&a, &b) != 0)
					abort(); /* precedence must be reflexive */
				semver_free(&b);
			}
			semver_free(&a);
		}
	}
#elif defined(FUZZ_IMGREF)
	{
		struct imgref r;
		if (imgref_parse(s, &r) == IMGREF_OK)
			imgref_free(&r);
		if (imgref_parse_registry(s, &r) == IMGREF_OK)
			imgref_free(&r);
		(void)imgref_tag_valid(s);
		(void)imgref_digest_valid(s);
	}
#elif defined(FUZZ_SLUG)
	{
		char *slug = tagscheme_slug(s);
		/* A slug is empty or within [a-z0-9._-]. */
		if (slug != NULL && slug[strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789._-")] != '\0')
			abort();
		free(slug);
	}
#elif defined(FUZZ_TAGNAME)
	{
		/* Tags come from registries. What reads as a kind is made back
		 * into the same name: tagscheme's two directions agree. */
		static const enum tn_kind made[] = { TN_CANDIDATE, TN_RELEASE, TN_MINOR, TN_MAJOR,
						     TN_DEV_LATEST, TN_STAGING_LATEST, TN_LATEST };
		struct tn_name n;
		int k = tagscheme_read(NULL, s, &n);
		size_t i;
		for (i = 0; k >= 0 && i < sizeof(made) / sizeof(made[0]); i++) {
			char *t;
			if (k != (int)made[i])
				continue;
			t = tagscheme_version(made[i], &n.v);
			if (t != NULL && strcmp(t, s) != 0)
				abort();
			free(t);
		}
		if (k >= 0)
			tagscheme_name_free(&n);
	}
#elif defined(FUZZ_POLICY)
	{
		struct rp_err err;
		struct policy *pol = policy_default();
		if (pol != NULL) {
			(void)policy_load_string(pol, "fuzz.yaml", (const char *)data, size, &err);
			free(policy_dump(pol));
			policy_free(pol);
		}
	}
#elif defined(FUZZ_EVENT)
	{
		static char path[64];
		struct ghctx_event ev;
		struct rp_err err;
		FILE *f;
		if (path[0] == '\0')
			snprintf(path, sizeof(path), "/tmp/regpush-fuzz-event.%ld.json", (long)getpid());
		if ((f = fopen(path, "wb")) != NULL) {
			fwrite(data, 1, size, f);
			fclose(f);
			if (ghctx_read_event(path, &ev, &err) == RP_OK)
				ghctx_event_free(&ev);
			unlink(path);
		}
	}
#elif defined(FUZZ_CHALLENGE)
	{
		struct reg_challenge ch;
		(void)reg_parse_challenge(s, &ch);
	}
#elif defined(FUZZ_LINK)
	{
		char *next = reg_link_next(s);
		/* Only a path on the same host may come out. */
		if (next != NULL && strncmp(next, "/v2/", 4) != 0)
			abort();
		free(next);
	}
#elif defined(FUZZ_RETRY_AFTER)
	{
		long w = reg_retry_after(s, 1800000000L);
		if (w < -1 || w > 60)
			abort(); /* waits are capped at 60 s */
	}
#elif defined(FUZZ_TAGS) || defined(FUZZ_MANIFEST)
	{
		struct reg_client c;
		struct resp r;
		struct rp_err err;
		memset(&c, 0, sizeof(c));
		memset(&r, 0, sizeof(r));
		c.host = "registry.fuzz";
		r.status = 200;
		sbuf_init(&r.body, 64 << 20);
		sbuf_add(&r.body, data, size);
#if defined(FUZZ_TAGS)
		{
			json_t *seen = json_object();
			char **out = calloc(1, sizeof(*out));
			struct reg_page pg;
			size_t n = 0, cap = 1, i;
			if (seen != NULL && out != NULL &&
			    reg_page_tags(&c, &r, seen, &out, &n, &cap, &pg, "list tags", &err) == RP_OK) {
				if (pg.added > pg.listed || strlen(pg.last) > RP_TAG_MAX)
					abort();
				for (i = 0; i < n; i++)
					if (out[i] == NULL)
						abort(); /* n tags, each a string */
			}
			rp_strv_free(out);
			json_decref(seen);
		}
#else
		{
			struct reg_manifest m;
			/* The first byte picks the Content-Type: none (the
			 * document's mediaType decides) or a manifest type. */
			if (size > 0 && (data[0] & 1))
				snprintf(r.ctype, sizeof(r.ctype), "application/vnd.oci.image.manifest.v1+json");
			if (reg_manifest_from(&c, &r, "latest", "GET x:latest", &m, &err) == RP_OK) {
				if (m.len != size || memcmp(m.bytes, data, size) != 0)
					abort(); /* the exact bytes are kept */
				reg_manifest_free(&m);
			}
		}
#endif
		resp_free(&r);
	}
#elif defined(FUZZ_INDEX)
	{
		struct source_info info;
		struct rp_err err;
		char src[128];
		FILE *f;
		if (dir[0] == '\0') {
			snprintf(dir, sizeof(dir), "/tmp/regpush-fuzz-layout.%ld", (long)getpid());
			snprintf(file, sizeof(file), "%s/index.json", dir);
			(void)mkdir(dir, 0700);
			atexit(remove_dir);
		}
		if ((f = fopen(file, "wb")) != NULL) {
			fwrite(data, 1, size, f);
			fclose(f);
			snprintf(src, sizeof(src), "oci:%s", dir);
			(void)source_inspect(src, &info, &err);
			snprintf(src, sizeof(src), "oci:%s:one", dir);
			(void)source_inspect(src, &info, &err);
			unlink(file);
		}
	}
#else
#error "define one FUZZ_<NAME>"
#endif
	free(s);
	return 0;
}
