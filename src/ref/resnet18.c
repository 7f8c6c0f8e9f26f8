/* The plain-C reference of the whole ResNet18 (see ref/nn.h): the per-op references of
 * ref/nn.c composed in the device model's order (NCHW input, CNHW inside). Slow: for tests at
 * small widths. */
#include "ref/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* One pass: the network, its batch, and every activation the backward reads. */
typedef struct {
    const isb_resnet18_plan *p;
    int batch;
    const float *params;
    arena a;
    float *stats; /* the caller's, or a scratch copy when it passes none */
    float *xin, *stem_c, *stem_a, *pooled, *z, *dz;
    ref_bn_saved stem_sv;
    ref_block rb[ISB_RN_BLOCKS];
} ref_pass;

static ref_bn_saved bn_saved(arena *a, int channels) {
    return (ref_bn_saved){.mean = arena_floats(a, (size_t)channels), .invstd = arena_floats(a, (size_t)channels)};
}

/* Every forward buffer; false when one could not be allocated. */
static int alloc_forward(ref_pass *r, float *stats) {
    const isb_resnet18_plan *p = r->p;
    arena *a = &r->a;
    size_t B = (size_t)r->batch, plane = (size_t)p->image_size * p->image_size;
    /* training mode without a stats array still needs somewhere to put the running statistics */
    r->stats = stats ? stats : arena_floats(a, p->n_stats);
    r->xin = arena_floats(a, (size_t)p->in_channels * B * plane);
    r->stem_c = arena_floats(a, (size_t)p->width * B * plane);
    r->stem_a = arena_floats(a, (size_t)p->width * B * plane);
    r->stem_sv = bn_saved(a, p->width);
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_block *b = &p->blocks[i];
        size_t out = (size_t)b->cout * B * b->h_out * b->h_out;
        ref_block *rb = &r->rb[i];
        *rb = (ref_block){.c1 = arena_floats(a, out), .a1 = arena_floats(a, out), .c2 = arena_floats(a, out),
                          .y = arena_floats(a, out), .b1 = bn_saved(a, b->cout), .b2 = bn_saved(a, b->cout),
                          .sb = bn_saved(a, b->cout)};
        if (b->has_sc) {
            rb->scc = arena_floats(a, out);
            rb->scb = arena_floats(a, out);
        }
    }
    r->pooled = arena_floats(a, B * p->feat);
    r->z = arena_floats(a, B * p->classes);
    r->dz = arena_floats(a, B * p->classes);
    return !a->failed;
}

/* conv (no bias) then BN (+ ReLU), keeping what the backward needs. */
static void conv_bn_forward(ref_pass *r, const isb_rn_conv *c, const isb_rn_bn *b, int relu, int train, float *conv_out,
                            ref_bn_saved *sv, float *y, const float *x) {
    isb_conv_shape cs = conv_shape(c, r->batch);
    isb_ref_conv2d_forward(&cs, conv_out, x, r->params + c->w);
    isb_bn_shape s = bn_shape(b, r->batch, relu);
    const float *params = r->params;
    sv->x = conv_out;
    sv->y = y;
    if (train)
        isb_ref_bn_forward_train(&s, y, sv->mean, sv->invstd, r->stats + b->mean, r->stats + b->var, conv_out,
                                 params + b->gamma, params + b->beta);
    else
        isb_ref_bn_forward_eval(&s, y, conv_out, params + b->gamma, params + b->beta, r->stats + b->mean,
                                r->stats + b->var);
}

/* Input to logits r->z. */
static void forward(ref_pass *r, const float *x_nchw, int train) {
    const isb_resnet18_plan *p = r->p;
    const int B = r->batch;
    isb_ref_nchw_to_cnhw(B, p->in_channels, p->image_size * p->image_size, r->xin, x_nchw);
    conv_bn_forward(r, &p->stem, &p->stem_bn, 1, train, r->stem_c, &r->stem_sv, r->stem_a, r->xin);
    float *h = r->stem_a;
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_block *b = &p->blocks[i];
        ref_block *rb = &r->rb[i];
        rb->in = h;
        conv_bn_forward(r, &b->c1, &b->b1, 1, train, rb->c1, &rb->b1, rb->a1, h);
        conv_bn_forward(r, &b->c2, &b->b2, 0, train, rb->c2, &rb->b2, rb->y, rb->a1);
        const float *shortcut = h;
        if (b->has_sc) {
            conv_bn_forward(r, &b->sc, &b->sb, 0, train, rb->scc, &rb->sb, rb->scb, h);
            shortcut = rb->scb;
        }
        isb_ref_add(b->cout * B * b->h_out * b->h_out, rb->y, rb->y, shortcut, 1);
        h = rb->y;
    }
    isb_ref_avgpool_forward(B, p->feat, p->final_hw, r->pooled, h);
    isb_ref_linear_forward(B, p->feat, p->classes, r->z, r->pooled, r->params + p->fc_w, r->params + p->fc_b);
}

