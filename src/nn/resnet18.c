/* ResNet18 (CIFAR variant) layout: the configuration check, shapes, the parameter/statistics
 * tables with PyTorch names, and initialisation. See resnet18.h; the plain-C reference model is in
 * src/ref/resnet18.c with the other references. */
#include "nn/resnet18.h"
#include "util/error.h"
#include "util/rng.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Appends one tensor to the table; returns its offset in its buffer. */
static size_t add_tensor(isb_resnet18_plan *p, const char *name, int ndim, const int64_t *dims, int is_stat,
                         isb_rn_init init, int fan_in) {
    isb_rn_tensor *t = &p->tensors[p->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        t->numel *= (size_t)dims[i];
    }
    t->is_stat = is_stat;
    t->init = init;
    t->bound = fan_in > 0 ? 1.0f / sqrtf((float)fan_in) : 0.0f;
    size_t *next = is_stat ? &p->n_stats : &p->n_params;
    t->off = *next;
    *next += t->numel;
    return t->off;
}

static isb_rn_conv add_conv(isb_resnet18_plan *p, const char *name, int cin, int h, int cout, int k, int stride) {
    char full[64];
    snprintf(full, sizeof full, "%s.weight", name);
    isb_rn_conv c;
    c.shape = (isb_conv_shape){.batch = 0, .cin = cin, .h = h, .w = h, .cout = cout, .k = k, .stride = stride};
    c.w = add_tensor(p, full, 4, (int64_t[]){cout, cin, k, k}, 0, ISB_INIT_UNIFORM, cin * k * k);
    return c;
}

/* gamma and beta go into the parameter table now (PyTorch's parameters() order); the running
 * statistics are appended to the table after all parameters (add_bn_stats). */
static isb_rn_bn add_bn(isb_resnet18_plan *p, const char *name, int channels, int hw) {
    char full[64];
    isb_rn_bn b = {.channels = channels, .hw = hw};
    snprintf(full, sizeof full, "%s.weight", name);
    b.gamma = add_tensor(p, full, 1, (int64_t[]){channels}, 0, ISB_INIT_ONES, 0);
    snprintf(full, sizeof full, "%s.bias", name);
    b.beta = add_tensor(p, full, 1, (int64_t[]){channels}, 0, ISB_INIT_ZEROS, 0);
    b.save = p->n_save;
    p->n_save += 2 * (size_t)channels;
    p->n_bn++;
    return b;
}

static void add_bn_stats(isb_resnet18_plan *p, isb_rn_bn *b, const char *name) {
    char full[64];
    snprintf(full, sizeof full, "%s.running_mean", name);
    b->mean = add_tensor(p, full, 1, (int64_t[]){b->channels}, 1, ISB_INIT_ZEROS, 0);
    snprintf(full, sizeof full, "%s.running_var", name);
    b->var = add_tensor(p, full, 1, (int64_t[]){b->channels}, 1, ISB_INIT_ONES, 0);
}

/* The model fields with a range: the limits of model_limits.h, with the usual value for the fix. */
static const struct {
    const char *field;
    size_t offset;
    int min, max;
    const char *usual;
} config_limits[] = {
    {"width", offsetof(isb_model_config, width), 1, ISB_MODEL_MAX_WIDTH, "64 = the paper's ResNet18"},
    {"in_channels", offsetof(isb_model_config, in_channels), 1, ISB_MODEL_MAX_IN_CHANNELS, "3 (RGB) or 1 (grey)"},
    {"classes", offsetof(isb_model_config, classes), 2, ISB_MODEL_MAX_CLASSES, "10 for CIFAR-10"},
    {"image_size", offsetof(isb_model_config, image_size), 1, ISB_MODEL_MAX_IMAGE_SIZE, "32 for CIFAR"},
};

int isb_resnet18_check_config(const isb_model_config *cfg) {
    for (size_t i = 0; i < sizeof config_limits / sizeof config_limits[0]; i++) {
        int v = *(const int *)((const char *)cfg + config_limits[i].offset);
        if (v < config_limits[i].min || v > config_limits[i].max)
            return isb_fail(ISB_ERR_USAGE, "model %s %d is out of range: use %d..%d (%s)", config_limits[i].field, v,
                            config_limits[i].min, config_limits[i].max, config_limits[i].usual);
    }
    return ISB_OK;
}

