/* Philox4x32-10 counter-based generator (Salmon et al., SC'11), shared verbatim by the host (C11,
 * through src/util/rng.h) and the device (prepended to programs that draw random numbers), so the
 * same (key, counter) gives the same bits on every device and on the host.
 *
 * Convention used across isbench: key = the run's 64-bit seed; counter = (item, epoch, stream, 0)
 * where item is e.g. a sample index and stream names the purpose (ISB_STREAM_*), so draws do not
 * depend on batch order or on which device runs them. */
#ifndef ISB_PHILOX_CL
#define ISB_PHILOX_CL

#ifdef __OPENCL_VERSION__
typedef uint isb_u32;
#define ISB_RNG_FN static inline
static inline isb_u32 isb_mulhi32(isb_u32 a, isb_u32 b) { return mul_hi(a, b); }
#else
#include <stdint.h>
typedef uint32_t isb_u32;
#define ISB_RNG_FN static inline
static inline isb_u32 isb_mulhi32(isb_u32 a, isb_u32 b) { return (isb_u32)(((uint64_t)a * b) >> 32); }
#endif

/* Purposes of random streams (third counter word). */
#define ISB_STREAM_AUGMENT 1u   /* crop offsets and flips: counter (sample, epoch, 1, 0) */
#define ISB_STREAM_SAMPLER 2u   /* importance-sampling draws */
#define ISB_STREAM_SHUFFLE 3u   /* uniform permutations and mini-batch shuffles */
#define ISB_STREAM_INIT 4u      /* parameter initialisation */
#define ISB_STREAM_SUBSET 5u    /* class-balanced subsets */
#define ISB_STREAM_TEST 6u      /* test inputs */

typedef struct { isb_u32 v[4]; } isb_philox4;

ISB_RNG_FN isb_philox4 isb_philox4x32_10(isb_u32 c0, isb_u32 c1, isb_u32 c2, isb_u32 c3,
                                           isb_u32 k0, isb_u32 k1) {
    for (int r = 0; r < 10; r++) {
        isb_u32 hi0 = isb_mulhi32(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        isb_u32 hi1 = isb_mulhi32(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        isb_u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    isb_philox4 out;
    out.v[0] = c0; out.v[1] = c1; out.v[2] = c2; out.v[3] = c3;
    return out;
}

/* Uniform float in [0, 1) with 24 random bits (exactly representable, identical everywhere). */
ISB_RNG_FN float isb_u32_to_unit(isb_u32 x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }
/* Uniform float strictly inside (0, 1) with 23 random bits: (k + 1/2) / 2^23 is exact in float (and
 * double), so host and device get the same bits, and neither end is reachable (Gumbel noise
 * -log(-log u) stays finite: |g| < 17). */
ISB_RNG_FN float isb_u32_to_unit_open(isb_u32 x) { return ((float)(x >> 9) + 0.5f) * (1.0f / 8388608.0f); }
/* Uniform float in (0, 1]: safe under log(). */
ISB_RNG_FN float isb_u32_to_unit_open0(isb_u32 x) { return ((float)(x >> 8) + 1.0f) * (1.0f / 16777216.0f); }

#endif
