/* The ResNet18 model on the device (contract: model.h): buffers, the training step (forward,
 * softmax cross-entropy with the fused score update, backward, SGD), the evaluation step, profiling
 * by phase, and save/load of the state as named checkpoint tensors. Layer ops come from layers.h;
 * the network layout (shapes, parameter offsets, initialisation) from resnet18.h.
 *
 * Memory, one buffer per category (llm.c style), offsets in floats:
 *   params, grads, momentum  [n_params] each, in the parameter table's order
 *   stats                    BN running mean/var
 *   acts                     every activation the backward needs, sized for max_batch. Activations
 *                            are CNHW, so a smaller batch uses the first C*B*HW floats of its slot.
 *   work                     im2col columns (shared, and each conv's own when kept, below),
 *                            weight-gradient partials, four gradient buffers
 *   misc                     BN saved mean/invstd, batch loss; flag: the non-finite-loss step. */
#include "nn/model.h"
#include "nn/resnet18.h"
#include "util/error.h"
#include "util/timer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t c1, a1, c2, y, scc, scb; /* y: bn2 output, then in place the block output */
    size_t col1, col2, colsc;       /* in work: the im2col columns of c1, c2 and sc (column_slot) */
} block_slots;

struct isb_model {
    isb_ocl *ocl;
    isb_model_config cfg;
    isb_resnet18_plan plan;
    cl_mem params, grads, momentum, stats, acts, work, misc, flag;
    /* slots in acts */
    size_t x_cnhw, stem_c, stem_a, pooled, logits, dlogits, dpooled;
    block_slots blk[ISB_RN_BLOCKS];
    /* slots in work */
    size_t col, partials, g0, g1, t1, t2, stem_col;
    int keeps_columns; /* each conv's forward im2col is kept for its backward (keep_columns_fits) */
    /* slots in misc */
    size_t save, batch_loss;
    long steps;
    isb_model_profile *profile;
};

const isb_resnet18_plan *isb_model_plan(const isb_model *m) { return &m->plan; }
const isb_model_config *isb_model_get_config(const isb_model *m) { return &m->cfg; }
size_t isb_model_param_count(const isb_model *m) { return m->plan.n_params; }
long isb_model_steps(const isb_model *m) { return m->steps; }
void isb_model_set_profile(isb_model *m, isb_model_profile *profile) { m->profile = profile; }

const char *isb_model_phase_name(int phase) {
    static const char *const names[ISB_PHASE_COUNT] = {"conv_forward", "conv_backward", "batchnorm", "other",
                                                                "conv_layout"};
    return phase >= 0 && phase < ISB_PHASE_COUNT ? names[phase] : "?";
}

int isb_model_config_param_count(const isb_model_config *cfg, size_t *count) {
    isb_resnet18_plan *p = malloc(sizeof *p); /* the plan is large for the stack */
    if (!p) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    int rc = isb_resnet18_plan_make(p, cfg);
    *count = rc < 0 ? 0 : p->n_params;
    free(p);
    return rc;
}

/* ---- profiling: run one layer call, and in profiling mode finish the queue and book its time ---- */

static int book(isb_model *m, int phase, double t0) {
    ISB_TRY(isb_ocl_finish(m->ocl));
    m->profile->seconds[phase] += isb_now() - t0;
    return ISB_OK;
}

#define RUN(phase, call)                                        \
    do {                                                        \
        double t0_ = m->profile ? isb_now() : 0.0;              \
        ISB_TRY(call);                                          \
        if (m->profile) ISB_TRY(book(m, (phase), t0_));         \
    } while (0)

static isb_dslice A(const isb_model *m, size_t off) { return isb_ds(m->acts, off); }
static isb_dslice W(const isb_model *m, size_t off) { return isb_ds(m->work, off); }
static isb_dslice P(const isb_model *m, size_t off) { return isb_ds(m->params, off); }
static isb_dslice G(const isb_model *m, size_t off) { return isb_ds(m->grads, off); }

