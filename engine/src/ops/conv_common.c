/* Conv geometry checks and the batch/thread loop shared by CONV and CONV_SPARSE. */
#include "ops.h"

static int64_t conv_out_size(int64_t in, int64_t pad0, int64_t pad1, int64_t k, int64_t dil, int64_t stride) {
  int64_t span = in + pad0 + pad1 - dil * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

sb_status sb_conv_geometry(const sb_model* m, const sb_node* n, int32_t cout, sb_conv_shape* s) {
  sb_status st = sb_check_activation(m, n, 0, "X", 4);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const int32_t kh = sb_attr_conv_kh(n), kw = sb_attr_conv_kw(n), sh = sb_attr_conv_stride_h(n),
                sw = sb_attr_conv_stride_w(n), pt = sb_attr_conv_pad_top(n), pl = sb_attr_conv_pad_left(n),
                pb = sb_attr_conv_pad_bottom(n), pr = sb_attr_conv_pad_right(n), dh = sb_attr_conv_dilation_h(n),
                dw = sb_attr_conv_dilation_w(n), groups = sb_attr_conv_groups(n);
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || groups < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d, stride %dx%d, dilation %dx%d, groups %d: each must be >= 1",
                        kh, kw, sh, sw, dh, dw, groups);
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "negative padding (%d,%d,%d,%d)", pt, pl, pb, pr);
  if (kh > SB_MAX_DIM || kw > SB_MAX_DIM || pt > SB_MAX_DIM || pl > SB_MAX_DIM || pb > SB_MAX_DIM ||
      pr > SB_MAX_DIM || dh > SB_MAX_DIM || dw > SB_MAX_DIM)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel/padding/dilation exceed the cap 2^24 (%d)", 0);
  int32_t cin = x->dims[1];
  if (cin % groups != 0 || cout % groups != 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "groups=%d does not divide Cin=%d and Cout=%d", groups, cin, cout);
  int64_t oh = conv_out_size(x->dims[2], pt, pb, kh, dh, sh);
  int64_t ow = conv_out_size(x->dims[3], pl, pr, kw, dw, sw);
  if (oh < 1 || ow < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d (dilation %dx%d) does not fit the padded %dx%d input", kh, kw,
                        dh, dw, x->dims[2], x->dims[3]);
  int32_t out_dims[4] = {x->dims[0], cout, (int32_t)oh, (int32_t)ow};
  if (oh > SB_MAX_DIM || ow > SB_MAX_DIM || (st = sb_check_output(m, n, 4, out_dims)) != SB_OK)
    return oh > SB_MAX_DIM || ow > SB_MAX_DIM ? SB_NODE_FAIL(SB_ERR_FORMAT, n, "output %lldx%lld too large",
                                                             (long long)oh, (long long)ow)
                                              : st;
  s->in_c = cin;
  s->in_h = x->dims[2];
  s->in_w = x->dims[3];
  s->out_c = cout;
  s->out_h = (int32_t)oh;
  s->out_w = (int32_t)ow;
  s->kh = kh;
  s->kw = kw;
  s->stride_h = sh;
  s->stride_w = sw;
  s->pad_top = pt;
  s->pad_left = pl;
  s->dil_h = dh;
  s->dil_w = dw;
  s->groups = groups;
  return SB_OK;
}

int32_t sb_conv_kernel_param(const sb_conv_shape* s) {
  return s->kh == s->kw && s->dil_h == 1 && s->dil_w == 1 ? s->kh : -1;
}

int32_t sb_conv_stride_param(const sb_conv_shape* s) {
  return s->stride_h == s->stride_w && s->dil_h == 1 && s->dil_w == 1 ? s->stride_h : -1;
}

/* Partitioning (docs/threads.md): chunks of similar cost, enough for the threads (sb_parallel_for_cost's rule).
 * 1x1 convs (GEMM, SPMM) split the pixels into 16-pixel multiples while there are enough of them (early layers);
 * small planes (7x7, 14x14) split the output channels instead: 16-channel multiples for the dense GEMM, whole groups
 * for the sparse SPMM with cuts at equal shares of the kept weights, so blocks of very different nnz still cost
 * alike. Depthwise convs split channels, and rows when there are too few channels. Dense and sparse kxk convs split
 * rows, or channel blocks (sparse: whole groups) when row chunks would hold fewer than 64 pixels. Every output element
 * is computed by the same kernel code path whatever the split (tiles fall on the same pixels and channels), so results
 * do not depend on the thread count. */
#define SB_CONV_MAX_BLOCKS 64

