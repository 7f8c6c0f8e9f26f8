/* The device sampler (sampler.h): enqueues the kernels of cl/sampling.cl for softmax statistics,
 * draws with replacement (alias, CDF) and without (Gumbel-top-k by radix select, or by full
 * bitonic sort), the mini-batch shuffle, uniform epochs, and weights (none, 1/(N p), exact HT from
 * the (|Z|+1)-th key).
 *
 * Buffers are allocated on first use of a method (each once per sampler), so a trainer that only
 * uses Gumbel-top-k does not hold CDF or alias tables for 100M samples. Every method enqueues
 * only: no host round-trip, no allocation after the first draw of a method. */
#include "sampling/sampler.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocl/programs.h"
#include "util/error.h"

#define ISB_SMP_MAX_GROUPS 1024
#define ISB_SMP_TILE_CHUNKS 16  /* a CDF scan tile is 16 work-group widths */

const char *const isb_draw_method_names[] = {ISB_DRAW_METHOD_NAMES, NULL};
const char *const isb_weight_mode_names[] = {"none", "inverse-p", "ht", NULL};

const char *isb_draw_method_name(isb_draw_method m) {
    return (unsigned)m <= ISB_DRAW_GUMBEL_SORT ? isb_draw_method_names[m] : "?";
}
const char *isb_weight_mode_name(isb_weight_mode m) {
    return (unsigned)m <= ISB_WEIGHTS_HT ? isb_weight_mode_names[m] : "?";
}

enum {
    K_STATS_PARTIAL, K_STATS_FINAL, K_SOFTMAX, K_CDF_TILE_SUMS, K_SCAN_EXCLUSIVE, K_CDF_TILE_SCAN, K_CDF_DRAW,
    K_ALIAS_DRAW, K_GUMBEL_KEYS, K_UNIFORM_KEYS, K_SELECT_INIT, K_SELECT_HIST, K_SELECT_FIND, K_SELECT_COMPACT,
    K_PAD_KEYS, K_BITONIC_STEP, K_KEYS_TO_INDICES, K_COMPACT_COUNT, K_KAPPA, K_COMPACT_SCATTER, K_SELECT_SORTED,
    K_WEIGHTS, K_FILL_UINT, K_BITONIC_LOCAL, K_ALIAS_TILE_SUMS, K_ALIAS_TILE_SCAN, K_ALIAS_PAIR, K_COUNT
};
static const char *const kernel_names[K_COUNT] = {
    "isb_smp_stats_partial", "isb_smp_stats_final", "isb_smp_softmax", "isb_smp_cdf_tile_sums",
    "isb_smp_scan_exclusive", "isb_smp_cdf_tile_scan", "isb_smp_cdf_draw", "isb_smp_alias_draw",
    "isb_smp_gumbel_keys", "isb_smp_uniform_keys", "isb_smp_select_init", "isb_smp_select_hist",
    "isb_smp_select_find", "isb_smp_select_compact", "isb_smp_pad_keys", "isb_smp_bitonic_step",
    "isb_smp_keys_to_indices", "isb_smp_compact_count", "isb_smp_kappa", "isb_smp_compact_scatter",
    "isb_smp_select_sorted", "isb_smp_weights", "isb_smp_fill_uint", "isb_smp_bitonic_local",
    "isb_smp_alias_tile_sums", "isb_smp_alias_tile_scan", "isb_smp_alias_pair",
};

