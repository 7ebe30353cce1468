/* .npy files (format 1.0 written; 1.0-3.0 read): magic, header length, a Python dict literal, raw data. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_HEADER 65536

static int fail(char* err, size_t size, const char* path, const char* what) {
  snprintf(err, size, "%s: %s", path, what);
  return -1;
}

/* Parses "(2, 3, 4)" or "(5,)" or "()" after 'shape': */
static int parse_shape(const char* s, npy_array* out) {
  while (*s == ' ') s++;
  if (*s++ != '(') return -1;
  out->rank = 0;
  for (;;) {
    while (*s == ' ' || *s == ',') s++;
    if (*s == ')') return 0;
    if (*s < '0' || *s > '9' || out->rank >= NPY_MAX_RANK) return -1;
    int64_t v = 0;
    while (*s >= '0' && *s <= '9') {
      v = v * 10 + (*s++ - '0');
      if (v > ((int64_t)1 << 40)) return -1;
    }
    out->dims[out->rank++] = v;
  }
}

int npy_read(const char* path, npy_array* out, char* err, size_t err_size) {
  memset(out, 0, sizeof *out);
  FILE* f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  unsigned char pre[12];
  int rc = -1;
  char* header = NULL;
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    fail(err, err_size, path, "not a .npy file (bad magic)");
    goto done;
  }
  size_t header_len;
  if (pre[6] == 1) {
    header_len = (size_t)pre[8] | ((size_t)pre[9] << 8);
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (fread(pre + 10, 1, 2, f) != 2) {
      fail(err, err_size, path, "truncated header");
      goto done;
    }
    header_len = (size_t)pre[8] | ((size_t)pre[9] << 8) | ((size_t)pre[10] << 16) | ((size_t)pre[11] << 24);
  } else {
    fail(err, err_size, path, "unsupported .npy version");
    goto done;
  }
  if (header_len > NPY_MAX_HEADER) {
    fail(err, err_size, path, "header too large");
    goto done;
  }
  header = malloc(header_len + 1);
  if (!header || fread(header, 1, header_len, f) != header_len) {
    fail(err, err_size, path, "truncated header");
    goto done;
  }
  header[header_len] = '\0';
  const char* descr = strstr(header, "'descr':");
  const char* fortran = strstr(header, "'fortran_order':");
  const char* shape = strstr(header, "'shape':");
  if (!descr || !fortran || !shape) {
    fail(err, err_size, path, "header lacks descr/fortran_order/shape");
    goto done;
  }
  descr += strlen("'descr':");
  while (*descr == ' ') descr++;
  if (strncmp(descr, "'<f4'", 5) != 0) {
    fail(err, err_size, path, "dtype must be float32 ('<f4'); convert with arr.astype(np.float32)");
    goto done;
  }
  fortran += strlen("'fortran_order':");
  while (*fortran == ' ') fortran++;
  if (strncmp(fortran, "False", 5) != 0) {
    fail(err, err_size, path, "Fortran-order arrays are not supported; use np.ascontiguousarray");
    goto done;
  }
  if (parse_shape(shape + strlen("'shape':"), out) != 0) {
    fail(err, err_size, path, "cannot parse the shape");
    goto done;
  }
  uint64_t count = 1;
  for (int d = 0; d < out->rank; d++) {
    count *= (uint64_t)out->dims[d];
    if (count > ((uint64_t)1 << 32)) {
      fail(err, err_size, path, "array too large");
      goto done;
    }
  }
  out->count = (size_t)count;
  out->data = malloc(out->count ? out->count * sizeof(float) : 1);
  if (!out->data) {
    fail(err, err_size, path, "out of memory");
    goto done;
  }
  if (fread(out->data, sizeof(float), out->count, f) != out->count) {
    fail(err, err_size, path, "data is shorter than the shape says");
    goto done;
  }
  rc = 0;
done:
  free(header);
  fclose(f);
  if (rc != 0) {
    free(out->data);
    out->data = NULL;
  }
  return rc;
}

int npy_write(const char* path, const float* data, int rank, const int32_t* dims, char* err, size_t err_size) {
  char dict[256];
  int used = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  size_t count = 1;
  for (int d = 0; d < rank; d++) {
    used += snprintf(dict + used, sizeof dict - (size_t)used, d == 0 && rank == 1 ? "%d," : (d ? " %d," : "%d,"), dims[d]);
    count *= (size_t)dims[d];
  }
  if (rank > 1) used--; /* numpy writes (2, 3) but (5,) */
  used += snprintf(dict + used, sizeof dict - (size_t)used, "), }");
  /* magic(6) + version(2) + len(2) + dict + padding spaces + '\n' is a multiple of 64 */
  size_t total = 10 + (size_t)used + 1;
  size_t padded = (total + 63) / 64 * 64;
  FILE* f = fopen(path, "wb");
  if (!f) {
    snprintf(err, err_size, "%s: cannot create: %s", path, strerror(errno));
    return -1;
  }
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  size_t header_len = padded - 10;
  pre[8] = (unsigned char)(header_len & 0xFF);
  pre[9] = (unsigned char)(header_len >> 8);
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)used, f) == (size_t)used;
  for (size_t i = total; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  ok = ok && fwrite(data, sizeof(float), count, f) == count;
  ok = (fclose(f) == 0) && ok;
  if (!ok) {
    snprintf(err, err_size, "%s: write failed", path);
    return -1;
  }
  return 0;
}
