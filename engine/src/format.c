/* Parses the .sbn bytes (docs/format.md) into the model's tensor and node tables. Every offset, size and count is
 * checked before it is used, with 64-bit arithmetic, so a corrupt or truncated file gives an error, never a read
 * outside the buffer. Graph-level checks (order, producers, shapes) follow in validate.c. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char* const section_names[SBN_SECTION_TYPES + 1] = {"?",     "STRINGS", "TENSORS", "NODES",
                                                             "NODE_IO", "GRAPH", "WEIGHTS", "METADATA"};

typedef struct section {
  uint32_t type;
  uint64_t offset, size;
  const uint8_t* data;
} section;

static uint16_t rd16(const uint8_t* p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const uint8_t* p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }
static float rdf32(const uint8_t* p) {
  uint32_t u = rd32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

sb_status sb_format_check_header(const uint8_t* b, uint64_t actual_size) {
  if (memcmp(b + SBN_HDR_MAGIC, SBN_MAGIC, SBN_MAGIC_SIZE) != 0)
    return sb_fail(SB_ERR_FORMAT, "bad magic %02x %02x %02x %02x: not a .sbn file (expected 53 42 4e 00)", b[0], b[1],
                   b[2], b[3]);
  uint16_t major = rd16(b + SBN_HDR_VERSION_MAJOR), minor = rd16(b + SBN_HDR_VERSION_MINOR);
  if (major != SB_VERSION_MAJOR || minor > SB_VERSION_MINOR)
    return sb_fail(SB_ERR_VERSION, "unsupported format version %u.%u (this engine reads %d.0 to %d.%d)", major, minor,
                   SB_VERSION_MAJOR, SB_VERSION_MAJOR, SB_VERSION_MINOR);
  uint32_t header_crc = rd32(b + SBN_HDR_CRC), computed = sb_crc32(b, SBN_HDR_CRC);
  if (header_crc != computed)
    return sb_fail(SB_ERR_FORMAT, "header CRC mismatch (stored %08x, computed %08x)", header_crc, computed);
  if (rd32(b + SBN_HDR_HEADER_SIZE) != SBN_HEADER_SIZE)
    return sb_fail(SB_ERR_FORMAT, "header_size is %u, expected %d", rd32(b + SBN_HDR_HEADER_SIZE), SBN_HEADER_SIZE);
  uint64_t file_size = rd64(b + SBN_HDR_FILE_SIZE);
  if (file_size > actual_size)
    return sb_fail(SB_ERR_FORMAT, "file is truncated: header says %llu bytes, got %llu", (unsigned long long)file_size,
                   (unsigned long long)actual_size);
  if (file_size != actual_size)
    return sb_fail(SB_ERR_FORMAT, "file size mismatch: header says %llu bytes, got %llu (trailing data)",
                   (unsigned long long)file_size, (unsigned long long)actual_size);
  return SB_OK;
}

static sb_status parse_header(const sb_model* m, uint32_t* section_count) {
  const uint8_t* b = m->bytes;
  if (m->size < SBN_HEADER_SIZE)
    return sb_fail(SB_ERR_FORMAT, "file is truncated: %zu bytes, the header alone needs %d", m->size,
                   SBN_HEADER_SIZE);
  sb_status st = sb_format_check_header(b, m->size);
  if (st != SB_OK) return st;
  if (rd32(b + SBN_HDR_FLAGS) != 0)
    return sb_fail(SB_ERR_FORMAT, "header flags are %08x, expected 0", rd32(b + SBN_HDR_FLAGS));
  *section_count = rd32(b + SBN_HDR_SECTION_COUNT);
  if (*section_count < 1 || *section_count > SBN_MAX_SECTIONS)
    return sb_fail(SB_ERR_FORMAT, "section_count %u out of range 1..%d", *section_count, SBN_MAX_SECTIONS);
  if (rd64(b + SBN_HDR_TABLE_OFFSET) != SBN_HEADER_SIZE)
    return sb_fail(SB_ERR_FORMAT, "section_table_offset is %llu, expected %d",
                   (unsigned long long)rd64(b + SBN_HDR_TABLE_OFFSET), SBN_HEADER_SIZE);
  uint64_t table_end = SBN_HEADER_SIZE + (uint64_t)*section_count * SBN_SECTION_ENTRY_SIZE;
  if (table_end > m->size)
    return sb_fail(SB_ERR_FORMAT, "section table (%u entries) ends at %llu, past the end of the file (%zu bytes)",
                   *section_count, (unsigned long long)table_end, m->size);
  uint32_t table_crc = rd32(b + SBN_HDR_TABLE_CRC);
  uint32_t computed = sb_crc32(b + SBN_HEADER_SIZE, (size_t)(table_end - SBN_HEADER_SIZE));
  if (table_crc != computed)
    return sb_fail(SB_ERR_FORMAT, "section table CRC mismatch (stored %08x, computed %08x)", table_crc, computed);
  return SB_OK;
}

static sb_status parse_sections(const sb_model* m, uint32_t count, section found[SBN_SECTION_TYPES + 1]) {
  const uint8_t* table = m->bytes + SBN_HEADER_SIZE;
  uint64_t table_end = SBN_HEADER_SIZE + (uint64_t)count * SBN_SECTION_ENTRY_SIZE;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t* e = table + (size_t)i * SBN_SECTION_ENTRY_SIZE;
    uint32_t type = rd32(e + SBN_SEC_TYPE);
    uint64_t offset = rd64(e + SBN_SEC_OFFSET), size = rd64(e + SBN_SEC_SIZE);
    if (type < 1 || type > SBN_SECTION_TYPES) return sb_fail(SB_ERR_FORMAT, "section %u: unknown section type %u", i, type);
    const char* name = section_names[type];
    if (found[type].data) return sb_fail(SB_ERR_FORMAT, "section %s appears more than once", name);
    if (rd32(e + SBN_SEC_FLAGS) != 0 || rd32(e + SBN_SEC_RESERVED) != 0)
      return sb_fail(SB_ERR_FORMAT, "section %s: reserved flags/fields are not zero", name);
    if (offset % SB_ALIGN != 0)
      return sb_fail(SB_ERR_FORMAT, "section %s: offset %llu is not a multiple of 64", name,
                     (unsigned long long)offset);
    if (offset < table_end)
      return sb_fail(SB_ERR_FORMAT, "section %s: offset %llu overlaps the header or section table (ends at %llu)", name,
                     (unsigned long long)offset, (unsigned long long)table_end);
    if (offset > m->size || size > m->size - offset)
      return sb_fail(SB_ERR_FORMAT, "section %s: bytes [%llu, +%llu) lie outside the file (%zu bytes)", name,
                     (unsigned long long)offset, (unsigned long long)size, m->size);
    found[type].type = type;
    found[type].offset = offset;
    found[type].size = size;
    found[type].data = m->bytes + offset;
  }
  for (uint32_t t = SBN_SECTION_STRINGS; t <= SBN_SECTION_WEIGHTS; t++)
    if (!found[t].data) return sb_fail(SB_ERR_FORMAT, "required section %s is missing", section_names[t]);
  /* Overlap: compare every pair (at most 7 sections). */
  for (uint32_t a = 1; a <= SBN_SECTION_TYPES; a++) {
    for (uint32_t c = a + 1; c <= SBN_SECTION_TYPES; c++) {
      if (!found[a].data || !found[c].data) continue;
      uint64_t a0 = found[a].offset, a1 = a0 + found[a].size, c0 = found[c].offset, c1 = c0 + found[c].size;
      if (a0 < c1 && c0 < a1)
        return sb_fail(SB_ERR_FORMAT, "sections %s [%llu, %llu) and %s [%llu, %llu) overlap", section_names[a],
                       (unsigned long long)a0, (unsigned long long)a1, section_names[c], (unsigned long long)c0,
                       (unsigned long long)c1);
    }
  }
  /* Padding between and after sections must be zero, so that no byte of the file escapes every check. */
  const section* sorted[SBN_SECTION_TYPES];
  int present = 0;
  for (uint32_t t = 1; t <= SBN_SECTION_TYPES; t++) {
    if (!found[t].data) continue;
    int at = present++;
    while (at > 0 && sorted[at - 1]->offset > found[t].offset) {
      sorted[at] = sorted[at - 1];
      at--;
    }
    sorted[at] = &found[t];
  }
  uint64_t cursor = table_end;
  for (int i = 0; i <= present; i++) {
    uint64_t gap_end = i < present ? sorted[i]->offset : m->size;
    for (uint64_t p = cursor; p < gap_end; p++)
      if (m->bytes[p] != 0)
        return sb_fail(SB_ERR_FORMAT, "padding byte at offset %llu is not zero", (unsigned long long)p);
    if (i < present) cursor = sorted[i]->offset + sorted[i]->size;
  }
  for (uint32_t t = 1; t <= SBN_SECTION_TYPES; t++) {
    if (!found[t].data) continue;
    const uint8_t* crc_field = table;
    for (uint32_t i = 0; i < count; i++)
      if (rd32(table + (size_t)i * SBN_SECTION_ENTRY_SIZE + SBN_SEC_TYPE) == t)
        crc_field = table + (size_t)i * SBN_SECTION_ENTRY_SIZE + SBN_SEC_CRC;
    uint32_t stored = rd32(crc_field), computed = sb_crc32(found[t].data, (size_t)found[t].size);
    if (stored != computed)
      return sb_fail(SB_ERR_FORMAT, "section %s CRC mismatch (stored %08x, computed %08x)", section_names[t], stored,
                     computed);
  }
  return SB_OK;
}

