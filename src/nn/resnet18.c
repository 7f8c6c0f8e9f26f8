/* ResNet18 (CIFAR variant) layout: shapes, the parameter/statistics tables with PyTorch names,
 * initialisation, and the plain-C reference model used by the tests. See resnet18.h. */
#include "nn/resnet18.h"
#include "nn/reference.h"
#include "util/error.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

int isb_resnet18_plan_make(isb_resnet18_plan *p, const isb_model_config *cfg) {
    if (cfg->width < 1 || cfg->width > 4096)
        return isb_fail(ISB_ERR_USAGE, "model width %d is out of range: use 1..4096 (64 = the paper's ResNet18)",
                        cfg->width);
    if (cfg->in_channels < 1 || cfg->in_channels > 64)
        return isb_fail(ISB_ERR_USAGE, "model in_channels %d is out of range: use 3 (RGB) or 1 (grey)",
                        cfg->in_channels);
    if (cfg->classes < 2 || cfg->classes > 100000)
        return isb_fail(ISB_ERR_USAGE, "model classes %d is out of range: use 2..100000 (10 for CIFAR-10)",
                        cfg->classes);
    if (cfg->image_size < 1 || cfg->image_size > 1024)
        return isb_fail(ISB_ERR_USAGE, "model image_size %d is out of range: use 1..1024 (32 for CIFAR)",
                        cfg->image_size);
    memset(p, 0, sizeof *p);
    p->width = cfg->width;
    p->in_channels = cfg->in_channels;
    p->classes = cfg->classes;
    p->image_size = cfg->image_size;
    int w = cfg->width, h = cfg->image_size;
    p->stem = add_conv(p, "c1", cfg->in_channels, h, w, 3, 1);
    p->stem_bn = add_bn(p, "b1", w, h * h);
    /* torch_anchor.py's cfg: (w,w,1) (w,w,1) (w,2w,2) (2w,2w,1) (2w,4w,2) (4w,4w,1) (4w,8w,2) (8w,8w,1) */
    int cin = w;
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        int stage = i / 2, cout = w << stage, stride = (i % 2 == 0 && stage > 0) ? 2 : 1;
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
        cin = cout;
        h = ho;
    }
    p->feat = cin;
    p->final_hw = h * h;
    p->fc_w = add_tensor(p, "fc.weight", 2, (int64_t[]){cfg->classes, cin}, 0, ISB_INIT_UNIFORM, cin);
    p->fc_b = add_tensor(p, "fc.bias", 1, (int64_t[]){cfg->classes}, 0, ISB_INIT_UNIFORM, cin);
    /* running statistics after all parameters, in the same layer order */
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

/* ---- plain-C reference model ------------------------------------------------------------------ */

/* Every buffer of one reference pass, freed together. */
typedef struct {
    float *ptr[256];
    int n;
    int failed;
} arena;

static float *arena_floats(arena *a, size_t n) {
    float *p = a->n < 256 ? calloc(n ? n : 1, sizeof *p) : NULL;
    if (!p) {
        a->failed = 1;
        return NULL;
    }
    a->ptr[a->n++] = p;
    return p;
}

static void arena_free(arena *a) {
    for (int i = 0; i < a->n; i++) free(a->ptr[i]);
}

static isb_bn_shape bn_shape(const isb_rn_bn *b, int batch, int relu) {
    return (isb_bn_shape){.channels = b->channels, .n = batch * b->hw, .momentum = 0.1f, .eps = 1e-5f, .relu = relu};
}

static isb_conv_shape conv_shape(const isb_rn_conv *c, int batch) {
    isb_conv_shape s = c->shape;
    s.batch = batch;
    return s;
}

/* What the backward of one BN needs from its forward. */
typedef struct {
    float *x, *y, *mean, *invstd;
} ref_bn_saved;

typedef struct {
    float *in, *c1, *a1, *c2, *y, *scc, *scb; /* y: bn2 output, then (in place) the block output */
    ref_bn_saved b1, b2, sb;
} ref_block;