struct isb_sampler {
    isb_ocl *ocl;
    int n_max, z_max;
    cl_kernel k[K_COUNT];
    size_t wg;              /* power-of-two work-group size valid for every sampling kernel */
    int groups;             /* work-groups of the grid-stride reductions */
    cl_mem stats;           /* float [4]: max x, sum exp(x - max), its log */
    cl_mem bad;             /* int [2]: smallest index with a non-finite S/T, with an unrepresentable
                               weight; INT_MAX if none (since the last isb_sampler_check) */
    cl_mem partial;         /* float2 or ulong [ISB_SMP_MAX_GROUPS] */
    cl_mem select;          /* ulong [8]: radix-select state, [4] the HT kappa (cl/sampling.cl) */
    cl_mem hist;            /* uint [256] */
    cl_mem counter;         /* int [1]: compaction slot counter */
    cl_mem zkeys;           /* ulong [pow2(z_max)]: a uniform epoch's selected keys, sorted into batch order */
    int zkeys_len;
    /* allocated on first use of the method that needs them: */
    cl_mem keys;            /* ulong [pow2(n_max)]: Gumbel / permutation keys */
    int keys_len;
    cl_mem cdf, tile_sums;  /* ulong [n_max], ulong [tiles + 1]: CDF; tile sums or counts, scanned */
    cl_mem tile_max;        /* ulong [tiles]: per tile, the largest key not selected (HT kappa) */
    cl_mem thr, alias;      /* uint, int [n_max]: the alias table */
    cl_mem alias_sums;      /* ulong [4 (tiles + 1)]: light/heavy counts and deficit/excess sums */
    cl_mem light_idx, heavy_idx, light_d, heavy_e; /* int, int, ulong, ulong [n_max]: construction */
};

static int fill_uint(isb_sampler *s, cl_mem buf, int count, cl_uint value);

static int pow2_at_least(int n) {
    int p = 1;
    while (p < n) p <<= 1;
    return p;
}

/* The kernels, work-group sizes and fixed work buffers of a new sampler. */
static int sampler_init(isb_sampler *s, isb_ocl *ocl, int z_max) {
    s->wg = 256;
    for (int i = 0; i < K_COUNT; i++) {
        ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_SAMPLING, "", kernel_names[i], &s->k[i]));
        size_t wg = isb_ocl_kernel_wg(ocl, s->k[i], 256);
        if (wg < s->wg) s->wg = wg;
    }
    while (s->wg & (s->wg - 1)) s->wg &= s->wg - 1; /* power of two for the tree reductions */
    int groups = (int)ocl->info.compute_units * 8;
    s->groups = groups < 1 ? 1 : groups > ISB_SMP_MAX_GROUPS ? ISB_SMP_MAX_GROUPS : groups;
    s->zkeys_len = pow2_at_least(z_max);
    ISB_TRY(isb_ocl_alloc(ocl, &s->stats, 4 * sizeof(float), "sampler stats"));
    ISB_TRY(isb_ocl_alloc(ocl, &s->bad, 2 * sizeof(int), "sampler non-finite flags"));
    ISB_TRY(isb_ocl_alloc(ocl, &s->partial, ISB_SMP_MAX_GROUPS * 2 * sizeof(float), "sampler partials"));
    ISB_TRY(isb_ocl_alloc(ocl, &s->select, 8 * sizeof(cl_ulong), "sampler select state"));
    ISB_TRY(isb_ocl_alloc(ocl, &s->hist, 256 * sizeof(cl_uint), "sampler histogram"));
    ISB_TRY(isb_ocl_alloc(ocl, &s->counter, sizeof(int), "sampler counter"));
    ISB_TRY(isb_ocl_alloc(ocl, &s->zkeys, (size_t)s->zkeys_len * sizeof(cl_ulong), "sampler batch keys"));
    return fill_uint(s, s->bad, 2, (cl_uint)INT_MAX);
}

int isb_sampler_create(isb_sampler **out, isb_ocl *ocl, int n_max, int z_max) {
    *out = NULL;
    if (n_max < 1 || z_max < 1 || n_max > (1 << 30))
        return isb_fail(ISB_ERR_USAGE, "sampler sizes n_max=%d, z_max=%d: both must be in [1, 2^30]", n_max, z_max);
    isb_sampler *s = calloc(1, sizeof *s);
    if (!s) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    s->ocl = ocl;
    s->n_max = n_max;
    s->z_max = z_max;
    int rc = sampler_init(s, ocl, z_max);
    if (rc < 0) {
        isb_sampler_free(s); /* releases what sampler_init made */
        return isb_fail_context(rc, "creating the sampler for N=%d, |Z|=%d", n_max, z_max);
    }
    *out = s;
    return ISB_OK;
}

void isb_sampler_free(isb_sampler *s) {
    if (!s) return;
    cl_mem *bufs[] = {&s->stats, &s->bad, &s->partial, &s->select, &s->hist, &s->counter, &s->zkeys,
                      &s->keys, &s->cdf, &s->tile_sums, &s->tile_max, &s->thr, &s->alias, &s->alias_sums,
                      &s->light_idx, &s->heavy_idx, &s->light_d, &s->heavy_e};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) isb_ocl_release(bufs[i]);
    free(s);
}