static isb_conv_shape conv_shape(const isb_rn_conv *c, int batch) {
    isb_conv_shape s = c->shape;
    s.batch = batch;
    return s;
}

static isb_bn_shape bn_shape(const isb_rn_bn *b, int batch, int relu) {
    return (isb_bn_shape){.channels = b->channels, .n = batch * b->hw, .momentum = 0.1f, .eps = 1e-5f, .relu = relu};
}

/* ---- creation --------------------------------------------------------------------------------- */

static size_t take(size_t *next, size_t floats) {
    size_t at = *next;
    *next += floats;
    return at;
}

/* A conv's im2col columns: its own slot in work when kept (the forward writes them, the backward's
 * weight gradient reads them), else the shared workspace, which the backward fills again. */
static size_t column_slot(isb_model *m, size_t *next, const isb_rn_conv *c, int keep) {
    isb_conv_shape s = conv_shape(c, m->cfg.max_batch);
    size_t floats = isb_conv_col_floats(&s);
    return keep && floats ? take(next, floats) : m->col;
}

/* Assigns every slot for max_batch (each conv its own columns if keep); returns the floats of acts
 * and work. */
static void layout(isb_model *m, int keep, size_t *acts_floats, size_t *work_floats) {
    const isb_resnet18_plan *p = &m->plan;
    const size_t B = (size_t)m->cfg.max_batch, S = (size_t)p->image_size;
    size_t a = 0, max_act = (size_t)p->width * B * S * S;
    m->x_cnhw = take(&a, (size_t)p->in_channels * B * S * S);
    m->stem_c = take(&a, max_act);
    m->stem_a = take(&a, max_act);
    isb_conv_shape s = conv_shape(&p->stem, (int)B);
    size_t col = isb_conv_col_floats(&s), partials = isb_conv_partials_floats(&s, 0);
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_block *b = &p->blocks[i];
        size_t out = (size_t)b->cout * B * b->h_out * b->h_out;
        block_slots *k = &m->blk[i];
        k->c1 = take(&a, out);
        k->a1 = take(&a, out);
        k->c2 = take(&a, out);
        k->y = take(&a, out);
        if (b->has_sc) {
            k->scc = take(&a, out);
            k->scb = take(&a, out);
        }
        if (out > max_act) max_act = out;
        const isb_rn_conv *convs[3] = {&b->c1, &b->c2, &b->sc};
        for (int c = 0; c < (b->has_sc ? 3 : 2); c++) {
            s = conv_shape(convs[c], (int)B);
            if (isb_conv_col_floats(&s) > col) col = isb_conv_col_floats(&s);
            if (isb_conv_partials_floats(&s, 0) > partials) partials = isb_conv_partials_floats(&s, 0);
        }
    }
    m->pooled = take(&a, B * p->feat);
    m->dpooled = take(&a, B * p->feat);
    m->logits = take(&a, B * p->classes);
    m->dlogits = take(&a, B * p->classes);
    *acts_floats = a;
    size_t w = 0;
    m->col = take(&w, col ? col : 1);
    m->partials = take(&w, partials ? partials : 1);
    m->g0 = take(&w, max_act);
    m->g1 = take(&w, max_act);
    m->t1 = take(&w, max_act);
    m->t2 = take(&w, max_act);
    m->stem_col = column_slot(m, &w, &p->stem, keep);
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_block *b = &p->blocks[i];
        m->blk[i].col1 = column_slot(m, &w, &b->c1, keep);
        m->blk[i].col2 = column_slot(m, &w, &b->c2, keep);
        m->blk[i].colsc = b->has_sc ? column_slot(m, &w, &b->sc, keep) : m->col;
    }
    m->keeps_columns = keep;
    *work_floats = w;
    m->save = 0;
    m->batch_loss = p->n_save;
}

