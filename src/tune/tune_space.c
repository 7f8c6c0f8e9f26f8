/* Owns the parameter spaces of `isbench tune` (tune_space.h): the values each CLBlast GEMM
 * parameter may take, the validity rules, the starting points and the neighbour moves. */
#include "tune/tune_space.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int n;
    size_t values[8];
} param_range;

/* CLBlast's parameter names, in the order of isb_tune_params.v. The lists reach below CLBlast's
 * own tuner ranges (1x1 and 2x2 work-items): CPU runtimes vectorise inside a work-item. */
static const param_range direct_ranges[] = {
    {"WGD", 4, {8, 16, 32, 64}},  {"MDIMCD", 5, {1, 2, 4, 8, 16}}, {"NDIMCD", 5, {1, 2, 4, 8, 16}},
    {"MDIMAD", 5, {1, 2, 4, 8, 16}}, {"NDIMBD", 5, {1, 2, 4, 8, 16}}, {"KWID", 5, {1, 2, 4, 8, 16}},
    {"VWMD", 4, {1, 2, 4, 8}},    {"VWND", 4, {1, 2, 4, 8}},       {"PADA", 2, {0, 1}},
    {"PADB", 2, {0, 1}},
};
static const param_range xgemm_ranges[] = {
    {"GEMMK", 1, {0}}, /* GEMMK=1 with MWG != NWG computes wrongly before CLBlast 1.6.3: not searched */
    {"KREG", 1, {1}},  {"KWG", 3, {8, 16, 32}},   {"KWI", 4, {1, 2, 4, 8}},
    {"MDIMA", 6, {1, 2, 4, 8, 16, 32}}, {"MDIMC", 6, {1, 2, 4, 8, 16, 32}}, {"MWG", 5, {8, 16, 32, 64, 128}},
    {"NDIMB", 6, {1, 2, 4, 8, 16, 32}}, {"NDIMC", 6, {1, 2, 4, 8, 16, 32}}, {"NWG", 5, {8, 16, 32, 64, 128}},
    {"SA", 2, {0, 1}}, {"SB", 2, {0, 1}}, {"STRM", 2, {0, 1}}, {"STRN", 2, {0, 1}},
    {"VWM", 4, {1, 2, 4, 8}}, {"VWN", 4, {1, 2, 4, 8}},
};
enum { N_DIRECT = sizeof direct_ranges / sizeof direct_ranges[0], N_XGEMM = sizeof xgemm_ranges / sizeof xgemm_ranges[0] };
enum { WGD, MDIMCD, NDIMCD, MDIMAD, NDIMBD, KWID, VWMD, VWND, PADA, PADB };
enum { GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG, SA, SB, STRM, STRN, VWM, VWN };

static const param_range *ranges(isb_tune_kernel kernel) {
    return kernel == ISB_TUNE_DIRECT ? direct_ranges : xgemm_ranges;
}

const char *isb_tune_kernel_name(isb_tune_kernel kernel) { return kernel == ISB_TUNE_DIRECT ? "XgemmDirect" : "Xgemm"; }

int isb_tune_param_count(isb_tune_kernel kernel) { return kernel == ISB_TUNE_DIRECT ? N_DIRECT : N_XGEMM; }

const char *const *isb_tune_param_names(isb_tune_kernel kernel) {
    static const char *direct[N_DIRECT], *xgemm[N_XGEMM];
    const char **names = kernel == ISB_TUNE_DIRECT ? direct : xgemm;
    for (int i = 0; i < isb_tune_param_count(kernel); i++) names[i] = ranges(kernel)[i].name;
    return names;
}

/* x is a multiple of a*b (false for a zero product). */
static bool multiple(size_t x, size_t a, size_t b) { return a * b != 0 && x % (a * b) == 0; }

/* The work-items of a work-group load a tile of `tile` columns in rows of tile / (threads / dim):
 * threads must split evenly into dim, and the tile into the rows that gives. */
static bool loads_evenly(size_t tile, size_t threads, size_t dim) {
    return dim != 0 && threads % dim == 0 && tile % (threads / dim) == 0;
}

static bool fits(const isb_device_info *device, size_t work_items, size_t local_floats) {
    return work_items <= device->max_wg && local_floats * sizeof(float) <= device->local_mem;
}

static bool direct_valid(const size_t *v, const isb_device_info *device) {
    size_t threads = v[MDIMCD] * v[NDIMCD];
    return v[KWID] != 0 && v[WGD] % v[KWID] == 0 && multiple(v[WGD], v[MDIMCD], v[VWMD]) &&
           multiple(v[WGD], v[NDIMCD], v[VWND]) && multiple(v[WGD], v[MDIMAD], v[VWMD]) &&
           multiple(v[WGD], v[NDIMBD], v[VWND]) && loads_evenly(v[WGD], threads, v[MDIMAD]) &&
           loads_evenly(v[WGD], threads, v[NDIMBD]) &&
           fits(device, threads, v[WGD] * (v[WGD] + v[PADA]) + v[WGD] * (v[WGD] + v[PADB]));
}