/* A table section is `u32 count, u32 reserved` then count entries of entry_size bytes, exactly filling it. */
static sb_status table_count(const section* s, uint64_t entry_size, uint32_t* count) {
  const char* name = section_names[s->type];
  if (s->size < 8) return sb_fail(SB_ERR_FORMAT, "section %s: %llu bytes, too small for its count", name,
                                  (unsigned long long)s->size);
  *count = rd32(s->data);
  if (rd32(s->data + 4) != 0) return sb_fail(SB_ERR_FORMAT, "section %s: reserved word is not zero", name);
  uint64_t expected = SBN_TABLE_HEADER_SIZE + (uint64_t)*count * entry_size;
  if (expected != s->size)
    return sb_fail(SB_ERR_FORMAT, "section %s: count %u needs %llu bytes, the section has %llu", name, *count,
                   (unsigned long long)expected, (unsigned long long)s->size);
  return SB_OK;
}

/* Copies a STRINGS slice into the names buffer as a C string. */
static sb_status read_name(const section* strings, uint32_t offset, uint32_t length, char** cursor, const char* what,
                           uint32_t index, const char** out) {
  if (length < 1 || length > SBN_MAX_NAME)
    return sb_fail(SB_ERR_FORMAT, "%s %u: name length %u out of range 1..%d", what, index, length, SBN_MAX_NAME);
  if ((uint64_t)offset + length > strings->size)
    return sb_fail(SB_ERR_FORMAT, "%s %u: name slice [%u, +%u) outside STRINGS (%llu bytes)", what, index, offset,
                   length, (unsigned long long)strings->size);
  const uint8_t* s = strings->data + offset;
  if (memchr(s, 0, length)) return sb_fail(SB_ERR_FORMAT, "%s %u: name contains a NUL byte", what, index);
  memcpy(*cursor, s, length);
  (*cursor)[length] = '\0';
  *out = *cursor;
  *cursor += length + 1;
  return SB_OK;
}

