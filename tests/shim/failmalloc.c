/*
 * failmalloc.c — an LD_PRELOAD shim that makes exactly one allocation
 * fail: the FAILMALLOC_N-th call to malloc, calloc or realloc counted
 * from the moment main() first calls getopt_long (so the libraries' own
 * start-up is left alone). With FAILMALLOC_REPORT set it prints how many
 * allocations it counted. Used by tests/failmalloc.sh to check that every
 * allocation failure on the plan and push paths ends in a clean error,
 * never a crash.
 *
 * FAILMALLOC_SPARE (comma-separated substrings of library file names)
 * leaves the allocations made directly from those libraries alone: they
 * are neither counted nor failed. The push path spares OpenSSL, whose 3.0
 * start-up does not survive a failed allocation (a NULL lock dereferenced
 * in RAND_get0_primary), and the dynamic loader, which aborts the process
 * when it cannot allocate a new thread's TLS ("cannot allocate memory for
 * thread-local data") — neither is regpush's code, nor something regpush
 * can handle.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static long target = -1, count;
static int armed;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int in_init;

static const char *spare;

/* Is the caller in one of the spared libraries? */
static int
spared(void *caller)
{
	Dl_info di;
	const char *p, *e;

	if (spare == NULL || *spare == '\0' || dladdr(caller, &di) == 0 || di.dli_fname == NULL)
		return 0;
	for (p = spare; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		char name[64];
		size_t n;
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p) < sizeof(name) - 1 ? (size_t)(e - p) : sizeof(name) - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		if (n > 0 && strstr(di.dli_fname, name) != NULL)
			return 1;
	}
	return 0;
}

static int
should_fail(void *caller)
{
	if (target < 0) {
		const char *v;
		if (in_init)
			return 0;
		in_init = 1;
		v = getenv("FAILMALLOC_N");
		target = v != NULL ? strtol(v, NULL, 10) : 0;
		spare = getenv("FAILMALLOC_SPARE");
		in_init = 0;
	}
	if (!armed || spared(caller))
		return 0;
	++count;
	return target > 0 && count == target;
}

#include <getopt.h>
#include <stdio.h>

static void
report(void)
{
	if (getenv("FAILMALLOC_REPORT") != NULL)
		fprintf(stderr, "failmalloc: %ld allocations\n", count);
}

int
getopt_long(int argc, char *const argv[], const char *opts,
	    const struct option *longopts, int *index)
{
	int (*real)(int, char *const[], const char *, const struct option *, int *) =
	    (int (*)(int, char *const[], const char *, const struct option *, int *))
	    dlsym(RTLD_NEXT, "getopt_long");

	if (!armed) {
		armed = 1;
		atexit(report);
	}
	return real(argc, argv, opts, longopts, index);
}

/* dlsym may itself call calloc: serve it from a static buffer. */
static char boot[4096];
static size_t boot_used;

void *
malloc(size_t n)
{
	if (real_malloc == NULL)
		real_malloc = dlsym(RTLD_NEXT, "malloc");
	if (should_fail(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return real_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	if (real_calloc == NULL) {
		static int resolving;
		if (resolving) {
			void *p = boot + boot_used;
			boot_used += (a * b + 15) & ~(size_t)15;
			return boot_used <= sizeof(boot) ? p : NULL;
		}
		resolving = 1;
		real_calloc = dlsym(RTLD_NEXT, "calloc");
		resolving = 0;
	}
	if (should_fail(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return real_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	if (real_realloc == NULL)
		real_realloc = dlsym(RTLD_NEXT, "realloc");
	if (should_fail(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return real_realloc(p, n);
}

void
free(void *p)
{
	static void (*real_free)(void *);

	if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
		return;
	if (real_free == NULL)
		real_free = dlsym(RTLD_NEXT, "free");
	real_free(p);
}