static int fill_uint(isb_sampler *s, cl_mem buf, int count, cl_uint value) {
    cl_kernel k = s->k[K_FILL_UINT];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(count), ISB_KA(buf), ISB_KA(value)));
    return isb_ocl_run1d(s->ocl, k, (size_t)count, s->wg);
}

/* max and sum of exp(x - max) and its log into stats[0..2]; non-finite S/T recorded in bad[0]. */
static int enqueue_stats(isb_sampler *s, cl_mem scores, int n, float inv_t) {
    cl_kernel k = s->k[K_STATS_PARTIAL];
    int groups = (int)((n + s->wg - 1) / s->wg);
    if (groups > s->groups) groups = s->groups;
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->partial), ISB_KA(s->bad),
                         ISB_KLOCAL(s->wg * 2 * sizeof(float))));
    ISB_TRY(isb_ocl_run_groups(s->ocl, k, (size_t)groups, s->wg));
    k = s->k[K_STATS_FINAL];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(groups), ISB_KA(s->partial), ISB_KA(s->stats), ISB_KLOCAL(s->wg * 2 * sizeof(float))));
    return isb_ocl_run_groups(s->ocl, k, 1, s->wg);
}

static int check_common(isb_sampler *s, cl_mem scores, int n, int z, float temperature) {
    if (!scores) return isb_fail(ISB_ERR_USAGE, "sampler: no score buffer given");
    if (n < 1 || n > s->n_max)
        return isb_fail(ISB_ERR_USAGE, "sampler: N=%d is outside [1, %d] (create the sampler with a larger n_max)",
                        n, s->n_max);
    if (z < 0 || z > s->z_max)
        return isb_fail(ISB_ERR_USAGE, "sampler: |Z|=%d is outside [0, %d] (create the sampler with a larger z_max)",
                        z, s->z_max);
    float inv_t = 1.0f / temperature;
    if (!(temperature > 0) || !isfinite(temperature) || !isnormal(inv_t))
        return isb_fail(ISB_ERR_USAGE, "sampler: temperature %g must be a finite number > 0 whose inverse is a normal "
                        "float (about 3e-38 to 3e38)", temperature);
    return ISB_OK;
}

static int ensure(isb_sampler *s, cl_mem *buf, size_t bytes, const char *what) {
    if (*buf) return ISB_OK;
    return isb_ocl_alloc(s->ocl, buf, bytes, what);
}

/* Descending bitonic sort of keys[0..len), len a power of two: stages and steps that fit a block
 * of 2 * work-group elements run in local memory, only the long-distance steps go through global
 * memory (O(log^2 len) launches become O(log^2 (len / block))). */
static int enqueue_sort(isb_sampler *s, cl_mem keys, int len) {
    if (len < 2) return ISB_OK;
    int local = len / 2 < (int)s->wg ? len / 2 : (int)s->wg, block = 2 * local, groups = len / block;
    cl_kernel kl = s->k[K_BITONIC_LOCAL], kg = s->k[K_BITONIC_STEP];
    int k_lo = 2;
    ISB_TRY(ISB_SET_ARGS(kl, ISB_KA(keys), ISB_KA(k_lo), ISB_KA(block), ISB_KLOCAL((size_t)block * sizeof(cl_ulong))));
    ISB_TRY(isb_ocl_run_groups(s->ocl, kl, (size_t)groups, (size_t)local));
    for (int k = 2 * block; k <= len; k <<= 1) {
        for (int j = k >> 1; j >= block; j >>= 1) {
            ISB_TRY(ISB_SET_ARGS(kg, ISB_KA(keys), ISB_KA(k), ISB_KA(j)));
            ISB_TRY(isb_ocl_run1d(s->ocl, kg, (size_t)len, s->wg));
        }
        ISB_TRY(ISB_SET_ARGS(kl, ISB_KA(keys), ISB_KA(k), ISB_KA(k), ISB_KLOCAL((size_t)block * sizeof(cl_ulong))));
        ISB_TRY(isb_ocl_run_groups(s->ocl, kl, (size_t)groups, (size_t)local));
    }
    return ISB_OK;
}

