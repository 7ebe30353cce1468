/* sparsebyte-run: load a .sbn model, feed inputs (.npy or random), run, time, profile, write outputs.
 *   sparsebyte-run MODEL.sbn [--input X.npy]... [--output OUT.npy]... [--random-seed N] [--warmup N] [--repeat N]
 *                  [--threads N] [--profile] [--json]
 * Exit status: 0 ok, 1 model/run error, 2 usage error. Statically linkable: libc, libm, pthreads only. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "npy.h"
#include "sparsebyte.h"

#define MAX_FILES 16

typedef struct options {
  const char* model;
  const char* inputs[MAX_FILES];
  int num_inputs;
  const char* outputs[MAX_FILES];
  int num_outputs;
  uint64_t seed;
  int warmup, repeat, threads, profile, json;
} options;

static void usage(FILE* f) {
  fprintf(f,
          "usage: sparsebyte-run MODEL.sbn [--input X.npy]... [--output OUT.npy]... [--random-seed N]\n"
          "                      [--warmup N] [--repeat N] [--threads N] [--profile] [--json]\n");
}

static int parse_int(const char* flag, const char* text, long min, long max, long* out) {
  char* end = NULL;
  long v = strtol(text, &end, 10);
  if (!text[0] || *end || v < min || v > max) {
    fprintf(stderr, "sparsebyte-run: %s expects an integer in %ld..%ld, got '%s'\n", flag, min, max, text);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_args(int argc, char** argv, options* o) {
  memset(o, 0, sizeof *o);
  o->seed = 1;
  o->warmup = 1;
  o->repeat = 1;
  o->threads = 1;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    long v;
    static const char* const valued[] = {"--input", "--output", "--random-seed", "--warmup", "--repeat", "--threads"};
    int takes_value = 0;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) takes_value |= !strcmp(a, valued[k]);
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--profile")) {
      o->profile = 1;
    } else if (!strcmp(a, "--json")) {
      o->json = 1;
    } else if (takes_value && i + 1 >= argc) {
      fprintf(stderr, "sparsebyte-run: %s needs a value\n", a);
      return -1;
    } else if (!strcmp(a, "--input") || !strcmp(a, "--output")) {
      int is_in = a[2] == 'i';
      int* n = is_in ? &o->num_inputs : &o->num_outputs;
      if (*n >= MAX_FILES) {
        fprintf(stderr, "sparsebyte-run: at most %d %s files\n", MAX_FILES, a + 2);
        return -1;
      }
      (is_in ? o->inputs : o->outputs)[(*n)++] = argv[++i];
    } else if (!strcmp(a, "--random-seed")) {
      if (parse_int(a, argv[++i], 0, 2147483647L, &v)) return -1;
      o->seed = (uint64_t)v;
    } else if (!strcmp(a, "--warmup")) {
      if (parse_int(a, argv[++i], 0, 100000, &v)) return -1;
      o->warmup = (int)v;
    } else if (!strcmp(a, "--repeat")) {
      if (parse_int(a, argv[++i], 1, 1000000, &v)) return -1;
      o->repeat = (int)v;
    } else if (!strcmp(a, "--threads")) {
      if (parse_int(a, argv[++i], 1, 256, &v)) return -1;
      o->threads = (int)v;
    } else if (a[0] == '-') {
      fprintf(stderr, "sparsebyte-run: unknown option '%s'\n", a);
      return -1;
    } else if (!o->model) {
      o->model = a;
    } else {
      fprintf(stderr, "sparsebyte-run: unexpected argument '%s'\n", a);
      return -1;
    }
  }
  if (!o->model) {
    fprintf(stderr, "sparsebyte-run: no model given\n");
    return -1;
  }
  return 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* splitmix64: reproducible inputs in [-1, 1) for a given seed on every platform */
