# Emscripten build of the engine with the WASM SIMD128 kernels: web/dist/sparsebyte.{js,wasm}, one ES module usable
# from node and from a browser (web/src/index.js hands it the .wasm bytes). Run from the repository root:
#   make -f web/wasm.mk -j2        (web/build.sh does exactly this)
include engine/sources.mk
include kernels_wasm/kernels.mk

EMCC := kernels_wasm/emcc.sh
BUILD := build/wasm
DIST := web/dist
CFLAGS := -std=c11 -Wall -Wextra -Werror -Iengine/include -Iengine/kernels -I. \
          -O3 -msimd128 -DSB_ARCH_WASMSIMD -DSB_NO_THREADS
SRCS := $(ENGINE_SRCS) $(REF_KERNEL_SRCS) $(WASM_KERNEL_SRCS) web/src/layout_check.c
OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRCS))

EXPORTS := _malloc _free _sb_last_error _sb_status_name _sb_version_string _sb_backend_name \
  _sb_model_load_memory _sb_model_free _sb_model_num_inputs _sb_model_num_outputs _sb_model_input_info \
  _sb_model_output_info _sb_model_set_input _sb_model_run _sb_model_get_output _sb_model_set_profiling \
  _sb_model_num_nodes _sb_model_node_profile _sb_model_metadata _sb_model_arena_bytes _sb_model_weight_bytes
comma := ,
empty :=
space := $(empty) $(empty)
LDFLAGS := -O3 -msimd128 -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createSparsebyteModule \
  -sENVIRONMENT=web,worker -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=33554432 -sFILESYSTEM=0 \
  -sEXPORTED_FUNCTIONS=$(subst $(space),$(comma),$(EXPORTS)) -sEXPORTED_RUNTIME_METHODS=UTF8ToString

.PHONY: all
all: $(DIST)/sparsebyte.js

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC) $(CFLAGS) -MMD -MP -c $< -o $@

# Linked in a private directory, then renamed into place: two builds at once (tests, a developer) never leave a .js
# and a .wasm from different links (a LinkError at load).
$(DIST)/sparsebyte.js: $(OBJS)
	@mkdir -p $(DIST) $(BUILD)
	tmp=$$(mktemp -d $(BUILD)/link.XXXXXX) && \
	  { $(EMCC) $(LDFLAGS) $(OBJS) -o $$tmp/sparsebyte.js || { rm -rf $$tmp; exit 1; }; } && \
	  mv -f $$tmp/sparsebyte.wasm $(DIST)/sparsebyte.wasm && mv -f $$tmp/sparsebyte.js $@ && rmdir $$tmp

-include $(OBJS:.o=.d)