static sb_status parse_tensor(sb_model* m, const section* sec, uint32_t i, char** cursor) {
  const uint8_t* e = sec[SBN_SECTION_TENSORS].data + SBN_TABLE_HEADER_SIZE + (size_t)i * SBN_TENSOR_ENTRY_SIZE;
  sb_tensor* t = &m->tensors[i];
  sb_status st = read_name(&sec[SBN_SECTION_STRINGS], rd32(e + SBN_TENSOR_NAME_OFFSET), rd32(e + SBN_TENSOR_NAME_LENGTH),
                           cursor, "tensor", i, &t->name);
  if (st != SB_OK) return st;
  uint32_t dtype = rd32(e + SBN_TENSOR_DTYPE), rank = rd32(e + SBN_TENSOR_RANK), flags = rd32(e + SBN_TENSOR_FLAGS);
  if (dtype != SB_DTYPE_F32 && dtype != SB_DTYPE_I32)
    return sb_fail(SB_ERR_FORMAT, "tensor '%s': unknown dtype %u (1 = f32, 2 = i32)", t->name, dtype);
  if (rank > SB_MAX_RANK) return sb_fail(SB_ERR_FORMAT, "tensor '%s': rank %u > %d", t->name, rank, SB_MAX_RANK);
  if (flags & ~SBN_TENSOR_FLAG_CONSTANT) return sb_fail(SB_ERR_FORMAT, "tensor '%s': unknown flags %08x", t->name, flags);
  if (rd32(e + SBN_TENSOR_RESERVED) != 0) return sb_fail(SB_ERR_FORMAT, "tensor '%s': reserved field is not zero", t->name);
  t->dtype = (int32_t)dtype;
  t->rank = (int32_t)rank;
  t->is_constant = (int)(flags & SBN_TENSOR_FLAG_CONSTANT);
  t->producer = -1;
  uint64_t count = 1;
  for (uint32_t d = 0; d < SB_MAX_RANK; d++) {
    uint32_t dim = rd32(e + SBN_TENSOR_DIMS + 4 * d);
    if (d >= rank) {
      if (dim != 0) return sb_fail(SB_ERR_FORMAT, "tensor '%s': dims[%u]=%u beyond rank %u must be 0", t->name, d, dim, rank);
      continue;
    }
    if (dim > SB_MAX_DIM) return sb_fail(SB_ERR_FORMAT, "tensor '%s': dims[%u]=%u exceeds the cap 2^24", t->name, d, dim);
    if (dim == 0 && !t->is_constant)
      return sb_fail(SB_ERR_FORMAT, "tensor '%s': dims[%u] is 0 (only constants may be empty)", t->name, d);
    t->dims[d] = (int32_t)dim;
    count *= dim;
    if (count * 4 > SB_MAX_TENSOR_BYTES)
      return sb_fail(SB_ERR_NOMEM, "tensor '%s': more than 2^31 bytes", t->name);
  }
  t->count = (size_t)count;
  uint64_t data_offset = rd64(e + SBN_TENSOR_DATA_OFFSET), data_size = rd64(e + SBN_TENSOR_DATA_SIZE);
  if (!t->is_constant) {
    if (dtype != SB_DTYPE_F32) return sb_fail(SB_ERR_FORMAT, "tensor '%s': activations must be f32", t->name);
    if (data_offset != 0 || data_size != 0)
      return sb_fail(SB_ERR_FORMAT, "tensor '%s': not a constant but has data_offset/data_size", t->name);
    return SB_OK;
  }
  const section* w = &sec[SBN_SECTION_WEIGHTS];
  if (data_size != count * 4)
    return sb_fail(SB_ERR_FORMAT, "tensor '%s': data_size %llu, but %llu elements need %llu bytes", t->name,
                   (unsigned long long)data_size, (unsigned long long)count, (unsigned long long)(count * 4));
  if (data_offset % SB_ALIGN != 0)
    return sb_fail(SB_ERR_FORMAT, "tensor '%s': data_offset %llu is not a multiple of 64", t->name,
                   (unsigned long long)data_offset);
  if (data_offset > w->size || data_size > w->size - data_offset)
    return sb_fail(SB_ERR_FORMAT, "tensor '%s': data [%llu, +%llu) outside WEIGHTS (%llu bytes)", t->name,
                   (unsigned long long)data_offset, (unsigned long long)data_size, (unsigned long long)w->size);
  t->const_data = w->data + data_offset;
  return SB_OK;
}

