/* Host side of the counter-based generator: the same Philox4x32-10 code the kernels use
 * (cl/philox.cl is valid C11 and OpenCL C). See cl/philox.cl for the counter convention. */
#ifndef ISB_UTIL_RNG_H
#define ISB_UTIL_RNG_H
#include <stdint.h>
#include "philox.cl"

static inline isb_philox4 isb_philox(uint64_t seed, isb_u32 c0, isb_u32 c1, isb_u32 c2, isb_u32 c3) {
    return isb_philox4x32_10(c0, c1, c2, c3, (isb_u32)seed, (isb_u32)(seed >> 32));
}

/* A sequential stream on top of Philox for host code that just needs many numbers in order
 * (initialisation, test inputs): counter (i / 4, hi, stream, 0). */
typedef struct {
    uint64_t seed;
    isb_u32 stream, hi;
    uint64_t next; /* index of the next 32-bit word */
} isb_rng;

static inline isb_rng isb_rng_make(uint64_t seed, isb_u32 stream, isb_u32 hi) {
    isb_rng r = {seed, stream, hi, 0};
    return r;
}
static inline isb_u32 isb_rng_u32(isb_rng *r) {
    uint64_t i = r->next++;
    isb_philox4 x = isb_philox(r->seed, (isb_u32)(i >> 2), r->hi + (isb_u32)(i >> 34), r->stream, 0);
    return x.v[i & 3];
}
static inline float isb_rng_uniform(isb_rng *r) { return isb_u32_to_unit(isb_rng_u32(r)); }
/* Standard normal by Box-Muller. */
float isb_rng_normal(isb_rng *r);
/* Uniform integer in [0, n) (n > 0), Lemire's multiply-shift (bias < 2^-32 * n, fine here). */
static inline uint32_t isb_rng_below(isb_rng *r, uint32_t n) {
    return (uint32_t)(((uint64_t)isb_rng_u32(r) * n) >> 32);
}

#endif
