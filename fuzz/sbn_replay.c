/* Runs the fuzz target over files given on the command line, without libFuzzer: corpus and crash reproducers replay
 * as regression tests under the plain ASan/UBSan build (build/asan/sbn-replay). Prints "replayed N files". */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/sbn_fuzz.h"

static int replay(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "sbn-replay: cannot open %s\n", path);
    return -1;
  }
  size_t cap = 1 << 16, size = 0;
  uint8_t* data = malloc(cap);
  size_t got;
  while (data && (got = fread(data + size, 1, cap - size, f)) > 0) {
    size += got;
    if (size == cap) {
      uint8_t* grown = realloc(data, cap *= 2);
      if (!grown) free(data);
      data = grown;
    }
  }
  fclose(f);
  if (!data) return -1;
  LLVMFuzzerTestOneInput(data, size);
  free(data);
  return 0;
}

int main(int argc, char** argv) {
  int count = 0;
  for (int i = 1; i < argc; i++) {
    if (replay(argv[i]) != 0) return 2;
    count++;
  }
  printf("replayed %d files\n", count);
  return 0;
}
