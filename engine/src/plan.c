/* Activation arena plan. Each storage block (a tensor, or a tensor plus the RESHAPE outputs that alias it) lives
 * from the step that writes it to the last step that reads it; graph inputs live for the whole run (so run() can be
 * called again without set_input) and graph outputs to the end. Blocks are placed largest first, each into the
 * smallest gap left by blocks whose lifetimes overlap (best fit), at 64-byte aligned offsets. With keep_intermediates
 * nothing is reused. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct block {
  int32_t tensor; /* storage root */
  int32_t first, last; /* steps, inclusive; -1 = before the first node */
  uint64_t size, offset;
  int placed;
} block;

static int by_size_desc(const void* a, const void* b) {
  const block* x = a;
  const block* y = b;
  if (x->size != y->size) return x->size < y->size ? 1 : -1;
  return x->tensor - y->tensor;
}

static int by_offset(const void* a, const void* b) {
  const block* x = *(const block* const*)a;
  const block* y = *(const block* const*)b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int32_t storage_root(const sb_model* m, int32_t t) {
  while (m->tensors[t].storage != t) t = m->tensors[t].storage;
  return t;
}

/* Best-fit offset for blocks[i] among the already placed blocks that overlap it in time. */
static uint64_t best_fit(block* blocks, int32_t count, int32_t i, const block** scratch) {
  int32_t live = 0;
  for (int32_t k = 0; k < count; k++)
    if (blocks[k].placed && blocks[k].first <= blocks[i].last && blocks[i].first <= blocks[k].last)
      scratch[live++] = &blocks[k];
  qsort(scratch, (size_t)live, sizeof *scratch, by_offset);
  uint64_t best = UINT64_MAX, best_gap = UINT64_MAX, cursor = 0;
  for (int32_t k = 0; k < live; k++) {
    if (scratch[k]->offset > cursor) {
      uint64_t gap = scratch[k]->offset - cursor;
      if (gap >= blocks[i].size && gap < best_gap) {
        best = cursor;
        best_gap = gap;
      }
    }
    uint64_t end = scratch[k]->offset + scratch[k]->size;
    if (end > cursor) cursor = end;
  }
  return best != UINT64_MAX ? best : cursor;
}

sb_status sb_plan_arena(sb_model* m) {
  int32_t steps = m->num_nodes;
  for (int32_t t = 0; t < m->num_tensors; t++) m->tensors[t].storage = t;
  for (int32_t i = 0; i < m->num_nodes; i++)
    if (m->nodes[i].aliases_input) m->tensors[m->nodes[i].output].storage = storage_root(m, m->nodes[i].inputs[0]);

  /* Lifetimes per storage root. */
  int32_t* first = malloc((size_t)m->num_tensors * sizeof *first);
  int32_t* last = malloc((size_t)m->num_tensors * sizeof *last);
  block* blocks = calloc((size_t)m->num_tensors, sizeof *blocks);
  const block** scratch = malloc((size_t)m->num_tensors * sizeof *scratch);
  if (!first || !last || !blocks || !scratch) {
    free(first), free(last), free(blocks), free(scratch);
    return sb_fail(SB_ERR_NOMEM, "out of memory planning the arena");
  }
  for (int32_t t = 0; t < m->num_tensors; t++) first[t] = INT32_MAX, last[t] = -2;
  for (int32_t t = 0; t < m->num_tensors; t++) {
    const sb_tensor* x = &m->tensors[t];
    if (x->is_constant) continue;
    int32_t r = storage_root(m, t);
    int32_t born = x->is_graph_input ? -1 : x->producer;
    if (born < first[r]) first[r] = born;
    int32_t dies = x->is_graph_input || x->is_graph_output || m->keep_intermediates ? steps : born;
    if (dies > last[r]) last[r] = dies;
  }
  for (int32_t i = 0; i < m->num_nodes; i++)
    for (int32_t k = 0; k < m->nodes[i].num_inputs; k++) {
      int32_t t = m->nodes[i].inputs[k];
      if (m->tensors[t].is_constant) continue;
      int32_t r = storage_root(m, t);
      if (i > last[r]) last[r] = i;
    }

  int32_t count = 0;
  for (int32_t t = 0; t < m->num_tensors; t++) {
    if (m->tensors[t].is_constant || storage_root(m, t) != t) continue;
    block* b = &blocks[count++];
    b->tensor = t;
    b->first = first[t];
    b->last = last[t];
    b->size = ((uint64_t)m->tensors[t].count * sizeof(float) + SB_ALIGN - 1) / SB_ALIGN * SB_ALIGN;
  }
  qsort(blocks, (size_t)count, sizeof *blocks, by_size_desc);
  uint64_t peak = 0;
  for (int32_t i = 0; i < count; i++) {
    /* keep_intermediates: every block lives the whole run, so best fit degenerates to stacking them. */
    blocks[i].offset = best_fit(blocks, count, i, scratch);
    blocks[i].placed = 1;
    if (blocks[i].offset + blocks[i].size > peak) peak = blocks[i].offset + blocks[i].size;
  }
  for (int32_t i = 0; i < count; i++) m->tensors[blocks[i].tensor].arena_offset = (size_t)blocks[i].offset;
  free(first), free(last), free(blocks), free(scratch);

  if (peak > SB_MAX_ARENA_BYTES || peak > SIZE_MAX - SB_ALIGN)
    return sb_fail(SB_ERR_NOMEM, "activation arena of %llu bytes exceeds the cap of %llu bytes", (unsigned long long)peak,
                   (unsigned long long)SB_MAX_ARENA_BYTES);
  float* arena = sb_aligned_alloc((size_t)peak);
  if (!arena) return sb_fail(SB_ERR_NOMEM, "cannot allocate the %llu-byte activation arena", (unsigned long long)peak);
  memset(arena, 0, (size_t)peak);
  free(m->arena);
  m->arena = arena;
  m->arena_bytes = (size_t)peak;
  for (int32_t t = 0; t < m->num_tensors; t++) {
    sb_tensor* x = &m->tensors[t];
    if (x->is_constant) continue;
    int32_t r = storage_root(m, t);
    x->arena_offset = m->tensors[r].arena_offset;
    x->data = (float*)((uint8_t*)arena + x->arena_offset);
  }
  return SB_OK;
}
