# mod_oauth_as: build with apxs, test with cmocka (unit) and pytest (integration).
APXS       ?= apxs
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3

CORE_SRC := $(sort $(wildcard src/oas_*.c))
GLUE_SRC := mod_oauth_as.c $(sort $(wildcard src/mod_oas_*.c))
HEADERS  := $(wildcard src/*.h)

WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Werror -Wno-unused-parameter
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson openssl libcurl)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs jansson openssl libcurl)
APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes) $(shell apu-1-config --includes)
APR_LIBS   := $(shell apr-1-config --link-ld) $(shell apu-1-config --link-ld)

MODULE   := build/mod_oauth_as.so
CLI      := build/oauth-as

.PHONY: all cli install-cli install check check-layering check-lognos test integration run deps clean format bench \
        fuzz fuzz-short fuzz-build integration-asan integration-asan-subset

all: $(MODULE) $(CLI)

# apxs compiles every file through libtool; -Wc passes our warning flags to each compile.
# The built-in pages (conf/consent.html, conf/account.html, conf/logout.html) are turned into
# C strings at build time (oas_consent_default_html, ...).
GEN_HDR  := build/gen/oas_consent_default.h build/gen/oas_account_default.h \
            build/gen/oas_logout_default.h
build/gen/oas_%_default.h: conf/%.html
	@mkdir -p build/gen
	{ echo '/* generated from $<: do not edit */'; \
	  echo 'static const char oas_$*_default_html[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

# ---- the core: every src/oas_*.c, built once per flavour into a static library that the
# module, the unit tests and the fuzzers link (the linker takes only the members they use).
#   build/core/liboas.a        the module (apxs's optimisation, position independent)
#   build/core-asan/liboas.a   unit tests and the ASan module (gcc, ASan + UBSan)
#   build/core-fuzz/liboas.a   the fuzzers (clang, libFuzzer instrumentation, ASan + UBSan)
CORE_CFLAGS := -fPIC $(WARN) -Isrc -Ibuild/gen $(APR_CFLAGS) $(DEP_CFLAGS)
CORE_LIB      := build/core/liboas.a
CORE_LIB_ASAN := build/core-asan/liboas.a
CORE_LIB_FUZZ := build/core-fuzz/liboas.a
CORE_OBJ      := $(patsubst src/%.c,build/core/%.o,$(CORE_SRC))
CORE_OBJ_ASAN := $(patsubst src/%.c,build/core-asan/%.o,$(CORE_SRC))
CORE_OBJ_FUZZ := $(patsubst src/%.c,build/core-fuzz/%.o,$(CORE_SRC))
ASAN_CFLAGS := -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer

# A package's CPPFLAGS, CFLAGS and LDFLAGS (dpkg-buildflags: hardening) come after apxs's own,
# here and for the module.
build/core/%.o: src/%.c $(HEADERS) $(GEN_HDR)
	@mkdir -p build/core
	$(CC) -c $(shell $(APXS) -q CFLAGS) $(CORE_CFLAGS) $(CPPFLAGS) $(CFLAGS) -o $@ $<
build/core-asan/%.o: src/%.c $(HEADERS) $(GEN_HDR)
	@mkdir -p build/core-asan
	$(CC) -c $(ASAN_CFLAGS) $(CORE_CFLAGS) -o $@ $<
build/core-fuzz/%.o: src/%.c $(HEADERS) $(GEN_HDR)
	@mkdir -p build/core-fuzz
	$(FUZZ_CC) -c $(FUZZ_LIB_FLAGS) $(CORE_CFLAGS) -o $@ $<
$(CORE_LIB): $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^
$(CORE_LIB_ASAN): $(CORE_OBJ_ASAN)
	rm -f $@ && ar rcs $@ $^
$(CORE_LIB_FUZZ): $(CORE_OBJ_FUZZ)
	rm -f $@ && ar rcs $@ $^

$(MODULE): $(GLUE_SRC) $(HEADERS) $(GEN_HDR) $(CORE_LIB)
	@mkdir -p build
	$(APXS) -c -o build/mod_oauth_as.la \
	    -Wc,"$(WARN) -Isrc -Ibuild/gen $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS)" \
	    -Wl,"-Wl,--exclude-libs,ALL $(LDFLAGS)" $(GLUE_SRC) $(CORE_LIB) $(DEP_LIBS)
	@# a new file renamed over the old one: an httpd running the old build keeps its mapping
	@# (cp would overwrite the mapped file in place and crash its children with SIGBUS)
	cp build/.libs/mod_oauth_as.so $(MODULE).new && mv -f $(MODULE).new $(MODULE)

# ---- oauth-as, the operator's tool (docs/oauth-as.1): links the core, no httpd ----
# a package's CPPFLAGS, CFLAGS and LDFLAGS (dpkg-buildflags: hardening) apply to it
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_CFLAGS := -O2 -g
$(CLI): $(CLI_SRC) $(wildcard cli/*.h) $(HEADERS) $(CORE_LIB)
	@mkdir -p build
	$(CC) $(CLI_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(WARN) -Isrc -Icli $(APR_CFLAGS) $(DEP_CFLAGS) \
	    $(LDFLAGS) -o $@ $(CLI_SRC) $(CORE_LIB) $(APR_LIBS) $(DEP_LIBS)

cli: $(CLI)

# the tool and its man page, for a package (DESTDIR=debian/<package>) or by hand
PREFIX ?= /usr
install-cli: $(CLI)
	install -D -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/oauth-as
	install -D -m 0644 docs/oauth-as.1 $(DESTDIR)$(PREFIX)/share/man/man1/oauth-as.1

install: $(MODULE) $(CLI)
	$(APXS) -i -n oauth_as build/mod_oauth_as.la

# ---- the Debian package (debian/, README "Install"): build/deb/libapache2-mod-oauth-as_*.deb,
# built by dpkg-buildpackage in a copy of the sources and checked by lintian; rebuilt only when
# the packaged sources change (tools/deb.sh)
.PHONY: deb
deb:
	@tools/deb.sh

# ---- unit tests: core files only, no httpd headers (STYLE.md C1) ----
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,build/unit/%,$(UNIT_SRC))
UNIT_FLAGS := $(ASAN_CFLAGS) $(WARN) -Isrc -Ibuild/gen $(APR_CFLAGS) $(DEP_CFLAGS)
UNIT_LIBS  := $(APR_LIBS) $(DEP_LIBS) -lcmocka -lpthread

build/unit/%: tests/unit/%.c $(CORE_LIB_ASAN) $(HEADERS) $(GEN_HDR) $(wildcard tests/unit/*.h)
	@mkdir -p build/unit
	$(CC) $(UNIT_FLAGS) -o $@ $< $(CORE_LIB_ASAN) $(UNIT_LIBS)

check-layering:
	@! grep -nE '#include *[<"](httpd|http_[a-z_]+|ap_[a-z_]+|mod_[a-z_]+|util_[a-z_]+)\.h' \
	    src/oas_*.[ch] || (echo "core file includes an httpd header"; exit 1)

# every log tag is written once (tools/lognos lists the ranges and the next free numbers)
check-lognos:
	@tools/lognos --check

check: check-layering check-lognos $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $$t; done

# ---- fuzzing: libFuzzer harnesses (tests/fuzz/README.md), clang with ASan + UBSan ----
# Each harness links the core library built for fuzzing. `make fuzz` runs each for FUZZ_SECONDS;
# `make test` runs each for FUZZ_SHORT_SECONDS. New inputs go to build/fuzz/corpus/<target>
# (the seeds in tests/fuzz/corpus/<target> are only read); a crash leaves
# build/fuzz/crash-<target>-* and fails the run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_SHORT_SECONDS ?= 15
FUZZ_TARGETS := form basic jws tmpl grant shm uri jsonr jwt assertion reqobj dpop registration cimd \
                logout usercode
FUZZ_BIN     := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_LIB_FLAGS := -g -O1 -fno-lto -fsanitize=fuzzer-no-link,address,undefined \
                  -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wno-unused-function
FUZZ_FLAGS   := -g -O1 -fno-lto -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -Wall -Werror -Wno-unused-parameter -Wno-unused-function \
                -Isrc $(APR_CFLAGS) $(DEP_CFLAGS)
FUZZ_LIBS    := $(APR_LIBS) $(DEP_LIBS) -lpthread
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(CORE_LIB_FUZZ) $(HEADERS)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(CORE_LIB_FUZZ) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BIN)

# One run per target: prints libFuzzer's "Done N runs in S second(s)" line; fails on a crash.
define fuzz_run
	@set -e; for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus/$$t; \
	    printf '== fuzz_%s (%ss): ' $$t $(1); \
	    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/fuzz/fuzz_$$t \
	        -max_total_time=$(1) -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/crash-$$t- build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	        > build/fuzz/$$t.log 2>&1; then \
	        grep -E '^Done [0-9]+ runs' build/fuzz/$$t.log || tail -1 build/fuzz/$$t.log; \
	    else echo FAILED; tail -40 build/fuzz/$$t.log; exit 1; fi; done
endef

fuzz: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-short: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_SHORT_SECONDS))

integration: $(MODULE) $(CLI)
	$(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

# ---- the module built with ASan + UBSan, for the integration suite (gcc, like the unit tests) ----
# httpd is not instrumented: the harness preloads the ASan runtime into apache2
# (OAS_SANITIZER_PRELOAD) and fails a test on any report file (tests/integration/harness.py).
ASAN_MODULE := build-asan/mod_oauth_as.so
ASAN_RT     := $(shell $(CC) -print-file-name=libasan.so)
ASAN_CLI    := build-asan/oauth-as
ASAN_ENV    := OAS_MODULE=$(CURDIR)/$(ASAN_MODULE) OAS_SANITIZER_PRELOAD=$(ASAN_RT) \
               OAS_CLI=$(CURDIR)/$(ASAN_CLI)
# make test runs this subset under ASan; make integration-asan runs everything
ASAN_SUBSET ?= test_100 test_120 test_150 test_200 test_230 test_300 test_340 test_750

$(ASAN_MODULE): $(GLUE_SRC) $(HEADERS) $(GEN_HDR) $(CORE_LIB_ASAN)
	@mkdir -p build-asan
	$(CC) -shared -fPIC $(ASAN_CFLAGS) $(WARN) \
	    -Isrc -Ibuild/gen -I$(shell $(APXS) -q INCLUDEDIR) $(APR_CFLAGS) $(DEP_CFLAGS) \
	    -o $@ $(GLUE_SRC) $(CORE_LIB_ASAN) $(DEP_LIBS) -Wl,--exclude-libs,ALL

# the oauth-as tool too (test_970_cli runs it)
$(ASAN_CLI): $(CLI_SRC) $(wildcard cli/*.h) $(HEADERS) $(CORE_LIB_ASAN)
	@mkdir -p build-asan
	$(CC) $(ASAN_CFLAGS) $(WARN) -Isrc -Icli $(APR_CFLAGS) $(DEP_CFLAGS) -o $@ $(CLI_SRC) \
	    $(CORE_LIB_ASAN) $(APR_LIBS) $(DEP_LIBS)

integration-asan: $(ASAN_MODULE) $(ASAN_CLI)
	$(ASAN_ENV) $(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

integration-asan-subset: $(ASAN_MODULE) $(ASAN_CLI)
	$(ASAN_ENV) $(PYTHON) -m pytest -q \
	    $(foreach t,$(ASAN_SUBSET),$(wildcard tests/integration/$(t)*.py)) $(PYTEST_ARGS)

# `make test` and `make run` work on a fresh machine: they install what is missing first,
# then re-enter make so the compiler flags are computed with the packages in place.
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory fuzz-short
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-asan

run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	tools/demo.sh

deps:
	@tools/deps.sh

format:
	clang-format -i mod_oauth_as.c src/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build build-asan *.o *.lo *.slo src/*.o src/*.lo src/*.slo .libs src/.libs

# ---- benchmarks (bench/README.md); not part of `make test` ----
.PHONY: bench bench-build bench-callgrind bench-sustain soak
bench-build: $(MODULE)
	$(MAKE) -C bench all
bench: bench-build
	bench/run $(BENCH_ARGS)
bench-callgrind: bench-build
	bench/run --callgrind $(BENCH_ARGS)
# the shipped example configuration under the highest PAR load for 10 minutes (issue 14):
# SUSTAIN_ARGS="--minutes 1" for a short check; writes its section of bench/RESULTS.md
bench-sustain: $(MODULE)
	$(MAKE) -C bench build/driver build/mod_bench_authn.so
	bench/sustain $(SUSTAIN_ARGS)
# the soak (bench/soak, SECURITY.md L02 spirit): 10 minutes by default, SOAK_ARGS="--minutes 60"
soak: $(MODULE)
	$(MAKE) -C bench build/driver
	bench/soak $(SOAK_ARGS)
