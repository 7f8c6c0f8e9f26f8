/* Work-group tree reductions, the one definition every kernel file uses (prepended to a program as
 * philox.cl is: "wg_reduce.cl,nn_bn.cl"). ISB_DEFINE_WG_REDUCE(NAME, T, COMBINE) defines
 *     T NAME(T v, __local T *scratch)
 * which combines v over the work-group and returns the result to every work-item. Every work-item
 * must call it (its barriers are unconditional); the local size must be a power of two (the host
 * picks it from the device query, never assumes it) and scratch must hold local_size elements.
 * scratch may be reused after the call: the last barrier orders every read of scratch[0] before
 * the next write. COMBINE must be associative and is applied in a fixed tree order, so results are
 * deterministic for a given local size. */
#define ISB_DEFINE_WG_REDUCE(NAME, T, COMBINE)                                                        \
    static T NAME(T v, __local T *scratch) {                                                           \
        int lid = get_local_id(0);                                                                     \
        scratch[lid] = v;                                                                              \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                  \
        for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {                                          \
            if (lid < s) scratch[lid] = COMBINE(scratch[lid], scratch[lid + s]);                       \
            barrier(CLK_LOCAL_MEM_FENCE);                                                              \
        }                                                                                              \
        T total = scratch[0];                                                                          \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                  \
        return total;                                                                                  \
    }

static float isb_add_float(float a, float b) { return a + b; }
static ulong isb_add_ulong(ulong a, ulong b) { return a + b; }

ISB_DEFINE_WG_REDUCE(isb_wg_sum_float, float, isb_add_float)
ISB_DEFINE_WG_REDUCE(isb_wg_sum_ulong, ulong, isb_add_ulong)