/* Keeping every conv's columns saves the backward an im2col per conv (PoCL, width 16: ~75 ms of
 * im2col, a 1-4 % faster step, since recomputed columns were still in the cache) for memory: at
 * batch 128 the model allocates 0.83 GB instead of 0.28 at width 16, 3.38 GB instead of 1.22 at
 * width 64. Kept when the work buffer stays one allocation the device allows and the model's
 * buffers stay within half its memory (the rest: the dataset on the device, CLBlast's temporaries,
 * other processes). */
static int keep_columns_fits(const isb_ocl *ocl, const isb_resnet18_plan *p, size_t acts, size_t work) {
    double bytes = ((double)acts + (double)work + 3.0 * (double)p->n_params) * sizeof(float);
    return work < (1u << 31) && (double)work * sizeof(float) <= (double)ocl->info.max_alloc &&
           bytes <= 0.5 * (double)ocl->info.global_mem;
}

int isb_model_keeps_columns(const isb_model *m) { return m->keeps_columns; }

int isb_model_create(isb_model **out, isb_ocl *ocl, const isb_model_config *cfg) {
    *out = NULL;
    if (cfg->max_batch < 1 || cfg->max_batch > ISB_MODEL_MAX_BATCH)
        return isb_fail(ISB_ERR_USAGE, "model max_batch %d is out of range: use 1..%d", cfg->max_batch,
                        ISB_MODEL_MAX_BATCH);
    if (!(cfg->momentum >= 0 && cfg->momentum < 1) || !(cfg->weight_decay >= 0))
        return isb_fail(ISB_ERR_USAGE, "model momentum %g must be in [0, 1) and weight_decay %g >= 0",
                        cfg->momentum, cfg->weight_decay);
    isb_model *m = calloc(1, sizeof *m);
    if (!m) return isb_fail(ISB_ERR_MEMORY, "out of host memory creating the model");
    m->ocl = ocl;
    m->cfg = *cfg;
    int rc = isb_resnet18_plan_make(&m->plan, cfg);
    if (rc < 0) {
        free(m);
        return rc;
    }
    const isb_resnet18_plan *p = &m->plan;
    size_t acts, work;
    layout(m, 1, &acts, &work);
    if (cfg->recompute_columns || !keep_columns_fits(ocl, p, acts, work)) layout(m, 0, &acts, &work);
    if (acts >= (1u << 31) || work >= (1u << 31)) {
        isb_model_free(m);
        return isb_fail(ISB_ERR_USAGE, "width %d at max_batch %d needs %zu activation floats, above the kernels' "
                        "2^31-element limit: lower the batch or the width", cfg->width, cfg->max_batch, acts);
    }
    float *host_params = malloc(p->n_params * sizeof *host_params), *host_stats = malloc(p->n_stats * sizeof(float));
    if (!host_params || !host_stats) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory initialising the model"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->params, p->n_params * sizeof(float), "model parameters"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->grads, p->n_params * sizeof(float), "model gradients"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->momentum, p->n_params * sizeof(float), "SGD momentum"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->stats, p->n_stats * sizeof(float), "BN running statistics"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->acts, acts * sizeof(float), "model activations (scale with max_batch)"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->work, work * sizeof(float), "model workspaces (scale with max_batch)"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->misc, (p->n_save + 1) * sizeof(float), "BN saved statistics"));
    ISB_CHECK(isb_ocl_alloc(ocl, &m->flag, sizeof(int), "non-finite flag"));
    isb_resnet18_init(p, cfg->seed, host_params, host_stats);
    ISB_CHECK(isb_ocl_write(ocl, m->params, 0, p->n_params * sizeof(float), host_params));
    ISB_CHECK(isb_ocl_write(ocl, m->stats, 0, p->n_stats * sizeof(float), host_stats));
    /* zeroed so that reading gradients or logits before a step gives zeros, not garbage */
    ISB_CHECK(isb_ocl_fill_zero(ocl, m->momentum, 0, p->n_params * sizeof(float)));
    ISB_CHECK(isb_ocl_fill_zero(ocl, m->grads, 0, p->n_params * sizeof(float)));
    ISB_CHECK(isb_ocl_fill_zero(ocl, m->acts, 0, acts * sizeof(float)));
    ISB_CHECK(isb_ocl_fill_zero(ocl, m->misc, 0, (p->n_save + 1) * sizeof(float)));
    ISB_CHECK(isb_loss_flag_reset(ocl, m->flag));
    ISB_CHECK(isb_ocl_finish(ocl));
done:
    free(host_params);
    free(host_stats);
    if (rc < 0) {
        isb_model_free(m);
        return rc;
    }
    *out = m;
    return ISB_OK;
}

