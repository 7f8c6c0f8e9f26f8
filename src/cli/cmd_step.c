/* isbench step: ONE training step of the device model on a given (or seeded random) batch, written
 * with everything an external reference (PyTorch: docs/isbc.py) needs to check the engine: the
 * input, the parameters and BN statistics before the step, the loss, per-sample losses, logits,
 * every parameter's gradient and the parameters after the SGD update. */
#include "cli/cli.h"
#include "nn/model.h"
#include "nn/resnet18.h"
#include "results/checkpoint.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/timer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
    printf("usage: isbench step --out FILE [options]\n\n"
           "Runs one training step (forward, loss, backward, SGD) of ResNet18 on the device and writes an\n"
           "isbench checkpoint (docs/checkpoint-format.md) with:\n"
           "  x, labels, weights          the batch (x [B][C][S][S] f32 NCHW, labels i64 [B])\n"
           "  <name>                      parameters and BN statistics BEFORE the step, PyTorch state_dict\n"
           "                              names of torch_anchor.py's ResNet18 (loadable with --init)\n"
           "  grad/<name>                 the gradient of every parameter\n"
           "  after/<name>                the parameters after the SGD update\n"
           "  loss, losses, logits        batch loss sum(w_i L_i)/B, per-sample L_i, logits [B][classes]\n"
           "  config/<key>                width, in_channels, classes, image_size, batch, seed, lr, ...\n\n"
           "options:\n"
           "  --out FILE          output checkpoint (required)\n"
           "  --device SEL        OpenCL device (P:D, gpu, cpu, name substring; default $ISBENCH_DEVICE/first GPU)\n"
           "  --width W           base channels (default 64: the paper's ResNet18)\n"
           "  --batch B           batch size of the random input (default 8)\n"
           "  --classes K         classes (default 10)\n"
           "  --in-channels C     input channels (default 3)\n"
           "  --image-size S      input height = width (default 32)\n"
           "  --seed N            initialisation and random-input seed (default 1)\n"
           "  --input FILE        checkpoint with x [B][C][S][S] f32, labels i64 [B], optionally weights f32 [B]\n"
           "                      (sets batch, in-channels and image size); default: seeded random input\n"
           "  --init FILE         load parameters and BN statistics from a checkpoint (e.g. a previous --out)\n"
           "  --lr X              learning rate (default 0.01); --momentum X (0.9); --weight-decay X (5e-4)\n");
}

typedef struct {
    isb_model_config cfg;
    int batch;
    const char *input, *init, *out, *device;
    double lr;
} step_options;

