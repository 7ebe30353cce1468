/* Microkernel benchmark driver: runs every registry kernel (the build's architecture kernels and the scalar ones) on
 * the layer shapes of MobileNet-v1 and MobileNetV2 at 224x224: every 1x1 layer dense (f32-gemm) and group-sparse at
 * 50/70/90% for G = 1, 2, 4, 8 (f32-spmm), the FC layers, the depthwise layers (f32-dwconv), the stems (f32-conv,
 * and f32-spconv as the sparse models run them), MobileNetV3's 5x5 depthwise layers, and the elementwise/pooling
 * families on the shapes they see.
 * benchmarks/kernels/bench.py builds it per target and turns its output into the table.
 *
 *   kernel_bench count          one call per (case, kernel), each between two calls of bench_mark() (the qemu
 *                               instruction-count plugin records the running total there). Prints
 *                               "K <case> <family> <kernel> <arch> <macs>" per call, in call order.
 *   kernel_bench time [ROUNDS]  rounds of one timed sample per kernel of a case, kernels interleaved round by round;
 *                               prints "T <case> <family> <kernel> <arch> <macs> <median ns per call>".
 * Both print "S <case> <family> <label>" per case and "C <case> <family> <kernel>" for the choice table's pick.
 * Options after the mode: --family NAME, --kernel SUBSTRING (filters). Deterministic data (fixed seed). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "choice.h"

/* ---- data ---- */
static uint64_t rng_state = 0x5eed;
static float frand(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((rng_state >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}
static float* farray(size_t n) {
  float* p = malloc((n ? n : 1) * sizeof(float));
  if (!p) {
    fprintf(stderr, "kernel_bench: out of memory\n");
    exit(2);
  }
  for (size_t i = 0; i < n; i++) p[i] = frand();
  return p;
}

/* Group-sparse weights: each group keeps round(density * Cin) input channels, chosen at random. */
typedef struct sparse_set {
  sb_sparse_weights w;
  int32_t *nnz, *start, *index;
  float *values, *bias;
} sparse_set;

static void make_sparse(sparse_set* s, int32_t cout, int32_t cin, int32_t ks, int32_t g, double density) {
  const int32_t groups = (cout + g - 1) / g;
  int32_t keep = (int32_t)lround(density * cin);
  if (keep < 1) keep = 1;
  s->nnz = malloc(sizeof(int32_t) * (size_t)groups);
  s->start = malloc(sizeof(int32_t) * (size_t)(groups + 1));
  s->index = malloc(sizeof(int32_t) * (size_t)groups * (size_t)keep);
  char* mark = malloc((size_t)cin);
  s->start[0] = 0;
  for (int32_t gi = 0; gi < groups; gi++) {
    memset(mark, 0, (size_t)cin);
    for (int32_t k = 0; k < keep;) {
      rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
      const int32_t i = (int32_t)((rng_state >> 33) % (uint64_t)cin);
      if (!mark[i]) mark[i] = 1, k++;
    }
    int32_t* out = s->index + s->start[gi];
    for (int32_t i = 0, k = 0; i < cin; i++)
      if (mark[i]) out[k++] = i;
    s->nnz[gi] = keep;
    s->start[gi + 1] = s->start[gi] + keep;
  }
  free(mark);
  const size_t t = (size_t)s->start[groups];
  s->values = farray(t * (size_t)ks * (size_t)g);
  for (int32_t gi = 0; gi < groups; gi++) /* lanes past Cout are zero */
    for (int32_t l = 0; l < g; l++)
      if (gi * g + l >= cout)
        for (size_t j = (size_t)s->start[gi]; j < (size_t)s->start[gi + 1]; j++)
          for (int32_t k = 0; k < ks; k++) s->values[(j * (size_t)ks + (size_t)k) * (size_t)g + (size_t)l] = 0.0f;
  s->bias = farray((size_t)cout);
  s->w = (sb_sparse_weights){cout, cin, ks, g, groups, s->nnz, s->start, s->index, s->values, s->bias};
}

static void free_sparse(sparse_set* s) {
  free(s->nnz), free(s->start), free(s->index), free(s->values), free(s->bias);
}

/* ---- cases ---- */
enum { K_PW, K_FC, K_DW, K_STEM, K_ELT, K_GAP, K_POOL };
typedef struct layer {
  int kind;
  int32_t cin, cout, in_h, in_w, k, stride;
  const char* where;
  int act; /* 1: ReLU6 */
} layer;

#define MAX_LAYERS 256
static layer layers[MAX_LAYERS];
static int num_layers;

static void add(int kind, int32_t cin, int32_t cout, int32_t h, int32_t w, int32_t k, int32_t stride,
                const char* where, int act) {
  for (int i = 0; i < num_layers; i++) { /* one case per distinct shape (the first model that has it names it) */
    const layer* l = &layers[i];
    if (l->kind == kind && l->cin == cin && l->cout == cout && l->in_h == h && l->in_w == w && l->k == k &&
        l->stride == stride && l->act == act)
      return;
  }
  if (num_layers == MAX_LAYERS) exit(3);
  layers[num_layers++] = (layer){kind, cin, cout, h, w, k, stride, where, act};
}

static void mobilenet_v1(void) {
  static const int32_t dw_pw[][3] = {{32, 64, 1},   {64, 128, 2},  {128, 128, 1}, {128, 256, 2}, {256, 256, 1},
                                     {256, 512, 2}, {512, 512, 1}, {512, 1024, 2}, {1024, 1024, 1}};
  add(K_STEM, 3, 32, 224, 224, 3, 2, "v1", 1);
  int32_t h = 112;
  for (size_t i = 0; i < sizeof dw_pw / sizeof dw_pw[0]; i++) {
    add(K_DW, dw_pw[i][0], dw_pw[i][0], h, h, 3, dw_pw[i][2], "v1", 1);
    h /= dw_pw[i][2];
    add(K_PW, dw_pw[i][0], dw_pw[i][1], h, h, 1, 1, "v1", 1);
  }
  add(K_GAP, 1024, 1024, 7, 7, 7, 1, "v1", 0);
  add(K_FC, 1024, 1000, 1, 1, 1, 1, "v1", 0);
}

static void mobilenet_v2(void) {
  static const int32_t blocks[][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                                      {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}}; /* t, c, n, s */
  add(K_STEM, 3, 32, 224, 224, 3, 2, "v2", 1);
  int32_t h = 112, cin = 32;
  for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
    for (int32_t r = 0; r < blocks[b][2]; r++) {
      const int32_t stride = r == 0 ? blocks[b][3] : 1, hidden = cin * blocks[b][0], cout = blocks[b][1];
      if (blocks[b][0] != 1) add(K_PW, cin, hidden, h, h, 1, 1, "v2", 1);
      add(K_DW, hidden, hidden, h, h, 3, stride, "v2", 1);
      h /= stride;
      add(K_PW, hidden, cout, h, h, 1, 1, "v2", 0); /* linear bottleneck */
      if (stride == 1 && cin == cout) add(K_ELT, cout, cout, h, h, 1, 1, "v2", 0); /* residual add */
      cin = cout;
    }
  }
  add(K_PW, 320, 1280, 7, 7, 1, 1, "v2", 1);
  add(K_GAP, 1280, 1280, 7, 7, 7, 1, "v2", 0);
  add(K_FC, 1280, 1000, 1, 1, 1, 1, "v2", 0);
  add(K_POOL, 64, 64, 112, 112, 3, 2, "resnet", 0); /* no pooling layer in the MobileNets: ResNet's 3x3 s2 */
}

/* The 5x5 depthwise layers of MobileNetV3-Large (v1/v2 have none): channels, input size, stride. */
static void mobilenet_v3_5x5(void) {
  static const int32_t dw[][3] = {{72, 56, 2}, {120, 28, 1}, {672, 14, 2}, {960, 7, 1}};
  for (size_t i = 0; i < sizeof dw / sizeof dw[0]; i++) add(K_DW, dw[i][0], dw[i][0], dw[i][1], dw[i][1], 5, dw[i][2], "v3", 1);
}

/* MediaPipe pose_detection's 5x5 depthwise layers (the most MACs of each stride): channels, input size, stride. */
static void pose_5x5(void) {
  static const int32_t dw[][3] = {{144, 56, 2}, {240, 28, 1}, {168, 28, 2}, {288, 14, 1}};
  for (size_t i = 0; i < sizeof dw / sizeof dw[0]; i++)
    add(K_DW, dw[i][0], dw[i][0], dw[i][1], dw[i][1], 5, dw[i][2], "pose", 0);
}

/* ---- running ---- */
static const char* family_filter;
static const char* kernel_filter;
static int timing;
static int rounds = 5;
static int case_id;

/* The plugin's mark: noinline and with a side effect, so every call is a block start it can see. */
volatile int bench_sink;
__attribute__((noinline)) void bench_mark(void) { bench_sink++; }

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct call {
  sb_kernel_family family;
  const sb_kernel_entry* entry;
  void (*run)(const struct call*);
  const void* ctx;
} call;

typedef struct gemm_ctx {
  size_t pixels, cout, cin;
  const float *w, *bias, *in;
  float* out;
  sb_activation act;
} gemm_ctx;
typedef struct spmm_ctx {
  size_t pixels;
  const sb_sparse_weights* w;
  const float* in;
  float* out;
  sb_activation act;
} spmm_ctx;
typedef struct conv_ctx {
  sb_conv_shape s;
  const float *w, *bias, *in;
  const sb_sparse_weights* sw;
  float* out;
  sb_activation act;
} conv_ctx;
typedef struct elt_ctx {
  size_t channels, pixels;
  const float *a, *b, *scale;
  float* y;
  sb_activation act;
  sb_pool_shape pool;
} elt_ctx;

static void run_gemm(const call* c) {
  const gemm_ctx* g = c->ctx;
  ((sb_f32_gemm_ukernel*)c->entry->fn)(g->pixels, g->pixels, g->cout, g->cin, g->w, g->bias, g->in, g->out, &g->act);
}
static void run_spmm(const call* c) {
  const spmm_ctx* g = c->ctx;
  ((sb_f32_spmm_ukernel*)c->entry->fn)(g->pixels, g->pixels, g->w, g->in, g->out, &g->act);
}
static void run_conv(const call* c) {
  const conv_ctx* g = c->ctx;
  ((sb_f32_conv_ukernel*)c->entry->fn)(&g->s, g->w, g->bias, g->in, g->out, &g->act, 0, (size_t)g->s.out_h);
}
static void run_spconv(const call* c) {
  const conv_ctx* g = c->ctx;
  ((sb_f32_spconv_ukernel*)c->entry->fn)(&g->s, g->sw, g->in, g->out, &g->act, 0, (size_t)g->s.out_h);
}
static void run_elt(const call* c) {
  const elt_ctx* e = c->ctx;
  const size_t n = e->channels * e->pixels;
  switch (c->family) {
    case SB_FAMILY_F32_VADD:
    case SB_FAMILY_F32_VMUL: ((sb_f32_vbinary_ukernel*)c->entry->fn)(n, e->a, e->b, e->y, &e->act); break;
    case SB_FAMILY_F32_VADDC:
    case SB_FAMILY_F32_VMULC:
    case SB_FAMILY_F32_VMAXC:
    case SB_FAMILY_F32_VMINC:
    case SB_FAMILY_F32_VPRELUC:
      ((sb_f32_vbinaryc_ukernel*)c->entry->fn)(e->channels, e->pixels, e->a, e->scale, e->y, &e->act);
      break;
    case SB_FAMILY_F32_VACT: ((sb_f32_vunary_ukernel*)c->entry->fn)(n, e->a, e->y, &e->act); break;
    case SB_FAMILY_F32_AFFINE:
      ((sb_f32_affine_ukernel*)c->entry->fn)(e->channels, e->pixels, e->a, e->scale, e->b, e->y, &e->act);
      break;
    case SB_FAMILY_F32_SOFTMAX: ((sb_f32_softmax_ukernel*)c->entry->fn)(e->channels, e->pixels, e->a, e->y); break;
    case SB_FAMILY_F32_LAYERNORM:
      ((sb_f32_layernorm_ukernel*)c->entry->fn)(e->channels, e->pixels, e->a, e->scale, e->b, 1e-5f, e->y);
      break;
    case SB_FAMILY_F32_GAVGPOOL: ((sb_f32_gavgpool_ukernel*)c->entry->fn)(e->channels, e->pixels, e->a, e->y); break;
    default: ((sb_f32_pool_ukernel*)c->entry->fn)(&e->pool, e->a, e->y, 0, e->channels); break;
  }
}

static int cmp_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Runs every kernel of `family` that accepts the shape's params on one case. */
static void bench_case(sb_kernel_family family, const sb_kernel_shape* shape, const char* label, int64_t macs,
                       void (*run)(const call*), const void* ctx) {
  const char* fname = sb_kernel_family_name(family);
  if (family_filter && strcmp(family_filter, fname) != 0) return;
  size_t count = 0;
  const sb_kernel_entry* entries = sb_kernel_registry(family, &count);
  call calls[32];
  size_t n = 0;
  for (size_t i = 0; i < count && n < 32; i++) {
    if (!sb_kernel_params_fit(family, &entries[i], shape->param1, shape->param2)) continue;
    if (kernel_filter && !strstr(entries[i].name, kernel_filter)) continue;
    if (!sb_kernel_entry_usable(&entries[i])) continue; /* an x86 ISA level this CPU does not run */
    calls[n++] = (call){family, &entries[i], run, ctx};
  }
  if (n == 0) return;
  const int id = case_id++;
  printf("S %d %s %s\n", id, fname, label);
  const sb_kernel_entry* chosen = sb_choose_kernel(family, shape, NULL);
  printf("C %d %s %s\n", id, fname, chosen ? chosen->name : "-");
  if (!timing) {
    for (size_t i = 0; i < n; i++) {
      printf("K %d %s %s %s %lld\n", id, fname, calls[i].entry->name, calls[i].entry->arch, (long long)macs);
      fflush(stdout);
      bench_mark();
      calls[i].run(&calls[i]);
      bench_mark();
    }
    return;
  }
  /* repetitions per sample: about 2M MACs (or elements) per sample, so short calls are not all clock overhead */
  int reps = (int)(2000000 / (macs > 0 ? macs : 1));
  if (reps < 1) reps = 1;
  if (reps > 2000) reps = 2000;
  double samples[32][64];
  for (size_t i = 0; i < n; i++) calls[i].run(&calls[i]); /* warm-up: caches, lazily paged buffers */
  for (int r = 0; r < rounds; r++) {
    for (size_t i = 0; i < n; i++) {
      const double t0 = now_ns();
      for (int k = 0; k < reps; k++) calls[i].run(&calls[i]);
      samples[i][r] = (now_ns() - t0) / reps;
    }
  }
  for (size_t i = 0; i < n; i++) {
    qsort(samples[i], (size_t)rounds, sizeof(double), cmp_double);
    const double med = rounds % 2 ? samples[i][rounds / 2] : 0.5 * (samples[i][rounds / 2 - 1] + samples[i][rounds / 2]);
    printf("T %d %s %s %s %lld %.1f\n", id, fname, calls[i].entry->name, calls[i].entry->arch, (long long)macs, med);
  }
  fflush(stdout);
}

static sb_activation act_of(const layer* l) {
  const sb_activation relu6 = {SB_ACT_CLIP, 0.0f, 6.0f}, none = {SB_ACT_NONE, 0.0f, 0.0f};
  return l->act ? relu6 : none;
}

static void bench_pointwise(const layer* l) {
  const size_t pixels = l->kind == K_FC ? 1 : (size_t)l->in_h * (size_t)l->in_w;
  float* in = farray((size_t)l->cin * pixels);
  float* out = farray((size_t)l->cout * pixels);
  float* w = farray((size_t)l->cin * (size_t)l->cout);
  float* bias = farray((size_t)l->cout);
  char label[160];
  const char* kind = l->kind == K_FC ? "fc" : "1x1";
  gemm_ctx g = {pixels, (size_t)l->cout, (size_t)l->cin, w, bias, in, out, act_of(l)};
  snprintf(label, sizeof label, "%s:%s:%dx%d:%d->%d:dense", l->where, kind, l->in_h, l->in_w, l->cin, l->cout);
  sb_kernel_shape shape = {0, 0, (int64_t)pixels, l->cin, l->cout, l->kind == K_FC ? 1 : l->in_w, 0};
  bench_case(SB_FAMILY_F32_GEMM, &shape, label, (int64_t)pixels * l->cin * l->cout, run_gemm, &g);
  static const int32_t groups[] = {1, 2, 4, 8};
  static const int sparsity[] = {50, 70, 90};
  for (size_t gi = 0; gi < 4; gi++) {
    for (size_t si = 0; si < 3; si++) {
      sparse_set s;
      make_sparse(&s, l->cout, l->cin, 1, groups[gi], 1.0 - sparsity[si] / 100.0);
      const int64_t kept = s.start[s.w.num_groups];
      spmm_ctx c = {pixels, &s.w, in, out, act_of(l)};
      snprintf(label, sizeof label, "%s:%s:%dx%d:%d->%d:G%d:%d%%", l->where, kind, l->in_h, l->in_w, l->cin, l->cout,
               groups[gi], sparsity[si]);
      sb_kernel_shape sshape = {groups[gi], 0, (int64_t)pixels, l->cin, l->cout, shape.out_w, kept};
      bench_case(SB_FAMILY_F32_SPMM, &sshape, label, kept * groups[gi] * (int64_t)pixels, run_spmm, &c);
      free_sparse(&s);
    }
  }
  free(in), free(out), free(w), free(bias);
}

static sb_conv_shape conv_shape(const layer* l, int32_t groups) {
  const int32_t pad = l->k / 2;
  const int32_t oh = (l->in_h + 2 * pad - l->k) / l->stride + 1, ow = (l->in_w + 2 * pad - l->k) / l->stride + 1;
  return (sb_conv_shape){l->cin, l->in_h, l->in_w, l->cout, oh, ow, l->k, l->k, l->stride, l->stride, pad, pad,
                         1, 1, groups};
}

static void bench_conv(const layer* l) {
  const int depthwise = l->kind == K_DW;
  const sb_conv_shape s = conv_shape(l, depthwise ? l->cin : 1);
  const size_t wsize = (size_t)l->cout * (size_t)(depthwise ? 1 : l->cin) * (size_t)(l->k * l->k);
  float* in = farray((size_t)l->cin * (size_t)l->in_h * (size_t)l->in_w);
  float* out = farray((size_t)l->cout * (size_t)s.out_h * (size_t)s.out_w);
  float* w = farray(wsize);
  float* bias = farray((size_t)l->cout);
  const int64_t pixels = (int64_t)s.out_h * s.out_w;
  conv_ctx c = {s, w, bias, in, NULL, out, act_of(l)};
  char label[160];
  snprintf(label, sizeof label, "%s:%s:%dx%d:%d->%d:%dx%ds%d", l->where, depthwise ? "dw" : "stem", l->in_h, l->in_w,
           l->cin, l->cout, l->k, l->k, l->stride);
  const sb_kernel_shape shape = sb_kernel_shape_conv(l->k, l->stride, &s, 0);
  bench_case(depthwise ? SB_FAMILY_F32_DWCONV : SB_FAMILY_F32_CONV, &shape, label, (int64_t)wsize * pixels, run_conv,
             &c);
  if (!depthwise) { /* the sparse models' stem: G = 4 at full density, through f32-spconv */
    sparse_set sp;
    make_sparse(&sp, l->cout, l->cin, l->k * l->k, 4, 1.0);
    c.sw = &sp.w;
    const int64_t kept = sp.start[sp.w.num_groups];
    snprintf(label, sizeof label, "%s:stem:%dx%d:%d->%d:%dx%ds%d:G4", l->where, l->in_h, l->in_w, l->cin, l->cout, l->k,
             l->k, l->stride);
    const sb_kernel_shape sshape = sb_kernel_shape_conv(4, l->k, &s, kept);
    bench_case(SB_FAMILY_F32_SPCONV, &sshape, label, kept * 4 * l->k * l->k * pixels, run_spconv, &c);
    free_sparse(&sp);
  }
  free(in), free(out), free(w), free(bias);
}

static void bench_elementwise(const layer* l) {
  const size_t pixels = (size_t)l->in_h * (size_t)l->in_w, n = (size_t)l->cin * pixels;
  float* a = farray(n);
  float* b = farray(n);
  float* y = farray(n);
  float* scale = farray((size_t)l->cin);
  elt_ctx e = {(size_t)l->cin, pixels, a, b, scale, y, {SB_ACT_CLIP, 0.0f, 6.0f}, {0}};
  char label[160];
  if (l->kind == K_POOL) {
    const sb_conv_shape s = conv_shape(l, 1);
    e.pool = (sb_pool_shape){l->cin, l->in_h, l->in_w, s.out_h, s.out_w, l->k, l->k, l->stride, l->stride, 1, 1, 0, 1,
                             1};
    snprintf(label, sizeof label, "%s:pool:%dx%dx%d:%dx%ds%d", l->where, l->cin, l->in_h, l->in_w, l->k, l->k,
             l->stride);
    const int64_t work = (int64_t)l->cin * s.out_h * s.out_w * l->k * l->k;
    const sb_kernel_shape shape = sb_kernel_shape_params(l->k, l->stride);
    bench_case(SB_FAMILY_F32_MAXPOOL, &shape, label, work, run_elt, &e);
    bench_case(SB_FAMILY_F32_AVGPOOL, &shape, label, work, run_elt, &e);
  } else if (l->kind == K_GAP) {
    snprintf(label, sizeof label, "%s:gap:%dx%dx%d", l->where, l->cin, l->in_h, l->in_w);
    const sb_kernel_shape shape = sb_kernel_shape_params(0, 0);
    bench_case(SB_FAMILY_F32_GAVGPOOL, &shape, label, (int64_t)n, run_elt, &e);
  } else {
    snprintf(label, sizeof label, "%s:elt:%dx%dx%d", l->where, l->cin, l->in_h, l->in_w);
    const sb_kernel_shape shape = sb_kernel_shape_params(0, 0);
    static const sb_kernel_family fams[] = {SB_FAMILY_F32_VADD,  SB_FAMILY_F32_VMUL,  SB_FAMILY_F32_VADDC,
                                            SB_FAMILY_F32_VMULC, SB_FAMILY_F32_VMAXC, SB_FAMILY_F32_VMINC,
                                            SB_FAMILY_F32_VPRELUC, SB_FAMILY_F32_VACT, SB_FAMILY_F32_AFFINE};
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) bench_case(fams[i], &shape, label, (int64_t)n, run_elt, &e);
  }
  free(a), free(b), free(y), free(scale);
}

