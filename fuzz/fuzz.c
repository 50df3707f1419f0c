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
#include <unistd.h>

#include "ghctx.h"
#include "imgref.h"
#include "plan.h"
#include "policy.h"
#include "reg_int.h"
#include "semver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		char *slug = plan_slug(s);
		/* A slug is empty or within [a-z0-9._-]. */
		if (slug != NULL && slug[strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789._-")] != '\0')
			abort();
		free(slug);
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
#else
#error "define one FUZZ_<NAME>"
#endif
	free(s);
	return 0;
}
