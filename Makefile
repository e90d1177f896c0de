# Parapet: one entry point. `make` builds build/mod_parapet.so, build/libparapet.a and
# build/parapet; `make check` runs the unit, eval and end-to-end tests; `make demo` serves the
# demo on 127.0.0.1:$(PORT). Every flag comes from apxs / apr-1-config / apu-1-config /
# pcre2-config / pkg-config, never from hard-coded system paths.

APXS        ?= apxs
CC          ?= gcc
PORT        ?= 8080
BUILD       ?= build
WERROR      ?= -Werror
SANITIZE    ?=

APR_CFLAGS  := $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null) $(shell apu-1-config --includes 2>/dev/null)
APR_LIBS    := $(shell apr-1-config --link-ld --libs 2>/dev/null) $(shell apu-1-config --link-ld --libs 2>/dev/null)
PCRE2_CFLAGS:= $(shell pcre2-config --cflags 2>/dev/null)
PCRE2_LIBS  := $(shell pcre2-config --libs8 2>/dev/null)
JSON_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSON_LIBS   := $(shell pkg-config --libs json-c 2>/dev/null)
XML_CFLAGS  := $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
STORE_LIBS  := $(shell pkg-config --libs lmdb hiredis libmaxminddb 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
HTTPD_INC   := $(shell $(APXS) -q INCLUDEDIR 2>/dev/null)
HTTPD_CFLAGS:= $(shell $(APXS) -q EXTRA_CPPFLAGS 2>/dev/null)
MODDIR      := $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
HTTPD_SYSCONF := $(shell $(APXS) -q SYSCONFDIR 2>/dev/null)
# Where parapet.conf looks for ModSecurity's configuration and Debian's CRS, and keeps its data.
MODSEC_ETC  ?= /etc/modsecurity
CRS_DIR     ?= /usr/share/modsecurity-crs
CACHE_DIR   ?= /var/cache/parapet

OPT         ?= -O2 -g
WARN        := -Wall -Wextra $(WERROR) -Wno-unused-parameter -Wno-missing-field-initializers
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) -fPIC -fvisibility=hidden $(SANITIZE) \
               $(APR_CFLAGS) $(PCRE2_CFLAGS) $(JSON_CFLAGS) $(XML_CFLAGS) -Isrc/engine
YAJL_LIBS   := $(shell pkg-config --libs yajl 2>/dev/null)
XML_LIBS    := $(shell pkg-config --libs libxml-2.0 2>/dev/null)
LIBS        := $(PCRE2_LIBS) $(JSON_LIBS) $(YAJL_LIBS) $(XML_LIBS) $(STORE_LIBS) $(APR_LIBS)