/* The batch from --input, checked against the model options (which it may set). */
static int load_input(step_options *o, float **x, int **labels, float **weights) {
    isb_checkpoint ck = {0};
    ISB_TRY(isb_checkpoint_read(&ck, o->input));
    const isb_tensor *tx = isb_checkpoint_find(&ck, "x"), *tl = isb_checkpoint_find(&ck, "labels");
    const isb_tensor *tw = isb_checkpoint_find(&ck, "weights");
    int rc = ISB_OK;
    if (!tx || tx->dtype != ISB_DTYPE_F32 || tx->ndim != 4 || tx->dims[2] != tx->dims[3])
        rc = isb_fail(ISB_ERR_FORMAT, "%s needs a tensor \"x\" of f32 [B][C][S][S] (NCHW, square images)", o->input);
    else if (!tl || tl->dtype != ISB_DTYPE_I64 || tl->ndim != 1 || tl->dims[0] != tx->dims[0])
        rc = isb_fail(ISB_ERR_FORMAT, "%s needs a tensor \"labels\" of i64 [%lld] (one class per row of x)", o->input,
                      (long long)tx->dims[0]);
    else if (tw && (tw->dtype != ISB_DTYPE_F32 || tw->ndim != 1 || tw->dims[0] != tx->dims[0]))
        rc = isb_fail(ISB_ERR_FORMAT, "%s: tensor \"weights\" must be f32 [%lld]", o->input, (long long)tx->dims[0]);
    else if (tx->dims[0] < 1 || tx->dims[0] > 65536 || tx->dims[1] < 1 || tx->dims[1] > 64 || tx->dims[2] < 1 ||
             tx->dims[2] > 1024)
        rc = isb_fail(ISB_ERR_FORMAT, "%s: x has an unsupported shape (batch 1..65536, 1..64 channels, size 1..1024)",
                      o->input);
    if (rc < 0) {
        isb_checkpoint_free(&ck);
        return rc;
    }
    o->batch = (int)tx->dims[0];
    o->cfg.in_channels = (int)tx->dims[1];
    o->cfg.image_size = (int)tx->dims[2];
    size_t nx = (size_t)isb_tensor_numel(tx);
    *x = malloc(nx * sizeof **x);
    *labels = malloc((size_t)o->batch * sizeof **labels);
    *weights = tw ? malloc((size_t)o->batch * sizeof **weights) : NULL;
    if (!*x || !*labels || (tw && !*weights)) rc = isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", o->input);
    for (int r = 0; rc == 0 && r < o->batch; r++) {
        int64_t l = ((const int64_t *)tl->data)[r];
        if (l < 0 || l >= o->cfg.classes)
            rc = isb_fail(ISB_ERR_FORMAT, "%s: labels[%d] = %lld is not a class in 0..%d (set --classes?)", o->input, r,
                          (long long)l, o->cfg.classes - 1);
        else
            (*labels)[r] = (int)l;
    }
    if (rc == 0) memcpy(*x, tx->data, nx * sizeof **x);
    if (rc == 0 && tw) memcpy(*weights, tw->data, (size_t)o->batch * sizeof **weights);
    isb_checkpoint_free(&ck);
    return rc;
}

