/* Image references (distribution grammar), tags, slugs and tag fitting. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "imgref.h"
#include "plan.h"
#include "tagscheme.h"
#include "util.h"

#define F64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static const struct {
	const char *in;
	imgref_err want;
	const char *domain, *path, *tag, *digest;
} ref_rows[] = {
	{ "test:5000/repo:tag@sha256:" F64, IMGREF_OK, "test:5000", "repo", "tag", "sha256:" F64 },
	{ "test.com:5000", IMGREF_OK, NULL, "test.com", "5000", NULL },
	{ "lowercase:Uppercase", IMGREF_OK, NULL, "lowercase", "Uppercase", NULL },
	{ "sub-dom1.foo.com/bar/baz/quux:some-long-tag", IMGREF_OK, "sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", NULL },
	{ "b.gcr.io/test.example.com/my-app:test.example.com", IMGREF_OK, "b.gcr.io", "test.example.com/my-app", "test.example.com", NULL },
	{ "xn--n3h.com/myimage:xn--n3h.com", IMGREF_OK, "xn--n3h.com", "myimage", "xn--n3h.com", NULL },
	{ "[2001:db8::1]:5000/repo", IMGREF_OK, "[2001:db8::1]:5000", "repo", NULL, NULL },
	{ "do__cker/docker", IMGREF_OK, NULL, "do__cker/docker", NULL, NULL },
	{ "foo_bar.com:8080", IMGREF_OK, NULL, "foo_bar.com", "8080", NULL },
	{ "localhost/app", IMGREF_OK, "localhost", "app", NULL, NULL },
	{ "127.0.0.1:5000/org/gateway:v1.2.3", IMGREF_OK, "127.0.0.1:5000", "org/gateway", "v1.2.3", NULL },
	{ "quay.io/kubernaut/gateway", IMGREF_OK, "quay.io", "kubernaut/gateway", NULL, NULL },
	{ "a---b/c", IMGREF_OK, NULL, "a---b/c", NULL, NULL },
	{ "", IMGREF_EMPTY, NULL, NULL, NULL, NULL },
	{ ":justtag", IMGREF_PATH, NULL, NULL, NULL, NULL },
	{ "Uppercase:tag", IMGREF_UPPERCASE, NULL, NULL, NULL, NULL },
	{ "test:5000/Uppercase/lowercase:tag", IMGREF_UPPERCASE, NULL, NULL, NULL, NULL },
	{ "aa/asdf$$^/aa", IMGREF_PATH, NULL, NULL, NULL, NULL },
	{ "repo@sha256:ffffffffffffffffffffffffffffffffff", IMGREF_DIGEST, NULL, NULL, NULL, NULL },
	{ "[2001:db8::1]:5000", IMGREF_PATH, NULL, NULL, NULL, NULL },
	{ "a//a/a", IMGREF_PATH, NULL, NULL, NULL, NULL },
	{ "foo/bar-", IMGREF_PATH, NULL, NULL, NULL, NULL },
	{ "_foo/bar", IMGREF_PATH, NULL, NULL, NULL, NULL },
	{ "do..cker/docker", IMGREF_DOMAIN, NULL, NULL, NULL, NULL },
	{ "a___b/c", IMGREF_PATH, NULL, NULL, NULL, NULL },
	{ "foo_bar.com:8080/app", IMGREF_DOMAIN, NULL, NULL, NULL, NULL },
	{ "Foo/FarB", IMGREF_UPPERCASE, NULL, NULL, NULL, NULL },
	{ "quay.io/repo:-tag", IMGREF_TAG, NULL, NULL, NULL, NULL },
	{ "quay.io/repo:.tag", IMGREF_TAG, NULL, NULL, NULL, NULL },
	{ "quay.io/repo:", IMGREF_TAG, NULL, NULL, NULL, NULL },
	{ "-quay.io/repo", IMGREF_DOMAIN, NULL, NULL, NULL, NULL },
	{ "quay.io:/repo", IMGREF_DOMAIN, NULL, NULL, NULL, NULL },
	{ "quay.io:123456/repo", IMGREF_DOMAIN, NULL, NULL, NULL, NULL },
};

Test(imgref, parse_table)
{
	size_t i;

	for (i = 0; i < sizeof(ref_rows) / sizeof(ref_rows[0]); i++) {
		struct imgref r;
		imgref_err e = imgref_parse(ref_rows[i].in, &r);
		cr_expect_eq(e, ref_rows[i].want, "'%s': got '%s', want '%s'",
			     ref_rows[i].in, imgref_strerror(e),
			     imgref_strerror(ref_rows[i].want));
		if (e == IMGREF_OK && ref_rows[i].want == IMGREF_OK) {
#define CHK(f) do { if (ref_rows[i].f == NULL) cr_expect_null(r.f, "%s: " #f, ref_rows[i].in); \
	else { cr_expect_not_null(r.f, "%s: " #f, ref_rows[i].in); if (r.f) cr_expect_str_eq(r.f, ref_rows[i].f, "%s", ref_rows[i].in); } } while (0)
			CHK(domain);
			CHK(path);
			CHK(tag);
			CHK(digest);
		}
		imgref_free(&r);
	}
}

Test(imgref, path_too_long)
{
	char buf[300];
	struct imgref r;

	strcpy(buf, "domain.io/");
	memset(buf + 10, 'a', 256);
	buf[10 + 256] = '\0';
	cr_expect_eq(imgref_parse(buf, &r), IMGREF_TOO_LONG);
	buf[10 + 255] = '\0';
	cr_expect_eq(imgref_parse(buf, &r), IMGREF_OK);
	imgref_free(&r);
}

static const struct { const char *in; imgref_err want; } reg_rows[] = {
	{ "quay.io/jordigilh", IMGREF_OK },
	{ "quay.io", IMGREF_OK },
	{ "127.0.0.1:5000", IMGREF_OK },
	{ "localhost:5000/dev/team", IMGREF_OK },
	{ "localhost", IMGREF_OK },
	{ "jordigilh", IMGREF_NO_DOMAIN },
	{ "quay.io/Jordi", IMGREF_UPPERCASE },
	{ "quay.io/org:tag", IMGREF_EXTRA },
	{ "quay.io/org@sha256:" F64, IMGREF_EXTRA },
	{ "quay.io/", IMGREF_PATH },
	{ "quay.io//x", IMGREF_PATH },
	{ "", IMGREF_EMPTY },
	{ "quay..io", IMGREF_DOMAIN },
	{ "https://quay.io", IMGREF_DOMAIN },
};

Test(imgref, registry_table)
{
	size_t i;

	for (i = 0; i < sizeof(reg_rows) / sizeof(reg_rows[0]); i++) {
		struct imgref r;
		imgref_err e = imgref_parse_registry(reg_rows[i].in, &r);
		cr_expect_eq(e, reg_rows[i].want, "'%s': got '%s'", reg_rows[i].in,
			     imgref_strerror(e));
		imgref_free(&r);
	}
}

Test(imgref, tags_and_digests)
{
	char t129[130];

	cr_expect(imgref_tag_valid("v1.2.3"));
	cr_expect(imgref_tag_valid("_x"));
	cr_expect(imgref_tag_valid("A"));
	cr_expect(!imgref_tag_valid(""));
	cr_expect(!imgref_tag_valid(".x"));
	cr_expect(!imgref_tag_valid("-x"));
	cr_expect(!imgref_tag_valid("a+b"));
	memset(t129, 'a', 129);
	t129[129] = '\0';
	cr_expect(!imgref_tag_valid(t129));
	t129[128] = '\0';
	cr_expect(imgref_tag_valid(t129));
	cr_expect(imgref_digest_valid("sha256:" F64));
	cr_expect(!imgref_digest_valid("sha256:" F64 "f"));
	cr_expect(!imgref_digest_valid("sha256:xyz"));
	cr_expect(!imgref_digest_valid(F64));
	cr_expect(imgref_digest_valid("multihash+base58:ffffffffffffffffffffffffffffffff"));
}

Test(util, sha256_known_vector)
{
	char hex[65];

	cr_assert_eq(rp_sha256_hex("abc", 3, hex), 0);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(util, quote_neutralises_control_bytes)
{
	char out[64];

	cr_expect_str_eq(rp_quote("a\nb\r::c\\", 40, out, sizeof(out)),
			 "a\\x0ab\\x0d::c\\x5c");
	cr_expect_str_eq(rp_quote("\xff\xfe", 40, out, sizeof(out)), "\\xff\\xfe");
	cr_expect_str_eq(rp_quote("abcdefghij", 4, out, sizeof(out)), "abcd...");
}
