/* C test of the public API (engine/include/sparsebyte.h), run under ASan/UBSan by test_api.py.
 * usage: test_api ELEMENTWISE_MODEL.sbn FUZZ_ITERATIONS [MORE_MODELS_TO_FUZZ.sbn...]
 * The model is tests/engine/models.py elementwise_model: inputs a, b [2,3,4,5]; outputs act [2,6,4,5], flat [2,60];
 * intermediate "sum" = relu(a + b). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbn_layout.h" /* engine/src: field offsets for the CRC repair */
#include "sparsebyte.h"

static int failures;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, sb_last_error()); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static uint8_t* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* data = malloc((size_t)n);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return data;
}

static float* run_outputs(sb_model* m, const float* a, const float* b, size_t n_in, size_t* n_out) {
  CHECK(sb_model_set_input(m, 0, a, n_in) == SB_OK);
  CHECK(sb_model_set_input(m, 1, b, n_in) == SB_OK);
  CHECK(sb_model_run(m) == SB_OK);
  sb_tensor_info o0, o1;
  sb_model_output_info(m, 0, &o0);
  sb_model_output_info(m, 1, &o1);
  float* out = malloc((o0.count + o1.count) * sizeof(float));
  CHECK(sb_model_get_output(m, 0, out, o0.count) == SB_OK);
  CHECK(sb_model_get_output(m, 1, out + o0.count, o1.count) == SB_OK);
  *n_out = o0.count + o1.count;
  return out;
}

