/* qemu-aarch64 TCG plugin: counts executed guest instructions, per guest thread, per address range and at markers.
 *
 *   qemu-aarch64 -plugin ./libinsn_count.so,out=FILE[,ranges=FILE][,idle=FILE][,marks=ADDR:ADDR...][,inline=1] prog
 *
 * ranges=FILE  `nm -S` lines ("ADDR SIZE TYPE NAME", hex); instructions inside [ADDR, ADDR+SIZE) count for NAME.
 * marks=A:@B:.. hex addresses; each time a block starting at A runs, the running counts are recorded (before that
 *              block's instructions); @B: each time the instruction at B runs, with its whole block counted (put it
 *              on a call: a branch ends a block, so that is everything up to and including the call).
 * idle=FILE   ranges in the same format whose instructions also count, per thread, as waiting (a thread pool's
 *              spin and sleep code, the pthread calls): marks then record each thread's waiting count too.
 * inline=1     the old single-thread counting (one inline add per block into one counter: faster, but wrong as
 *              soon as the guest runs two threads); the tests compare it with the per-thread counts.
 * out=FILE     where the report goes (default: qemu's log, stderr). Report lines:
 *   total N                      all threads
 *   thread V N [W]               guest thread V (qemu-user runs each guest thread as vCPU V; 0 is the main thread)
 *   range NAME N                 (per range, all threads)
 *   mark ADDR N V C0 C1 .. Ck [| W0 .. Wk]  in execution order: N the running total of all threads, V the thread that
 *                                ran the marked block, Ci thread i's running count at that moment (k+1 threads seen
 *                                so far), Wi its running waiting count (with idle=)
 * Counting is per translated block (a block runs whole unless the guest faults), so a thread's count is identical
 * run to run when its work is; the running counts of *other* threads at a mark are read while they run (the only
 * timing-dependent figures: a thread idling in the pool's wait code adds a few instructions either side). Range
 * counters are inline adds (not atomic): exact for single-threaded guests only. */
#include <inttypes.h>
#include <pthread.h>
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

#define MAX_MARK_ADDRS 256
#define MAX_VCPUS 1024 /* the runner's pool has at most 256 threads; qemu-user reuses a finished thread's index */

/* One counter per vCPU, each on its own cache line: only its own thread adds to it (a tb exec callback, since
 * QEMU 7.2's inline adds take one fixed address for all vCPUs); marks on other threads read it. */
typedef struct vcpu_counter {
  uint64_t n, idle;
  char pad[48];
} vcpu_counter;

static vcpu_counter counters[MAX_VCPUS];
static unsigned num_vcpus = 1; /* highest vCPU index seen + 1 (0, the main thread, is always there) */
static uint64_t overflow;  /* blocks of vCPUs beyond MAX_VCPUS (atomic adds) */
static int inline_mode;
static uint64_t inline_total;
static range* ranges;
static size_t num_ranges;
static range* idle_ranges;
static size_t num_idle_ranges;
static uint64_t mark_addrs[MAX_MARK_ADDRS];
static int mark_on_insn[MAX_MARK_ADDRS]; /* @ADDR */
static size_t num_mark_addrs;
/* marks as records [address index, vcpu, total, threads k, count 0 .. count k-1], one after the other */
static uint64_t* marks;
static size_t marks_len, marks_cap;
static pthread_mutex_t marks_lock = PTHREAD_MUTEX_INITIALIZER;
static char out_path[512];

static int by_start(const void* a, const void* b) {
  const range* x = a;
  const range* y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

static int load_ranges(const char* path, range** out, size_t* count) {
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
    if (*count == cap) {
      cap = cap ? cap * 2 : 256;
      range* grown = realloc(*out, cap * sizeof **out);
      if (!grown) {
        fclose(f);
        return -1;
      }
      *out = grown;
    }
    range* r = &(*out)[(*count)++];
    r->start = start;
    r->end = start + size;
    r->count = 0;
    snprintf(r->name, sizeof r->name, "%s", name);
  }
  fclose(f);
  qsort(*out, *count, sizeof **out, by_start);
  return 0;
}

