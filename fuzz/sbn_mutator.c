/* Structure-aware libFuzzer mutator for .sbn images. Byte-level mutations almost never get past the CRCs, so most
 * mutations here rewrite one field of the header, the section table, a tensor or node entry, NODE_IO, GRAPH or an i32
 * constant (nnz / index arrays) with a value chosen to hit a boundary, and then recompute the CRCs so the change
 * reaches the deep validator and the operators' prepare(). A few mutations are plain LLVMFuzzerMutate, CRCs fixed or
 * not, so the CRC and framing checks keep being exercised too. */
#include <string.h>

#include "engine/src/sbn_layout.h"
#include "fuzz/sbn_fuzz.h"
#include "sparsebyte.h" /* SB_MAX_RANK */

size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

typedef struct rng {
  uint64_t state;
} rng;

static uint32_t next(rng* r) {
  r->state = r->state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(r->state >> 33);
}
static uint32_t below(rng* r, uint32_t n) { return n ? next(r) % n : 0; }

static uint32_t get32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const uint8_t* p) { return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32); }
static void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t* p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

/* Where the tables are, as far as the (possibly already corrupt) image lets us see. */
typedef struct layout {
  uint64_t offset[SBN_SECTION_TYPES + 1], size[SBN_SECTION_TYPES + 1]; /* by type; size 0: absent or outside */
  uint32_t tensors, nodes, io, graph_words;
} layout;

static void find_layout(const uint8_t* d, size_t size, layout* l) {
  memset(l, 0, sizeof *l);
  if (size < SBN_HEADER_SIZE) return;
  uint32_t count = get32(d + SBN_HDR_SECTION_COUNT);
  for (uint32_t i = 0; i < count && i < SBN_MAX_SECTIONS &&
                       SBN_HEADER_SIZE + (uint64_t)(i + 1) * SBN_SECTION_ENTRY_SIZE <= size;
       i++) {
    const uint8_t* e = d + SBN_HEADER_SIZE + (size_t)i * SBN_SECTION_ENTRY_SIZE;
    uint32_t type = get32(e + SBN_SEC_TYPE);
    uint64_t offset = get64(e + SBN_SEC_OFFSET), length = get64(e + SBN_SEC_SIZE);
    if (type >= 1 && type <= SBN_SECTION_TYPES && offset <= size && length <= size - offset && !l->size[type]) {
      l->offset[type] = offset;
      l->size[type] = length;
    }
  }
  const uint64_t* n = l->size;
  const uint64_t head = SBN_TABLE_HEADER_SIZE;
  if (n[SBN_SECTION_TENSORS] >= head) l->tensors = (uint32_t)((n[SBN_SECTION_TENSORS] - head) / SBN_TENSOR_ENTRY_SIZE);
  if (n[SBN_SECTION_NODES] >= head) l->nodes = (uint32_t)((n[SBN_SECTION_NODES] - head) / SBN_NODE_ENTRY_SIZE);
  if (n[SBN_SECTION_NODE_IO] >= head) l->io = (uint32_t)((n[SBN_SECTION_NODE_IO] - head) / 4);
  if (n[SBN_SECTION_GRAPH] >= head) l->graph_words = (uint32_t)((n[SBN_SECTION_GRAPH] - head) / 4);
}

static uint8_t* tensor_entry(uint8_t* d, const layout* l, uint32_t i) {
  return d + l->offset[SBN_SECTION_TENSORS] + SBN_TABLE_HEADER_SIZE + (size_t)i * SBN_TENSOR_ENTRY_SIZE;
}
static uint8_t* node_entry(uint8_t* d, const layout* l, uint32_t i) {
  return d + l->offset[SBN_SECTION_NODES] + SBN_TABLE_HEADER_SIZE + (size_t)i * SBN_NODE_ENTRY_SIZE;
}

static const uint32_t interesting32[] = {0u,         1u,          2u,          3u,         4u,          5u,
                                         7u,         8u,          16u,         63u,        64u,         65u,
                                         255u,       256u,        0x7fffu,     0x10000u,   1u << 24,    (1u << 24) + 1,
                                         1u << 30,   0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
static const uint64_t interesting64[] = {0ull, 1ull, 63ull, 64ull, 128ull, 1ull << 31, 1ull << 32, 1ull << 40,
                                         0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffc0ull,
                                         0xffffffffffffffffull};

static uint32_t new_value32(rng* r, uint32_t old, uint32_t index_limit) {
  switch (below(r, 6)) {
    case 0: return interesting32[below(r, sizeof interesting32 / sizeof interesting32[0])];
    case 1: return old + 1;
    case 2: return old - 1;
    case 3: return index_limit ? below(r, index_limit + 2) : old ^ (1u << below(r, 32)); /* a (nearly) valid index */
    case 4: return old * 2;
    default: return next(r);
  }
}

static uint64_t new_value64(rng* r, uint64_t old) {
  switch (below(r, 4)) {
    case 0: return interesting64[below(r, sizeof interesting64 / sizeof interesting64[0])];
    case 1: return old + 64 * (below(r, 2) ? 1 : (uint64_t)-1);
    case 2: return old ^ (1ull << below(r, 64));
    default: return ((uint64_t)next(r) << 32) | next(r);
  }
}

static void mutate_u32(rng* r, uint8_t* p, uint32_t index_limit) { put32(p, new_value32(r, get32(p), index_limit)); }

/* Tensor entry: any field; dims often, and then sometimes data_size is made consistent with the new dims so the
 * shape reaches the operator checks. */
static void mutate_tensor(rng* r, uint8_t* d, const layout* l) {
  uint8_t* e = tensor_entry(d, l, below(r, l->tensors));
  enum { DIMS = SBN_TENSOR_DIMS };
  static const uint8_t fields[] = {SBN_TENSOR_NAME_OFFSET, SBN_TENSOR_NAME_LENGTH, SBN_TENSOR_DTYPE, SBN_TENSOR_RANK,
                                   DIMS, DIMS + 4, DIMS + 8, DIMS + 12, DIMS + 16, DIMS + 20,
                                   DIMS, DIMS + 4, DIMS + 8, DIMS + 12, /* the leading dims twice as often */
                                   SBN_TENSOR_FLAGS, SBN_TENSOR_RESERVED};
  uint32_t pick = below(r, sizeof fields + 2);
  if (pick == sizeof fields) {
    put64(e + SBN_TENSOR_DATA_OFFSET, new_value64(r, get64(e + SBN_TENSOR_DATA_OFFSET)));
    return;
  }
  if (pick == sizeof fields + 1) {
    put64(e + SBN_TENSOR_DATA_SIZE, new_value64(r, get64(e + SBN_TENSOR_DATA_SIZE)));
    return;
  }
  mutate_u32(r, e + fields[pick], 0);
  if (fields[pick] >= SBN_TENSOR_RANK && fields[pick] < SBN_TENSOR_FLAGS &&
      (get32(e + SBN_TENSOR_FLAGS) & SBN_TENSOR_FLAG_CONSTANT) && below(r, 2)) {
    uint64_t count = 1;
    for (uint32_t k = 0; k < get32(e + SBN_TENSOR_RANK) && k < SB_MAX_RANK; k++) count *= get32(e + DIMS + 4 * k);
    put64(e + SBN_TENSOR_DATA_SIZE, count * 4);
  }
}

static void mutate_node(rng* r, uint8_t* d, const layout* l) {
  uint8_t* e = node_entry(d, l, below(r, l->nodes));
  uint32_t pick = below(r, 16);
  if (pick < 8) { /* attrs: what the operators' prepare() checks most */
    mutate_u32(r, e + SBN_NODE_ATTRS + 4 * below(r, SB_NUM_ATTRS), 0);
  } else if (pick < 10) { /* fused activation parameters: NaN, infinities, huge */
    static const uint32_t floats[] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f7fffffu, 0x80000000u, 0x3f800000u};
    put32(e + (below(r, 2) ? SBN_NODE_ACT_PARAM0 : SBN_NODE_ACT_PARAM1),
          floats[below(r, sizeof floats / sizeof floats[0])]);
  } else {
    static const uint8_t fields[] = {SBN_NODE_OP,          SBN_NODE_NAME_OFFSET,  SBN_NODE_NAME_LENGTH,
                                     SBN_NODE_INPUT_COUNT, SBN_NODE_OUTPUT_COUNT, SBN_NODE_IO_START,
                                     SBN_NODE_ACT_KIND,    SBN_NODE_RESERVED};
    uint8_t field = fields[below(r, sizeof fields)];
    /* op codes, io_start: near-valid values */
    mutate_u32(r, e + field, field == SBN_NODE_OP ? 16 : field == SBN_NODE_IO_START ? l->io : 0);
  }
}

/* Swap two whole node entries: breaks topological order or creates producer cycles. */
static void swap_nodes(rng* r, uint8_t* d, const layout* l) {
  uint8_t tmp[SBN_NODE_ENTRY_SIZE];
  uint8_t* a = node_entry(d, l, below(r, l->nodes));
  uint8_t* b = node_entry(d, l, below(r, l->nodes));
  memcpy(tmp, a, sizeof tmp);
  memcpy(a, b, sizeof tmp);
  memcpy(b, tmp, sizeof tmp);
}