/* BasicBlock i of the torch_anchor.py layout, cfg (cin, cout, stride) = (w,w,1) (w,w,1) (w,2w,2)
 * (2w,2w,1) (2w,4w,2) (4w,4w,1) (4w,8w,2) (8w,8w,1), on h x h inputs. */
static void add_block(isb_resnet18_plan *p, int i, int cin, int h) {
    int stage = i / 2, cout = p->width << stage, stride = (i % 2 == 0 && stage > 0) ? 2 : 1;
    int ho = isb_conv_out_size(h, 3, stride);
    isb_rn_block *b = &p->blocks[i];
    char name[40];
    b->cin = cin; b->cout = cout; b->stride = stride; b->h_in = h; b->h_out = ho;
    snprintf(name, sizeof name, "blocks.%d.c1", i);
    b->c1 = add_conv(p, name, cin, h, cout, 3, stride);
    snprintf(name, sizeof name, "blocks.%d.b1", i);
    b->b1 = add_bn(p, name, cout, ho * ho);
    snprintf(name, sizeof name, "blocks.%d.c2", i);
    b->c2 = add_conv(p, name, cout, ho, cout, 3, 1);
    snprintf(name, sizeof name, "blocks.%d.b2", i);
    b->b2 = add_bn(p, name, cout, ho * ho);
    b->has_sc = stride != 1 || cin != cout;
    if (b->has_sc) {
        snprintf(name, sizeof name, "blocks.%d.sc.0", i);
        b->sc = add_conv(p, name, cin, h, cout, 1, stride);
        snprintf(name, sizeof name, "blocks.%d.sc.1", i);
        b->sb = add_bn(p, name, cout, ho * ho);
    }
}

/* The running statistics, after all parameters, in the same layer order. */
static void add_all_bn_stats(isb_resnet18_plan *p) {
    add_bn_stats(p, &p->stem_bn, "b1");
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        isb_rn_block *b = &p->blocks[i];
        char name[40];
        snprintf(name, sizeof name, "blocks.%d.b1", i);
        add_bn_stats(p, &b->b1, name);
        snprintf(name, sizeof name, "blocks.%d.b2", i);
        add_bn_stats(p, &b->b2, name);
        if (b->has_sc) {
            snprintf(name, sizeof name, "blocks.%d.sc.1", i);
            add_bn_stats(p, &b->sb, name);
        }
    }
}

int isb_resnet18_plan_make(isb_resnet18_plan *p, const isb_model_config *cfg) {
    ISB_TRY(isb_resnet18_check_config(cfg));
    memset(p, 0, sizeof *p);
    p->width = cfg->width;
    p->in_channels = cfg->in_channels;
    p->classes = cfg->classes;
    p->image_size = cfg->image_size;
    int h = cfg->image_size;
    p->stem = add_conv(p, "c1", cfg->in_channels, h, cfg->width, 3, 1);
    p->stem_bn = add_bn(p, "b1", cfg->width, h * h);
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        add_block(p, i, i == 0 ? cfg->width : p->blocks[i - 1].cout, h);
        h = p->blocks[i].h_out;
    }
    p->feat = p->blocks[ISB_RN_BLOCKS - 1].cout;
    p->final_hw = h * h;
    p->fc_w = add_tensor(p, "fc.weight", 2, (int64_t[]){cfg->classes, p->feat}, 0, ISB_INIT_UNIFORM, p->feat);
    p->fc_b = add_tensor(p, "fc.bias", 1, (int64_t[]){cfg->classes}, 0, ISB_INIT_UNIFORM, p->feat);
    add_all_bn_stats(p);
    if (p->n_params >= (1u << 31) || p->n_stats >= (1u << 31))
        return isb_fail(ISB_ERR_USAGE, "model width %d gives %zu parameters, more than the kernels' 2^31 limit",
                        cfg->width, p->n_params);
    return ISB_OK;
}

const isb_rn_tensor *isb_resnet18_find(const isb_resnet18_plan *p, const char *name) {
    for (int i = 0; i < p->n_tensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0) return &p->tensors[i];
    return NULL;
}

void isb_resnet18_init(const isb_resnet18_plan *p, uint64_t seed, float *params, float *stats) {
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        float *dst = (t->is_stat ? stats : params) + t->off;
        isb_rng rng = isb_rng_make(seed, ISB_STREAM_INIT, (isb_u32)i);
        for (size_t j = 0; j < t->numel; j++) {
            switch (t->init) {
            case ISB_INIT_UNIFORM: dst[j] = t->bound * (2.0f * isb_rng_uniform(&rng) - 1.0f); break;
            case ISB_INIT_ONES: dst[j] = 1.0f; break;
            case ISB_INIT_ZEROS: dst[j] = 0.0f; break;
            }
        }
    }
}