void isb_model_free(isb_model *m) {
    if (!m) return;
    cl_mem *bufs[] = {&m->params, &m->grads, &m->momentum, &m->stats, &m->acts, &m->work, &m->misc, &m->flag};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) isb_ocl_release(bufs[i]);
    free(m);
}

/* ---- forward / backward ----------------------------------------------------------------------- */

/* Profiling only: the conv's im2col (and, when dx is wanted, the backward's data movement: col2im
 * into dx, or im2col of dy) once more on their own, booked as ISB_PHASE_CONV_LAYOUT so that a
 * benchmark can split the conv phases into data movement and GEMMs. What they write is overwritten
 * by the real call that follows. */
static int probe_layout(isb_model *m, const isb_conv_shape *s, isb_dslice x, isb_dslice dx, isb_dslice dy) {
    if (!m->profile || isb_conv_col_floats(s) == 0) return ISB_OK;
    int backward = dy.mem != NULL; /* a backward with kept columns runs no im2col of x */
    if (!backward || !m->keeps_columns) RUN(ISB_PHASE_CONV_LAYOUT, isb_im2col(m->ocl, s, W(m, m->col), x));
    if (!dx.mem) return ISB_OK;
    if (!isb_conv_dx_as_forward_conv(m->ocl, s)) {
        RUN(ISB_PHASE_CONV_LAYOUT, isb_col2im(m->ocl, s, dx, W(m, m->col)));
        return ISB_OK;
    }
    isb_conv_shape of_dy = isb_conv_shape_of_dy(s);
    RUN(ISB_PHASE_CONV_LAYOUT, isb_im2col(m->ocl, &of_dy, W(m, m->col), dy));
    return ISB_OK;
}

/* col: the conv's column slot (column_slot) */
static int conv_forward(isb_model *m, const isb_rn_conv *c, int batch, size_t y, size_t x, size_t col) {
    isb_conv_shape s = conv_shape(c, batch);
    ISB_TRY(probe_layout(m, &s, A(m, x), isb_ds(NULL, 0), isb_ds(NULL, 0)));
    RUN(ISB_PHASE_CONV_FORWARD, isb_conv2d_forward(m->ocl, &s, A(m, y), A(m, x), P(m, c->w), W(m, col)));
    return ISB_OK;
}

#define NO_SLOT ((size_t)-1) /* an optional slot left out */

/* dx: slot in work, or NO_SLOT for "not wanted" (the stem's input); col: the conv's column slot,
 * holding its forward's im2col(x) when the model keeps the columns. */
static int conv_backward(isb_model *m, const isb_rn_conv *c, int batch, size_t dx, size_t dy, size_t x,
                         size_t col) {
    isb_conv_shape s = conv_shape(c, batch);
    isb_dslice dxs = dx == NO_SLOT ? isb_ds(NULL, 0) : W(m, dx);
    ISB_TRY(probe_layout(m, &s, A(m, x), dxs, W(m, dy)));
    RUN(ISB_PHASE_CONV_BACKWARD, isb_conv2d_backward(m->ocl, &s, dxs, G(m, c->w), W(m, dy), A(m, x), P(m, c->w),
                                                     W(m, col), m->keeps_columns, W(m, m->partials), 0));
    return ISB_OK;
}

