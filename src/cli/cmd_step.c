/* isbench step: ONE training step of the device model on a given (or seeded random) batch, written
 * with everything an external reference (PyTorch: docs/isbc.py) needs to check the engine: the
 * input, the parameters and BN statistics before the step, the loss, per-sample losses, logits,
 * every parameter's gradient and the parameters after the SGD update. */
#include "cli/cli.h"
#include "config/train_config.h"
#include "nn/model.h"
#include "nn/model_limits.h"
#include "nn/resnet18.h"
#include "results/checkpoint.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char about[] =
    "Runs one training step (forward, loss, backward, SGD) of ResNet18 on the device and writes an\n"
    "isbench checkpoint (docs/checkpoint-format.md) with:\n"
    "  x, labels, weights          the batch (x [B][C][S][S] f32 NCHW, labels i64 [B])\n"
    "  <name>                      parameters and BN statistics BEFORE the step, PyTorch state_dict\n"
    "                              names of torch_anchor.py's ResNet18 (loadable with --init)\n"
    "  grad/<name>                 the gradient of every parameter\n"
    "  after/<name>                the parameters after the SGD update\n"
    "  loss, losses, logits        batch loss sum(w_i L_i)/B, per-sample L_i, logits [B][classes]\n"
    "  config/<key>                width, in_channels, classes, image_size, batch, seed, lr, ...\n\n"
    "Defaults: width 64 (the paper's ResNet18), batch 8, lr 0.01, momentum 0.9, weight decay 5e-4,\n"
    "seed 1 (initialisation and random input).";

static const isb_option_def step_opts[] = {
    {"out", "FILE", ISB_ARG_TEXT, 1, 0, NULL, "output checkpoint (required)"},
    {"classes", "K", ISB_ARG_INT, 2, ISB_MODEL_MAX_CLASSES, NULL, "classes (default 10)"},
    {"in-channels", "C", ISB_ARG_INT, 1, ISB_MODEL_MAX_IN_CHANNELS, NULL, "input channels (default 3)"},
    {"image-size", "S", ISB_ARG_INT, 1, ISB_MODEL_MAX_IMAGE_SIZE, NULL, "input height = width (default 32)"},
    {"input", "FILE", ISB_ARG_TEXT, 1, 0, NULL,
     "checkpoint with x [B][C][S][S] f32, labels i64 [B], optionally weights f32 [B]\n"
     "(sets batch, in-channels and image size); default: seeded random input"},
    {"init", "FILE", ISB_ARG_TEXT, 1, 0, NULL,
     "load parameters and BN statistics from a checkpoint (e.g. a previous --out)"},
};
/* the model and optimiser options are the training configuration's rows */
static const char *const step_keys[] = {"width", "batch", "lr", "momentum", "weight-decay"};

typedef struct {
    isb_model_config cfg;
    int batch;
    const char *input, *init, *out, *device;
    double lr;
} step_options;

/* The batch on the host: images [B][C][S][S], labels, optional importance weights. */
typedef struct {
    float *x, *weights;
    int *labels;
} host_batch;

/* The same on the device, and the per-sample losses the step writes. */
typedef struct {
    cl_mem x, labels, weights, losses;
} device_batch;

static void host_batch_free(host_batch *h) {
    free(h->x);
    free(h->labels);
    free(h->weights);
}

static void device_batch_release(device_batch *d) {
    isb_ocl_release(&d->losses);
    isb_ocl_release(&d->weights);
    isb_ocl_release(&d->labels);
    isb_ocl_release(&d->x);
}

/* Whether the input checkpoint's x, labels and weights have the shapes a step needs. */
static int check_input_shapes(const char *path, const isb_tensor *tx, const isb_tensor *tl, const isb_tensor *tw) {
    if (!tx || tx->dtype != ISB_DTYPE_F32 || tx->ndim != 4 || tx->dims[2] != tx->dims[3])
        return isb_fail(ISB_ERR_FORMAT, "%s needs a tensor \"x\" of f32 [B][C][S][S] (NCHW, square images)", path);
    if (!tl || tl->dtype != ISB_DTYPE_I64 || tl->ndim != 1 || tl->dims[0] != tx->dims[0])
        return isb_fail(ISB_ERR_FORMAT, "%s needs a tensor \"labels\" of i64 [%lld] (one class per row of x)", path,
                        (long long)tx->dims[0]);
    if (tw && (tw->dtype != ISB_DTYPE_F32 || tw->ndim != 1 || tw->dims[0] != tx->dims[0]))
        return isb_fail(ISB_ERR_FORMAT, "%s: tensor \"weights\" must be f32 [%lld]", path, (long long)tx->dims[0]);
    if (tx->dims[0] < 1 || tx->dims[0] > ISB_MODEL_MAX_BATCH || tx->dims[1] < 1 ||
        tx->dims[1] > ISB_MODEL_MAX_IN_CHANNELS || tx->dims[2] < 1 || tx->dims[2] > ISB_MODEL_MAX_IMAGE_SIZE)
        return isb_fail(ISB_ERR_FORMAT, "%s: x has an unsupported shape (batch 1..%d, 1..%d channels, size 1..%d)",
                        path, ISB_MODEL_MAX_BATCH, ISB_MODEL_MAX_IN_CHANNELS, ISB_MODEL_MAX_IMAGE_SIZE);
    return ISB_OK;
}