static sb_status parse_node(sb_model* m, const section* sec, uint32_t i, uint32_t io_count, char** cursor) {
  const uint8_t* e = sec[SBN_SECTION_NODES].data + SBN_TABLE_HEADER_SIZE + (size_t)i * SBN_NODE_ENTRY_SIZE;
  sb_node* n = &m->nodes[i];
  sb_status st = read_name(&sec[SBN_SECTION_STRINGS], rd32(e + SBN_NODE_NAME_OFFSET), rd32(e + SBN_NODE_NAME_LENGTH),
                           cursor, "node", i, &n->name);
  if (st != SB_OK) return st;
  uint32_t op = rd32(e + SBN_NODE_OP), in_count = rd32(e + SBN_NODE_INPUT_COUNT);
  uint32_t out_count = rd32(e + SBN_NODE_OUTPUT_COUNT), io_start = rd32(e + SBN_NODE_IO_START);
  uint32_t act = rd32(e + SBN_NODE_ACT_KIND);
  n->op = (int32_t)op;
  n->def = sb_op_def_for(n->op);
  if (!n->def) return sb_fail(SB_ERR_UNSUPPORTED, "node '%s': unknown operator code %u", n->name, op);
  if (in_count < 1 || in_count > SB_MAX_NODE_INPUTS)
    return sb_fail(SB_ERR_FORMAT, "node '%s' (%s): input_count %u out of range 1..64", n->name, n->def->name, in_count);
  if (out_count != 1)
    return sb_fail(SB_ERR_FORMAT, "node '%s' (%s): output_count %u, expected 1", n->name, n->def->name, out_count);
  if ((uint64_t)io_start + in_count + out_count > io_count)
    return sb_fail(SB_ERR_FORMAT, "node '%s' (%s): io slice [%u, +%u) outside NODE_IO (%u entries)", n->name,
                   n->def->name, io_start, in_count + out_count, io_count);
  if (act >= SB_ACT_COUNT)
    return sb_fail(SB_ERR_FORMAT, "node '%s' (%s): unknown activation kind %u", n->name, n->def->name, act);
  if (rd32(e + SBN_NODE_RESERVED) != 0) return sb_fail(SB_ERR_FORMAT, "node '%s': reserved field is not zero", n->name);
  n->act.kind = (int32_t)act;
  n->act.p0 = rdf32(e + SBN_NODE_ACT_PARAM0);
  n->act.p1 = rdf32(e + SBN_NODE_ACT_PARAM1);
  for (int a = 0; a < SB_NUM_ATTRS; a++) n->attrs[a] = (int32_t)rd32(e + SBN_NODE_ATTRS + 4 * a);
  n->num_inputs = (int32_t)in_count;
  n->inputs = m->node_io + io_start;
  n->output = m->node_io[io_start + in_count];
  return SB_OK;
}