/* MobileViT-XS-like transformer blocks at 256x256 (d = 96/120/144 over 256/64/16 tokens, 4 patch pixels, 4 heads)
 * and the decoders' ConvTranspose: MatMul between activations and ConvTranspose run f32-gemm (engine/src/ops/
 * matmul.c, conv_transpose.c), LayerNorm f32-layernorm. */
static void rows_case(sb_kernel_family family, const char* kind, size_t rows, size_t len) {
  float* x = farray(rows * len);
  float* y = farray(rows * len);
  float* scale = farray(len);
  float* bias = farray(len);
  elt_ctx e = {rows, len, x, bias, scale, y, {SB_ACT_NONE, 0.0f, 0.0f}, {0}};
  char label[160];
  snprintf(label, sizeof label, "vit:%s:%zux%zu", kind, rows, len);
  const sb_kernel_shape shape = sb_kernel_shape_params(0, 0);
  bench_case(family, &shape, label, (int64_t)(rows * len), run_elt, &e);
  free(x), free(y), free(scale), free(bias);
}

static void gemm_case(const char* label, size_t cout, size_t cin, size_t pixels) {
  float* in = farray(cin * pixels);
  float* out = farray(cout * pixels);
  float* w = farray(cin * cout);
  float* bias = farray(cout);
  gemm_ctx g = {pixels, cout, cin, w, bias, in, out, {SB_ACT_NONE, 0.0f, 0.0f}};
  const sb_kernel_shape shape = {0, 0, (int64_t)pixels, (int32_t)cin, (int32_t)cout, (int32_t)pixels, 0};
  bench_case(SB_FAMILY_F32_GEMM, &shape, label, (int64_t)(pixels * cin * cout), run_gemm, &g);
  free(in), free(out), free(w), free(bias);
}

