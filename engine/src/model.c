/* Model lifetime and queries: load (copy to an aligned buffer, parse, validate, plan), free, io and tensor info.
 * Thread rule (sparsebyte.h): every call that reads or writes run state holds m->lock; queries of what the load
 * fixed (io info, names, node count, metadata) read immutable fields and take no lock. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SB_MAX_FILE_BYTES ((uint64_t)1 << 40)

void sb_model_free(sb_model* m) {
  if (!m) return;
  /* Wait for a call in progress on another thread (a run) before tearing the model down. */
  sb_mutex_lock(m->lock);
  sb_mutex_unlock(m->lock);
  sb_mutex_destroy(m->lock);
  sb_threadpool_destroy(m->pool);
  sb_fuse_clear(m);
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
  /* A refused SPARSEBYTE_KERNELS (registry.h) is the caller's argument, not something the model lacks. */
  const char* level_error = sb_kernel_level_error();
  if (level_error) {
    free(bytes);
    return sb_fail(SB_ERR_ARGUMENT, "%s", level_error);
  }
  sb_model* m = calloc(1, sizeof *m);
  if (!m) {
    free(bytes);
    return sb_fail(SB_ERR_NOMEM, "out of memory");
  }
  m->bytes = bytes;
  m->size = size;
  m->threads = 1;
  m->lock = sb_mutex_create();
  if (!m->lock) {
    sb_model_free(m);
    return sb_fail(SB_ERR_NOMEM, "out of memory");
  }
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

/* Reads exactly size bytes; SB_ERR_IO naming the file when it ends early or read fails. */
static sb_status read_exact(int fd, const char* path, uint8_t* to, size_t size, size_t done_before, size_t total) {
  size_t done = 0;
  while (done < size) {
    size_t want = size - done < ((size_t)1 << 30) ? size - done : ((size_t)1 << 30);
    ssize_t got = read(fd, to + done, want);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return sb_fail(SB_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    if (got == 0)
      return sb_fail(SB_ERR_IO, "%s: read %zu of %zu bytes (the file shrank while loading)", path,
                     done_before + done, total);
    done += (size_t)got;
  }
  return SB_OK;
}

/* Order matters for hostile paths: open without blocking (a FIFO has no writer), refuse what is not a regular file
 * before reading, read the 64-byte header and check it and the size it declares against the file's, and only then
 * allocate and read the rest. So a directory, /dev/zero, a FIFO or a 5 GB file of garbage costs 64 bytes at most. */
sb_status sb_model_load_file(const char* path, sb_model** out_model) {
  if (!out_model || !path) return sb_fail(SB_ERR_ARGUMENT, "path or out_model is NULL");
  *out_model = NULL;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return sb_fail(SB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return sb_fail(SB_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    const char* kind = S_ISDIR(st.st_mode)                          ? "a directory"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO (named pipe)"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                                                                    : "not a regular file";
    return sb_fail(SB_ERR_IO, "%s: is %s, not a regular .sbn file", path, kind);
  }
  uint64_t file_size = st.st_size < 0 ? 0 : (uint64_t)st.st_size;
  uint8_t header[SBN_HEADER_SIZE];
  size_t head = file_size < SBN_HEADER_SIZE ? (size_t)file_size : SBN_HEADER_SIZE;
  sb_status status = read_exact(fd, path, header, head, 0, head);
  if (status == SB_OK && head == SBN_HEADER_SIZE) status = sb_format_check_header(header, file_size);
  if (status == SB_OK && (file_size > SB_MAX_FILE_BYTES || file_size > SIZE_MAX - SB_ALIGN))
    status = sb_fail(SB_ERR_NOMEM, "%s: file of %llu bytes is larger than the %llu-byte limit", path,
                     (unsigned long long)file_size, (unsigned long long)SB_MAX_FILE_BYTES);
  if (status != SB_OK) {
    close(fd);
    if (status != SB_ERR_IO && status != SB_ERR_NOMEM) sb_prefix_error(path);
    return status;
  }
  size_t size = (size_t)file_size;
  uint8_t* bytes = sb_aligned_alloc(size);
  if (!bytes) {
    close(fd);
    return sb_fail(SB_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, size);
  }
  memcpy(bytes, header, head);
  status = read_exact(fd, path, bytes + head, size - head, head, size);
  close(fd);
  if (status != SB_OK) {
    free(bytes);
    return status;
  }
  status = finish_load(bytes, size, out_model);
  if (status != SB_OK) sb_prefix_error(path);
  return status;
}

int sb_model_num_inputs(const sb_model* m) { return m ? m->num_inputs : 0; }
int sb_model_num_outputs(const sb_model* m) { return m ? m->num_outputs : 0; }
int sb_model_num_nodes(const sb_model* m) { return m ? m->num_nodes : 0; }
int sb_model_num_tensors(const sb_model* m) { return m ? m->num_tensors : 0; }
size_t sb_model_arena_bytes(const sb_model* m) {
  if (!m) return 0;
  sb_mutex_lock(m->lock); /* set_keep_intermediates re-plans the arena */
  size_t bytes = m->arena_bytes;
  sb_mutex_unlock(m->lock);
  return bytes;
}
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
  if (threads < 1 || threads > SB_MAX_THREADS)
    return sb_fail(SB_ERR_ARGUMENT, "threads=%d, must be 1..%d", threads, SB_MAX_THREADS);
  sb_mutex_lock(m->lock);
  sb_threadpool_destroy(m->pool);
  m->pool = sb_threadpool_create(threads);
  m->threads = threads;
  sb_split_reset(m); /* what the runs learnt was about the old pool */
  sb_fuse_plan(m);    /* here rather than in the next run: a run's instruction count (qemu) must not hold it */
  sb_mutex_unlock(m->lock);
  return SB_OK;
}

sb_status sb_model_set_profiling(sb_model* m, int enabled) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  sb_mutex_lock(m->lock);
  m->profiling = enabled != 0;
  sb_mutex_unlock(m->lock);
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
  sb_mutex_lock(m->lock); /* written by a profiled run */
  out->time_ms = n->time_ms;
  sb_mutex_unlock(m->lock);
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