ENGINE_SRC  := $(shell find src/engine -name '*.c' | sort)
ENGINE_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(ENGINE_SRC))
APACHE_SRC  := $(wildcard src/apache/*.c)
APACHE_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(APACHE_SRC))
CLI_SRC     := $(wildcard src/cli/*.c)
CLI_OBJ     := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CLI_SRC))
UNIT_SRC    := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BIN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
UNIT_SH     := $(shell find tests/unit -name 'test_*.sh' 2>/dev/null | sort)
ENGINE_HDR  := $(shell find src/engine -name '*.h' -o -name '*.def' -o -name '*.inc')
UNIT_HDR    := $(shell find tests/unit -name '*.h' 2>/dev/null)

.PHONY: all deps build-after-deps check unit eval e2e demo demo-stop install clean bench fuzz fuzz-dict soak sqli-data

all: $(BUILD)/libparapet.a $(BUILD)/mod_parapet.so $(BUILD)/parapet $(BUILD)/gen_fuzz_dict

deps:
	@tools/deps.sh

$(BUILD)/obj/engine/%.o: src/engine/%.c $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(BASE_CFLAGS) -c $< -o $@

$(BUILD)/obj/apache/%.o: src/apache/%.c $(ENGINE_HDR) $(wildcard src/apache/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(BASE_CFLAGS) -I$(HTTPD_INC) $(HTTPD_CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/%.o: src/cli/%.c $(ENGINE_HDR) $(wildcard src/cli/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(BASE_CFLAGS) -c $< -o $@

$(BUILD)/libparapet.a: $(ENGINE_OBJ)
	@mkdir -p $(BUILD)
	rm -f $@ && ar rcs $@ $^

# Only parapet_module is exported (-fvisibility=hidden everywhere else).
$(BUILD)/mod_parapet.so: $(APACHE_OBJ) $(BUILD)/libparapet.a
	$(CC) -shared $(SANITIZE) -o $@ $(APACHE_OBJ) $(BUILD)/libparapet.a $(PCRE2_LIBS) $(JSON_LIBS) $(YAJL_LIBS) $(XML_LIBS) $(STORE_LIBS)

$(BUILD)/parapet: $(CLI_OBJ) $(BUILD)/libparapet.a
	$(CC) $(SANITIZE) -o $@ $(CLI_OBJ) $(BUILD)/libparapet.a $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libparapet.a $(UNIT_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(BASE_CFLAGS) -fvisibility=default -rdynamic -Itests/unit -o $@ $< $(BUILD)/libparapet.a $(CMOCKA_LIBS) $(LIBS)

unit: $(UNIT_BIN)
	@tests/run_unit.sh $(UNIT_BIN) $(UNIT_SH)

# The flags above are read when make starts, before `deps` may have installed the packages that
# provide them (a fresh machine): check and demo install first, then build in a second make,
# which reads the flags anew. tests/fresh_clone.sh (run by .ci/run) checks this.
build-after-deps: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)

check: build-after-deps
	@tests/run_all.sh $(UNIT_BIN) $(UNIT_SH)

e2e: all
	@python3 tests/e2e/run.py

demo: build-after-deps
	@demo/run.sh $(PORT) $(if $(CRS),crs)

demo-stop:
	@demo/run.sh stop

install: all
	install -d $(DESTDIR)$(MODDIR) $(DESTDIR)$(HTTPD_SYSCONF)/mods-available
	install -m 0644 $(BUILD)/mod_parapet.so $(DESTDIR)$(MODDIR)/mod_parapet.so
	sed 's#@MODDIR@#$(MODDIR)#' conf/parapet.load > $(DESTDIR)$(HTTPD_SYSCONF)/mods-available/parapet.load
	sed -e 's#@MODSEC_ETC@#$(MODSEC_ETC)#g' -e 's#@CRS_DIR@#$(CRS_DIR)#g' -e 's#@CACHE_DIR@#$(CACHE_DIR)#g' \
	    conf/parapet.conf > $(DESTDIR)$(HTTPD_SYSCONF)/mods-available/parapet.conf
	install -d -m 0750 $(DESTDIR)$(CACHE_DIR)
	-id www-data >/dev/null 2>&1 && chown www-data:www-data $(DESTDIR)$(CACHE_DIR)
	install -d $(DESTDIR)/usr/bin
	install -m 0755 $(BUILD)/parapet $(DESTDIR)/usr/bin/parapet
	install -m 0755 util/parapet-clamscan $(DESTDIR)/usr/bin/parapet-clamscan

# Engine micro-benchmarks (bench/engine/bench_<name>.c), linked like the unit tests.
$(BUILD)/bench_%: bench/engine/bench_%.c $(BUILD)/libparapet.a
	@mkdir -p $(BUILD)
	@echo "  CC  $<"; $(CC) $(BASE_CFLAGS) -fvisibility=default -rdynamic -o $@ $< $(BUILD)/libparapet.a $(LIBS)

bench: all $(BUILD)/bench_rules $(BUILD)/bench_injection $(BUILD)/bench_store
	@bench/run.sh $(BENCH_ARGS)

fuzz:
	@fuzz/run.sh $(FUZZ_SECONDS)

# fuzz/secrule.dict from the registries (tools/gen_fuzz_dict.c); make check compares.
$(BUILD)/gen_fuzz_dict: tools/gen_fuzz_dict.c $(BUILD)/libparapet.a
	@echo "  CC  $<"; $(CC) $(BASE_CFLAGS) -o $@ $< $(BUILD)/libparapet.a $(LIBS)

fuzz-dict: $(BUILD)/gen_fuzz_dict
	$(BUILD)/gen_fuzz_dict > fuzz/secrule.dict

# @detectSQLi's word and fingerprint tables, derived from the reference (docs/detectors.md).
sqli-data:
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -O2 -Wall -rdynamic -o $(BUILD)/gen_sqli_data tools/gen_sqli_data.c
	$(BUILD)/gen_sqli_data src/engine/rules/operators/sqli_data.inc

# Soak (default 600 s; SOAK_SECONDS overrides) plus the disk-full fault test (needs root).
# CRS: the differential corpus (ModSecurity + CRS against Parapet + CRS, same configuration,
# tests/crs/corpus.jsonl) and our CRS-format (ftw YAML) tests. WAF=modsecurity runs the ftw
# tests against the oracle alone; crs-oracle prints what ModSecurity detects in the corpus.
.PHONY: crs-diff crs-oracle crs-ftw
WAF ?= parapet
crs-diff: all
	@python3 tests/crs/crs_run.py --pl 1 && python3 tests/crs/crs_run.py --pl 4

crs-oracle:
	@python3 tests/crs/crs_run.py --pl 1 --oracle-only && python3 tests/crs/crs_run.py --pl 4 --oracle-only

crs-ftw: all
	@python3 tests/crs/ftw.py --waf $(WAF) --pl 4 tests/crs/ftw && python3 tests/crs/ftw.py --waf $(WAF) --pl 1 tests/crs/ftw-pl1 \
	    && python3 tests/crs/ftw.py --waf $(WAF) --pl 4 --mode DetectionOnly tests/crs/ftw

soak: all
	@python3 tests/soak/soak.py $(SOAK_SECONDS)

# Unit tests under sanitizers (style §9). asan-unit: the engine and tests/unit/**/test_*.c built
# with ASan + UBSan into $(BUILD)/asan/, with fuzz/pool_guard.c so pool allocations get exact
# bounds. memcheck: the ordinary unit-test binaries under valgrind.
ASAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OBJ    := $(patsubst src/%.c,$(BUILD)/asan/obj/%.o,$(ENGINE_SRC))
ASAN_UNIT   := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRC))
VALGRIND    := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite

.PHONY: asan-unit memcheck

$(BUILD)/asan/obj/engine/%.o: src/engine/%.c $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC  $< (asan)"; $(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(BUILD)/asan/libparapet.a: $(ASAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/tests/%: tests/unit/%.c $(BUILD)/asan/libparapet.a fuzz/pool_guard.c $(UNIT_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC  $< (asan)"; $(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -fvisibility=default -rdynamic -Itests/unit \
		-o $@ $< fuzz/pool_guard.c $(BUILD)/asan/libparapet.a $(CMOCKA_LIBS) $(LIBS) -ldl

asan-unit: $(ASAN_UNIT)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/unit/run_sanitized.sh ASAN-UNIT -- $(ASAN_UNIT)

memcheck: $(UNIT_BIN)
	@tests/unit/run_sanitized.sh MEMCHECK $(VALGRIND) -- $(UNIT_BIN)

# The threaded engine test (tests/unit/test_threads.c: 8 threads, one shared configuration)
# with the engine, built by clang with ThreadSanitizer into $(BUILD)/tsan/. It must report
# nothing.
TSAN_CC     ?= clang
TSAN_FLAGS  := -fsanitize=thread -fno-omit-frame-pointer
TSAN_OBJ    := $(patsubst src/%.c,$(BUILD)/tsan/obj/%.o,$(ENGINE_SRC))
TSAN_UNIT   := $(BUILD)/tsan/tests/test_threads $(BUILD)/tsan/tests/config/test_merge_once

.PHONY: tsan-unit

$(BUILD)/tsan/obj/engine/%.o: src/engine/%.c $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC  $< (tsan)"; $(TSAN_CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -c $< -o $@

$(BUILD)/tsan/libparapet.a: $(TSAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tsan/tests/%: tests/unit/%.c $(BUILD)/tsan/libparapet.a $(UNIT_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC  $< (tsan)"; $(TSAN_CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -fvisibility=default -Itests/unit \
		-o $@ $< $(BUILD)/tsan/libparapet.a $(CMOCKA_LIBS) $(LIBS)

tsan-unit: $(TSAN_UNIT)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		tests/unit/run_sanitized.sh TSAN-UNIT -- $(TSAN_UNIT)

clean:
	rm -rf $(BUILD)