static void transformers_and_decoders(void) {
  static const size_t vit[][3] = {{256, 96, 24}, {64, 120, 30}, {16, 144, 36}}; /* tokens, d, head dim */
  char label[160];
  for (size_t i = 0; i < 3; i++) {
    const size_t n = vit[i][0], hd = vit[i][2];
    rows_case(SB_FAMILY_F32_LAYERNORM, "layernorm", 4 * n, vit[i][1]);
    snprintf(label, sizeof label, "vit:matmul:qk:%zux%zux%zu", n, hd, n); /* [N, hd] @ [hd, N] */
    gemm_case(label, n, hd, n);
    snprintf(label, sizeof label, "vit:matmul:pv:%zux%zux%zu", n, n, hd); /* [N, N] @ [N, hd] */
    gemm_case(label, n, n, hd);
    rows_case(SB_FAMILY_F32_SOFTMAX, "softmax", 16 * n, n); /* 4 patch pixels x 4 heads of [N, N] scores */
  }
  rows_case(SB_FAMILY_F32_SOFTMAX, "ctc-softmax", 40, 18710); /* PP-OCRv6 rec: 40 steps x 18710 classes */
  /* ConvTranspose GEMM: Cout*k*k rows, Cin inputs, H*W input pixels (UNet k2s2, FCN/DeepLab k4s2, k3s2) */
  static const size_t convt[][4] = {{64, 32, 28, 2}, {128, 64, 14, 2}, {32, 16, 32, 4}, {32, 16, 16, 3}};
  for (size_t i = 0; i < 4; i++) {
    const size_t cin = convt[i][0], cout = convt[i][1], h = convt[i][2], k = convt[i][3];
    snprintf(label, sizeof label, "decoder:convt:%zux%zu:%zu->%zu:%zux%zus2", h, h, cin, cout, k, k);
    gemm_case(label, cout * k * k, cin, h * h);
  }
}