static void ref_bn_forward(const isb_rn_bn *b, int batch, int relu, int train,
                           const float *params, float *stats, ref_bn_saved *sv, float *y, float *x) {
    isb_bn_shape s = bn_shape(b, batch, relu);
    sv->x = x;
    sv->y = y;
    if (train)
        isb_ref_bn_forward_train(&s, y, sv->mean, sv->invstd, stats + b->mean, stats + b->var, x, params + b->gamma,
                                 params + b->beta);
    else
        isb_ref_bn_forward_eval(&s, y, x, params + b->gamma, params + b->beta, stats + b->mean, stats + b->var);
}

double isb_resnet18_reference(const isb_resnet18_plan *p, int batch, const float *x_nchw, const int *labels,
                              const float *weights, const float *params, float *stats, int train, float *logits,
                              float *grads) {
    arena a = {0};
    const int B = batch, S = p->image_size;
    /* training mode without a stats array still needs somewhere to put the running statistics */
    float *st = stats ? stats : arena_floats(&a, p->n_stats);
    float *xin = arena_floats(&a, (size_t)p->in_channels * B * S * S);
    float *stem_c = arena_floats(&a, (size_t)p->width * B * S * S), *stem_a = arena_floats(&a, (size_t)p->width * B * S * S);
    ref_bn_saved stem_sv = {.mean = arena_floats(&a, p->width), .invstd = arena_floats(&a, p->width)};
    ref_block rb[ISB_RN_BLOCKS];
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_block *b = &p->blocks[i];
        size_t out = (size_t)b->cout * B * b->h_out * b->h_out;
        rb[i] = (ref_block){.c1 = arena_floats(&a, out), .a1 = arena_floats(&a, out), .c2 = arena_floats(&a, out),
                            .y = arena_floats(&a, out)};
        ref_bn_saved *svs[3] = {&rb[i].b1, &rb[i].b2, &rb[i].sb};
        for (int k = 0; k < 3; k++) {
            svs[k]->mean = arena_floats(&a, b->cout);
            svs[k]->invstd = arena_floats(&a, b->cout);
        }
        if (b->has_sc) {
            rb[i].scc = arena_floats(&a, out);
            rb[i].scb = arena_floats(&a, out);
        }
    }
    float *pooled = arena_floats(&a, (size_t)B * p->feat), *z = arena_floats(&a, (size_t)B * p->classes);
    float *dz = arena_floats(&a, (size_t)B * p->classes);
    if (a.failed) {
        arena_free(&a);
        return NAN;
    }

    /* forward */
    isb_ref_nchw_to_cnhw(B, p->in_channels, S * S, xin, x_nchw);
    isb_conv_shape cs = conv_shape(&p->stem, B);
    isb_ref_conv2d_forward(&cs, stem_c, xin, params + p->stem.w);
    ref_bn_forward(&p->stem_bn, B, 1, train, params, st, &stem_sv, stem_a, stem_c);
    float *h = stem_a;
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_block *b = &p->blocks[i];
        ref_block *r = &rb[i];
        size_t out = (size_t)b->cout * B * b->h_out * b->h_out;
        r->in = h;
        cs = conv_shape(&b->c1, B);
        isb_ref_conv2d_forward(&cs, r->c1, h, params + b->c1.w);
        ref_bn_forward(&b->b1, B, 1, train, params, st, &r->b1, r->a1, r->c1);
        cs = conv_shape(&b->c2, B);
        isb_ref_conv2d_forward(&cs, r->c2, r->a1, params + b->c2.w);
        ref_bn_forward(&b->b2, B, 0, train, params, st, &r->b2, r->y, r->c2);
        const float *shortcut = h;
        if (b->has_sc) {
            cs = conv_shape(&b->sc, B);
            isb_ref_conv2d_forward(&cs, r->scc, h, params + b->sc.w);
            ref_bn_forward(&b->sb, B, 0, train, params, st, &r->sb, r->scb, r->scc);
            shortcut = r->scb;
        }
        isb_ref_add((int)out, r->y, r->y, shortcut, 1);
        h = r->y;
    }
    isb_ref_avgpool_forward(B, p->feat, p->final_hw, pooled, h);
    isb_ref_linear_forward(B, p->feat, p->classes, z, pooled, params + p->fc_w, params + p->fc_b);
    double loss = isb_ref_softmax_xent(B, p->classes, dz, NULL, NULL, z, labels, weights);
    if (logits) memcpy(logits, z, (size_t)B * p->classes * sizeof *z);
    if (!grads) {
        arena_free(&a);
        return loss;
    }

    /* backward: dy holds the gradient of the current block output, dx receives its input's */
    size_t max_act = (size_t)p->width * B * S * S;
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        size_t n = (size_t)p->blocks[i].cout * B * p->blocks[i].h_out * p->blocks[i].h_out;
        if (n > max_act) max_act = n;
    }
    float *dy = arena_floats(&a, max_act), *dx = arena_floats(&a, max_act);
    float *t1 = arena_floats(&a, max_act), *t2 = arena_floats(&a, max_act);
    float *dpooled = arena_floats(&a, (size_t)B * p->feat);
    if (a.failed) {
        arena_free(&a);
        return NAN;
    }
    isb_ref_linear_backward(B, p->feat, p->classes, dpooled, grads + p->fc_w, grads + p->fc_b, dz, pooled,
                            params + p->fc_w);
    isb_ref_avgpool_backward(B, p->feat, p->final_hw, dy, dpooled);
    for (int i = ISB_RN_BLOCKS - 1; i >= 0; i--) {
        const isb_rn_block *b = &p->blocks[i];
        ref_block *r = &rb[i];
        int out = b->cout * B * b->h_out * b->h_out, in = b->cin * B * b->h_in * b->h_in;
        isb_ref_relu_backward(out, dy, dy, r->y);
        isb_bn_shape bs = bn_shape(&b->b2, B, 0);
        isb_ref_bn_backward(&bs, t1, grads + b->b2.gamma, grads + b->b2.beta, dy, r->b2.x, NULL, params + b->b2.gamma,
                            r->b2.mean, r->b2.invstd);
        cs = conv_shape(&b->c2, B);
        isb_ref_conv2d_backward(&cs, t2, grads + b->c2.w, t1, r->a1, params + b->c2.w);
        bs = bn_shape(&b->b1, B, 1);
        isb_ref_bn_backward(&bs, t2, grads + b->b1.gamma, grads + b->b1.beta, t2, r->c1, r->a1, params + b->b1.gamma,
                            r->b1.mean, r->b1.invstd);
        cs = conv_shape(&b->c1, B);
        isb_ref_conv2d_backward(&cs, dx, grads + b->c1.w, t2, r->in, params + b->c1.w);
        if (b->has_sc) {
            bs = bn_shape(&b->sb, B, 0);
            isb_ref_bn_backward(&bs, t1, grads + b->sb.gamma, grads + b->sb.beta, dy, r->scc, NULL,
                                params + b->sb.gamma, r->sb.mean, r->sb.invstd);
            cs = conv_shape(&b->sc, B);
            isb_ref_conv2d_backward(&cs, t2, grads + b->sc.w, t1, r->in, params + b->sc.w);
            isb_ref_add(in, dx, dx, t2, 0);
        } else {
            isb_ref_add(in, dx, dx, dy, 0);
        }
        float *swap = dy;
        dy = dx;
        dx = swap;
    }
    isb_bn_shape bs = bn_shape(&p->stem_bn, B, 1);
    isb_ref_bn_backward(&bs, t1, grads + p->stem_bn.gamma, grads + p->stem_bn.beta, dy, stem_c, stem_a,
                        params + p->stem_bn.gamma, stem_sv.mean, stem_sv.invstd);
    cs = conv_shape(&p->stem, B);
    isb_ref_conv2d_backward(&cs, NULL, grads + p->stem.w, t1, xin, params + p->stem.w);
    arena_free(&a);
    return loss;
}
