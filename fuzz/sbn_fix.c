/* CRC repair for mutated .sbn images (see sbn_fuzz.h). Tolerates any garbage: only fields inside the buffer are read
 * or written. */
#include "engine/src/internal.h"
#include "fuzz/sbn_fuzz.h"

static uint32_t get32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const uint8_t* p) { return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32); }
static void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void sb_fuzz_fix_crcs(uint8_t* data, size_t size) {
  if (size < 64) return;
  uint32_t count = get32(data + 12);
  if (count > 64) count = 64;
  uint64_t table_end = 64 + (uint64_t)count * 32;
  for (uint32_t i = 0; i < count && 64 + (uint64_t)(i + 1) * 32 <= size; i++) {
    uint8_t* e = data + 64 + (size_t)i * 32;
    uint64_t offset = get64(e + 8), length = get64(e + 16);
    if (offset <= size && length <= size - offset) put32(e + 24, sb_crc32(data + offset, (size_t)length));
  }
  if (table_end <= size) put32(data + 36, sb_crc32(data + 64, (size_t)(table_end - 64)));
  put32(data + 60, sb_crc32(data, 60));
}