static int random_input(const step_options *o, float **x, int **labels) {
    size_t nx = (size_t)o->batch * o->cfg.in_channels * o->cfg.image_size * o->cfg.image_size;
    *x = malloc(nx * sizeof **x);
    *labels = malloc((size_t)o->batch * sizeof **labels);
    if (!*x || !*labels) return isb_fail(ISB_ERR_MEMORY, "out of host memory for the input batch");
    isb_rng rng = isb_rng_make(o->cfg.seed, ISB_STREAM_TEST, 0);
    for (size_t i = 0; i < nx; i++) (*x)[i] = isb_rng_normal(&rng);
    for (int r = 0; r < o->batch; r++) (*labels)[r] = (int)isb_rng_below(&rng, (uint32_t)o->cfg.classes);
    return ISB_OK;
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

static int run_step(step_options *o) {
    float *x = NULL, *weights = NULL, *host = NULL, *logits = NULL, *losses = NULL;
    int *labels = NULL;
    isb_ocl ocl = {0};
    isb_model *m = NULL;
    isb_checkpoint ck = {0};
    cl_mem dx = NULL, dlabels = NULL, dweights = NULL, dlosses = NULL;
    int rc = o->input ? load_input(o, &x, &labels, &weights) : random_input(o, &x, &labels);
    o->cfg.max_batch = o->batch;
    if (rc == 0) rc = isb_ocl_open(&ocl, isb_ocl_selector(o->device), false);
    if (rc == 0) rc = isb_model_create(&m, &ocl, &o->cfg);
    if (rc == 0 && o->init) {
        isb_checkpoint init = {0};
        rc = isb_checkpoint_read(&init, o->init);
        if (rc == 0) rc = isb_model_load_state(m, &init);
        if (rc < 0) rc = isb_fail_context(rc, "loading --init %s", o->init);
        isb_checkpoint_free(&init);
    }
    const int B = o->batch, S = o->cfg.image_size, C = o->cfg.in_channels, K = o->cfg.classes;
    size_t nx = (size_t)B * C * S * S;
    if (rc == 0) rc = isb_ocl_alloc(&ocl, &dx, nx * sizeof(float), "input batch");
    if (rc == 0) rc = isb_ocl_alloc(&ocl, &dlabels, (size_t)B * sizeof(int), "labels");
    if (rc == 0) rc = isb_ocl_alloc(&ocl, &dlosses, (size_t)B * sizeof(float), "per-sample losses");
    if (rc == 0 && weights) rc = isb_ocl_alloc(&ocl, &dweights, (size_t)B * sizeof(float), "importance weights");
    if (rc == 0) rc = isb_ocl_write(&ocl, dx, 0, nx * sizeof(float), x);
    if (rc == 0) rc = isb_ocl_write(&ocl, dlabels, 0, (size_t)B * sizeof(int), labels);
    if (rc == 0 && weights) rc = isb_ocl_write(&ocl, dweights, 0, (size_t)B * sizeof(float), weights);

    /* the batch and the state before the step */
    int64_t *labels64 = NULL;
    if (rc == 0 && !(labels64 = malloc((size_t)B * sizeof *labels64))) rc = isb_fail(ISB_ERR_MEMORY, "out of memory");
    for (int r = 0; rc == 0 && r < B; r++) labels64[r] = labels[r];
    if (rc == 0) rc = isb_checkpoint_add(&ck, "x", ISB_DTYPE_F32, 4, (int64_t[]){B, C, S, S}, x);
    if (rc == 0) rc = isb_checkpoint_add(&ck, "labels", ISB_DTYPE_I64, 1, (int64_t[]){B}, labels64);
    if (rc == 0 && weights) rc = isb_checkpoint_add(&ck, "weights", ISB_DTYPE_F32, 1, (int64_t[]){B}, weights);
    free(labels64);
    if (rc == 0) rc = isb_model_save_state(m, &ck, 0);

    double seconds = 0;
    if (rc == 0) {
        isb_batch_io io = {.x = dx, .labels = dlabels, .weights = dweights, .batch = B, .losses = dlosses};
        double t0 = isb_now();
        rc = isb_model_train_step(m, &io, NULL, (float)o->lr);
        if (rc == 0) rc = isb_ocl_finish(&ocl);
        seconds = isb_now() - t0;
    }
    const isb_resnet18_plan *p = m ? isb_model_plan(m) : NULL;
    float loss = 0;
    if (rc == 0) {
        host = malloc(p->n_params * sizeof *host);
        logits = malloc((size_t)B * K * sizeof *logits);
        losses = malloc((size_t)B * sizeof *losses);
        if (!host || !logits || !losses) rc = isb_fail(ISB_ERR_MEMORY, "out of host memory for the results");
    }
    if (rc == 0) rc = isb_model_read_batch_loss(m, &loss);
    if (rc == 0) rc = isb_model_read_logits(m, logits, B);
    if (rc == 0) rc = isb_ocl_read(&ocl, dlosses, 0, (size_t)B * sizeof(float), losses);
    if (rc == 0) rc = add_scalar_f32(&ck, "loss", loss);
    if (rc == 0) rc = isb_checkpoint_add(&ck, "losses", ISB_DTYPE_F32, 1, (int64_t[]){B}, losses);
    if (rc == 0) rc = isb_checkpoint_add(&ck, "logits", ISB_DTYPE_F32, 2, (int64_t[]){B, K}, logits);
    if (rc == 0) rc = isb_model_read_grads(m, host);
    if (rc == 0) rc = add_params(&ck, p, "grad/", host);
    if (rc == 0) rc = isb_model_read_params(m, host);
    if (rc == 0) rc = add_params(&ck, p, "after/", host);
    const struct { const char *name; int64_t v; } ints[] = {
        {"config/width", o->cfg.width}, {"config/in_channels", C}, {"config/classes", K},
        {"config/image_size", S}, {"config/batch", B}, {"config/seed", (int64_t)o->cfg.seed}};
    for (size_t i = 0; rc == 0 && i < sizeof ints / sizeof ints[0]; i++) rc = add_scalar_i64(&ck, ints[i].name, ints[i].v);
    if (rc == 0) rc = add_scalar_f32(&ck, "config/lr", (float)o->lr);
    if (rc == 0) rc = add_scalar_f32(&ck, "config/momentum", o->cfg.momentum);
    if (rc == 0) rc = add_scalar_f32(&ck, "config/weight_decay", o->cfg.weight_decay);
    if (rc == 0) rc = isb_checkpoint_write(&ck, o->out);
    if (rc == 0)
        printf("isbench step: %s; ResNet18 width %d, %zu parameters; batch %d of %dx%dx%d, %d classes\n"
               "  loss %.6f; step %.1f ms (first step: includes kernel builds); wrote %d tensors to %s\n",
               ocl.info.name, o->cfg.width, p->n_params, B, C, S, S, K, loss, seconds * 1e3, ck.count, o->out);
    isb_ocl_release(&dx);
    isb_ocl_release(&dlabels);
    isb_ocl_release(&dweights);
    isb_ocl_release(&dlosses);
    isb_model_free(m);
    isb_ocl_close(&ocl);
    isb_checkpoint_free(&ck);
    free(x); free(labels); free(weights); free(host); free(logits); free(losses);
    return rc;
}

int cmd_step(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},         {"device", required_argument, NULL, 'd'},
        {"width", required_argument, NULL, 'w'},       {"batch", required_argument, NULL, 'b'},
        {"classes", required_argument, NULL, 'k'},     {"in-channels", required_argument, NULL, 'c'},
        {"image-size", required_argument, NULL, 'S'},  {"seed", required_argument, NULL, 's'},
        {"input", required_argument, NULL, 'i'},       {"init", required_argument, NULL, 'I'},
        {"lr", required_argument, NULL, 'l'},          {"momentum", required_argument, NULL, 'm'},
        {"weight-decay", required_argument, NULL, 'W'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    step_options o = {.cfg = {.width = 64, .in_channels = 3, .classes = 10, .image_size = 32, .momentum = 0.9f,
                              .weight_decay = 5e-4f, .seed = 1},
                      .batch = 8, .lr = 0.01};
    int c;
    long v;
    double d;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'd': o.device = optarg; break;
        case 'i': o.input = optarg; break;
        case 'I': o.init = optarg; break;
        case 'w': bad = isb_cli_parse_int("step", "--width", optarg, 1, 4096, &v); o.cfg.width = (int)v; break;
        case 'b': bad = isb_cli_parse_int("step", "--batch", optarg, 1, 65536, &v); o.batch = (int)v; break;
        case 'k': bad = isb_cli_parse_int("step", "--classes", optarg, 2, 100000, &v); o.cfg.classes = (int)v; break;
        case 'c': bad = isb_cli_parse_int("step", "--in-channels", optarg, 1, 64, &v); o.cfg.in_channels = (int)v; break;
        case 'S': bad = isb_cli_parse_int("step", "--image-size", optarg, 1, 1024, &v); o.cfg.image_size = (int)v; break;
        case 's': bad = isb_cli_parse_int("step", "--seed", optarg, 0, 0x7fffffffL, &v); o.cfg.seed = (uint64_t)v; break;
        case 'l': bad = isb_cli_parse_double("step", "--lr", optarg, 0, 100, &d); o.lr = d; break;
        case 'm': bad = isb_cli_parse_double("step", "--momentum", optarg, 0, 0.999999, &d); o.cfg.momentum = (float)d; break;
        case 'W': bad = isb_cli_parse_double("step", "--weight-decay", optarg, 0, 1, &d); o.cfg.weight_decay = (float)d; break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("step", "unknown option");
        }
        if (bad) return bad;
    }
    if (optind < argc) return isb_cli_usage_error("step", "unexpected argument '%s'", argv[optind]);
    if (!o.out) return isb_cli_usage_error("step", "--out FILE is required (where to write the step's tensors)");
    int rc = run_step(&o);
    return rc < 0 ? isb_cli_fail("step", rc) : ISB_EXIT_OK;
}