static bool xgemm_valid(const size_t *v, const isb_device_info *device) {
    size_t threads = v[MDIMC] * v[NDIMC];
    return v[GEMMK] == 0 && v[KREG] == 1 && v[KWI] != 0 && v[KWG] % v[KWI] == 0 && multiple(v[MWG], v[MDIMC], v[VWM]) &&
           multiple(v[NWG], v[NDIMC], v[VWN]) && multiple(v[MWG], v[MDIMA], v[VWM]) &&
           multiple(v[NWG], v[NDIMB], v[VWN]) && loads_evenly(v[KWG], threads, v[MDIMA]) &&
           loads_evenly(v[KWG], threads, v[NDIMB]) && fits(device, threads, v[SA] * v[KWG] * v[MWG] + v[SB] * v[KWG] * v[NWG]);
}

bool isb_tune_params_valid(const isb_tune_params *p, const isb_device_info *device) {
    return p->kernel == ISB_TUNE_DIRECT ? direct_valid(p->v, device) : xgemm_valid(p->v, device);
}

int isb_tune_seeds(isb_tune_kernel kernel, const isb_device_info *device, isb_tune_params *out, int max) {
    /* XgemmDirect, best first in the hand sweeps over the w16 conv GEMMs on PoCL (tuning/): 2x1
     * work-items of 8x16 float8 outputs (the CPU family default), 2x2 of 8x8, 1x2 of 16x8, and
     * CLBlast's generic default shape (8x8 work-items). Xgemm: the tuner's winner on PoCL
     * (tuning/), small CPU tiles, CLBlast's generic default shape. */
    static const size_t direct[][N_DIRECT] = {
        {16, 2, 1, 2, 2, 4, 8, 8, 0, 0}, {16, 2, 2, 2, 2, 4, 8, 8, 0, 0}, {16, 1, 2, 2, 2, 4, 8, 8, 0, 0},
        {8, 8, 8, 8, 8, 2, 1, 1, 1, 1},
    };
    static const size_t xgemm[][N_XGEMM] = {
        {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 1, 1, 0, 0, 4, 4}, {0, 1, 16, 2, 2, 2, 16, 2, 2, 16, 0, 0, 0, 0, 8, 8},
        {0, 1, 16, 2, 4, 4, 32, 4, 4, 32, 0, 0, 0, 0, 8, 8}, {0, 1, 16, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 1, 1},
    };
    int n = 0;
    for (int i = 0; i < 4 && n < max; i++) { /* 4 rows in each table */
        isb_tune_params p = {.kernel = kernel};
        memcpy(p.v, kernel == ISB_TUNE_DIRECT ? direct[i] : xgemm[i], (size_t)isb_tune_param_count(kernel) * sizeof(size_t));
        if (isb_tune_params_valid(&p, device)) out[n++] = p;
    }
    return n;
}

static int value_index(const param_range *r, size_t value) {
    for (int i = 0; i < r->n; i++)
        if (r->values[i] == value) return i;
    return 0;
}

/* One parameter moved: to the next value up or down its list, or to any value of it. */
static void move_one(isb_tune_params *p, isb_rng *rng) {
    int which = (int)isb_rng_below(rng, (uint32_t)isb_tune_param_count(p->kernel));
    const param_range *r = &ranges(p->kernel)[which];
    int at = value_index(r, p->v[which]);
    if (isb_rng_below(rng, 4) == 0) at = (int)isb_rng_below(rng, (uint32_t)r->n);
    else at += isb_rng_below(rng, 2) ? 1 : -1;
    if (at >= 0 && at < r->n) p->v[which] = r->values[at];
}

static void anywhere(isb_tune_params *p, isb_rng *rng) {
    for (int i = 0; i < isb_tune_param_count(p->kernel); i++) {
        const param_range *r = &ranges(p->kernel)[i];
        p->v[i] = r->values[isb_rng_below(rng, (uint32_t)r->n)];
    }
}

bool isb_tune_neighbour(const isb_tune_params *from, const isb_device_info *device, isb_rng *rng,
                        isb_tune_params *out) {
    bool far = isb_rng_below(rng, 10) == 0; /* now and then a jump, out of a local optimum */
    for (int attempt = 0; attempt < 5000; attempt++) {
        *out = *from;
        if (far) anywhere(out, rng);
        else
            for (int moves = 1 + (int)isb_rng_below(rng, 3); moves > 0; moves--) move_one(out, rng);
        if (!isb_tune_params_equal(out, from) && isb_tune_params_valid(out, device)) return true;
    }
    return false;
}

bool isb_tune_params_equal(const isb_tune_params *a, const isb_tune_params *b) {
    return a->kernel == b->kernel &&
           memcmp(a->v, b->v, (size_t)isb_tune_param_count(a->kernel) * sizeof a->v[0]) == 0;
}

void isb_tune_params_text(const isb_tune_params *p, char *out, size_t len) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < isb_tune_param_count(p->kernel) && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s=%zu", i ? " " : "", ranges(p->kernel)[i].name, p->v[i]);
}