/* The batch from --input, checked against the model options (which it may set). */
static int load_input(step_options *o, host_batch *h) {
    isb_checkpoint ck = {0};
    int rc = ISB_OK;
    ISB_CHECK(isb_checkpoint_read(&ck, o->input));
    const isb_tensor *tx = isb_checkpoint_find(&ck, "x"), *tl = isb_checkpoint_find(&ck, "labels");
    const isb_tensor *tw = isb_checkpoint_find(&ck, "weights");
    ISB_CHECK(check_input_shapes(o->input, tx, tl, tw));
    o->batch = (int)tx->dims[0];
    o->cfg.in_channels = (int)tx->dims[1];
    o->cfg.image_size = (int)tx->dims[2];
    size_t nx = (size_t)isb_tensor_numel(tx);
    h->x = malloc(nx * sizeof *h->x);
    h->labels = malloc((size_t)o->batch * sizeof *h->labels);
    h->weights = tw ? malloc((size_t)o->batch * sizeof *h->weights) : NULL;
    if (!h->x || !h->labels || (tw && !h->weights))
        ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", o->input));
    for (int r = 0; r < o->batch; r++) {
        int64_t l = ((const int64_t *)tl->data)[r];
        if (l < 0 || l >= o->cfg.classes)
            ISB_CHECK(isb_fail(ISB_ERR_FORMAT, "%s: labels[%d] = %lld is not a class in 0..%d (set --classes?)",
                               o->input, r, (long long)l, o->cfg.classes - 1));
        h->labels[r] = (int)l;
    }
    memcpy(h->x, tx->data, nx * sizeof *h->x);
    if (tw) memcpy(h->weights, tw->data, (size_t)o->batch * sizeof *h->weights);
done:
    isb_checkpoint_free(&ck);
    return rc;
}

static int random_input(const step_options *o, host_batch *h) {
    size_t nx = (size_t)o->batch * o->cfg.in_channels * o->cfg.image_size * o->cfg.image_size;
    h->x = malloc(nx * sizeof *h->x);
    h->labels = malloc((size_t)o->batch * sizeof *h->labels);
    if (!h->x || !h->labels) return isb_fail(ISB_ERR_MEMORY, "out of host memory for the input batch");
    isb_rng rng = isb_rng_make(o->cfg.seed, ISB_STREAM_TEST, 0);
    for (size_t i = 0; i < nx; i++) h->x[i] = isb_rng_normal(&rng);
    for (int r = 0; r < o->batch; r++) h->labels[r] = (int)isb_rng_below(&rng, (uint32_t)o->cfg.classes);
    return ISB_OK;
}

/* Parameters and BN statistics from --init. */
static int load_init(isb_model *m, const char *path) {
    isb_checkpoint init = {0};
    int rc = ISB_OK;
    ISB_CHECK(isb_checkpoint_read(&init, path));
    ISB_CHECK(isb_model_load_state(m, &init));
done:
    isb_checkpoint_free(&init);
    return rc < 0 ? isb_fail_context(rc, "loading --init %s", path) : rc;
}

/* The batch into device buffers owned by d (released by the caller). */
static int upload_batch(isb_ocl *ocl, const step_options *o, const host_batch *h, device_batch *d) {
    const int B = o->batch;
    size_t nx = (size_t)B * o->cfg.in_channels * o->cfg.image_size * o->cfg.image_size;
    ISB_TRY(isb_ocl_alloc(ocl, &d->x, nx * sizeof(float), "input batch"));
    ISB_TRY(isb_ocl_alloc(ocl, &d->labels, (size_t)B * sizeof(int), "labels"));
    ISB_TRY(isb_ocl_alloc(ocl, &d->losses, (size_t)B * sizeof(float), "per-sample losses"));
    ISB_TRY(isb_ocl_write(ocl, d->x, 0, nx * sizeof(float), h->x));
    ISB_TRY(isb_ocl_write(ocl, d->labels, 0, (size_t)B * sizeof(int), h->labels));
    if (!h->weights) return ISB_OK;
    ISB_TRY(isb_ocl_alloc(ocl, &d->weights, (size_t)B * sizeof(float), "importance weights"));
    return isb_ocl_write(ocl, d->weights, 0, (size_t)B * sizeof(float), h->weights);
}

