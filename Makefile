# regpush — build, test, demo, bench.
#   make          build/regpush
#   make test     installs what the tests need, runs unit + end-to-end tests,
#                 then the same tests under AddressSanitizer/UBSan, then
#                 valgrind on the main paths, then allocation-failure torture
#   make demo     real pushes to a local registry
#   make bench    benchmarks against peer tools

CC      ?= cc
PKGS    := libcurl jansson yaml-0.1 libcrypto
VERSION := 0.1.0
WARN    := -Wall -Wextra -Werror -Wshadow -Wconversion -Wformat=2 -Wstrict-prototypes \
           -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DRP_VERSION='"$(VERSION)"' -Iinclude \
           $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) $(shell pkg-config --cflags $(PKGS))
# libcurl is opened with dlopen() when regpush first talks HTTP (see
# include/curlfn.h); only its headers are needed at build time.
LDLIBS  = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)))

B       ?= build
SRCS    := $(wildcard src/*.c)
LIBSRCS := $(filter-out src/main.c,$(SRCS))
OBJS    := $(SRCS:src/%.c=$(B)/obj/%.o)
LIBOBJS := $(LIBSRCS:src/%.c=$(B)/obj/%.o)
TSRCS   := $(wildcard tests/*.c)
TOBJS   := $(TSRCS:tests/%.c=$(B)/tobj/%.o)
DEPS_OK := $(B)/.deps-build

.PHONY: all test test-run asan valgrind failmalloc lint-action demo bench clean deps deps-test

all: $(B)/regpush

$(DEPS_OK):
	@sh scripts/deps.sh build
	@mkdir -p $(B) && touch $@

$(B)/obj/%.o: src/%.c $(DEPS_OK) $(wildcard include/*.h) $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The default policy is embedded with .incbin.
$(B)/obj/policy.o: policy/default.yaml

$(B)/regpush: $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(B)/tobj/%.o: tests/%.c $(DEPS_OK) $(wildcard include/*.h) $(wildcard src/*.h) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -Isrc -Wno-shadow -Wno-conversion -c -o $@ $<

$(B)/tests: $(TOBJS) $(LIBOBJS)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(TOBJS) $(LIBOBJS) $(LDLIBS) -lcurl -lcriterion

deps-test:
	@sh scripts/deps.sh test

# One test run against the binary of build dir $(B).
test-run: $(B)/regpush $(B)/tests
	bash tests/with-registries.sh env REGPUSH_BIN=$(CURDIR)/$(B)/regpush $(B)/tests --jobs 2 $(TESTFLAGS)

test: deps-test
	$(MAKE) test-run B=build
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) failmalloc

# Criterion's runner keeps a few bytes of its own until exit.
asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	$(MAKE) test-run B=build-asan CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	  EXTRA_CFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all' \
	  LDFLAGS='-fsanitize=address,undefined'

valgrind: $(B)/regpush
	bash tests/with-registries.sh sh tests/valgrind.sh $(B)/regpush

# Every allocation of the plan and push --dry-run paths made to fail once
# (tests/failmalloc.sh).
failmalloc: $(B)/regpush
	bash tests/with-registries.sh bash tests/failmalloc.sh $(B)/regpush

# action.yml and the example workflows against the Actions schemas
# (needs Node.js and the npm registry; not part of make test).
lint-action:
	@mkdir -p build/npm
	@cd build/npm && [ -x node_modules/.bin/action-validator ] || \
	  npm i -q --no-audit --no-fund @action-validator/core@0.6.0 @action-validator/cli@0.6.0 >/dev/null
	@for f in action.yml examples/dev-build.yml examples/release.yml; do \
	  build/npm/node_modules/.bin/action-validator $$f && echo "valid: $$f" || exit 1; done

demo: all
	@sh scripts/deps.sh test
	@bash tests/with-registries.sh sh examples/demo.sh $(CURDIR)/$(B)/regpush

bench: all
	@sh scripts/deps.sh bench
	sh bench/bench.sh $(CURDIR)/$(B)/regpush

clean:
	rm -rf build build-asan
