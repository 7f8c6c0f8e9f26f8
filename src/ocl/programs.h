/* Each OpenCL program's source list (cl/ files, concatenated in this order), named once for
 * isb_ocl_kernel: a file a kernel needs is prepended here, not at every call site. */
#ifndef ISB_OCL_PROGRAMS_H
#define ISB_OCL_PROGRAMS_H

#define ISB_PROGRAM_REDUCE "wg_reduce.cl,reduce.cl"               /* axpy, partial sums (tests) */
#define ISB_PROGRAM_NN_CONV "nn_conv.cl"                         /* im2col / col2im */
#define ISB_PROGRAM_NN_BN "wg_reduce.cl,nn_bn.cl"                /* batch norm (build options: layers.c) */
#define ISB_PROGRAM_NN_ELEM "nn_elem.cl"                         /* elementwise, pooling, column sums, SGD */
#define ISB_PROGRAM_NN_LOSS "wg_reduce.cl,score_rule.cl,nn_loss.cl" /* softmax xent + fused score update */
#define ISB_PROGRAM_AUGMENT "philox.cl,augment.cl"               /* batch assembly */
#define ISB_PROGRAM_SAMPLING "philox.cl,batch_order.cl,wg_reduce.cl,score_rule.cl,sampling.cl"

#endif