/* ---- a checkpoint's model state ---------------------------------------------------------------- */

bool isb_resnet18_tracked_name(const isb_rn_tensor *t, char *buf, size_t size) {
    const char *suffix = ".running_mean";
    size_t len = strlen(t->name), slen = strlen(suffix);
    if (!t->is_stat || len <= slen || strcmp(t->name + len - slen, suffix) != 0) return false;
    snprintf(buf, size, "%.*s.num_batches_tracked", (int)(len - slen), t->name);
    return true;
}

/* The tensor `name` of ck as floats of exactly the table's shape, or a reason. */
static int find_matching(const isb_checkpoint *ck, const isb_rn_tensor *t, const char *name, const float **data) {
    const isb_tensor *c = isb_checkpoint_find(ck, name);
    if (!c)
        return isb_fail(ISB_ERR_FORMAT, "the checkpoint has no tensor %s: it was not saved from an isbench "
                        "ResNet18 (or a torch_anchor.py state_dict)", name);
    int same = c->dtype == ISB_DTYPE_F32 && c->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = c->dims[d] == t->dims[d];
    if (!same) {
        char want[96] = "", got[96] = "";
        for (int d = 0; d < t->ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "x" : "", (long long)t->dims[d]);
        for (int d = 0; d < c->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "x" : "", (long long)c->dims[d]);
        return isb_fail(ISB_ERR_FORMAT, "checkpoint tensor %s has shape [%s]%s but the model needs f32 [%s]: was it "
                        "saved with another width, class count or input channels?", name, got,
                        c->dtype == ISB_DTYPE_F32 ? "" : " (i64)", want);
    }
    *data = c->data;
    return ISB_OK;
}


/* Every value finite, and >= 0 where nonneg (a running variance), or a reason naming the first. */
static int check_values(const char *name, const float *v, size_t n, bool nonneg) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (nonneg && v[i] < 0))
            return isb_fail(ISB_ERR_FORMAT, "checkpoint tensor %s[%zu] = %g is %s", name, i, (double)v[i],
                            isfinite(v[i]) ? "negative (a variance is >= 0)" : "not finite");
    return ISB_OK;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t len = strlen(s), slen = strlen(suffix);
    return len >= slen && strcmp(s + len - slen, suffix) == 0;
}

/* X.num_batches_tracked, when present: an i64 scalar >= 0, the same in every BN layer (*tracked; -1 until one). */
static int check_tracked(const isb_checkpoint *ck, const isb_rn_tensor *t, int64_t *tracked) {
    char name[80];
    const isb_tensor *c = isb_resnet18_tracked_name(t, name, sizeof name) ? isb_checkpoint_find(ck, name) : NULL;
    if (!c) return ISB_OK;
    int64_t v = c->dtype == ISB_DTYPE_I64 && isb_tensor_numel(c) == 1 ? *(const int64_t *)c->data : -1;
    if (v < 0 || (*tracked >= 0 && v != *tracked))
        return isb_fail(ISB_ERR_FORMAT, "checkpoint tensor %s = %lld is not the i64 count of training steps (>= 0, the "
                        "same in every BatchNorm layer)", name, (long long)(c->dtype == ISB_DTYPE_I64 ? v : -1));
    *tracked = v;
    return ISB_OK;
}

int isb_resnet18_check_state(const isb_resnet18_plan *p, const isb_checkpoint *ck, bool *with_momentum,
                             int64_t *tracked) {
    char name[80];
    snprintf(name, sizeof name, ISB_RN_MOMENTUM_PREFIX "%s", p->tensors[0].name);
    *with_momentum = isb_checkpoint_find(ck, name) != NULL; /* optional (a weights-only file), but all or nothing */
    *tracked = -1;
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        const float *data;
        ISB_TRY(find_matching(ck, t, t->name, &data));
        ISB_TRY(check_values(t->name, data, t->numel, ends_with(t->name, ".running_var")));
        ISB_TRY(check_tracked(ck, t, tracked));
        if (!*with_momentum || t->is_stat) continue;
        snprintf(name, sizeof name, ISB_RN_MOMENTUM_PREFIX "%s", t->name);
        ISB_TRY(find_matching(ck, t, name, &data));
        ISB_TRY(check_values(name, data, t->numel, false));
    }
    return ISB_OK;
}