static sb_status parse_graph(sb_model* m, const section* g) {
  if (g->size < SBN_TABLE_HEADER_SIZE) return sb_fail(SB_ERR_FORMAT, "section GRAPH: %llu bytes, too small", (unsigned long long)g->size);
  uint32_t in = rd32(g->data), out = rd32(g->data + 4);
  if (in < 1 || in > SB_MAX_GRAPH_IO || out < 1 || out > SB_MAX_GRAPH_IO)
    return sb_fail(SB_ERR_FORMAT, "section GRAPH: %u inputs and %u outputs, each must be 1..16", in, out);
  if (g->size != SBN_TABLE_HEADER_SIZE + 4 * (uint64_t)(in + out))
    return sb_fail(SB_ERR_FORMAT, "section GRAPH: %u inputs + %u outputs need %u bytes, the section has %llu", in, out,
                   SBN_TABLE_HEADER_SIZE + 4 * (in + out), (unsigned long long)g->size);
  m->num_inputs = (int32_t)in;
  m->num_outputs = (int32_t)out;
  for (uint32_t i = 0; i < in + out; i++) {
    uint32_t t = rd32(g->data + SBN_TABLE_HEADER_SIZE + 4 * i);
    if (t >= (uint32_t)m->num_tensors)
      return sb_fail(SB_ERR_FORMAT, "graph %s %u: tensor index %u out of range (%d tensors)",
                     i < in ? "input" : "output", i < in ? i : i - in, t, m->num_tensors);
    if (i < in)
      m->inputs[i] = (int32_t)t;
    else
      m->outputs[i - in] = (int32_t)t;
  }
  return SB_OK;
}

