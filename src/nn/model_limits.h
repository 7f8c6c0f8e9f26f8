/* Every limit of a ResNet18 configuration, in one place. isb_resnet18_check_config (resnet18.h)
 * and isb_model_create enforce them; the options of `isbench train`, `suite` and `step` take their
 * ranges from here, so a value the options accept is one the model accepts. Plain constants: this
 * header pulls in nothing (the training configuration, pure host code, includes it). */
#ifndef ISB_NN_MODEL_LIMITS_H
#define ISB_NN_MODEL_LIMITS_H

enum {
    ISB_MODEL_MAX_WIDTH = 1024,       /* base channels; 64 = the paper's ResNet18 (the 2^31-parameter
                                         check of the plan stops widths above ~880 anyway) */
    ISB_MODEL_MAX_IN_CHANNELS = 64,   /* 3 (RGB) or 1 (grey) in practice */
    ISB_MODEL_MAX_CLASSES = 100000,
    ISB_MODEL_MAX_IMAGE_SIZE = 1024,  /* square images, 32 for CIFAR */
    ISB_MODEL_MAX_BATCH = 65536,      /* mini-batch rows the activations are sized for */
};

#endif