typedef struct conv_job {
  const sb_conv_state* state;
  const float* input;
  float* output;
  const sb_activation* act;
  /* 2-D split: item t is channel block t / pixel_chunks and pixel (or row) chunk t % pixel_chunks; pixel chunk i is
   * units [pixel_units * i / pixel_chunks, pixel_units * (i + 1) / pixel_chunks) of `unit` pixels (or rows) */
  size_t pixel_chunks, pixel_units, unit, pixels;
  size_t blocks;
  size_t block_start[SB_CONV_MAX_BLOCKS + 1]; /* channels (dense, depthwise) or groups (sparse) */
  size_t touch; /* floats of input each item reads through first (channel blocks of a 1x1 conv), or 0 */
} conv_job;

static void run_rows(void* ctx, size_t begin, size_t end) {
  const conv_job* j = ctx;
  const sb_conv_state* s = j->state;
  if (s->mode == SB_CONV_DIRECT)
    ((sb_f32_conv_ukernel*)s->fn)(&s->shape, s->weights, s->bias, j->input, j->output, j->act, begin, end);
  else
    ((sb_f32_spconv_ukernel*)s->fn)(&s->shape, &s->sparse, j->input, j->output, j->act, begin, end);
}

sb_sparse_weights sb_sparse_group_block(const sb_sparse_weights* all, size_t g0, size_t g1, size_t* first) {
  sb_sparse_weights w = *all;
  const size_t g = (size_t)w.group, cout = (size_t)w.out_channels;
  *first = g0 * g;
  w.num_groups = (int32_t)(g1 - g0);
  w.out_channels = (int32_t)((g1 * g < cout ? g1 * g : cout) - *first);
  w.nnz += g0;
  w.group_start += g0;
  w.bias += *first;
  return w;
}

/* Output channels [c0, c1) (groups [c0, c1) when sparse), pixels [p0, p1) of a 1x1 conv. */
static void run_block(const conv_job* j, size_t c0, size_t c1, size_t p0, size_t p1) {
  const sb_conv_state* s = j->state;
  const size_t plane = (size_t)s->shape.in_h * (size_t)s->shape.in_w;
  if (s->mode == SB_CONV_GEMM) {
    const size_t cin = (size_t)s->shape.in_c;
    ((sb_f32_gemm_ukernel*)s->fn)(p1 - p0, plane, c1 - c0, cin, s->weights + c0 * cin, s->bias + c0,
                                  j->input + p0, j->output + c0 * plane + p0, j->act);
    return;
  }
  size_t first = 0;
  const sb_sparse_weights w = sb_sparse_group_block(&s->sparse, c0, c1, &first);
  ((sb_f32_spmm_ukernel*)s->fn)(p1 - p0, plane, &w, j->input + p0, j->output + first * plane + p0, j->act);
}

static void run_pixels(void* ctx, size_t begin, size_t end) {
  const conv_job* j = ctx;
  const size_t all = j->state->mode == SB_CONV_GEMM ? (size_t)j->state->shape.out_c : (size_t)j->state->sparse.num_groups;
  run_block(j, 0, all, begin, end);
}

static void item_range(const conv_job* j, size_t t, size_t* block, size_t* p0, size_t* p1) {
  const size_t i = t % j->pixel_chunks, end = j->pixel_units * (i + 1) / j->pixel_chunks * j->unit;
  *block = t / j->pixel_chunks;
  *p0 = j->pixel_units * i / j->pixel_chunks * j->unit;
  *p1 = end < j->pixels ? end : j->pixels;
}

/* One load per cache line, in order: the hardware prefetchers then stream the lines the other core wrote, which the
 * kernels' strided (GEMM) or index-ordered (SPMM) reads would fetch one miss at a time. */
static void touch_lines(const float* x, size_t count) {
  float sum = 0.0f;
  for (size_t i = 0; i < count; i += 16) sum += x[i];
  volatile float keep = sum; /* the loads must happen */
  (void)keep;
}

static void run_tiles(void* ctx, size_t begin, size_t end) {
  const conv_job* j = ctx;
  if (j->touch) touch_lines(j->input, j->touch);
  for (size_t t = begin; t < end; t++) {
    size_t b, p0, p1;
    item_range(j, t, &b, &p0, &p1);
    if (j->block_start[b] < j->block_start[b + 1] && p0 < p1)
      run_block(j, j->block_start[b], j->block_start[b + 1], p0, p1);
  }
}

/* Output channels [c0, c1) over rows [r0, r1) as a conv of their own: a depthwise conv's channels read only their own
 * input planes, a dense conv's (groups 1) every plane; for a sparse kxk conv [c0, c1) are groups. */