/* Dense kxk convs with many input channels (UNet at 128x128, YOLOv8n at 320x320): the direct f32-conv kernel on the
 * whole layer and, as engine/src/ops/conv.c runs them in SIMD builds, f32-gemm on one im2col tile (Cout rows,
 * Cin*k*k inputs, the tile's pixels: conv.c's im2col_tile rule); figures per MAC compare the two (the im2col copy,
 * 1/Cout of the GEMM's work, is not in the GEMM figure). Then FC over token rows as fc.c runs them: f32-gemm with
 * the N rows as output channels and Cout as the plane. */
static void dense_kxk_and_token_fc(void) {
  static const int32_t convs[][5] = {/* in h (= w), cin, cout, k, stride */
                                     {64, 4, 16, 3, 1},    {64, 8, 16, 3, 1},    {128, 16, 16, 3, 1},
                                     {64, 32, 32, 3, 1},   {32, 64, 64, 3, 1},   {16, 128, 128, 3, 1},
                                     {160, 16, 32, 3, 2},  {80, 16, 16, 3, 1},   {40, 32, 32, 3, 1},
                                     {20, 64, 64, 3, 1},   {40, 64, 128, 3, 2}};
  char label[160];
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
    const layer l = {K_STEM, convs[i][1], convs[i][2], convs[i][0], convs[i][0], convs[i][3], convs[i][4], "dense", 1};
    const sb_conv_shape s = conv_shape(&l, 1);
    const size_t kk = (size_t)l.cin * (size_t)(l.k * l.k), pixels = (size_t)s.out_h * (size_t)s.out_w;
    float* in = farray((size_t)l.cin * (size_t)l.in_h * (size_t)l.in_w);
    float* out = farray((size_t)l.cout * pixels);
    float* w = farray(kk * (size_t)l.cout);
    float* bias = farray((size_t)l.cout);
    conv_ctx c = {s, w, bias, in, NULL, out, {SB_ACT_CLIP, 0.0f, 6.0f}};
    snprintf(label, sizeof label, "dense:conv:%dx%d:%d->%d:%dx%ds%d", l.in_h, l.in_w, l.cin, l.cout, l.k, l.k,
             l.stride);
    const sb_kernel_shape shape = sb_kernel_shape_conv(l.k, l.stride, &s, 0);
    bench_case(SB_FAMILY_F32_CONV, &shape, label, (int64_t)(kk * (size_t)l.cout * pixels), run_conv, &c);
    free(in), free(out), free(w), free(bias);
    size_t tile = (65536 / kk) / 16 * 16; /* conv.c im2col_tile */
    tile = tile < 16 ? 16 : tile > 512 ? 512 : tile;
    if (tile > (pixels + 15) / 16 * 16) tile = (pixels + 15) / 16 * 16;
    snprintf(label, sizeof label, "dense:im2col-gemm:%dx%d:%d->%d:%dx%ds%d:tile%zu", l.in_h, l.in_w, l.cin, l.cout,
             l.k, l.k, l.stride, tile);
    gemm_case(label, (size_t)l.cout, kk, tile);
  }
  static const size_t fc[][3] = {{1024, 96, 192}, {256, 144, 288}, {1024, 192, 96}, {40, 120, 40}, {160, 64, 32}};
  for (size_t i = 0; i < sizeof fc / sizeof fc[0]; i++) { /* rows, Cin, Cout */
    snprintf(label, sizeof label, "vit:fc-rows:%zux%zu->%zu", fc[i][0], fc[i][1], fc[i][2]);
    gemm_case(label, fc[i][0], fc[i][1], fc[i][2]);
  }
}