/* The threshold of the z largest of keys[0..n) into select[]: 8-bit radix select, most significant
 * byte first; passes after the deciding one return at once on the device. */
static int enqueue_select(isb_sampler *s, cl_mem keys, int n, int z) {
    cl_kernel k = s->k[K_SELECT_INIT];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->select), ISB_KA(z), ISB_KA(s->hist), ISB_KA(s->counter)));
    ISB_TRY(isb_ocl_run1d(s->ocl, k, 256, s->wg));
    int groups = (int)((n + s->wg - 1) / s->wg);
    if (groups > s->groups) groups = s->groups;
    for (int shift = 56; shift >= 0; shift -= 8) {
        k = s->k[K_SELECT_HIST];
        ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(keys), ISB_KA(s->select), ISB_KA(shift), ISB_KA(s->hist),
                             ISB_KLOCAL(256 * sizeof(cl_uint))));
        ISB_TRY(isb_ocl_run_groups(s->ocl, k, (size_t)groups, s->wg));
        k = s->k[K_SELECT_FIND];
        ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->select), ISB_KA(shift), ISB_KA(s->hist)));
        ISB_TRY(isb_ocl_run1d(s->ocl, k, 1, 1));
    }
    return ISB_OK;
}

/* zkeys[0..z) hold a uniform epoch's selected keys: sorted by the keys themselves (descending), they
 * are the first z of the permutation "all samples by decreasing key"; written as indices. */
static int enqueue_key_order(isb_sampler *s, int z, cl_mem out) {
    int len = pow2_at_least(z);
    cl_kernel k = s->k[K_PAD_KEYS];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(z), ISB_KA(len), ISB_KA(s->zkeys)));
    ISB_TRY(isb_ocl_run1d(s->ocl, k, (size_t)len, s->wg));
    ISB_TRY(enqueue_sort(s, s->zkeys, len));
    k = s->k[K_KEYS_TO_INDICES];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(z), ISB_KA(s->zkeys), ISB_KA(out)));
    return isb_ocl_run1d(s->ocl, k, (size_t)z, s->wg);
}

/* One group: exclusive scan of buf[base .. base + count), total into buf[base + count]. */
static int enqueue_scan(isb_sampler *s, cl_mem buf, int base, int count) {
    cl_kernel k = s->k[K_SCAN_EXCLUSIVE];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(count), ISB_KA(buf), ISB_KA(base), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
    return isb_ocl_run_groups(s->ocl, k, 1, s->wg);
}

/* tile_sums[0..tiles) = per-tile sums of the CDF's fixed-point weights (shift >= 0) or the alias
 * method's (shift < 0), exclusively scanned, total in tile_sums[tiles]. */
static int enqueue_tile_sums(isb_sampler *s, cl_mem scores, int n, float inv_t, int shift, int tile, int tiles) {
    cl_kernel k = s->k[K_CDF_TILE_SUMS];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats), ISB_KA(shift), ISB_KA(tile),
                         ISB_KA(s->tile_sums), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
    ISB_TRY(isb_ocl_run_groups(s->ocl, k, (size_t)tiles, s->wg));
    return enqueue_scan(s, s->tile_sums, 0, tiles);
}

static int enqueue_cdf(isb_sampler *s, cl_mem scores, int n, int z, float inv_t, uint64_t seed, uint32_t epoch,
                       cl_mem out) {
    int tile = (int)s->wg * ISB_SMP_TILE_CHUNKS;
    int tiles_max = (s->n_max + tile - 1) / tile, tiles = (n + tile - 1) / tile;
    ISB_TRY(ensure(s, &s->cdf, (size_t)s->n_max * sizeof(cl_ulong), "sampler CDF"));
    ISB_TRY(ensure(s, &s->tile_sums, (size_t)(tiles_max + 1) * sizeof(cl_ulong), "sampler tile sums"));
    int shift = 62;
    while (shift > 0 && ((int64_t)1 << (62 - shift)) < n) shift--; /* n * 2^shift <= 2^62 */
    ISB_TRY(enqueue_tile_sums(s, scores, n, inv_t, shift, tile, tiles));
    cl_kernel k = s->k[K_CDF_TILE_SCAN];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats), ISB_KA(shift), ISB_KA(tile),
                         ISB_KA(s->tile_sums), ISB_KA(s->cdf), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
    ISB_TRY(isb_ocl_run_groups(s->ocl, k, (size_t)tiles, s->wg));
    k = s->k[K_CDF_DRAW];
    cl_ulong seed64 = seed;
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(z), ISB_KA(s->cdf), ISB_KA(seed64), ISB_KA(epoch), ISB_KA(out)));
    return isb_ocl_run1d(s->ocl, k, (size_t)z, s->wg);
}

