/* Minimal .npy reader/writer for the runner: float32, little-endian, C order. */
#ifndef SB_TOOLS_NPY_H
#define SB_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_RANK 8

typedef struct npy_array {
  int rank;
  int64_t dims[NPY_MAX_RANK];
  size_t count;
  float* data; /* malloc'd */
} npy_array;

/* Returns 0 on success; on failure writes a message into err. */
int npy_read(const char* path, npy_array* out, char* err, size_t err_size);
/* Writes a format 1.0 file. Returns 0 on success. */
int npy_write(const char* path, const float* data, int rank, const int32_t* dims, char* err, size_t err_size);

#endif