/* Activation kinds (f32-vact over a v2 block's 56x56x24 tensor, the f32-gemm epilogue of a 28x28 32->192 1x1 layer),
 * and the data-movement families on the shapes of the zoo's decoders and layout changes: 2x nearest (YOLO/UNet
 * necks: x_scale 2) and 2x bilinear half-pixel upsamples, DeepLabV3's 8x bilinear to the input size, a 3x nearest
 * (generic table); NCHW<->NHWC transposes (64 and 3 channels), DepthToSpace's inner block (W x 2). */
typedef struct resize_ctx {
  sb_resize_plan plan;
  size_t planes;
  const float* in;
  float* out;
} resize_ctx;
typedef struct transpose_ctx {
  size_t outer, a, b, in_stride;
  const float* in;
  float* out;
} transpose_ctx;

static void run_resize(const call* c) {
  const resize_ctx* r = c->ctx;
  const size_t in_plane = (size_t)r->plan.in_h * r->plan.in_w, out_plane = (size_t)r->plan.out_h * r->plan.out_w;
  for (size_t p = 0; p < r->planes; p++)
    ((sb_f32_resize_ukernel*)c->entry->fn)(&r->plan, r->in + p * in_plane, r->out + p * out_plane, 0,
                                           (size_t)r->plan.out_h);
}
static void run_transpose(const call* c) {
  const transpose_ctx* t = c->ctx;
  for (size_t o = 0; o < t->outer; o++)
    ((sb_f32_transpose_ukernel*)c->entry->fn)(t->a, t->b, t->in + o * t->a * t->b, t->in_stride,
                                              t->out + o * t->a * t->b, t->b);
}