/* y = bn(x), then + the residual slot res (NO_SLOT: none), then ReLU if relu: one kernel in
 * training (isb_bn_forward_train_add), bn + isb_add in evaluation. */
static int bn_forward(isb_model *m, const isb_rn_bn *b, int batch, int relu, int train, size_t y, size_t x,
                      size_t res) {
    isb_bn_shape s = bn_shape(b, batch, relu);
    isb_dslice mean = isb_ds(m->stats, b->mean), var = isb_ds(m->stats, b->var);
    if (train)
        return isb_bn_forward_train_add(m->ocl, &s, A(m, y), isb_ds(m->misc, m->save + b->save),
                                        isb_ds(m->misc, m->save + b->save + (size_t)b->channels), mean, var, A(m, x),
                                        P(m, b->gamma), P(m, b->beta), res == NO_SLOT ? isb_ds(NULL, 0) : A(m, res));
    if (res == NO_SLOT) return isb_bn_forward_eval(m->ocl, &s, A(m, y), A(m, x), P(m, b->gamma), P(m, b->beta), mean, var);
    s.relu = 0;
    ISB_TRY(isb_bn_forward_eval(m->ocl, &s, A(m, y), A(m, x), P(m, b->gamma), P(m, b->beta), mean, var));
    return isb_add(m->ocl, s.channels * s.n, A(m, y), A(m, y), A(m, res), relu);
}

/* dx, dy: slots in work (may be equal); x, y: the forward's input and output slots in acts. */
static int bn_backward(isb_model *m, const isb_rn_bn *b, int batch, int relu, size_t dx, size_t dy, size_t x,
                       size_t y) {
    isb_bn_shape s = bn_shape(b, batch, relu);
    return isb_bn_backward(m->ocl, &s, W(m, dx), G(m, b->gamma), G(m, b->beta), W(m, dy), A(m, x), A(m, y),
                           P(m, b->gamma), isb_ds(m->misc, m->save + b->save),
                           isb_ds(m->misc, m->save + b->save + (size_t)b->channels));
}

/* Input -> logits, keeping what the backward needs. */
static int forward(isb_model *m, const isb_batch_io *io, int train) {
    const isb_resnet18_plan *p = &m->plan;
    const int B = io->batch, S = p->image_size;
    RUN(ISB_PHASE_OTHER, isb_nchw_to_cnhw(m->ocl, B, p->in_channels, S * S, A(m, m->x_cnhw), isb_ds(io->x, 0)));
    ISB_TRY(conv_forward(m, &p->stem, B, m->stem_c, m->x_cnhw, m->stem_col));
    RUN(ISB_PHASE_BATCHNORM, bn_forward(m, &p->stem_bn, B, 1, train, m->stem_a, m->stem_c, NO_SLOT));
    size_t h = m->stem_a;
    for (int i = 0; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_block *b = &p->blocks[i];
        const block_slots *k = &m->blk[i];
        ISB_TRY(conv_forward(m, &b->c1, B, k->c1, h, k->col1));
        RUN(ISB_PHASE_BATCHNORM, bn_forward(m, &b->b1, B, 1, train, k->a1, k->c1, NO_SLOT));
        ISB_TRY(conv_forward(m, &b->c2, B, k->c2, k->a1, k->col2));
        size_t shortcut = h;
        if (b->has_sc) {
            ISB_TRY(conv_forward(m, &b->sc, B, k->scc, h, k->colsc));
            RUN(ISB_PHASE_BATCHNORM, bn_forward(m, &b->sb, B, 0, train, k->scb, k->scc, NO_SLOT));
            shortcut = k->scb;
        }
        /* the block's output relu(bn2(c2) + shortcut) */
        RUN(ISB_PHASE_BATCHNORM, bn_forward(m, &b->b2, B, 1, train, k->y, k->c2, shortcut));
        h = k->y;
    }
    RUN(ISB_PHASE_OTHER, isb_avgpool_forward(m->ocl, B, p->feat, p->final_hw, A(m, m->pooled), A(m, h)));
    RUN(ISB_PHASE_OTHER, isb_linear_forward(m->ocl, B, p->feat, p->classes, A(m, m->logits), A(m, m->pooled),
                                            P(m, p->fc_w), P(m, p->fc_b)));
    return ISB_OK;
}