static range* find_range(range* ranges, size_t num_ranges, uint64_t addr) {
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

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  unsigned seen = __atomic_load_n(&num_vcpus, __ATOMIC_RELAXED);
  while (vcpu_index >= seen && vcpu_index < MAX_VCPUS &&
         !__atomic_compare_exchange_n(&num_vcpus, &seen, vcpu_index + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

static void on_block(unsigned int vcpu_index, void* userdata) {
  uint64_t n = (uint64_t)(uintptr_t)userdata;
  if (vcpu_index < MAX_VCPUS) {
    uint64_t* c = &counters[vcpu_index].n; /* single writer: a relaxed store keeps readers from seeing a torn value */
    __atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
  } else {
    __atomic_fetch_add(&overflow, n, __ATOMIC_RELAXED);
  }
}

static void on_idle_block(unsigned int vcpu_index, void* userdata) {
  if (vcpu_index < MAX_VCPUS) {
    uint64_t* c = &counters[vcpu_index].idle;
    __atomic_store_n(c, *c + (uint64_t)(uintptr_t)userdata, __ATOMIC_RELAXED);
  }
}

static uint64_t idle_of(unsigned v) { return __atomic_load_n(&counters[v].idle, __ATOMIC_RELAXED); }

static uint64_t count_of(unsigned v) { return __atomic_load_n(&counters[v].n, __ATOMIC_RELAXED); }

static void on_mark(unsigned int vcpu_index, void* userdata) {
  pthread_mutex_lock(&marks_lock);
  unsigned k = inline_mode ? 0 : __atomic_load_n(&num_vcpus, __ATOMIC_RELAXED);
  size_t len = 4 + (num_idle_ranges ? 2 : 1) * (size_t)k;
  if (marks_len + len > marks_cap) {
    size_t cap = marks_cap ? marks_cap * 2 : 4096;
    while (cap < marks_len + len) cap *= 2;
    uint64_t* grown = realloc(marks, cap * sizeof *marks);
    if (!grown) {
      pthread_mutex_unlock(&marks_lock);
      return;
    }
    marks = grown;
    marks_cap = cap;
  }
  uint64_t* r = marks + marks_len;
  r[0] = (uint64_t)(uintptr_t)userdata;
  r[1] = vcpu_index;
  r[2] = inline_mode ? inline_total : 0;
  r[3] = k;
  for (unsigned v = 0; v < k; v++) r[2] += r[4 + v] = count_of(v);
  for (unsigned v = 0; num_idle_ranges && v < k; v++) r[4 + k + v] = idle_of(v);
  marks_len += len;
  pthread_mutex_unlock(&marks_lock);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  const uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
  /* marks first: QEMU runs a block's callbacks in registration order, so a mark sees the counts before its block */
  for (size_t m = 0; m < num_mark_addrs; m++) {
    if (!mark_on_insn[m]) {
      if (mark_addrs[m] == vaddr)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_NO_REGS, (void*)(uintptr_t)m);
      continue;
    }
    for (size_t i = 0; i < n; i++) { /* instruction callbacks run after the block's own (the count) */
      struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
      if (qemu_plugin_insn_vaddr(insn) == mark_addrs[m])
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, (void*)(uintptr_t)m);
    }
  }
  if (inline_mode) qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &inline_total, n);
  else qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, (void*)(uintptr_t)n);
  if (num_idle_ranges && !inline_mode) {
    uint64_t waiting = 0;
    for (size_t i = 0; i < n; i++)
      waiting += !!find_range(idle_ranges, num_idle_ranges, qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i)));
    if (waiting)
      qemu_plugin_register_vcpu_tb_exec_cb(tb, on_idle_block, QEMU_PLUGIN_CB_NO_REGS, (void*)(uintptr_t)waiting);
  }
  if (num_ranges == 0) return;
  /* One inline add per range the block touches (almost always one). */
  range* current = NULL;
  uint64_t run = 0;
  for (size_t i = 0; i < n; i++) {
    range* r = find_range(ranges, num_ranges, qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i)));
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
  unsigned k = __atomic_load_n(&num_vcpus, __ATOMIC_RELAXED);
  uint64_t total = inline_mode ? inline_total : __atomic_load_n(&overflow, __ATOMIC_RELAXED);
  for (unsigned v = 0; !inline_mode && v < k; v++) total += count_of(v);
  EMIT("total %" PRIu64 "\n", total);
  for (unsigned v = 0; !inline_mode && v < k; v++) {
    EMIT("thread %u %" PRIu64, v, count_of(v));
    if (num_idle_ranges) EMIT(" %" PRIu64, idle_of(v));
    EMIT("\n");
  }
  for (size_t i = 0; i < num_ranges; i++)
    if (ranges[i].count) EMIT("range %s %" PRIu64 "\n", ranges[i].name, ranges[i].count);
  pthread_mutex_lock(&marks_lock);
  for (size_t at = 0; at < marks_len; at += 4 + (num_idle_ranges ? 2 : 1) * marks[at + 3]) {
    const uint64_t* r = marks + at;
    EMIT("mark %" PRIx64 " %" PRIu64, mark_addrs[r[0]], r[2]);
    if (!inline_mode) EMIT(" %" PRIu64, r[1]);
    for (uint64_t v = 0; v < r[3]; v++) EMIT(" %" PRIu64, r[4 + v]);
    if (num_idle_ranges && r[3]) EMIT(" |");
    for (uint64_t v = 0; num_idle_ranges && v < r[3]; v++) EMIT(" %" PRIu64, r[4 + r[3] + v]);
    EMIT("\n");
  }
  pthread_mutex_unlock(&marks_lock);
#undef EMIT
  if (f) fclose(f);
}

static int parse_marks(const char* text) {
  while (*text) {
    char* end = NULL;
    const int on_insn = *text == '@';
    uint64_t addr = strtoull(text + on_insn, &end, 16);
    if (end == text + on_insn || num_mark_addrs == MAX_MARK_ADDRS) {
      fprintf(stderr, "insn_count: bad marks list '%s' (hex addresses, @ for an instruction, ':' between, max %d)\n",
              text, MAX_MARK_ADDRS);
      return -1;
    }
    mark_on_insn[num_mark_addrs] = on_insn;
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
      if (load_ranges(a + 7, &ranges, &num_ranges)) return -1;
    } else if (!strncmp(a, "idle=", 5)) {
      if (load_ranges(a + 5, &idle_ranges, &num_idle_ranges)) return -1;
    } else if (!strncmp(a, "marks=", 6)) {
      if (parse_marks(a + 6)) return -1;
    } else if (!strcmp(a, "inline=1") || !strcmp(a, "inline=0")) {
      inline_mode = a[7] == '1';
    } else {
      fprintf(stderr, "insn_count: unknown argument '%s' (expected out=, ranges=, idle=, marks=, inline=)\n", a);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit, NULL);
  return 0;
}
