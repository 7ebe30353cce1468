/* Kernel choice, apart from the registry (which lists what exists): each architecture has a table of rules
 * (kernels_arm/config/neon.c, kernels_wasm/config/wasmsimd.c), like XNNPACK's configs. For a node, the first rule of
 * its family whose conditions hold names the kernel; each rule cites the benchmarks/kernels figure that justified
 * it. Without a matching rule, and in scalar builds (no table), the family's scalar kernel runs: the scalar kernels
 * are the oracle and the fallback of every family. */
#ifndef SB_KERNEL_CHOICE_H
#define SB_KERNEL_CHOICE_H

#include "registry.h"

typedef struct sb_kernel_rule {
  sb_kernel_family family;
  void (*fn)(void);                /* a registry kernel of the family */
  int32_t param1, param2;          /* the node's params (sb_kernel_shape) must equal these; 0 = any */
  int64_t min_pixels, max_pixels;  /* the node's pixels lie in [min, max]; max 0 = no upper bound */
  int32_t min_inputs, max_inputs;  /* the node's inputs per output channel lie in [min, max]; max 0 = no bound:
                                    * the mean kept input channels per group (sparse families), Cin (dense) */
} sb_kernel_rule;

/* SB_RULE(FAMILY, kernel, param1, param2, min_pixels, max_pixels, min_inputs, max_inputs) */
#define SB_RULE(ENUM, fn, p1, p2, min_px, max_px, min_in, max_in) \
  {SB_FAMILY_##ENUM, (void (*)(void))(fn), p1, p2, min_px, max_px, min_in, max_in}

/* The build's table (none in scalar builds: count 0). */
extern const sb_kernel_rule* const sb_kernel_rules;
extern const size_t sb_kernel_rule_count;

/* Dense kxk convs (groups 1, not 1x1/stride 1) with at least this many inputs per output (Cin*kh*kw) run as
 * im2col + f32-gemm (engine/src/ops/conv.c) instead of f32-conv; 0 = never (scalar builds: the reference). */
extern const int32_t sb_conv_im2col_min_inputs;
/* ... unless Cin is at most this (0 = no exception): stems the f32-conv kernel's few-input-channel path runs faster. */
extern const int32_t sb_conv_im2col_max_direct_in_c;

/* The shape's inputs per output channel as rules read them (min_inputs/max_inputs). */
int64_t sb_kernel_inputs_per_output(sb_kernel_family family, const sb_kernel_shape* shape);
/* Whether a rule's conditions hold for the shape (its family aside). */
int sb_kernel_rule_matches(const sb_kernel_rule* r, const sb_kernel_shape* shape);
/* The registry entry of `family` that runs `shape`: the first matching rule whose kernel is in the family's registry
 * and whose params fit, else the first scalar entry whose params fit; NULL if none fits. *rule receives the rule
 * (NULL for the fallback) when rule is not NULL. */
const sb_kernel_entry* sb_choose_kernel(sb_kernel_family family, const sb_kernel_shape* shape,
                                        const sb_kernel_rule** rule);
/* The registry entry of `family` whose function is fn, or NULL. */
const sb_kernel_entry* sb_kernel_lookup(sb_kernel_family family, void (*fn)(void));

#endif /* SB_KERNEL_CHOICE_H */