/* An i32 constant element (sparse nnz / index arrays): the values the sparse kernels index with. */
static int mutate_i32_constant(rng* r, uint8_t* d, const layout* l) {
  for (int attempt = 0; attempt < 8; attempt++) {
    const uint8_t* e = tensor_entry(d, l, below(r, l->tensors));
    uint64_t offset = get64(e + SBN_TENSOR_DATA_OFFSET), length = get64(e + SBN_TENSOR_DATA_SIZE);
    uint64_t weights = l->size[SBN_SECTION_WEIGHTS];
    if (get32(e + SBN_TENSOR_DTYPE) != SB_DTYPE_I32 || !(get32(e + SBN_TENSOR_FLAGS) & SBN_TENSOR_FLAG_CONSTANT) ||
        length < 4 || offset > weights || length > weights - offset)
      continue;
    uint8_t* p = d + l->offset[SBN_SECTION_WEIGHTS] + offset + 4 * (size_t)below(r, (uint32_t)(length / 4));
    mutate_u32(r, p, 0);
    return 1;
  }
  return 0;
}

static void structural_mutation(rng* r, uint8_t* d, size_t size, const layout* l) {
  switch (below(r, 10)) {
    case 0: /* header field */
      if (below(r, 2)) mutate_u32(r, d + 4 * below(r, SBN_HDR_CRC / 4), 0);
      else {
        uint8_t* field = d + (below(r, 2) ? SBN_HDR_FILE_SIZE : SBN_HDR_TABLE_OFFSET);
        put64(field, new_value64(r, get64(field)));
      }
      return;
    case 1: { /* section table entry */
      uint32_t count = get32(d + SBN_HDR_SECTION_COUNT);
      if (count == 0 || count > SBN_MAX_SECTIONS || SBN_HEADER_SIZE + (uint64_t)count * SBN_SECTION_ENTRY_SIZE > size)
        return;
      uint8_t* e = d + SBN_HEADER_SIZE + (size_t)below(r, count) * SBN_SECTION_ENTRY_SIZE;
      if (below(r, 2)) mutate_u32(r, e + (below(r, 2) ? SBN_SEC_FLAGS : SBN_SEC_TYPE), SBN_SECTION_TYPES + 1);
      else {
        uint8_t* field = e + (below(r, 2) ? SBN_SEC_OFFSET : SBN_SEC_SIZE);
        put64(field, new_value64(r, get64(field)));
      }
      return;
    }
    case 2: case 3:
      if (l->tensors) mutate_tensor(r, d, l);
      return;
    case 4: case 5:
      if (l->nodes) mutate_node(r, d, l);
      return;
    case 6:
      if (l->io)
        mutate_u32(r, d + l->offset[SBN_SECTION_NODE_IO] + SBN_TABLE_HEADER_SIZE + 4 * (size_t)below(r, l->io),
                   l->tensors);
      return;
    case 7: {
      uint8_t* graph = d + l->offset[SBN_SECTION_GRAPH];
      if (l->graph_words)
        mutate_u32(r, graph + SBN_TABLE_HEADER_SIZE + 4 * (size_t)below(r, l->graph_words), l->tensors);
      else if (l->size[SBN_SECTION_GRAPH] >= SBN_TABLE_HEADER_SIZE) mutate_u32(r, graph + 4 * below(r, 2), 0);
      return;
    }
    case 8:
      if (l->nodes > 1) swap_nodes(r, d, l);
      return;
    default:
      if (l->tensors && !mutate_i32_constant(r, d, l) && l->nodes) mutate_node(r, d, l);
      return;
  }
}

size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  rng r = {seed * 0x9e3779b97f4a7c15ull + 1};
  layout l;
  find_layout(data, size, &l);
  uint32_t choice = below(&r, 16);
  if (size < SBN_HEADER_SIZE || l.size[SBN_SECTION_TENSORS] == 0 || choice < 3) {
    size = LLVMFuzzerMutate(data, size, max_size);
    if (choice != 0) sb_fuzz_fix_crcs(data, size);
    return size;
  }
  int rounds = 1 + (int)below(&r, 3);
  for (int i = 0; i < rounds; i++) structural_mutation(&r, data, size, &l);
  if (choice != 3) sb_fuzz_fix_crcs(data, size); /* now and then leave the CRCs stale */
  return size;
}