/* dlogits -> every parameter's gradient (overwritten). Mirrors isb_resnet18_reference. */
static int backward(isb_model *m, int B) {
    const isb_resnet18_plan *p = &m->plan;
    RUN(ISB_PHASE_OTHER, isb_linear_backward(m->ocl, B, p->feat, p->classes, A(m, m->dpooled), G(m, p->fc_w),
                                             G(m, p->fc_b), A(m, m->dlogits), A(m, m->pooled), P(m, p->fc_w)));
    size_t dy = m->g0, dx = m->g1, t1 = m->t1, t2 = m->t2;
    RUN(ISB_PHASE_OTHER, isb_avgpool_backward(m->ocl, B, p->feat, p->final_hw, W(m, dy), A(m, m->dpooled)));
    for (int i = ISB_RN_BLOCKS - 1; i >= 0; i--) {
        const isb_rn_block *b = &p->blocks[i];
        const block_slots *k = &m->blk[i];
        size_t in = i == 0 ? m->stem_a : m->blk[i - 1].y;
        int n_out = b->cout * B * b->h_out * b->h_out, n_in = b->cin * B * b->h_in * b->h_in;
        /* dy becomes the gradient of (bn2 + shortcut), which both branches receive */
        RUN(ISB_PHASE_OTHER, isb_relu_backward(m->ocl, n_out, W(m, dy), W(m, dy), A(m, k->y)));
        RUN(ISB_PHASE_BATCHNORM, bn_backward(m, &b->b2, B, 0, t1, dy, k->c2, k->c2));
        ISB_TRY(conv_backward(m, &b->c2, B, t2, t1, k->a1, k->col2));
        RUN(ISB_PHASE_BATCHNORM, bn_backward(m, &b->b1, B, 1, t2, t2, k->c1, k->a1));
        ISB_TRY(conv_backward(m, &b->c1, B, dx, t2, in, k->col1));
        size_t branch = dy;
        if (b->has_sc) {
            RUN(ISB_PHASE_BATCHNORM, bn_backward(m, &b->sb, B, 0, t1, dy, k->scc, k->scc));
            ISB_TRY(conv_backward(m, &b->sc, B, t2, t1, in, k->colsc));
            branch = t2;
        }
        RUN(ISB_PHASE_OTHER, isb_add(m->ocl, n_in, W(m, dx), W(m, dx), W(m, branch), 0));
        size_t swap = dy;
        dy = dx;
        dx = swap;
    }
    RUN(ISB_PHASE_BATCHNORM, bn_backward(m, &p->stem_bn, B, 1, t1, dy, m->stem_c, m->stem_a));
    ISB_TRY(conv_backward(m, &p->stem, B, NO_SLOT, t1, m->x_cnhw, m->stem_col));
    return ISB_OK;
}

static int check_io(const isb_model *m, const isb_batch_io *io, const char *what) {
    if (!io || !io->x || !io->labels)
        return isb_fail(ISB_ERR_USAGE, "%s: the batch needs device buffers x and labels", what);
    if (io->batch < 1 || io->batch > m->cfg.max_batch)
        return isb_fail(ISB_ERR_USAGE, "%s: batch %d is outside 1..max_batch (%d); create the model with a larger "
                        "max_batch", what, io->batch, m->cfg.max_batch);
    return ISB_OK;
}

