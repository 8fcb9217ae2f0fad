# mod_oauth_as: build with apxs, test with cmocka (unit) and pytest (integration).
APXS       ?= apxs
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3

CORE_SRC := $(sort $(wildcard src/oas_*.c))
GLUE_SRC := mod_oauth_as.c $(sort $(wildcard src/mod_oas_*.c))
HEADERS  := $(wildcard src/*.h)

WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Werror -Wno-unused-parameter
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson openssl)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs jansson openssl)
APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes) $(shell apu-1-config --includes)
APR_LIBS   := $(shell apr-1-config --link-ld) $(shell apu-1-config --link-ld)

MODULE   := build/mod_oauth_as.so

.PHONY: all install check check-layering test integration run deps clean format bench

all: $(MODULE)

# apxs compiles every file through libtool; -Wc passes our warning flags to each compile.
# The built-in consent page is conf/consent.html, turned into a C string at build time.
GEN_HDR  := build/gen/oas_consent_default.h
$(GEN_HDR): conf/consent.html
	@mkdir -p build/gen
	{ echo '/* generated from conf/consent.html: do not edit */'; \
	  echo 'static const char oas_consent_default_html[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

$(MODULE): $(CORE_SRC) $(GLUE_SRC) $(HEADERS) $(GEN_HDR)
	@mkdir -p build
	$(APXS) -c -o build/mod_oauth_as.la -Wc,"$(WARN) -Isrc -Ibuild/gen $(DEP_CFLAGS)" \
	    -Wl,"-Wl,--exclude-libs,ALL" $(GLUE_SRC) $(CORE_SRC) $(DEP_LIBS)
	cp build/.libs/mod_oauth_as.so $(MODULE)

install: $(MODULE)
	$(APXS) -i -n oauth_as build/mod_oauth_as.la

# ---- unit tests: core files only, no httpd headers (STYLE.md C1) ----
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,build/unit/%,$(UNIT_SRC))
UNIT_FLAGS := -g -O1 $(WARN) -Isrc -Ibuild/gen $(APR_CFLAGS) $(DEP_CFLAGS) \
              -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_LIBS  := $(APR_LIBS) $(DEP_LIBS) -lcmocka -lpthread

build/unit/%: tests/unit/%.c $(CORE_SRC) $(HEADERS) $(GEN_HDR) tests/unit/unit.h
	@mkdir -p build/unit
	$(CC) $(UNIT_FLAGS) -o $@ $< $(CORE_SRC) $(UNIT_LIBS)

check-layering:
	@! grep -nE '#include *[<"](httpd|http_[a-z_]+|ap_[a-z_]+|mod_[a-z_]+|util_[a-z_]+)\.h' \
	    src/oas_*.[ch] || (echo "core file includes an httpd header"; exit 1)

check: check-layering $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $$t; done

integration: $(MODULE)
	$(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

# `make test` and `make run` work on a fresh machine: they install what is missing first,
# then re-enter make so the compiler flags are computed with the packages in place.
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory integration

run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	tools/demo.sh

deps:
	@tools/deps.sh

format:
	clang-format -i mod_oauth_as.c src/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build *.o *.lo *.slo src/*.o src/*.lo src/*.slo .libs src/.libs

# ---- benchmarks (bench/README.md); not part of `make test` ----
.PHONY: bench bench-build bench-callgrind
bench-build: $(MODULE)
	$(MAKE) -C bench all
bench: bench-build
	bench/run $(BENCH_ARGS)
bench-callgrind: bench-build
	bench/run --callgrind $(BENCH_ARGS)