/* x, labels (as i64, PyTorch's label type) and weights into the output checkpoint. */
static int add_batch(isb_checkpoint *ck, const step_options *o, const host_batch *h) {
    const int B = o->batch, S = o->cfg.image_size, C = o->cfg.in_channels;
    int64_t *labels64 = malloc((size_t)B * sizeof *labels64);
    int rc = ISB_OK;
    if (!labels64) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    for (int r = 0; r < B; r++) labels64[r] = h->labels[r];
    ISB_CHECK(isb_checkpoint_add(ck, "x", ISB_DTYPE_F32, 4, (int64_t[]){B, C, S, S}, h->x));
    ISB_CHECK(isb_checkpoint_add(ck, "labels", ISB_DTYPE_I64, 1, (int64_t[]){B}, labels64));
    if (h->weights) ISB_CHECK(isb_checkpoint_add(ck, "weights", ISB_DTYPE_F32, 1, (int64_t[]){B}, h->weights));
done:
    free(labels64);
    return rc;
}

static int add_scalar_i64(isb_checkpoint *ck, const char *name, int64_t v) {
    return isb_checkpoint_add(ck, name, ISB_DTYPE_I64, 0, NULL, &v);
}
static int add_scalar_f32(isb_checkpoint *ck, const char *name, float v) {
    return isb_checkpoint_add(ck, name, ISB_DTYPE_F32, 0, NULL, &v);
}

/* Every parameter of the table as "<prefix><name>" from a host copy of a parameter-sized buffer. */
static int add_params(isb_checkpoint *ck, const isb_resnet18_plan *p, const char *prefix, const float *values) {
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        if (t->is_stat) continue;
        char name[96];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        ISB_TRY(isb_checkpoint_add(ck, name, ISB_DTYPE_F32, t->ndim, t->dims, values + t->off));
    }
    return ISB_OK;
}

/* What the step produced: loss, per-sample losses, logits, gradients, parameters after SGD. */
static int add_results(isb_checkpoint *ck, isb_model *m, isb_ocl *ocl, const device_batch *d, int B, float *loss) {
    const isb_resnet18_plan *p = isb_model_plan(m);
    const int K = isb_model_get_config(m)->classes;
    float *host = malloc(p->n_params * sizeof *host), *logits = malloc((size_t)B * K * sizeof *logits);
    float *losses = malloc((size_t)B * sizeof *losses);
    int rc = ISB_OK;
    if (!host || !logits || !losses) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory for the results"));
    ISB_CHECK(isb_model_read_batch_loss(m, loss));
    ISB_CHECK(isb_model_read_logits(m, logits, B));
    ISB_CHECK(isb_ocl_read(ocl, d->losses, 0, (size_t)B * sizeof(float), losses));
    ISB_CHECK(add_scalar_f32(ck, "loss", *loss));
    ISB_CHECK(isb_checkpoint_add(ck, "losses", ISB_DTYPE_F32, 1, (int64_t[]){B}, losses));
    ISB_CHECK(isb_checkpoint_add(ck, "logits", ISB_DTYPE_F32, 2, (int64_t[]){B, K}, logits));
    ISB_CHECK(isb_model_read_grads(m, host));
    ISB_CHECK(add_params(ck, p, "grad/", host));
    ISB_CHECK(isb_model_read_params(m, host));
    ISB_CHECK(add_params(ck, p, "after/", host));
done:
    free(losses);
    free(logits);
    free(host);
    return rc;
}

/* config/<key>: what a reference needs to rebuild the step. */
static int add_config(isb_checkpoint *ck, const step_options *o) {
    const struct { const char *name; int64_t v; } ints[] = {
        {"config/width", o->cfg.width}, {"config/in_channels", o->cfg.in_channels}, {"config/classes", o->cfg.classes},
        {"config/image_size", o->cfg.image_size}, {"config/batch", o->batch}, {"config/seed", (int64_t)o->cfg.seed}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) ISB_TRY(add_scalar_i64(ck, ints[i].name, ints[i].v));
    ISB_TRY(add_scalar_f32(ck, "config/lr", (float)o->lr));
    ISB_TRY(add_scalar_f32(ck, "config/momentum", o->cfg.momentum));
    return add_scalar_f32(ck, "config/weight_decay", o->cfg.weight_decay);
}

