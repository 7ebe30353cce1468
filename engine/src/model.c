/* Model lifetime and queries: load (copy to an aligned buffer, parse, validate, plan), free, io and tensor info. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SB_MAX_FILE_BYTES ((uint64_t)1 << 40)

void sb_model_free(sb_model* m) {
  if (!m) return;
  sb_threadpool_destroy(m->pool);
  for (int32_t i = 0; m->nodes && i < m->num_nodes; i++) {
    free(m->nodes[i].state);
    free(m->nodes[i].owned[0]);
    free(m->nodes[i].owned[1]);
  }
  free(m->nodes);
  free(m->tensors);
  free(m->node_io);
  free(m->names);
  free(m->arena);
  free(m->bytes);
  free(m);
}

/* Takes ownership of bytes (64-byte aligned, size bytes). */
static sb_status finish_load(uint8_t* bytes, size_t size, sb_model** out) {
  sb_model* m = calloc(1, sizeof *m);
  if (!m) {
    free(bytes);
    return sb_fail(SB_ERR_NOMEM, "out of memory");
  }
  m->bytes = bytes;
  m->size = size;
  m->threads = 1;
  sb_status st = sb_format_parse(m);
  if (st == SB_OK) st = sb_validate_graph(m);
  if (st == SB_OK) st = sb_plan_arena(m);
  if (st != SB_OK) {
    sb_model_free(m);
    return st;
  }
  sb_clear_error();
  *out = m;
  return SB_OK;
}

sb_status sb_model_load_memory(const void* data, size_t size, sb_model** out_model) {
  if (!out_model) return sb_fail(SB_ERR_ARGUMENT, "out_model is NULL");
  *out_model = NULL;
  if (!data && size) return sb_fail(SB_ERR_ARGUMENT, "data is NULL");
  uint8_t* bytes = sb_aligned_alloc(size);
  if (!bytes) return sb_fail(SB_ERR_NOMEM, "cannot allocate %zu bytes for the model", size);
  if (size) memcpy(bytes, data, size);
  return finish_load(bytes, size, out_model);
}

sb_status sb_model_load_file(const char* path, sb_model** out_model) {
  if (!out_model || !path) return sb_fail(SB_ERR_ARGUMENT, "path or out_model is NULL");
  *out_model = NULL;
  FILE* f = fopen(path, "rb");
  if (!f) return sb_fail(SB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  long end = -1;
  if (fseek(f, 0, SEEK_END) == 0) end = ftell(f);
  if (end < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return sb_fail(SB_ERR_IO, "%s: cannot determine the file size (not a regular file?)", path);
  }
  if ((uint64_t)end > SB_MAX_FILE_BYTES || (uint64_t)end > SIZE_MAX - SB_ALIGN) {
    fclose(f);
    return sb_fail(SB_ERR_NOMEM, "%s: file of %ld bytes is too large", path, end);
  }
  size_t size = (size_t)end;
  uint8_t* bytes = sb_aligned_alloc(size);
  if (!bytes) {
    fclose(f);
    return sb_fail(SB_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, size);
  }
  size_t got = size ? fread(bytes, 1, size, f) : 0;
  fclose(f);
  if (got != size) {
    free(bytes);
    return sb_fail(SB_ERR_IO, "%s: read %zu of %zu bytes", path, got, size);
  }
  sb_status st = finish_load(bytes, size, out_model);
  if (st != SB_OK) sb_prefix_error(path);
  return st;
}

int sb_model_num_inputs(const sb_model* m) { return m ? m->num_inputs : 0; }
int sb_model_num_outputs(const sb_model* m) { return m ? m->num_outputs : 0; }
int sb_model_num_nodes(const sb_model* m) { return m ? m->num_nodes : 0; }
int sb_model_num_tensors(const sb_model* m) { return m ? m->num_tensors : 0; }
size_t sb_model_arena_bytes(const sb_model* m) { return m ? m->arena_bytes : 0; }
size_t sb_model_weight_bytes(const sb_model* m) { return m ? m->weight_bytes : 0; }

static void fill_info(const sb_tensor* t, sb_tensor_info* info) {
  memset(info, 0, sizeof *info);
  info->name = t->name;
  info->rank = t->rank;
  for (int d = 0; d < t->rank; d++) info->dims[d] = t->dims[d];
  info->count = t->count;
}

sb_status sb_model_tensor_info(const sb_model* m, int tensor, sb_tensor_info* info) {
  if (!m || !info) return sb_fail(SB_ERR_ARGUMENT, "model or info is NULL");
  if (tensor < 0 || tensor >= m->num_tensors)
    return sb_fail(SB_ERR_ARGUMENT, "tensor index %d out of range (%d tensors)", tensor, m->num_tensors);
  fill_info(&m->tensors[tensor], info);
  return SB_OK;
}

sb_status sb_model_input_info(const sb_model* m, int index, sb_tensor_info* info) {
  if (!m || !info) return sb_fail(SB_ERR_ARGUMENT, "model or info is NULL");
  if (index < 0 || index >= m->num_inputs)
    return sb_fail(SB_ERR_ARGUMENT, "input index %d out of range (%d inputs)", index, m->num_inputs);
  fill_info(&m->tensors[m->inputs[index]], info);
  return SB_OK;
}

sb_status sb_model_output_info(const sb_model* m, int index, sb_tensor_info* info) {
  if (!m || !info) return sb_fail(SB_ERR_ARGUMENT, "model or info is NULL");
  if (index < 0 || index >= m->num_outputs)
    return sb_fail(SB_ERR_ARGUMENT, "output index %d out of range (%d outputs)", index, m->num_outputs);
  fill_info(&m->tensors[m->outputs[index]], info);
  return SB_OK;
}

int sb_model_find_tensor(const sb_model* m, const char* name) {
  if (!m || !name) return -1;
  for (int32_t i = 0; i < m->num_tensors; i++)
    if (strcmp(m->tensors[i].name, name) == 0) return i;
  return -1;
}

sb_status sb_model_set_threads(sb_model* m, int threads) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  if (threads < 1 || threads > 256) return sb_fail(SB_ERR_ARGUMENT, "threads=%d, must be 1..256", threads);
  sb_threadpool_destroy(m->pool);
  m->pool = sb_threadpool_create(threads);
  m->threads = threads;
  return SB_OK;
}