static float next_random(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (float)((double)(z >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static int compare_doubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void json_string(const char* s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void print_shape(const sb_tensor_info* info) {
  putchar('[');
  for (int d = 0; d < info->rank; d++) printf(d ? ", %d" : "%d", info->dims[d]);
  putchar(']');
}

static int model_error(const char* what, sb_status st) {
  fprintf(stderr, "sparsebyte-run: %s failed (%s): %s\n", what, sb_status_name(st), sb_last_error());
  return 1;
}

static int set_inputs(sb_model* m, const options* o) {
  int n = sb_model_num_inputs(m);
  if (o->num_inputs && o->num_inputs != n) {
    fprintf(stderr, "sparsebyte-run: the model has %d inputs, %d --input files given\n", n, o->num_inputs);
    return 2;
  }
  uint64_t state = o->seed;
  for (int i = 0; i < n; i++) {
    sb_tensor_info info;
    sb_model_input_info(m, i, &info);
    npy_array arr;
    char err[512];
    if (o->num_inputs) {
      if (npy_read(o->inputs[i], &arr, err, sizeof err) != 0) {
        fprintf(stderr, "sparsebyte-run: %s\n", err);
        return 1;
      }
      if (arr.count != info.count) {
        fprintf(stderr, "sparsebyte-run: %s has %zu elements, input '%s' needs %zu\n", o->inputs[i], arr.count,
                info.name, info.count);
        free(arr.data);
        return 1;
      }
    } else {
      arr.count = info.count;
      arr.data = malloc(info.count * sizeof(float));
      if (!arr.data) return model_error("allocating inputs", SB_ERR_NOMEM);
      for (size_t k = 0; k < info.count; k++) arr.data[k] = next_random(&state);
    }
    sb_status st = sb_model_set_input(m, i, arr.data, arr.count);
    free(arr.data);
    if (st != SB_OK) return model_error("set_input", st);
  }
  return 0;
}

static int write_outputs(const sb_model* m, const options* o) {
  int n = sb_model_num_outputs(m);
  if (o->num_outputs > n) {
    fprintf(stderr, "sparsebyte-run: the model has %d outputs, %d --output files given\n", n, o->num_outputs);
    return 2;
  }
  for (int i = 0; i < o->num_outputs; i++) {
    sb_tensor_info info;
    sb_model_output_info(m, i, &info);
    float* data = malloc(info.count ? info.count * sizeof(float) : 1);
    if (!data) return model_error("allocating outputs", SB_ERR_NOMEM);
    sb_status st = sb_model_get_output(m, i, data, info.count);
    char err[512];
    int rc = st != SB_OK ? model_error("get_output", st) : 0;
    if (!rc && npy_write(o->outputs[i], data, info.rank, info.dims, err, sizeof err) != 0) {
      fprintf(stderr, "sparsebyte-run: %s\n", err);
      rc = 1;
    }
    free(data);
    if (rc) return rc;
  }
  return 0;
}

static void report(const sb_model* m, const options* o, const double* times, const double* op_ms) {
  double median = times[o->repeat / 2], lo = times[0], hi = times[o->repeat - 1];
  if (o->repeat % 2 == 0) median = 0.5 * (times[o->repeat / 2 - 1] + times[o->repeat / 2]);
  int nodes = sb_model_num_nodes(m);
  if (o->json) {
    printf("{\"backend\": ");
    json_string(sb_backend_name());
    printf(", \"threads\": %d, \"latency_ms\": {\"median\": %.6f, \"min\": %.6f, \"max\": %.6f}", o->threads, median,
           lo, hi);
    struct rusage usage; /* peak resident set of the whole process (KiB on Linux/Android) */
    long peak_rss_kb = getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : -1;
    printf(", \"arena_bytes\": %zu, \"weight_bytes\": %zu, \"peak_rss_kb\": %ld, \"ops\": [",
           sb_model_arena_bytes(m), sb_model_weight_bytes(m), peak_rss_kb);
    for (int i = 0; i < nodes; i++) {
      sb_node_profile p;
      sb_model_node_profile(m, i, &p);
      printf(i ? ", {\"name\": " : "{\"name\": ");
      json_string(p.name);
      printf(", \"op\": ");
      json_string(p.op);
      printf(", \"kernel\": ");
      json_string(p.kernel);
      printf(", \"time_ms\": %.6f, \"macs\": %lld, \"dense_macs\": %lld}", op_ms[i], (long long)p.macs,
             (long long)p.dense_macs);
    }
    printf("], \"outputs\": [");
    for (int i = 0; i < sb_model_num_outputs(m); i++) {
      sb_tensor_info info;
      sb_model_output_info(m, i, &info);
      printf(i ? ", {\"name\": " : "{\"name\": ");
      json_string(info.name);
      printf(", \"shape\": ");
      print_shape(&info);
      putchar('}');
    }
    printf("]}\n");
    return;
  }
  printf("backend %s, threads %d, arena %zu bytes, weights %zu bytes\n", sb_backend_name(), o->threads,
         sb_model_arena_bytes(m), sb_model_weight_bytes(m));
  printf("latency over %d runs: median %.3f ms, min %.3f ms, max %.3f ms\n", o->repeat, median, lo, hi);
  for (int i = 0; i < sb_model_num_outputs(m); i++) {
    sb_tensor_info info;
    sb_model_output_info(m, i, &info);
    printf("output %s ", info.name);
    print_shape(&info);
    putchar('\n');
  }
  if (!o->profile) return;
  printf("%-32s %-16s %-36s %10s %14s %14s\n", "node", "op", "kernel", "ms", "MACs", "dense MACs");
  for (int i = 0; i < nodes; i++) {
    sb_node_profile p;
    sb_model_node_profile(m, i, &p);
    printf("%-32s %-16s %-36s %10.4f %14lld %14lld\n", p.name, p.op, p.kernel, op_ms[i], (long long)p.macs,
           (long long)p.dense_macs);
  }
}

int main(int argc, char** argv) {
  options o;
  if (parse_args(argc, argv, &o) != 0) {
    usage(stderr);
    return 2;
  }
  sb_model* m = NULL;
  sb_status st = sb_model_load_file(o.model, &m);
  if (st != SB_OK) return model_error("load", st);
  int rc = 0;
  double* times = calloc((size_t)o.repeat, sizeof *times);
  double* op_ms = calloc((size_t)sb_model_num_nodes(m) + 1, sizeof *op_ms);
  if (!times || !op_ms) {
    rc = model_error("allocating timers", SB_ERR_NOMEM);
    goto done;
  }
  if ((st = sb_model_set_threads(m, o.threads)) != SB_OK) {
    rc = model_error("set_threads", st);
    goto done;
  }
  if ((rc = set_inputs(m, &o)) != 0) goto done;
  for (int i = 0; i < o.warmup; i++)
    if ((st = sb_model_run(m)) != SB_OK) {
      rc = model_error("run", st);
      goto done;
    }
  sb_model_set_profiling(m, o.profile || o.json);
  for (int r = 0; r < o.repeat; r++) {
    double start = now_ms();
    if ((st = sb_model_run(m)) != SB_OK) {
      rc = model_error("run", st);
      goto done;
    }
    times[r] = now_ms() - start;
    for (int i = 0; i < sb_model_num_nodes(m); i++) {
      sb_node_profile p;
      sb_model_node_profile(m, i, &p);
      op_ms[i] += p.time_ms / o.repeat;
    }
  }
  qsort(times, (size_t)o.repeat, sizeof *times, compare_doubles);
  if ((rc = write_outputs(m, &o)) != 0) goto done;
  report(m, &o, times, op_ms);
done:
  free(times);
  free(op_ms);
  sb_model_free(m);
  return rc;
}