/* One training step, timed with a host clock around clFinish. */
static int timed_step(isb_model *m, isb_ocl *ocl, const device_batch *d, const step_options *o, double *seconds) {
    isb_batch_io io = {.x = d->x, .labels = d->labels, .weights = d->weights, .batch = o->batch, .losses = d->losses};
    double t0 = isb_now();
    ISB_TRY(isb_model_train_step(m, &io, NULL, (float)o->lr));
    ISB_TRY(isb_ocl_finish(ocl));
    *seconds = isb_now() - t0;
    return ISB_OK;
}

static int run_step(step_options *o) {
    host_batch h = {0};
    device_batch d = {0};
    isb_ocl ocl = {0};
    isb_model *m = NULL;
    isb_checkpoint ck = {0};
    double seconds = 0;
    float loss = 0;
    int rc = ISB_OK;
    ISB_CHECK(o->input ? load_input(o, &h) : random_input(o, &h));
    o->cfg.max_batch = o->batch;
    ISB_CHECK(isb_resnet18_check_config(&o->cfg)); /* before opening a device */
    ISB_CHECK(isb_ocl_open(&ocl, isb_ocl_selector(o->device), false));
    ISB_CHECK(isb_model_create(&m, &ocl, &o->cfg));
    if (o->init) ISB_CHECK(load_init(m, o->init));
    ISB_CHECK(upload_batch(&ocl, o, &h, &d));
    ISB_CHECK(add_batch(&ck, o, &h));
    ISB_CHECK(isb_model_save_state(m, &ck, 0)); /* the state before the step */
    ISB_CHECK(timed_step(m, &ocl, &d, o, &seconds));
    ISB_CHECK(add_results(&ck, m, &ocl, &d, o->batch, &loss));
    ISB_CHECK(add_config(&ck, o));
    ISB_CHECK(isb_checkpoint_write(&ck, o->out));
    printf("isbench step: %s; ResNet18 width %d, %zu parameters; batch %d of %dx%dx%d, %d classes\n"
           "  loss %.6f; step %.1f ms (first step: includes kernel builds); wrote %d tensors to %s\n",
           ocl.info.name, o->cfg.width, isb_model_plan(m)->n_params, o->batch, o->cfg.in_channels, o->cfg.image_size,
           o->cfg.image_size, o->cfg.classes, loss, seconds * 1e3, ck.count, o->out);
done:
    isb_checkpoint_free(&ck);
    device_batch_release(&d);
    isb_model_free(m);
    isb_ocl_close(&ocl);
    host_batch_free(&h);
    return rc;
}

typedef struct {
    isb_common_options common; /* device, seed */
    long classes, in_channels, image_size, width, batch;
    double lr, momentum, weight_decay;
} step_values;

static void declare_options(isb_cmdline *p, step_values *v, step_options *o) {
    void *own[] = {&o->out, &v->classes, &v->in_channels, &v->image_size, &o->input, &o->init};
    void *keys[] = {&v->width, &v->batch, &v->lr, &v->momentum, &v->weight_decay};
    isb_cmdline_init(p, "step", "isbench step --out FILE [options]", about);
    isb_cmdline_add(p, &step_opts[0], own[0]);
    isb_cmdline_add_group(p, ISB_GROUP_DEVICE, &v->common);
    for (size_t i = 0; i < sizeof step_keys / sizeof step_keys[0]; i++)
        isb_cmdline_add(p, isb_train_config_find_key(step_keys[i]), keys[i]);
    for (size_t i = 1; i < sizeof step_opts / sizeof step_opts[0]; i++) isb_cmdline_add(p, &step_opts[i], own[i]);
    isb_cmdline_add_group(p, ISB_GROUP_SEED, &v->common);
}

int cmd_step(int argc, char **argv) {
    step_values v = {.common = isb_common_defaults(), .width = 64, .in_channels = 3, .classes = 10, .image_size = 32,
                     .batch = 8, .lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4};
    v.common.seed = 1;
    step_options o = {0};
    isb_cmdline p;
    declare_options(&p, &v, &o);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    if (!o.out) return isb_cli_usage_error("step", "--out FILE is required (where to write the step's tensors)");
    o.cfg = (isb_model_config){.width = (int)v.width, .in_channels = (int)v.in_channels, .classes = (int)v.classes,
                               .image_size = (int)v.image_size, .momentum = (float)v.momentum,
                               .weight_decay = (float)v.weight_decay, .seed = v.common.seed};
    o.batch = (int)v.batch;
    o.lr = v.lr;
    o.device = v.common.device;
    int rc = run_step(&o);
    return rc < 0 ? isb_cli_fail("step", rc) : ISB_EXIT_OK;
}
