/*
 * curlfn.c — dlopen() of libcurl (see curlfn.h for why).
 */
#define CURLFN_IMPL
#include "curlfn.h"

#include <dlfcn.h>
#include <string.h>

struct curlfn curlfn;

static void *lib;
static int ready;

rp_status
curlfn_load(struct rp_err *err)
{
	static const struct { const char *name; size_t off; } syms[] = {
#define S(n, f) { n, offsetof(struct curlfn, f) }
		S("curl_global_init", global_init), S("curl_global_cleanup", global_cleanup),
		S("curl_easy_init", easy_init), S("curl_easy_cleanup", easy_cleanup),
		S("curl_easy_reset", easy_reset), S("curl_easy_setopt", easy_setopt),
		S("curl_easy_perform", easy_perform), S("curl_easy_getinfo", easy_getinfo),
		S("curl_easy_strerror", easy_strerror), S("curl_easy_escape", easy_escape),
		S("curl_free", free), S("curl_getdate", getdate),
		S("curl_slist_append", slist_append), S("curl_slist_free_all", slist_free_all),
		S("curl_multi_init", multi_init), S("curl_multi_cleanup", multi_cleanup),
		S("curl_multi_setopt", multi_setopt), S("curl_multi_add_handle", multi_add_handle),
		S("curl_multi_remove_handle", multi_remove_handle),
		S("curl_multi_perform", multi_perform), S("curl_multi_poll", multi_poll),
		S("curl_multi_info_read", multi_info_read),
#undef S
	};
	size_t i;
	void *f;

	if (ready)
		return RP_OK;
	if (lib == NULL && (lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL)
		return rp_fail(err, RP_EREGISTRY, "cannot load libcurl.so.4 (package libcurl4): %s",
			       dlerror());
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if ((f = dlsym(lib, syms[i].name)) == NULL)
			return rp_fail(err, RP_EREGISTRY, "libcurl.so.4 has no %s (too old?)",
				       syms[i].name);
		/* POSIX guarantees function pointers round-trip through void *. */
		memcpy((char *)&curlfn + syms[i].off, &f, sizeof(f));
	}
	if (curlfn.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return rp_fail(err, RP_EREGISTRY, "cannot initialise libcurl");
	ready = 1;
	return RP_OK;
}

void
curlfn_unload(void)
{
	if (ready)
		curlfn.global_cleanup();
	ready = 0;
	if (lib != NULL)
		dlclose(lib);
	lib = NULL;
	memset(&curlfn, 0, sizeof(curlfn));
}
