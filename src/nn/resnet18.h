/* The ResNet18 (CIFAR variant) network description shared by the device model (model.c), the plain-C
 * reference model (resnet18.c) and the benchmarks: layer shapes, the parameter table (PyTorch
 * state_dict names of the torch_anchor.py model, offsets into the one parameter buffer), the
 * BN running-statistics table, and PyTorch-default initialisation from the seeded Philox stream.
 * Knows shapes and offsets only; no OpenCL. */
#ifndef ISB_NN_RESNET18_H
#define ISB_NN_RESNET18_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/model_limits.h"
#include "results/checkpoint.h"

#define ISB_RN_BLOCKS 8
#define ISB_RN_MAX_TENSORS 128

typedef struct {
    isb_conv_shape shape; /* shape.batch is 0 here: set per call */
    size_t w;             /* offset of the weight [cout][cin][k][k] in the parameter buffer */
} isb_rn_conv;

typedef struct {
    int channels, hw;     /* hw = h*w of the normalised activation (n = batch*hw) */
    size_t gamma, beta;   /* offsets in the parameter buffer */
    size_t mean, var;     /* offsets in the running-statistics buffer */
    size_t save;          /* offset of save_mean[c], save_invstd[c] in the model's BN save area */
} isb_rn_bn;

/* BasicBlock: conv3x3(stride)-BN-ReLU-conv3x3-BN, + shortcut (identity or 1x1 conv(stride)+BN), ReLU. */
typedef struct {
    int cin, cout, stride, h_in, h_out;
    isb_rn_conv c1, c2, sc;
    isb_rn_bn b1, b2, sb;
    int has_sc;
} isb_rn_block;

typedef enum { ISB_INIT_UNIFORM, ISB_INIT_ONES, ISB_INIT_ZEROS } isb_rn_init;

typedef struct {
    char name[64];        /* e.g. "blocks.2.sc.0.weight" (torch_anchor.py's state_dict key) */
    int ndim;
    int64_t dims[4];
    size_t off, numel;    /* in floats, in the parameter buffer (or the stats buffer if is_stat) */
    int is_stat;          /* BN running_mean / running_var: not trained, in the stats buffer */
    isb_rn_init init;
    float bound;          /* ISB_INIT_UNIFORM: U(-bound, bound), bound = 1/sqrt(fan_in) */
} isb_rn_tensor;

typedef struct isb_resnet18_plan {
    int width, in_channels, classes, image_size;
    isb_rn_conv stem;
    isb_rn_bn stem_bn;
    isb_rn_block blocks[ISB_RN_BLOCKS];
    int feat, final_hw;   /* 8*width features; spatial size (h*w) before the pool */
    size_t fc_w, fc_b;
    isb_rn_tensor tensors[ISB_RN_MAX_TENSORS]; /* parameters in PyTorch's parameters() order, then stats */
    int n_tensors;
    size_t n_params;      /* floats in the parameter (and gradient, momentum) buffer */
    size_t n_stats;       /* floats in the running-statistics buffer */
    size_t n_save;        /* floats of the BN save area (mean + invstd per channel of every BN) */
    int n_bn;
} isb_resnet18_plan;

/* Checks width, in_channels, classes and image_size against model_limits.h: ISB_ERR_USAGE naming
 * the field, its range and the usual value. The one check of these fields; callers that want the
 * error before opening a device call it early. */
int isb_resnet18_check_config(const isb_model_config *cfg);
/* Checks the configuration (isb_resnet18_check_config) and lays out the network. */
int isb_resnet18_plan_make(isb_resnet18_plan *p, const isb_model_config *cfg);
/* Parameters and running statistics as PyTorch initialises them, from Philox (seed, stream
 * ISB_STREAM_INIT, one counter range per tensor so a tensor's values do not depend on the others). */
void isb_resnet18_init(const isb_resnet18_plan *p, uint64_t seed, float *params, float *stats);
const isb_rn_tensor *isb_resnet18_find(const isb_resnet18_plan *p, const char *name);

/* Checkpoint names of the model state: the SGD momentum of a parameter is "momentum/<name>"; a BN
 * layer's PyTorch step counter is "<layer>.num_batches_tracked", named after its running_mean t
 * (false: t is not a running_mean). */
#define ISB_RN_MOMENTUM_PREFIX "momentum/"
bool isb_resnet18_tracked_name(const isb_rn_tensor *t, char *buf, size_t size);
/* The model state in ck, host side, before anything is uploaded: every tensor of the plan present
 * with its shape, every value finite, running variances >= 0, momentum buffers all or none (then
 * finite; *with_momentum), num_batches_tracked >= 0 and equal in every layer (*tracked; -1 when
 * absent). ISB_ERR_FORMAT naming the tensor (and element) otherwise. */
int isb_resnet18_check_state(const isb_resnet18_plan *p, const isb_checkpoint *ck, bool *with_momentum,
                             int64_t *tracked);

#endif
