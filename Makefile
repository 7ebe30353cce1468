# Builds libsparsebyte.a and sparsebyte-run per configuration, each into $(BUILD)/<config>/ (BUILD=DIR, default
# build; an absolute DIR builds out of a read-only source tree: make -C SRC BUILD=/tmp/b aarch64).
#   make host           gcc -O2; on x86-64 with the x86 kernels (kernels_x86/kernels.mk, level picked at load)
#   make asan           -O1 -g, AddressSanitizer + UBSan, scalar kernels
#   make aarch64        static aarch64 with NEON kernels (kernels_arm/kernels.mk)
#   make aarch64-scalar static aarch64, scalar kernels only
#   make host-neon      x86 running the NEON kernels through SIMDe
#   make fuzz           libFuzzer target $(BUILD)/fuzz/sbn-fuzz (clang, ASan+UBSan) and $(BUILD)/asan/sbn-replay
#   make fuzz-run       fuzz for FUZZ_SECONDS (default 60) from fuzz/corpus; crashes go to $(BUILD)/fuzz/crashes/
#   make fuzz-replay    replay fuzz/corpus and fuzz/crashes through the ASan build (no libFuzzer needed)
#   make fuzz-corpus    regenerate the seed corpus fuzz/corpus with the converter
#   make asan-python    Python tests (PYTEST_ARGS, default tests/python tests/ops) on an ASan+UBSan engine extension
#   make clean
include engine/sources.mk
-include kernels_arm/kernels.mk
-include kernels_x86/kernels.mk

NEON_KERNEL_SRCS ?=
X86_KERNEL_SRCS ?=
# the host build carries the x86 kernels when the host is x86-64 (docs/x86.md)
HOST_MACHINE := $(shell uname -m)
HOST_KERNEL_SRCS := $(if $(filter x86_64 amd64,$(HOST_MACHINE)),$(X86_KERNEL_SRCS))
HOST_KERNEL_FLAGS := $(if $(HOST_KERNEL_SRCS),-DSB_ARCH_X86)
KERNEL_SRCS ?= $(REF_KERNEL_SRCS)
COMMON_FLAGS := -std=c11 -Wall -Wextra -Werror -Iengine/include -Iengine/kernels -I.
LIBS := -lm -lpthread

BUILD ?= build
CONFIGS := host asan aarch64 aarch64-scalar host-neon fuzz
.PHONY: all clean $(CONFIGS) fuzz-run fuzz-replay fuzz-corpus asan-python FORCE
FORCE:
all: host


define config_rules
# $(1) config, $(2) compiler, $(3) flags, $(4) link flags, $(5) extra sources
BUILD_$(1) := $(BUILD)/$(1)
SRCS_$(1) := $$(ENGINE_SRCS) $$(KERNEL_SRCS) $(5)
OBJS_$(1) := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$$(SRCS_$(1)))
TOOL_OBJS_$(1) := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$$(TOOL_SRCS))

$(1): $(BUILD)/$(1)/libsparsebyte.a $(BUILD)/$(1)/sparsebyte-run

# The compiler and flags the objects were built with: a change (e.g. -DSB_ARCH_X86 when the x86 kernels came)
# rewrites this file and so rebuilds every object, instead of linking stale ones.
$(BUILD)/$(1)/flags: FORCE
	@mkdir -p $$(dir $$@)
	@echo '$(2) $(3)' | cmp -s - $$@ || echo '$(2) $(3)' > $$@

$(BUILD)/$(1)/obj/%.o: %.c $(BUILD)/$(1)/flags
	@mkdir -p $$(dir $$@)
	$(2) $$(COMMON_FLAGS) $(3) -MMD -MP -c $$< -o $$@

$(BUILD)/$(1)/libsparsebyte.a: $$(OBJS_$(1))
	@rm -f $$@
	$(6) rcs $$@ $$^

$(BUILD)/$(1)/sparsebyte-run: $$(TOOL_OBJS_$(1)) $(BUILD)/$(1)/libsparsebyte.a
	$(2) $(3) $(4) -o $$@ $$(TOOL_OBJS_$(1)) $(BUILD)/$(1)/libsparsebyte.a $$(LIBS)