/* Alias table built on the device (sweep construction, cl/sampling.cl), then z draws. */
static int enqueue_alias(isb_sampler *s, cl_mem scores, int n, int z, float inv_t, uint64_t seed, uint32_t epoch,
                         cl_mem out) {
    size_t nm = (size_t)s->n_max;
    int tile = (int)s->wg * ISB_SMP_TILE_CHUNKS;
    int tiles_max = (s->n_max + tile - 1) / tile, tiles = (n + tile - 1) / tile;
    ISB_TRY(ensure(s, &s->thr, nm * sizeof(cl_uint), "sampler alias thresholds"));
    ISB_TRY(ensure(s, &s->alias, nm * sizeof(cl_int), "sampler alias table"));
    ISB_TRY(ensure(s, &s->alias_sums, 4 * (size_t)(tiles_max + 1) * sizeof(cl_ulong), "sampler alias tile sums"));
    ISB_TRY(ensure(s, &s->light_idx, nm * sizeof(cl_int), "sampler alias light samples"));
    ISB_TRY(ensure(s, &s->heavy_idx, nm * sizeof(cl_int), "sampler alias heavy samples"));
    ISB_TRY(ensure(s, &s->light_d, nm * sizeof(cl_ulong), "sampler alias deficit prefix"));
    ISB_TRY(ensure(s, &s->heavy_e, nm * sizeof(cl_ulong), "sampler alias excess prefix"));
    ISB_TRY(ensure(s, &s->tile_sums, (size_t)(tiles_max + 1) * sizeof(cl_ulong), "sampler tile sums"));
    /* exact total of the fixed-point weights first (its rounding excess is spread over all samples) */
    ISB_TRY(enqueue_tile_sums(s, scores, n, inv_t, -1 /* alias units */, tile, tiles));
    cl_kernel k = s->k[K_ALIAS_TILE_SUMS];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats), ISB_KA(tile), ISB_KA(tiles),
                         ISB_KA(s->tile_sums), ISB_KA(s->alias_sums), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
    ISB_TRY(isb_ocl_run_groups(s->ocl, k, (size_t)tiles, s->wg));
    for (int q = 0; q < 4; q++) ISB_TRY(enqueue_scan(s, s->alias_sums, q * (tiles + 1), tiles));
    k = s->k[K_ALIAS_TILE_SCAN];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats), ISB_KA(tile), ISB_KA(tiles),
                         ISB_KA(s->tile_sums), ISB_KA(s->alias_sums), ISB_KA(s->light_idx), ISB_KA(s->light_d), ISB_KA(s->heavy_idx),
                         ISB_KA(s->heavy_e), ISB_KA(s->thr), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
    ISB_TRY(isb_ocl_run_groups(s->ocl, k, (size_t)tiles, s->wg));
    k = s->k[K_ALIAS_PAIR];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(tiles), ISB_KA(s->alias_sums), ISB_KA(s->light_idx), ISB_KA(s->light_d),
                         ISB_KA(s->heavy_idx), ISB_KA(s->heavy_e), ISB_KA(s->thr), ISB_KA(s->alias)));
    ISB_TRY(isb_ocl_run1d(s->ocl, k, (size_t)n, s->wg));
    k = s->k[K_ALIAS_DRAW];
    cl_ulong seed64 = seed;
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(z), ISB_KA(s->thr), ISB_KA(s->alias), ISB_KA(seed64), ISB_KA(epoch),
                         ISB_KA(out)));
    return isb_ocl_run1d(s->ocl, k, (size_t)z, s->wg);
}

