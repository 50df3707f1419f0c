# regpush — build, test, demo, bench.
#   make          build/regpush
#   make test     installs what the tests need, runs unit + end-to-end tests,
#                 again against the static binary, the action image as the
#                 runner runs it, the short random fault matrix, then
#                 under AddressSanitizer/UBSan, then
#                 valgrind on the main paths, then allocation-failure torture,
#                 then 10 s of fuzzing per parser
#   make faults   the full random fault matrix (tests/faults.py), 3 seeds
#   make fuzz     libFuzzer targets, 60 s each (FUZZ_TIME)
#   make static   build/static/regpush (fully static, musl)
#   make image    the action image, build/image/regpush.tar (buildah, vfs)
#   make image-arm64  the same for arm64, under qemu-user (not in make test)
#   make demo     real pushes to a local registry
#   make bench    benchmarks against peer tools

CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS    := libcurl jansson yaml-0.1 libcrypto libsodium
VERSION := 0.1.0
WARN    := -Wall -Wextra -Werror -Wshadow -Wconversion -Wformat=2 -Wstrict-prototypes \
           -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DRP_VERSION='"$(VERSION)"' -Iinclude \
           $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDLIBS  = $(shell $(PKG_CONFIG) --libs $(PKGS)) -pthread

B       ?= build
SRCS    := $(wildcard src/*.c src/registry/*.c)
LIBSRCS := $(filter-out src/main.c,$(SRCS))
OBJS    := $(SRCS:src/%.c=$(B)/obj/%.o)
LIBOBJS := $(LIBSRCS:src/%.c=$(B)/obj/%.o)
TSRCS   := $(wildcard tests/*.c)
TOBJS   := $(TSRCS:tests/%.c=$(B)/tobj/%.o)
DEPS_OK := $(B)/.deps-build

.PHONY: failmalloc-full faults faults-short fuzz fuzz-build fuzz-short all static image image-arm64 test test-run test-static test-image asan valgrind failmalloc lint-action demo bench clean deps deps-test

all: $(B)/regpush

ifneq ($(DEPS_OK),)
$(DEPS_OK):
	@sh scripts/deps.sh build
	@mkdir -p $(B) && touch $@
endif

$(B)/obj/%.o: src/%.c $(DEPS_OK) $(wildcard include/*.h) $(wildcard src/registry/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The default policy is embedded with .incbin.
$(B)/obj/policy.o: policy/default.yaml

$(B)/regpush: $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

# The shipped form: fully static x86-64 (musl), linked against the static
# OpenSSL, curl, jansson, libyaml and libsodium that scripts/static-deps.sh builds
# from Debian's sources (cached outside the clone). Checked: no INTERP
# program header and no dynamic section.
static:
	@prefix=$$(bash scripts/static-deps.sh) && \
	$(MAKE) --no-print-directory build/static/regpush B=build/static CC=musl-gcc DEPS_OK= \
	  PKG_CONFIG="env PKG_CONFIG_LIBDIR=$$prefix/lib/pkgconfig PKG_CONFIG_PATH= pkg-config --static" \
	  LDFLAGS="-static -s" EXTRA_CFLAGS="$$([ "$$(uname -m)" = aarch64 ] && echo -mno-outline-atomics)"
	@if readelf -lW build/static/regpush | grep -q INTERP || \
	    readelf -dW build/static/regpush | grep -q NEEDED; then \
	  echo "build/static/regpush is not fully static" >&2; exit 1; fi
	@echo "static: build/static/regpush, $$(stat -c %s build/static/regpush) bytes, no INTERP, no NEEDED"

$(B)/tobj/%.o: tests/%.c $(DEPS_OK) $(wildcard include/*.h) $(wildcard src/registry/*.h) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -Isrc/registry -Wno-shadow -Wno-conversion -c -o $@ $<

$(B)/tests: $(TOBJS) $(LIBOBJS)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(TOBJS) $(LIBOBJS) $(LDLIBS) -lcriterion

deps-test:
	@sh scripts/deps.sh test

# One test run against the binary of build dir $(B).
test-run: $(B)/regpush $(B)/tests
	python3 tests/check-readme.py
	bash tests/with-registries.sh env REGPUSH_BIN=$(CURDIR)/$(B)/regpush \
	  bash tests/both-registries.sh $(B)/tests $(TESTFLAGS)

test: deps-test
	$(MAKE) lint-action
	$(MAKE) test-run B=build
	$(MAKE) test-static
	$(MAKE) faults-short
	$(MAKE) test-image
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) failmalloc
	$(MAKE) fuzz-short

# The whole suite again, against the shipped static binary.
test-static: static $(B)/tests
	bash tests/with-registries.sh env REGPUSH_BIN=$(CURDIR)/build/static/regpush \
	  bash tests/both-registries.sh $(B)/tests $(TESTFLAGS)

# The random fault matrix (tests/faults.py) against the shipped static
# binary: one seed per cell in make test, FAULT_SEEDS (3) in make faults.
FAULT_SEEDS ?= 3
faults-short: static
	bash tests/with-registries.sh sh -c 'python3 tests/faults.py --short --bin build/static/regpush && \
	  bash tests/on-registry.sh ggcr python3 tests/faults.py --short --bin build/static/regpush'

faults: deps-test static
	bash tests/with-registries.sh python3 tests/faults.py --full --seeds $(FAULT_SEEDS) \
	  --bin build/static/regpush

# The action image (Debian trixie, skopeo, the static binary), built
# with buildah (scripts/build-image.sh) into build/image/regpush.tar.
image: static
	bash scripts/build-image.sh

# arm64: the static binary built in an arm64 bookworm root and the image
# on an arm64 trixie base, both under qemu-user (scripts/build-arm64.sh;
# root, binfmt_misc; not part of make test).
image-arm64: static
	bash scripts/build-arm64.sh

# What ships, as users get it (tests/test-image.sh): scripts/release.sh
# --image against a local registry and a bare git repository, then the
# released image pulled by digest into a real Docker Engine
# (tests/with-docker.sh) and the action tests run through it as the
# runner runs a container action (tests/run-action.py).
test-image: image $(B)/tests
	bash tests/with-registries.sh bash tests/with-docker.sh \
	  bash tests/test-image.sh $(CURDIR)/$(B)/tests

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

# Every allocation of every case (about twice make failmalloc's time; not
# part of make test).
failmalloc-full: $(B)/regpush
	FAILMALLOC_EVERY=1 bash tests/with-registries.sh bash tests/failmalloc.sh $(B)/regpush

# action.yml and the example workflows against the Actions schemas
# (needs Node.js and the npm registry; not part of make test).
lint-action:
	@mkdir -p build/npm
	@cd build/npm && [ -x node_modules/.bin/action-validator ] || \
	  npm i -q --no-audit --no-fund @action-validator/core@0.6.0 @action-validator/cli@0.6.0 >/dev/null
	@for f in action.yml $(wildcard examples/*.yml) $(wildcard .github/workflows/*.yml); do \
	  build/npm/node_modules/.bin/action-validator $$f && echo "valid: $$f" || exit 1; done

demo: all
	@sh scripts/deps.sh test
	@bash tests/with-registries.sh sh examples/demo.sh $(CURDIR)/$(B)/regpush

bench: all image
	@sh scripts/deps.sh bench
	sh bench/bench.sh $(CURDIR)/$(B)/regpush

# libFuzzer targets (fuzz/fuzz.c, one binary per parser) under ASan and
# UBSan, built with clang into build-fuzz; each runs FUZZ_TIME seconds
# from its seed corpus (fuzz/corpus/NAME; new inputs go to
# build-fuzz/corpus/NAME). `make fuzz-short` is the 10-second run.
FUZZ_TARGETS := semver imgref slug tagname policy event challenge link retry_after tags manifest index
FUZZ_TIME ?= 60
FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all

build-fuzz/libobjs: $(LIBOBJS)
	@touch $@

fuzz-build:
	@sh scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory build-fuzz/libobjs B=build-fuzz CC=clang CFLAGS='-O1 -g' \
	  EXTRA_CFLAGS='-fsanitize=fuzzer-no-link $(FUZZ_FLAGS) -Wno-unused-command-line-argument -Wno-sign-conversion'
	@for t in $(FUZZ_TARGETS); do \
	  T=$$(echo $$t | tr a-z A-Z); \
	  clang -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -Isrc/registry -DFUZZ_$$T \
	    -fsanitize=fuzzer $(FUZZ_FLAGS) $$(pkg-config --cflags $(PKGS)) -o build-fuzz/fuzz_$$t \
	    fuzz/fuzz.c $(filter-out build-fuzz/obj/main.o,$(LIBOBJS:$(B)/%=build-fuzz/%)) $(LDLIBS) || exit 1; \
	done

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; \
	  build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=0 build-fuzz/corpus/$$t fuzz/corpus/$$t 2>build-fuzz/$$t.log || \
	    { tail -40 build-fuzz/$$t.log; echo "fuzz: $$t failed (build-fuzz/$$t.log)"; exit 1; }; \
	  echo "fuzz: $$t: $$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' build-fuzz/$$t.log) runs in $(FUZZ_TIME) s, no failure"; \
	done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=10

clean:
	rm -rf build build-asan build-fuzz
