/* Per-thread last-error message, status names and the version string. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SB_ERROR_CAPACITY 512

#if defined(SB_NO_THREADS)
static char last_error[SB_ERROR_CAPACITY];
#else
static _Thread_local char last_error[SB_ERROR_CAPACITY];
#endif

sb_status sb_fail(sb_status status, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, args);
  va_end(args);
  return status;
}

void sb_clear_error(void) { last_error[0] = '\0'; }

void sb_prefix_error(const char* prefix) {
  char copy[SB_ERROR_CAPACITY];
  memcpy(copy, last_error, sizeof copy);
  /* Long messages are cut at the buffer's end; the start (the prefix and the problem) is what matters. */
  if (snprintf(last_error, sizeof last_error, "%s: %s", prefix, copy) < 0) last_error[0] = '\0';
}

const char* sb_last_error(void) { return last_error; }

const char* sb_status_name(sb_status status) {
  switch (status) {
    case SB_OK: return "SB_OK";
    case SB_ERR_IO: return "SB_ERR_IO";
    case SB_ERR_FORMAT: return "SB_ERR_FORMAT";
    case SB_ERR_VERSION: return "SB_ERR_VERSION";
    case SB_ERR_UNSUPPORTED: return "SB_ERR_UNSUPPORTED";
    case SB_ERR_NOMEM: return "SB_ERR_NOMEM";
    case SB_ERR_ARGUMENT: return "SB_ERR_ARGUMENT";
  }
  return "SB_ERR_UNKNOWN";
}

#define SB_STR2(x) #x
#define SB_STR(x) SB_STR2(x)

const char* sb_version_string(void) {
  return "sparsebyte " SB_STR(SB_VERSION_MAJOR) "." SB_STR(SB_VERSION_MINOR) " (format "
      SB_STR(SB_VERSION_MAJOR) "." SB_STR(SB_VERSION_MINOR) ")";
}
