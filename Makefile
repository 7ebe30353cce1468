# Builds libsparsebyte.a and sparsebyte-run per configuration, each into build/<config>/.
#   make host           gcc -O2, scalar kernels
#   make asan           -O1 -g, AddressSanitizer + UBSan, scalar kernels
#   make aarch64        static aarch64 with NEON kernels (kernels_arm/kernels.mk)
#   make aarch64-scalar static aarch64, scalar kernels only
#   make host-neon      x86 running the NEON kernels through SIMDe
#   make clean
include engine/sources.mk
-include kernels_arm/kernels.mk

NEON_KERNEL_SRCS ?=
KERNEL_SRCS ?= $(REF_KERNEL_SRCS)
COMMON_FLAGS := -std=c11 -Wall -Wextra -Werror -Iengine/include -Iengine/kernels -I.
LIBS := -lm -lpthread

CONFIGS := host asan aarch64 aarch64-scalar host-neon
.PHONY: all clean $(CONFIGS)
all: host


define config_rules
# $(1) config, $(2) compiler, $(3) flags, $(4) link flags, $(5) extra sources
BUILD_$(1) := build/$(1)
SRCS_$(1) := $$(ENGINE_SRCS) $$(KERNEL_SRCS) $(5)
OBJS_$(1) := $$(patsubst %.c,build/$(1)/obj/%.o,$$(SRCS_$(1)))
TOOL_OBJS_$(1) := $$(patsubst %.c,build/$(1)/obj/%.o,$$(TOOL_SRCS))

$(1): build/$(1)/libsparsebyte.a build/$(1)/sparsebyte-run

build/$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$(2) $$(COMMON_FLAGS) $(3) -MMD -MP -c $$< -o $$@

build/$(1)/libsparsebyte.a: $$(OBJS_$(1))
	@rm -f $$@
	$(6) rcs $$@ $$^

build/$(1)/sparsebyte-run: $$(TOOL_OBJS_$(1)) build/$(1)/libsparsebyte.a
	$(2) $(3) $(4) -o $$@ $$(TOOL_OBJS_$(1)) build/$(1)/libsparsebyte.a $$(LIBS)

-include $$(OBJS_$(1):.o=.d) $$(TOOL_OBJS_$(1):.o=.d)
endef

ASAN_CC := $(shell command -v clang >/dev/null 2>&1 && echo clang || echo gcc)
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
AARCH64_CC := aarch64-linux-gnu-gcc
AARCH64_FLAGS := -O2 -march=armv8-a

$(eval $(call config_rules,host,gcc,-O2,,,ar))
$(eval $(call config_rules,asan,$(ASAN_CC),$(ASAN_FLAGS),,,ar))
$(eval $(call config_rules,aarch64,$(AARCH64_CC),$(AARCH64_FLAGS) -DSB_ARCH_NEON,-static,$(NEON_KERNEL_SRCS),aarch64-linux-gnu-ar))
$(eval $(call config_rules,aarch64-scalar,$(AARCH64_CC),$(AARCH64_FLAGS),-static,,aarch64-linux-gnu-ar))
$(eval $(call config_rules,host-neon,gcc,-O2 -mfma -DSB_ARCH_NEON -DSB_NEON_SIMDE,,$(NEON_KERNEL_SRCS),ar))

clean:
	rm -rf build/host build/asan build/aarch64 build/aarch64-scalar build/host-neon