# registry.c finds the arch lists with __has_include, which leaves no dependency when a list is new: name them here.
$(BUILD)/$(1)/obj/engine/kernels/registry.o: $$(wildcard kernels_arm/*/list.h kernels_wasm/*/list.h kernels_x86/*/list.h)

-include $$(OBJS_$(1):.o=.d) $$(TOOL_OBJS_$(1):.o=.d)
endef

# -g1: line tables (sanitizer reports name file:line) at ~0.65x the compile time of -g
ASAN_CC := $(shell command -v clang >/dev/null 2>&1 && echo clang || echo gcc)
ASAN_FLAGS := -O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
AARCH64_CC := aarch64-linux-gnu-gcc
AARCH64_FLAGS := -O2 -march=armv8-a

$(eval $(call config_rules,host,gcc,-O2 $(HOST_KERNEL_FLAGS),,$(HOST_KERNEL_SRCS),ar))
$(eval $(call config_rules,asan,$(ASAN_CC),$(ASAN_FLAGS),,,ar))
$(eval $(call config_rules,aarch64,$(AARCH64_CC),$(AARCH64_FLAGS) -DSB_ARCH_NEON,-static,$(NEON_KERNEL_SRCS),aarch64-linux-gnu-ar))
$(eval $(call config_rules,aarch64-scalar,$(AARCH64_CC),$(AARCH64_FLAGS),-static,,aarch64-linux-gnu-ar))
$(eval $(call config_rules,host-neon,gcc,-O2 -mfma -DSB_ARCH_NEON -DSB_NEON_SIMDE,,$(NEON_KERNEL_SRCS),ar))

# Fuzzing (docs/robustness.md). libFuzzer ships in Debian's libclang-rt-14-dev.
# A 256 MiB arena cap keeps every input inside libFuzzer's memory limits (a 2 KB file may validly ask for 4 GiB).
FUZZ_FLAGS := $(ASAN_FLAGS) -fsanitize=fuzzer-no-link -DSB_MAX_ARENA_BYTES=268435456ull
FUZZ_SECONDS ?= 60
FUZZ_TARGET_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,fuzz/sbn_fuzz.c fuzz/sbn_fix.c fuzz/sbn_mutator.c)
REPLAY_OBJS := $(patsubst %.c,$(BUILD)/asan/obj/%.o,fuzz/sbn_replay.c fuzz/sbn_fuzz.c fuzz/sbn_fix.c)
$(eval $(call config_rules,fuzz,clang,$(FUZZ_FLAGS),,,ar))
fuzz: $(BUILD)/fuzz/sbn-fuzz $(BUILD)/asan/sbn-replay

$(BUILD)/fuzz/sbn-fuzz: $(FUZZ_TARGET_OBJS) $(BUILD)/fuzz/libsparsebyte.a
	clang $(ASAN_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

$(BUILD)/asan/sbn-replay: $(REPLAY_OBJS) $(BUILD)/asan/libsparsebyte.a
	$(ASAN_CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)

fuzz-run: $(BUILD)/fuzz/sbn-fuzz
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/crashes
	$(BUILD)/fuzz/sbn-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=262144 -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/crashes/ $(BUILD)/fuzz/corpus fuzz/corpus

fuzz-replay: $(BUILD)/asan/sbn-replay
	$(BUILD)/asan/sbn-replay $(wildcard fuzz/corpus/*) $(wildcard fuzz/crashes/*)

fuzz-corpus:
	python3 fuzz/make_corpus.py fuzz/corpus

PYTEST_ARGS ?= tests/python tests/ops -q
asan-python:
	python3 engine/tools/asan_pytest.py $(PYTEST_ARGS)

-include $(FUZZ_TARGET_OBJS:.o=.d) $(REPLAY_OBJS:.o=.d)

clean:
	rm -rf $(addprefix $(BUILD)/,host asan aarch64 aarch64-scalar host-neon fuzz asan-python)
