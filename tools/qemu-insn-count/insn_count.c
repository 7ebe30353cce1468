/* qemu-aarch64 TCG plugin: counts executed guest instructions, in total, per address range and at markers.
 *
 *   qemu-aarch64 -plugin ./libinsn_count.so,out=FILE[,ranges=FILE][,marks=ADDR:ADDR...] prog args
 *
 * ranges=FILE  `nm -S` lines ("ADDR SIZE TYPE NAME", hex); instructions inside [ADDR, ADDR+SIZE) count for NAME.
 * marks=A:B:.. hex addresses; each time a block starting at one of them runs, the running total is recorded.
 * out=FILE     where the report goes (default: qemu's log, stderr). Report lines:
 *   total N | range NAME N | mark ADDR N   (marks in execution order)
 * Counting is per translated block (a block runs whole unless the guest faults), so counts are identical run to run.
 * Inline counters are not atomic: run single-threaded guests. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct range {
  uint64_t start, end;
  char name[128];
  uint64_t count;
} range;

#define MAX_MARK_ADDRS 64

static uint64_t total;
static range* ranges;
static size_t num_ranges;
static uint64_t mark_addrs[MAX_MARK_ADDRS];
static size_t num_mark_addrs;
static uint64_t* marks;         /* pairs (address index, total) */
static size_t num_marks, cap_marks;
static char out_path[512];

static int by_start(const void* a, const void* b) {
  const range* x = a;
  const range* y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

static int load_ranges(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "insn_count: cannot open ranges file '%s'\n", path);
    return -1;
  }
  size_t cap = 0;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    uint64_t start, size;
    char type[8], name[128];
    if (sscanf(line, "%" SCNx64 " %" SCNx64 " %7s %127s", &start, &size, type, name) != 4 || size == 0) continue;
    if (num_ranges == cap) {
      cap = cap ? cap * 2 : 256;
      range* grown = realloc(ranges, cap * sizeof *ranges);
      if (!grown) {
        fclose(f);
        return -1;
      }
      ranges = grown;
    }
    range* r = &ranges[num_ranges++];
    r->start = start;
    r->end = start + size;
    r->count = 0;
    snprintf(r->name, sizeof r->name, "%s", name);
  }
  fclose(f);
  qsort(ranges, num_ranges, sizeof *ranges, by_start);
  return 0;
}

static range* find_range(uint64_t addr) {
  size_t lo = 0, hi = num_ranges;
  while (lo < hi) { /* last range with start <= addr */
    size_t mid = (lo + hi) / 2;
    if (ranges[mid].start <= addr) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return NULL;
  range* r = &ranges[lo - 1];
  return addr < r->end ? r : NULL;
}

static void on_mark(unsigned int vcpu_index, void* userdata) {
  (void)vcpu_index;
  if (num_marks == cap_marks) {
    cap_marks = cap_marks ? cap_marks * 2 : 1024;
    uint64_t* grown = realloc(marks, cap_marks * 2 * sizeof *marks);
    if (!grown) return;
    marks = grown;
  }
  marks[2 * num_marks] = (uint64_t)(uintptr_t)userdata;
  marks[2 * num_marks + 1] = total;
  num_marks++;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  const uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
  for (size_t m = 0; m < num_mark_addrs; m++)
    if (mark_addrs[m] == vaddr)
      qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_NO_REGS, (void*)(uintptr_t)m);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &total, n);
  if (num_ranges == 0) return;
  /* One inline add per range the block touches (almost always one). */
  range* current = NULL;
  uint64_t run = 0;
  for (size_t i = 0; i < n; i++) {
    range* r = find_range(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i)));
    if (r != current) {
      if (current && run) qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &current->count, run);
      current = r;
      run = 0;
    }
    run++;
  }
  if (current && run) qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &current->count, run);
}

static void on_exit(qemu_plugin_id_t id, void* userdata) {
  (void)id;
  (void)userdata;
  FILE* f = out_path[0] ? fopen(out_path, "w") : NULL;
  if (out_path[0] && !f) fprintf(stderr, "insn_count: cannot write '%s'\n", out_path);
  char line[256];
#define EMIT(...)                              \
  do {                                         \
    snprintf(line, sizeof line, __VA_ARGS__);  \
    if (f) fputs(line, f);                     \
    else qemu_plugin_outs(line);               \
  } while (0)
  EMIT("total %" PRIu64 "\n", total);
  for (size_t i = 0; i < num_ranges; i++)
    if (ranges[i].count) EMIT("range %s %" PRIu64 "\n", ranges[i].name, ranges[i].count);
  for (size_t i = 0; i < num_marks; i++)
    EMIT("mark %" PRIx64 " %" PRIu64 "\n", mark_addrs[marks[2 * i]], marks[2 * i + 1]);
#undef EMIT
  if (f) fclose(f);
}

static int parse_marks(const char* text) {
  while (*text) {
    char* end = NULL;
    uint64_t addr = strtoull(text, &end, 16);
    if (end == text || num_mark_addrs == MAX_MARK_ADDRS) {
      fprintf(stderr, "insn_count: bad marks list '%s' (hex addresses separated by ':', at most %d)\n", text,
              MAX_MARK_ADDRS);
      return -1;
    }
    mark_addrs[num_mark_addrs++] = addr;
    text = *end == ':' ? end + 1 : end;
  }
  return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc, char** argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    const char* a = argv[i];
    if (!strncmp(a, "out=", 4)) {
      snprintf(out_path, sizeof out_path, "%s", a + 4);
    } else if (!strncmp(a, "ranges=", 7)) {
      if (load_ranges(a + 7)) return -1;
    } else if (!strncmp(a, "marks=", 6)) {
      if (parse_marks(a + 6)) return -1;
    } else {
      fprintf(stderr, "insn_count: unknown argument '%s' (expected out=, ranges=, marks=)\n", a);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit, NULL);
  return 0;
}
