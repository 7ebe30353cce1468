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
  if (size < SBN_HEADER_SIZE) return;
  uint32_t count = get32(data + SBN_HDR_SECTION_COUNT);
  if (count > SBN_MAX_SECTIONS) count = SBN_MAX_SECTIONS;
  uint64_t table_end = SBN_HEADER_SIZE + (uint64_t)count * SBN_SECTION_ENTRY_SIZE;
  for (uint32_t i = 0; i < count && SBN_HEADER_SIZE + (uint64_t)(i + 1) * SBN_SECTION_ENTRY_SIZE <= size; i++) {
    uint8_t* e = data + SBN_HEADER_SIZE + (size_t)i * SBN_SECTION_ENTRY_SIZE;
    uint64_t offset = get64(e + SBN_SEC_OFFSET), length = get64(e + SBN_SEC_SIZE);
    if (offset <= size && length <= size - offset) put32(e + SBN_SEC_CRC, sb_crc32(data + offset, (size_t)length));
  }
  if (table_end <= size)
    put32(data + SBN_HDR_TABLE_CRC, sb_crc32(data + SBN_HEADER_SIZE, (size_t)(table_end - SBN_HEADER_SIZE)));
  put32(data + SBN_HDR_CRC, sb_crc32(data, SBN_HDR_CRC));
}