int isb_sampler_read_alias(isb_sampler *s, int n, uint32_t *thr, int *alias) {
    if (!s->thr || n < 1 || n > s->n_max)
        return isb_fail(ISB_ERR_USAGE, "no alias table of %d samples: draw with the alias method first", n);
    ISB_TRY(isb_ocl_read(s->ocl, s->thr, 0, (size_t)n * sizeof *thr, thr));
    return isb_ocl_read(s->ocl, s->alias, 0, (size_t)n * sizeof *alias, alias);
}

/* Keys at or above the selection threshold (select[]), in index order, straight into batch order
 * with their weights: per-tile counts (and, for HT, kappa), their scan, then the scatter. */
static int enqueue_compact(isb_sampler *s, cl_mem scores, int n, int z, float inv_t, int mode, uint64_t seed,
                           uint32_t epoch, cl_mem out_idx, cl_mem out_w) {
    int tile = (int)s->wg * ISB_SMP_TILE_CHUNKS;
    int tiles_max = (s->n_max + tile - 1) / tile, tiles = (n + tile - 1) / tile;
    ISB_TRY(ensure(s, &s->tile_sums, (size_t)(tiles_max + 1) * sizeof(cl_ulong), "sampler tile sums"));
    ISB_TRY(ensure(s, &s->tile_max, (size_t)tiles_max * sizeof(cl_ulong), "sampler tile maxima"));
    cl_kernel k = s->k[K_COMPACT_COUNT];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(tile), ISB_KA(s->keys), ISB_KA(s->select), ISB_KA(s->tile_sums),
                         ISB_KA(s->tile_max), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
    ISB_TRY(isb_ocl_run_groups(s->ocl, k, (size_t)tiles, s->wg));
    ISB_TRY(enqueue_scan(s, s->tile_sums, 0, tiles));
    if (mode == ISB_WEIGHTS_HT) {
        k = s->k[K_KAPPA];
        ISB_TRY(ISB_SET_ARGS(k, ISB_KA(tiles), ISB_KA(s->tile_max), ISB_KA(s->select), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
        ISB_TRY(isb_ocl_run_groups(s->ocl, k, 1, s->wg));
    }
    k = s->k[K_COMPACT_SCATTER];
    cl_ulong seed64 = seed;
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(tile), ISB_KA(s->keys), ISB_KA(s->select), ISB_KA(s->tile_sums), ISB_KA(z),
                         ISB_KA(seed64), ISB_KA(epoch), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats), ISB_KA(mode),
                         ISB_KA(out_idx), ISB_KA(out_w), ISB_KA(s->bad), ISB_KLOCAL(s->wg * sizeof(cl_ulong))));
    return isb_ocl_run_groups(s->ocl, k, (size_t)tiles, s->wg);
}

static int enqueue_gumbel_keys(isb_sampler *s, cl_mem scores, int n, int padded, float inv_t, uint64_t seed,
                               uint32_t epoch) {
    cl_kernel k = s->k[K_GUMBEL_KEYS];
    cl_ulong seed64 = seed;
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(padded), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats),
                         ISB_KA(seed64), ISB_KA(epoch), ISB_KA(s->keys)));
    return isb_ocl_run1d(s->ocl, k, (size_t)(padded + 3) / 4, s->wg); /* 4 keys per work-item */
}

/* The z largest Gumbel keys by radix select or (full_sort) a full sort of all keys, then the
 * compaction into batch order with the weights. */
static int enqueue_gumbel(isb_sampler *s, cl_mem scores, int n, int z, float inv_t, bool full_sort, int mode,
                          uint64_t seed, uint32_t epoch, cl_mem out_idx, cl_mem out_w) {
    if (!s->keys) {
        s->keys_len = pow2_at_least(s->n_max);
        ISB_TRY(isb_ocl_alloc(s->ocl, &s->keys, (size_t)s->keys_len * sizeof(cl_ulong), "sampler keys"));
    }
    if (full_sort) {
        int padded = pow2_at_least(n);
        ISB_TRY(enqueue_gumbel_keys(s, scores, n, padded, inv_t, seed, epoch));
        ISB_TRY(enqueue_sort(s, s->keys, padded));
        cl_kernel k = s->k[K_SELECT_SORTED];
        ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->keys), ISB_KA(z), ISB_KA(s->select)));
        ISB_TRY(isb_ocl_run1d(s->ocl, k, 1, 1));
    }
    /* (the sort path recomputes the keys: the compaction wants them in index order) */
    ISB_TRY(enqueue_gumbel_keys(s, scores, n, n, inv_t, seed, epoch));
    if (!full_sort) ISB_TRY(enqueue_select(s, s->keys, n, z));
    return enqueue_compact(s, scores, n, z, inv_t, mode, seed, epoch, out_idx, out_w);
}

