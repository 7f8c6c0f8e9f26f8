/* The isbench checkpoint: a documented binary file of named tensors (see docs in checkpoint.c /
 * README), used for model weights + optimizer state, training resume state (scores, counters) and
 * gradient dumps for external checks. Written atomically.
 *
 * CONTRACT used by src/nn, src/train and src/cli. */
#ifndef ISB_RESULTS_CHECKPOINT_H
#define ISB_RESULTS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { ISB_DTYPE_F32 = 1, ISB_DTYPE_I64 = 2 } isb_dtype;

typedef struct {
    char *name;
    isb_dtype dtype;
    int ndim;
    int64_t dims[8];
    void *data;         /* owned; numel * (4 or 8) bytes */
} isb_tensor;

typedef struct {
    isb_tensor *tensors;
    int count;
} isb_checkpoint;

/* Adds a copy of data. */
int isb_checkpoint_add(isb_checkpoint *ck, const char *name, isb_dtype dtype, int ndim, const int64_t *dims,
                       const void *data);
const isb_tensor *isb_checkpoint_find(const isb_checkpoint *ck, const char *name);
int64_t isb_tensor_numel(const isb_tensor *t);
int isb_checkpoint_write(const isb_checkpoint *ck, const char *path);   /* atomic */
/* Refuses a wrong magic, version, truncated file or inconsistent table with a reason. */
int isb_checkpoint_read(isb_checkpoint *ck, const char *path);
void isb_checkpoint_free(isb_checkpoint *ck);

#endif
