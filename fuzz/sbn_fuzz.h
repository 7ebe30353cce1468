/* Shared declarations of the .sbn fuzz target (sbn_fuzz.c), its replay driver and its mutator. */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct sb_model sb_model;

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
/* Upper bound on the scalar work of one run of a validated model (the harness skips running heavier ones). */
uint64_t sb_fuzz_estimated_work(const sb_model* m);

/* sbn_fix.c: recompute every section CRC that lies inside the file, the section table CRC and the header CRC, as the
 * converter would, so that a mutated field reaches the checks behind the CRCs. */
void sb_fuzz_fix_crcs(uint8_t* data, size_t size);

#endif