static int enqueue_weights(isb_sampler *s, cl_mem scores, int n, int z, float inv_t, int mode, cl_mem idx, cl_mem w) {
    cl_kernel k = s->k[K_WEIGHTS];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(z), ISB_KA(idx), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats),
                         ISB_KA(s->select), ISB_KA(mode), ISB_KA(w), ISB_KA(s->bad)));
    return isb_ocl_run1d(s->ocl, k, (size_t)z, s->wg);
}

int isb_sampler_draw(isb_sampler *s, cl_mem scores, int n, int z, float temperature, isb_draw_method method,
                     isb_weight_mode weights, uint64_t seed, uint32_t epoch, cl_mem out_indices, cl_mem out_weights) {
    ISB_TRY(check_common(s, scores, n, z, temperature));
    bool without = method == ISB_DRAW_GUMBEL_TOPK || method == ISB_DRAW_GUMBEL_SORT;
    if (method < ISB_DRAW_ALIAS || method > ISB_DRAW_GUMBEL_SORT)
        return isb_fail(ISB_ERR_USAGE, "sampler: unknown draw method %d", (int)method);
    if (weights < ISB_WEIGHTS_NONE || weights > ISB_WEIGHTS_HT)
        return isb_fail(ISB_ERR_USAGE, "sampler: unknown weight mode %d", (int)weights);
    if (without && z > n)
        return isb_fail(ISB_ERR_USAGE,
                        "sampler: cannot draw |Z|=%d of N=%d without replacement (use |Z| <= N, or a method "
                        "with replacement: alias, cdf)", z, n);
    if (weights == ISB_WEIGHTS_HT && !without)
        return isb_fail(ISB_ERR_USAGE,
                        "sampler: Horvitz-Thompson weights need a draw without replacement (gumbel-topk or "
                        "gumbel-sort); use inverse-p weights with alias or cdf");
    if (z == 0) return ISB_OK;
    float inv_t = 1.0f / temperature;
    /* with z = N every sample is in with probability 1: HT weights are 1 exactly */
    if (weights == ISB_WEIGHTS_HT && z == n) weights = ISB_WEIGHTS_NONE;
    ISB_TRY(enqueue_stats(s, scores, n, inv_t));
    switch (method) {
    case ISB_DRAW_ALIAS: ISB_TRY(enqueue_alias(s, scores, n, z, inv_t, seed, epoch, out_indices)); break;
    case ISB_DRAW_CDF: ISB_TRY(enqueue_cdf(s, scores, n, z, inv_t, seed, epoch, out_indices)); break;
    case ISB_DRAW_GUMBEL_TOPK:
    case ISB_DRAW_GUMBEL_SORT: /* indices and weights together */
        return enqueue_gumbel(s, scores, n, z, inv_t, method == ISB_DRAW_GUMBEL_SORT, (int)weights, seed, epoch,
                              out_indices, out_weights);
    }
    return enqueue_weights(s, scores, n, z, inv_t, (int)weights, out_indices, out_weights);
}

