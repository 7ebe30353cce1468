# Emscripten builds of the engine with the WASM SIMD128 kernels, ES modules usable from node and from a browser
# (web/src/index.js hands them the .wasm bytes):
#   web/dist/sparsebyte.{js,wasm}          single thread (SB_NO_THREADS): any page, the fallback
#   web/dist/sparsebyte-mt.{js,wasm}       pthreads (shared memory): cross-origin-isolated pages, node
#   web/dist/mt-worker/sparsebyte-mt.worker.js   the pthreads' worker script (CommonJS, hence its own package.json)
# Run from the repository root:
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
# The pthreads build compiles everything again: wasm-ld refuses to link objects built with and without atomics into
# one memory, and the single-thread build must not need SharedArrayBuffer.
MT_CFLAGS := $(filter-out -DSB_NO_THREADS,$(CFLAGS)) -pthread
MT_OBJS := $(patsubst %.c,$(BUILD)/obj-mt/%.o,$(SRCS))

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
# Threads: the worker pool is created when the module loads, Module.sbPoolSize workers (index.js passes threads - 1;
# it adds workers before a model that needs more); a pthread_create finding no loaded worker fails (EAGAIN: the
# engine runs on fewer threads) instead of deadlocking a caller that blocks before the event loop starts the worker.
# ENVIRONMENT adds node: the workers are node worker threads there.
MT_EXPORTS := $(EXPORTS) _sb_model_set_threads
MT_LDFLAGS := $(filter-out -sENVIRONMENT=% -sEXPORTED_FUNCTIONS=%,$(LDFLAGS)) -pthread -sENVIRONMENT=web,worker,node \
  -sEXPORTED_FUNCTIONS=$(subst $(space),$(comma),$(MT_EXPORTS)) -sPTHREAD_POOL_SIZE=Module.sbPoolSize \
  -sPTHREAD_POOL_SIZE_STRICT=2 -Wno-pthreads-mem-growth

.PHONY: all
all: $(DIST)/sparsebyte.js $(DIST)/sparsebyte-mt.js

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj-mt/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC) $(MT_CFLAGS) -MMD -MP -c $< -o $@

# Linked in a private directory, then renamed into place: two builds at once (tests, a developer) never leave a .js
# and a .wasm from different links (a LinkError at load).
$(DIST)/sparsebyte.js: $(OBJS)
	@mkdir -p $(DIST) $(BUILD)
	tmp=$$(mktemp -d $(BUILD)/link.XXXXXX) && \
	  { $(EMCC) $(LDFLAGS) $(OBJS) -o $$tmp/sparsebyte.js || { rm -rf $$tmp; exit 1; }; } && \
	  mv -f $$tmp/sparsebyte.wasm $(DIST)/sparsebyte.wasm && mv -f $$tmp/sparsebyte.js $@ && rmdir $$tmp

# emscripten 3.1.6's ES-module output for node refers to require and __dirname, which an ES module lacks: web/tools/
# mt_node_shim.js defines them (in node only; a top-level await, so browsers load nothing). Its worker script is
# CommonJS, and web/package.json says "type": "module": it goes to mt-worker/ beside a package.json saying commonjs.
$(DIST)/sparsebyte-mt.js: $(MT_OBJS) web/tools/mt_node_shim.js
	@mkdir -p $(DIST)/mt-worker $(BUILD)
	tmp=$$(mktemp -d $(BUILD)/link.XXXXXX) && \
	  { $(EMCC) $(MT_LDFLAGS) $(MT_OBJS) -o $$tmp/sparsebyte-mt.js || { rm -rf $$tmp; exit 1; }; } && \
	  cat web/tools/mt_node_shim.js > $$tmp/main.js && \
	  sed 's|"sparsebyte-mt.worker.js"|"mt-worker/sparsebyte-mt.worker.js"|g' $$tmp/sparsebyte-mt.js >> $$tmp/main.js && \
	  grep -q '"mt-worker/sparsebyte-mt.worker.js"' $$tmp/main.js && \
	  echo '{"type": "commonjs"}' > $(DIST)/mt-worker/package.json && \
	  mv -f $$tmp/sparsebyte-mt.worker.js $(DIST)/mt-worker/sparsebyte-mt.worker.js && \
	  mv -f $$tmp/sparsebyte-mt.wasm $(DIST)/sparsebyte-mt.wasm && mv -f $$tmp/main.js $@ && rm -rf $$tmp

-include $(OBJS:.o=.d) $(MT_OBJS:.o=.d)