sb_status sb_format_parse(sb_model* m) {
  uint32_t section_count = 0;
  sb_status st = parse_header(m, &section_count);
  if (st != SB_OK) return st;
  section sec[SBN_SECTION_TYPES + 1];
  memset(sec, 0, sizeof sec);
  if ((st = parse_sections(m, section_count, sec)) != SB_OK) return st;

  uint32_t num_tensors, num_nodes, io_count;
  if ((st = table_count(&sec[SBN_SECTION_TENSORS], SBN_TENSOR_ENTRY_SIZE, &num_tensors)) != SB_OK) return st;
  if ((st = table_count(&sec[SBN_SECTION_NODES], SBN_NODE_ENTRY_SIZE, &num_nodes)) != SB_OK) return st;
  if ((st = table_count(&sec[SBN_SECTION_NODE_IO], 4, &io_count)) != SB_OK) return st;
  if (num_tensors < 1) return sb_fail(SB_ERR_FORMAT, "section TENSORS: no tensors");
  /* Counts are bounded by the section sizes, which are bounded by the file, so these allocations are too. */
  m->num_tensors = (int32_t)num_tensors;
  m->num_nodes = (int32_t)num_nodes;
  m->tensors = calloc(num_tensors, sizeof *m->tensors);
  m->nodes = calloc(num_nodes ? num_nodes : 1, sizeof *m->nodes);
  m->node_io = calloc(io_count ? io_count : 1, sizeof *m->node_io);
  m->names = malloc(((size_t)num_tensors + num_nodes) * (SBN_MAX_NAME + 1));
  if (!m->tensors || !m->nodes || !m->node_io || !m->names) return sb_fail(SB_ERR_NOMEM, "out of memory reading tables");
  m->weight_bytes = (size_t)sec[SBN_SECTION_WEIGHTS].size;
  m->metadata = sec[SBN_SECTION_METADATA].data; /* NULL when absent */
  m->metadata_size = (size_t)sec[SBN_SECTION_METADATA].size;
  m->version_minor = rd16(m->bytes + SBN_HDR_VERSION_MINOR);

  for (uint32_t i = 0; i < io_count; i++) {
    uint32_t t = rd32(sec[SBN_SECTION_NODE_IO].data + SBN_TABLE_HEADER_SIZE + 4 * (size_t)i);
    if (t >= num_tensors)
      return sb_fail(SB_ERR_FORMAT, "NODE_IO[%u]: tensor index %u out of range (%u tensors)", i, t, num_tensors);
    m->node_io[i] = (int32_t)t;
  }
  char* cursor = m->names;
  for (uint32_t i = 0; i < num_tensors; i++)
    if ((st = parse_tensor(m, sec, i, &cursor)) != SB_OK) return st;
  for (uint32_t i = 0; i < num_nodes; i++)
    if ((st = parse_node(m, sec, i, io_count, &cursor)) != SB_OK) return st;
  return parse_graph(m, &sec[SBN_SECTION_GRAPH]);
}