static isb_loss_args loss_args(isb_model *m, const isb_batch_io *io) {
    return (isb_loss_args){
        .batch = io->batch,
        .classes = m->plan.classes,
        .logits = A(m, m->logits),
        .labels = isb_ds(io->labels, 0),
        .weights = isb_ds(io->weights, 0),
        .losses = isb_ds(io->losses, (size_t)io->losses_offset),
        .correct = isb_ds(io->correct, (size_t)io->correct_offset),
        .batch_loss = isb_ds(m->misc, m->batch_loss),
    };
}

int isb_model_train_step(isb_model *m, const isb_batch_io *io, const isb_score_update *scores, float lr) {
    ISB_TRY(check_io(m, io, "train step"));
    bool update_scores = scores && scores->rule.kind != ISB_SCORE_RULE_NONE;
    if (update_scores && (!scores->scores || !scores->indices))
        return isb_fail(ISB_ERR_USAGE, "train step: a score update needs the scores and indices buffers");
    ISB_TRY(forward(m, io, 1));
    isb_loss_args la = loss_args(m, io);
    la.dlogits = A(m, m->dlogits);
    la.nonfinite_flag = m->flag;
    la.step = m->steps < INT_MAX ? (int)m->steps : INT_MAX - 1;
    if (update_scores) {
        la.score_rule = scores->rule;
        la.scores = scores->scores;
        la.indices = isb_ds(scores->indices, (size_t)scores->indices_offset);
    }
    RUN(ISB_PHASE_OTHER, isb_softmax_xent(m->ocl, &la));
    ISB_TRY(backward(m, io->batch));
    RUN(ISB_PHASE_OTHER, isb_sgd_update(m->ocl, (int)m->plan.n_params, P(m, 0), G(m, 0), isb_ds(m->momentum, 0), lr,
                                        m->cfg.momentum, m->cfg.weight_decay));
    m->steps++;
    return ISB_OK;
}

int isb_model_eval_step(isb_model *m, const isb_batch_io *io) {
    ISB_TRY(check_io(m, io, "eval step"));
    ISB_TRY(forward(m, io, 0));
    isb_loss_args la = loss_args(m, io);
    RUN(ISB_PHASE_OTHER, isb_softmax_xent(m->ocl, &la));
    return ISB_OK;
}

int isb_model_first_nonfinite_step(isb_model *m, long *step) {
    int flag;
    ISB_TRY(isb_ocl_read(m->ocl, m->flag, 0, sizeof flag, &flag));
    *step = flag == INT_MAX ? -1 : (long)flag;
    return ISB_OK;
}

/* ---- host copies ------------------------------------------------------------------------------ */

int isb_model_read_params(isb_model *m, float *dst) {
    return isb_ocl_read(m->ocl, m->params, 0, m->plan.n_params * sizeof(float), dst);
}
int isb_model_write_params(isb_model *m, const float *src) {
    return isb_ocl_write(m->ocl, m->params, 0, m->plan.n_params * sizeof(float), src);
}
int isb_model_read_grads(isb_model *m, float *dst) {
    return isb_ocl_read(m->ocl, m->grads, 0, m->plan.n_params * sizeof(float), dst);
}
int isb_model_read_stats(isb_model *m, float *dst) {
    return isb_ocl_read(m->ocl, m->stats, 0, m->plan.n_stats * sizeof(float), dst);
}
int isb_model_read_logits(isb_model *m, float *dst, int batch) {
    if (batch < 1 || batch > m->cfg.max_batch)
        return isb_fail(ISB_ERR_USAGE, "read logits: batch %d is outside 1..%d", batch, m->cfg.max_batch);
    return isb_ocl_read(m->ocl, m->acts, m->logits * sizeof(float), (size_t)batch * m->plan.classes * sizeof(float),
                        dst);
}
int isb_model_read_batch_loss(isb_model *m, float *loss) {
    return isb_ocl_read(m->ocl, m->misc, m->batch_loss * sizeof(float), sizeof(float), loss);
}