/* half-pixel (align 0) or align-corners (align 1) map of one axis, the formulas of ONNX Resize */
static void resize_axis(int nearest, int align, int32_t in, int32_t out, int32_t* lo, int32_t* hi, float* wlo,
                        float* whi) {
  for (int32_t i = 0; i < out; i++) {
    float x = align ? (out == 1 ? 0.0f : (float)i * (float)(in - 1) / (float)(out - 1))
                    : ((float)i + 0.5f) * (float)in / (float)out - 0.5f;
    if (nearest) x = floorf(x + 0.5f);
    x = x < 0.0f ? 0.0f : (x > (float)(in - 1) ? (float)(in - 1) : x);
    lo[i] = (int32_t)x;
    hi[i] = lo[i] + 1 < in ? lo[i] + 1 : in - 1;
    whi[i] = x - (float)lo[i];
    wlo[i] = 1.0f - whi[i];
  }
}

static void resize_case(int nearest, int align, size_t planes, int32_t in_h, int32_t in_w, int32_t out_h,
                        int32_t out_w, const char* where) {
  int32_t* ints = malloc(sizeof(int32_t) * 2 * (size_t)(out_h + out_w));
  float* ws = malloc(sizeof(float) * 2 * (size_t)(out_h + out_w));
  resize_axis(nearest, align, in_h, out_h, ints, ints + out_h, ws, ws + out_h);
  int32_t* xi = ints + 2 * out_h;
  float* xw = ws + 2 * out_h;
  resize_axis(nearest, align, in_w, out_w, xi, xi + out_w, xw, xw + out_w);
  resize_ctx r = {{in_h, in_w, out_h, out_w, ints, ints + out_h, xi, xi + out_w, ws, ws + out_h, xw, xw + out_w},
                  planes, farray(planes * (size_t)in_h * (size_t)in_w), farray(planes * (size_t)out_h * (size_t)out_w)};
  int32_t x_scale = nearest && out_w == 2 * in_w ? 2 : 0;
  for (int32_t i = 0; i < out_w && x_scale; i++) x_scale = xi[i] == i / 2 ? 2 : 0;
  char label[160];
  snprintf(label, sizeof label, "%s:%s:%zux%dx%d->%dx%d", where, nearest ? "nearest" : (align ? "bilinear-ac" : "bilinear"),
           planes, in_h, in_w, out_h, out_w);
  const sb_kernel_shape shape = sb_kernel_shape_params(x_scale, 0);
  bench_case(nearest ? SB_FAMILY_F32_RESIZE_NEAREST : SB_FAMILY_F32_RESIZE_BILINEAR, &shape, label,
             (int64_t)planes * out_h * out_w, run_resize, &r);
  free(ints), free(ws), free((void*)r.in), free(r.out);
}

