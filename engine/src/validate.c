/* Graph-level validation: unique names, graph inputs/outputs, topological order, one producer per tensor, operator
 * arity; then every node's own shape checks (the op's prepare). Runs after format.c has range-checked every entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ops/ops.h"

/* Indexed by op code; built from the spec's op list (op_spec.h). */
#define SB_OP_DEF_ENTRY(NAME, name) [SB_OP_##NAME] = &sb_op_##name,
static const sb_op_def* const op_defs[SB_OP_MAX + 1] = {SB_OP_LIST(SB_OP_DEF_ENTRY)};
#undef SB_OP_DEF_ENTRY
#define SB_OP_ATTRS_ENTRY(NAME, name) [SB_OP_##NAME] = SB_OP_##NAME##_ATTRS_USED,
static const uint32_t attrs_used[SB_OP_MAX + 1] = {SB_OP_LIST(SB_OP_ATTRS_ENTRY)};
#undef SB_OP_ATTRS_ENTRY

const sb_op_def* sb_op_def_for(int32_t op) { return op >= 1 && op <= SB_OP_MAX ? op_defs[op] : NULL; }

const char* sb_op_name(int32_t op) {
  const sb_op_def* d = sb_op_def_for(op);
  return d ? d->name : "UNKNOWN";
}

int sb_same_shape(const sb_tensor* a, const sb_tensor* b) {
  if (a->rank != b->rank) return 0;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return 0;
  return 1;
}

const char* sb_shape_str(const sb_tensor* t, char* buf, size_t size) {
  size_t used = 0;
  used += (size_t)snprintf(buf, size, "[");
  for (int d = 0; d < t->rank && used < size; d++)
    used += (size_t)snprintf(buf + used, size - used, d ? ",%d" : "%d", t->dims[d]);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

void* sb_aligned_alloc(size_t size) {
  size_t rounded = (size + SB_ALIGN - 1) / SB_ALIGN * SB_ALIGN;
  if (rounded < size) return NULL;
  return aligned_alloc(SB_ALIGN, rounded ? rounded : SB_ALIGN);
}

static int compare_names(const void* a, const void* b) { return strcmp(*(const char* const*)a, *(const char* const*)b); }

static sb_status check_unique_names(const sb_model* m) {
  const char** names = malloc((size_t)m->num_tensors * sizeof *names);
  if (!names) return sb_fail(SB_ERR_NOMEM, "out of memory checking tensor names");
  for (int32_t i = 0; i < m->num_tensors; i++) names[i] = m->tensors[i].name;
  qsort(names, (size_t)m->num_tensors, sizeof *names, compare_names);
  sb_status st = SB_OK;
  for (int32_t i = 1; i < m->num_tensors && st == SB_OK; i++)
    if (strcmp(names[i - 1], names[i]) == 0) st = sb_fail(SB_ERR_FORMAT, "tensor name '%s' is used twice", names[i]);
  free(names);
  return st;
}

static sb_status check_graph_io(sb_model* m) {
  for (int32_t i = 0; i < m->num_inputs; i++) {
    sb_tensor* t = &m->tensors[m->inputs[i]];
    if (t->is_constant) return sb_fail(SB_ERR_FORMAT, "graph input %d '%s' is a constant", i, t->name);
    if (t->is_graph_input) return sb_fail(SB_ERR_FORMAT, "graph input '%s' is listed twice", t->name);
    t->is_graph_input = 1;
  }
  for (int32_t i = 0; i < m->num_outputs; i++) {
    sb_tensor* t = &m->tensors[m->outputs[i]];
    if (t->is_constant) return sb_fail(SB_ERR_FORMAT, "graph output %d '%s' is a constant", i, t->name);
    if (t->is_graph_output) return sb_fail(SB_ERR_FORMAT, "graph output '%s' is listed twice", t->name);
    t->is_graph_output = 1;
  }
  return SB_OK;
}

static sb_status check_producers(sb_model* m) {
  for (int32_t i = 0; i < m->num_nodes; i++) {
    sb_node* n = &m->nodes[i];
    sb_tensor* out = &m->tensors[n->output];
    if (out->is_constant) return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' is a constant", out->name);
    if (out->is_graph_input) return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' is a graph input", out->name);
    if (out->producer >= 0)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' is already produced by node '%s' (a tensor is produced twice)",
                          out->name, m->nodes[out->producer].name);
    out->producer = i;
  }
  for (int32_t i = 0; i < m->num_tensors; i++) {
    const sb_tensor* t = &m->tensors[i];
    if (!t->is_constant && !t->is_graph_input && t->producer < 0)
      return sb_fail(SB_ERR_FORMAT, "tensor '%s' is neither a constant, a graph input, nor produced by a node", t->name);
  }
  return SB_OK;
}

static sb_status check_arity(const sb_model* m) {
  for (int32_t i = 0; i < m->num_nodes; i++) {
    const sb_node* n = &m->nodes[i];
    if (n->num_inputs < n->def->min_inputs || n->num_inputs > n->def->max_inputs)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "%d inputs, expects %d..%d", n->num_inputs, n->def->min_inputs,
                          n->def->max_inputs);
  }
  return SB_OK;
}

/* Slots an operator does not use must be 0, so a file written for a later minor version with a new attribute fails
 * here instead of running without it. */
static sb_status check_unused_attrs(const sb_model* m) {
  for (int32_t i = 0; i < m->num_nodes; i++) {
    const sb_node* n = &m->nodes[i];
    for (int a = 0; a < SB_NUM_ATTRS; a++)
      if (!(attrs_used[n->op] >> a & 1u) && n->attrs[a] != 0)
        return SB_NODE_FAIL(SB_ERR_FORMAT, n, "attrs[%d] = %d, but %s does not use that slot (must be 0)", a,
                            n->attrs[a], n->def->name);
  }
  return SB_OK;
}

static sb_status check_order(const sb_model* m) {
  for (int32_t i = 0; i < m->num_nodes; i++) {
    const sb_node* n = &m->nodes[i];
    for (int32_t k = 0; k < n->num_inputs; k++) {
      const sb_tensor* t = &m->tensors[n->inputs[k]];
      if (t->producer >= i)
        return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input %d '%s' is produced later by node '%s' (not topological order)", k,
                            t->name, m->nodes[t->producer].name);
    }
  }
  return SB_OK;
}

sb_status sb_validate_graph(sb_model* m) {
  sb_status st;
  if ((st = check_unique_names(m)) != SB_OK) return st;
  if ((st = check_graph_io(m)) != SB_OK) return st;
  if ((st = check_arity(m)) != SB_OK) return st;
  if ((st = check_unused_attrs(m)) != SB_OK) return st;
  if ((st = check_producers(m)) != SB_OK) return st;
  if ((st = check_order(m)) != SB_OK) return st;
  for (int32_t i = 0; i < m->num_nodes; i++)
    if ((st = m->nodes[i].def->prepare(m, &m->nodes[i])) != SB_OK) return st;
  return SB_OK;
}
