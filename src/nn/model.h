/* ResNet18 (CIFAR variant, docs/protocol-notes.md, note 6) in OpenCL: forward, backward and SGD
 * on the device, every convolution and linear product through CLBlast.
 *
 * CONTRACT used by src/train (do not change signatures without updating every caller):
 * one model owns its parameters, gradients, momentum (one device buffer each, with offsets) and
 * activations (allocated once for max_batch). A training step makes no allocation, no program
 * build, no host round-trip and no clFinish. */
#ifndef ISB_NN_MODEL_H
#define ISB_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "ocl/ocl.h"
#include "results/checkpoint.h"
#include "sampling/score_rule.h"

typedef struct isb_model isb_model;

typedef struct {
    int width;          /* base channels: 64 is the paper's model; 16 or 8 for CPU runs */
    int in_channels;    /* 3 (CIFAR) or 1 (MNIST-like) */
    int classes;        /* 10 or 100 */
    int image_size;     /* 32 */
    int max_batch;      /* activations are sized for this */
    float momentum;     /* SGD, PyTorch semantics: d = g + wd*w; v = mu*v + d; w -= lr*v */
    float weight_decay;
    uint64_t seed;      /* parameter initialisation (PyTorch's default schemes) */
    int recompute_columns; /* 1: the backward recomputes each conv's im2col instead of keeping the
                            * forward's (less memory); 0: kept when they fit (isb_model_keeps_columns) */
} isb_model_config;

/* Optional score update fused into the loss kernel (no extra pass): for each batch row r,
 * i = indices[indices_offset + r], S_i updated by the score rule (sampling/score_rule.h) from the
 * training forward pass (unweighted loss L_r, or the gradient-norm bound). */
typedef struct {
    isb_score_rule rule;
    cl_mem scores;      /* float [N] */
    cl_mem indices;     /* int [..] dataset index of each batch row */
    int indices_offset;
} isb_score_update;

/* One batch in and per-sample results out, all on the device. */
typedef struct {
    cl_mem x;            /* float [B][in_channels][32][32] */
    cl_mem labels;       /* int [B] */
    cl_mem weights;      /* float [B] importance weights, or NULL for all 1; batch loss = sum w_i L_i / B */
    int batch;           /* B, 1..max_batch */
    cl_mem losses;       /* out (may be NULL): float, unweighted per-sample loss at losses[losses_offset + r] */
    int losses_offset;
    cl_mem correct;      /* out (may be NULL): int, 1 if argmax(logits) == label, at correct[correct_offset + r] */
    int correct_offset;
} isb_batch_io;

int isb_model_create(isb_model **model, isb_ocl *ocl, const isb_model_config *cfg);
/* 1 when the model keeps each conv's forward im2col columns for the backward (the work buffer then
 * holds them all: the model takes 0.83 GB instead of 0.28 at width 16, batch 128), 0 when the backward recomputes them. */
int isb_model_keeps_columns(const isb_model *model);
void isb_model_free(isb_model *model); /* NULL-safe */
size_t isb_model_param_count(const isb_model *model);
const isb_model_config *isb_model_get_config(const isb_model *model);

/* Forward (batch statistics, running stats updated with momentum 0.1), backward and SGD update
 * with learning rate lr. `scores` may be NULL. Enqueues only. */
int isb_model_train_step(isb_model *model, const isb_batch_io *io, const isb_score_update *scores, float lr);
/* Forward in evaluation mode (running statistics); writes losses/correct. Enqueues only. */
int isb_model_eval_step(isb_model *model, const isb_batch_io *io);
/* The loss kernel records the first step whose loss was NaN/Inf in a device flag; this reads it
 * (one small blocking read: call at phase boundaries). *step = -1 when all were finite. */
int isb_model_first_nonfinite_step(isb_model *model, long *step);

/* Parameters (and BN running statistics) and, if include_optimizer, the momentum buffers, as named
 * tensors ("stem.conv.weight", ...; "momentum/<name>") appended to ck. Blocking reads. */
int isb_model_save_state(isb_model *model, isb_checkpoint *ck, int include_optimizer);
/* Loads what save_state wrote; refuses missing tensors or wrong shapes with a reason. */
int isb_model_load_state(isb_model *model, const isb_checkpoint *ck);

/* ---- additions for tests, `isbench step` and the benchmarks (the contract above is unchanged) --- */

/* Parameter count of a configuration without creating a model (checks the configuration). */
int isb_model_config_param_count(const isb_model_config *cfg, size_t *count);
/* The layout of a created model: conv shapes and the parameter table (nn/resnet18.h). */
typedef struct isb_resnet18_plan isb_resnet18_plan;
const isb_resnet18_plan *isb_model_plan(const isb_model *model);

/* Profiling mode for benchmarks: with a profile attached, every phase of a step ends with clFinish
 * and its host-clock time is added to seconds[phase]. Off (NULL, the default) for training. */
typedef enum {
    ISB_PHASE_CONV_FORWARD,   /* im2col + CLBlast GEMM */
    ISB_PHASE_CONV_BACKWARD,  /* im2col + GEMMs (dW, dX) + col2im */
    ISB_PHASE_BATCHNORM,      /* forward and backward, fused ReLU included */
    ISB_PHASE_OTHER,          /* layout, residual add/ReLU, pool, linear, loss, SGD */
    ISB_PHASE_CONV_LAYOUT,    /* profiling only: every conv's im2col (and col2im) run once more on
                                 their own; the conv phases hold the same work, so their GEMMs take
                                 about conv_forward + conv_backward - conv_layout */
    ISB_PHASE_COUNT
} isb_model_phase;
typedef struct {
    double seconds[ISB_PHASE_COUNT];
} isb_model_profile;
void isb_model_set_profile(isb_model *model, isb_model_profile *profile);
const char *isb_model_phase_name(int phase);

/* Blocking host copies (tests, `isbench step`): parameters and gradients as [param_count] floats in
 * the order of the parameter table (resnet18.h), running statistics, and the logits [batch][classes]
 * and batch loss of the last train or eval step. */
int isb_model_read_params(isb_model *model, float *dst);
int isb_model_write_params(isb_model *model, const float *src);
int isb_model_read_grads(isb_model *model, float *dst);
int isb_model_read_stats(isb_model *model, float *dst);   /* [n_stats] of the plan */
int isb_model_read_logits(isb_model *model, float *dst, int batch);
int isb_model_read_batch_loss(isb_model *model, float *loss);
/* Number of train steps taken (also the BN num_batches_tracked saved in checkpoints). */
long isb_model_steps(const isb_model *model);

#endif