static void transpose_case(const char* label, size_t outer, size_t a, size_t b) {
  transpose_ctx t = {outer, a, b, a, farray(outer * a * b), farray(outer * a * b)};
  const sb_kernel_shape shape = sb_kernel_shape_params(0, 0);
  bench_case(SB_FAMILY_F32_TRANSPOSE, &shape, label, (int64_t)(outer * a * b), run_transpose, &t);
  free((void*)t.in), free(t.out);
}

static void movement_and_activations(void) {
  static const sb_activation kinds[] = {
      {SB_ACT_HARDSWISH, 0, 0}, {SB_ACT_SIGMOID, 0, 0}, {SB_ACT_SILU, 0, 0},  {SB_ACT_GELU, 0, 0},
      {SB_ACT_GELU_TANH, 0, 0}, {SB_ACT_TANH, 0, 0},    {SB_ACT_EXP, 0, 0},   {SB_ACT_ELU, 1.0f, 0},
      {SB_ACT_LEAKYRELU, 0.1f, 0}, {SB_ACT_ERF, 0, 0},  {SB_ACT_SOFTPLUS, 0, 0}, {SB_ACT_LOG, 0, 0}};
  static const char* names[] = {"hardswish", "sigmoid", "silu", "gelu", "gelu_tanh", "tanh",
                                "exp", "elu", "leakyrelu", "erf", "softplus", "log"};
  char label[160];
  const size_t n = 24 * 56 * 56;
  float* a = farray(n);
  float* y = farray(n);
  for (size_t i = 0; i < n; i++) a[i] = 4.0f * a[i] + 4.5f; /* (0.5, 8.5): in LOG's domain too */
  const sb_kernel_shape params = sb_kernel_shape_params(0, 0);
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    elt_ctx e = {24, 56 * 56, a, a, a, y, kinds[k], {0}};
    snprintf(label, sizeof label, "act:%s:24x56x56", names[k]);
    bench_case(SB_FAMILY_F32_VACT, &params, label, (int64_t)n, run_elt, &e);
  }
  free(a), free(y);
  const size_t pixels = 28 * 28, cin = 32, cout = 192;
  float* in = farray(cin * pixels);
  float* out = farray(cout * pixels);
  float* w = farray(cin * cout);
  float* bias = farray(cout);
  const sb_kernel_shape shape = {0, 0, (int64_t)pixels, (int32_t)cin, (int32_t)cout, 28, 0};
  for (size_t k = 0; k < 4; k++) { /* the kinds EfficientNet / MobileNetV3 / MobileViT fuse into 1x1 convs */
    gemm_ctx g = {pixels, cout, cin, w, bias, in, out, kinds[k]};
    snprintf(label, sizeof label, "v2:1x1:28x28:32->192:%s", names[k]);
    bench_case(SB_FAMILY_F32_GEMM, &shape, label, (int64_t)(pixels * cin * cout), run_gemm, &g);
  }
  free(in), free(out), free(w), free(bias);
  resize_case(1, 0, 64, 40, 40, 80, 80, "yolo");
  resize_case(1, 0, 32, 20, 20, 60, 60, "x3");
  resize_case(0, 0, 64, 28, 28, 56, 56, "unet");
  resize_case(0, 1, 64, 28, 28, 56, 56, "unet");
  resize_case(0, 0, 21, 28, 28, 224, 224, "deeplab");
  transpose_case("nchw->nhwc:64x56x56", 1, 56 * 56, 64);
  transpose_case("nhwc->nchw:56x56x64", 1, 64, 56 * 56);
  transpose_case("nchw->nhwc:3x224x224", 1, 224 * 224, 3);
  transpose_case("nhwc->nchw:224x224x3", 1, 3, 224 * 224);
  transpose_case("depth2space:16x28x(28x2)", 16 * 2 * 28, 28, 2);
}