sb_status sb_model_set_profiling(sb_model* m, int enabled) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  m->profiling = enabled != 0;
  return SB_OK;
}

/* The registry family holding the kernel dispatch chose: found by the entry's name (dispatch hands out registry
 * entries, so pointers compare equal), "" for built-in code ("ref_concat", "alias") and per-model overrides. */
static const char* kernel_family(const char* kernel) {
  for (int f = 0; kernel && f < SB_FAMILY_COUNT; f++) {
    size_t count = 0;
    const sb_kernel_entry* entries = sb_kernel_registry((sb_kernel_family)f, &count);
    for (size_t i = 0; entries && i < count; i++)
      if (entries[i].name == kernel || (entries[i].name && strcmp(entries[i].name, kernel) == 0))
        return sb_kernel_family_name((sb_kernel_family)f);
  }
  return "";
}

sb_status sb_model_node_profile(const sb_model* m, int node, sb_node_profile* out) {
  if (!m || !out) return sb_fail(SB_ERR_ARGUMENT, "model or out is NULL");
  if (node < 0 || node >= m->num_nodes)
    return sb_fail(SB_ERR_ARGUMENT, "node index %d out of range (%d nodes)", node, m->num_nodes);
  const sb_node* n = &m->nodes[node];
  out->name = n->name;
  out->op = n->def->name;
  out->kernel = n->kernel_name ? n->kernel_name : "";
  out->time_ms = n->time_ms;
  out->macs = n->macs;
  out->dense_macs = n->dense_macs;
  out->kernel_family = kernel_family(n->kernel_name);
  return SB_OK;
}

const char* sb_model_metadata(const sb_model* m, size_t* size) {
  if (size) *size = m && m->metadata ? m->metadata_size : 0;
  return m && m->metadata ? (const char*)m->metadata : NULL;
}

sb_status sb_model_format_version(const sb_model* m, int* major, int* minor) {
  if (!m || !major || !minor) return sb_fail(SB_ERR_ARGUMENT, "model, major or minor is NULL");
  *major = SB_VERSION_MAJOR; /* the loader refuses every other major version */
  *minor = m->version_minor;
  return SB_OK;
}
