/* Cost-based chunking shared by the ops (docs/threads.md): how many chunks a loop is worth, and where to cut
 * group-sparse weights so that blocks of output groups hold equal shares of the kept weights. */
#include "internal.h"

size_t sb_target_chunks(const sb_threadpool* pool, double cost, size_t most) {
  const size_t threads = (size_t)sb_threadpool_threads(pool);
  if (threads <= 1) return 1;
  const double by_cost = cost / SB_CHUNK_MIN_COST;
  size_t chunks = 4 * threads;
  if ((double)chunks > by_cost) chunks = by_cost < 1 ? 1 : (size_t)by_cost;
  if (chunks > most) chunks = most;
  if (chunks > threads) chunks -= chunks % threads; /* whole rounds of equal chunks */
  return chunks ? chunks : 1;
}

void sb_split_groups(const int32_t* group_start, size_t groups, size_t blocks, size_t* cuts) {
  const size_t total = (size_t)group_start[groups];
  cuts[0] = 0;
  for (size_t b = 1; b < blocks; b++) {
    size_t lo = cuts[b - 1], hi = groups;
    if (total == 0) { /* all groups empty: equal counts of groups */
      cuts[b] = groups * b / blocks;
      continue;
    }
    const size_t want = total * b / blocks; /* the first group whose start reaches the share: lower bound */
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if ((size_t)group_start[mid] < want)
        lo = mid + 1;
      else
        hi = mid;
    }
    cuts[b] = lo;
  }
  cuts[blocks] = groups;
}