int main(int argc, char** argv) {
  if (argc < 2 || (strcmp(argv[1], "count") != 0 && strcmp(argv[1], "time") != 0)) {
    fprintf(stderr, "usage: kernel_bench count|time [ROUNDS] [--family NAME] [--kernel SUBSTRING]\n");
    return 2;
  }
  timing = strcmp(argv[1], "time") == 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--family") == 0 && i + 1 < argc) family_filter = argv[++i];
    else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) kernel_filter = argv[++i];
    else if (timing && atoi(argv[i]) > 0 && atoi(argv[i]) <= 64) rounds = atoi(argv[i]);
    else {
      fprintf(stderr, "kernel_bench: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  mobilenet_v1();
  mobilenet_v2();
  mobilenet_v3_5x5();
  pose_5x5();
  if (!timing) { /* two marks in a row: the mark's own cost, which bench.py subtracts */
    printf("K -1 calibrate - - 0\n");
    bench_mark();
    bench_mark();
  }
  for (int i = 0; i < num_layers; i++) {
    const layer* l = &layers[i];
    if (l->kind == K_PW || l->kind == K_FC) bench_pointwise(l);
    else if (l->kind == K_DW || l->kind == K_STEM) bench_conv(l);
    else bench_elementwise(l);
  }
  transformers_and_decoders();
  dense_kxk_and_token_fc();
  movement_and_activations();
  return 0;
}
