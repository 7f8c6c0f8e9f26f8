/* Wall-clock time from a monotonic clock, in seconds. */
#ifndef ISB_UTIL_TIMER_H
#define ISB_UTIL_TIMER_H
#include <time.h>
static inline double isb_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif
