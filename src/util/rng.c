#include "util/rng.h"
#include <math.h>

float isb_rng_normal(isb_rng *r) {
    float u1 = isb_u32_to_unit_open0(isb_rng_u32(r));
    float u2 = isb_rng_uniform(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}