/* BN (+ ReLU) then conv backward: dy of the BN output -> dx of the conv input (dx may be NULL);
 * t is scratch for the BN input's gradient. */
static void bn_conv_backward(ref_pass *r, const isb_rn_conv *c, const isb_rn_bn *b, int relu, const ref_bn_saved *sv,
                             const float *conv_in, float *dx, float *t, const float *dy, float *grads) {
    isb_bn_shape bs = bn_shape(b, r->batch, relu);
    isb_ref_bn_backward(&bs, t, grads + b->gamma, grads + b->beta, dy, sv->x, relu ? sv->y : NULL,
                        r->params + b->gamma, sv->mean, sv->invstd);
    isb_conv_shape cs = conv_shape(c, r->batch);
    isb_ref_conv2d_backward(&cs, dx, grads + c->w, t, conv_in, r->params + c->w);
}

/* dy: the gradient of block i's output (ReLU applied in place); dx receives its input's. */
static void block_backward(ref_pass *r, int i, float *dy, float *dx, float *t1, float *t2, float *grads) {
    const isb_rn_block *b = &r->p->blocks[i];
    const ref_block *rb = &r->rb[i];
    const int B = r->batch;
    isb_ref_relu_backward(b->cout * B * b->h_out * b->h_out, dy, dy, rb->y);
    bn_conv_backward(r, &b->c2, &b->b2, 0, &rb->b2, rb->a1, t2, t1, dy, grads);
    bn_conv_backward(r, &b->c1, &b->b1, 1, &rb->b1, rb->in, dx, t2, t2, grads);
    int in = b->cin * B * b->h_in * b->h_in;
    if (b->has_sc) {
        bn_conv_backward(r, &b->sc, &b->sb, 0, &rb->sb, rb->in, t2, t1, dy, grads);
        isb_ref_add(in, dx, dx, t2, 0);
    } else {
        isb_ref_add(in, dx, dx, dy, 0);
    }
}

/* r->dz -> grads [n_params]; false when scratch could not be allocated. */
static int backward(ref_pass *r, float *grads) {
    const isb_resnet18_plan *p = r->p;
    const int B = r->batch;
    size_t max_act = (size_t)p->width * B * p->image_size * p->image_size;
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        size_t n = (size_t)p->blocks[i].cout * B * p->blocks[i].h_out * p->blocks[i].h_out;
        if (n > max_act) max_act = n;
    }
    float *dy = arena_floats(&r->a, max_act), *dx = arena_floats(&r->a, max_act);
    float *t1 = arena_floats(&r->a, max_act), *t2 = arena_floats(&r->a, max_act);
    float *dpooled = arena_floats(&r->a, (size_t)B * p->feat);
    if (r->a.failed) return 0;
    isb_ref_linear_backward(B, p->feat, p->classes, dpooled, grads + p->fc_w, grads + p->fc_b, r->dz, r->pooled,
                            r->params + p->fc_w);
    isb_ref_avgpool_backward(B, p->feat, p->final_hw, dy, dpooled);
    for (int i = ISB_RN_BLOCKS - 1; i >= 0; i--) {
        block_backward(r, i, dy, dx, t1, t2, grads);
        float *swap = dy;
        dy = dx;
        dx = swap;
    }
    bn_conv_backward(r, &p->stem, &p->stem_bn, 1, &r->stem_sv, r->xin, NULL, t1, dy, grads);
    return 1;
}

double isb_resnet18_reference(const isb_resnet18_plan *p, int batch, const float *x_nchw, const int *labels,
                              const float *weights, const float *params, float *stats, int train, float *logits,
                              float *grads) {
    ref_pass r = {.p = p, .batch = batch, .params = params};
    double loss = NAN;
    if (!alloc_forward(&r, stats)) goto done;
    forward(&r, x_nchw, train);
    loss = isb_ref_softmax_xent(batch, p->classes, r.dz, NULL, NULL, r.z, labels, weights);
    if (logits) memcpy(logits, r.z, (size_t)batch * p->classes * sizeof *r.z);
    if (grads && !backward(&r, grads)) loss = NAN;
done:
    arena_free(&r.a);
    return loss;
}