int isb_sampler_uniform(isb_sampler *s, int n, int z, uint64_t seed, uint32_t epoch, cl_mem out_indices,
                        cl_mem out_weights) {
    if (n < 1 || n > s->n_max || z < 0 || z > n || z > s->z_max)
        return isb_fail(ISB_ERR_USAGE, "uniform sampler: need 0 <= |Z|=%d <= N=%d, N <= %d and |Z| <= %d", z, n,
                        s->n_max, s->z_max);
    if (z == 0) return ISB_OK;
    if (!s->keys) {
        s->keys_len = pow2_at_least(s->n_max);
        ISB_TRY(isb_ocl_alloc(s->ocl, &s->keys, (size_t)s->keys_len * sizeof(cl_ulong), "sampler keys"));
    }
    cl_kernel k = s->k[K_UNIFORM_KEYS];
    cl_ulong seed64 = seed;
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(seed64), ISB_KA(epoch), ISB_KA(s->keys)));
    ISB_TRY(isb_ocl_run1d(s->ocl, k, (size_t)n, s->wg));
    ISB_TRY(enqueue_select(s, s->keys, n, z));
    k = s->k[K_SELECT_COMPACT]; /* the z keys into zkeys[] (any order: sorted next) */
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(s->keys), ISB_KA(s->select), ISB_KA(s->counter), ISB_KA(s->zkeys)));
    ISB_TRY(isb_ocl_run1d(s->ocl, k, (size_t)n, s->wg));
    /* Sorting the selected keys themselves gives the first z of the permutation "all keys sorted". */
    ISB_TRY(enqueue_key_order(s, z, out_indices));
    /* weight mode 0 never reads the scores: any valid buffer fills that argument */
    return enqueue_weights(s, out_weights, n, z, 1.0f, 0, out_indices, out_weights);
}

int isb_sampler_softmax(isb_sampler *s, cl_mem scores, int n, float temperature, cl_mem out_p) {
    ISB_TRY(check_common(s, scores, n, 0, temperature));
    float inv_t = 1.0f / temperature;
    ISB_TRY(enqueue_stats(s, scores, n, inv_t));
    cl_kernel k = s->k[K_SOFTMAX];
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(scores), ISB_KA(inv_t), ISB_KA(s->stats), ISB_KA(out_p)));
    return isb_ocl_run1d(s->ocl, k, (size_t)n, s->wg);
}

int isb_sampler_check(isb_sampler *s) {
    int bad[2] = {INT_MAX, INT_MAX};
    ISB_TRY(isb_ocl_read(s->ocl, s->bad, 0, sizeof bad, bad));
    if (bad[0] == INT_MAX && bad[1] == INT_MAX) return ISB_OK;
    ISB_TRY(fill_uint(s, s->bad, 2, (cl_uint)INT_MAX)); /* the next check reports only new problems */
    if (bad[0] != INT_MAX)
        return isb_fail(ISB_ERR_NUMERIC,
                        "the score of sample %d divided by the temperature is NaN or infinite: a NaN/Inf score "
                        "means the loss diverged (lower the learning rate) or the score file is corrupt; a finite "
                        "one overflows at this temperature (raise the temperature or rescale the scores)",
                        bad[0]);
    return isb_fail(ISB_ERR_NUMERIC,
                    "the importance weight of sample %d is not representable as a float (its probability is too "
                    "small relative to the others): raise the temperature or rescale the scores",
                    bad[1]);
}

int isb_scores_update(isb_ocl *ocl, cl_mem scores, cl_mem indices, cl_mem values, int b, isb_score_rule rule) {
    ISB_TRY(isb_score_rule_check(rule, "score update"));
    if (b <= 0 || rule.kind == ISB_SCORE_RULE_NONE) return ISB_OK;
    size_t scores_bytes = 0;
    ISB_TRY(isb_ocl_check(clGetMemObjectInfo(scores, CL_MEM_SIZE, sizeof scores_bytes, &scores_bytes, NULL),
                          "clGetMemObjectInfo(scores)"));
    int n_scores = scores_bytes / sizeof(float) > INT_MAX ? INT_MAX : (int)(scores_bytes / sizeof(float));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_SAMPLING, "", "isb_smp_score_update", &k));
    size_t rows_bytes = (size_t)b * (sizeof(float) + sizeof(cl_int));
    if (rows_bytes > ocl->info.local_mem)
        return isb_fail(ISB_ERR_USAGE, "score update: a batch of %d needs %zu bytes of local memory but %s has %lu; "
                        "use a smaller batch", b, rows_bytes, ocl->info.name, (unsigned long)ocl->info.local_mem);
    int kind = (int)rule.kind;
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(b), ISB_KA(scores), ISB_KA(n_scores), ISB_KA(indices), ISB_KA(values), ISB_KA(kind),
                         ISB_KA(rule.beta), ISB_KLOCAL((size_t)b * sizeof(float)), ISB_KLOCAL((size_t)b * sizeof(cl_int))));
    return isb_ocl_run_groups(ocl, k, 1, isb_ocl_kernel_wg(ocl, k, 256));
}
