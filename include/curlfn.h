/*
 * curlfn.h — libcurl, loaded only when regpush first talks HTTP.
 *
 * Linking libcurl costs every process about 5 ms before main() (its
 * dependency tree: GnuTLS, Kerberos, LDAP, SSH, RTMP...), which would make
 * `regpush plan` several times slower than it needs to be. So libcurl is
 * opened with dlopen() by curlfn_load(), and the files that use it include
 * this header after <curl/curl.h>: the curl_* names below then call
 * through the loaded table. Type checking of curl_easy_setopt is lost; the
 * option values used are all plain longs, pointers and strings.
 */
#ifndef RP_CURLFN_H
#define RP_CURLFN_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "util.h"

struct curlfn {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	time_t (*getdate)(const char *, const time_t *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
};

/* The loaded table; valid after curlfn_load() succeeded. */
extern struct curlfn curlfn;

/* Opens libcurl.so.4 and calls curl_global_init once. Returns RP_OK, or
 * RP_EREGISTRY with a message naming the library. Idempotent. */
rp_status curlfn_load(struct rp_err *err);

/* curl_global_cleanup, when curlfn_load succeeded. */
void curlfn_unload(void);

#ifndef CURLFN_IMPL
/* curl.h wraps these three in pass-through macros; replace them. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init curlfn.global_init
#define curl_global_cleanup curlfn.global_cleanup
#define curl_easy_init curlfn.easy_init
#define curl_easy_cleanup curlfn.easy_cleanup
#define curl_easy_reset curlfn.easy_reset
#define curl_easy_setopt curlfn.easy_setopt
#define curl_easy_perform curlfn.easy_perform
#define curl_easy_getinfo curlfn.easy_getinfo
#define curl_easy_strerror curlfn.easy_strerror
#define curl_easy_escape curlfn.easy_escape
#define curl_free curlfn.free
#define curl_getdate curlfn.getdate
#define curl_slist_append curlfn.slist_append
#define curl_slist_free_all curlfn.slist_free_all
#define curl_multi_init curlfn.multi_init
#define curl_multi_cleanup curlfn.multi_cleanup
#define curl_multi_setopt curlfn.multi_setopt
#define curl_multi_add_handle curlfn.multi_add_handle
#define curl_multi_remove_handle curlfn.multi_remove_handle
#define curl_multi_perform curlfn.multi_perform
#define curl_multi_poll curlfn.multi_poll
#define curl_multi_info_read curlfn.multi_info_read
#endif

#endif