static void run_channel_tiles(void* ctx, size_t begin, size_t end) {
  const conv_job* j = ctx;
  const sb_conv_state* s = j->state;
  const sb_conv_shape* c = &s->shape;
  const int depthwise = c->groups > 1;
  const size_t in_plane = (size_t)c->in_h * c->in_w, out_plane = (size_t)c->out_h * c->out_w,
               per_out = (size_t)(c->in_c / c->groups) * c->kh * c->kw;
  for (size_t t = begin; t < end; t++) {
    size_t b, r0, r1;
    item_range(j, t, &b, &r0, &r1);
    const size_t c0 = j->block_start[b], c1 = j->block_start[b + 1];
    if (c0 >= c1 || r0 >= r1) continue;
    sb_conv_shape sub = *c;
    if (s->mode == SB_CONV_DIRECT_SPARSE) {
      size_t first = 0;
      const sb_sparse_weights w = sb_sparse_group_block(&s->sparse, c0, c1, &first);
      sub.out_c = w.out_channels;
      ((sb_f32_spconv_ukernel*)s->fn)(&sub, &w, j->input, j->output + first * out_plane, j->act, r0, r1);
      continue;
    }
    sub.out_c = (int32_t)(c1 - c0);
    if (depthwise) sub.in_c = sub.groups = sub.out_c;
    ((sb_f32_conv_ukernel*)s->fn)(&sub, s->weights + c0 * per_out, s->bias + c0,
                                  j->input + (depthwise ? c0 * in_plane : 0), j->output + c0 * out_plane, j->act, r0,
                                  r1);
  }
}

/* Fills j's 2-D split of about `target` items: `pixels` pixels (or rows) in units of `unit`, `channels` in steps of
 * `step`. Pixels first (the kernels' best case: every chunk runs all channels over a run of pixels) unless there are
 * too few pixel units or channels_first: then channel blocks, and pixel chunks only for the rest of the target.
 * Returns the item count. */
static size_t split_2d(conv_job* j, size_t target, size_t pixels, size_t unit, size_t channels, size_t step,
                       int channels_first) {
  const size_t units = (pixels + unit - 1) / unit, cunits = (channels + step - 1) / step;
  size_t blocks = 1;
  if (channels_first || units < target) {
    blocks = target < cunits ? target : cunits;
    if (blocks > SB_CONV_MAX_BLOCKS) blocks = SB_CONV_MAX_BLOCKS;
  }
  size_t pchunks = (target + blocks - 1) / blocks;
  if (pchunks > units) pchunks = units;
  j->pixels = pixels;
  j->unit = unit;
  j->pixel_units = units;
  j->pixel_chunks = pchunks;
  j->blocks = blocks;
  for (size_t b = 0; b <= blocks; b++) {
    const size_t c = cunits * b / blocks * step;
    j->block_start[b] = c < channels ? c : channels;
  }
  return blocks * j->pixel_chunks;
}

