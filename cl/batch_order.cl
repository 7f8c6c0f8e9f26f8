/* The mini-batch order of a draw without replacement: the selected samples, ranked in index order
 * (a stable compaction), go to positions pi(rank) of a pseudo-random permutation pi of [0, z) keyed
 * by (seed, epoch). pi is a 4-round Feistel network on the smallest even-bit domain 2^b >= z with
 * cycle walking (x >= z is mapped again; the domain is below 4 z, so < 4 steps on average), so
 * every rank gets its own position in O(1) work: no sort of the selected samples.
 * Shared verbatim by the host (src/ref/sampling.c) and the device, as philox.cl; prepend
 * philox.cl. */
#ifndef ISB_BATCH_ORDER_CL
#define ISB_BATCH_ORDER_CL

/* MurmurHash3's finaliser: a cheap, well-mixing round function. */
ISB_RNG_FN isb_u32 isb_fmix32(isb_u32 h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

/* Round keys: Philox counter (0xFFFFFFFF, epoch, ISB_STREAM_SHUFFLE, 1), apart from the per-sample
 * counters (i, epoch, ISB_STREAM_SHUFFLE, 0) of uniform epochs. */
ISB_RNG_FN isb_philox4 isb_batch_round_keys(isb_u32 seed_lo, isb_u32 seed_hi, isb_u32 epoch) {
    return isb_philox4x32_10(0xFFFFFFFFu, epoch, ISB_STREAM_SHUFFLE, 1u, seed_lo, seed_hi);
}

/* Bits per Feistel half: the smallest even-bit domain 2^(2 h) >= z, z in [1, 2^30]. */
ISB_RNG_FN isb_u32 isb_batch_half_bits(isb_u32 z) {
    isb_u32 bits = 2;
    while (bits < 30 && ((isb_u32)1 << bits) < z) bits += 2;
    return bits / 2;
}

/* pi(rank) for rank in [0, z). Scalars only (no struct or pointer arguments: Oclgrind 21.10 cannot
 * run the noalias intrinsics those get when inlined). */
ISB_RNG_FN isb_u32 isb_batch_position(isb_u32 rank, isb_u32 z, isb_u32 half_bits, isb_philox4 keys) {
    isb_u32 mask = ((isb_u32)1 << half_bits) - 1u, x = rank;
    do {
        isb_u32 l = x >> half_bits, r = x & mask;
        for (int round = 0; round < 4; round++) {
            isb_u32 t = l ^ (isb_fmix32(r ^ keys.v[round]) & mask);
            l = r;
            r = t;
        }
        x = (l << half_bits) | r;
    } while (x >= z);
    return x;
}

#endif