/* ---- checkpoint state ------------------------------------------------------------------------- */

static char *momentum_name(const char *name, char *buf, size_t n) {
    snprintf(buf, n, ISB_RN_MOMENTUM_PREFIX "%s", name);
    return buf;
}

/* Every tensor of the table from host copies (mom NULL: no optimizer state), each BN running mean
 * followed by PyTorch's num_batches_tracked so that torch's load_state_dict(strict=True) accepts
 * the file. */
static int add_tensors(const isb_model *m, isb_checkpoint *ck, const float *params, const float *stats,
                       const float *mom) {
    const isb_resnet18_plan *p = &m->plan;
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        char name[80];
        ISB_TRY(isb_checkpoint_add(ck, t->name, ISB_DTYPE_F32, t->ndim, t->dims, (t->is_stat ? stats : params) + t->off));
        if (mom && !t->is_stat)
            ISB_TRY(isb_checkpoint_add(ck, momentum_name(t->name, name, sizeof name), ISB_DTYPE_F32, t->ndim, t->dims,
                                       mom + t->off));
        int64_t steps = m->steps;
        if (isb_resnet18_tracked_name(t, name, sizeof name))
            ISB_TRY(isb_checkpoint_add(ck, name, ISB_DTYPE_I64, 0, NULL, &steps));
    }
    return ISB_OK;
}

int isb_model_save_state(isb_model *m, isb_checkpoint *ck, int include_optimizer) {
    const isb_resnet18_plan *p = &m->plan;
    float *params = malloc(p->n_params * sizeof(float)), *stats = malloc(p->n_stats * sizeof(float));
    float *mom = include_optimizer ? malloc(p->n_params * sizeof(float)) : NULL;
    int rc = ISB_OK;
    if (!params || !stats || (include_optimizer && !mom))
        ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory saving the model"));
    ISB_CHECK(isb_model_read_params(m, params));
    ISB_CHECK(isb_model_read_stats(m, stats));
    if (mom) ISB_CHECK(isb_ocl_read(m->ocl, m->momentum, 0, p->n_params * sizeof(float), mom));
    ISB_CHECK(add_tensors(m, ck, params, stats, mom));
done:
    free(params);
    free(stats);
    free(mom);
    return rc;
}

int isb_model_load_state(isb_model *m, const isb_checkpoint *ck) {
    const isb_resnet18_plan *p = &m->plan;
    bool with_momentum;
    int64_t tracked;
    ISB_TRY(isb_resnet18_check_state(p, ck, &with_momentum, &tracked)); /* before anything is uploaded */
    float *params = malloc(p->n_params * sizeof(float)), *stats = malloc(p->n_stats * sizeof(float));
    float *mom = calloc(p->n_params, sizeof(float));
    int rc = ISB_OK;
    char name[80];
    if (!params || !stats || !mom) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory loading the model"));
    for (int i = 0; i < p->n_tensors; i++) { /* every tensor is there with its shape (checked above) */
        const isb_rn_tensor *t = &p->tensors[i];
        memcpy((t->is_stat ? stats : params) + t->off, isb_checkpoint_find(ck, t->name)->data, t->numel * sizeof(float));
        if (with_momentum && !t->is_stat)
            memcpy(mom + t->off, isb_checkpoint_find(ck, momentum_name(t->name, name, sizeof name))->data,
                   t->numel * sizeof(float));
    }
    if (tracked >= 0) m->steps = (long)tracked;
    ISB_CHECK(isb_model_write_params(m, params));
    ISB_CHECK(isb_ocl_write(m->ocl, m->stats, 0, p->n_stats * sizeof(float), stats));
    ISB_CHECK(isb_ocl_write(m->ocl, m->momentum, 0, p->n_params * sizeof(float), mom));
done:
    free(params);
    free(stats);
    free(mom);
    return rc;
}