void sb_conv_run(sb_model* m, sb_node* n) {
  const sb_conv_state* s = n->state;
  const sb_conv_shape* c = &s->shape;
  const sb_tensor* x = sb_input(m, n, 0);
  sb_tensor* y = sb_output(m, n);
  size_t in_image = (size_t)c->in_c * (size_t)c->in_h * (size_t)c->in_w;
  size_t out_image = (size_t)c->out_c * (size_t)c->out_h * (size_t)c->out_w;
  const size_t batch = x->dims[0] > 0 ? (size_t)x->dims[0] : 1;
  const double cost = (double)n->macs / (double)batch + (double)out_image;
  const size_t target = sb_target_chunks(m->pool, cost, SB_CONV_MAX_BLOCKS);
  const int depthwise = s->mode == SB_CONV_DIRECT && c->groups == c->in_c && c->groups == c->out_c && c->groups > 1;
  for (int32_t b = 0; b < x->dims[0]; b++) {
    conv_job job = {s, x->data + (size_t)b * in_image, y->data + (size_t)b * out_image, &n->act, 0, 0, 0, 0, 0, {0}, 0};
    const size_t plane = (size_t)c->out_h * (size_t)c->out_w;
    if (target < 2) {
      if (s->mode == SB_CONV_GEMM || s->mode == SB_CONV_SPMM)
        run_pixels(&job, 0, plane);
      else
        run_rows(&job, 0, (size_t)c->out_h);
    } else if (s->mode == SB_CONV_GEMM || s->mode == SB_CONV_SPMM) {
      /* channel blocks when the plane is smaller than the output channels: a pixel chunk re-reads all weights
       * (Cin x Cout), a channel block all inputs (Cin x plane); and every block then runs the plane's remainder
       * pixels (the kernels' slow per-pixel tail, e.g. 196 = 6 x 32 + 4 on 14x14) instead of one chunk running
       * all of it (at 2 threads 14x14 layers split into 8 pixel chunks ended 0.18 of 0.71 ms waiting for it).
       * Channel blocks: one per thread, each first reading its whole input line by line (touch_lines): half of it
       * is in the other core's cache, and the kernels' own reads fetched it a miss at a time (MobileNet-v1 90 %,
       * 14x14 512 -> 512: 0.109 ms on 2 threads as on 1, 0.081 ms after; pool_trace) */
      const int sparse = s->mode == SB_CONV_SPMM, channels_first = plane < (size_t)c->out_c;
      const size_t threads = (size_t)sb_threadpool_threads(m->pool), want = channels_first ? threads : target;
      const size_t items = sparse ? split_2d(&job, want, plane, 16, (size_t)s->sparse.num_groups, 1, channels_first)
                                  : split_2d(&job, want, plane, 16, (size_t)c->out_c, 16, channels_first);
      if (channels_first && job.pixel_chunks == 1) job.touch = (size_t)c->in_c * plane;
      if (sparse && job.blocks > 1)
        sb_split_groups(s->sparse.group_start, (size_t)s->sparse.num_groups, job.blocks, job.block_start);
      sb_parallel_for(m->pool, items, 1, run_tiles, &job);
    } else if (depthwise) {
      /* Where the 1x1 convs around it split pixels (plane >= channels) and there are >= 4 rows per thread: one
       * band of rows per thread, so each thread reads the rows its own pixel chunks of the conv before wrote (the
       * pool's two-ended claims give the caller the first chunks of both) and writes those the next one reads:
       * data written by one core and read by the other costs 2.8x a same-core pass on this KVM guest at times
       * (docs/threads.md). Otherwise channels first, one block of >= 8 channels over whole planes per thread (the
       * cost rule's 4 per thread gave MobileNetV2's 14x14 and 7x7 depthwise convs 1.2x the CPU work of 1 per thread
       * and no gain at 2 threads; channels cost alike, so equal blocks end together); row chunks of >= 8 rows only
       * past the channels (a chunk of r rows reads r + kh - 1 input rows: 2-row chunks did 1.68x the work, TQ's
       * qemu counts). */
      const size_t threads = (size_t)sb_threadpool_threads(m->pool);
      const size_t items = plane >= (size_t)c->out_c && (size_t)c->out_h >= 4 * threads
                               ? split_2d(&job, threads, (size_t)c->out_h, 1, (size_t)c->out_c, 8, 0)
                               : split_2d(&job, target < threads ? target : threads, (size_t)c->out_h, 8, (size_t)c->out_c, 8, 1);
      sb_parallel_for(m->pool, items, 1, run_channel_tiles, &job);
    } else if (((s->mode == SB_CONV_DIRECT && c->groups == 1 && c->out_c >= 32) ||
                (s->mode == SB_CONV_DIRECT_SPARSE && s->sparse.num_groups >= 8)) &&
               ((size_t)c->out_h + target - 1) / target * (size_t)c->out_w < 64) {
      /* Row chunks narrower than two of the kernels' 32-pixel tiles: one block of 16-channel multiples (sparse: of
       * whole groups) over whole planes per thread instead, so every pixel runs the 1-thread tiles. The x86 conv
       * kernel ran a chunk's last pixels (under 16) one at a time: DeepLabV3's ASPP 3x3 convs (320 -> 128 channels
       * on 14x14) in 14 one-row chunks of 14 pixels did 8x their 1-thread work on 2 threads (0.9 ms a chunk against
       * 1.5 ms for the whole conv on 1 thread). One block per thread, because each block builds the im2col panel of
       * the whole plane again (nudenet's 3x3 convs on 16x16 and 8x8 in 8 blocks: 2.8x the 1-thread work). */
      const size_t threads = (size_t)sb_threadpool_threads(m->pool);
      const int sparse = s->mode == SB_CONV_DIRECT_SPARSE; /* whole groups, cut at equal shares of kept weights */
      const size_t items = split_2d(&job, threads, (size_t)c->out_h, 1,
                                    sparse ? (size_t)s->sparse.num_groups : (size_t)c->out_c, sparse ? 1 : 16, 1);
      if (sparse && job.blocks > 1)
        sb_split_groups(s->sparse.group_start, (size_t)s->sparse.num_groups, job.blocks, job.block_start);
      sb_parallel_for(m->pool, items, 1, run_channel_tiles, &job);
    } else {
      sb_parallel_for_cost(m->pool, (size_t)c->out_h, 1, cost, run_rows, &job);
    }
  }
}