/* ---- CRC repair for the fuzz loop (independent of the engine's crc32.c) ---- */
static uint32_t crc32_bytes(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}
static uint32_t rd32(const uint8_t* p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t* p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void fix_crcs(uint8_t* d, size_t size) {
  uint32_t count = rd32(d + SBN_HDR_SECTION_COUNT);
  size_t table_bytes = (size_t)count * SBN_SECTION_ENTRY_SIZE;
  if (count > SBN_MAX_SECTIONS || SBN_HEADER_SIZE + table_bytes > size) {
    count = 0;
    table_bytes = 0;
  }
  for (uint32_t i = 0; i < count; i++) {
    uint8_t* e = d + SBN_HEADER_SIZE + SBN_SECTION_ENTRY_SIZE * i;
    uint64_t off = rd64(e + SBN_SEC_OFFSET), len = rd64(e + SBN_SEC_SIZE);
    if (off <= size && len <= size - off) wr32(e + SBN_SEC_CRC, crc32_bytes(d + off, (size_t)len));
  }
  if (SBN_HEADER_SIZE + table_bytes <= size) wr32(d + SBN_HDR_TABLE_CRC, crc32_bytes(d + SBN_HEADER_SIZE, table_bytes));
  wr32(d + SBN_HDR_CRC, crc32_bytes(d, SBN_HDR_CRC));
}

static uint64_t rng_state = 12345;
static uint32_t next_u32(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}

/* Mutates 1-3 aligned words after the header to edge values, repairs the CRCs, loads and (if valid) runs. */
static void fuzz(const uint8_t* base, size_t size, int iterations) {
  static const uint32_t edges[] = {0, 1, 2, 3, 4, 7, 8, 63, 64, 65, 255, 256, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu,
                                   0xFFFFFFFEu, 1u << 24, (1u << 24) + 1};
  uint8_t* d = malloc(size);
  int loaded = 0;
  for (int it = 0; it < iterations; it++) {
    memcpy(d, base, size);
    int words = 1 + (int)(next_u32() % 3);
    for (int w = 0; w < words; w++) {
      size_t pos = 16 + 4 * (size_t)(next_u32() % (uint32_t)((size - 16) / 4));
      uint32_t v = next_u32() % 3 == 0 ? next_u32() : edges[next_u32() % (sizeof edges / sizeof edges[0])];
      if (next_u32() % 4 == 0) v = rd32(d + pos) + (next_u32() % 2 ? 1u : 0xFFFFFFFFu);
      wr32(d + pos, v);
    }
    fix_crcs(d, size);
    sb_model* m = NULL;
    sb_status st = sb_model_load_memory(d, size, &m);
    if (st == SB_OK) {
      loaded++;
      size_t meta_size = 0;
      const char* meta = sb_model_metadata(m, &meta_size); /* inside the copy: ASan checks every byte */
      unsigned sum = 0;
      for (size_t k = 0; meta && k < meta_size; k++) sum += (unsigned char)meta[k];
      CHECK(meta != NULL || (meta_size == 0 && sum == 0));
      for (int i = 0; i < sb_model_num_inputs(m); i++) {
        sb_tensor_info info;
        sb_model_input_info(m, i, &info);
        float* zeros = calloc(info.count, sizeof(float));
        sb_model_set_input(m, i, zeros, info.count);
        free(zeros);
      }
      sb_model_set_threads(m, 1 + it % 2);
      CHECK(sb_model_run(m) == SB_OK);
      sb_model_free(m);
    } else {
      CHECK(m == NULL);
      CHECK(strlen(sb_last_error()) > 0);
    }
  }
  printf("fuzz: %d iterations, %d mutants still valid\n", iterations, loaded);
  free(d);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: test_api MODEL.sbn FUZZ_ITERATIONS [MODEL.sbn...]\n");
    return 2;
  }
  size_t size = 0;
  uint8_t* bytes = read_file(argv[1], &size);
  CHECK(bytes != NULL);
  if (!bytes) return 1;

  /* load_memory copies: the caller's buffer may be released at once */
  uint8_t* scratch = malloc(size);
  memcpy(scratch, bytes, size);
  sb_model* m = NULL;
  CHECK(sb_model_load_memory(scratch, size, &m) == SB_OK);
  memset(scratch, 0xAB, size);
  free(scratch);
  if (!m) return 1;
  CHECK(strcmp(sb_last_error(), "") == 0);

  /* io info */
  CHECK(sb_model_num_inputs(m) == 2 && sb_model_num_outputs(m) == 2);
  sb_tensor_info info;
  CHECK(sb_model_input_info(m, 1, &info) == SB_OK);
  CHECK(strcmp(info.name, "b") == 0 && info.rank == 4 && info.dims[0] == 2 && info.dims[1] == 3 &&
        info.dims[2] == 4 && info.dims[3] == 5 && info.count == 120);
  CHECK(sb_model_output_info(m, 1, &info) == SB_OK);
  CHECK(strcmp(info.name, "flat") == 0 && info.rank == 2 && info.dims[1] == 60);
  CHECK(sb_model_input_info(m, 2, &info) == SB_ERR_ARGUMENT);
  CHECK(strstr(sb_last_error(), "input index 2 out of range") != NULL);
  CHECK(sb_model_weight_bytes(m) > 0 && sb_model_arena_bytes(m) > 0);
  CHECK(sb_model_num_nodes(m) == 7);
  CHECK(sb_model_find_tensor(m, "nope") == -1);

  /* what load decided, before any run: op, kernel and its family, MACs; the METADATA bytes; the format version */
  sb_node_profile before;
  CHECK(sb_model_node_profile(m, 0, &before) == SB_OK);
  CHECK(strcmp(before.name, "add") == 0 && strcmp(before.op, "ADD") == 0 && before.time_ms == 0.0);
  CHECK(strcmp(before.kernel_family, "f32_vadd") == 0 && strstr(before.kernel, "vadd") != NULL);
  CHECK(sb_model_node_profile(m, 3, &before) == SB_OK);
  CHECK(strcmp(before.op, "CONCAT") == 0 && strcmp(before.kernel, "ref_concat") == 0);
  CHECK(strcmp(before.kernel_family, "") == 0); /* built-in code, not a registry kernel */
  size_t meta_size = 1;
  const char* meta = sb_model_metadata(m, &meta_size);
  static const char expected_meta[] = "{\"producer\": \"tests/engine\"}"; /* tests/engine/models.py Case.bytes */
  CHECK(meta != NULL && meta_size == sizeof expected_meta - 1 && memcmp(meta, expected_meta, meta_size) == 0);
  CHECK(sb_model_metadata(NULL, &meta_size) == NULL && meta_size == 0);
  int major = -1, minor = -1;
  CHECK(sb_model_format_version(m, &major, &minor) == SB_OK && major == 1 && minor == 0);
  CHECK(sb_model_format_version(m, NULL, &minor) == SB_ERR_ARGUMENT);
  CHECK(sb_model_find_tensor(m, "scale") >= 0);

  /* set_input size mismatch */
  float a[120], b[120];
  for (int i = 0; i < 120; i++) {
    a[i] = (float)((i * 37) % 23) / 7.0f - 1.5f;
    b[i] = (float)((i * 11) % 17) / 5.0f - 1.2f;
  }
  CHECK(sb_model_set_input(m, 0, a, 119) == SB_ERR_ARGUMENT);
  CHECK(strstr(sb_last_error(), "input 'a': got 119 elements, the tensor has 120") != NULL);
  CHECK(sb_model_set_input(m, 5, a, 120) == SB_ERR_ARGUMENT);
  float small[4];
  CHECK(sb_model_get_output(m, 0, small, 4) == SB_ERR_ARGUMENT);

  /* run, threads 1 vs 2 bit-identical, repeated runs stable */
  size_t n1 = 0, n2 = 0;
  float* out1 = run_outputs(m, a, b, 120, &n1);
  CHECK(sb_model_set_threads(m, 2) == SB_OK);
  float* out2 = run_outputs(m, a, b, 120, &n2);
  CHECK(n1 == n2 && memcmp(out1, out2, n1 * sizeof(float)) == 0);
  CHECK(sb_model_run(m) == SB_OK); /* again without set_input: inputs are kept */
  float* again = malloc(n1 * sizeof(float));
  sb_model_get_output(m, 0, again, 240);
  CHECK(memcmp(again, out1, 240 * sizeof(float)) == 0);
  CHECK(sb_model_set_threads(m, 0) == SB_ERR_ARGUMENT);

  /* profile */
  sb_node_profile p;
  CHECK(sb_model_set_profiling(m, 1) == SB_OK);
  CHECK(sb_model_run(m) == SB_OK);
  static const char* const ops[] = {"ADD", "MUL", "ADD", "CONCAT", "CHANNEL_AFFINE", "ACTIVATION", "RESHAPE"};
  for (int i = 0; i < 7; i++) {
    CHECK(sb_model_node_profile(m, i, &p) == SB_OK);
    CHECK(strcmp(p.op, ops[i]) == 0);
    CHECK(p.kernel && p.kernel[0] != '\0');
    CHECK(p.time_ms >= 0.0);
  }
  CHECK(sb_model_node_profile(m, 1, &p) == SB_OK && strstr(p.kernel, "vmulc") != NULL);
  CHECK(sb_model_node_profile(m, 2, &p) == SB_OK && strcmp(p.kernel, "ref_broadcast_add") == 0);
  CHECK(sb_model_node_profile(m, 7, &p) == SB_ERR_ARGUMENT);

  /* keep_intermediates */
  int sum = sb_model_find_tensor(m, "sum");
  CHECK(sum >= 0);
  float got[120];
  CHECK(sb_model_get_tensor(m, sum, got, 120) == SB_ERR_ARGUMENT);
  CHECK(strstr(sb_last_error(), "sb_model_set_keep_intermediates") != NULL);
  size_t planned = sb_model_arena_bytes(m);
  CHECK(sb_model_set_keep_intermediates(m, 1) == SB_OK);
  CHECK(sb_model_arena_bytes(m) > planned);
  CHECK(sb_model_run(m) == SB_OK); /* inputs survive re-planning */
  CHECK(sb_model_get_tensor(m, sum, got, 120) == SB_OK);
  for (int i = 0; i < 120; i++) CHECK(got[i] == fmaxf(a[i] + b[i], 0.0f));
  sb_model_get_output(m, 0, again, 240);
  CHECK(memcmp(again, out1, 240 * sizeof(float)) == 0);
  CHECK(sb_model_get_tensor(m, sb_model_find_tensor(m, "scale"), got, 3) == SB_OK); /* constants are readable */
  CHECK(sb_model_tensor_info(m, sum, &info) == SB_OK && strcmp(info.name, "sum") == 0 && info.count == 120);
  CHECK(sb_model_set_keep_intermediates(m, 0) == SB_OK && sb_model_arena_bytes(m) == planned);

  /* sb_model_infer: inputs, run and outputs in one call; a bad count anywhere leaves the inputs untouched */
  float c[120], o0[240], o1[120], inf0[240], inf1[120];
  for (int i = 0; i < 120; i++) c[i] = (float)((i * 5) % 13) / 3.0f - 2.0f;
  const float* ins[2] = {a, b};
  float* outs[2] = {inf0, inf1};
  size_t in_counts[2] = {120, 120}, out_counts[2] = {240, 120};
  CHECK(sb_model_infer(m, ins, in_counts, outs, out_counts) == SB_OK);
  CHECK(memcmp(inf0, out1, 240 * sizeof(float)) == 0 && memcmp(inf1, out1 + 240, 120 * sizeof(float)) == 0);
  const float* bad_ins[2] = {c, a};
  size_t bad_in_counts[2] = {120, 119};
  CHECK(sb_model_infer(m, bad_ins, bad_in_counts, outs, out_counts) == SB_ERR_ARGUMENT);
  CHECK(strstr(sb_last_error(), "input 'b': got 119 elements") != NULL);
  size_t bad_out_counts[2] = {240, 121};
  CHECK(sb_model_infer(m, bad_ins, in_counts, outs, bad_out_counts) == SB_ERR_ARGUMENT);
  CHECK(strstr(sb_last_error(), "output 'flat': buffer of 121 elements, the tensor has 120") != NULL);
  CHECK(sb_model_infer(m, NULL, NULL, outs, out_counts) == SB_OK); /* NULL inputs: the kept ones, still a and b */
  CHECK(memcmp(inf0, out1, 240 * sizeof(float)) == 0);
  CHECK(sb_model_infer(m, ins, NULL, NULL, NULL) == SB_ERR_ARGUMENT);
  CHECK(sb_model_infer(NULL, NULL, NULL, NULL, NULL) == SB_ERR_ARGUMENT);
  CHECK(sb_model_infer(m, bad_ins, in_counts, NULL, NULL) == SB_OK); /* inputs c, a; no outputs read */
  CHECK(sb_model_get_output(m, 0, o0, 240) == SB_OK && sb_model_get_output(m, 1, o1, 120) == SB_OK);
  CHECK(memcmp(o0, out1, 240 * sizeof(float)) != 0);
  CHECK(sb_model_set_threads(m, SB_MAX_THREADS + 1) == SB_ERR_ARGUMENT);
  CHECK(strstr(sb_last_error(), "must be 1..256") != NULL);

  free(out1);
  free(out2);
  free(again);
  sb_model_free(m);

  /* bad input to load */
  sb_model* bad = (sb_model*)1;
  CHECK(sb_model_load_memory("garbage!", 8, &bad) == SB_ERR_FORMAT && bad == NULL);
  CHECK(strstr(sb_last_error(), "truncated") != NULL);
  CHECK(sb_model_load_memory(NULL, 0, &bad) == SB_ERR_FORMAT);
  CHECK(sb_model_load_file("/nonexistent/model.sbn", &bad) == SB_ERR_IO);
  CHECK(strstr(sb_last_error(), "/nonexistent/model.sbn") != NULL);
  /* not regular files: refused before any read (a FIFO would block, /dev/zero never ends) */
  CHECK(sb_model_load_file("/", &bad) == SB_ERR_IO && bad == NULL);
  CHECK(strcmp(sb_last_error(), "/: is a directory, not a regular .sbn file") == 0);
  CHECK(sb_model_load_file("/dev/zero", &bad) == SB_ERR_IO);
  CHECK(strcmp(sb_last_error(), "/dev/zero: is a device, not a regular .sbn file") == 0);
  CHECK(strcmp(sb_status_name(SB_ERR_VERSION), "SB_ERR_VERSION") == 0);
  CHECK(strstr(sb_version_string(), "1.0") != NULL);
  CHECK(strcmp(sb_backend_name(), "scalar") == 0);

  fuzz(bytes, size, atoi(argv[2]));
  free(bytes);
  for (int i = 3; i < argc; i++) {
    bytes = read_file(argv[i], &size);
    CHECK(bytes != NULL);
    if (bytes) fuzz(bytes, size, atoi(argv[2]));
    free(bytes);
  }
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("all API checks passed\n");
  return 0;
}
