/* util.c's string set under a failing map insert (issue 17: set_add). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int fail_json;

static void *
json_alloc(size_t n)
{
	return fail_json ? NULL : malloc(n);
}

/* The map insert fails after the copy: the set is unchanged and its
 * vector stays NULL-terminated (it used to end in the new copy and then
 * whatever realloc left). */
Test(util, strset_insert_failure_leaves_the_set_whole)
{
	struct rp_strset s = { 0 };

	json_set_alloc_funcs(json_alloc, free);
	cr_assert_eq(rp_strset_add(&s, "a"), 0);
	cr_assert_eq(rp_strset_add(&s, "a"), 0, "a second add is a no-op");
	fail_json = 1;
	cr_expect_eq(rp_strset_add(&s, "b-which-cannot-be-inserted"), -1);
	fail_json = 0;
	cr_expect_eq(s.n, 1);
	cr_expect_eq(rp_strv_len(s.v), 1, "terminated after the one string it holds");
	cr_expect_str_eq(s.v[0], "a");
	cr_expect_null(s.v[1]);
	cr_assert_eq(rp_strset_add(&s, "c"), 0, "and usable afterwards");
	cr_expect_eq(rp_strv_len(s.v), 2);
	rp_strset_free(&s);
	json_set_alloc_funcs(malloc, free);
}
